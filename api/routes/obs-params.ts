// SPDX-License-Identifier: MIT
// Pure parsing of GET /v1/targets/{id}/obs query parameters into an ObsQuery, and the opaque paging
// cursor. Every rejection is a 400 that names the parameter and the rule it broke.
import { RequestRejectedError } from '../../errors/index.js';
import {
  downsamplePointsMax,
  downsamplePointsMin,
  type ObsAgg,
  type ObsCursor,
  type ObsQuery,
  obsAggs,
} from '../../projections/index.js';
import {
  fieldNameLengthMax,
  fieldNameProblem,
  InvalidTimestampError,
  isUuid,
  microsToIso,
  parseTimestampMicros,
} from '../../schemas/index.js';

export const obsFieldsMax = 64;
export const obsFieldNameLengthMax = fieldNameLengthMax;
export const obsBucketSecondsMin = 1;
export const obsBucketSecondsMax = 31 * 86_400;
export const obsLimitMin = 1;
export const obsLimitMax = 10_000;
export const obsLimitDefault = 1000;
/** Bucketed queries without `from` cover the last 24 h. */
export const obsDefaultRangeMicros = 24 * 3600 * 1_000_000;
/** Buckets × fields in one page; a page with many fields holds fewer buckets (follow `next`). */
export const obsBucketCellsMax = 100_000;
export const obsCursorLengthMax = 512;

export const obsDefaultAggs: readonly ObsAgg[] = ['avg', 'min', 'max', 'count', 'last'];
export const bucketPattern = /^(\d+)(s|m|h|d)$/;
const unitSeconds: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };
const epochMillisPattern = /^-?\d+(\.\d+)?$/;

/** The query string as Fastify hands it over (limit coerced to an integer by the route schema). */
export interface ObsQuerystring {
  readonly from?: string;
  readonly to?: string;
  readonly fields?: string;
  readonly bucket?: string;
  readonly agg?: string;
  readonly limit?: number;
  readonly order?: 'asc' | 'desc';
  readonly after?: string;
  readonly points?: number;
}

/** An ObsQuery without its target, plus the effective range to echo in the response. */
export type ObsParams = Omit<ObsQuery, 'targetId'> & {
  /** Downsampled mode (projections' queryObsPoints instead of queryObs). */
  readonly points?: number;
};

export function invalidParam(name: string, rule: string): RequestRejectedError {
  return new RequestRejectedError('INVALID_PARAMETER', `${name} ${rule}`);
}

/**
 * Field names: comma-separated (`temp,온도`), or a JSON array of strings for names holding a comma
 * (`["a,b","Temp (°C)"]`); undefined when absent or empty. Duplicates are dropped.
 */
export function parseFields(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const names = [...new Set(splitFields(raw))].filter((s) => s !== '');
  if (names.length === 0) return undefined;
  if (names.length > obsFieldsMax)
    throw invalidParam('fields', `names ${names.length} fields; at most ${obsFieldsMax}`);
  for (const name of names) {
    const problem = fieldNameProblem(name, obsFieldNameLengthMax);
    if (problem !== undefined) {
      throw invalidParam('fields', `'${name.slice(0, 20)}${name.length > 20 ? '…' : ''}' ${problem}`);
    }
  }
  return names;
}

function splitFields(raw: string): string[] {
  if (!raw.trimStart().startsWith('[')) return raw.split(',').map((s) => s.trim());
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidParam('fields', 'starts with [ but is not a JSON array of field names');
  }
  if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'string')) {
    throw invalidParam('fields', 'starts with [ but is not a JSON array of strings');
  }
  return parsed as string[];
}

/** `10s`, `5m`, `1h`, `1d` … between 1 s and 31 d. */
export function parseBucket(raw: string | undefined): { seconds: number; text: string } | undefined {
  if (raw === undefined) return undefined;
  const m = bucketPattern.exec(raw);
  if (!m) throw invalidParam('bucket', `'${raw.slice(0, 20)}' is not a duration like 10s, 5m, 1h or 1d`);
  const seconds = Number(m[1]) * unitSeconds[m[2]!]!;
  if (seconds < obsBucketSecondsMin || seconds > obsBucketSecondsMax) {
    throw invalidParam('bucket', `must be between 1s and 31d, got ${raw}`);
  }
  return { seconds, text: raw };
}

