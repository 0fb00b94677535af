// SPDX-License-Identifier: MIT
import { createHash, randomUUID } from 'node:crypto';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && uuidPattern.test(value);
}

function format(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * A UUIDv7 (RFC 9562): 48-bit Unix milliseconds then randomness, so ids sort by creation time. The random
 * bits come from randomUUID() (a v4 id: same variant bits, 74 random bits left after the version nibble
 * and the 48 time bits replace its start), which draws on a cached entropy pool instead of a CSPRNG call
 * per id — the write path makes one id per event.
 */
export function uuidv7(nowMs: number = Date.now()): string {
  const v4 = randomUUID(); // xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx
  const time = nowMs.toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${v4.slice(15)}`;
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
