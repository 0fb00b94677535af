// SPDX-License-Identifier: MIT
// The embedded S3 store: SeaweedFS's `weed server` (master, volume, filer and S3 gateway in one process)
// on loopback, its data under a directory, with S3 credentials generated once into a file of mode 0600.
// `npm run setup` builds the `weed` binary from its Go module into tmiDB's cache.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startDaemon } from './daemon.js';
import { MissingBinaryError } from './errors.js';
import { tmidbCacheDir } from './kafka.js';
import { freePort, freePorts } from './process.js';

const readyTimeoutMsDefault = 90_000;
/** Volumes of 256 MiB: the default 30 GiB volumes preallocate index space a small store never fills. */
const volumeSizeLimitMb = 256;

export interface S3Credentials {
  readonly accessKey: string;
  readonly secretKey: string;
}

export interface LocalSeaweedOptions {
  readonly dataDir: string;
  /** S3 port on 127.0.0.1 (default: a free one). */
  readonly s3Port?: number;
  /** The weed program (default: see findWeed). */
  readonly bin?: string;
  readonly readyTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface LocalSeaweed {
  /** `http://127.0.0.1:<port>` */
  readonly s3Url: string;
  readonly credentials: S3Credentials;
  readonly pid: number;
  stop(): Promise<void>;
}

/** The weed program: `bin` (TMIDB_WEED_BIN), else <cache>/bin/weed where setup builds it. */
export function findWeed(bin?: string): string {
  const file = bin ?? process.env.TMIDB_WEED_BIN ?? path.join(tmidbCacheDir(), 'bin', 'weed');
  if (!existsSync(file)) {
    throw new MissingBinaryError(
      `SeaweedFS's weed not found at ${file}: run \`npm run setup\` (or set TMIDB_WEED_BIN)`,
    );
  }
  return file;
}

/** The credentials in `<dataDir>/s3-credentials.json`, generated (mode 0600) on first use. */
export function seaweedCredentials(dataDir: string): { file: string; credentials: S3Credentials } {
  const file = path.join(dataDir, 's3-credentials.json');
  if (existsSync(file)) {
    const c = JSON.parse(readFileSync(file, 'utf8')) as S3Credentials;
    return { file, credentials: { accessKey: c.accessKey, secretKey: c.secretKey } };
  }
  const credentials = {
    accessKey: `TMI${randomBytes(8).toString('hex').toUpperCase()}`,
    secretKey: randomBytes(30).toString('base64url'),
  };
  writeFileSync(file, `${JSON.stringify(credentials)}\n`, { mode: 0o600 });
  return { file, credentials };
}

/** SeaweedFS's S3 identity file: one identity, every action. Secret: mode 0600. */
function writeS3Config(file: string, c: S3Credentials): void {
  const config = {
    identities: [
      {
        name: 'tmidb',
        credentials: [{ accessKey: c.accessKey, secretKey: c.secretKey }],
        actions: ['Admin', 'Read', 'List', 'Tagging', 'Write'],
      },
    ],
  };
  writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
  chmodSync(file, 0o600);
}

async function weedArgs(dataDir: string, s3Port: number, s3Config: string): Promise<string[]> {
  const [master, masterGrpc, volume, volumeGrpc, filer, filerGrpc, s3Grpc] = await freePorts(7, '127.0.0.1', [
    s3Port,
  ]);
  return [
    'server',
    `-dir=${path.join(dataDir, 'data')}`,
    '-ip=127.0.0.1',
    '-ip.bind=127.0.0.1',
    `-master.port=${master}`,
    `-master.port.grpc=${masterGrpc}`,
    `-volume.port=${volume}`,
    `-volume.port.grpc=${volumeGrpc}`,
    `-filer.port=${filer}`,
    `-filer.port.grpc=${filerGrpc}`,
    `-master.volumeSizeLimitMB=${volumeSizeLimitMb}`,
    '-volume.max=0',
    '-filer',
    '-s3',
    `-s3.port=${s3Port}`,
    `-s3.port.grpc=${s3Grpc}`,
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    '-s3.iam=false',
    `-s3.config=${s3Config}`,
  ];
}

/** Starts `weed server -s3` and waits until the S3 gateway answers. */
export async function startLocalSeaweed(opts: LocalSeaweedOptions): Promise<LocalSeaweed> {
  const bin = findWeed(opts.bin);
  const dataDir = path.resolve(opts.dataDir);
  mkdirSync(path.join(dataDir, 'data'), { recursive: true, mode: 0o700 });
  const { credentials } = seaweedCredentials(dataDir);
  const s3Config = path.join(dataDir, 's3-identities.json');
  writeS3Config(s3Config, credentials);
  const s3Port = opts.s3Port ?? (await freePort());
  const s3Url = `http://127.0.0.1:${s3Port}`;
  const daemon = await startDaemon({
    name: 'weed',
    command: bin,
    args: await weedArgs(dataDir, s3Port, s3Config),
    logFile: path.join(dataDir, 'weed.log'),
    pidFile: path.join(dataDir, 'weed.pid'),
    orphanMarker: s3Config,
    readyTimeoutMs: opts.readyTimeoutMs ?? readyTimeoutMsDefault,
    log: opts.log,
    // Any HTTP answer from the gateway (403 to an unsigned request) means it serves; the filer
    // behind it must also be up, which a listing of buckets (signed) would prove — the S3 client's
    // first call retries until then.
    ready: async () => {
      const r = await fetch(`${s3Url}/`, { signal: AbortSignal.timeout(2000) });
      await r.body?.cancel();
      return r.status > 0;
    },
  });
  return { s3Url, credentials, pid: daemon.pid, stop: daemon.stop };
}
