// SPDX-License-Identifier: MIT
// Drives one stage: pull a batch from its durable consumer, hand it to the stage, ack after the stage
// has committed. Transient failures retry the whole batch with backoff (the messages are kept alive with
// `working()`); a permanent failure bisects the batch until the poison message stands alone, which goes to
// the dead-letter subject with its error. Nothing is acked before it is committed or dead-lettered.
// Messages a stage defers (alarm: it applies strictly in stream order) are held unacked, kept alive, and
// offered again lowest-sequence first; a stage's `tick` (alarm: deadlines) runs beside the loop.
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { Effect, Schedule } from 'effect';
import type { DeadLetter, StageHandler, StageMessage, StageName, StageResult } from '../processors/index.js';
import { type ClassifiedError, classifyError, invariant } from './errors.js';
import { consumerPullExpiresMs, stageHeldMessagesMax, stageHeldRetryMs, stageLingerMs } from './limits.js';
import type { Metrics } from './metrics.js';
import type { Topology } from './topology.js';

export interface RunStageOptions {
  readonly js: JetStreamClient;
  readonly topology: Topology;
  readonly handler: StageHandler;
  readonly metrics: Metrics;
  readonly batchMessagesMax: number;
  readonly maxDeliver: number;
  /** The consumer's ack wait: messages a stage defers are kept alive well within it. */
  readonly ackWaitMs?: number;
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

export interface RunningStage {
  readonly stage: StageName;
  /** Resolves when the loop ends (after stop(), or with an error that should crash the process). */
  readonly done: Promise<void>;
  /** Stops pulling, finishes the batch in hand, naks what was buffered. */
  stop(): Promise<void>;
}

const retrySchedule = Schedule.union(Schedule.exponential('50 millis', 2), Schedule.spaced('5 seconds'));

/** Re-attaching to the consumer after it was lost backs off up to this long. */
export const reattachBackoffMaxMs = 5_000;

export async function runStage(opts: RunStageOptions): Promise<RunningStage> {
  const spec = opts.topology.stages[opts.handler.stage];
  const attach = async (): Promise<StageLoop> => {
    const consumer = await opts.js.consumers.get(spec.stream, spec.durable);
    // reliability (issue 10): short-lived pulls, so a stage pulls again within seconds after a nats-server
    // restart instead of the client's 30 s default (see consumerPullExpiresMs).
    const messages = await consumer.consume({
      max_messages: opts.batchMessagesMax * 2,
      expires: consumerPullExpiresMs,
    });
    return new StageLoop(opts, messages);
  };
  let stopping = false;
  let loop = await attach();
  const ticker = opts.handler.tick ? startTicker(opts) : undefined;
  // The loop ends when its consumer's message iterator ends (the consumer was deleted, heartbeats were
  // missed for too long …); unless we are stopping, attach again rather than leave the stage dead.
  const done = (async () => {
    let backoffMs = 100;
    for (;;) {
      await loop.run();
      while (!stopping) {
        opts.log?.('warn', `${opts.handler.stage}: consumer lost; attaching again in ${backoffMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, reattachBackoffMaxMs);
        try {
          if (!stopping) loop = await attach();
          break;
        } catch (err) {
          opts.log?.('warn', `${opts.handler.stage}: attach failed: ${(err as Error).message}`);
        }
      }
      if (stopping) return;
      backoffMs = 100;
    }
  })();
  return {
    stage: opts.handler.stage,
    done,
    stop: async () => {
      stopping = true;
      await ticker?.stop();
      await loop.close();
      await done.catch(() => {});
    },
  };
}

/** The stage's time-driven work (`tick`), one run at a time; a failed run is logged and tried again next time. */
function startTicker(opts: RunStageOptions): { stop(): Promise<void> } {
  const { handler } = opts;
  const intervalMs = handler.tickIntervalMs ?? 1_000;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const run = () => {
    running = handler.tick!()
      .catch((err: unknown) => {
        const e = classifyError(err);
        opts.log?.(e.isRetryable ? 'warn' : 'error', `${handler.stage}: timer: ${e.code} ${e.message}`);
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(run, intervalMs);
      });
  };
  timer = setTimeout(run, intervalMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

class StageLoop {
  stopping = false;
  private readonly buffer: JsMsg[] = [];
  /**
   * Messages the stage deferred (alarm: they come after a gap in the stream), held unacked and offered again
   * — lowest stream sequence first — until it can apply them; with when each was last kept alive.
   */
  private held: JsMsg[] = [];
  private readonly touched = new Map<JsMsg, number>();
  private waiter: (() => void) | undefined;
  private pumpDone = false;

  constructor(
    private readonly opts: RunStageOptions,
    private readonly messages: ConsumerMessages,
  ) {}

  async close(): Promise<void> {
    this.stopping = true;
    await this.messages.close().catch(() => {});
    this.wake();
  }

  wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  async run(): Promise<void> {
    const pump = this.pump();
    try {
      while (!this.stopping) {
        const batch = await this.nextBatch();
        if (batch.length === 0) continue;
        await this.process(batch);
      }
    } finally {
      for (const m of this.buffer.splice(0)) m.nak();
      for (const m of this.held.splice(0)) m.nak();
      this.touched.clear();
      await pump;
    }
  }

  private async pump(): Promise<void> {
    try {
      for await (const m of this.messages) {
        this.buffer.push(m);
        if (this.buffer.length === 1 || this.buffer.length >= this.opts.batchMessagesMax) this.wake();
      }
    } catch (err) {
      this.opts.log?.('warn', `${this.opts.handler.stage}: message stream failed: ${(err as Error).message}`);
    } finally {
      this.pumpDone = true;
      this.stopping = true;
      this.wake();
    }
  }

  private async nextBatch(): Promise<JsMsg[]> {
    if (this.buffer.length === 0 && !this.pumpDone) {
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        // Held messages are offered again after a pause even when nothing new arrives.
        if (this.held.length > 0) setTimeout(() => this.wake(), stageHeldRetryMs);
      });
    }
    if (this.buffer.length > 0 && this.buffer.length < this.opts.batchMessagesMax && !this.stopping) {
      await new Promise((resolve) => setTimeout(resolve, stageLingerMs));
    }
    if (this.held.length === 0) return this.buffer.splice(0, this.opts.batchMessagesMax);
    this.keepHeldAlive();
    // The lowest sequences first: a stage that applies in stream order needs those.
    const all = [...this.held, ...this.buffer.splice(0)].sort((a, b) => a.seq - b.seq);
    this.held = [];
    this.buffer.unshift(...all.slice(this.opts.batchMessagesMax));
    return all.slice(0, this.opts.batchMessagesMax);
  }

  private hold(m: JsMsg): void {
    if (!this.touched.has(m)) {
      m.working();
      this.touched.set(m, Date.now());
    }
    this.held.push(m);
  }

  private release(m: JsMsg): void {
    this.touched.delete(m);
  }

  /** Resets the ack wait of held messages before it runs out; beyond the hold limit, the newest go back. */
  private keepHeldAlive(): void {
    const now = Date.now();
    const every = (this.opts.ackWaitMs ?? 30_000) / 3;
    for (const [m, at] of this.touched) {
      if (now - at >= every) {
        m.working();
        this.touched.set(m, now);
      }
    }
    if (this.held.length > stageHeldMessagesMax) {
      this.held.sort((a, b) => a.seq - b.seq);
      for (const m of this.held.splice(stageHeldMessagesMax)) {
        this.release(m);
        m.nak(stageHeldRetryMs * 10);
      }
    }
  }

  private async process(batch: JsMsg[]): Promise<void> {
    const { handler, metrics } = this.opts;
    const ready: JsMsg[] = [];
    for (const m of batch) {
      if (m.info.deliveryCount >= this.opts.maxDeliver) {
        await this.deadLetter(m, {
          seq: m.seq,
          code: 'MAX_DELIVER',
          reason: `delivered ${m.info.deliveryCount} times without success`,
        });
      } else ready.push(m);
    }
    if (ready.length === 0) return;
    const end = metrics.stageBatchSeconds.startTimer({ stage: handler.stage });
    try {
      await this.commitOrBisect(ready);
    } catch (err) {
      if (!(err instanceof StoppedError)) throw err;
      // Stopped while the batch could not commit: hand it straight back to the other workers.
      for (const m of ready) m.nak();
    }
    end();
  }

  private async commitOrBisect(batch: JsMsg[]): Promise<void> {
    const outcome = await this.commitWithRetry(batch);
    if (outcome.ok) {
      const poison = new Map(outcome.result.deadLetters.map((d) => [d.seq, d]));
      const deferred = new Set(outcome.result.deferred ?? []);
      for (const m of batch) {
        const dead = poison.get(m.seq);
        if (deferred.has(m.seq) && !dead) {
          this.hold(m);
          continue;
        }
        this.release(m);
        if (dead) await this.deadLetter(m, dead);
        else m.ack();
      }
      const { stage } = this.opts.handler;
      this.opts.metrics.stageEventsProcessed.inc({ stage }, outcome.result.events);
      if (deferred.size > 0) this.opts.metrics.stageMessagesDeferred.inc({ stage }, deferred.size);
      for (const [reason, n] of Object.entries(outcome.result.skipped ?? {})) {
        this.opts.metrics.stageEventsSkipped.inc({ stage, reason }, n);
      }
      return;
    }
    if (batch.length === 1) {
      await this.deadLetter(batch[0]!, {
        seq: batch[0]!.seq,
        code: outcome.error.code,
        reason: outcome.error.message,
      });
      return;
    }
    const half = Math.ceil(batch.length / 2);
    await this.commitOrBisect(batch.slice(0, half));
    await this.commitOrBisect(batch.slice(half));
  }

  private async commitWithRetry(
    batch: JsMsg[],
  ): Promise<{ ok: true; result: StageResult } | { ok: false; error: ClassifiedError }> {
    const { handler, metrics } = this.opts;
    const stageMessages = batch.map(toStageMessage);
    const attempt = Effect.tryPromise({
      try: () => handler.handle(stageMessages),
      catch: classifyError,
    }).pipe(
      Effect.tapError((e) =>
        Effect.sync(() => {
          if (!e.isRetryable) return;
          metrics.stageBatchRetries.inc({ stage: handler.stage, code: e.code });
          this.opts.log?.('warn', `${handler.stage}: transient ${e.code} (${e.message}); retrying batch`);
          for (const m of batch) m.working();
        }),
      ),
      Effect.retry({ schedule: retrySchedule, while: (e) => e.isRetryable && !this.stopping }),
    );
    return Effect.runPromise(
      attempt.pipe(
        Effect.map((result) => ({ ok: true as const, result })),
        Effect.catchAll((error) => Effect.succeed({ ok: false as const, error })),
      ),
    ).then((outcome) => {
      // Stopping while the database is down: leave the batch unacked for redelivery, never dead-letter it.
      if (!outcome.ok && outcome.error.isRetryable) throw new StoppedError();
      return outcome;
    });
  }

  private async deadLetter(m: JsMsg, dead: DeadLetter): Promise<void> {
    const { js, topology, handler, metrics } = this.opts;
    const h = natsHeaders();
    h.set('Tmi-Stage', handler.stage);
    h.set('Tmi-Error-Code', dead.code);
    h.set('Tmi-Error', dead.reason.slice(0, 1000));
    h.set('Tmi-Source-Subject', m.subject);
    h.set('Tmi-Source-Seq', String(m.seq));
    await js.publish(topology.dlqSubject(handler.stage), m.data, {
      headers: h,
      msgID: `${m.info.stream}:${m.seq}:${handler.stage}:dlq`,
    });
    m.ack();
    metrics.stageEventsFailed.inc({ stage: handler.stage, code: dead.code });
    this.opts.log?.('warn', `${handler.stage}: seq ${m.seq} dead-lettered (${dead.code}: ${dead.reason})`);
  }
}

class StoppedError extends Error {
  readonly code = 'STAGE_STOPPED';
  readonly isRetryable = true;
}

function toStageMessage(m: JsMsg): StageMessage {
  const headers: Record<string, string> = {};
  if (m.headers) for (const [k, v] of m.headers) headers[k] = v.join(', ');
  invariant(m.seq > 0, `stream sequence must be positive, got ${m.seq}`);
  return { seq: m.seq, subject: m.subject, body: m.data, headers, deliveryCount: m.info.deliveryCount };
}
