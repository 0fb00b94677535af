// SPDX-License-Identifier: MIT
// The connectors' tables (db/migrations/007_connectors.sql): definitions, run state, leases, workers.
import type { Pool, PoolClient } from '../../db/index.js';
import { isoOf } from '../../projections/index.js';
import { type ConnectorRecord, type ConnectorType, connectorTypes } from './types.js';

type Queryable = Pool | PoolClient;

const recordColumns = `c.connector_id, c.name, c.type, c.config, c.enabled, c.paused,
  ${isoOf('c.created_at')} AS created_at, ${isoOf('c.updated_at')} AS updated_at`;

export async function listConnectors(
  db: Queryable,
  opts: { readonly after?: string; readonly limit?: number; readonly types?: readonly string[] } = {},
): Promise<ConnectorRecord[]> {
  const { rows } = await db.query<ConnectorRecord>(
    `SELECT ${recordColumns} FROM tmi.ingest_connector c
     WHERE ($1::text IS NULL OR c.name > $1) AND c.type = ANY($2::text[])
     ORDER BY c.name LIMIT $3`,
    [opts.after ?? null, opts.types ?? connectorTypes, opts.limit ?? 100_000],
  );
  return rows;
}

export async function getConnector(db: Queryable, name: string): Promise<ConnectorRecord | undefined> {
  const { rows } = await db.query<ConnectorRecord>(
    `SELECT ${recordColumns} FROM tmi.ingest_connector c WHERE c.name = $1`,
    [name],
  );
  return rows[0];
}

export async function insertConnector(
  db: Queryable,
  c: { connectorId: string; name: string; type: ConnectorType; config: unknown; enabled: boolean },
): Promise<ConnectorRecord> {
  const { rows } = await db.query<ConnectorRecord>(
    `WITH c AS (INSERT INTO tmi.ingest_connector (connector_id, name, type, config, enabled)
       VALUES ($1, $2, $3, $4, $5) RETURNING *)
     SELECT ${recordColumns} FROM c`,
    [c.connectorId, c.name, c.type, JSON.stringify(c.config), c.enabled],
  );
  return rows[0]!;
}

export async function updateConnector(
  db: Queryable,
  name: string,
  change: { config?: unknown; enabled?: boolean; paused?: boolean },
): Promise<ConnectorRecord | undefined> {
  const { rows } = await db.query<ConnectorRecord>(
    `WITH c AS (UPDATE tmi.ingest_connector SET
       config = coalesce($2::jsonb, config), enabled = coalesce($3, enabled),
       paused = coalesce($4, paused), updated_at = clock_timestamp()
     WHERE name = $1 RETURNING *)
     SELECT ${recordColumns} FROM c`,
    [
      name,
      change.config === undefined ? null : JSON.stringify(change.config),
      change.enabled ?? null,
      change.paused ?? null,
    ],
  );
  return rows[0];
}

export async function deleteConnector(db: Queryable, name: string): Promise<boolean> {
  const res = await db.query('DELETE FROM tmi.ingest_connector WHERE name = $1', [name]);
  return (res.rowCount ?? 0) > 0;
}

/** The committed cursor and counters of a connector (none before its first run). */
export async function readCursor(db: Queryable, connectorId: string): Promise<unknown> {
  const { rows } = await db.query<{ cursor: unknown }>(
    'SELECT cursor FROM tmi.connector_state WHERE connector_id = $1',
    [connectorId],
  );
  return rows[0]?.cursor ?? undefined;
}

export interface Lease {
  readonly connectorId: string;
  readonly owner: string;
  readonly epoch: number;
}

/** Takes the connector if nobody holds a live lease on it; the epoch rises with every new holder. */
export async function acquireLease(
  db: Queryable,
  connectorId: string,
  owner: string,
  leaseMs: number,
): Promise<Lease | undefined> {
  const { rows } = await db.query<{ lease_epoch: number }>(
    `INSERT INTO tmi.connector_state AS s (connector_id, owner, lease_expires_at, lease_epoch, state)
     VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3::float8 / 1000), 1, 'running')
     ON CONFLICT (connector_id) DO UPDATE SET owner = $2,
       lease_expires_at = clock_timestamp() + make_interval(secs => $3::float8 / 1000),
       lease_epoch = s.lease_epoch + 1, state = 'running', updated_at = now()
     WHERE s.owner IS NULL OR s.lease_expires_at < clock_timestamp()
     RETURNING lease_epoch`,
    [connectorId, owner, leaseMs],
  );
  return rows[0] ? { connectorId, owner, epoch: rows[0].lease_epoch } : undefined;
}

