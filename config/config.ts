// SPDX-License-Identifier: MIT
// The one place configuration is read and validated. Every field has a default, a unit and a line
// of docs; the README's configuration table is generated from `configFields` (`tmictl config --markdown`).
import path from 'node:path';
import { TaggedError, type TmiErrorOptions } from '../errors/index.js';

export class ConfigError extends TaggedError('ConfigError')<'CONFIG_INVALID'> {
  constructor(message: string, options?: TmiErrorOptions) {
    super('CONFIG_INVALID', message, options);
  }
}

type Parser<T> = (raw: string, env: string) => T;

interface FieldSpec<T> {
  readonly env: string;
  readonly default: T;
  readonly unit: string;
  readonly doc: string;
  readonly secret?: boolean;
  readonly parse: Parser<T>;
}

const str: Parser<string> = (raw) => raw;
const optStr: Parser<string | undefined> = (raw) => (raw === '' ? undefined : raw);
const int =
  (min: number, max: number): Parser<number> =>
  (raw, env) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(`${env} must be an integer in [${min}, ${max}], got '${raw}'`);
    }
    return n;
  };
const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw, env) => {
    if (!values.includes(raw as T))
      throw new ConfigError(`${env} must be one of ${values.join(', ')}, got '${raw}'`);
    return raw as T;
  };
const ratio: Parser<number> = (raw, env) => {
  const n = Number(raw);
  if (raw === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new ConfigError(`${env} must be a number in [0, 1], got '${raw}'`);
  }
  return n;
};
const natsSync: Parser<string> = (raw, env) => {
  if (raw === 'always' || /^\d+(ms|s|m|h)$/.test(raw)) return raw;
  throw new ConfigError(`${env} must be 'always' or a duration such as 500ms, 10s, 2m; got '${raw}'`);
};
const namespace: Parser<string> = (raw, env) => {
  if (/^[a-z][a-z0-9_]{0,31}$/.test(raw)) return raw;
  throw new ConfigError(
    `${env} must match ^[a-z][a-z0-9_]{0,31}$ (it prefixes NATS subjects and stream names); got '${raw}'`,
  );
};

