// SPDX-License-Identifier: MIT
// The fanout stages: events and alarm transitions copied to each subscribed listener's subject, masked to
// its fields (fanout-core, pure), with the compiled subscriptions kept in a cache (subscription-cache).
export type { FanoutStageDeps } from './fanout.js';
export { fanoutAlarmStage, fanoutStage } from './fanout.js';
export type {
  FanoutAlarm,
  FanoutEvent,
  Grant,
  ListenOutput,
  ListenPayload,
  Subscription,
  SubscriptionIndex,
} from './fanout-core.js';
export {
  compileIndex,
  fanoutAlarms,
  fanoutEvents,
  grantsFor,
  maskAlarm,
  maskFields,
  metaMatches,
  parseAlarmMessage,
  targetsMissingMeta,
} from './fanout-core.js';
export type { SubscriptionSnapshot, SubscriptionSource } from './subscription-cache.js';
export { SubscriptionCache, subscriptionReloadIntervalMs, toSubscription } from './subscription-cache.js';
