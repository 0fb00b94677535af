// SPDX-License-Identifier: MIT
// The embedded PostgreSQL: a private cluster under TMIDB_HOME, initialized on first start, listening on
// 127.0.0.1 only. PostgreSQL refuses to run as root, so as root the cluster belongs to (and runs as)
// the `postgres` OS user. Passwords: the `postgres` role gets a random password at initdb, kept in
// `<home>/pg/password` (mode 0600); TCP connections need it (scram-sha-256), the unix socket in the
// private run directory (mode 0700) is trusted.
//
// A cluster left running by a crashed earlier run (live postmaster.pid) is stopped and started again,
// so this run's settings (port, socket directory, tuning) always apply. Two launchers on one home are
// prevented by the home lock (lock.ts), not here.
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { findPostgresBinaries, type PostgresBinaries } from './binaries.js';
import { LaunchError } from './errors.js';
import {
  isPortFree,
  isRoot,
  lookupOsUser,
  type OsUser,
  type RunResult,
  runCommand,
  tailFile,
} from './process.js';

/** cluster_name and the server's PGAPPNAME: how the embedded server shows in `ps` and in logs. */
export const postgresClusterName = 'tmiDB-Core';
const settingsFileName = 'tmidb.conf';
const startTimeoutS = 60;
const stopTimeoutS = 60;
const pgCtlSlackMs = 15_000;

/** Server settings for a small ingest box; `LocalPostgresOptions.settings` overrides them. */
export const postgresDefaultSettings: Readonly<Record<string, string | number>> = {
  max_connections: 200,
  shared_buffers: '256MB',
  effective_cache_size: '1GB',
  work_mem: '16MB',
  maintenance_work_mem: '128MB',
  synchronous_commit: 'on',
  wal_compression: 'on',
  checkpoint_timeout: '15min',
  max_wal_size: '4GB',
  min_wal_size: '256MB',
  max_locks_per_transaction: 128,
  log_line_prefix: '%m [%p] %q%u@%d %a ',
};

export interface LocalPostgresOptions {
  /** The cluster's data directory (initdb'd on first start). */
  readonly dataDir: string;
  /** Directory of the unix socket (and the pid of nothing else); private to the server's user. */
  readonly runDir: string;
  /** Loopback TCP port. */
  readonly port: number;
  /** Server log (appended to). */
  readonly logFile: string;
  /** Database to create if missing and to put in `url` (default 'tmidb'). */
  readonly database?: string;
  /** Where the `postgres` role's password is kept (default `<dirname(dataDir)>/password`). */
  readonly passwordFile?: string;
  /** Directory of initdb/pg_ctl/postgres (default: see findPostgresBinaries). */
  readonly binDir?: string;
  /** Extra or overriding server settings (e.g. `{ fsync: 'off' }` for throwaway test clusters). */
  readonly settings?: Readonly<Record<string, string | number>>;
  /** Progress lines ('initializing …'); default: silent. */
  readonly log?: (line: string) => void;
}

export interface LocalPostgres {
  /** `postgres://postgres:<password>@127.0.0.1:<port>/<database>` */
  readonly url: string;
  /** The same for the `postgres` maintenance database (create/drop databases there). */
  readonly adminUrl: string;
  readonly port: number;
  readonly dataDir: string;
  readonly binaries: PostgresBinaries;
  /** True when this start ran initdb. */
  readonly initialized: boolean;
  /** Stops the server (`pg_ctl stop -m fast -w`); safe to call twice. */
  stop(): Promise<void>;
}

export function postgresUrl(password: string, port: number, database: string): string {
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Creates database `name` unless it exists; true if it was created. `adminUrl` may name any database. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: postgresClusterName });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
    } catch (err) {
      if ((err as { code?: string }).code === '42P04') return false; // created concurrently
      throw err;
    }
    return true;
  } finally {
    await client.end();
  }
}

/** Drops database `name` if it exists, terminating its connections first; true if it existed. */
export async function dropDatabase(adminUrl: string, name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: postgresClusterName });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) return false;
    await client.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [name],
    );
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    return true;
  } finally {
    await client.end();
  }
}

/** The password kept in `file`, or undefined. */
export function readPasswordFile(file: string): string | undefined {
  try {
    const pw = readFileSync(file, 'utf8').trim();
    return pw === '' ? undefined : pw;
  } catch {
    return undefined;
  }
}

