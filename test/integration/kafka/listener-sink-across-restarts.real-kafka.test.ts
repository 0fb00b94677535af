// SPDX-License-Identifier: MIT
// The Kafka listener sink against a real Kafka broker: a listener's stream (masked, alarms included)
// produced to a topic while the `tmictl connector run` process holding the sink is SIGKILLed again and
// again and the sink is paused and resumed. The topic must hold exactly the listener's stream: every
// message once, keyed by its target, in stream order per target, the unsubscribed field nowhere.
import { jetstream } from '@nats-io/jetstream';
import type { KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConnectorWorkers } from '../../support/connector-workers.js';
import { startTestKafka, type TestKafka } from '../../support/kafka.js';
import { eventually, startTestTmidb, type TestTmidb, waitFor } from '../../support/tmidb.js';

const writes = 2_000;
const perRequest = 100;
const killsMin = 4;
const topic = 'ops-out';

let t: TestTmidb;
let kafka: TestKafka;
let workers: ConnectorWorkers;
const targets: string[] = [];

beforeAll(async () => {
  [t, kafka] = await Promise.all([
    startTestTmidb('kafka_sink', { stages: ['normalize', 'fanout', 'alarm', 'fanout-alarm'] }),
    startTestKafka(),
  ]);
  workers = new ConnectorWorkers({
    ...t.childEnv,
    TMIDB_CONNECTOR_LEASE_MS: '1500',
    TMIDB_CONNECTOR_BACKOFF_INITIAL_MS: '100',
    TMIDB_CONNECTOR_BACKOFF_MAX_MS: '1000',
  });
}, 240_000);

afterAll(async () => {
  await workers?.killAll();
  await t?.stop();
  await kafka?.stop();
});

interface Frame {
  cursor: number;
  type: string;
  target_id: string;
  data: Record<string, unknown>;
}

/** Everything in the listener's stream, in stream order (the oracle the topic is held to). */
async function listenerStream(listenerId: string): Promise<{ seq: number; frame: Frame }[]> {
  const { streams, listenWildcard } = t.runtime.topology;
  const consumer = await jetstream(t.runtime.nc).consumers.get(streams.listen.name, {
    filter_subjects: listenWildcard(listenerId),
  });
  const out: { seq: number; frame: Frame }[] = [];
  for (;;) {
    const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
    let n = 0;
    for await (const m of batch) {
      out.push({ seq: m.seq, frame: { cursor: m.seq, ...m.json<Omit<Frame, 'cursor'>>() } });
      n++;
    }
    if (n === 0) return out;
  }
}

const sinkCursor = async () =>
  (
    await t.sql<{ seq: number | null }>(
      `SELECT (s.cursor->>'seq')::bigint::int AS seq FROM tmi.connector_state s
       JOIN tmi.ingest_connector c USING (connector_id) WHERE c.name = 'ops-out'`,
    )
  )[0]?.seq ?? 0;

/** Pauses the sink and waits until no process runs it any more. */
async function pauseSink(): Promise<void> {
  expect((await t.request('POST', '/v1/connectors/ops-out/pause')).status).toBe(200);
  expect((await t.request('GET', '/v1/connectors/ops-out/status')).body.state).toBe('paused');
  // Stopped: no process holds its lease (one that was SIGKILLed holds it until it expires).
  await eventually('the sink stopped', async () => {
    const [s] = await t.sql<{ held: boolean }>(
      `SELECT coalesce(s.lease_expires_at > clock_timestamp(), false) AS held FROM tmi.connector_state s
       JOIN tmi.ingest_connector c USING (connector_id) WHERE c.name = 'ops-out'`,
    );
    return s?.held === false;
  });
}

const topicRecords = async () => {
  const admin = kafka.client.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  // Every record is one offset (no transactions, no control records).
  return offsets.reduce((n, o) => n + Number(o.high), 0);
};

async function writeAll(): Promise<void> {
  for (let i = 0; i < writes; i += perRequest) {
    const batch = Array.from({ length: perRequest }, (_, j) => {
      const seq = i + j;
      // Target 0 runs hot every 50 writes: alarms raised and cleared along the way.
      const temp = seq % targets.length === 0 && seq % 50 < 4 ? 95 : 20 + (seq % 10);
      return { target_id: targets[seq % targets.length], data: { seq, temp, pin: `secret-${seq}` } };
    });
    const res = await t.request('POST', '/v1/events', batch);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
  }
}

