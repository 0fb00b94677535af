// SPDX-License-Identifier: MIT
// Fake JetStream messages and consumers for UNIT tests of the runner's logic (bisect, hold, re-attach …).
// Integration tests run the runner against a real nats-server; these fakes only record what the runner
// did to each message, with the real client's rule that the first ack or nak is final.
import { headers as natsHeaders } from '@nats-io/transport-node';
import { Clock, type Effect, ManagedRuntime, TestClock, TestContext } from 'effect';
import { DatabaseError, isRetryableSqlState } from '../../db/index.js';
import { createMetrics, topology } from '../../pipelines/index.js';
import {
  type MessageStream,
  type RunnerContext,
  type RunnerMsg,
  type RunStageOptions,
  runnerContext,
  type StageJetStream,
} from '../../pipelines/runner/types.js';
import type { StageHandler, StageMessage, StageResult } from '../../processors/index.js';
import { EnvelopeDecodeError } from '../../schemas/index.js';

export class FakeMsg implements RunnerMsg {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers = natsHeaders();
  readonly info: { deliveryCount: number; stream: string };
  settled: 'ack' | 'nak' | undefined;
  nakDelayMs: number | undefined;
  workingCalls = 0;

  constructor(
    readonly seq: number,
    opts: { deliveryCount?: number; subject?: string; journal?: string[] } = {},
  ) {
    this.subject = opts.subject ?? `t.in.target-${seq}`;
    this.data = new TextEncoder().encode(`body-${seq}`);
    this.info = { deliveryCount: opts.deliveryCount ?? 1, stream: 'T_IN' };
    this.journal = opts.journal;
  }

  private readonly journal: string[] | undefined;

  ack(): void {
    if (this.settled) return;
    this.settled = 'ack';
    this.journal?.push(`ack ${this.seq}`);
  }

  nak(millis?: number): void {
    if (this.settled) return;
    this.settled = 'nak';
    this.nakDelayMs = millis;
    this.journal?.push(`nak ${this.seq}`);
  }

  working(): void {
    if (!this.settled) this.workingCalls++;
  }
}

/** A consumer's message stream the test feeds; it ends when the test ends it or the runner closes it. */
export class FakeMessageStream implements MessageStream {
  closed = false;
  private readonly queue: FakeMsg[] = [];
  private ended: { error?: Error } | undefined;
  private waiter: (() => void) | undefined;

  push(...messages: FakeMsg[]): void {
    this.queue.push(...messages);
    this.notify();
  }

  /** Messages not yet read by the consumer's reader (what a real consumer would not have pulled yet). */
  get unread(): number {
    return this.queue.length;
  }

  /** The consumer is lost (deleted, heartbeats missed …). */
  end(error?: Error): void {
    this.ended = { error };
    this.notify();
  }

  /**
   * Like nats.js's `consume()` messages: the stream ends after the messages already pulled have been
   * read, and `close` resolves only once the reader got to that end.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.end();
    await this.readToEnd;
  }

  private endRead: () => void = () => {};
  private readonly readToEnd = new Promise<void>((resolve) => (this.endRead = resolve));

  async *[Symbol.asyncIterator](): AsyncIterator<FakeMsg> {
    try {
      for (;;) {
        const m = this.queue.shift();
        if (m) yield m;
        else if (this.ended?.error) throw this.ended.error;
        else if (this.ended) return;
        else await new Promise<void>((resolve) => (this.waiter = resolve));
      }
    } finally {
      this.endRead();
    }
  }

  private notify(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}

export interface Published {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Record<string, string>;
  readonly msgID: string;
}

/** Hands out a new FakeMessageStream per attach; `failAttaches` makes the next attaches fail. */
export class FakeJetStream implements StageJetStream {
  readonly streams: FakeMessageStream[] = [];
  readonly published: Published[] = [];
  attachCalls = 0;
  failAttaches = 0;
  /** When set, attaching waits for it (to stop the stage while an attach is in flight). */
  attachGate: Promise<void> | undefined;

  constructor(private readonly journal?: string[]) {}

  readonly consumers = {
    get: async (_stream: string, _durable: string) => {
      this.attachCalls++;
      await this.attachGate;
      if (this.failAttaches > 0) {
        this.failAttaches--;
        throw new Error('consumer not found');
      }
      return {
        consume: async () => {
          const s = new FakeMessageStream();
          this.streams.push(s);
          return s;
        },
      };
    },
  };

