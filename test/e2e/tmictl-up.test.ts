// SPDX-License-Identifier: MIT
// `tmictl up` on a fresh home, as a user runs it: embedded PostgreSQL + nats-server + SeaweedFS (a file
// stored and read back through it), banner, a second `up` refused, the CLI's status / publish / pipeline status, and a clean stop on SIGTERM.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { packageRoot, VERSION } from '../../config/index.js';
import { freePorts, isPortFree } from '../../ops/index.js';
import { stageNames } from '../../pipelines/index.js';
import { eventually } from '../support/wait.js';

const tmictl = path.join(packageRoot, 'dist', 'cli', 'tmictl.js');
const run = promisify(execFile);
let home: string;
let env: NodeJS.ProcessEnv;
let up: ChildProcess;
let out = '';
let ports: { http: number; pg: number; nats: number; s3: number };

function tmictlRun(...args: string[]) {
  return run(process.execPath, [tmictl, ...args], { env }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}

/** The last line of `tmictl up`'s ready banner (cli/commands.ts). */
const bannerLastLine = 'Ctrl-C stops tmiDB.';

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'tmidb-e2e-'));
  chmodSync(home, 0o755); // as root the cluster runs as `postgres`, which must reach its data directory
  const [http, pg, nats, s3] = (await freePorts(4)) as [number, number, number, number];
  ports = { http, pg, nats, s3 };
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TMIDB_')));
  env = {
    ...clean,
    TMIDB_HOME: home,
    TMIDB_HTTP_PORT: String(ports.http),
    TMIDB_PG_PORT: String(ports.pg),
    TMIDB_NATS_PORT: String(ports.nats),
    TMIDB_S3_PORT: String(ports.s3),
    TMIDB_NATS_SYNC: 'always',
  };
  up = spawn(process.execPath, [tmictl, 'up'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  up.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  up.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  // The banner may arrive in several stdout chunks: wait for its last line, not the first.
  await eventually(
    'tmictl up to print its whole ready banner',
    () => {
      if (up.exitCode !== null) throw new Error('tmictl up exited before it was ready');
      return out.includes('ready ===') && out.includes(bannerLastLine);
    },
    90_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${out}`);
  });
});

afterAll(async () => {
  if (up && up.exitCode === null) up.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

/** `tmictl tail` prints the listener's stream; once attached (it says so on stderr) it sees a publish. */
async function expectTailSeesPublish(targetId: string): Promise<void> {
  const tail = spawn(process.execPath, [tmictl, 'tail', 'e2e-tail', '--count', '1', '--json'], { env });
  const tailExit = new Promise<number | null>((resolve) => tail.once('exit', resolve));
  let tailOut = '';
  let tailErr = '';
  tail.stdout.on('data', (c: Buffer) => {
    tailOut += c.toString();
  });
  tail.stderr.on('data', (c: Buffer) => {
    tailErr += c.toString();
  });
  await eventually('tmictl tail to attach', () => tailErr.includes('streaming after cursor'), 10_000);
  const published = await tmictlRun('publish', targetId, '{"level": 3}', '--json');
  expect(published.code, published.stderr).toBe(0);
  expect(JSON.parse(published.stdout).accepted).toBe(1);
  const tailCode = await tailExit;
  expect(tailCode, tailErr).toBe(0);
  expect(JSON.parse(tailOut.trim())).toMatchObject({
    type: 'event',
    target_id: targetId,
    data: { level: 3 },
  });
}

/** The embedded SeaweedFS: credentials generated under the home (0600), a file in and out through it. */
async function expectEmbeddedFileStore(targetId: string, auth: Record<string, string>): Promise<void> {
  const credentials = path.join(home, 'seaweedfs', 's3-credentials.json');
  expect(statSync(credentials).mode & 0o777).toBe(0o600);
  const body = Buffer.from('a file through the embedded S3 store\n');
  const put = await fetch(`http://127.0.0.1:${ports.http}/v1/targets/${targetId}/files/note.txt`, {
    method: 'PUT',
    headers: { 'content-type': 'text/plain', ...auth },
    body,
  });
  const info = (await put.json()) as { file_id: string; size: number };
  expect(put.status, JSON.stringify(info)).toBe(201);
  expect(info.size).toBe(body.length);
  const get = await fetch(`http://127.0.0.1:${ports.http}/v1/files/${info.file_id}`, {
    headers: auth,
    redirect: 'manual',
  });
  expect(get.status).toBe(302);
  const location = get.headers.get('location')!;
  expect(location.startsWith(`http://127.0.0.1:${ports.s3}/`)).toBe(true);
  expect(Buffer.from(await (await fetch(location)).arrayBuffer()).equals(body)).toBe(true);
}

