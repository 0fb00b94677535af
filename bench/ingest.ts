// SPDX-License-Identifier: MIT
// Scenario 1 — ingest end to end: N events through a speaker path (REST batches or NATS requests) into a
// running tmiDB (API process + one process per stage), timed until every stage has committed them.
// Scenario 5 (memory) is sampled while it runs. The database and streams are kept for scenario 2.
import { performance } from 'node:perf_hooks';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type MsgHdrs, type NatsConnection, headers as natsHeaders } from '@nats-io/transport-node';
import { createPool, type Pool } from '../db/index.js';
import { stageNames, type Topology, topology } from '../pipelines/index.js';
import { type BenchDb, type BenchServers, benchDb } from './env.js';
import { type MemoryPeaks, MemorySampler, processGroups } from './memory.js';
import type { Sizes, Transport } from './options.js';
import type { Progress } from './progress.js';
import { perSecond } from './stats.js';
import { type ProcessLayout, startTmidb, waitDrained } from './tmidb.js';
import { createTargets, natsRequests, type PlannedRequest, planEvents, restRequests } from './workload.js';

/** How long one speaker request may take before the run counts it failed. */
export const speakerRequestTimeoutMs = 60_000;

export interface IngestResult {
  readonly transport: Transport;
  readonly events: number;
  readonly targets: number;
  readonly requests: number;
  readonly eventsPerRequest: number;
  /** JetStream messages the events became on the input stream. */
  readonly inMessages: number;
  readonly eventsPerMessage: number;
  /** Events/s the speakers got acknowledged (PubAck) — first request to last answer. */
  readonly acceptedEventsPerS: number;
  /** Events/s from the first request until every stage had committed the last event. */
  readonly endToEndEventsPerS: number;
  /** From the last speaker answer until every stage had committed everything. */
  readonly lastEventLandMs: number;
  readonly totalMs: number;
  readonly stages: readonly string[];
  readonly rowsVerified: Record<string, number>;
  readonly memory: MemoryPeaks;
  /** Where PostgreSQL's time went (pg_stat_statements), most first. */
  readonly statements: readonly StatementCost[];
}

export interface StatementCost {
  /** The statement, whitespace collapsed, cut short. */
  readonly query: string;
  readonly calls: number;
  /** Execution time per 1,000 events, ms. */
  readonly msPerThousandEvents: number;
  readonly rows: number;
}

/** Statements listed in the result. */
export const statementsListed = 8;

/** What scenario 2 needs of a finished ingest run. */
export interface IngestRun {
  readonly result: IngestResult;
  readonly db: BenchDb;
  readonly topology: Topology;
  /** Row counts of every tmi table before the events were written (to tell which tables the stages wrote). */
  readonly rowsBefore: Record<string, number>;
}

export async function runIngest(
  servers: BenchServers,
  transport: Transport,
  sizes: Sizes,
  progress: Progress,
  nodeFlags: readonly string[],
  processes: ProcessLayout,
): Promise<IngestRun> {
  progress.start(`scenario 1 (${transport}): starting tmiDB`);
  const db = await benchDb(servers, `ingest_${transport}`);
  const topo = topology(db.namespace);
  const procs = await startTmidb(servers, db, { stages: stageNames, nodeFlags, processes });
  const nc = await connect({ servers: servers.natsUrl, name: 'tmiDB-bench-driver' });
  const pool = createPool(db.pgUrl, 2);
  try {
    const targetIds = await createTargets(
      procs.apiUrl,
      procs.authHeaders,
      sizes.targets,
      `bench-${transport}`,
    );
    const plan = planEvents(targetIds, sizes.events);
    const requests =
      transport === 'rest'
        ? restRequests(plan, sizes.restEventsPerRequest, sizes.restTargetsPerRequest)
        : natsRequests(plan, topo.speakPrefix, sizes.natsEventsPerRequest);
    const rowsBefore = await tableRows(pool);
    await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await pool.query('SELECT pg_stat_statements_reset()');
    const jsm = await jetstreamManager(nc);

    const sampler = new MemorySampler(
      processGroups(procs.pids(), () => servers.postmasterPid(), servers.nats.pid),
    );
    await sampler.start();
    progress.start(`scenario 1 (${transport}): writing`);
    const started = performance.now();
    await sendAll(requests, transport === 'rest' ? sizes.restConcurrency : sizes.natsConcurrency, {
      send:
        transport === 'rest'
          ? (r) => postRest(procs.apiUrl, procs.authHeaders, r)
          : (r) => requestNats(nc, natsAuth(procs.authHeaders), r),
      onAccepted: (done) => progress.update(done, plan.total, 'events accepted'),
      assertAlive: procs.assertAlive,
    });
    const lastAccepted = performance.now();
    progress.start(`scenario 1 (${transport}): landing`);
    const landed = await waitDrained(jsm, pool, topo, {
      timeoutMs: sizes.drainTimeoutMs,
      assertAlive: procs.assertAlive,
      onPoll: (status) => {
        const committed = status.find((s) => s.stage === 'project')?.eventsCommitted ?? 0;
        progress.update(committed, plan.total, 'events projected');
      },
    });
    const memory = await sampler.stop(procs.pids());
    const statements = await statementCosts(pool, plan.total);
    const rowsVerified = await verifyRows(pool, plan.total);
    const inMessages = (await jsm.streams.info(topo.streams.in.name)).state.messages;
    const totalMs = landed - started;
    const result: IngestResult = {
      transport,
      events: plan.total,
      targets: targetIds.length,
      requests: requests.length,
      eventsPerRequest: plan.total / requests.length,
      inMessages,
      eventsPerMessage: plan.total / inMessages,
      acceptedEventsPerS: perSecond(plan.total, lastAccepted - started),
      endToEndEventsPerS: perSecond(plan.total, totalMs),
      lastEventLandMs: Math.round(landed - lastAccepted),
      totalMs: Math.round(totalMs),
      stages: [...stageNames],
      rowsVerified,
      memory,
      statements,
    };
    progress.end(`${result.endToEndEventsPerS.toLocaleString('en-US')} events/s end to end`);
    return { result, db, topology: topo, rowsBefore };
  } finally {
    await procs.stop();
    await nc.close();
    await pool.end();
  }
}

