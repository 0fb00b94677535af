// SPDX-License-Identifier: MIT
// The Kafka listener sink, pure core: a batch of a listener's stream messages → the Kafka records to
// produce. Each record is the listener's frame (`{cursor, type, target_id, ts, event_id?, data}`, exactly
// what its WebSocket gets), keyed by target id, in the partition the key hashes to, with the stream
// cursor in a header. Messages at or below what a partition already holds (its tail's cursor, read at
// start) were produced before a crash and are skipped: that is what makes a restart duplicate-free.
import type { RejectedItem } from '../runtime/types.js';

/** Headers of every record the sink writes (the tail reader finds its place by them). */
export const sinkCursorHeader = 'tmidb-cursor';
export const sinkIdHeader = 'tmidb-sink';
export const sinkTypeHeader = 'tmidb-type';

export interface ListenMessage {
  /** The message's sequence in the listen stream: the listener's cursor. */
  readonly seq: number;
  /** `<ns>.listen.<listener_id>.<target_id>` */
  readonly subject: string;
  readonly body: string;
}

export interface SinkRecord {
  readonly key: string;
  readonly value: string;
  readonly partition: number;
  readonly headers: Readonly<Record<string, string>>;
}

export interface SinkPlan {
  readonly records: readonly SinkRecord[];
  /** Already in their partition (produced before a restart). */
  readonly skipped: number;
  /** Not a frame (cannot happen unless the stream was written by something else): dead-lettered. */
  readonly rejected: readonly RejectedItem[];
}

/**
 * `tails`: per partition, the highest cursor it holds from this sink. `partitionOf`: the partition of a
 * key (the producer's own partitioner, so the sink and any other Java-compatible producer agree).
 */
export function planRecords(
  messages: readonly ListenMessage[],
  tails: ReadonlyMap<number, number>,
  partitionOf: (key: string) => number,
  sinkId: string,
): SinkPlan {
  const records: SinkRecord[] = [];
  const rejected: RejectedItem[] = [];
  let skipped = 0;
  for (const m of messages) {
    const targetId = m.subject.slice(m.subject.lastIndexOf('.') + 1);
    const partition = partitionOf(targetId);
    if (m.seq <= (tails.get(partition) ?? 0)) {
      skipped++;
      continue;
    }
    const frame = parseFrame(m.body);
    if (frame === undefined) {
      const reason = 'the listen stream message is not a JSON object';
      rejected.push({
        origin: `listen ${m.seq}`,
        code: 'INVALID_FRAME',
        reason,
        item: m.body.slice(0, 1024),
      });
      continue;
    }
    records.push({
      key: targetId,
      value: JSON.stringify({ cursor: m.seq, ...frame }),
      partition,
      headers: {
        [sinkCursorHeader]: String(m.seq),
        [sinkIdHeader]: sinkId,
        [sinkTypeHeader]: typeof frame.type === 'string' ? frame.type : 'event',
      },
    });
  }
  return { records, skipped, rejected };
}

function parseFrame(body: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body);
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The cursor a record of this sink carries; undefined for a record some other producer wrote. */
export function cursorOfRecord(
  headers: Readonly<Record<string, unknown>> | undefined,
  sinkId: string,
): number | undefined {
  const text = (v: unknown) => (v === undefined ? undefined : String(v));
  if (text(headers?.[sinkIdHeader]) !== sinkId) return undefined;
  const cursor = Number(text(headers?.[sinkCursorHeader]));
  return Number.isSafeInteger(cursor) && cursor > 0 ? cursor : undefined;
}
