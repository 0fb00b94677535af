// SPDX-License-Identifier: MIT
// accept(writes): the one door every speaker write goes through, whatever the transport. It validates
// everything first (so a bad write changes nothing), versions the payload schema per kind, encodes Avro
// envelopes, packs consecutive events of one target into JetStream messages and answers only after
// every PubAck is in.
import { JetStreamApiError, type JetStreamClient } from '@nats-io/jetstream';
import type { Config } from '../config/index.js';
import { isTmiError, RequestRejectedError } from '../errors/index.js';
import { limits, type Metrics, publishAll, type Topology } from '../pipelines/index.js';
import {
  batchMessageId,
  type EventEnvelope,
  encodeEventBatch,
  encodePayload,
  isUuid,
  nowMicros,
  parseTimestampMicros,
  type RegisteredSchema,
  type SchemaRegistry,
  uuidFromName,
  uuidv7,
} from '../schemas/index.js';
import type { TargetKindCache } from './targets-cache.js';
import { jetStreamStorageFullCodes, retryHint } from './unexpected.js';

export interface AcceptContext {
  readonly config: Config;
  readonly js: JetStreamClient;
  readonly registry: SchemaRegistry;
  readonly topology: Topology;
  readonly metrics: Metrics;
  readonly targets: TargetKindCache;
}

export interface AcceptOptions {
  /** Who is writing: the key id (or the transport when authentication is off). */
  readonly speaker: string;
  /**
   * Object-level access: may this speaker write about this target (of this kind)? A target it may not
   * write answers exactly like one that does not exist (404 TARGET_NOT_FOUND), so ids cannot be probed.
   */
  readonly allows?: (targetId: string, kind: string) => boolean;
  readonly transport: 'http' | 'nats' | 'poll' | 'sql' | 'kafka' | 'files';
  /** Transport metadata kept with the raw event. */
  readonly attrs?: Readonly<Record<string, string>>;
  /** Per-event metadata merged over `attrs` (write i gets attrsOf(i)). */
  readonly attrsOf?: (index: number) => Readonly<Record<string, string>> | undefined;
  /** Makes a retried request produce the same event ids: event i gets uuid(key, target, i). */
  readonly idempotencyKey?: string;
}

export interface AcceptResult {
  readonly accepted: number;
  readonly event_ids: string[];
  /** Stream sequence of the message that carries each event. */
  readonly seqs: number[];
  /** How many events JetStream had already seen (a retried write). */
  readonly duplicates: number;
}

interface ValidWrite {
  readonly index: number;
  readonly targetId: string;
  readonly eventId: string;
  readonly occurredAt: number;
  readonly data: Record<string, unknown>;
}

const writeKeys = new Set(['target_id', 'ts', 'event_id', 'data']);
export const idempotencyKeyLengthMax = 255;

export async function accept(
  ctx: AcceptContext,
  writes: readonly unknown[],
  opts: AcceptOptions,
): Promise<AcceptResult> {
  try {
    const result = await acceptValidated(ctx, writes, opts);
    ctx.metrics.eventsAccepted.inc({ transport: opts.transport }, result.accepted);
    return result;
  } catch (err) {
    const code = isTmiError(err) ? err.code : 'UNEXPECTED';
    ctx.metrics.writesRejected.inc({ transport: opts.transport, code });
    throw err;
  }
}

async function acceptValidated(
  ctx: AcceptContext,
  writes: readonly unknown[],
  opts: AcceptOptions,
): Promise<AcceptResult> {
  if (writes.length === 0) throw new RequestRejectedError('EMPTY_WRITE', 'the write holds no event');
  if (writes.length > ctx.config.writeEventsMax) {
    throw new RequestRejectedError(
      'TOO_MANY_EVENTS',
      `the write holds ${writes.length} events; at most ${ctx.config.writeEventsMax} are accepted per request`,
    );
  }
  if (opts.idempotencyKey !== undefined && opts.idempotencyKey.length > idempotencyKeyLengthMax) {
    throw new RequestRejectedError(
      'INVALID_IDEMPOTENCY_KEY',
      `Idempotency-Key is longer than ${idempotencyKeyLengthMax} characters`,
    );
  }
  const valid = writes.map((w, i) => validateWrite(w, i, writes.length, opts.idempotencyKey));
  assertDistinctEventIds(valid);
  const kinds = await ctx.targets.kinds(valid.map((w) => w.targetId));
  for (const w of valid) {
    const kind = kinds.get(w.targetId);
    if (kind === undefined || (opts.allows !== undefined && !opts.allows(w.targetId, kind))) {
      throw new RequestRejectedError(
        'TARGET_NOT_FOUND',
        `${where(w.index, writes.length)}target ${w.targetId} does not exist`,
      );
    }
  }
  const schemas = await schemasByKind(ctx.registry, valid, kinds);
  const receivedAt = nowMicros();
  const envelopes = valid.map((w): EventEnvelope => {
    const kind = kinds.get(w.targetId)!;
    const schema = schemas.get(kind)!;
    return {
      event_id: w.eventId,
      target_id: w.targetId,
      kind,
      speaker: opts.speaker,
      occurred_at: w.occurredAt,
      received_at: receivedAt,
      schema_id: schema.schemaId,
      payload: encodePayload(schema, w.data),
      attrs: { ...opts.attrs, ...opts.attrsOf?.(w.index) },
    };
  });
  return publishEnvelopes(ctx, envelopes);
}

