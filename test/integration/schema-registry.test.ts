// SPDX-License-Identifier: MIT
// The schema registry against a real PostgreSQL: versions, the in-memory hot path, conflicts that write
// nothing, and several registries (processes) sharing one database.
import { describe, expect, it, vi } from 'vitest';
import {
  conflictRecheckMs,
  decodePayload,
  encodePayload,
  fingerprintOf,
  type InferLimits,
  InvalidDataError,
  SchemaConflictError,
  SchemaNotFoundError,
  SchemaRegistry,
} from '../../schemas/index.js';
import { useMigratedDatabase } from '../support/env.js';

const limits: InferLimits = { fieldsMax: 64, stringLengthMax: 256 };

const db = useMigratedDatabase('schema_registry', 8);

async function rowCounts(subject: string): Promise<{ subjects: number; versions: number }> {
  const { rows } = await db.pool.query<{ subjects: number; versions: number }>(
    `SELECT (SELECT count(*)::int FROM tmi.schema_subject WHERE subject = $1) AS subjects,
            (SELECT count(*)::int FROM tmi.model_versions WHERE subject = $1) AS versions`,
    [subject],
  );
  return rows[0]!;
}

function fieldNames(schema: { fields: readonly { name: string }[] }): string[] {
  return schema.fields.map((f) => f.name);
}

describe('SchemaRegistry.ensure', () => {
  it('registers version 1, answers the same shape from memory, and adds a version for a new field', async () => {
    const registry = new SchemaRegistry(db.pool, limits);
    const v1 = await registry.ensure('thermo', [{ temp: 21.5, label: 'kitchen' }]);
    expect(v1).toMatchObject({ subject: 'thermo', version: 1 });
    expect(v1.fingerprint).toBe(fingerprintOf(v1.schema));
    expect(new Date(v1.createdAt).toISOString()).toBe(v1.createdAt);
    expect(fieldNames(v1.schema)).toEqual(['label', 'temp']);

    const query = vi.spyOn(db.pool, 'query');
    const connect = vi.spyOn(db.pool, 'connect');
    try {
      for (const data of [{ temp: 22 }, { label: 'x', temp: 1.5 }, {}, { temp: null }]) {
        expect(await registry.ensure('thermo', [data])).toBe(v1);
      }
      expect(query).not.toHaveBeenCalled();
      expect(connect).not.toHaveBeenCalled();
    } finally {
      query.mockRestore();
      connect.mockRestore();
    }

    const v2 = await registry.ensure('thermo', [{ temp: 20, hum: 40 }]);
    expect(v2).toMatchObject({ subject: 'thermo', version: 2 });
    expect(v2.schemaId).toBeGreaterThan(v1.schemaId);
    expect(fieldNames(v2.schema)).toEqual(['hum', 'label', 'temp']);
    expect(await rowCounts('thermo')).toEqual({ subjects: 1, versions: 2 });

    // an old payload decodes with the new reader schema
    const bytes = encodePayload(v1, { temp: 19, label: 'hall' });
    expect(decodePayload(v1, bytes, v2)).toEqual({ temp: 19, label: 'hall' });
  });

  it('rejects a type change with a 409 and writes nothing', async () => {
    const registry = new SchemaRegistry(db.pool, limits);
    await registry.ensure('pump', [{ rpm: 900 }]);
    await registry.ensure('pump', [{ rpm: 901, on: true }]);
    const before = await rowCounts('pump');
    const attempt = registry.ensure('pump', [{ rpm: 'fast', extra: 1 }]);
    await expect(attempt).rejects.toBeInstanceOf(SchemaConflictError);
    await expect(attempt).rejects.toThrow(
      "field 'rpm' of kind 'pump' is double in version 2, cannot become string",
    );
    expect(await rowCounts('pump')).toEqual(before);
    // a fresh registry (cold cache) decides the same from the database
    await expect(
      new SchemaRegistry(db.pool, limits).ensure('pump', [{ rpm: 'fast' }]),
    ).rejects.toBeInstanceOf(SchemaConflictError);
    expect(await rowCounts('pump')).toEqual(before);
  });

  it('rejects bad data before touching the database, naming the event of a batch', async () => {
    const registry = new SchemaRegistry(db.pool, limits);
    const attempt = registry.ensure('valve', [{ ok: 1 }, { ok: 2 }, { 'bad\nname': 3 }]);
    await expect(attempt).rejects.toBeInstanceOf(InvalidDataError);
    await expect(attempt).rejects.toMatchObject({ index: 2, path: 'data["bad\\nname"]' });
    await expect(attempt).rejects.toThrow(/^events\[2\]: field name "bad\\nname"/);
    const mixed = registry.ensure('valve', [{ ok: 1 }, { ok: 'x' }]);
    await expect(mixed).rejects.toThrow(
      "field 'ok' of kind 'valve' is double in another event of this write, cannot become string",
    );
    expect(await rowCounts('valve')).toEqual({ subjects: 0, versions: 0 });
  });

  it('merges a whole batch into one version', async () => {
    const registry = new SchemaRegistry(db.pool, limits);
    const schema = await registry.ensure('batchy', [
      { a: 1 },
      { b: 'x' },
      { c: { d: [true, null] } },
      { a: null },
    ]);
    expect(schema.version).toBe(1);
    expect(fieldNames(schema.schema)).toEqual(['a', 'b', 'c']);
    for (const data of [{ a: 1 }, { b: 'x' }, { c: { d: [true, null] } }]) {
      expect(decodePayload(schema, encodePayload(schema, data))).toEqual(data);
    }
  });
});

