// SPDX-License-Identifier: MIT
// /v1/kinds: every kind with its versions, and the typed per-kind routes — unpinned (the latest version)
// and pinned (/v1/kinds/{kind}/v{n}/…). Fastify cannot add routes after listen, so these are
// parameterized routes; /openapi.json lists them per kind and version with typed schemas
// (api/openapi-kinds.ts, docs/adr/0018-versioned-kind-routes.md).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { RequestRejectedError } from '../../errors/index.js';
import { kindObsRows, kindStateRows, versionStatuses } from '../../projections/index.js';
import { compatibilities, microsToIso } from '../../schemas/index.js';
import type { ApiContext } from '../context.js';
import {
  chooseReader,
  type KindContract,
  loadKindContract,
  normalizedSuffix,
  notePin,
  type ReaderChoice,
  setLifecycleHeaders,
  typedObs,
  typedState,
} from '../kind-contract.js';
import { problemResponses } from '../problem.js';
import { parseTimeParam } from './obs-params.js';
import { limitSchema, paginate, uuidSchema } from './shared.js';
import { targetKindPattern, targetListLimitMax } from './targets.js';

export const kindObsLimitMax = 1000;
/** The `next` cursor of an observations page: `<ts as the API writes it>,<event_id>`. */
export const obsCursorPattern =
  '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z,[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const versionPattern = '^v[1-9][0-9]{0,8}$';

const kindParam = { type: 'string', pattern: targetKindPattern } as const;
const versionParam = { type: 'string', pattern: versionPattern, description: '`v1`, `v2`, …' } as const;

interface KindRequest {
  Params: { kind: string; version?: string; id?: string };
  Querystring: { after?: string; limit: number; from?: string; to?: string; order: 'asc' | 'desc' };
}

export const versionStatusSchema = {
  type: 'object',
  required: ['version', 'schema_id', 'status', 'deprecated_at', 'sunset_at', 'created_at'],
  properties: {
    version: { type: 'integer' },
    schema_id: { type: 'integer' },
    status: { type: 'string', enum: ['active', 'deprecated', 'retired'] },
    deprecated_at: { type: ['string', 'null'], format: 'date-time' },
    sunset_at: { type: ['string', 'null'], format: 'date-time' },
    created_at: { type: 'string', format: 'date-time' },
  },
} as const;

export function registerKindRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/v1/kinds',
    {
      schema: {
        tags: ['kinds'],
        summary: 'Kinds and their versions',
        description:
          "Every kind that has data, its compatibility mode and its versions (the shape readers see, after mapping rules) with each version's lifecycle.",
        response: {
          200: {
            type: 'object',
            required: ['kinds'],
            properties: {
              kinds: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['kind', 'compatibility', 'latest_version', 'versions'],
                  properties: {
                    kind: { type: 'string' },
                    compatibility: { type: 'string', enum: [...compatibilities] },
                    latest_version: { type: 'integer' },
                    versions: { type: 'array', items: versionStatusSchema },
                  },
                },
              },
            },
          },
          ...problemResponses(503),
        },
      },
    },
    async () => ({ kinds: await listKinds(ctx) }),
  );
  for (const prefix of ['/v1/kinds/:kind', '/v1/kinds/:kind/:version']) registerTypedRoutes(app, ctx, prefix);
}

/** Every kind with versions, as GET /v1/kinds lists them. */
export async function listKinds(ctx: ApiContext) {
  const subjects = await ctx.registry.list();
  const statuses = await versionStatuses(ctx.pool);
  const modes = new Map(subjects.map((s) => [s.subject, s.compatibility]));
  const out = [];
  for (const s of subjects) {
    if (!s.subject.endsWith(normalizedSuffix) || s.latestVersion === null) continue;
    const kind = s.subject.slice(0, -normalizedSuffix.length);
    const byVersion = new Map((statuses.get(kind) ?? []).map((v) => [v.version, v]));
    const versions = (await ctx.registry.versions(s.subject)).map((v) => ({
      version: v.version,
      schema_id: v.schemaId,
      status: byVersion.get(v.version)?.status ?? 'active',
      deprecated_at: byVersion.get(v.version)?.deprecated_at ?? null,
      sunset_at: byVersion.get(v.version)?.sunset_at ?? null,
      created_at: v.createdAt,
    }));
    out.push({
      kind,
      compatibility: modes.get(kind) ?? s.compatibility,
      latest_version: s.latestVersion,
      versions,
    });
  }
  return out;
}

function paramsSchema(prefix: string, withId: boolean) {
  const properties: Record<string, unknown> = { kind: kindParam };
  if (prefix.endsWith(':version')) properties.version = versionParam;
  if (withId) properties.id = uuidSchema;
  return { type: 'object', required: Object.keys(properties), properties };
}

const typedResponses = { ...problemResponses(400, 404, 410, 422, 503) };

