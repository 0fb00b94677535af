// SPDX-License-Identifier: MIT
// Scenario 7 — soak: a steady load for a long time (full size: 10 minutes at half the end-to-end rate
// scenario 1 measured, with 500 WebSocket listeners). What must stay flat is compared window by window
// (a minute at full size): the tmiDB processes' RSS, the stages' consumer lag (messages delivered but not
// acknowledged, or not delivered yet) and the request → listener p99. The first and last windows are
// printed side by side; every window is in the JSON.
import { performance } from 'node:perf_hooks';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { stageNames, type Topology, topology } from '../pipelines/index.js';
import { uuidv7 } from '../schemas/index.js';
import type { BenchServers } from './env.js';
import { benchDb } from './env.js';
import { natsAuth } from './ingest.js';
import { type Receivers, receiveGraceMs, round, sendTickMs, speakTimeoutMs, wsListeners } from './latency.js';
import { mib, rssBytes } from './memory.js';
import type { Sizes } from './options.js';
import type { Progress } from './progress.js';
import { type Percentiles, percentiles } from './stats.js';
import { type ProcessLayout, startTmidb } from './tmidb.js';
import { createTargets, vehicleReading } from './workload.js';

/** How often RSS and consumer lag are read. */
export const soakSampleIntervalMs = 1_000;
/** The soak's rate when scenario 1 did not run in the same invocation: half of 7,151 events/s (issue 15). */
export const soakDefaultEventsPerS = 3_500;
/**
 * A measure is flat when its last window is at most this many times its first (plus a small allowance for
 * figures near zero: soakLagSlackMessages, soakP99SlackMs, soakRssSlackMiB).
 */
export const soakDriftRatioMax = 1.25;
export const soakLagSlackMessages = 100;
export const soakP99SlackMs = 10;
export const soakRssSlackMiB = 16;

export interface SoakWindow {
  /** Seconds since the measured load started, at the window's start. */
  readonly fromS: number;
  readonly eventsSent: number;
  readonly deliveries: number;
  /** Largest sampled RSS of the tmiDB processes together in the window, MiB. */
  readonly rssMiB: number;
  /** Largest sampled consumer lag in the window: every stage's pending + unacknowledged messages. */
  readonly lagMessages: number;
  /** Request → listener latency of the deliveries received in the window, ms. */
  readonly endToEndMs: Percentiles;
}

export interface SoakResult {
  readonly offeredEventsPerS: number;
  /** Where the rate came from. */
  readonly rateFrom: string;
  readonly seconds: number;
  readonly windowSeconds: number;
  readonly listeners: number;
  readonly eventsPerRequest: number;
  readonly eventsSent: number;
  readonly deliveriesExpected: number;
  readonly deliveriesReceived: number;
  readonly errors: number;
  readonly windows: readonly SoakWindow[];
  readonly first: SoakWindow;
  readonly last: SoakWindow;
  /** Last window against the first, judged with soakDriftRatioMax. */
  readonly flat: { readonly rss: boolean; readonly lag: boolean; readonly p99: boolean };
}

/** What the soak counts while it runs; outstanding events are forgotten on receipt (bounded driver memory). */
interface SoakTally {
  readonly sentAt: Map<string, number>;
  sent: number;
  received: number;
  errors: number;
  window: { latencies: number[]; sent: number; received: number; rss: number; lag: number };
}

function newWindow(): SoakTally['window'] {
  return { latencies: [], sent: 0, received: 0, rss: 0, lag: 0 };
}

