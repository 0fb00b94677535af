// SPDX-License-Identifier: MIT
// Writing the contract of a kind: its compatibility mode, the dry run of a write, and the lifecycle of
// a version (deprecated with an optional sunset date, retired, or active again).
import type { FastifyInstance } from 'fastify';
import { RequestRejectedError } from '../../errors/index.js';
import { setVersionStatus, type VersionStatusName } from '../../projections/index.js';
import { type Compatibility, compatibilities } from '../../schemas/index.js';
import type { ApiContext } from '../context.js';
import { checkWrite } from '../kind-check.js';
import { loadKindContract, normalizedSuffix } from '../kind-contract.js';
import { problemResponses } from '../problem.js';
import { targetKindPattern } from './targets.js';

const kindParams = {
  type: 'object',
  required: ['kind'],
  properties: { kind: { type: 'string', pattern: targetKindPattern } },
} as const;

const changeSchema = {
  type: 'object',
  required: ['field', 'from', 'to'],
  properties: {
    field: { type: 'string' },
    from: { type: ['string', 'null'], description: 'null: a new field.' },
    to: { type: ['string', 'null'], description: 'null: the field is gone.' },
  },
} as const;

const checkResponse = {
  type: 'object',
  required: ['would_register', 'compatible', 'mode', 'version', 'changes', 'conflict', 'affected'],
  properties: {
    would_register: { type: 'boolean' },
    compatible: { type: 'boolean' },
    mode: { type: 'string', enum: [...compatibilities] },
    version: { type: 'integer', description: 'The version readers would see the data as.' },
    changes: { type: 'array', items: changeSchema },
    conflict: {
      anyOf: [
        {
          type: 'object',
          required: ['field', 'from', 'to', 'version', 'direction'],
          properties: {
            field: { type: 'string' },
            from: { type: 'string' },
            to: { type: 'string' },
            version: { type: 'integer' },
            direction: { type: 'string', enum: ['backward', 'forward'] },
          },
        },
        { type: 'null' },
      ],
    },
    affected: {
      type: 'object',
      required: ['listeners', 'alarm_rules', 'versions_in_use', 'views'],
      properties: {
        listeners: { type: 'array', items: { type: 'string' } },
        alarm_rules: { type: 'array', items: { type: 'string' } },
        versions_in_use: { type: 'array', items: { type: 'integer' } },
        views: { type: 'array', items: { type: 'string' } },
      },
    },
  },
} as const;

export function registerSchemaContractRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.put<{ Params: { kind: string }; Body: { compatibility: Compatibility } }>(
    '/v1/schemas/:kind/compatibility',
    {
      schema: {
        tags: ['schemas'],
        summary: "Set a kind's compatibility mode",
        description:
          'BACKWARD (default), BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE or NONE, as Confluent Schema Registry means them. Applies to the speakers’ subject and the normalized one; checked when the next version registers.',
        params: kindParams,
        body: {
          type: 'object',
          required: ['compatibility'],
          additionalProperties: false,
          properties: { compatibility: { type: 'string', enum: [...compatibilities] } },
        },
        response: {
          200: {
            type: 'object',
            required: ['kind', 'compatibility'],
            properties: {
              kind: { type: 'string' },
              compatibility: { type: 'string', enum: [...compatibilities] },
            },
          },
          ...problemResponses(400, 503),
        },
      },
    },
    async (req) => {
      const { kind } = req.params;
      await ctx.registry.setCompatibility(kind, req.body.compatibility);
      await ctx.registry.setCompatibility(`${kind}${normalizedSuffix}`, req.body.compatibility);
      return { kind, compatibility: req.body.compatibility };
    },
  );
  app.post<{ Params: { kind: string }; Body: { data: Record<string, unknown> } }>(
    '/v1/schemas/:kind/check',
    {
      schema: {
        tags: ['schemas'],
        summary: 'Dry run: what would this write change and break?',
        description:
          'Writes nothing. Would the sample register a new version, is it compatible under the mode, which fields change, and what would be affected: listeners whose subscriptions name a changed field, alarm rules using it, versions in use that could not read it, the typed SQL views.',
        params: kindParams,
        body: {
          type: 'object',
          required: ['data'],
          additionalProperties: false,
          properties: {
            data: { type: 'object', description: 'A sample payload, as a speaker would send it.' },
          },
        },
        response: { 200: checkResponse, ...problemResponses(400, 503) },
      },
    },
    async (req) => checkWrite(ctx, req.params.kind, req.body.data),
  );
  registerStatusRoute(app, ctx);
}

function registerStatusRoute(app: FastifyInstance, ctx: ApiContext): void {
  app.put<{
    Params: { kind: string; version: number };
    Body: { status: VersionStatusName; sunset?: string };
  }>(
    '/v1/schemas/:kind/versions/:version/status',
    {
      schema: {
        tags: ['schemas'],
        summary: "Deprecate, retire or reactivate a kind's version",
        description:
          'deprecated: its routes carry `Deprecation` (RFC 9745) and, with `sunset`, `Sunset` (RFC 8594) headers. retired: its routes answer 410 naming the version to move to. The newest version that is not retired cannot be retired.',
        params: {
          type: 'object',
          required: ['kind', 'version'],
          properties: {
            ...kindParams.properties,
            version: { type: 'integer', minimum: 1, maximum: 999999999 },
          },
        },
        body: {
          type: 'object',
          required: ['status'],
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: ['active', 'deprecated', 'retired'] },
            sunset: { type: 'string', format: 'date-time', description: 'When the version will be retired.' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['kind', 'version', 'status', 'deprecated_at', 'sunset_at'],
            properties: {
              kind: { type: 'string' },
              version: { type: 'integer' },
              status: { type: 'string', enum: ['active', 'deprecated', 'retired'] },
              deprecated_at: { type: ['string', 'null'], format: 'date-time' },
              sunset_at: { type: ['string', 'null'], format: 'date-time' },
            },
          },
          ...problemResponses(400, 404, 409, 503),
        },
      },
    },
    async (req) => {
      const { kind, version } = req.params;
      const contract = await loadKindContract(ctx, kind);
      if (!contract.versions.some((v) => v.version === version)) {
        throw new RequestRejectedError(
          'SCHEMA_VERSION_NOT_FOUND',
          `kind '${kind}' has no version ${version}`,
        );
      }
      if (req.body.status === 'retired') {
        const others = contract.versions.filter(
          (v) => v.version !== version && contract.statuses.get(v.version)?.status !== 'retired',
        );
        if (others.length === 0) {
          throw new RequestRejectedError(
            'LAST_ACTIVE_VERSION',
            `version ${version} is the only one of '${kind}' not retired`,
          );
        }
      }
      const sunset = req.body.sunset === undefined ? null : new Date(req.body.sunset).toISOString();
      return { kind, ...(await setVersionStatus(ctx.pool, kind, version, req.body.status, sunset)) };
    },
  );
}
