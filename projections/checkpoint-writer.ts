// SPDX-License-Identifier: MIT
// A stage's checkpoint written beside its batches instead of inside them (ADR 0035), for the stages whose
// whole output is in JetStream, deduplicated by message id, before their batch ends: normalize, fanout and
// fanout-alarm. For them the checkpoint carries no exactly-once duty (JetStream's acks and message ids do);
// it is the high-water mark `tmictl status` and the regression check read. Committing it inside each batch
// put a PostgreSQL transaction (and for fanout a WAL flush) between one batch and the next on the listeners'
// path: 10 ms at the median and 80–100 ms at p99 of a 500 requests/s run.
//
// At most one write is in flight; batches that end meanwhile are folded into the next (highest sequence,
// events summed), so a busy stage writes fewer, not more, transactions. A failed write is kept and tried
// again (at the next batch, or after checkpointRetryMs without one); until one succeeds `record` throws its
// error, so the batch in hand is not acked and the runner retries it as it would a failed commit.
import { type Pool, withTransaction } from '../db/index.js';
import { saveCheckpoint } from './checkpoint.js';

/** How long after a failed write it is tried again when no batch comes to try it. */
export const checkpointRetryMs = 1_000;
/**
 * Least time between the starts of two writes (flush and close excepted). Back to back, a stage's writer
 * kept a transaction in flight all the time — hundreds a second at 500 single-event requests/s, more
 * PostgreSQL CPU than the checkpoints inside the batches cost — on a machine whose cores are the limit.
 */
export const checkpointWriteIntervalMs = 100;

export interface CheckpointWriterOptions {
  readonly pool: Pool;
  /** consumer_checkpoint key. */
  readonly consumer: string;
  /** The stream the stage consumes. */
  readonly stream: string;
  /**
   * false: the commit does not wait for its WAL flush (normalize: a checkpoint lost in a crash of
   * PostgreSQL is overtaken by the next one).
   */
  readonly synchronousCommit: boolean;
  /** Least time between the starts of two writes; checkpointWriteIntervalMs unless a test sets it. */
  readonly writeIntervalMs?: number;
  /** The clock of the interval, ms; performance.now unless a test passes its own. */
  readonly nowMs?: () => number;
}

export class CheckpointWriter {
  private pendingSeq = 0;
  private pendingEvents = 0;
  private hasPending = false;
  private inFlight: Promise<void> | undefined;
  private failure: { readonly error: unknown } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastStartMs = Number.NEGATIVE_INFINITY;
  /** Transactions committed (tests and metrics read it). */
  writes = 0;

  /** Whether a write is in flight now. */
  get writing(): boolean {
    return this.inFlight !== undefined;
  }

  constructor(private readonly opts: CheckpointWriterOptions) {}

  /**
   * Folds a batch whose output is in JetStream into the next write, and starts that write unless one is in
   * flight. Throws the last write's error while writes fail (the batch is then not folded in: it is retried).
   */
  record(seq: number, events: number): void {
    if (this.failure !== undefined) {
      this.start();
      throw this.failure.error;
    }
    this.pendingSeq = Math.max(this.pendingSeq, seq);
    this.pendingEvents += events;
    this.hasPending = true;
    this.start();
  }

  /** Resolves once everything recorded is committed; rejects with the error of a write that failed. */
  async flush(): Promise<void> {
    for (;;) {
      this.start(true);
      if (this.inFlight === undefined) break;
      await this.inFlight;
      if (this.failure !== undefined) throw this.failure.error;
    }
  }

  /** A stage's last word on stop: writes what is pending, then stops retrying whatever the outcome. */
  async finish(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.close();
    }
  }

  /** Stops retrying in the background (what was not written stays unwritten). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Starts a write of what is pending unless one is in flight; not sooner than the interval unless forced. */
  private start(force = false): void {
    if (this.inFlight !== undefined || !this.hasPending) return;
    const now = this.opts.nowMs ? this.opts.nowMs() : performance.now();
    const wait = this.lastStartMs + (this.opts.writeIntervalMs ?? checkpointWriteIntervalMs) - now;
    if (!force && wait > 0) {
      this.later(wait);
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.lastStartMs = now;
    const seq = this.pendingSeq;
    const events = this.pendingEvents;
    this.hasPending = false;
    this.pendingEvents = 0;
    this.inFlight = this.write(seq, events).then(
      () => {
        this.writes++;
        this.failure = undefined;
        this.inFlight = undefined;
        this.start();
      },
      (error: unknown) => {
        this.failure = { error };
        this.pendingEvents += events;
        this.hasPending = true;
        this.inFlight = undefined;
        this.later(checkpointRetryMs);
      },
    );
  }

  /** One timer at a time: the pending write starts when it fires (or sooner, at a flush). */
  private later(ms: number): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.start();
    }, ms);
    this.timer.unref();
  }

  private write(seq: number, events: number): Promise<number> {
    const { pool, consumer, stream, synchronousCommit } = this.opts;
    return withTransaction(pool, async (client) => {
      if (!synchronousCommit) await client.query('SET LOCAL synchronous_commit = off');
      return saveCheckpoint(client, consumer, stream, seq, events);
    });
  }
}
