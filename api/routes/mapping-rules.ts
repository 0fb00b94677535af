// SPDX-License-Identifier: MIT
// /v1/mapping-rules: rename, convert and drop rules of the normalize stage. A rule applies to events
// received after it was created (and before it was deleted), so rules are never edited in place:
// delete one and create another.
import type { FastifyInstance } from 'fastify';
import { RequestRejectedError } from '../../errors/index.js';
import { AliasIndex, unitConversions } from '../../processors/index.js';
import {
  deleteMappingRule,
  getTarget,
  insertMappingRule,
  listMappingRules,
  loadAliases,
  type MappingRuleRow,
  type NewMappingRule,
} from '../../projections/index.js';
import { fieldNameJsonPattern, microsToIso, uuidv7 } from '../../schemas/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';
import { idParamsSchema, nullableUuidSchema, uuidSchema } from './shared.js';

export const ruleFieldLengthMax = 200;
export const ruleKindLengthMax = 64;
export const rulePositionMax = 1_000_000;
const fieldPathPattern = fieldNameJsonPattern;

type Action = 'rename' | 'convert' | 'drop';

export interface MappingRuleBody {
  readonly kind?: string;
  readonly target_id?: string;
  readonly field: string;
  readonly action: Action;
  readonly to_field?: string;
  readonly scale?: number;
  readonly offset?: number;
  readonly unit?: string;
  readonly position?: number;
}

const fieldPath = (description: string) =>
  ({
    type: 'string',
    minLength: 1,
    maxLength: ruleFieldLengthMax,
    pattern: fieldPathPattern,
    description,
  }) as const;

const bodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['field', 'action'],
  properties: {
    kind: {
      type: 'string',
      minLength: 1,
      maxLength: ruleKindLengthMax,
      description: 'Only targets of this kind.',
    },
    target_id: { type: 'string', format: 'uuid', description: 'Only this target (must exist).' },
    field: fieldPath(
      'The field: a top-level name as written (`온도`, `Temp (°C)`), else a dotted path (`engine.temp`).',
    ),
    action: { type: 'string', enum: ['rename', 'convert', 'drop'] },
    to_field: fieldPath('rename: the new dotted path.'),
    scale: { type: 'number', description: 'convert: value · scale + offset (give both, or unit).' },
    offset: { type: 'number' },
    unit: {
      type: 'string',
      maxLength: 32,
      description: `convert: a named conversion: ${Object.keys(unitConversions).join(', ')}.`,
    },
    position: {
      type: 'integer',
      minimum: -rulePositionMax,
      maximum: rulePositionMax,
      default: 0,
      description: 'Lower applies first.',
    },
  },
} as const;

const ruleSchema = {
  type: 'object',
  required: [
    'rule_id',
    'kind',
    'target_id',
    'field',
    'action',
    'to_field',
    'scale',
    'offset',
    'from_unit',
    'to_unit',
    'position',
    'created_at',
    'deleted_at',
  ],
  properties: {
    rule_id: uuidSchema,
    kind: { type: ['string', 'null'] },
    target_id: nullableUuidSchema,
    field: { type: 'string' },
    action: {
      type: 'string',
      enum: ['rename', 'convert', 'drop', 'map'],
      description: "map: the normalizer's rename + convert (made by the model or an approved suggestion).",
    },
    to_field: { type: ['string', 'null'] },
    scale: { type: ['number', 'null'] },
    offset: { type: ['number', 'null'] },
    from_unit: { type: ['string', 'null'] },
    to_unit: { type: ['string', 'null'] },
    position: { type: 'integer' },
    source: {
      type: 'string',
      enum: ['user', 'model', 'person'],
      description: 'Who made it (person: an approved suggestion).',
    },
    model_version: { type: ['string', 'null'], description: 'The model that decided it.' },
    confidence: { type: ['number', 'null'], description: "The model's confidence." },
    resolved_from: { type: 'string', description: 'On creation: the alias given as field.' },
    created_at: {
      type: 'string',
      format: 'date-time',
      description: 'Applies to events received from then on.',
    },
    deleted_at: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

export function registerMappingRuleRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerList(app, ctx);
  registerGet(app, ctx);
  registerCreate(app, ctx);
  registerDelete(app, ctx);
}

function registerList(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: { include_deleted?: boolean } }>(
    '/v1/mapping-rules',
    {
      schema: {
        tags: ['normalize'],
        summary: 'List mapping rules',
        description: 'Rules in application order (position, then creation).',
        querystring: {
          type: 'object',
          properties: {
            include_deleted: { type: 'boolean', default: false, description: 'Also deleted rules.' },
          },
        },
        response: {
          200: {
            type: 'object',
            description: 'The rules.',
            required: ['rules'],
            properties: { rules: { type: 'array', items: ruleSchema } },
          },
          ...problemResponses(400, 503),
        },
      },
    },
    async (req) => ({
      rules: (await listMappingRules(ctx.pool, req.query.include_deleted === true)).map(ruleOut),
    }),
  );
}

function registerGet(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { id: string } }>(
    '/v1/mapping-rules/:id',
    {
      schema: {
        tags: ['normalize'],
        summary: 'One mapping rule',
        description: 'Deleted rules too (with deleted_at).',
        params: idParamsSchema,
        response: { 200: { ...ruleSchema, description: 'The rule.' }, ...problemResponses(400, 404, 503) },
      },
    },
    async (req) => {
      const rule = (await listMappingRules(ctx.pool, true)).find(
        (r) => r.rule_id === req.params.id.toLowerCase(),
      );
      if (rule === undefined) throw ruleNotFound(req.params.id);
      return ruleOut(rule);
    },
  );
}

