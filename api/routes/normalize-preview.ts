// SPDX-License-Identifier: MIT
// POST /v1/normalize/preview: what a payload of a kind would become — for every top-level field, the
// canonical field, units, converted value, confidence and decision — writing nothing.
import type { FastifyInstance } from 'fastify';
import { RequestRejectedError } from '../../errors/index.js';
import { FieldNormalizer, previewNormalize, toRule } from '../../processors/index.js';
import { loadAllMappingRules } from '../../projections/index.js';
import { fieldNameLengthMax, fieldNameProblem, nowMicros } from '../../schemas/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';

const fieldSchema = {
  type: 'object',
  required: ['field', 'canonical', 'from_unit', 'to_unit', 'value', 'confidence', 'decision', 'reason'],
  properties: {
    field: { type: 'string', description: 'The field as written.' },
    canonical: { type: ['string', 'null'], description: 'The canonical field; null when nothing applies.' },
    from_unit: {
      type: ['string', 'null'],
      description: 'The unit the value comes in; null or equal to to_unit when no conversion is needed.',
    },
    to_unit: { type: ['string', 'null'] },
    value: { description: 'The sample value, converted.' },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
    decision: { type: 'string', enum: ['auto', 'suggest', 'keep'] },
    reason: { type: 'string', description: 'Why: the rule that applies, or the model and its confidence.' },
  },
} as const;

export function registerNormalizePreviewRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const normalizer = new FieldNormalizer(ctx.pool, {
    modelPath: ctx.config.normalizeModel,
    autoMin: ctx.config.normalizeAutoMin,
    suggestMin: ctx.config.normalizeSuggestMin,
    defaultRole: ctx.config.normalizeDefaultRole,
  });
  app.addHook('onClose', async () => normalizer.close());
  app.post<{ Body: { kind: string; data: Record<string, unknown> } }>(
    '/v1/normalize/preview',
    {
      schema: {
        tags: ['normalize'],
        summary: 'What a payload would become (writes nothing)',
        description:
          'Existing rules for the kind apply as the pipeline would (reason names the rule); a field decided before answers with its decision; a new one is put to the model.',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'data'],
          properties: {
            kind: { type: 'string', minLength: 1, maxLength: 64 },
            data: { type: 'object', description: 'A payload as a speaker would write it.' },
          },
        },
        response: {
          200: {
            type: 'object',
            required: ['model', 'fields'],
            description: 'Every top-level field of data.',
            properties: {
              model: {
                type: 'object',
                required: ['version', 'sha256'],
                properties: { version: { type: 'string' }, sha256: { type: 'string' } },
              },
              fields: { type: 'array', items: fieldSchema },
            },
          },
          ...problemResponses(400, 503),
        },
      },
    },
    async (req) => {
      const { kind, data } = req.body;
      checkData(data, ctx.config.eventFieldsMax);
      normalizer.forget(kind);
      const rules = (await loadAllMappingRules(ctx.pool)).map(toRule);
      return previewNormalize(normalizer, kind, data, rules, nowMicros());
    },
  );
}

function checkData(data: Record<string, unknown>, fieldsMax: number): void {
  const names = Object.keys(data);
  if (names.length > fieldsMax) {
    throw new RequestRejectedError(
      'INVALID_DATA',
      `data has ${names.length} fields, more than the limit of ${fieldsMax}`,
    );
  }
  for (const name of names) {
    const problem = fieldNameProblem(name, fieldNameLengthMax);
    if (problem !== undefined) {
      throw new RequestRejectedError(
        'INVALID_DATA',
        `field name ${JSON.stringify(name.slice(0, 40))} ${problem}`,
      );
    }
  }
}