  get current(): FakeMessageStream {
    const s = this.streams.at(-1);
    if (!s) throw new Error('not attached');
    return s;
  }

  async publish(
    subject: string,
    data: Uint8Array,
    opts: { headers: Iterable<[string, string[]]>; msgID: string },
  ): Promise<void> {
    const headers = Object.fromEntries([...opts.headers].map(([k, v]) => [k, v.join(', ')]));
    this.published.push({ subject, data, headers, msgID: opts.msgID });
    this.journal?.push(`dead-letter ${headers['Tmi-Source-Seq']}`);
  }
}

/**
 * Virtual time for the runner's waits (Effect's TestClock) and its clock (`now()`), moved together:
 * tests advance time instead of sleeping. Run the runner on `runtime()`.
 */
export class VirtualTime {
  private readonly managed = ManagedRuntime.make(TestContext.TestContext);
  /** The runner's clock reads the TestClock's time. */
  readonly clock = { now: () => this.managed.runSync(Clock.currentTimeMillis) };

  runtime() {
    return this.managed.runtime();
  }

  async advance(ms: number): Promise<void> {
    await this.managed.runPromise(TestClock.adjust(ms));
    await settle();
  }

  /** Advances in steps of stepMs until check() holds; fails after maxMs of virtual time. */
  async until(what: string, check: () => boolean, stepMs = 5, maxMs = 60_000): Promise<void> {
    for (let elapsed = 0; ; elapsed += stepMs) {
      await settle();
      if (check()) return;
      if (elapsed >= maxMs) throw new Error(`still waiting after ${maxMs} virtual ms for ${what}`);
      await this.advance(stepMs);
    }
  }

  run<A, E>(effect: Effect.Effect<A, E>): Promise<A> {
    return this.managed.runPromise(effect);
  }

  dispose(): Promise<void> {
    return this.managed.dispose();
  }
}

/** Lets promise callbacks and fibers that are ready run (no timer is waited for). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A stage whose `handle` the test writes; every batch it was offered is recorded (by sequence). */
export function fakeStage(
  handle: (batch: readonly StageMessage[]) => Promise<StageResult>,
  extra: Partial<Pick<StageHandler, 'tick' | 'tickIntervalMs' | 'close'>> = {},
): StageHandler & { readonly offered: number[][] } {
  const offered: number[][] = [];
  return {
    stage: 'capture',
    offered,
    handle: (batch) => {
      offered.push(batch.map((m) => m.seq));
      return handle(batch);
    },
    ...extra,
  };
}

/** Commits every message it is offered. */
export const committed = async (batch: readonly StageMessage[]): Promise<StageResult> => ({
  events: batch.length,
  deadLetters: [],
});

/** Runner options around fakes: the real topology and metrics, a log the test can read. */
export function fakeOptions(
  js: StageJetStream,
  handler: StageHandler,
  overrides: Partial<RunStageOptions> = {},
): RunStageOptions & { readonly logged: string[] } {
  const logged: string[] = [];
  return {
    js,
    handler,
    topology: topology('t'),
    metrics: createMetrics(),
    batchMessagesMax: 10,
    maxDeliver: 5,
    ackWaitMs: 3_000,
    log: (level, msg) => logged.push(`${level} ${msg}`),
    logged,
    ...overrides,
  };
}

export function fakeContext(
  js: StageJetStream,
  handler: StageHandler,
  overrides: Partial<RunStageOptions> = {},
): RunnerContext {
  return runnerContext(fakeOptions(js, handler, overrides));
}

/**
 * A real error of a kind a stage throws: the runner classifies by class and code, never by shape, so a
 * look-alike would come back UNEXPECTED. `PG_<SQLSTATE>` is a DatabaseError; a catalogue code, its class.
 */
export function stageError(code: string, isRetryable: boolean): Error {
  const message = `${code} happened`;
  const sqlState = /^PG_(\w{5})$/.exec(code)?.[1];
  const error =
    sqlState !== undefined
      ? new DatabaseError(sqlState, message, isRetryableSqlState(sqlState))
      : code === 'ENVELOPE_UNDECODABLE'
        ? new EnvelopeDecodeError(message)
        : undefined;
  if (error === undefined) throw new Error(`stageError: no error class in the tree answers ${code}`);
  if (error.isRetryable !== isRetryable) {
    throw new Error(`stageError: ${code} is ${error.isRetryable ? '' : 'not '}retryable in the catalogue`);
  }
  return error;
}
