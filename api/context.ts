// SPDX-License-Identifier: MIT
import type { JetStreamManager } from '@nats-io/jetstream';
import type { AcceptContext, TargetKindCache } from '../connectors/index.js';
import type { Pool } from '../db/index.js';

/** Everything the HTTP routes need; built once by the runtime (cli/runtime.ts). */
export interface ApiContext extends AcceptContext {
  readonly pool: Pool;
  readonly jsm: JetStreamManager;
  readonly targets: TargetKindCache;
  /** True once the pipeline is connected and migrated; /healthz answers 503 before. */
  readonly isReady: () => boolean;
}
