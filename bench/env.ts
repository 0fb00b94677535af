// SPDX-License-Identifier: MIT
// The benchmark's private servers (one PostgreSQL cluster and one nats-server, started like the tests
// start theirs, but with the launcher's production settings), a fresh database and namespace per
// scenario, and the machine description that goes into the report.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { configFields } from '../config/index.js';
import {
  dropDatabase,
  ensureDatabase,
  freePorts,
  type LocalNats,
  type LocalPostgres,
  startLocalNats,
  startLocalPostgres,
} from '../ops/index.js';

export interface BenchServers {
  readonly dir: string;
  readonly pg: LocalPostgres;
  readonly nats: LocalNats;
  /** Superuser URL of the `postgres` maintenance database. */
  readonly pgAdminUrl: string;
  readonly natsUrl: string;
  /** PID of the postmaster (its backends are its children). */
  postmasterPid(): number;
  stop(): Promise<void>;
}

/** A database and a namespace of one scenario on the shared servers. */
export interface BenchDb {
  readonly pgUrl: string;
  readonly database: string;
  readonly namespace: string;
  readonly home: string;
  drop(): Promise<void>;
}

/**
 * Starts the servers in a temporary directory on free ports. PostgreSQL gets the launcher's defaults
 * (fsync and synchronous_commit on: what `tmictl up` runs with); nats-server the default sync interval.
 */
export async function startBenchServers(keep = false): Promise<BenchServers> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tmidb-bench-'));
  chmodSync(dir, 0o755); // as root the cluster runs as `postgres`, which must reach its data directory
  const [pgPort, natsPort] = (await freePorts(2)) as [number, number];
  const dataDir = path.join(dir, 'pg', 'data');
  const [pgResult, natsResult] = await Promise.allSettled([
    startLocalPostgres({
      dataDir,
      runDir: path.join(dir, 'pg', 'run'),
      port: pgPort,
      logFile: path.join(dir, 'logs', 'postgres.log'),
      database: 'postgres',
      // Only addition to the launcher's settings: per-statement timings, to say where PostgreSQL's time goes.
      settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'top' },
    }),
    startLocalNats({
      storeDir: path.join(dir, 'nats'),
      port: natsPort,
      syncInterval: configFields.natsSync.default,
      logFile: path.join(dir, 'logs', 'nats-server.log'),
      configFile: path.join(dir, 'nats', 'nats-server.conf'),
    }),
  ]);
  const cleanup = async () => {
    if (pgResult.status === 'fulfilled') await pgResult.value.stop().catch(() => {});
    if (natsResult.status === 'fulfilled') await natsResult.value.stop().catch(() => {});
    if (!keep) rmSync(dir, { recursive: true, force: true });
  };
  if (pgResult.status === 'rejected' || natsResult.status === 'rejected') {
    await cleanup();
    throw pgResult.status === 'rejected' ? pgResult.reason : (natsResult as PromiseRejectedResult).reason;
  }
  const pgServer = pgResult.value;
  const natsServer = natsResult.value;
  return {
    dir,
    pg: pgServer,
    nats: natsServer,
    pgAdminUrl: pgServer.adminUrl,
    natsUrl: natsServer.url,
    postmasterPid: () =>
      Number.parseInt(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0] ?? '', 10),
    stop: cleanup,
  };
}

/** A fresh database `bench_<name>_<random>` and namespace `b<random>` for one scenario. */
export async function benchDb(servers: BenchServers, name: string): Promise<BenchDb> {
  const suffix = randomBytes(4).toString('hex');
  const database = `bench_${name}_${suffix}`;
  await ensureDatabase(servers.pgAdminUrl, database);
  const url = new URL(servers.pgAdminUrl);
  url.pathname = `/${database}`;
  const home = mkdtempSync(path.join(servers.dir, `home-${name}-`));
  return {
    pgUrl: url.toString(),
    database,
    namespace: `b${suffix}`,
    home,
    drop: async () => {
      await dropDatabase(servers.pgAdminUrl, database);
    },
  };
}

export interface MachineInfo {
  readonly host: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly postgres: string;
  readonly natsServer: string;
}

export async function machineInfo(servers: BenchServers): Promise<MachineInfo> {
  const client = new pg.Client({ connectionString: servers.pgAdminUrl });
  await client.connect();
  const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
  await client.end();
  const nc = await connect({ servers: servers.natsUrl, name: 'tmiDB-bench-info' });
  const natsVersion = nc.info?.version ?? servers.nats.binary.version;
  await nc.close();
  return {
    host: os.hostname(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: rows[0]?.server_version ?? 'unknown',
    natsServer: natsVersion,
  };
}
