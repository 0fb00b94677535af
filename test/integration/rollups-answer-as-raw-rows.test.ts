// SPDX-License-Identifier: MIT
// Rollups (ADR 0027) against the raw rows, on real PostgreSQL with the pipeline maintaining them: random
// events (decimals, huge and tiny numbers, strings, fields that come and go, ties on time) are written
// through the API in shuffled requests — late events — some sent twice. Then (1) the rollup tables hold
// exactly the cells computed from ts_obs, and (2) for random queries (range edges anywhere, bucket
// multiples of a minute or an hour, any aggregates, both orders, pages) the rollup-backed answer equals
// the raw-rows answer, value for value; the same for `points=`. Fixed seed; TMIDB_TEST_PROPERTY_SEED
// explores others.
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { replayStage } from '../../pipelines/index.js';
import {
  type ObsAgg,
  type ObsQuery,
  obsAggs,
  queryObs,
  queryObsPoints,
  queryObsPointsRolledUp,
  queryObsRolledUp,
  rollupFor,
  splitRange,
} from '../../projections/index.js';
import { uuidv7 } from '../../schemas/index.js';
import { rollupMismatches } from '../support/rollups.js';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

const seed = Number(process.env.TMIDB_TEST_PROPERTY_SEED ?? 20261125);
const hourUs = 3_600_000_000;
/** The data spans two days and a bit, from a start that is not on any grid. */
const startUs = Date.UTC(2026, 10, 20, 22, 17, 3) * 1000 + 123_456;
const spanUs = 50 * hourUs;
const eventsTotal = 4000;
const requestsTotal = 40;
const fields = ['temp', 'hum', 'mode', 'absent'];

let t: TestTmidb;
const targets: string[] = [];

interface SentEvent {
  readonly event_id: string;
  readonly ts: string;
  readonly data: Record<string, unknown>;
}

const number = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -500, max: 500 }).map((n) => n / 10) },
  { weight: 3, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.constantFrom(1e21, -1e-7, 0.1, 0.2, 2 ** 53 + 2, 5e-324, -0) },
);
const eventData = fc.record(
  { temp: number, hum: fc.integer({ min: 0, max: 100 }), mode: fc.constantFrom('auto', 'manual', '수동') },
  { requiredKeys: ['temp'] },
);
/** Times: anywhere in the span at µs precision, or exactly on a minute (ties between events). */
const eventTime = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: spanUs - 1 }).map((d) => startUs + d) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: spanUs / 60_000_000 - 1 }).map((m) => minuteAfterStart(m)),
  },
);

function minuteAfterStart(m: number): number {
  return Math.ceil(startUs / 60_000_000) * 60_000_000 + m * 60_000_000;
}

/** µs → ISO-8601 with microseconds. */
function iso(us: number): string {
  const ms = Math.floor(us / 1000);
  return `${new Date(ms).toISOString().slice(0, -1)}${String(us - ms * 1000).padStart(3, '0')}Z`;
}

beforeAll(async () => {
  t = await startTestTmidb('rollups_property', { stages: ['normalize', 'project'] });
  for (const name of ['boiler-a', 'boiler-b']) {
    const res = await t.request('POST', '/v1/targets', { name, kind: 'boiler' });
    targets.push(res.body.target_id);
  }
  const [data, times, order] = fc.sample(
    fc.tuple(
      fc.array(eventData, { minLength: eventsTotal, maxLength: eventsTotal }),
      fc.array(eventTime, { minLength: eventsTotal, maxLength: eventsTotal }),
      fc.shuffledSubarray([...Array(eventsTotal).keys()], { minLength: eventsTotal }),
    ),
    { seed, numRuns: 1 },
  )[0]!;
  const events = order.map((i) => ({ event_id: uuidv7(), ts: iso(times[i]!), data: data[i]! }));
  const per = eventsTotal / requestsTotal;
  for (let r = 0; r < requestsTotal; r++) {
    const target = targets[r % targets.length]!;
    const batch: SentEvent[] = events.slice(r * per, (r + 1) * per);
    const sends = r % 7 === 0 ? 2 : 1; // some requests are retried: the same event ids again
    for (let s = 0; s < sends; s++) {
      const res = await t.request('POST', `/v1/targets/${target}/events`, batch);
      expect(res.status, JSON.stringify(res.body)).toBe(202);
    }
  }
  await eventually(
    'every event is projected',
    async () => {
      const [row] = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM tmi.ts_obs');
      const [done] = await t.sql<{ n: number }>(
        `SELECT coalesce(sum(events), 0)::int AS n FROM tmi.consumer_checkpoint WHERE consumer LIKE '%project%'`,
      );
      return row!.n === eventsTotal && done!.n >= eventsTotal;
    },
    120_000,
  );
}, 300_000);

afterAll(async () => {
  await t?.stop();
});

it('the rollup tables hold exactly the cells computed from ts_obs (late events in their bucket, retries once)', async () => {
  const mismatches = await rollupMismatches(t.sql);
  for (const m of mismatches) {
    expect(m, m.table).toMatchObject({ missing: 0, extra: 0 });
    expect(m.rows).toBeGreaterThan(0);
  }
});

/** A range bound: anywhere near the data, or exactly on a minute or an hour. */
const bound = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.integer({ min: -2 * hourUs, max: spanUs + 2 * hourUs }).map((d) => startUs + d),
  },
  { weight: 1, arbitrary: fc.integer({ min: -60, max: spanUs / 60_000_000 + 60 }).map(minuteAfterStart) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: -2, max: spanUs / hourUs + 2 })
      .map((h) => Math.ceil(startUs / hourUs) * hourUs + h * hourUs),
  },
);
const range = fc
  .tuple(bound, bound)
  .filter(([a, b]) => a !== b)
  .map(([a, b]) => [Math.min(a, b), Math.max(a, b)]);

