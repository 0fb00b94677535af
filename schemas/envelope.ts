// SPDX-License-Identifier: MIT
// The wire codec of the event envelope (schemas/event.avsc) and of the message body (event-batch.avsc).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import { packageRoot } from '../config/index.js';
import { TaggedError, type TmiErrorOptions } from '../errors/index.js';
import { checkAvroBounds } from './avro-bounds.js';

export interface EventEnvelope {
  readonly event_id: string;
  readonly target_id: string;
  readonly kind: string;
  readonly speaker: string;
  /** Microseconds since the epoch. */
  readonly occurred_at: number;
  /** Microseconds since the epoch. */
  readonly received_at: number;
  readonly schema_id: number;
  readonly payload: Buffer;
  readonly attrs: Readonly<Record<string, string>>;
}

/**
 * An envelope without its transport attributes: what the stages after capture read. Decoding skips the
 * attributes' bytes instead of building a map of strings for every event in every stage (ADR 0034).
 */
export type EnvelopeHead = Omit<EventEnvelope, 'attrs'>;

export class EnvelopeDecodeError extends TaggedError('EnvelopeDecodeError')<'ENVELOPE_UNDECODABLE'> {
  constructor(message: string, options?: TmiErrorOptions) {
    super('ENVELOPE_UNDECODABLE', message, options);
  }
}

function readSchema(name: string): avro.Schema {
  return JSON.parse(readFileSync(path.join(packageRoot, 'schemas', name), 'utf8'));
}

const registry: Record<string, avro.Type> = {};
export const eventType = avro.Type.forSchema(readSchema('event.avsc'), { registry });
export const eventBatchType = avro.Type.forSchema(readSchema('event-batch.avsc'), { registry });

/** tmi.Event without `attrs`, read through a resolver from the writer's schema (which skips the map). */
function eventHeadSchemas(): { event: avro.Schema; batch: avro.Schema } {
  const event = readSchema('event.avsc') as { fields: { name: string }[] };
  return {
    event: { ...event, fields: event.fields.filter((f) => f.name !== 'attrs') } as avro.Schema,
    batch: readSchema('event-batch.avsc'),
  };
}
const headRegistry: Record<string, avro.Type> = {};
const headSchemas = eventHeadSchemas();
avro.Type.forSchema(headSchemas.event, { registry: headRegistry });
const eventHeadBatchType = avro.Type.forSchema(headSchemas.batch, { registry: headRegistry });
const eventHeadResolver = eventHeadBatchType.createResolver(eventBatchType);

export function encodeEventBatch(events: readonly EventEnvelope[]): Buffer {
  return eventBatchType.toBuffer({ events });
}

export function decodeEventBatch(body: Uint8Array): EventEnvelope[] {
  try {
    const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    checkAvroBounds(eventBatchType, buf);
    return (eventBatchType.fromBuffer(buf) as { events: EventEnvelope[] }).events;
  } catch (err) {
    throw notABatch(err);
  }
}

/** The envelopes of a message body without their attributes (the same checks: trailing bytes are an error). */
export function decodeEventHeads(body: Uint8Array): EnvelopeHead[] {
  try {
    const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    checkAvroBounds(eventBatchType, buf); // the bytes are the writer's (with attrs)
    return (eventHeadBatchType.fromBuffer(buf, eventHeadResolver) as { events: EnvelopeHead[] }).events;
  } catch (err) {
    throw notABatch(err);
  }
}

function notABatch(err: unknown): EnvelopeDecodeError {
  return new EnvelopeDecodeError(`message body is not a tmi.EventBatch: ${(err as Error).message}`, {
    cause: err,
  });
}
