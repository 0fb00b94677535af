// SPDX-License-Identifier: MIT
// /v1/alarm-rules: CRUD of alarm rules, and the backtest (replay a rule over stored history without raising
// anything). Bodies are validated by the one rule validator (processors/alarm/alarm-rule.ts), which names
// the member and the rule it broke with a stable code; the JSON schemas here document the same shape.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { withTransaction } from '../../db/index.js';
import { RequestRejectedError } from '../../errors/index.js';
import {
  AliasIndex,
  backtestEventsMax,
  backtestRule,
  type compareClauseMembers,
  compareOps,
  fenceMembers,
  fenceTriggers,
  latitudeDegreesMax,
  longitudeDegreesMax,
  parseRuleDefinition,
  type RuleDefinition,
  radiusMetersMax,
  type rangeClauseMembers,
  rangeOps,
  resolveRuleFields,
  ruleClausesMax,
  type ruleCommonMembers,
  ruleDescriptionLengthMax,
  ruleDurationSecondsMax,
  ruleFieldNameLengthMax,
  ruleKindPattern,
  ruleNameLengthMax,
  type ruleSpecMembers,
  ruleTypes,
  severities,
  toAlarmRule,
  toStoredRule,
} from '../../processors/index.js';
import {
  type AlarmRuleRow,
  deleteAlarmRule,
  getAlarmRule,
  getTarget,
  insertAlarmRule,
  listAlarmRules,
  loadAliases,
  patchAlarmRule,
  replaceAlarmRule,
} from '../../projections/index.js';
import { microsToIso, nowMicros, uuidv7 } from '../../schemas/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';
import { invalidParam, parseRange } from './obs-params.js';
import {
  boundedNameSchema,
  idParamsSchema,
  limitSchema,
  nullableUuidSchema,
  pageSchema,
  paginate,
  uuidSchema,
} from './shared.js';

export const alarmRuleListLimitMax = 1000;

// The members are the parser's (processors/alarm/alarm-rule.ts): a member added there and not here
// fails to compile.
type ClauseMember = (typeof compareClauseMembers)[number] | (typeof rangeClauseMembers)[number];
type DefinitionMember =
  | (typeof ruleCommonMembers)[number]
  | (typeof ruleSpecMembers)[keyof typeof ruleSpecMembers][number];

const fieldPath = {
  type: 'string',
  minLength: 1,
  maxLength: (ruleFieldNameLengthMax + 1) * 8,
  description: `A field of the normalized data; dotted for nested fields (\`engine.temp\`), each name ≤ ${ruleFieldNameLengthMax} characters.`,
} as const;
const seconds = (description: string) =>
  ({ type: 'number', minimum: 0, maximum: ruleDurationSecondsMax, description }) as const;

const clauseSchema = {
  type: 'object',
  required: ['field', 'op'],
  additionalProperties: false,
  description:
    '`{field, op, value}` with op one of `>`, `>=`, `<`, `<=` (numbers), `==`, `!=` (number, string or boolean); or `{field, op, min, max}` with op `between` (inclusive) or `outside`. A field not yet seen makes its clause false.',
  properties: {
    field: fieldPath,
    op: { type: 'string', enum: [...compareOps, ...rangeOps] },
    // Any of number, string, boolean — left open here: with type coercion, a union would turn `true` into 1.
    value: { description: 'A number (any op), a string or a boolean (== and != only).' },
    min: { type: 'number' },
    max: { type: 'number' },
  } satisfies Record<ClauseMember, unknown>,
} as const;
const clauseList = { type: 'array', minItems: 1, maxItems: ruleClausesMax, items: clauseSchema } as const;
const conditionSchema = {
  type: 'object',
  description: `\`{"all": [clauses]}\` (every clause holds) or \`{"any": [clauses]}\` (one does); 1 to ${ruleClausesMax} clauses.`,
  minProperties: 1,
  maxProperties: 1,
  additionalProperties: false,
  properties: { all: clauseList, any: clauseList },
} as const;
const fenceSchema = {
  type: 'object',
  required: [...fenceMembers],
  additionalProperties: false,
  description: 'A circle: centre and radius in metres (great-circle distance, as /v1/geo/near measures).',
  properties: {
    lat: { type: 'number', minimum: -latitudeDegreesMax, maximum: latitudeDegreesMax },
    lon: { type: 'number', minimum: -longitudeDegreesMax, maximum: longitudeDegreesMax },
    radius_m: { type: 'number', exclusiveMinimum: 0, maximum: radiusMetersMax },
  } satisfies Record<(typeof fenceMembers)[number], unknown>,
} as const;