export async function runSoak(
  servers: BenchServers,
  sizes: Sizes,
  progress: Progress,
  nodeFlags: readonly string[],
  processes: ProcessLayout,
  rate: { eventsPerS: number; from: string },
): Promise<SoakResult> {
  progress.start(`scenario 7 (soak): starting tmiDB`);
  const listeners = sizes.wsListeners;
  const db = await benchDb(servers, 'soak');
  const topo = topology(db.namespace);
  const procs = await startTmidb(servers, db, {
    stages: stageNames,
    nodeFlags,
    processes,
    env: { TMIDB_WS_CONNECTIONS_PER_KEY_MAX: String(listeners + 10) },
  });
  const nc = await connect({ servers: servers.natsUrl, name: 'tmiDB-bench-soak' });
  let receivers: Receivers | undefined;
  try {
    const jsm = await jetstreamManager(nc);
    const targetIds = await createTargets(procs.apiUrl, procs.authHeaders, sizes.latencyTargets, 'soak');
    const tally: SoakTally = { sentAt: new Map(), sent: 0, received: 0, errors: 0, window: newWindow() };
    progress.start(`scenario 7 (soak): ${listeners} listeners attaching`);
    receivers = await wsListeners(procs.apiUrl, procs.authHeaders, targetIds, listeners, (id, now) => {
      const at = id === undefined ? undefined : tally.sentAt.get(id);
      if (at === undefined) return;
      tally.sentAt.delete(id!);
      tally.received++;
      tally.window.received++;
      tally.window.latencies.push(now - at);
    });
    if (receivers === undefined) throw new Error('scenario 7 needs the listeners API');
    const speak = { nc, prefix: topo.speakPrefix, targetIds, auth: natsAuth(procs.authHeaders) };
    const watch = { jsm, topo, pids: () => Object.values(procs.pids()) };
    const windows = await soakLoad(speak, watch, tally, sizes, rate.eventsPerS, progress);
    await awaitOutstanding(tally, procs.assertAlive);
    return soakResult(sizes, rate, listeners, tally, windows);
  } finally {
    await receivers?.close();
    await nc.close();
    await procs.stop();
    await db.drop().catch(() => {});
  }
}

interface SoakSpeaker {
  readonly nc: NatsConnection;
  readonly prefix: string;
  readonly targetIds: readonly string[];
  readonly auth: ReturnType<typeof natsAuth>;
}

interface SoakWatch {
  readonly jsm: JetStreamManager;
  readonly topo: Topology;
  readonly pids: () => readonly number[];
}

/** One NATS request of `eventsPerRequest` readings of the next target in turn (not awaited: open loop). */
function sendBatch(speak: SoakSpeaker, tally: SoakTally, eventsPerRequest: number): void {
  const t = Math.floor(tally.sent / eventsPerRequest) % speak.targetIds.length;
  const at = performance.now();
  const events = [];
  for (let k = 0; k < eventsPerRequest; k++) {
    const eventId = uuidv7();
    tally.sentAt.set(eventId, at);
    events.push({ event_id: eventId, data: vehicleReading(t, tally.sent + k) });
  }
  tally.sent += eventsPerRequest;
  tally.window.sent += eventsPerRequest;
  speak.nc
    .request(`${speak.prefix}${speak.targetIds[t]}`, JSON.stringify(events), {
      timeout: speakTimeoutMs,
      headers: speak.auth,
    })
    .then(
      (reply) => {
        if (reply.json<{ error?: unknown }>().error !== undefined) tally.errors++;
      },
      () => tally.errors++,
    );
}

/** The consumer lag of every stage together: messages not yet delivered plus delivered and not acknowledged. */
export async function consumerLag(jsm: JetStreamManager, topo: Topology): Promise<number> {
  let lag = 0;
  for (const name of stageNames) {
    const spec = topo.stages[name];
    const info = await jsm.consumers.info(spec.stream, spec.durable);
    lag += info.num_pending + info.num_ack_pending;
  }
  return lag;
}

