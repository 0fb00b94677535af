// SPDX-License-Identifier: MIT
// One guarded HTTP(S) request of the poll connector: redirects followed by hand so that every hop is
// checked by the SSRF guard again; the whole exchange (all hops) bounded in time; the body bounded in
// bytes while it streams in (a lying or absent Content-Length changes nothing).
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { SourceError } from '../runtime/errors.js';
import { guardedLookup, refusedAddress, ssrfError } from './guard.js';

export interface FetchRequest {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
  readonly bodyBytesMax: number;
  readonly redirectsMax: number;
  readonly allowPrivate: boolean;
  readonly signal?: AbortSignal;
}

export interface FetchResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** The URL that answered (after redirects). */
  readonly url: string;
}

const redirectStatuses = new Set([301, 302, 303, 307, 308]);

export async function guardedFetch(req: FetchRequest): Promise<FetchResponse> {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
  let url = req.url;
  let method = req.method;
  let body = req.body;
  let headers = req.headers;
  for (let hop = 0; ; hop++) {
    const res = await requestOnce(url, method, { ...req, headers }, body, signal).catch((err: unknown) => {
      if (timeout.aborted) {
        throw new SourceError(
          'TIMEOUT',
          `no complete answer from ${origin(req.url)} within ${req.timeoutMs} ms`,
          true,
        );
      }
      throw err;
    });
    if (!redirectStatuses.has(res.status) || res.headers.location === undefined) return { ...res, url };
    if (hop >= req.redirectsMax) {
      throw new SourceError(
        'TOO_MANY_REDIRECTS',
        `more than ${req.redirectsMax} redirects from ${origin(req.url)} (a redirect loop?)`,
        false,
      );
    }
    const next = new URL(res.headers.location, url);
    // The configured headers are secrets meant for the configured origin: never sent to another one.
    if (next.origin !== new URL(req.url).origin) headers = {};
    url = next.toString();
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
    }
  }
}

function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the source';
  }
}

function requestOnce(
  url: string,
  method: string,
  req: FetchRequest,
  body: string | undefined,
  signal: AbortSignal,
): Promise<Omit<FetchResponse, 'url'>> {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return Promise.reject(
      new SourceError('BAD_URL', `only http and https are polled, not ${target.protocol}`, false),
    );
  }
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) {
    const reason = refusedAddress(host, req.allowPrivate);
    if (reason) return Promise.reject(ssrfError(host, reason));
  }
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const r = client.request(
      target,
      {
        method,
        headers: { 'user-agent': 'tmiDB-poll', accept: '*/*', ...req.headers },
        lookup: guardedLookup(req.allowPrivate),
        signal,
      },
      (res) => {
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > req.bodyBytesMax) {
          res.destroy();
          return reject(tooLarge(req.bodyBytesMax));
        }
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > req.bodyBytesMax) {
            res.destroy();
            reject(tooLarge(req.bodyBytesMax));
          } else chunks.push(chunk);
        });
        res.on('error', reject);
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    r.on('error', (err) => reject(err instanceof SourceError ? err : networkError(err)));
    r.end(body);
  });
}

function tooLarge(max: number): SourceError {
  return new SourceError(
    'BODY_TOO_LARGE',
    `the response body is larger than ${max} bytes (body_bytes_max)`,
    false,
  );
}

function networkError(err: Error): Error {
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof SourceError) return cause;
  if (err.name === 'AbortError') return err;
  const code = (err as { code?: string }).code ?? 'NETWORK';
  return new SourceError(code.startsWith('E') ? code : 'NETWORK', `request failed: ${err.message}`, true);
}
