// SPDX-License-Identifier: MIT
// `npm run bench`: starts a private PostgreSQL and nats-server, runs the scenarios (ingest end to end,
// the limits of the parts on the same data, latency, queries, memory), prints the table and writes
// bench/results/<date>-<host>.json. See `npm run bench -- --help`.
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { packageRoot, VERSION } from '../config/index.js';
import { stageNames } from '../pipelines/index.js';
import { type BenchServers, machineInfo, startBenchServers } from './env.js';
import { type IngestResult, runIngest } from './ingest.js';
import { type LatencyResult, listenerModes, runLatency } from './latency.js';
import { type LimitsResult, runLimits } from './limits.js';
import { type BenchOptions, parseOptions, usage } from './options.js';
import { Progress } from './progress.js';
import { type QueriesResult, runQueries } from './queries.js';
import { type BenchReport, type BenchResults, figures, formatReport, writeReport } from './report.js';
import { runSoak, soakDefaultEventsPerS } from './soak.js';
import { runSpeak } from './speak.js';

async function main(argv: readonly string[]): Promise<number> {
  let opts: BenchOptions | 'help';
  try {
    opts = parseOptions(argv, path.join(packageRoot, 'bench', 'results'));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n\n${usage}\n`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const progress = new Progress(opts.progress);
  const nodeFlags = opts.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(opts.profileDir)}`] : [];
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const loadAtStart = os.loadavg()[0] ?? 0;
  progress.start('starting PostgreSQL and nats-server');
  const servers = await startBenchServers();
  stopServersOnSignal(servers, progress);
  try {
    const machine = await machineInfo(servers);
    const results = await runScenarios(servers, opts, progress, nodeFlags);
    progress.end();
    const report: BenchReport = {
      tool: 'tmidb-bench',
      version: VERSION,
      startedAt,
      durationS: Math.round((performance.now() - started) / 1000),
      quick: opts.quick,
      processes: opts.processes,
      machine,
      sizes: opts.sizes,
      stages: [...stageNames],
      figures: figures(results, machine.cores),
      results,
      notes: reportNotes(opts, results.latency, loadAtStart, os.loadavg()[0] ?? 0),
    };
    const file = writeReport(report, opts.outDir);
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
    process.stderr.write(`[bench] results written to ${file}\n`);
    return 0;
  } finally {
    progress.end();
    await servers.stop();
  }
}

/** Ctrl-C (or a CI timeout) still stops the private servers; the tmiDB children die with this process. */
function stopServersOnSignal(servers: BenchServers, progress: Progress): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      progress.note(`${signal}: stopping PostgreSQL and nats-server`);
      servers.stop().finally(() => process.exit(130));
    });
  }
}

/** Runs the chosen scenarios in order: ingest (each followed by its limits), latency, queries. */
async function runScenarios(
  servers: BenchServers,
  opts: BenchOptions,
  progress: Progress,
  nodeFlags: readonly string[],
): Promise<BenchResults> {
  const ingest: IngestResult[] = [];
  const limits: LimitsResult[] = [];
  const latency: LatencyResult[] = [];
  let queries: QueriesResult | undefined;
  if (opts.scenarios.includes('ingest')) {
    for (const transport of opts.transports) {
      const run = await runIngest(servers, transport, opts.sizes, progress, nodeFlags, opts.processes);
      ingest.push(run.result);
      try {
        if (opts.scenarios.includes('limits'))
          limits.push(await runLimits(servers, run, opts.sizes, progress));
      } finally {
        await run.db.drop().catch(() => {});
      }
    }
  }
  if (opts.scenarios.includes('latency')) {
    const rates = [opts.sizes.latencyEventsPerS, opts.sizes.latencyLowEventsPerS].filter((r) => r > 0);
    for (const rate of rates) {
      for (const mode of listenerModes.filter((m) => opts.listenerModes.includes(m))) {
        const result = await runLatency(servers, opts.sizes, progress, nodeFlags, mode, rate, opts.processes);
        if (result) latency.push(result);
        else progress.note(`scenario 3 (${mode}): this tmiDB has no listeners API; skipped`);
      }
    }
  }
  if (opts.scenarios.includes('queries'))
    queries = await runQueries(servers, opts.sizes, progress, nodeFlags);
  const speak = opts.scenarios.includes('speak')
    ? await runSpeak(servers, opts.sizes, progress, nodeFlags, opts.processes)
    : undefined;
  const soak = opts.scenarios.includes('soak')
    ? await runSoak(servers, opts.sizes, progress, nodeFlags, opts.processes, soakRate(opts, ingest))
    : undefined;
  return { ingest, limits, latency, queries, speak, soak };
}

/** The soak's rate: as given, else half the slower end-to-end rate of scenario 1 in this run, else the default. */
function soakRate(opts: BenchOptions, ingest: readonly IngestResult[]): { eventsPerS: number; from: string } {
  if (opts.sizes.soakEventsPerS > 0) return { eventsPerS: opts.sizes.soakEventsPerS, from: 'as given' };
  if (ingest.length > 0) {
    const slower = Math.min(...ingest.map((i) => i.endToEndEventsPerS));
    return { eventsPerS: Math.max(1, Math.round(slower / 2)), from: 'half of scenario 1 end to end' };
  }
  return { eventsPerS: soakDefaultEventsPerS, from: 'default (scenario 1 did not run)' };
}

/** What a reader of the figures must know about how they were taken. */
function reportNotes(
  opts: BenchOptions,
  latency: readonly LatencyResult[],
  loadAtStart: number,
  loadAtEnd: number,
): string[] {
  return [
    'Everything runs on this one machine: the benchmark driver (HTTP/NATS clients, listeners) shares the cores with tmiDB, PostgreSQL and nats-server.',
    opts.processes === 'one'
      ? `tmiDB ran as one process: the API (+ NATS speaker connector) and every stage (${stageNames.join(', ')}).`
      : `tmiDB ran as ${stageNames.length + 1} processes: the API (+ NATS speaker connector) and one \`tmictl stage\` per stage (${stageNames.join(', ')}).`,
    'PostgreSQL ran with the launcher defaults (fsync, synchronous_commit on); nats-server with the default sync interval.',
    ...latency
      .filter((l) => l.mode === 'nats')
      .map(
        (l) =>
          `Scenario 3 (nats): ${l.how}; 500 such subscribers would be ${(l.offeredEventsPerS * 500).toLocaleString('en-US')} deliveries/s, more than the driver can receive on this machine next to the system under test.`,
      ),
    `1-minute load average: ${loadAtStart.toFixed(2)} at start, ${loadAtEnd.toFixed(2)} at end (other work on the machine adds noise).`,
  ];
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`\nbench: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
