// SPDX-License-Identifier: MIT
// Stopping tmiDB with streams open: every stream gets the SHUTTING_DOWN frame and close code 1001, and the
// stop does not wait on a client that never answers the close handshake (a frozen tab): the gateway drops
// its socket after wsCloseGraceMs instead of ws's own 30 s close timeout.
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { wsCloseGraceMs } from '../../api/ws/gateway.js';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';
import { TestWsClient } from '../support/ws-client.js';

/** ws closes an unanswered handshake after 30 s; the test fails well before that if the grace is ignored. */
const stopWithinMs = 20_000;

let t: TestTmidb;
let stopped = false;

beforeAll(async () => {
  t = await startTestTmidb('ws_shutdown');
});
afterAll(async () => {
  if (!stopped) await t?.stop();
});

/** Upgrades a raw socket to /tmi/ws, then never reads again: the close frame is never answered. */
async function frozenClient(url: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.write(
        'GET /tmi/ws HTTP/1.1\r\n' +
          `Host: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
    });
    socket.once('data', (head) => {
      if (!head.toString().startsWith('HTTP/1.1 101')) reject(new Error(`no upgrade: ${head}`));
      else resolve();
    });
  });
  socket.on('error', () => {});
  socket.pause();
  return socket;
}

it(
  'a stop closes every stream with 1001 and drops a client that never answers the close',
  async () => {
    const listener = await t.request('POST', '/v1/listeners', { name: 'l', subscriptions: [{ kind: 'k' }] });
    expect(listener.status).toBe(201);
    const key = await t.request('POST', '/v1/keys', { name: 'l', scope: 'listener', listener: 'l' });
    const polite = await TestWsClient.connect(t.url, { token: key.body.key });
    const frozen = await frozenClient(t.url);
    let frozenDropped = false;
    frozen.once('close', () => {
      frozenDropped = true;
    });
    const gateway = t.runtime.app!.wsGateway;
    await eventually('both streams open at the gateway', async () => gateway.stats().connections === 2);

    stopped = true;
    await t.stop();

    const closed = await polite.closed;
    expect(closed.code).toBe(1001);
    expect(polite.frames.at(-1)).toMatchObject({ type: 'error', code: 'SHUTTING_DOWN' });
    frozen.resume(); // a paused socket would not read the server's FIN
    await eventually('the frozen socket dropped by the server', async () => frozenDropped);
    expect(gateway.stats().connections).toBe(0);
  },
  stopWithinMs + wsCloseGraceMs,
);
