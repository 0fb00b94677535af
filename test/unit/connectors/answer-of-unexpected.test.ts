// SPDX-License-Identifier: MIT
// What an unanticipated error answers, by SQLSTATE class / error class and never by its text: the caller's
// fault is a 4xx, unavailability a 503 "retry", anything else a 500.
import { errors as natsErrors } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { answerOfUnexpected } from '../../../connectors/index.js';
import { DatabaseError } from '../../../db/index.js';
import { RequestRejectedError } from '../../../errors/index.js';

function pgError(code: string) {
  return Object.assign(new Error('text that must not matter'), { code, severity: 'ERROR' });
}

describe('answerOfUnexpected', () => {
  it.each<[string, unknown, number, string]>([
    ['22P05 untranslatable character (NUL in jsonb)', pgError('22P05'), 400, 'VALUE_NOT_STORABLE'],
    ['22021 invalid byte sequence (NUL in text)', pgError('22021'), 400, 'VALUE_NOT_STORABLE'],
    ['22003 numeric value out of range (earth_box underflow)', pgError('22003'), 400, 'VALUE_NOT_STORABLE'],
    ['23505 unique violation', pgError('23505'), 409, 'CONFLICT'],
    ['23503 foreign key violation', pgError('23503'), 422, 'CONSTRAINT_VIOLATION'],
    ['23514 check violation', pgError('23514'), 422, 'CONSTRAINT_VIOLATION'],
    ['08006 connection failure', pgError('08006'), 503, 'UNAVAILABLE'],
    ['53300 too many connections', pgError('53300'), 503, 'UNAVAILABLE'],
    ['57P01 admin shutdown', pgError('57P01'), 503, 'UNAVAILABLE'],
    ['57P03 cannot connect now', pgError('57P03'), 503, 'UNAVAILABLE'],
    ['40001 serialization failure', pgError('40001'), 503, 'UNAVAILABLE'],
    ['57014 query canceled (a timeout of ours)', pgError('57014'), 500, 'INTERNAL_ERROR'],
    ['42P01 undefined table', pgError('42P01'), 500, 'INTERNAL_ERROR'],
    ['42601 syntax error', pgError('42601'), 500, 'INTERNAL_ERROR'],
    ['a socket reset', Object.assign(new Error('x'), { code: 'ECONNRESET' }), 503, 'UNAVAILABLE'],
    ['a NATS timeout', new natsErrors.TimeoutError(), 503, 'UNAVAILABLE'],
    ['a TypeError', new TypeError('x is undefined'), 500, 'INTERNAL_ERROR'],
    [
      'a DatabaseError from withTransaction (22P05)',
      new DatabaseError('22P05', 'text that must not matter', false),
      400,
      'VALUE_NOT_STORABLE',
    ],
    [
      'a DatabaseError without SQLSTATE (socket)',
      new DatabaseError('ECONNREFUSED', 'text that must not matter', true),
      503,
      'UNAVAILABLE',
    ],
    [
      'JetStream out of storage (STORAGE_FULL)',
      new RequestRejectedError('STORAGE_FULL', 'text that must not matter'),
      503,
      'STORAGE_FULL',
    ],
  ])('%s → %i %s', (_name, err, status, code) => {
    const answer = answerOfUnexpected(err, 'r-1');
    expect(answer.status).toBe(status);
    expect(answer.code).toBe(code);
    expect(answer.detail).toMatch(status >= 500 && code !== 'STORAGE_FULL' ? /r-1/ : /text that must not/);
  });
});
