// SPDX-License-Identifier: MIT
// Values and field names holding characters that text formats escape — backslashes, tabs, newlines, the
// `\N` of COPY's null — land in raw_bucket and ts_obs exactly as the speaker sent them, and a batch of many
// events lands once. (Written while measuring COPY against json_to_recordset for ADR 0028.)
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

let t: TestTmidb;
beforeAll(async () => {
  t = await startTestTmidb('escaped_text');
});
afterAll(async () => {
  await t?.stop();
});

it('escaped text lands verbatim in raw_bucket and ts_obs', async () => {
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
