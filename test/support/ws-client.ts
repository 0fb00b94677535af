// SPDX-License-Identifier: MIT
// A small /tmi/ws client for tests: connects, authenticates, subscribes or resumes, and records every
// frame and the close code.
import { WebSocket } from 'ws';

export interface WsFrame {
  readonly type: string;
  readonly cursor?: number;
  readonly target_id?: string;
  readonly ts?: string;
  readonly event_id?: string;
  readonly data?: Record<string, any>;
  readonly code?: string;
  readonly message?: string;
  readonly listener?: string;
  readonly [key: string]: unknown;
}

export type WsStart = { type: 'subscribe'; from?: 'now' | 'oldest' } | { type: 'resume'; cursor: number };

export interface WsConnectOptions {
  readonly token: string;
  readonly listener?: string;
  readonly start?: WsStart;
  readonly origin?: string;
  /** Send nothing after connecting (the test drives the frames). */
  readonly raw?: boolean;
}

export class TestWsClient {
  readonly frames: WsFrame[] = [];
  readonly events: WsFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: (() => void)[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as WsFrame;
      this.frames.push(frame);
      if (frame.type === 'event' || frame.type === 'alarm') this.events.push(frame);
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const w of this.waiters.splice(0)) w();
      });
    });
    ws.on('error', () => {});
  }

  /** Opens the socket (rejects if the upgrade is refused, with the HTTP status in the message). */
  static async open(baseUrl: string, opts: WsConnectOptions): Promise<TestWsClient> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/tmi/ws`, {
      headers: opts.origin ? { origin: opts.origin } : {},
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
    const client = new TestWsClient(ws);
    if (!opts.raw) {
      client.send({ type: 'auth', token: opts.token, ...(opts.listener ? { listener: opts.listener } : {}) });
      client.send(opts.start ?? { type: 'subscribe' });
    }
    return client;
  }

  /** Opens, authenticates, starts, and waits for `ready`. */
  static async connect(baseUrl: string, opts: WsConnectOptions): Promise<TestWsClient> {
    const client = await TestWsClient.open(baseUrl, opts);
    await client.waitFor((f) => f.type === 'ready' || f.type === 'error', 15_000);
    const first = client.frames[0];
    if (first?.type !== 'ready') throw new Error(`no ready: ${JSON.stringify(first)}`);
    return client;
  }

  send(obj: unknown): void {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  get readyCursor(): number {
    return this.frames.find((f) => f.type === 'ready')!.cursor!;
  }

  get lastCursor(): number | undefined {
    return this.events[this.events.length - 1]?.cursor;
  }

  /** Waits until some recorded frame satisfies pred (or the socket closes: then it throws). */
  async waitFor(pred: (f: WsFrame) => boolean, timeoutMs = 20_000): Promise<WsFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.frames.find(pred);
      if (hit) return hit;
      if (this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`socket closed while waiting; frames: ${JSON.stringify(this.frames.slice(-3))}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; last frames: ${JSON.stringify(this.frames.slice(-3))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async waitForEvents(n: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < n) {
      if (Date.now() > deadline) throw new Error(`got ${this.events.length} of ${n} events`);
      if (this.ws.readyState === WebSocket.CLOSED)
        throw new Error(`closed after ${this.events.length} of ${n} events`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.ws.close(1000);
  }

  terminate(): void {
    this.ws.terminate();
  }
}
