// SPDX-License-Identifier: MIT
// The /tmi/ws gateway under stress: a client whose connection is cut again and again while 10,000 events
// flow ends with every event exactly once, in per-target order; a client that stops reading is closed
// with 4008 while the gateway's buffer stays bounded and another client is unaffected; expired tokens,
// cursors beyond retention, bad frames and limits get their documented close codes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenService } from '../../api/auth/index.js';
import type { WsGateway } from '../../api/ws/gateway.js';
import { closeCodes } from '../../api/ws/protocol.js';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';
import { TestWsClient, type WsFrame } from '../support/ws-client.js';

const sendBufferBytesMax = 256 * 1024;
const connectionsPerKeyMax = 4;
let t: TestTmidb;
let gateway: WsGateway;
const open: TestWsClient[] = [];

beforeAll(async () => {
  t = await startTestTmidb('ws_gateway', {
    config: {
      wsSendBufferBytesMax: sendBufferBytesMax,
      wsSendStallMs: 1500,
      wsConnectionsPerKeyMax: connectionsPerKeyMax,
      wsAuthTimeoutMs: 3000,
      wsFrameBytesMax: 4096,
    },
  });
  gateway = t.runtime.app!.wsGateway;
});
afterAll(async () => {
  for (const c of open) c.terminate();
  await t?.stop();
});

async function setup(
  listener: string,
  kind: string,
  targets: number,
): Promise<{ key: string; ids: string[] }> {
  const ids: string[] = [];
  for (let i = 0; i < targets; i++) {
    const res = await t.request('POST', '/v1/targets', { name: `${kind}-${i}`, kind });
    ids.push(res.body.target_id);
  }
  expect(
    (await t.request('POST', '/v1/listeners', { name: listener, subscriptions: [{ kind }] })).status,
  ).toBe(201);
  const key = await t.request('POST', '/v1/keys', { name: listener, scope: 'listener', listener });
  return { key: key.body.key, ids };
}

async function connect(opts: Parameters<typeof TestWsClient.connect>[1]): Promise<TestWsClient> {
  const c = await TestWsClient.connect(t.url, opts);
  open.push(c);
  return c;
}

/** The writer of the resume test stays at most this many events ahead of the reader, so cuts land mid-flow. */
const writerLeadEventsMax = 2_000;

describe('gap-free resume', () => {
  it('10,000 events, the connection cut ≥ 20 times: every event exactly once, in per-target order', async () => {
    const total = 10_000;
    const perRequest = 100;
    const { key, ids } = await setup('resumer', 'meter', 20);
    const first = await connect({ token: key });
    let cursor = first.readyCursor;
    first.close();

    // The writer: 100 requests of 100 events over 20 targets, each event numbered per target; it waits
    // for the reader whenever it is writerLeadEventsMax ahead.
    const sent: string[] = [];
    const received: WsFrame[] = [];
    const writer = (async () => {
      const next = new Map<string, number>();
      for (let r = 0; r < total / perRequest; r++) {
        const batch = Array.from({ length: perRequest }, (_, i) => {
          const target_id = ids[(r * perRequest + i) % ids.length]!;
          const n = next.get(target_id) ?? 0;
          next.set(target_id, n + 1);
          return { target_id, data: { n, r } };
        });
        const res = await t.request('POST', '/v1/events', batch);
        expect(res.status).toBe(202);
        sent.push(...res.body.event_ids);
        await eventually(
          'the reader to catch up with the writer',
          () => sent.length - received.length <= writerLeadEventsMax,
          60_000,
        );
      }
    })();

    // The reader: resume, read a random few hundred, cut (abruptly or politely), repeat.
    let cuts = 0;
    const deadline = Date.now() + 120_000;
    while (received.length < total) {
      expect(Date.now(), `${received.length} of ${total} after ${cuts} cuts`).toBeLessThan(deadline);
      const c = await TestWsClient.open(t.url, { token: key, start: { type: 'resume', cursor } });
      const quota = 100 + Math.floor(Math.random() * 300);
      await c.waitForEvents(Math.min(quota, total - received.length), 60_000);
      // The client processed `quota` frames and then its connection died: the rest are lost.
      const got = c.events.slice(0, quota);
      if (cuts % 2 === 0) c.terminate();
      else c.close();
      cuts++;
      for (const e of got) {
        received.push(e);
        cursor = e.cursor!;
      }
    }
    await writer;

    expect(cuts).toBeGreaterThanOrEqual(20);
    expect(received).toHaveLength(total);
    const eventIds = received.map((e) => e.event_id);
    expect(new Set(eventIds).size).toBe(total);
    expect(new Set(eventIds)).toEqual(new Set(sent));
    for (let i = 1; i < received.length; i++)
      expect(received[i]!.cursor!).toBeGreaterThan(received[i - 1]!.cursor!);
    const perTarget = new Map<string, number[]>();
    for (const e of received)
      perTarget.set(e.target_id!, [...(perTarget.get(e.target_id!) ?? []), e.data!.n]);
    for (const [, ns] of perTarget) expect(ns).toEqual(ns.map((_, i) => i));
    console.log(
      `[ws resume] ${total} events, ${cuts} cuts, ${gateway.stats().framesSent} frames sent in all`,
    );
  });
});

