// SPDX-License-Identifier: MIT
// alarm: TMI_NORM → rule evaluation → tmi.alarm (+ history), published on <ns>.alarm.<target_id>.
//
// One transaction per batch holds: the frontier (the checkpoint; messages apply strictly in stream order,
// see alarm-order.ts), the event ledger claim, the evaluation states of the touched rule × target pairs
// (locked FOR UPDATE), the alarms, their history and their outbox rows. After the commit the outbox is
// published (Nats-Msg-Id `<alarm_id>:<transition>`) and deleted; a crash in between republishes duplicates
// that JetStream drops. The stage's timer (`tick`) does the same for states whose deadline passed (`for_s`,
// deadman) — claimed with SKIP LOCKED, so the deadline is kept in the database and survives a restart — and
// drains outbox rows written by the API (acknowledge, clear, rule changes).
import { type PoolClient, withTransaction } from '../db/index.js';
import {
  type AlarmTransitionRecord,
  type ClearedAlarmRow,
  claimDueStates,
  drainOutbox,
  lockFrontier,
  lockLiveRules,
  lockLiveRuleVersions,
  lockStates,
  type NewAlarmRow,
  recordTransitions,
  type StoredStateRow,
  saveCheckpoint,
  saveStates,
  writeAlarmChanges,
} from '../projections/index.js';
import { microsToIso, nowMicros } from '../schemas/index.js';
import {
  advanceTo,
  byObservation,
  type CoreEvent,
  type EvalState,
  eventConcerns,
  initialEvalState,
  stepAll,
  type Transition,
  toEvalState,
} from './alarm-core.js';
import { frontierJump, partitionBySeq } from './alarm-order.js';
import { type AlarmRule, ruleCovers, toAlarmRule } from './alarm-rule.js';
import { claimNewEvents, decodeBatch } from './context.js';
import { splitPartHeader } from './poison.js';
import type { DeadLetter, StageDeps, StageHandler, StageMessage } from './types.js';

/** How often the timer looks for due deadlines and unpublished transitions. */
export const alarmTickIntervalMs = 250;
/** Due states one timer pass claims. */
export const alarmTimerClaimMax = 500;
/** Outbox rows published per drain. */
export const alarmOutboxDrainMax = 1000;
/** A gap in the stream is waited for this many ack waits before the frontier skips it. */
export const alarmGapWaitAckWaits = 3;
/** A worker that saw a gap but has handled no batch for this long is not waiting for it any more. */
export const alarmBlockedStaleMs = 2_000;

interface Evaluated {
  readonly rule: AlarmRule;
  readonly targetId: string;
  readonly kind: string | null;
  readonly state: EvalState;
  readonly transitions: readonly Transition[];
}

