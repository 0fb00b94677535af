// SPDX-License-Identifier: MIT
// Whatever a projection would refuse is refused at the door: a property test sends arbitrary JSON data
// (any Unicode, NUL, lone surrogates, deep nesting, huge and tiny numbers, long and odd keys) over REST and
// NATS and asserts that each write is either refused with a 4xx, or lands in every projection (raw_bucket,
// ts_obs, target_state) — and that nothing ever reaches a dead-letter subject.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { accept, TargetKindCache } from '../../connectors/index.js';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

let t: TestTmidb;
beforeAll(async () => {
  t = await startTestTmidb('refused_at_the_door');
});
afterAll(async () => {
  await t?.stop();
});

/** One character: mostly any code point, often one PostgreSQL's text cannot hold. */
const char = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom('\u0000', '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uFFFF') },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
);
const text = fc.array(char, { maxLength: 12 }).map((cs) => cs.join(''));
const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(1e308, -1e308, 5e-324, -5e-324, -0, Number.MAX_VALUE, 2 ** 53 + 1, 0.1),
  fc.integer(),
);
const key = fc.oneof(
  { weight: 12, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_]{60,70}$/) },
  { weight: 1, arbitrary: text },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', '', 'a\u0000b', '\uD800') },
);
const { tree } = fc.letrec<{ tree: unknown; leaf: unknown }>((tie) => ({
  leaf: fc.oneof(text, number, fc.boolean(), fc.constant(null)),
  tree: fc.oneof(
    { depthSize: 'small', maxDepth: 12 },
    tie('leaf'),
    // Arrays of one kind mostly: a mixed array is refused, which says little.
    fc.array(text, { maxLength: 4 }),
    fc.array(number, { maxLength: 4 }),
    fc.array(tie('tree'), { maxLength: 3 }),
    fc.dictionary(key, tie('tree'), { maxKeys: 4 }),
  ),
}));
const data = fc.dictionary(key, tree, { minKeys: 1, maxKeys: 5 });

/** Cases per transport; TMIDB_TEST_PROPERTY_RUNS=<n> for a deeper search (bounded by default: seconds). */
const runs = Number(process.env.TMIDB_TEST_PROPERTY_RUNS ?? 60);
/** A fixed seed: the same cases every run (TMIDB_TEST_PROPERTY_SEED=<n> explores others). */
const seed = Number(process.env.TMIDB_TEST_PROPERTY_SEED ?? 20261125);

let targets = 0;
/** A fresh target of a fresh kind per write: a schema conflict with an earlier case proves nothing here. */
async function newTarget(): Promise<string> {
  const res = await t.request('POST', '/v1/targets', { name: `door-${targets}`, kind: `door${targets++}` });
  expect(res.status).toBe(201);
  return res.body.target_id;
}

async function dlqDepth(): Promise<number> {
  const jsm = await jetstreamManager(t.runtime.nc);
  return (await jsm.streams.info(t.runtime.topology.streams.dlq.name)).state.messages;
}

async function landedEverywhere(eventId: string, targetId: string, fields: number): Promise<boolean> {
  const [row] = await t.sql<{ raw: number; obs: number; state: number }>(
    `SELECT (SELECT count(*)::int FROM tmi.raw_bucket WHERE event_id = $1) AS raw,
            (SELECT count(*)::int FROM tmi.ts_obs WHERE event_id = $1) AS obs,
            (SELECT count(*)::int FROM tmi.target_state WHERE target_id = $2 AND event_id = $1) AS state`,
    [eventId, targetId],
  );
  return row!.raw === 1 && row!.obs === 1 && row!.state === fields;
}

/** Top-level fields that reach target_state: a null value is no state. */
function stateFields(d: Record<string, unknown>): number {
  return Object.values(d).filter((v) => v !== null && v !== undefined).length;
}

type Outcome = { status: number; eventId?: string; body: unknown };

/** How the cases ended: a property that only ever refuses would prove nothing about landing. */
const tally = { landed: 0, refused: 0 };

async function writeRest(targetId: string, d: unknown): Promise<Outcome> {
  const res = await t.request('POST', `/v1/targets/${targetId}/events`, { data: d });
  return { status: res.status, eventId: res.body?.event_ids?.[0], body: res.body };
}

