// SPDX-License-Identifier: MIT
// Stage worker processes (`tmictl stage <name>`) for the crash tests: started on a test tmiDB's database
// and namespace, SIGKILLed round-robin while work flows, and started again. A worker that exits any other
// way (a crash) is recorded, so that a test can insist there was none.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../../config/index.js';
import type { StageName } from '../../pipelines/index.js';
import { eventually } from './wait.js';

export const tmictl = path.join(packageRoot, 'dist', 'cli', 'tmictl.js');

/** The tail of a worker's stderr that is kept, for the failure message. */
const logTailChars = 4_000;

export interface StageWorker {
  readonly stage: StageName;
  proc: ChildProcess;
  log: string;
}

export class StageWorkers {
  readonly all: StageWorker[] = [];
  /** Exits that were not our SIGKILL: `<stage>: code <n> | signal <s>`. */
  readonly unexpectedExits: string[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {
    if (!existsSync(tmictl)) throw new Error(`${tmictl} missing: run 'npm run build' first`);
  }

  start(stage: StageName): StageWorker {
    const worker = { stage, log: '' } as StageWorker;
    this.respawn(worker);
    this.all.push(worker);
    return worker;
  }

  /** Starts the worker's process again (after it was killed). */
  respawn(w: StageWorker): void {
    const proc = spawn(process.execPath, [tmictl, 'stage', w.stage], {
      env: this.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    w.proc = proc;
    proc.stderr?.on('data', (chunk: Buffer) => {
      w.log = (w.log + chunk.toString()).slice(-logTailChars);
    });
    proc.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') this.unexpectedExits.push(`${w.stage}: code ${code} | signal ${signal}`);
    });
  }

  /** SIGKILLs the worker's process and waits for it to exit; false if it was not running. */
  async kill(w: StageWorker): Promise<boolean> {
    if (w.proc.exitCode !== null || w.proc.signalCode !== null) return false;
    const exited = new Promise((resolve) => w.proc.once('exit', resolve));
    w.proc.kill('SIGKILL');
    await exited;
    return true;
  }

  /** Whether the worker's current process has started its stage (it says so on stderr). */
  running(w: StageWorker): boolean {
    return w.log.includes(`(pid ${w.proc.pid})`);
  }

  async killAll(): Promise<void> {
    for (const w of this.all) await this.kill(w);
  }

  /** Every worker's stderr tail, for a failure message. */
  logs(): string {
    return this.all.map((w) => `--- ${w.stage}\n${w.log}`).join('\n');
  }
}

export interface KillRepeatedlyOptions {
  /** Keep killing while this holds (work is flowing) … */
  readonly keepGoing: () => boolean;
  /** … and until at least this many kills. */
  readonly killsMin: number;
  /**
   * Never more kills than this: each kill costs a cold start and an ack wait, so unbounded kills make the
   * test's length grow with the machine's load (one CI run: 40 kills, past the timeout).
   */
  readonly killsMax: number;
  /**
   * Resolves once there is a moment worth killing in (the stage has moved on, work is in flight); it
   * should resolve at once when `keepGoing()` no longer holds.
   */
  readonly beforeKill: () => Promise<void>;
}

/**
 * Kills the workers round-robin and restarts each, one process down at a time: each kill waits until the
 * worker killed before runs again and `beforeKill` says the moment is right. Returns the stages killed.
 */
export async function killRepeatedly(
  workers: StageWorkers,
  opts: KillRepeatedlyOptions,
): Promise<StageName[]> {
  const kills: StageName[] = [];
  let last: StageWorker | undefined;
  let turn = 0;
  while ((opts.keepGoing() && kills.length < opts.killsMax) || kills.length < opts.killsMin) {
    const restarted = last;
    if (restarted) {
      // A cold Node start on a loaded 2-core machine can take tens of seconds: wait long, fail with the log.
      await eventually(
        `the ${restarted.stage} worker to run again`,
        () => workers.running(restarted),
        120_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${workers.logs()}\nunexpected exits: ${workers.unexpectedExits}`);
      });
    }
    await opts.beforeKill();
    const w = workers.all[turn++ % workers.all.length]!;
    if (await workers.kill(w)) kills.push(w.stage);
    workers.respawn(w);
    last = w;
  }
  return kills;
}
