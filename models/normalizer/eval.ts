// SPDX-License-Identifier: MIT
// `npm run eval:normalizer`: scores the model the way the pipeline uses it (ONNX through
// onnxruntime-node, the same reading of probabilities and thresholds) on data/heldout.jsonl, the split
// training never saw. Prints the precision of auto-applied mappings, recall (auto-applied and right /
// mappable fields), the suggestion rate and the confusion pairs; --json for a machine.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, packageRoot } from '../../config/index.js';
import { decide, readPrediction } from '../../processors/normalize/decide.js';
import { loadModel } from '../../processors/normalize/model.js';
import { defaultVocabulary } from '../../processors/normalize/vocabulary.js';

interface Row {
  readonly kind: string;
  readonly name: string;
  readonly values: unknown[];
  readonly label: string;
}

interface Scored {
  readonly row: Row;
  readonly predicted: string;
  readonly decision: 'auto' | 'suggest' | 'keep';
  readonly confidence: number;
}

function readRows(file: string): Row[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Row);
}

export function summarize(scored: readonly Scored[]) {
  const mappable = scored.filter((s) => s.row.label !== 'none').length;
  const auto = scored.filter((s) => s.decision === 'auto');
  const autoRight = auto.filter((s) => s.predicted === s.row.label).length;
  const suggested = scored.filter((s) => s.decision === 'suggest');
  const confusion = new Map<string, number>();
  for (const s of [...auto, ...suggested]) {
    if (s.predicted === s.row.label) continue;
    const key = `${s.row.label} → ${s.predicted} (${s.decision})`;
    confusion.set(key, (confusion.get(key) ?? 0) + 1);
  }
  return {
    rows: scored.length,
    mappable,
    autoApplied: auto.length,
    autoPrecision: auto.length === 0 ? 1 : autoRight / auto.length,
    recall: mappable === 0 ? 0 : autoRight / mappable,
    suggestionRate: suggested.length / scored.length,
    suggestionsRight: suggested.filter((s) => s.predicted === s.row.label).length,
    mustNotMapAutoApplied: auto.filter((s) => s.row.label === 'none').length,
    confusion: [...confusion].sort((a, b) => b[1] - a[1]).map(([pair, count]) => ({ pair, count })),
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const config = loadConfig();
  const model = await loadModel(config.normalizeModel);
  const file = path.join(packageRoot, 'models', 'normalizer', 'data', 'heldout.jsonl');
  const rows = readRows(file);
  const vocabulary = new Map(defaultVocabulary.map((v) => [v.name, v.unit]));
  const thresholds = { autoMin: config.normalizeAutoMin, suggestMin: config.normalizeSuggestMin };
  const probs = await model.classify(rows.map((r) => ({ kind: r.kind, field: r.name, values: r.values })));
  const predictions = rows.map((r, i) =>
    readPrediction(r.name, r.values, probs[i]!, model.metadata.labels, vocabulary),
  );
  const at = (autoMin: number) =>
    summarize(
      rows.map((row, i) => {
        const d = decide(predictions[i]!, { ...thresholds, autoMin }, 'auto');
        const predicted = d.canonical === null ? 'none' : `${d.canonical}|${d.fromUnit}`;
        return { row, predicted, decision: d.decision, confidence: d.confidence };
      }),
    );
  const result = at(thresholds.autoMin);
  const sweep = [0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95].map((t) => ({ autoMin: t, ...pick(at(t)) }));
  await model.close();
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ model: model.metadata.version, thresholds, ...result, sweep }, null, 1)}\n`,
    );
    return;
  }
  const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
  const lines = [
    `model ${model.metadata.version} (sha256 ${model.metadata.sha256.slice(0, 16)}…), held-out split ${path.relative(packageRoot, file)}`,
    `${result.rows} fields (${result.mappable} mappable, ${result.rows - result.mappable} must not be mapped)`,
    `thresholds: auto ≥ ${thresholds.autoMin}, suggest ≥ ${thresholds.suggestMin}`,
    '',
    `precision of auto-applied mappings  ${pct(result.autoPrecision)}  (${result.autoApplied} applied)`,
    `recall (auto-applied and right)     ${pct(result.recall)}`,
    `suggestion rate                     ${pct(result.suggestionRate)}  (${result.suggestionsRight} of them right)`,
    `must-not-map fields auto-applied    ${result.mustNotMapAutoApplied}`,
    '',
    'confusion pairs (expected → given):',
    ...result.confusion.slice(0, 20).map((c) => `  ${String(c.count).padStart(4)}  ${c.pair}`),
    '',
    'auto threshold sweep:   autoMin  precision  recall   suggested',
    ...sweep.map(
      (s) =>
        `                        ${s.autoMin.toFixed(2)}     ${pct(s.autoPrecision).padStart(8)}  ${pct(s.recall).padStart(8)}  ${pct(s.suggestionRate).padStart(8)}`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function pick(s: ReturnType<typeof summarize>) {
  return { autoPrecision: s.autoPrecision, recall: s.recall, suggestionRate: s.suggestionRate };
}

main().catch((err: unknown) => {
  process.stderr.write(`eval:normalizer failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
