// SPDX-License-Identifier: MIT
// Messages a stage deferred (alarm: they come after a gap in the stream), held unacked and offered again —
// lowest stream sequence first — until the stage can apply them. JetStream would redeliver a held message
// once its ack wait runs out, so each is kept alive (`working()`) well within it; beyond the hold limit
// the newest go back to the stream for later.
import { stageHeldMessagesMax, stageHeldRetryMs } from '../limits.js';
import type { RunnerClock, RunnerMsg } from './types.js';

export class HeldMessages {
  private held: RunnerMsg[] = [];
  /**
   * When each message that is held — or was held and is offered again, not yet settled — was last kept
   * alive. It outlives `held`: a message taken back into a batch stays here until it is settled.
   */
  private readonly touched = new Map<RunnerMsg, number>();

  constructor(
    private readonly clock: RunnerClock,
    /** How often a held message is kept alive: a third of the consumer's ack wait. */
    private readonly keepAliveEveryMs: number,
    private readonly heldMax = stageHeldMessagesMax,
  ) {}

  get size(): number {
    return this.held.length;
  }

  hold(m: RunnerMsg): void {
    if (!this.touched.has(m)) {
      m.working();
      this.touched.set(m, this.clock.now());
    }
    this.held.push(m);
  }

  /** The message was acked or dead-lettered: no longer kept alive. */
  release(m: RunnerMsg): void {
    this.touched.delete(m);
  }

  /** Keeps every held message alive, naks those beyond the limit, and hands back the rest (emptied). */
  takeAll(): RunnerMsg[] {
    this.keepAlive();
    const taken = this.held;
    this.held = [];
    return taken;
  }

  /** On close: everything held goes back to the stream at once. */
  nakAll(): void {
    for (const m of this.held.splice(0)) m.nak();
    this.touched.clear();
  }

  private keepAlive(): void {
    const now = this.clock.now();
    for (const [m, at] of this.touched) {
      if (now - at >= this.keepAliveEveryMs) {
        m.working();
        this.touched.set(m, now);
      }
    }
    if (this.held.length > this.heldMax) {
      this.held.sort((a, b) => a.seq - b.seq);
      for (const m of this.held.splice(this.heldMax)) {
        this.release(m);
        m.nak(stageHeldRetryMs * 10);
      }
    }
  }
}
