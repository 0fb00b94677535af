// SPDX-License-Identifier: MIT
// GET /v1/pipeline: each stage's consumer next to its checkpoint (what `tmictl pipeline status` prints),
// for the console's Pipeline page and any dashboard. Admin keys only.
import type { FastifyInstance } from 'fastify';
import { pipelineStatus } from '../../pipelines/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';

const count = { type: 'integer', minimum: 0 } as const;
const stageSchema = {
  type: 'object',
  required: ['stage', 'stream', 'consumer', 'pending', 'ack_pending', 'redelivered', 'dead_lettered'],
  properties: {
    stage: { type: 'string' },
    stream: { type: 'string' },
    consumer: { type: 'string' },
    pending: { ...count, description: 'Messages in the stream not yet delivered to the stage.' },
    ack_pending: { ...count, description: 'Delivered, not yet acknowledged.' },
    redelivered: { ...count, description: 'Delivered more than once and not yet acknowledged.' },
    delivered: { ...count, description: 'Stream sequence delivered last.' },
    ack_floor: { ...count, description: 'Stream sequence below which everything is acknowledged.' },
    checkpoint: { type: ['integer', 'null'], description: "The stage's committed stream sequence." },
    events_committed: { type: ['integer', 'null'], description: 'Events the stage has committed.' },
    dead_lettered: { ...count, description: 'Events on the dead-letter subject (within its retention).' },
    skipped: { ...count, description: 'Events read and deliberately not projected.' },
    skip_reasons: { type: ['object', 'null'], additionalProperties: { type: 'integer' } },
  },
} as const;

export function registerPipelineRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/v1/pipeline',
    {
      schema: {
        tags: ['ops'],
        summary: "Each stage's backlog, redeliveries and dead letters",
        response: {
          200: {
            type: 'object',
            required: ['stages'],
            properties: { stages: { type: 'array', items: stageSchema } },
          },
          ...problemResponses(401, 403, 503),
        },
      },
    },
    async () => {
      const stages = await pipelineStatus(ctx.jsm, ctx.pool, ctx.topology);
      return {
        stages: stages.map((s) => ({
          stage: s.stage,
          stream: s.stream,
          consumer: s.consumer,
          pending: s.pending,
          ack_pending: s.ackPending,
          redelivered: s.redelivered,
          delivered: s.delivered,
          ack_floor: s.ackFloor,
          checkpoint: s.checkpoint,
          events_committed: s.eventsCommitted,
          dead_lettered: s.deadLettered,
          skipped: s.skipped,
          skip_reasons: s.skipReasons,
        })),
      };
    },
  );
}
