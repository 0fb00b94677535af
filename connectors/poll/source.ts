// SPDX-License-Identifier: MIT
// The poll connector's runner: fetch (guarded, conditional), skip what did not change, extract, find
// the targets, emit through the session, and only then move the cursor (validators + body hash).
import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import { uuidFromName } from '../../schemas/index.js';
import { parseRetryAfterMs } from '../runtime/backoff.js';
import { SourceError } from '../runtime/errors.js';
import { keyText, resolveTargets } from '../runtime/targets.js';
import type {
  ConnectorRecord,
  ConnectorSession,
  PullSource,
  RejectedItem,
  SourceDeps,
  SourceEvent,
  TickResult,
} from '../runtime/types.js';
import type { PollConfig } from './config.js';
import { type ExtractedItem, extractItems } from './extract.js';
import { type FetchResponse, guardedFetch } from './fetch.js';

/** What a poll remembers between runs; saved only after the PubAck of what it emitted. */
export interface PollCursor {
  readonly url: string;
  readonly etag?: string;
  readonly last_modified?: string;
  /** sha256 of the last body emitted from. */
  readonly body_sha256?: string;
}

export class PollSource implements PullSource {
  readonly style = 'pull';
  private readonly cron: Cron | undefined;

  constructor(
    private readonly record: ConnectorRecord,
    private readonly config: PollConfig,
    private readonly deps: SourceDeps,
  ) {
    this.cron = 'cron' in config.schedule ? new Cron(config.schedule.cron, { paused: true }) : undefined;
  }

  async tick(session: ConnectorSession): Promise<TickResult> {
    const startedAt = this.deps.now();
    const prior = session.cursor() as PollCursor | undefined;
    const res = await guardedFetch({
      url: this.config.url,
      method: this.config.method,
      headers: { ...this.config.headers, ...conditionalHeaders(prior, this.config.url) },
      body: this.config.body,
      timeoutMs: this.config.timeoutMs,
      bodyBytesMax: this.config.bodyBytesMax,
      redirectsMax: this.config.redirectsMax,
      allowPrivate: this.deps.allowPrivate,
      signal: session.signal,
    });
    const next = { nextRunAt: this.nextRunAfter(startedAt) };
    if (res.status === 304) return next;
    checkStatus(res, this.deps.now());
    const hash = createHash('sha256').update(res.body).digest('hex');
    const cursor: PollCursor = {
      url: this.config.url,
      ...validator('etag', res.headers.etag),
      ...validator('last_modified', res.headers['last-modified']),
      body_sha256: hash,
    };
    if (prior?.body_sha256 === hash && prior.url === this.config.url) {
      await session.emit([], { cursor, bytesRead: res.body.length });
      return next;
    }
    const { items, rejected } = extractItems(res.body.toString('utf8'), this.config.extract);
    const events = await this.toEvents(session, items, hash, startedAt, rejected);
    await session.emit(events, { cursor, bytesRead: res.body.length, rejected });
    return next;
  }

  private nextRunAfter(startedAt: number): number {
    if (this.cron) return this.cron.nextRun(new Date(this.deps.now()))?.getTime() ?? Number.MAX_SAFE_INTEGER;
    return startedAt + (this.config.schedule as { intervalS: number }).intervalS * 1000;
  }

  /** Items → events with their targets; items without a usable key or target join `rejected`. */
  private async toEvents(
    session: ConnectorSession,
    items: readonly ExtractedItem[],
    bodyHash: string,
    receivedAt: number,
    rejected: RejectedItem[],
  ): Promise<SourceEvent[]> {
    const rule = this.config.target;
    const keyed = items.map((item) => ({ item, key: 'id' in rule ? rule.id : keyText(item.key) }));
    const keys = keyed.flatMap((k) => (k.key === undefined ? [] : [k.key]));
    const targets = await resolveTargets(session.pool, this.record.connector_id, rule, keys);
    if (targets.created > 0) await this.deps.targetsChanged();
    const events: SourceEvent[] = [];
    keyed.forEach(({ item, key }, index) => {
      const targetId = key === undefined ? undefined : targets.ids.get(key);
      if (targetId === undefined) {
        const miss = key === undefined ? undefined : targets.misses.get(key);
        rejected.push({
          origin: item.origin,
          code: miss?.code ?? 'TARGET_KEY_MISSING',
          reason: miss?.reason ?? `the item has no target key at ${this.config.extract.key}`,
          item: item.raw,
        });
        return;
      }
      events.push({
        // The source position: this connector, this URL, this body, this item.
        eventId: uuidFromName(`poll\0${this.record.connector_id}\0${this.config.url}\0${bodyHash}\0${index}`),
        targetId,
        ts: typeof item.ts === 'string' || typeof item.ts === 'number' ? item.ts : receivedAt,
        data: item.data,
        origin: item.origin,
      });
    });
    return events;
  }
}

function conditionalHeaders(prior: PollCursor | undefined, url: string): Record<string, string> {
  if (!prior || prior.url !== url) return {};
  return {
    ...(prior.etag ? { 'if-none-match': prior.etag } : {}),
    ...(prior.last_modified ? { 'if-modified-since': prior.last_modified } : {}),
  };
}

function validator(name: string, value: string | string[] | undefined): Record<string, string> {
  return typeof value === 'string' && value.length <= 1024 ? { [name]: value } : {};
}

function checkStatus(res: FetchResponse, now: number): void {
  if (res.status >= 200 && res.status < 300) return;
  const retryAfterMs = parseRetryAfterMs(res.headers['retry-after'] as string | undefined, now);
  const retryable = res.status === 429 || res.status === 408 || res.status >= 500;
  throw new SourceError(
    `HTTP_${res.status}`,
    `${new URL(res.url).origin} answered ${res.status}${retryAfterMs === undefined ? '' : ` (Retry-After ${Math.round(retryAfterMs / 1000)} s)`}`,
    retryable,
    retryAfterMs,
  );
}