function registerCreate(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: MappingRuleBody }>(
    '/v1/mapping-rules',
    {
      schema: {
        tags: ['normalize'],
        summary: 'Create a mapping rule',
        description:
          'rename needs to_field; convert needs scale and offset, or a named unit; drop takes neither. ' +
          'The rule applies to events received from now on.',
        body: bodySchema,
        response: {
          201: { ...ruleSchema, description: 'The created rule.' },
          ...problemResponses(400, 404, 503),
        },
      },
    },
    async (req, reply) => {
      const asked = newRule(req.body);
      await checkTarget(ctx, asked);
      // A field the normalizer has mapped resolves to its canonical field (the answer says so).
      const canonical = new AliasIndex(await loadAliases(ctx.pool)).canonicalOf(asked.kind, asked.field);
      const rule =
        canonical === undefined || canonical === asked.to_field ? asked : { ...asked, field: canonical };
      const row = await insertMappingRule(ctx.pool, rule);
      const out = { ...ruleOut(row), ...(rule === asked ? {} : { resolved_from: asked.field }) };
      return reply.code(201).header('location', `/v1/mapping-rules/${row.rule_id}`).send(out);
    },
  );
}

function registerDelete(app: FastifyInstance, ctx: ApiContext): void {
  app.delete<{ Params: { id: string } }>(
    '/v1/mapping-rules/:id',
    {
      schema: {
        tags: ['normalize'],
        summary: 'Delete a mapping rule',
        description:
          'Soft delete: the rule stops applying to events received from now on (replays stay exact).',
        params: idParamsSchema,
        response: { 204: { type: 'null', description: 'Deleted.' }, ...problemResponses(400, 404, 503) },
      },
    },
    async (req, reply) => {
      if (!(await deleteMappingRule(ctx.pool, req.params.id))) throw ruleNotFound(req.params.id);
      return reply.code(204).send();
    },
  );
}

function ruleNotFound(id: string): RequestRejectedError {
  return new RequestRejectedError('MAPPING_RULE_NOT_FOUND', `no active mapping rule ${id}`);
}

function invalid(detail: string): RequestRejectedError {
  return new RequestRejectedError('INVALID_MAPPING_RULE', detail);
}

/** Checks the action's arguments (beyond the JSON schema) and resolves a named unit. */
export function newRule(body: MappingRuleBody): NewMappingRule {
  const base = {
    rule_id: uuidv7(),
    kind: body.kind ?? null,
    target_id: body.target_id?.toLowerCase() ?? null,
    field: body.field,
    action: body.action,
    position: body.position ?? 0,
  };
  const none = { to_field: null, scale: null, offset: null, from_unit: null, to_unit: null };
  switch (body.action) {
    case 'rename':
      rejectExtra(body, ['scale', 'offset', 'unit']);
      if (body.to_field === undefined) throw invalid('rename needs to_field');
      if (body.to_field === body.field) throw invalid('to_field must differ from field');
      return { ...base, ...none, to_field: body.to_field };
    case 'convert':
      rejectExtra(body, ['to_field']);
      return { ...base, ...none, ...conversion(body) };
    case 'drop':
      rejectExtra(body, ['to_field', 'scale', 'offset', 'unit']);
      return { ...base, ...none };
  }
}

function rejectExtra(body: MappingRuleBody, keys: readonly (keyof MappingRuleBody)[]): void {
  const given = keys.filter((k) => body[k] !== undefined);
  if (given.length > 0) throw invalid(`${body.action} takes no ${given.join(', ')}`);
}

function conversion(
  body: MappingRuleBody,
): Pick<NewMappingRule, 'scale' | 'offset' | 'from_unit' | 'to_unit'> {
  if (body.unit !== undefined) {
    if (body.scale !== undefined || body.offset !== undefined)
      throw invalid('convert takes unit or scale and offset, not both');
    const known = unitConversions[body.unit];
    if (known === undefined) {
      throw invalid(`unknown unit '${body.unit}'; known: ${Object.keys(unitConversions).join(', ')}`);
    }
    const [from, to] = body.unit.split('->');
    return { scale: known.scale, offset: known.offset, from_unit: from ?? null, to_unit: to ?? null };
  }
  if (body.scale === undefined || body.offset === undefined) {
    throw invalid(
      `convert needs scale and offset (value · scale + offset), or a unit (${Object.keys(unitConversions).join(', ')})`,
    );
  }
  return { scale: body.scale, offset: body.offset, from_unit: null, to_unit: null };
}

/** A rule scoped to a target needs the target; with a kind too, the target must be of that kind. */
async function checkTarget(ctx: ApiContext, rule: NewMappingRule): Promise<void> {
  if (rule.target_id === null) return;
  const target = await getTarget(ctx.pool, rule.target_id);
  if (target === undefined) throw new RequestRejectedError('TARGET_NOT_FOUND', `no target ${rule.target_id}`);
  if (rule.kind !== null && target.kind !== rule.kind) {
    throw invalid(
      `target ${rule.target_id} is of kind '${target.kind}', not '${rule.kind}': the rule would never apply`,
    );
  }
}

function ruleOut(r: MappingRuleRow) {
  return {
    rule_id: r.rule_id,
    kind: r.kind,
    target_id: r.target_id,
    field: r.field,
    action: r.action,
    to_field: r.to_field,
    scale: r.scale,
    offset: r.offset,
    from_unit: r.from_unit,
    to_unit: r.to_unit,
    position: r.position,
    source: r.source,
    model_version: r.model_version,
    confidence: r.confidence,
    // From the exact microseconds: created_at decides which events a rule applies to.
    created_at: microsToIso(Number(r.created_us)),
    deleted_at: r.deleted_us === null ? null : microsToIso(Number(r.deleted_us)),
  };
}
