// SPDX-License-Identifier: MIT
// Assembles a tmiDB process: PostgreSQL pool (migrated), NATS + JetStream topology, schema registry,
// the chosen stages, the NATS speaker connector and the HTTP API. Used by `tmictl up`, `tmictl stage`,
// and by the integration tests (which start real servers and then this).
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
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
import { type Config, ConfigError, redactUrl } from '../config/index.js';
import {
  type ConnectorHost,
  FileService,
  FileStore,
  pruneRejectedSpeaks,
  startConnectorHost,
  startNatsSpeaker,
  TargetKindCache,
} from '../connectors/index.js';
import { createPool, migrate, type Pool, runPartitionMaintenance } from '../db/index.js';
import {
  createMetrics,
  ensureTopology,
  limits,
  type Metrics,
  type RunningStage,
  type StageName,
  startStages,
  type Topology,
  topology,
} from '../pipelines/index.js';
import { pruneLedger, pruneSkips } from '../projections/index.js';
import { fieldNameLengthMax, SchemaRegistry } from '../schemas/index.js';
import { applyHeapGrowingPercent } from './heap-growth.js';

export interface RuntimeOptions {
  readonly pgUrl: string;
  readonly natsUrl: string;
  readonly stages: readonly StageName[];
  /** Serve the HTTP API and the NATS speaker connector. */
  readonly api: boolean;
  readonly log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
  /** Run managed connectors here: all of them (this process's share), or only these names. */
  readonly connectors?: 'all' | readonly string[];
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
  /** The connector host, when this process runs connectors. */
  readonly connectors: ConnectorHost | undefined;
  stop(): Promise<void>;
}

/** Partition maintenance (pg_partman) runs at start and then this often. */
export const partitionMaintenanceIntervalMs = 3_600_000;

type Log = (level: 'info' | 'warn' | 'error', msg: string) => void;

export async function startRuntime(config: Config, opts: RuntimeOptions): Promise<Runtime> {
  const log = opts.log ?? (() => {});
  applyHeapGrowingPercent(config.heapGrowingPercent);
  const pool = createPool(opts.pgUrl, config.pgPoolMax);
  await migrate(pool);
  await runPartitionMaintenance(pool);
  const nc = await connect({
    servers: opts.natsUrl,
    name: 'tmiDB',
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // Every JetStream publish is a request; with async traces on, each one builds two Error objects (stack
    // captured) just in case it fails — 8% of the process's CPU at 2,000 events/s (ADR 0029).
    noAsyncTraces: true,
  });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const topo = topology(config.namespace);
  await ensureTopology(jsm, topo, config);
  const registry = new SchemaRegistry(pool, {
    fieldsMax: config.eventFieldsMax,
    stringLengthMax: config.stringLengthMax,
    fieldNameLengthMax,
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
  crashOnStageFailure(stages, log, opts.onFatal ?? (() => process.exit(70)));
  const maintenance = startMaintenance(pool, config, log);
  const base = { config, js, jsm, pool, registry, topology: topo, metrics };
  const connectors =
    opts.connectors === undefined ? undefined : startConnectors(base, nc, log, opts.connectors);
  const api = opts.api
    ? await startApi({ config, js, jsm, pool, registry, topology: topo, metrics }, nc, log)
    : undefined;

  return {
    config,
    pool,
    nc,
    topology: topo,
    metrics,
    registry,
    url: api?.url,
    app: api?.app,
    adminKey: api?.adminKey,
    stages,
    connectors,
    async stop() {
      clearInterval(maintenance);
      const step = <T>(name: string, work: () => Promise<T>) => stopStep(log, name, work);
      await step('connectors', async () => connectors?.stop());
      await step('the HTTP API', async () => api?.app.close());
      await step('the NATS speaker', async () => api?.speaker.stop().catch(() => {}));
      await Promise.all(stages.map((s) => step(`the ${s.stage} stage`, () => s.stop())));
      await step('the NATS connection', () => nc.drain().catch(() => {}));
      await step('the PostgreSQL pool', () => pool.end());
    },
  };
}

/** A stop step still running after this long is named in the log (and still awaited). */
export const stopStepWarnMs = 10_000;

/** Runs one step of a stop, saying in the log which step a slow stop waits on, and for how long. */
async function stopStep<T>(log: Log, name: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const warn = setInterval(
    () =>
      log('warn', `stopping: still waiting for ${name} after ${Math.round((Date.now() - started) / 1000)} s`),
    stopStepWarnMs,
  );
  try {
    return await work();
  } finally {
    clearInterval(warn);
  }
}

/**
 * A stage only fails this way on a broken invariant (e.g. a checkpoint moving back): crash, loudly,
 * rather than run on with a stage missing; the streams keep everything for the restart.
 */
function crashOnStageFailure(
  stages: readonly RunningStage[],
  log: Log,
  onFatal: (err: unknown) => void,
): void {
  for (const s of stages) {
    s.done.catch((err) => {
      log('error', `stage ${s.stage} crashed: ${(err as Error).stack ?? String(err)}`);
      onFatal(err);
    });
  }
}

/** Partition maintenance and ledger/skip pruning every `partitionMaintenanceIntervalMs`; returns the timer. */
function startMaintenance(pool: Pool, config: Config, log: Log): NodeJS.Timeout {
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
    // Refused tmi.speak() rows are kept as long as dead letters.
    pruneRejectedSpeaks(pool, limits.dlqMaxAgeMs).catch((err) =>
      log('warn', `tmi.speak_rejected pruning failed: ${(err as Error).message}`),
    );
  }, partitionMaintenanceIntervalMs);
  maintenance.unref();
  return maintenance;
}

