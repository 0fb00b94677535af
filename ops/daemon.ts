// SPDX-License-Identifier: MIT
// A server program run as a daemon of the launcher (Kafka, SeaweedFS): its own process group, output to
// a log file, a pid file so an orphan of a crashed run is stopped at the next start, and a readiness probe
// polled until it answers or the server exits.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LaunchError } from './errors.js';
import { isPidAlive, processCommandLine, sleep, tailFile, terminatePid } from './process.js';

const stopGraceMs = 15_000;
const probeIntervalMs = 200;

export interface DaemonOptions {
  /** Shown in messages (`kafka`, `weed`). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly pidFile: string;
  /** A word of the command line that identifies an orphan of ours (checked before killing it). */
  readonly orphanMarker: string;
  /** Resolves true once the server serves; errors count as "not yet". */
  readonly ready: () => Promise<boolean>;
  readonly readyTimeoutMs: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly log?: (line: string) => void;
}

export interface Daemon {
  readonly pid: number;
  /** SIGTERM, then SIGKILL after 15 s; resolves once the process is gone. Safe to call twice. */
  stop(): Promise<void>;
}

async function stopOrphan(opts: DaemonOptions): Promise<void> {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(opts.pidFile, 'utf8').trim(), 10);
  } catch {
    return;
  }
  if (isPidAlive(pid) && (processCommandLine(pid) ?? '').includes(opts.orphanMarker)) {
    opts.log?.(`stopping a ${opts.name} (pid ${pid}) left running by an earlier run`);
    await terminatePid(pid, stopGraceMs);
  }
  rmSync(opts.pidFile, { force: true });
}

/** Starts the program and waits until `ready` says so; on failure the log's tail is in the error. */
export async function startDaemon(opts: DaemonOptions): Promise<Daemon> {
  for (const f of [opts.logFile, opts.pidFile]) mkdirSync(path.dirname(f), { recursive: true });
  await stopOrphan(opts);
  const logFd = openSync(opts.logFile, 'a', 0o640);
  const child = (() => {
    try {
      return spawn(opts.command, [...opts.args], {
        detached: true,
        stdio: ['ignore', logFd, logFd],
        env: opts.env ?? process.env,
      });
    } finally {
      closeSync(logFd);
    }
  })();
  child.unref();
  let exited = false;
  let spawnError: Error | undefined;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (err) => {
      spawnError = err;
      resolve();
    });
  }).then(() => {
    exited = true;
  });
  if (child.pid) writeFileSync(opts.pidFile, `${child.pid}\n`);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (!exited && child.pid) {
      try {
        process.kill(-child.pid, 'SIGTERM'); // the group: the JVM or weed and anything it forked
      } catch {}
      const timer = setTimeout(() => {
        try {
          process.kill(-(child.pid ?? 0), 'SIGKILL');
        } catch {}
      }, stopGraceMs);
      await exit;
      clearTimeout(timer);
    }
    rmSync(opts.pidFile, { force: true });
  };
  const failure = async (why: string) => {
    await stop();
    return new LaunchError(
      `${opts.name} did not start: ${why}\n--- end of ${opts.logFile} ---\n${tailFile(opts.logFile)}`,
    );
  };
  const deadline = Date.now() + opts.readyTimeoutMs;
  for (;;) {
    if (exited) throw await failure(spawnError?.message ?? `it exited with code ${child.exitCode}`);
    if (Date.now() > deadline) throw await failure(`not ready after ${opts.readyTimeoutMs} ms`);
    if (await opts.ready().catch(() => false)) break;
    await sleep(probeIntervalMs);
  }
  opts.log?.(`${opts.name} ready (pid ${child.pid})`);
  return { pid: child.pid ?? -1, stop };
}
