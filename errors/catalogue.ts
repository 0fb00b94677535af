// SPDX-License-Identifier: MIT
// The one catalogue of error codes. Every error tmiDB raises or answers carries one of these codes; the
// code decides the HTTP status (also the status of a NATS error reply), the WebSocket close code where a
// stream can end with it, and whether trying again can help. README's error table is generated from here.

/** Where a code reaches a client: an HTTP problem, a NATS error reply, a WebSocket close. */
export interface CodeSpec {
  /** HTTP status of the problem+json answer (and of a NATS error reply); absent: never an HTTP answer. */
  readonly http?: number;
  /** Answered to a NATS speaker as `{"error": {status, code, detail}}`. */
  readonly nats?: true;
  /** WebSocket close code a stream ends with. */
  readonly ws?: number;
  /** Trying the same thing again later can succeed. */
  readonly retryable: boolean;
  /** A broken invariant: the stage (the process) crashes instead of retrying or dead-lettering. */
  readonly crashes?: true;
  /** When it happens, in one line. */
  readonly doc: string;
}

const badRequest = (doc: string) => ({ http: 400, retryable: false, doc }) as const;
const notFound = (doc: string) => ({ http: 404, retryable: false, doc }) as const;
const write = (http: number, doc: string) => ({ http, nats: true, retryable: false, doc }) as const;
const wsClose = (ws: number, doc: string, retryable = false) => ({ ws, retryable, doc }) as const;
const internal = (doc: string, retryable = false) => ({ retryable, doc }) as const;
const badRule = (doc: string) => badRequest(`alarm rule: ${doc}`);

