// SPDX-License-Identifier: MIT
// The live stream: /tmi/ws of one listener, authenticated in the first frame (never in the URL),
// resumed by cursor after a drop. Frames are queued and handed to the pages once per animation frame,
// so a burst of thousands of events costs one render, not thousands.

export interface LiveFrame {
  readonly type: 'event' | 'alarm';
  readonly cursor: number;
  readonly target_id: string;
  readonly ts: string;
  readonly event_id?: string;
  readonly data: Record<string, unknown>;
}

export type LiveStatus = 'connecting' | 'live' | 'offline';

/** Frames kept while the tab is hidden (animation frames pause); older ones are dropped. */
export const liveQueueFramesMax = 50_000;
const reconnectDelayMsMax = 10_000;
const cursorUnavailable = 4010;
const fatalCloseCodes = new Set([4001, 4003, 4004]);

export class LiveStream {
  private ws: WebSocket | undefined;
  private queue: LiveFrame[] = [];
  private scheduled = false;
  private cursor: number | undefined;
  private stopped = false;
  private delayMs = 500;
  private readonly subscribers = new Set<(frames: readonly LiveFrame[]) => void>();
  private readonly statusWatchers = new Set<(s: LiveStatus) => void>();
  status: LiveStatus = 'connecting';

  constructor(
    private readonly token: string,
    readonly listener: string,
  ) {
    this.connect();
  }

  subscribe(fn: (frames: readonly LiveFrame[]) => void): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  onStatus(fn: (s: LiveStatus) => void): () => void {
    this.statusWatchers.add(fn);
    fn(this.status);
    return () => this.statusWatchers.delete(fn);
  }

  close(): void {
    this.stopped = true;
    this.ws?.close(1000);
  }

  private setStatus(s: LiveStatus): void {
    this.status = s;
    for (const fn of this.statusWatchers) fn(s);
  }

  private connect(): void {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/tmi/ws`;
    const ws = new WebSocket(url);
    this.ws = ws;
    this.setStatus('connecting');
    ws.onopen = () => {
      ws.send(JSON.stringify({ type: 'auth', token: this.token, listener: this.listener }));
      const start =
        this.cursor === undefined
          ? { type: 'subscribe', from: 'now' }
          : { type: 'resume', cursor: this.cursor };
      ws.send(JSON.stringify(start));
    };
    ws.onmessage = (msg) => this.receive(JSON.parse(String(msg.data)) as { type: string; cursor?: number });
    ws.onclose = (ev) => {
      this.setStatus('offline');
      if (this.stopped || fatalCloseCodes.has(ev.code)) return;
      if (ev.code === cursorUnavailable) this.cursor = undefined;
      setTimeout(() => this.connect(), this.delayMs);
      this.delayMs = Math.min(this.delayMs * 2, reconnectDelayMsMax);
    };
  }

  private receive(frame: { type: string; cursor?: number }): void {
    if (frame.type === 'ready') {
      this.delayMs = 500;
      this.cursor ??= frame.cursor;
      this.setStatus('live');
      return;
    }
    if (frame.type !== 'event' && frame.type !== 'alarm') return;
    this.cursor = frame.cursor;
    this.queue.push(frame as LiveFrame);
    if (this.queue.length > liveQueueFramesMax) this.queue.splice(0, this.queue.length - liveQueueFramesMax);
    if (!this.scheduled) {
      this.scheduled = true;
      requestAnimationFrame(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const frames = this.queue;
    this.queue = [];
    for (const fn of this.subscribers) fn(frames);
  }
}
