// SPDX-License-Identifier: MIT
// /v1/mapping-suggestions: mappings the model was not sure enough of (or two fields clashing over one
// canonical field), waiting for a person. Approving one (optionally corrected) makes a mapping rule that
// applies to events received from then on; rejecting one keeps the field as written, and it is never
// suggested again.
import type { FastifyInstance } from 'fastify';
import { withTransaction } from '../../db/index.js';
import { RequestRejectedError } from '../../errors/index.js';
import { conversionOf, modelRulePosition } from '../../processors/index.js';
import {
  closeSuggestion,
  getSuggestion,
  insertMappingRule,
  listSuggestions,
  listVocabulary,
  type SuggestionRow,
  type SuggestionStatus,
} from '../../projections/index.js';
import { uuidv7 } from '../../schemas/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';
import { idParamsSchema, limitSchema, pageSchema, paginate } from './shared.js';

export const suggestionsPageMax = 500;

const suggestionSchema = {
  type: 'object',
  required: ['suggestion_id', 'kind', 'field', 'cause', 'canonical', 'from_unit', 'to_unit', 'confidence'],
  properties: {
    suggestion_id: { type: 'string', format: 'uuid' },
    kind: { type: 'string' },
    field: { type: 'string', description: 'The field as the speaker wrote it.' },
    cause: {
      type: 'string',
      enum: ['model', 'clash'],
      description: 'model: not confident enough; clash: two fields, one canonical.',
    },
    canonical: { type: ['string', 'null'] },
    from_unit: { type: ['string', 'null'] },
    to_unit: { type: ['string', 'null'] },
    confidence: { type: ['number', 'null'] },
    model_version: { type: ['string', 'null'] },
    samples: { type: 'array', items: {}, description: 'The first values seen.' },
    reason: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'approved', 'rejected'] },
    rule_id: { type: ['string', 'null'], format: 'uuid', description: 'The rule an approval made.' },
    created_at: { type: 'string', format: 'date-time' },
    decided_at: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;

const idParams = idParamsSchema;

export function registerMappingSuggestionRoutes(app: FastifyInstance, ctx: ApiContext): void {
  registerList(app, ctx);
  app.get<{ Params: { id: string } }>(
    '/v1/mapping-suggestions/:id',
    {
      schema: {
        tags: ['normalize'],
        summary: 'One mapping suggestion',
        params: idParams,
        response: {
          200: { ...suggestionSchema, description: 'The suggestion.' },
          ...problemResponses(400, 404, 503),
        },
      },
    },
    async (req) => (await getSuggestion(ctx.pool, req.params.id.toLowerCase())) ?? notFound(req.params.id),
  );
  registerApprove(app, ctx);
  registerReject(app, ctx);
}

function registerList(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{
    Querystring: { status?: SuggestionStatus | 'all'; kind?: string; after?: string; limit?: number };
  }>(
    '/v1/mapping-suggestions',
    {
      schema: {
        tags: ['normalize'],
        summary: 'Mapping suggestions',
        description: 'Oldest first; `next` continues the list.',
        querystring: {
          type: 'object',
          properties: {
            status: { type: 'string', enum: ['pending', 'approved', 'rejected', 'all'], default: 'pending' },
            kind: { type: 'string', minLength: 1, maxLength: 256 },
            after: { type: 'string', format: 'uuid', description: 'The `next` of the previous page.' },
            limit: limitSchema(suggestionsPageMax, 100),
          },
        },
        response: {
          200: { ...pageSchema('suggestions', suggestionSchema), description: 'A page of suggestions.' },
          ...problemResponses(400, 503),
        },
      },
    },
    async (req) => {
      const limit = req.query.limit ?? 100;
      const status = req.query.status === 'all' ? undefined : (req.query.status ?? 'pending');
      const rows = await listSuggestions(ctx.pool, {
        status,
        kind: req.query.kind,
        after: req.query.after,
        limit: limit + 1,
      });
      const { items, ...next } = paginate(rows, limit, (r) => r.suggestion_id);
      return { suggestions: items, ...next };
    },
  );
}

interface Correction {
  readonly canonical?: string;
  readonly from_unit?: string;
}