describe('slow consumer', () => {
  it('a client that stops reading is closed with 4008, memory stays bounded, another client is unaffected', async () => {
    const total = 2000;
    const { key, ids } = await setup('slowpoke', 'blob', 1);
    const fastKey = (
      await t.request('POST', '/v1/keys', { name: 'fast', scope: 'listener', listener: 'slowpoke' })
    ).body.key;
    const slow = await connect({ token: key });
    const fast = await connect({ token: fastKey });
    slow.ws.pause(); // stops reading: the kernel buffers fill, then the gateway's
    const memBefore = process.memoryUsage();
    const peakBefore = gateway.bufferedBytesPeak;
    const blob = 'x'.repeat(6000);
    for (let i = 0; i < total; i += 50) {
      const batch = Array.from({ length: 50 }, (_, k) => ({ data: { i: i + k, blob } }));
      expect((await t.request('POST', `/v1/targets/${ids[0]}/events`, batch)).status).toBe(202);
    }
    await fast.waitForEvents(total, 60_000);
    await eventually('the gateway to close the slow client', () => gateway.closedSlow > 0);
    const memAfter = process.memoryUsage();
    expect(gateway.closedSlow).toBe(1);
    const streamedBytes = fast.events.reduce((n, e) => n + JSON.stringify(e).length, 0);
    const peak = gateway.bufferedBytesPeak;
    // The gateway never held more for one client than its bound plus one frame (~6 KB),
    // while ~12 MB went to the fast client.
    expect(peak).toBeLessThanOrEqual(sendBufferBytesMax + 8 * 1024);
    expect(streamedBytes).toBeGreaterThan(10 * 1024 * 1024);

    slow.ws.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(closeCodes.slowConsumer);
    const error = slow.frames[slow.frames.length - 1]!;
    expect(error).toMatchObject({ type: 'error', code: 'SLOW_CONSUMER' });
    expect(slow.events.length).toBeLessThan(total);
    // It resumes from its last cursor and gets the rest: nothing lost, nothing twice.
    const again = await connect({ token: key, start: { type: 'resume', cursor: slow.lastCursor! } });
    await again.waitForEvents(total - slow.events.length, 60_000);
    const all = [...slow.events, ...again.events].map((e) => e.data!.i);
    expect(all).toEqual(Array.from({ length: total }, (_, i) => i));
    // The fast client got everything in order and is still open.
    expect(fast.events.map((e) => e.data!.i)).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(fast.ws.readyState).toBe(fast.ws.OPEN);
    console.log(
      `[ws slow consumer] peak buffered for one client ${peak} B (bound ${sendBufferBytesMax} B; before this test ${peakBefore} B), ` +
        `${(streamedBytes / 1048576).toFixed(1)} MiB streamed to the fast client, ` +
        `rss ${((memAfter.rss - memBefore.rss) / 1048576).toFixed(1)} MiB, heap ${((memAfter.heapUsed - memBefore.heapUsed) / 1048576).toFixed(1)} MiB over the test`,
    );
  });
});