async function writeNats(targetId: string, d: unknown): Promise<Outcome> {
  const h = natsHeaders();
  h.set('Authorization', `Bearer ${t.adminKey}`);
  const subject = `${t.runtime.topology.speakPrefix}${targetId}`;
  const reply = await t.runtime.nc.request(subject, JSON.stringify({ data: d }), {
    timeout: 10_000,
    headers: h,
  });
  const body = reply.json<{ event_id?: string; error?: { status: number } }>();
  return { status: body.error?.status ?? 202, eventId: body.event_id, body };
}

/** Either a 4xx with a problem, or the event in every projection; never a dead letter, never a 5xx. */
async function refusedOrLanded(
  write: (targetId: string, d: unknown) => Promise<Outcome>,
  d: Record<string, unknown>,
): Promise<void> {
  const targetId = await newTarget();
  const before = await dlqDepth();
  const out = await write(targetId, d);
  expect(out.status, JSON.stringify(out.body)).not.toBeGreaterThanOrEqual(500);
  if (out.status >= 400) {
    tally.refused++;
    return;
  }
  expect(out.status).toBe(202);
  const eventId = out.eventId!;
  let landed = false;
  await eventually('landed or dead-lettered', async () => {
    landed = await landedEverywhere(eventId, targetId, stateFields(d));
    return landed || (await dlqDepth()) > before;
  });
  expect(await dlqDepth(), 'dead letters').toBe(before);
  expect(landed).toBe(true);
  tally.landed++;
}

it('refuses at the door with a 4xx, or projects everywhere — over REST', async () => {
  await fc.assert(
    fc.asyncProperty(data, (d) => refusedOrLanded(writeRest, d)),
    { numRuns: runs, seed, endOnFailure: true },
  );
  console.info(`REST: ${tally.landed} landed, ${tally.refused} refused`);
  expect(tally.landed).toBeGreaterThanOrEqual(5);
  expect(tally.refused).toBeGreaterThanOrEqual(5);
});

it('refuses at the door with a 4xx, or projects everywhere — over NATS', async () => {
  await fc.assert(
    fc.asyncProperty(data, (d) => refusedOrLanded(writeNats, d)),
    { numRuns: Math.ceil(runs / 2), seed: seed + 1, endOnFailure: true },
  );
});

/** The shared door the coming connectors (poll, sql, kafka, files) call: accept() itself. */
async function writeAccept(targetId: string, d: unknown): Promise<Outcome> {
  const ctx = {
    config: t.config,
    js: jetstream(t.runtime.nc),
    registry: t.runtime.registry,
    topology: t.runtime.topology,
    metrics: t.runtime.metrics,
    targets: new TargetKindCache(t.runtime.pool),
  };
  try {
    const result = await accept(ctx, [{ target_id: targetId, data: d }], {
      speaker: 'test',
      transport: 'http',
    });
    return { status: 202, eventId: result.event_ids[0], body: result };
  } catch (err) {
    const e = err as { status?: number; message?: string };
    return { status: e.status ?? 503, body: e.message };
  }
}

it('refuses at the door with a 4xx, or projects everywhere — through accept() (connectors)', async () => {
  await fc.assert(
    fc.asyncProperty(data, (d) => refusedOrLanded(writeAccept, d)),
    { numRuns: Math.ceil(runs / 2), seed: seed + 1, endOnFailure: true },
  );
});

it('refuses the known cases by name, before the PubAck', async () => {
  const cases: [string, unknown][] = [
    ['NUL in a string', { tags: ['ok', 'a\u0000'] }],
    ['a lone high surrogate', { s: 'x\uD800' }],
    ['a lone low surrogate', { s: '\uDC00y' }],
  ];
  for (const [name, d] of cases) {
    const targetId = await newTarget();
    const rest = await t.request('POST', `/v1/targets/${targetId}/events`, [{ data: { n: 1 } }, { data: d }]);
    expect(rest.status, name).toBe(400);
    expect(rest.body.code, name).toBe('INVALID_DATA');
    expect(rest.body.detail, name).toMatch(/events\[1\].*(NUL|surrogate)/);
    const nats = await writeNats(targetId, d);
    expect(nats.status, name).toBe(400);
    const stored = await t.sql('SELECT 1 FROM tmi.raw_bucket WHERE target_id = $1', [targetId]);
    expect(stored, name).toEqual([]);
  }
});