function writePasswordFile(file: string, password: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${password}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

function confValue(v: string | number): string {
  return typeof v === 'number' ? String(v) : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** The OS user the server runs as: `postgres` when we are root, else ourselves (undefined). */
function serverUser(): OsUser | undefined {
  if (!isRoot()) return undefined;
  const user = lookupOsUser('postgres');
  if (!user) {
    throw new LaunchError(
      "running as root, the embedded PostgreSQL runs as the OS user 'postgres', which does not exist: " +
        'run `npm run setup` (the postgresql-15 package creates it)',
    );
  }
  return user;
}

/**
 * Every directory above `target` must be searchable by the server's user. Checked from the modes
 * (spawned with uid/gid, the server has no supplementary groups), so the error names the culprit.
 */
function assertReachable(user: OsUser, target: string): void {
  const parts: string[] = [];
  for (let dir = path.dirname(target); ; dir = path.dirname(dir)) {
    parts.unshift(dir);
    if (path.dirname(dir) === dir) break;
  }
  for (const dir of parts) {
    const st = statSync(dir);
    const ok =
      st.uid === user.uid
        ? (st.mode & 0o100) !== 0
        : st.gid === user.gid
          ? (st.mode & 0o010) !== 0
          : (st.mode & 0o001) !== 0;
    if (!ok) {
      throw new LaunchError(
        `the embedded PostgreSQL runs as the OS user '${user.name}' (it refuses to run as root), and '${user.name}' ` +
          `cannot enter ${dir} (mode ${(st.mode & 0o777).toString(8)}) on the way to ${target}: ` +
          `allow it (chmod o+x ${dir}) or set TMIDB_HOME to a directory it can reach (e.g. /var/lib/tmidb)`,
      );
    }
  }
}

function ownTo(user: OsUser | undefined, file: string): void {
  if (user) chownSync(file, user.uid, user.gid);
}

/** Starts (initializing on first use) a private PostgreSQL cluster; see the file comment. */
export async function startLocalPostgres(opts: LocalPostgresOptions): Promise<LocalPostgres> {
  const binaries = findPostgresBinaries(opts.binDir);
  const log = opts.log ?? (() => {});
  const dataDir = path.resolve(opts.dataDir);
  const runDir = path.resolve(opts.runDir);
  const logFile = path.resolve(opts.logFile);
  const database = opts.database ?? 'tmidb';
  const passwordFile = path.resolve(opts.passwordFile ?? path.join(path.dirname(dataDir), 'password'));
  const port = opts.port;
  const user = serverUser();
  const wasInitialized = prepareDirectories(dataDir, runDir, logFile, user);
  const cluster = clusterCommands(binaries, user, dataDir);

  let password = readPasswordFile(passwordFile);
  let resetPassword = false;
  if (!wasInitialized) {
    if (!password) {
      password = randomBytes(24).toString('base64url');
      writePasswordFile(passwordFile, password);
    }
    log(`initializing a PostgreSQL ${binaries.version} cluster in ${dataDir}`);
    await initCluster(cluster, binaries, { dataDir, runDir, user, password });
  } else if (!password) {
    // The cluster is there but its password file is gone: set a new one through the trusted socket.
    password = randomBytes(24).toString('base64url');
    resetPassword = true;
  }
  writeSettings(dataDir, user, {
    ...postgresDefaultSettings,
    ...opts.settings,
    listen_addresses: '127.0.0.1',
    port,
    unix_socket_directories: runDir,
    cluster_name: postgresClusterName,
  });
  await stopLeftover(cluster, dataDir, log);
  if (!(await isPortFree(port))) {
    throw new LaunchError(`cannot start PostgreSQL: 127.0.0.1:${port} is already in use (set TMIDB_PG_PORT)`);
  }
  log(`starting PostgreSQL on 127.0.0.1:${port}`);
  await startServer(cluster, port, logFile);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const r = await cluster.pgCtl(
      ['stop', '-m', 'fast', '-w', '-t', String(stopTimeoutS)],
      stopTimeoutS * 1000 + pgCtlSlackMs,
    );
    if (r.code !== 0 && (await cluster.isRunning())) {
      throw new LaunchError(`PostgreSQL on ${dataDir} did not stop: ${(r.stderr || r.stdout).trim()}`);
    }
  };

  const adminUrl = postgresUrl(password, port, 'postgres');
  try {
    if (resetPassword) {
      log(`${passwordFile} is missing: setting a new password for the postgres role`);
      await setRolePassword(runDir, port, password);
      writePasswordFile(passwordFile, password);
    }
    if (database !== 'postgres' && (await ensureDatabase(adminUrl, database)))
      log(`created database ${database}`);
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }

  return {
    url: postgresUrl(password, port, database),
    adminUrl,
    port,
    dataDir,
    binaries,
    initialized: !wasInitialized,
    stop,
  };
}

/**
 * Directories: parents world-searchable, data and socket directories private to the server's user.
 * Returns whether the data directory already held a cluster.
 */
function prepareDirectories(
  dataDir: string,
  runDir: string,
  logFile: string,
  user: OsUser | undefined,
): boolean {
  for (const dir of [path.dirname(dataDir), path.dirname(runDir), path.dirname(logFile)]) {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  }
  const wasInitialized = existsSync(path.join(dataDir, 'PG_VERSION'));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  mkdirSync(runDir, { recursive: true, mode: 0o700 });
  if (!existsSync(logFile)) writeFileSync(logFile, '', { mode: 0o640 });
  if (user) {
    const owner = statSync(dataDir).uid;
    if (wasInitialized && owner !== user.uid) {
      throw new LaunchError(
        `the PostgreSQL data directory ${dataDir} belongs to uid ${owner}, but the server runs as '${user.name}': ` +
          `chown -R ${user.name}: ${dataDir}`,
      );
    }
    for (const f of [dataDir, runDir, logFile]) ownTo(user, f);
    for (const f of [dataDir, runDir, logFile]) assertReachable(user, f);
  }
  chmodSync(dataDir, 0o700);
  chmodSync(runDir, 0o700);
  return wasInitialized;
}

/** The server's programs, run as its user with no PG* variables of ours leaking in. */
interface ClusterCommands {
  run(cmd: string, args: string[], timeoutMs: number, detached?: boolean): Promise<RunResult>;
  pgCtl(args: string[], timeoutMs: number, detached?: boolean): Promise<RunResult>;
  isRunning(): Promise<boolean>;
}

function clusterCommands(
  binaries: PostgresBinaries,
  user: OsUser | undefined,
  dataDir: string,
): ClusterCommands {
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('PG')),
  );
  env.PGAPPNAME = postgresClusterName;
  if (user) {
    env.HOME = user.home;
    env.USER = user.name;
    env.LOGNAME = user.name;
  }
  const run = (cmd: string, args: string[], timeoutMs: number, detached = false): Promise<RunResult> =>
    runCommand(cmd, args, { user, env, cwd: dataDir, timeoutMs, detached });
  const pgCtl = (args: string[], timeoutMs: number, detached = false) =>
    run(binaries.pgCtl, [...args, '-D', dataDir], timeoutMs, detached);
  const isRunning = async () => (await pgCtl(['status'], pgCtlSlackMs)).code === 0;
  return { run, pgCtl, isRunning };
}

