// SPDX-License-Identifier: MIT
// Starts ONE private PostgreSQL and ONE nats-server for the whole test run, in a fresh temporary
// directory on free ports, and hands their URLs to the tests (inject('pgAdminUrl'), inject('natsUrl'),
// or process.env.TMIDB_TEST_PG_ADMIN_URL / TMIDB_TEST_NATS_URL). Tests isolate themselves with a
// database and a namespace of their own (test/support/env.ts).
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { configFields } from '../../config/index.js';
import { freePorts, startLocalNats, startLocalPostgres } from '../../ops/index.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `postgres://postgres:…@127.0.0.1:<port>/postgres` — a superuser on the test cluster. */
    pgAdminUrl: string;
    /** `nats://127.0.0.1:<port>` — JetStream enabled. */
    natsUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tmidb-test-'));
  chmodSync(dir, 0o755); // as root the cluster runs as `postgres`, which must reach its data directory
  const [pgPort, natsPort] = (await freePorts(2)) as [number, number];
  const cleanup: Array<() => Promise<void>> = [];
  const teardown = async (): Promise<void> => {
    for (const stop of cleanup.reverse()) await stop().catch((err) => console.error('[test setup]', err));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [pgResult, natsResult] = await Promise.allSettled([
      startLocalPostgres({
        dataDir: path.join(dir, 'pg', 'data'),
        runDir: path.join(dir, 'pg', 'run'),
        port: pgPort,
        logFile: path.join(dir, 'logs', 'postgres.log'),
        database: 'postgres',
        // A throwaway cluster: durability across an OS crash is not under test.
        settings: { fsync: 'off', full_page_writes: 'off', shared_buffers: '128MB' },
      }),
      startLocalNats({
        storeDir: path.join(dir, 'nats'),
        port: natsPort,
        syncInterval: configFields.natsSync.default,
        logFile: path.join(dir, 'logs', 'nats-server.log'),
        configFile: path.join(dir, 'nats', 'nats-server.conf'),
      }),
    ]);
    if (pgResult.status === 'fulfilled') cleanup.push(pgResult.value.stop);
    if (natsResult.status === 'fulfilled') cleanup.push(natsResult.value.stop);
    if (pgResult.status === 'rejected') throw pgResult.reason;
    if (natsResult.status === 'rejected') throw natsResult.reason;
    const pgAdminUrl = pgResult.value.adminUrl;
    const natsUrl = natsResult.value.url;
    project.provide('pgAdminUrl', pgAdminUrl);
    project.provide('natsUrl', natsUrl);
    process.env.TMIDB_TEST_PG_ADMIN_URL = pgAdminUrl;
    process.env.TMIDB_TEST_NATS_URL = natsUrl;
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
