// SPDX-License-Identifier: MIT
// raw_bucket and ts_obs are written through COPY's text format (ADR 0028): values (and field names) holding
// the characters that format escapes — backslashes, tabs, newlines, the `\N` of null — land exactly as
// the speaker sent them, and a batch of many events lands once. The staging table is emptied by each write,
// so two writes in one transaction each land their own rows; outside a transaction a write is refused
// loudly (an invariant), never lost silently.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withTransaction } from '../../db/index.js';
import { InvariantError } from '../../errors/index.js';
import { insertObsRows, type ObsRow } from '../../projections/index.js';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

let t: TestTmidb;
beforeAll(async () => {
  t = await startTestTmidb('copy_verbatim');
});
afterAll(async () => {
  await t?.stop();
});

it('text that COPY escapes lands verbatim in raw_bucket and ts_obs', async () => {
  const target = (await t.request('POST', '/v1/targets', { name: 'c\\t', kind: 'copytext' })).body.target_id;
  const data = {
    'back\\slash': 'C:\\temp\\new',
    'tab name': 'a\tb',
    note: 'line one\nline two\r\nend',
    nul_word: '\\N',
    quote: 'say "hi" — ünïcödé 😀',
    n: 1.5,
  };
  const res = await t.request('POST', `/v1/targets/${target}/events`, [
    { ts: '2026-11-25T10:00:00Z', data },
    ...Array.from({ length: 49 }, (_, i) => ({
      ts: `2026-11-25T10:00:${String(i + 1).padStart(2, '0')}Z`,
      data: { n: i + 0.5 },
    })),
  ]);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const [first] = res.body.event_ids as string[];
  await eventually('every event in raw_bucket and ts_obs', async () => {
    const [row] = await t.sql<{ raw: number; obs: number }>(
      `SELECT (SELECT count(*)::int FROM tmi.raw_bucket WHERE target_id = $1) AS raw,
              (SELECT count(*)::int FROM tmi.ts_obs WHERE target_id = $1) AS obs`,
      [target],
    );
    return row!.raw === 50 && row!.obs === 50;
  });
  const [raw] = await t.sql<{ payload: unknown; text: string }>(
    'SELECT payload, payload::text AS text FROM tmi.raw_bucket WHERE event_id = $1',
    [first],
  );
  expect(raw!.payload).toEqual(data);
  const [obs] = await t.sql<{ payload: unknown; note: string }>(
    "SELECT payload, payload->>'note' AS note FROM tmi.ts_obs WHERE event_id = $1",
    [first],
  );
  expect(obs!.payload).toEqual(data);
  expect(obs!.note).toBe('line one\nline two\r\nend');
});

function obsRows(targetId: string, n: number, firstSecond: number): ObsRow[] {
  return Array.from({ length: n }, (_, i) => ({
    target_id: targetId,
    ts_us: Date.UTC(2026, 10, 25, 11) * 1000 + (firstSecond + i) * 1_000_000,
    event_id: randomUUID(),
    schema_id: 1,
    payload: { i: firstSecond + i },
    received_us: Date.now() * 1000,
  }));
}

it('two staged writes in one transaction land their own rows, a repeated one none', async () => {
  const target = randomUUID();
  const [first, second] = [obsRows(target, 3, 0), obsRows(target, 2, 10)];
  const inserted = await withTransaction(t.runtime.pool, async (client) => [
    await insertObsRows(client, first),
    await insertObsRows(client, second),
    await insertObsRows(client, first),
  ]);
  expect(inserted).toEqual([3, 2, 0]);
  const [row] = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM tmi.ts_obs WHERE target_id = $1', [
    target,
  ]);
  expect(row!.n).toBe(5);
});

it('a staged write outside a transaction is a broken invariant and writes nothing', async () => {
  const target = randomUUID();
  const client = await t.runtime.pool.connect();
  try {
    await expect(insertObsRows(client, obsRows(target, 2, 0))).rejects.toBeInstanceOf(InvariantError);
  } finally {
    client.release();
  }
  const [row] = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM tmi.ts_obs WHERE target_id = $1', [
    target,
  ]);
  expect(row!.n).toBe(0);
});
