// SPDX-License-Identifier: MIT
// Listeners end to end: subscriptions by target, by kind and by kind + meta, each with its fields; the
// fanout stage delivers only subscribed fields of subscribed targets to the listener's stream, and its
// REST endpoint shows the same. `ready` means attached: an event written right after it arrives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';
import { TestWsClient } from '../support/ws-client.js';

let t: TestTmidb;
const clients: TestWsClient[] = [];

beforeAll(async () => {
  t = await startTestTmidb('listeners');
});
afterAll(async () => {
  for (const c of clients) c.terminate();
  await t?.stop();
});

async function target(kind: string, meta: Record<string, unknown> = {}): Promise<string> {
  const res = await t.request('POST', '/v1/targets', { name: `${kind}-x`, kind, meta });
  expect(res.status).toBe(201);
  return res.body.target_id;
}

async function listenerKey(listener: string): Promise<string> {
  const res = await t.request('POST', '/v1/keys', { name: `${listener} key`, scope: 'listener', listener });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.key;
}

async function write(targetId: string, data: Record<string, unknown>, ts?: string): Promise<string> {
  const res = await t.request('POST', `/v1/targets/${targetId}/events`, { data, ...(ts ? { ts } : {}) });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.event_ids[0];
}

async function connect(token: string, listener?: string): Promise<TestWsClient> {
  const c = await TestWsClient.connect(t.url, { token, listener });
  clients.push(c);
  return c;
}

describe('field masking', () => {
  it('a listener subscribed to temp of A never receives lat of A or anything of B, by WS or REST', async () => {
    const a = await target('probe');
    const b = await target('probe');
    const created = await t.request('POST', '/v1/listeners', {
      name: 'temp_of_a',
      subscriptions: [{ target_id: a, fields: ['temp'] }],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'temp_of_a', endpoint: '/api/temp_of_a' });
    const key = await listenerKey('temp_of_a');
    const ws = await connect(key);
    expect(ws.frames[0]).toMatchObject({ type: 'ready', listener: 'temp_of_a' });

    await write(a, { temp: 21.5, lat: 48.1 });
    await write(b, { temp: 99, lat: 1 });
    await write(a, { lat: 48.2 }); // holds no subscribed field: not sent at all
    // `last` is the barrier: fanout applies TMI_NORM in order and the stream keeps it, so a copy of an
    // earlier write that should not have been sent would have arrived before it.
    const last = await write(a, { temp: 22, lat: 48.3, secret: 'x' });
    await ws.waitFor((f) => f.event_id === last);

    expect(ws.events.map((e) => e.data)).toEqual([{ temp: 21.5 }, { temp: 22 }]);
    expect(ws.events.every((e) => e.target_id === a && e.type === 'event')).toBe(true);
    expect(ws.events[0]!.cursor).toBeLessThan(ws.events[1]!.cursor!);
    expect(JSON.stringify(ws.frames)).not.toMatch(/"lat"|"secret"|:99[,}]/);

    await eventually('state projected', async () => {
      const s = await t.request('GET', `/v1/targets/${a}`);
      return s.body.state.temp?.value === 22;
    });
    const listenerAuth = { authorization: `Bearer ${key}` };
    const mine = await t.request('GET', '/api/temp_of_a', undefined, listenerAuth);
    expect(mine.status).toBe(200);
    expect(mine.body.targets).toHaveLength(1);
    expect(mine.body.targets[0]).toMatchObject({ target_id: a, kind: 'probe' });
    expect(Object.keys(mine.body.targets[0].state)).toEqual(['temp']);
    expect(mine.body.targets[0].state.temp.value).toBe(22);

    const one = await t.request('GET', `/api/temp_of_a/${a}`, undefined, listenerAuth);
    expect(Object.keys(one.body.state)).toEqual(['temp']);
    const obs = await t.request('GET', `/api/temp_of_a/${a}/obs`, undefined, listenerAuth);
    expect(obs.status).toBe(200);
    expect(obs.body.rows.map((r: { data: unknown }) => r.data)).toEqual([{ temp: 21.5 }, { temp: 22 }]);
    const asked = await t.request(
      'GET',
      `/api/temp_of_a/${a}/obs?fields=lat,secret`,
      undefined,
      listenerAuth,
    );
    expect(asked.body.rows).toEqual([]);
    const buckets = await t.request(
      'GET',
      `/api/temp_of_a/${a}/obs?fields=temp,lat&bucket=1d&from=2000-01-01T00:00:00Z`,
      undefined,
      listenerAuth,
    );
    expect(buckets.status).toBe(200);
    expect(Object.keys(buckets.body.rows[0].fields)).toEqual(['temp']);

    // B and unknown targets answer alike: 404, the same words.
    const forB = await t.request('GET', `/api/temp_of_a/${b}`, undefined, listenerAuth);
    const unknown = await t.request(
      'GET',
      '/api/temp_of_a/00000000-0000-4000-8000-000000000000',
      undefined,
      listenerAuth,
    );
    expect(forB.status).toBe(404);
    expect(unknown.status).toBe(404);
    expect(forB.body.detail.replace(b, 'X')).toBe(unknown.body.detail.replace(/[0-9a-f-]{36}/, 'X'));
    expect((await t.request('GET', `/api/temp_of_a/${b}/obs`, undefined, listenerAuth)).status).toBe(404);
  });
});

