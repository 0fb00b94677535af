// SPDX-License-Identifier: MIT
// Small helpers the pages share: async loading as a hook, formatting, the live stream as a hook.
import { useEffect, useState } from 'preact/hooks';
import { liveStream } from './hub';
import type { LiveFrame, LiveStatus } from './live';

export interface Loaded<T> {
  readonly data?: T;
  readonly error?: string;
  readonly loading: boolean;
  reload(): void;
}

/** Runs `load` when `deps` change (and on reload()); keeps the last result while reloading. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, loading: false }),
      (err: Error) => live && setState((s) => ({ ...s, error: err.message, loading: false })),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/** Calls `fn` with each animation frame's batch of live frames. */
export function useLive(fn: (frames: readonly LiveFrame[]) => void, deps: readonly unknown[]): void {
  useEffect(() => {
    let off: (() => void) | undefined;
    let gone = false;
    liveStream().then((s) => {
      if (!gone && s !== undefined) off = s.subscribe(fn);
    });
    return () => {
      gone = true;
      off?.();
    };
  }, deps);
}

export function useLiveStatus(): LiveStatus | 'none' {
  const [status, setStatus] = useState<LiveStatus | 'none'>('none');
  useEffect(() => {
    let off: (() => void) | undefined;
    let gone = false;
    liveStream().then((s) => {
      if (!gone && s !== undefined) off = s.onStatus(setStatus);
    });
    return () => {
      gone = true;
      off?.();
    };
  }, []);
  return status;
}

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)}Z`;
}

export function fmtAgo(iso: string | null | undefined, nowMs = Date.now()): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

export function fmtValue(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) < 10 ? 3 : 2);
  if (typeof v === 'string') return v.length > 40 ? `${v.slice(0, 39)}…` : v;
  return JSON.stringify(v) ?? '';
}

export type State = Record<string, { value: unknown; ts: string }>;

/** The latest observation time across a target's fields. */
export function lastSeen(state: State | undefined): string | undefined {
  let last: string | undefined;
  for (const f of Object.values(state ?? {})) if (last === undefined || f.ts > last) last = f.ts;
  return last;
}

/** Merges a live event into a state (newer observations win). */
export function mergeState(state: State, frame: LiveFrame): State {
  const next = { ...state };
  for (const [field, value] of Object.entries(frame.data)) {
    const old = next[field];
    if (old === undefined || old.ts <= frame.ts) next[field] = { value, ts: frame.ts };
  }
  return next;
}

export function parseJsonObject(text: string, what: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return undefined;
  const v = JSON.parse(text) as unknown;
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new Error(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}