describe('several registries (processes) on one database', () => {
  it('finds a version another process registered instead of adding a duplicate', async () => {
    const a = new SchemaRegistry(db.pool, limits);
    const b = new SchemaRegistry(db.pool, limits);
    const v1 = await a.ensure('door', [{ open: true }]);
    const v2 = await b.ensure('door', [{ open: false, angle: 30 }]);
    expect(v2.version).toBe(2);
    // a's cache still says v1; the new field sends it to the database, which already has v2
    const seen = await a.ensure('door', [{ angle: 10 }]);
    expect(seen).toMatchObject({ schemaId: v2.schemaId, version: 2 });
    // a new field in a builds on v2, not on its stale v1
    const v3 = await a.ensure('door', [{ lock: 'on' }]);
    expect(v3.version).toBe(3);
    expect(fieldNames(v3.schema)).toEqual(['angle', 'lock', 'open']);
    expect((await b.versions('door')).map((v) => v.version)).toEqual([1, 2, 3]);
    expect(v1.version).toBe(1);
  });

  it('learns a newer latest version through byId', async () => {
    const a = new SchemaRegistry(db.pool, limits);
    const b = new SchemaRegistry(db.pool, limits);
    await a.ensure('lamp', [{ on: true }]);
    const v2 = await b.ensure('lamp', [{ lux: 300 }]);
    expect((await a.byId(v2.schemaId)).version).toBe(2);
    const query = vi.spyOn(db.pool, 'query');
    const connect = vi.spyOn(db.pool, 'connect');
    try {
      expect(await a.ensure('lamp', [{ lux: 1, on: false }])).toBe(await a.byId(v2.schemaId));
      expect(query).not.toHaveBeenCalled();
      expect(connect).not.toHaveBeenCalled();
    } finally {
      query.mockRestore();
      connect.mockRestore();
    }
  });

  it('keeps versions contiguous and every answer valid under concurrent new shapes', async () => {
    const registries = [
      new SchemaRegistry(db.pool, limits),
      new SchemaRegistry(db.pool, limits),
      new SchemaRegistry(db.pool, limits),
    ];
    const datas = Array.from({ length: 24 }, (_, i) => ({ [`f${i % 12}`]: i, common: i }));
    const results = await Promise.all(datas.map((data, i) => registries[i % 3]!.ensure('race', [data])));
    results.forEach((schema, i) => {
      const data = datas[i]!;
      expect(decodePayload(schema, encodePayload(schema, data))).toEqual(data);
    });
    const versions = await registries[0]!.versions('race');
    expect(versions.map((v) => v.version)).toEqual(versions.map((_, i) => i + 1));
    expect(new Set(versions.map((v) => v.fingerprint)).size).toBe(versions.length);
    const latest = await registries[0]!.latest('race');
    expect(fieldNames(latest!.schema).sort()).toEqual(
      ['common', ...Array.from({ length: 12 }, (_, i) => `f${i}`)].sort(),
    );
  });
});

