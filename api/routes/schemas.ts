// SPDX-License-Identifier: MIT
// GET /v1/schemas…: the payload schema versions the registry holds per target kind. Each kind has its
// speakers' subject (`<kind>`) and, once the normalize stage has seen it, a normalized one (`<kind>#norm`).
import type { FastifyInstance } from 'fastify';
import { RequestRejectedError } from '../../errors/index.js';
import { loadAliases } from '../../projections/index.js';
import { compatibilities, type RegisteredSchema, type SubjectSummary } from '../../schemas/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';

const normalizedSuffix = '#norm';
const kindLengthMax = 256;

const subjectSummarySchema = {
  type: 'object',
  required: ['subject', 'compatibility', 'latest_version', 'latest_schema_id', 'versions', 'created_at'],
  properties: {
    subject: { type: 'string' },
    compatibility: { type: 'string', enum: [...compatibilities] },
    latest_version: { type: ['integer', 'null'], description: 'null while no version is registered.' },
    latest_schema_id: { type: ['integer', 'null'] },
    versions: { type: 'integer', description: 'Number of versions.' },
    created_at: { type: 'string', format: 'date-time' },
  },
} as const;

const kindSummarySchema = {
  type: 'object',
  required: ['kind', ...subjectSummarySchema.required, 'normalized'],
  properties: {
    kind: { type: 'string' },
    ...subjectSummarySchema.properties,
    normalized: {
      anyOf: [subjectSummarySchema, { type: 'null' }],
      description: 'The `<kind>#norm` subject (payloads after mapping rules); null if none exists yet.',
    },
  },
} as const;

const versionSchema = {
  type: 'object',
  required: ['version', 'schema_id', 'fingerprint', 'created_at', 'schema'],
  properties: {
    version: { type: 'integer' },
    schema_id: { type: 'integer', description: 'Registry id; events carry it as their writer schema.' },
    fingerprint: { type: 'string', description: 'sha256 (hex) of the Avro Parsing Canonical Form.' },
    created_at: { type: 'string', format: 'date-time' },
    schema: { type: 'object', additionalProperties: true, description: 'The Avro record schema.' },
  },
} as const;

const kindParams = {
  type: 'object',
  required: ['kind'],
  properties: { kind: { type: 'string', minLength: 1, maxLength: kindLengthMax, pattern: '^[^#]+$' } },
} as const;

const normalizedQuery = {
  type: 'object',
  properties: {
    normalized: { type: 'boolean', default: false, description: 'Show the `<kind>#norm` subject instead.' },
  },
} as const;

interface KindRoute {
  Params: { kind: string };
  Querystring: { normalized?: boolean };
}

export function registerSchemaRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/v1/schemas',
    {
      schema: {
        tags: ['schemas'],
        summary: 'Registered kinds',
        description:
          'Every target kind with a payload schema: compatibility mode, latest version, and its normalized subject.',
        response: {
          200: {
            type: 'object',
            description: 'Every kind, by name.',
            required: ['kinds'],
            properties: { kinds: { type: 'array', items: kindSummarySchema } },
          },
          ...problemResponses(503),
        },
      },
    },
    async () => ({ kinds: kindSummaries(await ctx.registry.list()) }),
  );
  registerKindRoute(app, ctx);
  registerVersionRoute(app, ctx);
}

