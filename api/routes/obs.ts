// SPDX-License-Identifier: MIT
// GET /v1/targets/{id}/obs: a target's time series, raw (keyset-paged) or downsampled into buckets.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { RequestRejectedError } from '../../errors/index.js';
import { AliasIndex } from '../../processors/index.js';
import {
  getTarget,
  loadAliases,
  type ObsResult,
  type ObsSeries,
  obsAggs,
  queryObsPointsRolledUp,
  queryObsRolledUp,
} from '../../projections/index.js';
import { nowMicros } from '../../schemas/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';
import {
  bucketPattern,
  encodeObsCursor,
  type ObsParams,
  type ObsQuerystring,
  obsBucketCellsMax,
  obsCursorLengthMax,
  obsFieldNameLengthMax,
  obsFieldsMax,
  obsLimitDefault,
  obsLimitMax,
  obsLimitMin,
  parseObsParams,
} from './obs-params.js';
import { obsPointsParamSchema, obsSeriesSchema } from './obs-points-schema.js';
import { idParamsSchema } from './shared.js';

const timeParamDescription =
  'ISO-8601 with a time zone (`2026-11-22T10:00:00Z`, `…+09:00`) or epoch milliseconds (`1795345200000`).';

export const obsQuerystringSchema = {
  type: 'object',
  properties: {
    from: { type: 'string', maxLength: 64, description: `Inclusive start. ${timeParamDescription}` },
    to: { type: 'string', maxLength: 64, description: `Exclusive end. ${timeParamDescription}` },
    fields: {
      type: 'string',
      maxLength: obsFieldsMax * (obsFieldNameLengthMax + 3) + 2,
      description: `Comma-separated top-level field names (at most ${obsFieldsMax}, each ≤ ${obsFieldNameLengthMax} characters of any kind but control characters; a JSON array \`["a,b","온도"]\` for names holding a comma). Raw mode: each row's data holds only these fields, and events holding none of them are skipped. Required with bucket.`,
    },
    bucket: {
      type: 'string',
      pattern: bucketPattern.source,
      description:
        'Downsample into buckets of this width (`10s`, `1m`, `5m`, `1h`, `1d`; 1 s to 31 d), aligned to 2000-01-01T00:00:00Z. Without `from`, the last 24 h.',
    },
    agg: {
      type: 'string',
      description: `Comma-separated aggregates per field and bucket, from ${obsAggs.join(', ')}; default avg,min,max,count,last. Only with bucket.`,
    },
    limit: {
      type: 'integer',
      minimum: obsLimitMin,
      maximum: obsLimitMax,
      default: obsLimitDefault,
      description: `Rows (raw) or buckets per page. With buckets, a page holds at most ${obsBucketCellsMax} bucket × field cells.`,
    },
    order: { type: 'string', enum: ['asc', 'desc'], default: 'asc', description: 'By time.' },
    after: {
      type: 'string',
      maxLength: obsCursorLengthMax,
      description: 'The `next` cursor of the previous page (same query otherwise).',
    },
    points: obsPointsParamSchema,
  },
} as const;

const rawRowSchema = {
  type: 'object',
  description: 'One observation (raw mode).',
  required: ['ts', 'event_id', 'data'],
  properties: {
    ts: { type: 'string', format: 'date-time', description: 'Observation time, UTC, microseconds.' },
    event_id: { type: 'string', format: 'uuid' },
    data: {
      type: 'object',
      additionalProperties: true,
      description: 'The normalized data (masked to `fields`).',
    },
  },
} as const;

const fieldAggregatesSchema = {
  type: 'object',
  description: 'The requested aggregates of one field in one bucket.',
  properties: {
    avg: { type: ['number', 'null'], description: 'Mean of the numeric values; null if none.' },
    min: { type: ['number', 'null'] },
    max: { type: ['number', 'null'] },
    sum: { type: ['number', 'null'] },
    count: { type: 'integer', description: 'Events in the bucket holding the field (any type).' },
    first: { description: 'Value (any JSON) at the earliest observation of the bucket.' },
    last: { description: 'Value (any JSON) at the latest observation of the bucket.' },
  },
} as const;

const bucketRowSchema = {
  type: 'object',
  description: 'One time bucket (bucketed mode); buckets without data are left out.',
  required: ['bucket_start', 'fields'],
  properties: {
    bucket_start: { type: 'string', format: 'date-time' },
    fields: {
      type: 'object',
      additionalProperties: fieldAggregatesSchema,
      description: 'Every requested field.',
    },
  },
} as const;

export const obsResponseSchema = {
  type: 'object',
  description: 'One page of the series.',
  required: ['target_id', 'from', 'to'],
  properties: {
    target_id: { type: 'string', format: 'uuid' },
    from: {
      type: ['string', 'null'],
      format: 'date-time',
      description: 'Effective inclusive start; null: unbounded.',
    },
    to: {
      type: ['string', 'null'],
      format: 'date-time',
      description: 'Effective exclusive end; null: unbounded.',
    },
    bucket: { type: 'string', description: 'The bucket width, when bucketed.' },
    aliases: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description:
        'Names in `fields` the normalizer has mapped, each with the canonical field it resolved to.',
    },
    rows: {
      type: 'array',
      items: { anyOf: [rawRowSchema, bucketRowSchema] },
      description: 'Raw and bucketed modes.',
    },
    points: { type: 'integer', description: 'Downsampled mode: the `points` asked for.' },
    series: obsSeriesSchema,
    next: {
      type: 'string',
      description: 'Cursor of the next page (pass as `after`); absent on the last page.',
    },
  },
} as const;

