// SPDX-License-Identifier: MIT
// The schema as a contract, end to end: write under v1, add a field (v2), a type change refused under
// BACKWARD (409, after a dry run that names what it would break), allowed under NONE (v3); every pinned
// route returns what its version promises; the OpenAPI document and the typed SQL views follow each
// new version without a restart; deprecated and retired versions; the reader role cannot write.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureReaderLogin } from '../../ops/index.js';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

let t: TestTmidb;
let truck: string;
let van: string;

beforeAll(async () => {
  t = await startTestTmidb('schema_contract', { stages: ['capture', 'normalize', 'project'] });
  truck = (await t.request('POST', '/v1/targets', { name: 'truck-1', kind: 'vehicle' })).body.target_id;
  van = (await t.request('POST', '/v1/targets', { name: 'van-1', kind: 'vehicle' })).body.target_id;
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

async function write(target: string, data: Record<string, unknown>, ts: string) {
  return t.request('POST', `/v1/targets/${target}/events`, { ts, data });
}

async function latestVersion(): Promise<number> {
  const res = await t.request('GET', '/v1/kinds');
  return res.body.kinds.find((k: { kind: string }) => k.kind === 'vehicle')?.latest_version ?? 0;
}

async function projected(target: string, n: number): Promise<void> {
  await eventually(`${n} observations of ${target}`, async () => {
    const rows = await t.sql<{ n: number }>(
      'SELECT count(*)::int AS n FROM tmi.ts_obs WHERE target_id = $1',
      [target],
    );
    return rows[0]!.n >= n;
  });
}

async function viewColumns(view: string): Promise<Record<string, string>> {
  const rows = await t.sql<{ column_name: string; data_type: string }>(
    `SELECT column_name, data_type FROM information_schema.columns
      WHERE table_schema = 'kinds' AND table_name = $1 ORDER BY ordinal_position`,
    [view],
  );
  return Object.fromEntries(rows.map((r) => [r.column_name, r.data_type]));
}

describe('a kind through versions 1 and 2', () => {
  it('v1: typed views and the OpenAPI document hold its fields', async () => {
    expect(
      (await write(truck, { speed: 50.5, driver: 'kim', 'Temp (°C)': 4 }, '2026-11-25T10:00:00Z')).status,
    ).toBe(202);
    expect(
      (await write(van, { speed: 20, driver: 'lee', 'Temp (°C)': 5 }, '2026-11-25T10:00:00Z')).status,
    ).toBe(202);
    await projected(van, 1);
    await projected(truck, 1);
    expect(await latestVersion()).toBe(1);
    const cols1 = await viewColumns('vehicle_obs');
    expect(cols1).toMatchObject({
      speed: 'double precision',
      driver: 'text',
      'Temp (°C)': 'double precision',
    });
    expect(cols1).not.toHaveProperty('fuel');
    const doc1 = (await t.request('GET', '/openapi.json')).body;
    expect(doc1.components.schemas).toHaveProperty('vehicle_v1');
    expect(doc1.components.schemas).not.toHaveProperty('vehicle_v2');
  });

  it('v2 adds a field: pinned routes read as their version, unpinned as the latest; OpenAPI and views follow', async () => {
    expect((await write(truck, { speed: 61, driver: 'kim', fuel: 0.8 }, '2026-11-25T10:01:00Z')).status).toBe(
      202,
    );
    await projected(truck, 2);
    await eventually('version 2', async () => (await latestVersion()) === 2);

    const v1 = await t.request('GET', `/v1/kinds/vehicle/v1/targets/${truck}`);
    expect(v1.status, JSON.stringify(v1.body)).toBe(200);
    expect(v1.body).toMatchObject({ version: 1, name: 'truck-1' });
    expect(v1.body.state).toEqual({ speed: 61, driver: 'kim', 'Temp (°C)': 4 }); // fuel is v2's: absent
    const v2 = await t.request('GET', `/v1/kinds/vehicle/v2/targets/${truck}`);
    expect(v2.body.state).toEqual({ speed: 61, driver: 'kim', 'Temp (°C)': 4, fuel: 0.8 });
    const vanAsV2 = await t.request('GET', `/v1/kinds/vehicle/v2/targets/${van}`);
    expect(vanAsV2.body.state).toEqual({ speed: 20, driver: 'lee', 'Temp (°C)': 5, fuel: null }); // default
    const latest = await t.request('GET', '/v1/kinds/vehicle/targets');
    expect(latest.body.version).toBe(2);
    expect(latest.body.targets.map((x: { name: string }) => x.name).sort()).toEqual(['truck-1', 'van-1']);
    const page1 = await t.request('GET', `/v1/kinds/vehicle/v1/targets/${truck}/obs?limit=1`);
    expect(page1.body.obs).toHaveLength(1);
    const page2 = await t.request(
      'GET',
      `/v1/kinds/vehicle/v1/targets/${truck}/obs?limit=1&after=${page1.body.next}`,
    );
    expect(page2.body.obs[0].written_as).toBe(2);
    expect(page2.body).not.toHaveProperty('next');
    for (const bad of ['2026-13-01T00:00:00.000000Z,01a212f6-b712-7f50-b756-d377939032e3', 'x,y']) {
      const res = await t.request('GET', `/v1/kinds/vehicle/v1/targets/${truck}/obs?after=${bad}`);
      expect(res.status, bad).toBe(400);
    }
    expect((await t.request('GET', '/v1/kinds/vehicle/v0/targets')).status).toBe(400);
    expect((await t.request('GET', '/v1/kinds/nothing/targets')).status).toBe(404);
    const obs1 = await t.request('GET', `/v1/kinds/vehicle/v1/targets/${truck}/obs`);
    expect(obs1.body.obs.map((o: { written_as: number; data: unknown }) => [o.written_as, o.data])).toEqual([
      [1, { speed: 50.5, driver: 'kim', 'Temp (°C)': 4 }],
      [2, { speed: 61, driver: 'kim', 'Temp (°C)': null }],
    ]);

    // The OpenAPI document and the views grew with the data, without a restart.
    const doc2 = (await t.request('GET', '/openapi.json')).body;
    expect(doc2.components.schemas.vehicle_v2.properties.fuel).toEqual({ type: ['number', 'null'] });
    expect(doc2.components.schemas.vehicle_v1.properties).not.toHaveProperty('fuel');
    expect(doc2.paths).toHaveProperty(['/v1/kinds/vehicle/v2/targets/{id}']);
    expect(doc2.paths).toHaveProperty(['/v1/kinds/vehicle/v1/targets/{id}/obs']);
    expect(await viewColumns('vehicle_obs')).toMatchObject({ fuel: 'double precision' });
    expect(await viewColumns('vehicle_state')).toMatchObject({
      fuel: 'double precision',
      speed: 'double precision',
    });
  });
});

describe('a breaking change, dry run first', () => {
  it('the dry run names the listener, the alarm rule, the versions in use and the views; writes nothing', async () => {
    const listener = await t.request('POST', '/v1/listeners', {
      name: 'dispatch',
      subscriptions: [{ kind: 'vehicle', fields: ['speed', 'driver'] }],
    });
    expect(listener.status, JSON.stringify(listener.body)).toBe(201);
    await t.request('POST', '/v1/listeners', {
      name: 'fuel-desk',
      subscriptions: [{ kind: 'vehicle', fields: ['fuel'] }],
    });
    const rule = await t.request('POST', '/v1/alarm-rules', {
      name: 'overspeed',
      kind: 'vehicle',
      severity: 'major',
      type: 'threshold',
      condition: { all: [{ field: 'speed', op: '>', value: 120 }] },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const versionsBefore = await t.sql('SELECT subject, version FROM tmi.model_versions ORDER BY 1, 2');

    const check = await t.request('POST', '/v1/schemas/vehicle/check', { data: { speed: 'fast' } });
    expect(check.status, JSON.stringify(check.body)).toBe(200);
    expect(check.body).toMatchObject({
      would_register: true,
      compatible: false,
      mode: 'BACKWARD',
      version: 3,
      changes: [{ field: 'speed', from: 'double', to: 'string' }],
      affected: {
        listeners: ['dispatch'],
        alarm_rules: ['overspeed'],
        versions_in_use: [1, 2],
        views: ['kinds.vehicle_obs', 'kinds.vehicle_state'],
      },
    });
    const harmless = await t.request('POST', '/v1/schemas/vehicle/check', {
      data: { speed: 3, odometer: 10 },
    });
    expect(harmless.body).toMatchObject({
      would_register: true,
      compatible: true,
      changes: [{ field: 'odometer', from: null, to: 'double' }],
      affected: { listeners: [], alarm_rules: [], versions_in_use: [] },
    });
    const covered = await t.request('POST', '/v1/schemas/vehicle/check', { data: { speed: 3 } });
    expect(covered.body).toMatchObject({ would_register: false, compatible: true, version: 2, changes: [] });
    expect(await t.sql('SELECT subject, version FROM tmi.model_versions ORDER BY 1, 2')).toEqual(
      versionsBefore,
    );
  });
});

describe('a breaking change: 409 under BACKWARD, version 3 under NONE', () => {
  it('under BACKWARD a type change is a 409 naming field, types and mode; under NONE it is v3', async () => {
    const refused = await write(truck, { speed: 'fast' }, '2026-11-25T10:02:00Z');
    expect(refused.status).toBe(409);
    expect(refused.contentType).toContain('application/problem+json');
    expect(refused.body.detail).toMatch(
      /field 'speed' .* is double in version 2, cannot become string under compatibility BACKWARD/,
    );

    const mode = await t.request('PUT', '/v1/schemas/vehicle/compatibility', { compatibility: 'NONE' });
    expect(mode.body).toEqual({ kind: 'vehicle', compatibility: 'NONE' });
    expect(
      (await t.request('PUT', '/v1/schemas/vehicle/compatibility', { compatibility: 'SOMETIMES' })).status,
    ).toBe(400);
    expect((await write(truck, { speed: 'fast', driver: 'kim' }, '2026-11-25T10:02:00Z')).status).toBe(202);
    await projected(truck, 3);
    await eventually('version 3', async () => (await latestVersion()) === 3);

    const v3 = await t.request('GET', `/v1/kinds/vehicle/v3/targets/${truck}`);
    expect(v3.status, JSON.stringify(v3.body)).toBe(200);
    expect(v3.body.state).toMatchObject({ speed: 'fast', fuel: 0.8 });
    // v1 cannot read speed as written by v3 (string → double): refused, clearly, never a wrong value.
    const v1 = await t.request('GET', `/v1/kinds/vehicle/v1/targets/${truck}`);
    expect(v1.status).toBe(422);
    expect(v1.body).toMatchObject({ code: 'VERSION_UNREADABLE' });
    expect(v1.body.detail).toMatch(/field 'speed' is string in version 3 and double in version 1/);
    const v2obs = await t.request('GET', `/v1/kinds/vehicle/v2/targets/${truck}/obs?to=2026-11-25T10:01:30Z`);
    expect(v2obs.body.obs).toHaveLength(2); // before the change, v2 still reads
    expect(await viewColumns('vehicle_obs')).toMatchObject({ speed: 'text', fuel: 'double precision' });
    // Older rows of another JSON type read as NULL in the view, never as an error.
    const rows = await t.sql<{ speed: string | null }>(
      'SELECT speed FROM kinds.vehicle_obs WHERE target_id = $1 ORDER BY ts',
      [truck],
    );
    expect(rows.map((r) => r.speed)).toEqual([null, null, 'fast']);
    const kinds = (await t.request('GET', '/v1/kinds')).body.kinds;
    expect(kinds).toEqual([
      expect.objectContaining({ kind: 'vehicle', compatibility: 'NONE', latest_version: 3 }),
    ]);
  });
});

describe('the lifecycle of a version', () => {
  it('deprecated versions carry Deprecation and Sunset; retired ones answer 410 naming the successor', async () => {
    const dep = await t.request('PUT', '/v1/schemas/vehicle/versions/2/status', {
      status: 'deprecated',
      sunset: '2027-01-31T00:00:00Z',
    });
    expect(dep.status, JSON.stringify(dep.body)).toBe(200);
    const res = await fetch(`${t.url}/v1/kinds/vehicle/v2/targets/${van}`, {
      headers: { authorization: `Bearer ${t.adminKey}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('deprecation')).toMatch(/^@\d+$/);
    expect(res.headers.get('sunset')).toBe('Sun, 31 Jan 2027 00:00:00 GMT');
    expect(res.headers.get('link')).toBe('</v1/kinds/vehicle/v3/targets>; rel="successor-version"');
    const doc = (await t.request('GET', '/openapi.json')).body;
    expect(doc.paths['/v1/kinds/vehicle/v2/targets'].get.deprecated).toBe(true);

    expect(
      (await t.request('PUT', '/v1/schemas/vehicle/versions/1/status', { status: 'retired' })).status,
    ).toBe(200);
    const gone = await t.request('GET', `/v1/kinds/vehicle/v1/targets/${van}`);
    expect(gone.status).toBe(410);
    expect(gone.body).toMatchObject({ code: 'SCHEMA_VERSION_RETIRED' });
    expect(gone.body.detail).toMatch(/move to version 3/);
    expect((await t.request('GET', '/openapi.json')).body.paths).not.toHaveProperty([
      '/v1/kinds/vehicle/v1/targets',
    ]);
    expect((await t.request('GET', '/v1/kinds/vehicle/v9/targets')).status).toBe(404);
  });
});

describe('SQL', () => {
  it('the reader role reads the views and projections and cannot write, even out of read-only mode', async () => {
    const readerUrl = await ensureReaderLogin(t.env.pgUrl, t.config.home);
    const reader = new pg.Client({ connectionString: readerUrl });
    await reader.connect();
    try {
      const { rows } = await reader.query('SELECT name, driver FROM kinds.vehicle_state ORDER BY name');
      expect(rows).toEqual([
        { name: 'truck-1', driver: 'kim' },
        { name: 'van-1', driver: 'lee' },
      ]);
      await expect(
        reader.query("INSERT INTO tmi.target (target_id, name, kind) VALUES (gen_random_uuid(), 'x', 'y')"),
      ).rejects.toMatchObject({ code: '25006' });
      await reader.query('SET default_transaction_read_only = off');
      for (const sql of [
        "INSERT INTO tmi.target (target_id, name, kind) VALUES (gen_random_uuid(), 'x', 'y')",
        'DELETE FROM tmi.ts_obs',
        'SELECT * FROM tmi.api_key',
        'CREATE TABLE kinds.mine (a int)',
      ]) {
        await expect(reader.query(sql), sql).rejects.toMatchObject({ code: '42501' });
      }
    } finally {
      await reader.end();
    }
  });

  it('partitions live in tmi_partitions: tmi holds the tables, not their days', async () => {
    const inTmi = await t.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE c.relnamespace = 'tmi'::regnamespace`,
    );
    expect(inTmi[0]!.n).toBe(0);
    const moved = await t.sql<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'tmi_partitions'::regnamespace AND relkind = 'r'",
    );
    expect(moved[0]!.n).toBeGreaterThan(0);
    // Every coming day is covered already: the maintenance makes nothing (and takes no lock).
    const ranges = await t.sql<{ n: number }>(
      "SELECT count(*)::int AS n FROM tmi.partition_ranges('tmi.ts_obs')",
    );
    expect(ranges[0]!.n).toBeGreaterThanOrEqual(38);
    expect(await t.sql('SELECT tmi.premake_partitions(7) AS made')).toEqual([{ made: 0 }]);
  });
});
