// SPDX-License-Identifier: MIT
// Scenario 2 — the limits of tmiDB's own parts, in the same run, on the same data as scenario 1:
//  (a) bare JetStream: the very messages scenario 1 put on the input stream, published again from Node
//      (many in flight) to a stream of their own, then pull-consumed with an explicit ack each;
//  (b) bare PostgreSQL COPY of the very rows the stages wrote, into the same (empty) tables;
//  (c) a naive loop of one autocommitted INSERT per row, as a user would hand-write it.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { createPool, migrate, type Pool } from '../db/index.js';
import { dropDatabase, ensureDatabase } from '../ops/index.js';
import { limits as pipelineLimits } from '../pipelines/index.js';
import type { BenchServers } from './env.js';
import type { IngestRun } from './ingest.js';
import { tableRows } from './ingest.js';
import type { Sizes } from './options.js';
import type { Progress } from './progress.js';
import { perSecond } from './stats.js';

/** Publishes in flight during the bare publish (what the pipeline allows itself: publishInFlightMax). */
export const barePublishInFlightMax = pipelineLimits.publishInFlightMax;
/** Each limit is measured this many times; the best round counts (a limit is what the part can do). */
export const limitRounds = 2;
/** Duplicate window of the bare stream (the pipeline's input stream dedupes by Nats-Msg-Id too). */
const bareDedupeWindowMs = 120_000;
/** Messages per pull of the bare consumer. */
export const bareConsumeBatchMessages = 1_000;
/** Tables the stages touch that are bookkeeping, not projections. */
const bookkeepingTables = new Set(['consumer_checkpoint', 'model_versions', 'schema_subject']);

export interface TableLimit {
  readonly rows: number;
  readonly copyRowsPerS: number;
  readonly naiveRowsPerS: number;
  readonly naiveRowsWritten: number;
}

export interface LimitsResult {
  readonly transport: string;
  readonly events: number;
  readonly messages: number;
  readonly messageBytes: number;
  readonly jetstreamPublishMsgsPerS: number;
  readonly jetstreamPublishEventsPerS: number;
  readonly jetstreamConsumeMsgsPerS: number;
  readonly jetstreamConsumeEventsPerS: number;
  /** min(publish, consume), events/s: limit (a). */
  readonly jetstreamEventsPerS: number;
  readonly copyMs: number;
  /** All projection rows of the N events, COPYed table by table in parallel: limit (b), events/s. */
  readonly copyEventsPerS: number;
  readonly copyRowsPerS: number;
  /** (c), events/s: all of an event's rows, one INSERT each. */
  readonly naiveInsertEventsPerS: number;
  readonly tables: Record<string, TableLimit>;
  /** Scenario 1's end-to-end rate over min(a, b). */
  readonly pipelineEventsPerS: number;
  readonly ratio: number;
}

export async function runLimits(
  servers: BenchServers,
  run: IngestRun,
  sizes: Sizes,
  progress: Progress,
): Promise<LimitsResult> {
  const { result: ingest } = run;
  const events = ingest.events;
  const bareJs = await measureBareJetStream(servers, run, progress);
  const { copyMs, naiveMsPerEvent, tables } = await measureBareDatabase(servers, run, sizes, progress);

  const totalRows = Object.values(tables).reduce((n, t) => n + t.rows, 0);
  const jetstreamPublishEventsPerS = perSecond(events, bareJs.publishMs);
  const jetstreamConsumeEventsPerS = perSecond(events, bareJs.consumeMs);
  const jetstreamEventsPerS = Math.min(jetstreamPublishEventsPerS, jetstreamConsumeEventsPerS);
  const copyEventsPerS = perSecond(events, copyMs);
  const limit = Math.min(jetstreamEventsPerS, copyEventsPerS);
  const out: LimitsResult = {
    transport: ingest.transport,
    events,
    messages: bareJs.messages,
    messageBytes: Math.round(bareJs.bytes / bareJs.messages),
    jetstreamPublishMsgsPerS: perSecond(bareJs.messages, bareJs.publishMs),
    jetstreamPublishEventsPerS,
    jetstreamConsumeMsgsPerS: perSecond(bareJs.messages, bareJs.consumeMs),
    jetstreamConsumeEventsPerS,
    jetstreamEventsPerS,
    copyMs: Math.round(copyMs),
    copyEventsPerS,
    copyRowsPerS: perSecond(totalRows, copyMs),
    naiveInsertEventsPerS: naiveMsPerEvent > 0 ? Math.round(1000 / naiveMsPerEvent) : 0,
    tables,
    pipelineEventsPerS: ingest.endToEndEventsPerS,
    ratio: Math.round((ingest.endToEndEventsPerS / limit) * 100) / 100,
  };
  progress.end(`limit ${limit.toLocaleString('en-US')} events/s, pipeline/limit ${out.ratio}`);
  return out;
}

interface BareJetStream {
  readonly publishMs: number;
  readonly consumeMs: number;
  readonly messages: number;
  readonly bytes: number;
}

