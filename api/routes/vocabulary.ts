// SPDX-License-Identifier: MIT
// /v1/vocabulary: the canonical fields the normalizer maps onto, with their units. The defaults ship
// with tmiDB (migration 006) and cannot be deleted; users add and delete their own.
import type { FastifyInstance } from 'fastify';
import { RequestRejectedError } from '../../errors/index.js';
import {
  vocabularyDescriptionLengthMax,
  vocabularyEntriesMax,
  vocabularyNamePattern,
  vocabularyUnitLengthMax,
} from '../../processors/index.js';
import { deleteVocabulary, insertVocabulary, listVocabulary } from '../../projections/index.js';
import type { ApiContext } from '../context.js';
import { problemResponses } from '../problem.js';

const entrySchema = {
  type: 'object',
  required: ['name', 'unit', 'description', 'builtin'],
  properties: {
    name: { type: 'string', description: 'The canonical field name.' },
    unit: {
      type: 'string',
      description: 'The unit its values are stored in (`C`, `hPa`, `%`, `bool`, `text` …).',
    },
    description: { type: 'string' },
    builtin: { type: 'boolean', description: 'Shipped with tmiDB (cannot be deleted).' },
  },
} as const;

const bodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'unit'],
  properties: {
    name: {
      type: 'string',
      pattern: vocabularyNamePattern.source,
      description: 'Lowercase ASCII, digits, _.',
    },
    unit: { type: 'string', minLength: 1, maxLength: vocabularyUnitLengthMax },
    description: { type: 'string', maxLength: vocabularyDescriptionLengthMax, default: '' },
  },
} as const;

const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

export function registerVocabularyRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/v1/vocabulary',
    {
      schema: {
        tags: ['normalize'],
        summary: 'The canonical vocabulary',
        response: {
          200: {
            type: 'object',
            required: ['fields'],
            description: 'Every canonical field, by name.',
            properties: { fields: { type: 'array', items: entrySchema } },
          },
          ...problemResponses(503),
        },
      },
    },
    async () => ({ fields: await listVocabulary(ctx.pool) }),
  );
  registerAdd(app, ctx);
  registerDelete(app, ctx);
}

function registerAdd(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{ Body: { name: string; unit: string; description?: string } }>(
    '/v1/vocabulary',
    {
      schema: {
        tags: ['normalize'],
        summary: 'Add a canonical field',
        description: 'Mapping rules and approved suggestions may then map fields onto it.',
        body: bodySchema,
        response: { 201: { ...entrySchema, description: 'Added.' }, ...problemResponses(400, 409, 503) },
      },
    },
    async (req, reply) => {
      const entry = { name: req.body.name, unit: req.body.unit, description: req.body.description ?? '' };
      if ((await listVocabulary(ctx.pool)).length >= vocabularyEntriesMax) {
        throw new RequestRejectedError(
          'VOCABULARY_FULL',
          `the vocabulary holds ${vocabularyEntriesMax} fields already`,
        );
      }
      if (!(await insertVocabulary(ctx.pool, entry))) {
        throw new RequestRejectedError('VOCABULARY_EXISTS', `the vocabulary already has '${entry.name}'`);
      }
      return reply
        .code(201)
        .header('location', `/v1/vocabulary/${encodeURIComponent(entry.name)}`)
        .send({ ...entry, builtin: false });
    },
  );
}

function registerDelete(app: FastifyInstance, ctx: ApiContext): void {
  app.delete<{ Params: { name: string } }>(
    '/v1/vocabulary/:name',
    {
      schema: {
        tags: ['normalize'],
        summary: 'Delete a canonical field a user added',
        description: 'Shipped fields cannot be deleted (409). Mappings already made stay.',
        params: nameParams,
        response: { 204: { type: 'null', description: 'Deleted.' }, ...problemResponses(400, 404, 409, 503) },
      },
    },
    async (req, reply) => {
      const outcome = await deleteVocabulary(ctx.pool, req.params.name);
      if (outcome === 'missing') {
        throw new RequestRejectedError('VOCABULARY_NOT_FOUND', `no canonical field '${req.params.name}'`);
      }
      if (outcome === 'builtin') {
        throw new RequestRejectedError(
          'VOCABULARY_BUILTIN',
          `'${req.params.name}' ships with tmiDB and cannot be deleted`,
        );
      }
      return reply.code(204).send();
    },
  );
}
