// SPDX-License-Identifier: MIT
// `tmictl up` writes where its servers are to <home>/run.json (mode 0600: it holds the database
// password), so `tmictl status | psql | publish | pipeline | stage` find a running instance.
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { adminKeyPath, readAdminKey } from '../api/index.js';
import type { Config } from '../config/index.js';
import { TaggedError, type TmiErrorOptions } from '../errors/index.js';
import { readHomeLock } from '../ops/index.js';

export interface RunInfo {
  readonly pid: number;
  readonly version: string;
  readonly startedAt: string;
  readonly httpUrl: string;
  readonly pgUrl: string;
  readonly natsUrl: string;
  readonly namespace: string;
}

export function runInfoPath(home: string): string {
  return path.join(home, 'run.json');
}

export function writeRunInfo(home: string, info: RunInfo): void {
  const file = runInfoPath(home);
  writeFileSync(file, JSON.stringify(info, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
}

export function removeRunInfo(home: string): void {
  rmSync(runInfoPath(home), { force: true });
}

/** The running instance on this home, if its process is alive. */
export function readRunInfo(home: string): RunInfo | undefined {
  const file = runInfoPath(home);
  if (!existsSync(file) || readHomeLock(home) === undefined) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as RunInfo;
}

export class NotRunningError extends TaggedError('NotRunningError')<'NOT_RUNNING'> {
  constructor(message: string, options?: TmiErrorOptions) {
    super('NOT_RUNNING', message, options);
  }
}

/** Where to reach PostgreSQL / NATS / the API: the configured externals, else the running instance. */
export function endpoints(config: Config): { pgUrl: string; natsUrl: string; httpUrl: string } {
  const info = readRunInfo(config.home);
  const pgUrl = config.pgUrl ?? info?.pgUrl;
  const natsUrl = config.natsUrl ?? info?.natsUrl;
  if (!pgUrl || !natsUrl) {
    throw new NotRunningError(
      `tmiDB is not running on ${config.home}: start it with 'tmictl up' (or set TMIDB_PG_URL and TMIDB_NATS_URL)`,
    );
  }
  return { pgUrl, natsUrl, httpUrl: info?.httpUrl ?? `http://${config.httpHost}:${config.httpPort}` };
}

/** The key tmictl sends: TMIDB_API_KEY, else the admin key `tmictl up` keeps in <home>/admin.key. */
export function cliApiKey(config: Config): string {
  const key = config.apiKey ?? readAdminKey(config.home);
  if (key === undefined) {
    throw new NotRunningError(
      `no API key: set TMIDB_API_KEY, or run 'tmictl up' once on ${config.home} (it keeps an admin key in ${adminKeyPath(config.home)})`,
    );
  }
  return key;
}
