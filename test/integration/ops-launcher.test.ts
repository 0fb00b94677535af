// SPDX-License-Identifier: MIT
// The local launcher starts real servers: a private PostgreSQL cluster, a nats-server with JetStream and
// SeaweedFS (the embedded S3 store).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/index.js';
import {
  AlreadyRunningError,
  acquireHomeLock,
  compareVersions,
  freePort,
  freePorts,
  isPortFree,
  LaunchError,
  localPaths,
  readHomeLock,
  startLocalServers,
} from '../../ops/index.js';
import { testEnv, testNatsUrl, testPgAdminUrl } from '../support/env.js';

async function pgQuery<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('ops: the local launcher', () => {
  let tmp: string;
  let home: string;
  let pgPort: number;
  let natsPort: number;
  let s3Port: number;
  const config = () =>
    loadConfig({}, { home, pgPort, natsPort, s3Port, natsSync: 'always', pgDatabase: 'tmidb_launcher' });

  beforeAll(async () => {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'tmidb-ops-'));
    chmodSync(tmp, 0o755);
    home = path.join(tmp, 'home');
    [pgPort, natsPort, s3Port] = (await freePorts(3)) as [number, number, number];
  });
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('starts PostgreSQL, nats-server and SeaweedFS under a fresh home, and stops them', async () => {
    const servers = await startLocalServers(config());
    try {
      expect(servers.embedded).toEqual({ postgres: true, nats: true, s3: true });
      expect(servers.s3?.url).toBe(`http://127.0.0.1:${s3Port}`);
      expect(servers.pgUrl).toMatch(
        new RegExp(`^postgres://postgres:[^@]+@127\\.0\\.0\\.1:${pgPort}/tmidb_launcher$`),
      );
      expect(servers.natsUrl).toBe(`nats://127.0.0.1:${natsPort}`);

      const [one] = await pgQuery<{ one: number }>(servers.pgUrl, 'SELECT 1 AS one');
      expect(one?.one).toBe(1);
      const [cluster] = await pgQuery<{ cluster_name: string }>(servers.pgUrl, 'SHOW cluster_name');
      expect(cluster?.cluster_name).toBe('tmiDB-Core');
      const exts = await pgQuery<{ name: string }>(
        servers.pgUrl,
        "SELECT name FROM pg_available_extensions WHERE name IN ('cube', 'earthdistance', 'pg_partman') ORDER BY name",
      );
      expect(exts.map((e) => e.name)).toEqual(['cube', 'earthdistance', 'pg_partman']);
      await pgQuery(servers.pgUrl, 'CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');

      const nc = await connect({ servers: servers.natsUrl });
      try {
        expect(compareVersions(nc.info?.version ?? '0', '2.12.0')).toBeGreaterThanOrEqual(0);
        expect(nc.info?.server_name).toBe('tmiDB-nats');
        const jsm = await jetstreamManager(nc);
        const info = await jsm.getAccountInfo();
        expect(info.limits).toBeDefined();
        await jsm.streams.add({ name: 'KEPT', subjects: ['kept.>'] });
      } finally {
        await nc.close();
      }

      const passwordFile = localPaths(home).pgPasswordFile;
      expect(readFileSync(passwordFile, 'utf8').trim().length).toBeGreaterThanOrEqual(24);
    } finally {
      await servers.stop();
    }
    expect(await isPortFree(pgPort)).toBe(true);
    expect(await isPortFree(natsPort)).toBe(true);
    expect(await isPortFree(s3Port)).toBe(true);
    await servers.stop(); // twice is fine
  });

  it('reuses the initialized cluster and JetStream store on the next start', async () => {
    const paths = localPaths(home);
    const password = readFileSync(paths.pgPasswordFile, 'utf8');
    const servers = await startLocalServers(config());
    try {
      expect(readFileSync(paths.pgPasswordFile, 'utf8')).toBe(password);
      const [row] = await pgQuery<{ n: number }>(servers.pgUrl, 'SELECT n FROM kept');
      expect(row?.n).toBe(42);
      const nc = await connect({ servers: servers.natsUrl });
      try {
        const jsm = await jetstreamManager(nc);
        expect((await jsm.streams.info('KEPT')).config.name).toBe('KEPT');
      } finally {
        await nc.close();
      }
    } finally {
      await servers.stop();
    }
  });

  it('takes over servers left running by a crashed run', async () => {
    await startLocalServers(config()); // never stopped: as if the process had died
    const lines: string[] = [];
    const servers = await startLocalServers(config(), { log: (line) => lines.push(line) });
    try {
      expect(lines.join('\n')).toMatch(/stopping a PostgreSQL left running/);
      expect(lines.join('\n')).toMatch(/stopping a nats-server \(pid \d+\) left running/);
      expect(lines.join('\n')).toMatch(/stopping a weed \(pid \d+\) left running/);
      const [row] = await pgQuery<{ n: number }>(servers.pgUrl, 'SELECT n FROM kept');
      expect(row?.n).toBe(42);
      const nc = await connect({ servers: servers.natsUrl });
      await nc.close();
    } finally {
      await servers.stop();
    }
    expect(await isPortFree(pgPort)).toBe(true);
    expect(await isPortFree(natsPort)).toBe(true);
    expect(await isPortFree(s3Port)).toBe(true);
  });

  it('uses external servers when TMIDB_PG_URL / TMIDB_NATS_URL / TMIDB_S3_URL are set, starting nothing', async () => {
    const pgUrl = testPgAdminUrl();
    const natsUrl = testNatsUrl();
    const s3Url = 'http://s3.example.invalid:9000';
    const servers = await startLocalServers(
      loadConfig({}, { home: path.join(tmp, 'unused'), pgUrl, natsUrl, s3Url }),
    );
    expect(servers).toMatchObject({ pgUrl, natsUrl, embedded: { postgres: false, nats: false, s3: false } });
    expect(servers.s3).toBeUndefined();
    await servers.stop();
  });

  it.runIf(process.getuid?.() === 0)('as root, explains a home the postgres user cannot reach', async () => {
    const closed = path.join(tmp, 'closed');
    mkdirSync(closed, { mode: 0o700 });
    chmodSync(closed, 0o700);
    const err = await startLocalServers(
      loadConfig({}, { home: path.join(closed, 'home'), pgPort: await freePort(), natsUrl: testNatsUrl() }),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LaunchError);
    expect((err as Error).message).toContain(`cannot enter ${closed}`);
  });
});

