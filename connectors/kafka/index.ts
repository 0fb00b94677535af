// SPDX-License-Identifier: MIT
// The kafka connector (`type: "kafka"`): a consumer group on topics, exactly once into the stream.
import type { ConnectorKind } from '../runtime/types.js';
import { type KafkaConfig, keepKafkaSecrets, parseKafkaConfig, redactKafkaConfig } from './config.js';
import { KafkaSource } from './source.js';

export const kafkaKind: ConnectorKind<KafkaConfig> = {
  type: 'kafka',
  parse: parseKafkaConfig,
  redact: redactKafkaConfig,
  keepSecrets: keepKafkaSecrets,
  create: (record, config, deps) => new KafkaSource(record, config, deps),
};

export type { KafkaConfig } from './config.js';
export { decodeRecord, kafkaEventId } from './records.js';
export { kafkaClient } from './source.js';
