// SPDX-License-Identifier: MIT
// Files through a real S3 server (SeaweedFS): a 200 MiB upload streamed with flat memory, an interrupted
// upload that leaves no object, part, row nor event, a presigned upload refused (422) for a wrong sha256
// and accepted for the right one, downloads only for keys that may see the target and its `file` field,
// and deleting a target deleting its files.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestS3, type TestS3 } from '../../support/seaweed.js';
import { eventually, startTestTmidb, type TestTmidb } from '../../support/tmidb.js';

const MiB = 1024 * 1024;
const bucket = 'tmidb-files-test';
let t: TestTmidb;
let s3: TestS3;
let client: S3Client;
let target: string;

beforeAll(async () => {
  s3 = await startTestS3();
  t = await startTestTmidb('files', {
    stages: ['capture'],
    config: { s3Url: s3.url, s3AccessKey: s3.accessKey, s3SecretKey: s3.secretKey, s3Bucket: bucket },
  });
  client = new S3Client({
    endpoint: s3.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey },
  });
  target = (await t.request('POST', '/v1/targets', { name: 'cam-1', kind: 'camera' })).body.target_id;
}, 240_000);

afterAll(async () => {
  client?.destroy();
  await t?.stop();
  await s3?.stop();
});

const auth = () => ({ authorization: `Bearer ${t.adminKey}` });
const objects = async (prefix: string) =>
  (await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }))).KeyCount ?? 0;
const fileEvents = async (targetId: string) =>
  (
    await t.sql<{ n: number }>(
      `SELECT count(*)::int AS n FROM tmi.raw_bucket WHERE target_id = $1 AND payload ? 'file'`,
      [targetId],
    )
  )[0]!.n;

/** `total` bytes in 1 MiB chunks of one random block with a counter, hashed as they are produced. */
function body(total: number, onChunk?: (sent: number) => void) {
  const block = randomBytes(MiB);
  const hash = createHash('sha256');
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= total) return this.push(null);
      const chunk = Buffer.from(block.subarray(0, Math.min(MiB, total - sent)));
      chunk.writeUInt32BE(sent / MiB, 0);
      hash.update(chunk);
      sent += chunk.length;
      onChunk?.(sent);
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

async function put(name: string, stream: Readable, signal?: AbortSignal): Promise<Response> {
  return fetch(`${t.url}/v1/targets/${target}/files/${name}`, {
    method: 'PUT',
    headers: { ...auth(), 'content-type': 'application/octet-stream' },
    body: Readable.toWeb(stream) as ReadableStream,
    duplex: 'half',
    signal,
  } as RequestInit);
}

/** Resets this process's peak RSS (Linux: clear_refs 5), so VmHWM then measures one operation. */
function resetPeakRss(): void {
  writeFileSync('/proc/self/clear_refs', '5');
}
const peakRssMiB = () =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
const currentRssMiB = () => process.memoryUsage().rss / MiB;

/**
 * PUTs `total` bytes from a child process (so the sending side's memory is not this process's): 1 MiB
 * chunks of one random block with a counter, hashed as they go. Answers the status, body and sha256.
 */
function putFromChild(name: string, total: number): Promise<{ status: number; body: any; sha256: string }> {
  const script = `
    import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
    import { Readable } from 'node:stream';
    const MiB = 1024 * 1024, total = Number(process.env.SIZE), block = randomBytes(MiB);
    const hash = createHash('sha256');
    let sent = 0;
    const stream = new Readable({ read() {
      if (sent >= total) return this.push(null);
      const chunk = Buffer.from(block.subarray(0, Math.min(MiB, total - sent)));
      chunk.writeUInt32BE(sent / MiB, 0); hash.update(chunk); sent += chunk.length; this.push(chunk);
    } });
    const res = await fetch(process.env.URL, { method: 'PUT', duplex: 'half', body: Readable.toWeb(stream),
      headers: { authorization: 'Bearer ' + process.env.KEY, 'content-type': 'application/octet-stream' } });
    console.log(JSON.stringify({ status: res.status, body: await res.json(), sha256: hash.digest('hex') }));`;
  const env = { ...process.env, URL: `${t.url}/v1/targets/${target}/files/${name}`, KEY: t.adminKey };
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      { env: { ...env, SIZE: String(total) }, maxBuffer: MiB },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    );
  });
}

