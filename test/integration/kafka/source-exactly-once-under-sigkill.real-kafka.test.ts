// SPDX-License-Identifier: MIT
// The kafka connector against a real Kafka broker: 10,000 records over 3 partitions (and one poison
// record) flow while the `tmictl connector run` processes are SIGKILLed at least 5 times → exactly
// 10,000 events, each record once; the poison record is in the dead-letter subject with its position;
// headers are kept with the raw event; the status shows the cursor and the lag per partition.
import { jetstreamManager } from '@nats-io/jetstream';
import type { Producer } from 'kafkajs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectorDlqSubject } from '../../../connectors/index.js';
import { ConnectorWorkers } from '../../support/connector-workers.js';
import { startTestKafka, type TestKafka } from '../../support/kafka.js';
import { eventually, startTestTmidb, type TestTmidb } from '../../support/tmidb.js';

const records = 10_000;
const chunk = 250;
const devices = 12;
const killsMin = 5;
const killEveryEvents = 1_500;

let t: TestTmidb;
let kafka: TestKafka;
let producer: Producer;
let workers: ConnectorWorkers;

beforeAll(async () => {
  [t, kafka] = await Promise.all([startTestTmidb('kafka_source', { stages: ['capture'] }), startTestKafka()]);
  const admin = kafka.client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'readings', numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  producer = kafka.client.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  workers = new ConnectorWorkers({
    ...t.childEnv,
    TMIDB_CONNECTOR_LEASE_MS: '1500',
    TMIDB_CONNECTOR_BACKOFF_INITIAL_MS: '100',
    TMIDB_CONNECTOR_BACKOFF_MAX_MS: '1000',
  });
}, 240_000);

afterAll(async () => {
  await workers?.killAll();
  await producer?.disconnect().catch(() => {});
  await t?.stop();
  await kafka?.stop();
});

