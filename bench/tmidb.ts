// SPDX-License-Identifier: MIT
// The tmiDB processes under test, as an operator would run them: one process serving the API and the
// NATS speaker connector (bench/api-process.ts), and one `tmictl stage <name>` process per stage, all on
// one scenario's database and namespace. The benchmark driver is none of them.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { JetStreamManager } from '@nats-io/jetstream';
import { packageRoot } from '../config/index.js';
import type { Pool } from '../db/index.js';
import { pipelineStatus, type StageName, type StageStatus, type Topology } from '../pipelines/index.js';
import type { BenchDb, BenchServers } from './env.js';

/** How long a tmiDB process may take to start (migrations, topology, listen). */
export const processStartTimeoutMs = 60_000;
/** How often the driver asks JetStream whether the stages have drained. */
export const drainPollIntervalMs = 50;
/** Characters of a child's stderr kept for error messages. */
const logTailChars = 4_000;

const tmictl = path.join(packageRoot, 'dist', 'cli', 'tmictl.js');
const apiProcess = path.join(packageRoot, 'dist', 'bench', 'api-process.js');

interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  log: string;
}

export interface TmidbProcesses {
  readonly apiUrl: string;
  /** Headers that authenticate the benchmark as the instance's admin (none when auth is off or absent). */
  readonly authHeaders: Readonly<Record<string, string>>;
  /** name → pid: `api`, `stage:capture`, … */
  pids(): Record<string, number>;
  /** Throws (with the child's log) if a tmiDB process has died. */
  assertAlive(): void;
  stop(): Promise<void>;
}

export interface StartTmidbOptions {
  readonly stages: readonly StageName[];
  /** 'per-stage': one `tmictl stage` process per stage beside the API process; 'one': all in the API's. */
  readonly processes?: ProcessLayout;
  /** Extra node flags for the tmiDB processes (e.g. --cpu-prof). */
  readonly nodeFlags?: readonly string[];
  /** Extra TMIDB_* settings. */
  readonly env?: Readonly<Record<string, string>>;
}

/** The admin key an API process keeps in its home when authentication is on (api/auth/keys.ts). */
export const adminKeyFileName = 'admin.key';

function readAdminKey(home: string): string | undefined {
  const file = path.join(home, adminKeyFileName);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}

export const processLayouts = ['per-stage', 'one'] as const;
export type ProcessLayout = (typeof processLayouts)[number];

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

function spawnChild(name: string, args: readonly string[], env: NodeJS.ProcessEnv, flags: readonly string[]) {
  const proc = spawn(process.execPath, [...flags, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  const child: Child = { name, proc, log: '' };
  proc.stderr?.on('data', (chunk: Buffer) => {
    child.log = (child.log + chunk.toString()).slice(-logTailChars);
  });
  return child;
}

function waitFor(child: Child, stream: 'stdout' | 'stderr', pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(
      () => fail(new Error(`${child.name} did not start in ${processStartTimeoutMs} ms:\n${child.log}`)),
      processStartTimeoutMs,
    );
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const m = pattern.exec(text);
      if (m) done(() => resolve(m));
    };
    const onExit = (code: number | null) =>
      fail(new Error(`${child.name} exited (${code}) while starting:\n${child.log}`));
    const done = (then: () => void) => {
      clearTimeout(timer);
      child.proc[stream]?.off('data', onData);
      child.proc.off('exit', onExit);
      then();
    };
    const fail = (err: Error) => done(() => reject(err));
    child.proc[stream]?.on('data', onData);
    child.proc.once('exit', onExit);
  });
}

export async function startTmidb(
  servers: BenchServers,
  db: BenchDb,
  opts: StartTmidbOptions,
): Promise<TmidbProcesses> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TMIDB_HOME: db.home,
    TMIDB_PG_URL: db.pgUrl,
    TMIDB_NATS_URL: servers.natsUrl,
    TMIDB_NAMESPACE: db.namespace,
    TMIDB_HTTP_PORT: '0',
    // Authentication stays on (the driver sends the admin key the API process leaves in its home, so the
    // key check is measured), but one key sends thousands of requests/s: the per-key limit is not under test.
    TMIDB_RATE_LIMIT_PER_S: '0',
    ...opts.env,
  };
  const oneProcess = opts.processes === 'one';
  const apiEnv = { ...env, TMIDB_BENCH_STAGES: oneProcess ? opts.stages.join(',') : '' };
  const flags = opts.nodeFlags ?? [];
  const children: Child[] = [];
  const stopAll = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve();
            const kill = setTimeout(() => c.proc.kill('SIGKILL'), 15_000);
            c.proc.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            c.proc.kill('SIGTERM');
          }),
      ),
    );
  };
  try {
    // The API process first: it migrates the database and creates the streams and consumers.
    const api = spawnChild(oneProcess ? 'all' : 'api', [apiProcess], apiEnv, flags);
    children.push(api);
    const apiUrl = (await waitFor(api, 'stdout', /ready (\S+)\n/))[1]!;
    const adminKey = readAdminKey(db.home);
    const authHeaders: Record<string, string> = adminKey ? { authorization: `Bearer ${adminKey}` } : {};
    const stages = oneProcess
      ? []
      : opts.stages.map((s) => spawnChild(`stage:${s}`, [tmictl, 'stage', s], env, flags));
    children.push(...stages);
    await Promise.all(stages.map((c) => waitFor(c, 'stderr', /running \(pid \d+\)/)));
    return {
      apiUrl,
      authHeaders,
      pids: () => Object.fromEntries(children.map((c) => [c.name, c.proc.pid ?? -1])),
      assertAlive: () => {
        for (const c of children) {
          if (c.proc.exitCode !== null || c.proc.signalCode !== null) {
            throw new Error(`${c.name} died (${c.proc.exitCode ?? c.proc.signalCode}):\n${c.log}`);
          }
        }
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export interface DrainOptions {
  readonly timeoutMs: number;
  /** Called with the stage statuses at every poll. */
  readonly onPoll?: (status: readonly StageStatus[]) => void;
  readonly assertAlive?: () => void;
}

/**
 * Resolves (with the time it happened) once every stage has nothing pending and nothing unacknowledged:
 * stages ack only after their transaction commits, and stages are listed upstream first, so a sweep in
 * which all are idle means everything written before the call has landed everywhere.
 */
export async function waitDrained(
  jsm: JetStreamManager,
  pool: Pool,
  topo: Topology,
  opts: DrainOptions,
): Promise<number> {
  const deadline = performance.now() + opts.timeoutMs;
  for (;;) {
    const status = await pipelineStatus(jsm, pool, topo);
    const now = performance.now();
    opts.onPoll?.(status);
    if (status.every((s) => s.pending === 0 && s.ackPending === 0)) return now;
    opts.assertAlive?.();
    if (now > deadline) {
      throw new Error(
        `stages did not drain in ${opts.timeoutMs} ms: ${status
          .map((s) => `${s.stage} pending ${s.pending} ack-pending ${s.ackPending}`)
          .join(', ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, drainPollIntervalMs));
  }
}