describe('subscriptions by kind', () => {
  it('kind + meta filter, several subscriptions merged, applied to the next event after the change', async () => {
    const berlin = await target('bus', { city: 'berlin', line: 7 });
    const paris = await target('bus', { city: 'paris', line: 7 });
    const tram = await target('tram', { city: 'berlin' });
    const res = await t.request('POST', '/v1/listeners', {
      name: 'berlin-buses',
      subscriptions: [
        { kind: 'bus', meta: { city: 'berlin' }, fields: ['speed'] },
        { target_id: berlin, fields: ['doors'] },
      ],
    });
    expect(res.status).toBe(201);
    const ws = await connect(t.adminKey, 'berlin-buses');
    await write(paris, { speed: 50, doors: 'open' });
    await write(tram, { speed: 30 });
    const e1 = await write(berlin, { speed: 40, doors: 'closed', driver: 'x' });
    await ws.waitFor((f) => f.event_id === e1);
    expect(ws.events.map((e) => [e.target_id, e.data])).toEqual([[berlin, { speed: 40, doors: 'closed' }]]);

    // A bus moved to berlin (meta change) is covered from the next event on; a new subscription too.
    expect(
      (await t.request('PATCH', `/v1/targets/${paris}`, { meta: { city: 'berlin', line: 7 } })).status,
    ).toBe(200);
    const added = await t.request('POST', '/v1/listeners/berlin-buses/subscriptions', { kind: 'tram' });
    expect(added.status).toBe(201);
    expect(added.body.subscriptions).toHaveLength(3);
    const e2 = await write(paris, { speed: 51, doors: 'open' });
    const e3 = await write(tram, { speed: 31, extra: true });
    await ws.waitFor((f) => f.event_id === e3);
    expect(ws.events.slice(1).map((e) => [e.event_id, e.data])).toEqual([
      [e2, { speed: 51 }],
      [e3, { speed: 31, extra: true }],
    ]);

    const rest = await t.request('GET', '/api/berlin-buses');
    expect(rest.status).toBe(200);
    expect(rest.body.targets.map((x: { target_id: string }) => x.target_id).sort()).toEqual(
      [berlin, paris, tram].sort(),
    );

    // Removing a subscription stops delivery from the next event.
    const tramSub = added.body.subscriptions.find((s: { kind: string | null }) => s.kind === 'tram');
    expect(
      (await t.request('DELETE', `/v1/listeners/berlin-buses/subscriptions/${tramSub.subscription_id}`))
        .status,
    ).toBe(204);
    await write(tram, { speed: 32 });
    const e5 = await write(berlin, { speed: 41 });
    await ws.waitFor((f) => f.event_id === e5);
    expect(ws.events.some((e) => e.data?.speed === 32)).toBe(false);
  });
});

describe('ready', () => {
  it('is sent only once the stream is attached: an event written right after it arrives', async () => {
    const id = await target('ping');
    await t.request('POST', '/v1/listeners', { name: 'ready-check', subscriptions: [{ target_id: id }] });
    for (let round = 0; round < 5; round++) {
      const ws = await connect(t.adminKey, 'ready-check');
      const eventId = await write(id, { round });
      const frame = await ws.waitFor((f) => f.event_id === eventId, 15_000);
      expect(frame.data).toEqual({ round });
      expect(frame.cursor).toBeGreaterThan(ws.readyCursor);
      ws.close();
    }
  });

  it('resume from a cursor replays what came after it; from "oldest" replays what is retained', async () => {
    const id = await target('replay');
    await t.request('POST', '/v1/listeners', { name: 'replayer', subscriptions: [{ target_id: id }] });
    const live = await connect(t.adminKey, 'replayer');
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await write(id, { i }));
    await live.waitForEvents(5);
    const second = live.events[1]!.cursor!;
    const resumed = await TestWsClient.connect(t.url, {
      token: t.adminKey,
      listener: 'replayer',
      start: { type: 'resume', cursor: second },
    });
    clients.push(resumed);
    await resumed.waitForEvents(3);
    expect(resumed.readyCursor).toBe(second);
    expect(resumed.events.map((e) => e.event_id)).toEqual(ids.slice(2));
    const oldest = await TestWsClient.connect(t.url, {
      token: t.adminKey,
      listener: 'replayer',
      start: { type: 'subscribe', from: 'oldest' },
    });
    clients.push(oldest);
    await oldest.waitForEvents(5);
    expect(oldest.events.map((e) => e.event_id)).toEqual(ids);
  });
});