export function alarmStage(deps: StageDeps): StageHandler {
  const log = deps.log ?? (() => {});
  const gapWaitMs = alarmGapWaitAckWaits * (deps.ackWaitMs ?? 30_000);
  let rules = new Map<string, AlarmRule>();
  /** Since when (ms) the frontier has been waiting for a gap to fill; undefined while it moves. */
  let blocked: { frontier: number; sinceMs: number } | undefined;
  /** When a batch was last handled: a worker waiting for a gap is offered its held messages constantly. */
  let lastBatchMs = 0;
  let firstSeq: { value: number; atMs: number } | undefined;

  /** The input stream's first sequence, asked of JetStream at most once a second. */
  async function streamFirstSeq(): Promise<number> {
    if (!deps.inputFirstSeq) return 1;
    if (firstSeq === undefined || Date.now() - firstSeq.atMs > 1_000) {
      firstSeq = { value: await deps.inputFirstSeq(), atMs: Date.now() };
    }
    return firstSeq.value;
  }

  /** The live rules, re-read in this transaction when any was added, changed or removed since last time. */
  async function currentRules(client: PoolClient): Promise<Map<string, AlarmRule>> {
    const versions = await lockLiveRuleVersions(client);
    const same =
      versions.size === rules.size && [...versions].every(([id, v]) => rules.get(id)?.version === v);
    if (!same) rules = new Map((await lockLiveRules(client)).map((r) => [r.rule_id, toAlarmRule(r)]));
    return rules;
  }

  async function frontierOf(client: PoolClient): Promise<number> {
    const stored = await lockFrontier(client, deps.checkpointName);
    if (stored !== undefined) return stored;
    // First batch ever: the consumer delivers from the stream's first message.
    const first = await streamFirstSeq();
    await saveCheckpoint(client, deps.checkpointName, deps.inputStream, first - 1, 0);
    return (await lockFrontier(client, deps.checkpointName))!;
  }

  async function drain(): Promise<void> {
    await drainOutbox(deps.pool, alarmOutboxDrainMax, (rows) =>
      deps.publish(
        rows.map((r) => ({
          subject: deps.outputSubject(r.target_id),
          body: new TextEncoder().encode(JSON.stringify(r.body)),
          msgID: r.msg_id,
          headers: { 'Content-Type': 'application/json', 'Tmi-Alarm-Transition': String(r.body.transition) },
        })),
      ),
    );
  }

  return {
    stage: 'alarm',
    tickIntervalMs: alarmTickIntervalMs,
    async handle(batch) {
      lastBatchMs = Date.now();
      const { decoded, deadLetters } = await decodeBatch(deps.registry, batch);
      const outcome = await withTransaction(deps.pool, async (client) => {
        const frontier = await frontierOf(client);
        let part = partitionBySeq(
          batch.map((m) => m.seq),
          appliesAgainAt(batch, frontier),
        );
        if (part.apply.length === 0 && part.defer.length > 0) {
          const jump = await maybeJump(frontier, part.defer[0]!);
          if (jump !== undefined) part = partitionBySeq(part.defer, jump);
        }
        blocked =
          part.defer.length === 0
            ? undefined
            : blocked?.frontier === part.frontier
              ? blocked
              : { frontier: part.frontier, sinceMs: Date.now() };
        if (part.apply.length === 0) return { part, events: 0, transitions: 0 };
        const applying = new Set(part.apply);
        const mine = decoded.filter((m) => applying.has(m.message.seq));
        let events = mine.reduce((n, m) => n + m.events.length, 0);
        let transitions = 0;
        const live = await currentRules(client);
        if (live.size > 0) {
          const fresh = await claimNewEvents(client, deps.checkpointName, mine);
          events = fresh.reduce((n, m) => n + m.events.length, 0);
          transitions = await evaluateEvents(client, live, fresh);
        }
        await saveCheckpoint(client, deps.checkpointName, deps.inputStream, part.frontier, events);
        return { part, events, transitions };
      });
      if (outcome.transitions > 0) {
        await drain().catch((err) =>
          log('warn', `alarm: publishing transitions failed (retried): ${err.message}`),
        );
      }
      const applied = new Set(outcome.part.apply);
      return {
        events: outcome.events,
        // Poison messages count as applied (the frontier passes them); those beyond a gap wait with the rest.
        deadLetters: deadLetters.filter((d: DeadLetter) => applied.has(d.seq)),
        deferred: outcome.part.defer,
      };
    },
    async tick() {
      // While the frontier waits for a gap, events that may cancel a deadline are still on their way.
      const waiting = blocked !== undefined && Date.now() - lastBatchMs < alarmBlockedStaleMs;
      if (!waiting) await fireDue();
      await drain();
    },
  };

  async function maybeJump(frontier: number, lowestWaiting: number): Promise<number | undefined> {
    const since = blocked?.frontier === frontier ? blocked.sinceMs : Date.now();
    const jump = frontierJump({
      frontier,
      lowestWaiting,
      streamFirstSeq: await streamFirstSeq(),
      blockedSinceMs: since,
      nowMs: Date.now(),
      gapWaitMs,
    });
    if (jump === undefined) return undefined;
    log(
      'warn',
      `alarm: skipping TMI_NORM sequences ${frontier + 1}…${jump.frontier} (${jump.why === 'expired' ? 'no longer in the stream' : `not redelivered within ${gapWaitMs} ms`})`,
    );
    return jump.frontier;
  }

  /** Steps every rule × target the events concern, in observation order per target, and writes the result. */
  async function evaluateEvents(
    client: PoolClient,
    live: ReadonlyMap<string, AlarmRule>,
    messages: Awaited<ReturnType<typeof claimNewEvents>>,
  ): Promise<number> {
    const work = new Map<string, { rule: AlarmRule; targetId: string; kind: string; events: CoreEvent[] }>();
    for (const m of messages) {
      for (const { envelope, data } of m.events) {
        for (const rule of live.values()) {
          if (!ruleCovers(rule, envelope.target_id, envelope.kind) || !eventConcerns(rule, data)) continue;
          const key = `${rule.ruleId}/${envelope.target_id}`;
          const w = work.get(key) ?? { rule, targetId: envelope.target_id, kind: envelope.kind, events: [] };
          w.events.push({ ts: envelope.occurred_at, eventId: envelope.event_id, data });
          work.set(key, w);
        }
      }
    }
    if (work.size === 0) return 0;
    const stored = await lockStates(
      client,
      [...work.values()].map((w) => ({ rule_id: w.rule.ruleId, target_id: w.targetId })),
    );
    const byKey = new Map(stored.map((s) => [`${s.rule_id}/${s.target_id}`, s]));
    const evaluated: Evaluated[] = [];
    for (const [key, w] of work) {
      const state = stateOf(byKey.get(key), w.rule);
      const result = stepAll(w.rule, w.targetId, state, w.events.sort(byObservation));
      evaluated.push({ rule: w.rule, targetId: w.targetId, kind: w.kind, ...result });
    }
    return writeEvaluations(client, evaluated);
  }

  /** Deadlines that passed: `for_s` conditions that held long enough, deadmen that expired. */
  async function fireDue(): Promise<void> {
    await withTransaction(deps.pool, async (client) => {
      const live = await currentRules(client);
      const now = nowMicros();
      const due = await claimDueStates(client, now, alarmTimerClaimMax);
      if (due.length === 0) return;
      const evaluated: Evaluated[] = [];
      for (const row of due) {
        const rule = live.get(row.rule_id);
        if (rule === undefined || rule.version !== row.rule_version) {
          // A rule disabled or changed since: its states were reset; nothing is due any more.
          evaluated.push({
            rule: rule ?? staleRule(row),
            targetId: row.target_id,
            kind: row.kind,
            state: { ...toEvalState(row.state), due: null },
            transitions: [],
          });
          continue;
        }
        const result = advanceTo(rule, row.target_id, stateOf(row, rule), now);
        evaluated.push({ rule, targetId: row.target_id, kind: row.kind, ...result });
      }
      await writeEvaluations(client, evaluated);
    });
  }
}

