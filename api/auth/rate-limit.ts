// SPDX-License-Identifier: MIT
// Requests per key: a token bucket per key, in this process's memory. The pure step is `takeToken`.

export interface Bucket {
  readonly tokens: number;
  readonly updatedMs: number;
}

export interface TakeResult {
  readonly bucket: Bucket;
  readonly allowed: boolean;
  /** Whole seconds until a request would be allowed (the Retry-After header); 0 when allowed. */
  readonly retryAfterS: number;
}

/** Refills `ratePerS` tokens a second up to `burst`, then takes one if there is one. */
export function takeToken(
  bucket: Bucket | undefined,
  nowMs: number,
  ratePerS: number,
  burst: number,
): TakeResult {
  const prior = bucket ?? { tokens: burst, updatedMs: nowMs };
  const elapsedS = Math.max(0, nowMs - prior.updatedMs) / 1000;
  const tokens = Math.min(burst, prior.tokens + elapsedS * ratePerS);
  if (tokens >= 1) return { bucket: { tokens: tokens - 1, updatedMs: nowMs }, allowed: true, retryAfterS: 0 };
  return {
    bucket: { tokens, updatedMs: nowMs },
    allowed: false,
    retryAfterS: Math.max(1, Math.ceil((1 - tokens) / ratePerS)),
  };
}

/** Keys tracked at once; the least recently seen is forgotten beyond (it starts again with a full bucket). */
export const rateLimitKeysMax = 100_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
  ) {}

  /** 0 = no limit. */
  get enabled(): boolean {
    return this.ratePerS > 0;
  }

  take(key: string, nowMs = Date.now()): TakeResult {
    if (!this.enabled)
      return { bucket: { tokens: this.burst, updatedMs: nowMs }, allowed: true, retryAfterS: 0 };
    const result = takeToken(this.buckets.get(key), nowMs, this.ratePerS, this.burst);
    this.buckets.delete(key);
    if (this.buckets.size >= rateLimitKeysMax) this.buckets.delete(this.buckets.keys().next().value!);
    this.buckets.set(key, result.bucket);
    return result;
  }
}
