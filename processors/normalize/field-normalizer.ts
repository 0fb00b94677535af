// SPDX-License-Identifier: MIT
// The normalize stage's memory of decisions: the first time a (kind, field) is seen, it is decided once
// — by a person's rule, as already canonical, or by the model — and the decision is persisted (with a
// `map` rule for an auto-applied one, backdated to the event that triggered it, or a suggestion for a
// person). The model therefore runs once per new (kind, field), never per event, and a replay finds the
// decisions already made and applies them by event order, whatever the model says today.

import type { Pool } from '../../db/index.js';
import { withTransaction } from '../../db/index.js';
import {
  type DecisionRow,
  insertDecision,
  insertMappingRule,
  insertSuggestion,
  listVocabulary,
  loadDecisions,
  loadModelRoles,
  type ModelRoleName,
} from '../../projections/index.js';
import { uuidv7 } from '../../schemas/index.js';
import { decide, type FieldDecision, isScalarSample, readPrediction, type Thresholds } from './decide.js';
import { sampleValuesMax } from './features.js';
import { loadModel, type NormalizerModel } from './model.js';
import type { MappingRule } from './normalize-core.js';

export interface NormalizerOptions extends Thresholds {
  /** The role of kinds without their own setting (default auto). */
  readonly defaultRole?: ModelRoleName;
  /** The ONNX model; undefined: the shipped one. */
  readonly modelPath?: string;
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
  /** Told when the model made rules (fanout reloads its masks: subscribed aliases gain canonical fields). */
  readonly onRulesChanged?: () => void;
}

/** One occurrence of a field in an event, in stream order. */
export interface FieldSighting {
  readonly kind: string;
  readonly field: string;
  readonly value: unknown;
  readonly eventId: string;
  readonly receivedAtMicros: number;
}

/** Model rules go first: a person's rules then see canonical names (aliases resolve to them). */
export const modelRulePosition = -1_000_000;
/** Roles and the vocabulary are re-read this often (ms). */
export const normalizerSettingsRefreshMs = 2_000;

interface Pending {
  readonly kind: string;
  readonly field: string;
  readonly first: FieldSighting;
  readonly samples: unknown[];
}

export class FieldNormalizer {
  private model: Promise<NormalizerModel> | undefined;
  /** kind → field → decision (every kind whose decisions were loaded). */
  private readonly decisions = new Map<string, Map<string, DecisionRow>>();
  private roles = new Map<string, ModelRoleName>();
  private vocabulary = new Map<string, string>();
  private settingsReadAt = Number.NEGATIVE_INFINITY;
  /** `kind schemaId` of writer schemas whose every top-level field is decided. */
  private readonly decidedSchemas = new Set<string>();

  constructor(
    private readonly pool: Pool,
    private readonly options: NormalizerOptions,
  ) {}

  /** The model, loaded on first use. */
  loadedModel(): Promise<NormalizerModel> {
    this.model ??= loadModel(this.options.modelPath).catch((err: unknown) => {
      this.model = undefined;
      throw err;
    });
    return this.model;
  }

  async close(): Promise<void> {
    const model = await this.model?.catch(() => undefined);
    await model?.close();
  }

  /** Drops what is cached of a kind's decisions (another process may have decided since). */
  forget(kind: string): void {
    this.decisions.delete(kind);
  }

  /** Loads what is needed to answer `undecided` for these kinds. */
  async prepare(kinds: Iterable<string>): Promise<void> {
    const missing = [...new Set(kinds)].filter((k) => !this.decisions.has(k));
    if (missing.length > 0) {
      const rows = await loadDecisions(this.pool, missing);
      for (const kind of missing) this.decisions.set(kind, new Map());
      for (const row of rows) this.decisions.get(row.kind)!.set(row.field, row);
    }
    if (Date.now() - this.settingsReadAt > normalizerSettingsRefreshMs) await this.refreshSettings();
  }

