// SPDX-License-Identifier: MIT
// /healthz (liveness + dependencies) and /metrics (Prometheus text, with consumer lag read from JetStream).
import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import { VERSION } from '../../config/index.js';
import { deadLetterDepth, pipelineStatus } from '../../pipelines/index.js';
import type { ApiContext } from '../context.js';

const healthSchema = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'degraded'] },
    version: { type: 'string' },
    postgres: { type: 'string' },
    jetstream: { type: 'string' },
    dead_letters: {
      type: ['integer', 'null'],
      description: 'Dead letters waiting in every stage (null while JetStream is down).',
    },
  },
} as const;

export function registerHealthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerLagGauges(ctx);
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: {
        security: [],
        tags: ['ops'],
        summary: 'Health: PostgreSQL and JetStream reachable; dead letters waiting',
        description:
          '200 `ok`; 200 `degraded` while dead letters wait (`tmictl dlq list`): tmiDB works, but events were refused by a stage and need an operator; 503 `degraded` when PostgreSQL or JetStream is down.',
        response: { 200: healthSchema, 503: healthSchema },
      },
    },
    async (_req, reply) => {
      const postgres = await ctx.pool.query('SELECT 1').then(
        () => 'ok',
        (e: Error) => `down: ${e.message}`,
      );
      const depth = await deadLetterDepth(ctx.jsm, ctx.topology).then(
        (d) => Object.values(d).reduce((a, b) => a + b, 0),
        (e: Error) => e,
      );
      const jetstream = depth instanceof Error ? `down: ${depth.message}` : 'ok';
      const up = postgres === 'ok' && jetstream === 'ok' && ctx.isReady();
      const deadLetters = typeof depth === 'number' ? depth : null;
      return reply.code(up ? 200 : 503).send({
        status: up && deadLetters === 0 ? 'ok' : 'degraded',
        version: VERSION,
        postgres,
        jetstream,
        dead_letters: deadLetters,
      });
    },
  );
  const metricsAccess = ctx.config.metricsAccess === 'public' ? 'public' : 'admin';
  const metricsSchema = {
    tags: ['ops'],
    summary: 'Prometheus metrics',
    description: 'Admin keys only, unless TMIDB_METRICS_ACCESS=public.',
    ...(metricsAccess === 'public' ? { security: [] } : {}),
    response: {
      200: {
        description: 'Prometheus text exposition format',
        content: { 'text/plain': { schema: { type: 'string' } } },
      },
    },
  };
  app.get('/metrics', { config: { access: metricsAccess }, schema: metricsSchema }, async (_req, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });
}

/** Consumer lag per stage, asked of JetStream when Prometheus scrapes (no polling in between). */
function registerLagGauges(ctx: ApiContext): void {
  if (ctx.metrics.registry.getSingleMetric('tmidb_stage_consumer_pending')) return;
  const read = () => pipelineStatus(ctx.jsm, ctx.pool, ctx.topology).catch(() => []);
  new Gauge({
    name: 'tmidb_stage_consumer_pending',
    help: 'Messages in the stream not yet delivered to the stage (consumer lag).',
    labelNames: ['stage'],
    registers: [ctx.metrics.registry],
    async collect() {
      for (const s of await read()) this.set({ stage: s.stage }, s.pending);
    },
  });
  new Gauge({
    name: 'tmidb_stage_dead_letters',
    help: 'Dead letters of the stage waiting in the dead-letter stream (tmictl dlq list).',
    labelNames: ['stage'],
    registers: [ctx.metrics.registry],
    async collect() {
      for (const s of await read()) this.set({ stage: s.stage }, s.deadLettered);
    },
  });
  new Gauge({
    name: 'tmidb_stage_consumer_ack_pending',
    help: 'Messages delivered to the stage and not yet acknowledged.',
    labelNames: ['stage'],
    registers: [ctx.metrics.registry],
    async collect() {
      for (const s of await read()) this.set({ stage: s.stage }, s.ackPending);
    },
  });
}
