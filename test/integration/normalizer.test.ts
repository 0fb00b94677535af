// SPDX-License-Identifier: MIT
// The AI normalizer end to end: speakers' names mapped onto canonical fields by the ONNX model, once per
// new (kind, field), with units converted; suggestions for a person; aliases; replay determinism.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';
import { TestWsClient } from '../support/ws-client.js';

let t: TestTmidb;
beforeAll(async () => {
  t = await startTestTmidb('normalizer', { config: { normalizeDefaultRole: 'auto' } });
});
afterAll(async () => {
  await t?.stop();
});

async function target(kind: string): Promise<string> {
  const res = await t.request('POST', '/v1/targets', { name: `${kind}-1`, kind });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.target_id;
}

async function write(id: string, ts: string, data: Record<string, unknown>): Promise<string> {
  const res = await t.request('POST', `/v1/targets/${id}/events`, { ts, data });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.event_ids[0];
}

async function projected(eventId: string): Promise<Record<string, unknown>> {
  let payload: Record<string, unknown> | undefined;
  await eventually(`event ${eventId} projected`, async () => {
    const rows = await t.sql<{ payload: Record<string, unknown> }>(
      'SELECT payload FROM tmi.ts_obs WHERE event_id = $1',
      [eventId],
    );
    payload = rows[0]?.payload;
    return payload !== undefined;
  });
  return payload!;
}

async function raw(eventId: string): Promise<unknown> {
  let payload: unknown;
  await eventually(`event ${eventId} captured`, async () => {
    const rows = await t.sql<{ payload: unknown }>('SELECT payload FROM tmi.raw_bucket WHERE event_id = $1', [
      eventId,
    ]);
    payload = rows[0]?.payload;
    return payload !== undefined;
  });
  return payload;
}

describe('a Korean, Fahrenheit and kPa payload', () => {
  it('ends up as temperature and pressure in °C and hPa; raw_bucket keeps what was written', async () => {
    const kr = await target('station_kr');
    const us = await target('car_us');
    const a = await write(kr, '2026-05-01T00:00:00Z', { 온도: 21.5, '기압 (kPa)': 101.3 });
    const b = await write(us, '2026-05-01T00:00:00Z', { tempF: 68, odometer_mi: 100 });
    expect(await projected(a)).toEqual({ temperature: 21.5, pressure: 1013 });
    expect(await projected(b)).toEqual({ temperature: 20, odometer: 160.9344 });
    expect(await raw(a)).toEqual({ 온도: 21.5, '기압 (kPa)': 101.3 });
    const state = await t.request('GET', `/v1/targets/${kr}`);
    expect(state.body.state.temperature.value).toBe(21.5);
    const rules = await t.sql<{
      field: string;
      to_field: string;
      source: string;
      model_version: string;
      confidence: number;
    }>(
      `SELECT field, to_field, source, model_version, confidence FROM tmi.mapping_rule WHERE kind = 'station_kr' ORDER BY field`,
    );
    expect(rules.map((r) => [r.field, r.to_field, r.source])).toEqual([
      ['기압 (kPa)', 'pressure', 'model'],
      ['온도', 'temperature', 'model'],
    ]);
    expect(rules[0]!.model_version).toMatch(/^1\./);
    expect(rules[0]!.confidence).toBeGreaterThanOrEqual(t.config.normalizeAutoMin);
  });
});