/** (a) JetStream alone: the best of `limitRounds` publishes and consumes of the run's own messages. */
async function measureBareJetStream(
  servers: BenchServers,
  run: IngestRun,
  progress: Progress,
): Promise<BareJetStream> {
  const { result: ingest, topology: topo } = run;
  progress.start(`scenario 2 (${ingest.transport}): bare JetStream`);
  const nc = await connect({ servers: servers.natsUrl, name: 'tmiDB-bench-limits' });
  try {
    const js = jetstream(nc);
    const messages = await readStream(js, topo.streams.in.name, ingest.inMessages);
    let publishMs = Number.POSITIVE_INFINITY;
    let consumeMs = Number.POSITIVE_INFINITY;
    for (let round = 0; round < limitRounds; round++) {
      const t = await bareJetStream(nc, topo.namespace, round, messages, (done) =>
        progress.update(round * 2 * messages.length + done, limitRounds * 2 * messages.length, 'messages'),
      );
      publishMs = Math.min(publishMs, t.publishMs);
      consumeMs = Math.min(consumeMs, t.consumeMs);
    }
    return {
      publishMs,
      consumeMs,
      messages: messages.length,
      bytes: messages.reduce((n, m) => n + m.data.length, 0),
    };
  } finally {
    await nc.close();
  }
}

/** One table's rows as exported from the run's database. */
interface TableExport {
  readonly columns: string[];
  readonly data: Buffer;
  readonly rows: number;
}

/**
 * (b) COPY alone, and (c) the naive loop, into a fresh database with the same migrations, of every
 * projection table the run wrote to.
 */
async function measureBareDatabase(
  servers: BenchServers,
  run: IngestRun,
  sizes: Sizes,
  progress: Progress,
): Promise<{ copyMs: number; naiveMsPerEvent: number; tables: Record<string, TableLimit> }> {
  progress.start(`scenario 2 (${run.result.transport}): bare COPY`);
  const source = createPool(run.db.pgUrl, 4);
  const targetDb = `bench_copy_${randomBytes(4).toString('hex')}`;
  await ensureDatabase(servers.pgAdminUrl, targetDb);
  const url = new URL(servers.pgAdminUrl);
  url.pathname = `/${targetDb}`;
  const target = createPool(url.toString(), 8);
  try {
    await migrate(target);
    const exports = await exportWrittenTables(source, run.rowsBefore);
    const { copyMs, perTableMs } = await bestCopy(target, exports, progress);
    progress.start(`scenario 2 (${run.result.transport}): naive INSERT loop`);
    const budgetMs = (sizes.naiveSecondsMax * 1000) / Math.max(1, exports.size);
    const tables: Record<string, TableLimit> = {};
    let naiveMsPerEvent = 0;
    let t = 0;
    for (const [table, e] of exports) {
      await target.query(`TRUNCATE tmi."${table}"`);
      const naive = await naiveInsert(source, target, table, e.columns, sizes.naiveRowsPerTableMax, budgetMs);
      progress.update(++t, exports.size, 'tables');
      const rate = perSecond(naive.rows, naive.ms);
      tables[table] = {
        rows: e.rows,
        copyRowsPerS: perSecond(e.rows, perTableMs.get(table)!),
        naiveRowsPerS: rate,
        naiveRowsWritten: naive.rows,
      };
      naiveMsPerEvent += (e.rows / run.result.events) * (naive.ms / naive.rows);
    }
    return { copyMs, naiveMsPerEvent, tables };
  } finally {
    await source.end();
    await target.end();
    await dropDatabase(servers.pgAdminUrl, targetDb);
  }
}

/** Every non-bookkeeping table that gained rows during the run, exported with COPY. */
async function exportWrittenTables(
  source: Pool,
  rowsBefore: Readonly<Record<string, number>>,
): Promise<Map<string, TableExport>> {
  const rowsAfter = await tableRows(source);
  const written = Object.keys(rowsAfter).filter(
    (t) => !bookkeepingTables.has(t) && (rowsAfter[t] ?? 0) > (rowsBefore[t] ?? 0),
  );
  const exports = new Map<string, TableExport>();
  for (const table of written) {
    const columns = await copyableColumns(source, table);
    exports.set(table, {
      columns,
      data: await exportTable(source, table, columns),
      rows: rowsAfter[table]!,
    });
  }
  return exports;
}

/** The best of `limitRounds` parallel COPYs of every export, overall and per table. */
async function bestCopy(
  target: Pool,
  exports: ReadonlyMap<string, TableExport>,
  progress: Progress,
): Promise<{ copyMs: number; perTableMs: Map<string, number> }> {
  const perTableMs = new Map<string, number>();
  let copyMs = Number.POSITIVE_INFINITY;
  for (let round = 0; round < limitRounds; round++) {
    for (const table of exports.keys()) await target.query(`TRUNCATE tmi."${table}"`);
    await target.query('CHECKPOINT');
    const copyStarted = performance.now();
    await Promise.all(
      [...exports].map(async ([table, e]) => {
        const started = performance.now();
        await importTable(target, table, e.columns, e.data);
        const ms = performance.now() - started;
        perTableMs.set(table, Math.min(perTableMs.get(table) ?? Number.POSITIVE_INFINITY, ms));
      }),
    );
    copyMs = Math.min(copyMs, performance.now() - copyStarted);
    progress.update(round + 1, limitRounds, 'rounds');
  }
  return { copyMs, perTableMs };
}