const definitionProperties = {
  name: boundedNameSchema(ruleNameLengthMax),
  description: { type: 'string', maxLength: ruleDescriptionLengthMax },
  target_id: { ...uuidSchema, description: 'Scope: only this target (must exist).' },
  kind: { type: 'string', pattern: ruleKindPattern.source, description: 'Scope: every target of this kind.' },
  severity: { type: 'string', enum: [...severities], default: 'warning' },
  enabled: { type: 'boolean', default: true },
  type: {
    type: 'string',
    enum: [...ruleTypes],
    description:
      '`threshold`: `condition` (+ `clear`, `for_s`); `deadman`: `field`, `timeout_s`; `geofence`: `fence`, `trigger` (+ `for_s`).',
  },
  condition: conditionSchema,
  clear: {
    ...conditionSchema,
    description:
      'threshold: the open alarm clears when this holds (hysteresis); default: when `condition` no longer holds.',
  },
  for_s: seconds(
    'threshold, geofence: the condition must hold this long (seconds) before the alarm is raised.',
  ),
  field: { ...fieldPath, description: 'deadman: the field that must keep arriving.' },
  timeout_s: {
    type: 'number',
    exclusiveMinimum: 0,
    maximum: ruleDurationSecondsMax,
    description:
      'deadman: seconds without a value of `field` (by observation time) before the alarm is raised.',
  },
  fence: fenceSchema,
  trigger: {
    type: 'string',
    enum: [...fenceTriggers],
    description:
      'geofence: raise while `inside` / `outside` the circle, or when it `enter`s (was seen outside, now inside) / `exit`s it; an enter/inside alarm clears on leaving, an exit/outside alarm on coming back.',
  },
} as const satisfies Record<DefinitionMember, unknown>;

const definitionSchema = {
  type: 'object',
  required: ['name', 'type'],
  additionalProperties: false,
  description: 'Scope: `target_id`, or `kind`, or neither (every target).',
  properties: definitionProperties,
} as const;

const ruleSchema = {
  type: 'object',
  required: ['rule_id', 'name', 'type', 'severity', 'enabled', 'version', 'created_at', 'updated_at'],
  properties: {
    rule_id: uuidSchema,
    ...definitionProperties,
    target_id: nullableUuidSchema,
    kind: { type: ['string', 'null'] },
    clear: { anyOf: [conditionSchema, { type: 'null' }] },
    version: { type: 'integer', description: 'Rises with each PUT (a new definition).' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    aliases: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description:
        'On creation: field names the normalizer has mapped, each with the canonical field the rule now reads.',
    },
  },
} as const;