export const catalogue = {
  // Requests of any kind
  MALFORMED_JSON: write(400, 'the body is not valid JSON'),
  EMPTY_BODY: badRequest('the request body is empty'),
  INVALID_REQUEST: badRequest("a path, query or body that doesn't match the documented schema"),
  INVALID_PARAMETER: badRequest('a query parameter out of its documented range or format'),
  BAD_REQUEST: badRequest('a request the HTTP layer refused before routing (not valid HTTP)'),
  INVALID_URL: badRequest('a URL path that is not valid percent-encoded UTF-8'),
  METHOD_NOT_ALLOWED: {
    http: 405,
    retryable: false,
    doc: 'a method the path does not have (the `Allow` header lists those it has)',
  },
  REQUEST_TIMEOUT: { http: 408, retryable: true, doc: 'the request was not received in time' },
  URI_TOO_LONG: { http: 414, retryable: false, doc: 'a path segment over 1,024 characters' },
  HEADERS_TOO_LARGE: {
    http: 431,
    retryable: false,
    doc: "the request line and headers over Node's `--max-http-header-size` (16 KiB)",
  },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, retryable: false, doc: 'a body that is not application/json' },
  BODY_TOO_LARGE: write(413, 'the body is over `TMIDB_BODY_BYTES_MAX`'),
  ROUTE_NOT_FOUND: notFound('no such route (or WebSocket endpoint)'),
  UPGRADE_REQUIRED: { http: 426, retryable: false, doc: 'plain HTTP to the WebSocket endpoint' },
  INVALID_TEXT: badRequest(
    'a path, query or body string holding NUL (U+0000) or a lone UTF-16 surrogate, which PostgreSQL cannot store',
  ),
  VALUE_NOT_STORABLE: write(
    400,
    'PostgreSQL refused a value of the request (SQLSTATE class 22, a data exception)',
  ),
  CONFLICT: write(409, 'the request conflicts with a stored row (SQLSTATE 23505, a unique violation)'),
  CONSTRAINT_VIOLATION: write(
    422,
    'the request breaks a rule of the stored data (SQLSTATE class 23: foreign key, check, not null)',
  ),
  INTERNAL_ERROR: {
    http: 500,
    nats: true,
    retryable: false,
    doc: 'an error of ours: nothing was acknowledged; the log has a line with the request id',
  },
  STORAGE_FULL: {
    http: 503,
    nats: true,
    retryable: true,
    doc: "JetStream's store is full (`max_file_store`): nothing was acknowledged; retry once space is freed",
  },
  UNAVAILABLE: {
    http: 503,
    nats: true,
    retryable: true,
    doc: 'PostgreSQL or JetStream unreachable, or tmiDB stopping: nothing was acknowledged; retry with the same `event_id` / `Idempotency-Key`',
  },
  // Credentials and access
  UNAUTHENTICATED: { ...write(401, 'no credential, or a key or token that is not valid'), ws: 4001 },
  TOKEN_EXPIRED: { http: 401, nats: true, ws: 4001, retryable: false, doc: 'the token has expired' },
  TOKEN_INVALID: internal('a token that does not verify (answered as `UNAUTHENTICATED`)'),
  FORBIDDEN: { http: 403, nats: true, ws: 4003, retryable: false, doc: "the key's scope does not allow it" },
  RATE_LIMITED: {
    http: 429,
    nats: true,
    retryable: true,
    doc: 'the key sent more requests than `TMIDB_RATE_LIMIT_PER_S` / `TMIDB_RATE_LIMIT_BURST` allow; retry later',
  },
  INVALID_KEY: badRequest('a key or token request with a bad scope, name or ttl'),
  KEY_NOT_FOUND: notFound('unknown API key'),
  KEY_REVOKES_ITSELF: { http: 409, retryable: false, doc: 'a key asked to revoke itself' },
  LAST_ADMIN_KEY: {
    http: 409,
    retryable: false,
    doc: 'revoking the last admin key in force would lock everyone out',
  },
  CREDENTIAL_IN_URL: badRequest('a key or token in a WebSocket URL'),
  ORIGIN_FORBIDDEN: { http: 403, retryable: false, doc: 'a WebSocket Origin not in `TMIDB_WS_ORIGINS`' },
  // Writes
  EMPTY_WRITE: write(400, 'a write with no event'),
  INVALID_EVENT: write(400, 'an event with unknown or missing members'),
  INVALID_EVENT_ID: write(400, '`event_id` is not a UUID'),
  INVALID_TARGET_ID: write(400, '`target_id` is not a UUID'),
  DUPLICATE_EVENT_ID: write(400, 'one `event_id` twice in a write'),
  INVALID_IDEMPOTENCY_KEY: write(400, 'an `Idempotency-Key` that is too long'),
  INVALID_TIMESTAMP: write(
    400,
    '`ts` is not ISO-8601 with a zone nor epoch milliseconds, or outside 1970…2200',
  ),
  INVALID_DATA: write(
    400,
    '`data` is not an object; a bad field name; too many fields (`TMIDB_EVENT_FIELDS_MAX`); a string over `TMIDB_STRING_LENGTH_MAX`; nesting deeper than 8; a mixed array',
  ),
  TOO_MANY_EVENTS: write(413, 'a write over `TMIDB_WRITE_EVENTS_MAX` events'),
  SCHEMA_CONFLICT: write(409, 'a field would change type'),
  // Targets, schemas, rules
  TARGET_NOT_FOUND: { http: 404, nats: true, retryable: false, doc: 'unknown target' },
  FILE_NOT_FOUND: notFound('no such file, or one this key may not see'),
  FILE_TOO_LARGE: { http: 413, retryable: false, doc: 'a file over `TMIDB_FILE_BYTES_MAX`' },
  FILE_MISMATCH: {
    http: 422,
    retryable: false,
    doc: 'a presigned upload whose object does not have the size and sha256 given to complete it',
  },
  FILES_DISABLED: {
    http: 501,
    retryable: false,
    doc: 'this process has no S3 store for files (TMIDB_S3_URL unset and no embedded SeaweedFS)',
  },
  TARGET_EXISTS: { http: 409, retryable: false, doc: 'a target with this id exists already' },
  META_TOO_LARGE: badRequest("a target's meta over its size limit"),
  SCHEMA_NOT_FOUND: notFound('no schema with this schema_id'),
  SCHEMA_VERSION_NOT_FOUND: notFound('no such version of a kind'),
  KIND_NOT_FOUND: notFound('no schema registered for this kind'),
  SCHEMA_VERSION_RETIRED: {
    http: 410,
    retryable: false,
    doc: 'a retired version of a kind was requested; the problem names the version to move to',
  },
  LAST_ACTIVE_VERSION: {
    http: 409,
    retryable: false,
    doc: 'retiring the only version of a kind that is not retired',
  },
  VERSION_UNREADABLE: {
    http: 422,
    retryable: false,
    doc: 'data written under one version cannot be read as the pinned one (a field changed type under `NONE`)',
  },
  PAYLOAD_UNDECODABLE: {
    http: 422,
    retryable: false,
    doc: 'payload bytes that do not decode with their schema (dead-lettered in a stage)',
  },
  INVALID_MAPPING_RULE: badRequest('a mapping rule whose action or target does not fit'),
  MAPPING_RULE_NOT_FOUND: notFound('unknown mapping rule'),
  VOCABULARY_EXISTS: {
    http: 409,
    retryable: false,
    doc: 'the vocabulary already has a canonical field of that name',
  },
  VOCABULARY_FULL: { http: 409, retryable: false, doc: 'the vocabulary holds its maximum of fields' },
  VOCABULARY_BUILTIN: {
    http: 409,
    retryable: false,
    doc: 'a canonical field shipped with tmiDB cannot be deleted',
  },
  VOCABULARY_NOT_FOUND: notFound('unknown canonical field'),
  SUGGESTION_NOT_FOUND: notFound('unknown mapping suggestion'),
  SUGGESTION_CLOSED: {
    http: 409,
    retryable: false,
    doc: 'the mapping suggestion was approved or rejected already',
  },
  INVALID_CORRECTION: badRequest('an approval whose canonical field or unit does not fit the vocabulary'),
  NORMALIZE_MODEL_INVALID: internal(
    "the normalizer's ONNX model or its metadata cannot be read or does not match",
  ),
  INVALID_RULE: badRule('malformed (unknown member, wrong type, missing condition)'),
  UNKNOWN_RULE_TYPE: badRule('unknown `type`'),
  UNKNOWN_OPERATOR: badRule('unknown comparison operator'),
  UNKNOWN_SEVERITY: badRule('unknown severity'),
  UNKNOWN_TRIGGER: badRule('unknown trigger'),
  INVALID_FIELD_NAME: badRule('a bad field name'),
  FIELD_NAME_TOO_LONG: badRule('a field name over its length limit'),
  INVALID_VALUE: badRule('a value that is not a finite number or is too long'),
  INVALID_RANGE: badRule('min greater than max'),
  NEGATIVE_DURATION: badRule('a negative duration'),
  INVALID_DURATION: badRule('a duration of 0 or over 30 days'),
  INVALID_RADIUS: badRule('a geofence radius out of range'),
  INVALID_COORDINATE: badRule('a latitude or longitude out of range'),
  INVALID_SCOPE: badRule('target_id and kind both given, or either malformed'),
  ALARM_RULE_NOT_FOUND: notFound('unknown alarm rule'),
  ALARM_NOT_FOUND: notFound('unknown alarm'),
  ALARM_CLEARED: { http: 409, retryable: false, doc: 'acknowledging an alarm that is cleared' },
  // Managed connectors (/v1/connectors)
  INVALID_CONNECTOR: badRequest(
    'a connector definition that does not validate; the detail starts with the member',
  ),
  CONNECTOR_NOT_FOUND: notFound('unknown connector'),
  CONNECTOR_EXISTS: { http: 409, retryable: false, doc: 'a connector with this name exists already' },
  OUTBOX_CONNECTOR_EXISTS: {
    http: 409,
    retryable: false,
    doc: 'a second connector for the tmi.speak() outbox',
  },
  CONNECTOR_SOURCE_FAILED: internal(
    'a connector could not read its source; its status shows the reason (HTTP_429, TIMEOUT, DESTINATION_REFUSED …) and it backs off',
    true,
  ),
  CONNECTOR_LEASE_LOST: internal(
    'another process took a connector over; this one stops without moving the cursor',
    true,
  ),
  // Listeners and streams
  LISTENER_NOT_FOUND: { http: 404, ws: 4004, retryable: false, doc: "no such listener, or not this key's" },
  LISTENER_EXISTS: { http: 409, retryable: false, doc: 'a listener with this name exists already' },
  INVALID_SUBSCRIPTION: badRequest('a subscription with a bad target or kind'),
  TOO_MANY_SUBSCRIPTIONS: badRequest('a listener over its subscriptions limit'),
  SUBSCRIPTION_NOT_FOUND: notFound('unknown subscription'),
  BAD_FRAME: wsClose(4000, 'a frame that is not JSON, not a known type, or out of order'),
  AUTH_FIRST: wsClose(4000, 'a frame before `auth`'),
  LISTENER_REQUIRED: wsClose(4000, 'a listener key that names no listener'),
  AUTH_TIMEOUT: wsClose(4001, 'no valid `auth` frame in time'),
  KEY_REVOKED: wsClose(4001, 'the key was revoked while streaming'),
  SLOW_CONSUMER: wsClose(4008, 'the client read too slowly: resume from the last cursor it processed', true),
  TOO_MANY_CONNECTIONS: wsClose(4009, 'the key has `TMIDB_WS_CONNECTIONS_PER_KEY_MAX` streams open', true),
  CURSOR_EXPIRED: wsClose(4010, 'the resume cursor is older than the retention of TMI_LISTEN'),
  CURSOR_UNKNOWN: wsClose(4010, 'the resume cursor is from another stream'),
  SHUTTING_DOWN: wsClose(1001, 'tmiDB is stopping: reconnect and resume', true),
  STREAM_FAILED: wsClose(1011, 'the stream broke on the server: reconnect and resume', true),
  INTERNAL: wsClose(1011, 'unexpected server error: reconnect and resume', true),
  // The console (/console)
  CONSOLE_NOT_BUILT: notFound('the console is not built into dist/console: run npm run build'),
  CONSOLE_FILE_NOT_FOUND: notFound('no such file in the console build'),
  // Stages (dead-letter reasons) and invariants
  ENVELOPE_UNDECODABLE: internal('a stream message that is not an event envelope (dead-lettered)'),
  ALARM_UNDECODABLE: internal('a stream message that is not an alarm transition (dead-lettered)'),
  MAX_DELIVER: internal('a message delivered too often without success (dead-lettered)'),
  UNEXPECTED: internal('an error of no known kind (dead-lettered, never retried forever)'),
  STAGE_STOPPED: internal('a stage stopped during a batch: the stream redelivers it', true),
  INVARIANT_BROKEN: {
    ...internal('a broken invariant: the process crashes, the stream redelivers'),
    crashes: true,
  },
  CHECKPOINT_REGRESSION: {
    ...internal("a stage's checkpoint would move back: the stage crashes, the stream redelivers"),
    crashes: true,
  },
  DATABASE_UNAVAILABLE: internal('PostgreSQL unreachable or busy (connection, shutdown, deadlock)', true),
  DATABASE_FAILED: internal('PostgreSQL refused a statement (a constraint, a bad value)'),
  JETSTREAM_SETUP_FAILED: internal('a stream or consumer could not be created or updated'),
  // Local operation
  CONFIG_INVALID: internal('a setting that does not parse or is out of range'),
  BINARY_MISSING: internal('PostgreSQL or nats-server is not installed: run `npm run setup`'),
  LAUNCH_FAILED: internal('a local server could not be prepared, started or stopped'),
  ALREADY_RUNNING: internal('tmiDB is already running on this home'),
  NOT_RUNNING: internal('no tmiDB is running on this home'),
  USAGE_INVALID: internal('a command line that does not parse'),
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof catalogue;

