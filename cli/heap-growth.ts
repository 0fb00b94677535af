// SPDX-License-Identifier: MIT
// The V8 heap's growth between major collections (ADR 0034). V8 lets the old generation grow to up to 4×
// what the last major collection kept when collections are cheap; a tmiDB process under load keeps ~70 MiB
// live but promotes everything in flight for more than two scavenges (batches, requests, publishes), so its
// heap filled with ~200 MiB of garbage, and the Buffers those dead objects held, before each collection.
import v8 from 'node:v8';

/**
 * Sets the factor V8 grows the heap by after a major collection to 1 + percent/100 (0: V8's own). V8 reads
 * the flag each time it computes the next collection's limit (heap-controller.cc), so setting it when the
 * runtime starts holds for the rest of the process's life; no relaunch with command-line flags is needed.
 */
export function applyHeapGrowingPercent(percent: number): void {
  if (!Number.isInteger(percent) || percent < 0) throw new RangeError(`heap growing percent ${percent}`);
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
}
