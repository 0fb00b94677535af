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
import { type PoolClient, withTransaction } from '../../db/index.js';
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
} from '../../projections/index.js';
import { type EnvelopeHead, microsToIso } from '../../schemas/index.js';
import { claimNewEvents, decodeBatch } from '../batch.js';
import type { DecodedMessage } from '../decode.js';
import { type MappingRule, MappingRulesCache, rulesForBatch } from '../normalize/index.js';
import { splitPartHeader } from '../poison.js';
import type {
  DeadLetter,
  OutboundMessage,
  StageDeps,
  StageHandler,
  StageMessage,
  StageResult,
} from '../types.js';
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
import { withMappedNames } from './rule-aliases.js';

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

/** What the alarm stage needs besides the common dependencies. */
export interface AlarmStageDeps extends StageDeps {
  /** Publishes and resolves once every PubAck is in. */
  readonly publish: (messages: readonly OutboundMessage[]) => Promise<void>;
  /** Subject of a target's transitions, `<ns>.alarm.<target_id>`. */
  readonly outputSubject: (targetId: string) => string;
  /** Sequence of the oldest message still in the input stream (where a fresh consumer starts). */
  readonly inputFirstSeq: () => Promise<number>;
  /** How long JetStream waits for an ack before it redelivers (ms). */
  readonly ackWaitMs: number;
  readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

export function alarmStage(deps: AlarmStageDeps): StageHandler {
  return new AlarmStage(deps);
}

/** A batch's work in its transaction: what it applied (and deferred), the events and transitions written. */
interface BatchOutcome {
  readonly part: ReturnType<typeof partitionBySeq>;
  readonly events: number;
  readonly transitions: number;
}

class AlarmStage implements StageHandler {
  readonly stage = 'alarm' as const;
  readonly tickIntervalMs = alarmTickIntervalMs;
  private readonly gapWaitMs: number;
  private rules = new Map<string, AlarmRule>();
  /** Since when (ms) the frontier has been waiting for a gap to fill; undefined while it moves. */
  private blocked: { frontier: number; sinceMs: number } | undefined;
  /** When a batch was last handled: a worker waiting for a gap is offered its held messages constantly. */
  private lastBatchMs = 0;
  private firstSeq: { value: number; atMs: number } | undefined;
  /** The mapping rules, to read a field the normalizer mapped after a rule was written under its old name. */
  private readonly mappingRules: MappingRulesCache;

  constructor(private readonly deps: AlarmStageDeps) {
    this.gapWaitMs = alarmGapWaitAckWaits * deps.ackWaitMs;
    this.mappingRules = new MappingRulesCache(deps.pool, deps.nowMicros);
  }

  private nowMs(): number {
    return this.deps.nowMicros() / 1000;
  }

  async handle(batch: readonly StageMessage[]): Promise<StageResult> {
    this.lastBatchMs = this.nowMs();
    const { decoded, deadLetters } = await decodeBatch(this.deps.registry, batch);
    const outcome = await withTransaction(this.deps.pool, (client) =>
      this.applyBatch(client, batch, decoded),
    );
    if (outcome.transitions > 0) {
      await this.drain().catch((err) =>
        this.deps.log('warn', `alarm: publishing transitions failed (retried): ${err.message}`),
      );
    }
    const applied = new Set(outcome.part.apply);
    return {
      events: outcome.events,
      // Poison messages count as applied (the frontier passes them); those beyond a gap wait with the rest.
      deadLetters: deadLetters.filter((d: DeadLetter) => applied.has(d.seq)),
      deferred: outcome.part.defer,
    };
  }

  async tick(): Promise<void> {
    // While the frontier waits for a gap, events that may cancel a deadline are still on their way.
    const waiting = this.blocked !== undefined && this.nowMs() - this.lastBatchMs < alarmBlockedStaleMs;
    if (!waiting) await this.fireDue();
    await this.drain();
  }

  /** Applies the messages that come next after the frontier; holds those beyond a gap. */
  private async applyBatch(
    client: PoolClient,
    batch: readonly StageMessage[],
    decoded: readonly DecodedMessage[],
  ): Promise<BatchOutcome> {
    const frontier = await this.frontierOf(client);
    let part = partitionBySeq(
      batch.map((m) => m.seq),
      appliesAgainAt(batch, frontier),
    );
    if (part.apply.length === 0 && part.defer.length > 0) {
      const jump = await this.maybeJump(frontier, part.defer[0]!);
      if (jump !== undefined) part = partitionBySeq(part.defer, jump);
    }
    this.blocked =
      part.defer.length === 0
        ? undefined
        : this.blocked?.frontier === part.frontier
          ? this.blocked
          : { frontier: part.frontier, sinceMs: this.nowMs() };
    if (part.apply.length === 0) return { part, events: 0, transitions: 0 };
    const applying = new Set(part.apply);
    const mine = decoded.filter((m) => applying.has(m.message.seq));
    let events = mine.reduce((n, m) => n + m.events.length, 0);
    let transitions = 0;
    const live = await this.currentRules(client);
    if (live.size > 0) {
      const fresh = await claimNewEvents(client, this.deps.checkpointName, mine);
      events = fresh.reduce((n, m) => n + m.events.length, 0);
      transitions = await evaluateEvents(client, live, fresh, await this.mappingRulesOf(fresh));
    }
    await saveCheckpoint(client, this.deps.checkpointName, this.deps.inputStream, part.frontier, events);
    return { part, events, transitions };
  }