function registerTypedRoutes(app: FastifyInstance, ctx: ApiContext, prefix: string): void {
  // Listed per kind and version by /openapi.json (typed), not in their generic form.
  app.get<KindRequest>(
    `${prefix}/targets`,
    {
      schema: {
        hide: true,
        params: paramsSchema(prefix, false),
        querystring: {
          type: 'object',
          properties: {
            after: uuidSchema,
            limit: limitSchema(targetListLimitMax, 100),
          },
        },
        response: typedResponses,
      },
    },
    async (req, reply) => {
      const { contract, choice } = await readerFor(ctx, req.params, reply);
      const rows = await kindStateRows(ctx.pool, {
        kind: contract.kind,
        after: req.query.after,
        limit: req.query.limit + 1,
      });
      const targets = await typedTargets(ctx, contract, choice, rows);
      const { items, ...next } = paginate(targets, req.query.limit, (last) => last.target_id);
      return { kind: contract.kind, version: choice.reader.version, targets: items, ...next };
    },
  );
  app.get<KindRequest>(
    `${prefix}/targets/:id`,
    { schema: { hide: true, params: paramsSchema(prefix, true), response: typedResponses } },
    async (req, reply) => {
      const { contract, choice } = await readerFor(ctx, req.params, reply);
      const rows = await kindStateRows(ctx.pool, { kind: contract.kind, targetId: req.params.id, limit: 1 });
      const [target] = await typedTargets(ctx, contract, choice, rows);
      if (target === undefined) throw targetNotFound(contract.kind, req.params.id!);
      return target;
    },
  );
  registerObsRoute(app, ctx, prefix);
}

function registerObsRoute(app: FastifyInstance, ctx: ApiContext, prefix: string): void {
  app.get<KindRequest>(
    `${prefix}/targets/:id/obs`,
    {
      schema: {
        hide: true,
        params: paramsSchema(prefix, true),
        querystring: {
          type: 'object',
          properties: {
            from: { type: 'string', maxLength: 64 },
            to: { type: 'string', maxLength: 64 },
            after: { type: 'string', maxLength: 128, pattern: obsCursorPattern },
            limit: limitSchema(kindObsLimitMax, 100),
            order: { type: 'string', enum: ['asc', 'desc'], default: 'asc' },
          },
        },
        response: typedResponses,
      },
    },
    async (req, reply) => {
      const { contract, choice } = await readerFor(ctx, req.params, reply);
      const exists = await kindStateRows(ctx.pool, {
        kind: contract.kind,
        targetId: req.params.id,
        limit: 1,
      });
      if (exists.length === 0) throw targetNotFound(contract.kind, req.params.id!);
      const q = req.query;
      const [afterTs, afterId] = q.after === undefined ? [] : q.after.split(',');
      if (afterTs !== undefined && !isApiTimestamp(afterTs)) {
        throw new RequestRejectedError(
          'INVALID_PARAMETER',
          'after is not a cursor this route gave (its time is invalid)',
        );
      }
      const rows = await kindObsRows(ctx.pool, {
        targetId: req.params.id!,
        fromIso: q.from === undefined ? undefined : microsToIso(parseTimeParam(q.from, 'from')),
        toIso: q.to === undefined ? undefined : microsToIso(parseTimeParam(q.to, 'to')),
        after: afterTs === undefined ? undefined : { ts: afterTs, eventId: afterId! },
        order: q.order,
        limit: q.limit,
      });
      const { items, ...next } = paginate(rows, q.limit, (last) => `${last.ts},${last.event_id}`);
      return {
        kind: contract.kind,
        version: choice.reader.version,
        target_id: req.params.id,
        obs: await typedObs(ctx.registry, choice.reader, items),
        ...next,
      };
    },
  );
}

async function readerFor(
  ctx: ApiContext,
  params: KindRequest['Params'],
  reply: FastifyReply,
): Promise<{ contract: KindContract; choice: ReaderChoice }> {
  const contract = await loadKindContract(ctx, params.kind);
  const choice = chooseReader(contract, params.version);
  setLifecycleHeaders(reply, contract.kind, choice);
  if (params.version !== undefined) notePin(ctx, contract.kind, choice.reader.version);
  return { contract, choice };
}

async function typedTargets(
  ctx: ApiContext,
  contract: KindContract,
  choice: ReaderChoice,
  rows: Awaited<ReturnType<typeof kindStateRows>>,
) {
  const byTarget = new Map<string, typeof rows>();
  for (const row of rows) byTarget.set(row.target_id, [...(byTarget.get(row.target_id) ?? []), row]);
  const out = [];
  for (const [targetId, targetRows] of byTarget) {
    const { state, ts } = await typedState(ctx.registry, choice.reader, targetRows);
    out.push({
      target_id: targetId,
      name: targetRows[0]!.name,
      kind: contract.kind,
      version: choice.reader.version,
      updated_at: ts,
      state,
    });
  }
  return out;
}

function targetNotFound(kind: string, id: string): RequestRejectedError {
  return new RequestRejectedError('TARGET_NOT_FOUND', `no target ${id} of kind '${kind}'`);
}

/** A time as the API writes it (2026-11-25T10:00:00.000000Z) that is a real instant. */
function isApiTimestamp(ts: string): boolean {
  const ms = Date.parse(ts);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) === ts.slice(0, 19);
}
