// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import {
  decodeObsCursor,
  encodeObsCursor,
  obsBucketCellsMax,
  obsDefaultRangeMicros,
  parseAggs,
  parseBucket,
  parseFields,
  parseLimit,
  parseObsParams,
  parseRange,
  parseTimeParam,
} from '../../../api/routes/obs-params.js';
import { RequestRejectedError } from '../../../errors/index.js';

/** The RequestRejectedError fn throws (fails the test if it throws nothing or something else). */
function problemOf(fn: () => unknown): RequestRejectedError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RequestRejectedError);
    return err as RequestRejectedError;
  }
  throw new Error('expected a problem');
}

const now = Date.UTC(2026, 10, 22, 12) * 1000;
const eventId = '0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

describe('parseFields', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    [' , ', undefined],
    ['temp', ['temp']],
    ['temp,humidity', ['temp', 'humidity']],
    [' temp , humidity ', ['temp', 'humidity']],
    ['temp,temp,rpm', ['temp', 'rpm']],
    ['_x,A9', ['_x', 'A9']],
    ['온도, Temperature (°C),a.b,a b', ['온도', 'Temperature (°C)', 'a.b', 'a b']],
    ['["a,b","온도"]', ['a,b', '온도']],
    ['9lives,a-b', ['9lives', 'a-b']],
    [Array.from({ length: 64 }, (_, i) => `f${i}`).join(','), Array.from({ length: 64 }, (_, i) => `f${i}`)],
  ])('%j → %j', (raw, expected) => {
    expect(parseFields(raw)).toEqual(expected);
  });

  it.each([
    ['a\u0001b', /holds a control character/],
    ['["a", 1]', /not a JSON array of strings/],
    ['[nope', /not a JSON array/],
    ['x'.repeat(129), /has 129 characters; at most 128/],
    [Array.from({ length: 65 }, (_, i) => `f${i}`).join(','), /65 fields; at most 64/],
  ])('rejects %j', (raw, message) => {
    const p = problemOf(() => parseFields(raw));
    expect(p.status).toBe(400);
    expect(p.code).toBe('INVALID_PARAMETER');
    expect(p.message).toMatch(/^fields /);
    expect(p.message).toMatch(message);
  });
});

describe('parseBucket', () => {
  it.each([
    [undefined, undefined],
    ['1s', 1],
    ['10s', 10],
    ['1m', 60],
    ['5m', 300],
    ['1h', 3600],
    ['1d', 86_400],
    ['31d', 31 * 86_400],
    ['744h', 31 * 86_400],
    ['007m', 420],
  ])('%j → %j seconds', (raw, seconds) => {
    expect(parseBucket(raw)?.seconds).toBe(seconds);
    if (raw !== undefined) expect(parseBucket(raw)?.text).toBe(raw);
  });

  it.each([
    ['0s', /between 1s and 31d/],
    ['32d', /between 1s and 31d/],
    ['745h', /between 1s and 31d/],
    ['99999999999999999999d', /between 1s and 31d/],
    ['1w', /not a duration/],
    ['1.5h', /not a duration/],
    ['m', /not a duration/],
    ['10', /not a duration/],
    [' 1m', /not a duration/],
    ['-1m', /not a duration/],
  ])('rejects %j', (raw, message) => {
    const p = problemOf(() => parseBucket(raw));
    expect(p.message).toMatch(/^bucket /);
    expect(p.message).toMatch(message);
  });
});

describe('parseAggs', () => {
  it.each([
    [undefined, false, undefined],
    [undefined, true, ['avg', 'min', 'max', 'count', 'last']],
    ['', true, ['avg', 'min', 'max', 'count', 'last']],
    ['avg', true, ['avg']],
    ['first,last,sum', true, ['first', 'last', 'sum']],
    ['max, max ,min', true, ['max', 'min']],
  ])('%j (bucketed %j) → %j', (raw, bucketed, expected) => {
    expect(parseAggs(raw, bucketed)).toEqual(expected);
  });

  it.each([
    ['avg', false, /needs bucket/],
    ['median', true, /'median' is not one of avg, min, max, last, count, first, sum/],
    ['AVG', true, /is not one of/],
  ])('rejects %j (bucketed %j)', (raw, bucketed, message) => {
    const p = problemOf(() => parseAggs(raw, bucketed));
    expect(p.message).toMatch(/^agg /);
    expect(p.message).toMatch(message);
  });
});

