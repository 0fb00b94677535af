// SPDX-License-Identifier: MIT
// Listeners and their subscriptions: SQL of CRUD, of the fanout stage's index load, and of the
// listener's own endpoint (its targets and their latest state).
import { type Pool, type PoolClient, withTransaction } from '../db/index.js';
import { isoOf } from './sql.js';

export type MetaScalar = string | number | boolean | null;

export interface NewSubscription {
  readonly subscription_id: string;
  readonly target_id: string | null;
  readonly kind: string | null;
  readonly meta: Record<string, MetaScalar> | null;
  /** null: every field. */
  readonly fields: readonly string[] | null;
  readonly alarms: boolean;
}

/** A stored subscription: what was added, plus its listener and creation time. */
export interface SubscriptionRow extends NewSubscription {
  readonly listener_id: string;
  readonly created_at: string;
}

export interface ListenerRow {
  readonly listener_id: string;
  readonly name: string;
  readonly description: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly subscriptions: SubscriptionRow[];
}

const subscriptionColumns = `s.subscription_id, s.listener_id, s.target_id, s.kind, s.meta_filter AS meta, s.fields,
  s.alarms, ${isoOf('s.created_at')} AS created_at`;
const listenerColumns = `l.listener_id, l.name, l.description, ${isoOf('l.created_at')} AS created_at,
  ${isoOf('l.updated_at')} AS updated_at`;

async function subscriptionsOf(db: Pool | PoolClient, listenerIds: readonly string[]) {
  const { rows } = await db.query<SubscriptionRow>(
    `SELECT ${subscriptionColumns} FROM tmi.subscription s WHERE s.listener_id = ANY($1::uuid[])
     ORDER BY s.created_at, s.subscription_id`,
    [listenerIds],
  );
  return rows;
}

async function withSubscriptions(
  db: Pool | PoolClient,
  listeners: Omit<ListenerRow, 'subscriptions'>[],
): Promise<ListenerRow[]> {
  const subs = await subscriptionsOf(
    db,
    listeners.map((l) => l.listener_id),
  );
  return listeners.map((l) => ({ ...l, subscriptions: subs.filter((s) => s.listener_id === l.listener_id) }));
}

async function insertSubscriptions(
  client: PoolClient,
  listenerId: string,
  subs: readonly NewSubscription[],
): Promise<void> {
  if (subs.length === 0) return;
  await client.query(
    `INSERT INTO tmi.subscription (subscription_id, listener_id, target_id, kind, meta_filter, fields, alarms)
     SELECT x.id, $1, x.target_id, x.kind, x.meta, CASE WHEN x.all_fields THEN NULL ELSE
       ARRAY(SELECT jsonb_array_elements_text(x.fields)) END, x.alarms
     FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::jsonb[], $6::jsonb[], $7::boolean[], $8::boolean[])
       AS x(id, target_id, kind, meta, fields, all_fields, alarms)`,
    [
      listenerId,
      subs.map((s) => s.subscription_id),
      subs.map((s) => s.target_id),
      subs.map((s) => s.kind),
      subs.map((s) => (s.meta === null ? null : JSON.stringify(s.meta))),
      subs.map((s) => JSON.stringify(s.fields ?? [])),
      subs.map((s) => s.fields === null),
      subs.map((s) => s.alarms),
    ],
  );
}

export async function insertListener(
  pool: Pool,
  l: { listener_id: string; name: string; description: string; subscriptions: readonly NewSubscription[] },
): Promise<ListenerRow> {
  return withTransaction(pool, async (client) => {
    await client.query('INSERT INTO tmi.listener (listener_id, name, description) VALUES ($1, $2, $3)', [
      l.listener_id,
      l.name,
      l.description,
    ]);
    await insertSubscriptions(client, l.listener_id, l.subscriptions);
    return (await getListenerBy(client, 'id', l.listener_id))!;
  });
}

/** A listener by its id or by its name. */
export async function getListenerBy(
  db: Pool | PoolClient,
  by: 'id' | 'name',
  value: string,
): Promise<ListenerRow | undefined> {
  const { rows } = await db.query<Omit<ListenerRow, 'subscriptions'>>(
    `SELECT ${listenerColumns} FROM tmi.listener l WHERE ${by === 'id' ? 'l.listener_id = $1::uuid' : 'l.name = $1'}`,
    [value],
  );
  return (await withSubscriptions(db, rows))[0];
}

export async function listListeners(
  pool: Pool,
  q: { after?: string; limit: number },
): Promise<ListenerRow[]> {
  const { rows } = await pool.query<Omit<ListenerRow, 'subscriptions'>>(
    `SELECT ${listenerColumns} FROM tmi.listener l WHERE ($1::text IS NULL OR l.name > $1)
     ORDER BY l.name LIMIT $2`,
    [q.after ?? null, q.limit],
  );
  return withSubscriptions(pool, rows);
}