type Spec<C extends ErrorCode> = (typeof catalogue)[C];

/** Codes a request can be refused with over HTTP (and, when `nats`, over NATS). */
export type ProblemCode = {
  [C in ErrorCode]: Spec<C> extends { readonly http: number } ? C : never;
}[ErrorCode];

/** Codes a WebSocket stream can be closed with. */
export type CloseCode = { [C in ErrorCode]: Spec<C> extends { readonly ws: number } ? C : never }[ErrorCode];

export function specOf(code: ErrorCode): CodeSpec {
  return catalogue[code];
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(catalogue, code);
}

/** HTTP status of a code; 500 for codes never answered over HTTP. */
export function httpStatusOf(code: ErrorCode): number {
  return specOf(code).http ?? 500;
}

/** WebSocket close code of a code a stream can end with. */
export function wsCloseOf(code: CloseCode): number {
  return (catalogue[code] as { readonly ws: number }).ws;
}

/** The README's error table: one row per code, grouped as the catalogue is. */
export function errorsMarkdown(): string {
  const lines = ['| code | HTTP | NATS reply | WS close | retry | when |', '|---|---|---|---|---|---|'];
  for (const [code, raw] of Object.entries(catalogue)) {
    const s: CodeSpec = raw;
    const cells = [
      `\`${code}\``,
      s.http ?? '—',
      s.nats ? 'yes' : '—',
      s.ws ?? '—',
      s.retryable ? 'yes' : 'no',
    ];
    lines.push(`| ${cells.join(' | ')} | ${s.doc} |`);
  }
  return lines.join('\n');
}
