// SPDX-License-Identifier: MIT
// alarm, pure: which messages of a batch may be applied now. Alarms depend on the order of events, and a
// durable consumer does not keep order across a crash: the messages a killed worker held come back only
// after the ack wait, while newer ones are delivered at once. So the alarm stage applies TMI_NORM strictly
// in stream order: it keeps the contiguous frontier (every sequence ≤ it is applied) with its checkpoint,
// applies the run of messages that continues it, acks those at or below it (already applied), and defers
// those beyond a gap: the runner holds them and offers them again until the gap is filled (or given up).

export interface SeqPartition {
  /** At or below the frontier: applied before (a redelivery). Ack. */
  readonly stale: number[];
  /** The contiguous run after the frontier: apply, in this order. */
  readonly apply: number[];
  /** After a gap: not yet (the runner holds them and offers them again). */
  readonly defer: number[];
  /** The frontier after applying `apply`. */
  readonly frontier: number;
}

export function partitionBySeq(seqs: readonly number[], frontier: number): SeqPartition {
  const sorted = [...new Set(seqs)].sort((a, b) => a - b);
  const stale: number[] = [];
  const apply: number[] = [];
  const defer: number[] = [];
  let f = frontier;
  for (const seq of sorted) {
    if (seq <= frontier) stale.push(seq);
    else if (defer.length === 0 && seq === f + 1) {
      apply.push(seq);
      f = seq;
    } else defer.push(seq);
  }
  return { stale, apply, defer, frontier: f };
}

/**
 * Where the frontier may jump when it is blocked: past sequences the stream no longer holds (expired or
 * purged), or — after waiting `gapWaitMs` for them — past sequences that will never come back (dead-lettered
 * by the runner after too many deliveries). Undefined: keep waiting.
 */
export function frontierJump(opts: {
  readonly frontier: number;
  readonly lowestWaiting: number;
  readonly streamFirstSeq: number;
  readonly blockedSinceMs: number;
  readonly nowMs: number;
  readonly gapWaitMs: number;
}): { frontier: number; why: 'expired' | 'timed_out' } | undefined {
  const { frontier, lowestWaiting } = opts;
  if (lowestWaiting <= frontier + 1) return undefined;
  if (opts.streamFirstSeq > frontier + 1) {
    return { frontier: Math.min(opts.streamFirstSeq, lowestWaiting) - 1, why: 'expired' };
  }
  if (opts.nowMs - opts.blockedSinceMs >= opts.gapWaitMs)
    return { frontier: lowestWaiting - 1, why: 'timed_out' };
  return undefined;
}
