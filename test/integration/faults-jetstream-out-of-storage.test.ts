// SPDX-License-Identifier: MIT
// JetStream out of storage (a private nats-server with a small max_file_store): writes are refused with
// 503 STORAGE_FULL saying why — over REST and NATS — nothing acknowledged is lost, and once space returns
// (the limit raised, the server restarted) the refused writes, sent again, land exactly once.
import { headers as natsHeaders } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createTargets,
  deadLetters,
  expectExactlyOnce,
  faultTestTimeoutMs,
  type PrivateNats,
  privateDir,
  type SentEvent,
  startPrivateNats,
  waitForDrain,
  workload,
} from '../support/faults.js';
import { startTestTmidb, type TestTmidb } from '../support/tmidb.js';

let t: TestTmidb;
const logged: string[] = [];
let nats: PrivateNats;
const home = privateDir('faults-storage');

beforeAll(async () => {
  nats = await startPrivateNats(home.dir, { maxFileStore: '2MB' });
  t = await startTestTmidb('faults_storage', {
    natsUrl: nats.url,
    config: { ackWaitMs: 2_000 },
    log: (level, msg) => logged.push(`${level} ${msg}`),
  });
}, faultTestTimeoutMs);
afterAll(async () => {
  await t?.stop().catch(() => {});
  await nats?.stop().catch(() => {});
  home.remove();
}, faultTestTimeoutMs);

/** Events of ~1 KB each, so a few requests fill the store. */
function padded(events: readonly SentEvent[]) {
  return events.map((e) => ({ ...e, data: { ...e.data, pad: 'x'.repeat(1000) } }));
}

it(
  'JetStream out of storage: 503 STORAGE_FULL with the reason, nothing acknowledged lost, recovery',
  async () => {
    const targets = await createTargets(t, 10, 'blob');
    const events = padded(workload(targets, 10_000));
    const acked: string[] = [];
    const refused: (typeof events)[] = [];
    let reason = '';
    for (let i = 0; i < events.length && refused.length < 3; i += 100) {
      const batch = events.slice(i, i + 100);
      const res = await t.request('POST', '/v1/events', batch);
      if (res.status === 202) acked.push(...batch.map((e) => e.event_id));
      else {
        expect(res.status, JSON.stringify(res.body)).toBe(503);
        expect(res.body.code, logged.slice(-3).join('\n')).toBe('STORAGE_FULL');
        reason = res.body.detail;
        refused.push(batch);
      }
    }
    expect(refused.length, 'the store never filled').toBe(3);
    expect(reason).toMatch(/JetStream has no storage left/);
    expect(acked.length).toBeGreaterThan(0);

    const h = natsHeaders();
    h.set('Authorization', `Bearer ${t.adminKey}`);
    const reply = await t.runtime.nc.request(
      `${t.runtime.topology.speakPrefix}${targets[0]}`,
      JSON.stringify({ data: { seq: -1, v: 0, pad: 'y' } }),
      { timeout: 10_000, headers: h },
    );
    expect(reply.json()).toMatchObject({ error: { status: 503, code: 'STORAGE_FULL' } });

    // Space returns: the limit is raised and the server restarted; the refused writes are sent again.
    await nats.stop();
    await nats.restart({ maxFileStore: '512MB' });
    for (const batch of refused) {
      let status = 0;
      for (let attempt = 0; attempt < 50 && status !== 202; attempt++) {
        status = await t
          .request('POST', '/v1/events', batch)
          .then((r) => r.status)
          .catch(() => 0);
        if (status !== 202) await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toBe(202);
      acked.push(...batch.map((e) => e.event_id));
    }
    await waitForDrain(t, acked.length);
    await expectExactlyOnce(t, acked);
    expect(await deadLetters(t)).toBe(0);
    console.info(
      `store full after ${acked.length - 300} acknowledged events; all ${acked.length} projected once`,
    );
  },
  faultTestTimeoutMs,
);