/** initdb with the given superuser password, then the include of the launcher's settings file. */
async function initCluster(
  cluster: ClusterCommands,
  binaries: PostgresBinaries,
  at: { dataDir: string; runDir: string; user: OsUser | undefined; password: string },
): Promise<void> {
  const { dataDir, runDir, user, password } = at;
  const pwFile = path.join(runDir, `initdb-pw.${process.pid}`);
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  ownTo(user, pwFile);
  try {
    const r = await cluster.run(
      binaries.initdb,
      [
        '-D',
        dataDir,
        '-U',
        'postgres',
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        `--pwfile=${pwFile}`,
        '--encoding=UTF8',
        '--locale=C.UTF-8',
      ],
      120_000,
    );
    if (r.code !== 0)
      throw new LaunchError(
        `initdb failed (exit ${r.code}) for ${dataDir}:\n${(r.stderr || r.stdout).trim()}`,
      );
  } finally {
    rmSync(pwFile, { force: true });
  }
  appendFileSync(
    path.join(dataDir, 'postgresql.conf'),
    `\n# tmiDB: the launcher rewrites ${settingsFileName} at every start (ALTER SYSTEM still overrides it)\n` +
      `include_if_exists = '${settingsFileName}'\n`,
  );
}

/** (Re)writes the launcher's settings file, which postgresql.conf includes. */
function writeSettings(
  dataDir: string,
  user: OsUser | undefined,
  settings: Readonly<Record<string, string | number>>,
): void {
  const settingsFile = path.join(dataDir, settingsFileName);
  writeFileSync(
    settingsFile,
    `# Written by tmiDB's launcher at every start; do not edit (use ALTER SYSTEM or the launcher's options).\n` +
      Object.entries(settings)
        .map(([k, v]) => `${k} = ${confValue(v)}`)
        .join('\n') +
      '\n',
    { mode: 0o600 },
  );
  ownTo(user, settingsFile);
}

/** Stops a server an earlier run left running on this data directory. */
async function stopLeftover(cluster: ClusterCommands, dataDir: string, log: (line: string) => void) {
  if (!(await cluster.isRunning())) return;
  log(`stopping a PostgreSQL left running on ${dataDir} by an earlier run`);
  const r = await cluster.pgCtl(
    ['stop', '-m', 'fast', '-w', '-t', String(stopTimeoutS)],
    stopTimeoutS * 1000 + pgCtlSlackMs,
  );
  if (r.code !== 0)
    throw new LaunchError(
      `could not stop the PostgreSQL left running on ${dataDir}: ${(r.stderr || r.stdout).trim()}`,
    );
}

async function startServer(cluster: ClusterCommands, port: number, logFile: string): Promise<void> {
  const started = await cluster.pgCtl(
    ['start', '-w', '-t', String(startTimeoutS), '-l', logFile],
    startTimeoutS * 1000 + pgCtlSlackMs,
    true,
  );
  if (started.code !== 0) {
    throw new LaunchError(
      `PostgreSQL did not start on 127.0.0.1:${port} (pg_ctl exit ${started.code}): ${(started.stderr || started.stdout).trim()}\n` +
        `--- end of ${logFile} ---\n${tailFile(logFile)}`,
    );
  }
}

/** Sets the postgres role's password through the trusted Unix socket. */
async function setRolePassword(runDir: string, port: number, password: string): Promise<void> {
  const client = new pg.Client({ host: runDir, port, user: 'postgres', database: 'postgres' });
  await client.connect();
  try {
    await client.query(`ALTER ROLE postgres PASSWORD '${password.replace(/'/g, "''")}'`);
  } finally {
    await client.end();
  }
}
