// SPDX-License-Identifier: MIT
// GET /v1/positions: every target's latest position, paged by target_id (a fleet map loads this once,
// then follows /tmi/ws). /v1/geo/near answers "what is near here"; this answers "where is everything".
import type { FastifyInstance } from 'fastify';
import { listPositions } from '../../projections/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';
import { limitSchema, pageSchema, paginate, uuidSchema } from './shared.js';
import { targetKindPattern } from './targets.js';

export const positionListLimitMax = 10_000;
export const positionListLimitDefault = 1000;

const positionItemSchema = {
  type: 'object',
  required: ['target_id', 'name', 'kind', 'ts', 'lat', 'lon'],
  properties: {
    target_id: uuidSchema,
    name: { type: 'string' },
    kind: { type: 'string' },
    ts: { type: 'string', format: 'date-time' },
    lat: { type: 'number' },
    lon: { type: 'number' },
  },
} as const;

export function registerPositionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: { kind?: string; after?: string; limit: number } }>(
    '/v1/positions',
    {
      schema: {
        tags: ['geo'],
        summary: "Every target's latest position",
        description: 'In target_id order; pass `next` as `after` for the following page.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            kind: { type: 'string', pattern: targetKindPattern },
            after: uuidSchema,
            limit: limitSchema(positionListLimitMax, positionListLimitDefault),
          },
        },
        response: {
          200: pageSchema('positions', positionItemSchema, uuidSchema),
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (req) => {
      const { kind, after, limit } = req.query;
      const rows = await listPositions(ctx.pool, { kind, after, limit: limit + 1 });
      const { items, ...next } = paginate(rows, limit, (last) => last.target_id);
      return { positions: items, ...next };
    },
  );
}
