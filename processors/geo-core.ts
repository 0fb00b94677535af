// SPDX-License-Identifier: MIT
// geo, pure core: normalized events whose data carry a position (`lat`, `lon`; optional `alt`, `speed`,
// `heading`, `accuracy`, all at the top level) → geo_trace rows (one per event) and target_position rows
// reduced to the newest position per target by observation time (ties by event id). A position that is
// not one — out of range, not a finite number, half of it missing — is not projected; it becomes a skip
// row naming the reason. Events without `lat` and `lon` are no position events and are ignored.
import type { GeoRow, PositionOut, SkipRow } from '../projections/index.js';
import { microsToIso } from '../schemas/index.js';
import type { DecodedMessage } from './decode.js';

/** earthdistance's sphere (`earth()`): geofences in the alarm engine measure on the same sphere as SQL. */
export const earthRadiusMeters = 6_378_168;
export const latitudeDegreesMax = 90;
export const longitudeDegreesMax = 180;

/** A position read from an event: the read model's position, before it has a time and an event. */
export type Position = Omit<PositionOut, 'ts' | 'event_id'>;

export type PositionSkipReason =
  | 'lat_missing'
  | 'lon_missing'
  | 'lat_not_a_number'
  | 'lon_not_a_number'
  | 'lat_out_of_range'
  | 'lon_out_of_range';

export type PositionRead =
  | { readonly kind: 'none' }
  | { readonly kind: 'position'; readonly position: Position }
  | { readonly kind: 'invalid'; readonly reason: PositionSkipReason; readonly detail: string };

/** Reads the position of an event's data. */
export function readPosition(data: Readonly<Record<string, unknown>>): PositionRead {
  const hasLat = Object.hasOwn(data, 'lat');
  const hasLon = Object.hasOwn(data, 'lon');
  if (!hasLat && !hasLon) return { kind: 'none' };
  const lat = coordinate(data, 'lat', latitudeDegreesMax);
  if (lat.kind === 'invalid') return lat;
  const lon = coordinate(data, 'lon', longitudeDegreesMax);
  if (lon.kind === 'invalid') return lon;
  return {
    kind: 'position',
    position: {
      lat: lat.value,
      lon: lon.value,
      alt: optionalNumber(data.alt),
      speed: optionalNumber(data.speed),
      heading: optionalNumber(data.heading),
      accuracy: optionalNumber(data.accuracy),
    },
  };
}

function coordinate(
  data: Readonly<Record<string, unknown>>,
  name: 'lat' | 'lon',
  limit: number,
): { kind: 'ok'; value: number } | { kind: 'invalid'; reason: PositionSkipReason; detail: string } {
  if (!Object.hasOwn(data, name)) {
    return {
      kind: 'invalid',
      reason: `${name}_missing`,
      detail: `${name === 'lat' ? 'lon' : 'lat'} without ${name}`,
    };
  }
  const value = data[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return {
      kind: 'invalid',
      reason: `${name}_not_a_number`,
      detail: `${name} is ${describe(value)}, not a finite number`,
    };
  }
  if (Math.abs(value) > limit) {
    return {
      kind: 'invalid',
      reason: `${name}_out_of_range`,
      detail: `${name} ${value} is outside ±${limit}`,
    };
  }
  return { kind: 'ok', value };
}

/** Optional attributes are kept when they are finite numbers and left out (null) otherwise. */
function optionalNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string '${value.slice(0, 40)}'`;
  if (value === null) return 'null';
  return typeof value === 'number' ? String(value) : `a ${Array.isArray(value) ? 'array' : typeof value}`;
}

export interface GeoRows {
  readonly trace: GeoRow[];
  /** The newest position per target of the batch, in target order. */
  readonly positions: GeoRow[];
  readonly skips: SkipRow[];
}

export function geoRows(messages: readonly DecodedMessage[]): GeoRows {
  const trace: GeoRow[] = [];
  const skips: SkipRow[] = [];
  const newest = new Map<string, { row: GeoRow; micros: number }>();
  for (const { events } of messages) {
    for (const { envelope, data } of events) {
      const read = readPosition(data);
      if (read.kind === 'none') continue;
      const ts = microsToIso(envelope.occurred_at);
      if (read.kind === 'invalid') {
        skips.push({
          event_id: envelope.event_id,
          target_id: envelope.target_id,
          ts,
          reason: read.reason,
          detail: read.detail,
        });
        continue;
      }
      const row: GeoRow = {
        target_id: envelope.target_id,
        ts,
        event_id: envelope.event_id,
        ...read.position,
      };
      trace.push(row);
      const prior = newest.get(envelope.target_id);
      if (
        prior === undefined ||
        envelope.occurred_at > prior.micros ||
        (envelope.occurred_at === prior.micros &&
          envelope.event_id.toLowerCase() > prior.row.event_id.toLowerCase())
      ) {
        newest.set(envelope.target_id, { row, micros: envelope.occurred_at });
      }
    }
  }
  // A fixed row order keeps concurrent workers from deadlocking on the same position rows.
  const positions = [...newest.values()]
    .map((v) => v.row)
    .sort((a, b) => (a.target_id < b.target_id ? -1 : 1));
  return { trace, positions, skips };
}

/** Counts of skip rows by reason (for the stage's metric). */
export function countReasons(skips: readonly SkipRow[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of skips) out[s.reason] = (out[s.reason] ?? 0) + 1;
  return out;
}

const radians = (degrees: number): number => (degrees * Math.PI) / 180;

/** Great-circle distance in metres on earthdistance's sphere (haversine, stable for small and antipodal distances). */
export function greatCircleMeters(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const dLat = radians(lat2 - lat1);
  const dLon = radians(lon2 - lon1);
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(radians(lat1)) * Math.cos(radians(lat2)) * Math.sin(dLon / 2) ** 2;
  return 2 * earthRadiusMeters * Math.atan2(Math.sqrt(h), Math.sqrt(Math.max(0, 1 - h)));
}
