// SPDX-License-Identifier: MIT
// The connector host of one process (`tmictl up`, `tmictl connector run`). Every scan it heartbeats,
// renews its leases, stops what changed, was paused, disabled or deleted (or whose lease it lost), and
// takes free connectors up to its share (connectors ÷ live processes), so several processes split the
// work and a dead process's connectors move once its leases expire.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Pool } from '../../db/index.js';
import type { AcceptContext } from '../accept.js';
import type { BackoffPolicy } from './backoff.js';
import { ConnectorInstance } from './instance.js';
import { type ConnectorMetrics, connectorMetrics } from './metrics.js';
import { createSession } from './session.js';
import {
  acquireLease,
  heartbeatWorker,
  listConnectors,
  readCursor,
  releaseLease,
  removeWorker,
  renewLeases,
  reportRun,
} from './store.js';
import type { ConnectorKind, ConnectorRecord, ConnectorSession, ConnectorType, SourceDeps } from './types.js';

export interface HostOptions {
  readonly pool: Pool;
  readonly acceptCtx: AcceptContext;
  readonly kinds: ReadonlyMap<ConnectorType, ConnectorKind>;
  /** Run only these connectors (by name); absent: any, up to this process's share. */
  readonly names?: readonly string[];
  readonly leaseMs: number;
  readonly backoff: BackoffPolicy;
  readonly allowPrivate: boolean;
  readonly speakPollMs: number;
  readonly log: ConnectorSession['log'];
  readonly targetsChanged: () => Promise<void>;
  readonly now?: () => number;
  readonly random?: () => number;
}

export class ConnectorHost {
  readonly workerId = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly instances = new Map<string, ConnectorInstance>();
  /** Connectors whose stored config does not parse, by the updated_at that was tried (retried on change). */
  private readonly unstartable = new Map<string, string>();
  private readonly metrics: ConnectorMetrics;
  private readonly scanMs: number;
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: HostOptions) {
    this.metrics = connectorMetrics(opts.acceptCtx.metrics.registry);
    // Renew well inside the lease, so a slow scan or a GC pause never lets a live lease lapse.
    this.scanMs = Math.max(50, Math.floor(opts.leaseMs / 4));
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.scanning = this.scan()
        .catch((err) => this.opts.log('warn', `connector scan failed: ${(err as Error).message}`))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, this.scanMs);
        });
    };
    loop();
  }

  /** Names of the connectors running here now. */
  running(): string[] {
    return [...this.instances.values()].map((i) => i.record.name).sort();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.scanning;
    await Promise.all([...this.instances.keys()].map((id) => this.stopInstance(id, 'idle')));
    await removeWorker(this.opts.pool, this.workerId, this.opts.leaseMs).catch(() => {});
  }

  private async scan(): Promise<void> {
    const { pool, leaseMs } = this.opts;
    const live = await heartbeatWorker(pool, this.workerId, os.hostname(), leaseMs);
    const held = await renewLeases(pool, this.workerId, leaseMs);
    const records = new Map(
      (await listConnectors(pool, { types: [...this.opts.kinds.keys()] }))
        .filter((r) => this.opts.names === undefined || this.opts.names.includes(r.name))
        .map((r) => [r.connector_id, r]),
    );
    for (const [id, inst] of this.instances) {
      const now = records.get(id);
      if (!held.has(id)) await this.stopInstance(id, undefined);
      else if (now === undefined || !now.enabled || now.updated_at !== inst.record.updated_at) {
        await this.stopInstance(id, 'idle');
      } else if (now.paused) await this.stopInstance(id, 'paused');
    }
    const runnable = [...records.values()].filter((r) => r.enabled && !r.paused);
    const share = this.opts.names ? runnable.length : Math.ceil(runnable.length / live);
    for (const r of runnable) {
      if (this.stopped || this.instances.size >= share) break;
      if (!this.instances.has(r.connector_id)) await this.tryStart(r);
    }
    // More than our share (another process came up): hand the newest one back for it to take.
    if (this.instances.size > share) {
      const last = [...this.instances.keys()].at(-1)!;
      await this.stopInstance(last, 'idle');
    }
  }

  private async tryStart(record: ConnectorRecord): Promise<void> {
    const kind = this.opts.kinds.get(record.type);
    if (!kind || this.unstartable.get(record.connector_id) === record.updated_at) return;
    const lease = await acquireLease(this.opts.pool, record.connector_id, this.workerId, this.opts.leaseMs);
    if (!lease) return;
    const controller = new AbortController();
    let instance: ConnectorInstance | undefined;
    const session = createSession(
      record,
      lease,
      await readCursor(this.opts.pool, record.connector_id),
      controller.signal,
      {
        acceptCtx: this.opts.acceptCtx,
        pool: this.opts.pool,
        metrics: this.metrics,
        log: this.opts.log,
        wake: () => instance?.wake(),
      },
    );
    try {
      const source = kind.create(record, kind.parse(record.config), this.sourceDeps());
      instance = new ConnectorInstance(lease, controller, source, session, {
        metrics: this.metrics,
        backoff: this.opts.backoff,
        now: this.opts.now ?? Date.now,
        random: this.opts.random ?? Math.random,
        log: this.opts.log,
      });
    } catch (err) {
      // A stored config that no longer parses (validated on write, so only after an upgrade): say so in
      // its status, and try again only once it changes.
      const message = `cannot start: ${(err as Error).message}`;
      this.opts.log('error', `connector ${record.name} ${message}`);
      this.unstartable.set(record.connector_id, record.updated_at);
      const code = (err as { code?: string }).code ?? 'INVALID_CONNECTOR';
      const report = { state: 'failing', failures: 1, nextRunAt: undefined, success: false } as const;
      await reportRun(this.opts.pool, lease, { ...report, error: { code, message } }).catch(() => {});
      await releaseLease(this.opts.pool, lease, 'idle');
      return;
    }
    this.instances.set(record.connector_id, instance);
    this.opts.log('info', `connector ${record.name} (${record.type}) running here`);
  }

  private sourceDeps(): SourceDeps {
    return {
      acceptCtx: this.opts.acceptCtx,
      pool: this.opts.pool,
      now: this.opts.now ?? Date.now,
      targetsChanged: this.opts.targetsChanged,
      allowPrivate: this.opts.allowPrivate,
      speakPollMs: this.opts.speakPollMs,
    };
  }

  /** Stops a running connector; `release` hands its lease back (undefined: it was lost already). */
  private async stopInstance(id: string, release: 'idle' | 'paused' | undefined): Promise<void> {
    const inst = this.instances.get(id);
    if (!inst) return;
    this.instances.delete(id);
    await inst.stop();
    if (release) await releaseLease(this.opts.pool, inst.lease, release).catch(() => {});
    this.opts.log('info', `connector ${inst.record.name} stopped here`);
  }
}
