// SPDX-License-Identifier: MIT
// Backtest: replays a rule over stored history (ts_obs, which holds positions too) with the same pure core
// the alarm stage runs, and returns the alarms it would have raised — writing nothing. Each target of the
// rule's scope starts with no knowledge at `from`; deadlines (`for_s`, deadman) pass in observation time,
// up to `to` (or now, if earlier).
import type { Pool } from '../../db/index.js';
import { readHistoryPage } from '../../projections/index.js';
import { microsToIso } from '../../schemas/index.js';
import {
  advanceTo,
  type EvalState,
  eventConcerns,
  initialEvalState,
  stepAll,
  type Transition,
} from './alarm-core.js';
import { type AlarmRule, ruleCovers, ruleFields } from './alarm-rule.js';

/** Stored events one backtest reads at most; beyond, the result says `truncated` and where it stopped. */
export const backtestEventsMax = 200_000;
export const backtestPageEvents = 5_000;

export interface BacktestAlarm {
  readonly alarm_id: string;
  readonly target_id: string;
  readonly raised_at: string;
  readonly reason: string;
  readonly event_id: string | null;
  readonly values: Readonly<Record<string, unknown>>;
  readonly cleared_at: string | null;
  readonly clear_reason: string | null;
}

export interface BacktestResult {
  readonly events_scanned: number;
  readonly targets: number;
  readonly truncated: boolean;
  /** The observation time evaluation reached (`to`, or where it stopped when truncated). */
  readonly evaluated_until: string;
  readonly alarms: BacktestAlarm[];
}

export async function backtestRule(
  pool: Pool,
  rule: AlarmRule,
  range: { readonly fromMicros: number; readonly toMicros: number },
  eventsMax = backtestEventsMax,
): Promise<BacktestResult> {
  const states = new Map<string, EvalState>();
  const transitions: { targetId: string; t: Transition }[] = [];
  const topFields = [...new Set(ruleFields(rule.spec).map((f) => f.split('.')[0]!))];
  let after: { tsUs: number; eventId: string } | undefined;
  let scanned = 0;
  let truncated = false;
  for (;;) {
    const limit = Math.min(backtestPageEvents, eventsMax - scanned);
    if (limit <= 0) {
      truncated = true;
      break;
    }
    const page = await readHistoryPage(pool, {
      fromIso: microsToIso(range.fromMicros),
      toIso: microsToIso(range.toMicros),
      targetId: rule.targetId,
      kind: rule.kind,
      topFields,
      after,
      limit,
    });
    for (const row of page) {
      if (!ruleCovers(rule, row.target_id, row.kind) || !eventConcerns(rule, row.payload)) continue;
      const event = { ts: Number(row.ts_us), eventId: row.event_id, data: row.payload };
      const result = stepAll(rule, row.target_id, states.get(row.target_id) ?? initialEvalState, [event]);
      states.set(row.target_id, result.state);
      for (const t of result.transitions) transitions.push({ targetId: row.target_id, t });
    }
    scanned += page.length;
    const last = page[page.length - 1];
    if (last === undefined || page.length < limit) break;
    after = { tsUs: Number(last.ts_us), eventId: last.event_id };
  }
  const until = truncated && after !== undefined ? after.tsUs : range.toMicros;
  for (const [targetId, state] of states) {
    for (const t of advanceTo(rule, targetId, state, until).transitions) transitions.push({ targetId, t });
  }
  return {
    events_scanned: scanned,
    targets: states.size,
    truncated,
    evaluated_until: microsToIso(until),
    alarms: pairTransitions(transitions),
  };
}

/** Raised/cleared transitions → alarms, in the order they were raised. */
function pairTransitions(list: readonly { targetId: string; t: Transition }[]): BacktestAlarm[] {
  const byId = new Map<string, BacktestAlarm>();
  for (const { targetId, t } of list) {
    if (t.kind === 'raised') {
      byId.set(t.alarmId, {
        alarm_id: t.alarmId,
        target_id: targetId,
        raised_at: microsToIso(t.at),
        reason: t.reason,
        event_id: t.eventId,
        values: t.values,
        cleared_at: null,
        clear_reason: null,
      });
    } else {
      const open = byId.get(t.alarmId);
      if (open) byId.set(t.alarmId, { ...open, cleared_at: microsToIso(t.at), clear_reason: t.reason });
    }
  }
  return [...byId.values()].sort((a, b) =>
    a.raised_at < b.raised_at ? -1 : a.raised_at > b.raised_at ? 1 : 0,
  );
}
