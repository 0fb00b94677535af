// SPDX-License-Identifier: MIT
// /v1/connectors (admin): managed speakers — URL polling (`poll`), SQL (`sql`: the tmi.speak() outbox,
// or a table of another PostgreSQL), Kafka (`kafka`) — and the Kafka listener sink (`kafka_sink`). CRUD,
// status, pause/resume. Configs are validated per type by the connector kinds (connectors/), whose
// errors name the bad member; secrets come back as `***`.
import type { FastifyInstance } from 'fastify';
import {
  connectorNamePattern,
  connectorNotFound,
  connectorStates,
  connectorStatuses,
  connectorTypes,
  connectorView,
  createConnector,
  getConnector,
  listConnectors,
  patchConnector,
  removeConnector,
  setPaused,
} from '../../connectors/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';
import { limitSchema, pageSchema, paginate } from './shared.js';

export const connectorListLimitMax = 1000;

const nameSchema = {
  type: 'string',
  pattern: connectorNamePattern.source,
  description:
    'Unique; lower case letters, digits, `_` and `-`. The speaker of its events is `<type>:<name>`.',
} as const;
const configSchema = {
  type: 'object',
  description:
    'Per type (see the README): poll — `url`, `interval_s` or `cron`, `format` (json, html, csv), `items`, `fields`, `target`, `ts`, `headers` (secret) …; sql — `{"outbox": true}` or `url` (secret), `query`, `cursor`, `target` …; kafka — `brokers`, `topics`, `group_id`, `from`, `target`, `sasl` (secret) …; kafka_sink — `listener`, `brokers`, `topic`, `from`, `partitions`, `sasl` (secret) …',
} as const;
const connectorSchema = {
  type: 'object',
  required: ['connector_id', 'name', 'type', 'config', 'enabled', 'paused', 'created_at', 'updated_at'],
  properties: {
    connector_id: { type: 'string', format: 'uuid' },
    name: { type: 'string' },
    type: { type: 'string', enum: [...connectorTypes] },
    config: {
      ...configSchema,
      additionalProperties: true,
      description: 'Secrets (headers, passwords) read `***`.',
    },
    enabled: { type: 'boolean' },
    paused: { type: 'boolean' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;
const errorShape = {
  type: ['object', 'null'],
  properties: { code: { type: 'string' }, message: { type: 'string' }, at: { type: 'string' } },
} as const;
const statusSchema = {
  type: 'object',
  required: ['name', 'type', 'state', 'events_emitted', 'items_rejected', 'bytes_read'],
  properties: {
    name: { type: 'string' },
    type: { type: 'string' },
    state: { type: 'string', enum: [...connectorStates] },
    owner: { type: ['string', 'null'], description: 'The process running it.' },
    last_success_at: { type: ['string', 'null'], format: 'date-time' },
    last_error: errorShape,
    next_run_at: { type: ['string', 'null'], format: 'date-time' },
    consecutive_failures: { type: 'integer' },
    events_emitted: { type: 'integer' },
    items_rejected: { type: 'integer' },
    bytes_read: { type: 'integer' },
    cursor: { description: 'The source position saved after the last PubAck.' },
    outbox: {
      type: 'object',
      properties: { pending: { type: 'integer' }, rejected: { type: 'integer' } },
    },
  },
} as const;
const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', maxLength: 63 } },
} as const;

export function registerConnectorRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerCreate(app, ctx);
  registerList(app, ctx);
  registerGet(app, ctx);
  registerPatch(app, ctx);
  registerDelete(app, ctx);
  registerStatus(app, ctx);
  registerPauseResume(app, ctx);
}

function registerCreate(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: { name: string; type: string; config: Record<string, unknown>; enabled?: boolean } }>(
    '/v1/connectors',
    {
      schema: {
        tags: ['connectors'],
        summary: 'Create a connector',
        description:
          'E.g. `{"name":"stations","type":"poll","config":{"url":"https://example.org/stations.json","interval_s":10,"items":"$.stations[*]","target":{"by":"name","path":"$.id","create_kind":"station"},"fields":{"temp":"$.t"}}}`. A 400 names the bad member (`config.interval_s …`).',
        body: {
          type: 'object',
          required: ['name', 'type', 'config'],
          additionalProperties: false,
          properties: {
            name: nameSchema,
            type: { type: 'string', enum: [...connectorTypes] },
            config: configSchema,
            enabled: { type: 'boolean', default: true },
          },
        },
        response: { 201: connectorSchema, ...problemResponses(400, 401, 403, 409) },
      },
    },
    async (req, reply) => {
      const view = await createConnector(ctx.pool, req.body);
      return reply.code(201).header('location', `/v1/connectors/${view.name}`).send(view);
    },
  );
}

