// SPDX-License-Identifier: MIT
// The topology as data: streams, subjects, stages and their consumers. Everything carries the namespace
// so several tmiDB instances can share one NATS.

import { type StageName, stageNames } from '../processors/index.js';

export { type StageName, stageNames };

export interface StreamSpec {
  readonly name: string;
  readonly subjects: readonly string[];
}

export interface StageSpec {
  readonly name: StageName;
  readonly stream: string;
  readonly durable: string;
  readonly filterSubject: string;
  readonly doc: string;
}

export interface Topology {
  readonly namespace: string;
  readonly streams: {
    readonly in: StreamSpec;
    readonly norm: StreamSpec;
    readonly dlq: StreamSpec;
    /** Listeners' copies of events and alarms, masked to their subscriptions; bounded retention. */
    readonly listen: StreamSpec;
    /** Alarm transitions (raised, acknowledged, cleared) as JSON, per target: `<ns>.alarm.<target_id>`. */
    readonly alarm: StreamSpec;
  };
  readonly stages: Readonly<Record<StageName, StageSpec>>;
  inSubject(targetId: string): string;
  normSubject(targetId: string): string;
  /** `<ns>.alarm.<target_id>`: the transitions of the target's alarms. */
  alarmSubject(targetId: string): string;
  dlqSubject(stage: StageName): string;
  /** Subjects speakers request on: `<ns>.speak.<target_id>`. */
  readonly speakWildcard: string;
  readonly speakPrefix: string;
  /** `<ns>.listen.<listener_id>.<target_id>`: a listener's copy of an event of a target. */
  listenSubject(listenerId: string, targetId: string): string;
  /** `<ns>.listen.<listener_id>.>`: everything one listener receives. */
  listenWildcard(listenerId: string): string;
  /** Core-NATS notices (not stored) that listeners, targets or keys changed: caches reload. */
  sysSubject(what: 'listeners' | 'targets' | 'keys'): string;
}

export function topology(namespace: string): Topology {
  const upper = namespace.toUpperCase();
  const streams = {
    in: { name: `${upper}_IN`, subjects: [`${namespace}.in.>`] },
    norm: { name: `${upper}_NORM`, subjects: [`${namespace}.norm.>`] },
    dlq: { name: `${upper}_DLQ`, subjects: [`${namespace}.dlq.>`] },
    listen: { name: `${upper}_LISTEN`, subjects: [`${namespace}.listen.>`] },
    alarm: { name: `${upper}_ALARM`, subjects: [`${namespace}.alarm.>`] },
  };
  const stage = (name: StageName, stream: StreamSpec, doc: string): StageSpec => ({
    name,
    stream: stream.name,
    durable: name,
    filterSubject: stream.subjects[0]!,
    doc,
  });
  return {
    namespace,
    streams,
    stages: {
      capture: stage('capture', streams.in, 'original payload and transport headers into raw_bucket'),
      normalize: stage('normalize', streams.in, 'mapping rules (rename, convert, drop) → TMI_NORM'),
      project: stage(
        'project',
        streams.norm,
        'ts_obs rows and target_state (last write wins by observation time)',
      ),
      fanout: stage(
        'fanout',
        streams.norm,
        "each event, masked to a listener's subscribed fields, → TMI_LISTEN per listener",
      ),
      geo: stage(
        'geo',
        streams.norm,
        'geo_trace rows and target_position (newest position by observation time)',
      ),
      alarm: stage(
        'alarm',
        streams.norm,
        'alarm rules, in stream order → tmi.alarm and its history, transitions → TMI_ALARM',
      ),
      'fanout-alarm': stage(
        'fanout-alarm',
        streams.alarm,
        'alarm transitions, masked, → TMI_LISTEN for the listeners that asked for alarms',
      ),
    },
    inSubject: (targetId) => `${namespace}.in.${targetId}`,
    normSubject: (targetId) => `${namespace}.norm.${targetId}`,
    alarmSubject: (targetId) => `${namespace}.alarm.${targetId}`,
    dlqSubject: (stageName) => `${namespace}.dlq.${stageName}`,
    speakWildcard: `${namespace}.speak.*`,
    speakPrefix: `${namespace}.speak.`,
    listenSubject: (listenerId, targetId) => `${namespace}.listen.${listenerId}.${targetId}`,
    listenWildcard: (listenerId) => `${namespace}.listen.${listenerId}.>`,
    sysSubject: (what) => `${namespace}.sys.${what}.changed`,
  };
}
