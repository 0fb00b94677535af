// SPDX-License-Identifier: MIT
// Min/max per pixel column, pure: the reference of what GET /v1/targets/{id}/obs?points=N returns.
// The range [from, to) is cut into at most floor(N/2) equal columns (columnPlan: of a minute or more,
// whole minutes or hours on the 2000-01-01 grid, as the rollups hold them); each column keeps its lowest
// and its highest numeric value (earliest on ties), in time order, once if they are the same observation.
// A line through those points touches every extreme a chart of that width can show, so a day of
// 1 Hz data drawn 1,000 px wide looks the same from 2,000 points as from 86,400.
// projections/obs-points.ts runs the same thing in SQL; the integration test holds them equal.

/** Fewest and most points a caller may ask for. */
export const downsamplePointsMin = 2;
export const downsamplePointsMax = 10_000;

export interface ColumnPlan {
  /** Number of columns: floor(points / 2) (at most that many hold points). */
  readonly columns: number;
  /** Width of a column in µs (at least 1; the last column may be cut short by `to`). */
  readonly widthMicros: number;
  /** Column k starts at originMicros + k × widthMicros: `from`, or the 2000-01-01 grid when snapped. */
  readonly originMicros: number;
  /** Set when columns are whole minutes or hours on the 2000-01-01 grid: the rollup width they are made of. */
  readonly rollupSeconds?: 60 | 3600;
}

/** The origin of the bucket grid (2000-01-01T00:00:00Z) in µs, as obs buckets and rollups use it. */
export const gridOriginMicros = Date.UTC(2000, 0, 1) * 1000;

/**
 * The columns of [fromMicros, toMicros) for at most `points` points. Columns of a minute or more are
 * snapped to whole minutes (an hour or more: whole hours) on the 2000-01-01 grid, so that they can be
 * read from the rollups (projections/obs-rollups.ts); the range then needs one column fewer, as it may
 * start and end inside one.
 */
export function columnPlan(fromMicros: number, toMicros: number, points: number): ColumnPlan {
  if (!Number.isInteger(points) || points < downsamplePointsMin || points > downsamplePointsMax) {
    throw new RangeError(`points must be an integer from ${downsamplePointsMin} to ${downsamplePointsMax}`);
  }
  if (!(toMicros > fromMicros)) throw new RangeError('the range must not be empty');
  const columns = Math.floor(points / 2);
  const snapped = columns >= 2 ? Math.ceil((toMicros - fromMicros) / (columns - 1)) : 0;
  const unit = snapped >= 3_600_000_000 ? 3600 : snapped >= 60_000_000 ? 60 : undefined;
  if (unit === undefined) {
    const widthMicros = Math.max(1, Math.ceil((toMicros - fromMicros) / columns));
    return { columns, widthMicros, originMicros: fromMicros };
  }
  const unitMicros = unit * 1_000_000;
  const widthMicros = Math.ceil(snapped / unitMicros) * unitMicros;
  return { columns, widthMicros, originMicros: gridOriginMicros, rollupSeconds: unit };
}

export interface SeriesPoint {
  /** µs since the epoch. */
  readonly t: number;
  readonly v: number;
}

/**
 * The min/max points of each column, in time order. `series` need not be sorted; points outside
 * [from, to) and non-finite values are ignored. At most `points` points come back.
 */
export function downsampleMinMax(
  series: readonly SeriesPoint[],
  fromMicros: number,
  toMicros: number,
  points: number,
): SeriesPoint[] {
  const plan = columnPlan(fromMicros, toMicros, points);
  const lows = new Map<number, SeriesPoint>();
  const highs = new Map<number, SeriesPoint>();
  for (const p of series) {
    if (p.t < fromMicros || p.t >= toMicros || !Number.isFinite(p.v)) continue;
    const col = Math.floor((p.t - plan.originMicros) / plan.widthMicros);
    const low = lows.get(col);
    if (low === undefined || p.v < low.v || (p.v === low.v && p.t < low.t)) lows.set(col, p);
    const high = highs.get(col);
    if (high === undefined || p.v > high.v || (p.v === high.v && p.t < high.t)) highs.set(col, p);
  }
  const out: SeriesPoint[] = [];
  for (const [col, low] of lows) {
    const high = highs.get(col)!;
    if (low === high) out.push(low);
    else out.push(...(low.t <= high.t ? [low, high] : [high, low]));
  }
  return out.sort((a, b) => a.t - b.t);
}
