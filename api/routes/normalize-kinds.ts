// SPDX-License-Identifier: MIT
// /v1/normalize/kinds/{kind}: the model's role for a kind — auto (default), suggest, or off (names stay
// exactly as written; only rules apply). A change applies to fields first seen from then on; `off`
// also retires the model's rules of the kind for events received from then on.
import type { FastifyInstance } from 'fastify';
import { type ModelRole, modelRoles } from '../../processors/index.js';
import { loadModelRoles, setModelRole } from '../../projections/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';

const settingSchema = {
  type: 'object',
  required: ['kind', 'model_role'],
  properties: {
    kind: { type: 'string' },
    model_role: { type: 'string', enum: [...modelRoles] },
  },
} as const;

const kindParams = {
  type: 'object',
  required: ['kind'],
  properties: { kind: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export function registerNormalizeKindRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { kind: string } }>(
    '/v1/normalize/kinds/:kind',
    {
      schema: {
        tags: ['normalize'],
        summary: "The model's role for a kind",
        params: kindParams,
        response: {
          200: { ...settingSchema, description: 'The setting (TMIDB_NORMALIZE_DEFAULT_ROLE unless set).' },
          ...problemResponses(400, 503),
        },
      },
    },
    async (req) => ({
      kind: req.params.kind,
      model_role: (await loadModelRoles(ctx.pool)).get(req.params.kind) ?? ctx.config.normalizeDefaultRole,
    }),
  );
  app.put<{ Params: { kind: string }; Body: { model_role: ModelRole } }>(
    '/v1/normalize/kinds/:kind',
    {
      schema: {
        tags: ['normalize'],
        summary: "Set the model's role for a kind",
        description: 'auto: confident mappings apply; suggest: the model only suggests; off: rules only.',
        params: kindParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['model_role'],
          properties: { model_role: { type: 'string', enum: [...modelRoles] } },
        },
        response: {
          200: { ...settingSchema, description: 'The new setting.' },
          ...problemResponses(400, 503),
        },
      },
    },
    async (req) => {
      await setModelRole(ctx.pool, req.params.kind, req.body.model_role);
      if (req.body.model_role === 'off') await retireModelRules(ctx, req.params.kind);
      return { kind: req.params.kind, model_role: req.body.model_role };
    },
  );
}

/** Under `off`, the model's rules of the kind stop applying to events received from now on. */
async function retireModelRules(ctx: ApiContext, kind: string): Promise<void> {
  await ctx.pool.query(
    `UPDATE tmi.mapping_rule SET deleted_at = clock_timestamp()
      WHERE kind = $1 AND source = 'model' AND deleted_at IS NULL`,
    [kind],
  );
}
