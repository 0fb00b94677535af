// SPDX-License-Identifier: MIT
// The Kafka listener sink's runner (a push source of the connector framework, which gives it a lease,
// a cursor in PostgreSQL, status, pause/resume and backoff). It reads one listener's stream — masked,
// alarms included — from its cursor and produces each message to the topic with an idempotent producer,
// key = target id (in order per target: one partition per key, one request in flight), then saves the
// cursor. At start it reads where each partition ends (tail.ts), so what a crash left produced but not
// saved is skipped, not written twice.
import type { Consumer } from '@nats-io/jetstream';
import { type Admin, Partitioners, type PartitionMetadata, type Producer } from 'kafkajs';
import { withTransaction } from '../../db/index.js';
import { invariant } from '../../errors/index.js';
import { getListenerBy } from '../../projections/index.js';
import { kafkaClient } from '../kafka/index.js';
import { kafkaSinkLagGauge } from '../kafka/metrics.js';
import { SourceError } from '../runtime/errors.js';
import type {
  ConnectorRecord,
  ConnectorSession,
  PublishOutcome,
  PushSource,
  SourceDeps,
} from '../runtime/types.js';
import type { KafkaSinkConfig } from './config.js';
import { type ListenMessage, planRecords } from './records.js';
import { readTails } from './tail.js';

/** How long one pull of the listen stream waits for messages before looking at the signal again. */
export const sinkFetchExpiresMs = 1_000;

/** The cursor: the last listen-stream sequence in Kafka, and how many of the listener's wait behind it. */
export interface KafkaSinkCursor {
  readonly seq: number;
  readonly lag: number;
}

interface Position {
  readonly listenerId: string;
  readonly tails: ReadonlyMap<number, number>;
  readonly partitionOf: (key: string) => number;
  readonly start: number;
}

const nothing: PublishOutcome = { emitted: 0, duplicates: 0, rejected: [] };

export class KafkaSink implements PushSource {
  readonly style = 'push';

  constructor(
    private readonly record: ConnectorRecord,
    private readonly config: KafkaSinkConfig,
    private readonly deps: SourceDeps,
  ) {}

  async run(session: ConnectorSession): Promise<void> {
    const listenerId = await this.listenerId();
    const kafka = kafkaClient(this.config);
    const admin = kafka.admin();
    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    try {
      await admin.connect();
      const partitions = await this.ensureTopic(admin);
      const tails = await readTails(
        kafka,
        admin,
        this.config.topic,
        this.record.connector_id,
        session.signal,
      );
      await producer.connect();
      const start = await this.startSeq(session);
      const partitionOf = partitionerOf(this.config.topic, partitions);
      await this.pump(session, producer, { listenerId, tails, partitionOf, start });
    } finally {
      await producer.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
    }
  }

  private async listenerId(): Promise<string> {
    const listener = await getListenerBy(this.deps.pool, 'name', this.config.listener);
    if (!listener) {
      throw new SourceError('LISTENER_NOT_FOUND', `no listener named ${this.config.listener}`, true);
    }
    return listener.listener_id;
  }

  /** The topic's partitions; created (with `partitions`) when it does not exist. */
  private async ensureTopic(admin: Admin): Promise<PartitionMetadata[]> {
    const { topic, partitions } = this.config;
    if (!(await admin.listTopics()).includes(topic)) {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
    }
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]!.partitions;
  }

  /** After the saved cursor; a first start saves its starting point at once (a restart keeps it). */
  private async startSeq(session: ConnectorSession): Promise<number> {
    const jsm = await this.deps.acceptCtx.js.jetstreamManager();
    const { state } = await jsm.streams.info(this.deps.acceptCtx.topology.streams.listen.name);
    const saved = (session.cursor() as Partial<KafkaSinkCursor> | undefined)?.seq;
    if (saved !== undefined) {
      if (saved + 1 < state.first_seq) {
        const what = `cursor ${saved} is older than the listen stream's retention (first ${state.first_seq})`;
        throw new SourceError('CURSOR_EXPIRED', `${what}: recreate the sink`, false);
      }
      return saved + 1;
    }
    const start = this.config.from === 'earliest' ? Math.max(1, state.first_seq) : state.last_seq + 1;
    const cursor: KafkaSinkCursor = { seq: start - 1, lag: 0 };
    await withTransaction(this.deps.pool, (c) => session.commit(c, nothing, { cursor }));
    return start;
  }

  private async pump(session: ConnectorSession, producer: Producer, p: Position): Promise<void> {
    const { js, topology, metrics } = this.deps.acceptCtx;
    const consumer = await js.consumers.get(topology.streams.listen.name, {
      filter_subjects: topology.listenWildcard(p.listenerId),
      opt_start_seq: p.start,
    });
    let last = p.start - 1;
    while (!session.signal.aborted) {
      const batch = await fetchBatch(consumer, this.config.batchRecordsMax);
      if (batch.messages.length === 0) continue;
      const plan = planRecords(batch.messages, p.tails, p.partitionOf, this.record.connector_id);
      if (plan.records.length > 0) {
        const messages = plan.records.map((r) => ({ ...r, headers: { ...r.headers } }));
        await producer.send({ topic: this.config.topic, acks: -1, messages });
      }
      await session.deadLetter(plan.rejected);
      const seq = batch.messages.at(-1)!.seq;
      invariant(seq > last, `kafka sink ${this.record.name}: cursor would move back from ${last} to ${seq}`);
      last = seq;
      const cursor: KafkaSinkCursor = { seq, lag: batch.pending };
      const outcome = { emitted: plan.records.length, duplicates: 0, rejected: plan.rejected };
      await withTransaction(this.deps.pool, (c) => session.commit(c, outcome, { cursor }));
      kafkaSinkLagGauge(metrics.registry).set({ connector: this.record.name }, batch.pending);
    }
  }
}

/** The partition of a key as kafkajs's default (Java-compatible, murmur2) partitioner picks it. */
function partitionerOf(topic: string, partitionMetadata: PartitionMetadata[]): (key: string) => number {
  const partitioner = Partitioners.DefaultPartitioner();
  return (key) => partitioner({ topic, partitionMetadata, message: { key, value: null } });
}

async function fetchBatch(
  consumer: Consumer,
  max: number,
): Promise<{ messages: ListenMessage[]; pending: number }> {
  const iter = await consumer.fetch({ max_messages: max, expires: sinkFetchExpiresMs });
  const messages: ListenMessage[] = [];
  let pending = 0;
  for await (const m of iter) {
    messages.push({ seq: m.seq, subject: m.subject, body: m.string() });
    pending = m.info.pending;
  }
  return { messages, pending };
}
