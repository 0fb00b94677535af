// SPDX-License-Identifier: MIT
// Autovacuum evaluates index expressions with an empty search_path. target_position's GiST index was on
// earthdistance's ll_to_earth, whose text body names `earth` unqualified, so every automatic analyze of the
// table failed (migration 015, ADR 0033). With the index on tmi.ll_to_earth, analyzing under autovacuum's
// search_path works, the radius query still runs on the index, and the old expression still fails there
// (what the migration fixes, so this test can fail).
import { beforeAll, expect, it } from 'vitest';
import { nearSql } from '../../projections/index.js';
import { uuidv7 } from '../../schemas/index.js';
import { useMigratedDatabase } from '../support/env.js';

const db = useMigratedDatabase('target_position_autovacuum', 2);

// 200 targets with positions on a 20 × 10 grid, in two statements.
beforeAll(async () => {
  const ids = Array.from({ length: 200 }, () => uuidv7());
  await db.pool.query(
    `INSERT INTO tmi.target (target_id, name, kind)
     SELECT id, 'v' || (i - 1), 'vehicle' FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, i)`,
    [ids],
  );
  await db.pool.query(
    `INSERT INTO tmi.target_position (target_id, ts, event_id, lat, lon)
     SELECT id, now(), ($2::uuid[])[i], 37.4 + ((i - 1) % 20) * 0.01, 126.9 + ((i - 1) / 20) * 0.01
     FROM unnest($1::uuid[]) WITH ORDINALITY AS t(id, i)`,
    [ids, ids.map(() => uuidv7())],
  );
});

/** ANALYZE as autovacuum runs it: with an empty search_path. */
async function analyzeAsAutovacuum(table: string): Promise<void> {
  const client = await db.pool.connect();
  try {
    await client.query(`SET search_path = ''`);
    await client.query(`ANALYZE ${table}`);
  } finally {
    await client.query('RESET search_path').catch(() => {});
    client.release();
  }
}

it('analyzes tmi.target_position under the search_path autovacuum uses', async () => {
  await analyzeAsAutovacuum('tmi.target_position');
  const { rows } = await db.pool.query<{ analyzed: boolean }>(
    `SELECT last_analyze IS NOT NULL AS analyzed FROM pg_stat_user_tables WHERE relid = 'tmi.target_position'::regclass`,
  );
  expect(rows[0]?.analyzed).toBe(true);
});

it('would fail with earthdistance’s ll_to_earth as the index expression (the bug)', async () => {
  await db.pool.query('CREATE TABLE public.old_position AS SELECT lat, lon FROM tmi.target_position');
  await db.pool.query('CREATE INDEX ON public.old_position USING gist (ll_to_earth(lat, lon))');
  await expect(analyzeAsAutovacuum('public.old_position')).rejects.toMatchObject({ code: '42704' });
});

it('still answers radius queries from the GiST index, nearest first', async () => {
  const q = { lat: 37.45, lon: 126.95, radiusMeters: 3000, limit: 1000 };
  const { text, values } = nearSql(q);
  await db.pool.query('SET enable_seqscan = off');
  const plan = await db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, values);
  await db.pool.query('RESET enable_seqscan');
  expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('target_position_earth_idx');
  const { rows } = await db.pool.query<{ distance_m: number }>(text, values);
  const all = await db.pool.query<{ d: number }>(
    `SELECT earth_distance(ll_to_earth($1, $2), ll_to_earth(lat, lon)) AS d FROM tmi.target_position`,
    [q.lat, q.lon],
  );
  expect(rows.length).toBe(all.rows.filter((r) => r.d <= q.radiusMeters).length);
  expect(rows.length).toBeGreaterThan(10);
  expect(rows.map((r) => r.distance_m)).toEqual([...rows.map((r) => r.distance_m)].sort((a, b) => a - b));
});