  /** The mapping rules in force for each event (by its received_at, so a replay reads the same). */
  private async mappingRulesOf(
    messages: readonly DecodedMessage[],
  ): Promise<(e: EnvelopeHead) => readonly MappingRule[]> {
    let newest = 0;
    for (const m of messages)
      for (const { envelope } of m.events) newest = Math.max(newest, envelope.received_at);
    return rulesForBatch(await this.mappingRules.covering(newest));
  }

  /** The input stream's first sequence, asked of JetStream at most once a second. */
  private async streamFirstSeq(): Promise<number> {
    if (this.firstSeq === undefined || this.nowMs() - this.firstSeq.atMs > 1_000) {
      this.firstSeq = { value: await this.deps.inputFirstSeq(), atMs: this.nowMs() };
    }
    return this.firstSeq.value;
  }

  /** The live rules, re-read in this transaction when any was added, changed or removed since last time. */
  private async currentRules(client: PoolClient): Promise<Map<string, AlarmRule>> {
    const versions = await lockLiveRuleVersions(client);
    const rules = this.rules;
    const same =
      versions.size === rules.size && [...versions].every(([id, v]) => rules.get(id)?.version === v);
    if (!same) this.rules = new Map((await lockLiveRules(client)).map((r) => [r.rule_id, toAlarmRule(r)]));
    return this.rules;
  }

  private async frontierOf(client: PoolClient): Promise<number> {
    const { checkpointName, inputStream } = this.deps;
    const stored = await lockFrontier(client, checkpointName);
    if (stored !== undefined) return stored;
    // First batch ever: the consumer delivers from the stream's first message.
    const first = await this.streamFirstSeq();
    await saveCheckpoint(client, checkpointName, inputStream, first - 1, 0);
    return (await lockFrontier(client, checkpointName))!;
  }

  private async drain(): Promise<void> {
    await drainOutbox(this.deps.pool, alarmOutboxDrainMax, (rows) =>
      this.deps.publish(
        rows.map((r) => ({
          subject: this.deps.outputSubject(r.target_id),
          body: new TextEncoder().encode(JSON.stringify(r.body)),
          msgID: r.msg_id,
          headers: { 'Content-Type': 'application/json', 'Tmi-Alarm-Transition': String(r.body.transition) },
        })),
      ),
    );
  }

  private async maybeJump(frontier: number, lowestWaiting: number): Promise<number | undefined> {
    const since = this.blocked?.frontier === frontier ? this.blocked.sinceMs : this.nowMs();
    const jump = frontierJump({
      frontier,
      lowestWaiting,
      streamFirstSeq: await this.streamFirstSeq(),
      blockedSinceMs: since,
      nowMs: this.nowMs(),
      gapWaitMs: this.gapWaitMs,
    });
    if (jump === undefined) return undefined;
    this.deps.log(
      'warn',
      `alarm: skipping TMI_NORM sequences ${frontier + 1}…${jump.frontier} (${jump.why === 'expired' ? 'no longer in the stream' : `not redelivered within ${this.gapWaitMs} ms`})`,
    );
    return jump.frontier;
  }

  /** Deadlines that passed: `for_s` conditions that held long enough, deadmen that expired. */
  private async fireDue(): Promise<void> {
    await withTransaction(this.deps.pool, async (client) => {
      const live = await this.currentRules(client);
      const now = this.deps.nowMicros();
      const due = await claimDueStates(client, now, alarmTimerClaimMax);
      if (due.length === 0) return;
      await writeEvaluations(
        client,
        due.map((row) => advanceDue(live, row, now)),
      );
    });
  }
}

/** A due state moved to `now`; a state whose rule was disabled or changed since just loses its deadline. */
function advanceDue(live: ReadonlyMap<string, AlarmRule>, row: StoredStateRow, now: number): Evaluated {
  const rule = live.get(row.rule_id);
  if (rule === undefined || rule.version !== row.rule_version) {
    // A rule disabled or changed since: its states were reset; nothing is due any more.
    return {
      rule: rule ?? staleRule(row),
      targetId: row.target_id,
      kind: row.kind,
      state: { ...toEvalState(row.state), due: null },
      transitions: [],
    };
  }
  const result = advanceTo(rule, row.target_id, stateOf(row, rule), now);
  return { rule, targetId: row.target_id, kind: row.kind, ...result };
}

/** Steps every rule × target the events concern, in observation order per target, and writes the result. */
async function evaluateEvents(
  client: PoolClient,
  live: ReadonlyMap<string, AlarmRule>,
  messages: readonly DecodedMessage[],
  mappingRulesOf: (e: EnvelopeHead) => readonly MappingRule[],
): Promise<number> {
  const work = new Map<string, { rule: AlarmRule; targetId: string; kind: string; events: CoreEvent[] }>();
  for (const m of messages) {
    for (const { envelope, data: written } of m.events) {
      const data = withMappedNames(written, mappingRulesOf(envelope));
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

/**
 * The frontier to partition a batch against: a part of a split message (processors/poison.ts) at the
 * frontier is applied again — its earlier parts moved the frontier there; the event ledger keeps each
 * event of the message applied once.
 */
function appliesAgainAt(batch: readonly StageMessage[], frontier: number): number {
  const only = batch.length === 1 ? batch[0]! : undefined;
  return only?.headers[splitPartHeader] !== undefined && only.seq === frontier ? frontier - 1 : frontier;
}