/** Changes name/description; replaces the subscriptions when given. */
export async function updateListener(
  pool: Pool,
  listenerId: string,
  patch: { name?: string; description?: string; subscriptions?: readonly NewSubscription[] },
): Promise<ListenerRow | undefined> {
  return withTransaction(pool, async (client) => {
    const res = await client.query(
      `UPDATE tmi.listener SET name = COALESCE($2, name), description = COALESCE($3, description),
         updated_at = now() WHERE listener_id = $1`,
      [listenerId, patch.name ?? null, patch.description ?? null],
    );
    if ((res.rowCount ?? 0) === 0) return undefined;
    if (patch.subscriptions !== undefined) {
      await client.query('DELETE FROM tmi.subscription WHERE listener_id = $1', [listenerId]);
      await insertSubscriptions(client, listenerId, patch.subscriptions);
    }
    return getListenerBy(client, 'id', listenerId);
  });
}

export async function addSubscriptions(
  pool: Pool,
  listenerId: string,
  subs: readonly NewSubscription[],
): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query('UPDATE tmi.listener SET updated_at = now() WHERE listener_id = $1', [listenerId]);
    await insertSubscriptions(client, listenerId, subs);
  });
}

export async function deleteSubscription(
  pool: Pool,
  listenerId: string,
  subscriptionId: string,
): Promise<boolean> {
  const res = await pool.query(
    'DELETE FROM tmi.subscription WHERE listener_id = $1 AND subscription_id = $2',
    [listenerId, subscriptionId],
  );
  return (res.rowCount ?? 0) > 0;
}

/** Deletes the listener, its subscriptions and its keys. */
export async function deleteListener(pool: Pool, listenerId: string): Promise<boolean> {
  const res = await pool.query('DELETE FROM tmi.listener WHERE listener_id = $1', [listenerId]);
  return (res.rowCount ?? 0) > 0;
}

/** Every subscription of every listener: what the fanout stage compiles into its index. */
export async function loadAllSubscriptions(pool: Pool): Promise<SubscriptionRow[]> {
  const { rows } = await pool.query<SubscriptionRow>(
    `SELECT ${subscriptionColumns} FROM tmi.subscription s ORDER BY s.listener_id, s.created_at`,
  );
  return rows;
}

/** meta of every target of the given kinds (the kinds some subscription filters by meta). */
export async function targetMetaOfKinds(
  pool: Pool,
  kinds: readonly string[],
): Promise<Map<string, Record<string, unknown>>> {
  if (kinds.length === 0) return new Map();
  const { rows } = await pool.query<{ target_id: string; meta: Record<string, unknown> }>(
    'SELECT target_id, meta FROM tmi.target WHERE kind = ANY($1::text[])',
    [kinds],
  );
  return new Map(rows.map((r) => [r.target_id, r.meta]));
}

export interface ListenerTargetRow {
  readonly target_id: string;
  readonly name: string;
  readonly kind: string;
  readonly meta: Record<string, unknown>;
}

/**
 * The targets a listener's subscriptions cover, in target_id order (keyset pagination by `after`),
 * optionally only one. A meta filter holds scalars, so containment (@>) is equality per key.
 */
export async function listenerTargets(
  pool: Pool,
  listenerId: string,
  q: { after?: string; limit: number; targetId?: string },
): Promise<ListenerTargetRow[]> {
  const { rows } = await pool.query<ListenerTargetRow>(
    `SELECT t.target_id, t.name, t.kind, t.meta FROM tmi.target t
     WHERE EXISTS (SELECT 1 FROM tmi.subscription s WHERE s.listener_id = $1
                   AND (s.target_id = t.target_id
                        OR (s.kind = t.kind AND (s.meta_filter IS NULL OR t.meta @> s.meta_filter))))
       AND ($2::uuid IS NULL OR t.target_id > $2) AND ($3::uuid IS NULL OR t.target_id = $3)
     ORDER BY t.target_id LIMIT $4`,
    [listenerId, q.after ?? null, q.targetId ?? null, q.limit],
  );
  return rows;
}

/** Latest state of many targets: target → field → {value, ts}. */
export async function targetStates(
  pool: Pool,
  targetIds: readonly string[],
): Promise<Map<string, Record<string, { value: unknown; ts: string }>>> {
  const out = new Map<string, Record<string, { value: unknown; ts: string }>>();
  if (targetIds.length === 0) return out;
  const { rows } = await pool.query<{ target_id: string; field: string; value: unknown; ts: string }>(
    `SELECT target_id, field, value, ${isoOf('ts')} AS ts FROM tmi.target_state
     WHERE target_id = ANY($1::uuid[]) ORDER BY target_id, field`,
    [targetIds],
  );
  for (const r of rows) {
    const state = out.get(r.target_id) ?? {};
    state[r.field] = { value: r.value, ts: r.ts };
    out.set(r.target_id, state);
  }
  return out;
}
