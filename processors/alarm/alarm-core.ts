// SPDX-License-Identifier: MIT
// alarm, pure core: the evaluation of one rule for one target, as a state machine driven by events in
// observation-time order (`step`) and by the passing of time (`advance`, for `for_s` and deadman). The same
// functions run in the alarm stage (state persisted per rule × target, in the batch's transaction), in its
// timer (due states, without new data) and in the backtest (over stored history, nothing written).
//
// Field values are kept per field, last write wins by (observation time, event id) — so a redelivered or
// late event that is older than what was seen changes nothing, and replaying a batch is idempotent.
// Transitions never go back in time: each is stamped no earlier than the previous one (`clock`).
import { fieldAt, uuidFromName } from '../../schemas/index.js';
import { greatCircleMeters, readPosition } from '../geo-core.js';
import {
  type AlarmRule,
  type Clause,
  type Condition,
  clausesOf,
  describeCondition,
  describeSpec,
  ruleFields,
} from './alarm-rule.js';

export interface FieldValue {
  readonly v: unknown;
  /** Observation time, µs since the epoch. */
  readonly ts: number;
  readonly id: string;
}

export interface OpenAlarm {
  readonly alarmId: string;
  readonly raisedAt: number;
}

/** Everything the evaluation remembers per rule × target (stored as tmi.alarm_state.state). */
export interface EvalState {
  readonly values: Readonly<Record<string, FieldValue>>;
  /** The raise condition has held continuously since (µs); null when it does not hold. */
  readonly since: number | null;
  /** When `advance` must act (µs): a `for_s` condition ripens, or a deadman expires. */
  readonly due: number | null;
  /** Geofence: where the last known position was, and where the target has ever been. */
  readonly inside: boolean | null;
  readonly seenInside: boolean;
  readonly seenOutside: boolean;
  readonly alarm: OpenAlarm | null;
  /** Cleared by hand: no new alarm until the condition has stopped holding (or, deadman, data came). */
  readonly suppressed: boolean;
  /** Time of the latest transition or evaluation (µs); transitions are never stamped earlier. */
  readonly clock: number;
  /** Alarms raised so far under this rule version: makes alarm ids deterministic. */
  readonly raised: number;
}

export const initialEvalState: EvalState = {
  values: {},
  since: null,
  due: null,
  inside: null,
  seenInside: false,
  seenOutside: false,
  alarm: null,
  suppressed: false,
  clock: 0,
  raised: 0,
};

export interface CoreEvent {
  /** Observation time, µs. */
  readonly ts: number;
  readonly eventId: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface Transition {
  readonly kind: 'raised' | 'cleared';
  readonly alarmId: string;
  /** µs since the epoch: observation time of the event, or the deadline that passed. */
  readonly at: number;
  readonly reason: string;
  /** The rule's fields as known at the transition. */
  readonly values: Readonly<Record<string, unknown>>;
  /** The event that caused it; null when time passing did (`for_s`, deadman). */
  readonly eventId: string | null;
}

export interface StepResult {
  readonly state: EvalState;
  readonly transitions: Transition[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const microsPerSecond = 1_000_000;

/** Deterministic: the same history raises the same alarm ids (redelivery, backtest vs live). */
export function alarmIdOf(rule: Pick<AlarmRule, 'ruleId' | 'version'>, targetId: string, n: number): string {
  return uuidFromName(`alarm:${rule.ruleId}:${rule.version}:${targetId}:${n}`);
}

/** Value of a field (a top-level name, else a dotted path: see fieldAt); undefined when absent. */
export function valueAt(data: Readonly<Record<string, unknown>>, path: string): unknown {
  return fieldAt(data, path).value;
}

export function clauseHolds(clause: Clause, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if ('min' in clause) {
    if (typeof value !== 'number') return false;
    return clause.op === 'between'
      ? value >= clause.min && value <= clause.max
      : value < clause.min || value > clause.max;
  }
  const want = clause.value;
  switch (clause.op) {
    case '==':
      return value === want;
    case '!=':
      return isScalar(value) && value !== want;
    default: {
      if (typeof value !== 'number' || typeof want !== 'number') return false;
      if (clause.op === '>') return value > want;
      if (clause.op === '>=') return value >= want;
      if (clause.op === '<') return value < want;
      return value <= want;
    }
  }
}

function isScalar(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';
}

/** An unknown field makes its clause false. */
export function conditionHolds(c: Condition, values: Readonly<Record<string, FieldValue>>): boolean {
  const test = (cl: Clause) => clauseHolds(cl, values[cl.field]?.v);
  return 'all' in c ? c.all.every(test) : c.any.some(test);
}

function snapshot(rule: AlarmRule, values: Readonly<Record<string, FieldValue>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of ruleFields(rule.spec)) if (values[f] !== undefined) out[f] = values[f].v;
  return out;
}

/** Newer by (observation time, event id), the order target_state uses. */
function isNewer(ts: number, id: string, prior: FieldValue | undefined): boolean {
  if (prior === undefined) return true;
  if (ts !== prior.ts) return ts > prior.ts;
  return id.toLowerCase() > prior.id.toLowerCase();
}

class Evaluation {
  readonly s: Mutable<EvalState>;
  readonly transitions: Transition[] = [];
  private readonly values: Record<string, FieldValue>;

