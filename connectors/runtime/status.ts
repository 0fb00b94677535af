// SPDX-License-Identifier: MIT
// What `GET /v1/connectors/{name}/status` and `tmictl connector status` show, read from the tables so
// every process (API, `tmictl connector run` workers) sees the same.
import type { Pool } from '../../db/index.js';
import { isoOf } from '../../projections/index.js';
import { connectorTypes } from './types.js';

export const connectorStates = ['running', 'paused', 'backing_off', 'failing', 'idle', 'disabled'] as const;
export type ConnectorState = (typeof connectorStates)[number];

export interface ConnectorStatus {
  readonly name: string;
  readonly type: string;
  /**
   * running; paused (by pause); backing_off (a retryable failure, retried at next_run_at); failing (a
   * failure retrying will not fix by itself, still retried with backoff); idle (no process holds it:
   * none runs connectors, or they are all busy); disabled (enabled: false).
   */
  readonly state: ConnectorState;
  /** The process running it (`<host>:<pid>:<random>`). */
  readonly owner: string | null;
  readonly last_success_at: string | null;
  readonly last_error: { readonly code: string; readonly message: string; readonly at: string } | null;
  readonly next_run_at: string | null;
  readonly consecutive_failures: number;
  readonly events_emitted: number;
  readonly items_rejected: number;
  readonly bytes_read: number;
  /** The source position committed after the last PubAck (poll: validators and body hash; sql: the cursor column). */
  readonly cursor: unknown;
  /** tmi.speak() outbox connectors: rows waiting, rows refused (tmi.speak_rejected). */
  readonly outbox?: { readonly pending: number; readonly rejected: number };
}

interface StatusRow {
  name: string;
  type: string;
  enabled: boolean;
  paused: boolean;
  state: string | null;
  live: boolean;
  owner: string | null;
  last_success_at: string | null;
  last_error: string | null;
  last_error_code: string | null;
  last_error_at: string | null;
  next_run_at: string | null;
  failures: number | null;
  events_emitted: number | null;
  items_rejected: number | null;
  bytes_read: number | null;
  cursor: unknown;
  is_outbox: boolean;
}

export async function connectorStatuses(pool: Pool, names?: readonly string[]): Promise<ConnectorStatus[]> {
  const { rows } = await pool.query<StatusRow>(
    `SELECT c.name, c.type, c.enabled, c.paused, s.state, s.owner,
       coalesce(s.lease_expires_at > clock_timestamp(), false) AS live,
       ${isoOf('s.last_success_at')} AS last_success_at, s.last_error, s.last_error_code,
       ${isoOf('s.last_error_at')} AS last_error_at, ${isoOf('s.next_run_at')} AS next_run_at,
       s.failures, s.events_emitted, s.items_rejected, s.bytes_read, s.cursor,
       coalesce((c.config->>'outbox')::boolean, false) AS is_outbox
     FROM tmi.ingest_connector c LEFT JOIN tmi.connector_state s USING (connector_id)
     WHERE c.type = ANY($2::text[]) AND ($1::text[] IS NULL OR c.name = ANY($1))
     ORDER BY c.name`,
    [names ?? null, connectorTypes],
  );
  const outbox = rows.some((r) => r.is_outbox) ? await outboxCounts(pool) : undefined;
  return rows.map((r) => toStatus(r, outbox));
}

function toStatus(r: StatusRow, outbox: ConnectorStatus['outbox']): ConnectorStatus {
  return {
    name: r.name,
    type: r.type,
    state: stateOf(r),
    owner: r.live ? r.owner : null,
    last_success_at: r.last_success_at,
    last_error:
      r.last_error_code === null
        ? null
        : { code: r.last_error_code, message: r.last_error ?? '', at: r.last_error_at ?? '' },
    next_run_at: r.live ? r.next_run_at : null,
    consecutive_failures: r.failures ?? 0,
    events_emitted: r.events_emitted ?? 0,
    items_rejected: r.items_rejected ?? 0,
    bytes_read: r.bytes_read ?? 0,
    cursor: r.cursor ?? null,
    ...(r.is_outbox && outbox ? { outbox } : {}),
  };
}

function stateOf(r: StatusRow): ConnectorState {
  if (!r.enabled) return 'disabled';
  if (r.paused) return 'paused';
  if (!r.live || r.state === null) return 'idle';
  return (connectorStates as readonly string[]).includes(r.state) ? (r.state as ConnectorState) : 'idle';
}

async function outboxCounts(pool: Pool): Promise<{ pending: number; rejected: number }> {
  const { rows } = await pool.query<{ pending: number; rejected: number }>(
    `SELECT (SELECT count(*) FROM tmi.speak_outbox)::int AS pending,
            (SELECT count(*) FROM tmi.speak_rejected)::int AS rejected`,
  );
  return rows[0]!;
}