function registerApprove(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Params: { id: string }; Body: Correction | undefined }>(
    '/v1/mapping-suggestions/:id/approve',
    {
      schema: {
        tags: ['normalize'],
        summary: 'Approve a suggestion (optionally corrected)',
        description:
          'Makes a mapping rule (source `person`) from the suggestion, or from the correction ' +
          '`{"canonical": …, "from_unit": …}`; it applies to events received from now on.',
        params: idParams,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: {
            canonical: {
              type: 'string',
              minLength: 1,
              maxLength: 64,
              description: 'A field of the vocabulary.',
            },
            from_unit: {
              type: 'string',
              minLength: 1,
              maxLength: 16,
              description: 'The unit values come in.',
            },
          },
        },
        response: {
          200: { ...suggestionSchema, description: 'The approved suggestion.' },
          ...problemResponses(400, 404, 409, 503),
        },
      },
    },
    async (req) => {
      const id = req.params.id.toLowerCase();
      const vocabulary = new Map((await listVocabulary(ctx.pool)).map((v) => [v.name, v.unit]));
      await withTransaction(ctx.pool, async (client) => {
        const s = (await getSuggestion(client, id, true)) ?? notFound(id);
        if (s.status !== 'pending')
          throw new RequestRejectedError('SUGGESTION_CLOSED', `suggestion ${id} is ${s.status}`);
        const rule = approvedRule(s, req.body ?? {}, vocabulary);
        await insertMappingRule(client, rule, {
          source: 'person',
          suggestionId: s.suggestion_id,
          confidence: s.confidence ?? undefined,
          modelVersion: s.model_version ?? undefined,
        });
        await closeSuggestion(client, id, 'approved', rule.rule_id);
      });
      await ctx.notify('listeners'); // listeners subscribed to the name now also get the canonical field
      return (await getSuggestion(ctx.pool, id))!;
    },
  );
}

function registerReject(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Params: { id: string } }>(
    '/v1/mapping-suggestions/:id/reject',
    {
      schema: {
        tags: ['normalize'],
        summary: 'Reject a suggestion',
        description: 'The field stays as written; the model never suggests it again.',
        params: idParams,
        response: {
          200: { ...suggestionSchema, description: 'The rejected suggestion.' },
          ...problemResponses(400, 404, 409, 503),
        },
      },
    },
    async (req) => {
      const id = req.params.id.toLowerCase();
      await withTransaction(ctx.pool, async (client) => {
        const s = (await getSuggestion(client, id, true)) ?? notFound(id);
        if (s.status !== 'pending')
          throw new RequestRejectedError('SUGGESTION_CLOSED', `suggestion ${id} is ${s.status}`);
        await closeSuggestion(client, id, 'rejected', null);
      });
      return (await getSuggestion(ctx.pool, id))!;
    },
  );
}

/** The `map` rule an approval makes; 400 when the (corrected) canonical field or unit does not fit. */
function approvedRule(s: SuggestionRow, c: Correction, vocabulary: ReadonlyMap<string, string>) {
  const canonical = c.canonical ?? s.canonical;
  if (canonical === null)
    throw invalid('the suggestion names no canonical field: approve with {"canonical": …}');
  const toUnit = vocabulary.get(canonical);
  if (toUnit === undefined) throw invalid(`'${canonical}' is not in the vocabulary (GET /v1/vocabulary)`);
  const fromUnit =
    c.from_unit ?? (c.canonical === undefined || c.canonical === s.canonical ? s.from_unit : null) ?? toUnit;
  const conversion = conversionOf(fromUnit, toUnit);
  if (conversion === undefined)
    throw invalid(`no conversion from ${fromUnit} to ${toUnit} (the unit of ${canonical})`);
  return {
    rule_id: uuidv7(),
    kind: s.kind,
    target_id: null,
    field: s.field,
    action: 'map' as const,
    to_field: canonical,
    scale: conversion.scale,
    offset: conversion.offset,
    from_unit: fromUnit,
    to_unit: toUnit,
    position: modelRulePosition,
  };
}

function invalid(detail: string): RequestRejectedError {
  return new RequestRejectedError('INVALID_CORRECTION', detail);
}

function notFound(id: string): never {
  throw new RequestRejectedError('SUGGESTION_NOT_FOUND', `no mapping suggestion ${id}`);
}