  constructor(
    readonly rule: AlarmRule,
    readonly targetId: string,
    state: EvalState,
  ) {
    this.values = { ...state.values };
    this.s = { ...state, values: this.values };
  }

  result(): StepResult {
    return { state: this.s, transitions: this.transitions };
  }

  private stamp(at: number): number {
    this.s.clock = Math.max(this.s.clock, at);
    return this.s.clock;
  }

  raise(at: number, reason: string, eventId: string | null): void {
    const when = this.stamp(at);
    const alarmId = alarmIdOf(this.rule, this.targetId, this.s.raised + 1);
    this.s.raised += 1;
    this.s.alarm = { alarmId, raisedAt: when };
    this.s.due = null;
    this.transitions.push({
      kind: 'raised',
      alarmId,
      at: when,
      reason,
      values: snapshot(this.rule, this.s.values),
      eventId,
    });
  }

  clear(at: number, reason: string, eventId: string | null): void {
    const open = this.s.alarm;
    if (open === null) return;
    const when = this.stamp(at);
    this.s.alarm = null;
    this.transitions.push({
      kind: 'cleared',
      alarmId: open.alarmId,
      at: when,
      reason,
      values: snapshot(this.rule, this.s.values),
      eventId,
    });
  }

  /** Takes the event's values of the rule's fields that are newer than those known; true if any was. */
  absorb(event: CoreEvent): boolean {
    let changed = false;
    for (const field of ruleFields(this.rule.spec)) {
      const v = valueAt(event.data, field);
      if (v === undefined || !isNewer(event.ts, event.eventId, this.s.values[field])) continue;
      this.values[field] = { v, ts: event.ts, id: event.eventId };
      changed = true;
    }
    return changed;
  }

  /**
   * After new values: raise (at once, or once `for_s` has passed — `due`), clear, or stay. `clearNow` is the
   * clear condition (hysteresis) or, without one, the negation of `raise`.
   */
  settle(raise: boolean, clearNow: boolean, at: number, eventId: string, forSeconds: number): void {
    const s = this.s;
    if (s.alarm !== null) {
      // An open alarm waits for its clear condition; a new one needs the raise condition to begin again.
      if (clearNow) this.clear(at, this.clearReason(), eventId);
      s.since = null;
      s.due = null;
      return;
    }
    if (s.suppressed) {
      if (!raise) s.suppressed = false;
      s.since = null;
      s.due = null;
      return;
    }
    if (!raise) {
      s.since = null;
      s.due = null;
      return;
    }
    s.since ??= at;
    if (forSeconds === 0) this.raise(at, describeSpec(this.rule.spec), eventId);
    else s.due = s.since + Math.round(forSeconds * microsPerSecond);
  }

