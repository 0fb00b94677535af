// SPDX-License-Identifier: MIT
// Speaker writes over HTTP (the http connector): answered 202 only after JetStream's PubAck.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { accept } from '../../connectors/index.js';
import { timestampMaxMicros, timestampMinMicros } from '../../schemas/index.js';
import { mayWrite, principalOfRequest } from '../auth/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';
import { idParamsSchema, uuidSchema } from './shared.js';

const eventItem = {
  type: 'object',
  required: ['data'],
  additionalProperties: false,
  properties: {
    ts: {
      description: 'Observation time: ISO-8601 with a zone, or epoch milliseconds. Default: now.',
      oneOf: [
        { type: 'string', format: 'date-time' },
        // Epoch milliseconds, 1970-01-01 ≤ ts < 2200-01-01 (an ISO time must lie in the same range).
        { type: 'number', minimum: timestampMinMicros / 1000, exclusiveMaximum: timestampMaxMicros / 1000 },
      ],
    },
    event_id: {
      type: 'string',
      format: 'uuid',
      description: 'Makes retries safe: the same id is stored once.',
    },
    data: {
      type: 'object',
      additionalProperties: true,
      description: 'Free-form fields; their shape is versioned per kind.',
    },
  },
} as const;
const acceptedSchema = {
  type: 'object',
  required: ['accepted', 'event_ids', 'seqs', 'duplicates'],
  properties: {
    accepted: { type: 'integer' },
    event_ids: { type: 'array', items: uuidSchema },
    seqs: { type: 'array', items: { type: 'integer' }, description: 'TMI_IN stream sequence of each event.' },
    duplicates: { type: 'integer', description: 'Events JetStream had already stored (a retried write).' },
  },
} as const;
const idempotencyHeader = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      maxLength: 255,
      description:
        'Events without event_id get ids derived from this key, so resending the request stores nothing new.',
    },
  },
} as const;
const writeErrors = problemResponses(400, 401, 403, 404, 409, 413, 415, 429, 503);
// The body is validated by accept() itself, whose messages name the event and the rule; the schema is documentation.
const documentOnly = () => () => true;

function speakerAttrs(req: FastifyRequest): Record<string, string> {
  const p = principalOfRequest(req);
  return {
    source: 'http',
    remote_addr: req.ip,
    ...(req.headers['user-agent'] ? { user_agent: String(req.headers['user-agent']).slice(0, 200) } : {}),
    ...(p.via === 'anonymous' ? {} : { key_name: p.keyName.slice(0, 200) }),
  };
}

/** The speaker is the key (the transport when authentication is off); it writes only what it is granted. */
function speakerOf(req: FastifyRequest) {
  const p = principalOfRequest(req);
  return {
    speaker: p.via === 'anonymous' ? 'http' : p.keyId,
    allows: (targetId: string, kind: string) => mayWrite(p, targetId, kind),
  };
}

function idempotencyKey(req: FastifyRequest): string | undefined {
  const key = req.headers['idempotency-key'];
  return typeof key === 'string' && key.length > 0 ? key : undefined;
}

export function registerEventRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Params: { id: string }; Body: unknown }>(
    '/v1/targets/:id/events',
    {
      config: { access: 'speaker' },
      validatorCompiler: documentOnly,
      schema: {
        tags: ['events'],
        summary: 'Write one event or an array of events about a target',
        params: idParamsSchema,
        headers: idempotencyHeader,
        body: {
          oneOf: [
            eventItem,
            { type: 'array', items: eventItem, minItems: 1, maxItems: ctx.config.writeEventsMax },
          ],
        },
        response: { 202: acceptedSchema, ...writeErrors },
      },
    },
    async (req, reply) => {
      const items = Array.isArray(req.body) ? req.body : [req.body];
      const writes = items.map((item) =>
        item !== null && typeof item === 'object' && !Array.isArray(item)
          ? { ...(item as object), target_id: req.params.id }
          : item,
      );
      const result = await accept(ctx, writes, {
        ...speakerOf(req),
        transport: 'http',
        attrs: speakerAttrs(req),
        idempotencyKey: idempotencyKey(req),
      });
      return reply.code(202).send(result);
    },
  );

  app.post<{ Body: unknown }>(
    '/v1/events',
    {
      config: { access: 'speaker' },
      validatorCompiler: documentOnly,
      schema: {
        tags: ['events'],
        summary: 'Write events about many targets',
        headers: idempotencyHeader,
        body: {
          type: 'array',
          minItems: 1,
          maxItems: ctx.config.writeEventsMax,
          items: {
            ...eventItem,
            required: ['target_id', 'data'],
            properties: { ...eventItem.properties, target_id: uuidSchema },
          },
        },
        response: { 202: acceptedSchema, ...writeErrors },
      },
    },
    async (req, reply) => {
      const writes = Array.isArray(req.body) ? req.body : [req.body];
      const result = await accept(ctx, writes, {
        ...speakerOf(req),
        transport: 'http',
        attrs: speakerAttrs(req),
        idempotencyKey: idempotencyKey(req),
      });
      return reply.code(202).send(result);
    },
  );
}