describe('preview', () => {
  it('answers for every top-level field and writes nothing', async () => {
    const before = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM tmi.normalize_decision');
    const res = await t.request('POST', '/v1/normalize/preview', {
      kind: 'preview_kind',
      data: { tempF: 68, serial_no: 'SN-1', humidity: 40 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    const [temp, serial, humidity] = res.body.fields;
    expect(temp).toMatchObject({
      field: 'tempF',
      canonical: 'temperature',
      from_unit: 'F',
      to_unit: 'C',
      value: 20,
      decision: 'auto',
    });
    expect(serial).toMatchObject({ field: 'serial_no', canonical: null, from_unit: null, decision: 'keep' });
    expect(humidity).toMatchObject({
      field: 'humidity',
      canonical: null,
      decision: 'keep',
      reason: 'already a canonical field',
    });
    const clash = await t.request('POST', '/v1/normalize/preview', {
      kind: 'preview_kind',
      data: { temperature: 21, tempF: 68 },
    });
    expect(clash.body.fields[1]).toMatchObject({
      field: 'tempF',
      canonical: null,
      value: 68,
      decision: 'keep',
    });
    expect(clash.body.fields[1].reason).toMatch(/'temperature' is already taken/);
    const after = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM tmi.normalize_decision');
    expect(after[0]!.n).toBe(before[0]!.n);
  });
});

async function suggestionsOf(kind: string, status = 'all') {
  const res = await t.request('GET', `/v1/mapping-suggestions?kind=${kind}&status=${status}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.suggestions as {
    suggestion_id: string;
    field: string;
    status: string;
    samples: unknown[];
    reason: string;
    canonical: string | null;
  }[];
}

async function decisionOf(kind: string, field: string) {
  let row: { decision: string } | undefined;
  await eventually(`decision on ${kind}.${field}`, async () => {
    [row] = await t.sql<{ decision: string }>(
      'SELECT decision FROM tmi.normalize_decision WHERE kind = $1 AND field = $2',
      [kind, field],
    );
    return row !== undefined;
  });
  return row!;
}

describe('a person in the loop', () => {
  it('an approved suggestion applies to events received after the approval, never before', async () => {
    expect((await t.request('PUT', '/v1/normalize/kinds/sugg_kind', { model_role: 'suggest' })).status).toBe(
      200,
    );
    const id = await target('sugg_kind');
    const first = await write(id, '2026-05-01T00:00:00Z', { tempF: 68 });
    expect(await projected(first)).toEqual({ tempF: 68 });
    expect((await decisionOf('sugg_kind', 'tempF')).decision).toBe('suggest');
    const [s] = await suggestionsOf('sugg_kind', 'pending');
    expect(s).toMatchObject({ field: 'tempF', canonical: 'temperature', status: 'pending', samples: [68] });
    expect(s!.reason).toMatch(/role is suggest/);
    const approved = await t.request('POST', `/v1/mapping-suggestions/${s!.suggestion_id}/approve`, {});
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body.status).toBe('approved');
    const again = await t.request('POST', `/v1/mapping-suggestions/${s!.suggestion_id}/reject`);
    expect(again.status).toBe(409);
    const later = await write(id, '2026-05-01T00:01:00Z', { tempF: 50 });
    expect(await projected(later)).toEqual({ temperature: 10 });
    expect(await projected(first)).toEqual({ tempF: 68 });
  });

  it('an approval may correct the canonical field and unit', async () => {
    expect((await t.request('PUT', '/v1/normalize/kinds/fix_kind', { model_role: 'suggest' })).status).toBe(
      200,
    );
    const id = await target('fix_kind');
    await projected(await write(id, '2026-05-01T00:00:00Z', { hum: 45 }));
    await decisionOf('fix_kind', 'hum');
    const pending = await suggestionsOf('fix_kind', 'pending');
    const bad = await t.request('POST', `/v1/mapping-suggestions/${pending[0]!.suggestion_id}/approve`, {
      canonical: 'battery',
      from_unit: 'furlong',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/no conversion from furlong to %/);
    const ok = await t.request('POST', `/v1/mapping-suggestions/${pending[0]!.suggestion_id}/approve`, {
      canonical: 'battery',
      from_unit: 'fraction',
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(await projected(await write(id, '2026-05-01T00:01:00Z', { hum: 0.45 }))).toEqual({ battery: 45 });
  });

  it('a rejected suggestion never comes back and its field stays as written', async () => {
    expect((await t.request('PUT', '/v1/normalize/kinds/rej_kind', { model_role: 'suggest' })).status).toBe(
      200,
    );
    const id = await target('rej_kind');
    await projected(await write(id, '2026-05-01T00:00:00Z', { humid_pct: 40 }));
    await decisionOf('rej_kind', 'humid_pct');
    const [s] = await suggestionsOf('rej_kind', 'pending');
    expect((await t.request('POST', `/v1/mapping-suggestions/${s!.suggestion_id}/reject`)).status).toBe(200);
    // The model's role changes to auto, a new target of the kind writes the field again: still nothing.
    expect((await t.request('PUT', '/v1/normalize/kinds/rej_kind', { model_role: 'auto' })).status).toBe(200);
    const other = await target('rej_kind');
    const later = await write(other, '2026-05-01T00:02:00Z', { humid_pct: 41 });
    expect(await projected(later)).toEqual({ humid_pct: 41 });
    const all = await suggestionsOf('rej_kind');
    expect(all.map((x) => [x.field, x.status])).toEqual([['humid_pct', 'rejected']]);
  });
});

describe('clashes', () => {
  it('two fields mapping to one canonical field: the one already canonical wins, the other stays and is explained', async () => {
    const id = await target('clash_kind');
    const e = await write(id, '2026-05-01T00:00:00Z', { temperature: 20, tempF: 70 });
    expect(await projected(e)).toEqual({ temperature: 20, tempF: 70 });
    let clash: { field: string; reason: string }[] = [];
    await eventually('clash suggestion', async () => {
      clash = (await suggestionsOf('clash_kind')).filter(
        (s) => (s as unknown as { cause: string }).cause === 'clash',
      );
      return clash.length === 1;
    });
    expect(clash[0]!.field).toBe('tempF');
    expect(clash[0]!.reason).toMatch(/already holds 'temperature'/);
  });
});

describe('aliases', () => {
  it("a speaker's name keeps working wherever a client names a field, and the answer says so", async () => {
    const listener = await t.request('POST', '/v1/listeners', {
      name: 'alias-listener',
      subscriptions: [{ kind: 'alias_kind', fields: ['tempF'] }],
    });
    expect(listener.status, JSON.stringify(listener.body)).toBe(201);
    const key = await t.request('POST', '/v1/keys', {
      name: 'alias',
      scope: 'listener',
      listener: 'alias-listener',
    });
    const ws = await TestWsClient.connect(t.url, { token: key.body.key });
    try {
      // The listener was created before the first event: it still gets its field, as `temperature`.
      const id = await target('alias_kind');
      expect(await projected(await write(id, '2026-05-01T00:00:00Z', { tempF: 68, note: 'x' }))).toEqual({
        temperature: 20,
        note: 'x',
      });
      await ws.waitForEvents(1);
      expect(ws.events[0]!.data).toEqual({ temperature: 20 });

      const obs = await t.request('GET', `/v1/targets/${id}/obs?fields=tempF`);
      expect(obs.status, JSON.stringify(obs.body)).toBe(200);
      expect(obs.body.aliases).toEqual({ tempF: 'temperature' });
      expect(obs.body.rows[0].data).toEqual({ temperature: 20 });

      const schema = await t.request('GET', '/v1/schemas/alias_kind?normalized=true');
      expect(schema.body.aliases).toEqual({ temperature: ['tempF'] });

      const rule = await t.request('POST', '/v1/mapping-rules', {
        kind: 'alias_kind',
        field: 'tempF',
        action: 'convert',
        unit: 'c->f',
      });
      expect(rule.status, JSON.stringify(rule.body)).toBe(201);
      expect(rule.body).toMatchObject({ field: 'temperature', resolved_from: 'tempF', source: 'user' });
      await t.request('DELETE', `/v1/mapping-rules/${rule.body.rule_id}`);

      const alarm = await t.request('POST', '/v1/alarm-rules', {
        name: 'hot',
        type: 'threshold',
        kind: 'alias_kind',
        condition: { all: [{ field: 'tempF', op: '>', value: 30 }] },
      });
      expect(alarm.status, JSON.stringify(alarm.body)).toBe(201);
      expect(alarm.body.aliases).toEqual({ tempF: 'temperature' });
      expect(alarm.body.condition.all[0].field).toBe('temperature');
    } finally {
      ws.terminate();
    }
  });
});

describe('an alarm rule written before its field was mapped', () => {
  it('follows the mapping: events mapped later are read under the name the rule was written with', async () => {
    expect((await t.request('PUT', '/v1/normalize/kinds/late_kind', { model_role: 'suggest' })).status).toBe(
      200,
    );
    const rule = await t.request('POST', '/v1/alarm-rules', {
      name: 'late-hot',
      type: 'threshold',
      kind: 'late_kind',
      condition: { all: [{ field: 'tempF', op: '>', value: 60 }] },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    expect(rule.body.condition.all[0].field).toBe('tempF'); // nothing mapped yet: the name stays
    const id = await target('late_kind');
    // As written (suggest only): 50 is not above 60.
    expect(await projected(await write(id, '2026-05-01T00:00:00Z', { tempF: 50 }))).toEqual({ tempF: 50 });
    const [s] = await suggestionsOf('late_kind', 'pending');
    expect(s).toMatchObject({ field: 'tempF', canonical: 'temperature' });
    expect((await t.request('POST', `/v1/mapping-suggestions/${s!.suggestion_id}/approve`, {})).status).toBe(
      200,
    );
    // Mapped from now on: 212 °F becomes temperature 100, which the rule reads under `tempF`.
    expect(await projected(await write(id, '2026-05-01T00:01:00Z', { tempF: 212 }))).toEqual({
      temperature: 100,
    });
    let alarms: { rule_id: string; state: string; fields?: Record<string, unknown> }[] = [];
    await eventually('the rule raised an alarm on the mapped field', async () => {
      const res = await t.request('GET', `/v1/alarms?target_id=${id}&state=active`);
      alarms = res.body.alarms ?? [];
      return alarms.length === 1;
    });
    expect(alarms[0]).toMatchObject({ rule_id: rule.body.rule_id, state: 'active' });
  });
});

describe('vocabulary', () => {
  it('lists the default set, adds a user field, refuses duplicates and deleting shipped ones', async () => {
    const list = await t.request('GET', '/v1/vocabulary');
    expect(list.status).toBe(200);
    expect(list.body.fields).toHaveLength(30);
    expect(list.body.fields.find((f: { name: string }) => f.name === 'pressure')).toMatchObject({
      unit: 'hPa',
      builtin: true,
    });
    const add = await t.request('POST', '/v1/vocabulary', {
      name: 'soil_moisture',
      unit: '%',
      description: 'Volumetric.',
    });
    expect(add.status, JSON.stringify(add.body)).toBe(201);
    expect(add.body).toEqual({
      name: 'soil_moisture',
      unit: '%',
      description: 'Volumetric.',
      builtin: false,
    });
    expect((await t.request('POST', '/v1/vocabulary', { name: 'soil_moisture', unit: '%' })).status).toBe(
      409,
    );
    expect((await t.request('POST', '/v1/vocabulary', { name: 'Bad Name', unit: '%' })).status).toBe(400);
    const builtin = await t.request('DELETE', '/v1/vocabulary/temperature');
    expect(builtin.status).toBe(409);
    expect(builtin.body.code).toBe('VOCABULARY_BUILTIN');
    expect((await t.request('DELETE', '/v1/vocabulary/soil_moisture')).status).toBe(204);
    expect((await t.request('DELETE', '/v1/vocabulary/soil_moisture')).status).toBe(404);
  });
});
