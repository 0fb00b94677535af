// SPDX-License-Identifier: MIT
// Starts a tmiDB runtime (API + chosen stages) on the test run's servers, in a database and namespace
// of its own, and gives tests small helpers to talk to it.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { readAdminKey } from '../../api/auth/index.js';
import { type Runtime, startRuntime } from '../../cli/index.js';
import { type Config, loadConfig } from '../../config/index.js';
import { type StageName, stageNames } from '../../pipelines/index.js';
import { type TestEnv, testEnv } from './env.js';
import { eventually } from './wait.js';

export { eventually, waitFor } from './wait.js';

export interface TestTmidb {
  readonly env: TestEnv;
  readonly config: Config;
  readonly runtime: Runtime;
  readonly url: string;
  /** Environment for a child `tmictl` process on the same database and namespace. */
  readonly childEnv: NodeJS.ProcessEnv;
  /** The admin key the runtime made in its home (what `request` sends by default). */
  readonly adminKey: string;
  readonly adminKeyId: string;
  /**
   * An HTTP request, with `Authorization: Bearer <admin key>` unless headers name an `authorization`
   * (an empty one sends none).
   */
  request(
    method: string,
    route: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<TestResponse>;
  sql<T = Record<string, unknown>>(text: string, values?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

export interface TestResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: any;
}

export interface StartOptions {
  readonly stages?: readonly StageName[];
  readonly config?: Partial<Config>;
  /** Servers other than the run's shared ones (the fault tests' private PostgreSQL / nats-server). */
  readonly pgUrl?: string;
  readonly natsUrl?: string;
  /** The runtime's log (default: none). */
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
  /** Run managed connectors in the test's runtime (default: none). */
  readonly connectors?: 'all' | readonly string[];
}

export async function startTestTmidb(name: string, opts: StartOptions = {}): Promise<TestTmidb> {
  const shared = await testEnv(name);
  const env = { ...shared, pgUrl: opts.pgUrl ?? shared.pgUrl, natsUrl: opts.natsUrl ?? shared.natsUrl };
  const home = mkdtempSync(path.join(os.tmpdir(), 'tmidb-home-'));
  // The normalizer's model leaves names as written unless a test asks for it (normalizeDefaultRole:
  // 'auto'): tests of other parts assert the speakers' own field names.
  const config = loadConfig(
    {},
    {
      home,
      namespace: env.namespace,
      httpPort: 0,
      pgUrl: env.pgUrl,
      natsUrl: env.natsUrl,
      normalizeDefaultRole: 'off',
      ...opts.config,
    },
  );
  const runtime = await startRuntime(config, {
    pgUrl: env.pgUrl,
    natsUrl: env.natsUrl,
    stages: opts.stages ?? stageNames,
    api: true,
    log: opts.log,
    connectors: opts.connectors,
  });
  const url = runtime.url!;
  const adminKey = readAdminKey(home)!;
  return {
    env,
    config,
    runtime,
    url,
    adminKey,
    adminKeyId: runtime.adminKey!.keyId,
    childEnv: {
      ...process.env,
      TMIDB_HOME: home,
      TMIDB_PG_URL: env.pgUrl,
      TMIDB_NATS_URL: env.natsUrl,
      TMIDB_NAMESPACE: env.namespace,
      TMIDB_ACK_WAIT_MS: String(config.ackWaitMs),
      TMIDB_NORMALIZE_DEFAULT_ROLE: config.normalizeDefaultRole,
    },
    async request(method, route, body, headers = {}) {
      const auth = Object.keys(headers).find((h) => h.toLowerCase() === 'authorization');
      const sent: Record<string, string> = { ...headers };
      if (auth === undefined) sent.authorization = `Bearer ${adminKey}`;
      else if (sent[auth] === '') delete sent[auth];
      const res = await fetch(`${url}${route}`, {
        method,
        headers: body === undefined ? sent : { 'content-type': 'application/json', ...sent },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      const contentType = res.headers.get('content-type') ?? '';
      return {
        status: res.status,
        contentType,
        body: contentType.includes('json') && text ? JSON.parse(text) : text,
      };
    },
    async sql(text, values) {
      const { rows } = await runtime.pool.query(text, values);
      return rows;
    },
    async stop() {
      await runtime.stop();
      await env.dropAll();
    },
  };
}

/**
 * A barrier: waits until each of `stages` (in pipeline order) has checkpointed every message its input
 * stream held by then, so whatever was written before the call has been applied, dead-lettered or skipped.
 * Then a count that must not have changed can be asserted without waiting "long enough".
 */
export async function pipelineCaughtUp(
  t: TestTmidb,
  stages: readonly StageName[],
  timeoutMs = 30_000,
): Promise<void> {
  const jsm = await jetstreamManager(t.runtime.nc);
  for (const stage of stageNames.filter((s) => stages.includes(s))) {
    const stream = t.runtime.topology.stages[stage].stream;
    const last = (await jsm.streams.info(stream)).state.last_seq;
    await eventually(
      `the ${stage} stage to checkpoint ${stream} up to ${last}`,
      async () => (await checkpointOf(t, stage)) >= last,
      timeoutMs,
    );
  }
}

/** The stream sequence a stage has checkpointed (0 before its first batch). */
export async function checkpointOf(t: TestTmidb, stage: StageName): Promise<number> {
  const rows = await t.sql<{ stream_seq: number }>(
    'SELECT stream_seq FROM tmi.consumer_checkpoint WHERE consumer = $1',
    [`${t.runtime.topology.namespace}.${stage}`],
  );
  return rows[0]?.stream_seq ?? 0;
}

export async function countRows(t: TestTmidb, table: string): Promise<number> {
  const rows = await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM tmi.${table}`);
  return rows[0]!.n;
}
