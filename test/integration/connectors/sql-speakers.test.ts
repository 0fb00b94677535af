// SPDX-License-Identifier: MIT
// SQL speakers: tmi.speak() joins the caller's transaction (commit → one event, rollback → none), refused
// rows move to tmi.speak_rejected without blocking the rows behind them, psql shows the function with its
// comment; pause/resume; and a `sql` connector following a table of a second PostgreSQL database by id.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPool, type Pool } from '../../../db/index.js';
import { dropDatabase, ensureDatabase, findPostgresBinaries } from '../../../ops/index.js';
import { eventually, startTestTmidb, type TestTmidb } from '../../support/tmidb.js';

let t: TestTmidb;
let station: string;

beforeAll(async () => {
  t = await startTestTmidb('sql_speakers', {
    stages: ['capture'],
    connectors: 'all',
    config: { speakPollMs: 60_000, connectorLeaseMs: 2_000, connectorBackoffInitialMs: 100 },
  });
  const res = await t.request('POST', '/v1/targets', { name: 'st-1', kind: 'station' });
  station = res.body.target_id;
});

afterAll(async () => {
  await t?.stop();
});

async function rawEvent(
  eventId: string,
): Promise<{ speaker: string; payload: Record<string, unknown> } | undefined> {
  const rows = await t.sql<{ speaker: string; payload: Record<string, unknown> }>(
    'SELECT speaker, payload FROM tmi.raw_bucket WHERE event_id = $1',
    [eventId],
  );
  return rows[0];
}

async function status(name: string): Promise<any> {
  const res = await t.request('GET', `/v1/connectors/${name}/status`);
  expect(res.status).toBe(200);
  return res.body;
}

it('emits a committed speak once, as speaker sql:speak, woken by NOTIFY (the safety-net poll is 60 s here)', async () => {
  const [{ id }] = (await t.sql<{ id: string }>(
    `SELECT tmi.speak($1, '{"temp": 21.5, "ok": true}', '2026-11-25T10:00:00Z') AS id`,
    [station],
  )) as [{ id: string }];
  await eventually('the spoken event in raw_bucket', async () => (await rawEvent(id)) !== undefined, 20_000);
  expect(await rawEvent(id)).toEqual({ speaker: 'sql:speak', payload: { temp: 21.5, ok: true } });
  const [row] = await t.sql<{ n: number }>(
    'SELECT count(*)::int AS n FROM tmi.raw_bucket WHERE event_id = $1',
    [id],
  );
  expect(row!.n).toBe(1);
  await eventually('the outbox emptied', async () => (await status('speak')).outbox.pending === 0);
});

it('emits nothing for a rolled-back transaction', async () => {
  const client = await t.runtime.pool.connect();
  let rolledBack: string;
  try {
    await client.query('BEGIN');
    rolledBack = (await client.query(`SELECT tmi.speak($1, '{"temp": -1}') AS id`, [station])).rows[0].id;
    await client.query('ROLLBACK');
  } finally {
    client.release();
  }
  // A later commit: once it is in, the drain that would have carried the rolled-back row has run.
  const [{ id: later }] = (await t.sql<{ id: string }>(`SELECT tmi.speak($1, '{"temp": 2}') AS id`, [
    station,
  ])) as [{ id: string }];
  await eventually('the later event', async () => (await rawEvent(later)) !== undefined, 20_000);
  expect(await rawEvent(rolledBack)).toBeUndefined();
  const rejected = await t.sql('SELECT 1 FROM tmi.speak_rejected WHERE event_id = $1', [rolledBack]);
  expect(rejected).toEqual([]);
});

it('moves refused rows aside with the reason and goes on with the rows behind them', async () => {
  const unknown = '0190d7e0-0000-7000-8000-000000000099';
  const ids = (
    await t.sql<{ a: string; b: string; c: string }>(
      `SELECT tmi.speak($1, '{"temp": 1}') AS a, tmi.speak($2, '[1, 2]') AS b, tmi.speak($2, '{"temp": 3}') AS c`,
      [unknown, station],
    )
  )[0]!;
  await eventually(
    'the good row behind the bad ones',
    async () => (await rawEvent(ids.c)) !== undefined,
    20_000,
  );
  const rejected = await t.sql<{ event_id: string; code: string; reason: string }>(
    'SELECT event_id, code, reason FROM tmi.speak_rejected ORDER BY outbox_id',
  );
  expect(rejected.map((r) => [r.event_id, r.code])).toEqual([
    [ids.a, 'TARGET_NOT_FOUND'],
    [ids.b, 'INVALID_DATA'],
  ]);
  expect(rejected[1]!.reason).toContain('data must be a JSON object');
  const s = await status('speak');
  expect(s.outbox).toEqual({ pending: 0, rejected: 2 });
  expect(s.items_rejected).toBe(2);
  expect(s.last_error.code).toBe('INVALID_DATA');
  expect(s.last_error.message).toContain('outbox');
});

