// SPDX-License-Identifier: MIT
// Bucketed pages carry each bucket's start as PostgreSQL's to_char wrote it (`2026-11-25T10:00:00.000000Z`).
// The SQL now hands over seconds since the epoch and Node formats them (BucketStartFormatter); the text must
// be the same, on day, month, year and leap-day boundaries, before 1970, and at the years where JavaScript's
// ISO form and to_char's part ways (there the SQL still sends its own text).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPool, migrate, type Pool } from '../../db/index.js';
import { BucketStartFormatter, bucketColumns } from '../../projections/index.js';
import { type TestEnv, testEnv } from '../support/env.js';

let env: TestEnv;
let pool: Pool;

beforeAll(async () => {
  env = await testEnv('obs_bucket_start_text');
  pool = createPool(env.pgUrl, 2);
  await migrate(pool);
});
afterAll(async () => {
  await pool?.end();
  await env?.dropAll();
});

const edges = [
  '2026-11-25 00:00:00+00',
  '2026-11-25 23:59:59+00',
  '2026-12-31 23:59:00+00',
  '2027-01-01 00:00:00+00',
  '2028-02-29 12:34:56+00',
  '2000-01-01 00:00:00+00',
  '1970-01-01 00:00:00+00',
  '1969-12-31 23:59:59+00',
  '1900-03-01 00:00:01+00',
  '2199-12-31 23:00:00+00',
  '0001-01-01 00:00:00+00',
  '9999-12-31 23:59:59+00',
  '10000-01-01 00:00:00+00',
  '0001-12-31 23:59:59 BC',
  '0044-03-15 12:00:00 BC',
];

it('formats every bucket start as to_char does', async () => {
  const { rows } = await pool.query<{ b: string }>(
    // 3,000 whole seconds spread over 1968–2190 (a fixed sequence, the same every run).
    `SELECT (timestamptz '2000-01-01 00:00:00+00' + ((i * 2333333 + i * i * 7919) % 7000000000 - 1000000000) * interval '1 second')::text AS b
       FROM generate_series(1::bigint, 3000) i`,
  );
  const starts = [...edges, ...rows.map((r) => r.b)];
  const { rows: cells } = await pool.query<unknown[]>({
    text: `SELECT ${bucketColumns()}, to_char(a.bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS want
      FROM unnest($1::timestamptz[]) WITH ORDINALITY AS x(bucket, i),
           LATERAL (SELECT x.bucket, 'f' AS field, 1 AS count, NULL AS avg, NULL AS min, NULL AS max,
                           NULL AS sum, NULL AS first, NULL AS last) a
      ORDER BY x.i`,
    values: [starts],
    rowMode: 'array',
  });
  expect(cells).toHaveLength(starts.length);
  const formatter = new BucketStartFormatter();
  for (const cell of cells) {
    expect(formatter.format(cell[0] as number, cell[1] as string | null)).toBe(cell[10]);
  }
  // The formatter keeps a day between calls: a day seen before, then another, then the first again.
  const again = new BucketStartFormatter();
  for (const cell of [...cells.slice(0, 5), ...cells.slice(0, 5).reverse()]) {
    expect(again.format(cell[0] as number, cell[1] as string | null)).toBe(cell[10]);
  }
});

it('refuses a bucket start off the grid of whole seconds', () => {
  expect(() => new BucketStartFormatter().format(1.5, null)).toThrow(/whole seconds/);
});
