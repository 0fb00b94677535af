// SPDX-License-Identifier: MIT
// One tmiDB per home: `<home>/tmictl.pid` holds the pid of the process that runs it. A lock whose
// process is gone (a crash, a reboot) is stale and taken over.
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TaggedError } from '../errors/index.js';
import { isPidAlive, processCommandLine } from './process.js';

export const homeLockFileName = 'tmictl.pid';

export class AlreadyRunningError extends TaggedError('AlreadyRunningError')<'ALREADY_RUNNING'> {
  constructor(
    readonly home: string,
    readonly pid: number,
  ) {
    super('ALREADY_RUNNING', `tmiDB is already running on ${home} (pid ${pid})`);
  }
}

export interface HomeLock {
  readonly file: string;
  readonly pid: number;
  /** Removes the lock file if it is still ours; safe to call twice. */
  release(): void;
}

/** Homes locked by this process (a lock naming our own pid that is not in here is stale: pid reuse). */
const heldHere = new Set<string>();

function lockFile(home: string): string {
  return path.join(path.resolve(home), homeLockFileName);
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid`, found in the lock of `file`, still holds it. */
function holds(file: string, pid: number): boolean {
  if (pid === process.pid) return heldHere.has(file);
  if (!isPidAlive(pid)) return false;
  // After a reboot or in a fresh container the pid may belong to something else; a tmiDB launcher
  // is a node process (or a renamed one with tmi in its command line).
  const cmd = processCommandLine(pid);
  return cmd === undefined || /node|tmi/i.test(cmd);
}

/** The pid of the live process holding the lock of `home`, or undefined. */
export function readHomeLock(home: string): number | undefined {
  const file = lockFile(home);
  const pid = readPid(file);
  return pid !== undefined && holds(file, pid) ? pid : undefined;
}

/** Takes the lock of `home` for this process, or throws AlreadyRunningError. */
export function acquireHomeLock(home: string): HomeLock {
  const file = lockFile(home);
  mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 5; attempt++) {
    // Written aside, then hard-linked into place: the lock never exists half-written.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${process.pid}\n`, { mode: 0o644 });
    try {
      try {
        linkSync(tmp, file);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
        writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o644 }); // no hard links here
      }
      heldHere.add(file);
      let released = false;
      return {
        file,
        pid: process.pid,
        release() {
          if (released) return;
          released = true;
          heldHere.delete(file);
          if (readPid(file) === process.pid) rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      rmSync(tmp, { force: true });
    }
    const pid = readPid(file);
    if (pid !== undefined && holds(file, pid)) throw new AlreadyRunningError(path.dirname(file), pid);
    // Stale: remove it if it still names the same pid, then retry.
    if (readPid(file) === pid) rmSync(file, { force: true });
  }
  throw new Error(`could not take the lock ${file}: it keeps changing`);
}
