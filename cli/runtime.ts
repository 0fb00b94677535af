// SPDX-License-Identifier: MIT
// Assembles a tmiDB process: PostgreSQL pool (migrated), NATS + JetStream topology, schema registry,
// the chosen stages, the NATS speaker connector and the HTTP API. Used by `tmictl up`, `tmictl stage`,
// and by the integration tests (which start real servers and then this).
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import {
  Authenticator,
  buildServer,
  ensureAdminKey,
  natsSpeakerAuthenticator,
  RateLimiter,
  TokenService,
} from '../api/index.js';
import type { Config } from '../config/index.js';
import { startNatsSpeaker, TargetKindCache } from '../connectors/index.js';
import { createPool, migrate, type Pool, runPartitionMaintenance } from '../db/index.js';
import {
  createMetrics,
  ensureTopology,
  type Metrics,
  type RunningStage,
  type StageName,
  startStages,
  stopStages,
  type Topology,
  topology,
} from '../pipelines/index.js';
import { pruneLedger, pruneSkips } from '../projections/index.js';
import { SchemaRegistry } from '../schemas/index.js';

export interface RuntimeOptions {
  readonly pgUrl: string;
  readonly natsUrl: string;
  readonly stages: readonly StageName[];
  /** Serve the HTTP API and the NATS speaker connector. */
  readonly api: boolean;
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
  /** What to do when a stage crashes (default: exit the process with status 70). */
  readonly onFatal?: (err: unknown) => void;
}

export interface Runtime {
  readonly config: Config;
  readonly pool: Pool;
  readonly nc: NatsConnection;
  readonly topology: Topology;
  readonly metrics: Metrics;
  readonly registry: SchemaRegistry;
  /** Base URL of the HTTP API, when served. */
  readonly url: string | undefined;
  readonly app: FastifyInstance | undefined;
  /** Where the admin key of this home is (API processes; `tmictl` reads it from there). */
  readonly adminKey: { readonly path: string; readonly keyId: string; readonly created: boolean } | undefined;
  readonly stages: readonly RunningStage[];
  stop(): Promise<void>;
}

/** Partition maintenance (pg_partman) runs at start and then this often. */
export const partitionMaintenanceIntervalMs = 3_600_000;

export async function startRuntime(config: Config, opts: RuntimeOptions): Promise<Runtime> {
  const log = opts.log ?? (() => {});
  const pool = createPool(opts.pgUrl, config.pgPoolMax);
  await migrate(pool);
  await runPartitionMaintenance(pool);
  const nc = await connect({
    servers: opts.natsUrl,
    name: 'tmiDB',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
  });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const topo = topology(config.namespace);
  await ensureTopology(jsm, topo, config);
  const registry = new SchemaRegistry(pool, {
    fieldsMax: config.eventFieldsMax,
    stringLengthMax: config.stringLengthMax,
    fieldNameLengthMax: 64,
    depthMax: 8,
  });
  const metrics = createMetrics();
  const stages = await startStages(opts.stages, {
    config,
    pool,
    js,
    registry,
    topology: topo,
    metrics,
    log,
    nc,
  });
  for (const s of stages) {
    // A stage only fails this way on a broken invariant (e.g. a checkpoint moving back): crash, loudly,
    // rather than run on with a stage missing; the streams keep everything for the restart.
    s.done.catch((err) => {
      log('error', `stage ${s.stage} crashed: ${(err as Error).stack ?? String(err)}`);
      (opts.onFatal ?? (() => process.exit(70)))(err);
    });
  }
  const maintenance = setInterval(() => {
    runPartitionMaintenance(pool).catch((err) =>
      log('warn', `partition maintenance failed: ${(err as Error).message}`),
    );
    pruneLedger(pool, config.streamMaxAgeMs + config.dedupeWindowMs).catch((err) =>
      log('warn', `event ledger pruning failed: ${(err as Error).message}`),
    );
    // Skipped events (geo: bad coordinates) are counted within the streams' retention.
    pruneSkips(pool, config.streamMaxAgeMs).catch((err) =>
      log('warn', `stage skip pruning failed: ${(err as Error).message}`),
    );
  }, partitionMaintenanceIntervalMs);
  maintenance.unref();

  let app: FastifyInstance | undefined;
  let url: string | undefined;
  let speaker: ReturnType<typeof startNatsSpeaker> | undefined;
  let adminKey: Runtime['adminKey'];
  if (opts.api) {
    const targets = new TargetKindCache(pool);
    const authenticator = new Authenticator(pool, TokenService.load(config));
    const limiter = new RateLimiter(config.rateLimitPerS, config.rateLimitBurst);
    adminKey = await ensureAdminKey(pool, config.home);
    log('info', `admin key ${adminKey.created ? 'created in' : 'in'} ${adminKey.path} (mode 0600)`);
    // Change notices: the fanout stage reloads subscriptions; every API process forgets cached keys.
    const notify = async (what: 'listeners' | 'targets' | 'keys') => {
      nc.publish(topo.sysSubject(what));
      await nc.flush();
    };
    const ctx = {
      config,
      js,
      jsm,
      pool,
      registry,
      topology: topo,
      metrics,
      targets,
      isReady: () => true,
      authenticator,
      limiter,
      notify,
    };
    speaker = startNatsSpeaker(
      nc,
      ctx,
      natsSpeakerAuthenticator({ enabled: config.auth === 'on', authenticator, limiter }),
    );
    app = await buildServer(ctx);
    const server = app;
    nc.subscribe(topo.sysSubject('keys'), {
      callback: () => {
        authenticator.invalidate();
        void server.wsGateway.recheckCredentials().catch(() => {});
      },
    });
    url = await app.listen({ host: config.httpHost, port: config.httpPort });
  }

  return {
    config,
    pool,
    nc,
    topology: topo,
    metrics,
    registry,
    url,
    app,
    adminKey,
    stages,
    async stop() {
      clearInterval(maintenance);
      await app?.close();
      await speaker?.stop().catch(() => {});
      await stopStages(stages);
      await nc.drain().catch(() => {});
      await pool.end();
    },
  };
}
