// SPDX-License-Identifier: MIT
// Rollups, pure core: the ts_obs rows a batch inserted → one cell per rollup width, target, field and bucket,
// holding what those rows add to the rollup (projections/rollups.ts merges it into the stored row).
// Definitions match the raw queries (projections/obs.ts, tmi.obs_cells in migration 012): every field
// present counts (any JSON type); sum, min and max are over numeric values; the sum is exact (a decimal of
// the values as JSON writes them, as PostgreSQL's numeric reads them); min and max keep the earliest time
// each was seen; first and last go by observation time, ties by event id (uuid order = lower-case hex order).
import { type ObsRow, type RollupCell, type RollupWidth, rollupWidths } from '../projections/index.js';

/** A decimal: digits × 10^-scale. */
interface Decimal {
  digits: bigint;
  scale: number;
}

const decimalPattern = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/;

/** The exact decimal JSON writes for a finite number (String(v) is what JSON.stringify writes). */
export function decimalOf(v: number): Decimal {
  if (Number.isSafeInteger(v)) return { digits: BigInt(v), scale: 0 };
  const m = decimalPattern.exec(String(v));
  if (m === null) throw new RangeError(`not a finite number: ${v}`);
  const frac = m[3] ?? '';
  const scale = frac.length - Number(m[4] ?? 0);
  const digits = BigInt(`${m[1]}${m[2]}${frac}`);
  return scale >= 0 ? { digits, scale } : { digits: digits * 10n ** BigInt(-scale), scale: 0 };
}

export function addDecimal(a: Decimal, b: Decimal): Decimal {
  if (a.scale === b.scale) return { digits: a.digits + b.digits, scale: a.scale };
  const [lo, hi] = a.scale < b.scale ? [a, b] : [b, a];
  return { digits: lo.digits * 10n ** BigInt(hi.scale - lo.scale) + hi.digits, scale: hi.scale };
}

/** As PostgreSQL's numeric input reads it: `-12.3400` keeps its scale. */
export function decimalText(d: Decimal): string {
  if (d.scale === 0) return d.digits.toString();
  const negative = d.digits < 0n;
  const abs = (negative ? -d.digits : d.digits).toString().padStart(d.scale + 1, '0');
  const point = abs.length - d.scale;
  return `${negative ? '-' : ''}${abs.slice(0, point)}.${abs.slice(point)}`;
}

/** A cell while the batch is folded into it (the decimal sum still open). */
type OpenCell = { -readonly [K in keyof Omit<RollupCell, 'sum'>]: RollupCell[K] } & { sum: Decimal | null };

/** Rollup cells of the rows, per width in `rollupWidths` order, each sorted by (target, field, bucket). */
export function rollupCells(rows: readonly ObsRow[]): Map<RollupWidth, RollupCell[]> {
  const out = new Map<RollupWidth, RollupCell[]>();
  for (const width of rollupWidths) {
    const cells = new Map<string, OpenCell>();
    const widthMicros = width * 1_000_000;
    for (const row of rows) {
      const bucketUs = Math.floor(row.ts_us / widthMicros) * widthMicros;
      for (const [field, value] of Object.entries(row.payload)) {
        if (value === undefined) continue; // JSON leaves it out: not in ts_obs either
        const key = `${row.target_id}\u0000${field}\u0000${bucketUs}`;
        const cell = cells.get(key);
        if (cell === undefined) cells.set(key, openCell(row, field, bucketUs, value));
        else addToCell(cell, row, value);
      }
    }
    out.set(width, [...cells.values()].sort(cellOrder).map(closeCell));
  }
  return out;
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
    sum: num === null ? null : decimalOf(num),
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
  cell.sum = cell.sum === null ? decimalOf(num) : addDecimal(cell.sum, decimalOf(num));
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

function closeCell(cell: OpenCell): RollupCell {
  return { ...cell, sum: cell.sum === null ? null : decimalText(cell.sum) };
}

/** The order rows are written in, so that concurrent workers lock rollup rows in one order. */
function cellOrder(a: OpenCell, b: OpenCell): number {
  if (a.target_id !== b.target_id) return a.target_id < b.target_id ? -1 : 1;
  if (a.field !== b.field) return a.field < b.field ? -1 : 1;
  return a.bucket_us - b.bucket_us;
}
