// SPDX-License-Identifier: MIT
// Exactly-once under crashes: while 20,000 events flow, the stage processes (`tmictl stage <name>`, one
// capture, one normalize, two project sharing their consumer) are SIGKILLed again and again and
// restarted. Afterwards ts_obs and raw_bucket hold exactly one row per event, target_state holds the
// newest value per field (by observation time, ties by event id), whatever order events arrived in, and
// the rollups (1-minute and 1-hour) hold exactly the cells computed from ts_obs: no event counted twice.
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pipelineStatus } from '../../pipelines/index.js';
import { uuidv7 } from '../../schemas/index.js';
import { rollupMismatches } from '../support/rollups.js';
import { killRepeatedly, StageWorkers } from '../support/stage-workers.js';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

const eventsTotal = 20_000;
const targetsTotal = 200;
const eventsPerRequest = 100;
const killsMin = 5;
const killsMax = 12;

let t: TestTmidb;
let workers: StageWorkers;

interface SentEvent {
  readonly target_id: string;
  readonly event_id: string;
  readonly ts: number;
  readonly data: Record<string, number>;
}

beforeAll(async () => {
  t = await startTestTmidb('exactly_once', { stages: [], config: { ackWaitMs: 2_000 } });
  workers = new StageWorkers(t.childEnv);
  for (const stage of ['capture', 'normalize', 'project', 'project'] as const) workers.start(stage);
});

afterAll(async () => {
  await workers?.killAll();
  await t?.stop();
});

it('20,000 events, stage processes SIGKILLed ≥ 5 times: one row per event, newest state per field, rollups once', async () => {
  const sent = makeEvents(await createTargets());

  let writing = true;
  // Each kill lands mid-flow: once the pipeline has moved on since the kill before.
  const pipelineMovedOn = async () => {
    const mark = await progress();
    await eventually('the pipeline to move on', async () => !writing || (await progress()) > mark);
  };
  const killer = killRepeatedly(workers, {
    keepGoing: () => writing,
    killsMin,
    killsMax,
    beforeKill: pipelineMovedOn,
  });
  try {
    await writeInStep(sent);
  } finally {
    writing = false; // a failed write must not leave the killer running into the next test
  }
  const kills = await killer;
  expect(kills.length).toBeGreaterThanOrEqual(killsMin);
  expect(new Set(kills)).toEqual(new Set(['capture', 'normalize', 'project']));

  const jsm = await jetstreamManager(t.runtime.nc);
  await eventually(
    'every stage drained (nothing pending, nothing unacked) and every event projected',
    async () => {
      const status = await pipelineStatus(jsm, t.runtime.pool, t.runtime.topology);
      const [{ n }] = (await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM tmi.ts_obs')) as [
        { n: number },
      ];
      // Only the stages under test run here (the others' consumers just accumulate).
      const running = status.filter((s) => workers.all.some((w) => w.stage === s.stage));
      return running.every((s) => s.pending === 0 && s.ackPending === 0) && n >= eventsTotal;
    },
    180_000,
  ).catch((err) => {
    throw new Error(`${err.message}\n${workers.logs()}`);
  });

  await expectOneRowPerEvent(sent);
  await expectNewestStatePerField(sent);
  for (const m of await rollupMismatches(t.sql)) expect(m, m.table).toMatchObject({ missing: 0, extra: 0 });

  // The kills really hit work in flight: JetStream delivered some messages more than once.
  let redeliveries = 0;
  for (const stage of Object.values(t.runtime.topology.stages)) {
    const info = await jsm.consumers.info(stage.stream, stage.durable);
    redeliveries += info.delivered.consumer_seq - info.delivered.stream_seq;
  }
  console.info(`kills: ${kills.length} (${kills.join(', ')}); redeliveries: ${redeliveries}`);
  expect(redeliveries).toBeGreaterThan(0);

  const dlq = await jsm.streams.info(t.runtime.topology.streams.dlq.name);
  expect(dlq.state.messages).toBe(0);
  expect(workers.unexpectedExits).toEqual([]);
}, 600_000); // the drain alone may take 180 s on two shared cores

/** How far the stages have come in all: the sum of their checkpoints (it only rises). */
async function progress(): Promise<number> {
  const rows = await t.sql<{ n: number }>(
    'SELECT coalesce(sum(stream_seq), 0)::float8 AS n FROM tmi.consumer_checkpoint',
  );
  return rows[0]!.n;
}

/** Writes the events, keeping pace with the pipeline (it waits for it to move on after each request). */
async function writeInStep(sent: readonly SentEvent[]): Promise<void> {
  for (let i = 0; i < sent.length; i += eventsPerRequest) {
    const seen = await progress();
    const res = await t.request('POST', '/v1/events', sent.slice(i, i + eventsPerRequest));
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await eventually('the pipeline to move on', async () => (await progress()) > seen);
  }
}

async function createTargets(): Promise<string[]> {
  const targets: string[] = [];
  for (let i = 0; i < targetsTotal; i++) {
    const res = await t.request('POST', '/v1/targets', { name: `car-${i}`, kind: 'car' });
    targets.push(res.body.target_id);
  }
  return targets;
}

/** Observation times jitter ±5 s around a rising clock, so events of a target arrive out of order. */
function makeEvents(targets: readonly string[]): SentEvent[] {
  const base = Date.parse('2026-06-01T00:00:00Z');
  const sent: SentEvent[] = [];
  for (let i = 0; i < eventsTotal; i++) {
    const data: Record<string, number> = { seq: i, temp: Math.round(Math.random() * 1000) / 10 };
    if (i % 2 === 0) data.hum = i % 97;
    sent.push({
      target_id: targets[Math.floor(i / 10) % targetsTotal]!,
      event_id: uuidv7(),
      ts: base + i * 10 + Math.floor((Math.random() - 0.5) * 10_000),
      data,
    });
  }
  return sent;
}

async function expectOneRowPerEvent(sent: readonly SentEvent[]): Promise<void> {
  const ids = sent.map((e) => e.event_id);
  for (const table of ['ts_obs', 'raw_bucket']) {
    const [row] = await t.sql<{ rows: number; distinct_ids: number; known: number }>(
      `SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS distinct_ids,
              count(*) FILTER (WHERE event_id = ANY($1::uuid[]))::int AS known FROM tmi.${table}`,
      [ids],
    );
    expect(row, table).toEqual({ rows: eventsTotal, distinct_ids: eventsTotal, known: eventsTotal });
  }
}

async function expectNewestStatePerField(sent: readonly SentEvent[]): Promise<void> {
  const expected = new Map<string, { value: number; ts: number; event_id: string }>();
  for (const e of sent) {
    for (const [field, value] of Object.entries(e.data)) {
      const key = `${e.target_id}/${field}`;
      const prior = expected.get(key);
      if (!prior || e.ts > prior.ts || (e.ts === prior.ts && e.event_id > prior.event_id)) {
        expected.set(key, { value, ts: e.ts, event_id: e.event_id });
      }
    }
  }
  const state = await t.sql<{ target_id: string; field: string; value: number; event_id: string }>(
    'SELECT target_id, field, value, event_id FROM tmi.target_state',
  );
  expect(state.length).toBe(expected.size);
  const mismatches = state.filter((s) => {
    const e = expected.get(`${s.target_id}/${s.field}`);
    return !e || e.value !== s.value || e.event_id !== s.event_id;
  });
  expect(mismatches).toEqual([]);
}
