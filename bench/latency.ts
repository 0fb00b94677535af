// SPDX-License-Identifier: MIT
// Scenario 3 — latency at a fixed offered load: speakers send single events as NATS requests on
// `<ns>.speak.<target_id>` on an open-loop schedule (a late answer does not slow the next send), and
// listeners time each event from its request to their receipt, on the driver's one clock. Two kinds of
// listeners:
//  - ws: WebSocket clients of /tmi/ws, one per listener, each listener subscribed to its own share of the
//    targets (every event reaches exactly one client) — what a fleet of dashboards does;
//  - nats: plain NATS subscribers of `<ns>.norm.>` (the normalized stream), each receiving every event.
import { performance } from 'node:perf_hooks';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import WebSocket from 'ws';
import { createPool } from '../db/index.js';
import { stageNames, topology } from '../pipelines/index.js';
import { uuidv7 } from '../schemas/index.js';
import type { BenchServers } from './env.js';
import { benchDb } from './env.js';
import { natsAuth, type StatementCost, statementCosts } from './ingest.js';
import { MemorySampler, otherCores, processGroups } from './memory.js';
import type { Sizes } from './options.js';
import type { Progress } from './progress.js';
import { type Percentiles, percentiles } from './stats.js';
import { type ProcessLayout, startTmidb } from './tmidb.js';
import { createTargets, vehicleReading } from './workload.js';

/** How often the open-loop sender wakes to send what is due. */
export const sendTickMs = 2;
/** NATS subscriptions per listener connection. */
export const listenersPerConnection = 25;
/** WebSocket clients connecting at once. */
export const wsConnectConcurrency = 25;
/** How long a WebSocket client may take to get `ready`. */
export const wsReadyTimeoutMs = 30_000;
/** How long after the last send the listeners may still receive before the run stops waiting. */
export const receiveGraceMs = 15_000;
export const speakTimeoutMs = 30_000;

export const listenerModes = ['ws', 'nats'] as const;
export type ListenerMode = (typeof listenerModes)[number];

export interface LatencyResult {
  readonly mode: ListenerMode;
  /** What the listeners were. */
  readonly how: string;
  readonly offeredEventsPerS: number;
  readonly achievedEventsPerS: number;
  readonly seconds: number;
  readonly listeners: number;
  readonly eventsSent: number;
  /** Deliveries expected and received. */
  readonly deliveriesExpected: number;
  readonly deliveriesReceived: number;
  /** Speaker request → listener receipt, ms. */
  readonly endToEndMs: Percentiles;
  /** Speaker request → speaker's answer (PubAck), ms. */
  readonly speakerAckMs: Percentiles;
  readonly errors: number;
  /** CPU ms per group while the measured load ran (scenario 1's groups). */
  readonly cpuMs: Record<string, number>;
  /** Average cores other work on the machine used meanwhile. */
  readonly otherCores: number;
  /** Where PostgreSQL's time went while the measured load ran (pg_stat_statements), most first. */
  readonly statements: readonly StatementCost[];
}

/** The first event id of a tmi.EventBatch body, read without decoding the rest (Avro: count, then record). */
export function firstEventId(body: Uint8Array): string | undefined {
  let pos = 0;
  const varint = (): number => {
    let shift = 0;
    let value = 0;
    for (;;) {
      const b = body[pos++];
      if (b === undefined) return Number.NaN;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
    }
    return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
  };
  const count = varint();
  if (!(count !== 0)) return undefined;
  if (count < 0) varint(); // block size in bytes follows a negative count
  const len = varint();
  if (!(len > 0) || pos + len > body.length) return undefined;
  return Buffer.from(body.buffer, body.byteOffset + pos, len).toString('latin1');
}

export interface Receivers {
  readonly how: string;
  /** Deliveries one event makes. */
  readonly perEvent: number;
  close(): Promise<void>;
}

