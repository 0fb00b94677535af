// SPDX-License-Identifier: MIT
// Waiting in tests: for a condition, never for a fixed time. A slow machine makes these waits longer,
// never wrong; a negative assertion waits for a positive barrier first (see pipelineCaughtUp in tmidb.ts).

/** How often a condition is checked again. */
export const pollIntervalMs = 50;

/** Polls until check() returns true (or throws after timeoutMs, saying what it waited for). */
export async function eventually(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(what, async () => ((await check()) ? true : undefined), timeoutMs);
}

/** Polls until probe() returns a value other than undefined, and returns it (or throws after timeoutMs). */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollIntervalMs));
  }
}
