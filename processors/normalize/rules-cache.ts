// SPDX-License-Identifier: MIT
// The mapping rules a stage applies, re-read when a batch holds events received after (or just before) the
// last read: a rule applies to events received at or after its creation, so an event newer than the read
// may be covered by a rule the cache has not seen. Shared by normalize (which applies the rules) and alarm
// (which follows the names they mapped).
import type { Pool } from '../../db/index.js';
import { loadAllMappingRules, type MappingRuleRow } from '../../projections/index.js';
import type { MappingRule } from './normalize-core.js';

/** Rules are re-read when the batch holds events received after (or just before) the last read. */
export const rulesFreshnessMarginMicros = 2_000_000;

export class MappingRulesCache {
  private rules: MappingRule[] = [];
  private loadedAtMicros = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly pool: Pool,
    private readonly nowMicros: () => number,
  ) {}

  /** Every rule (deleted ones too: they cover what they were in force for) as of the newest event given. */
  async covering(newestReceivedAtMicros: number): Promise<readonly MappingRule[]> {
    if (newestReceivedAtMicros >= this.loadedAtMicros - rulesFreshnessMarginMicros) {
      const loadedAt = this.nowMicros();
      this.rules = (await loadAllMappingRules(this.pool)).map(toRule);
      this.loadedAtMicros = loadedAt;
    }
    return this.rules;
  }

  /** The next `covering` reads the rules again (the stage has just written some). */
  invalidate(): void {
    this.loadedAtMicros = Number.NEGATIVE_INFINITY;
  }
}

/** A mapping_rule row as the core's MappingRule. */
export function toRule(row: MappingRuleRow): MappingRule {
  return {
    ruleId: row.rule_id,
    kind: row.kind,
    targetId: row.target_id,
    field: row.field,
    action: row.action,
    toField: row.to_field,
    scale: row.scale,
    offset: row.offset,
    position: row.position,
    createdAtMicros: Number(row.created_us),
    deletedAtMicros: row.deleted_us === null ? null : Number(row.deleted_us),
    source: row.source,
    fromUnit: row.from_unit,
    toUnit: row.to_unit,
    confidence: row.confidence,
    modelVersion: row.model_version,
  };
}
