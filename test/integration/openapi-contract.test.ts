// SPDX-License-Identifier: MIT
// The document is the contract, judged by an outside client: schemathesis (PyPI, installed into .venv by
// `npm run setup`) generates requests from /openapi.json against a live tmiDB with authentication on —
// examples, coverage, fuzzing and a stateful phase that follows the document's links (create a target →
// write → read; create a listener → mint its key → its endpoint) — and every check must pass.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestS3, type TestS3 } from '../support/seaweed.js';
import { startTestTmidb, type TestTmidb } from '../support/tmidb.js';

const schemathesisBin = path.resolve('.venv/bin/schemathesis');
/** Generated cases per operation and phase: bounded so the run takes a few minutes on two cores. */
const examplesPerOperation = Number(process.env.TMIDB_CONTRACT_EXAMPLES ?? 25);
const runTimeoutMs = 9 * 60_000;

/** What is switched off, each with its reason (the README's API section lists the same): one file. */
const configFile = path.resolve('test/contract/schemathesis.toml');

let t: TestTmidb;
let s3: TestS3;
let key: string;

beforeAll(async () => {
  // With a real S3 store, so the file routes are judged too.
  s3 = await startTestS3();
  // A rate limit the generator cannot reach: 429 is documented, but a refused positive case would read
  // as a rejected valid request.
  t = await startTestTmidb('openapi_contract', {
    config: {
      rateLimitPerS: 1_000_000,
      rateLimitBurst: 1_000_000,
      s3Url: s3.url,
      s3AccessKey: s3.accessKey,
      s3SecretKey: s3.secretKey,
    },
  });
  const minted = await t.request('POST', '/v1/keys', { name: 'schemathesis', scope: 'admin' });
  expect(minted.status).toBe(201);
  key = minted.body.key;
});
afterAll(async () => {
  await t?.stop();
  await s3?.stop();
});

function runSchemathesis(args: string[], logFile: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(schemathesisBin, args, { env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), runTimeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      writeFileSync(logFile, out);
      resolve({ code, out });
    });
  });
}

describe('the OpenAPI document is the contract', () => {
  it(
    'schemathesis finds no failure with all checks, fuzzing and the stateful phase',
    async () => {
      expect(existsSync(schemathesisBin), 'schemathesis is missing: run `npm run setup`').toBe(true);
      const dir = mkdtempSync(path.join(os.tmpdir(), 'tmidb-schemathesis-'));
      const logFile = path.join(dir, 'schemathesis.log');
      const args = [
        '--config-file',
        configFile,
        'run',
        `${t.url}/openapi.json`,
        '--phases',
        'examples,coverage,fuzzing,stateful',
        '--max-examples',
        String(examplesPerOperation),
        '--seed',
        '20261125',
        '--workers',
        '2',
        '--request-timeout',
        '20',
        '--header',
        `Authorization: Bearer ${key}`,
        '--report',
        'junit',
        '--report-dir',
        dir,
        '--generation-database',
        'none',
        '--no-color',
      ];
      const { code, out } = await runSchemathesis(args, logFile);
      const summary = out
        .split('\n')
        .filter((l) => /\b(passed|failed|error|cases)\b/i.test(l))
        .slice(-6);
      console.info(`[schemathesis] ${logFile}\n${summary.join('\n')}`);
      expect(code, `schemathesis failed — see ${logFile}\n${out.slice(-6000)}`).toBe(0);
      expect(readFileSync(logFile, 'utf8')).toMatch(/Stateful/i);
    },
    runTimeoutMs + 60_000,
  );
});
