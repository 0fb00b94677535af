// SPDX-License-Identifier: MIT
// Exactly-once under crashes: while 20,000 events flow, the stage processes (`tmictl stage <name>`, one
// capture, one normalize, two project sharing their consumer) are SIGKILLed again and again and
// restarted. Afterwards ts_obs and raw_bucket hold exactly one row per event, and target_state holds the
// newest value per field (by observation time, ties by event id), whatever order events arrived in.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { packageRoot } from '../../config/index.js';
import { pipelineStatus } from '../../pipelines/index.js';
import { uuidv7 } from '../../schemas/index.js';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

const tmictl = path.join(packageRoot, 'dist', 'cli', 'tmictl.js');
const eventsTotal = 20_000;
const targetsTotal = 200;
const eventsPerRequest = 100;
const killsMin = 5;

interface Worker {
  readonly stage: 'capture' | 'normalize' | 'project';
  proc: ChildProcess;
  log: string;
}

let t: TestTmidb;
const workers: Worker[] = [];

function spawnStage(w: Pick<Worker, 'stage'> & Partial<Worker>): Worker {
  const proc = spawn(process.execPath, [tmictl, 'stage', w.stage], {
    env: t.childEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const worker = w as Worker;
  worker.proc = proc;
  worker.log ??= '';
  proc.stderr?.on('data', (chunk: Buffer) => {
    worker.log = (worker.log + chunk.toString()).slice(-4000);
  });
  return worker;
}

/** How far the stages have come in all: the sum of their checkpoints (it only rises). */
async function progress(): Promise<number> {
  const rows = await t.sql<{ n: number }>(
    'SELECT coalesce(sum(stream_seq), 0)::float8 AS n FROM tmi.consumer_checkpoint',
  );
  return rows[0]!.n;
}

beforeAll(async () => {
  expect(existsSync(tmictl), `${tmictl} missing: run 'npm run build' first`).toBe(true);
  t = await startTestTmidb('exactly_once', { stages: [], config: { ackWaitMs: 2_000 } });
  for (const stage of ['capture', 'normalize', 'project', 'project'] as const)
    workers.push(spawnStage({ stage }));
});

afterAll(async () => {
  for (const w of workers) w.proc.kill('SIGKILL');
  await t?.stop();
});

type SentEvent = { target_id: string; event_id: string; ts: number; data: Record<string, number> };

/** Observation times jitter ±5 s around a rising clock, so events of a target arrive out of order. */
function eventsFor(targets: readonly string[]): SentEvent[] {
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

/** Whether the worker's current process has started its stage (it says so on stderr). */
function running(w: Worker): boolean {
  return w.log.includes(`(pid ${w.proc.pid})`);
}

/**
 * Kills the workers in turn, at least killsMin times and on while `writing()`: one process down at a time,
 * each kill once the worker killed before runs again and the pipeline has moved on since (mid-flow).
 */
async function killInTurn(writing: () => boolean): Promise<string[]> {
  const kills: string[] = [];
  let last: Worker | undefined;
  while (writing() || kills.length < killsMin) {
    const restarted = last;
    if (restarted) await eventually(`the ${restarted.stage} worker to run again`, () => running(restarted));
    const mark = await progress();
    await eventually('the pipeline to move on', async () => !writing() || (await progress()) > mark);
    const w = workers[kills.length % workers.length]!;
    w.proc.kill('SIGKILL');
    await new Promise((r) => w.proc.once('exit', r));
    kills.push(w.stage);
    spawnStage(w);
    last = w;
  }
  return kills;
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

/** The newest value per target × field, by observation time, ties by event id. */
function newestPerField(
  sent: readonly SentEvent[],
): Map<string, { value: number; ts: number; event_id: string }> {
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
  return expected;
}

async function drained(jsm: JetStreamManager): Promise<void> {
  await eventually(
    'every stage drained (nothing pending, nothing unacked) and every event projected',
    async () => {
      const status = await pipelineStatus(jsm, t.runtime.pool, t.runtime.topology);
      const [{ n }] = (await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM tmi.ts_obs')) as [
        { n: number },
      ];
      // Only the stages under test run here (the others' consumers just accumulate).
      const runningStages = status.filter((s) => workers.some((w) => w.stage === s.stage));
      return runningStages.every((s) => s.pending === 0 && s.ackPending === 0) && n >= eventsTotal;
    },
    180_000,
  ).catch((err) => {
    throw new Error(`${err.message}\n${workers.map((w) => `--- ${w.stage}\n${w.log}`).join('\n')}`);
  });
}

it('20,000 events, stage processes SIGKILLed ≥ 5 times: one row per event, newest state per field', async () => {
  const targets: string[] = [];
  for (let i = 0; i < targetsTotal; i++) {
    const res = await t.request('POST', '/v1/targets', { name: `car-${i}`, kind: 'car' });
    targets.push(res.body.target_id);
  }
  const sent = eventsFor(targets);

  let writing = true;
  const killer = killInTurn(() => writing);
  await writeInStep(sent);
  writing = false;
  const kills = await killer;
  expect(kills.length).toBeGreaterThanOrEqual(killsMin);
  expect(new Set(kills)).toEqual(new Set(['capture', 'normalize', 'project']));

  const jsm = await jetstreamManager(t.runtime.nc);
  await drained(jsm);

  const ids = sent.map((e) => e.event_id);
  for (const table of ['ts_obs', 'raw_bucket']) {
    const [row] = await t.sql<{ rows: number; distinct_ids: number; known: number }>(
      `SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS distinct_ids,
              count(*) FILTER (WHERE event_id = ANY($1::uuid[]))::int AS known FROM tmi.${table}`,
      [ids],
    );
    expect(row, table).toEqual({ rows: eventsTotal, distinct_ids: eventsTotal, known: eventsTotal });
  }

  const expected = newestPerField(sent);
  const state = await t.sql<{ target_id: string; field: string; value: number; event_id: string }>(
    'SELECT target_id, field, value, event_id FROM tmi.target_state',
  );
  expect(state.length).toBe(expected.size);
  const mismatches = state.filter((s) => {
    const e = expected.get(`${s.target_id}/${s.field}`);
    return !e || e.value !== s.value || e.event_id !== s.event_id;
  });
  expect(mismatches).toEqual([]);

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
});
