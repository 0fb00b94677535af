// SPDX-License-Identifier: MIT
// Exactly once into the stream under crashes: two `tmictl connector run` processes share the `speak`
// outbox drainer and a `sql` connector following a table of a second database; they are SIGKILLed again
// and again (≥ 5 times) and restarted while 5,000 rows go through tmi.speak() (plus rolled-back ones)
// and 5,000 rows land in the source table. Afterwards: exactly 10,000 events, none twice, every committed
// speak's event id present, no rolled-back one.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { packageRoot } from '../../../config/index.js';
import { createPool, type Pool } from '../../../db/index.js';
import { dropDatabase, ensureDatabase } from '../../../ops/index.js';
import { eventually, startTestTmidb, type TestTmidb } from '../../support/tmidb.js';

const tmictl = path.join(packageRoot, 'dist', 'cli', 'tmictl.js');
const speakRows = 5_000;
const sourceRows = 5_000;
const speakTxRows = 50;
const sourceTxRows = 100;
const killsMin = 5;

interface Worker {
  proc: ChildProcess;
  log: string;
}

let t: TestTmidb;
let source: Pool;
const sourceDb = `t_sigkill_source_${process.pid}`;
const workers: Worker[] = [];

function spawnWorker(w: Partial<Worker> = {}): Worker {
  const proc = spawn(process.execPath, [tmictl, 'connector', 'run'], {
    env: {
      ...t.childEnv,
      TMIDB_CONNECTOR_LEASE_MS: '1500',
      TMIDB_SPEAK_POLL_MS: '200',
      TMIDB_CONNECTOR_BACKOFF_INITIAL_MS: '100',
      TMIDB_CONNECTOR_BACKOFF_MAX_MS: '1000',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const worker = w as Worker;
  worker.proc = proc;
  worker.log ??= '';
  proc.stderr?.on('data', (chunk: Buffer) => {
    worker.log = (worker.log + chunk.toString()).slice(-4000);
  });
  return worker;
}

beforeAll(async () => {
  expect(existsSync(tmictl), `${tmictl} missing: run 'npm run build' first`).toBe(true);
  t = await startTestTmidb('connectors_sigkill', { stages: ['capture'] });
  await ensureDatabase(t.env.pgAdminUrl, sourceDb);
  const url = new URL(t.env.pgAdminUrl);
  url.pathname = `/${sourceDb}`;
  source = createPool(url.toString(), 2);
  await source.query(
    'CREATE TABLE readings (id bigint PRIMARY KEY, station text NOT NULL, v integer NOT NULL)',
  );
  const res = await t.request('POST', '/v1/connectors', {
    name: 'feed',
    type: 'sql',
    config: {
      url: url.toString(),
      interval_s: 1,
      batch_rows: 200,
      query: 'SELECT id, station, v FROM readings WHERE id > $1 ORDER BY id LIMIT $2',
      cursor: 'id',
      target: { by: 'name', column: 'station', create_kind: 'station' },
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  workers.push(spawnWorker(), spawnWorker());
});

afterAll(async () => {
  for (const w of workers) w.proc.kill('SIGKILL');
  await source?.end();
  await t?.stop();
  await dropDatabase(t.env.pgAdminUrl, sourceDb).catch(() => {});
});

/** 5,000 committed speaks in transactions of 50, and as many rolled back in between. */
async function speak(targets: readonly string[]): Promise<{ committed: string[]; rolledBack: string[] }> {
  const committed: string[] = [];
  const rolledBack: string[] = [];
  for (let i = 0; i < speakRows / speakTxRows; i++) {
    const client = await t.runtime.pool.connect();
    try {
      for (const outcome of ['COMMIT', 'ROLLBACK'] as const) {
        await client.query('BEGIN');
        const { rows } = await client.query<{ id: string }>(
          `SELECT tmi.speak(($1::uuid[])[1 + g % array_length($1::uuid[], 1)], jsonb_build_object('seq', g)) AS id
           FROM generate_series($2::int, $3::int) g`,
          [targets, i * speakTxRows, (i + 1) * speakTxRows - 1],
        );
        await client.query(outcome);
        (outcome === 'COMMIT' ? committed : rolledBack).push(...rows.map((r) => r.id));
      }
    } finally {
      client.release();
    }
    await new Promise((r) => setTimeout(r, 60));
  }
  return { committed, rolledBack };
}

async function fillSource(): Promise<void> {
  for (let i = 0; i < sourceRows / sourceTxRows; i++) {
    await source.query(
      `INSERT INTO readings SELECT g, 'st-' || (g % 7), g * 2 FROM generate_series($1::int, $2::int) g`,
      [i * sourceTxRows + 1, (i + 1) * sourceTxRows],
    );
    await new Promise((r) => setTimeout(r, 120));
  }
}

it('10,000 events from the outbox and a source table, workers SIGKILLed ≥ 5 times: each exactly once', async () => {
  const targets: string[] = [];
  for (let i = 0; i < 20; i++) {
    targets.push((await t.request('POST', '/v1/targets', { name: `car-${i}`, kind: 'car' })).body.target_id);
  }
  let writing = true;
  let kills = 0;
  const killer = (async () => {
    while (writing || kills < killsMin) {
      await new Promise((r) => setTimeout(r, 700));
      const w = workers[kills % workers.length]!;
      w.proc.kill('SIGKILL');
      await new Promise((r) => w.proc.once('exit', r));
      kills++;
      await new Promise((r) => setTimeout(r, 150));
      spawnWorker(w);
    }
  })();
  const [spoken] = await Promise.all([speak(targets), fillSource()]);
  writing = false;
  await killer;
  expect(kills).toBeGreaterThanOrEqual(killsMin);

  const counts = async () =>
    (
      await t.sql<{ speak: number; feed: number }>(
        `SELECT count(*) FILTER (WHERE speaker = 'sql:speak')::int AS speak,
                count(*) FILTER (WHERE speaker = 'sql:feed')::int AS feed FROM tmi.raw_bucket`,
      )
    )[0]!;
  await eventually(
    'all 10,000 events captured and the outbox empty',
    async () => {
      const c = await counts();
      const [{ n }] = (await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM tmi.speak_outbox')) as [
        { n: number },
      ];
      return c.speak >= speakRows && c.feed >= sourceRows && n === 0;
    },
    180_000,
  ).catch((err) => {
    throw new Error(`${err.message}\n${workers.map((w, i) => `--- worker ${i}\n${w.log}`).join('\n')}`);
  });

  expect(await counts()).toEqual({ speak: speakRows, feed: sourceRows });
  const [all] = await t.sql<{ rows: number; ids: number }>(
    'SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS ids FROM tmi.raw_bucket',
  );
  expect(all).toEqual({ rows: speakRows + sourceRows, ids: speakRows + sourceRows });
  const [speakIds] = await t.sql<{ known: number; rolled_back: number }>(
    `SELECT count(*) FILTER (WHERE event_id = ANY($1::uuid[]))::int AS known,
            count(*) FILTER (WHERE event_id = ANY($2::uuid[]))::int AS rolled_back FROM tmi.raw_bucket`,
    [spoken.committed, spoken.rolledBack],
  );
  expect(speakIds).toEqual({ known: speakRows, rolled_back: 0 });
  const [feed] = await t.sql<{ distinct_ids: number; lo: number; hi: number }>(
    `SELECT count(DISTINCT (payload->>'id')::int)::int AS distinct_ids, min((payload->>'id')::int) AS lo,
            max((payload->>'id')::int) AS hi FROM tmi.raw_bucket WHERE speaker = 'sql:feed'`,
  );
  expect(feed).toEqual({ distinct_ids: sourceRows, lo: 1, hi: sourceRows });
  const status = (await t.request('GET', '/v1/connectors/feed/status')).body;
  expect(status.cursor).toEqual({ value: sourceRows });
  expect((await t.sql('SELECT 1 FROM tmi.speak_rejected')).length).toBe(0);
  console.info(`kills: ${kills}`);
});
