// SPDX-License-Identifier: MIT
// API keys (admin): create (the secret is in the 201 and nowhere else, ever), list, read, revoke. Any
// key: mint a short-lived token for a browser (POST /v1/tokens), and ask who it is (GET /v1/whoami).
import type { FastifyInstance } from 'fastify';
import { RequestRejectedError } from '../../errors/index.js';
import {
  getApiKey,
  getListenerBy,
  type KeyScope,
  keyScopes,
  listApiKeys,
  revokeApiKey,
} from '../../projections/index.js';
import { isUuid } from '../../schemas/index.js';
import { createApiKey, keyHint, principalOfRequest } from '../auth/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';
import {
  boundedNameSchema,
  idParamsSchema,
  limitSchema,
  pageSchema,
  paginate,
  uuidSchema,
} from './shared.js';
import { targetKindPattern } from './targets.js';

export const keyNameLengthMax = 200;
export const keyGrantsMax = 10_000;
export const keyListLimitMax = 1000;
/** Shortest token lifetime a client may ask for. */
export const tokenTtlSMin = 10;

const grantsSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Speaker keys: the targets and kinds it may write events about.',
  properties: {
    targets: { type: 'array', maxItems: keyGrantsMax, uniqueItems: true, items: uuidSchema },
    kinds: {
      type: 'array',
      maxItems: keyGrantsMax,
      uniqueItems: true,
      items: { type: 'string', pattern: targetKindPattern },
    },
  },
} as const;
const keySchema = {
  type: 'object',
  required: [
    'key_id',
    'name',
    'scope',
    'hint',
    'listener',
    'grants',
    'created_at',
    'expires_at',
    'revoked_at',
  ],
  properties: {
    key_id: uuidSchema,
    name: { type: 'string' },
    scope: { type: 'string', enum: keyScopes },
    hint: { type: 'string', description: 'The first characters of the key, to recognise it.' },
    listener: { type: ['string', 'null'], description: 'Listener keys: the listener it reads.' },
    grants: {
      type: 'object',
      properties: {
        targets: { type: 'array', items: uuidSchema },
        kinds: { type: 'array', items: { type: 'string' } },
      },
    },
    created_at: { type: 'string', format: 'date-time' },
    expires_at: { type: ['string', 'null'], format: 'date-time' },
    revoked_at: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

function toKey(row: Awaited<ReturnType<typeof getApiKey>> & object) {
  return {
    key_id: row.key_id,
    name: row.name,
    scope: row.scope,
    hint: keyHint(row.key_id),
    listener: row.listener,
    grants: { targets: row.grant_targets, kinds: row.grant_kinds },
    created_at: row.created_at,
    expires_at: row.expires_at,
    revoked_at: row.revoked_at,
  };
}

/** `ttl_s` of an optional `{ttl_s?}` body. */
function tokenTtlOf(body: unknown): number | undefined {
  if (body === undefined) return undefined;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new RequestRejectedError('INVALID_REQUEST', 'body must be an object {ttl_s?} or empty');
  }
  const { ttl_s, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra !== undefined)
    throw new RequestRejectedError('INVALID_REQUEST', `body has an unknown member '${extra}'`);
  if (ttl_s === undefined) return undefined;
  if (typeof ttl_s !== 'number' || !Number.isInteger(ttl_s) || ttl_s < tokenTtlSMin) {
    throw new RequestRejectedError('INVALID_REQUEST', `ttl_s must be an integer ≥ ${tokenTtlSMin}`);
  }
  return ttl_s;
}

export function registerKeyRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerCreateKey(app, ctx);
  registerListKeys(app, ctx);
  registerGetKey(app, ctx);
  registerRevokeKey(app, ctx);
  registerMintToken(app, ctx);
  registerWhoami(app);
}

const createKeyBodySchema = {
  type: 'object',
  required: ['name', 'scope'],
  additionalProperties: false,
  properties: {
    name: boundedNameSchema(keyNameLengthMax),
    scope: { type: 'string', enum: keyScopes },
    listener: {
      type: 'string',
      maxLength: 64,
      description: 'Listener keys: name or id of the listener.',
    },
    grants: grantsSchema,
    expires_at: {
      type: 'string',
      format: 'date-time',
      description: 'Optional: the key stops working then (a time in the future).',
    },
  },
  // A listener key names its listener and only a listener key does; only speaker keys have grants.
  allOf: [
    {
      oneOf: [
        { properties: { scope: { const: 'listener' } }, required: ['listener'] },
        { properties: { scope: { not: { const: 'listener' } } }, not: { required: ['listener'] } },
      ],
    },
    { anyOf: [{ properties: { scope: { const: 'speaker' } } }, { not: { required: ['grants'] } }] },
  ],
} as const;

