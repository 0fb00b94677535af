// SPDX-License-Identifier: MIT
// A listener's own endpoint: `/api/<listener>` — the current state of its targets with only its fields —,
// one target, and its time series masked the same way. A listener key reads only its own listener; a
// listener, target or field it may not read answers exactly as one that does not exist.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RequestRejectedError } from '../../errors/index.js';
import { compileIndex, type Grant, grantsFor, toSubscription } from '../../processors/index.js';
import {
  type ListenerRow,
  type ListenerTargetRow,
  listenerTargets,
  type ObsResult,
  targetStates,
} from '../../projections/index.js';
import { nowMicros } from '../../schemas/index.js';
import { mayReadListener, principalOfRequest } from '../auth/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';
import { findListener } from './listeners.js';
import {
  type ObsPointsResult,
  obsQuerystringSchema,
  obsResponseSchema,
  runObsQuery,
  setObsSerializer,
  toObsResponse,
} from './obs.js';
import { type ObsQuerystring, parseObsParams } from './obs-params.js';
import { limitSchema, paginate, uuidSchema } from './shared.js';

export const listenerTargetsLimitMax = 1000;

const listenerParam = {
  listener: { type: 'string', maxLength: 64, description: 'The listener’s name.' },
} as const;
const targetStateSchema = {
  type: 'object',
  required: ['target_id', 'name', 'kind', 'state'],
  properties: {
    target_id: uuidSchema,
    name: { type: 'string' },
    kind: { type: 'string' },
    state: {
      type: 'object',
      description: 'Latest value and observation time of each subscribed field: {field: {value, ts}}.',
      additionalProperties: {
        type: 'object',
        properties: { value: {}, ts: { type: 'string', format: 'date-time' } },
      },
    },
  },
} as const;

/** The listener, if this caller may read it (else the same 404 as an unknown name). */
async function readableListener(ctx: ApiContext, req: FastifyRequest, name: string): Promise<ListenerRow> {
  const listener = await findListener(ctx, name);
  if (!listener || !mayReadListener(principalOfRequest(req), listener.listener_id)) {
    throw new RequestRejectedError('LISTENER_NOT_FOUND', `no listener ${name}`);
  }
  return listener;
}

/** What the listener may see of one target (its subscriptions' masks merged). */
function grantOf(listener: ListenerRow, target: ListenerTargetRow): Grant | undefined {
  const index = compileIndex(listener.subscriptions.map(toSubscription));
  return grantsFor(index, { targetId: target.target_id, kind: target.kind, meta: target.meta })[0];
}

function maskState(
  state: Record<string, { value: unknown; ts: string }>,
  grant: Grant,
): Record<string, { value: unknown; ts: string }> {
  if (grant.fields === null) return state;
  const out: Record<string, { value: unknown; ts: string }> = {};
  for (const [field, v] of Object.entries(state)) if (grant.fields.has(field)) out[field] = v;
  return out;
}

async function coveredTarget(
  ctx: ApiContext,
  listener: ListenerRow,
  targetId: string,
): Promise<{ target: ListenerTargetRow; grant: Grant }> {
  const [target] = await listenerTargets(ctx.pool, listener.listener_id, { targetId, limit: 1 });
  const grant = target && grantOf(listener, target);
  if (!target || !grant) throw new RequestRejectedError('TARGET_NOT_FOUND', `no target ${targetId}`);
  return { target, grant };
}

export function registerListenerApiRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerListTargets(app, ctx);
  registerGetTarget(app, ctx);
  registerQueryObs(app, ctx);
}

