// SPDX-License-Identifier: MIT
// tmictl against a running tmiDB: `pipeline replay project` over a range rebuilds byte-identical
// projections, twice over changes nothing, and live events keep flowing meanwhile; `pipeline
// pause|resume`; `schema list|show|check` (tables and --json); `psql --read-only` cannot write.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../config/index.js';
import { ensureTopology } from '../../pipelines/index.js';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

const run = promisify(execFile);
const tmictlPath = path.join(packageRoot, 'dist', 'cli', 'tmictl.js');
let t: TestTmidb;
const targets: string[] = [];

async function tmictl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...t.childEnv, TMIDB_HTTP_PORT: new URL(t.url).port, TMIDB_API_KEY: t.adminKey };
  try {
    const { stdout, stderr } = await run(process.execPath, [tmictlPath, ...args], { env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function obsCount(): Promise<number> {
  return (await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM tmi.ts_obs'))[0]!.n;
}

/** The projections as text, row by row (target_state without its bookkeeping `updated_at`). */
async function snapshot(): Promise<{ obs: string[]; state: string[] }> {
  const obs = await t.sql<{ r: string }>(
    'SELECT o::text AS r FROM tmi.ts_obs o ORDER BY target_id, ts, event_id',
  );
  const state = await t.sql<{ r: string }>(
    'SELECT (target_id, field, value, ts, event_id)::text AS r FROM tmi.target_state ORDER BY target_id, field',
  );
  return { obs: obs.map((x) => x.r), state: state.map((x) => x.r) };
}

async function writeMany(from: number, n: number): Promise<void> {
  for (const [i, target] of targets.entries()) {
    const events = Array.from({ length: n }, (_, k) => ({
      ts: new Date(Date.UTC(2026, 10, 25, 9, 0, from + k)).toISOString(),
      data: { speed: from + k + i / 10, driver: `d${(from + k) % 3}` },
    }));
    const res = await t.request('POST', `/v1/targets/${target}/events`, events);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
  }
}

beforeAll(async () => {
  t = await startTestTmidb('pipeline_cli', { stages: ['capture', 'normalize', 'project'] });
  for (const name of ['bus-1', 'bus-2', 'bus-3']) {
    targets.push((await t.request('POST', '/v1/targets', { name, kind: 'bus' })).body.target_id);
  }
  await writeMany(0, 50);
  await eventually('150 observations', async () => (await obsCount()) === 150);
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

describe('tmictl pipeline replay', () => {
  it('rebuilds byte-identical projections over a range, idempotently, while live events flow', async () => {
    const before = await snapshot();
    // Lose part of the projections: observations of the middle minute, one target's state.
    await t.sql("DELETE FROM tmi.ts_obs WHERE ts >= '2026-11-25T09:00:10Z' AND ts < '2026-11-25T09:00:40Z'");
    await t.sql('DELETE FROM tmi.target_state WHERE target_id = $1', [targets[1]]);
    expect(await obsCount()).toBe(60);

    const live = writeMany(100, 20); // live events during the replay
    const first = await tmictl('pipeline', 'replay', 'project', '--from', '1', '--json');
    await live;
    expect(first.code, first.stderr).toBe(0);
    const summary = JSON.parse(first.stdout);
    expect(summary).toMatchObject({ stage: 'project', firstSeq: 1, undecodable: 0 });
    expect(summary.events).toBeGreaterThanOrEqual(150);
    await eventually('the live events projected', async () => (await obsCount()) === 210);
    const after = await snapshot();
    expect(after.obs.filter((r) => before.obs.includes(r))).toEqual(before.obs); // every lost row is back, identical
    expect(after.obs).toHaveLength(210);
    const again = await tmictl(
      'pipeline',
      'replay',
      'project',
      '--from',
      '1',
      '--to',
      String(summary.lastSeq),
      '--json',
    );
    expect(JSON.parse(again.stdout)).toMatchObject({ rowsWritten: 0, firstSeq: 1, lastSeq: summary.lastSeq });
    expect(await snapshot()).toEqual(after);
    // The state of the target whose rows were deleted is the newest observation again.
    const state = await t.sql<{ value: number }>(
      "SELECT value FROM tmi.target_state WHERE target_id = $1 AND field = 'speed'",
      [targets[1]],
    );
    expect(state[0]!.value).toBeCloseTo(119.1);
  });

  it('shows a progress bar and a summary table; refuses stages it cannot rebuild and bad ranges', async () => {
    const human = await tmictl('pipeline', 'replay', 'project', '--from', '2026-11-25T00:00:00Z');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stderr).toMatch(/replay project \[#+\] 100%/);
    expect(human.stdout).toMatch(/ROWS_WRITTEN|rows_written/);
    const fanout = await tmictl('pipeline', 'replay', 'fanout');
    expect(fanout.code).toBe(2);
    expect(fanout.stderr).toMatch(/only capture, project, geo rebuild rows/);
    const bad = await tmictl('pipeline', 'replay', 'project', '--from', 'yesterday');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--from 'yesterday' is neither a stream sequence/);
  });
});

describe('tmictl pipeline pause|resume', () => {
  it('holds a stage in JetStream across a restart; the events wait and are projected after resume', async () => {
    const paused = await tmictl('pipeline', 'pause', 'project', '--json');
    expect(paused.code, paused.stderr).toBe(0);
    expect(JSON.parse(paused.stdout)).toMatchObject({ stage: 'project', paused: true });
    const nc = await connect({ servers: t.env.natsUrl });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.consumers.info(`${t.env.namespace.toUpperCase()}_NORM`, 'project');
      expect(info.paused).toBe(true);
      // A process starting again sets the topology up as every start does: the pause survives it.
      await ensureTopology(jsm, t.runtime.topology, t.config);
      const again = await jsm.consumers.info(`${t.env.namespace.toUpperCase()}_NORM`, 'project');
      expect(again.paused).toBe(true);
      expect(again.config.pause_until).toBe(info.config.pause_until);
    } finally {
      await nc.close();
    }
    const count = await obsCount();
    await writeMany(200, 1);
    const resumed = await tmictl('pipeline', 'resume', 'project');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/paused\s+false/);
    await eventually('events written while paused projected', async () => (await obsCount()) === count + 3);
  });
});

describe('tmictl schema and psql --read-only', () => {
  it('lists kinds, shows a version, dry-runs a write', async () => {
    const list = await tmictl('schema', 'list');
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/KIND\s+COMPATIBILITY\s+LATEST\s+VERSIONS\n.*\nbus\s+BACKWARD\s+1\s+v1/);
    const show = await tmictl('schema', 'show', 'bus', '--version', '1');
    expect(show.stdout).toMatch(/driver\s+string/);
    expect(show.stdout).toMatch(/speed\s+double/);
    const check = await tmictl('schema', 'check', 'bus', '{"speed":"fast"}', '--json');
    expect(JSON.parse(check.stdout)).toMatchObject({
      would_register: true,
      compatible: false,
      changes: [{ field: 'speed', from: 'double', to: 'string' }],
    });
    const human = await tmictl('schema', 'check', 'bus', '{"speed":1,"odometer":2}');
    expect(human.stdout).toMatch(/compatible\s+true/);
    expect(human.stdout).toMatch(/odometer\s+-\s+double/);
  });

  it('psql --read-only reads the typed views and cannot write', async () => {
    const read = await tmictl('psql', '--read-only', '-At', '-c', 'SELECT count(*) FROM kinds.bus_state');
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout.trim()).toBe('3');
    const write = await tmictl('psql', '--read-only', '-c', "DELETE FROM tmi.target WHERE kind = 'bus'");
    expect(write.stderr).toMatch(/read-only transaction|permission denied/);
    expect(
      (await t.sql<{ n: number }>("SELECT count(*)::int AS n FROM tmi.target WHERE kind = 'bus'"))[0]!.n,
    ).toBe(3);
  });
});