function registerList(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: { after?: string; limit: number } }>(
    '/v1/connectors',
    {
      schema: {
        tags: ['connectors'],
        summary: 'List connectors (by name)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            after: { type: 'string', maxLength: 64, description: 'The `next` of the previous page.' },
            limit: limitSchema(connectorListLimitMax, 100),
          },
        },
        response: { 200: pageSchema('connectors', connectorSchema), ...problemResponses(400, 401, 403) },
      },
    },
    async (req) => {
      const rows = await listConnectors(ctx.pool, { after: req.query.after, limit: req.query.limit + 1 });
      const { items, ...next } = paginate(rows, req.query.limit, (last) => last.name);
      return { connectors: items.map(connectorView), ...next };
    },
  );
}

function registerGet(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { name: string } }>(
    '/v1/connectors/:name',
    {
      schema: {
        tags: ['connectors'],
        summary: 'One connector (secrets redacted)',
        params: nameParams,
        response: { 200: connectorSchema, ...problemResponses(401, 403, 404) },
      },
    },
    async (req) => {
      const row = await getConnector(ctx.pool, req.params.name);
      if (!row) throw connectorNotFound(req.params.name);
      return connectorView(row);
    },
  );
}

function registerPatch(app: FastifyInstance, ctx: ApiContext): void {
  app.patch<{ Params: { name: string }; Body: { config?: Record<string, unknown>; enabled?: boolean } }>(
    '/v1/connectors/:name',
    {
      schema: {
        tags: ['connectors'],
        summary: 'Change a connector (its config is replaced whole; `***` keeps a stored secret)',
        params: nameParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { config: configSchema, enabled: { type: 'boolean' } },
        },
        response: { 200: connectorSchema, ...problemResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => patchConnector(ctx.pool, req.params.name, req.body),
  );
}

function registerDelete(app: FastifyInstance, ctx: ApiContext): void {
  app.delete<{ Params: { name: string } }>(
    '/v1/connectors/:name',
    {
      schema: {
        tags: ['connectors'],
        summary: 'Delete a connector (it stops wherever it runs within one lease renewal)',
        params: nameParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problemResponses(401, 403, 404) },
      },
    },
    async (req, reply) => {
      await removeConnector(ctx.pool, req.params.name);
      return reply.code(204).send();
    },
  );
}

function registerStatus(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { name: string } }>(
    '/v1/connectors/:name/status',
    {
      schema: {
        tags: ['connectors'],
        summary: 'State, last success, last error, next run, events emitted, bytes read, source cursor',
        params: nameParams,
        response: { 200: statusSchema, ...problemResponses(401, 403, 404) },
      },
    },
    async (req) => {
      const [status] = await connectorStatuses(ctx.pool, [req.params.name]);
      if (!status) throw connectorNotFound(req.params.name);
      return status;
    },
  );
}

function registerPauseResume(app: FastifyInstance, ctx: ApiContext): void {
  for (const action of ['pause', 'resume'] as const) {
    app.post<{ Params: { name: string } }>(
      `/v1/connectors/:name/${action}`,
      {
        schema: {
          tags: ['connectors'],
          summary: action === 'pause' ? 'Pause a connector (its cursor stays)' : 'Resume a paused connector',
          params: nameParams,
          response: { 200: connectorSchema, ...problemResponses(401, 403, 404) },
        },
      },
      async (req) => setPaused(ctx.pool, req.params.name, action === 'pause'),
    );
  }
}