  private async refreshSettings(): Promise<void> {
    const roles = await loadModelRoles(this.pool);
    // A kind whose model role changed (say from off) may have undecided fields again.
    if ([...roles].some(([kind, role]) => this.roles.get(kind) !== role) || roles.size !== this.roles.size) {
      this.decidedSchemas.clear();
    }
    this.roles = roles;
    this.vocabulary = new Map((await listVocabulary(this.pool)).map((v) => [v.name, v.unit]));
    this.settingsReadAt = Date.now();
  }

  thresholds(): Thresholds {
    return { autoMin: this.options.autoMin, suggestMin: this.options.suggestMin };
  }

  roleOf(kind: string): ModelRoleName {
    return this.roles.get(kind) ?? this.options.defaultRole ?? 'auto';
  }

  vocabularyUnits(): ReadonlyMap<string, string> {
    return this.vocabulary;
  }

  schemaDecided(kind: string, schemaId: number): boolean {
    return this.decidedSchemas.has(`${kind} ${schemaId}`);
  }

  markSchemaDecided(kind: string, schemaId: number): void {
    this.decidedSchemas.add(`${kind} ${schemaId}`);
  }

  /** The recorded decision of a (kind, field) (after `prepare(kind)`). */
  decisionOf(kind: string, field: string): DecisionRow | undefined {
    return this.decisions.get(kind)?.get(field);
  }

  /** Whether a field of this kind still needs deciding (after `prepare`); never under role `off`. */
  undecided(kind: string, field: string): boolean {
    return this.roleOf(kind) !== 'off' && !this.decisions.get(kind)?.has(field);
  }

  /**
   * Decides every field sighted for the first time (in stream order) and persists the decisions.
   * Returns how many mapping rules were created (the stage then re-reads its rules).
   */
  async decideNew(sightings: readonly FieldSighting[], rules: readonly MappingRule[]): Promise<number> {
    if (sightings.length === 0) return 0;
    // Deciding is rare and final: do it on the roles and vocabulary as they are now.
    await this.refreshSettings();
    const pending = new Map<string, Pending>();
    for (const s of sightings) {
      if (!this.undecided(s.kind, s.field)) continue;
      const key = JSON.stringify([s.kind, s.field]);
      const p = pending.get(key) ?? { kind: s.kind, field: s.field, first: s, samples: [] };
      if (p.samples.length < sampleValuesMax && s.value !== null) p.samples.push(s.value);
      pending.set(key, p);
    }
    if (pending.size === 0) return 0;
    const list = [...pending.values()];
    const decided = await this.judge(list, rules);
    let created = 0;
    for (let i = 0; i < list.length; i++) created += await this.persist(list[i]!, decided[i]!);
    if (created > 0) this.options.onRulesChanged?.();
    return created;
  }

  /** What becomes of each pending field, without persisting anything. */
  private async judge(list: readonly Pending[], rules: readonly MappingRule[]): Promise<Judged[]> {
    const judged: (Judged | undefined)[] = list.map((p) =>
      this.judgeWithoutModel(p.kind, p.field, p.samples, rules),
    );
    const ask = list.filter((_, i) => judged[i] === undefined);
    if (ask.length > 0) {
      const model = await this.loadedModel();
      const probs = await model.classify(
        ask.map((p) => ({ kind: p.kind, field: p.field, values: p.samples })),
      );
      let k = 0;
      list.forEach((p, i) => {
        if (judged[i] !== undefined) return;
        const prediction = readPrediction(
          p.field,
          p.samples,
          probs[k++]!,
          model.metadata.labels,
          this.vocabulary,
        );
        const d = decide(prediction, this.options, this.roleOf(p.kind));
        judged[i] = { ...d, kind: d.decision, modelVersion: model.metadata.version };
      });
    }
    return judged as Judged[];
  }

