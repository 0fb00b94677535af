// SPDX-License-Identifier: MIT
// Request validation that takes the schema at its word. Bodies are JSON, so their types are never coerced:
// `{"name": false}` or `{"name": ["x"]}` is refused, not turned into "false" or "x". Path, query and
// header values are text by nature, so there (and only there) "5" is read as the integer 5 and a repeated
// query parameter as an array — the one deliberate parsing step the document describes.
import { AjvCompiler, type BuildCompilerFromPool } from '@fastify/ajv-compiler';
import type { FastifySchemaCompiler } from 'fastify';

// Fastify calls a validator compiler with the route's schema definition (httpPart included), which the
// ajv-compiler's typings leave out.
type ValidatorFactory = (
  externalSchemas: unknown,
  options: { customOptions: Record<string, unknown> },
) => FastifySchemaCompiler<unknown>;

const shared = { allErrors: false, removeAdditional: false, useDefaults: true } as const;

// One pool for the process: Fastify asks for a validator compiler in every encapsulated context (each
// route registrar), and the pool answers with the Ajv instance already built for the same external schemas
// and options instead of building (and compiling the meta-schema into) a new one each time — which cost
// seconds of CPU at every start.
const factory = AjvCompiler() as unknown as ValidatorFactory;

/** Fastify's `schemaController.compilersFactory.buildValidator`: strict bodies, parsed text parts. */
export const buildStrictValidator = ((externalSchemas: unknown): FastifySchemaCompiler<unknown> => {
  const bodies = factory(externalSchemas, { customOptions: { ...shared, coerceTypes: false } });
  const textParts = factory(externalSchemas, { customOptions: { ...shared, coerceTypes: 'array' } });
  return (route) => (route.httpPart === 'body' ? bodies(route) : textParts(route));
}) as unknown as BuildCompilerFromPool;