/** One round of (a): publish every message to a fresh stream, then pull-consume and ack them all. */
async function bareJetStream(
  nc: NatsConnection,
  namespace: string,
  round: number,
  messages: readonly { subject: string; data: Uint8Array }[],
  onProgress: (done: number) => void,
): Promise<{ publishMs: number; consumeMs: number }> {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const stream = `${namespace.toUpperCase()}_BARE${round}`;
  const subjectPrefix = `${namespace}.bare${round}.`;
  await jsm.streams.add({
    name: stream,
    subjects: [`${subjectPrefix}>`],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    duplicate_window: pipelineLimits.nanos(bareDedupeWindowMs),
  });
  try {
    let next = 0;
    const publishStarted = performance.now();
    const worker = async () => {
      while (next < messages.length) {
        const i = next++;
        const m = messages[i]!;
        const target = m.subject.slice(m.subject.lastIndexOf('.') + 1);
        await js.publish(subjectPrefix + target, m.data, { msgID: `bare-${round}-${i}` });
        if (i % 500 === 0) onProgress(i);
      }
    };
    await Promise.all(Array.from({ length: Math.min(barePublishInFlightMax, messages.length) }, worker));
    const publishMs = performance.now() - publishStarted;

    await jsm.consumers.add(stream, {
      durable_name: 'bare',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      max_ack_pending: pipelineLimits.consumerAckPendingMax,
    });
    const consumer = await js.consumers.get(stream, 'bare');
    const consumeStarted = performance.now();
    const iter = await consumer.consume({ max_messages: bareConsumeBatchMessages });
    let consumed = 0;
    for await (const m of iter) {
      m.ack();
      consumed++;
      if (consumed % 500 === 0) onProgress(messages.length + consumed);
      if (consumed === messages.length) break;
    }
    await nc.flush();
    const consumeMs = performance.now() - consumeStarted;
    await iter.close().catch(() => {});
    return { publishMs, consumeMs };
  } finally {
    await jsm.streams.delete(stream).catch(() => false);
  }
}

/** Every message of a stream, in order (an ordered consumer). */
async function readStream(
  js: JetStreamClient,
  stream: string,
  count: number,
): Promise<{ subject: string; data: Uint8Array }[]> {
  const consumer = await js.consumers.get(stream);
  const out: { subject: string; data: Uint8Array }[] = [];
  const iter = await consumer.consume({ max_messages: bareConsumeBatchMessages });
  for await (const m of iter) {
    out.push({ subject: m.subject, data: Uint8Array.from(m.data) });
    if (out.length === count) break;
  }
  await iter.close().catch(() => {});
  return out;
}

/** Columns COPY may write: not dropped, not GENERATED ALWAYS (identity or expression). */
async function copyableColumns(pool: Pool, table: string): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_attribute a
     WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attidentity <> 'a' AND a.attgenerated = ''
     ORDER BY a.attnum`,
    [`tmi."${table}"`],
  );
  return rows.map((r) => r.name);
}

const columnList = (columns: readonly string[]) => columns.map((c) => `"${c}"`).join(', ');

async function exportTable(pool: Pool, table: string, columns: readonly string[]): Promise<Buffer> {
  const client = await pool.connect();
  try {
    const chunks: Buffer[] = [];
    const stream = client.query(copyTo(`COPY (SELECT ${columnList(columns)} FROM tmi."${table}") TO STDOUT`));
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } finally {
    client.release();
  }
}

async function importTable(
  pool: Pool,
  table: string,
  columns: readonly string[],
  data: Buffer,
): Promise<void> {
  const client = await pool.connect();
  try {
    const stream = client.query(copyFrom(`COPY tmi."${table}" (${columnList(columns)}) FROM STDIN`));
    await pipeline(
      (async function* () {
        yield data;
      })(),
      stream,
    );
  } finally {
    client.release();
  }
}

/** One autocommitted INSERT per row, awaited one by one, until `rowsMax` rows or `budgetMs` have passed. */
async function naiveInsert(
  source: Pool,
  target: Pool,
  table: string,
  columns: readonly string[],
  rowsMax: number,
  budgetMs: number,
): Promise<{ rows: number; ms: number }> {
  const { rows } = await source.query({
    text: `SELECT ${columns.map((c) => `"${c}"::text`).join(', ')} FROM tmi."${table}" LIMIT $1`,
    values: [rowsMax],
    rowMode: 'array' as const,
  });
  const placeholders = columns.map((_, i) => `$${i + 1}`).join(', ');
  const text = `INSERT INTO tmi."${table}" (${columnList(columns)}) VALUES (${placeholders})`;
  const client = await target.connect();
  try {
    const started = performance.now();
    let written = 0;
    for (const row of rows as (string | null)[][]) {
      await client.query(text, row);
      written++;
      if (performance.now() - started > budgetMs) break;
    }
    return { rows: written, ms: performance.now() - started };
  } finally {
    client.release();
  }
}