it('refuses NULL target or data in the caller’s statement', async () => {
  await expect(t.sql(`SELECT tmi.speak(NULL, '{}')`)).rejects.toMatchObject({ code: '22004' });
});

it('is listed by psql \\df+ with its comment', async () => {
  const psql = findPostgresBinaries(t.config.pgBinDir).psql;
  const { stdout } = await promisify(execFile)(psql, [t.env.pgUrl, '-X', '-c', '\\df+ tmi.speak']);
  expect(stdout).toContain('speak');
  expect(stdout).toContain('target_id uuid, data jsonb, ts timestamp with time zone DEFAULT NULL');
  expect(stdout).toContain('tmiDB: write one event about a target from SQL');
});

it('pauses and resumes: a paused drainer leaves rows pending, resuming publishes them', async () => {
  expect((await t.request('POST', '/v1/connectors/speak/pause')).body.paused).toBe(true);
  await eventually('the drainer stopped', async () => {
    const s = await status('speak');
    return s.state === 'paused' && s.owner === null;
  });
  const [{ id }] = (await t.sql<{ id: string }>(`SELECT tmi.speak($1, '{"temp": 4}') AS id`, [station])) as [
    { id: string },
  ];
  expect((await status('speak')).outbox.pending).toBe(1);
  expect((await t.request('POST', '/v1/connectors/speak/resume')).body.paused).toBe(false);
  await eventually(
    'the paused row published after resume',
    async () => (await rawEvent(id)) !== undefined,
    20_000,
  );
  expect((await status('speak')).state).toBe('running');
});

let source: Pool;
let sourceUrl: string;
const database = `t_sql_source_${process.pid}`;

beforeAll(async () => {
  await ensureDatabase(t.env.pgAdminUrl, database);
  const url = new URL(t.env.pgAdminUrl);
  url.pathname = `/${database}`;
  sourceUrl = url.toString();
  source = createPool(sourceUrl, 2);
  await source.query(`CREATE TABLE orders (id bigint PRIMARY KEY, store text, total numeric,
    created_at timestamptz NOT NULL, note text)`);
});

afterAll(async () => {
  await source?.end();
  await dropDatabase(t.env.pgAdminUrl, database).catch(() => {});
});

it('names the bad member of a refused definition', async () => {
  const res = await t.request('POST', '/v1/connectors', {
    name: 'bad',
    type: 'sql',
    config: {
      url: sourceUrl,
      query: 'SELECT * FROM orders WHERE id > $1',
      cursor: 'id',
      target: { by: 'name', column: 'store' },
    },
  });
  expect(res.status).toBe(400);
  expect(res.contentType).toContain('application/problem+json');
  expect(res.body.code).toBe('INVALID_CONNECTOR');
  expect(res.body.detail).toMatch(/^config\.query /);
});

