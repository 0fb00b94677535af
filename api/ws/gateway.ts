// SPDX-License-Identifier: MIT
// The WebSocket gateway /tmi/ws: a listener's stream, live and resumable without gaps or duplicates.
//
// Per connection: the client authenticates in its first frame (never in the URL; the Origin is checked at
// the upgrade), names where to start in its second, and gets `ready` only once an ordered JetStream
// consumer on `<ns>.listen.<listener_id>.>` exists at that position — so every message stored after
// `ready` reaches the client, in stream order. `cursor` is the TMI_LISTEN sequence: resuming after the
// last processed cursor replays exactly what came after it.
//
// Flow control: messages are pulled in bounded batches, and the next batch only once the socket's send
// buffer is below half its bound; a client that leaves it there longer than TMIDB_WS_SEND_STALL_MS, or
// lets it pass the bound, is closed with 4008 and resumes from its last cursor. The backlog stays in
// JetStream, not in this process: memory per connection is bounded by the buffer bound plus one batch.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Consumer, ConsumerMessages, JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { Counter, Gauge } from 'prom-client';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { Config } from '../../config/index.js';
import type { Pool } from '../../db/index.js';
import { type CloseCode, type ProblemCode, wsCloseOf } from '../../errors/index.js';
import type { Metrics, Topology } from '../../pipelines/index.js';
import { getListenerBy } from '../../projections/index.js';
import { isUuid } from '../../schemas/index.js';
import { type Authenticator, anonymousAdmin, mayReadListener, type Principal } from '../auth/index.js';
import { problem, problemContentType } from '../problem.js';
import {
  type ClientFrame,
  checkCursor,
  closeCodes,
  closeReason,
  dataFrame,
  errorFrame,
  originAllowed,
  parseClientFrame,
  urlCarriesCredential,
  wsPath,
} from './protocol.js';

/** Messages pulled from JetStream per request (the most one connection holds in memory at once). */
export const wsFetchMessagesMax = 256;
/** How long one pull request waits for messages before the next is made. */
export const wsFetchExpiresMs = 10_000;
/** How often a paused stream looks whether its client has read enough. */
export const wsDrainPollMs = 10;
/** A consumer whose gateway vanished (crash) is removed by the server after this long. */
export const wsConsumerInactiveMs = 30_000;
/** Consecutive failed pulls before the connection is closed with 1011. */
export const wsFetchFailuresMax = 20;
/** Frames a client may send before its stream is attached (auth + subscribe/resume, and a ping or two). */
export const wsFramesBeforeReadyMax = 8;
/** Longest timer Node accepts. */
/**
 * How long a stopping gateway waits for clients to answer the close handshake before it drops their
 * sockets: a client that never answers (a frozen tab, a suspended process) must not hold a stop for ws's
 * own 30 s close timeout per socket.
 */
export const wsCloseGraceMs = 2_000;
const timerMsMax = 2 ** 31 - 1;

export interface GatewayDeps {
  readonly config: Config;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly pool: Pool;
  readonly topology: Topology;
  readonly authenticator: Authenticator;
  readonly metrics: Metrics;
}

export interface GatewayStats {
  /** Open sockets (authenticated or not). */
  readonly connections: number;
  /** Sockets whose stream is attached. */
  readonly streaming: number;
  /** Bytes queued for all clients now. */
  readonly bufferedBytes: number;
  /** Most bytes ever queued for one client. */
  readonly bufferedBytesPeak: number;
  readonly framesSent: number;
  readonly closedSlow: number;
}

export class WsGateway {
  private readonly wss: WebSocketServer;
  readonly connections = new Set<Connection>();
  private readonly perKey = new Map<string, number>();
  private closing = false;
  bufferedBytesPeak = 0;
  framesSent = 0;
  closedSlow = 0;
  private readonly counters: GatewayMetrics;

