// SPDX-License-Identifier: MIT
// The alarm stage under crashes: while 6,000 events flow, the two alarm stage processes (`tmictl stage
// alarm`, sharing one durable consumer) are SIGKILLed again and again and restarted. Afterwards every
// rule × target has exactly the transitions a plain re-computation of the rule says it must have — none
// missing, none twice — each published exactly once on <ns>.alarm.<target_id>. Then a deadman timer that
// is running when every alarm process dies still fires on time once one is back.
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { uuidv7 } from '../../schemas/index.js';
import { killRepeatedly, StageWorkers } from '../support/stage-workers.js';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

const targetsTotal = 40;
const eventsPerTarget = 150;
const eventsPerRequest = 80;
const killsMin = 5;
const killsMax = 12;
const raiseAbove = 60;
const clearBelow = 30;

interface SentEvent {
  readonly target_id: string;
  readonly event_id: string;
  readonly ts: number;
  readonly data: { readonly v: number };
}

let t: TestTmidb;
let workers: StageWorkers;

beforeAll(async () => {
  t = await startTestTmidb('alarm_sigkill', { stages: ['normalize'], config: { ackWaitMs: 2_000 } });
  workers = new StageWorkers(t.childEnv);
  workers.start('alarm');
  workers.start('alarm');
});

afterAll(async () => {
  await workers?.killAll();
  await t?.stop();
});

async function alarmCheckpoint(): Promise<number> {
  const rows = await t.sql<{ stream_seq: number }>(
    'SELECT stream_seq FROM tmi.consumer_checkpoint WHERE consumer = $1',
    [`${t.runtime.topology.namespace}.alarm`],
  );
  return rows[0]?.stream_seq ?? 0;
}

it('6,000 events, alarm processes SIGKILLed ≥ 5 times: every transition exactly once, none missing', async () => {
  const rule = await createRule();
  const targets = await createTargets();

  const events = makeEvents(targets);
  const expected = expectedTransitions(events);
  const transitionsTotal = [...expected.values()].reduce((n, l) => n + l.length, 0);

  const jsm = await jetstreamManager(t.runtime.nc);
  const inFlight = async () =>
    (await jsm.consumers.info(t.runtime.topology.stages.alarm.stream, 'alarm')).num_ack_pending > 0;
  let writing = true;
  // Each kill lands once the stage has moved on since the kill before, with messages delivered and not
  // yet acknowledged: work in flight.
  const workInFlight = async () => {
    const mark = await alarmCheckpoint();
    await eventually('the alarm stage to move on with work in flight', async () => {
      return !writing || ((await alarmCheckpoint()) > mark && (await inFlight()));
    });
  };
  const killer = killRepeatedly(workers, {
    keepGoing: () => writing,
    killsMin,
    killsMax,
    beforeKill: workInFlight,
  });
  const started = Date.now();
  try {
    for (let i = 0; i < events.length; i += eventsPerRequest) {
      const seen = await alarmCheckpoint();
      const res = await t.request('POST', '/v1/events', events.slice(i, i + eventsPerRequest));
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      await eventually('the alarm stage to move on', async () => (await alarmCheckpoint()) > seen);
    }
  } finally {
    writing = false; // a failed write must not leave the killer running into the deadman test
  }
  const kills = (await killer).length;

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
    throw new Error(`${err.message}\n${state}\n${workers.logs()}`);
  });
  const elapsedS = (Date.now() - started) / 1000;

  const recorded = await expectTransitions(rule.body.rule_id, targets, expected);
  expect(recorded).toBe(transitionsTotal);

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
  expect(kills).toBeLessThanOrEqual(killsMax);
  expect(redeliveries).toBeGreaterThan(0);
  expect(workers.unexpectedExits).toEqual([]);
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
  await workers.killAll();
  workers.respawn(workers.all[0]!);
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
  workers.respawn(workers.all[1]!);
  expect(workers.unexpectedExits).toEqual([]);
});

async function createRule(): Promise<{ body: { rule_id: string } }> {
  const rule = await t.request('POST', '/v1/alarm-rules', {
    name: 'reactor hot',
    kind: 'reactor',
    severity: 'critical',
    type: 'threshold',
    condition: { all: [{ field: 'v', op: '>', value: raiseAbove }] },
    clear: { all: [{ field: 'v', op: '<', value: clearBelow }] },
  });
  expect(rule.status).toBe(201);
  return rule;
}

async function createTargets(): Promise<string[]> {
  const targets: string[] = [];
  for (let i = 0; i < targetsTotal; i++) {
    targets.push(
      (await t.request('POST', '/v1/targets', { name: `reactor-${i}`, kind: 'reactor' })).body.target_id,
    );
  }
  return targets;
}

/** Per target, values wander through both thresholds; observation times rise per target. */
function makeEvents(targets: readonly string[]): SentEvent[] {
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

/** Every target's transitions, as recorded, equal the oracle's; returns how many there are. */
async function expectTransitions(
  ruleId: string,
  targets: readonly string[],
  expected: ReadonlyMap<string, string[]>,
): Promise<number> {
  const rows = await t.sql<{ target_id: string; transition: string; event_id: string }>(
    `SELECT a.target_id, e.transition, e.detail->>'event_id' AS event_id
     FROM tmi.alarm_event e JOIN tmi.alarm a USING (alarm_id)
     WHERE a.rule_id = $1 ORDER BY a.target_id, a.raised_at, e.transition DESC`,
    [ruleId],
  );
  const got = new Map<string, string[]>();
  for (const r of rows)
    got.set(r.target_id, [...(got.get(r.target_id) ?? []), `${r.transition}:${r.event_id}`]);
  for (const target of targets) expect(got.get(target) ?? [], target).toEqual(expected.get(target));
  return rows.length;
}