/** The open-loop load for sizes.soakSeconds, closing a window every sizes.soakWindowSeconds. */
async function soakLoad(
  speak: SoakSpeaker,
  watch: SoakWatch,
  tally: SoakTally,
  sizes: Sizes,
  eventsPerS: number,
  progress: Progress,
): Promise<SoakWindow[]> {
  const perRequest = Math.max(1, sizes.natsEventsPerRequest);
  const requestsPerS = eventsPerS / perRequest;
  const totalRequests = Math.round(sizes.soakSeconds * requestsPerS);
  const windowMs = sizes.soakWindowSeconds * 1000;
  const windows: SoakWindow[] = [];
  const started = performance.now();
  let requests = 0;
  let nextSampleMs = 0;
  let sampling = false;
  progress.start(`scenario 7 (soak): ${eventsPerS}/s for ${sizes.soakSeconds} s`);
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = performance.now() - started;
      const due = Math.min(totalRequests, Math.floor((elapsed * requestsPerS) / 1000));
      while (requests < due) {
        sendBatch(speak, tally, perRequest);
        requests++;
      }
      if (elapsed >= nextSampleMs && !sampling) {
        nextSampleMs += soakSampleIntervalMs;
        sampling = true;
        void sample(watch, tally).finally(() => {
          sampling = false;
        });
      }
      if (elapsed >= (windows.length + 1) * windowMs || requests >= totalRequests) {
        windows.push(closeWindow(tally, windows.length * sizes.soakWindowSeconds));
        progress.update(requests, totalRequests, 'requests sent');
      }
      if (requests >= totalRequests) {
        clearInterval(timer);
        resolve();
      }
    }, sendTickMs);
  });
  return windows;
}

/** One reading of RSS and lag into the current window (a failed read is skipped, not counted as zero). */
async function sample(watch: SoakWatch, tally: SoakTally): Promise<void> {
  let rss = 0;
  for (const pid of watch.pids()) rss += rssBytes(pid) ?? 0;
  tally.window.rss = Math.max(tally.window.rss, rss);
  const lag = await consumerLag(watch.jsm, watch.topo).catch(() => undefined);
  if (lag !== undefined) tally.window.lag = Math.max(tally.window.lag, lag);
}

function closeWindow(tally: SoakTally, fromS: number): SoakWindow {
  const w = tally.window;
  tally.window = newWindow();
  return {
    fromS,
    eventsSent: w.sent,
    deliveries: w.received,
    rssMiB: mib(w.rss),
    lagMessages: w.lag,
    endToEndMs: round(percentiles(w.latencies)),
  };
}

/** Waits up to receiveGraceMs for the events still on their way (they count in no window). */
async function awaitOutstanding(tally: SoakTally, assertAlive: () => void): Promise<void> {
  const deadline = performance.now() + receiveGraceMs;
  while (tally.sentAt.size > 0 && performance.now() < deadline) {
    assertAlive();
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function isFlat(first: number, last: number, slack: number): boolean {
  return last <= first * soakDriftRatioMax + slack;
}

function soakResult(
  sizes: Sizes,
  rate: { eventsPerS: number; from: string },
  listeners: number,
  tally: SoakTally,
  windows: readonly SoakWindow[],
): SoakResult {
  if (windows.length === 0) throw new Error('scenario 7: no window was measured');
  const first = windows[0]!;
  const last = windows[windows.length - 1]!;
  return {
    offeredEventsPerS: rate.eventsPerS,
    rateFrom: rate.from,
    seconds: sizes.soakSeconds,
    windowSeconds: sizes.soakWindowSeconds,
    listeners,
    eventsPerRequest: Math.max(1, sizes.natsEventsPerRequest),
    eventsSent: tally.sent,
    deliveriesExpected: tally.sent,
    deliveriesReceived: tally.received,
    errors: tally.errors,
    windows,
    first,
    last,
    flat: {
      rss: isFlat(first.rssMiB, last.rssMiB, soakRssSlackMiB),
      lag: isFlat(first.lagMessages, last.lagMessages, soakLagSlackMessages),
      p99: isFlat(first.endToEndMs.p99, last.endToEndMs.p99, soakP99SlackMs),
    },
  };
}
