// SPDX-License-Identifier: MIT
// Listeners and their subscriptions (admin). A subscription names one target, or a kind (optionally
// with a meta equality filter), the fields the listener receives (absent: all) and whether it receives
// alarms. Every change is announced on `<ns>.sys.listeners.changed` before the answer, so the fanout
// stage applies it to every event written after the answer.
import type { FastifyInstance } from 'fastify';
import { isUniqueViolation } from '../../db/index.js';
import { RequestRejectedError } from '../../errors/index.js';
import {
  addSubscriptions,
  deleteListener,
  deleteSubscription,
  getListenerBy,
  insertListener,
  type ListenerRow,
  listListeners,
  type MetaScalar,
  type NewSubscription,
  updateListener,
} from '../../projections/index.js';
import { fieldNameJsonPattern, isUuid, uuidv7 } from '../../schemas/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';
import { obsFieldNameLengthMax } from './obs-params.js';
import { limitSchema, nullableUuidSchema, pageSchema, paginate, uuidSchema } from './shared.js';
import { targetKindPattern } from './targets.js';

export const listenerNamePattern = '^[A-Za-z][A-Za-z0-9_-]{0,63}$';
export const listenerDescriptionLengthMax = 1000;
export const subscriptionsPerListenerMax = 1000;
export const subscriptionFieldsMax = 256;
export const subscriptionMetaKeysMax = 16;
export const listenerListLimitMax = 1000;

export interface SubscriptionInput {
  readonly target_id?: string;
  readonly kind?: string;
  readonly meta?: Record<string, MetaScalar>;
  readonly fields?: string[];
  readonly alarms?: boolean;
}

const subscriptionInputSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Exactly one of target_id and kind. meta only with kind.',
  oneOf: [
    { required: ['target_id'], not: { anyOf: [{ required: ['kind'] }, { required: ['meta'] }] } },
    { required: ['kind'], not: { required: ['target_id'] } },
  ],
  properties: {
    target_id: { ...uuidSchema, description: 'One target.' },
    kind: { type: 'string', pattern: targetKindPattern, description: 'Every target of this kind.' },
    meta: {
      type: 'object',
      maxProperties: subscriptionMetaKeysMax,
      additionalProperties: {
        anyOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'null' }],
      },
      description: 'With kind: only targets whose meta has each of these keys with this (scalar) value.',
    },
    fields: {
      type: 'array',
      minItems: 1,
      maxItems: subscriptionFieldsMax,
      uniqueItems: true,
      items: {
        type: 'string',
        minLength: 1,
        maxLength: obsFieldNameLengthMax,
        pattern: fieldNameJsonPattern,
      },
      description: 'Top-level fields the listener receives; absent: every field.',
    },
    alarms: { type: 'boolean', description: "Also receive the target's alarm transitions (default false)." },
  },
} as const;

const subscriptionSchema = {
  type: 'object',
  required: ['subscription_id', 'target_id', 'kind', 'meta', 'fields', 'alarms', 'created_at'],
  properties: {
    subscription_id: uuidSchema,
    target_id: nullableUuidSchema,
    kind: { type: ['string', 'null'] },
    meta: { type: ['object', 'null'], additionalProperties: true },
    fields: { type: ['array', 'null'], items: { type: 'string' }, description: 'null: every field.' },
    alarms: { type: 'boolean' },
    created_at: { type: 'string', format: 'date-time' },
  },
} as const;

