// SPDX-License-Identifier: MIT
// The Fastify server: REST /v1, OpenAPI 3.1 ("tmiDB API") at /openapi.json with its UI at /docs,
// /healthz and /metrics. Every error leaves as application/problem+json.
import { randomUUID } from 'node:crypto';
import swagger, { type SwaggerOptions } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { VERSION } from '../config/index.js';
import { isClientError } from '../errors/index.js';
import { registerAuthHook } from './auth/index.js';
import type { ApiContext } from './context.js';
import {
  buildStrictValidator,
  clientErrorHandler,
  documentRoute,
  finishDocument,
  frameworkErrorHandler,
  RouteMethods,
  registerMethodNotAllowed,
} from './contract/index.js';
import { composeOpenApi, type OpenApiDocument } from './openapi-kinds.js';
import { problem, problemSchema, sendProblem } from './problem.js';
import { registerAlarmRuleRoutes } from './routes/alarm-rules.js';
import { registerAlarmRoutes } from './routes/alarms.js';
import { registerConnectorRoutes } from './routes/connectors.js';
import { registerConsoleRoutes } from './routes/console.js';
import { registerEventRoutes } from './routes/events.js';
import { registerFileRoutes } from './routes/files.js';
import { registerGeoRoutes } from './routes/geo.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerKeyRoutes } from './routes/keys.js';
import { registerKindRoutes } from './routes/kinds.js';
import { registerListenerApiRoutes } from './routes/listener-api.js';
import { registerListenerRoutes } from './routes/listeners.js';
import { registerMappingRuleRoutes } from './routes/mapping-rules.js';
import { registerMappingSuggestionRoutes } from './routes/mapping-suggestions.js';
import { registerNormalizeKindRoutes } from './routes/normalize-kinds.js';
import { registerNormalizePreviewRoutes } from './routes/normalize-preview.js';
import { registerObsRoutes } from './routes/obs.js';
import { registerPipelineRoutes } from './routes/pipeline.js';
import { registerPositionRoutes } from './routes/positions.js';
import { registerSchemaContractRoutes } from './routes/schema-contract.js';
import { registerSchemaRoutes } from './routes/schemas.js';
import { registerStreamRoute } from './routes/stream.js';
import { registerTargetRoutes } from './routes/targets.js';
import { registerVocabularyRoutes } from './routes/vocabulary.js';
import { problemOfUnexpected } from './unexpected.js';
import { registerUnstorableTextCheck } from './unstorable-text.js';
import { WsGateway } from './ws/gateway.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The /tmi/ws gateway (its connections, stats, close). */
    wsGateway: WsGateway;
  }
}

/** The longest path parameter the router hands to a route's schema, characters (longer: 414). */
export const pathParamLengthMax = 1024;

export async function buildServer(ctx: ApiContext): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: ctx.config.bodyBytesMax,
    // Path parameters up to this length reach their schema (and its 400); longer ones answer 414.
    routerOptions: { maxParamLength: pathParamLengthMax },
    schemaController: { compilersFactory: { buildValidator: buildStrictValidator } },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    genReqId: requestIdOf,
  });
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  registerUnstorableTextCheck(app);
  app.addSchema(problemSchema);
  const routeMethods = new RouteMethods();
  registerMethodNotAllowed(app, routeMethods); // before authentication: see framework-errors.ts
  // Before @fastify/swagger's own onRoute hook: it must see the completed schema.
  app.addHook('onRoute', (route) => {
    documentRoute(route);
    routeMethods.add(route.url, route.method);
  });
  // Before any route: every route, whoever adds it, is admin-only unless it declares `config.access`.
  registerAuthHook(app, {
    enabled: ctx.config.auth === 'on',
    authenticator: ctx.authenticator,
    limiter: ctx.limiter,
  });
  await app.register(swagger, openApiOptions);
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { deepLinking: false } });
  registerProblemHandlers(app, ctx);
  registerRoutes(app, ctx);
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () =>
    composeOpenApi(ctx, app.swagger() as unknown as OpenApiDocument),
  );
  const gateway = new WsGateway(ctx);
  gateway.attach(app.server);
  app.decorate('wsGateway', gateway);
  app.addHook('preClose', async () => gateway.close());
  return app;
}