function registerListTargets(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { listener: string }; Querystring: { after?: string; limit: number } }>(
    '/api/:listener',
    {
      config: { access: 'listener' },
      schema: {
        tags: ['listener endpoints'],
        summary: "A listener's targets and their latest state, only its fields",
        description:
          'For the listener key of this listener (or an admin key). For a gap-free live view, open /tmi/ws ' +
          'first, wait for `ready`, then read this: every event after `ready` reaches the socket.',
        params: { type: 'object', required: ['listener'], properties: listenerParam },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            after: { ...uuidSchema, description: 'The `next` of the previous page.' },
            limit: limitSchema(listenerTargetsLimitMax, 100),
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['listener', 'targets'],
            properties: {
              listener: { type: 'string' },
              targets: { type: 'array', items: targetStateSchema },
              next: uuidSchema,
            },
          },
          ...problemResponses(400, 401, 403, 404),
        },
      },
    },
    async (req) => {
      const listener = await readableListener(ctx, req, req.params.listener);
      const rows = await listenerTargets(ctx.pool, listener.listener_id, {
        after: req.query.after,
        limit: req.query.limit + 1,
      });
      const { items: page, ...next } = paginate(rows, req.query.limit, (last) => last.target_id);
      const states = await targetStates(
        ctx.pool,
        page.map((t) => t.target_id),
      );
      const targets = [];
      for (const t of page) {
        const grant = grantOf(listener, t);
        if (!grant) continue;
        targets.push({
          target_id: t.target_id,
          name: t.name,
          kind: t.kind,
          state: maskState(states.get(t.target_id) ?? {}, grant),
        });
      }
      return { listener: listener.name, targets, ...next };
    },
  );
}

function registerGetTarget(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { listener: string; target_id: string } }>(
    '/api/:listener/:target_id',
    {
      config: { access: 'listener' },
      schema: {
        tags: ['listener endpoints'],
        summary: 'One of the listener’s targets with its latest state, only its fields',
        params: {
          type: 'object',
          required: ['listener', 'target_id'],
          properties: { ...listenerParam, target_id: uuidSchema },
        },
        response: { 200: targetStateSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const listener = await readableListener(ctx, req, req.params.listener);
      const { target, grant } = await coveredTarget(ctx, listener, req.params.target_id.toLowerCase());
      const states = await targetStates(ctx.pool, [target.target_id]);
      return {
        target_id: target.target_id,
        name: target.name,
        kind: target.kind,
        state: maskState(states.get(target.target_id) ?? {}, grant),
      };
    },
  );
}

function registerQueryObs(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { listener: string; target_id: string }; Querystring: ObsQuerystring }>(
    '/api/:listener/:target_id/obs',
    {
      config: { access: 'listener' },
      schema: {
        tags: ['listener endpoints'],
        summary: 'The time series of one of the listener’s targets, only its fields',
        description:
          'The same query as GET /v1/targets/{id}/obs. `fields` outside the subscription are treated as absent; ' +
          'without `fields`, the subscribed fields.',
        params: {
          type: 'object',
          required: ['listener', 'target_id'],
          properties: { ...listenerParam, target_id: uuidSchema },
        },
        querystring: obsQuerystringSchema,
        response: { 200: obsResponseSchema, ...problemResponses(400, 401, 403, 404, 503) },
      },
    },
    async (req, reply) => {
      let params = parseObsParams(req.query, nowMicros());
      const listener = await readableListener(ctx, req, req.params.listener);
      const { target, grant } = await coveredTarget(ctx, listener, req.params.target_id.toLowerCase());
      if (grant.fields !== null) {
        const mask = grant.fields;
        const allowed = (params.fields ?? [...mask]).filter((f) => mask.has(f));
        if (allowed.length === 0) {
          const empty: ObsResult | ObsPointsResult =
            params.points !== undefined
              ? { mode: 'points', series: {} }
              : params.bucket === undefined
                ? { mode: 'raw', rows: [] }
                : { mode: 'bucket', rows: [] };
          setObsSerializer(reply, empty.mode);
          return toObsResponse(target.target_id, params, empty);
        }
        params = { ...params, fields: allowed };
      }
      const result = await runObsQuery(ctx, target.target_id, params);
      setObsSerializer(reply, result.mode);
      return toObsResponse(target.target_id, params, result);
    },
  );
}
