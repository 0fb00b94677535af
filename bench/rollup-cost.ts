// SPDX-License-Identifier: MIT
// What the rollups cost the project stage (ADR 0027), before/after in one run on one private PostgreSQL:
// transactions that insert a batch into ts_obs alone, interleaved with transactions that insert the same
// kind of batch and then roll it up (processors/rollup.ts), for batches of 1,000 events (20 vehicles × 50 s
// at 1 Hz, the bench's 10-field payload) and of 1 event. Prints ms per 1,000 events.
// `npm run build && node dist/bench/rollup-cost.js [rounds]`.
import { performance } from 'node:perf_hooks';
import { createPool, migrate, withTransaction } from '../db/index.js';
import { rollUpInsertedObs } from '../processors/index.js';
import { insertObsRows, type ObsRow } from '../projections/index.js';
import { uuidv7 } from '../schemas/index.js';
import { benchDb, startBenchServers } from './env.js';

const vehicles = 20;
const secondsPerBatch = 50;

function payload(s: number, v: number): Record<string, unknown> {
  return {
    speed: Math.round((40 + 40 * Math.sin((s + v) / 60)) * 10) / 10,
    temp: Math.round((20 + 3 * Math.sin(s / 600)) * 100) / 100,
    fuel: Math.round((1 - ((s + v * 13) % 5000) / 5000) * 1000) / 1000,
    rpm: 900 + ((s * 7 + v) % 2500),
    status: ['moving', 'idle', 'parked'][(Math.floor(s / 120) + v) % 3],
    driver: `driver-${v}`,
    lat: 37.5 + v / 1000,
    lon: 127 + v / 1000,
    heading: (Math.floor(s / 60) * 37 + v) % 360,
    odometer: 1000 + s / 10,
  };
}

function batch(targets: readonly string[], round: number, events: number): ObsRow[] {
  const base = Date.UTC(2026, 10, 24) * 1000;
  const rows: ObsRow[] = [];
  for (let i = 0; i < events; i++) {
    const v = i % targets.length;
    const s = round * secondsPerBatch + Math.floor(i / targets.length);
    const ts = base + s * 1_000_000 + (events === 1 ? round * 1000 : 0);
    rows.push({
      target_id: targets[v]!,
      ts_us: ts,
      event_id: uuidv7(),
      schema_id: 1,
      payload: payload(s, v),
      received_us: ts,
    });
  }
  return rows;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 200);
  const servers = await startBenchServers();
  const db = await benchDb(servers, 'rollup_cost');
  const pool = createPool(db.pgUrl, 2);
  try {
    await migrate(pool);
    await pool.query(`SELECT tmi.premake_partitions(7)`);
    const targets = Array.from({ length: vehicles }, () => uuidv7());
    for (const [events, label] of [
      [vehicles * secondsPerBatch, '1,000 events per batch'],
      [1, '1 event per batch'],
    ] as const) {
      const without: number[] = [];
      const withRollups: number[] = [];
      const rollupStep: number[] = [];
      const n = events === 1 ? rounds * 5 : rounds;
      for (let r = 0; r < n; r++) {
        const rows = batch(targets, r, events);
        const rolled = r % 2 === 1;
        const started = performance.now();
        await withTransaction(pool, async (client) => {
          const inserted = await insertObsRows(client, rows);
          if (!rolled) return;
          const at = performance.now();
          await rollUpInsertedObs(client, rows, inserted);
          rollupStep.push(performance.now() - at);
        });
        (rolled ? withRollups : without).push(performance.now() - started);
      }
      const per1000 = (ms: number) => ((ms * 1000) / events).toFixed(1);
      process.stdout.write(
        `${label} (${n} transactions, alternating): ts_obs alone ${per1000(median(without))} ms per 1,000 events; ` +
          `ts_obs + rollups ${per1000(median(withRollups))} ms; the rollup step alone ${per1000(median(rollupStep))} ms (medians)\n`,
      );
    }
  } finally {
    await pool.end();
    await db.drop().catch(() => {});
    await servers.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