describe('protocol and limits', () => {
  it('a token that expires closes the stream with 4001 TOKEN_EXPIRED', async () => {
    const { ids } = await setup('expiry', 'clock', 1);
    const created = await t.request('POST', '/v1/keys', {
      name: 'expiry',
      scope: 'listener',
      listener: 'expiry',
    });
    const tokens = TokenService.load(t.config);
    const minted = await tokens.mint(
      { keyId: created.body.key_id, scope: 'listener', listener: 'expiry' },
      2000,
    );
    const c = await connect({ token: minted.token });
    await t.request('POST', `/v1/targets/${ids[0]}/events`, { data: { tick: 1 } });
    await c.waitForEvents(1);
    const closed = await c.closed;
    expect(closed.code).toBe(closeCodes.unauthenticated);
    expect(c.frames[c.frames.length - 1]).toMatchObject({ type: 'error', code: 'TOKEN_EXPIRED' });
    expect(Date.now()).toBeGreaterThanOrEqual(minted.expiresAtMs - 50);
  });

  it('answers ping, closes bad frames (4000), unknown listeners (4004), speaker keys (4003), late auth (4001)', async () => {
    await setup('proto', 'gizmo', 1);
    const c = await connect({ token: t.adminKey, listener: 'proto' });
    c.send({ type: 'ping' });
    await c.waitFor((f) => f.type === 'pong');
    c.send('not json');
    expect((await c.closed).code).toBe(closeCodes.badRequest);

    const cases: [Record<string, unknown>[], number, string][] = [
      [[{ type: 'subscribe' }], closeCodes.badRequest, 'AUTH_FIRST'],
      [[{ type: 'auth', token: 'tmi_nope' }], closeCodes.unauthenticated, 'UNAUTHENTICATED'],
      [
        [{ type: 'auth', token: t.adminKey, listener: 'nobody' }],
        closeCodes.listenerNotFound,
        'LISTENER_NOT_FOUND',
      ],
      [[{ type: 'auth', token: t.adminKey }], closeCodes.badRequest, 'LISTENER_REQUIRED'],
      [
        [
          { type: 'auth', token: t.adminKey, listener: 'proto' },
          { type: 'resume', cursor: 1e12 },
        ],
        closeCodes.cursorUnavailable,
        'CURSOR_UNKNOWN',
      ],
    ];
    const speaker = await t.request('POST', '/v1/keys', {
      name: 's',
      scope: 'speaker',
      grants: { kinds: ['gizmo'] },
    });
    cases.push([
      [{ type: 'auth', token: speaker.body.key, listener: 'proto' }],
      closeCodes.forbidden,
      'FORBIDDEN',
    ]);
    for (const [frames, code, errCode] of cases) {
      const raw = await TestWsClient.open(t.url, { token: '', raw: true });
      for (const f of frames) raw.send(f);
      const closed = await raw.closed;
      expect(closed.code, JSON.stringify(frames)).toBe(code);
      expect(raw.frames[raw.frames.length - 1]).toMatchObject({ type: 'error', code: errCode });
      expect(JSON.stringify(raw.frames)).not.toContain(t.adminKey);
    }
    const silent = await TestWsClient.open(t.url, { token: '', raw: true });
    expect((await silent.closed).code).toBe(closeCodes.unauthenticated);
    const big = await TestWsClient.open(t.url, { token: '', raw: true });
    big.send({ type: 'auth', token: 'x'.repeat(5000) });
    expect((await big.closed).code).toBe(closeCodes.messageTooBig);
  });
});

describe('limits, revocation and retention', () => {
  it('refuses more than TMIDB_WS_CONNECTIONS_PER_KEY_MAX streams per key with 4009', async () => {
    const { key } = await setup('crowd', 'crowdy', 0);
    const clients = [];
    for (let i = 0; i < connectionsPerKeyMax; i++) clients.push(await connect({ token: key }));
    const extra = await TestWsClient.open(t.url, { token: key });
    expect((await extra.closed).code).toBe(closeCodes.tooManyConnections);
    // The slot is free once the gateway has dropped the stream (it stops counting it as streaming).
    const streaming = gateway.stats().streaming;
    clients[0]!.close();
    await clients[0]!.closed;
    await eventually('the gateway to drop the closed stream', () => gateway.stats().streaming < streaming);
    const again = await connect({ token: key });
    expect(again.frames[0]!.type).toBe('ready');
  });

  it('a key revoked while streaming closes its stream with 4001', async () => {
    await setup('revoked', 'revo', 0);
    const created = await t.request('POST', '/v1/keys', {
      name: 'r',
      scope: 'listener',
      listener: 'revoked',
    });
    const c = await connect({ token: created.body.key });
    expect((await t.request('DELETE', `/v1/keys/${created.body.key_id}`)).status).toBe(204);
    expect((await c.closed).code).toBe(closeCodes.unauthenticated);
    expect(c.frames[c.frames.length - 1]).toMatchObject({ type: 'error', code: 'KEY_REVOKED' });
  });

  it('a cursor older than the retention of TMI_LISTEN gets 4010 CURSOR_EXPIRED with the oldest cursor', async () => {
    await setup('late', 'lateky', 0);
    const stream = t.runtime.topology.streams.listen.name;
    const jsm = await (await import('@nats-io/jetstream')).jetstreamManager(t.runtime.nc);
    await jsm.streams.purge(stream); // as if retention had dropped everything so far
    const info = await jsm.streams.info(stream);
    const raw = await TestWsClient.open(t.url, {
      token: t.adminKey,
      listener: 'late',
      start: { type: 'resume', cursor: 1 },
    });
    expect((await raw.closed).code).toBe(closeCodes.cursorUnavailable);
    expect(raw.frames[raw.frames.length - 1]).toMatchObject({
      type: 'error',
      code: 'CURSOR_EXPIRED',
      oldest_cursor: info.state.first_seq - 1,
    });
    expect(String(raw.frames[raw.frames.length - 1]!.message)).toMatch(/older than the retention/);
  });
});
