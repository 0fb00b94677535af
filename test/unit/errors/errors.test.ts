// SPDX-License-Identifier: MIT
// The error base and the catalogue: every error class carries its tag and a catalogue code, and the code
// alone decides status, retry and close code.
import { Effect, Exit } from 'effect';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../config/index.js';
import { DatabaseError } from '../../../db/index.js';
import {
  catalogue,
  type ErrorCode,
  errorsMarkdown,
  httpStatusOf,
  InvariantError,
  isClientError,
  isErrorCode,
  isInvariantBreach,
  RequestRejectedError,
  TmiError,
  wsCloseOf,
} from '../../../errors/index.js';
import { JetStreamSetupError } from '../../../pipelines/index.js';
import { AlarmRuleInvalidError } from '../../../processors/index.js';
import { AlarmClearedError, CheckpointRegressionError } from '../../../projections/index.js';
import { InvalidDataError, SchemaConflictError } from '../../../schemas/index.js';

describe('every error class derives from the base with a catalogue code', () => {
  const cases: {
    err: TmiError;
    tag: string;
    code: ErrorCode;
    status: number;
    retryable: boolean;
    client: boolean;
  }[] = [
    {
      err: new RequestRejectedError('TARGET_NOT_FOUND', 'no target x'),
      tag: 'RequestRejectedError',
      code: 'TARGET_NOT_FOUND',
      status: 404,
      retryable: false,
      client: true,
    },
    {
      err: new RequestRejectedError('RATE_LIMITED', 'slow down'),
      tag: 'RequestRejectedError',
      code: 'RATE_LIMITED',
      status: 429,
      retryable: true,
      client: true,
    },
    {
      err: new InvalidDataError('bad field', 'data.x'),
      tag: 'InvalidDataError',
      code: 'INVALID_DATA',
      status: 400,
      retryable: false,
      client: true,
    },
    {
      err: new SchemaConflictError('k', 'temp', 'double', 'string', 1),
      tag: 'SchemaConflictError',
      code: 'SCHEMA_CONFLICT',
      status: 409,
      retryable: false,
      client: true,
    },
    {
      err: new AlarmRuleInvalidError('UNKNOWN_OPERATOR', 'op'),
      tag: 'AlarmRuleInvalidError',
      code: 'UNKNOWN_OPERATOR',
      status: 400,
      retryable: false,
      client: true,
    },
    {
      err: new AlarmClearedError('cleared'),
      tag: 'AlarmClearedError',
      code: 'ALARM_CLEARED',
      status: 409,
      retryable: false,
      client: true,
    },
    {
      err: new DatabaseError('40001', 'serialization', true),
      tag: 'DatabaseError',
      code: 'DATABASE_UNAVAILABLE',
      status: 500,
      retryable: true,
      client: false,
    },
    {
      err: new DatabaseError('23505', 'duplicate', false),
      tag: 'DatabaseError',
      code: 'DATABASE_FAILED',
      status: 500,
      retryable: false,
      client: false,
    },
    {
      err: new JetStreamSetupError(10058, 'stream name in use', false),
      tag: 'JetStreamSetupError',
      code: 'JETSTREAM_SETUP_FAILED',
      status: 500,
      retryable: false,
      client: false,
    },
    {
      err: new ConfigError('TMIDB_X: bad'),
      tag: 'ConfigError',
      code: 'CONFIG_INVALID',
      status: 500,
      retryable: false,
      client: false,
    },
    {
      err: new CheckpointRegressionError('moved back'),
      tag: 'CheckpointRegressionError',
      code: 'CHECKPOINT_REGRESSION',
      status: 500,
      retryable: false,
      client: false,
    },
  ];
  it.each(cases)('$tag $code', ({ err, tag, code, status, retryable, client }) => {
    expect(err).toBeInstanceOf(TmiError);
    expect(err).toBeInstanceOf(Error);
    expect(err._tag).toBe(tag);
    expect(err.name).toBe(tag);
    expect(err.code).toBe(code);
    expect(err.status).toBe(status);
    expect(err.isRetryable).toBe(retryable);
    expect(isClientError(err)).toBe(client);
    expect(err.stack).toContain(tag);
  });

  it('a JetStream setup error keeps the JetStream err_code apart from its catalogue code', () => {
    const err = new JetStreamSetupError(10058, 'stream name in use', true);
    expect(err.jsErrCode).toBe(10058);
    expect(err.isRetryable).toBe(true); // the instance's answer overrides the catalogue's
  });

  it('a cause travels with the error', () => {
    const cause = new Error('socket');
    expect(new DatabaseError('08006', 'lost', true, cause).cause).toBe(cause);
  });

  it('is an Effect failure when yielded', () => {
    const exit = Effect.runSyncExit(
      Effect.gen(function* () {
        return yield* new RequestRejectedError('KEY_NOT_FOUND', 'no key');
      }),
    );
    expect(Exit.isFailure(exit)).toBe(true);
    if (Exit.isFailure(exit)) expect(exit.cause.toString()).toContain('no key');
  });
});

