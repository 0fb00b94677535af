// SPDX-License-Identifier: MIT
// GET /v1/positions: every target's latest position, paged by target_id (a fleet map loads this once,
// then follows /tmi/ws). /v1/geo/near answers "what is near here"; this answers "where is everything".
import type { FastifyInstance } from 'fastify';
import { listPositions } from '../../projections/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';
import { targetKindPattern } from './targets.js';

export const positionListLimitMax = 10_000;
export const positionListLimitDefault = 1000;

const uuidSchema = { type: 'string', format: 'uuid' } as const;

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
            limit: {
              type: 'integer',
              minimum: 1,
              maximum: positionListLimitMax,
              default: positionListLimitDefault,
            },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['positions'],
            properties: {
              positions: {
                type: 'array',
                items: {
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
                },
              },
              next: uuidSchema,
            },
          },
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (req) => {
      const { kind, after, limit } = req.query;
      const rows = await listPositions(ctx.pool, { kind, after, limit: limit + 1 });
      const page = rows.slice(0, limit);
      return { positions: page, ...(rows.length > limit ? { next: page[page.length - 1]!.target_id } : {}) };
    },
  );
}
