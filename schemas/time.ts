// SPDX-License-Identifier: MIT
// Timestamps travel as microseconds since the epoch (PostgreSQL's precision), never as Date (ms).
import { TaggedError, type TmiErrorOptions } from '../errors/index.js';

export class InvalidTimestampError extends TaggedError('InvalidTimestampError')<'INVALID_TIMESTAMP'> {
  constructor(message: string, options?: TmiErrorOptions) {
    super('INVALID_TIMESTAMP', message, options);
  }
}

/** Earliest and latest accepted observation times. */
export const timestampMinMicros = 0;
export const timestampMaxMicros = Date.UTC(2200, 0, 1) * 1000;

const isoPattern =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Parses an observation time: an ISO-8601 string with a zone (`2026-11-22T10:00:00.123456Z`,
 * `…+09:00`) or a number of epoch milliseconds (fractions keep microseconds).
 */
export function parseTimestampMicros(value: unknown, where = 'ts'): number {
  let micros: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new InvalidTimestampError(`${where} must be a finite number of epoch milliseconds`);
    micros = Math.round(value * 1000);
  } else if (typeof value === 'string') {
    micros = parseIsoMicros(value, where);
  } else {
    throw new InvalidTimestampError(
      `${where} must be an ISO-8601 string with a time zone or epoch milliseconds`,
    );
  }
  if (micros < timestampMinMicros || micros >= timestampMaxMicros) {
    throw new InvalidTimestampError(`${where} must lie between 1970-01-01 and 2200-01-01`);
  }
  return micros;
}

function parseIsoMicros(text: string, where: string): number {
  const m = isoPattern.exec(text);
  if (!m) {
    throw new InvalidTimestampError(
      `${where} '${text.slice(0, 40)}' is not ISO-8601 with a time zone (e.g. 2026-11-22T10:00:00Z) nor epoch milliseconds`,
    );
  }
  const [, y, mo, d, h, mi, s = '0', frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  if (
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(s) > 59
  ) {
    throw new InvalidTimestampError(`${where} '${text}' is not a valid calendar time`);
  }
  const fracMicros = Number(frac.padEnd(6, '0').slice(0, 6));
  return (ms - zoneOffsetMs(zone)) * 1000 + fracMicros;
}

function zoneOffsetMs(zone: string): number {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
}

export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** ISO-8601 with microseconds, UTC: what PostgreSQL accepts and what the API returns. */
export function microsToIso(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const rest = micros - ms * 1000;
  const iso = new Date(ms).toISOString(); // 2026-11-22T10:00:00.123Z
  return `${iso.slice(0, 23)}${String(rest).padStart(3, '0')}Z`;
}
