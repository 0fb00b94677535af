// SPDX-License-Identifier: MIT
import { createHash, randomBytes } from 'node:crypto';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && uuidPattern.test(value);
}

function format(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** A UUIDv7 (RFC 9562): 48-bit Unix milliseconds then randomness, so ids sort by creation time. */
export function uuidv7(nowMs: number = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(nowMs, 0, 6);
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  return format(bytes);
}

/** A deterministic UUIDv8 from a name: how an Idempotency-Key becomes stable event ids. */
export function uuidFromName(name: string): string {
  const bytes = createHash('sha256').update(name).digest().subarray(0, 16);
  bytes[6] = 0x80 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  return format(Buffer.from(bytes));
}

/** A short deterministic id of a list of event ids: the Nats-Msg-Id of a multi-event message. */
export function batchMessageId(eventIds: readonly string[], suffix = ''): string {
  if (eventIds.length === 1) return `${eventIds[0]}${suffix}`;
  const h = createHash('sha256');
  for (const id of eventIds) h.update(id);
  return `b${eventIds.length}-${h.digest('base64url').slice(0, 32)}${suffix}`;
}
