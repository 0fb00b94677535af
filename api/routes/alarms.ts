// SPDX-License-Identifier: MIT
// /v1/alarms: the alarms the rules raised — list (filter by state, target, rule, severity; newest first),
// one with its full history, acknowledge, clear. Every transition is also published on
// <ns>.alarm.<target_id> (the alarm stage drains the outbox the transaction wrote).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { withTransaction } from '../../db/index.js';
import { RequestRejectedError } from '../../errors/index.js';
import { afterManualClear, severities, toEvalState } from '../../processors/index.js';
import {
  type AlarmRow,
  type AlarmStateName,
  acknowledgeAlarm,
  alarmStateNames,
  clearAlarmByHand,
  getAlarm,
  listAlarmEvents,
  listAlarms,
} from '../../projections/index.js';
import { isUuid, microsToIso, parseTimestampMicros } from '../../schemas/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';
import { invalidParam } from './obs-params.js';
import { commaListSchema, idParamsSchema, limitSchema, pageSchema, paginate, uuidSchema } from './shared.js';

export const alarmListLimitMax = 1000;
export const alarmCursorLengthMax = 256;
export const alarmByLengthMax = 200;
export const alarmNoteLengthMax = 2000;

const time = { type: 'string', format: 'date-time' } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;

const alarmSchema = {
  type: 'object',
  required: ['alarm_id', 'rule_id', 'target_id', 'severity', 'state', 'raised_at', 'reason'],
  properties: {
    alarm_id: uuidSchema,
    rule_id: uuidSchema,
    rule_name: { type: 'string' },
    rule_type: { type: 'string' },
    rule_version: { type: 'integer' },
    target_id: uuidSchema,
    kind: { type: ['string', 'null'] },
    severity: { type: 'string', enum: [...severities] },
    state: { type: 'string', enum: [...alarmStateNames] },
    raised_at: { ...time, description: 'Observation time of the event (or the deadline) that raised it.' },
    reason: { type: 'string' },
    trigger: {
      type: 'object',
      description: 'The event that raised it (null for deadlines) and the rule fields as known then.',
      properties: {
        event_id: { type: ['string', 'null'] },
        values: { type: 'object', additionalProperties: true },
      },
    },
    acknowledged_at: nullableTime,
    acknowledged_by: { type: ['string', 'null'] },
    cleared_at: nullableTime,
    cleared_by: { type: ['string', 'null'], description: '`tmidb` when the rule cleared it.' },
    clear_reason: { type: ['string', 'null'] },
    updated_at: time,
  },
} as const;

const historySchema = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      transition: { type: 'string', enum: ['raised', 'acknowledged', 'cleared'] },
      at: time,
      by: { type: 'string' },
      reason: { type: 'string' },
      detail: { type: 'object', additionalProperties: true },
    },
  },
} as const;

const actionBody = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    by: {
      type: 'string',
      maxLength: alarmByLengthMax,
      description: 'Who (default: the API key’s name, else `api`).',
    },
    note: { type: 'string', maxLength: alarmNoteLengthMax, description: 'Why; kept in the history.' },
  },
} as const;

interface AlarmsQuery {
  readonly state?: string;
  readonly target_id?: string;
  readonly rule_id?: string;
  readonly severity?: string;
  readonly limit: number;
  readonly after?: string;
}

/** `open` = active,acknowledged; otherwise a comma list of states. */
export function parseStates(raw: string | undefined): AlarmStateName[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const out = new Set<AlarmStateName>();
  for (const s of raw.split(',').map((x) => x.trim())) {
    if (s === 'open') {
      out.add('active');
      out.add('acknowledged');
    } else if ((alarmStateNames as readonly string[]).includes(s)) out.add(s as AlarmStateName);
    else throw invalidParam('state', `'${s.slice(0, 20)}' is not one of open, ${alarmStateNames.join(', ')}`);
  }
  return [...out];
}

export function parseSeverities(raw: string | undefined): string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const list = raw.split(',').map((x) => x.trim());
  for (const s of list) {
    if (!(severities as readonly string[]).includes(s)) {
      throw invalidParam('severity', `'${s.slice(0, 20)}' is not one of ${severities.join(', ')}`);
    }
  }
  return list;
}

export function encodeAlarmCursor(a: Pick<AlarmRow, 'raised_at' | 'alarm_id'>): string {
  return Buffer.from(JSON.stringify({ r: a.raised_at, a: a.alarm_id })).toString('base64url');
}

export function decodeAlarmCursor(text: string): { raisedAt: string; alarmId: string } {
  const bad = invalidParam(
    'after',
    'is not a cursor this endpoint issued; pass the `next` of a previous page',
  );
  if (text.length > alarmCursorLengthMax || !/^[A-Za-z0-9_-]+$/.test(text)) throw bad;
  try {
    const body = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { r?: unknown; a?: unknown };
    if (typeof body.r !== 'string' || !isUuid(body.a)) throw bad;
    return { raisedAt: microsToIso(parseTimestampMicros(body.r)), alarmId: body.a };
  } catch {
    throw bad;
  }
}