/** Comma-separated aggregates; only with a bucket, which defaults them to avg,min,max,count,last. */
export function parseAggs(raw: string | undefined, bucketed: boolean): ObsAgg[] | undefined {
  if (raw === undefined) return bucketed ? [...obsDefaultAggs] : undefined;
  if (!bucketed) throw invalidParam('agg', 'needs bucket (aggregates are computed per time bucket)');
  const names = [...new Set(raw.split(',').map((s) => s.trim()))].filter((s) => s !== '');
  if (names.length === 0) return [...obsDefaultAggs];
  for (const name of names) {
    if (!(obsAggs as readonly string[]).includes(name)) {
      throw invalidParam('agg', `'${name.slice(0, 20)}' is not one of ${obsAggs.join(', ')}`);
    }
  }
  return names as ObsAgg[];
}

/** An ISO-8601 time with a zone, or epoch milliseconds, as microseconds. */
export function parseTimeParam(raw: string, name: 'from' | 'to'): number {
  const value = epochMillisPattern.test(raw) ? Number(raw) : raw;
  try {
    return parseTimestampMicros(value, name);
  } catch (err) {
    // The message already names the parameter (parseTimestampMicros was told `name`).
    if (err instanceof InvalidTimestampError)
      throw new RequestRejectedError('INVALID_PARAMETER', err.message);
    throw err;
  }
}

/** Origin of the bucket grid (2000-01-01T00:00:00Z, as date_bin is called with), in µs. */
const bucketOriginMicros = Date.UTC(2000, 0, 1) * 1000;

/**
 * The effective [from, to) in microseconds. Bucketed without `from`: the 24 h before `to` (default now),
 * from the start of the bucket holding that instant, so the first bucket is whole.
 */
export function parseRange(
  rawFrom: string | undefined,
  rawTo: string | undefined,
  bucketSeconds: number | undefined,
  nowMicros: number,
): { from?: number; to?: number } {
  let to = rawTo === undefined ? undefined : parseTimeParam(rawTo, 'to');
  let from = rawFrom === undefined ? undefined : parseTimeParam(rawFrom, 'from');
  if (bucketSeconds !== undefined && from === undefined) {
    to ??= nowMicros;
    const width = bucketSeconds * 1_000_000;
    const start = to - obsDefaultRangeMicros;
    from = Math.max(0, bucketOriginMicros + Math.floor((start - bucketOriginMicros) / width) * width);
  }
  if (from !== undefined && to !== undefined && from > to) {
    throw invalidParam('from', `(${microsToIso(from)}) is after to (${microsToIso(to)})`);
  }
  return { from, to };
}

export function parseLimit(raw: number | undefined): number {
  if (raw === undefined) return obsLimitDefault;
  if (!Number.isInteger(raw) || raw < obsLimitMin || raw > obsLimitMax) {
    throw invalidParam('limit', `must be an integer from ${obsLimitMin} to ${obsLimitMax}`);
  }
  return raw;
}

/** Parses and cross-checks the whole query string. */
export function parseObsParams(qs: ObsQuerystring, nowMicros: number): ObsParams {
  const fields = parseFields(qs.fields);
  const bucket = parseBucket(qs.bucket);
  const aggs = parseAggs(qs.agg, bucket !== undefined);
  if (bucket !== undefined && fields === undefined) {
    throw invalidParam(
      'fields',
      'is required with bucket: name the fields to aggregate, e.g. fields=temp,humidity',
    );
  }
  const points = parsePoints(qs, bucket !== undefined, fields !== undefined);
  // Downsampled: the range is whole, as for buckets (the last 24 h by default, on a 1 s grid).
  const gridSeconds = bucket?.seconds ?? (points === undefined ? undefined : 1);
  const rawTo = points !== undefined && qs.from !== undefined ? (qs.to ?? String(nowMicros / 1000)) : qs.to;
  const { from, to } = parseRange(qs.from, rawTo, gridSeconds, nowMicros);
  if (points !== undefined && from === to) throw invalidParam('from', 'must be before to with points');
  const order = qs.order ?? 'asc';
  if (order !== 'asc' && order !== 'desc') throw invalidParam('order', 'must be asc or desc');
  const limit = parseLimit(qs.limit);
  const cursorScope = { order, bucketSeconds: bucket?.seconds };
  return {
    fromIso: from === undefined ? undefined : microsToIso(from),
    toIso: to === undefined ? undefined : microsToIso(to),
    fields,
    bucket,
    aggs,
    // Many fields per bucket make big pages: fewer buckets per page, the rest via `next`.
    limit:
      bucket === undefined
        ? limit
        : Math.max(1, Math.min(limit, Math.floor(obsBucketCellsMax / fields!.length))),
    order,
    after: qs.after === undefined ? undefined : decodeObsCursor(qs.after, cursorScope),
    ...(points === undefined ? {} : { points }),
  };
}

