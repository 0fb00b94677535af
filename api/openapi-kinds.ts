// SPDX-License-Identifier: MIT
// The part of /openapi.json that grows with the data: per kind and version, typed component schemas
// (`vehicle_v2`, `vehicle_v2_target`, `vehicle_v2_obs`) and the routes that return them — pinned
// (/v1/kinds/vehicle/v2/…) and unpinned (the latest). Composed per request from the registry and
// cached until a version registers or a version's lifecycle changes, so no restart is needed.
import { contractRevision, type VersionStatus } from '../projections/index.js';
import type { AvroFieldType, AvroItemsType, AvroRecordSchema, RegisteredSchema } from '../schemas/index.js';
import type { ApiContext } from './context.js';
import { listKinds, obsCursorPattern } from './routes/kinds.js';

type JsonSchema = Record<string, unknown>;

export interface OpenApiDocument {
  paths?: Record<string, unknown>;
  components?: { schemas?: Record<string, unknown> } & Record<string, unknown>;
  [key: string]: unknown;
}

/** Per API (tests run several in one process): the last document and the revision it was made at. */
const cache = new WeakMap<ApiContext, { revision: string; doc: OpenApiDocument }>();

/** The static document (Fastify's routes) with every kind's typed schemas and routes added. */
export async function composeOpenApi(ctx: ApiContext, base: OpenApiDocument): Promise<OpenApiDocument> {
  const revision = await contractRevision(ctx.pool);
  const cached = cache.get(ctx);
  if (cached?.revision === revision) return cached.doc;
  const paths: Record<string, unknown> = { ...base.paths };
  const schemas: Record<string, unknown> = { ...base.components?.schemas };
  for (const kind of await listKinds(ctx)) {
    const versions = await ctx.registry.versions(`${kind.kind}#norm`);
    for (const v of versions) {
      const status = kind.versions.find((s) => s.version === v.version);
      if (status?.status === 'retired') continue;
      addVersion(paths, schemas, kind.kind, v, status, `/v1/kinds/${kind.kind}/v${v.version}`);
    }
    const latest = versions.at(-1);
    if (latest) addVersion(paths, schemas, kind.kind, latest, undefined, `/v1/kinds/${kind.kind}`);
  }
  const doc = { ...base, paths, components: { ...base.components, schemas } };
  cache.set(ctx, { revision, doc });
  return doc;
}

/** JSON Schema of a payload as one version reads it: every field present, null when unset. */
export function typedSchemaOf(schema: AvroRecordSchema): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const field of schema.fields) properties[field.name] = fieldSchema(field.type);
  return { type: 'object', required: schema.fields.map((f) => f.name), properties };
}

function fieldSchema(type: AvroFieldType | AvroItemsType): JsonSchema {
  if (type === 'null') return { type: 'null' };
  if (Array.isArray(type)) return nullable(valueSchema(type[1]));
  return valueSchema(type as Exclude<AvroItemsType, 'null' | readonly unknown[]>);
}

function valueSchema(type: Exclude<AvroItemsType, 'null'>): JsonSchema {
  if (Array.isArray(type)) return fieldSchema(type as AvroFieldType);
  if (type === 'double') return { type: 'number' };
  if (type === 'string' || type === 'boolean') return { type };
  const t = type as Exclude<typeof type, string | readonly unknown[]>;
  if (t.type === 'record') return typedSchemaOf(t);
  return { type: 'array', items: fieldSchema(t.items) };
}

function nullable(schema: JsonSchema): JsonSchema {
  const t = schema.type;
  return typeof t === 'string' ? { ...schema, type: [t, 'null'] } : { anyOf: [schema, { type: 'null' }] };
}