it('the topic holds the listener stream exactly once, in order per target, masked, across SIGKILLs and a pause', async () => {
  for (let i = 0; i < 4; i++) {
    const r = await t.request('POST', '/v1/targets', { name: `s-${i}`, kind: 'sensor' });
    targets.push(r.body.target_id);
  }
  const listener = await t.request('POST', '/v1/listeners', {
    name: 'ops',
    subscriptions: [{ kind: 'sensor', fields: ['seq', 'temp'], alarms: true }],
  });
  expect(listener.status, JSON.stringify(listener.body)).toBe(201);
  const rule = await t.request('POST', '/v1/alarm-rules', {
    name: 'hot',
    type: 'threshold',
    target_id: targets[0],
    severity: 'major',
    condition: { all: [{ field: 'temp', op: '>', value: 90 }] },
  });
  expect(rule.status, JSON.stringify(rule.body)).toBe(201);
  const sink = await t.request('POST', '/v1/connectors', {
    name: 'ops-out',
    type: 'kafka_sink',
    config: { listener: 'ops', brokers: [kafka.broker], topic, partitions: 3, batch_records_max: 100 },
  });
  expect(sink.status, JSON.stringify(sink.body)).toBe(201);
  workers.start();
  workers.start();

  const writing = writeAll();
  let kills = 0;
  let last = await sinkCursor();
  while (kills < killsMin) {
    // Kill only once the sink moved on since the last kill (so each kill lands mid-stream).
    await eventually('the sink to move on', async () => (await sinkCursor()) > last, 120_000).catch((err) => {
      throw new Error(`${err.message}\n${workers.logs()}`);
    });
    last = await sinkCursor();
    await workers.killHolder(t, 'ops-out');
    kills++;
    if (kills === 2) {
      await pauseSink();
      expect((await t.request('POST', '/v1/connectors/ops-out/resume')).status).toBe(200);
    }
  }
  await writing;

  // The oracle: the listener's whole stream once fanout has passed every write on.
  let expected: { seq: number; frame: Frame }[] = [];
  await eventually(
    'fanout to pass every write to the listener',
    async () => {
      expected = await listenerStream(listener.body.listener_id);
      return expected.filter((m) => m.frame.type === 'event').length === writes;
    },
    180_000,
  );
  const lastSeq = expected.at(-1)!.seq;
  await eventually(
    'the sink to reach the end of the stream',
    async () => (await sinkCursor()) >= lastSeq,
    180_000,
  );

  expect(await topicRecords()).toBe(expected.length);

  const consumer = kafka.client.consumer({ groupId: 'sink-check' });
  const got: { partition: number; message: KafkaMessage }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachMessage: async (p) => void got.push(p) });
  await eventually('every record consumed', async () => got.length >= expected.length, 60_000);
  await consumer.disconnect();

  const frames = got.map((g) => ({
    key: g.message.key!.toString(),
    frame: JSON.parse(g.message.value!.toString()) as Frame,
  }));
  expect(frames.length).toBe(expected.length);
  for (const id of targets) {
    const want = expected.filter((m) => m.frame.target_id === id).map((m) => m.frame);
    const have = frames.filter((f) => f.key === id).map((f) => f.frame);
    expect(have).toEqual(want); // each once, in stream order for its target, exactly the masked frame
  }
  expect(frames.some((f) => f.frame.type === 'alarm')).toBe(true);
  expect(got.some((g) => g.message.value!.toString().includes('secret-'))).toBe(false);
  expect(kills).toBeGreaterThanOrEqual(killsMin);
  const status = await t.request('GET', '/v1/connectors/ops-out/status');
  expect(status.body.cursor).toMatchObject({ seq: lastSeq, lag: 0 });

  // A second sink on the same topic finds partitions it did not write: it stops rather than guess.
  const other = await t.request('POST', '/v1/connectors', {
    name: 'other-out',
    type: 'kafka_sink',
    config: { listener: 'ops', brokers: [kafka.broker], topic },
  });
  expect(other.status, JSON.stringify(other.body)).toBe(201);
  const failing = await waitFor('the second sink to fail', async () => {
    const st = (await t.request('GET', '/v1/connectors/other-out/status')).body;
    return st.state === 'failing' ? st : undefined;
  });
  expect(JSON.stringify(failing.last_error)).toContain('did not write');
  expect(await topicRecords()).toBe(expected.length);
  console.info(
    `sink: ${expected.length} messages (${frames.filter((f) => f.frame.type === 'alarm').length} alarms), ${kills} kills`,
  );
}, 600_000);
