// SPDX-License-Identifier: MIT
// Per-test-file isolation on the run's shared servers (test/support/global-setup.ts): a database
// of its own and a namespace of its own (subjects `<ns>.in.…`, streams `<NS>_IN`). The caller runs
// migrations and creates streams itself.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, inject } from 'vitest';
import { createPool, migrate, type Pool } from '../../db/index.js';
import { dropDatabase, ensureDatabase } from '../../ops/index.js';

export interface TestEnv {
  /** URL of the fresh database `t_<name>_<random>` (superuser). */
  readonly pgUrl: string;
  /** The database's name. */
  readonly database: string;
  /** URL of the run's nats-server (JetStream enabled). */
  readonly natsUrl: string;
  /** A fresh namespace `t<random>` (matches ^[a-z][a-z0-9_]{0,31}$). */
  readonly namespace: string;
  /** Superuser URL of the `postgres` database of the shared cluster. */
  readonly pgAdminUrl: string;
  /** Drops the database (its connections are terminated first). */
  dropAll(): Promise<void>;
}

/** The shared PostgreSQL's admin URL. */
export function testPgAdminUrl(): string {
  const url = inject('pgAdminUrl') ?? process.env.TMIDB_TEST_PG_ADMIN_URL;
  if (!url)
    throw new Error(
      'no test PostgreSQL: run the tests with vitest (globalSetup test/support/global-setup.ts)',
    );
  return url;
}

/** The shared nats-server's URL. */
export function testNatsUrl(): string {
  const url = inject('natsUrl') ?? process.env.TMIDB_TEST_NATS_URL;
  if (!url)
    throw new Error(
      'no test nats-server: run the tests with vitest (globalSetup test/support/global-setup.ts)',
    );
  return url;
}

/** Creates a database and a namespace for one test file; call `dropAll()` in afterAll. */
export async function testEnv(name: string): Promise<TestEnv> {
  const pgAdminUrl = testPgAdminUrl();
  const natsUrl = testNatsUrl();
  const suffix = randomBytes(4).toString('hex');
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
  const database = `t_${slug}_${suffix}`;
  await ensureDatabase(pgAdminUrl, database);
  const url = new URL(pgAdminUrl);
  url.pathname = `/${database}`;
  return {
    pgUrl: url.toString(),
    database,
    natsUrl,
    namespace: `t${randomBytes(5).toString('hex')}`,
    pgAdminUrl,
    async dropAll() {
      await dropDatabase(pgAdminUrl, database);
    },
  };
}

/** A test file's migrated database: `pool` is ready once the file's beforeAll hooks have run. */
export interface MigratedDatabase {
  readonly env: TestEnv;
  readonly pool: Pool;
}

/**
 * Registers the hooks that give a test file a fresh, migrated database and a pool of `poolSize`
 * connections, and drop both after the file; call it at the top level of the file.
 */
export function useMigratedDatabase(name: string, poolSize = 4): MigratedDatabase {
  const db: { env?: TestEnv; pool?: Pool } = {};
  beforeAll(async () => {
    db.env = await testEnv(name);
    db.pool = createPool(db.env.pgUrl, poolSize);
    await migrate(db.pool);
  });
  afterAll(async () => {
    await db.pool?.end();
    await db.env?.dropAll();
  });
  return {
    get env() {
      if (!db.env) throw new Error('the database is made in beforeAll: read it inside a test or hook');
      return db.env;
    },
    get pool() {
      if (!db.pool) throw new Error('the database is made in beforeAll: read it inside a test or hook');
      return db.pool;
    },
  };
}
