// SPDX-License-Identifier: MIT
// The servers tmiDB needs: the external ones named by TMIDB_PG_URL / TMIDB_NATS_URL, or else the
// embedded PostgreSQL and nats-server under TMIDB_HOME. The caller holds the home lock (lock.ts).
import path from 'node:path';
import type { Config } from '../config/index.js';
import { startLocalNats } from './nats.js';
import { startLocalPostgres } from './postgres.js';
import { type LocalSeaweed, startLocalSeaweed } from './seaweed.js';

/** Where the embedded servers keep their files under a home. */
export interface LocalPaths {
  readonly home: string;
  readonly pgData: string;
  readonly pgRun: string;
  readonly pgPasswordFile: string;
  readonly natsDir: string;
  readonly natsStore: string;
  readonly natsConfig: string;
  readonly natsPidFile: string;
  readonly logsDir: string;
  readonly pgLog: string;
  readonly natsLog: string;
}

export function localPaths(home: string): LocalPaths {
  const h = path.resolve(home);
  const natsDir = path.join(h, 'nats');
  const logsDir = path.join(h, 'logs');
  return {
    home: h,
    pgData: path.join(h, 'pg', 'data'),
    pgRun: path.join(h, 'pg', 'run'),
    pgPasswordFile: path.join(h, 'pg', 'password'),
    natsDir,
    natsStore: natsDir, // nats-server keeps its streams in <store_dir>/jetstream
    natsConfig: path.join(natsDir, 'nats-server.conf'),
    natsPidFile: path.join(natsDir, 'nats-server.pid'),
    logsDir,
    pgLog: path.join(logsDir, 'postgres.log'),
    natsLog: path.join(logsDir, 'nats-server.log'),
  };
}

export type LocalServersConfig = Pick<
  Config,
  | 'home'
  | 'pgUrl'
  | 'pgPort'
  | 'pgDatabase'
  | 'pgBinDir'
  | 'natsUrl'
  | 'natsPort'
  | 'natsSync'
  | 'natsServerBin'
  | 's3Url'
  | 's3Port'
  | 'weedBin'
>;

export interface LocalServers {
  readonly pgUrl: string;
  readonly natsUrl: string;
  /** Which servers this call started (false: external, from the configuration). */
  readonly embedded: { readonly postgres: boolean; readonly nats: boolean; readonly s3: boolean };
  /** The embedded SeaweedFS's S3 endpoint and generated credentials (absent: TMIDB_S3_URL is used). */
  readonly s3?: { readonly url: string; readonly accessKey: string; readonly secretKey: string };
  /** Stops what was started (nothing for external servers); safe to call twice. */
  stop(): Promise<void>;
}

export interface StartLocalServersOptions {
  /** Progress lines; default: silent. */
  readonly log?: (line: string) => void;
}

/** Uses the configured external servers, or starts the embedded ones (both at once). */
export async function startLocalServers(
  config: LocalServersConfig,
  opts: StartLocalServersOptions = {},
): Promise<LocalServers> {
  const log = opts.log;
  const paths = localPaths(config.home);
  const [pgResult, natsResult] = await Promise.allSettled([
    config.pgUrl
      ? Promise.resolve(undefined)
      : startLocalPostgres({
          dataDir: paths.pgData,
          runDir: paths.pgRun,
          passwordFile: paths.pgPasswordFile,
          port: config.pgPort,
          logFile: paths.pgLog,
          database: config.pgDatabase,
          binDir: config.pgBinDir,
          log,
        }),
    config.natsUrl
      ? Promise.resolve(undefined)
      : startLocalNats({
          storeDir: paths.natsStore,
          port: config.natsPort,
          syncInterval: config.natsSync,
          logFile: paths.natsLog,
          configFile: paths.natsConfig,
          pidFile: paths.natsPidFile,
          bin: config.natsServerBin,
          log,
        }),
  ]);
  if (pgResult.status === 'rejected' || natsResult.status === 'rejected') {
    if (pgResult.status === 'fulfilled') await pgResult.value?.stop().catch(() => {});
    if (natsResult.status === 'fulfilled') await natsResult.value?.stop().catch(() => {});
    throw pgResult.status === 'rejected' ? pgResult.reason : (natsResult as PromiseRejectedResult).reason;
  }
  const pgServer = pgResult.value;
  const natsServer = natsResult.value;
  let weed: LocalSeaweed | undefined;
  if (!config.s3Url) {
    weed = await startLocalSeaweed({
      dataDir: path.join(paths.home, 'seaweedfs'),
      s3Port: config.s3Port,
      bin: config.weedBin,
      log,
    }).catch(async (err) => {
      await Promise.allSettled([natsServer?.stop(), pgServer?.stop()]);
      throw err;
    });
  }
  return {
    pgUrl: pgServer?.url ?? config.pgUrl!,
    natsUrl: natsServer?.url ?? config.natsUrl!,
    embedded: { postgres: pgServer !== undefined, nats: natsServer !== undefined, s3: weed !== undefined },
    ...(weed
      ? {
          s3: {
            url: weed.s3Url,
            accessKey: weed.credentials.accessKey,
            secretKey: weed.credentials.secretKey,
          },
        }
      : {}),
    async stop() {
      const results = await Promise.allSettled([natsServer?.stop(), pgServer?.stop(), weed?.stop()]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