  private clearReason(): string {
    const spec = this.rule.spec;
    switch (spec.type) {
      case 'threshold':
        return spec.clear
          ? `clear condition holds: ${describeCondition(spec.clear)}`
          : `condition no longer holds: ${describeCondition(spec.condition)}`;
      case 'deadman':
        return `data on ${spec.field} again`;
      case 'geofence':
        return spec.trigger === 'inside' || spec.trigger === 'enter'
          ? 'left the fence'
          : 'back inside the fence';
    }
  }

  /** Time passing: a ripe `for_s` condition raises at its deadline; so does an expired deadman. */
  advance(to: number): void {
    const s = this.s;
    if (s.due === null || s.due > to) return;
    const due = s.due;
    s.due = null;
    if (s.alarm !== null || s.suppressed) return;
    if (this.rule.spec.type === 'deadman' || s.since !== null)
      this.raise(due, describeSpec(this.rule.spec), null);
  }

  step(event: CoreEvent): void {
    this.advance(event.ts);
    const spec = this.rule.spec;
    if (!this.absorb(event)) return;
    switch (spec.type) {
      case 'threshold': {
        const raise = conditionHolds(spec.condition, this.s.values);
        const clearNow = spec.clear ? conditionHolds(spec.clear, this.s.values) : !raise;
        this.settle(raise, clearNow, event.ts, event.eventId, spec.for_s);
        return;
      }
      case 'deadman': {
        // Only reached with a newer value of the field: the target spoke.
        if (this.s.alarm !== null) this.clear(event.ts, this.clearReason(), event.eventId);
        this.s.suppressed = false;
        this.s.due = event.ts + Math.round(spec.timeout_s * microsPerSecond);
        return;
      }
      case 'geofence': {
        const read = readPosition({ lat: this.s.values.lat?.v, lon: this.s.values.lon?.v });
        if (read.kind !== 'position') return;
        const { lat, lon } = read.position;
        const inside = greatCircleMeters(lat, lon, spec.fence.lat, spec.fence.lon) <= spec.fence.radius_m;
        const s = this.s;
        const raise =
          spec.trigger === 'inside'
            ? inside
            : spec.trigger === 'outside'
              ? !inside
              : spec.trigger === 'enter'
                ? inside && s.seenOutside
                : !inside && s.seenInside;
        s.inside = inside;
        if (inside) s.seenInside = true;
        else s.seenOutside = true;
        const clearNow = spec.trigger === 'inside' || spec.trigger === 'enter' ? !inside : inside;
        this.settle(raise, clearNow, event.ts, event.eventId, spec.for_s);
        return;
      }
    }
  }
}

/** Applies events (in the given order: observation time, then event id) to one rule × target. */
export function stepAll(
  rule: AlarmRule,
  targetId: string,
  state: EvalState,
  events: readonly CoreEvent[],
): StepResult {
  const e = new Evaluation(rule, targetId, state);
  for (const event of events) e.step(event);
  return e.result();
}

/** Lets time pass up to `to` (µs) without new data. */
export function advanceTo(rule: AlarmRule, targetId: string, state: EvalState, to: number): StepResult {
  const e = new Evaluation(rule, targetId, state);
  e.advance(to);
  return e.result();
}

/** Orders events as the evaluation must see them: observation time, then event id. */
export function byObservation(a: CoreEvent, b: CoreEvent): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  const x = a.eventId.toLowerCase();
  const y = b.eventId.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Does the event carry any field the rule reads? */
export function eventConcerns(rule: AlarmRule, data: Readonly<Record<string, unknown>>): boolean {
  return ruleFields(rule.spec).some((f) => valueAt(data, f) !== undefined);
}

/** A manual clear: the alarm is gone, and the rule waits for its condition to stop holding first. */
export function afterManualClear(state: EvalState): EvalState {
  return { ...state, alarm: null, suppressed: true, due: null, since: null };
}

/** Reads a stored state (jsonb), tolerating states written by an older shape. */
export function toEvalState(stored: unknown): EvalState {
  if (stored === null || typeof stored !== 'object') return initialEvalState;
  return { ...initialEvalState, ...(stored as Partial<EvalState>) };
}

export { clausesOf };
