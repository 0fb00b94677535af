// SPDX-License-Identifier: MIT
// The fanout stage's subscription cache ages by the stage's clock, not the wall clock: with a clock the
// test moves, a change made behind its back is picked up exactly when the reload interval has passed, and
// a change it is told about (markStale) at once — without the test sleeping.
import { expect, it } from 'vitest';
import { metaMissReloadMinMs, SubscriptionCache } from '../../processors/fanout/subscription-cache.js';
import { addSubscriptions, insertListener } from '../../projections/index.js';
import { uuidv7 } from '../../schemas/index.js';
import { useMigratedDatabase } from '../support/env.js';

const reloadIntervalMs = 30_000;
const db = useMigratedDatabase('subscription_cache', 4);

function subscription(kind: string) {
  return { subscription_id: uuidv7(), target_id: null, kind, meta: null, fields: null, alarms: false };
}

it('reloads when its interval has passed by the injected clock, or at once when marked stale', async () => {
  let nowMicros = 1_000_000_000;
  const cache = new SubscriptionCache(db.pool, () => nowMicros, reloadIntervalMs);
  const listenerId = uuidv7();
  await insertListener(db.pool, {
    listener_id: listenerId,
    name: 'aging',
    description: '',
    subscriptions: [subscription('a')],
  });
  expect((await cache.current()).index.size).toBe(1);

  await addSubscriptions(db.pool, listenerId, [subscription('b')]);
  nowMicros += (reloadIntervalMs - 1) * 1000;
  expect((await cache.current()).index.size).toBe(1); // not yet old: the cached index stands
  nowMicros += 2 * 1000;
  expect((await cache.current()).index.size).toBe(2); // older than the interval: reloaded

  await addSubscriptions(db.pool, listenerId, [subscription('c')]);
  expect((await cache.current()).index.size).toBe(2);
  cache.markStale();
  expect((await cache.current()).index.size).toBe(3);
});

it('reloads for unknown targets at most once per metaMissReloadMinMs of the injected clock', async () => {
  let nowMicros = 5_000_000_000;
  const cache = new SubscriptionCache(db.pool, () => nowMicros, reloadIntervalMs);
  const listenerId = uuidv7();
  await insertListener(db.pool, {
    listener_id: listenerId,
    name: 'misses',
    description: '',
    subscriptions: [subscription('m')],
  });
  const before = (await cache.current()).index.size;
  await addSubscriptions(db.pool, listenerId, [subscription('n')]);
  expect((await cache.refreshForUnknownTargets([uuidv7()])).index.size).toBe(before + 1);

  await addSubscriptions(db.pool, listenerId, [subscription('o')]);
  nowMicros += (metaMissReloadMinMs - 1) * 1000;
  expect((await cache.refreshForUnknownTargets([uuidv7()])).index.size).toBe(before + 1); // throttled
  nowMicros += 2 * 1000;
  expect((await cache.refreshForUnknownTargets([uuidv7()])).index.size).toBe(before + 2);
});
