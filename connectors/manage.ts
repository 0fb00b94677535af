// SPDX-License-Identifier: MIT
// Managing connector definitions — shared by the API (/v1/connectors) and tmictl: validation per type
// (the error names the bad member), secrets redacted on the way out and kept when a PATCH sends the
// redacted value back, pause/resume, and starting the host that runs them.
import type { Config } from '../config/index.js';
import type { Pool } from '../db/index.js';
import { RequestRejectedError } from '../errors/index.js';
import { uuidv7 } from '../schemas/index.js';
import type { AcceptContext } from './accept.js';
import { kafkaKind } from './kafka/index.js';
import { kafkaSinkKind } from './kafka-sink/index.js';
import { pollKind } from './poll/index.js';
import {
  ConnectorConfigError,
  ConnectorHost,
  type ConnectorKind,
  type ConnectorRecord,
  type ConnectorSession,
  type ConnectorType,
  connectorTypes,
  deleteConnector,
  getConnector,
  insertConnector,
  listConnectors,
  updateConnector,
} from './runtime/index.js';
import { sqlKind } from './sql/index.js';

export const connectorKinds: ReadonlyMap<ConnectorType, ConnectorKind> = new Map<
  ConnectorType,
  ConnectorKind
>([
  ['poll', pollKind as ConnectorKind],
  ['sql', sqlKind as ConnectorKind],
  ['kafka', kafkaKind as ConnectorKind],
  ['kafka_sink', kafkaSinkKind as ConnectorKind],
]);

/** Names appear in subjects (`<ns>.dlq.connector.<name>`) and speakers (`poll:<name>`). */
export const connectorNamePattern = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export interface ConnectorView {
  readonly connector_id: string;
  readonly name: string;
  readonly type: ConnectorType;
  readonly config: Record<string, unknown>;
  readonly enabled: boolean;
  readonly paused: boolean;
  readonly created_at: string;
  readonly updated_at: string;
}

/** A connector as the API and the CLI show it: secrets replaced by `***`. */
export function connectorView(r: ConnectorRecord): ConnectorView {
  const kind = connectorKinds.get(r.type);
  return { ...r, config: kind ? kind.redact(r.config) : {} };
}

function kindOf(type: unknown): ConnectorKind {
  const kind = connectorKinds.get(type as ConnectorType);
  if (!kind) throw new ConnectorConfigError('type', `must be one of ${connectorTypes.join(', ')}`);
  return kind;
}

export function connectorNotFound(name: string): RequestRejectedError {
  return new RequestRejectedError('CONNECTOR_NOT_FOUND', `no connector '${name}'`);
}

export async function createConnector(
  pool: Pool,
  body: { name: string; type: string; config: Record<string, unknown>; enabled?: boolean },
): Promise<ConnectorView> {
  if (!connectorNamePattern.test(body.name)) {
    throw new ConnectorConfigError('name', `must match ${connectorNamePattern.source}`);
  }
  const kind = kindOf(body.type);
  const parsed = kind.parse(body.config) as { outbox?: boolean };
  if (parsed.outbox === true) await refuseSecondOutbox(pool, undefined);
  if (await getConnector(pool, body.name)) {
    throw new RequestRejectedError('CONNECTOR_EXISTS', `a connector named '${body.name}' exists already`);
  }
  const record = await insertConnector(pool, {
    connectorId: uuidv7(),
    name: body.name,
    type: kind.type,
    config: body.config,
    enabled: body.enabled ?? true,
  }).catch((err: { code?: string }) => {
    if (err.code === '23505')
      throw new RequestRejectedError('CONNECTOR_EXISTS', `a connector named '${body.name}' exists already`);
    throw err;
  });
  return connectorView(record);
}

/** One tmi.speak() outbox has one drainer: two would only compete for the same rows. */
async function refuseSecondOutbox(pool: Pool, except: string | undefined): Promise<void> {
  const other = (await listConnectors(pool, { types: ['sql'] })).find(
    (c) => c.config.outbox === true && c.name !== except,
  );
  if (other) {
    throw new RequestRejectedError(
      'OUTBOX_CONNECTOR_EXISTS',
      `connector '${other.name}' drains the tmi.speak() outbox already`,
    );
  }
}

export async function patchConnector(
  pool: Pool,
  name: string,
  body: { config?: Record<string, unknown>; enabled?: boolean },
): Promise<ConnectorView> {
  const stored = await getConnector(pool, name);
  if (!stored) throw connectorNotFound(name);
  let config: Record<string, unknown> | undefined;
  if (body.config !== undefined) {
    const kind = kindOf(stored.type);
    config = kind.keepSecrets(body.config, stored.config);
    const parsed = kind.parse(config) as { outbox?: boolean };
    if (parsed.outbox === true) await refuseSecondOutbox(pool, name);
  }
  const updated = await updateConnector(pool, name, { config, enabled: body.enabled });
  if (!updated) throw connectorNotFound(name);
  return connectorView(updated);
}

export async function setPaused(pool: Pool, name: string, paused: boolean): Promise<ConnectorView> {
  const updated = await updateConnector(pool, name, { paused });
  if (!updated) throw connectorNotFound(name);
  return connectorView(updated);
}

export async function removeConnector(pool: Pool, name: string): Promise<void> {
  if (!(await deleteConnector(pool, name))) throw connectorNotFound(name);
}

export interface HostStart {
  readonly config: Config;
  readonly pool: Pool;
  readonly acceptCtx: AcceptContext;
  readonly names?: readonly string[];
  readonly log: ConnectorSession['log'];
  readonly targetsChanged: () => Promise<void>;
}

/** Starts this process's connector host with the configured lease, backoff and guards. */
export function startConnectorHost(s: HostStart): ConnectorHost {
  const host = new ConnectorHost({
    pool: s.pool,
    acceptCtx: s.acceptCtx,
    kinds: connectorKinds,
    names: s.names,
    leaseMs: s.config.connectorLeaseMs,
    backoff: { initialMs: s.config.connectorBackoffInitialMs, maxMs: s.config.connectorBackoffMaxMs },
    allowPrivate: s.config.pollAllowPrivate === 'on',
    speakPollMs: s.config.speakPollMs,
    log: s.log,
    targetsChanged: s.targetsChanged,
  });
  host.start();
  return host;
}
