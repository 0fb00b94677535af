// SPDX-License-Identifier: MIT
// `tmictl tail <listener> [--from <cursor> | --oldest] [--count N]`: a listener's live stream on the
// terminal, through /tmi/ws like any client. A close it may resume from (server stopping, too slow,
// connection lost) reconnects and resumes after the last cursor printed, so nothing is missed or doubled.
import { WebSocket } from 'ws';
import type { Config } from '../config/index.js';
import type { Io } from './commands.js';
import { cliApiKey, endpoints } from './run-info.js';

/** Close codes after which tail reconnects and resumes. */
export const resumableCloseCodes: readonly number[] = [1001, 1006, 1011, 1012, 1013, 4008];
export const tailReconnectDelayMsMax = 5_000;

export interface TailOptions {
  readonly from?: string;
  readonly oldest: boolean;
  /** Stop after this many event/alarm frames. */
  readonly count?: number;
}

interface Frame {
  readonly type: string;
  readonly cursor?: number;
  readonly target_id?: string;
  readonly ts?: string;
  readonly data?: unknown;
  readonly code?: string;
  readonly message?: string;
}

interface Outcome {
  readonly done: boolean;
  readonly code: number;
  readonly error?: Frame;
  readonly opened: boolean;
}

export async function tail(
  config: Config,
  io: Io,
  listener: string | undefined,
  opts: TailOptions,
): Promise<number> {
  if (!listener) {
    io.err('usage: tmictl tail <listener> [--from <cursor> | --oldest] [--count N] [--json]');
    return 2;
  }
  let cursor: number | undefined;
  if (opts.from !== undefined) {
    cursor = Number(opts.from);
    if (!Number.isSafeInteger(cursor) || cursor < 0) {
      io.err(`--from needs a cursor (a non-negative integer), got '${opts.from}'`);
      return 2;
    }
  }
  const url = `${endpoints(config).httpUrl.replace(/^http/, 'ws')}/tmi/ws`;
  const key = cliApiKey(config);
  let printed = 0;
  let stopping = false;
  let current: WebSocket | undefined;
  const onSignal = () => {
    stopping = true;
    current?.close(1000);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for (let attempt = 0, failures = 0; ; attempt++) {
      const outcome = await new Promise<Outcome>((resolve) => {
        const ws = new WebSocket(url);
        current = ws;
        let opened = false;
        let error: Frame | undefined;
        let done = false;
        ws.on('open', () => {
          opened = true;
          ws.send(JSON.stringify({ type: 'auth', token: key, listener }));
          const start =
            cursor !== undefined
              ? { type: 'resume', cursor }
              : { type: 'subscribe', from: opts.oldest ? 'oldest' : 'now' };
          ws.send(JSON.stringify(start));
        });
        ws.on('message', (raw) => {
          const frame = JSON.parse(raw.toString()) as Frame;
          if (frame.type === 'ready') {
            cursor = frame.cursor;
            io.err(`[tail] ${listener}: streaming after cursor ${frame.cursor}`);
          } else if (frame.type === 'error') {
            error = frame;
          } else if (frame.type === 'event' || frame.type === 'alarm') {
            cursor = frame.cursor;
            io.out(
              io.json
                ? raw.toString()
                : `${frame.cursor}\t${frame.ts}\t${frame.target_id}\t${frame.type}\t${JSON.stringify(frame.data)}`,
            );
            printed++;
            if (opts.count !== undefined && printed >= opts.count) {
              done = true;
              ws.close(1000);
            }
          }
        });
        ws.on('error', () => {});
        ws.on('close', (code) => resolve({ done: done || stopping, code, error, opened }));
      });
      if (outcome.done) return 0;
      if (!outcome.opened && attempt === 0) {
        io.err(`tmictl: cannot reach ${url}`);
        return 1;
      }
      failures = outcome.opened ? 1 : failures + 1;
      if (!resumableCloseCodes.includes(outcome.code)) {
        const e = outcome.error;
        io.err(`tmictl: stream closed (${outcome.code}${e ? ` ${e.code}: ${e.message}` : ''})`);
        return 1;
      }
      io.err(`[tail] connection closed (${outcome.code}); resuming after cursor ${cursor ?? 'now'}`);
      await new Promise((r) =>
        setTimeout(r, Math.min(tailReconnectDelayMsMax, 100 * 2 ** Math.min(failures, 6))),
      );
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
