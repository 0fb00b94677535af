// SPDX-License-Identifier: MIT
// One poison event, not a message: an event refused past the door goes to the dead-letter subject alone —
// its neighbours in the same JetStream message land everywhere. Dead letters show in `tmictl dlq`,
// `pipeline status`, /healthz (degraded) and /metrics, and a replay after the fix applies the event exactly
// once: in its stage, and nowhere else again (listener frames included).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeEventBatch, encodePayload, nowMicros, uuidv7 } from '../../schemas/index.js';
import { countRows, eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

const tmictl = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../dist/cli/tmictl.js');
const run = promisify(execFile);

let t: TestTmidb;
beforeAll(async () => {
  t = await startTestTmidb('one_poison_event');
});
afterAll(async () => {
  await t?.stop();
});

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [tmictl, ...args], { env: t.childEnv }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => err,
  );
}

async function dlqDepth(): Promise<number> {
  const jsm = await jetstreamManager(t.runtime.nc);
  return (await jsm.streams.info(t.runtime.topology.streams.dlq.name)).state.messages;
}

async function landed(eventId: string): Promise<{ raw: number; obs: number }> {
  const [row] = await t.sql<{ raw: number; obs: number }>(
    `SELECT (SELECT count(*)::int FROM tmi.raw_bucket WHERE event_id = $1) AS raw,
            (SELECT count(*)::int FROM tmi.ts_obs WHERE event_id = $1) AS obs`,
    [eventId],
  );
  return row!;
}

/** Publishes one message of three events straight to TMI_IN, past the door: the middle one holds a NUL. */
async function publishPastTheDoor(targetId: string): Promise<string[]> {
  const datas = [
    { n: 1, s: 'ok' },
    { n: 2, s: 'a\u0000b' },
    { n: 3, s: 'fine' },
  ];
  // The registry refuses the NUL (the door); the schema of the clean shape encodes it all the same.
  const schema = await t.runtime.registry.ensure('poisoned', [{ n: 0, s: '' }]);
  const envelopes = datas.map((data) => ({
    event_id: uuidv7(),
    target_id: targetId,
    kind: 'poisoned',
    speaker: 'test',
    occurred_at: nowMicros(),
    received_at: nowMicros(),
    schema_id: schema.schemaId,
    payload: encodePayload(schema, data),
    attrs: {},
  }));
  await jetstream(t.runtime.nc).publish(t.runtime.topology.inSubject(targetId), encodeEventBatch(envelopes), {
    msgID: `past-the-door-${envelopes[0]!.event_id}`,
  });
  return envelopes.map((e) => e.event_id);
}

it('dead-letters only the poison event of a message, in every stage that refuses it', async () => {
  const target = (await t.request('POST', '/v1/targets', { name: 'p', kind: 'poisoned' })).body.target_id;
  const [clean1, poison, clean2] = await publishPastTheDoor(target);
  await eventually('the clean neighbours projected', async () => {
    const [a, b] = [await landed(clean1!), await landed(clean2!)];
    return a.obs === 1 && b.obs === 1 && a.raw === 1 && b.raw === 1;
  });
  // capture (raw_bucket) and project (ts_obs) refuse the NUL; normalize, geo, alarm and fanout can carry it.
  await eventually('two dead letters', async () => (await dlqDepth()) === 2);
  expect(await landed(poison!)).toEqual({ raw: 0, obs: 0 });
  const state = await t.sql<{ field: string; value: unknown }>(
    'SELECT field, value FROM tmi.target_state WHERE target_id = $1 ORDER BY field',
    [target],
  );
  expect(state).toEqual([
    { field: 'n', value: 3 },
    { field: 's', value: 'fine' },
  ]);

  const list = await cli('dlq', 'list', '--json');
  expect(list.code, list.stderr).toBe(0);
  const entries = JSON.parse(list.stdout) as { stage: string; eventId: string; code: string }[];
  expect(entries.map((e) => [e.stage, e.eventId, e.code]).sort()).toEqual([
    ['capture', poison, 'PG_22P05'],
    ['project', poison, 'PG_22P05'],
  ]);
  const table = await cli('dlq', 'list');
  expect(table.stdout).toMatch(/^SEQ\s+STAGE\s+CODE\s+EVENTID/);
  expect(table.stdout).toContain(poison);

  const health = await t.request('GET', '/healthz');
  expect(health.status).toBe(200);
  expect(health.body).toMatchObject({ status: 'degraded', dead_letters: 2 });
  const metrics = String((await t.request('GET', '/metrics')).body);
  expect(metrics).toMatch(/tmidb_stage_dead_letters\{stage="capture"\} 1/);
  expect(metrics).toMatch(/tmidb_stage_dead_letters\{stage="project"\} 1/);
  expect(metrics).toMatch(/tmidb_stage_events_failed_total\{stage="project",code="PG_22P05"\} 1/);
  const status = await cli('pipeline', 'status', '--json');
  const rows = JSON.parse(status.stdout) as { stage: string; deadLettered: number }[];
  expect(Object.fromEntries(rows.map((r) => [r.stage, r.deadLettered]))).toMatchObject({
    capture: 1,
    normalize: 0,
    project: 1,
    geo: 0,
    alarm: 0,
    fanout: 0,
  });
});

