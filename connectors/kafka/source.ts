// SPDX-License-Identifier: MIT
// The kafka connector's runner (a push source): a kafkajs consumer in the configured group. Each batch
// of a partition is decoded (records.ts), its targets resolved, published through the session, and only
// then is the partition's next offset saved as the cursor (in PostgreSQL, fenced by the lease) and
// committed to the Kafka group. After a crash the consumer seeks to the saved cursor: what is re-read
// re-emits the same event ids, which JetStream drops. Pausing or losing the lease disconnects it.
import { type Consumer, type EachBatchPayload, Kafka, type KafkaMessage, logLevel } from 'kafkajs';
import { invariant } from '../../errors/index.js';
import { resolveTargets } from '../runtime/targets.js';
import type {
  ConnectorRecord,
  ConnectorSession,
  PushSource,
  RejectedItem,
  SourceDeps,
  SourceEvent,
} from '../runtime/types.js';
import type { KafkaConfig, KafkaConnection } from './config.js';
import { kafkaLagGauge } from './metrics.js';
import { decodeRecord, type KafkaItem, type KafkaRecordIn } from './records.js';

/** The cursor: the next offset to read per `topic:partition`, and the lag seen with the last batch. */
export interface KafkaCursor {
  readonly offsets: Readonly<Record<string, string>>;
  readonly lag: Readonly<Record<string, number>>;
}

const partitionKey = (topic: string, partition: number) => `${topic}:${partition}`;

export function kafkaClient(config: KafkaConnection): Kafka {
  return new Kafka({
    clientId: config.clientId,
    brokers: [...config.brokers],
    ssl: config.ssl,
    sasl:
      config.sasl &&
      ({
        mechanism: config.sasl.mechanism,
        username: config.sasl.username,
        password: config.sasl.password,
      } as never),
    logLevel: logLevel.NOTHING,
    // A failure ends run() and the host backs off and restarts, rather than kafkajs retrying forever.
    retry: { retries: 5, restartOnFailure: async () => false },
  });
}

export class KafkaSource implements PushSource {
  readonly style = 'push';

  constructor(
    private readonly record: ConnectorRecord,
    private readonly config: KafkaConfig,
    private readonly deps: SourceDeps,
  ) {}

  async run(session: ConnectorSession): Promise<void> {
    const consumer = kafkaClient(this.config).consumer({
      groupId: this.config.groupId,
      sessionTimeout: this.config.sessionTimeoutMs,
      heartbeatInterval: Math.floor(this.config.sessionTimeoutMs / 5),
      allowAutoTopicCreation: false,
    });
    const crashed = new Promise<never>((_, reject) => {
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
    });
    crashed.catch(() => {});
    await consumer.connect();
    try {
      await consumer.subscribe({
        topics: [...this.config.topics],
        fromBeginning: this.config.from === 'earliest',
      });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: (payload) => this.batch(session, consumer, payload),
      });
      for (const [tp, offset] of Object.entries(cursorOf(session).offsets)) {
        const [topic, partition] = splitKey(tp);
        if (this.config.topics.includes(topic)) consumer.seek({ topic, partition, offset });
      }
      await Promise.race([crashed, aborted(session.signal)]);
    } finally {
      await consumer.disconnect().catch(() => {});
    }
  }

  private async batch(session: ConnectorSession, consumer: Consumer, p: EachBatchPayload): Promise<void> {
    const { topic, partition } = p.batch;
    const key = partitionKey(topic, partition);
    for (let i = 0; i < p.batch.messages.length; i += this.config.batchRecordsMax) {
      if (!p.isRunning() || p.isStale() || session.signal.aborted) return;
      const prior = cursorOf(session);
      const from = BigInt(prior.offsets[key] ?? '0');
      // Below the cursor: read again before a seek took effect; emitted and saved already.
      const chunk = p.batch.messages
        .slice(i, i + this.config.batchRecordsMax)
        .filter((m) => BigInt(m.offset) >= from);
      if (chunk.length === 0) continue;
      const next = BigInt(chunk.at(-1)!.offset) + 1n;
      invariant(next > from, `kafka cursor of ${key} would move back from ${from} to ${next}`);
      const lag = Math.max(0, Number(BigInt(p.batch.highWatermark) - next));
      const { events, rejected, bytes } = await this.toEvents(topic, partition, chunk);
      const cursor: KafkaCursor = {
        offsets: { ...prior.offsets, [key]: next.toString() },
        lag: { ...prior.lag, [key]: lag },
      };
      await session.emit(events, { cursor, bytesRead: bytes, rejected });
      kafkaLagGauge(this.deps.acceptCtx.metrics.registry).set(
        { connector: this.record.name, topic, partition: String(partition) },
        lag,
      );
      p.resolveOffset(chunk.at(-1)!.offset);
      // The group's offsets follow the saved cursor for outside tools; the cursor is what resumes.
      await consumer.commitOffsets([{ topic, partition, offset: next.toString() }]).catch(() => {});
      await p.heartbeat().catch(() => {});
    }
  }

  private async toEvents(
    topic: string,
    partition: number,
    messages: readonly KafkaMessage[],
  ): Promise<{ events: SourceEvent[]; rejected: RejectedItem[]; bytes: number }> {
    const rules = {
      connectorId: this.record.connector_id,
      byKey: this.config.target.key,
      path: this.config.target.path,
    };
    const items: KafkaItem[] = [];
    const rejected: RejectedItem[] = [];
    let bytes = 0;
    for (const m of messages) {
      bytes += (m.value?.length ?? 0) + (m.key?.length ?? 0);
      const r = decodeRecord(rules, { ...m, topic, partition } as KafkaRecordIn);
      if (Array.isArray(r)) items.push(...r);
      else rejected.push(r);
    }
    const rule = this.config.target.rule;
    const keys = items.map((it) => it.key).filter((k): k is string => k !== undefined);
    const resolved =
      'id' in rule ? undefined : await resolveTargets(this.deps.pool, this.record.connector_id, rule, keys);
    if (resolved && resolved.created > 0) await this.deps.targetsChanged();
    const events: SourceEvent[] = [];
    for (const it of items) {
      const targetId = 'id' in rule ? rule.id : resolved!.ids.get(it.key!);
      if (targetId === undefined) {
        const miss = resolved!.misses.get(it.key!)!;
        rejected.push({ origin: it.origin, code: miss.code, reason: miss.reason, item: it.data });
        continue;
      }
      events.push({
        eventId: it.eventId,
        targetId,
        ts: it.ts,
        data: it.data,
        origin: it.origin,
        attrs: it.attrs,
      });
    }
    return { events, rejected, bytes };
  }
}

function cursorOf(session: ConnectorSession): KafkaCursor {
  const c = session.cursor() as Partial<KafkaCursor> | undefined;
  return { offsets: c?.offsets ?? {}, lag: c?.lag ?? {} };
}

function splitKey(key: string): [string, number] {
  const at = key.lastIndexOf(':');
  return [key.slice(0, at), Number(key.slice(at + 1))];
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
