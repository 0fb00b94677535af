// SPDX-License-Identifier: MIT
// Merging a series' loaded points with the points seen live: the live stream can run ahead of the series
// API (a listener's copy of an event may arrive before the projection behind /obs commits it), so a point
// seen live but not yet in the answer must not be lost when the answer lands.
export type Point = readonly [number, number];

/** A field's numeric points in live frames, in the order they came. */
export function livePoints(
  frames: readonly { readonly ts: string; readonly data: Record<string, unknown> }[],
  field: string,
): Point[] {
  return frames.flatMap((f) =>
    typeof f.data[field] === 'number' ? [[Date.parse(f.ts), f.data[field] as number] as const] : [],
  );
}

/**
 * The loaded points with the live points from `fromMs` on that the answer lacks (by time), in time order,
 * the newest `pointsMax` kept.
 */
export function mergeLoaded(
  loaded: readonly Point[],
  live: readonly Point[],
  fromMs: number,
  pointsMax: number,
): Point[] {
  const have = new Set(loaded.map(([t]) => t));
  const added = live.filter(([t]) => t >= fromMs && !have.has(t));
  if (added.length === 0) return [...loaded];
  return [...loaded, ...added].sort((a, b) => a[0] - b[0]).slice(-pointsMax);
}
