// SPDX-License-Identifier: MIT
// The kafka connector's pure core: a record (topic, partition, offset, key, value, headers, timestamp)
// becomes zero or more items — one per event in the value — each with an id derived from the record's
// position, or a refusal with the reason. No I/O; the runner resolves targets and publishes.
import { JSONPath } from 'jsonpath-plus';
import { uuidFromName } from '../../schemas/index.js';

/** Most events one record's value may carry (an array of them). */
export const kafkaRecordEventsMax = 1000;
/** Longest header value kept in raw_bucket's attrs. */
export const kafkaHeaderBytesMax = 1024;
export const kafkaHeadersMax = 32;

export interface KafkaRecordIn {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Epoch milliseconds as text (kafkajs). */
  readonly timestamp: string;
  readonly headers?: Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;
}

export interface KafkaItem {
  readonly eventId: string;
  /** The target key (record key or value path); undefined with a fixed target id. */
  readonly key: string | undefined;
  readonly ts: string | number;
  readonly data: Record<string, unknown>;
  readonly attrs: Record<string, string>;
  readonly origin: string;
}

export interface KafkaRefusal {
  readonly origin: string;
  readonly code: string;
  readonly reason: string;
  readonly item: unknown;
}

export interface RecordRules {
  readonly connectorId: string;
  /** Read the target key from the record key. */
  readonly byKey: boolean;
  /** Or from this JSONPath in each event's value. */
  readonly path: string | undefined;
}

export const recordOrigin = (r: Pick<KafkaRecordIn, 'topic' | 'partition' | 'offset'>) =>
  `${r.topic}/${r.partition}@${r.offset}`;

export function kafkaEventId(connectorId: string, r: KafkaRecordIn, index: number): string {
  return uuidFromName(`kafka\0${connectorId}\0${r.topic}\0${r.partition}\0${r.offset}\0${index}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Record headers as raw_bucket attrs (`kafka.header.<name>`), bounded in number and size. */
export function headerAttrs(r: KafkaRecordIn): Record<string, string> {
  const out: Record<string, string> = {
    'kafka.topic': r.topic,
    'kafka.partition': String(r.partition),
    'kafka.offset': r.offset,
  };
  let n = 0;
  for (const [name, v] of Object.entries(r.headers ?? {})) {
    if (v === undefined || n >= kafkaHeadersMax) continue;
    const text = (Array.isArray(v) ? v : [v]).map((x) => x.toString()).join(',');
    out[`kafka.header.${name}`] = text.slice(0, kafkaHeaderBytesMax);
    n++;
  }
  return out;
}

/** One event of a value: `{ts?, data}` when that is all it has, else the object is the data. */
function eventOf(v: unknown): { ts?: string | number; data: Record<string, unknown> } | undefined {
  if (!isPlainObject(v)) return undefined;
  const keys = Object.keys(v);
  if (isPlainObject(v.data) && keys.every((k) => k === 'data' || k === 'ts')) {
    const ts = v.ts;
    if (ts !== undefined && typeof ts !== 'string' && typeof ts !== 'number') return undefined;
    return ts === undefined ? { data: v.data } : { ts, data: v.data };
  }
  return { data: v };
}

function keyOf(rules: RecordRules, r: KafkaRecordIn, event: unknown): string | undefined {
  if (rules.byKey) return r.key === null || r.key.length === 0 ? undefined : r.key.toString('utf8');
  if (rules.path === undefined) return undefined;
  const hit = JSONPath({ path: rules.path, json: event as object, wrap: false, eval: 'safe' }) as unknown;
  const v = Array.isArray(hit) ? hit[0] : hit;
  if (typeof v === 'string' && v.length > 0) return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** Decodes one record into items, or one refusal (nothing of a bad record is emitted). */
export function decodeRecord(rules: RecordRules, r: KafkaRecordIn): KafkaItem[] | KafkaRefusal {
  const origin = recordOrigin(r);
  const text = r.value?.toString('utf8') ?? '';
  const refuse = (code: string, reason: string, item: unknown = text): KafkaRefusal => ({
    origin,
    code,
    reason,
    item,
  });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return refuse('INVALID_RECORD', `the value is not JSON: ${(err as Error).message}`);
  }
  const values = Array.isArray(value) ? value : [value];
  if (values.length === 0) return refuse('INVALID_RECORD', 'the value is an empty array', value);
  if (values.length > kafkaRecordEventsMax) {
    return refuse('INVALID_RECORD', `the value holds more than ${kafkaRecordEventsMax} events`, value);
  }
  const attrs = headerAttrs(r);
  const items: KafkaItem[] = [];
  for (const [i, v] of values.entries()) {
    const e = eventOf(v);
    if (!e) return refuse('INVALID_RECORD', `event ${i} is not an object (nor {ts?, data})`, value);
    const key = keyOf(rules, r, v);
    if ((rules.byKey || rules.path !== undefined) && key === undefined) {
      return refuse(
        'TARGET_KEY_MISSING',
        rules.byKey ? 'the record has no key' : `no value at ${rules.path}`,
        value,
      );
    }
    items.push({
      eventId: kafkaEventId(rules.connectorId, r, i),
      key,
      ts: e.ts ?? Number(r.timestamp),
      data: e.data,
      attrs,
      origin: values.length === 1 ? origin : `${origin}[${i}]`,
    });
  }
  return items;
}
