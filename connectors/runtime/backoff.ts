// SPDX-License-Identifier: MIT
// Jittered, capped exponential backoff after a connector failure. Pure: the random draw is passed in.

export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

/**
 * Delay before the next attempt after `failures` consecutive failures (≥ 1): "equal jitter" —
 * half of min(max, initial·2^(failures−1)) plus a random part of the other half, so retries of many
 * connectors spread out but never come sooner than half the step. A source's Retry-After wins when
 * longer (bounded by the cap, so a hostile header cannot park a connector for a year).
 */
export function backoffDelayMs(
  policy: BackoffPolicy,
  failures: number,
  random: number,
  retryAfterMs?: number,
): number {
  const exponent = Math.min(Math.max(failures, 1) - 1, 30);
  const step = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  const jittered = step / 2 + (step / 2) * Math.min(Math.max(random, 0), 1);
  const delay = retryAfterMs === undefined ? jittered : Math.max(jittered, retryAfterMs);
  return Math.round(Math.min(delay, policy.maxMs));
}

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfterMs(header: string | null | undefined, nowMs: number): number | undefined {
  if (!header) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