  /** A decision the model is not needed for: a person's rule, a canonical name, a non-scalar value. */
  judgeWithoutModel(
    kind: string,
    field: string,
    samples: readonly unknown[],
    rules: readonly MappingRule[],
  ): Judged | undefined {
    const none = { canonical: null, fromUnit: null, toUnit: null, confidence: 1, conversion: null };
    const personal = rules.find(
      (r) => (r.source ?? 'user') !== 'model' && r.field === field && (r.kind === null || r.kind === kind),
    );
    if (personal !== undefined) {
      return {
        ...none,
        decision: 'keep',
        kind: 'rule',
        modelVersion: null,
        reason: `a person's rule ${personal.ruleId} handles it`,
      };
    }
    if (this.vocabulary.has(field)) {
      return {
        ...none,
        decision: 'keep',
        kind: 'keep',
        modelVersion: null,
        reason: 'already a canonical field',
      };
    }
    if (!samples.every(isScalarSample)) {
      return {
        ...none,
        decision: 'keep',
        kind: 'keep',
        modelVersion: null,
        reason: 'only top-level numbers, strings and booleans are mapped',
      };
    }
    return undefined;
  }

  /** Records one decision (and its rule or suggestion) in one transaction; returns rules created. */
  private async persist(p: Pending, d: Judged): Promise<number> {
    const row: DecisionRow = {
      kind: p.kind,
      field: p.field,
      decision: d.kind,
      canonical: d.canonical,
      from_unit: d.fromUnit,
      to_unit: d.toUnit,
      confidence: d.confidence,
      model_version: d.modelVersion,
      reason: d.reason,
      first_event_id: p.first.eventId,
      first_received_us: p.first.receivedAtMicros,
    };
    const outcome = await withTransaction(this.pool, async (client) => {
      const { row: kept, ours } = await insertDecision(client, row);
      if (!ours) return { kept, created: 0 };
      if (d.kind === 'auto') {
        await insertMappingRule(client, mapRuleOf(p, d), {
          source: 'model',
          modelVersion: d.modelVersion ?? undefined,
          confidence: d.confidence,
          createdAtMicros: p.first.receivedAtMicros,
        });
        return { kept, created: 1 };
      }
      if (d.kind === 'suggest') await insertSuggestion(client, suggestionOf(p, d));
      return { kept, created: 0 };
    });
    this.decisions.get(p.kind)?.set(p.field, outcome.kept);
    if (outcome.created > 0) {
      this.options.log?.(
        'info',
        `normalize: ${p.kind}.${JSON.stringify(p.field)} → ${d.canonical} (${d.reason})`,
      );
    }
    return outcome.created;
  }

  /** Notes a clash (two fields of one event mapping to one canonical field) as a suggestion, once. */
  async recordClash(kind: string, field: string, canonical: string, sample: unknown): Promise<void> {
    await insertSuggestion(this.pool, {
      suggestion_id: uuidv7(),
      kind,
      field,
      cause: 'clash',
      canonical,
      from_unit: null,
      to_unit: null,
      confidence: null,
      model_version: null,
      samples: [sample],
      reason: `the event already holds '${canonical}', so '${field}' stays as written (the first field holding a canonical name wins)`,
    });
  }
}

/** A decision with the kind recorded for it ('rule' when a person's rule handles the field). */
export type Judged = FieldDecision & {
  readonly kind: DecisionRow['decision'];
  readonly modelVersion: string | null;
};

function mapRuleOf(p: Pending, d: Judged) {
  return {
    rule_id: uuidv7(),
    kind: p.kind,
    target_id: null,
    field: p.field,
    action: 'map' as const,
    to_field: d.canonical!,
    scale: d.conversion!.scale,
    offset: d.conversion!.offset,
    from_unit: d.fromUnit,
    to_unit: d.toUnit,
    position: modelRulePosition,
  };
}

function suggestionOf(p: Pending, d: Judged) {
  return {
    suggestion_id: uuidv7(),
    kind: p.kind,
    field: p.field,
    cause: 'model' as const,
    canonical: d.canonical,
    from_unit: d.fromUnit,
    to_unit: d.toUnit,
    confidence: d.confidence,
    model_version: d.modelVersion,
    samples: p.samples,
    reason: d.reason,
  };
}
