// SPDX-License-Identifier: MIT
// The shipped model: small, checked by sha256, loaded by onnxruntime-node on the CPU, and it maps the
// issue's examples.
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../config/index.js';
import {
  decide,
  defaultVocabulary,
  loadModel,
  ModelLoadError,
  type NormalizerModel,
  readPrediction,
  shippedModelPath,
} from '../../../../processors/index.js';

let model: NormalizerModel;
beforeAll(async () => {
  model = await loadModel();
});
afterAll(async () => {
  await model?.close();
});

const vocabulary = new Map(defaultVocabulary.map((v) => [v.name, v.unit]));
const config = loadConfig({});

it('is a small file whose metadata names its labels, features and sha256', () => {
  expect(statSync(shippedModelPath).size).toBeLessThanOrEqual(5 * 1024 * 1024);
  expect(model.metadata.labels).toContain('none');
  expect(model.metadata.labels).toContain('temperature|F');
  expect(model.metadata.version).toMatch(/^1\.[0-9a-f]{12}$/);
});

describe('the issue’s examples', () => {
  it.each<[string, unknown[], string | null, string | null]>([
    ['temp', [21], 'temperature', 'C'],
    ['tempF', [70], 'temperature', 'F'],
    ['온도', [21], 'temperature', 'C'],
    ['Temp (°C)', [21], 'temperature', 'C'],
    ['air_temp', [21], 'temperature', 'C'],
    ['sensor.temperature', [21], 'temperature', 'C'],
    ['pressure_kPa', [101.3], 'pressure', 'kPa'],
    ['serial_no', ['SN-1'], null, null],
    ['firmware', ['1.2.3'], null, null],
    ['비고', ['점검'], null, null],
    ['owner', ['kim'], null, null],
    ['ip', ['10.0.0.1'], null, null],
  ])('%j → %s %s', async (field, values, canonical, fromUnit) => {
    const [probs] = await model.classify([{ kind: 'device', field, values }]);
    const p = readPrediction(field, values, probs!, model.metadata.labels, vocabulary);
    const d = decide(p, { autoMin: config.normalizeAutoMin, suggestMin: config.normalizeSuggestMin }, 'auto');
    if (canonical === null) {
      expect(d.decision).not.toBe('auto');
    } else {
      expect(d.decision).toBe('auto');
      expect([d.canonical, d.fromUnit]).toEqual([canonical, fromUnit]);
    }
  });
});

it('refuses a model whose file does not match its metadata', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tmidb-model-'));
  const file = path.join(dir, 'm.onnx');
  copyFileSync(shippedModelPath, file);
  const meta = JSON.parse(readFileSync(shippedModelPath.replace(/\.onnx$/, '.json'), 'utf8'));
  writeFileSync(path.join(dir, 'm.json'), JSON.stringify({ ...meta, sha256: '0'.repeat(64) }));
  await expect(loadModel(file)).rejects.toThrow(ModelLoadError);
  writeFileSync(
    path.join(dir, 'm.json'),
    JSON.stringify({ ...meta, features: { version: 'other', count: 1 } }),
  );
  await expect(loadModel(file)).rejects.toThrow(/features/);
  await expect(loadModel(path.join(dir, 'missing.onnx'))).rejects.toThrow(/cannot read/);
});
