// SPDX-License-Identifier: MIT
// The fanout stage's view of the subscriptions: compiled once into memory and reloaded when told that
// listeners or targets changed (markStale, wired to `<ns>.sys.*.changed` notices by the pipeline),
// every `subscriptionReloadIntervalMs` as a safety net, and — throttled — when an event names a target
// of a meta-filtered kind whose meta it has not seen. Never a database read per event.
import type { Pool } from '../../db/index.js';
import {
  loadAliases,
  loadAllSubscriptions,
  type SubscriptionRow,
  targetMetaOfKinds,
} from '../../projections/index.js';
import { AliasIndex } from '../normalize/aliases.js';
import { compileIndex, type Subscription, type SubscriptionIndex } from './fanout-core.js';

/** Periodic reload, in case a change notice was lost (notices are core NATS, not stored). */
export const subscriptionReloadIntervalMs = 30_000;
/** Least time between two reloads caused by targets whose meta is unknown. */
export const metaMissReloadMinMs = 1_000;

export interface SubscriptionSnapshot {
  readonly index: SubscriptionIndex;
  readonly meta: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
}

export interface SubscriptionSource {
  /** The index in force, reloaded first if a change was signalled or it is old. */
  current(): Promise<SubscriptionSnapshot>;
  /** Reload (throttled) because these targets of meta-filtered kinds are unknown. */
  refreshForUnknownTargets(targetIds: readonly string[]): Promise<SubscriptionSnapshot>;
  /** A change happened: the next current() reloads. */
  markStale(): void;
}

export function toSubscription(row: SubscriptionRow): Subscription {
  return {
    listenerId: row.listener_id,
    targetId: row.target_id,
    kind: row.kind,
    meta: row.meta,
    fields: row.fields,
    alarms: row.alarms,
  };
}

function withAliases(s: Subscription, aliases: AliasIndex): Subscription {
  if (s.fields === null) return s;
  const expanded = new Set(s.fields);
  for (const f of s.fields) for (const c of aliases.everyCanonicalOf(f)) expanded.add(c);
  return expanded.size === s.fields.length ? s : { ...s, fields: [...expanded] };
}

export class SubscriptionCache implements SubscriptionSource {
  private snapshot: SubscriptionSnapshot | undefined;
  private loadedAtMs = 0;
  private lastMissReloadMs = 0;
  /** Bumped by markStale; a load remembers the value it started at. */
  private staleGeneration = 1;
  private loadedGeneration = 0;
  private loading: Promise<SubscriptionSnapshot> | undefined;

  /** `nowMicros`: the stage's clock (µs since the epoch). */
  constructor(
    private readonly pool: Pool,
    private readonly nowMicros: () => number,
    private readonly reloadIntervalMs = subscriptionReloadIntervalMs,
  ) {}

  private nowMs(): number {
    return this.nowMicros() / 1000;
  }

  markStale(): void {
    this.staleGeneration++;
  }

  async current(): Promise<SubscriptionSnapshot> {
    const old = this.nowMs() - this.loadedAtMs > this.reloadIntervalMs;
    if (this.snapshot && !old && this.loadedGeneration >= this.staleGeneration) return this.snapshot;
    return this.reload();
  }

  async refreshForUnknownTargets(targetIds: readonly string[]): Promise<SubscriptionSnapshot> {
    const now = this.nowMs();
    if (targetIds.length === 0 || now - this.lastMissReloadMs < metaMissReloadMinMs) return this.current();
    this.lastMissReloadMs = now;
    this.markStale();
    return this.current();
  }

  private reload(): Promise<SubscriptionSnapshot> {
    if (this.loading) return this.loading.then(() => this.current());
    const generation = this.staleGeneration;
    const startedAt = this.nowMs();
    this.loading = (async () => {
      // A subscribed name the normalizer has mapped also receives the canonical field it became.
      const aliases = new AliasIndex(await loadAliases(this.pool));
      const index = compileIndex(
        (await loadAllSubscriptions(this.pool)).map((row) => withAliases(toSubscription(row), aliases)),
      );
      const meta = await targetMetaOfKinds(this.pool, [...index.metaKinds]);
      const snapshot: SubscriptionSnapshot = { index, meta };
      this.snapshot = snapshot;
      this.loadedAtMs = startedAt;
      this.loadedGeneration = generation;
      return snapshot;
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }
}
