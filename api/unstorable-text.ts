// SPDX-License-Identifier: MIT
// The door for text: a request whose path, query or JSON body holds a string PostgreSQL cannot store (NUL,
// a lone UTF-16 surrogate) is refused with a 400 that names where, before any route touches it. Speaker
// writes are checked by accept() itself (connectors/accept.ts), which names the event.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RequestRejectedError } from '../errors/index.js';
import { unstorableCharacter } from '../schemas/index.js';

/** Deeper than any body a route accepts; a deeper one is refused by its route's own rules. */
const scanDepthMax = 32;

export function findUnstorableText(value: unknown, where: string, depth = 0): string | undefined {
  if (typeof value === 'string') {
    const why = unstorableCharacter(value);
    return why === undefined ? undefined : `${where} ${why}`;
  }
  if (value === null || typeof value !== 'object' || depth > scanDepthMax) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findUnstorableText(value[i], `${where}[${i}]`, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(value)) {
    const keyWhy = unstorableCharacter(k);
    if (keyWhy !== undefined) return `the name of a member of ${where} ${keyWhy}`;
    const found = findUnstorableText(v, `${where}.${k}`, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

function check(req: FastifyRequest): void {
  const found =
    findUnstorableText(req.params, 'path') ??
    findUnstorableText(req.query, 'query') ??
    ((req.routeOptions.config as { access?: string } | undefined)?.access === 'speaker'
      ? undefined
      : findUnstorableText(req.body, 'body'));
  if (found !== undefined) throw new RequestRejectedError('INVALID_TEXT', found);
}

export function registerUnstorableTextCheck(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => check(req));
}