it('follows a table by id: one event per row, targets created by store, cursor saved, password never shown', async () => {
  const insert = (from: number, to: number) =>
    source.query(
      `INSERT INTO orders SELECT i, 'store-' || (i % 3), i * 1.5, '2026-11-25T00:00:00Z'::timestamptz + i * interval '1 second', NULL
       FROM generate_series($1::int, $2::int) i`,
      [from, to],
    );
  await insert(1, 120);
  const res = await t.request('POST', '/v1/connectors', {
    name: 'orders',
    type: 'sql',
    config: {
      url: sourceUrl,
      interval_s: 1,
      batch_rows: 50,
      query: 'SELECT id, store, total, created_at FROM orders WHERE id > $1 ORDER BY id LIMIT $2',
      cursor: 'id',
      target: { by: 'name', column: 'store', create_kind: 'store' },
      ts: 'created_at',
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const password = new URL(sourceUrl).password;
  expect(JSON.stringify(res.body)).not.toContain(password);
  expect(res.body.config.url).toContain(':***@');
  await insert(121, 130);
  const count = async () =>
    (
      await t.sql<{ n: number }>(`SELECT count(*)::int AS n FROM tmi.raw_bucket WHERE speaker = 'sql:orders'`)
    )[0]!.n;
  await eventually('130 order events', async () => (await count()) === 130, 30_000);
  const s = await status('orders');
  expect(s.cursor).toEqual({ value: 130 });
  expect(s.events_emitted).toBe(130);
  const [e] = await t.sql<{ payload: any; occurred_at: Date; name: string; kind: string }>(
    `SELECT r.payload, r.occurred_at, t.name, t.kind FROM tmi.raw_bucket r JOIN tmi.target t USING (target_id)
     WHERE r.speaker = 'sql:orders' AND (r.payload->>'id')::int = 7`,
  );
  expect(e!.payload).toEqual({ id: 7, total: 10.5 });
  expect(e!.occurred_at.toISOString()).toBe('2026-11-25T00:00:07.000Z');
  expect([e!.name, e!.kind]).toEqual(['store-1', 'store']);
  const got = await t.request('GET', '/v1/connectors/orders');
  expect(JSON.stringify(got.body)).not.toContain(password);
});

it('a stored config that no longer parses is reported in the status, not run', async () => {
  await t.sql(
    `INSERT INTO tmi.ingest_connector (connector_id, name, type, config)
     VALUES (gen_random_uuid(), 'broken', 'poll', '{"url": "ftp://example.org/x", "interval_s": 1}')`,
  );
  await eventually('the refusal in the status, the lease handed back', async () => {
    const s = await status('broken');
    return s.last_error !== null && s.owner === null;
  });
  const s = await status('broken');
  expect([s.state, s.last_error.code, s.events_emitted]).toEqual(['idle', 'INVALID_CONNECTOR', 0]);
  expect(s.last_error.message).toContain('config.url');
});

it('follows a timestamp cursor with >=: rows sharing the last timestamp are re-read and dropped, late ties kept', async () => {
  await source.query(
    'CREATE TABLE readings (at timestamptz NOT NULL, meter text NOT NULL, kwh numeric NOT NULL)',
  );
  const at = (s: number) => `2026-11-25T08:00:0${s}.123456Z`;
  await source.query('INSERT INTO readings VALUES ($1, $4, 1), ($2, $4, 2), ($3, $4, 3), ($3, $4, 4)', [
    at(1),
    at(2),
    at(3),
    'm-1',
  ]);
  const res = await t.request('POST', '/v1/connectors', {
    name: 'readings',
    type: 'sql',
    config: {
      url: sourceUrl,
      interval_s: 1,
      query: 'SELECT at, meter, kwh FROM readings WHERE at >= $1 ORDER BY at LIMIT $2',
      cursor: 'at',
      cursor_type: 'timestamp',
      target: { by: 'name', column: 'meter', create_kind: 'meter' },
      ts: 'at',
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const kwh = async () =>
    (
      await t.sql<{ kwh: number }>(
        `SELECT (payload->>'kwh')::int AS kwh FROM tmi.raw_bucket WHERE speaker = 'sql:readings' ORDER BY 1`,
      )
    ).map((r) => r.kwh);
  await eventually('four readings', async () => (await kwh()).length === 4, 30_000);
  // A row at the cursor's timestamp that committed after the last read: `>=` still finds it.
  await source.query('INSERT INTO readings VALUES ($1, $2, 5)', [at(3), 'm-1']);
  await eventually('the late tie', async () => (await kwh()).includes(5), 30_000);
  await eventually(
    'a run after it',
    async () => Date.parse((await status('readings')).last_success_at) > Date.now() - 500,
  );
  expect(await kwh()).toEqual([1, 2, 3, 4, 5]);
  const s = await status('readings');
  expect(s.cursor).toEqual({ value: '2026-11-25 08:00:03.123456+00' });
  const [e] = await t.sql<{ occurred_at: string }>(
    `SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'HH24:MI:SS.US') AS occurred_at FROM tmi.raw_bucket
     WHERE speaker = 'sql:readings' AND (payload->>'kwh')::int = 1`,
  );
  expect(e!.occurred_at).toBe('08:00:01.123456');
});
