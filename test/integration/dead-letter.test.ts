// SPDX-License-Identifier: MIT
// A poison message (not an event envelope) goes to the dead-letter subject with its error and never
// blocks the stage: events behind it are still projected.
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

let t: TestTmidb;
beforeAll(async () => {
  t = await startTestTmidb('dead_letter');
});
afterAll(async () => {
  await t?.stop();
});

it('dead-letters an undecodable message with its error and keeps the stage moving', async () => {
  const target = await t.request('POST', '/v1/targets', { name: 'p', kind: 'poisoned' });
  const id = target.body.target_id;
  const { js } = await import('@nats-io/jetstream').then((m) => ({ js: m.jetstream(t.runtime.nc) }));
  await js.publish(t.runtime.topology.inSubject(id), new TextEncoder().encode('not avro at all'), {
    msgID: 'poison-1',
  });
  const good = await t.request('POST', `/v1/targets/${id}/events`, { data: { ok: true } });
  expect(good.status).toBe(202);

  await eventually('the good event projected behind the poison one', async () => {
    const rows = await t.sql('SELECT 1 FROM tmi.ts_obs WHERE event_id = $1', [good.body.event_ids[0]]);
    return rows.length === 1;
  });
  const jsm = await jetstreamManager(t.runtime.nc);
  const dlqName = t.runtime.topology.streams.dlq.name;
  await eventually(
    'two dead letters (capture and normalize)',
    async () => (await jsm.streams.info(dlqName)).state.messages === 2,
  );
  for (const stage of ['capture', 'normalize']) {
    const msg = await jsm.streams.getMessage(dlqName, {
      last_by_subj: t.runtime.topology.dlqSubject(stage as 'capture'),
    });
    expect(msg?.header.get('Tmi-Error-Code')).toBe('ENVELOPE_UNDECODABLE');
    expect(msg?.header.get('Tmi-Error')).toMatch(/EventBatch/);
    expect(msg?.header.get('Tmi-Source-Subject')).toBe(t.runtime.topology.inSubject(id));
    expect(new TextDecoder().decode(msg?.data)).toBe('not avro at all');
  }
  const info = await jsm.consumers.info(t.runtime.topology.stages.capture.stream, 'capture');
  expect(info.num_ack_pending).toBe(0);
  const metrics = String((await t.request('GET', '/metrics')).body);
  expect(metrics).toMatch(/tmidb_stage_events_failed_total\{stage="capture",code="ENVELOPE_UNDECODABLE"\} 1/);
});
