// SPDX-License-Identifier: MIT
// `tmictl connector run` processes for crash tests: started on a test tmiDB's database and namespace,
// and the one holding a connector's lease SIGKILLed and started again.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmictl } from './stage-workers.js';
import type { TestTmidb } from './tmidb.js';
import { eventually } from './wait.js';

const logTailChars = 4_000;

interface Worker {
  proc: ChildProcess;
  log: string;
}

export class ConnectorWorkers {
  private readonly all: Worker[] = [];

  constructor(private readonly env: NodeJS.ProcessEnv) {
    if (!existsSync(tmictl)) throw new Error(`${tmictl} missing: run 'npm run build' first`);
  }

  start(): void {
    const w = { log: '' } as Worker;
    this.respawn(w);
    this.all.push(w);
  }

  private respawn(w: Worker): void {
    w.proc = spawn(process.execPath, [tmictl, 'connector', 'run'], {
      env: this.env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    w.proc.stderr?.on('data', (c: Buffer) => {
      w.log = (w.log + c.toString()).slice(-logTailChars);
    });
  }

  /** SIGKILLs the process that holds `name`'s lease (waiting until one does) and starts it again. */
  async killHolder(t: TestTmidb, name = 'feed'): Promise<void> {
    let holder: Worker | undefined;
    await eventually(`a worker to hold connector ${name}`, async () => {
      const rows = await t.sql<{ pid: number }>(
        `SELECT w.pid FROM tmi.connector_state s JOIN tmi.connector_worker w ON w.worker_id = s.owner
         JOIN tmi.ingest_connector c USING (connector_id) WHERE c.name = $1 AND s.lease_expires_at > clock_timestamp()`,
        [name],
      );
      holder = this.all.find((w) => w.proc.pid === rows[0]?.pid && w.proc.exitCode === null);
      return holder !== undefined;
    });
    const exited = new Promise((r) => holder!.proc.once('exit', r));
    holder!.proc.kill('SIGKILL');
    await exited;
    this.respawn(holder!);
  }

  async killAll(): Promise<void> {
    for (const w of this.all) {
      if (w.proc.exitCode !== null || w.proc.signalCode !== null) continue;
      const exited = new Promise((r) => w.proc.once('exit', r));
      w.proc.kill('SIGKILL');
      await exited;
    }
  }

  logs(): string {
    return this.all.map((w, i) => `--- worker ${i}\n${w.log}`).join('\n');
  }
}
