// SPDX-License-Identifier: MIT
// One connector running in this process under a lease: the loop that ticks a pull source when due (or
// keeps a push source running), records every outcome in its status, and backs off after failures.
// Nothing a source throws leaves this loop: a connector never takes the process down.
import { redactUrl } from '../../config/index.js';
import { classifyError } from '../../pipelines/index.js';
import { type BackoffPolicy, backoffDelayMs } from './backoff.js';
import { LeaseLostError, SourceError } from './errors.js';
import type { ConnectorMetrics } from './metrics.js';
import { type Lease, type RunReport, reportRun } from './store.js';
import type { ConnectorSession, Source } from './types.js';

export interface InstanceDeps {
  readonly metrics: ConnectorMetrics;
  readonly backoff: BackoffPolicy;
  readonly now: () => number;
  readonly random: () => number;
  readonly log: ConnectorSession['log'];
}

export class ConnectorInstance {
  readonly done: Promise<void>;
  private failures = 0;
  private wakeUp: (() => void) | undefined;
  private woken = false;

  constructor(
    readonly lease: Lease,
    private readonly controller: AbortController,
    private readonly source: Source,
    private readonly session: ConnectorSession,
    private readonly deps: InstanceDeps,
  ) {
    this.done = this.loop().finally(() => {
      this.deps.metrics.setState(session.record.name, session.record.type, undefined);
    });
  }

  get record() {
    return this.session.record;
  }

  /** Runs a sleeping pull source now; a wake during a tick makes the next tick follow at once. */
  wake(): void {
    if (this.wakeUp) this.wakeUp();
    else this.woken = true;
  }

  async stop(): Promise<void> {
    this.controller.abort();
    this.wake();
    await this.done;
  }

  private async loop(): Promise<void> {
    let nextRunAt = this.deps.now();
    const signal = this.controller.signal;
    while (!signal.aborted) {
      await this.sleepUntil(nextRunAt);
      if (signal.aborted) break;
      try {
        if (this.source.style === 'pull') {
          const r = await this.source.tick(this.session);
          nextRunAt = r.nextRunAt;
        } else {
          await this.report({ state: 'running', failures: 0, nextRunAt: undefined, success: true });
          await this.source.run(this.session);
          nextRunAt = this.deps.now();
        }
        this.failures = 0;
        this.deps.metrics.runs.inc({ connector: this.record.name, type: this.record.type });
        await this.report({ state: 'running', failures: 0, nextRunAt, success: true });
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof LeaseLostError) {
          this.deps.log('warn', `connector ${this.record.name}: ${err.message}; stopping here`);
          this.controller.abort();
          break;
        }
        nextRunAt = await this.failed(err);
      }
    }
    await this.source.close?.().catch(() => {});
  }

  /** Records a failure; returns when to try again. */
  private async failed(err: unknown): Promise<number> {
    let c: { code: string; message: string; isRetryable: boolean };
    try {
      c = classifyError(err);
    } catch (invariant) {
      c = { code: 'INVARIANT_BROKEN', message: (invariant as Error).message, isRetryable: false };
    }
    // A source says why in its own words (HTTP_429, TIMEOUT …): that is what the status shows.
    if (err instanceof SourceError) c = { ...c, code: err.reason };
    const retryAfterMs = err instanceof SourceError ? err.retryAfterMs : undefined;
    this.failures++;
    const delay = backoffDelayMs(this.deps.backoff, this.failures, this.deps.random(), retryAfterMs);
    const nextRunAt = this.deps.now() + delay;
    const message = redactUrl(c.message).slice(0, 2000);
    this.deps.metrics.failures.inc({ connector: this.record.name, type: this.record.type, code: c.code });
    this.deps.log(
      'warn',
      `connector ${this.record.name}: ${c.code} ${message} (failure ${this.failures}; next try in ${delay} ms)`,
    );
    await this.report({
      state: c.isRetryable ? 'backing_off' : 'failing',
      failures: this.failures,
      nextRunAt,
      success: false,
      error: { code: c.code, message },
    });
    return nextRunAt;
  }

  private async report(r: RunReport): Promise<void> {
    this.deps.metrics.setState(this.record.name, this.record.type, r.state);
    try {
      const held = await reportRun(this.session.pool, this.lease, r);
      if (!held) this.controller.abort();
    } catch (err) {
      this.deps.log('warn', `connector ${this.record.name}: status not recorded: ${(err as Error).message}`);
    }
  }

  private sleepUntil(at: number): Promise<void> {
    const ms = at - this.deps.now();
    if (this.woken || ms <= 0) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const signal = this.controller.signal;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.min(ms, 2 ** 31 - 1));
      this.wakeUp = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
