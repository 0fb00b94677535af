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
  readonly streams: { readonly in: StreamSpec; readonly norm: StreamSpec; readonly dlq: StreamSpec };
  readonly stages: Readonly<Record<StageName, StageSpec>>;
  inSubject(targetId: string): string;
  normSubject(targetId: string): string;
  dlqSubject(stage: StageName): string;
  /** Subjects speakers request on: `<ns>.speak.<target_id>`. */
  readonly speakWildcard: string;
  readonly speakPrefix: string;
}

export function topology(namespace: string): Topology {
  const upper = namespace.toUpperCase();
  const streams = {
    in: { name: `${upper}_IN`, subjects: [`${namespace}.in.>`] },
    norm: { name: `${upper}_NORM`, subjects: [`${namespace}.norm.>`] },
    dlq: { name: `${upper}_DLQ`, subjects: [`${namespace}.dlq.>`] },
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
    },
    inSubject: (targetId) => `${namespace}.in.${targetId}`,
    normSubject: (targetId) => `${namespace}.norm.${targetId}`,
    dlqSubject: (stageName) => `${namespace}.dlq.${stageName}`,
    speakWildcard: `${namespace}.speak.*`,
    speakPrefix: `${namespace}.speak.`,
  };
}