describe('compatibility NONE', () => {
  it('lets a type change through as a new version and reuses an earlier identical version', async () => {
    const registry = new SchemaRegistry(db.pool, limits);
    const v1 = await registry.ensure('free', [{ t: 1 }]);
    await registry.setCompatibility('free', 'NONE');
    expect(await registry.compatibility('free')).toBe('NONE');
    const v2 = await registry.ensure('free', [{ t: 'warm' }]);
    expect(v2.version).toBe(2);
    expect(v2.schema.fields[0]!.type).toEqual(['null', 'string']);
    // the old shape again: the same schema as version 1, so version 1 is the answer
    const back = await registry.ensure('free', [{ t: 2 }]);
    expect(back.schemaId).toBe(v1.schemaId);
    expect((await registry.latest('free'))!.version).toBe(2);
  });

  it('is picked up by another process on its next conflicting write', async () => {
    let nowMs = 1_000_000;
    const a = new SchemaRegistry(db.pool, limits, () => nowMs);
    const b = new SchemaRegistry(db.pool, limits);
    await a.ensure('loose', [{ x: 1 }]);
    await b.setCompatibility('loose', 'NONE');
    // Within conflictRecheckMs of its last read, `a` trusts its cache and refuses the conflicting write.
    await expect(a.ensure('loose', [{ x: 'now a string' }])).rejects.toBeInstanceOf(SchemaConflictError);
    nowMs += conflictRecheckMs + 1;
    const v2 = await a.ensure('loose', [{ x: 'now a string' }]);
    expect(v2.version).toBe(2);
  });
});

describe('reading the registry', () => {
  it('loads by id in a cold registry and refuses unknown ids', async () => {
    const writer = await new SchemaRegistry(db.pool, limits).ensure('meter', [{ kwh: 1.5, e: { v: [1] } }]);
    const cold = new SchemaRegistry(db.pool, limits);
    const loaded = await cold.byId(writer.schemaId);
    expect(loaded).toMatchObject({
      schemaId: writer.schemaId,
      subject: 'meter',
      version: 1,
      fingerprint: writer.fingerprint,
    });
    expect(loaded.schema).toEqual(writer.schema);
    expect(await cold.byId(writer.schemaId)).toBe(loaded);
    const bytes = encodePayload(writer, { kwh: 2, e: { v: [3] } });
    expect(decodePayload(loaded, bytes)).toEqual({ kwh: 2, e: { v: [3] } });
    await expect(cold.byId(987654)).rejects.toBeInstanceOf(SchemaNotFoundError);
    await expect(cold.byId(987654)).rejects.toThrow('no schema with schema_id 987654');
  });

  it('lists subjects and versions', async () => {
    const registry = new SchemaRegistry(db.pool, limits);
    await registry.ensure('zz_list', [{ a: 1 }]);
    const v2 = await registry.ensure('zz_list', [{ b: 1 }]);
    await registry.setCompatibility('zz_empty', 'NONE');
    const list = await registry.list();
    expect(list.map((s) => s.subject)).toEqual([...list.map((s) => s.subject)].sort());
    expect(list.find((s) => s.subject === 'zz_list')).toMatchObject({
      compatibility: 'BACKWARD',
      latestVersion: 2,
      latestSchemaId: v2.schemaId,
      versions: 2,
    });
    expect(list.find((s) => s.subject === 'zz_empty')).toMatchObject({
      compatibility: 'NONE',
      latestVersion: null,
      latestSchemaId: null,
      versions: 0,
    });
    expect((await registry.versions('zz_list')).map((v) => v.version)).toEqual([1, 2]);
    expect(await registry.versions('nope')).toEqual([]);
    expect(await registry.latest('nope')).toBeUndefined();
  });
});
