// SPDX-License-Identifier: MIT
// /healthz (liveness + dependencies) and /metrics (Prometheus text, with consumer lag read from JetStream).
import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import { VERSION } from '../../config/index.js';
import { pipelineStatus } from '../../pipelines/index.js';
import type { ApiContext } from '../context.js';

export function registerHealthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerLagGauges(ctx);
  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: {
        security: [],
        tags: ['ops'],
        summary: 'Health: PostgreSQL and JetStream reachable',
        response: {
          200: {
            type: 'object',
            properties: {
              status: { type: 'string' },
              version: { type: 'string' },
              postgres: { type: 'string' },
              jetstream: { type: 'string' },
            },
          },
          503: {
            type: 'object',
            properties: {
              status: { type: 'string' },
              version: { type: 'string' },
              postgres: { type: 'string' },
              jetstream: { type: 'string' },
            },
          },
        },
      },
    },
    async (_req, reply) => {
      const postgres = await ctx.pool.query('SELECT 1').then(
        () => 'ok',
        (e: Error) => `down: ${e.message}`,
      );
      const jetstream = await ctx.jsm.getAccountInfo().then(
        () => 'ok',
        (e: Error) => `down: ${e.message}`,
      );
      const ok = postgres === 'ok' && jetstream === 'ok' && ctx.isReady();
      return reply
        .code(ok ? 200 : 503)
        .send({ status: ok ? 'ok' : 'degraded', version: VERSION, postgres, jetstream });
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
    name: 'tmidb_stage_consumer_ack_pending',
    help: 'Messages delivered to the stage and not yet acknowledged.',
    labelNames: ['stage'],
    registers: [ctx.metrics.registry],
    async collect() {
      for (const s of await read()) this.set({ stage: s.stage }, s.ackPending);
    },
  });
}
