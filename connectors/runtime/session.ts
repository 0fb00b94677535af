// SPDX-License-Identifier: MIT
// A connector's session: its way into the stream. Events go through accept() (the one validation path);
// a write it refuses is retried event by event so one bad item neither blocks nor takes down the rest;
// the cursor and counters move only after the PubAck, in a transaction fenced by the lease.
import { createHash } from 'node:crypto';
import { type Pool, type PoolClient, withTransaction } from '../../db/index.js';
import { publishAll } from '../../pipelines/index.js';
import { type AcceptContext, accept } from '../accept.js';
import { LeaseLostError } from './errors.js';
import type { ConnectorMetrics } from './metrics.js';
import { commitProgress, type Lease } from './store.js';
import type {
  ConnectorRecord,
  ConnectorSession,
  PublishOutcome,
  RejectedItem,
  SourceEvent,
} from './types.js';

/** Largest item a dead letter carries (longer ones are cut, marked `truncated`). */
export const deadLetterItemBytesMax = 64 * 1024;

/** `<ns>.dlq.connector.<name>`: refused items of one connector (the DLQ stream holds `<ns>.dlq.>`). */
export function connectorDlqSubject(namespace: string, name: string): string {
  return `${namespace}.dlq.connector.${name}`;
}

export interface SessionDeps {
  readonly acceptCtx: AcceptContext;
  readonly pool: Pool;
  readonly metrics: ConnectorMetrics;
  readonly log: ConnectorSession['log'];
  readonly wake: () => void;
}

export function createSession(
  record: ConnectorRecord,
  lease: Lease,
  initialCursor: unknown,
  signal: AbortSignal,
  deps: SessionDeps,
): ConnectorSession {
  let cursor = initialCursor;
  const speaker = `${record.type}:${record.name}`;
  const labels = { connector: record.name, type: record.type };
  const session: ConnectorSession = {
    record,
    speaker,
    signal,
    pool: deps.pool,
    log: deps.log,
    cursor: () => cursor,
    publish: (events) => publishEvents(deps.acceptCtx, record, speaker, events),
    async commit(client, outcome, opts = {}) {
      const last = outcome.rejected.at(-1);
      const ok = await commitProgress(client, lease, {
        cursor: opts.cursor,
        events: outcome.emitted - outcome.duplicates,
        rejected: outcome.rejected.length,
        bytes: opts.bytesRead ?? 0,
        lastRejection: last && {
          code: last.code,
          message: `${last.origin}: ${last.reason}`.slice(0, 2000),
        },
      });
      if (!ok) throw new LeaseLostError(`connector ${record.name} is held by another process now`);
      if (opts.cursor !== undefined) cursor = opts.cursor;
      deps.metrics.events.inc(labels, outcome.emitted - outcome.duplicates);
      deps.metrics.bytes.inc(labels, opts.bytesRead ?? 0);
      for (const r of outcome.rejected) deps.metrics.rejected.inc({ ...labels, code: r.code });
    },
    async emit(events, opts = {}) {
      const published = await session.publish(events);
      const outcome = { ...published, rejected: [...(opts.rejected ?? []), ...published.rejected] };
      await session.deadLetter(outcome.rejected);
      await withTransaction(session.pool, (client: PoolClient) => session.commit(client, outcome, opts));
      return outcome;
    },
    deadLetter: (items) => deadLetter(deps.acceptCtx, record, items),
    wake: deps.wake,
  };
  return session;
}

/** A refusal of the write itself (4xx), as opposed to the stream or database being unavailable. */
function isRefusal(err: unknown): err is { code: string; message: string } {
  const e = err as { status?: unknown; isRetryable?: unknown; code?: unknown };
  return (
    e?.isRetryable === false &&
    typeof e.status === 'number' &&
    e.status >= 400 &&
    e.status < 500 &&
    typeof e.code === 'string'
  );
}

async function publishEvents(
  ctx: AcceptContext,
  record: ConnectorRecord,
  speaker: string,
  events: readonly SourceEvent[],
): Promise<PublishOutcome> {
  let emitted = 0;
  let duplicates = 0;
  const rejected: RejectedItem[] = [];
  // A sink publishes nothing; were it to, its events would come in over Kafka.
  const transport = record.type === 'kafka_sink' ? 'kafka' : record.type;
  const opts = { speaker, transport, attrs: { source: record.type, connector: record.name } } as const;
  const write = (e: SourceEvent) => ({
    target_id: e.targetId,
    event_id: e.eventId,
    data: e.data,
    ...(e.ts === undefined ? {} : { ts: e.ts }),
  });
  for (let i = 0; i < events.length; i += ctx.config.writeEventsMax) {
    const chunk = events.slice(i, i + ctx.config.writeEventsMax);
    try {
      const r = await accept(ctx, chunk.map(write), { ...opts, attrsOf: (j) => chunk[j]?.attrs });
      emitted += r.accepted;
      duplicates += r.duplicates;
      continue;
    } catch (err) {
      if (!isRefusal(err)) throw err;
    }
    // Something in the chunk was refused and nothing of it was published: find it, one event at a time.
    for (const e of chunk) {
      try {
        const r = await accept(ctx, [write(e)], { ...opts, attrsOf: () => e.attrs });
        emitted += r.accepted;
        duplicates += r.duplicates;
      } catch (err) {
        if (!isRefusal(err)) throw err;
        rejected.push({
          origin: e.origin,
          code: err.code,
          reason: err.message,
          item: e.data,
          eventId: e.eventId,
        });
      }
    }
  }
  return { emitted, duplicates, rejected };
}

async function deadLetter(
  ctx: AcceptContext,
  record: ConnectorRecord,
  items: readonly RejectedItem[],
): Promise<void> {
  if (items.length === 0) return;
  const subject = connectorDlqSubject(ctx.topology.namespace, record.name);
  await publishAll(
    ctx.js,
    items.map((r) => {
      let item = JSON.stringify(r.item ?? null);
      const truncated = item.length > deadLetterItemBytesMax;
      if (truncated) item = JSON.stringify(item.slice(0, deadLetterItemBytesMax));
      const body = `{"connector":${JSON.stringify(record.name)},"type":"${record.type}","origin":${JSON.stringify(
        r.origin,
      )},"code":${JSON.stringify(r.code)},"reason":${JSON.stringify(r.reason)},"truncated":${truncated},"item":${item}}`;
      const id = createHash('sha256').update(`${record.connector_id}\0${r.origin}\0${item}`).digest('hex');
      return { subject, body: new TextEncoder().encode(body), msgID: `connector-dlq:${id.slice(0, 40)}` };
    }),
  );
}