function addVersion(
  paths: Record<string, unknown>,
  schemas: Record<string, unknown>,
  kind: string,
  v: RegisteredSchema,
  status: Pick<VersionStatus, 'status'> | undefined,
  prefix: string,
): void {
  const name = `${kind}_v${v.version}`;
  schemas[name] = {
    ...typedSchemaOf(v.schema),
    description: `Data of kind ${kind} as version ${v.version} reads it.`,
  };
  schemas[`${name}_target`] = targetSchema(name);
  schemas[`${name}_obs`] = obsSchema(name);
  const deprecated = status?.status === 'deprecated';
  const pinned = prefix.endsWith(`/v${v.version}`);
  const tag = { tags: ['kinds'], ...(deprecated ? { deprecated: true } : {}) };
  const as = pinned ? `as version ${v.version}` : `as the latest version (now ${v.version})`;
  paths[`${prefix}/targets`] = {
    get: operation(`${kind} targets ${as}`, tag, ref(`${name}_list`, schemas, listSchema(name)), [
      query('after', { type: 'string', format: 'uuid' }),
      query('limit', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }),
    ]),
  };
  paths[`${prefix}/targets/{id}`] = {
    get: operation(`One ${kind} target ${as}`, tag, ref(`${name}_target`), [idParam]),
  };
  paths[`${prefix}/targets/{id}/obs`] = {
    get: operation(
      `Observations of one ${kind} target ${as}`,
      tag,
      ref(`${name}_obs_page`, schemas, pageSchema(name)),
      [
        idParam,
        query('from', { type: 'string', maxLength: 64 }),
        query('to', { type: 'string', maxLength: 64 }),
        query('after', { type: 'string', maxLength: 128, pattern: obsCursorPattern }),
        query('limit', { type: 'integer', minimum: 1, maximum: 1000, default: 100 }),
        query('order', { type: 'string', enum: ['asc', 'desc'], default: 'asc' }),
      ],
    ),
  };
}

const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };

function query(name: string, schema: JsonSchema) {
  return { name, in: 'query', required: false, schema };
}

function ref(name: string, schemas?: Record<string, unknown>, schema?: JsonSchema): JsonSchema {
  if (schemas && schema) schemas[name] = schema;
  return { $ref: `#/components/schemas/${name}` };
}

function operation(summary: string, extra: JsonSchema, body: JsonSchema, parameters: unknown[]) {
  const problem = {
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
  };
  return {
    summary,
    ...extra,
    parameters,
    responses: {
      200: { description: summary, content: { 'application/json': { schema: body } } },
      400: { description: 'Bad Request', ...problem },
      404: { description: 'Not Found', ...problem },
      410: { description: 'Gone: the version is retired', ...problem },
      422: { description: 'Data written under a version this one cannot read', ...problem },
      503: { description: 'Service Unavailable', ...problem },
    },
  };
}

function targetSchema(name: string): JsonSchema {
  return {
    type: 'object',
    required: ['target_id', 'name', 'kind', 'version', 'updated_at', 'state'],
    properties: {
      target_id: { type: 'string', format: 'uuid' },
      name: { type: 'string' },
      kind: { type: 'string' },
      version: { type: 'integer' },
      updated_at: { type: ['string', 'null'], format: 'date-time' },
      state: { $ref: `#/components/schemas/${name}` },
    },
  };
}

function obsSchema(name: string): JsonSchema {
  return {
    type: 'object',
    required: ['ts', 'event_id', 'written_as', 'data'],
    properties: {
      ts: { type: 'string', format: 'date-time' },
      event_id: { type: 'string', format: 'uuid' },
      written_as: { type: 'integer', description: 'The version the event was written under.' },
      data: { $ref: `#/components/schemas/${name}` },
    },
  };
}

function listSchema(name: string): JsonSchema {
  return {
    type: 'object',
    required: ['kind', 'version', 'targets'],
    properties: {
      kind: { type: 'string' },
      version: { type: 'integer' },
      targets: { type: 'array', items: { $ref: `#/components/schemas/${name}_target` } },
      next: { type: 'string', format: 'uuid' },
    },
  };
}

function pageSchema(name: string): JsonSchema {
  return {
    type: 'object',
    required: ['kind', 'version', 'target_id', 'obs'],
    properties: {
      kind: { type: 'string' },
      version: { type: 'integer' },
      target_id: { type: 'string', format: 'uuid' },
      obs: { type: 'array', items: { $ref: `#/components/schemas/${name}_obs` } },
      next: { type: 'string' },
    },
  };
}
