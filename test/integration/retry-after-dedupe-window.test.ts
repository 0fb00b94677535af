// SPDX-License-Identifier: MIT
// A client that retries a write with the same event_id after JetStream's duplicate window has passed
// (so the stream holds the event twice, and without `ts` the retry even has a new observation time)
// still gets one event in every projection, and the state keeps the first copy.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, startTestTmidb, type TestTmidb, waitFor } from '../support/tmidb.js';

let t: TestTmidb;
beforeAll(async () => {
  t = await startTestTmidb('retry_after_window', { config: { dedupeWindowMs: 1_000 } });
});
afterAll(async () => {
  await t?.stop();
});

it('one event per event_id, even when the stream has it twice', async () => {
  const target = (await t.request('POST', '/v1/targets', { name: 'r', kind: 'retry' })).body.target_id;
  const eventId = '0190f3c4-2222-7000-8000-000000000001';
  const first = await t.request('POST', `/v1/targets/${target}/events`, {
    event_id: eventId,
    data: { v: 1 },
  });
  expect(first.body.duplicates).toBe(0);
  await eventually(
    'first copy projected',
    async () => (await t.sql('SELECT 1 FROM tmi.ts_obs WHERE event_id = $1', [eventId])).length === 1,
  );
  // The client retries until JetStream no longer remembers the id (its duplicate window has passed): retries
  // inside the window are dropped as duplicates, the first one after it is stored, so the stream holds it twice.
  const retry = await waitFor('the duplicate window to pass', async () => {
    const res = await t.request('POST', `/v1/targets/${target}/events`, {
      event_id: eventId,
      data: { v: 1 },
    });
    expect(res.status).toBe(202);
    return res.body.duplicates === 0 ? res : undefined;
  });
  expect(retry.body.seqs[0]).toBeGreaterThan(first.body.seqs[0]);

  // A later event proves both copies went through every stage.
  const after = await t.request('POST', `/v1/targets/${target}/events`, { data: { w: 2 } });
  await eventually('the later event projected', async () => {
    const rows = await t.sql('SELECT 1 FROM tmi.ts_obs WHERE event_id = $1', [after.body.event_ids[0]]);
    const raw = await t.sql('SELECT 1 FROM tmi.raw_bucket WHERE event_id = $1', [after.body.event_ids[0]]);
    return rows.length === 1 && raw.length === 1;
  });
  for (const table of ['ts_obs', 'raw_bucket']) {
    expect(await t.sql(`SELECT 1 FROM tmi.${table} WHERE event_id = $1`, [eventId]), table).toHaveLength(1);
  }
  const [state] = await t.sql<{ ts: Date }>(
    "SELECT ts FROM tmi.target_state WHERE target_id = $1 AND field = 'v'",
    [target],
  );
  const [obs] = await t.sql<{ ts: Date }>('SELECT ts FROM tmi.ts_obs WHERE event_id = $1', [eventId]);
  expect(state!.ts).toEqual(obs!.ts);
});
