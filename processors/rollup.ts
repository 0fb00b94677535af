// SPDX-License-Identifier: MIT
// Rollups, thin part: called in the project stage's (and a replay's) transaction right after the ts_obs
// insert, with the count it reported; only the rows that insert made reach the rollups.
import type { PoolClient } from '../db/index.js';
import { insertedObsRows, mergeRollupCells, type ObsRow } from '../projections/index.js';
import { rollupCells } from './rollup-core.js';

export async function rollUpInsertedObs(
  client: PoolClient,
  obs: readonly ObsRow[],
  inserted: number,
): Promise<number> {
  const rows = await insertedObsRows(client, obs, inserted);
  return rows.length === 0 ? 0 : mergeRollupCells(client, rollupCells(rows));
}
