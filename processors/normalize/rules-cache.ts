// SPDX-License-Identifier: MIT
// The mapping rules a stage applies. A rule applies to events received at or after its creation, so a batch
// holding events received after (or just before) the last look at the rules may be covered by a rule the
// cache has not seen: then the cache looks again. Looking is cheap: one row, tmi.mapping_rule_version,
// which a trigger bumps in the transaction of every change to tmi.mapping_rule (migration 014); the rules
// themselves are read again only when it moved. Shared by normalize (which applies the rules) and alarm
// (which follows the names they mapped).
//
// Why this keeps the guarantee of reading every rule each time: the version is read BEFORE the rules (in
// a later snapshot), so the rules read hold at least every change the recorded version counts; a change
// committed in between leaves the recorded version behind and the next look reads the rules again. A look
// that finds the version unchanged therefore sees exactly the rules a full read at that moment would have
// returned. When to look is the same test as before (an event received at or after the last look, less
// the margin for clock skew between processes), so any batch a full read would have served is served by
// the same rules.
import type { Pool } from '../../db/index.js';
import { loadAllMappingRules, type MappingRuleRow, mappingRulesVersion } from '../../projections/index.js';
import type { MappingRule } from './normalize-core.js';

/** The rules are looked at again when the batch holds events received after (or just before) the last look. */
export const rulesFreshnessMarginMicros = 2_000_000;

export class MappingRulesCache {
  private rules: MappingRule[] = [];
  private version: string | undefined;
  private checkedAtMicros = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly pool: Pool,
    private readonly nowMicros: () => number,
  ) {}

  /** Every rule (deleted ones too: they cover what they were in force for) as of the newest event given. */
  async covering(newestReceivedAtMicros: number): Promise<readonly MappingRule[]> {
    if (newestReceivedAtMicros >= this.checkedAtMicros - rulesFreshnessMarginMicros) {
      const checkedAt = this.nowMicros();
      const version = await mappingRulesVersion(this.pool);
      if (version !== this.version) {
        this.rules = (await loadAllMappingRules(this.pool)).map(toRule);
        this.version = version;
      }
      this.checkedAtMicros = checkedAt;
    }
    return this.rules;
  }

  /** The next `covering` reads the rules again (the stage has just written some). */
  invalidate(): void {
    this.checkedAtMicros = Number.NEGATIVE_INFINITY;
    this.version = undefined;
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
