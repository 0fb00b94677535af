// SPDX-License-Identifier: MIT
// Bucketed sum and avg leave PostgreSQL as exact numeric text and become doubles in Node (toDouble), no
// longer through tmi.float8_of in SQL. The answer must not change: for edge values (beyond float8's range,
// below it, subnormal, zero) and for many exact quotients, toDouble(numeric text) is the double
// tmi.float8_of gives, and JSON writes both the same.
import { expect, it } from 'vitest';
import { toDouble } from '../../projections/index.js';
import { useMigratedDatabase } from '../support/env.js';

const db = useMigratedDatabase('obs_numeric_double', 2);

/** Each numeric expression's text and tmi.float8_of of it, as node-pg hands them over. */
async function bothWays(exprs: readonly string[]): Promise<{ text: string; viaSql: number }[]> {
  const { rows } = await db.pool.query<{ text: string; via_sql: number }>(
    `SELECT n::text AS text, tmi.float8_of(n) AS via_sql
       FROM unnest($1::numeric[]) WITH ORDINALITY AS x(n, i) ORDER BY i`,
    [exprs],
  );
  return rows.map((r) => ({ text: r.text, viaSql: r.via_sql }));
}

it('gives the double tmi.float8_of gives at the edges of float8', async () => {
  const edges = [
    '0',
    '-0.000',
    '1e308',
    '1.7976931348623157e308',
    '1.7976931348623159e308',
    '2e308',
    '-2e308',
    '1e-300',
    '2.2250738585072014e-308',
    '1e-320',
    '-4.9e-324',
    '1e-400',
    '-1e-400',
    '0.1',
    '123456789012345678901234567890.123456789',
  ];
  for (const { text, viaSql } of await bothWays(edges)) {
    const viaNode = toDouble(text);
    expect(JSON.stringify(viaNode), text).toBe(JSON.stringify(viaSql));
    if (viaSql !== 0) expect(viaNode, text).toBe(viaSql);
  }
});

it('gives the double tmi.float8_of gives for exact sums divided by counts (avg)', async () => {
  const { rows } = await db.pool.query<{ q: string }>(
    `SELECT ((random() - 0.5) * 10 ^ (floor(random() * 40) - 20))::numeric(60, 30)
            / (1 + floor(random() * 86400))::numeric AS q
       FROM generate_series(1, 2000)`,
  );
  const quotients = rows.map((r) => r.q);
  for (const { text, viaSql } of await bothWays(quotients)) expect(toDouble(text), text).toBe(viaSql);
  expect(toDouble(null)).toBeNull();
});
