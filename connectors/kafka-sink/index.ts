// SPDX-License-Identifier: MIT
// The Kafka listener sink (`type: "kafka_sink"`): a listener's stream produced to a topic, exactly once.
import { keepKafkaSecrets, redactKafkaConfig } from '../kafka/config.js';
import type { ConnectorKind } from '../runtime/types.js';
import { type KafkaSinkConfig, parseKafkaSinkConfig } from './config.js';
import { KafkaSink } from './sink.js';

export const kafkaSinkKind: ConnectorKind<KafkaSinkConfig> = {
  type: 'kafka_sink',
  parse: parseKafkaSinkConfig,
  redact: redactKafkaConfig,
  keepSecrets: keepKafkaSecrets,
  create: (record, config, deps) => new KafkaSink(record, config, deps),
};

export type { KafkaSinkConfig } from './config.js';
export { parseKafkaSinkConfig } from './config.js';
export type { ListenMessage, SinkPlan, SinkRecord } from './records.js';
export { cursorOfRecord, planRecords, sinkCursorHeader, sinkIdHeader, sinkTypeHeader } from './records.js';
export type { KafkaSinkCursor } from './sink.js';