export async function runLatency(
  servers: BenchServers,
  sizes: Sizes,
  progress: Progress,
  nodeFlags: readonly string[],
  mode: ListenerMode,
  eventsPerS: number,
  processes: ProcessLayout,
): Promise<LatencyResult | undefined> {
  progress.start(`scenario 3 (${mode}, ${eventsPerS}/s): starting tmiDB`);
  const listeners = mode === 'ws' ? sizes.wsListeners : sizes.listeners;
  const db = await benchDb(servers, `latency_${mode}_${eventsPerS}`);
  const topo = topology(db.namespace);
  const procs = await startTmidb(servers, db, {
    stages: stageNames,
    nodeFlags,
    processes,
    // One admin key opens every benchmark client's stream: the per-key connection limit is not under test.
    env: { TMIDB_WS_CONNECTIONS_PER_KEY_MAX: String(listeners + 10) },
  });
  const speaker = await connect({ servers: servers.natsUrl, name: 'tmiDB-bench-speaker' });
  const statsPool = createPool(db.pgUrl, 1);
  let receivers: Receivers | undefined;
  try {
    const targetIds = await createTargets(procs.apiUrl, procs.authHeaders, sizes.latencyTargets, 'latency');
    const tally = newTally();
    const onReceipt = receiptRecorder(tally);
    progress.start(`scenario 3 (${mode}): ${listeners} listeners attaching`);
    if (mode === 'nats') {
      receivers = await natsListeners(servers.natsUrl, `${db.namespace}.norm.>`, listeners, onReceipt);
    } else {
      receivers = await wsListeners(procs.apiUrl, procs.authHeaders, targetIds, listeners, onReceipt);
      if (receivers === undefined) return undefined;
    }
    const speak = { nc: speaker, prefix: topo.speakPrefix, targetIds, auth: natsAuth(procs.authHeaders) };
    const offered = openLoopSender(speak, eventsPerS, tally, progress);
    await offered(sizes.latencyWarmupSeconds, false, `scenario 3 (${mode}): warm-up`);
    await statsPool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await statsPool.query('SELECT pg_stat_statements_reset()');
    const sampler = new MemorySampler(
      processGroups(procs.pids(), () => servers.postmasterPid(), servers.nats.pid, 'cpu'),
    );
    await sampler.start();
    const run = await offered(
      sizes.latencySeconds,
      true,
      `scenario 3 (${mode}): ${eventsPerS} events/s for ${sizes.latencySeconds} s`,
    );
    const resources = await sampler.stop({});
    const statements = await statementCosts(statsPool, run.sent);
    const expected = run.sent * receivers.perEvent;
    await awaitDeliveries(tally, expected, () => procs.assertAlive());
    const result: LatencyResult = {
      mode,
      how: receivers.how,
      offeredEventsPerS: eventsPerS,
      achievedEventsPerS: Math.round((run.sent * 1000) / run.ms),
      seconds: sizes.latencySeconds,
      listeners,
      eventsSent: run.sent,
      deliveriesExpected: expected,
      deliveriesReceived: tally.received,
      endToEndMs: round(percentiles(tally.latencies)),
      speakerAckMs: round(percentiles(tally.acks)),
      errors: tally.errors,
      cpuMs: resources.cpuMs,
      otherCores: otherCores(resources, run.ms),
      statements,
    };
    progress.end(`p99 ${result.endToEndMs.p99} ms, ${tally.received}/${expected} deliveries`);
    return result;
  } finally {
    await receivers?.close();
    await speaker.close();
    await statsPool.end();
    await procs.stop();
    await db.drop().catch(() => {});
  }
}

/** What one latency run counts: send times, which events are measured, and what came back. */
interface Tally {
  readonly sentAt: Map<string, number>;
  readonly measured: Set<string>;
  readonly latencies: number[];
  readonly acks: number[];
  sent: number;
  received: number;
  errors: number;
}

function newTally(): Tally {
  return { sentAt: new Map(), measured: new Set(), latencies: [], acks: [], sent: 0, received: 0, errors: 0 };
}

/** A listener's receipt callback: times a measured event from its send to now. */
function receiptRecorder(tally: Tally): (eventId: string | undefined, now: number) => void {
  return (eventId, now) => {
    if (eventId === undefined || !tally.measured.has(eventId)) return;
    tally.latencies.push(now - tally.sentAt.get(eventId)!);
    tally.received++;
  };
}

/** Where and as whom the speaker sends. */
interface SpeakTarget {
  readonly nc: NatsConnection;
  readonly prefix: string;
  readonly targetIds: readonly string[];
  readonly auth: ReturnType<typeof natsAuth>;
}

/** Sends one event to the next target in turn; a late answer does not hold up the next send. */
function sendOne(speak: SpeakTarget, tally: Tally, isMeasured: boolean): void {
  const t = tally.sent % speak.targetIds.length;
  const eventId = uuidv7();
  const body = JSON.stringify({ event_id: eventId, data: vehicleReading(t, tally.sent) });
  const at = performance.now();
  tally.sentAt.set(eventId, at);
  if (isMeasured) tally.measured.add(eventId);
  tally.sent++;
  speak.nc
    .request(`${speak.prefix}${speak.targetIds[t]}`, body, { timeout: speakTimeoutMs, headers: speak.auth })
    .then(
      (reply) => {
        if (reply.json<{ error?: unknown }>().error !== undefined) tally.errors++;
        else if (isMeasured) tally.acks.push(performance.now() - at);
      },
      () => tally.errors++,
    );
}