describe('parseTimeParam', () => {
  it.each([
    ['2026-11-22T12:00:00Z', now],
    ['2026-11-22T21:00:00+09:00', now],
    ['2026-11-22T12:00:00.000001Z', now + 1],
    [String(now / 1000), now],
    ['0', 0],
    ['1.5', 1500],
  ])('%j → %j µs', (raw, micros) => {
    expect(parseTimeParam(raw, 'from')).toBe(micros);
  });

  it.each([
    ['yesterday', 'from', /^from 'yesterday' is not ISO-8601/],
    ['2026-11-22T12:00:00', 'to', /^to .*not ISO-8601 with a time zone/],
    ['2026-02-30T00:00:00Z', 'from', /^from .*not a valid calendar time/],
    ['-5', 'to', /^to must lie between/],
  ] as const)('rejects %j as %s', (raw, name, message) => {
    const p = problemOf(() => parseTimeParam(raw, name));
    expect(p.code).toBe('INVALID_PARAMETER');
    expect(p.message).toMatch(message);
  });
});

describe('parseRange', () => {
  const t = (iso: string) => parseTimeParam(iso, 'from');
  const offGrid = '2026-11-22T12:34:56.789Z';
  it.each([
    ['raw, nothing', undefined, undefined, undefined, {}],
    ['raw, from only', '2026-11-22T00:00:00Z', undefined, undefined, { from: t('2026-11-22T00:00:00Z') }],
    [
      'bucketed, nothing: last 24 h',
      undefined,
      undefined,
      3600,
      { from: now - obsDefaultRangeMicros, to: now },
    ],
    [
      'bucketed, to only: 24 h before it',
      undefined,
      '2026-11-20T00:00:00Z',
      60,
      { from: t('2026-11-19T00:00:00Z'), to: t('2026-11-20T00:00:00Z') },
    ],
    [
      'bucketed, to off the grid: from the start of its bucket',
      undefined,
      offGrid,
      300,
      { from: t('2026-11-21T12:30:00Z'), to: t(offGrid) },
    ],
    [
      'bucketed, 7 d buckets: grid from 2000-01-01 (a Saturday)',
      undefined,
      offGrid,
      7 * 86_400,
      { from: t('2026-11-21T00:00:00Z'), to: t(offGrid) },
    ],
    [
      'bucketed, from only: open end',
      '2026-11-20T00:00:00Z',
      undefined,
      60,
      { from: t('2026-11-20T00:00:00Z') },
    ],
    ['bucketed, from off the grid: kept as given', offGrid, undefined, 3600, { from: t(offGrid) }],
    [
      'from = to',
      '2026-11-20T00:00:00Z',
      '2026-11-20T00:00:00Z',
      undefined,
      { from: t('2026-11-20T00:00:00Z'), to: t('2026-11-20T00:00:00Z') },
    ],
  ])('%s', (_name, from, to, bucketSeconds, expected) => {
    const range = parseRange(from, to, bucketSeconds, now);
    expect({ from: range.from, to: range.to }).toEqual({ from: undefined, to: undefined, ...expected });
  });

  it('rejects from after to', () => {
    const p = problemOf(() => parseRange('2026-11-22T00:00:01Z', '2026-11-22T00:00:00Z', undefined, now));
    expect(p.message).toMatch(/^from .* is after to/);
  });
});

describe('parseLimit', () => {
  it.each([
    [undefined, 1000],
    [1, 1],
    [10_000, 10_000],
  ])('%j → %j', (raw, expected) => {
    expect(parseLimit(raw)).toBe(expected);
  });
  it.each([[0], [10_001], [1.5], [-1]])('rejects %j', (raw) => {
    expect(problemOf(() => parseLimit(raw)).message).toMatch(/^limit must be an integer from 1 to 10000/);
  });
});

