// SPDX-License-Identifier: MIT
// The tmictl commands. Each prints a human table by default and JSON with --json.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { adminKeyPath } from '../api/index.js';
import { type Config, configMarkdown, redactedConfig, redactUrl, VERSION } from '../config/index.js';
import { createPool } from '../db/index.js';
import {
  AlreadyRunningError,
  acquireHomeLock,
  ensureReaderLogin,
  findPostgresBinaries,
  startLocalServers,
} from '../ops/index.js';
import { pipelineStatus, type StageName, stageNames, topology } from '../pipelines/index.js';
import { createLog } from './log.js';
import { cliApiKey, endpoints, readRunInfo, removeRunInfo, writeRunInfo } from './run-info.js';
import { startRuntime } from './runtime.js';
import { formatPairs, formatTable } from './table.js';

export interface Io {
  readonly json: boolean;
  out(text: string): void;
  err(text: string): void;
}

function print(io: Io, data: unknown, human: () => string): void {
  io.out(io.json ? JSON.stringify(data, null, 2) : human());
}

/** `tmictl up`: embedded servers, migrations, topology, every stage and the API; stops cleanly on a signal. */
export async function up(config: Config, io: Io): Promise<number> {
  let lock: ReturnType<typeof acquireHomeLock>;
  try {
    lock = acquireHomeLock(config.home);
  } catch (err) {
    if (err instanceof AlreadyRunningError) {
      io.err(
        `${err.message}. Stop it first (Ctrl-C in its terminal, or kill ${err.pid}), or use another TMIDB_HOME.`,
      );
      return 1;
    }
    throw err;
  }
  const logAt = createLog(config.logLevel, 'tmidb', io.err);
  const log = (line: string) => logAt('info', line);
  try {
    log(`home ${config.home}`);
    const servers = await startLocalServers(config, { log });
    log(`PostgreSQL ${redactUrl(servers.pgUrl)}${servers.embedded.postgres ? ' (embedded)' : ''}`);
    log(`NATS ${servers.natsUrl}${servers.embedded.nats ? ' (embedded)' : ''}`);
    if (servers.s3) log(`S3 ${servers.s3.url} (embedded SeaweedFS)`);
    const s3 = servers.s3
      ? { s3Url: servers.s3.url, s3AccessKey: servers.s3.accessKey, s3SecretKey: servers.s3.secretKey }
      : {};
    const runtime = await startRuntime(
      { ...config, ...s3 },
      {
        pgUrl: servers.pgUrl,
        natsUrl: servers.natsUrl,
        stages: stageNames,
        api: true,
        connectors: config.connectors === 'on' ? 'all' : undefined,
        log: logAt,
      },
    ).catch(async (err) => {
      await servers.stop().catch(() => {});
      throw err;
    });
    const httpUrl = runtime.url!.replace('127.0.0.1', 'localhost');
    writeRunInfo(config.home, {
      pid: process.pid,
      version: VERSION,
      startedAt: new Date().toISOString(),
      httpUrl,
      pgUrl: servers.pgUrl,
      natsUrl: servers.natsUrl,
      namespace: config.namespace,
    });
    io.out(`=== tmiDB ${VERSION} ready ===`);
    io.out(`  API      ${httpUrl}/v1/targets`);
    io.out(`  docs     ${httpUrl}/docs   (OpenAPI: ${httpUrl}/openapi.json)`);
    io.out(`  health   ${httpUrl}/healthz   metrics: ${httpUrl}/metrics`);
    io.out(`  NATS     ${servers.natsUrl}   (speak: ${config.namespace}.speak.<target_id>)`);
    io.out(`  stream   ${httpUrl.replace(/^http/, 'ws')}/tmi/ws   (tmictl tail <listener>)`);
    io.out(
      `  key      ${runtime.adminKey?.path ?? '—'}   (admin API key, mode 0600: send it as Authorization: Bearer …)`,
    );
    io.out(`  SQL      tmictl psql`);
    io.out('Ctrl-C stops tmiDB.');
    await waitForSignal();
    log('stopping: draining stages, then the servers');
    await runtime.stop().catch((err) => log(`stop: ${(err as Error).message}`));
    await servers.stop();
    log('stopped');
    return 0;
  } finally {
    removeRunInfo(config.home);
    lock.release();
  }
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/** `tmictl stage <name>`: one stage in this process; several processes share its durable consumer. */
export async function stage(config: Config, io: Io, name: string | undefined): Promise<number> {
  if (!name || !stageNames.includes(name as StageName)) {
    io.err(`usage: tmictl stage <${stageNames.join('|')}>`);
    return 2;
  }
  const { pgUrl, natsUrl } = endpoints(config);
  const runtime = await startRuntime(config, {
    pgUrl,
    natsUrl,
    stages: [name as StageName],
    api: false,
    log: createLog(config.logLevel, name, io.err),
  });
  io.err(`[${name}] running (pid ${process.pid})`);
  await Promise.race([waitForSignal(), ...runtime.stages.map((s) => s.done)]);
  await runtime.stop();
  return 0;
}

export async function status(config: Config, io: Io): Promise<number> {
  const info = readRunInfo(config.home);
  const health = info
    ? await fetch(`${info.httpUrl}/healthz`).then(
        (r) => r.json() as Promise<Record<string, unknown>>,
        (e: Error) => ({ status: `unreachable: ${e.message}` }),
      )
    : undefined;
  const data = {
    running: info !== undefined,
    home: config.home,
    pid: info?.pid ?? null,
    version: info?.version ?? VERSION,
    started_at: info?.startedAt ?? null,
    api: info?.httpUrl ?? null,
    nats: info?.natsUrl ?? null,
    postgres: info ? redactUrl(info.pgUrl) : null,
    health: health?.status ?? null,
    key: existsSync(adminKeyPath(config.home)) ? adminKeyPath(config.home) : null,
  };
  print(io, data, () => formatPairs(data));
  return info ? 0 : 1;
}

export function version(io: Io): number {
  print(io, { version: VERSION, node: process.version }, () => `tmiDB ${VERSION} (node ${process.version})`);
  return 0;
}

export async function publish(
  config: Config,
  io: Io,
  target: string | undefined,
  body: string | undefined,
): Promise<number> {
  if (!target || !body) {
    io.err(`usage: tmictl publish <target_id> '{"data":{"temp":21.5}}'   (or a bare fields object)`);
    return 2;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    io.err(`not JSON: ${(err as Error).message}`);
    return 2;
  }
  const event =
    parsed && typeof parsed === 'object' && !Array.isArray(parsed) && 'data' in parsed
      ? parsed
      : { data: parsed };
  const { httpUrl } = endpoints(config);
  const res = await fetch(`${httpUrl}/v1/targets/${encodeURIComponent(target)}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${cliApiKey(config)}` },
    body: JSON.stringify(event),
  });
  const answer = (await res.json()) as Record<string, unknown>;
  if (!res.ok) {
    io.err(`${res.status} ${answer.code ?? ''}: ${answer.detail ?? JSON.stringify(answer)}`);
    return 1;
  }
  print(io, answer, () =>
    formatTable(
      (answer.event_ids as string[]).map((id, i) => ({ event_id: id, seq: (answer.seqs as number[])[i] })),
    ),
  );
  return 0;
}

