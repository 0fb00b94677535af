// SPDX-License-Identifier: MIT
// A tmiDB process that serves the HTTP API and the NATS speaker connector, and runs the stages named in
// TMIDB_BENCH_STAGES (comma-separated; default none: the stages run as `tmictl stage <name>` processes
// beside it). Configured by TMIDB_* like tmictl; prints `ready <url>` on stdout once it listens, stops on
// SIGTERM/SIGINT.
import { startRuntime } from '../cli/index.js';
import { loadConfig } from '../config/index.js';
import { type StageName, stageNames } from '../pipelines/index.js';

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.pgUrl || !config.natsUrl) throw new Error('set TMIDB_PG_URL and TMIDB_NATS_URL');
  const stages = (process.env.TMIDB_BENCH_STAGES ?? '')
    .split(',')
    .filter((s) => s !== '')
    .map((s) => {
      if (!stageNames.includes(s as StageName)) throw new Error(`TMIDB_BENCH_STAGES: unknown stage ${s}`);
      return s as StageName;
    });
  const runtime = await startRuntime(config, {
    pgUrl: config.pgUrl,
    natsUrl: config.natsUrl,
    stages,
    api: true,
    connectors: config.connectors === 'on' ? 'all' : undefined,
    log: (level, msg) => process.stderr.write(`[api] ${level}: ${msg}\n`),
  });
  process.stdout.write(`ready ${runtime.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await runtime.stop();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[api] ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
