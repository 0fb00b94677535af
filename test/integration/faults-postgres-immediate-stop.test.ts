// SPDX-License-Identifier: MIT
// PostgreSQL stopped hard (`pg_ctl -m immediate`) and restarted 5 times while 20,000 events flow: the
// projections hold every event exactly once, checkpoints agree with the streams, what needs the database
// answers 503 while it is down, and nothing acknowledged is lost. Then, stopped while PostgreSQL is down with
// a backlog, tmiDB ends at once and hands everything it held back to the streams. Runs on a private PostgreSQL.
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Runtime, startRuntime } from '../../cli/index.js';
import { pauseStage, resumeStage, stageNames } from '../../pipelines/index.js';
import {
  createTargets,
  deadLetters,
  expectExactlyOnce,
  expectNewestState,
  faultTestTimeoutMs,
  type PrivatePostgres,
  privateDir,
  type SentEvent,
  startPrivatePostgres,
  waitForDrain,
  workload,
  writeUntilAcknowledged,
} from '../support/faults.js';
import { startTestTmidb, type TestTmidb } from '../support/tmidb.js';
import { eventually } from '../support/wait.js';

const eventsTotal = 20_000;
const crashes = 5;

let t: TestTmidb;
let pg: PrivatePostgres;
const home = privateDir('faults-pg');
const logged: string[] = [];
/** Set in afterAll: from then on warnings are printed (a slow stop names the step it waits on). */
let stopping = false;
/** The second test stops the runtime itself; afterAll then only removes what the test run made. */
let stoppedInTest = false;
let restarted: Runtime | undefined;
/** The first test's events (the second checks every event of the file landed once). */
let firstEvents: readonly SentEvent[] = [];

beforeAll(async () => {
  pg = await startPrivatePostgres(home.dir);
  t = await startTestTmidb('faults_pg', {
    pgUrl: pg.url,
    config: { ackWaitMs: 5_000 },
    log: (level, msg) => {
      logged.push(`${level} ${msg}`);
      if (stopping && level === 'warn') console.warn(`[tmidb] ${msg}`);
    },
  });
}, faultTestTimeoutMs);
afterAll(async () => {
  stopping = true;
  if (stoppedInTest) {
    await restarted?.stop().catch(() => {});
    await t?.env.dropAll().catch(() => {});
  } else await t?.stop().catch(() => {});
  await pg?.stop().catch(() => {});
  home.remove();
}, faultTestTimeoutMs);

