// SPDX-License-Identifier: MIT
// The stages' mapping-rule cache looks at a one-row change counter (migration 014) and reads the rules
// again only when it moved: a rule committed by another process is seen on the next look, an uncommitted
// or rolled-back one is not, and unchanged rules cost one tiny query per look instead of the whole table.
import { expect, it } from 'vitest';
import type { Pool } from '../../db/index.js';
import { MappingRulesCache, rulesFreshnessMarginMicros } from '../../processors/index.js';
import { deleteMappingRule, insertMappingRule, type NewMappingRule } from '../../projections/index.js';
import { useMigratedDatabase } from '../support/env.js';

const db = useMigratedDatabase('mapping_rules_cache', 4);

/** The db.pool, with the statements the cache sends noted (the queries still go to the real server). */
function noting(statements: string[]): Pool {
  const counted = Object.create(db.pool) as Pool;
  counted.query = ((text: string, values?: unknown[]) => {
    statements.push(text.includes('mapping_rule_version') ? 'version' : 'rules');
    return db.pool.query(text, values);
  }) as Pool['query'];
  return counted;
}

function newRule(ruleId: string, field: string): NewMappingRule {
  return {
    rule_id: ruleId,
    kind: 'boiler',
    target_id: null,
    field,
    action: 'drop',
    to_field: null,
    scale: null,
    offset: null,
    from_unit: null,
    to_unit: null,
    position: 0,
  };
}

it('reads the rules again only when they changed, and sees a change once it is committed', async () => {
  const statements: string[] = [];
  let now = Date.now() * 1000;
  const cache = new MappingRulesCache(noting(statements), () => now);
  const look = async (newestReceivedAt = now) => {
    statements.length = 0;
    return (await cache.covering(newestReceivedAt)).map((r) => r.field).sort();
  };

  expect(await look()).toEqual([]);
  expect(statements).toEqual(['version', 'rules']);
  now += 1000;
  expect(await look()).toEqual([]);
  expect(statements).toEqual(['version']); // unchanged: the rules are not read again

  // Written by another process (not through the cache): seen on the next look.
  await insertMappingRule(db.pool, newRule('00000000-0000-4000-8000-000000000001', 'a'));
  now += 1000;
  expect(await look()).toEqual(['a']);
  expect(statements).toEqual(['version', 'rules']);

  // A change not yet committed is not counted; committed, it is; rolled back, it never was.
  const writer = await db.pool.connect();
  try {
    await writer.query('BEGIN');
    await insertMappingRule(writer, newRule('00000000-0000-4000-8000-000000000002', 'b'));
    now += 1000;
    expect(await look()).toEqual(['a']);
    expect(statements).toEqual(['version']);
    await writer.query('COMMIT');
    now += 1000;
    expect(await look()).toEqual(['a', 'b']);
    expect(statements).toEqual(['version', 'rules']);
    await writer.query('BEGIN');
    await insertMappingRule(writer, newRule('00000000-0000-4000-8000-000000000003', 'c'));
    await writer.query('ROLLBACK');
  } finally {
    writer.release();
  }
  now += 1000;
  expect(await look()).toEqual(['a', 'b']);
  expect(statements).toEqual(['version']);

  // A delete is a change too (a deleted rule is still returned: it covers what it was in force for).
  expect(await deleteMappingRule(db.pool, '00000000-0000-4000-8000-000000000001')).toBe(true);
  now += 1000;
  const rules = await cache.covering(now);
  expect(rules.find((r) => r.field === 'a')?.deletedAtMicros).not.toBeNull();

  // A batch of events all received well before the last look needs no look at all.
  statements.length = 0;
  await cache.covering(now - rulesFreshnessMarginMicros - 1);
  expect(statements).toEqual([]);
  // invalidate() (the stage wrote rules itself) reads them again whatever the counter says.
  cache.invalidate();
  expect(await look()).toEqual(['a', 'b']);
  expect(statements).toEqual(['version', 'rules']);
});