  constructor(readonly deps: GatewayDeps) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: deps.config.wsFrameBytesMax,
      perMessageDeflate: false,
    });
    this.counters = registerMetrics(this, deps.metrics);
  }

  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
  }

  stats(): GatewayStats {
    let buffered = 0;
    let streaming = 0;
    for (const c of this.connections) {
      buffered += c.ws.bufferedAmount;
      if (c.state === 'streaming') streaming++;
    }
    return {
      connections: this.connections.size,
      streaming,
      bufferedBytes: buffered,
      bufferedBytesPeak: this.bufferedBytesPeak,
      framesSent: this.framesSent,
      closedSlow: this.closedSlow,
    };
  }

  /** Closes every stream with 1001 (clients reconnect and resume elsewhere or later). */
  async close(): Promise<void> {
    this.closing = true;
    for (const c of [...this.connections]) c.closeWith('SHUTTING_DOWN', 'tmiDB is stopping; resume later');
    const closed = new Promise<void>((resolve) => this.wss.close(() => resolve()));
    const grace = setTimeout(() => {
      for (const client of this.wss.clients) client.terminate();
    }, wsCloseGraceMs);
    await closed.finally(() => clearTimeout(grace));
  }

  /** After a key change: streams whose credential stopped working are closed with 4001. */
  async recheckCredentials(): Promise<void> {
    if (this.deps.config.auth === 'off') return;
    for (const c of [...this.connections]) await c.recheck();
  }

  /** Takes a connection slot of this key; false when it has all it may have. */
  reserve(keyId: string): boolean {
    const n = this.perKey.get(keyId) ?? 0;
    if (n >= this.deps.config.wsConnectionsPerKeyMax) return false;
    this.perKey.set(keyId, n + 1);
    return true;
  }

  release(keyId: string): void {
    const n = (this.perKey.get(keyId) ?? 1) - 1;
    if (n <= 0) this.perKey.delete(keyId);
    else this.perKey.set(keyId, n);
  }

  sentFrame(): void {
    this.framesSent++;
    this.counters.frames.inc();
  }

  closed(code: number): void {
    this.counters.closes.inc({ code: String(code) });
    if (code === closeCodes.slowConsumer) this.closedSlow++;
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refusal = this.refusal(req);
    if (refusal !== undefined) {
      refuse(socket, ...refusal);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.connections.add(new Connection(this, ws));
    });
  }

  /** Why this upgrade is refused (code, detail), if it is. */
  private refusal(req: IncomingMessage): [ProblemCode, string] | undefined {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== wsPath) return ['ROUTE_NOT_FOUND', `no WebSocket endpoint ${url.pathname}`];
    if (urlCarriesCredential(url.search)) {
      return ['CREDENTIAL_IN_URL', 'never put a key or token in a URL; send it in the first frame'];
    }
    if (!originAllowed(req.headers.origin, req.headers.host, this.deps.config.wsOrigins)) {
      return ['ORIGIN_FORBIDDEN', 'this Origin may not open /tmi/ws (see TMIDB_WS_ORIGINS)'];
    }
    if (this.closing) return ['UNAVAILABLE', 'tmiDB is stopping'];
    return undefined;
  }
}

