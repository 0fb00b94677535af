// SPDX-License-Identifier: MIT
// Clashes (two fields of one event mapping to one canonical field) become suggestions, once per
// (kind, field): the losing field stays as written, and a person is told why.

import type { FieldNormalizer } from './field-normalizer.js';
import type { Clash } from './normalize-core.js';

const recorded = new WeakMap<FieldNormalizer, Set<string>>();

export async function recordClashes(
  normalizer: FieldNormalizer,
  clashes: readonly { kind: string; clash: Clash; value: unknown }[],
): Promise<void> {
  let seen = recorded.get(normalizer);
  if (seen === undefined) {
    seen = new Set();
    recorded.set(normalizer, seen);
  }
  for (const { kind, clash, value } of clashes) {
    const key = JSON.stringify([kind, clash.field]);
    if (seen.has(key)) continue;
    await normalizer.recordClash(kind, clash.field, clash.rule.toField!, value);
    seen.add(key);
  }
}