function registerKindRoute(app: FastifyInstance, ctx: ApiContext): void {
  app.get<KindRoute>(
    '/v1/schemas/:kind',
    {
      schema: {
        tags: ['schemas'],
        summary: "A kind's schema versions",
        description: "Every version of the kind's subject, oldest first, with its Avro schema.",
        params: kindParams,
        querystring: normalizedQuery,
        response: {
          200: {
            type: 'object',
            description: 'The subject and its versions.',
            required: ['kind', 'subject', 'compatibility', 'versions'],
            properties: {
              kind: { type: 'string' },
              subject: { type: 'string' },
              compatibility: { type: 'string', enum: [...compatibilities] },
              versions: { type: 'array', items: versionSchema },
              aliases: {
                type: 'object',
                additionalProperties: { type: 'array', items: { type: 'string' } },
                description:
                  'Each canonical field the normalizer maps onto, with the names speakers used for it.',
              },
            },
          },
          ...problemResponses(400, 404, 503),
        },
      },
    },
    async (req) => {
      const { kind } = req.params;
      const subject = subjectOf(kind, req.query.normalized);
      const [summary, versions, aliasRows] = await Promise.all([
        findSubject(ctx, subject),
        ctx.registry.versions(subject),
        loadAliases(ctx.pool),
      ]);
      const aliases: Record<string, string[]> = {};
      for (const r of aliasRows) {
        if (r.kind !== null && r.kind !== kind) continue;
        aliases[r.to_field] = [...(aliases[r.to_field] ?? []), r.field];
      }
      const out = { kind, subject, compatibility: summary.compatibility, versions: versions.map(versionOut) };
      return { ...out, aliases };
    },
  );
}

function registerVersionRoute(app: FastifyInstance, ctx: ApiContext): void {
  app.get<KindRoute & { Params: { kind: string; version: string } }>(
    '/v1/schemas/:kind/versions/:version',
    {
      schema: {
        tags: ['schemas'],
        summary: 'One schema version',
        description: "One version of the kind's subject by number, or `latest`.",
        params: {
          type: 'object',
          required: ['kind', 'version'],
          properties: {
            ...kindParams.properties,
            version: {
              type: 'string',
              pattern: '^([1-9][0-9]{0,8}|latest)$',
              description: 'A number or `latest`.',
            },
          },
        },
        querystring: normalizedQuery,
        response: {
          200: {
            type: 'object',
            description: 'The version.',
            required: ['kind', 'subject', ...versionSchema.required],
            properties: {
              kind: { type: 'string' },
              subject: { type: 'string' },
              ...versionSchema.properties,
            },
          },
          ...problemResponses(400, 404, 503),
        },
      },
    },
    async (req) => {
      const { kind, version } = req.params;
      const subject = subjectOf(kind, req.query.normalized);
      const found = await findVersion(ctx, subject, version);
      return { kind, subject, ...versionOut(found) };
    },
  );
}

function subjectOf(kind: string, normalized: boolean | undefined): string {
  return normalized === true ? `${kind}${normalizedSuffix}` : kind;
}

async function findSubject(ctx: ApiContext, subject: string): Promise<SubjectSummary> {
  const summary = (await ctx.registry.list()).find((s) => s.subject === subject);
  if (summary === undefined)
    throw new RequestRejectedError('KIND_NOT_FOUND', `no schema is registered for ${subject}`);
  return summary;
}

async function findVersion(ctx: ApiContext, subject: string, version: string): Promise<RegisteredSchema> {
  const found =
    version === 'latest'
      ? await ctx.registry.latest(subject)
      : (await ctx.registry.versions(subject)).find((v) => v.version === Number(version));
  if (found !== undefined) return found;
  await findSubject(ctx, subject); // an unknown kind says so, rather than "no such version"
  throw new RequestRejectedError('SCHEMA_VERSION_NOT_FOUND', `${subject} has no version ${version}`);
}

/** One entry per kind (speakers' subject), its `#norm` subject folded in. */
function kindSummaries(subjects: readonly SubjectSummary[]) {
  const bySubject = new Map(subjects.map((s) => [s.subject, s]));
  return subjects
    .filter((s) => !s.subject.endsWith(normalizedSuffix))
    .map((s) => {
      const norm = bySubject.get(`${s.subject}${normalizedSuffix}`);
      return { kind: s.subject, ...summaryOut(s), normalized: norm === undefined ? null : summaryOut(norm) };
    });
}

function summaryOut(s: SubjectSummary) {
  return {
    subject: s.subject,
    compatibility: s.compatibility,
    latest_version: s.latestVersion,
    latest_schema_id: s.latestSchemaId,
    versions: s.versions,
    created_at: s.createdAt,
  };
}

function versionOut(v: RegisteredSchema) {
  return {
    version: v.version,
    schema_id: v.schemaId,
    fingerprint: v.fingerprint,
    created_at: v.createdAt,
    schema: v.schema,
  };
}
