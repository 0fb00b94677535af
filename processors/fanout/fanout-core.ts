// SPDX-License-Identifier: MIT
// fanout, pure core: subscriptions compiled into an index (target → subscriptions, kind → subscriptions),
// the listeners an event goes to with the union of their field masks, and the listener's copy of the
// event: `{type, target_id, ts, event_id, data}` with only the subscribed fields. An event that holds
// none of a listener's fields is not sent to it at all.
import type { MetaScalar } from '../../projections/index.js';

export interface Subscription {
  readonly listenerId: string;
  readonly targetId: string | null;
  readonly kind: string | null;
  /** Each key must be present in the target's meta with exactly this value. */
  readonly meta: Readonly<Record<string, MetaScalar>> | null;
  /** Top-level fields the listener receives; null: all of them. */
  readonly fields: readonly string[] | null;
  readonly alarms: boolean;
}

export interface SubscriptionIndex {
  readonly byTarget: ReadonlyMap<string, readonly Subscription[]>;
  readonly byKind: ReadonlyMap<string, readonly Subscription[]>;
  /** Kinds some subscription filters by meta: the meta of their targets must be known. */
  readonly metaKinds: ReadonlySet<string>;
  readonly size: number;
}

/** What one listener may receive of one target. */
export interface Grant {
  readonly listenerId: string;
  /** null: every field. */
  readonly fields: ReadonlySet<string> | null;
  readonly alarms: boolean;
}

export interface TargetFacts {
  readonly targetId: string;
  readonly kind: string;
  /** The target's meta, when known (needed only for meta-filtered kinds). */
  readonly meta: Readonly<Record<string, unknown>> | undefined;
}

