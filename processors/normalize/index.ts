// SPDX-License-Identifier: MIT
// The normalize stage: mapping rules and the AI normalizer's decisions applied to TMI_IN (normalize-core,
// pure) and republished on TMI_NORM; the normalizer's vocabulary, units, features, ONNX model and preview.
export { AliasIndex } from './aliases.js';
export type { CompiledRules } from './compiled-rules.js';
export { CompiledRulesCache, compileRules, encodesAs } from './compiled-rules.js';
export type { FieldDecision, ModelRole, Prediction, Thresholds } from './decide.js';
export { decide, modelRoles, readPrediction, unitInName } from './decide.js';
export { featureVersion } from './features.js';
export type { FieldSighting, NormalizerOptions } from './field-normalizer.js';
export { FieldNormalizer, modelRulePosition } from './field-normalizer.js';
export type { ModelMetadata, NormalizerModel } from './model.js';
export { loadModel, ModelLoadError, shippedModelPath } from './model.js';
export type { NormalizeStageDeps } from './normalize.js';
export { normalizedSubject, normalizeStage } from './normalize.js';
export type { Clash, MappingRule, RuleAction } from './normalize-core.js';
export { applyRules, rulesForBatch, rulesInForce, unitConversions } from './normalize-core.js';
export type { PreviewField, PreviewResult } from './preview.js';
export { previewNormalize } from './preview.js';
export { MappingRulesCache, rulesFreshnessMarginMicros, toRule } from './rules-cache.js';
export type { Conversion } from './units.js';
export { conversionOf, convertValue, fractionUnit, sourceUnitsOf } from './units.js';
export type { VocabularyEntry } from './vocabulary.js';
export {
  defaultVocabulary,
  vocabularyDescriptionLengthMax,
  vocabularyEntriesMax,
  vocabularyNamePattern,
  vocabularyUnitLengthMax,
} from './vocabulary.js';