/** The 200 schema with `rows` narrowed to raw rows: what a raw page is serialized with (see setObsSerializer). */
const rawPageSchema = {
  ...obsResponseSchema,
  properties: {
    ...obsResponseSchema.properties,
    rows: { ...obsResponseSchema.properties.rows, items: rawRowSchema },
  },
};

/**
 * How a page of /obs is written. With the documented `anyOf` rows, fast-json-stringify validated every row
 * against the raw schema before the bucket one (8–14 ms of a day by minute's 1,440 rows). Bucket pages are
 * built in the schema's property order with nothing outside it, so JSON.stringify writes the very bytes the
 * schema's serializer wrote (test/unit/api/obs-serialization.test.ts holds them equal) in a third of the
 * time; raw pages (free-form `data`) keep a schema serializer, narrowed to raw rows.
 */
export function setObsSerializer(reply: FastifyReply, mode: 'raw' | 'bucket' | 'points'): void {
  if (mode === 'points') return;
  // Fastify sets the JSON content type itself only for its own serializer.
  reply.type('application/json; charset=utf-8');
  reply.serializer(
    mode === 'bucket' ? JSON.stringify : reply.compileSerializationSchema(rawPageSchema, '200'),
  );
}

export function registerObsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { id: string }; Querystring: ObsQuerystring }>(
    '/v1/targets/:id/obs',
    {
      schema: {
        tags: ['series'],
        summary: "A target's time series",
        description:
          'Raw mode (no `bucket`): observations in time order, `data` masked to `fields`, paged by `limit` and `after`. ' +
          'Bucketed mode: per bucket and field, the requested aggregates; avg/min/max/sum over numeric values only, ' +
          'count of events holding the field, first/last values of any type. ' +
          'Downsampled mode (`points=N`, for charts): per field at most N points, the lowest and highest value of ' +
          'each of at most N/2 equal time columns, in `series` instead of `rows`. The range is [from, to). ' +
          'Buckets of whole minutes or hours, and columns of a minute or more, are answered from rollups ' +
          'maintained by the pipeline, combined with raw rows at partial edges: the same answer as the raw rows.',
        params: idParamsSchema,
        querystring: obsQuerystringSchema,
        response: { 200: obsResponseSchema, ...problemResponses(400, 404, 503) },
      },
    },
    async (req, reply) => {
      const asked = parseObsParams(req.query, nowMicros());
      // The target and the alias rules at once (one round trip's wait, not two).
      const [target, aliasRows] = await Promise.all([
        getTarget(ctx.pool, req.params.id),
        asked.fields === undefined ? undefined : loadAliases(ctx.pool),
      ]);
      if (target === undefined)
        throw new RequestRejectedError('TARGET_NOT_FOUND', `no target ${req.params.id}`);
      // Names the normalizer mapped resolve to their canonical fields (the answer says so in `aliases`).
      const aliases =
        asked.fields === undefined || aliasRows === undefined
          ? undefined
          : new AliasIndex(aliasRows).resolve(target.kind, asked.fields);
      const params = aliases === undefined ? asked : { ...asked, fields: aliases.names };
      const result = await runObsQuery(ctx, target.target_id, params);
      const resolved =
        aliases === undefined || Object.keys(aliases.resolved).length === 0 ? undefined : aliases.resolved;
      setObsSerializer(reply, result.mode);
      return toObsResponse(target.target_id, params, result, resolved);
    },
  );
}

/** The series the parameters ask for: raw, bucketed or downsampled to `points`. */
export async function runObsQuery(
  ctx: ApiContext,
  targetId: string,
  params: ObsParams,
): Promise<ObsResult | ObsPointsResult> {
  // Whole minutes and hours come from the rollups (identical to the raw rows; ADR 0027).
  if (params.points === undefined) return queryObsRolledUp(ctx.pool, { targetId, ...params });
  const { fromIso, toIso, fields, points } = params;
  const series = await queryObsPointsRolledUp(ctx.pool, {
    targetId,
    fromIso: fromIso!,
    toIso: toIso!,
    fields: fields!,
    points,
  });
  return { mode: 'points', series };
}

export interface ObsPointsResult {
  readonly mode: 'points';
  readonly series: ObsSeries;
}

/** The answer, its properties in the order of obsResponseSchema (setObsSerializer relies on it). */
export function toObsResponse(
  targetId: string,
  params: ObsParams,
  result: ObsResult | ObsPointsResult,
  aliases?: Readonly<Record<string, string>>,
) {
  const head = {
    target_id: targetId,
    from: params.fromIso ?? null,
    to: params.toIso ?? null,
    ...(params.bucket === undefined ? {} : { bucket: params.bucket.text }),
    ...(aliases === undefined ? {} : { aliases }),
  };
  if (result.mode === 'points') return { ...head, points: params.points, series: result.series };
  const scope = { order: params.order, bucketSeconds: params.bucket?.seconds };
  return {
    ...head,
    rows: result.rows,
    ...(result.next === undefined ? {} : { next: encodeObsCursor(result.next, scope) }),
  };
}