describe('parseObsParams', () => {
  it('raw defaults: no range, asc, 1000', () => {
    expect(parseObsParams({}, now)).toEqual({
      fromIso: undefined,
      toIso: undefined,
      fields: undefined,
      bucket: undefined,
      aggs: undefined,
      limit: 1000,
      order: 'asc',
      after: undefined,
    });
  });

  it('bucketed defaults: last 24 h and avg,min,max,count,last', () => {
    const p = parseObsParams({ bucket: '1h', fields: 'temp' }, now);
    expect(p.fromIso).toBe('2026-11-21T12:00:00.000000Z');
    expect(p.toIso).toBe('2026-11-22T12:00:00.000000Z');
    expect(p.aggs).toEqual(['avg', 'min', 'max', 'count', 'last']);
    expect(p.bucket).toEqual({ seconds: 3600, text: '1h' });
  });

  it.each([
    [{ bucket: '1m' }, /^fields is required with bucket/],
    [{ agg: 'avg' }, /^agg needs bucket/],
    [{ order: 'up' as 'asc' }, /^order must be asc or desc/],
    [{ after: 'not-a-cursor!' }, /^after is not a cursor/],
  ])('rejects %j', (qs, message) => {
    expect(problemOf(() => parseObsParams(qs, now)).message).toMatch(message);
  });

  it.each([
    [1, 1000, 1000],
    [64, 10_000, Math.floor(obsBucketCellsMax / 64)],
    [10, 10_000, 10_000],
  ])('with %i fields a bucketed page of limit %i holds %i buckets', (fieldCount, limit, expected) => {
    const fields = Array.from({ length: fieldCount }, (_, i) => `f${i}`).join(',');
    expect(parseObsParams({ bucket: '1m', fields, limit }, now).limit).toBe(expected);
  });

  it('accepts its own cursor', () => {
    const after = encodeObsCursor(
      { ts: '2026-11-22T10:00:00.123456Z', eventId },
      { order: 'desc', bucketSeconds: undefined },
    );
    expect(parseObsParams({ after, order: 'desc' }, now).after).toEqual({
      ts: '2026-11-22T10:00:00.123456Z',
      eventId,
    });
  });
});

describe('obs cursor', () => {
  const raw = { order: 'asc', bucketSeconds: undefined } as const;
  const bucketed = { order: 'asc', bucketSeconds: 60 } as const;
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it.each([
    ['raw', { ts: '2026-11-22T10:00:00.000001Z', eventId }, raw],
    ['bucketed', { ts: '2026-11-22T10:00:00.000000Z' }, bucketed],
    [
      'desc',
      { ts: '1970-01-01T00:00:00.000000Z', eventId },
      { order: 'desc', bucketSeconds: undefined } as const,
    ],
  ])('round-trips %s', (_name, cursor, scope) => {
    const text = encodeObsCursor(cursor, scope);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeObsCursor(text, scope)).toEqual(cursor);
  });

  it.each([
    [
      'another order',
      encodeObsCursor({ ts: '2026-11-22T10:00:00.000000Z', eventId }, raw),
      { ...raw, order: 'desc' },
      /different order or bucket/,
    ],
    [
      'raw cursor in bucketed mode',
      encodeObsCursor({ ts: '2026-11-22T10:00:00.000000Z', eventId }, raw),
      bucketed,
      /different order or bucket/,
    ],
    [
      'another bucket',
      encodeObsCursor({ ts: '2026-11-22T10:00:00.000000Z' }, bucketed),
      { ...bucketed, bucketSeconds: 3600 },
      /different order or bucket/,
    ],
    ['garbage', 'abc', raw, /is not a cursor this endpoint issued/],
    ['not base64url', 'a+b/c=', raw, /is not a cursor/],
    ['JSON but not a cursor', b64([1, 2]), raw, /is not a cursor/],
    ['raw without event id', b64({ o: 'asc', s: null, t: '2026-11-22T10:00:00Z' }), raw, /is not a cursor/],
    [
      'bad event id',
      b64({ o: 'asc', s: null, t: '2026-11-22T10:00:00Z', e: "x' OR 1=1" }),
      raw,
      /is not a cursor/,
    ],
    ['bad ts', b64({ o: 'asc', s: null, t: 'now', e: eventId }), raw, /is not a cursor/],
    ['too long', 'A'.repeat(600), raw, /is not a cursor/],
  ] as const)('rejects %s', (_name, text, scope, message) => {
    const p = problemOf(() => decodeObsCursor(text, scope));
    expect(p.message).toMatch(/^after /);
    expect(p.message).toMatch(message);
  });

  it('canonicalizes the cursor time', () => {
    const text = b64({ o: 'asc', s: null, t: '2026-11-22T19:00:00+09:00', e: eventId });
    expect(decodeObsCursor(text, raw).ts).toBe('2026-11-22T10:00:00.000000Z');
  });
});