/** A rule as the API shows it: the definition members flat, as they were sent. */
export function ruleOut(row: AlarmRuleRow): Record<string, unknown> {
  return {
    rule_id: row.rule_id,
    name: row.name,
    description: row.description,
    target_id: row.target_id,
    kind: row.kind,
    severity: row.severity,
    enabled: row.enabled,
    type: row.type,
    ...row.spec,
    version: row.version,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** Runs the rule validator first (precise codes), then reports what the documented schema still refuses. */
function definitionOf(req: FastifyRequest): RuleDefinition {
  const def = parseRuleDefinition(req.body);
  if (req.validationError) throw req.validationError;
  return def;
}

async function checkScope(ctx: ApiContext, def: RuleDefinition): Promise<void> {
  if (def.target_id !== null && (await getTarget(ctx.pool, def.target_id)) === undefined) {
    throw new RequestRejectedError('TARGET_NOT_FOUND', `no target ${def.target_id} (the rule's scope)`);
  }
}

function notFound(id: string): RequestRejectedError {
  return new RequestRejectedError('ALARM_RULE_NOT_FOUND', `no alarm rule ${id}`);
}

export function registerAlarmRuleRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerCreate(app, ctx);
  registerList(app, ctx);
  registerGet(app, ctx);
  registerReplace(app, ctx);
  registerPatch(app, ctx);
  registerDelete(app, ctx);
  registerBacktest(app, ctx);
}

function registerCreate(app: FastifyInstance, ctx: ApiContext): void {
  app.post(
    '/v1/alarm-rules',
    {
      attachValidation: true,
      schema: {
        tags: ['alarms'],
        summary: 'Create an alarm rule',
        description:
          'Takes effect for events the alarm stage reads from now on. Threshold: `{"type":"threshold","condition":{"all":[{"field":"temp","op":">","value":90}]},"clear":{"all":[{"field":"temp","op":"<","value":80}]},"for_s":30}`; deadman: `{"type":"deadman","field":"temp","timeout_s":300}`; geofence: `{"type":"geofence","fence":{"lat":37.5,"lon":127,"radius_m":500},"trigger":"exit"}`.',
        body: definitionSchema,
        response: { 201: ruleSchema, ...problemResponses(400, 404) },
      },
    },
    async (req, reply) => {
      const asked = definitionOf(req);
      await checkScope(ctx, asked);
      // Field names the normalizer has mapped resolve to their canonical fields (the answer says so).
      const { spec, resolved } = resolveRuleFields(
        asked.spec,
        asked.kind,
        new AliasIndex(await loadAliases(ctx.pool)),
      );
      const def = { ...asked, spec };
      const row = await insertAlarmRule(ctx.pool, uuidv7(), toStoredRule(def));
      const out = { ...ruleOut(row), ...(Object.keys(resolved).length > 0 ? { aliases: resolved } : {}) };
      return reply.code(201).header('location', `/v1/alarm-rules/${row.rule_id}`).send(out);
    },
  );
}

function registerList(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{
    Querystring: {
      kind?: string;
      target_id?: string;
      type?: string;
      enabled?: boolean;
      after?: string;
      limit: number;
    };
  }>(
    '/v1/alarm-rules',
    {
      schema: {
        tags: ['alarms'],
        summary: 'List alarm rules',
        description: 'In creation order; pass `next` as `after` for the following page.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            kind: { type: 'string', pattern: ruleKindPattern.source },
            target_id: uuidSchema,
            type: { type: 'string', enum: [...ruleTypes] },
            enabled: { type: 'boolean' },
            after: uuidSchema,
            limit: limitSchema(alarmRuleListLimitMax, 100),
          },
        },
        response: {
          200: pageSchema('rules', ruleSchema, uuidSchema),
          ...problemResponses(400),
        },
      },
    },
    async (req) => {
      const q = req.query;
      const rows = await listAlarmRules(ctx.pool, {
        kind: q.kind,
        targetId: q.target_id,
        type: q.type,
        enabled: q.enabled,
        after: q.after,
        limit: q.limit + 1,
      });
      const { items, ...next } = paginate(rows, q.limit, (last) => last.rule_id);
      return { rules: items.map(ruleOut), ...next };
    },
  );
}

function registerGet(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { id: string } }>(
    '/v1/alarm-rules/:id',
    {
      schema: {
        tags: ['alarms'],
        summary: 'An alarm rule',
        params: idParamsSchema,
        response: { 200: ruleSchema, ...problemResponses(400, 404) },
      },
    },
    async (req) => {
      const row = await getAlarmRule(ctx.pool, req.params.id);
      if (row === undefined) throw notFound(req.params.id);
      return ruleOut(row);
    },
  );
}

function registerReplace(app: FastifyInstance, ctx: ApiContext): void {
  app.put<{ Params: { id: string } }>(
    '/v1/alarm-rules/:id',
    {
      attachValidation: true,
      schema: {
        tags: ['alarms'],
        summary: "Replace an alarm rule's definition",
        description:
          'A new version: the open alarms of the rule are cleared (`clear_reason` `rule_changed`) and its evaluation starts afresh.',
        params: idParamsSchema,
        body: definitionSchema,
        response: { 200: ruleSchema, ...problemResponses(400, 404) },
      },
    },
    async (req) => {
      const def = definitionOf(req);
      await checkScope(ctx, def);
      const row = await withTransaction(ctx.pool, (c) =>
        replaceAlarmRule(c, req.params.id, toStoredRule(def)),
      );
      if (row === undefined) throw notFound(req.params.id);
      return ruleOut(row);
    },
  );
}

