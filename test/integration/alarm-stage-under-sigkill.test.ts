// SPDX-License-Identifier: MIT
// The alarm stage under crashes: while 6,000 events flow, the two alarm stage processes (`tmictl stage
// alarm`, sharing one durable consumer) are SIGKILLed again and again and restarted. Afterwards every
// rule × target has exactly the transitions a plain re-computation of the rule says it must have — none
// missing, none twice — each published exactly once on <ns>.alarm.<target_id>. Then a deadman timer that
// is running when every alarm process dies still fires on time once one is back.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { packageRoot } from '../../config/index.js';
import { uuidv7 } from '../../schemas/index.js';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

const tmictl = path.join(packageRoot, 'dist', 'cli', 'tmictl.js');
const targetsTotal = 40;
const eventsPerTarget = 150;
const eventsPerRequest = 80;
const killsMin = 5;
const raiseAbove = 60;
const clearBelow = 30;

interface Worker {
  proc: ChildProcess;
  log: string;
}

let t: TestTmidb;
const workers: Worker[] = [];

function spawnAlarmStage(w?: Worker): Worker {
  const proc = spawn(process.execPath, [tmictl, 'stage', 'alarm'], {
    env: t.childEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const worker = w ?? { proc, log: '' };
  worker.proc = proc;
  proc.stderr?.on('data', (chunk: Buffer) => {
    worker.log = (worker.log + chunk.toString()).slice(-4000);
  });
  return worker;
}

async function kill(w: Worker): Promise<void> {
  if (w.proc.exitCode !== null || w.proc.signalCode !== null) return;
  const exited = new Promise((r) => w.proc.once('exit', r));
  w.proc.kill('SIGKILL');
  await exited;
}

beforeAll(async () => {
  expect(existsSync(tmictl), `${tmictl} missing: run 'npm run build' first`).toBe(true);
  t = await startTestTmidb('alarm_sigkill', { stages: ['normalize'], config: { ackWaitMs: 2_000 } });
  workers.push(spawnAlarmStage(), spawnAlarmStage());
});

afterAll(async () => {
  for (const w of workers) await kill(w);
  await t?.stop();
});

async function alarmCheckpoint(): Promise<number> {
  const rows = await t.sql<{ stream_seq: number }>(
    'SELECT stream_seq FROM tmi.consumer_checkpoint WHERE consumer = $1',
    [`${t.runtime.topology.namespace}.alarm`],
  );
  return rows[0]?.stream_seq ?? 0;
}

type SentEvent = { target_id: string; event_id: string; ts: number; data: { v: number } };

/** Per target, values wander through both thresholds; observation times rise per target. */
function eventsFor(targets: readonly string[]): SentEvent[] {
  let x = 7;
  const random = () => {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_648;
    return x / 2_147_483_648;
  };
  const base = Date.now() - 3_600_000;
  const events: SentEvent[] = [];
  for (let k = 0; k < eventsPerTarget; k++) {
    for (const [i, target_id] of targets.entries()) {
      events.push({
        target_id,
        event_id: uuidv7(),
        ts: base + k * 1000 + i,
        data: { v: Math.floor(random() * 101) },
      });
    }
  }
  return events;
}

/** The oracle: the rule, computed plainly per target in observation order. */
function expectedTransitions(events: readonly SentEvent[]): Map<string, string[]> {
  const expected = new Map<string, string[]>();
  const open = new Map<string, boolean>();
  for (const e of events) {
    const list = expected.get(e.target_id) ?? [];
    if (!open.get(e.target_id) && e.data.v > raiseAbove) {
      list.push(`raised:${e.event_id}`);
      open.set(e.target_id, true);
    } else if (open.get(e.target_id) && e.data.v < clearBelow) {
      list.push(`cleared:${e.event_id}`);
      open.set(e.target_id, false);
    }
    expected.set(e.target_id, list);
  }
  return expected;
}

/** Whether the worker's current process has started the stage (it says so on stderr). */
function running(w: Worker): boolean {
  return w.log.includes(`(pid ${w.proc.pid})`);
}

/**
 * Kills the alarm workers in turn, at least killsMin times and on while `writing()`: each kill once the
 * worker killed before runs again, the stage has moved on since, and messages are delivered and not yet
 * acknowledged (work in flight).
 */
async function killInTurn(writing: () => boolean, inFlight: () => Promise<boolean>): Promise<number> {
  let kills = 0;
  let last: Worker | undefined;
  while (writing() || kills < killsMin) {
    const restarted = last;
    if (restarted) await eventually('the alarm worker to run again', () => running(restarted));
    const mark = await alarmCheckpoint();
    await eventually('the alarm stage to move on with work in flight', async () => {
      return !writing() || ((await alarmCheckpoint()) > mark && (await inFlight()));
    });
    const w = workers[kills % workers.length]!;
    await kill(w);
    kills++;
    spawnAlarmStage(w);
    last = w;
  }
  return kills;
}

/** Writes the events, keeping pace with the alarm stage (it waits for it to move on after each request). */
async function writeInStep(events: readonly SentEvent[]): Promise<void> {
  for (let i = 0; i < events.length; i += eventsPerRequest) {
    const seen = await alarmCheckpoint();
    const res = await t.request('POST', '/v1/events', events.slice(i, i + eventsPerRequest));
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await eventually('the alarm stage to move on', async () => (await alarmCheckpoint()) > seen);
  }
}

/** Waits until the alarm stage has applied every TMI_NORM message and published every transition. */
async function drained(jsm: JetStreamManager): Promise<void> {
  const lastNorm = async () => (await jsm.streams.info(t.runtime.topology.streams.norm.name)).state.last_seq;
  await eventually(
    'the alarm stage applied every message and published every transition',
    async () => {
      const outbox = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM tmi.alarm_outbox');
      return (await alarmCheckpoint()) >= (await lastNorm()) && outbox[0]!.n === 0;
    },
    90_000,
  ).catch(async (err) => {
    const info = await jsm.consumers.info(t.runtime.topology.stages.alarm.stream, 'alarm');
    const state = `checkpoint ${await alarmCheckpoint()}, last TMI_NORM ${await lastNorm()}, consumer pending ${info.num_pending}, ack pending ${info.num_ack_pending}, redelivered ${info.num_redelivered}, ack floor ${info.ack_floor.stream_seq}`;
    throw new Error(`${err.message}\n${state}\n${workers.map((w) => `--- alarm\n${w.log}`).join('\n')}`);
  });
}

it('6,000 events, alarm processes SIGKILLed ≥ 5 times: every transition exactly once, none missing', async () => {
  const rule = await t.request('POST', '/v1/alarm-rules', {
    name: 'reactor hot',
    kind: 'reactor',
    severity: 'critical',
    type: 'threshold',
    condition: { all: [{ field: 'v', op: '>', value: raiseAbove }] },
    clear: { all: [{ field: 'v', op: '<', value: clearBelow }] },
  });
  expect(rule.status).toBe(201);
  const targets: string[] = [];
  for (let i = 0; i < targetsTotal; i++) {
    targets.push(
      (await t.request('POST', '/v1/targets', { name: `reactor-${i}`, kind: 'reactor' })).body.target_id,
    );
  }
  const events = eventsFor(targets);
  const expected = expectedTransitions(events);
  const transitionsTotal = [...expected.values()].reduce((n, l) => n + l.length, 0);

  const jsm = await jetstreamManager(t.runtime.nc);
  const inFlight = async () =>
    (await jsm.consumers.info(t.runtime.topology.stages.alarm.stream, 'alarm')).num_ack_pending > 0;
  let writing = true;
  const killer = killInTurn(() => writing, inFlight);
  const started = Date.now();
  await writeInStep(events);
  writing = false;
  const kills = await killer;
  await drained(jsm);
  const elapsedS = (Date.now() - started) / 1000;

  const rows = await t.sql<{ target_id: string; transition: string; event_id: string }>(
    `SELECT a.target_id, e.transition, e.detail->>'event_id' AS event_id
     FROM tmi.alarm_event e JOIN tmi.alarm a USING (alarm_id)
     WHERE a.rule_id = $1 ORDER BY a.target_id, a.raised_at, e.transition DESC`,
    [rule.body.rule_id],
  );
  const got = new Map<string, string[]>();
  for (const r of rows)
    got.set(r.target_id, [...(got.get(r.target_id) ?? []), `${r.transition}:${r.event_id}`]);
  for (const target of targets) expect(got.get(target) ?? [], target).toEqual(expected.get(target));
  expect(rows).toHaveLength(transitionsTotal);

  const alarmStream = await jsm.streams.info(t.runtime.topology.streams.alarm.name);
  expect(alarmStream.state.messages).toBe(transitionsTotal);
  const dlq = await jsm.streams.info(t.runtime.topology.streams.dlq.name);
  expect(dlq.state.messages).toBe(0);

  const consumer = await jsm.consumers.info(t.runtime.topology.stages.alarm.stream, 'alarm');
  const redeliveries = consumer.delivered.consumer_seq - consumer.delivered.stream_seq;
  console.info(
    `alarm stage: ${kills} kills, ${redeliveries} redeliveries after the kills, ${transitionsTotal} transitions, ` +
      `${events.length} events in ${elapsedS.toFixed(1)} s`,
  );
  expect(kills).toBeGreaterThanOrEqual(killsMin);
  expect(redeliveries).toBeGreaterThan(0);
});

it('a deadman timer running when every alarm process dies still fires on time after one comes back', async () => {
  const rule = await t.request('POST', '/v1/alarm-rules', {
    name: 'beacon silent',
    kind: 'beacon',
    type: 'deadman',
    field: 'ping',
    timeout_s: 8, // leaves a restarted process time to attach before the deadline, even on a loaded machine
  });
  expect(rule.status).toBe(201);
  const beacon = (await t.request('POST', '/v1/targets', { name: 'b', kind: 'beacon' })).body.target_id;
  const ts = Date.now();
  await t.request('POST', `/v1/targets/${beacon}/events`, { ts, data: { ping: 1 } });
  await eventually('the deadline stored', async () => {
    const rows = await t.sql('SELECT 1 FROM tmi.alarm_state WHERE rule_id = $1 AND due_us IS NOT NULL', [
      rule.body.rule_id,
    ]);
    return rows.length === 1;
  });
  for (const w of workers) await kill(w);
  spawnAlarmStage(workers[0]);
  const due = ts + 8_000;
  await eventually(
    'the deadman alarm',
    async () => (await t.sql('SELECT 1 FROM tmi.alarm WHERE rule_id = $1', [rule.body.rule_id])).length === 1,
    15_000,
  );
  const [row] = await t.sql<{ raised_ms: number; recorded_ms: number }>(
    `SELECT (extract(epoch FROM a.raised_at) * 1000)::float8 AS raised_ms,
            (extract(epoch FROM e.recorded_at) * 1000)::float8 AS recorded_ms
     FROM tmi.alarm a JOIN tmi.alarm_event e USING (alarm_id) WHERE a.rule_id = $1`,
    [rule.body.rule_id],
  );
  expect(row!.raised_ms).toBe(due);
  const lateMs = row!.recorded_ms - due;
  console.info(`deadman after a restart: raised ${lateMs.toFixed(0)} ms after its deadline`);
  expect(lateMs).toBeGreaterThanOrEqual(0);
  expect(lateMs).toBeLessThan(1_500);
  spawnAlarmStage(workers[1]);
});
