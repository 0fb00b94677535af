// SPDX-License-Identifier: MIT
// nats-server SIGKILLed and restarted 3 times while 20,000 events flow, on a private nats-server: with
// TMIDB_NATS_SYNC=always every acknowledged event is in every projection, none twice. With the default
// sync interval the same run measures what is lost (README, "Reliability": a process crash leaves the
// written pages in the OS cache; only an OS crash or power loss within the interval loses acknowledged
// writes — the Jepsen report on NATS 2.12.1).
import { afterEach, expect, it } from 'vitest';
import { configFields } from '../../config/index.js';
import {
  createTargets,
  deadLetters,
  expectExactlyOnce,
  expectNewestState,
  faultTestTimeoutMs,
  type PrivateNats,
  privateDir,
  redeliveries,
  type SentEvent,
  startPrivateNats,
  type WriteTally,
  waitForDrain,
  workload,
  writeUntilAcknowledged,
} from '../support/faults.js';
import { eventually, startTestTmidb, type TestTmidb } from '../support/tmidb.js';

const eventsTotal = 20_000;
const kills = 3;
/** Writes acknowledged between one restart and the next kill (3 × 2,000 of 20,000: every kill mid-stream). */
const ackedBetweenKills = 2_000;

let t: TestTmidb | undefined;
let nats: PrivateNats | undefined;
const homes: { remove(): void }[] = [];
afterEach(async () => {
  await t?.stop().catch(() => {});
  await nats?.stop().catch(() => {});
  for (const h of homes.splice(0)) h.remove();
}, faultTestTimeoutMs);

function refusedCount(tally: WriteTally): number {
  return Object.values(tally.refused).reduce((n, c) => n + c, 0);
}

/** Writes 20,000 events while the server is SIGKILLed `kills` times; returns what the writer saw. */
async function runWithKills(syncInterval: string): Promise<{ events: SentEvent[]; tally: WriteTally }> {
  const home = privateDir('faults-nats');
  homes.push(home);
  nats = await startPrivateNats(home.dir, { syncInterval });
  t = await startTestTmidb('faults_nats', {
    natsUrl: nats.url,
    config: { ackWaitMs: 5_000, natsSync: syncInterval },
  });
  const targets = await createTargets(t, 100, 'meter');
  const events = workload(targets, eventsTotal);
  const started = Date.now();
  const progress: WriteTally = { acked: [], refused: {} };
  const writing = writeUntilAcknowledged(t, events, 100, 5, progress);
  for (let k = 0; k < kills; k++) {
    // Each kill lands mid-stream, after more writes were acknowledged, however fast the machine is.
    const before = progress.acked.length;
    await eventually(
      `writes acknowledged before kill ${k + 1}`,
      async () => progress.acked.length >= before + ackedBetweenKills,
    );
    await nats.kill9();
    // The outage lasts until the writers have lived through it: a write refused since the kill.
    const refusedBefore = refusedCount(progress);
    await eventually(
      `a write refused after kill ${k + 1}`,
      async () => refusedCount(progress) > refusedBefore,
    );
    await nats.restart();
  }
  const tally = await writing;
  console.info(
    `${syncInterval}: ${eventsTotal} events written through ${kills} kills in ${Date.now() - started} ms`,
  );
  return { events, tally };
}

it(
  'nats-server kill -9 ×3, sync always: every acknowledged event in every projection, none twice',
  async () => {
    const { events, tally } = await runWithKills('always');
    expect(tally.acked.length).toBe(eventsTotal);
    const drainStarted = Date.now();
    await waitForDrain(t!, eventsTotal);
    console.info(`sync always: drained ${Date.now() - drainStarted} ms after the last write`);
    await expectExactlyOnce(
      t!,
      events.map((e) => e.event_id),
    );
    await expectNewestState(t!, events);
    expect(await deadLetters(t!)).toBe(0);
    console.info(
      `sync always: writes refused while NATS was down ${JSON.stringify(tally.refused)}; redeliveries ${await redeliveries(t!)}`,
    );
  },
  faultTestTimeoutMs,
);

it(
  'nats-server kill -9 ×3, default sync interval: measures what is lost; nothing twice',
  async () => {
    const { events, tally } = await runWithKills(configFields.natsSync.default);
    expect(tally.acked.length).toBe(eventsTotal);
    // Whatever was lost is lost from every projection alike; wait for what is there to settle.
    await waitForDrain(t!, 0);
    const ids = events.map((e) => e.event_id);
    const [row] = await t!.sql<{ rows: number; distinct_ids: number; known: number }>(
      `SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS distinct_ids,
            count(*) FILTER (WHERE event_id = ANY($1::uuid[]))::int AS known FROM tmi.ts_obs`,
      [ids],
    );
    const lost = eventsTotal - row!.known;
    console.info(
      `default sync (${configFields.natsSync.default}), ${kills} × kill -9: ${lost} of ${eventsTotal} acknowledged events lost; ` +
        `writes refused while down ${JSON.stringify(tally.refused)}`,
    );
    expect(row!.rows).toBe(row!.distinct_ids); // none twice
    expect(row!.known).toBe(row!.rows); // nothing unknown
    // A process crash keeps the written pages in the OS cache: the measured loss is zero (README).
    expect(lost).toBe(0);
  },
  faultTestTimeoutMs,
);