/** An open-loop load of `eventsPerS`: each call sends for `seconds` what is due every `sendTickMs`. */
function openLoopSender(speak: SpeakTarget, eventsPerS: number, tally: Tally, progress: Progress) {
  return async (seconds: number, isMeasured: boolean, label: string) => {
    progress.start(label);
    const total = Math.round(seconds * eventsPerS);
    const started = performance.now();
    let done = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(total, Math.floor(((performance.now() - started) * eventsPerS) / 1000));
        while (done < due) {
          sendOne(speak, tally, isMeasured);
          done++;
        }
        progress.update(done, total, 'events sent');
        if (done >= total) {
          clearInterval(timer);
          resolve();
        }
      }, sendTickMs);
    });
    return { sent: total, ms: performance.now() - started };
  };
}

/** Waits up to `receiveGraceMs` for the listeners to receive `expected` deliveries. */
async function awaitDeliveries(tally: Tally, expected: number, assertAlive: () => void): Promise<void> {
  const deadline = performance.now() + receiveGraceMs;
  while (tally.received < expected && performance.now() < deadline) {
    assertAlive();
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `count` NATS subscribers of `subject`, a few per connection; every one receives every event. */
async function natsListeners(
  natsUrl: string,
  subject: string,
  count: number,
  onReceipt: (eventId: string | undefined, now: number) => void,
): Promise<Receivers> {
  const conns: NatsConnection[] = [];
  for (let i = 0; i < count; i += listenersPerConnection) {
    const nc = await connect({ servers: natsUrl, name: `tmiDB-bench-listeners-${i}` });
    conns.push(nc);
    for (let k = i; k < Math.min(count, i + listenersPerConnection); k++) {
      nc.subscribe(subject, {
        callback: (err, msg) => {
          const now = performance.now();
          if (!err) onReceipt(firstEventId(msg.data), now);
        },
      });
    }
    await nc.flush();
  }
  return {
    how: `${count} NATS subscribers of ${subject}, each receiving every event`,
    perEvent: count,
    close: async () => {
      for (const nc of conns) await nc.close();
    },
  };
}

/**
 * `count` listeners, listener k subscribed to every target t with t mod count = k, each with one WebSocket
 * client on /tmi/ws; undefined when this tmiDB has no listeners API.
 */
export async function wsListeners(
  apiUrl: string,
  auth: Readonly<Record<string, string>>,
  targetIds: readonly string[],
  count: number,
  onReceipt: (eventId: string | undefined, now: number) => void,
): Promise<Receivers | undefined> {
  const probe = await fetch(`${apiUrl}/v1/listeners`, { headers: auth });
  if (probe.status === 404) return undefined;
  const token = auth.authorization?.replace(/^Bearer /, '') ?? 'anonymous';
  const sockets: WebSocket[] = [];
  const names = Array.from({ length: count }, (_, k) => `bench-${k}`);
  const open = async (k: number) => {
    const name = names[k]!;
    const subscriptions = targetIds.filter((_, t) => t % count === k).map((id) => ({ target_id: id }));
    const res = await fetch(`${apiUrl}/v1/listeners`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ name, subscriptions }),
    });
    if (res.status !== 201) throw new Error(`POST /v1/listeners answered ${res.status}: ${await res.text()}`);
    const ws = new WebSocket(`${apiUrl.replace(/^http/, 'ws')}/tmi/ws`);
    sockets.push(ws);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${name}: no ready in ${wsReadyTimeoutMs} ms`)),
        wsReadyTimeoutMs,
      );
      ws.on('open', () => {
        ws.send(JSON.stringify({ type: 'auth', token, listener: name }));
        ws.send(JSON.stringify({ type: 'subscribe', from: 'now' }));
      });
      ws.on('message', (data: WebSocket.RawData) => {
        const now = performance.now();
        const frame = JSON.parse(data.toString()) as { type?: string; event_id?: string; message?: string };
        if (frame.type === 'event') onReceipt(frame.event_id, now);
        else if (frame.type === 'ready') {
          clearTimeout(timer);
          resolve();
        } else if (frame.type === 'error') {
          clearTimeout(timer);
          reject(new Error(`${name}: ${JSON.stringify(frame)}`));
        }
      });
      ws.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(wsConnectConcurrency, count) }, async () => {
      while (next < count) await open(next++);
    }),
  );
  return {
    how: `${count} WebSocket clients of /tmi/ws, one per listener, each listener subscribed to ${Math.ceil(targetIds.length / count)} targets (every event reaches one client)`,
    perEvent: 1,
    close: async () => {
      await Promise.all(
        sockets.map(
          (ws) =>
            new Promise<void>((resolve) => {
              if (ws.readyState === WebSocket.CLOSED) return resolve();
              ws.once('close', () => resolve());
              ws.close();
              setTimeout(resolve, 2_000).unref();
            }),
        ),
      );
    },
  };
}

export function round(p: Percentiles): Percentiles {
  const r = (v: number) => Math.round(v * 100) / 100;
  return { n: p.n, p50: r(p.p50), p95: r(p.p95), p99: r(p.p99), max: r(p.max), mean: r(p.mean) };
}
