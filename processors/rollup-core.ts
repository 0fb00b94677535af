// SPDX-License-Identifier: MIT
// Rollups, pure core: the ts_obs rows a batch inserted → one cell per rollup width, target, field and bucket,
// holding what those rows add to the rollup (projections/rollups.ts merges it into the stored row).
// Definitions match the raw queries (projections/obs.ts, tmi.obs_cells in migration 012): every field
// present counts (any JSON type); sum, min and max are over numeric values; the sum is exact (a decimal of
// the values as JSON writes them, as PostgreSQL's numeric reads them); min and max keep the earliest time
// each was seen; first and last go by observation time, ties by event id (uuid order = lower-case hex order).
import type { ObsRow, RollupCell, RollupWidth } from '../projections/index.js';
import { DecimalSum, decimalText } from './decimal-sum.js';

/** A cell while the batch is folded into it (the decimal sum still open). */
type OpenCell = { -readonly [K in keyof Omit<RollupCell, 'sum'>]: RollupCell[K] } & {
  sum: DecimalSum | null;
};

/** Rollup cells of the rows, per width (a minute, an hour), each sorted by (target, field, bucket). */
export function rollupCells(rows: readonly ObsRow[]): Map<RollupWidth, RollupCell[]> {
  // Nested maps (target → field → bucket): field names are interned and buckets are numbers, so a value
  // costs no key string to build and hash.
  const minutes = new Map<string, Map<string, Map<number, OpenCell>>>();
  for (const row of rows) {
    const bucketUs = Math.floor(row.ts_us / 60_000_000) * 60_000_000;
    const fields = child(minutes, row.target_id);
    for (const field in row.payload) {
      const value = row.payload[field];
      if (value === undefined) continue; // JSON leaves it out: not in ts_obs either
      const buckets = child(fields, field);
      const cell = buckets.get(bucketUs);
      if (cell === undefined) buckets.set(bucketUs, openCell(row, field, bucketUs, value));
      else addToCell(cell, row, value);
    }
  }
  const minuteCells: OpenCell[] = [];
  const hourCells: OpenCell[] = [];
  for (const fields of minutes.values()) {
    for (const buckets of fields.values()) {
      // Hours from the minutes of one target and field: every aggregate composes.
      let hour: OpenCell | undefined;
      for (const m of [...buckets.values()].sort((a, b) => a.bucket_us - b.bucket_us)) {
        minuteCells.push(m);
        const hourUs = Math.floor(m.bucket_us / 3_600_000_000) * 3_600_000_000;
        if (hour?.bucket_us === hourUs) mergeCells(hour, m);
        else {
          hour = { ...m, bucket_us: hourUs, sum: copySum(m.sum) };
          hourCells.push(hour);
        }
      }
    }
  }
  return new Map<RollupWidth, RollupCell[]>([
    [60, minuteCells.sort(cellOrder).map(closeCell)],
    [3600, hourCells.sort(cellOrder).map(closeCell)],
  ]);
}

/** The map under `key`, made empty on first use. */
function child<K, V>(parent: Map<string, Map<K, V>>, key: string): Map<K, V> {
  let map = parent.get(key);
  if (map === undefined) {
    map = new Map();
    parent.set(key, map);
  }
  return map;
}

function copySum(sum: DecimalSum | null): DecimalSum | null {
  if (sum === null) return null;
  const copy = new DecimalSum();
  copy.addDecimal(sum.value());
  return copy;
}

/** Folds `from` into `into` (cells of one target and field). */
function mergeCells(into: OpenCell, from: OpenCell): void {
  into.count += from.count;
  into.num_count += from.num_count;
  if (from.sum !== null) {
    if (into.sum === null) into.sum = copySum(from.sum);
    else into.sum.addDecimal(from.sum.value());
  }
  if (
    from.min !== null &&
    (into.min === null || from.min < into.min || (from.min === into.min && from.min_us! < into.min_us!))
  ) {
    into.min = from.min;
    into.min_us = from.min_us;
  }
  if (
    from.max !== null &&
    (into.max === null || from.max > into.max || (from.max === into.max && from.max_us! < into.max_us!))
  ) {
    into.max = from.max;
    into.max_us = from.max_us;
  }
  if (before(from.first_us, from.first_event, into.first_us, into.first_event)) {
    into.first_us = from.first_us;
    into.first_event = from.first_event;
    into.first_value = from.first_value;
  }
  if (before(into.last_us, into.last_event, from.last_us, from.last_event)) {
    into.last_us = from.last_us;
    into.last_event = from.last_event;
    into.last_value = from.last_value;
  }
}

function numberOf(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The value as ts_obs stores it: JSON turns non-finite numbers into null. */
function jsonValue(value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

function openCell(row: ObsRow, field: string, bucketUs: number, value: unknown): OpenCell {
  const num = numberOf(value);
  const event = row.event_id.toLowerCase();
  const json = jsonValue(value);
  return {
    target_id: row.target_id,
    field,
    bucket_us: bucketUs,
    count: 1,
    num_count: num === null ? 0 : 1,
    sum: num === null ? null : sumOf(num),
    min: num,
    min_us: num === null ? null : row.ts_us,
    max: num,
    max_us: num === null ? null : row.ts_us,
    first_us: row.ts_us,
    first_event: event,
    first_value: json,
    last_us: row.ts_us,
    last_event: event,
    last_value: json,
  };
}

function addToCell(cell: OpenCell, row: ObsRow, value: unknown): void {
  cell.count++;
  const event = row.event_id.toLowerCase();
  if (before(row.ts_us, event, cell.first_us, cell.first_event)) {
    cell.first_us = row.ts_us;
    cell.first_event = event;
    cell.first_value = jsonValue(value);
  }
  if (before(cell.last_us, cell.last_event, row.ts_us, event)) {
    cell.last_us = row.ts_us;
    cell.last_event = event;
    cell.last_value = jsonValue(value);
  }
  const num = numberOf(value);
  if (num === null) return;
  cell.num_count++;
  if (cell.sum === null) cell.sum = sumOf(num);
  else cell.sum.add(num);
  // Lowest value, earliest on ties; highest value, earliest on ties.
  if (cell.min === null || num < cell.min || (num === cell.min && row.ts_us < cell.min_us!)) {
    cell.min = num;
    cell.min_us = row.ts_us;
  }
  if (cell.max === null || num > cell.max || (num === cell.max && row.ts_us < cell.max_us!)) {
    cell.max = num;
    cell.max_us = row.ts_us;
  }
}

/** (ts, event id) pairs in the order PostgreSQL compares (timestamptz, uuid). */
function before(aUs: number, aEvent: string, bUs: number, bEvent: string): boolean {
  return aUs !== bUs ? aUs < bUs : aEvent < bEvent;
}

function sumOf(num: number): DecimalSum {
  const sum = new DecimalSum();
  sum.add(num);
  return sum;
}

function closeCell(cell: OpenCell): RollupCell {
  return { ...cell, sum: cell.sum === null ? null : decimalText(cell.sum.value()) };
}

/** The order rows are written in, so that concurrent workers lock rollup rows in one order. */
function cellOrder(a: OpenCell, b: OpenCell): number {
  if (a.target_id !== b.target_id) return a.target_id < b.target_id ? -1 : 1;
  if (a.field !== b.field) return a.field < b.field ? -1 : 1;
  return a.bucket_us - b.bucket_us;
}