it('a 200 MiB upload is streamed (peak RSS stays flat), hashed on the way, and written as one file event', async () => {
  const size = 200 * MiB;
  const before = currentRssMiB();
  resetPeakRss();
  const { status, body: info, sha256 } = await putFromChild('big.bin', size);
  // The server's peak resident memory over the whole upload, against what it held just before.
  const growthMiB = peakRssMiB() - before;
  expect(status, JSON.stringify(info)).toBe(201);
  expect(info).toMatchObject({ name: 'big.bin', size, sha256, content_type: 'application/octet-stream' });
  // Buffered, the body alone would add 200 MiB; streamed, parts of 8 MiB (2 in flight) bound it.
  console.info(`200 MiB upload: the server's peak RSS rose ${growthMiB.toFixed(1)} MiB`);
  expect(growthMiB).toBeLessThan(150); // seen 67–100 MiB, the higher under a full parallel test run
  await eventually('the file event captured', async () => (await fileEvents(target)) === 1);
  const [ev] = await t.sql<{ event_id: string; payload: any }>(
    `SELECT event_id, payload FROM tmi.raw_bucket WHERE target_id = $1 AND payload ? 'file'`,
    [target],
  );
  expect(ev!.event_id).toBe(info.event_id);
  expect(ev!.payload.file).toEqual({
    file_id: info.file_id,
    name: 'big.bin',
    size,
    sha256: info.sha256,
    content_type: 'application/octet-stream',
  });
}, 600_000);

it('an upload interrupted mid-body leaves no object, no part, no row and no event', async () => {
  const other = (await t.request('POST', '/v1/targets', { name: 'cam-2', kind: 'camera' })).body.target_id;
  const prefix = `targets/${other}/`;
  const controller = new AbortController();
  const uploadsOpen = async () => {
    const { ListMultipartUploadsCommand } = await import('@aws-sdk/client-s3');
    return (
      (await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }))).Uploads
        ?.length ?? 0
    );
  };
  const b = body(100 * MiB);
  const saved = target;
  target = other;
  const res = put('cut.bin', b.stream, controller.signal).catch((err: Error) => err);
  target = saved;
  // Abort once the server has opened the multipart upload (parts are on their way).
  await eventually('a multipart upload in progress', async () => (await uploadsOpen()) > 0, 120_000);
  controller.abort();
  expect(await res).toBeInstanceOf(Error);
  await eventually('the multipart upload aborted', async () => (await uploadsOpen()) === 0, 60_000);
  expect(await objects(prefix)).toBe(0);
  expect((await t.sql('SELECT 1 FROM tmi.file WHERE target_id = $1', [other])).length).toBe(0);
  expect(await fileEvents(other)).toBe(0);
}, 300_000);

it('a presigned upload with a wrong sha256 → 422 and nothing recorded; with the right one → 201 and one event', async () => {
  const data = randomBytes(300_000);
  const sha256 = createHash('sha256').update(data).digest('hex');
  const upload = async () => {
    const r = await t.request('POST', `/v1/targets/${target}/files`, {
      name: 'note.txt',
      content_type: 'text/plain',
    });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const putRes = await fetch(r.body.upload_url, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: data,
    });
    expect(putRes.status, await putRes.clone().text()).toBe(200);
    return r.body.file_id as string;
  };
  const before = await fileEvents(target);
  const bad = await upload();
  const wrong = await t.request('POST', `/v1/files/${bad}/complete`, {
    size: data.length,
    sha256: '0'.repeat(64),
  });
  expect(wrong.status).toBe(422);
  expect(wrong.body.code).toBe('FILE_MISMATCH');
  expect(await objects(`targets/${target}/${bad}`)).toBe(0);
  expect((await t.sql('SELECT 1 FROM tmi.file WHERE file_id = $1', [bad])).length).toBe(0);
  expect((await t.request('POST', `/v1/files/${bad}/complete`, { size: data.length, sha256 })).status).toBe(
    404,
  );

  const good = await upload();
  const ok = await t.request('POST', `/v1/files/${good}/complete`, { size: data.length, sha256 });
  expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  expect(ok.body).toMatchObject({ file_id: good, size: data.length, sha256, content_type: 'text/plain' });
  await eventually('one more file event', async () => (await fileEvents(target)) === before + 1);
});

