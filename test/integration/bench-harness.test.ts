// SPDX-License-Identifier: MIT
// The benchmark harness works: `npm run bench -- --quick` runs every scenario at tiny sizes against its
// own PostgreSQL and nats-server, prints the table and writes the JSON file with every scenario's
// figures. It checks that the harness produces sane numbers, not how fast anything is.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { packageRoot } from '../../config/index.js';

const runJs = path.join(packageRoot, 'dist', 'bench', 'run.js');
const outDir = mkdtempSync(path.join(os.tmpdir(), 'tmidb-bench-test-'));
/** Typically 110-130 s (scenarios 6 and 7 included); 240 s was seen with other work on both cores. */
const harnessTimeoutMs = 420_000;

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

function runBench(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runJs, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Figure {
  scenario: string;
  measure: string;
  value: number;
  unit: string;
  target?: string;
  met?: boolean;
}

it(
  'runs every scenario at quick size, prints the table and writes the JSON with sane figures',
  async () => {
    expect(existsSync(runJs), `${runJs} missing: run 'npm run build' first`).toBe(true);
    // The scale-out layout (a `tmictl stage` process per stage) exercises more of the harness than the default.
    const { code, stdout, stderr } = await runBench([
      '--quick',
      '--processes',
      'per-stage',
      '--out-dir',
      outDir,
    ]);
    expect(code, stderr.slice(-3000)).toBe(0);

    // The table, with a row of every scenario and the targets.
    for (const text of ['scenario', 'measure', 'value', 'target']) expect(stdout).toContain(text);
    for (const scenario of [
      '1 ingest REST',
      '1 ingest NATS',
      '2 limits REST',
      '2 limits NATS',
      '3 latency WS 200/s',
      '3 latency NATS 200/s',
      '4 queries',
      '5 memory REST',
      '5 memory NATS',
      '6 tmi.speak 50/s',
      '7 soak 200/s',
    ]) {
      expect(stdout).toContain(scenario);
    }
    expect(stdout).toContain('pipeline / min(a, b)');
    // A progress line per phase on stderr (not a terminal here).
    expect(stderr).toMatch(/\[bench\] scenario 1 \(rest\): writing/);

    const files = readdirSync(outDir).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^\d{4}-\d{2}-\d{2}-.+\.json$/);
    const report = JSON.parse(readFileSync(path.join(outDir, files[0]!), 'utf8'));

    expect(report.quick).toBe(true);
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.machine.memoryGiB).toBeGreaterThan(0);
    expect(report.machine.node).toMatch(/^v\d+/);
    expect(report.machine.postgres).toMatch(/^\d+/);
    expect(report.machine.natsServer).toMatch(/^\d+\.\d+/);

    const figures = report.figures as Figure[];
    for (const f of figures) {
      expect(Number.isFinite(f.value), `${f.scenario} / ${f.measure}`).toBe(true);
      expect(f.value, `${f.scenario} / ${f.measure}`).toBeGreaterThanOrEqual(0);
    }
    const value = (scenario: string, measure: string): number => {
      const f = figures.find((x) => x.scenario === scenario && x.measure === measure);
      expect(f, `${scenario} / ${measure}`).toBeDefined();
      return f!.value;
    };
    for (const t of ['REST', 'NATS']) {
      expect(value(`1 ingest ${t}`, 'end to end (all stages committed)')).toBeGreaterThan(0);
      expect(value(`1 ingest ${t}`, 'accepted (speaker acknowledged)')).toBeGreaterThan(0);
      expect(value(`1 ingest ${t}`, 'total time')).toBeGreaterThan(0);
      expect(value(`2 limits ${t}`, '(a) JetStream publish alone')).toBeGreaterThan(0);
      expect(value(`2 limits ${t}`, '(a) JetStream pull-consume + ack alone')).toBeGreaterThan(0);
      expect(value(`2 limits ${t}`, '(b) PostgreSQL COPY alone')).toBeGreaterThan(0);
      expect(value(`2 limits ${t}`, '(c) naive INSERT per row')).toBeGreaterThan(0);
      expect(value(`2 limits ${t}`, 'pipeline / min(a, b)')).toBeGreaterThan(0);
      expect(value(`5 memory ${t}`, 'peak RSS tmiDB processes together')).toBeGreaterThan(0);
      expect(value(`5 memory ${t}`, 'peak PostgreSQL (PSS, all backends)')).toBeGreaterThan(0);
      expect(value(`5 memory ${t}`, 'peak nats-server RSS')).toBeGreaterThan(0);
    }
    for (const mode of ['WS', 'NATS']) {
      for (const p of ['p50', 'p95', 'p99', 'max']) {
        expect(value(`3 latency ${mode} 200/s`, `request → listener ${p}`)).toBeGreaterThan(0);
      }
    }
    expect(value('6 tmi.speak 50/s', 'commit → TMI_IN p99')).toBeGreaterThan(0);
    expect(report.results.speak.received).toBe(report.results.speak.events);
    // Scenario 7: its first and last windows side by side, every window in the JSON, nothing lost.
    expect(stdout).toMatch(/first 10 s: [\d,.]+ MiB → last 10 s: [\d,.]+ MiB/);
    const soak = report.results.soak;
    expect(soak.windows.length).toBeGreaterThanOrEqual(3);
    expect(soak.first).toEqual(soak.windows[0]);
    expect(soak.last).toEqual(soak.windows[soak.windows.length - 1]);
    for (const w of soak.windows) {
      expect(w.rssMiB).toBeGreaterThan(0);
      expect(w.deliveries).toBeGreaterThan(0);
      expect(w.endToEndMs.p99).toBeGreaterThan(0);
    }
    expect(soak.deliveriesReceived).toBe(soak.deliveriesExpected);
    expect(soak.errors).toBe(0);
    expect(value('7 soak 200/s', 'tmiDB RSS, last window')).toBe(soak.last.rssMiB);
    expect(value('7 soak 200/s', 'consumer lag, last window')).toBe(soak.last.lagMessages);
    expect(report.results.latency).toHaveLength(2);
    for (const latency of report.results.latency) {
      expect(latency.deliveriesReceived).toBe(latency.deliveriesExpected);
      expect(latency.errors).toBe(0);
      // Where PostgreSQL's time went during the measured run: the stages' writes are among the statements.
      expect(
        latency.statements.some(
          (st: { query: string; calls: number }) => st.query.includes('tmi.ts_obs') && st.calls > 0,
        ),
      ).toBe(true);
    }
    for (const q of ['latest state of one target', 'one day at 1 Hz by minute', 'radius (~100 targets)']) {
      expect(value('4 queries', `${q} p50`)).toBeGreaterThan(0);
      expect(value('4 queries', `${q} p99`)).toBeGreaterThanOrEqual(value('4 queries', `${q} p50`));
    }
    expect(report.results.queries.radius.rowsMean).toBeGreaterThan(0);
    expect(report.results.queries.dayByMinute.rowsMean).toBeGreaterThan(0);
    // Every event landed in every projection exactly once.
    for (const ingest of report.results.ingest) {
      expect(ingest.rowsVerified.ts_obs).toBe(ingest.events);
      expect(ingest.rowsVerified.raw_bucket).toBe(ingest.events);
    }
  },
  harnessTimeoutMs,
);
