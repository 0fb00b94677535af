// SPDX-License-Identifier: MIT
// The Kafka listener sink's configuration (`type: "kafka_sink"`), validated member by member (errors
// name the member). It shares how to reach a cluster with the kafka source; SASL passwords are secrets.

import {
  boolAt,
  type KafkaConnection,
  kafkaBrokerRegex,
  kafkaBrokersMax,
  kafkaTopicRegex,
  parseSasl,
  stringListAt,
} from '../kafka/config.js';
import { ConnectorConfigError } from '../runtime/errors.js';
import { enumAt, intAt, objectAt, onlyMembers, stringAt } from '../runtime/validate.js';

export const sinkBatchRecordsDefault = 500;
export const sinkBatchRecordsMax = 10_000;
export const sinkPartitionsDefault = 3;
export const sinkPartitionsMax = 1_000;
/** Listener names (the rule of /v1/listeners). */
const listenerNameRegex = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

export interface KafkaSinkConfig extends KafkaConnection {
  /** The listener whose stream (masked, alarms included) goes to the topic. */
  readonly listener: string;
  readonly topic: string;
  /** Where a sink without a saved cursor starts in the listen stream. */
  readonly from: 'earliest' | 'latest';
  /** Partitions of the topic when the sink creates it (an existing topic keeps its own). */
  readonly partitions: number;
  /** Stream messages produced per Kafka request (and per cursor commit). */
  readonly batchRecordsMax: number;
}

const members = [
  'listener',
  'brokers',
  'topic',
  'client_id',
  'from',
  'partitions',
  'ssl',
  'sasl',
  'batch_records_max',
];

export function parseKafkaSinkConfig(raw: unknown): KafkaSinkConfig {
  const c = objectAt(raw, 'config');
  onlyMembers(c, 'config', members);
  const listener = stringAt(c, 'listener', 'config', { required: true, lengthMax: 64 })!;
  if (!listenerNameRegex.test(listener))
    throw new ConnectorConfigError('config.listener', 'is not a listener name');
  const topic = stringAt(c, 'topic', 'config', { required: true, lengthMax: 249 })!;
  if (!kafkaTopicRegex.test(topic))
    throw new ConnectorConfigError('config.topic', 'is not a Kafka topic name');
  return {
    listener,
    topic,
    brokers: stringListAt(c, 'brokers', kafkaBrokersMax, (s) => kafkaBrokerRegex.test(s)),
    clientId: stringAt(c, 'client_id', 'config', { lengthMax: 255 }) ?? `tmidb-sink-${listener}`,
    from: enumAt(c, 'from', 'config', ['earliest', 'latest'] as const, 'earliest'),
    partitions: intAt(c, 'partitions', 'config', 1, sinkPartitionsMax, sinkPartitionsDefault),
    ssl: c.ssl === undefined ? false : boolAt(c, 'ssl'),
    sasl: parseSasl(c.sasl),
    batchRecordsMax: intAt(c, 'batch_records_max', 'config', 1, sinkBatchRecordsMax, sinkBatchRecordsDefault),
  };
}
