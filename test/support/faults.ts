// SPDX-License-Identifier: MIT
// Private servers for the fault tests (test/integration/faults-*.test.ts): a PostgreSQL that can be
// stopped hard (`pg_ctl -m immediate`) and a nats-server that can be SIGKILLed, each in a directory of
// its own — never the run's shared servers (test/support/global-setup.ts). And the workload those tests
// share: events written with fixed ids, retried on 503 until acknowledged, and checks of the projections.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { expect } from 'vitest';
import { configFields } from '../../config/index.js';
import {
  freePort,
  type LocalNats,
  type LocalPostgres,
  startLocalNats,
  startLocalPostgres,
} from '../../ops/index.js';
import { isRoot, lookupOsUser, runCommand } from '../../ops/process.js';
import { pipelineStatus } from '../../pipelines/index.js';
import { uuidv7 } from '../../schemas/index.js';
import { eventually, type TestTmidb } from './tmidb.js';

/**
 * A fault test (and its hooks) may take this long: it crashes servers under load and waits for recovery;
 * on a busy 2-core machine that is minutes, not the suite's default two.
 */
export const faultTestTimeoutMs = 360_000;

export function privateDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `tmidb-${prefix}-`));
  chmodSync(dir, 0o755); // as root the cluster runs as `postgres`, which must reach its data directory
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface PrivatePostgres {
  readonly url: string;
  /** `pg_ctl stop -m immediate`: every backend dies at once, nothing is flushed; recovery replays WAL. */
  crash(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrivatePostgres(dir: string): Promise<PrivatePostgres> {
  const port = await freePort();
  const opts = {
    dataDir: path.join(dir, 'pg', 'data'),
    runDir: path.join(dir, 'pg', 'run'),
    port,
    logFile: path.join(dir, 'logs', 'postgres.log'),
    database: 'tmidb',
    // fsync off: an immediate stop is a crash of PostgreSQL, not of the OS (the WAL is in the page cache).
    settings: { fsync: 'off', shared_buffers: '64MB' },
  };
  let pg: LocalPostgres = await startLocalPostgres(opts);
  return {
    url: pg.url,
    async crash() {
      const user = isRoot() ? lookupOsUser('postgres') : undefined;
      const r = await runCommand(pg.binaries.pgCtl, ['stop', '-m', 'immediate', '-w', '-D', pg.dataDir], {
        user,
        timeoutMs: 30_000,
      });
      if (r.code !== 0) throw new Error(`pg_ctl stop -m immediate failed: ${r.stderr}`);
    },
    async restart() {
      pg = await startLocalPostgres(opts);
    },
    stop: () => pg.stop(),
  };
}

export interface PrivateNats {
  readonly url: string;
  /** SIGKILL: the server gets no chance to flush anything. */
  kill9(): Promise<void>;
  /** Starts it again on the same port and store (optionally with another store limit). */
  restart(opts?: { maxFileStore?: string }): Promise<void>;
  stop(): Promise<void>;
}

export async function startPrivateNats(
  dir: string,
  opts: { syncInterval?: string; maxFileStore?: string } = {},
): Promise<PrivateNats> {
  const port = await freePort();
  const base = {
    storeDir: path.join(dir, 'nats', 'store'),
    port,
    syncInterval: opts.syncInterval ?? configFields.natsSync.default,
    logFile: path.join(dir, 'logs', 'nats-server.log'),
    configFile: path.join(dir, 'nats', 'nats-server.conf'),
  };
  let maxFileStore = opts.maxFileStore;
  let nats: LocalNats = await startLocalNats({ ...base, maxFileStore });
  return {
    url: nats.url,
    async kill9() {
      process.kill(nats.pid, 'SIGKILL');
      await eventually('nats-server gone', async () => !isAlive(nats.pid), 10_000);
    },
    async restart(again = {}) {
      maxFileStore = again.maxFileStore ?? maxFileStore;
      nats = await startLocalNats({ ...base, maxFileStore });
    },
    stop: () => nats.stop(),
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface SentEvent {
  readonly target_id: string;
  readonly event_id: string;
  readonly ts: number;
  readonly data: Record<string, number>;
}

/**
 * `count` events over `targets`, ten in a row per target (a request of 100 is ten JetStream messages, as
 * a speaker batching per target writes), ids fixed up front (a retried request stores nothing twice).
 */
export function workload(targets: readonly string[], count: number): SentEvent[] {
  const base = Date.parse('2026-06-01T00:00:00Z');
  return Array.from({ length: count }, (_, i) => ({
    target_id: targets[Math.floor(i / 10) % targets.length]!,
    event_id: uuidv7(),
    ts: base + i * 10,
    data: { seq: i, v: i % 97 },
  }));
}

export interface WriteTally {
  /** Event ids acknowledged (202). */
  readonly acked: string[];
  /** Answers that were not 202, by status (a network error counts as 0). */
  readonly refused: Record<number, number>;
}

/**
 * Writes the events `perRequest` at a time over POST /v1/events; a request refused with 503 (or lost to
 * the network) is sent again, unchanged, until it is acknowledged. Anything else than 202/503 fails.
 */
export async function writeUntilAcknowledged(
  t: TestTmidb,
  events: readonly SentEvent[],
  perRequest = 100,
  pauseMs = 10,
  /** Filled as the writes go, so a caller can pace faults by progress instead of by the clock. */
  tally: WriteTally = { acked: [], refused: {} },
): Promise<WriteTally> {
  for (let i = 0; i < events.length; i += perRequest) {
    const batch = events.slice(i, i + perRequest);
    for (;;) {
      const status = await t
        .request('POST', '/v1/events', batch)
        .then((r) => r.status)
        .catch(() => 0);
      if (status === 202) {
        tally.acked.push(...batch.map((e) => e.event_id));
        break;
      }
      expect([0, 503], `a write answered ${status}`).toContain(status);
      tally.refused[status] = (tally.refused[status] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, 100)); // a client's retry backoff
    }
    await new Promise((r) => setTimeout(r, pauseMs)); // a client's pace
  }
  return tally;
}

/** Every stage has taken everything in its stream: nothing pending, nothing unacknowledged. */
export async function waitForDrain(t: TestTmidb, expectedObs: number, timeoutMs = 180_000): Promise<void> {
  const jsm = await jetstreamManager(t.runtime.nc);
  await eventually(
    `every stage drained and ${expectedObs} observations projected`,
    async () => {
      const status = await pipelineStatus(jsm, t.runtime.pool, t.runtime.topology).catch(() => []);
      if (status.length === 0 || status.some((s) => s.pending > 0 || s.ackPending > 0)) return false;
      const [row] = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM tmi.ts_obs');
      return row!.n >= expectedObs;
    },
    timeoutMs,
  );
}

/** raw_bucket and ts_obs hold each of `ids` exactly once and nothing else. */
export async function expectExactlyOnce(t: TestTmidb, ids: readonly string[]): Promise<void> {
  for (const table of ['raw_bucket', 'ts_obs']) {
    const [row] = await t.sql<{ rows: number; distinct_ids: number; known: number }>(
      `SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS distinct_ids,
              count(*) FILTER (WHERE event_id = ANY($1::uuid[]))::int AS known FROM tmi.${table}`,
      [ids],
    );
    expect(row, table).toEqual({ rows: ids.length, distinct_ids: ids.length, known: ids.length });
  }
}

/** target_state holds the newest value of every field of every target (by observation time). */
export async function expectNewestState(t: TestTmidb, events: readonly SentEvent[]): Promise<void> {
  const expected = new Map<string, { value: number; event_id: string }>();
  for (const e of events) {
    for (const [field, value] of Object.entries(e.data)) {
      expected.set(`${e.target_id}/${field}`, { value, event_id: e.event_id }); // ts rise with i
    }
  }
  const state = await t.sql<{ target_id: string; field: string; value: number; event_id: string }>(
    'SELECT target_id, field, value, event_id FROM tmi.target_state',
  );
  expect(state.length).toBe(expected.size);
  const wrong = state.filter((s) => {
    const e = expected.get(`${s.target_id}/${s.field}`);
    return e?.value !== s.value || e.event_id !== s.event_id;
  });
  expect(wrong).toEqual([]);
}

/** Redeliveries across every stage's consumer (JetStream delivered a message again). */
export async function redeliveries(t: TestTmidb): Promise<number> {
  const jsm = await jetstreamManager(t.runtime.nc);
  let n = 0;
  for (const stage of Object.values(t.runtime.topology.stages)) {
    const info = await jsm.consumers.info(stage.stream, stage.durable);
    n += info.delivered.consumer_seq - info.delivered.stream_seq;
  }
  return n;
}

export async function deadLetters(t: TestTmidb): Promise<number> {
  const jsm = await jetstreamManager(t.runtime.nc);
  return (await jsm.streams.info(t.runtime.topology.streams.dlq.name)).state.messages;
}

export async function createTargets(t: TestTmidb, n: number, kind: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await t.request('POST', '/v1/targets', { name: `${kind}-${i}`, kind });
    expect(res.status).toBe(201);
    ids.push(res.body.target_id);
  }
  return ids;
}
