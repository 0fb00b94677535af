// SPDX-License-Identifier: MIT
// Transitions of alarms: their history rows (tmi.alarm_event) and outbox rows (tmi.alarm_outbox), written
// together; the alarm stage publishes the outbox on <ns>.alarm.<target_id> after the commit (outbox.ts).
import type { PoolClient } from '../../db/index.js';
import type { AlarmRow, AlarmStateName } from './alarm-row.js';

export type TransitionName = 'raised' | 'acknowledged' | 'cleared';

/** One transition of one alarm, as recorded in alarm_event and published on <ns>.alarm.<target_id>. */
export interface AlarmTransitionRecord {
  readonly alarm_id: string;
  readonly transition: TransitionName;
  /** The alarm's state after the transition. */
  readonly state: AlarmStateName;
  /** ISO-8601, µs. */
  readonly at: string;
  readonly by: string;
  readonly reason: string;
  readonly rule_id: string;
  readonly rule_name: string;
  readonly rule_type: string;
  readonly rule_version: number;
  readonly severity: string;
  readonly target_id: string;
  readonly kind: string | null;
  readonly event_id: string | null;
  /** The rule's fields as known at the transition (the raise values for acknowledgements). */
  readonly values: Record<string, unknown>;
}

export function transitionOf(
  a: AlarmRow,
  t: { transition: TransitionName; state: AlarmStateName; at: string; by: string; reason: string },
): AlarmTransitionRecord {
  return {
    alarm_id: a.alarm_id,
    ...t,
    rule_id: a.rule_id,
    rule_name: a.rule_name,
    rule_type: a.rule_type,
    rule_version: a.rule_version,
    severity: a.severity,
    target_id: a.target_id,
    kind: a.kind,
    event_id: null,
    values: a.trigger.values ?? {},
  };
}

/** The Nats-Msg-Id of a transition: each transition happens at most once per alarm. */
export function transitionMsgId(alarmId: string, transition: TransitionName): string {
  return `${alarmId}:${transition}`;
}

/** The JSON body published on <ns>.alarm.<target_id>. */
export function transitionMessage(t: AlarmTransitionRecord): Record<string, unknown> {
  return {
    transition_id: transitionMsgId(t.alarm_id, t.transition),
    alarm_id: t.alarm_id,
    transition: t.transition,
    state: t.state,
    at: t.at,
    by: t.by,
    reason: t.reason,
    rule_id: t.rule_id,
    rule_name: t.rule_name,
    rule_type: t.rule_type,
    severity: t.severity,
    target_id: t.target_id,
    kind: t.kind,
    event_id: t.event_id,
    fields: Object.keys(t.values),
    values: t.values,
  };
}

/** History rows (idempotent on (alarm_id, transition)) and outbox rows of transitions, in one round trip each. */
export async function recordTransitions(
  client: PoolClient,
  ts: readonly AlarmTransitionRecord[],
): Promise<void> {
  if (ts.length === 0) return;
  await client.query(
    // recorded_at is the insert's own clock, not the transaction's start: a deadline claimed by the timer is
    // never recorded as handled before it was due.
    `INSERT INTO tmi.alarm_event (alarm_id, transition, at, by, reason, detail, recorded_at)
     SELECT u.*, clock_timestamp()
     FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::jsonb[]) AS u
     ON CONFLICT DO NOTHING`,
    [
      ts.map((t) => t.alarm_id),
      ts.map((t) => t.transition),
      ts.map((t) => t.at),
      ts.map((t) => t.by),
      ts.map((t) => t.reason),
      ts.map((t) => JSON.stringify({ event_id: t.event_id, values: t.values })),
    ],
  );
  await client.query(
    `INSERT INTO tmi.alarm_outbox (msg_id, target_id, body)
     SELECT * FROM unnest($1::text[], $2::uuid[], $3::jsonb[])`,
    [
      ts.map((t) => transitionMsgId(t.alarm_id, t.transition)),
      ts.map((t) => t.target_id),
      ts.map((t) => JSON.stringify(transitionMessage(t))),
    ],
  );
}