/** This process's connector host: all connectors (its share) or the named ones. */
function startConnectors(
  base: ApiBase,
  nc: NatsConnection,
  log: Log,
  which: 'all' | readonly string[],
): ConnectorHost {
  const { config, js, pool, registry, topology: topo, metrics } = base;
  return startConnectorHost({
    config,
    pool,
    acceptCtx: { config, js, registry, topology: topo, metrics, targets: new TargetKindCache(pool) },
    names: which === 'all' ? undefined : which,
    log,
    targetsChanged: async () => {
      nc.publish(topo.sysSubject('targets'));
      await nc.flush();
    },
  });
}

/** What the API process shares with the stages. */
interface ApiBase {
  readonly config: Config;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly pool: Pool;
  readonly registry: SchemaRegistry;
  readonly topology: Topology;
  readonly metrics: Metrics;
}

interface RunningApi {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly speaker: ReturnType<typeof startNatsSpeaker>;
  readonly adminKey: NonNullable<Runtime['adminKey']>;
}

/** The HTTP API and the NATS speaker connector, with the admin key of this home ensured. */
async function startApi(base: ApiBase, nc: NatsConnection, log: Log): Promise<RunningApi> {
  const { config, pool, topology: topo } = base;
  const targets = new TargetKindCache(pool);
  const authenticator = new Authenticator(pool, TokenService.load(config));
  const limiter = new RateLimiter(config.rateLimitPerS, config.rateLimitBurst);
  const adminKey = await ensureAdminKey(pool, config.home);
  log('info', `admin key ${adminKey.created ? 'created in' : 'in'} ${adminKey.path} (mode 0600)`);
  // Change notices: the fanout stage reloads subscriptions; every API process forgets cached keys.
  const notify = async (what: 'listeners' | 'targets' | 'keys') => {
    nc.publish(topo.sysSubject(what));
    await nc.flush();
  };
  const ctx = { ...base, targets, isReady: () => true, authenticator, limiter, notify, log };
  const speaker = startNatsSpeaker(
    nc,
    ctx,
    natsSpeakerAuthenticator({ enabled: config.auth === 'on', authenticator, limiter }),
    log,
  );
  const files = await openFiles(config, pool, log);
  const app = await buildServer({ ...ctx, files });
  app.addHook('onClose', async () => files?.store.destroy());
  nc.subscribe(topo.sysSubject('keys'), {
    callback: () => {
      authenticator.invalidate();
      void app.wsGateway.recheckCredentials().catch(() => {});
    },
  });
  const url = await app.listen({ host: config.httpHost, port: config.httpPort });
  return { app, url, speaker, adminKey };
}

/** The file store, when an S3 endpoint is configured (or the embedded SeaweedFS was started). */
async function openFiles(config: Config, pool: Pool, log: Log): Promise<FileService | undefined> {
  if (!config.s3Url) return undefined;
  if (!config.s3AccessKey || !config.s3SecretKey) {
    throw new ConfigError('TMIDB_S3_URL needs TMIDB_S3_ACCESS_KEY and TMIDB_S3_SECRET_KEY');
  }
  const store = new FileStore({
    endpoint: config.s3Url,
    bucket: config.s3Bucket,
    region: config.s3Region,
    accessKey: config.s3AccessKey,
    secretKey: config.s3SecretKey,
  });
  // The embedded SeaweedFS answers before its filer is up: retry the bucket for a while.
  for (let attempt = 1; ; attempt++) {
    try {
      await store.ensureBucket();
      break;
    } catch (err) {
      if (attempt >= 60) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  log('info', `files in s3 bucket ${config.s3Bucket} at ${redactUrl(config.s3Url)}`);
  return new FileService(store, pool, { bytesMax: config.fileBytesMax, presignTtlS: config.filePresignTtlS });
}