it('replays a dead letter after the fix: applied once in its stage, nowhere else again', async () => {
  const jsm = await jetstreamManager(t.runtime.nc);
  for (const seq of (await listSeqs()).all)
    await jsm.streams.deleteMessage(t.runtime.topology.streams.dlq.name, seq);
  const target = (await t.request('POST', '/v1/targets', { name: 'c', kind: 'checked' })).body.target_id;
  const listener = await t.request('POST', '/v1/listeners', {
    name: 'watch_checked',
    subscriptions: [{ target_id: target, fields: ['p'] }],
  });
  expect(listener.status).toBe(201);
  // A rule the data breaks, for now: ts_obs refuses p = 'poison' (23514, a permanent error).
  await t.sql(
    `ALTER TABLE tmi.ts_obs ADD CONSTRAINT p_not_poison CHECK (payload->>'p' IS DISTINCT FROM 'poison')`,
  );
  const write = await t.request('POST', `/v1/targets/${target}/events`, [
    { data: { p: 'a' } },
    { data: { p: 'poison' } },
    { data: { p: 'b' } },
  ]);
  expect(write.status).toBe(202);
  const [a, poison, b] = write.body.event_ids as string[];
  await eventually('one dead letter', async () => (await dlqDepth()) === 1);
  await eventually(
    'the neighbours projected',
    async () => (await landed(a!)).obs + (await landed(b!)).obs === 2,
  );
  const listenSubject = t.runtime.topology.listenSubject(listener.body.listener_id, target);
  const frames = async () =>
    (await jsm.streams.info(t.runtime.topology.streams.listen.name, { subjects_filter: listenSubject })).state
      .messages;
  await eventually('three listener frames', async () => (await frames()) === 3);
  const [entry] = JSON.parse((await cli('dlq', 'list', '--stage', 'project', '--json')).stdout);
  expect(entry).toMatchObject({ stage: 'project', eventId: poison, code: 'PG_23514' });
  const shown = await cli('dlq', 'show', String(entry.seq), '--json');
  expect(JSON.parse(shown.stdout).events).toMatchObject([{ event_id: poison, target_id: target }]);

  await t.sql('ALTER TABLE tmi.ts_obs DROP CONSTRAINT p_not_poison');
  const replay = await cli('dlq', 'replay', String(entry.seq));
  expect(replay.code, replay.stderr).toBe(0);
  await eventually('the replayed event projected', async () => (await landed(poison!)).obs === 1);
  expect(await dlqDepth()).toBe(0);
  // A second replay finds nothing; the event stays applied once everywhere.
  const again = await cli('dlq', 'replay', String(entry.seq));
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(/no dead letter/);
  await waitForStagesIdle();
  expect(await landed(poison!)).toEqual({ raw: 1, obs: 1 });
  expect(await frames()).toBe(3);
  expect(await countRows(t, 'ts_obs')).toBe(
    (await t.sql<{ n: number }>('SELECT count(DISTINCT event_id)::int AS n FROM tmi.ts_obs'))[0]!.n,
  );
  const health = await t.request('GET', '/healthz');
  expect(health.body).toMatchObject({ status: 'ok', dead_letters: 0 });
});

async function listSeqs(): Promise<{ all: number[] }> {
  const entries = JSON.parse((await cli('dlq', 'list', '--json')).stdout) as { seq: number }[];
  return { all: entries.map((e) => e.seq) };
}

/** Every stage has acknowledged everything in its stream (nothing pending, nothing in flight). */
async function waitForStagesIdle(): Promise<void> {
  const jsm = await jetstreamManager(t.runtime.nc);
  await eventually('stages idle', async () => {
    for (const spec of Object.values(t.runtime.topology.stages)) {
      const info = await jsm.consumers.info(spec.stream, spec.durable);
      if (info.num_pending > 0 || info.num_ack_pending > 0) return false;
    }
    return true;
  });
}

it('a message whose bytes claim 268 M events is dead-lettered where TMI_IN is read, and the stages go on', async () => {
  // avsc trusted the block count and read past the 5-byte body until the process ran out of memory.
  const target = (await t.request('POST', '/v1/targets', { name: 'q', kind: 'poisoned' })).body.target_id;
  await jetstream(t.runtime.nc).publish(
    t.runtime.topology.inSubject(target),
    new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x01]),
    { msgID: `overrun-${target}` },
  );
  const after = await t.request('POST', `/v1/targets/${target}/events`, { data: { n: 4, s: 'after' } });
  expect(after.status).toBe(202);
  await eventually('the write after the poison projected', async () => {
    const [row] = await t.sql<{ n: number }>(
      'SELECT count(*)::int AS n FROM tmi.ts_obs WHERE target_id = $1',
      [target],
    );
    return row!.n === 1;
  });
  await eventually('capture and normalize dead-lettered it', async () => {
    const list = await cli('dlq', 'list', '--json');
    const entries = JSON.parse(list.stdout) as { stage: string; code: string }[];
    const overrun = entries.filter((e) => e.code === 'ENVELOPE_UNDECODABLE').map((e) => e.stage);
    return overrun.sort().join(',') === 'capture,normalize';
  });
});