/** The OpenAPI document's frame: security, info and tags; the routes fill in the paths. */
const openApiOptions: SwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An API key (`tmi_…`, from POST /v1/keys or <TMIDB_HOME>/admin.key) or a token from POST /v1/tokens.',
        },
      },
    },
    security: [{ bearer: [] }],
    info: {
      title: 'tmiDB API',
      version: VERSION,
      description:
        'tmiDB — the Too-Much-Information DataBase. Speakers write events about targets; every write becomes an Avro event on NATS JetStream before it is acknowledged, and is projected into PostgreSQL exactly once. Text anywhere in a request (path, query, body, member names) must not hold NUL (U+0000) or a lone UTF-16 surrogate: such a request is refused with 400 INVALID_TEXT.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: [
      { name: 'targets', description: 'Targets and their latest state' },
      { name: 'events', description: 'Speaker writes' },
      { name: 'series', description: 'Time series of observations' },
      { name: 'schemas', description: 'Payload schema versions per kind' },
      { name: 'kinds', description: 'Typed, versioned routes per kind (grow as versions register)' },
      { name: 'normalize', description: 'Mapping rules of the normalize stage' },
      { name: 'geo', description: 'Positions: nearest targets, position history' },
      { name: 'alarms', description: 'Alarm rules, alarms and their lifecycle, backtests' },
      { name: 'ops', description: 'Health and metrics' },
      { name: 'auth', description: 'API keys (admin, speaker, listener) and short-lived tokens' },
      { name: 'listeners', description: 'Listeners and their subscriptions' },
      { name: 'listener endpoints', description: "A listener's own view: /api/<listener>" },
      { name: 'stream', description: 'The WebSocket stream of a listener: /tmi/ws' },
      {
        name: 'connectors',
        description: 'Managed speakers: URL polling, SQL (tmi.speak() outbox, external tables), Kafka',
      },
      {
        name: 'files',
        description: 'Files in the S3 store: uploads (streamed or presigned), downloads, deletes',
      },
    ],
  },
  transformObject: finishDocument,
  refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
};

/** Every error, the framework's included, answers problem+json; every 5xx leaves a log line. */
function registerProblemHandlers(app: FastifyInstance, ctx: ApiContext): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const p = toProblem(err, req.url, req.id, ctx.config.bodyBytesMax);
    if (p.status >= 500) {
      ctx.log?.(
        'error',
        `request ${req.id} ${req.method} ${req.url.split('?')[0]} → ${p.status} ${p.code}: ${(err as Error).stack ?? String(err)}`,
      );
    }
    return sendProblem(reply, p);
  });
  // 404 and 405 for unknown routes: registerMethodNotAllowed (api/contract/framework-errors.ts).
}

/** Every REST route of /v1 and /api. */
function registerRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerHealthRoutes(app, ctx);
  registerTargetRoutes(app, ctx);
  registerFileRoutes(app, ctx);
  registerEventRoutes(app, ctx);
  registerObsRoutes(app, ctx);
  registerSchemaRoutes(app, ctx);
  registerSchemaContractRoutes(app, ctx);
  registerKindRoutes(app, ctx);
  registerMappingRuleRoutes(app, ctx);
  registerVocabularyRoutes(app, ctx);
  registerMappingSuggestionRoutes(app, ctx);
  registerNormalizePreviewRoutes(app, ctx);
  registerNormalizeKindRoutes(app, ctx);
  registerGeoRoutes(app, ctx);
  registerAlarmRuleRoutes(app, ctx);
  registerAlarmRoutes(app, ctx);
  registerKeyRoutes(app, ctx);
  registerListenerRoutes(app, ctx);
  registerListenerApiRoutes(app, ctx);
  registerConnectorRoutes(app, ctx);
  registerPipelineRoutes(app, ctx);
  registerPositionRoutes(app, ctx);
  registerConsoleRoutes(app);
  registerStreamRoute(app);
}

/** A caller's X-Request-Id when it is a sane token, else a fresh UUID: the id 5xx log lines carry. */
function requestIdOf(req: { headers: Record<string, string | string[] | undefined> }): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
}

function toProblem(err: FastifyError, url: string, requestId: string, bodyBytesMax: number) {
  // Errors of the catalogue a client may be told (RequestRejectedError, InvalidDataError …): their code.
  if (isClientError(err)) return problem(err.code, err.message, url);
  if (err.validation) {
    const first = err.validation[0];
    const where = `${err.validationContext ?? 'request'}${first?.instancePath ?? ''}`;
    const extra = (first?.params as { additionalProperty?: string } | undefined)?.additionalProperty;
    const what = extra ? `has an unknown member '${extra}'` : (first?.message ?? 'is invalid');
    return problem('INVALID_REQUEST', `${where} ${what}`, url);
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem('BODY_TOO_LARGE', `the request body is larger than ${bodyBytesMax} bytes`, url);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem('UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json', url);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return problem('MALFORMED_JSON', `the request body is not valid JSON: ${err.message}`, url);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem('EMPTY_BODY', 'the request body is empty; send JSON', url);
  }
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return problem('BAD_REQUEST', err.message, url); // what the HTTP layer refused before routing
  }
  return problemOfUnexpected(err, url, requestId);
}
