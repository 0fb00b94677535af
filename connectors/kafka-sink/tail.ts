// SPDX-License-Identifier: MIT
// Where each partition of the sink's topic stands: the cursor of its last record, read at start. The
// records are produced in stream order per partition, so everything of a partition at or below its tail
// is in Kafka already — the cursor saved in PostgreSQL may lag behind it after a crash between the
// broker's ack and the commit. A partition whose last record another producer wrote is refused: the
// sink needs a topic of its own to know where it stands.
import { randomUUID } from 'node:crypto';
import type { Admin, EachMessagePayload, Kafka } from 'kafkajs';
import { SourceError } from '../runtime/errors.js';
import { cursorOfRecord } from './records.js';

/** How long reading the tails may take (joining a throwaway group, one fetch per partition). */
export const sinkTailReadMsMax = 60_000;

/** Per partition holding records: the cursor of its last one. */
export async function readTails(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  sinkId: string,
  signal: AbortSignal,
): Promise<Map<number, number>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  const wanted = new Map(
    offsets
      .filter((o) => BigInt(o.high) > BigInt(o.low))
      .map((o) => [o.partition, (BigInt(o.high) - 1n).toString()] as const),
  );
  const tails = new Map<number, number>();
  if (wanted.size === 0) return tails;
  // A group of its own that commits nothing: it disappears when this consumer leaves.
  const consumer = kafka.consumer({
    groupId: `tmidb-sink-tail-${randomUUID()}`,
    allowAutoTopicCreation: false,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: false });
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new SourceError('TAIL_READ_TIMEOUT', `could not read the end of ${topic}`, true)),
        sinkTailReadMsMax,
      );
      consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
      // Stopping (paused, lease lost) while reading: the tails are incomplete, so nothing may follow.
      const stopped = () => reject(new SourceError('STOPPED', 'the sink was stopped', true));
      if (signal.aborted) stopped();
      else signal.addEventListener('abort', stopped, { once: true });
      const each = async ({ partition, message }: EachMessagePayload) => {
        if (message.offset !== wanted.get(partition) || tails.has(partition)) return;
        const cursor = cursorOfRecord(message.headers, sinkId);
        if (cursor === undefined) {
          const what = `${topic}[${partition}] ends with a record this sink did not write`;
          reject(new SourceError('TOPIC_NOT_OWN', `${what}: give the sink a topic of its own`, false));
          return;
        }
        tails.set(partition, cursor);
        if (tails.size === wanted.size) resolve();
      };
      consumer.run({ autoCommit: false, eachMessage: each }).then(() => {
        for (const [partition, offset] of wanted) consumer.seek({ topic, partition, offset });
      }, reject);
    });
    return tails;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => {});
  }
}
