// SPDX-License-Identifier: MIT
// COPY into a session's staging table, then one INSERT … SELECT … ON CONFLICT into the projection
// (ADR 0028): PostgreSQL parses COPY's text format for less than `json_to_recordset` costs it, and the
// conflict clause still makes a redelivered batch change nothing. The staging tables are temporary
// (`ON COMMIT DELETE ROWS`): private to the connection, emptied by every commit, never WAL-logged.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from '../db/index.js';
import { invariant } from '../errors/index.js';

/** A staging table: its name (in pg_temp) and its columns with their types, in COPY order. */
export interface StagingTable {
  readonly name: string;
  readonly columns: string;
}

const specials = /[\\\n\r\t]/;
const specialsAll = /[\\\n\r\t]/g;
const escapes: Readonly<Record<string, string>> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A value as one field of COPY's text format (null → \N). JSON text only ever needs its backslashes doubled. */
export function copyField(value: string | number | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  return specials.test(value) ? value.replace(specialsAll, (c) => escapes[c]!) : value;
}

/**
 * COPYs `lines` (COPY text rows, each ending in a newline) into the session's staging table, then runs
 * `insert` — an `INSERT … SELECT … FROM staged … ON CONFLICT DO NOTHING` — on the rows it takes out of the
 * staging table again, and returns the rows inserted. Must run inside a transaction: outside one, COPY's
 * own commit would empty the staging table first — so the rows taken are counted, and anything but
 * `rowsExpected` is a broken invariant, never a silent loss.
 */
export async function copyThenInsert(
  client: PoolClient,
  table: StagingTable,
  lines: string,
  rowsExpected: number,
  insert: string,
): Promise<number> {
  await client.query(
    `CREATE TEMP TABLE IF NOT EXISTS ${table.name} (${table.columns}) ON COMMIT DELETE ROWS`,
  );
  await pipeline(Readable.from([lines]), client.query(copyFrom(`COPY pg_temp.${table.name} FROM STDIN`)));
  const { rows } = await client.query<{ staged: number; inserted: number }>(
    `WITH staged AS (DELETE FROM pg_temp.${table.name} RETURNING *), inserted AS (${insert} RETURNING 1)
     SELECT (SELECT count(*)::int FROM staged) AS staged, (SELECT count(*)::int FROM inserted) AS inserted`,
  );
  const { staged, inserted } = rows[0]!;
  invariant(staged === rowsExpected, `${table.name} held ${staged} rows, ${rowsExpected} were copied`);
  return inserted;
}