export const configFields = {
  home: {
    env: 'TMIDB_HOME',
    default: './.tmidb',
    unit: 'path',
    doc: 'Data directory of the embedded PostgreSQL cluster and nats-server, logs, keys.',
    parse: str,
  },
  httpHost: {
    env: 'TMIDB_HTTP_HOST',
    default: '127.0.0.1',
    unit: 'address',
    doc: 'Address the HTTP/WS API listens on.',
    parse: str,
  },
  httpPort: {
    env: 'TMIDB_HTTP_PORT',
    default: 3000,
    unit: 'port',
    doc: 'Port of the HTTP/WS API (0 = any free port).',
    parse: int(0, 65535),
  },
  pgUrl: {
    env: 'TMIDB_PG_URL',
    default: undefined,
    unit: 'URL',
    doc: 'Use this external PostgreSQL instead of the embedded cluster.',
    secret: true,
    parse: optStr,
  },
  pgPort: {
    env: 'TMIDB_PG_PORT',
    default: 55432,
    unit: 'port',
    doc: 'Loopback port of the embedded PostgreSQL.',
    parse: int(1, 65535),
  },
  pgDatabase: {
    env: 'TMIDB_PG_DATABASE',
    default: 'tmidb',
    unit: 'name',
    doc: 'Database of the embedded cluster that holds the `tmi` schema.',
    parse: str,
  },
  pgPoolMax: {
    env: 'TMIDB_PG_POOL_MAX',
    default: 10,
    unit: 'connections',
    doc: 'Connections per process pool.',
    parse: int(1, 200),
  },
  heapGrowingPercent: {
    env: 'TMIDB_HEAP_GROWING_PERCENT',
    default: 100,
    unit: 'percent',
    doc: "How far V8's heap may grow past what the last major collection kept before the next one runs (0 = V8's own choice, up to 300 %): bounds the garbage a busy process holds (ADR 0034).",
    parse: int(0, 1_000),
  },
  pgBinDir: {
    env: 'TMIDB_PG_BIN_DIR',
    default: undefined,
    unit: 'path',
    doc: 'Directory of the PostgreSQL 15 server programs (initdb, pg_ctl, postgres); default: /usr/lib/postgresql/15/bin, else `pg_config --bindir`, else PATH.',
    parse: optStr,
  },
  natsServerBin: {
    env: 'TMIDB_NATS_SERVER_BIN',
    default: undefined,
    unit: 'path',
    doc: 'The nats-server (>= 2.12) program to run; default: found on PATH, in the pip scripts directory or ~/go/bin.',
    parse: optStr,
  },
  natsUrl: {
    env: 'TMIDB_NATS_URL',
    default: undefined,
    unit: 'URL',
    doc: 'Use this external NATS (JetStream enabled) instead of the embedded nats-server.',
    secret: true,
    parse: optStr,
  },
  natsPort: {
    env: 'TMIDB_NATS_PORT',
    default: 44222,
    unit: 'port',
    doc: 'Loopback port of the embedded nats-server.',
    parse: int(1, 65535),
  },
  natsSync: {
    env: 'TMIDB_NATS_SYNC',
    default: '2m',
    unit: 'duration or always',
    doc: "JetStream fsync interval of the embedded nats-server; 'always' fsyncs every write.",
    parse: natsSync,
  },
  namespace: {
    env: 'TMIDB_NAMESPACE',
    default: 'tmi',
    unit: 'name',
    doc: 'Prefix of subjects (`tmi.in.<id>`) and streams (`TMI_IN`), so several instances can share one NATS.',
    parse: namespace,
  },
  streamMaxAgeMs: {
    env: 'TMIDB_STREAM_MAX_AGE_MS',
    default: 7 * 24 * 3600 * 1000,
    unit: 'ms',
    doc: 'Retention of the TMI_IN / TMI_NORM streams (replay window).',
    parse: int(60_000, 365 * 24 * 3600 * 1000),
  },
  streamBytesMax: {
    env: 'TMIDB_STREAM_BYTES_MAX',
    default: 0,
    unit: 'bytes',
    doc: 'Size cap of each stream, oldest messages dropped first; 0 = bounded only by retention and the server store (a cap reserves that much JetStream storage up front).',
    parse: (raw, env) => (raw === '0' ? 0 : int(1024 ** 2, Number.MAX_SAFE_INTEGER)(raw, env)),
  },
  dedupeWindowMs: {
    env: 'TMIDB_DEDUPE_WINDOW_MS',
    default: 2 * 60 * 1000,
    unit: 'ms',
    doc: 'JetStream duplicate window for Nats-Msg-Id (projections dedupe by event_id forever).',
    parse: int(1000, 24 * 3600 * 1000),
  },
  ackWaitMs: {
    env: 'TMIDB_ACK_WAIT_MS',
    default: 30_000,
    unit: 'ms',
    doc: 'How long a stage may hold a batch before JetStream redelivers it.',
    parse: int(1000, 3_600_000),
  },
  stageBatchMessagesMax: {
    env: 'TMIDB_STAGE_BATCH_MESSAGES_MAX',
    default: 500,
    unit: 'messages',
    doc: 'Messages a stage takes into one transaction.',
    parse: int(1, 10_000),
  },
  stageBatchBytesMax: {
    env: 'TMIDB_STAGE_BATCH_BYTES_MAX',
    default: 1024 * 1024,
    unit: 'bytes',
    doc: 'Message bytes a stage takes into one transaction (at least one message): bounds what a batch holds decoded.',
    parse: int(64 * 1024, 1024 * 1024 * 1024),
  },
  stageBufferBytesMax: {
    env: 'TMIDB_STAGE_BUFFER_BYTES_MAX',
    default: 2 * 1024 * 1024,
    unit: 'bytes',
    doc: 'Message bytes a stage pulls and buffers ahead of its batch; beyond, it stops pulling and the backlog waits in JetStream. At least 2 MiB: one pull must fit the largest message.',
    parse: int(2 * 1024 * 1024, 1024 * 1024 * 1024),
  },
  stageMaxDeliver: {
    env: 'TMIDB_STAGE_MAX_DELIVER',
    default: 50,
    unit: 'deliveries',
    doc: 'Deliveries of one message before it is dead-lettered.',
    parse: int(2, 10_000),
  },
  bodyBytesMax: {
    env: 'TMIDB_BODY_BYTES_MAX',
    default: 1024 * 1024,
    unit: 'bytes',
    doc: 'Largest accepted request body.',
    parse: int(1024, 64 * 1024 * 1024),
  },
  writeEventsMax: {
    env: 'TMIDB_WRITE_EVENTS_MAX',
    default: 1000,
    unit: 'events',
    doc: 'Most events in one write request.',
    parse: int(1, 100_000),
  },
  eventFieldsMax: {
    env: 'TMIDB_EVENT_FIELDS_MAX',
    default: 256,
    unit: 'fields',
    doc: 'Most fields (counted through nested objects) in one event.',
    parse: int(1, 10_000),
  },
  stringLengthMax: {
    env: 'TMIDB_STRING_LENGTH_MAX',
    default: 8192,
    unit: 'characters',
    doc: 'Longest string value in event data.',
    parse: int(1, 1024 * 1024),
  },
  auth: {
    env: 'TMIDB_AUTH',
    default: 'on',
    unit: 'on or off',
    doc: "API keys / tokens on every route but /healthz, /openapi.json, /docs. 'off' makes every caller an admin: only for a private laptop.",
    parse: oneOf('on', 'off'),
  },
  apiKey: {
    env: 'TMIDB_API_KEY',
    default: undefined,
    unit: 'secret',
    doc: 'The key `tmictl` sends (publish, status, tail …); default: the admin key `tmictl up` keeps in <home>/admin.key.',
    secret: true,
    parse: optStr,
  },
  jwtAlg: {
    env: 'TMIDB_JWT_ALG',
    default: 'HS256',
    unit: 'HS256 or EdDSA',
    doc: 'Signature algorithm of the short-lived tokens POST /v1/tokens mints; the only one accepted.',
    parse: oneOf('HS256', 'EdDSA'),
  },
  jwtSecret: {
    env: 'TMIDB_JWT_SECRET',
    default: undefined,
    unit: 'secret',
    doc: 'HS256: the signing secret (≥ 32 bytes); EdDSA: an Ed25519 private key (PKCS#8 PEM). Default: generated once into <home>/jwt.secret or <home>/jwt-ed25519.pem (mode 0600). Give it to every API process of one instance.',
    secret: true,
    parse: optStr,
  },
  jwtIssuer: {
    env: 'TMIDB_JWT_ISSUER',
    default: 'tmidb',
    unit: 'string',
    doc: '`iss` of minted tokens; a token with another issuer is refused.',
    parse: str,
  },
  jwtAudience: {
    env: 'TMIDB_JWT_AUDIENCE',
    default: 'tmidb-api',
    unit: 'string',
    doc: '`aud` of minted tokens; a token for another audience is refused.',
    parse: str,
  },
  jwtTtlMs: {
    env: 'TMIDB_JWT_TTL_MS',
    default: 15 * 60 * 1000,
    unit: 'ms',
    doc: 'Longest lifetime of a minted token (a request may ask for less).',
    parse: int(10_000, 24 * 3600 * 1000),
  },
  rateLimitPerS: {
    env: 'TMIDB_RATE_LIMIT_PER_S',
    default: 1000,
    unit: 'requests/s',
    doc: 'Sustained requests per key and process (HTTP and NATS speak requests together); beyond it 429 with Retry-After. 0 = no limit.',
    parse: int(0, 1_000_000),
  },
  rateLimitBurst: {
    env: 'TMIDB_RATE_LIMIT_BURST',
    default: 2000,
    unit: 'requests',
    doc: 'Requests a key may send at once above the sustained rate (token bucket size).',
    parse: int(1, 10_000_000),
  },
  metricsAccess: {
    env: 'TMIDB_METRICS_ACCESS',
    default: 'admin',
    unit: 'admin or public',
    doc: '/metrics for admin keys only, or for anyone who reaches the port (a Prometheus without credentials).',
    parse: oneOf('admin', 'public'),
  },
  wsOrigins: {
    env: 'TMIDB_WS_ORIGINS',
    default: '',
    unit: 'origins',
    doc: "Comma-separated Origins a browser may open /tmi/ws from (`https://app.example.com`); '*' = any. Empty: clients without Origin (servers, CLIs) and pages served by this host only.",
    parse: str,
  },
  wsFrameBytesMax: {
    env: 'TMIDB_WS_FRAME_BYTES_MAX',
    default: 64 * 1024,
    unit: 'bytes',
    doc: 'Largest message a WebSocket client may send (closed with 1009 beyond).',
    parse: int(1024, 16 * 1024 * 1024),
  },
  wsConnectionsPerKeyMax: {
    env: 'TMIDB_WS_CONNECTIONS_PER_KEY_MAX',
    default: 16,
    unit: 'connections',
    doc: 'Open WebSocket streams per key and process (close 4009 beyond).',
    parse: int(1, 100_000),
  },
  wsSendBufferBytesMax: {
    env: 'TMIDB_WS_SEND_BUFFER_BYTES_MAX',
    default: 4 * 1024 * 1024,
    unit: 'bytes',
    doc: 'Bytes queued for one WebSocket client before it is closed as too slow (4008; it resumes from its last cursor).',
    parse: int(16 * 1024, 1024 * 1024 * 1024),
  },
  wsSendStallMs: {
    env: 'TMIDB_WS_SEND_STALL_MS',
    default: 30_000,
    unit: 'ms',
    doc: 'How long a WebSocket client may leave half its send buffer unread before it is closed as too slow (4008).',
    parse: int(100, 3_600_000),
  },
  wsHeartbeatMs: {
    env: 'TMIDB_WS_HEARTBEAT_MS',
    default: 30_000,
    unit: 'ms',
    doc: 'WebSocket ping interval; a client that misses a pong by the next ping is dropped.',
    parse: int(100, 3_600_000),
  },
  wsAuthTimeoutMs: {
    env: 'TMIDB_WS_AUTH_TIMEOUT_MS',
    default: 10_000,
    unit: 'ms',
    doc: 'Time a WebSocket client has to send its auth and subscribe/resume frames (close 4001 after).',
    parse: int(100, 600_000),
  },
  listenMaxAgeMs: {
    env: 'TMIDB_LISTEN_MAX_AGE_MS',
    default: 24 * 3600 * 1000,
    unit: 'ms',
    doc: 'Retention of the TMI_LISTEN stream: how far back a WebSocket client can resume by cursor.',
    parse: int(60_000, 365 * 24 * 3600 * 1000),
  },
  listenMessagesMax: {
    env: 'TMIDB_LISTEN_MESSAGES_MAX',
    default: 10_000_000,
    unit: 'messages',
    doc: 'Messages TMI_LISTEN keeps (all listeners together), oldest dropped first.',
    parse: int(1000, Number.MAX_SAFE_INTEGER),
  },
  listenBytesMax: {
    env: 'TMIDB_LISTEN_BYTES_MAX',
    default: 0,
    unit: 'bytes',
    doc: 'Size cap of TMI_LISTEN, oldest dropped first; 0 = bounded by age and message count only.',
    parse: (raw, env) => (raw === '0' ? 0 : int(1024 ** 2, Number.MAX_SAFE_INTEGER)(raw, env)),
  },
  connectors: {
    env: 'TMIDB_CONNECTORS',
    default: 'on',
    unit: 'on or off',
    doc: "Run managed connectors (/v1/connectors: poll, sql) inside `tmictl up`; 'off' leaves them to `tmictl connector run` processes.",
    parse: oneOf('on', 'off'),
  },
  connectorLeaseMs: {
    env: 'TMIDB_CONNECTOR_LEASE_MS',
    default: 15_000,
    unit: 'ms',
    doc: "A connector's lease in PostgreSQL: renewed every quarter of it; a process that dies loses its connectors to another one this long after its last renewal.",
    parse: int(400, 600_000),
  },
  connectorBackoffInitialMs: {
    env: 'TMIDB_CONNECTOR_BACKOFF_INITIAL_MS',
    default: 1000,
    unit: 'ms',
    doc: "First retry delay after a connector's failure; doubles per consecutive failure (jittered), up to the cap.",
    parse: int(10, 3_600_000),
  },
  connectorBackoffMaxMs: {
    env: 'TMIDB_CONNECTOR_BACKOFF_MAX_MS',
    default: 300_000,
    unit: 'ms',
    doc: 'Cap of the retry delay of a failing connector (also of a Retry-After a source sends).',
    parse: int(100, 86_400_000),
  },
  speakPollMs: {
    env: 'TMIDB_SPEAK_POLL_MS',
    default: 1000,
    unit: 'ms',
    doc: 'The tmi.speak() outbox is drained on every NOTIFY and, as a safety net, this often.',
    parse: int(10, 600_000),
  },
  s3Url: {
    env: 'TMIDB_S3_URL',
    default: undefined,
    unit: 'URL',
    doc: 'Store files in this S3-compatible endpoint (AWS, SeaweedFS, Ceph, Garage) instead of the embedded SeaweedFS.',
    parse: optStr,
  },
  s3Bucket: {
    env: 'TMIDB_S3_BUCKET',
    default: 'tmidb-files',
    unit: 'name',
    doc: 'Bucket that holds the files (created when missing).',
    parse: str,
  },
  s3Region: {
    env: 'TMIDB_S3_REGION',
    default: 'us-east-1',
    unit: 'name',
    doc: 'Region the S3 requests are signed for.',
    parse: str,
  },
  s3AccessKey: {
    env: 'TMIDB_S3_ACCESS_KEY',
    default: undefined,
    unit: 'secret',
    doc: 'Access key for `TMIDB_S3_URL` (the embedded SeaweedFS generates its own).',
    secret: true,
    parse: optStr,
  },
  s3SecretKey: {
    env: 'TMIDB_S3_SECRET_KEY',
    default: undefined,
    unit: 'secret',
    doc: 'Secret key for `TMIDB_S3_URL`.',
    secret: true,
    parse: optStr,
  },
  s3Port: {
    env: 'TMIDB_S3_PORT',
    default: 48333,
    unit: 'port',
    doc: "Loopback port of the embedded SeaweedFS's S3 gateway.",
    parse: int(1, 65535),
  },
  weedBin: {
    env: 'TMIDB_WEED_BIN',
    default: undefined,
    unit: 'path',
    doc: "SeaweedFS's `weed` program; default: the one `npm run setup` built into ~/.cache/tmidb/bin.",
    parse: optStr,
  },
  fileBytesMax: {
    env: 'TMIDB_FILE_BYTES_MAX',
    default: 5 * 1024 ** 3,
    unit: 'bytes',
    doc: 'Largest file `PUT /v1/targets/{id}/files/{name}` or a presigned upload accepts.',
    parse: int(1, 5 * 1024 ** 4),
  },
  filePresignTtlS: {
    env: 'TMIDB_FILE_PRESIGN_TTL_S',
    default: 300,
    unit: 's',
    doc: 'Lifetime of a presigned upload or download URL.',
    parse: int(10, 7 * 24 * 3600),
  },
  pollAllowPrivate: {
    env: 'TMIDB_POLL_ALLOW_PRIVATE',
    default: 'off',
    unit: 'on or off',
    doc: "'on' lets poll connectors reach loopback and private addresses (link-local and cloud metadata addresses stay refused).",
    parse: oneOf('on', 'off'),
  },
  normalizeModel: {
    env: 'TMIDB_NORMALIZE_MODEL',
    default: undefined,
    unit: 'path',
    doc: "The normalizer's ONNX model (with its metadata beside it: `x.onnx` → `x.json`); default: the shipped models/normalizer/model.onnx.",
    parse: optStr,
  },
  normalizeDefaultRole: {
    env: 'TMIDB_NORMALIZE_DEFAULT_ROLE',
    default: 'auto',
    unit: 'role',
    doc: "The model's role for kinds without their own setting (/v1/normalize/kinds): auto, suggest, off.",
    parse: oneOf('auto', 'suggest', 'off'),
  },
  normalizeAutoMin: {
    env: 'TMIDB_NORMALIZE_AUTO_MIN',
    default: 0.8,
    unit: 'ratio',
    doc: 'Model confidence at or above which a mapping is applied without a person (chosen from `npm run eval:normalizer`: 99.3 % precise on the held-out split).',
    parse: ratio,
  },
  normalizeSuggestMin: {
    env: 'TMIDB_NORMALIZE_SUGGEST_MIN',
    default: 0.3,
    unit: 'ratio',
    doc: 'Model confidence at or above which (below the auto threshold) a mapping is suggested to a person.',
    parse: ratio,
  },
  logLevel: {
    env: 'TMIDB_LOG_LEVEL',
    default: 'info',
    unit: 'level',
    doc: 'fatal, error, warn, info, debug.',
    parse: oneOf('fatal', 'error', 'warn', 'info', 'debug'),
  },
} satisfies Record<string, FieldSpec<unknown>>;