const bucketQuery = fc.record({
  target: fc.constantFrom(0, 1),
  range,
  seconds: fc.constantFrom(60, 120, 300, 900, 3600, 7200, 86_400),
  aggs: fc.subarray([...obsAggs], { minLength: 1 }),
  fields: fc.subarray(fields, { minLength: 1 }),
  order: fc.constantFrom<'asc' | 'desc'>('asc', 'desc'),
  limit: fc.integer({ min: 1, max: 60 }),
});

it('bucketed answers from the rollups equal the raw rows, page by page', async () => {
  let withRollupRows = 0;
  await fc.assert(
    fc.asyncProperty(bucketQuery, async (c) => {
      const q: ObsQuery = {
        targetId: targets[c.target]!,
        fromIso: iso(c.range[0]!),
        toIso: iso(c.range[1]!),
        fields: c.fields,
        bucket: { seconds: c.seconds, text: `${c.seconds}s` },
        aggs: c.aggs as ObsAgg[],
        order: c.order,
        limit: c.limit,
      };
      const unit = rollupFor(c.seconds)! * 1_000_000;
      if (splitRange({ fromUs: c.range[0]!, toUs: c.range[1]! }, unit).inner) withRollupRows++;
      for (let page = 0, after = q.after; page < 3; page++) {
        const asked = { ...q, after };
        const raw = await queryObs(t.runtime.pool, asked);
        expect(await queryObsRolledUp(t.runtime.pool, asked)).toEqual(raw);
        if (raw.next === undefined) break;
        after = raw.next;
      }
    }),
    { seed, numRuns: 150 },
  );
  expect(withRollupRows).toBeGreaterThan(75); // most cases really read rollup rows
}, 300_000);

const pointsQuery = fc.record({
  target: fc.constantFrom(0, 1),
  range,
  points: fc.oneof(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 2, max: 4000 })),
  fields: fc.subarray(fields, { minLength: 1 }),
});

it('points= from the rollups equal the raw rows', async () => {
  await fc.assert(
    fc.asyncProperty(pointsQuery, async (c) => {
      const q = {
        targetId: targets[c.target]!,
        fromIso: iso(c.range[0]!),
        toIso: iso(c.range[1]!),
        fields: c.fields,
        points: c.points,
      };
      const rolled = await queryObsPointsRolledUp(t.runtime.pool, q);
      expect(rolled).toEqual(await queryObsPoints(t.runtime.pool, q));
      for (const f of c.fields) expect(rolled[f]!.value.length).toBeLessThanOrEqual(c.points);
    }),
    { seed, numRuns: 150 },
  );
}, 300_000);

it('tmi.obs_rollups_rebuild (existing data, rows loaded in SQL) recomputes the very rows the pipeline maintained', async () => {
  const snapshot = () =>
    t.sql<{ rows: string }>(
      `SELECT (SELECT string_agg(r::text, E'\\n' ORDER BY r::text) FROM tmi.obs_rollup_1m r) || E'\\n--\\n' ||
              (SELECT string_agg(r::text, E'\\n' ORDER BY r::text) FROM tmi.obs_rollup_1h r) AS rows`,
    );
  const before = await snapshot();
  const [made] = await t.sql<{ n: string }>(
    `SELECT tmi.obs_rollups_rebuild(NULL, '-infinity', 'infinity') AS n`,
  );
  expect(Number(made!.n)).toBeGreaterThan(0);
  expect(await snapshot()).toEqual(before);
  const [one] = await t.sql<{ n: string }>(
    'SELECT tmi.obs_rollups_rebuild($1::uuid, $2::timestamptz, $3::timestamptz) AS n',
    [targets[0], iso(startUs + 3 * hourUs + 17), iso(startUs + 5 * hourUs)],
  );
  expect(Number(one!.n)).toBeGreaterThan(0);
  expect(await snapshot()).toEqual(before);
});

it('a replay of project rolls up only the rows it puts back: none twice, the missing ones once', async () => {
  // Some rows go missing (and the rollups follow, rebuilt); the replay re-inserts those among others
  // already there, so its ts_obs insert reports fewer rows than the batch and the rollups take only its own.
  const [gone] = await t.sql<{ n: number }>(
    `WITH d AS (DELETE FROM tmi.ts_obs WHERE target_id = $1 AND get_byte(uuid_send(event_id), 15) < 40 RETURNING 1)
     SELECT count(*)::int AS n FROM d`,
    [targets[0]],
  );
  expect(gone!.n).toBeGreaterThan(100);
  await t.sql(`SELECT tmi.obs_rollups_rebuild(NULL, '-infinity', 'infinity')`);
  const nc = t.runtime.nc;
  const deps = { js: jetstream(nc), jsm: await jetstreamManager(nc), ...t.runtime };
  const summary = await replayStage(deps, 'project', {});
  expect(summary.events).toBeGreaterThanOrEqual(eventsTotal);
  const [back] = await t.sql<{ n: number }>('SELECT count(*)::int AS n FROM tmi.ts_obs');
  expect(back!.n).toBe(eventsTotal);
  for (const m of await rollupMismatches(t.sql)) expect(m, m.table).toMatchObject({ missing: 0, extra: 0 });
}, 300_000);
