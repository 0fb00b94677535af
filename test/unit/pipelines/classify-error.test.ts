// SPDX-License-Identifier: MIT
// Errors are classified by SQLSTATE / JetStream code / error class — never by message text.
import { errors as natsErrors } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { DatabaseError } from '../../../db/index.js';
import { classifyError, InvariantError } from '../../../pipelines/index.js';

function pgError(code: string) {
  return Object.assign(new Error('whatever the text says'), { code, severity: 'ERROR' });
}

describe('classifyError', () => {
  const cases: { name: string; err: unknown; retryable: boolean; code: string }[] = [
    { name: 'connection exception 08006', err: pgError('08006'), retryable: true, code: 'PG_08006' },
    { name: 'admin shutdown 57P01', err: pgError('57P01'), retryable: true, code: 'PG_57P01' },
    { name: 'serialization failure', err: pgError('40001'), retryable: true, code: 'PG_40001' },
    { name: 'deadlock', err: pgError('40P01'), retryable: true, code: 'PG_40P01' },
    { name: 'too many connections 53300', err: pgError('53300'), retryable: true, code: 'PG_53300' },
    { name: 'unique violation is permanent', err: pgError('23505'), retryable: false, code: 'PG_23505' },
    { name: 'check violation is permanent', err: pgError('23514'), retryable: false, code: 'PG_23514' },
    {
      name: 'invalid text representation is permanent',
      err: pgError('22P02'),
      retryable: false,
      code: 'PG_22P02',
    },
    {
      name: 'socket reset',
      err: Object.assign(new Error('x'), { code: 'ECONNRESET' }),
      retryable: true,
      code: 'ECONNRESET',
    },
    {
      name: 'tagged DatabaseError',
      err: new DatabaseError('08003', 'x', true),
      retryable: true,
      code: 'PG_08003',
    },
    { name: 'NATS timeout', err: new natsErrors.TimeoutError(), retryable: true, code: 'NATS_TimeoutError' },
    {
      name: 'an unknown error is permanent (dead-lettered, never retried forever)',
      err: new TypeError('boom'),
      retryable: false,
      code: 'UNEXPECTED',
    },
  ];
  it.each(cases)('$name', ({ err, retryable, code }) => {
    const c = classifyError(err);
    expect(c.isRetryable).toBe(retryable);
    expect(c.code).toBe(code);
  });

  it('a broken invariant is never swallowed', () => {
    expect(() => classifyError(new InvariantError('checkpoint moved back'))).toThrow(InvariantError);
  });
});
