// SPDX-License-Identifier: MIT
// Targets: create, list (cursor pagination), read with latest state, change name/meta, delete.
import type { FastifyInstance } from 'fastify';
import { isUniqueViolation } from '../../db/index.js';
import { RequestRejectedError } from '../../errors/index.js';
import {
  deleteTarget,
  getTargetRead,
  insertTarget,
  listTargets,
  targetStates,
  updateTarget,
} from '../../projections/index.js';
import { uuidv7 } from '../../schemas/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';
import { positionSchema } from './geo.js';
import {
  boundedNameSchema,
  idParamsSchema,
  limitSchema,
  pageSchema,
  paginate,
  uuidSchema,
} from './shared.js';

/** Limits of a target's description. */
export const targetNameLengthMax = 200;
export const targetKindPattern = '^[A-Za-z_][A-Za-z0-9_-]{0,63}$';
export const targetMetaBytesMax = 16 * 1024;
export const targetListLimitMax = 1000;

const metaSchema = {
  type: 'object',
  additionalProperties: true,
  description: 'Free-form JSON attributes (≤ 16 KiB).',
} as const;
const targetSchema = {
  type: 'object',
  required: ['target_id', 'name', 'kind', 'meta', 'created_at', 'updated_at'],
  properties: {
    target_id: uuidSchema,
    name: { type: 'string' },
    kind: { type: 'string' },
    meta: metaSchema,
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;
const stateSchema = {
  type: 'object',
  description: 'Latest value and observation time of every field: {field: {value, ts}}.',
  additionalProperties: {
    type: 'object',
    properties: { value: {}, ts: { type: 'string', format: 'date-time' } },
  },
} as const;

function checkMeta(meta: unknown): void {
  if (meta !== undefined && Buffer.byteLength(JSON.stringify(meta)) > targetMetaBytesMax) {
    throw new RequestRejectedError('META_TOO_LARGE', `meta is larger than ${targetMetaBytesMax} bytes`);
  }
}

// ── list filters (name, meta) and the state of each listed target ──────────
export const targetNameFilterLengthMax = 200;
export const targetMetaFilterBytesMax = 1024;

interface TargetListQuerystring {
  readonly kind?: string;
  readonly after?: string;
  readonly limit: number;
  readonly name?: string;
  readonly meta?: string;
  readonly state?: boolean;
}

const targetFilterParams = {
  name: {
    type: 'string',
    maxLength: targetNameFilterLengthMax,
    description: 'Only targets whose name contains this text (case-insensitive).',
  },
  meta: {
    type: 'string',
    maxLength: targetMetaFilterBytesMax,
    description: 'Only targets whose meta contains this JSON object, e.g. `{"site":"plant-1"}`.',
  },
  state: { type: 'boolean', default: false, description: "Include each target's latest state." },
} as const;

const listedTargetSchema = {
  ...targetSchema,
  properties: { ...targetSchema.properties, state: stateSchema },
} as const;

function parseMetaFilter(raw: string | undefined): Record<string, unknown> | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  let meta: unknown;
  try {
    meta = JSON.parse(raw);
  } catch {
    throw new RequestRejectedError(
      'INVALID_PARAMETER',
      'meta must be a JSON object, e.g. {"site":"plant-1"}',
    );
  }
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    throw new RequestRejectedError(
      'INVALID_PARAMETER',
      'meta must be a JSON object, e.g. {"site":"plant-1"}',
    );
  }
  return meta as Record<string, unknown>;
}

async function withStates<T extends { target_id: string }>(ctx: ApiContext, page: readonly T[]) {
  const states = await targetStates(
    ctx.pool,
    page.map((t) => t.target_id),
  );
  return page.map((t) => ({ ...t, state: states.get(t.target_id) ?? {} }));
}

export function registerTargetRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerCreate(app, ctx);
  registerList(app, ctx);
  registerGet(app, ctx);
  registerPatch(app, ctx);
  registerDelete(app, ctx);
}

