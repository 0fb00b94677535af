// SPDX-License-Identifier: MIT
// A stage handler slower than TMIDB_ACK_WAIT_MS for 10 % of its batches, over 10,000 events: JetStream
// redelivers what it thinks was lost (redeliveries > 0), and no effect happens twice anywhere — rows,
// state, alarms and their transitions, listener frames.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type RunningStage, runStage, stageHandler, stageNames, stopStages } from '../../pipelines/index.js';
import type { StageHandler } from '../../processors/index.js';
import {
  createTargets,
  deadLetters,
  expectExactlyOnce,
  expectNewestState,
  faultTestTimeoutMs,
  redeliveries,
  type SentEvent,
  waitForDrain,
  writeUntilAcknowledged,
} from '../support/faults.js';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

const eventsTotal = 10_000;
const targetsTotal = 50;
const ackWaitMs = 2_000;
/** One batch in ten of every stage sleeps past the ack wait before it is handled. */
const slowEvery = 10;

let t: TestTmidb;
let stages: RunningStage[] = [];
const slowBatches: Record<string, number> = {};

/** The stage, but one batch in `slowEvery` first sleeps 1.5 ack waits: JetStream redelivers it meanwhile. */
function slowly(inner: StageHandler): StageHandler {
  let calls = 0;
  return {
    stage: inner.stage,
    ...(inner.tick ? { tick: () => inner.tick!(), tickIntervalMs: inner.tickIntervalMs } : {}),
    async handle(batch) {
      // The 2nd, 12th, 22nd … batch: every stage has one early, whatever its batch sizes turn out to be.
      if (++calls % slowEvery === 2) {
        slowBatches[inner.stage] = (slowBatches[inner.stage] ?? 0) + 1;
        await new Promise((r) => setTimeout(r, ackWaitMs * 1.5));
      }
      return inner.handle(batch);
    },
  };
}

beforeAll(async () => {
  t = await startTestTmidb('faults_slow', { stages: [], config: { ackWaitMs } });
  const ctx = {
    config: t.config,
    pool: t.runtime.pool,
    js: jetstream(t.runtime.nc),
    registry: t.runtime.registry,
    topology: t.runtime.topology,
    metrics: t.runtime.metrics,
    nc: t.runtime.nc,
  };
  for (const name of stageNames) {
    stages.push(
      await runStage({
        js: ctx.js,
        topology: ctx.topology,
        handler: slowly(stageHandler(name, ctx)),
        metrics: ctx.metrics,
        batchMessagesMax: t.config.stageBatchMessagesMax,
        maxDeliver: t.config.stageMaxDeliver,
        ackWaitMs,
      }),
    );
  }
}, faultTestTimeoutMs);
afterAll(async () => {
  await stopStages(stages);
  stages = [];
  await t?.stop();
}, faultTestTimeoutMs);

it(
  'handlers slower than the ack wait for 10 % of batches: redeliveries, and no effect twice',
  async () => {
    const targets = await createTargets(t, targetsTotal, 'probe');
    const rule = await t.request('POST', '/v1/alarm-rules', {
      name: 'hot',
      kind: 'probe',
      type: 'threshold',
      condition: { all: [{ field: 'temp', op: '>', value: 50 }] },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const listener = await t.request('POST', '/v1/listeners', {
      name: 'probes',
      subscriptions: [{ kind: 'probe', fields: ['temp'] }],
    });
    expect(listener.status, JSON.stringify(listener.body)).toBe(201);

    // Per target, temp runs 5 events hot, 5 cold, …: an alarm raised and cleared every 10 events.
    const base = Date.parse('2026-06-01T00:00:00Z');
    const events: SentEvent[] = Array.from({ length: eventsTotal }, (_, i) => {
      const k = Math.floor(i / targetsTotal); // the event's index within its target
      return {
        target_id: targets[i % targetsTotal]!,
        event_id: crypto.randomUUID(),
        ts: base + i * 10,
        data: { seq: i, temp: k % 10 < 5 ? 80 : 20 },
      };
    });
    const tally = await writeUntilAcknowledged(t, events, 200, 0);
    expect(tally.acked.length).toBe(eventsTotal);
    await waitForDrain(t, eventsTotal);

    await expectExactlyOnce(
      t,
      events.map((e) => e.event_id),
    );
    await expectNewestState(t, events);
    const perTarget = eventsTotal / targetsTotal;
    const cycles = Math.ceil(perTarget / 10);
    await eventually('every alarm raised and cleared', async () => {
      const [row] = await t.sql<{ n: number }>(
        "SELECT count(*)::int AS n FROM tmi.alarm WHERE state = 'cleared'",
      );
      return row!.n === targetsTotal * cycles;
    });
    const [alarms] = await t.sql<{ alarms: number; transitions: number }>(
      `SELECT (SELECT count(*)::int FROM tmi.alarm) AS alarms, (SELECT count(*)::int FROM tmi.alarm_event) AS transitions`,
    );
    expect(alarms).toEqual({ alarms: targetsTotal * cycles, transitions: 2 * targetsTotal * cycles });

    const jsm = await jetstreamManager(t.runtime.nc);
    const { streams, namespace } = t.runtime.topology;
    await eventually('every transition published', async () => {
      const info = await jsm.streams.info(streams.alarm.name);
      return info.state.messages === 2 * targetsTotal * cycles;
    });
    const frames = await jsm.streams.info(streams.listen.name, {
      subjects_filter: `${namespace}.listen.${listener.body.listener_id}.>`,
    });
    expect(frames.state.messages).toBe(eventsTotal);

    const redelivered = await redeliveries(t);
    console.info(`slow batches per stage: ${JSON.stringify(slowBatches)}; redeliveries: ${redelivered}`);
    expect(Object.keys(slowBatches).sort()).toEqual([...stageNames].sort());
    expect(redelivered).toBeGreaterThan(0);
    expect(await deadLetters(t)).toBe(0);
  },
  faultTestTimeoutMs,
);