describe('ops: the home lock', () => {
  let home: string;
  beforeAll(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'tmidb-lock-'));
  });
  afterAll(() => {
    rmSync(home, { recursive: true, force: true });
  });

  it('refuses a second lock on the same home, and frees it on release', () => {
    const lock = acquireHomeLock(home);
    try {
      expect(readHomeLock(home)).toBe(process.pid);
      expect(() => acquireHomeLock(home)).toThrow(AlreadyRunningError);
      expect(() => acquireHomeLock(home)).toThrow(`tmiDB is already running on ${home} (pid ${process.pid})`);
    } finally {
      lock.release();
    }
    expect(readHomeLock(home)).toBeUndefined();
    acquireHomeLock(home).release();
  });

  it('takes over a stale lock whose process is gone', () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(path.join(home, 'tmictl.pid'), `${dead}\n`);
    expect(readHomeLock(home)).toBeUndefined();
    const lock = acquireHomeLock(home);
    expect(readHomeLock(home)).toBe(process.pid);
    lock.release();
  });

  it('refuses a lock held by another live tmiDB process', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      await new Promise((r) => other.once('spawn', r));
      writeFileSync(path.join(home, 'tmictl.pid'), `${other.pid}\n`);
      expect(readHomeLock(home)).toBe(other.pid);
      expect(() => acquireHomeLock(home)).toThrow(`(pid ${other.pid})`);
    } finally {
      other.kill();
      rmSync(path.join(home, 'tmictl.pid'), { force: true });
    }
  });
});

describe('test harness: testEnv', () => {
  it('makes a fresh database and namespace on the shared servers, and drops the database', async () => {
    const env = await testEnv('Ops Launcher!');
    expect(env.database).toMatch(/^t_ops_launcher_[0-9a-f]{8}$/);
    expect(env.namespace).toMatch(/^[a-z][a-z0-9_]{0,31}$/);
    const [db] = await pgQuery<{ db: string }>(env.pgUrl, 'SELECT current_database() AS db');
    expect(db?.db).toBe(env.database);
    const held = new pg.Client({ connectionString: env.pgUrl });
    await held.connect(); // an open connection does not stop dropAll
    held.on('error', () => {});
    await env.dropAll();
    const rows = await pgQuery(env.pgAdminUrl, `SELECT 1 FROM pg_database WHERE datname = '${env.database}'`);
    expect(rows).toHaveLength(0);
    await held.end().catch(() => {});
    const nc = await connect({ servers: env.natsUrl });
    expect(nc.info?.jetstream).toBe(true);
    await nc.close();
  });
});