/** Infers and merges every kind's schema in memory first, so a conflict in one kind registers nothing. */
async function schemasByKind(
  registry: SchemaRegistry,
  writes: readonly ValidWrite[],
  kinds: ReadonlyMap<string, string>,
): Promise<Map<string, RegisteredSchema>> {
  const byKind = new Map<string, ValidWrite[]>();
  for (const w of writes) {
    const kind = kinds.get(w.targetId)!;
    const list = byKind.get(kind) ?? [];
    list.push(w);
    byKind.set(kind, list);
  }
  const prepared = [];
  for (const [kind, list] of byKind) {
    const datas = list.map((w) => w.data);
    prepared.push(await registry.prepare(kind, datas, (i) => list[i]!.index));
  }
  const out = new Map<string, RegisteredSchema>();
  for (const p of prepared) out.set(p.subject, await registry.commit(p));
  return out;
}

function where(index: number, count: number): string {
  return count > 1 ? `events[${index}]: ` : '';
}

function validateWrite(
  raw: unknown,
  index: number,
  count: number,
  idempotencyKey: string | undefined,
): ValidWrite {
  const at = where(index, count);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new RequestRejectedError(
      'INVALID_EVENT',
      `${at}an event must be a JSON object {ts?, event_id?, data}`,
    );
  }
  const w = raw as Record<string, unknown>;
  const unknownKeys = Object.keys(w).filter((k) => !writeKeys.has(k));
  if (unknownKeys.length > 0) {
    throw new RequestRejectedError(
      'INVALID_EVENT',
      `${at}unknown member(s) ${unknownKeys.join(', ')}; an event has ts, event_id and data`,
    );
  }
  if (!isUuid(w.target_id)) {
    throw new RequestRejectedError('INVALID_TARGET_ID', `${at}target_id must be a UUID`);
  }
  if (w.data === null || typeof w.data !== 'object' || Array.isArray(w.data)) {
    throw new RequestRejectedError(
      'INVALID_DATA',
      `${at}data must be a JSON object of fields, got ${describe(w.data)}`,
    );
  }
  let occurredAt: number;
  try {
    occurredAt = w.ts === undefined ? nowMicros() : parseTimestampMicros(w.ts, `${at}ts`);
  } catch (err) {
    throw new RequestRejectedError('INVALID_TIMESTAMP', (err as Error).message);
  }
  let eventId: string;
  const targetId = (w.target_id as string).toLowerCase();
  if (w.event_id !== undefined) {
    if (!isUuid(w.event_id))
      throw new RequestRejectedError('INVALID_EVENT_ID', `${at}event_id must be a UUID`);
    eventId = (w.event_id as string).toLowerCase();
  } else if (idempotencyKey !== undefined) {
    eventId = uuidFromName(`${idempotencyKey}\u0000${targetId}\u0000${index}`);
  } else {
    eventId = uuidv7();
  }
  return { index, targetId, eventId, occurredAt, data: w.data as Record<string, unknown> };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function assertDistinctEventIds(writes: readonly ValidWrite[]): void {
  const seen = new Set<string>();
  for (const w of writes) {
    if (seen.has(w.eventId)) {
      throw new RequestRejectedError(
        'DUPLICATE_EVENT_ID',
        `event_id ${w.eventId} appears twice in one write`,
      );
    }
    seen.add(w.eventId);
  }
}

/**
 * Events of one target share messages, in the order they were written, up to messageEventsMax events /
 * messageBytesMax bytes each — also when the write interleaves targets (a gateway flushing its buffer in
 * time order), so a batch of many targets costs one JetStream message per target, not one per event.
 * Targets' messages go out in the order of their first event; per-target order is all that is kept.
 */
async function publishEnvelopes(
  ctx: AcceptContext,
  envelopes: readonly EventEnvelope[],
): Promise<AcceptResult> {
  interface Group {
    readonly events: EventEnvelope[];
    /** Positions of the events in the write. */
    readonly positions: number[];
    bytes: number;
  }
  const groups: Group[] = [];
  const open = new Map<string, Group>();
  envelopes.forEach((e, position) => {
    const size = e.payload.length + 128;
    let group = open.get(e.target_id);
    if (
      group === undefined ||
      group.events.length >= limits.messageEventsMax ||
      group.bytes + size > limits.messageBytesMax
    ) {
      group = { events: [], positions: [], bytes: 0 };
      groups.push(group);
      open.set(e.target_id, group);
    }
    group.events.push(e);
    group.positions.push(position);
    group.bytes += size;
  });
  const acks = await publishAll(
    ctx.js,
    groups.map((g) => ({
      subject: ctx.topology.inSubject(g.events[0]!.target_id),
      body: encodeEventBatch(g.events),
      msgID: batchMessageId(g.events.map((e) => e.event_id)),
    })),
  ).catch((err: unknown) => {
    if (err instanceof JetStreamApiError && jetStreamStorageFullCodes.includes(err.code)) {
      throw new RequestRejectedError(
        'STORAGE_FULL',
        `JetStream has no storage left (its max_file_store is reached); ${retryHint} once space is freed`,
        { cause: err },
      );
    }
    throw err;
  });
  const seqs: number[] = new Array(envelopes.length);
  let duplicates = 0;
  groups.forEach((g, i) => {
    const ack = acks[i]!;
    if (ack.duplicate) duplicates += g.events.length;
    for (const position of g.positions) seqs[position] = ack.seq;
  });
  return { accepted: envelopes.length, event_ids: envelopes.map((e) => e.event_id), seqs, duplicates };
}
