// SPDX-License-Identifier: MIT
// Bucketed pages are built from cells the SQL hands over as arrays (BucketSqlRow): the bucket as seconds
// since the epoch, which Node formats (BucketStartFormatter), and the values either as columns (raw-row
// buckets) or as one JSON text (rollup-backed buckets, bucketCellsJson). Both must give what the columns
// gave before: the bucket's start as to_char wrote it — on day, month, year and leap-day boundaries, before
// 1970, and at the years where JavaScript's ISO form and to_char's part ways — and the same values, for
// numerics and doubles at their edges and JSON values of every type.
import { expect, it } from 'vitest';
import { BucketStartFormatter, bucketCellsJson, bucketColumns, toDouble } from '../../projections/index.js';
import { useMigratedDatabase } from '../support/env.js';

const db = useMigratedDatabase('obs_bucket_cells', 2);

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
  const { rows } = await db.pool.query<{ b: string }>(
    // 3,000 whole seconds spread over 1968–2190 (a fixed sequence, the same every run).
    `SELECT (timestamptz '2000-01-01 00:00:00+00' + ((i * 2333333 + i * i * 7919) % 7000000000 - 1000000000) * interval '1 second')::text AS b
       FROM generate_series(1::bigint, 3000) i`,
  );
  const starts = [...edges, ...rows.map((r) => r.b)];
  const { rows: cells } = await db.pool.query<unknown[]>({
    text: `SELECT ${bucketColumns(`ARRAY['f']`)}, to_char(a.bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS want
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

const numerics = [
  '0',
  '-0.000',
  '58.6683333333333333',
  '0.1',
  '1e308',
  '2e308',
  '-2e308',
  '1e-320',
  '1e-400',
  '123456789012345678901234567890.123456789',
  '9007199254740993',
  null,
];
const doubles = ['0', '-0', '40.7', '1e21', '-1e-7', '5e-324', '1.7976931348623157e308', '0.1', null];
const jsons = [
  'null',
  '0',
  '-0',
  '1.50',
  '1e21',
  '1e400',
  '"text \\"quoted\\" \\\\ \\u0001 온도 🚗"',
  'true',
  '{"nested": [1, "x", null], "__proto__": 2}',
  '[]',
  null,
];

it('reads the same cells from one JSON text as from columns', async () => {
  const sql = (select: string, from: string) => `
    WITH a AS (
      SELECT timestamptz '2026-11-25 00:00:00+00' + i * interval '1 minute' AS bucket,
             (ARRAY['b', 'a', 'b'])[1 + i % 3] AS field, i AS count,
             ($1::numeric[])[1 + i % ${numerics.length}] AS avg, ($2::float8[])[1 + i % ${doubles.length}] AS min,
             ($2::float8[])[1 + (i + 3) % ${doubles.length}] AS max, ($1::numeric[])[1 + (i + 5) % ${numerics.length}] AS sum,
             ($3::jsonb[])[1 + i % ${jsons.length}] AS first, ($3::jsonb[])[1 + (i + 4) % ${jsons.length}] AS last
      FROM generate_series(0, 199) i
      UNION ALL
      SELECT timestamptz '10000-01-01 00:00:00+00', 'a', 1, NULL, NULL, NULL, NULL, NULL, NULL
    ), c AS (SELECT a.bucket, ${bucketColumns(`ARRAY['a', 'b']`)} FROM a)
    SELECT ${select} FROM ${from}`;
  const values = [numerics, doubles, jsons];
  const asColumns = await db.pool.query<unknown[]>({
    text: sql('bucket_s, bucket_text, field, count, avg, min, max, sum, first, last', 'c ORDER BY bucket'),
    values,
    rowMode: 'array',
  });
  const asJson = await db.pool.query<{ cells: string }>(
    sql(`${bucketCellsJson('ASC')} AS cells`, 'c'),
    values,
  );
  const fromJson = JSON.parse(asJson.rows[0]!.cells) as unknown[][];
  expect(fromJson).toHaveLength(201);
  // What bucketPage makes of each: numerics through toDouble, counts through Number, the rest as they are.
  const seen = (cell: unknown[]) =>
    cell.map((v, i) => (i === 3 ? Number(v) : i === 4 || i === 7 ? toDouble(v as string | null) : v));
  expect(fromJson.map(seen)).toStrictEqual(asColumns.rows.map(seen));
});
