// SPDX-License-Identifier: MIT
// The connector framework's contract. A connector kind parses and redacts its config and makes a
// source; the host (host.ts) leases it, runs it, backs it off, and gives it a session whose `emit`
// publishes through the one write path (accept) and moves the cursor only after the PubAck.
//
// Two source styles share everything else:
// - pull (poll, sql): the host calls tick() when it is due; tick reads a batch, emits, says when next;
// - push (a Kafka consumer, later): run() receives records as they come and emits them batch by batch,
//   returning only when the session's signal aborts; a throw is a failure the host backs off and restarts.
import type { Pool, PoolClient } from '../../db/index.js';
import type { AcceptContext } from '../accept.js';

export const connectorTypes = ['poll', 'sql', 'kafka', 'kafka_sink'] as const;
export type ConnectorType = (typeof connectorTypes)[number];

export interface ConnectorRecord {
  readonly connector_id: string;
  readonly name: string;
  readonly type: ConnectorType;
  readonly config: Record<string, unknown>;
  readonly enabled: boolean;
  readonly paused: boolean;
  readonly created_at: string;
  readonly updated_at: string;
}

/** One event a source wants in the stream. Its id derives from the source position (exactly once). */
export interface SourceEvent {
  readonly eventId: string;
  readonly targetId: string;
  /** ISO-8601 with a zone, or epoch milliseconds; absent: the time it was read. */
  readonly ts?: string | number;
  readonly data: Record<string, unknown>;
  /** Where it came from, for status and dead letters (`items[3]`, `outbox 42`, `row id=7`). */
  readonly origin: string;
  /** Source metadata kept with the raw event (Kafka headers, topic/partition/offset). */
  readonly attrs?: Readonly<Record<string, string>>;
}

/** An item refused: it goes to the dead-letter subject (or the source's rejected table) and the status. */
export interface RejectedItem {
  readonly origin: string;
  readonly code: string;
  readonly reason: string;
  /** The offending item as read, for the dead letter. */
  readonly item: unknown;
  /** Set for events the write path refused (the outbox keeps them by id). */
  readonly eventId?: string;
}

export interface PublishOutcome {
  readonly emitted: number;
  /** Events JetStream had seen already (a re-emission after a crash). */
  readonly duplicates: number;
  readonly rejected: readonly RejectedItem[];
}

export interface CommitOptions {
  /** The new source cursor (absent: unchanged). */
  readonly cursor?: unknown;
  readonly bytesRead?: number;
}

export interface ConnectorSession {
  readonly record: ConnectorRecord;
  /** `<type>:<name>`: the speaker of every event. */
  readonly speaker: string;
  /** Aborted when the connector must stop: lease lost, paused, changed, deleted, process stopping. */
  readonly signal: AbortSignal;
  readonly pool: Pool;
  readonly log: (level: 'info' | 'warn' | 'error', msg: string) => void;
  /** The last committed source cursor (undefined before the first). */
  cursor(): unknown;
  /** Publishes through accept; events the write path refuses come back as rejected, the rest is acked. */
  publish(events: readonly SourceEvent[]): Promise<PublishOutcome>;
  /**
   * Records the outcome (cursor, counters, rejected items) in `client`'s transaction, fenced by the
   * lease: throws LeaseLostError (rolling the caller back) if another process took the connector.
   */
  commit(client: PoolClient, outcome: PublishOutcome, opts?: CommitOptions): Promise<void>;
  /** publish, dead-letter the refused, then commit in a transaction of its own. */
  emit(
    events: readonly SourceEvent[],
    opts?: CommitOptions & { readonly rejected?: readonly RejectedItem[] },
  ): Promise<PublishOutcome>;
  /** Sends refused items to `<ns>.dlq.connector.<name>`, one message each. */
  deadLetter(items: readonly RejectedItem[]): Promise<void>;
  /** Makes a sleeping pull source run now (e.g. on NOTIFY). */
  wake(): void;
}

export interface TickResult {
  /** When the next tick is due (epoch ms); now = run again at once (more is waiting). */
  readonly nextRunAt: number;
}

export interface PullSource {
  readonly style: 'pull';
  tick(session: ConnectorSession): Promise<TickResult>;
  close?(): Promise<void>;
}

export interface PushSource {
  readonly style: 'push';
  run(session: ConnectorSession): Promise<void>;
  close?(): Promise<void>;
}

export type Source = PullSource | PushSource;

/** What a source may use beyond its session. */
export interface SourceDeps {
  readonly acceptCtx: AcceptContext;
  readonly pool: Pool;
  /** Milliseconds since the epoch; injected so tests control time. */
  readonly now: () => number;
  /** Tells every process that targets were created (listener caches reload). */
  readonly targetsChanged: () => Promise<void>;
  /** TMIDB_POLL_ALLOW_PRIVATE=on: loopback and private destinations allowed. */
  readonly allowPrivate: boolean;
  /** The tmi.speak() outbox's safety-net polling interval. */
  readonly speakPollMs: number;
}

export interface ConnectorKind<C = unknown> {
  readonly type: ConnectorType;
  /** Validates a config; throws ConnectorConfigError naming the member (`config.url`). */
  parse(config: unknown): C;
  /** The config as the API and logs show it: secrets replaced by `redactedMarker`. */
  redact(config: Record<string, unknown>): Record<string, unknown>;
  /** Secret members a PATCH may send back as the marker to keep their stored value. */
  keepSecrets(next: Record<string, unknown>, stored: Record<string, unknown>): Record<string, unknown>;
  create(record: ConnectorRecord, config: C, deps: SourceDeps): Source;
}

export const redactedMarker = '***';
