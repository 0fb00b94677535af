// SPDX-License-Identifier: MIT
// The WebSocket protocol of /tmi/ws, pure: client frames, close codes, the Origin check, cursor checks
// and the data frame (the stored listen payload with its cursor spliced in, no re-serialization).
//
//   client → {"type":"auth","token":"<API key or token>","listener":"<name>"?}        (first frame)
//   client → {"type":"subscribe","from":"now"|"oldest"?} | {"type":"resume","cursor":N} (second frame)
//   server → {"type":"ready","listener":"<name>","cursor":C}   once the stream is attached: every event
//            with a cursor > C will arrive, in order
//   server → {"type":"event"|"alarm","cursor":N,"target_id","ts","event_id","data"}
//   client ↔ {"type":"ping"} → {"type":"pong"}                (besides WebSocket ping/pong heartbeats)
//   server → {"type":"error","code","message"} then a close with one of `closeCodes`.

export const wsPath = '/tmi/ws';

/** Close codes of /tmi/ws (4000–4999 are the application's). */
export const closeCodes = {
  /** The server stops (or the client said goodbye): reconnect and resume. */
  goingAway: 1001,
  /** A frame larger than TMIDB_WS_FRAME_BYTES_MAX (sent by the ws library). */
  messageTooBig: 1009,
  /** Unexpected server error: reconnect and resume. */
  internalError: 1011,
  /** A frame that is not JSON, not a known type, or out of order. */
  badRequest: 4000,
  /** No valid credential in time, a token that expired, or a key revoked while streaming. */
  unauthenticated: 4001,
  /** The key's scope may not listen (a speaker key). */
  forbidden: 4003,
  /** No such listener, or not this key's. */
  listenerNotFound: 4004,
  /** The client read too slowly for its send buffer: resume from the last cursor it processed. */
  slowConsumer: 4008,
  /** The key has TMIDB_WS_CONNECTIONS_PER_KEY_MAX streams open already. */
  tooManyConnections: 4009,
  /** The resume cursor is older than the retention of TMI_LISTEN (or from another stream). */
  cursorUnavailable: 4010,
} as const;

export type ClientFrame =
  | { readonly type: 'auth'; readonly token: string; readonly listener?: string }
  | { readonly type: 'subscribe'; readonly from: 'now' | 'oldest' }
  | { readonly type: 'resume'; readonly cursor: number }
  | { readonly type: 'ping' };

export type ParsedFrame =
  | { readonly ok: true; readonly frame: ClientFrame }
  | { readonly ok: false; readonly detail: string };

const tokenLengthMax = 4096;
const listenerLengthMax = 64;

export function parseClientFrame(text: string): ParsedFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, detail: 'a frame must be a JSON object' };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, detail: 'a frame must be a JSON object' };
  }
  const f = raw as Record<string, unknown>;
  switch (f.type) {
    case 'auth': {
      if (typeof f.token !== 'string' || f.token.length === 0 || f.token.length > tokenLengthMax) {
        return { ok: false, detail: 'auth needs "token": your API key or token' };
      }
      if (
        f.listener !== undefined &&
        (typeof f.listener !== 'string' || f.listener.length > listenerLengthMax)
      ) {
        return { ok: false, detail: '"listener" must be a listener name' };
      }
      return {
        ok: true,
        frame: {
          type: 'auth',
          token: f.token,
          ...(f.listener === undefined ? {} : { listener: f.listener as string }),
        },
      };
    }
    case 'subscribe': {
      const from = f.from ?? 'now';
      if (from !== 'now' && from !== 'oldest')
        return { ok: false, detail: '"from" must be "now" or "oldest"' };
      return { ok: true, frame: { type: 'subscribe', from } };
    }
    case 'resume': {
      if (typeof f.cursor !== 'number' || !Number.isSafeInteger(f.cursor) || f.cursor < 0) {
        return { ok: false, detail: 'resume needs "cursor": the cursor of the last frame you processed' };
      }
      return { ok: true, frame: { type: 'resume', cursor: f.cursor } };
    }
    case 'ping':
      return { ok: true, frame: { type: 'ping' } };
    default:
      return { ok: false, detail: 'unknown frame type; expected auth, subscribe, resume or ping' };
  }
}

function normalizeOrigin(origin: string): string | undefined {
  try {
    const u = new URL(origin);
    return `${u.protocol}//${u.host}`.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * May a WebSocket be opened from this Origin? No Origin: not a browser, allowed. '*': any. Otherwise
 * the Origin must be in the allowlist, or — with an empty allowlist — be this very host.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowlist: string,
): boolean {
  if (origin === undefined) return true;
  const entries = allowlist
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (entries.includes('*')) return true;
  const o = normalizeOrigin(origin);
  if (o === undefined) return false;
  if (entries.length > 0) return entries.some((e) => normalizeOrigin(e) === o);
  return host !== undefined && new URL(o).host === host.toLowerCase();
}

/** Can the stream resume right after `cursor`? The stream holds sequences firstSeq..lastSeq. */
export function checkCursor(cursor: number, firstSeq: number, lastSeq: number): 'ok' | 'expired' | 'ahead' {
  if (cursor > lastSeq) return 'ahead';
  if (cursor + 1 < firstSeq) return 'expired';
  return 'ok';
}

/** Does the URL carry a credential? (Refused: tokens never go in URLs, which end up in logs.) */
export function urlCarriesCredential(search: string): boolean {
  const params = new URLSearchParams(search);
  return ['token', 'access_token', 'key', 'api_key', 'apikey', 'jwt'].some((p) => params.has(p));
}

const openBrace = 0x7b;
const closeBrace = 0x7d;
const commaByte = Buffer.from(',');
const closeBraceByte = Buffer.from('}');

/**
 * `{"cursor":N,…payload}` from the stored payload's UTF-8 bytes (a JSON object; undefined if it is not),
 * spliced as bytes: the frame goes out as a text frame without a decode and a re-encode of the payload.
 */
export function dataFrame(cursor: number, payload: Uint8Array): Buffer | undefined {
  const n = payload.length;
  if (n < 2 || payload[0] !== openBrace || payload[n - 1] !== closeBrace) return undefined;
  const head = Buffer.from(`{"cursor":${cursor}`);
  if (n === 2) return Buffer.concat([head, closeBraceByte]);
  return Buffer.concat([head, commaByte, payload.subarray(1)], head.length + n);
}

export function errorFrame(code: string, message: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ type: 'error', code, message, ...extra });
}

/** A close reason fits in 123 bytes. */
export function closeReason(text: string): string {
  let out = text;
  while (Buffer.byteLength(out) > 123) out = out.slice(0, -1);
  return out;
}
