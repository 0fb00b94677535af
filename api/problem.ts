// SPDX-License-Identifier: MIT
// RFC 9457 problem details: every error of the API has this shape.
import type { FastifyReply } from 'fastify';
import { httpStatusOf, type ProblemCode } from '../errors/index.js';

export const problemContentType = 'application/problem+json';
export const problemTypeBase = 'https://tmidb.dev/problems/';

export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ProblemCode;
  readonly instance?: string;
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  426: 'Upgrade Required',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The problem+json body of a catalogue code; its status is the code's. */
export function problem(code: ProblemCode, detail: string, instance?: string): Problem {
  const status = httpStatusOf(code);
  return {
    type: `${problemTypeBase}${code.toLowerCase().replaceAll('_', '-')}`,
    title: titles[status] ?? 'Error',
    status,
    detail,
    code,
    ...(instance ? { instance } : {}),
  };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type(problemContentType).send(p);
}

/** JSON schema of a problem, registered as `Problem` for the OpenAPI document. */
export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string', description: 'What is wrong, in words a person can act on.' },
    code: { type: 'string', description: 'Stable machine-readable error code, e.g. SCHEMA_CONFLICT.' },
    instance: { type: 'string' },
  },
} as const;

/** Response schemas of the given error statuses, for a route's `schema.response`. */
export function problemResponses(...statuses: number[]): Record<number, unknown> {
  const out: Record<number, unknown> = {};
  for (const s of statuses) {
    out[s] = {
      description: titles[s] ?? 'Error',
      content: { [problemContentType]: { schema: { $ref: 'Problem#' } } },
    };
  }
  return out;
}
