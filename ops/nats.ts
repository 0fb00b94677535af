// SPDX-License-Identifier: MIT
// The embedded nats-server: JetStream on 127.0.0.1 only, its store under TMIDB_HOME, a config file
// written at every start. The server runs in its own process group (a terminal's Ctrl-C reaches the
// launcher, which then stops the server in order) and keeps a pid file, so a server orphaned by a
// crashed run is found and stopped on the next start.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { findNatsServer, type NatsServerBinary } from './binaries.js';
import { LaunchError } from './errors.js';
import { isPidAlive, isPortFree, processCommandLine, sleep, tailFile, terminatePid } from './process.js';

export const natsServerName = 'tmiDB-nats';
export const natsMaxPayload = '8MB';
export const natsMaxMemoryStore = '256MB';
export const natsMaxFileStore = '20GB';
const readyTimeoutMsDefault = 15_000;
const stopGraceMs = 10_000;

export interface LocalNatsOptions {
  /** JetStream store directory. */
  readonly storeDir: string;
  /** Loopback client port. */
  readonly port: number;
  /** JetStream fsync interval: 'always' or a duration such as '2m', '500ms'. */
  readonly syncInterval: string;
  /** Server log (appended to). */
  readonly logFile: string;
  /** The config file to (re)write. */
  readonly configFile: string;
  /** Default: `nats-server.pid` beside the config file. */
  readonly pidFile?: string;
  /** JetStream's file store limit, e.g. '2MB' (default natsMaxFileStore). */
  readonly maxFileStore?: string;
  /** The nats-server program (default: see findNatsServer). */
  readonly bin?: string;
  /** How long to wait for JetStream to answer (default 15 s). */
  readonly readyTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface LocalNats {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  readonly binary: NatsServerBinary;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the server is gone. Safe to call twice. */
  stop(): Promise<void>;
}

function q(s: string): string {
  return JSON.stringify(s); // nats config strings accept JSON-style double quotes
}

/** The nats-server configuration the launcher writes. */
export function natsConfigText(opts: {
  port: number;
  storeDir: string;
  syncInterval: string;
  pidFile: string;
  maxFileStore?: string;
}): string {
  return [
    `# Written by tmiDB's launcher at every start; do not edit.`,
    `server_name: ${q(natsServerName)}`,
    `listen: ${q(`127.0.0.1:${opts.port}`)}`,
    `max_payload: ${natsMaxPayload}`,
    `pid_file: ${q(opts.pidFile)}`,
    'jetstream {',
    `  store_dir: ${q(opts.storeDir)}`,
    `  sync_interval: ${opts.syncInterval === 'always' ? 'always' : q(opts.syncInterval)}`,
    `  max_memory_store: ${natsMaxMemoryStore}`,
    `  max_file_store: ${opts.maxFileStore ?? natsMaxFileStore}`,
    '}',
    '',
  ].join('\n');
}

/** Stops a nats-server orphaned by an earlier run (its pid file names a live nats-server). */
async function stopOrphan(pidFile: string, log: (line: string) => void): Promise<void> {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
  } catch {
    return;
  }
  if (isPidAlive(pid) && (processCommandLine(pid) ?? '').includes('nats-server')) {
    log(`stopping a nats-server (pid ${pid}) left running by an earlier run`);
    await terminatePid(pid, stopGraceMs);
  }
  rmSync(pidFile, { force: true });
}

/** Starts a private nats-server with JetStream and waits until JetStream answers. */
export async function startLocalNats(opts: LocalNatsOptions): Promise<LocalNats> {
  const binary = findNatsServer(opts.bin);
  const log = opts.log ?? (() => {});
  const storeDir = path.resolve(opts.storeDir);
  const configFile = path.resolve(opts.configFile);
  const logFile = path.resolve(opts.logFile);
  const pidFile = path.resolve(opts.pidFile ?? path.join(path.dirname(configFile), 'nats-server.pid'));
  const url = `nats://127.0.0.1:${opts.port}`;
  for (const dir of [storeDir, path.dirname(configFile), path.dirname(logFile), path.dirname(pidFile)]) {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  }
  await stopOrphan(pidFile, log);
  if (!(await isPortFree(opts.port))) {
    throw new LaunchError(
      `cannot start nats-server: 127.0.0.1:${opts.port} is already in use (set TMIDB_NATS_PORT)`,
    );
  }
  writeFileSync(
    configFile,
    natsConfigText({
      port: opts.port,
      storeDir,
      syncInterval: opts.syncInterval,
      pidFile,
      maxFileStore: opts.maxFileStore,
    }),
  );

  log(`starting nats-server ${binary.version} on 127.0.0.1:${opts.port}`);
  const server = spawnNatsServer(binary, configFile, logFile, pidFile);
  const failure = (why: string) =>
    new LaunchError(
      `nats-server did not start on 127.0.0.1:${opts.port}: ${why}\n--- end of ${logFile} ---\n${tailFile(logFile)}`,
    );
  await waitForJetStream(url, server, Date.now() + (opts.readyTimeoutMs ?? readyTimeoutMsDefault), failure);
  return { url, port: opts.port, pid: server.pid, binary, stop: server.stop };
}

/** A spawned nats-server: whether it has exited (and why), and how to stop it. */
interface NatsServerProcess {
  readonly pid: number;
  exited(): boolean;
  /** Why it exited, as a sentence. */
  exitReason(): string;
  stop(): Promise<void>;
}

/** Spawns nats-server in its own process group, its output appended to `logFile`. */
function spawnNatsServer(
  binary: NatsServerBinary,
  configFile: string,
  logFile: string,
  pidFile: string,
): NatsServerProcess {
  const logFd = openSync(logFile, 'a', 0o640);
  const child = (() => {
    try {
      return spawn(binary.path, ['-c', configFile], { detached: true, stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
  })();
  child.unref(); // an orphan must not keep the launcher alive; stop() waits for the exit itself
  let exited = false;
  let spawnError: Error | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err) => {
      spawnError = err;
      exited = true;
      resolve();
    });
  });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), stopGraceMs);
      await exit;
      clearTimeout(timer);
    }
    rmSync(pidFile, { force: true });
  };
  return {
    pid: child.pid ?? -1,
    exited: () => exited,
    exitReason: () => (spawnError ? spawnError.message : `it exited with code ${child.exitCode}`),
    stop,
  };
}

/** Waits until JetStream answers at `url`; stops the server and throws if it exits or `deadline` passes. */
async function waitForJetStream(
  url: string,
  server: NatsServerProcess,
  deadline: number,
  failure: (why: string) => LaunchError,
): Promise<void> {
  let lastError = '';
  for (;;) {
    if (server.exited()) {
      await server.stop();
      throw failure(server.exitReason());
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw failure(`JetStream did not answer in time (${lastError})`);
    }
    try {
      const nc = await connect({ servers: url, reconnect: false, timeout: 1000, name: 'tmiDB-launcher' });
      try {
        const jsm = await jetstreamManager(nc, { timeout: 2000 });
        await jsm.getAccountInfo();
        if (!server.exited()) return;
      } finally {
        await nc.close();
      }
    } catch (err) {
      lastError = (err as Error).message;
      await sleep(100);
    }
  }
}