it('a listener downloads a file it may see; a key without the target or the `file` field gets the same 404', async () => {
  const data = randomBytes(64 * 1024);
  const b = Readable.from([data]);
  const res = await put('frame.jpg', b);
  const info = await res.json();
  expect(res.status).toBe(201);
  await t.request('POST', '/v1/listeners', {
    name: 'viewer',
    subscriptions: [{ target_id: target, fields: ['file'] }],
  });
  await t.request('POST', '/v1/listeners', {
    name: 'temps',
    subscriptions: [{ target_id: target, fields: ['temp'] }],
  });
  const key = async (listener: string) =>
    (await t.request('POST', '/v1/keys', { name: `k-${listener}`, scope: 'listener', listener })).body
      .key as string;
  const [viewer, temps] = [await key('viewer'), await key('temps')];
  const get = (id: string, k: string) =>
    fetch(`${t.url}/v1/files/${id}`, { headers: { authorization: `Bearer ${k}` }, redirect: 'manual' });

  const allowed = await get(info.file_id, viewer);
  expect(allowed.status).toBe(302);
  const download = await fetch(allowed.headers.get('location')!);
  expect(Buffer.from(await download.arrayBuffer()).equals(data)).toBe(true);

  const denied = await get(info.file_id, temps);
  const unknown = await get('0190a0b0-0000-7000-8000-000000000000', temps);
  expect([denied.status, unknown.status]).toEqual([404, 404]);
  const [d, u] = [await denied.json(), await unknown.json()];
  expect(d.code).toBe('FILE_NOT_FOUND');
  expect({ ...d, detail: undefined, instance: undefined }).toEqual({
    ...u,
    detail: undefined,
    instance: undefined,
  });
});

it('a PUT without a body stores an empty file', async () => {
  const res = await fetch(`${t.url}/v1/targets/${target}/files/empty.txt`, {
    method: 'PUT',
    headers: auth(),
  });
  const info = await res.json();
  expect(res.status, JSON.stringify(info)).toBe(201);
  expect(info).toMatchObject({ size: 0, sha256: createHash('sha256').digest('hex') });
});

it('deleting a file, and deleting a target, removes the objects and rows', async () => {
  const one = await (await put('a.bin', Readable.from([randomBytes(1000)]))).json();
  expect((await t.request('DELETE', `/v1/files/${one.file_id}`)).status).toBe(204);
  expect(await objects(`targets/${target}/${one.file_id}`)).toBe(0);
  expect((await t.request('DELETE', `/v1/files/${one.file_id}`)).status).toBe(404);
  expect(await objects(`targets/${target}/`)).toBeGreaterThan(0);
  expect((await t.request('DELETE', `/v1/targets/${target}`)).status).toBe(204);
  expect(await objects(`targets/${target}/`)).toBe(0);
  expect((await t.sql('SELECT 1 FROM tmi.file WHERE target_id = $1', [target])).length).toBe(0);
});

it('a body over TMIDB_FILE_BYTES_MAX → 413 FILE_TOO_LARGE, and nothing is kept (no object, part, row)', async () => {
  const small = await startTestTmidb('files_small', {
    stages: [],
    config: {
      s3Url: s3.url,
      s3AccessKey: s3.accessKey,
      s3SecretKey: s3.secretKey,
      s3Bucket: bucket,
      fileBytesMax: MiB,
    },
  });
  try {
    const id = (await small.request('POST', '/v1/targets', { name: 'cam-9', kind: 'camera' })).body.target_id;
    const send = (stream: Readable, length?: number) =>
      fetch(`${small.url}/v1/targets/${id}/files/big.bin`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${small.adminKey}`,
          'content-type': 'application/octet-stream',
          ...(length === undefined ? {} : { 'content-length': String(length) }),
        },
        body: Readable.toWeb(stream) as ReadableStream,
        duplex: 'half',
      } as RequestInit);
    // Streamed without a length: refused once the count passes the limit.
    const streamed = await send(body(3 * MiB).stream);
    expect(streamed.status).toBe(413);
    expect((await streamed.json()).code).toBe('FILE_TOO_LARGE');
    // One exactly at the limit is taken.
    const exact = await send(body(MiB).stream);
    expect(exact.status).toBe(201);
    await exact.body?.cancel();
    const prefix = `targets/${id}/`;
    const { ListMultipartUploadsCommand } = await import('@aws-sdk/client-s3');
    const open = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
    expect(open.Uploads ?? []).toEqual([]);
    expect(await objects(prefix)).toBe(1);
    expect((await small.sql('SELECT name FROM tmi.file WHERE target_id = $1', [id])).length).toBe(1);
  } finally {
    await small.stop();
  }
});
