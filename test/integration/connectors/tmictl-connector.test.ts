// SPDX-License-Identifier: MIT
// `tmictl connector status|pause|resume` against a running instance: the human table, --json, and
// pause/resume reaching the process that runs the connector.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { packageRoot } from '../../../config/index.js';
import { eventually, startTestTmidb, type TestTmidb } from '../../support/tmidb.js';

const tmictl = path.join(packageRoot, 'dist', 'cli', 'tmictl.js');
let t: TestTmidb;

beforeAll(async () => {
  t = await startTestTmidb('tmictl_connector', {
    stages: [],
    connectors: 'all',
    config: { connectorLeaseMs: 1_000 },
  });
});

afterAll(async () => {
  await t?.stop();
});

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [tmictl, 'connector', ...args], { env: t.childEnv }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({
      code: err.code,
      stdout: err.stdout,
      stderr: err.stderr,
    }),
  );
}

it('shows connectors as a table and as JSON, pauses and resumes them, names unknown ones', async () => {
  await eventually('the speak drainer running', async () => {
    const { stdout } = await run('status', 'speak', '--json');
    return JSON.parse(stdout)[0]?.state === 'running';
  });
  const table = await run('status');
  expect(table.code).toBe(0);
  expect(table.stdout.split('\n')[0]).toMatch(
    /^NAME\s+TYPE\s+STATE\s+EVENTS\s+REJECTED\s+BYTES\s+LAST_SUCCESS\s+LAST_ERROR\s+NEXT_RUN\s+CURSOR$/,
  );
  expect(table.stdout).toMatch(/\nspeak\s+sql\s+running\s+0\s+0\s+0\s/);

  expect((await run('pause', 'speak')).stdout.trim()).toBe('speak: paused');
  await eventually('the drainer stopped and its lease handed back', async () => {
    const [s] = JSON.parse((await run('status', 'speak', '--json')).stdout);
    return s.state === 'paused' && s.owner === null;
  });
  expect(JSON.parse((await run('resume', 'speak', '--json')).stdout)).toEqual({
    name: 'speak',
    paused: false,
  });
  await eventually('the drainer running again', async () => {
    const [s] = JSON.parse((await run('status', 'speak', '--json')).stdout);
    return s.state === 'running' && s.owner !== null;
  });

  const missing = await run('status', 'nope');
  expect([missing.code, missing.stderr.trim()]).toEqual([1, "no connector 'nope'"]);
  expect((await run('pause')).code).toBe(2);
});

it('keeps /v1/connectors to admins: a speaker key gets 403, no key 401, and /openapi.json documents the routes', async () => {
  const speaker = (await t.request('POST', '/v1/keys', { name: 's', scope: 'speaker' })).body;
  const asSpeaker = { authorization: `Bearer ${speaker.key}` };
  expect((await t.request('GET', '/v1/connectors', undefined, asSpeaker)).status).toBe(403);
  expect((await t.request('POST', '/v1/connectors/speak/pause', undefined, asSpeaker)).status).toBe(403);
  expect((await t.request('GET', '/v1/connectors', undefined, { authorization: '' })).status).toBe(401);
  const paths = Object.keys((await t.request('GET', '/openapi.json')).body.paths);
  for (const p of [
    '/v1/connectors',
    '/v1/connectors/{name}',
    '/v1/connectors/{name}/status',
    '/v1/connectors/{name}/pause',
  ]) {
    expect(paths).toContain(p);
  }
});