const count = async () =>
  (
    await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM tmi.raw_bucket WHERE speaker = 'kafka:feed'`)
  )[0]!.n;

async function produce(from: number): Promise<void> {
  const messages = Array.from({ length: chunk }, (_, i) => {
    const seq = from + i;
    return {
      key: `dev-${seq % devices}`,
      value: JSON.stringify(
        seq % 2 === 0 ? { seq, v: seq * 0.5 } : { ts: 1_700_000_000_000 + seq, data: { seq, v: seq * 0.5 } },
      ),
      headers: { origin: 'plant-a' },
      partition: seq % 3,
    };
  });
  await producer.send({ topic: 'readings', messages });
}

it('10,000 records over 3 partitions, connector processes SIGKILLed ≥ 5 times: exactly 10,000 events; the poison record dead-lettered', async () => {
  const res = await t.request('POST', '/v1/connectors', {
    name: 'feed',
    type: 'kafka',
    config: {
      brokers: [kafka.broker],
      topics: ['readings'],
      group_id: 'tmidb-feed',
      from: 'earliest',
      session_timeout_ms: 6000,
      batch_records_max: 200,
      target: { by: 'name', key: true, create_kind: 'sensor' },
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  workers.start();
  workers.start();
  await producer.send({ topic: 'readings', messages: [{ key: 'dev-1', value: 'not json {', partition: 1 }] });

  let produced = 0;
  const producing = (async () => {
    while (produced < records) {
      // Keep the flow going for the whole test: stay at most two chunks ahead of what arrived.
      await eventually(
        'the connector to catch up',
        async () => (await count()) >= produced - 2 * chunk,
        180_000,
      );
      await produce(produced);
      produced += chunk;
    }
  })();
  let kills = 0;
  let seen = 0;
  while (produced < records || kills < killsMin) {
    await eventually(
      'events to flow before the next kill',
      async () =>
        (await count()) >= Math.min(records, seen + killEveryEvents) ||
        (produced >= records && (await count()) >= records),
      180_000,
    ).catch((err) => {
      throw new Error(`${err.message}\n${workers.logs()}`);
    });
    seen = await count();
    await workers.killHolder(t);
    kills++;
  }
  await producing;
  await eventually('all 10,000 events captured', async () => (await count()) >= records, 180_000).catch(
    (err) => {
      throw new Error(`${err.message}\n${workers.logs()}`);
    },
  );

  const [all] = await t.sql<{ rows: number; ids: number; seqs: number; lo: number; hi: number }>(
    `SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS ids,
            count(DISTINCT (payload->>'seq')::int)::int AS seqs,
            min((payload->>'seq')::int) AS lo, max((payload->>'seq')::int) AS hi
     FROM tmi.raw_bucket WHERE speaker = 'kafka:feed'`,
  );
  expect(all).toEqual({ rows: records, ids: records, seqs: records, lo: 0, hi: records - 1 });
  expect(kills).toBeGreaterThanOrEqual(killsMin);

  // The record timestamp is the ts unless the value has one; headers are kept with the raw event.
  const [odd] = await t.sql<{ occurred_at: Date; headers: Record<string, string> }>(
    `SELECT occurred_at, headers FROM tmi.raw_bucket WHERE speaker = 'kafka:feed' AND payload->>'seq' = '1'`,
  );
  expect(odd!.occurred_at.getTime()).toBe(1_700_000_000_001);
  expect(odd!.headers['kafka.header.origin']).toBe('plant-a');
  expect(odd!.headers['kafka.topic']).toBe('readings');

  const jsm = await jetstreamManager(t.runtime.nc);
  const dl = await jsm.streams.getMessage(t.runtime.topology.streams.dlq.name, {
    last_by_subj: connectorDlqSubject(t.runtime.topology.namespace, 'feed'),
  });
  const letter = dl!.json<{ origin: string; code: string; item: string }>();
  expect(letter).toMatchObject({
    origin: expect.stringMatching(/^readings\/1@\d+$/),
    code: 'INVALID_RECORD',
    item: 'not json {',
  });

  // The status's cursor: every partition at its end, no lag left.
  const status = await t.request('GET', '/v1/connectors/feed/status');
  expect(status.status, JSON.stringify(status.body)).toBe(200);
  const cursor = status.body.cursor as { offsets: Record<string, string>; lag: Record<string, number> };
  expect(Object.values(cursor.offsets).reduce((a, o) => a + Number(o), 0)).toBe(records + 1);
  expect(cursor.lag).toEqual({ 'readings:0': 0, 'readings:1': 0, 'readings:2': 0 });
  console.info(`kills: ${kills}`);
}, 900_000);

it('lag per partition in the status and /metrics; pause leaves the consumer group, resume reads on', async () => {
  await workers.killAll(); // this test's connector runs in a runtime of its own, whose /metrics we read
  const t2 = await startTestTmidb('kafka_lag', { stages: ['capture'], connectors: 'all' });
  try {
    const admin = kafka.client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'probe', numPartitions: 2 }], waitForLeaders: true });
    const send = (from: number, n: number) =>
      producer.send({
        topic: 'probe',
        messages: Array.from({ length: n }, (_, i) => ({
          key: `p-${(from + i) % 3}`,
          value: JSON.stringify({ n: from + i }),
          partition: (from + i) % 2,
        })),
      });
    await send(0, 20);
    const created = await t2.request('POST', '/v1/connectors', {
      name: 'probe',
      type: 'kafka',
      config: {
        brokers: [kafka.broker],
        topics: ['probe'],
        group_id: 'tmidb-probe',
        session_timeout_ms: 6000,
        target: { by: 'name', key: true, create_kind: 'sensor' },
      },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const events = async () =>
      (
        await t2.sql<{ n: number }>(
          `SELECT count(*)::int AS n FROM tmi.raw_bucket WHERE speaker = 'kafka:probe'`,
        )
      )[0]!.n;
    const lagOf = async () => (await t2.request('GET', '/v1/connectors/probe/status')).body.cursor?.lag;
    await eventually(
      '20 events, no lag',
      async () => (await events()) === 20 && (await lagOf())?.['probe:1'] === 0,
    );
    expect(await lagOf()).toEqual({ 'probe:0': 0, 'probe:1': 0 });
    const metrics = (await t2.request('GET', '/metrics')).body as string;
    for (const p of ['0', '1']) {
      expect(metrics).toContain(
        `tmidb_connector_kafka_lag_records{connector="probe",topic="probe",partition="${p}"} 0`,
      );
    }

    expect((await t2.request('POST', '/v1/connectors/probe/pause')).status).toBe(200);
    // Paused means the consumer has left its group (no member reads on), not merely that nothing is emitted.
    await eventually('the consumer group to be empty', async () => {
      const { groups } = await admin.describeGroups(['tmidb-probe']);
      return groups[0]?.state === 'Empty';
    });
    await send(20, 30);
    const { groups } = await admin.describeGroups(['tmidb-probe']);
    expect(groups[0]?.members).toEqual([]);
    expect((await t2.request('POST', '/v1/connectors/probe/resume')).status).toBe(200);
    await eventually('the 30 records sent while paused', async () => (await events()) === 50, 60_000);
    await eventually('no lag again', async () => {
      const lag = await lagOf();
      return lag?.['probe:0'] === 0 && lag?.['probe:1'] === 0;
    });
    await admin.disconnect();
  } finally {
    await t2.stop();
  }
}, 300_000);
