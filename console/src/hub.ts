// SPDX-License-Identifier: MIT
// One live stream per session. A listener key streams its own listener. An admin key has no listener
// of its own, so the console streams through one named `console` that it creates on first use and
// subscribes to every kind it shows (with alarms); it is an ordinary listener, visible on the
// Listeners page, and deleting it stops that extra fanout (the console makes it again when needed).
import { api, onSessionChange, type Session, session } from './api';
import { LiveStream } from './live';

export const consoleListenerName = 'console';

let stream: LiveStream | undefined;
let streamToken: string | undefined;
let known: Set<string> | undefined;
let pending: Promise<void> = Promise.resolve();

onSessionChange(() => {
  stream?.close();
  stream = undefined;
  streamToken = undefined;
  known = undefined;
});

interface ListenerOut {
  readonly name: string;
  readonly subscriptions: readonly { kind: string | null }[];
}

/** The console listener's kinds, creating it if needed (found by listing, so no 404 lands in the log). */
async function consoleListenerKinds(): Promise<Set<string>> {
  let after: string | undefined;
  for (;;) {
    const page = await api<{ listeners: ListenerOut[]; next?: string }>(
      'GET',
      `/v1/listeners?limit=1000${after === undefined ? '' : `&after=${after}`}`,
    );
    const mine = page.listeners.find((l) => l.name === consoleListenerName);
    if (mine) return new Set(mine.subscriptions.flatMap((s) => (s.kind === null ? [] : [s.kind])));
    if (page.next === undefined) break;
    after = page.next;
  }
  await api('POST', '/v1/listeners', {
    name: consoleListenerName,
    description: 'Made by tmiDB Console for its live view (admin sign-ins). Safe to delete.',
    subscriptions: [],
  });
  return new Set();
}

/** Admin: make sure the console listener covers these kinds (serialised: one change at a time). */
export function watchKinds(kinds: Iterable<string>): Promise<void> {
  const s = session();
  if (s?.scope !== 'admin') return Promise.resolve();
  const wanted = [...new Set(kinds)];
  pending = pending
    .catch(() => undefined)
    .then(async () => {
      known ??= await consoleListenerKinds();
      const missing = wanted.filter((k) => !known!.has(k));
      if (missing.length === 0) return;
      await api(
        'POST',
        `/v1/listeners/${consoleListenerName}/subscriptions`,
        missing.map((kind) => ({ kind, alarms: true })),
      );
      for (const k of missing) known!.add(k);
    });
  return pending;
}

/** The session's stream (undefined for keys that may not listen). */
export async function liveStream(): Promise<LiveStream | undefined> {
  const s: Session | null = session();
  if (s === null || s.scope === 'speaker') return undefined;
  if (stream !== undefined && streamToken === s.token) return stream;
  if (s.scope === 'admin') await watchKinds([]);
  const listener = s.scope === 'admin' ? consoleListenerName : s.listener!;
  stream = new LiveStream(s.token, listener);
  streamToken = s.token;
  return stream;
}
