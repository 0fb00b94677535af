// SPDX-License-Identifier: MIT
// Min/max per pixel column, pure: the reference of what GET /v1/targets/{id}/obs?points=N returns.
// The range [from, to) is cut into floor(N/2) equal columns; each column keeps its lowest and its
// highest numeric value (earliest on ties), in time order, once if they are the same observation.
// A line through those points touches every extreme a chart of that width can show, so a day of
// 1 Hz data drawn 1,000 px wide looks the same from 2,000 points as from 86,400.
// projections/obs-points.ts runs the same thing in SQL; the integration test holds them equal.

/** Fewest and most points a caller may ask for. */
export const downsamplePointsMin = 2;
export const downsamplePointsMax = 10_000;

export interface ColumnPlan {
  /** Number of columns: floor(points / 2). */
  readonly columns: number;
  /** Width of a column in µs (at least 1; the last column may be cut short by `to`). */
  readonly widthMicros: number;
}

/** The columns of [fromMicros, toMicros) for at most `points` points. */
export function columnPlan(fromMicros: number, toMicros: number, points: number): ColumnPlan {
  if (!Number.isInteger(points) || points < downsamplePointsMin || points > downsamplePointsMax) {
    throw new RangeError(`points must be an integer from ${downsamplePointsMin} to ${downsamplePointsMax}`);
  }
  if (!(toMicros > fromMicros)) throw new RangeError('the range must not be empty');
  const columns = Math.floor(points / 2);
  return { columns, widthMicros: Math.max(1, Math.ceil((toMicros - fromMicros) / columns)) };
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
    const col = Math.floor((p.t - fromMicros) / plan.widthMicros);
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
