// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { geoRows, greatCircleMeters, readPosition } from '../../../processors/index.js';
import { event, messages, other, target } from '../../support/decoded.js';

describe('readPosition', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['no position fields', { temp: 1 }, 'none'],
    ['a position', { lat: 37.5, lon: 127 }, 'position'],
    ['the edges are inside', { lat: -90, lon: 180 }, 'position'],
    ['the other edges', { lat: 90, lon: -180 }, 'position'],
    ['lat out of range', { lat: 90.0001, lon: 0 }, 'lat_out_of_range'],
    ['lon out of range', { lat: 0, lon: -180.5 }, 'lon_out_of_range'],
    ['lat a string', { lat: '37.5', lon: 127 }, 'lat_not_a_number'],
    ['lon NaN', { lat: 1, lon: Number.NaN }, 'lon_not_a_number'],
    ['lat infinite', { lat: Number.POSITIVE_INFINITY, lon: 1 }, 'lat_not_a_number'],
    ['lat null', { lat: null, lon: 1 }, 'lat_not_a_number'],
    ['lon without lat', { lon: 1 }, 'lat_missing'],
    ['lat without lon', { lat: 1 }, 'lon_missing'],
  ];
  it.each(cases)('%s', (_name, data, want) => {
    const read = readPosition(data);
    expect(read.kind === 'invalid' ? read.reason : read.kind).toBe(want);
  });

  it('keeps finite optional attributes and drops the rest', () => {
    const read = readPosition({ lat: 1, lon: 2, alt: 30, speed: '9', heading: 270, accuracy: null });
    expect(read).toEqual({
      kind: 'position',
      position: { lat: 1, lon: 2, alt: 30, speed: null, heading: 270, accuracy: null },
    });
  });
});

describe('geoRows', () => {
  it('one trace row per position event, the newest position per target, a skip row per bad position', () => {
    const { trace, positions, skips } = geoRows(
      messages(
        event('1', 2_000_000, { lat: 1, lon: 1 }),
        event('2', 1_000_000, { lat: 2, lon: 2 }), // late: in the trace, not the position
        event('3', 3_000_000, { temp: 5 }), // no position: ignored
        event('4', 4_000_000, { lat: 95, lon: 1 }), // out of range: skipped, not the position
        event('5', 1_500_000, { lat: 3, lon: 3 }, other),
      ),
    );
    expect(trace.map((r) => [r.target_id, r.lat])).toEqual([
      [target, 1],
      [target, 2],
      [other, 3],
    ]);
    expect(positions.map((p) => [p.target_id, p.lat, p.ts])).toEqual([
      [target, 1, '1970-01-01T00:00:02.000000Z'],
      [other, 3, '1970-01-01T00:00:01.500000Z'],
    ]);
    expect(skips).toEqual([
      {
        event_id: '0190f3c4-0000-7000-8000-000000000004',
        target_id: target,
        ts: '1970-01-01T00:00:04.000000Z',
        reason: 'lat_out_of_range',
        detail: 'lat 95 is outside ±90',
      },
    ]);
  });

  it('ties on observation time go to the larger event id, as in target_state', () => {
    const { positions } = geoRows(
      messages(event('9', 1, { lat: 9, lon: 9 }), event('8', 1, { lat: 8, lon: 8 })),
    );
    expect(positions.map((p) => p.lat)).toEqual([9]);
  });
});

describe('greatCircleMeters (earthdistance sphere, R = 6,378,168 m)', () => {
  const quarter = (Math.PI / 2) * 6_378_168;
  const cases: [string, [number, number, number, number], number][] = [
    ['same point', [10, 20, 10, 20], 0],
    ['equator to pole', [0, 0, 90, 0], quarter],
    ['across the antimeridian: 1° of the equator', [0, 179.5, 0, -179.5], quarter / 90],
    ['over the pole', [89.5, 0, 89.5, 180], quarter / 90],
    ['antipodes', [0, 0, 0, 180], 2 * quarter],
  ];
  it.each(cases)('%s', (_name, [a, b, c, d], want) => {
    expect(greatCircleMeters(a, b, c, d)).toBeCloseTo(want, 3);
  });
});