/** What the body schema cannot say about a new key. */
function checkKeyRequest(body: {
  scope: KeyScope;
  listener?: string;
  grants?: unknown;
  expires_at?: string;
}): void {
  if ((body.scope === 'listener') !== (body.listener !== undefined)) {
    throw new RequestRejectedError(
      'INVALID_KEY',
      'a listener key names its listener, and only a listener key does',
    );
  }
  if (body.scope !== 'speaker' && body.grants !== undefined) {
    throw new RequestRejectedError('INVALID_KEY', 'only speaker keys have grants');
  }
  if (body.expires_at !== undefined && Date.parse(body.expires_at) <= Date.now()) {
    throw new RequestRejectedError('INVALID_KEY', 'expires_at is in the past');
  }
}

function registerCreateKey(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{
    Body: {
      name: string;
      scope: KeyScope;
      listener?: string;
      grants?: { targets?: string[]; kinds?: string[] };
      expires_at?: string;
    };
  }>(
    '/v1/keys',
    {
      schema: {
        tags: ['auth'],
        summary: 'Create an API key (its secret is shown in this answer only)',
        description:
          'admin: everything. speaker: writes events about the targets and kinds in `grants` (REST and NATS). ' +
          'listener: reads what the subscriptions of `listener` allow (/api/{listener}, /tmi/ws). ' +
          'Send it as `Authorization: Bearer <key>`.',
        body: createKeyBodySchema,
        response: {
          201: {
            ...keySchema,
            required: [...keySchema.required, 'key'],
            properties: {
              ...keySchema.properties,
              key: { type: 'string', description: 'The key. Store it now: tmiDB keeps only its hash.' },
            },
          },
          ...problemResponses(400, 401, 403, 404),
        },
      },
    },
    async (req, reply) => {
      const { name, scope, listener, grants, expires_at } = req.body;
      checkKeyRequest(req.body);
      let listenerId: string | null = null;
      if (listener !== undefined) {
        const found = await getListenerBy(ctx.pool, isUuid(listener) ? 'id' : 'name', listener);
        if (!found) throw new RequestRejectedError('LISTENER_NOT_FOUND', `no listener ${listener}`);
        listenerId = found.listener_id;
      }
      const { row, token } = await createApiKey(ctx.pool, {
        name,
        scope,
        listenerId,
        grantTargets: (grants?.targets ?? []).map((t) => t.toLowerCase()),
        grantKinds: grants?.kinds ?? [],
        expiresAt: expires_at ?? null,
      });
      return reply
        .code(201)
        .header('location', `/v1/keys/${row.key_id}`)
        .header('cache-control', 'no-store')
        .send({ ...toKey(row), key: token });
    },
  );
}

function registerListKeys(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: { after?: string; limit: number; include_revoked: boolean } }>(
    '/v1/keys',
    {
      schema: {
        tags: ['auth'],
        summary: 'List API keys (never their secrets)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            after: uuidSchema,
            limit: limitSchema(keyListLimitMax, 100),
            include_revoked: { type: 'boolean', default: false },
          },
        },
        response: {
          200: pageSchema('keys', keySchema, uuidSchema),
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (req) => {
      const rows = await listApiKeys(ctx.pool, {
        after: req.query.after,
        limit: req.query.limit + 1,
        includeRevoked: req.query.include_revoked,
      });
      const { items, ...next } = paginate(rows, req.query.limit, (last) => last.key_id);
      return { keys: items.map(toKey), ...next };
    },
  );
}