type Fields = typeof configFields;
export type Config = { readonly [K in keyof Fields]: ReturnType<Fields[K]['parse']> };

/** Reads and validates the configuration from an environment (default: process.env). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(configFields) as [string, FieldSpec<unknown>][]) {
    const raw = env[spec.env];
    out[key] = raw === undefined ? spec.default : spec.parse(raw.trim(), spec.env);
  }
  Object.assign(out, overrides);
  out.home = path.resolve(String(out.home));
  return out as Config;
}

/** The configuration with secrets replaced, safe to log. */
export function redactedConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const [key, spec] of Object.entries(configFields) as [string, FieldSpec<unknown>][]) {
    if (spec.secret && out[key] !== undefined) {
      // URLs keep their host (only the password is hidden); other secrets are hidden whole.
      const value = String(out[key]);
      out[key] = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactUrl(value) : '***';
    }
  }
  return out;
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}

/** The configuration table of the README, as Markdown. */
export function configMarkdown(): string {
  const rows = Object.values(configFields as Record<string, FieldSpec<unknown>>).map(
    (f) =>
      `| \`${f.env}\` | ${f.default === undefined ? '—' : `\`${String(f.default)}\``} | ${f.unit} | ${f.doc} |`,
  );
  return ['| variable | default | unit | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