function registerCreate(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: { name: string; kind: string; meta?: Record<string, unknown>; target_id?: string } }>(
    '/v1/targets',
    {
      schema: {
        tags: ['targets'],
        summary: 'Create a target',
        body: {
          type: 'object',
          required: ['name', 'kind'],
          additionalProperties: false,
          properties: {
            name: boundedNameSchema(targetNameLengthMax),
            kind: {
              type: 'string',
              pattern: targetKindPattern,
              description: 'Its kind: the unit of schema versioning.',
            },
            meta: metaSchema,
            target_id: { ...uuidSchema, description: 'Optional: choose the id (else a UUIDv7 is made).' },
          },
        },
        response: { 201: targetSchema, ...problemResponses(400, 409, 413) },
      },
    },
    async (req, reply) => {
      checkMeta(req.body.meta);
      const targetId = (req.body.target_id ?? uuidv7()).toLowerCase();
      const row = await insertTarget(ctx.pool, {
        target_id: targetId,
        name: req.body.name,
        kind: req.body.kind,
        meta: req.body.meta ?? {},
      }).catch((err: unknown) => {
        if (isUniqueViolation(err))
          throw new RequestRejectedError('TARGET_EXISTS', `target ${targetId} already exists`);
        throw err;
      });
      ctx.targets.remember(row.target_id, row.kind);
      await ctx.notify('targets'); // listeners subscribed by kind (+ meta) see it from the next event
      return reply.code(201).header('location', `/v1/targets/${row.target_id}`).send(row);
    },
  );
}

function registerList(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: TargetListQuerystring }>(
    '/v1/targets',
    {
      schema: {
        tags: ['targets'],
        summary: 'List targets',
        description: 'In target_id order. Pass `next` of a page as `after` to get the following page.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            kind: { type: 'string', pattern: targetKindPattern },
            after: uuidSchema,
            limit: limitSchema(targetListLimitMax, 100),
            ...targetFilterParams,
          },
        },
        response: {
          200: pageSchema('targets', listedTargetSchema, uuidSchema),
          ...problemResponses(400),
        },
      },
    },
    async (req) => {
      const rows = await listTargets(ctx.pool, {
        kind: req.query.kind,
        after: req.query.after,
        limit: req.query.limit + 1,
        name: req.query.name,
        meta: parseMetaFilter(req.query.meta),
      });
      const { items, ...next } = paginate(rows, req.query.limit, (last) => last.target_id);
      return { targets: req.query.state ? await withStates(ctx, items) : items, ...next };
    },
  );
}

function registerGet(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { id: string } }>(
    '/v1/targets/:id',
    {
      schema: {
        tags: ['targets'],
        summary: 'A target with its latest state and position',
        params: idParamsSchema,
        response: {
          200: {
            ...targetSchema,
            required: [...targetSchema.required, 'state', 'position'],
            properties: {
              ...targetSchema.properties,
              state: stateSchema,
              position: {
                anyOf: [positionSchema, { type: 'null' }],
                description: 'The newest position (by observation time); null if none was seen.',
              },
            },
          },
          ...problemResponses(400, 404),
        },
      },
    },
    async (req) => {
      const read = await getTargetRead(ctx.pool, req.params.id);
      if (!read) throw new RequestRejectedError('TARGET_NOT_FOUND', `target ${req.params.id} does not exist`);
      return { ...read.target, state: read.state, position: read.position };
    },
  );
}

function registerPatch(app: FastifyInstance, ctx: ApiContext): void {
  app.patch<{ Params: { id: string }; Body: { name?: string; meta?: Record<string, unknown> } }>(
    '/v1/targets/:id',
    {
      schema: {
        tags: ['targets'],
        summary: "Change a target's name or meta (the kind never changes)",
        params: idParamsSchema,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            name: boundedNameSchema(targetNameLengthMax),
            meta: metaSchema,
          },
        },
        response: { 200: targetSchema, ...problemResponses(400, 404) },
      },
    },
    async (req) => {
      checkMeta(req.body.meta);
      const row = await updateTarget(ctx.pool, req.params.id, req.body);
      if (!row) throw new RequestRejectedError('TARGET_NOT_FOUND', `target ${req.params.id} does not exist`);
      if (req.body.meta !== undefined) await ctx.notify('targets');
      return row;
    },
  );
}

function registerDelete(app: FastifyInstance, ctx: ApiContext): void {
  app.delete<{ Params: { id: string } }>(
    '/v1/targets/:id',
    {
      schema: {
        tags: ['targets'],
        summary: 'Delete a target and its projections',
        description:
          'Its events stay in the streams and raw_bucket (the audit trail); its series and state are removed.',
        params: idParamsSchema,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problemResponses(400, 404) },
      },
    },
    async (req, reply) => {
      // Its files first: an object must never outlive the row that names it.
      await ctx.files?.removeTarget(req.params.id);
      if (!(await deleteTarget(ctx.pool, req.params.id))) {
        throw new RequestRejectedError('TARGET_NOT_FOUND', `target ${req.params.id} does not exist`);
      }
      ctx.targets.forget(req.params.id);
      await ctx.notify('targets');
      return reply.code(204).send();
    },
  );
}