function actor(req: FastifyRequest<{ Body: { by?: string; note?: string } | null }>): {
  by: string;
  note: string;
} {
  const principal = (req as { principal?: { keyName?: string; via?: string } | null }).principal;
  const fallback =
    principal && principal.via !== 'anonymous' && principal.keyName ? principal.keyName : 'api';
  return { by: req.body?.by?.trim() || fallback, note: req.body?.note?.trim() ?? '' };
}

function notFound(id: string): RequestRejectedError {
  return new RequestRejectedError('ALARM_NOT_FOUND', `no alarm ${id}`);
}

export function registerAlarmRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerList(app, ctx);
  registerGet(app, ctx);
  registerAcknowledge(app, ctx);
  registerClear(app, ctx);
}

function registerList(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Querystring: AlarmsQuery }>(
    '/v1/alarms',
    {
      schema: {
        tags: ['alarms'],
        summary: 'List alarms',
        description:
          'Newest first (by raised_at). Filters combine: `state` (`open` = active,acknowledged; or a comma list of active, acknowledged, cleared), `target_id`, `rule_id`, `severity` (comma list). Pass `next` as `after` for the following page.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: commaListSchema(
              ['open', ...alarmStateNames].join('|'),
              alarmStateNames.length + 1,
              `\`open\` or a comma list of ${alarmStateNames.join(', ')}`,
            ),
            target_id: uuidSchema,
            rule_id: uuidSchema,
            severity: commaListSchema(
              severities.join('|'),
              severities.length,
              `a comma list of ${severities.join(', ')}`,
            ),
            limit: limitSchema(alarmListLimitMax, 100),
            after: { type: 'string', maxLength: alarmCursorLengthMax },
          },
        },
        response: {
          200: pageSchema('alarms', alarmSchema),
          ...problemResponses(400),
        },
      },
    },
    async (req) => {
      const q = req.query;
      const rows = await listAlarms(ctx.pool, {
        states: parseStates(q.state),
        targetId: q.target_id,
        ruleId: q.rule_id,
        severities: parseSeverities(q.severity),
        after: q.after === undefined ? undefined : decodeAlarmCursor(q.after),
        limit: q.limit + 1,
      });
      const { items, ...next } = paginate(rows, q.limit, (last) => encodeAlarmCursor(last));
      return { alarms: items, ...next };
    },
  );
}

function registerGet(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { id: string } }>(
    '/v1/alarms/:id',
    {
      schema: {
        tags: ['alarms'],
        summary: 'An alarm with its history',
        params: idParamsSchema,
        response: {
          200: {
            ...alarmSchema,
            required: [...alarmSchema.required, 'history'],
            properties: { ...alarmSchema.properties, history: historySchema },
          },
          ...problemResponses(400, 404),
        },
      },
    },
    async (req) => {
      const alarm = await getAlarm(ctx.pool, req.params.id);
      if (alarm === undefined) throw notFound(req.params.id);
      return { ...alarm, history: await listAlarmEvents(ctx.pool, alarm.alarm_id) };
    },
  );
}

function registerAcknowledge(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Params: { id: string }; Body: { by?: string; note?: string } | null }>(
    '/v1/alarms/:id/ack',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Acknowledge an alarm',
        description:
          'active → acknowledged. Acknowledging an acknowledged alarm changes nothing; a cleared alarm cannot be acknowledged (409). The alarm still clears when its rule says so.',
        params: idParamsSchema,
        body: actionBody,
        response: { 200: alarmSchema, ...problemResponses(400, 404, 409) },
      },
    },
    async (req) => {
      const { by, note } = actor(req);
      const alarm = await withTransaction(ctx.pool, (c) => acknowledgeAlarm(c, req.params.id, by, note));
      if (alarm === undefined) throw notFound(req.params.id);
      return alarm;
    },
  );
}

function registerClear(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Params: { id: string }; Body: { by?: string; note?: string } | null }>(
    '/v1/alarms/:id/clear',
    {
      schema: {
        tags: ['alarms'],
        summary: 'Clear an alarm by hand',
        description:
          'active or acknowledged → cleared. The rule raises no new alarm for the target until its condition has stopped holding (deadman: until data arrives). Clearing a cleared alarm changes nothing.',
        params: idParamsSchema,
        body: actionBody,
        response: { 200: alarmSchema, ...problemResponses(400, 404) },
      },
    },
    async (req) => {
      const { by, note } = actor(req);
      const alarm = await withTransaction(ctx.pool, (c) =>
        clearAlarmByHand(c, req.params.id, by, note, (stored) => afterManualClear(toEvalState(stored))),
      );
      if (alarm === undefined) throw notFound(req.params.id);
      return alarm;
    },
  );
}
