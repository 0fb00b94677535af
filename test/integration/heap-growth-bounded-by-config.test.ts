// SPDX-License-Identifier: MIT
// TMIDB_HEAP_GROWING_PERCENT bounds how far V8's heap grows past what a major collection kept (ADR 0034).
// A tmiDB runtime is started in a child process the way `tmictl up` starts it (real PostgreSQL and
// nats-server, migrations, topology), with V8's own trace of every allocation limit it computes
// (`--trace-gc-verbose`: "[HeapController] Limit: old size: N KB, new limit: M KB (factor)"); the child
// then forces major collections. Every limit computed after the runtime started must use the configured
// factor — and with the setting at 0, V8's own factor (which reaches 4.0) must show, so the test can fail.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { packageRoot } from '../../config/index.js';
import { type TestEnv, testEnv } from '../support/env.js';

const run = promisify(execFile);
const startedMark = 'RUNTIME STARTED';
const collectedMark = 'COLLECTED';
/** Major collections the child forces once its runtime runs. */
const collectionsForced = 3;

const dist = (file: string) => pathToFileURL(path.join(packageRoot, 'dist', file)).href;

// The child: load the config from its environment, start the runtime, force collections, stop.
const childScript = `
import { startRuntime } from ${JSON.stringify(dist('cli/index.js'))};
import { loadConfig } from ${JSON.stringify(dist('config/index.js'))};
const config = loadConfig();
const runtime = await startRuntime(config, { pgUrl: config.pgUrl, natsUrl: config.natsUrl, stages: [], api: false });
console.log(${JSON.stringify(startedMark)});
const kept = [];
for (let i = 0; i < ${collectionsForced}; i++) {
  kept.push(Array.from({ length: 200_000 }, (_, j) => ({ j })));
  globalThis.gc();
}
console.log(${JSON.stringify(collectedMark)}, kept.length);
await runtime.stop();
`;

interface Limit {
  readonly oldKb: number;
  readonly limitKb: number;
  readonly factor: number;
}

let env: TestEnv;
let home: string;

beforeAll(async () => {
  if (!existsSync(path.join(packageRoot, 'dist', 'cli', 'index.js'))) {
    throw new Error("dist/ missing: run 'npm run build' first");
  }
  env = await testEnv('heap_growth');
  home = mkdtempSync(path.join(os.tmpdir(), 'tmidb-heap-'));
});

afterAll(async () => {
  await env?.dropAll();
  if (home) rmSync(home, { recursive: true, force: true });
});

/** The old-generation limits V8 computed after the child's runtime had started. */
async function limitsAfterStart(heapGrowingPercent: number): Promise<Limit[]> {
  const { stdout } = await run(
    process.execPath,
    ['--expose-gc', '--trace-gc-verbose', '--input-type=module', '-e', childScript],
    {
      env: {
        ...process.env,
        TMIDB_HOME: home,
        TMIDB_PG_URL: env.pgUrl,
        TMIDB_NATS_URL: env.natsUrl,
        TMIDB_NAMESPACE: env.namespace,
        TMIDB_HEAP_GROWING_PERCENT: String(heapGrowingPercent),
      },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const from = stdout.indexOf(startedMark);
  const to = stdout.indexOf(collectedMark);
  expect(from, stdout.slice(-2_000)).toBeGreaterThan(-1);
  expect(to).toBeGreaterThan(from);
  const limitLine = /\[HeapController\] Limit: old size: (\d+) KB, new limit: (\d+) KB \(([\d.]+)\)/g;
  return [...stdout.slice(from, to).matchAll(limitLine)].map((m) => ({
    oldKb: Number(m[1]),
    limitKb: Number(m[2]),
    factor: Number(m[3]),
  }));
}

it('a runtime started with TMIDB_HEAP_GROWING_PERCENT=50 lets the heap grow by 1.5× what a collection kept, never V8’s own up to 4×', async () => {
  const limits = await limitsAfterStart(50);
  expect(limits.length).toBeGreaterThanOrEqual(collectionsForced);
  for (const l of limits) {
    expect(l.factor).toBe(1.5);
    // V8 adds the young generation's capacity on top of old size × factor; it is at most 64 MiB here.
    expect(l.limitKb).toBeLessThanOrEqual(Math.max(l.oldKb * 1.5, l.oldKb + 8 * 1024) + 64 * 1024);
  }
});

it('with TMIDB_HEAP_GROWING_PERCENT=0 V8 chooses its own factor (the setting is what bounds it)', async () => {
  const limits = await limitsAfterStart(0);
  expect(limits.length).toBeGreaterThanOrEqual(collectionsForced);
  expect(Math.max(...limits.map((l) => l.factor))).toBeGreaterThan(1.5);
});