describe('invariants crash', () => {
  const cases = [
    { err: new InvariantError('seq went down'), crashes: true },
    { err: new CheckpointRegressionError('moved back'), crashes: true },
    { err: new DatabaseError('23505', 'dup', false), crashes: false },
    { err: new RequestRejectedError('FORBIDDEN', 'no'), crashes: false },
    { err: new Error('plain'), crashes: false },
  ];
  it.each(cases)('$err.message → crashes: $crashes', ({ err, crashes }) => {
    expect(isInvariantBreach(err)).toBe(crashes);
  });
});

describe('the catalogue', () => {
  it.each([
    ['MALFORMED_JSON', 400],
    ['UNAUTHENTICATED', 401],
    ['FORBIDDEN', 403],
    ['TARGET_NOT_FOUND', 404],
    ['SCHEMA_CONFLICT', 409],
    ['BODY_TOO_LARGE', 413],
    ['UNSUPPORTED_MEDIA_TYPE', 415],
    ['PAYLOAD_UNDECODABLE', 422],
    ['UPGRADE_REQUIRED', 426],
    ['RATE_LIMITED', 429],
    ['UNAVAILABLE', 503],
    ['INVARIANT_BROKEN', 500],
  ] as const)('%s answers %i', (code, status) => {
    expect(httpStatusOf(code)).toBe(status);
  });

  it.each([
    ['SHUTTING_DOWN', 1001],
    ['INTERNAL', 1011],
    ['BAD_FRAME', 4000],
    ['TOKEN_EXPIRED', 4001],
    ['FORBIDDEN', 4003],
    ['LISTENER_NOT_FOUND', 4004],
    ['SLOW_CONSUMER', 4008],
    ['TOO_MANY_CONNECTIONS', 4009],
    ['CURSOR_EXPIRED', 4010],
  ] as const)('a stream closed with %s ends with %i', (code, close) => {
    expect(wsCloseOf(code)).toBe(close);
  });

  it('every code is upper snake case, documented in one line, and 503 means retry', () => {
    for (const [code, spec] of Object.entries(catalogue)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      expect(spec.doc.length).toBeGreaterThan(5);
      expect(spec.doc).not.toContain('\n');
      const http = (spec as { http?: number }).http;
      if (http !== undefined) expect(http >= 400 && http < 600).toBe(true);
      if (http === 503) expect(spec.retryable).toBe(true);
    }
  });

  it('tells catalogue codes from other strings', () => {
    expect(isErrorCode('TARGET_NOT_FOUND')).toBe(true);
    expect(isErrorCode('FST_ERR_BAD_URL')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
  });

  it('the README table has one row per code', () => {
    const rows = errorsMarkdown().split('\n').slice(2);
    expect(rows).toHaveLength(Object.keys(catalogue).length);
    expect(rows[0]).toMatch(/^\| `MALFORMED_JSON` \| 400 \| yes \| — \| no \| /);
  });
});

it('only catalogue codes with an HTTP status compile (checked by tsc; never called)', () => {
  const typed = () => [
    // @ts-expect-error NOT_A_CODE is not in the catalogue
    new RequestRejectedError('NOT_A_CODE', 'x'),
    // @ts-expect-error BAD_FRAME only closes a WebSocket stream
    new RequestRejectedError('BAD_FRAME', 'x'),
    // @ts-expect-error ROUTE_NOT_FOUND never closes a stream
    wsCloseOf('ROUTE_NOT_FOUND'),
  ];
  expect(typeof typed).toBe('function');
});
