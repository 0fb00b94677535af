// SPDX-License-Identifier: MIT
// The normalizer's classifier: an ONNX model run by onnxruntime-node on the CPU, with its metadata
// (labels, feature version, thresholds chosen in training) in a JSON file beside it. The shipped model
// is models/normalizer/model.onnx; TMIDB_NORMALIZE_MODEL points at a user's own, which must take the
// same input (`features`: float32 [n, featureCount]) and give the same output (`probabilities`:
// float32 [n, labels]). Loading checks the file's sha256 against the metadata. No network, ever.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { packageRoot } from '../../config/index.js';
import { TaggedError } from '../../errors/index.js';
import { featureCount, featureVector, featureVersion } from './features.js';

export interface ModelMetadata {
  readonly name: string;
  readonly version: string;
  readonly sha256: string;
  readonly features: { readonly version: string; readonly count: number };
  readonly input: string;
  readonly output: string;
  /** `canonical|unit` or `none`, in the order of the output's columns. */
  readonly labels: readonly string[];
}

/** One (kind, field name, sample values) question to the model. */
export interface ModelInput {
  readonly kind: string;
  readonly field: string;
  readonly values: readonly unknown[];
}

export interface NormalizerModel {
  readonly metadata: ModelMetadata;
  /** One row of probabilities (aligned with metadata.labels) per input. */
  classify(inputs: readonly ModelInput[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** The model or its metadata cannot be read or do not match: a configuration error, never retried. */
export class ModelLoadError extends TaggedError('ModelLoadError')<'NORMALIZE_MODEL_INVALID'> {
  constructor(detail: string) {
    super('NORMALIZE_MODEL_INVALID', detail);
  }
}

export const shippedModelPath = path.join(packageRoot, 'models', 'normalizer', 'model.onnx');
/** Inputs per onnxruntime call: a new kind's first batch asks about all its fields at once. */
export const classifyBatchMax = 256;

/** The metadata file of a model: `x.onnx` → `x.json`. */
export function metadataPathOf(modelPath: string): string {
  return modelPath.replace(/\.onnx$/i, '') + '.json';
}

/** Loads and checks a model (the shipped one when `modelPath` is undefined). */
export async function loadModel(modelPath: string = shippedModelPath): Promise<NormalizerModel> {
  const [bytes, metadata] = await Promise.all([
    readFile(modelPath).catch((err: Error) => {
      throw new ModelLoadError(`cannot read the normalizer model ${modelPath}: ${err.message}`);
    }),
    readMetadata(metadataPathOf(modelPath)),
  ]);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== metadata.sha256) {
    throw new ModelLoadError(`${modelPath} has sha256 ${sha256}, its metadata says ${metadata.sha256}`);
  }
  // Imported here so that a process which never normalizes never loads the native addon.
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  if (!session.inputNames.includes(metadata.input) || !session.outputNames.includes(metadata.output)) {
    throw new ModelLoadError(
      `${modelPath} has inputs [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]; ` +
        `its metadata names input '${metadata.input}' and output '${metadata.output}'`,
    );
  }
  return {
    metadata,
    async classify(inputs) {
      const rows: Float32Array[] = [];
      for (let start = 0; start < inputs.length; start += classifyBatchMax) {
        const chunk = inputs.slice(start, start + classifyBatchMax);
        const data = new Float32Array(chunk.length * featureCount);
        chunk.forEach((q, i) => {
          data.set(featureVector(q.kind, q.field, q.values), i * featureCount);
        });
        const feeds = { [metadata.input]: new ort.Tensor('float32', data, [chunk.length, featureCount]) };
        const out = (await session.run(feeds, [metadata.output]))[metadata.output]!;
        const probs = out.data as Float32Array;
        const width = metadata.labels.length;
        if (probs.length !== chunk.length * width) {
          throw new ModelLoadError(
            `the model gave ${probs.length} probabilities for ${chunk.length}×${width}`,
          );
        }
        for (let i = 0; i < chunk.length; i++) rows.push(probs.slice(i * width, (i + 1) * width));
      }
      return rows;
    },
    close: () => session.release(),
  };
}

async function readMetadata(file: string): Promise<ModelMetadata> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new ModelLoadError(`cannot read the model's metadata ${file}: ${(err as Error).message}`);
  }
  const m = parsed as Partial<ModelMetadata>;
  const problems: string[] = [];
  if (typeof m.version !== 'string' || m.version === '') problems.push('version');
  if (typeof m.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(m.sha256)) problems.push('sha256');
  if (typeof m.input !== 'string' || typeof m.output !== 'string') problems.push('input/output');
  if (!Array.isArray(m.labels) || m.labels.length === 0 || !m.labels.every((l) => typeof l === 'string'))
    problems.push('labels');
  if (m.features?.version !== featureVersion || m.features?.count !== featureCount)
    problems.push(`features (must be {"version": "${featureVersion}", "count": ${featureCount}})`);
  if (problems.length > 0) throw new ModelLoadError(`${file}: missing or invalid ${problems.join(', ')}`);
  return { name: 'model', ...m } as ModelMetadata;
}
