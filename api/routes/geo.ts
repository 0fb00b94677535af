// SPDX-License-Identifier: MIT
// Geo: GET /v1/geo/near (targets whose latest position lies within a radius, nearest first) and
// GET /v1/targets/{id}/trace (a target's position history in time order).
import type { FastifyInstance } from 'fastify';
import { RequestRejectedError } from '../../errors/index.js';
import { radiusMetersMax, ruleKindPattern } from '../../processors/index.js';

/** The smallest radius of /v1/geo/near, metres. */
export const radiusMetersMin = 0.001;

import { getTarget, queryNear, queryTrace } from '../../projections/index.js';
import { microsToIso, nowMicros } from '../../schemas/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';
import { decodeObsCursor, encodeObsCursor, obsCursorLengthMax, parseRange } from './obs-params.js';
import { idParamsSchema, limitSchema, uuidSchema } from './shared.js';

export const nearLimitMax = 1000;
export const nearLimitDefault = 100;
export const traceLimitMax = 10_000;
export const traceLimitDefault = 1000;

const timeParam = (what: string) =>
  ({
    type: 'string',
    maxLength: 64,
    description: `${what}: ISO-8601 with a time zone (\`2026-11-22T10:00:00Z\`) or epoch milliseconds.`,
  }) as const;

const positionProperties = {
  ts: { type: 'string', format: 'date-time', description: 'Observation time of the position.' },
  event_id: uuidSchema,
  lat: { type: 'number', description: 'Degrees, −90…90.' },
  lon: { type: 'number', description: 'Degrees, −180…180.' },
  alt: { type: ['number', 'null'] },
  speed: { type: ['number', 'null'] },
  heading: { type: ['number', 'null'] },
  accuracy: { type: ['number', 'null'] },
} as const;

/** A position as the target read and the trace show it. */
export const positionSchema = {
  type: 'object',
  description:
    'A position: `lat`, `lon` and what else the event carried (`alt`, `speed`, `heading`, `accuracy`).',
  required: ['ts', 'event_id', 'lat', 'lon'],
  properties: positionProperties,
} as const;

const nearTargetSchema = {
  type: 'object',
  required: ['target_id', 'name', 'kind', 'distance_m', ...positionSchema.required],
  properties: {
    target_id: uuidSchema,
    name: { type: 'string' },
    kind: { type: 'string' },
    distance_m: { type: 'number', description: 'Great-circle distance from the centre, metres.' },
    ...positionProperties,
  },
} as const;

export function registerGeoRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerNear(app, ctx);
  registerTrace(app, ctx);
}

function registerNear(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: { lat: number; lon: number; radius_m: number; kind?: string; limit: number } }>(
    '/v1/geo/near',
    {
      schema: {
        tags: ['geo'],
        summary: 'Targets near a point',
        description:
          "Targets whose latest position lies within `radius_m` metres of (`lat`, `lon`), nearest first, with the distance. Great-circle distances on earthdistance's sphere (radius 6,378,168 m); the GiST index on `target_position` answers the bounding-box prefilter.",
        querystring: {
          type: 'object',
          required: ['lat', 'lon', 'radius_m'],
          additionalProperties: false,
          properties: {
            lat: {
              type: 'number',
              minimum: -90,
              maximum: 90,
              description: 'Latitude of the centre, degrees.',
            },
            lon: {
              type: 'number',
              minimum: -180,
              maximum: 180,
              description: 'Longitude of the centre, degrees.',
            },
            radius_m: {
              type: 'number',
              // Smaller radii underflow earthdistance's earth_box (22003); a millimetre is plenty.
              minimum: radiusMetersMin,
              maximum: radiusMetersMax,
              description: `Radius in metres, at least ${radiusMetersMin} and at most ${radiusMetersMax} (half the earth's circumference).`,
            },
            kind: {
              type: 'string',
              pattern: ruleKindPattern.source,
              description: 'Only targets of this kind.',
            },
            limit: limitSchema(nearLimitMax, nearLimitDefault),
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['lat', 'lon', 'radius_m', 'targets'],
            properties: {
              lat: { type: 'number' },
              lon: { type: 'number' },
              radius_m: { type: 'number' },
              targets: { type: 'array', items: nearTargetSchema },
            },
          },
          ...problemResponses(400),
        },
      },
    },
    async (req) => {
      const { lat, lon, radius_m: radiusMeters, kind, limit } = req.query;
      const targets = await queryNear(ctx.pool, { lat, lon, radiusMeters, kind, limit });
      return { lat, lon, radius_m: radiusMeters, targets };
    },
  );
}

function registerTrace(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{
    Params: { id: string };
    Querystring: { from?: string; to?: string; limit: number; order: 'asc' | 'desc'; after?: string };
  }>(
    '/v1/targets/:id/trace',
    {
      schema: {
        tags: ['geo'],
        summary: "A target's position history",
        description:
          'Positions in observation-time order, [from, to), paged by `limit`; pass `next` as `after` for the following page.',
        params: idParamsSchema,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            from: timeParam('Inclusive start'),
            to: timeParam('Exclusive end'),
            limit: limitSchema(traceLimitMax, traceLimitDefault),
            order: { type: 'string', enum: ['asc', 'desc'], default: 'asc' },
            after: {
              type: 'string',
              maxLength: obsCursorLengthMax,
              description: 'The `next` of the previous page.',
            },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['target_id', 'from', 'to', 'points'],
            properties: {
              target_id: uuidSchema,
              from: { type: ['string', 'null'], format: 'date-time' },
              to: { type: ['string', 'null'], format: 'date-time' },
              points: { type: 'array', items: positionSchema },
              next: { type: 'string', description: 'Cursor of the next page; absent on the last.' },
            },
          },
          ...problemResponses(400, 404),
        },
      },
    },
    async (req) => {
      const { order, limit } = req.query;
      const range = parseRange(req.query.from, req.query.to, undefined, nowMicros());
      const scope = { order, bucketSeconds: undefined };
      const after = req.query.after === undefined ? undefined : decodeObsCursor(req.query.after, scope);
      const target = await getTarget(ctx.pool, req.params.id);
      if (target === undefined)
        throw new RequestRejectedError('TARGET_NOT_FOUND', `no target ${req.params.id}`);
      const fromIso = range.from === undefined ? undefined : microsToIso(range.from);
      const toIso = range.to === undefined ? undefined : microsToIso(range.to);
      const page = await queryTrace(ctx.pool, {
        targetId: target.target_id,
        fromIso,
        toIso,
        order,
        limit,
        after: after === undefined ? undefined : { ts: after.ts, eventId: after.eventId! },
      });
      return {
        target_id: target.target_id,
        from: fromIso ?? null,
        to: toIso ?? null,
        points: page.rows,
        ...(page.next === undefined ? {} : { next: encodeObsCursor(page.next, scope) }),
      };
    },
  );
}