/**
 * The frontier to partition a batch against: a part of a split message (processors/poison.ts) at the
 * frontier is applied again — its earlier parts moved the frontier there; the event ledger keeps each
 * event of the message applied once.
 */
function appliesAgainAt(batch: readonly StageMessage[], frontier: number): number {
  const only = batch.length === 1 ? batch[0]! : undefined;
  return only?.headers[splitPartHeader] !== undefined && only.seq === frontier ? frontier - 1 : frontier;
}

function staleRule(row: StoredStateRow): AlarmRule {
  return {
    ruleId: row.rule_id,
    version: row.rule_version,
    name: '',
    severity: 'info',
    targetId: null,
    kind: null,
    spec: { type: 'deadman', field: '_', timeout_s: 1 },
  };
}

function stateOf(stored: StoredStateRow | undefined, rule: AlarmRule): EvalState {
  if (stored === undefined || stored.rule_version !== rule.version) return initialEvalState;
  return toEvalState(stored.state);
}

/** States, alarms (clears of earlier alarms first), history and outbox of evaluated rule × target pairs. */
async function writeEvaluations(client: PoolClient, evaluated: readonly Evaluated[]): Promise<number> {
  await saveStates(
    client,
    evaluated.map((e) => ({
      rule_id: e.rule.ruleId,
      target_id: e.targetId,
      rule_version: e.rule.version,
      state: e.state,
      due_us: e.state.due,
    })),
  );
  const raised = new Map<string, NewAlarmRow>();
  const cleared: ClearedAlarmRow[] = [];
  for (const e of evaluated) {
    for (const t of e.transitions) {
      if (t.kind === 'raised') {
        raised.set(t.alarmId, {
          alarm_id: t.alarmId,
          rule_id: e.rule.ruleId,
          rule_version: e.rule.version,
          target_id: e.targetId,
          severity: e.rule.severity,
          raised_at: microsToIso(t.at),
          reason: t.reason,
          trigger: { event_id: t.eventId, values: t.values },
          cleared_at: null,
          clear_reason: null,
        });
        continue;
      }
      const fresh = raised.get(t.alarmId);
      if (fresh) raised.set(t.alarmId, { ...fresh, cleared_at: microsToIso(t.at), clear_reason: t.reason });
      else cleared.push({ alarm_id: t.alarmId, cleared_at: microsToIso(t.at), clear_reason: t.reason });
    }
  }
  if (raised.size === 0 && cleared.length === 0) return 0;
  const changed = await writeAlarmChanges(client, cleared, [...raised.values()]);
  const records: AlarmTransitionRecord[] = [];
  for (const e of evaluated) {
    for (const t of e.transitions) {
      const happened =
        t.kind === 'raised'
          ? changed.raised.has(t.alarmId)
          : changed.cleared.has(t.alarmId) || changed.raised.has(t.alarmId);
      if (happened) records.push(recordOf(e, t));
    }
  }
  await recordTransitions(client, records);
  return records.length;
}

function recordOf(e: Evaluated, t: Transition): AlarmTransitionRecord {
  return {
    alarm_id: t.alarmId,
    transition: t.kind,
    state: t.kind === 'raised' ? 'active' : 'cleared',
    at: microsToIso(t.at),
    by: 'tmidb',
    reason: t.reason,
    rule_id: e.rule.ruleId,
    rule_name: e.rule.name,
    rule_type: e.rule.spec.type,
    rule_version: e.rule.version,
    severity: e.rule.severity,
    target_id: e.targetId,
    kind: e.kind,
    event_id: t.eventId,
    values: { ...t.values },
  };
}
