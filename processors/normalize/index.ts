// SPDX-License-Identifier: MIT
// The normalize stage: mapping rules applied to TMI_RAW (normalize-core, pure) and republished on TMI_NORM.
export type { NormalizeStageDeps } from './normalize.js';
export { normalizedSubject, normalizeStage } from './normalize.js';
export type { MappingRule, RuleAction } from './normalize-core.js';
export { applyRules, rulesInForce, unitConversions } from './normalize-core.js';