it(
  'PostgreSQL immediate stop ×5 under 20,000 events: exactly once, consistent checkpoints, 503 while down',
  async () => {
    const targets = await createTargets(t, 100, 'meter');
    // Targets never written before an outage: the write path must ask the database for them.
    const cold = await createTargets(t, crashes, 'cold');
    const events = workload(targets, eventsTotal);
    firstEvents = events;
    const outage: { read: number; coldWrite: number }[] = [];
    let done = false;
    const writing = writeUntilAcknowledged(t, events).finally(() => {
      done = true;
    });
    for (let k = 0; k < crashes; k++) {
      await new Promise((r) => setTimeout(r, 800));
      await pg.crash();
      const read = await t.request('GET', '/v1/targets?limit=1').then((r) => r.status);
      const coldWrite = await t
        .request('POST', `/v1/targets/${cold[k]}/events`, { data: { seq: -1, v: 0 } })
        .then((r) => r.status);
      outage.push({ read, coldWrite });
      await new Promise((r) => setTimeout(r, 700));
      await pg.restart();
    }
    const tally = await writing;
    console.info(
      `postgres crashes: ${crashes}; writes refused while down: ${JSON.stringify(tally.refused)}; ` +
        `probes: ${JSON.stringify(outage)}; writing ${done ? 'finished' : 'ran on'} after the last restart`,
    );
    // What needs the database answers 503 "retry" while it is down — never 500, never a 4xx.
    expect(outage).toEqual(Array.from({ length: crashes }, () => ({ read: 503, coldWrite: 503 })));
    expect(tally.acked.length).toBe(eventsTotal);

    await waitForDrain(t, eventsTotal);
    await expectExactlyOnce(
      t,
      events.map((e) => e.event_id),
    );
    await expectNewestState(t, events);

    // Checkpoints agree with the streams: every committed event counted once, the high-water mark at the end.
    const jsm = await jetstreamManager(t.runtime.nc);
    const last = async (stream: string) => (await jsm.streams.info(stream)).state.last_seq;
    const cps = await t.sql<{ consumer: string; stream_seq: number; events: number }>(
      'SELECT consumer, stream_seq, events FROM tmi.consumer_checkpoint',
    );
    const cp = (stage: string) => cps.find((c) => c.consumer === `${t.runtime.topology.namespace}.${stage}`)!;
    const { streams } = t.runtime.topology;
    expect(cp('capture')).toMatchObject({ stream_seq: await last(streams.in.name), events: eventsTotal });
    expect(cp('project')).toMatchObject({ stream_seq: await last(streams.norm.name), events: eventsTotal });
    expect(cp('normalize').stream_seq).toBe(await last(streams.in.name));
    expect(await deadLetters(t)).toBe(0);
    // Every 5xx left a log line with its request id, and every one of them was a 503.
    const fivexx = logged.filter((l) => /^error request \S+ .* → 5\d\d /.test(l));
    expect(fivexx.length).toBeGreaterThanOrEqual(2 * crashes);
    expect(fivexx.filter((l) => !/ → 503 UNAVAILABLE: /.test(l))).toEqual([]);
  },
  faultTestTimeoutMs,
);

it(
  'stopped while PostgreSQL is down with a backlog, tmiDB ends at once; started again, it applies every event once',
  async () => {
    // Found by stopping right after a crash: stages retrying their batch stop taking batches, their
    // buffers fill, and the stop hung for good closing a subscription whose client still held messages.
    // capture's backlog is made while it is paused, then it is resumed with PostgreSQL down.
    const jsm = await jetstreamManager(t.runtime.nc);
    await pauseStage(jsm, t.runtime.topology, 'capture');
    const targets = await createTargets(t, 100, 'late');
    const late = workload(targets, eventsTotal);
    expect((await writeUntilAcknowledged(t, late)).acked.length).toBe(eventsTotal);
    await pg.crash();
    await resumeStage(jsm, t.runtime.topology, 'capture');
    const { stream, durable } = t.runtime.topology.stages.capture;
    // The stage stopped pulling with a backlog left: its buffer (and its client's) is full. Seen three
    // polls in a row, so not a pull in passing.
    let seen = 0;
    await eventually('capture holding a full buffer with a backlog in the stream', async () => {
      const c = await jsm.consumers.info(stream, durable);
      seen = c.num_pending > 0 && c.num_ack_pending > 0 ? seen + 1 : 0;
      return seen >= 3;
    });
    const stopBoundMs = 60_000;
    stoppedInTest = true;
    const outcome = await Promise.race([
      t.runtime.stop().then(() => 'stopped'),
      new Promise((r) => setTimeout(() => r(`still stopping after ${stopBoundMs} ms`), stopBoundMs).unref()),
    ]);
    expect(outcome).toBe('stopped');

    // Nothing it held is lost: started again on the same streams and database, every event lands once.
    await pg.restart();
    const runtime = await startRuntime(t.config, {
      pgUrl: pg.url,
      natsUrl: t.env.natsUrl,
      stages: stageNames,
      api: true,
    });
    restarted = runtime;
    const again: TestTmidb = {
      ...t,
      runtime,
      sql: async (text, values) => (await runtime.pool.query(text, values)).rows,
    };
    const all = [...firstEvents, ...late];
    await waitForDrain(again, all.length);
    await expectExactlyOnce(
      again,
      all.map((e) => e.event_id),
    );
  },
  faultTestTimeoutMs,
);