describe('listener CRUD', () => {
  it('creates, lists, renames, replaces subscriptions, refuses bad input, deletes with its keys', async () => {
    const bad = [
      { name: '9starts-with-digit' },
      { name: 'x', subscriptions: [{ kind: 'a', target_id: '00000000-0000-4000-8000-000000000000' }] },
      { name: 'x', subscriptions: [{}] },
      { name: 'x', subscriptions: [{ target_id: '00000000-0000-4000-8000-000000000000', meta: { a: 1 } }] },
      { name: 'x', subscriptions: [{ kind: 'a', meta: { nested: { no: 1 } } }] },
      { name: 'x', subscriptions: [{ kind: 'a', fields: ['bad\nfield'] }] },
    ];
    for (const body of bad) {
      const res = await t.request('POST', '/v1/listeners', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.contentType).toContain('application/problem+json');
    }
    expect((await t.request('POST', '/v1/listeners', { name: 'crud' })).status).toBe(201);
    expect((await t.request('POST', '/v1/listeners', { name: 'crud' })).status).toBe(409);
    const key = await listenerKey('crud');
    const list = await t.request('GET', '/v1/listeners?limit=1000');
    expect(list.body.listeners.map((l: { name: string }) => l.name)).toContain('crud');
    const patched = await t.request('PATCH', '/v1/listeners/crud', {
      name: 'crud2',
      subscriptions: [{ kind: 'probe', fields: ['temp'], alarms: true }],
    });
    expect(patched.status).toBe(200);
    expect(patched.body.subscriptions).toMatchObject([{ kind: 'probe', fields: ['temp'], alarms: true }]);
    expect((await t.request('GET', '/api/crud2', undefined, { authorization: `Bearer ${key}` })).status).toBe(
      200,
    );
    expect((await t.request('DELETE', '/v1/listeners/crud2')).status).toBe(204);
    expect((await t.request('GET', '/v1/listeners/crud2')).status).toBe(404);
    const gone = await t.request('GET', '/api/crud2', undefined, { authorization: `Bearer ${key}` });
    expect(gone.status).toBe(401);
  });
});

describe('alarms', () => {
  it('reach the listeners that asked for them, with values of unsubscribed fields removed', async () => {
    const boiler = await target('boiler');
    const mk = (name: string, fields: string[], alarms: boolean) =>
      t.request('POST', '/v1/listeners', { name, subscriptions: [{ target_id: boiler, fields, alarms }] });
    expect((await mk('boiler-watch', ['temp'], true)).status).toBe(201);
    expect((await mk('boiler-masked', ['rpm'], true)).status).toBe(201);
    expect((await mk('boiler-quiet', ['temp'], false)).status).toBe(201);
    const rule = await t.request('POST', '/v1/alarm-rules', {
      name: 'boiler too hot',
      type: 'threshold',
      target_id: boiler,
      severity: 'major',
      condition: { all: [{ field: 'temp', op: '>', value: 90 }] },
    });
    expect(rule.status, JSON.stringify(rule.body)).toBe(201);
    const watch = await connect(t.adminKey, 'boiler-watch');
    const masked = await connect(t.adminKey, 'boiler-masked');
    const quiet = await connect(t.adminKey, 'boiler-quiet');
    await write(boiler, { temp: 95, rpm: 1200 });
    const raised = await watch.waitFor((f) => f.type === 'alarm', 30_000);
    expect(raised).toMatchObject({
      type: 'alarm',
      target_id: boiler,
      data: { transition: 'raised', severity: 'major', rule_name: 'boiler too hot', values: { temp: 95 } },
    });
    expect(raised.cursor).toBeGreaterThan(0);
    const hidden = await masked.waitFor((f) => f.type === 'alarm', 30_000);
    expect(hidden.data).toMatchObject({ transition: 'raised', values: {}, fields: [] });
    expect(hidden.data).not.toHaveProperty('reason');
    expect(JSON.stringify(hidden)).not.toMatch(/"temp"|:95[,}]/);
    const lastEvent = await write(boiler, { temp: 20 });
    await quiet.waitFor((f) => f.event_id === lastEvent);
    expect(quiet.frames.some((f) => f.type === 'alarm')).toBe(false);
    // The clear transition follows for the watchers, in order after the raise.
    const cleared = await watch.waitFor(
      (f) => f.type === 'alarm' && f.data?.transition === 'cleared',
      30_000,
    );
    expect(cleared.cursor!).toBeGreaterThan(raised.cursor!);
  });
});