function registerGetKey(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { id: string } }>(
    '/v1/keys/:id',
    {
      schema: {
        tags: ['auth'],
        summary: 'One API key (never its secret)',
        params: idParamsSchema,
        response: { 200: keySchema, ...problemResponses(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const row = await getApiKey(ctx.pool, req.params.id);
      if (!row) throw new RequestRejectedError('KEY_NOT_FOUND', `no key ${req.params.id}`);
      return toKey(row);
    },
  );
}

function registerRevokeKey(app: FastifyInstance, ctx: ApiContext): void {
  app.delete<{ Params: { id: string } }>(
    '/v1/keys/:id',
    {
      schema: {
        tags: ['auth'],
        summary: 'Revoke an API key (its tokens and open streams stop working)',
        description:
          'A key cannot revoke itself, and the last admin key in force cannot be revoked (409): either would lock its holder out.',
        params: idParamsSchema,
        response: {
          204: { type: 'null', description: 'Revoked' },
          ...problemResponses(400, 401, 403, 404, 409),
        },
      },
    },
    async (req, reply) => {
      if (principalOfRequest(req).keyId === req.params.id.toLowerCase()) {
        throw new RequestRejectedError(
          'KEY_REVOKES_ITSELF',
          'a key cannot revoke itself: revoke it with another admin key',
        );
      }
      const outcome = await revokeApiKey(ctx.pool, req.params.id);
      if (outcome === 'last_admin') {
        throw new RequestRejectedError(
          'LAST_ADMIN_KEY',
          `key ${req.params.id} is the last admin key in force; create another admin key before revoking it`,
        );
      }
      if (outcome === 'not_found') {
        throw new RequestRejectedError('KEY_NOT_FOUND', `no active key ${req.params.id}`);
      }
      ctx.authenticator.invalidate();
      await ctx.notify('keys');
      return reply.code(204).send();
    },
  );
}

function registerMintToken(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: unknown }>(
    '/v1/tokens',
    {
      config: { access: 'authenticated' },
      // The body is optional (a bare POST mints a token of the default lifetime): checked below.
      validatorCompiler: () => () => true,
      schema: {
        tags: ['auth'],
        summary: 'Mint a short-lived token from an API key (for browsers)',
        description:
          "The token (a JWT) carries the key's identity and rights until `expires_at`; revoking the key ends it. " +
          'Only an API key can mint: a token cannot extend itself.',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ttl_s: {
              type: 'integer',
              minimum: tokenTtlSMin,
              description: 'Lifetime in seconds; at most TMIDB_JWT_TTL_MS (the default).',
            },
          },
        },
        response: {
          201: {
            type: 'object',
            required: ['token', 'token_type', 'expires_at', 'expires_in'],
            properties: {
              token: { type: 'string' },
              token_type: { type: 'string', enum: ['Bearer'] },
              expires_at: { type: 'string', format: 'date-time' },
              expires_in: { type: 'integer', description: 'Seconds.' },
            },
          },
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (req, reply) => {
      const p = principalOfRequest(req);
      if (p.via !== 'key') throw new RequestRejectedError('FORBIDDEN', 'only an API key can mint tokens');
      const ttlMs = Math.min(
        (tokenTtlOf(req.body) ?? Number.POSITIVE_INFINITY) * 1000,
        ctx.authenticator.tokens.ttlMsMax,
      );
      const now = Date.now();
      const minted = await ctx.authenticator.tokens.mint(
        { keyId: p.keyId, scope: p.scope, listener: p.listenerName },
        Math.min(ttlMs, p.expiresAtMs === null ? ttlMs : p.expiresAtMs - now),
        now,
      );
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({
          token: minted.token,
          token_type: 'Bearer',
          expires_at: new Date(minted.expiresAtMs).toISOString(),
          expires_in: Math.round((minted.expiresAtMs - now) / 1000),
        });
    },
  );
}

function registerWhoami(app: FastifyInstance): void {
  app.get(
    '/v1/whoami',
    {
      config: { access: 'authenticated' },
      schema: {
        tags: ['auth'],
        summary: 'The caller: key, scope, listener or grants, and when the credential expires',
        response: {
          200: {
            type: 'object',
            required: ['key_id', 'name', 'scope', 'via', 'listener', 'expires_at'],
            properties: {
              key_id: uuidSchema,
              name: { type: 'string' },
              scope: { type: 'string' },
              via: { type: 'string', enum: ['key', 'token', 'anonymous'] },
              listener: { type: ['string', 'null'] },
              grants: {
                type: 'object',
                properties: {
                  targets: { type: 'array', items: uuidSchema },
                  kinds: { type: 'array', items: { type: 'string' } },
                },
              },
              expires_at: { type: ['string', 'null'], format: 'date-time' },
            },
          },
          ...problemResponses(401),
        },
      },
    },
    async (req) => {
      const p = principalOfRequest(req);
      return {
        key_id: p.keyId,
        name: p.keyName,
        scope: p.scope,
        via: p.via,
        listener: p.listenerName,
        ...(p.scope === 'speaker'
          ? { grants: { targets: [...p.grantTargets], kinds: [...p.grantKinds] } }
          : {}),
        expires_at: p.expiresAtMs === null ? null : new Date(p.expiresAtMs).toISOString(),
      };
    },
  );
}
