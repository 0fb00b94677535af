// SPDX-License-Identifier: MIT
// A PostgreSQL connection that ends under a query without an error message (the server killed, a network
// cut: node-pg's "Connection terminated unexpectedly", a plain Error with no SQLSTATE or socket code) is
// unavailability: classified retryable and answered 503 "retry", never 500. The cut is real: the pool talks
// to the test PostgreSQL through a TCP relay whose sockets the test destroys mid-query.
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { answerOfUnexpected } from '../../connectors/index.js';
import { createPool, isConnectionLost, type Pool } from '../../db/index.js';
import { classifyError } from '../../pipelines/index.js';
import { testPgAdminUrl } from '../support/env.js';
import { eventually } from '../support/tmidb.js';

let relay: net.Server;
const sockets = new Set<net.Socket>();
let pool: Pool;

beforeAll(async () => {
  const upstream = new URL(testPgAdminUrl());
  relay = net.createServer((client) => {
    const server = net.connect(Number(upstream.port), upstream.hostname);
    for (const s of [client, server]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(server).pipe(client);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const via = new URL(upstream);
  via.hostname = '127.0.0.1';
  via.port = String((relay.address() as net.AddressInfo).port);
  pool = createPool(via.toString(), 2);
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await pool?.end().catch(() => {});
  await new Promise((resolve) => relay?.close(resolve));
});

it('a connection cut under a query is classified retryable and answered 503, not 500', async () => {
  expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
  const failed = pool.query('SELECT pg_sleep(30)').then(
    () => undefined,
    (err: unknown) => err,
  );
  await eventually('the query in flight on the relay', async () => sockets.size >= 2);
  for (const s of sockets) s.destroy();
  const err = await failed;
  expect(err).toBeInstanceOf(Error);
  expect((err as { code?: unknown }).code).toBeUndefined(); // neither SQLSTATE nor socket code to go by
  expect(isConnectionLost(err)).toBe(true);
  expect(classifyError(err)).toMatchObject({ code: 'PG_CONNECTION_LOST', isRetryable: true });
  expect(answerOfUnexpected(err, 'req-1')).toMatchObject({ status: 503, code: 'UNAVAILABLE' });
  // The pool dropped the dead client: the next query connects again.
  expect((await pool.query('SELECT 2 AS two')).rows[0].two).toBe(2);
});

it('an error that is not a lost connection stays ours: 500', () => {
  const bug = new TypeError('a bug of ours');
  expect(isConnectionLost(bug)).toBe(false);
  expect(answerOfUnexpected(bug, 'req-2')).toMatchObject({ status: 500, code: 'INTERNAL_ERROR' });
});
