// SPDX-License-Identifier: MIT
// The kafka connector's configuration, validated member by member (errors name the member). SASL
// credentials are secrets: redacted on read and in logs, kept when a PATCH sends the marker back.
import { JSONPath } from 'jsonpath-plus';
import { ConnectorConfigError } from '../runtime/errors.js';
import type { TargetRule } from '../runtime/targets.js';
import { redactedMarker } from '../runtime/types.js';
import { enumAt, intAt, type Members, objectAt, onlyMembers, stringAt } from '../runtime/validate.js';
import { parseKafkaTarget } from './target.js';

export const kafkaBrokersMax = 50;
export const kafkaTopicsMax = 100;
export const kafkaBatchRecordsDefault = 500;
export const kafkaBatchRecordsMax = 10_000;
export const kafkaSessionTimeoutMsDefault = 10_000;
/** Kafka's topic names (its own rule). */
export const kafkaTopicRegex = /^[A-Za-z0-9._-]{1,249}$/;

export interface KafkaSasl {
  readonly mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512';
  readonly username: string;
  readonly password: string;
}

/** How to reach a cluster: what the source and the listener sink share. */
export interface KafkaConnection {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly ssl: boolean;
  readonly sasl: KafkaSasl | undefined;
}

/** `host:port` */
export const kafkaBrokerRegex = /^[^\s:/]+:\d{1,5}$/;

export interface KafkaConfig extends KafkaConnection {
  readonly topics: readonly string[];
  readonly groupId: string;
  readonly from: 'earliest' | 'latest';
  /** Where the target comes from: the record key, a path in the value, or a fixed id. */
  readonly target: { readonly rule: TargetRule; readonly key: boolean; readonly path: string | undefined };
  /** Records emitted per publish (and per cursor commit). */
  readonly batchRecordsMax: number;
  readonly sessionTimeoutMs: number;
}

const members = [
  'brokers',
  'topics',
  'group_id',
  'client_id',
  'from',
  'ssl',
  'sasl',
  'target',
  'batch_records_max',
  'session_timeout_ms',
];

export function stringListAt(c: Members, key: string, max: number, check: (s: string) => boolean): string[] {
  const v = c[key];
  if (!Array.isArray(v) || v.length === 0 || v.length > max) {
    throw new ConnectorConfigError(`config.${key}`, `must be an array of 1 to ${max} strings`);
  }
  v.forEach((s, i) => {
    if (typeof s !== 'string' || !check(s))
      throw new ConnectorConfigError(`config.${key}[${i}]`, 'is not valid');
  });
  return v as string[];
}

export function parseKafkaConfig(raw: unknown): KafkaConfig {
  const c = objectAt(raw, 'config');
  onlyMembers(c, 'config', members);
  const groupId = stringAt(c, 'group_id', 'config', { required: true, lengthMax: 255 })!;
  const target = parseKafkaTarget(c);
  if (target.path !== undefined) {
    try {
      JSONPath({ path: target.path, json: { a: 1 }, eval: 'safe' });
    } catch (err) {
      throw new ConnectorConfigError('config.target.path', `is not a JSONPath: ${(err as Error).message}`);
    }
  }
  return {
    brokers: stringListAt(c, 'brokers', kafkaBrokersMax, (s) => kafkaBrokerRegex.test(s)),
    topics: stringListAt(c, 'topics', kafkaTopicsMax, (s) => kafkaTopicRegex.test(s)),
    groupId,
    clientId: stringAt(c, 'client_id', 'config', { lengthMax: 255 }) ?? `tmidb-${groupId}`,
    from: enumAt(c, 'from', 'config', ['earliest', 'latest'] as const, 'earliest'),
    ssl: c.ssl === undefined ? false : boolAt(c, 'ssl'),
    sasl: parseSasl(c.sasl),
    target,
    batchRecordsMax: intAt(
      c,
      'batch_records_max',
      'config',
      1,
      kafkaBatchRecordsMax,
      kafkaBatchRecordsDefault,
    ),
    sessionTimeoutMs: intAt(c, 'session_timeout_ms', 'config', 6000, 300_000, kafkaSessionTimeoutMsDefault),
  };
}

export function boolAt(c: Members, key: string): boolean {
  if (typeof c[key] !== 'boolean') throw new ConnectorConfigError(`config.${key}`, 'must be true or false');
  return c[key] as boolean;
}

export function parseSasl(raw: unknown): KafkaSasl | undefined {
  if (raw === undefined || raw === null) return undefined;
  const s = objectAt(raw, 'config.sasl');
  onlyMembers(s, 'config.sasl', ['mechanism', 'username', 'password']);
  return {
    mechanism: enumAt(
      s,
      'mechanism',
      'config.sasl',
      ['plain', 'scram-sha-256', 'scram-sha-512'] as const,
      'plain',
    ),
    username: stringAt(s, 'username', 'config.sasl', { required: true, lengthMax: 1024 })!,
    password: stringAt(s, 'password', 'config.sasl', { required: true, lengthMax: 4096 })!,
  };
}

export function redactKafkaConfig(config: Record<string, unknown>): Record<string, unknown> {
  const sasl = config.sasl as Record<string, unknown> | undefined;
  if (!sasl || typeof sasl !== 'object') return { ...config };
  return { ...config, sasl: { ...sasl, password: redactedMarker } };
}

export function keepKafkaSecrets(
  next: Record<string, unknown>,
  stored: Record<string, unknown>,
): Record<string, unknown> {
  const sasl = next.sasl as Record<string, unknown> | undefined;
  const old = stored.sasl as Record<string, unknown> | undefined;
  if (sasl?.password === redactedMarker && old?.password !== undefined) {
    return { ...next, sasl: { ...sasl, password: old.password } };
  }
  return next;
}