/** `points=N`: min/max per pixel column; a whole picture, so no bucket, paging or aggregates. */
export function parsePoints(qs: ObsQuerystring, bucketed: boolean, hasFields: boolean): number | undefined {
  const n = qs.points;
  if (n === undefined) return undefined;
  if (!Number.isInteger(n) || n < downsamplePointsMin || n > downsamplePointsMax) {
    throw invalidParam('points', `must be an integer from ${downsamplePointsMin} to ${downsamplePointsMax}`);
  }
  if (bucketed) throw invalidParam('points', 'cannot be combined with bucket: choose one way to downsample');
  if (qs.after !== undefined || qs.agg !== undefined || qs.order === 'desc') {
    throw invalidParam('points', 'returns the whole range at once: leave out after, agg and order=desc');
  }
  if (!hasFields) throw invalidParam('fields', 'is required with points: name the numeric fields to draw');
  return n;
}

// ── cursor ──────────────────────────────────────────────────────────────────

/** What a cursor is valid for: a page of the same order and the same bucket size (or raw mode). */
export interface CursorScope {
  readonly order: 'asc' | 'desc';
  readonly bucketSeconds: number | undefined;
}

interface CursorBody {
  readonly o: 'asc' | 'desc';
  readonly s: number | null;
  readonly t: string;
  readonly e?: string;
}

/** base64url JSON: opaque to clients, and bound to the order and bucket size it was made for. */
export function encodeObsCursor(cursor: ObsCursor, scope: CursorScope): string {
  const body: CursorBody = {
    o: scope.order,
    s: scope.bucketSeconds ?? null,
    t: cursor.ts,
    ...(cursor.eventId === undefined ? {} : { e: cursor.eventId }),
  };
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

export function decodeObsCursor(text: string, scope: CursorScope): ObsCursor {
  const body = readCursorBody(text);
  if (body.o !== scope.order || body.s !== (scope.bucketSeconds ?? null)) {
    throw invalidParam('after', 'was issued for a different order or bucket; repeat the query without after');
  }
  if (scope.bucketSeconds === undefined && body.e === undefined) throw malformedCursor();
  return body.e === undefined ? { ts: body.t } : { ts: body.t, eventId: body.e };
}

function readCursorBody(text: string): CursorBody {
  if (text.length > obsCursorLengthMax || !/^[A-Za-z0-9_-]+$/.test(text)) throw malformedCursor();
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw malformedCursor();
  }
  const b = body as Partial<CursorBody> | null;
  const validScope = (b?.o === 'asc' || b?.o === 'desc') && (b.s === null || Number.isInteger(b.s));
  if (!validScope || typeof b.t !== 'string' || (b.e !== undefined && !isUuid(b.e))) throw malformedCursor();
  return { o: b.o!, s: b.s!, t: canonicalIso(b.t), ...(b.e === undefined ? {} : { e: b.e }) };
}

function canonicalIso(ts: string): string {
  try {
    return microsToIso(parseTimestampMicros(ts, 'after'));
  } catch {
    throw malformedCursor();
  }
}

function malformedCursor(): RequestRejectedError {
  return invalidParam(
    'after',
    'is not a cursor this endpoint issued; pass the `next` value of a previous page',
  );
}