const listenerSchema = {
  type: 'object',
  required: ['listener_id', 'name', 'description', 'endpoint', 'subscriptions', 'created_at', 'updated_at'],
  properties: {
    listener_id: uuidSchema,
    name: { type: 'string' },
    description: { type: 'string' },
    endpoint: { type: 'string', description: "The listener's REST endpoint (`/api/<name>`)." },
    subject: { type: 'string', description: 'NATS subjects of its stream (`<ns>.listen.<listener_id>.>`).' },
    subscriptions: { type: 'array', items: subscriptionSchema },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;

const listenerParams = {
  type: 'object',
  required: ['listener'],
  properties: { listener: { type: 'string', maxLength: 64, description: 'Name or id.' } },
} as const;

export function toNewSubscriptions(inputs: readonly SubscriptionInput[]): NewSubscription[] {
  return inputs.map((s, i) => {
    const at = inputs.length > 1 ? `subscriptions[${i}]: ` : '';
    if ((s.target_id === undefined) === (s.kind === undefined)) {
      throw new RequestRejectedError('INVALID_SUBSCRIPTION', `${at}name exactly one of target_id and kind`);
    }
    if (s.meta !== undefined && s.kind === undefined) {
      throw new RequestRejectedError('INVALID_SUBSCRIPTION', `${at}meta filters only kind subscriptions`);
    }
    return {
      subscription_id: uuidv7(),
      target_id: s.target_id?.toLowerCase() ?? null,
      kind: s.kind ?? null,
      meta: s.meta === undefined || Object.keys(s.meta).length === 0 ? null : s.meta,
      fields: s.fields ?? null,
      alarms: s.alarms ?? false,
    };
  });
}

function checkCount(n: number): void {
  if (n > subscriptionsPerListenerMax) {
    throw new RequestRejectedError(
      'TOO_MANY_SUBSCRIPTIONS',
      `a listener has at most ${subscriptionsPerListenerMax} subscriptions`,
    );
  }
}

export async function findListener(ctx: ApiContext, nameOrId: string): Promise<ListenerRow | undefined> {
  return getListenerBy(ctx.pool, isUuid(nameOrId) ? 'id' : 'name', nameOrId);
}

/** A listener as the API shows it: with its endpoint and NATS subject. */
function show(ctx: ApiContext, l: ListenerRow) {
  return { ...l, endpoint: `/api/${l.name}`, subject: ctx.topology.listenWildcard(l.listener_id) };
}

async function mustFind(ctx: ApiContext, nameOrId: string): Promise<ListenerRow> {
  const l = await findListener(ctx, nameOrId);
  if (!l) throw new RequestRejectedError('LISTENER_NOT_FOUND', `no listener ${nameOrId}`);
  return l;
}

function conflict(name: string | undefined) {
  return (err: unknown): never => {
    if (isUniqueViolation(err))
      throw new RequestRejectedError('LISTENER_EXISTS', `a listener named ${name} exists`);
    throw err;
  };
}

export function registerListenerRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerCreate(app, ctx);
  registerList(app, ctx);
  registerGet(app, ctx);
  registerPatch(app, ctx);
  registerDelete(app, ctx);
  registerAddSubscriptions(app, ctx);
  registerRemoveSubscription(app, ctx);
}

function registerCreate(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: { name: string; description?: string; subscriptions?: SubscriptionInput[] } }>(
    '/v1/listeners',
    {
      schema: {
        tags: ['listeners'],
        summary: 'Create a listener with its subscriptions',
        body: {
          type: 'object',
          required: ['name'],
          additionalProperties: false,
          properties: {
            name: {
              type: 'string',
              pattern: listenerNamePattern,
              description: 'Unique; its endpoint is /api/<name>.',
            },
            description: { type: 'string', maxLength: listenerDescriptionLengthMax },
            subscriptions: {
              type: 'array',
              maxItems: subscriptionsPerListenerMax,
              items: subscriptionInputSchema,
            },
          },
        },
        response: { 201: listenerSchema, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (req, reply) => {
      const subscriptions = toNewSubscriptions(req.body.subscriptions ?? []);
      const row = await insertListener(ctx.pool, {
        listener_id: uuidv7(),
        name: req.body.name,
        description: req.body.description ?? '',
        subscriptions,
      }).catch(conflict(req.body.name));
      await ctx.notify('listeners');
      return reply.code(201).header('location', `/v1/listeners/${row.listener_id}`).send(show(ctx, row));
    },
  );
}

function registerList(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: { after?: string; limit: number } }>(
    '/v1/listeners',
    {
      schema: {
        tags: ['listeners'],
        summary: 'List listeners (by name)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            after: { type: 'string', maxLength: 64, description: 'The `next` of the previous page.' },
            limit: limitSchema(listenerListLimitMax, 100),
          },
        },
        response: {
          200: pageSchema('listeners', listenerSchema),
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (req) => {
      const rows = await listListeners(ctx.pool, { after: req.query.after, limit: req.query.limit + 1 });
      const { items, ...next } = paginate(rows, req.query.limit, (last) => last.name);
      return { listeners: items.map((l) => show(ctx, l)), ...next };
    },
  );
}

function registerGet(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { listener: string } }>(
    '/v1/listeners/:listener',
    {
      schema: {
        tags: ['listeners'],
        summary: 'A listener and its subscriptions',
        params: listenerParams,
        response: { 200: listenerSchema, ...problemResponses(401, 403, 404) },
      },
    },
    async (req) => show(ctx, await mustFind(ctx, req.params.listener)),
  );
}

function registerPatch(app: FastifyInstance, ctx: ApiContext): void {
  app.patch<{
    Params: { listener: string };
    Body: { name?: string; description?: string; subscriptions?: SubscriptionInput[] };
  }>(
    '/v1/listeners/:listener',
    {
      schema: {
        tags: ['listeners'],
        summary: 'Rename, describe, or replace all subscriptions of a listener',
        params: listenerParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            name: { type: 'string', pattern: listenerNamePattern },
            description: { type: 'string', maxLength: listenerDescriptionLengthMax },
            subscriptions: {
              type: 'array',
              maxItems: subscriptionsPerListenerMax,
              items: subscriptionInputSchema,
            },
          },
        },
        response: { 200: listenerSchema, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => {
      const l = await mustFind(ctx, req.params.listener);
      const subscriptions =
        req.body.subscriptions === undefined ? undefined : toNewSubscriptions(req.body.subscriptions);
      const row = await updateListener(ctx.pool, l.listener_id, {
        name: req.body.name,
        description: req.body.description,
        subscriptions,
      }).catch(conflict(req.body.name));
      if (!row) throw new RequestRejectedError('LISTENER_NOT_FOUND', `no listener ${req.params.listener}`);
      await ctx.notify('listeners');
      return show(ctx, row);
    },
  );
}

function registerDelete(app: FastifyInstance, ctx: ApiContext): void {
  app.delete<{ Params: { listener: string } }>(
    '/v1/listeners/:listener',
    {
      schema: {
        tags: ['listeners'],
        summary: 'Delete a listener, its subscriptions and its keys',
        params: listenerParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problemResponses(401, 403, 404) },
      },
    },
    async (req, reply) => {
      const l = await mustFind(ctx, req.params.listener);
      if (!(await deleteListener(ctx.pool, l.listener_id))) {
        throw new RequestRejectedError('LISTENER_NOT_FOUND', `no listener ${req.params.listener}`);
      }
      ctx.authenticator.invalidate();
      await ctx.notify('listeners');
      await ctx.notify('keys');
      return reply.code(204).send();
    },
  );
}

function registerAddSubscriptions(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Params: { listener: string }; Body: SubscriptionInput | SubscriptionInput[] }>(
    '/v1/listeners/:listener/subscriptions',
    {
      schema: {
        tags: ['listeners'],
        summary: 'Add one subscription or an array of them',
        params: listenerParams,
        body: {
          oneOf: [
            subscriptionInputSchema,
            {
              type: 'array',
              minItems: 1,
              maxItems: subscriptionsPerListenerMax,
              items: subscriptionInputSchema,
            },
          ],
        },
        response: { 201: listenerSchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const l = await mustFind(ctx, req.params.listener);
      const subs = toNewSubscriptions(Array.isArray(req.body) ? req.body : [req.body]);
      checkCount(l.subscriptions.length + subs.length);
      await addSubscriptions(ctx.pool, l.listener_id, subs);
      await ctx.notify('listeners');
      return reply.code(201).send(show(ctx, (await findListener(ctx, l.listener_id))!));
    },
  );
}

function registerRemoveSubscription(app: FastifyInstance, ctx: ApiContext): void {
  app.delete<{ Params: { listener: string; subscription: string } }>(
    '/v1/listeners/:listener/subscriptions/:subscription',
    {
      schema: {
        tags: ['listeners'],
        summary: 'Remove one subscription',
        params: {
          type: 'object',
          required: ['listener', 'subscription'],
          properties: { ...listenerParams.properties, subscription: uuidSchema },
        },
        response: { 204: { type: 'null', description: 'Removed' }, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (req, reply) => {
      const l = await mustFind(ctx, req.params.listener);
      if (!(await deleteSubscription(ctx.pool, l.listener_id, req.params.subscription))) {
        throw new RequestRejectedError(
          'SUBSCRIPTION_NOT_FOUND',
          `no subscription ${req.params.subscription}`,
        );
      }
      await ctx.notify('listeners');
      return reply.code(204).send();
    },
  );
}
