// SPDX-License-Identifier: MIT
import type { JetStreamManager } from '@nats-io/jetstream';
import type { AcceptContext, FileService, TargetKindCache } from '../connectors/index.js';
import type { Pool } from '../db/index.js';
import type { Authenticator, RateLimiter } from './auth/index.js';

/** Everything the HTTP routes need; built once by the runtime (cli/runtime.ts). */
export interface ApiContext extends AcceptContext {
  readonly pool: Pool;
  readonly jsm: JetStreamManager;
  readonly targets: TargetKindCache;
  /** True once the pipeline is connected and migrated; /healthz answers 503 before. */
  readonly isReady: () => boolean;
  /** Checks API keys and tokens (the HTTP hook, the WebSocket gateway's auth frame). */
  readonly authenticator: Authenticator;
  /** Requests per key (HTTP and the NATS speaker connector share it). */
  readonly limiter: RateLimiter;
  /** Tells every process that listeners, targets or keys changed (caches reload); resolves once NATS has it. */
  readonly notify: (what: 'listeners' | 'targets' | 'keys') => Promise<void>;
  /** Files in the S3 store (absent: no store configured; the file routes answer 501). */
  readonly files?: FileService;
  /** The process log: every 5xx leaves a line here with its request id. */
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}
