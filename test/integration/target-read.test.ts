// SPDX-License-Identifier: MIT
// GET /v1/targets/{id} reads the target, its latest state and its position in one statement
// (projections/target-read.ts). It must answer what the three separate reads answered: every state field
// in field order with its value as stored (any JSON type) and its observation time, names awkward in JSON
// or JavaScript kept as written, the position or null, and nothing for an unknown target.
import { expect, it } from 'vitest';
import { getTargetRead } from '../../projections/index.js';
import { uuidv7 } from '../../schemas/index.js';
import { useMigratedDatabase } from '../support/env.js';

const db = useMigratedDatabase('target_read', 2);

const state: Record<string, unknown> = {
  temp: 21.5,
  constructor: 1,
  온도: -0.25,
  'a"b\\c': { nested: [1, 'x', null] },
  'emoji 🚗': [],
  on: true,
  nothing: null,
  big: 1e21,
  tiny: 5e-324,
};

async function addTarget(): Promise<string> {
  const id = uuidv7();
  await db.pool.query(
    `INSERT INTO tmi.target (target_id, name, kind, meta) VALUES ($1, 'v', 'vehicle', '{"fleet": "f1"}')`,
    [id],
  );
  return id;
}

it('answers the target, every state field in field order, and the position', async () => {
  const id = await addTarget();
  // `__proto__` as a field (in an object literal it would set a prototype).
  const entries: [string, unknown][] = [...Object.entries(state), ['__proto__', 'a field, not a prototype']];
  for (const [i, [field, value]] of entries.entries()) {
    await db.pool.query(
      `INSERT INTO tmi.target_state (target_id, field, value, ts, event_id)
       VALUES ($1, $2, $3::jsonb, timestamptz '2026-11-24 10:00:00.123456+00' + $4 * interval '1 second', $5)`,
      [id, field, JSON.stringify(value), i, uuidv7()],
    );
  }
  const eventId = uuidv7();
  await db.pool.query(
    `INSERT INTO tmi.target_position (target_id, ts, event_id, lat, lon, speed)
     VALUES ($1, '2026-11-24 10:00:00.5+00', $2, 37.5665, 126.978, 12.25)`,
    [id, eventId],
  );
  const read = await getTargetRead(db.pool, id);
  const separately = await db.pool.query<{ field: string; value: unknown; ts: string }>(
    `SELECT field, value, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts
       FROM tmi.target_state WHERE target_id = $1 ORDER BY field`,
    [id],
  );
  expect(Object.keys(read!.state)).toEqual(separately.rows.map((r) => r.field));
  for (const r of separately.rows)
    expect(Object.getOwnPropertyDescriptor(read!.state, r.field)?.value).toEqual({
      value: r.value,
      ts: r.ts,
    });
  expect(Object.getPrototypeOf(read!.state)).toBe(Object.prototype);
  expect(read!.target).toMatchObject({ target_id: id, name: 'v', kind: 'vehicle', meta: { fleet: 'f1' } });
  expect(read!.position).toEqual({
    ts: '2026-11-24T10:00:00.500000Z',
    event_id: eventId,
    lat: 37.5665,
    lon: 126.978,
    alt: null,
    speed: 12.25,
    heading: null,
    accuracy: null,
  });
});

it('answers an empty state and no position for a target nothing was written about', async () => {
  const id = await addTarget();
  const read = await getTargetRead(db.pool, id);
  expect(read?.state).toEqual({});
  expect(read?.position).toBeNull();
});

it('answers nothing for an unknown target', async () => {
  expect(await getTargetRead(db.pool, uuidv7())).toBeUndefined();
});