/**
 * `tmictl psql [--read-only]`: psql on tmiDB's database with the tmiDB prompt. --read-only logs in as
 * tmidb_reader (the typed views in `kinds` and the projections, SELECT only).
 */
export async function psql(config: Config, extra: readonly string[]): Promise<number> {
  const readOnly = extra.includes('--read-only');
  const args = extra.filter((a) => a !== '--read-only');
  const { pgUrl: adminUrl } = endpoints(config);
  const pgUrl = readOnly ? await ensureReaderLogin(adminUrl, config.home) : adminUrl;
  const prompt = readOnly ? 'tmiDB(read-only):%/%R%# ' : 'tmiDB:%/%R%# ';
  const bin = findPostgresBinaries(config.pgBinDir).psql;
  const child = spawn(bin, [pgUrl, '-v', `PROMPT1=${prompt}`, '-v', `PROMPT2=${prompt}`, ...args], {
    stdio: 'inherit',
    env: { ...process.env, PGAPPNAME: 'tmiDB-CLI' },
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
}

export async function pipeline(config: Config, io: Io, sub: string | undefined): Promise<number> {
  if (sub !== 'status') {
    io.err(
      'usage: tmictl pipeline status | replay <stage> [--from …] [--to …] | pause <stage> | resume <stage>',
    );
    return 2;
  }
  const { pgUrl, natsUrl } = endpoints(config);
  const nc = await connect({ servers: natsUrl, name: 'tmictl' });
  const pool = createPool(pgUrl, 1);
  try {
    const rows = await pipelineStatus(await jetstreamManager(nc), pool, topology(config.namespace));
    print(io, rows, () => formatTable(rows.map((r) => snakeKeys(r as unknown as Record<string, unknown>))));
    return 0;
  } finally {
    await nc.close();
    await pool.end();
  }
}

/** `ackPending` → `ack_pending`: table headers a person can read. */
function snakeKeys(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(row).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
  );
}

export function showConfig(config: Config, io: Io, markdown: boolean): number {
  if (markdown) io.out(configMarkdown());
  else print(io, redactedConfig(config), () => formatPairs(redactedConfig(config)));
  return 0;
}
