// SPDX-License-Identifier: MIT
// Replaying TMI_IN through the normalize stage after the model changed gives exactly the first run's
// output: decisions were made once, persisted, and are applied by event order, not by what the model
// says today.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  FieldNormalizer,
  normalizeStage,
  type OutboundMessage,
  previewNormalize,
  type StageMessage,
  shippedModelPath,
} from '../../processors/index.js';
import { decodeEventBatch, decodePayload } from '../../schemas/index.js';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

let t: TestTmidb;
beforeAll(async () => {
  t = await startTestTmidb('normalizer_replay', { config: { normalizeDefaultRole: 'auto' } });
});
afterAll(async () => {
  await t?.stop();
});

/** The shipped model with its labels reversed: the same network, different answers. */
function changedModel(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tmidb-model-'));
  const file = path.join(dir, 'changed.onnx');
  copyFileSync(shippedModelPath, file);
  const meta = JSON.parse(readFileSync(shippedModelPath.replace(/\.onnx$/, '.json'), 'utf8'));
  writeFileSync(
    path.join(dir, 'changed.json'),
    JSON.stringify({ ...meta, version: 'test-changed', labels: [...meta.labels].reverse() }),
  );
  return file;
}

async function inputMessages(targetId: string): Promise<StageMessage[]> {
  const js = jetstream(t.runtime.nc);
  const consumer = await js.consumers.get(t.runtime.topology.stages.normalize.stream, {
    filter_subjects: [`${t.config.namespace}.in.${targetId}`],
  });
  const out: StageMessage[] = [];
  for await (const m of await consumer.fetch({ max_messages: 100, expires: 1000 })) {
    out.push({ seq: m.seq, subject: m.subject, body: m.data, headers: {}, deliveryCount: 1 });
  }
  return out;
}

it("gives the first run's output whatever the model says today", async () => {
  const target = await t.request('POST', '/v1/targets', { name: 'replayed', kind: 'replay_kind' });
  const id = target.body.target_id as string;
  const writes = [
    { tempF: 68, serial_no: 'SN-1' },
    { tempF: 70, pressure_kPa: 101.3, 온도: 21 },
    { humidity_pct: 40, tempF: 72 },
  ];
  const ids: string[] = [];
  for (const [i, data] of writes.entries()) {
    const res = await t.request('POST', `/v1/targets/${id}/events`, { ts: `2026-05-01T00:0${i}:00Z`, data });
    expect(res.status).toBe(202);
    ids.push(res.body.event_ids[0]);
  }
  const first = new Map<string, unknown>();
  await eventually('all projected', async () => {
    const rows = await t.sql<{ event_id: string; payload: unknown }>(
      'SELECT event_id, payload FROM tmi.ts_obs WHERE event_id = ANY($1::uuid[])',
      [ids],
    );
    for (const r of rows) first.set(r.event_id, r.payload);
    return first.size === ids.length;
  });
  expect(first.get(ids[0]!)).toEqual({ temperature: 20, serial_no: 'SN-1' });

  // The changed model answers differently for the same names…
  const changed = new FieldNormalizer(t.runtime.pool, {
    modelPath: changedModel(),
    autoMin: 0.8,
    suggestMin: 0.3,
  });
  const asked = await previewNormalize(changed, 'never_seen_kind', { tempF: 68 }, [], Date.now() * 1000);
  expect(asked.model.version).toBe('test-changed');
  expect(asked.fields[0]!.canonical).not.toBe('temperature');
  const decisionsBefore = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM tmi.mapping_rule');

  // …and the replay of TMI_IN through a normalize stage running it reproduces the first output.
  const published: OutboundMessage[] = [];
  const stage = normalizeStage({
    pool: t.runtime.pool,
    registry: t.runtime.registry,
    publish: async (messages) => {
      published.push(...messages);
    },
    checkpointName: 'replay-test',
    inputStream: t.runtime.topology.stages.normalize.stream,
    outputSubject: t.runtime.topology.normSubject,
    nowMicros: () => Date.now() * 1000,
    normalizer: changed,
  });
  const batch = await inputMessages(id);
  expect(batch.length).toBeGreaterThan(0);
  await stage.handle(batch);
  const replayed = new Map<string, unknown>();
  for (const m of published) {
    for (const e of decodeEventBatch(m.body)) {
      replayed.set(e.event_id, decodePayload(await t.runtime.registry.byId(e.schema_id), e.payload));
    }
  }
  expect(Object.fromEntries(replayed)).toEqual(Object.fromEntries(first));
  const decisionsAfter = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM tmi.mapping_rule');
  expect(decisionsAfter[0]!.n).toBe(decisionsBefore[0]!.n);
  await changed.close();
});