function registerPatch(app: FastifyInstance, ctx: ApiContext): void {
  app.patch<{
    Params: { id: string };
    Body: { name?: string; description?: string; severity?: string; enabled?: boolean };
  }>(
    '/v1/alarm-rules/:id',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Rename, re-describe, change the severity of, enable or disable an alarm rule',
        description:
          'Severity applies to alarms raised from now on. Disabling clears the open alarms (`rule_disabled`) and forgets the evaluation state.',
        params: idParamsSchema,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            name: definitionProperties.name,
            description: definitionProperties.description,
            severity: { type: 'string', enum: [...severities] },
            enabled: { type: 'boolean' },
          },
        },
        response: { 200: ruleSchema, ...problemResponses(400, 404) },
      },
    },
    async (req) => {
      if (req.body.name !== undefined && req.body.name.trim() === '') {
        throw new RequestRejectedError('INVALID_RULE', 'name must not be empty');
      }
      const row = await withTransaction(ctx.pool, (c) => patchAlarmRule(c, req.params.id, req.body));
      if (row === undefined) throw notFound(req.params.id);
      return ruleOut(row);
    },
  );
}

function registerDelete(app: FastifyInstance, ctx: ApiContext): void {
  app.delete<{ Params: { id: string } }>(
    '/v1/alarm-rules/:id',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Delete an alarm rule',
        description: 'Its open alarms are cleared (`rule_deleted`); its alarms and their history stay.',
        params: idParamsSchema,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problemResponses(400, 404) },
      },
    },
    async (req, reply) => {
      if (!(await withTransaction(ctx.pool, (c) => deleteAlarmRule(c, req.params.id))))
        throw notFound(req.params.id);
      return reply.code(204).send();
    },
  );
}

function registerBacktest(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Params: { id: string }; Querystring: { from: string; to?: string } }>(
    '/v1/alarm-rules/:id/backtest',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Replay a rule over stored history',
        description: `Runs the rule over the stored observations in [from, to) — positions included — with the same evaluation the alarm stage runs, and returns the alarms it would have raised (and when they would have cleared). Nothing is written, nothing is published. Every target of the scope starts unknown at \`from\`; \`for_s\` and deadman deadlines pass in observation time up to \`to\` (default: now). At most ${backtestEventsMax} events are read; beyond, \`truncated\` is true and \`evaluated_until\` says where it stopped.`,
        params: idParamsSchema,
        querystring: {
          type: 'object',
          required: ['from'],
          additionalProperties: false,
          properties: {
            from: {
              type: 'string',
              maxLength: 64,
              description: 'Inclusive start (ISO-8601 with a zone, or epoch ms).',
            },
            to: { type: 'string', maxLength: 64, description: 'Exclusive end; default now.' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: [
              'rule_id',
              'from',
              'to',
              'events_scanned',
              'targets',
              'truncated',
              'evaluated_until',
              'alarms',
            ],
            properties: {
              rule_id: uuidSchema,
              from: { type: 'string', format: 'date-time' },
              to: { type: 'string', format: 'date-time' },
              events_scanned: { type: 'integer' },
              targets: { type: 'integer', description: 'Targets whose data the rule read.' },
              truncated: { type: 'boolean' },
              evaluated_until: { type: 'string', format: 'date-time' },
              alarms: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    alarm_id: uuidSchema,
                    target_id: uuidSchema,
                    raised_at: { type: 'string', format: 'date-time' },
                    reason: { type: 'string' },
                    event_id: nullableUuidSchema,
                    values: { type: 'object', additionalProperties: true },
                    cleared_at: { type: ['string', 'null'], format: 'date-time' },
                    clear_reason: { type: ['string', 'null'] },
                  },
                },
              },
            },
          },
          ...problemResponses(400, 404),
        },
      },
    },
    async (req) => {
      const now = nowMicros();
      const range = parseRange(req.query.from, req.query.to, undefined, now);
      const fromMicros = range.from!;
      const toMicros = Math.min(range.to ?? now, now);
      if (fromMicros >= toMicros) throw invalidParam('from', 'must be before to (and before now)');
      const row = await getAlarmRule(ctx.pool, req.params.id);
      if (row === undefined) throw notFound(req.params.id);
      const result = await backtestRule(ctx.pool, toAlarmRule(row), { fromMicros, toMicros });
      return { rule_id: row.rule_id, from: microsToIso(fromMicros), to: microsToIso(toMicros), ...result };
    },
  );
}
