// SPDX-License-Identifier: MIT
// Scenario 5 — SQL speakers: commit → TMI_IN latency of tmi.speak(). A SQL client calls tmi.speak() in
// its own transaction (autocommit) at a fixed offered rate; the time runs from the moment the commit
// returns to the client until the event's message arrives on a plain NATS subscription of `<ns>.in.>`,
// on the driver's one clock. tmiDB runs as `tmictl up` runs it (one process, connectors on), so the
// drainer wakes on NOTIFY; the outbox's safety-net poll stays at its default.
import { performance } from 'node:perf_hooks';
import { connect } from '@nats-io/transport-node';
import { createPool } from '../db/index.js';
import { topology } from '../pipelines/index.js';
import { decodeEventBatch, uuidv7 } from '../schemas/index.js';
import type { BenchServers } from './env.js';
import { benchDb } from './env.js';
import type { Sizes } from './options.js';
import type { Progress } from './progress.js';
import { type Percentiles, percentiles } from './stats.js';
import { type ProcessLayout, startTmidb } from './tmidb.js';
import { createTargets } from './workload.js';

/** Targets the speaks rotate over. */
export const speakTargets = 100;
/** How long after the last speak its events may still arrive. */
export const speakGraceMs = 15_000;

export interface SpeakResult {
  readonly offeredEventsPerS: number;
  readonly seconds: number;
  readonly events: number;
  readonly received: number;
  /** Commit returned to the SQL client → message on TMI_IN. */
  readonly commitToInMs: Percentiles;
  /** The SQL client's round trip of `SELECT tmi.speak(…)` (autocommit). */
  readonly speakCallMs: Percentiles;
}

export async function runSpeak(
  servers: BenchServers,
  sizes: Sizes,
  progress: Progress,
  nodeFlags: readonly string[],
  processes: ProcessLayout,
): Promise<SpeakResult> {
  progress.start('scenario 5: tmi.speak() commit → TMI_IN');
  const db = await benchDb(servers, 'speak');
  const tmidb = await startTmidb(servers, db, { stages: [], processes, nodeFlags });
  const pool = createPool(db.pgUrl, 2);
  const nc = await connect({ servers: servers.natsUrl, name: 'bench-speak' });
  try {
    const targets = await createTargets(tmidb.apiUrl, tmidb.authHeaders, speakTargets, 'speaker');
    const committedAt = new Map<string, number>();
    const arrivedAt = new Map<string, number>();
    const sub = nc.subscribe(`${topology(db.namespace).namespace}.in.>`, {
      callback: (_err, msg) => {
        const now = performance.now();
        for (const e of decodeEventBatch(msg.data)) arrivedAt.set(e.event_id, now);
      },
    });
    await nc.flush();
    const total = sizes.speakEventsPerS * sizes.speakSeconds;
    const calls: number[] = [];
    const started = performance.now();
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / sizes.speakEventsPerS;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const id = uuidv7();
      const t0 = performance.now();
      await pool.query('SELECT tmi.speak($1, $2, NULL, $3)', [
        targets[i % targets.length],
        { seq: i, v: i % 97 },
        id,
      ]);
      const t1 = performance.now();
      calls.push(t1 - t0);
      committedAt.set(id, t1);
      if (i % 100 === 0) progress.update(i, total, 'speaks');
    }
    const deadline = performance.now() + speakGraceMs;
    while (arrivedAt.size < total && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    sub.unsubscribe();
    const latencies = [...committedAt].flatMap(([id, t]) => {
      const at = arrivedAt.get(id);
      return at === undefined ? [] : [Math.max(0, at - t)];
    });
    progress.end(`${latencies.length} of ${total} events arrived`);
    return {
      offeredEventsPerS: sizes.speakEventsPerS,
      seconds: sizes.speakSeconds,
      events: total,
      received: latencies.length,
      commitToInMs: percentiles(latencies),
      speakCallMs: percentiles(calls),
    };
  } finally {
    await nc.close();
    await pool.end();
    await tmidb.stop();
    await db.drop().catch(() => {});
  }
}