function refuse(socket: Duplex, code: ProblemCode, detail: string): void {
  const p = problem(code, detail, wsPath);
  const status = p.status;
  const body = JSON.stringify(p);
  const reason = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 503: 'Service Unavailable' }[
    status
  ];
  socket.end(
    `HTTP/1.1 ${status} ${reason ?? 'Error'}\r\nContent-Type: ${problemContentType}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

interface GatewayMetrics {
  readonly closes: Counter<'code'>;
  readonly frames: Counter;
}

function registerMetrics(gw: WsGateway, metrics: Metrics): GatewayMetrics {
  const registry = metrics.registry;
  const closes = registry.getSingleMetric('tmidb_ws_closed_total') as Counter<'code'> | undefined;
  const frames = registry.getSingleMetric('tmidb_ws_frames_sent_total') as Counter | undefined;
  if (closes && frames) return { closes, frames };
  new Gauge({
    name: 'tmidb_ws_connections',
    help: 'Open /tmi/ws connections (streaming: stream attached).',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const s = gw.stats();
      this.set({ state: 'open' }, s.connections);
      this.set({ state: 'streaming' }, s.streaming);
    },
  });
  new Gauge({
    name: 'tmidb_ws_buffered_bytes',
    help: 'Bytes queued for WebSocket clients, not yet written to their sockets.',
    registers: [registry],
    collect() {
      this.set(gw.stats().bufferedBytes);
    },
  });
  return {
    closes: new Counter({
      name: 'tmidb_ws_closed_total',
      help: 'WebSocket streams closed by the gateway, by close code.',
      labelNames: ['code'],
      registers: [registry],
    }),
    frames: new Counter({
      name: 'tmidb_ws_frames_sent_total',
      help: 'Event and alarm frames sent to WebSocket clients (replays included).',
      registers: [registry],
    }),
  };
}

type State = 'auth' | 'start' | 'streaming' | 'closed';

class Connection {
  state: State = 'auth';
  private chain: Promise<void> = Promise.resolve();
  private credential: string | undefined;
  private reservedKey: string | undefined;
  private listener: { id: string; name: string } | undefined;
  private consumer: Consumer | undefined;
  private messages: ConsumerMessages | undefined;
  private alive = true;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly heartbeat: NodeJS.Timeout;
  /** Cursor of the last frame sent. */
  lastCursor = 0;
  private framesBeforeReady = 0;

  constructor(
    private readonly gw: WsGateway,
    readonly ws: WebSocket,
  ) {
    const cfg = gw.deps.config;
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (this.state !== 'streaming' && ++this.framesBeforeReady > wsFramesBeforeReadyMax) {
        this.closeWith('BAD_FRAME', 'send auth, then subscribe or resume, and wait for ready');
        return;
      }
      this.chain = this.chain
        .then(() => this.onMessage(data, isBinary))
        .catch(() => this.closeWith('INTERNAL', 'unexpected error; reconnect and resume'));
    });
    ws.on('pong', () => {
      this.alive = true;
    });
    ws.on('close', () => this.cleanup(undefined));
    ws.on('error', () => {});
    this.timers.push(
      setTimeout(
        () =>
          this.closeWith(
            'AUTH_TIMEOUT',
            `send the auth frame and then subscribe or resume within ${cfg.wsAuthTimeoutMs} ms`,
          ),
        cfg.wsAuthTimeoutMs,
      ),
    );
    this.heartbeat = setInterval(() => {
      if (!this.alive) {
        this.ws.terminate();
        return;
      }
      this.alive = false;
      this.ws.ping();
    }, cfg.wsHeartbeatMs);
  }

  private send(obj: unknown): void {
    if (this.state !== 'closed') this.ws.send(JSON.stringify(obj));
  }

  closeWith(errCode: CloseCode, message: string, extra: Record<string, unknown> = {}): void {
    if (this.state === 'closed') return;
    const code = wsCloseOf(errCode);
    try {
      this.ws.send(errorFrame(errCode, message, extra));
      this.ws.close(code, closeReason(message));
    } catch {
      this.ws.terminate();
    }
    this.cleanup(code);
  }

  private cleanup(code: number | undefined): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (code !== undefined) this.gw.closed(code);
    clearInterval(this.heartbeat);
    for (const t of this.timers) clearTimeout(t);
    this.messages?.stop();
    this.consumer?.delete().catch(() => {});
    if (this.reservedKey !== undefined) this.gw.release(this.reservedKey);
    this.gw.connections.delete(this);
  }

  async recheck(): Promise<void> {
    if (this.credential === undefined || this.state === 'closed') return;
    const result = await this.gw.deps.authenticator.authenticate(this.credential);
    if (!result.ok) {
      this.closeWith('KEY_REVOKED', 'the key no longer works; reconnect with a valid one');
    }
  }

  private async onMessage(data: RawData, isBinary: boolean): Promise<void> {
    if (this.state === 'closed') return;
    if (isBinary) {
      return this.closeWith('BAD_FRAME', 'frames are JSON text');
    }
    const text = Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data as Buffer).toString('utf8');
    const parsed = parseClientFrame(text);
    if (!parsed.ok) return this.closeWith('BAD_FRAME', parsed.detail);
    const frame = parsed.frame;
    if (frame.type === 'ping' && this.state !== 'auth') return this.send({ type: 'pong' });
    switch (this.state) {
      case 'auth':
        if (frame.type !== 'auth') {
          return this.closeWith('AUTH_FIRST', 'the first frame must be {"type":"auth","token":…}');
        }
        return this.authenticate(frame);
      case 'start':
        if (frame.type !== 'subscribe' && frame.type !== 'resume') {
          return this.closeWith('BAD_FRAME', 'after auth send subscribe or resume');
        }
        return this.start(frame);
      case 'streaming':
        return this.closeWith('BAD_FRAME', 'the stream is running; only ping is expected');
    }
  }

  private async authenticate(frame: Extract<ClientFrame, { type: 'auth' }>): Promise<void> {
    const { authenticator, config, pool } = this.gw.deps;
    let principal: Principal = anonymousAdmin;
    if (config.auth === 'on') {
      const result = await authenticator.authenticate(frame.token);
      if (!result.ok) return this.closeWith(result.code, result.detail);
      principal = result.principal;
    }
    if (this.state !== 'auth') return;
    if (principal.scope === 'speaker') {
      return this.closeWith('FORBIDDEN', 'a speaker key cannot listen');
    }
    const wanted = frame.listener ?? principal.listenerId ?? undefined;
    if (wanted === undefined) {
      return this.closeWith('LISTENER_REQUIRED', 'name the listener in the auth frame: "listener"');
    }
    const row = await getListenerBy(pool, isUuid(wanted) ? 'id' : 'name', wanted);
    if (this.state !== 'auth') return;
    if (!row || !mayReadListener(principal, row.listener_id)) {
      return this.closeWith('LISTENER_NOT_FOUND', `no listener ${wanted.slice(0, 64)}`);
    }
    if (!this.gw.reserve(principal.keyId)) {
      return this.closeWith(
        'TOO_MANY_CONNECTIONS',
        `this key has ${config.wsConnectionsPerKeyMax} streams open already`,
      );
    }
    this.reservedKey = principal.keyId;
    this.credential = config.auth === 'on' ? frame.token : undefined;
    this.listener = { id: row.listener_id, name: row.name };
    if (principal.expiresAtMs !== null) {
      const ms = Math.max(0, Math.min(principal.expiresAtMs - Date.now(), timerMsMax));
      this.timers.push(
        setTimeout(
          () =>
            this.closeWith(
              'TOKEN_EXPIRED',
              'the credential expired; reconnect with a new one and resume from your last cursor',
            ),
          ms,
        ),
      );
    }
    this.state = 'start';
  }

  private async start(frame: Extract<ClientFrame, { type: 'subscribe' | 'resume' }>): Promise<void> {
    const { jsm, js, topology } = this.gw.deps;
    const listener = this.listener!;
    const stream = topology.streams.listen.name;
    const { state } = await jsm.streams.info(stream);
    let startSeq: number;
    if (frame.type === 'resume') {
      const check = checkCursor(frame.cursor, state.first_seq, state.last_seq);
      if (check === 'expired') {
        return this.closeWith(
          'CURSOR_EXPIRED',
          `cursor ${frame.cursor} is older than the retention of the listen stream; read the state from /api/${listener.name}, then subscribe`,
          { oldest_cursor: Math.max(0, state.first_seq - 1) },
        );
      }
      if (check === 'ahead') {
        return this.closeWith(
          'CURSOR_UNKNOWN',
          `cursor ${frame.cursor} is beyond the end of the listen stream (${state.last_seq}): not a cursor of this instance`,
          { last_cursor: state.last_seq },
        );
      }
      startSeq = frame.cursor + 1;
    } else {
      startSeq = frame.from === 'oldest' ? Math.max(1, state.first_seq) : state.last_seq + 1;
    }
    const consumer = await js.consumers.get(stream, {
      filter_subjects: topology.listenWildcard(listener.id),
      opt_start_seq: startSeq,
      // Long enough to outlive a stream paused for a slow client (it is deleted on close anyway).
      inactive_threshold: Math.max(
        wsConsumerInactiveMs,
        2 * this.gw.deps.config.wsSendStallMs + wsFetchExpiresMs,
      ),
    });
    if (this.state !== 'start') {
      await consumer.delete().catch(() => {});
      return;
    }
    this.consumer = consumer;
    clearTimeout(this.timers[0]);
    this.state = 'streaming';
    this.lastCursor = startSeq - 1;
    this.send({ type: 'ready', listener: listener.name, cursor: startSeq - 1 });
    void this.pump(consumer);
  }

  /** Pull a batch, send it frame by frame, repeat — pausing while the client has half its buffer unread. */
  private async pump(consumer: Consumer): Promise<void> {
    const cfg = this.gw.deps.config;
    let failures = 0;
    while (this.state === 'streaming') {
      if (!(await this.drained())) return;
      try {
        const messages = await consumer.fetch({
          max_messages: wsFetchMessagesMax,
          expires: wsFetchExpiresMs,
        });
        this.messages = messages;
        if (this.state !== 'streaming') {
          messages.stop();
          return;
        }
        for await (const m of messages) {
          // Backpressure per frame: while the client has half its buffer unread, wait (the rest of the
          // batch waits in the pull, at most wsFetchMessagesMax messages).
          if (this.state !== 'streaming') break;
          if (this.ws.bufferedAmount > cfg.wsSendBufferBytesMax / 2 && !(await this.drained())) break;
          const frame = dataFrame(m.seq, m.data);
          if (frame === undefined) continue;
          this.ws.send(frame, { binary: false });
          this.lastCursor = m.seq;
          this.gw.sentFrame();
          const buffered = this.ws.bufferedAmount;
          if (buffered > this.gw.bufferedBytesPeak) this.gw.bufferedBytesPeak = buffered;
          if (buffered > cfg.wsSendBufferBytesMax) return this.slow();
        }
        failures = 0;
      } catch {
        if (this.state !== 'streaming') return;
        failures++;
        if (failures >= wsFetchFailuresMax) {
          return this.closeWith('STREAM_FAILED', 'the stream failed; reconnect and resume');
        }
        await sleep(Math.min(1000, 50 * failures));
      }
    }
  }

  /** Resolves true once the client has read enough to pull more; false if it was closed meanwhile. */
  private async drained(): Promise<boolean> {
    const cfg = this.gw.deps.config;
    const low = cfg.wsSendBufferBytesMax / 2;
    if (this.ws.bufferedAmount <= low) return true;
    const deadline = Date.now() + cfg.wsSendStallMs;
    while (this.state === 'streaming') {
      if (this.ws.bufferedAmount <= low) return true;
      if (Date.now() > deadline) {
        this.slow();
        return false;
      }
      await sleep(wsDrainPollMs);
    }
    return false;
  }

  private slow(): void {
    this.closeWith('SLOW_CONSUMER', 'too slow for the send buffer; resume from your last cursor', {
      cursor: this.lastCursor,
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
