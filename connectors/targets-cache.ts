// SPDX-License-Identifier: MIT
// target_id → kind for the write path, so a speaker's write costs no database round trip once its
// target is known. Kinds never change; a deleted target may be accepted for up to `targetCacheTtlMs`
// by other processes (its events then project into nothing visible).
import type { Pool } from '../db/index.js';
import { targetKinds } from '../projections/index.js';

export const targetCacheTtlMs = 30_000;
export const targetCacheEntriesMax = 100_000;

export class TargetKindCache {
  private readonly entries = new Map<string, { kind: string; expiresAt: number }>();

  constructor(private readonly pool: Pool) {}

  /** Kinds of the given targets; unknown targets are absent from the result. */
  async kinds(targetIds: Iterable<string>): Promise<Map<string, string>> {
    const now = Date.now();
    const out = new Map<string, string>();
    const missing: string[] = [];
    for (const id of new Set(targetIds)) {
      const hit = this.entries.get(id);
      if (hit && hit.expiresAt > now) out.set(id, hit.kind);
      else missing.push(id);
    }
    if (missing.length > 0) {
      for (const [id, kind] of await targetKinds(this.pool, missing)) {
        out.set(id, kind);
        this.remember(id, kind, now);
      }
    }
    return out;
  }

  remember(targetId: string, kind: string, now = Date.now()): void {
    if (this.entries.size >= targetCacheEntriesMax) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(targetId, { kind, expiresAt: now + targetCacheTtlMs });
  }

  forget(targetId: string): void {
    this.entries.delete(targetId);
  }
}