it('starts everything, refuses a second up, serves the CLI, and stops cleanly on SIGTERM', async () => {
  expect(out).toContain(`=== tmiDB ${VERSION} ready ===`);
  expect(out).toContain(`http://localhost:${ports.http}/docs`);
  expect(readFileSync(path.join(home, 'nats', 'nats-server.conf'), 'utf8')).toMatch(
    /sync_interval:\s*"?always/,
  );

  const second = await tmictlRun('up');
  expect(second.code).toBe(1);
  expect(second.stderr).toMatch(/already running on .* \(pid \d+\)/);

  const status = await tmictlRun('status', '--json');
  expect(status.code).toBe(0);
  expect(JSON.parse(status.stdout)).toMatchObject({ running: true, health: 'ok' });

  // The admin key `up` made: where it said, mode 0600; nothing works without a key.
  const keyFile = path.join(home, 'admin.key');
  expect(out).toContain(keyFile);
  expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  const auth = { authorization: `Bearer ${readFileSync(keyFile, 'utf8').trim()}` };
  expect((await fetch(`http://127.0.0.1:${ports.http}/v1/targets`)).status).toBe(401);

  const created = await fetch(`http://127.0.0.1:${ports.http}/v1/targets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ name: 'e2e', kind: 'e2e' }),
  }).then((r) => r.json() as Promise<{ target_id: string }>);
  const listener = await fetch(`http://127.0.0.1:${ports.http}/v1/listeners`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ name: 'e2e-tail', subscriptions: [{ kind: 'e2e', fields: ['level'] }] }),
  });
  expect(listener.status).toBe(201);
  await expectTailSeesPublish(created.target_id);

  await eventually(
    'the state projected',
    async () => {
      const state = await fetch(`http://127.0.0.1:${ports.http}/v1/targets/${created.target_id}`, {
        headers: auth,
      }).then((r) => r.json() as Promise<{ state: Record<string, { value: unknown }> }>);
      return state.state.level?.value === 3;
    },
    10_000,
  );

  await expectEmbeddedFileStore(created.target_id, auth);

  const pipeline = await tmictlRun('pipeline', 'status', '--json');
  expect(pipeline.code).toBe(0);
  const stages = JSON.parse(pipeline.stdout) as { stage: string; pending: number; checkpoint: number }[];
  expect(stages.map((s) => s.stage)).toEqual([...stageNames]);
  // Every stage the event went through has committed it (fanout-alarm only sees alarms).
  expect(stages.filter((s) => s.stage !== 'fanout-alarm').every((s) => s.checkpoint >= 1)).toBe(true);

  const sql = await tmictlRun(
    'psql',
    '-tA',
    '-c',
    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tmiDB-Core'",
  );
  expect(Number(sql.stdout.trim())).toBeGreaterThan(0);

  up.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => up.once('exit', resolve));
  expect(code).toBe(0);
  expect(out).toContain('stopped');
  expect(await isPortFree(ports.pg)).toBe(true);
  expect(await isPortFree(ports.nats)).toBe(true);
  expect(await isPortFree(ports.http)).toBe(true);
  expect(await isPortFree(ports.s3)).toBe(true);
  expect((await tmictlRun('status')).code).toBe(1);
});