interface SendOptions {
  readonly send: (r: PlannedRequest) => Promise<void>;
  readonly onAccepted: (events: number) => void;
  readonly assertAlive: () => void;
}

/** Sends the requests in order with `concurrency` in flight; any failure fails the run. */
export async function sendAll(
  requests: readonly PlannedRequest[],
  concurrency: number,
  opts: SendOptions,
): Promise<void> {
  let next = 0;
  let accepted = 0;
  const worker = async () => {
    while (next < requests.length) {
      const r = requests[next++]!;
      try {
        await opts.send(r);
      } catch (err) {
        opts.assertAlive();
        throw err;
      }
      accepted += r.events;
      opts.onAccepted(accepted);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, worker));
}

async function postRest(
  apiUrl: string,
  auth: Readonly<Record<string, string>>,
  r: PlannedRequest,
): Promise<void> {
  const res = await fetch(`${apiUrl}${r.to}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: r.body,
    signal: AbortSignal.timeout(speakerRequestTimeoutMs),
  });
  const body = (await res.json()) as { accepted?: number };
  if (res.status !== 202 || body.accepted !== r.events) {
    throw new Error(`POST ${r.to} answered ${res.status}: ${JSON.stringify(body).slice(0, 500)}`);
  }
}

/** NATS headers carrying the HTTP auth headers (the speak connector reads `Authorization`). */
export function natsAuth(auth: Readonly<Record<string, string>>): MsgHdrs | undefined {
  if (auth.authorization === undefined) return undefined;
  const h = natsHeaders();
  h.set('Authorization', auth.authorization);
  return h;
}

async function requestNats(nc: NatsConnection, h: MsgHdrs | undefined, r: PlannedRequest): Promise<void> {
  const reply = await nc.request(r.to, r.body, { timeout: speakerRequestTimeoutMs, headers: h });
  const body = reply.json<{ accepted?: number; error?: unknown }>();
  if (body.error !== undefined || body.accepted !== r.events) {
    throw new Error(`request on ${r.to} answered ${JSON.stringify(body).slice(0, 500)}`);
  }
}

/** Row counts of the base tables of schema tmi (partitions counted in their parent). */
export async function tableRows(pool: Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'tmi' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`,
  );
  const out: Record<string, number> = {};
  for (const { name } of rows) {
    const res = await pool.query<{ n: number }>(`SELECT count(*)::bigint AS n FROM tmi."${name}"`);
    out[name] = res.rows[0]!.n;
  }
  return out;
}

/** The statements of this database that took the most execution time since the reset. */
export async function statementCosts(pool: Pool, events: number): Promise<StatementCost[]> {
  const { rows } = await pool.query<{ query: string; calls: number; total_ms: number; rows: number }>(
    `SELECT regexp_replace(s.query, '\\s+', ' ', 'g') AS query, s.calls, s.total_exec_time AS total_ms, s.rows
     FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
     WHERE d.datname = current_database() ORDER BY s.total_exec_time DESC LIMIT $1`,
    [statementsListed],
  );
  return rows.map((r) => ({
    query: r.query.length > statementTextMax ? `${r.query.slice(0, statementTextMax)}…` : r.query,
    calls: Number(r.calls),
    msPerThousandEvents: Math.round((r.total_ms / events) * 1000 * 10) / 10,
    rows: Number(r.rows),
  }));
}

/** Characters of a statement kept in the results. */
const statementTextMax = 160;

/** Every event is in ts_obs and raw_bucket exactly once. */
async function verifyRows(pool: Pool, events: number): Promise<Record<string, number>> {
  const rows = await tableRows(pool);
  for (const table of ['ts_obs', 'raw_bucket']) {
    if (rows[table] !== events) throw new Error(`tmi.${table} holds ${rows[table]} rows, expected ${events}`);
  }
  return { ts_obs: rows.ts_obs!, raw_bucket: rows.raw_bucket!, target_state: rows.target_state ?? 0 };
}