export function compileIndex(subscriptions: readonly Subscription[]): SubscriptionIndex {
  const byTarget = new Map<string, Subscription[]>();
  const byKind = new Map<string, Subscription[]>();
  const metaKinds = new Set<string>();
  for (const s of subscriptions) {
    if (s.targetId !== null) push(byTarget, s.targetId, s);
    else if (s.kind !== null) {
      push(byKind, s.kind, s);
      if (s.meta !== null && Object.keys(s.meta).length > 0) metaKinds.add(s.kind);
    }
  }
  return { byTarget, byKind, metaKinds, size: subscriptions.length };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Every key of the filter is an own member of meta with the same scalar value. */
export function metaMatches(
  meta: Readonly<Record<string, unknown>> | undefined,
  filter: Readonly<Record<string, MetaScalar>> | null,
): boolean {
  if (filter === null) return true;
  const keys = Object.keys(filter);
  if (keys.length === 0) return true;
  if (meta === undefined) return false;
  return keys.every((k) => Object.hasOwn(meta, k) && meta[k] === filter[k]);
}

/**
 * The listeners whose subscriptions cover the target, each with the union of its subscriptions' field
 * masks (one "all fields" subscription makes it all) and alarms if any subscription asks for them.
 * Sorted by listener id, so the output of a batch is always in the same order.
 */
export function grantsFor(index: SubscriptionIndex, target: TargetFacts): Grant[] {
  const matching: Subscription[] = [];
  for (const s of index.byTarget.get(target.targetId) ?? []) matching.push(s);
  for (const s of index.byKind.get(target.kind) ?? []) if (metaMatches(target.meta, s.meta)) matching.push(s);
  if (matching.length === 0) return [];
  const merged = new Map<string, { fields: Set<string> | null; alarms: boolean }>();
  for (const s of matching) {
    const prior = merged.get(s.listenerId);
    if (!prior) {
      merged.set(s.listenerId, { fields: s.fields === null ? null : new Set(s.fields), alarms: s.alarms });
      continue;
    }
    prior.alarms ||= s.alarms;
    if (prior.fields === null) continue;
    if (s.fields === null) prior.fields = null;
    else for (const f of s.fields) prior.fields.add(f);
  }
  return [...merged.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([listenerId, g]) => ({ listenerId, fields: g.fields, alarms: g.alarms }));
}

/** Only the masked top-level fields; undefined when none of them is present. */
export function maskFields(
  data: Readonly<Record<string, unknown>>,
  fields: ReadonlySet<string> | null,
): Record<string, unknown> | undefined {
  if (fields === null) return { ...data };
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(data)) {
    if (!fields.has(key)) continue;
    out ??= {};
    // defineProperty: a field named __proto__ stays a field.
    Object.defineProperty(out, key, {
      value: data[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** The listener's copy of an event or alarm; the gateway adds `cursor` (the TMI_LISTEN sequence). */
export interface ListenPayload {
  readonly type: 'event' | 'alarm';
  readonly target_id: string;
  readonly ts: string;
  readonly event_id: string;
  readonly data: Record<string, unknown>;
}

export interface ListenOutput {
  readonly listenerId: string;
  readonly targetId: string;
  /** `<event_id>:<listener_id>`: a redelivered batch republishes duplicates that JetStream drops. */
  readonly msgId: string;
  readonly payload: ListenPayload;
}

export interface FanoutEvent {
  readonly eventId: string;
  readonly targetId: string;
  readonly kind: string;
  /** Observation time, ISO-8601. */
  readonly ts: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** Every event × every listener it goes to, in event order, masked. */
export function fanoutEvents(
  index: SubscriptionIndex,
  events: readonly FanoutEvent[],
  metaOf: (targetId: string) => Readonly<Record<string, unknown>> | undefined,
): ListenOutput[] {
  const out: ListenOutput[] = [];
  if (index.size === 0) return out;
  for (const e of events) {
    const grants = grantsFor(index, { targetId: e.targetId, kind: e.kind, meta: metaOf(e.targetId) });
    for (const g of grants) {
      const data = maskFields(e.data, g.fields);
      if (data === undefined) continue;
      out.push({
        listenerId: g.listenerId,
        targetId: e.targetId,
        msgId: `${e.eventId}:${g.listenerId}`,
        payload: { type: 'event', target_id: e.targetId, ts: e.ts, event_id: e.eventId, data },
      });
    }
  }
  return out;
}

/** An alarm transition as the alarm stage publishes it on `<ns>.alarm.<target_id>` (JSON). */
export interface FanoutAlarm {
  /** `<alarm_id>:<transition>`: the dedupe key. */
  readonly transitionId: string;
  readonly targetId: string;
  readonly kind: string;
  /** When the transition happened, ISO-8601. */
  readonly ts: string;
  readonly body: Readonly<Record<string, unknown>>;
}

/** The top-level field of a (possibly dotted) field path. */
function topField(path: string): string {
  const dot = path.indexOf('.');
  return dot < 0 ? path : path.slice(0, dot);
}

/**
 * A transition as a listener may see it: `values` and `fields` keep only subscribed fields; when any was
 * removed, `reason` goes too (it may quote the hidden values).
 */
export function maskAlarm(
  body: Readonly<Record<string, unknown>>,
  fields: ReadonlySet<string> | null,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body };
  if (fields === null) return out;
  let hidden = false;
  const values = body.values;
  if (values !== null && typeof values === 'object' && !Array.isArray(values)) {
    const kept: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) {
      if (fields.has(topField(k)))
        Object.defineProperty(kept, k, { value: v, enumerable: true, writable: true });
      else hidden = true;
    }
    out.values = kept;
  }
  if (Array.isArray(body.fields)) {
    const kept = body.fields.filter((f) => typeof f === 'string' && fields.has(topField(f)));
    if (kept.length < body.fields.length) hidden = true;
    out.fields = kept;
  }
  if (hidden) delete out.reason;
  return out;
}

/** Alarm transitions go to the listeners whose subscriptions cover the target and ask for alarms. */
export function fanoutAlarms(
  index: SubscriptionIndex,
  alarms: readonly FanoutAlarm[],
  metaOf: (targetId: string) => Readonly<Record<string, unknown>> | undefined,
): ListenOutput[] {
  const out: ListenOutput[] = [];
  if (index.size === 0) return out;
  for (const a of alarms) {
    const grants = grantsFor(index, { targetId: a.targetId, kind: a.kind, meta: metaOf(a.targetId) });
    for (const g of grants) {
      if (!g.alarms) continue;
      out.push({
        listenerId: g.listenerId,
        targetId: a.targetId,
        msgId: `${a.transitionId}:${g.listenerId}`,
        payload: {
          type: 'alarm',
          target_id: a.targetId,
          ts: a.ts,
          event_id: a.transitionId,
          data: maskAlarm(a.body, g.fields),
        },
      });
    }
  }
  return out;
}

/** Reads a transition message; undefined when it lacks what fanout needs. */
export function parseAlarmMessage(body: unknown): FanoutAlarm | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const b = body as Record<string, unknown>;
  const { transition_id, target_id, kind, at } = b;
  if (typeof transition_id !== 'string' || typeof target_id !== 'string' || typeof kind !== 'string')
    return undefined;
  if (typeof at !== 'string') return undefined;
  return { transitionId: transition_id, targetId: target_id, kind, ts: at, body: b };
}

/** Targets of the events whose kind filters by meta but whose meta is unknown (a reload is due). */
export function targetsMissingMeta(
  index: SubscriptionIndex,
  targets: Iterable<{ targetId: string; kind: string }>,
  hasMeta: (targetId: string) => boolean,
): string[] {
  const missing = new Set<string>();
  for (const t of targets) if (index.metaKinds.has(t.kind) && !hasMeta(t.targetId)) missing.add(t.targetId);
  return [...missing];
}