/** Extends every lease this owner still holds; returns the connectors it holds. */
export async function renewLeases(db: Queryable, owner: string, leaseMs: number): Promise<Set<string>> {
  const { rows } = await db.query<{ connector_id: string }>(
    `UPDATE tmi.connector_state
     SET lease_expires_at = clock_timestamp() + make_interval(secs => $2::float8 / 1000)
     WHERE owner = $1 RETURNING connector_id`,
    [owner, leaseMs],
  );
  return new Set(rows.map((r) => r.connector_id));
}

export async function releaseLease(db: Queryable, lease: Lease, state: 'idle' | 'paused'): Promise<void> {
  await db.query(
    `UPDATE tmi.connector_state SET owner = NULL, lease_expires_at = NULL, state = $4,
       next_run_at = NULL, updated_at = now()
     WHERE connector_id = $1 AND owner = $2 AND lease_epoch = $3`,
    [lease.connectorId, lease.owner, lease.epoch, state],
  );
}

export interface RunReport {
  readonly state: 'running' | 'backing_off' | 'failing';
  readonly failures: number;
  readonly nextRunAt: number | undefined;
  readonly success: boolean;
  readonly error?: { readonly code: string; readonly message: string };
}

/** Records a tick's or run's outcome, fenced by the lease (a lost lease records nothing). */
export async function reportRun(db: Queryable, lease: Lease, r: RunReport): Promise<boolean> {
  const res = await db.query(
    `UPDATE tmi.connector_state SET state = $4, failures = $5,
       next_run_at = CASE WHEN $6::float8 IS NULL THEN NULL ELSE to_timestamp($6::float8 / 1000) END,
       last_success_at = CASE WHEN $7 THEN clock_timestamp() ELSE last_success_at END,
       last_error_code = coalesce($8, last_error_code), last_error = coalesce($9, last_error),
       last_error_at = CASE WHEN $8::text IS NULL THEN last_error_at ELSE clock_timestamp() END,
       updated_at = now()
     WHERE connector_id = $1 AND owner = $2 AND lease_epoch = $3`,
    [
      lease.connectorId,
      lease.owner,
      lease.epoch,
      r.state,
      r.failures,
      r.nextRunAt ?? null,
      r.success,
      r.error?.code ?? null,
      r.error?.message ?? null,
    ],
  );
  return (res.rowCount ?? 0) > 0;
}

/**
 * Moves the cursor and counters in the caller's transaction, only while `lease` is still the holder's:
 * false means another process took the connector (the caller rolls back and stops).
 */
export async function commitProgress(
  client: PoolClient,
  lease: Lease,
  p: {
    cursor?: unknown;
    events: number;
    rejected: number;
    bytes: number;
    lastRejection?: { code: string; message: string };
  },
): Promise<boolean> {
  const res = await client.query(
    `UPDATE tmi.connector_state SET
       cursor = CASE WHEN $4 THEN $5::jsonb ELSE cursor END,
       events_emitted = events_emitted + $6, items_rejected = items_rejected + $7,
       bytes_read = bytes_read + $8,
       last_error_code = coalesce($9, last_error_code), last_error = coalesce($10, last_error),
       last_error_at = CASE WHEN $9::text IS NULL THEN last_error_at ELSE clock_timestamp() END,
       updated_at = now()
     WHERE connector_id = $1 AND owner = $2 AND lease_epoch = $3`,
    [
      lease.connectorId,
      lease.owner,
      lease.epoch,
      p.cursor !== undefined,
      p.cursor === undefined ? null : JSON.stringify(p.cursor),
      p.events,
      p.rejected,
      p.bytes,
      p.lastRejection?.code ?? null,
      p.lastRejection?.message ?? null,
    ],
  );
  return (res.rowCount ?? 0) > 0;
}

/** Records this worker's heartbeat; returns how many workers are alive (itself included). */
export async function heartbeatWorker(
  db: Queryable,
  workerId: string,
  host: string,
  liveMs: number,
): Promise<number> {
  const { rows } = await db.query<{ live: number }>(
    `WITH hb AS (INSERT INTO tmi.connector_worker (worker_id, pid, host) VALUES ($1, $2, $3)
       ON CONFLICT (worker_id) DO UPDATE SET heartbeat_at = now())
     SELECT count(*)::int + 1 AS live FROM tmi.connector_worker
     WHERE worker_id <> $1 AND heartbeat_at > now() - make_interval(secs => $4::float8 / 1000)`,
    [workerId, process.pid, host, liveMs],
  );
  return rows[0]!.live;
}

export async function removeWorker(db: Queryable, workerId: string, liveMs: number): Promise<void> {
  // Also forgets workers that stopped heartbeating long ago (killed processes).
  await db.query(
    `DELETE FROM tmi.connector_worker
     WHERE worker_id = $1 OR heartbeat_at < now() - make_interval(secs => $2::float8 / 1000 * 10)`,
    [workerId, liveMs],
  );
}
