// SPDX-License-Identifier: MIT
// Files as speakers' events (the seed's §11): the object goes to the bucket, one event on the target
// carries only its metadata `{file: {file_id, name, size, sha256, content_type}}`. A file is recorded
// (row + event) only once its object is complete and verified; any failure before removes the object,
// so nothing half-written is left behind.
import type { Readable } from 'node:stream';
import type { Pool } from '../../db/index.js';
import { RequestRejectedError } from '../../errors/index.js';
import { uuidFromName, uuidv7 } from '../../schemas/index.js';
import { type AcceptContext, accept } from '../accept.js';
import { type FileStore, FileTooLargeError } from './store.js';

export interface FileInfo {
  readonly file_id: string;
  readonly target_id: string;
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly content_type: string;
  readonly event_id: string;
}

interface FileRow {
  file_id: string;
  target_id: string;
  name: string;
  object_key: string;
  content_type: string;
  state: 'pending' | 'complete';
  size: string | null;
  sha256: string | null;
  event_id: string | null;
}

export interface FileServiceOptions {
  readonly bytesMax: number;
  readonly presignTtlS: number;
}

const objectKey = (targetId: string, fileId: string) => `targets/${targetId}/${fileId}`;

export class FileService {
  constructor(
    readonly store: FileStore,
    private readonly pool: Pool,
    readonly opts: FileServiceOptions,
  ) {}

  /** Streams a body into the bucket, then records the file and writes its event. */
  async upload(
    ctx: AcceptContext,
    speaker: string,
    targetId: string,
    name: string,
    contentType: string,
    body: Readable,
  ): Promise<FileInfo> {
    const fileId = uuidv7();
    const key = objectKey(targetId, fileId);
    let stored: { size: number; sha256: string };
    try {
      stored = await this.store.put(key, body, contentType, this.opts.bytesMax);
    } catch (err) {
      if (err instanceof FileTooLargeError) throw new RequestRejectedError('FILE_TOO_LARGE', err.message);
      throw err;
    }
    return this.record(ctx, speaker, { fileId, targetId, name, contentType, key, ...stored });
  }

  /** Starts a direct upload: a pending row and a presigned PUT URL. */
  async presign(targetId: string, name: string, contentType: string) {
    const fileId = uuidv7();
    const key = objectKey(targetId, fileId);
    const ttl = this.opts.presignTtlS;
    await this.pool.query(
      `INSERT INTO tmi.file (file_id, target_id, name, object_key, content_type, state, expires_at)
       VALUES ($1, $2, $3, $4, $5, 'pending', now() + make_interval(secs => $6))`,
      [fileId, targetId, name, key, contentType, ttl],
    );
    const url = await this.store.presignPut(key, contentType, ttl);
    return { file_id: fileId, upload_url: url, method: 'PUT', content_type: contentType, expires_in_s: ttl };
  }

  /** Verifies a direct upload (size, sha256) and records it; a mismatch removes it and records nothing. */
  async complete(
    ctx: AcceptContext,
    speaker: string,
    fileId: string,
    expected: { size: number; sha256: string },
    mayWrite: (targetId: string) => Promise<boolean>,
  ): Promise<FileInfo> {
    const row = await this.row(fileId);
    if (row?.state !== 'pending' || !(await mayWrite(row.target_id))) {
      throw new RequestRejectedError('FILE_NOT_FOUND', `no pending upload ${fileId}`);
    }
    const got = await this.store.measure(row.object_key, this.opts.bytesMax).catch((err) => {
      if (err instanceof FileTooLargeError) return { size: Number.POSITIVE_INFINITY, sha256: '' };
      throw err;
    });
    if (!got || got.size !== expected.size || got.sha256 !== expected.sha256.toLowerCase()) {
      await this.store.delete(row.object_key).catch(() => {});
      await this.pool.query('DELETE FROM tmi.file WHERE file_id = $1', [fileId]);
      const what = !got
        ? 'no object was uploaded'
        : `the object has size ${got.size} and sha256 ${got.sha256}`;
      throw new RequestRejectedError(
        'FILE_MISMATCH',
        `${what}; expected size ${expected.size} and sha256 ${expected.sha256}`,
      );
    }
    return this.record(ctx, speaker, {
      fileId,
      targetId: row.target_id,
      name: row.name,
      contentType: row.content_type,
      key: row.object_key,
      ...got,
    });
  }

  private async record(
    ctx: AcceptContext,
    speaker: string,
    f: {
      fileId: string;
      targetId: string;
      name: string;
      contentType: string;
      key: string;
      size: number;
      sha256: string;
    },
  ): Promise<FileInfo> {
    const eventId = uuidFromName(`file\0${f.fileId}`);
    const info: FileInfo = {
      file_id: f.fileId,
      target_id: f.targetId,
      name: f.name,
      size: f.size,
      sha256: f.sha256,
      content_type: f.contentType,
      event_id: eventId,
    };
    try {
      await this.pool.query(
        `INSERT INTO tmi.file (file_id, target_id, name, object_key, content_type, state, size, sha256, event_id)
         VALUES ($1, $2, $3, $4, $5, 'complete', $6, $7, $8)
         ON CONFLICT (file_id) DO UPDATE SET state = 'complete', size = $6, sha256 = $7, event_id = $8, expires_at = NULL`,
        [f.fileId, f.targetId, f.name, f.key, f.contentType, f.size, f.sha256, eventId],
      );
      const file = {
        file_id: f.fileId,
        name: f.name,
        size: f.size,
        sha256: f.sha256,
        content_type: f.contentType,
      };
      await accept(ctx, [{ target_id: f.targetId, event_id: eventId, data: { file } }], {
        speaker,
        transport: 'files',
        attrs: { source: 'files' },
      });
    } catch (err) {
      // Not recorded: nothing may stay behind (the event was not acknowledged either).
      await this.pool.query('DELETE FROM tmi.file WHERE file_id = $1', [f.fileId]).catch(() => {});
      await this.store.delete(f.key).catch(() => {});
      throw err;
    }
    return info;
  }

  async get(fileId: string): Promise<(FileInfo & { object_key: string }) | undefined> {
    const r = await this.row(fileId);
    if (r?.state !== 'complete') return undefined;
    return {
      file_id: r.file_id,
      target_id: r.target_id,
      name: r.name,
      size: Number(r.size),
      sha256: r.sha256!,
      content_type: r.content_type,
      event_id: r.event_id!,
      object_key: r.object_key,
    };
  }

  downloadUrl(f: { object_key: string; name: string }): Promise<string> {
    return this.store.presignGet(f.object_key, f.name, this.opts.presignTtlS);
  }

  /** Removes a file's object and row; false when there is none. */
  async remove(fileId: string): Promise<boolean> {
    const r = await this.row(fileId);
    if (!r) return false;
    await this.store.delete(r.object_key);
    await this.pool.query('DELETE FROM tmi.file WHERE file_id = $1', [fileId]);
    return true;
  }

  /** Removes every object of a target (its rows go with the target). */
  async removeTarget(targetId: string): Promise<number> {
    const { rows } = await this.pool.query<{ object_key: string }>(
      'SELECT object_key FROM tmi.file WHERE target_id = $1',
      [targetId],
    );
    for (const r of rows) await this.store.delete(r.object_key);
    await this.pool.query('DELETE FROM tmi.file WHERE target_id = $1', [targetId]);
    return rows.length;
  }

  private async row(fileId: string): Promise<FileRow | undefined> {
    const { rows } = await this.pool.query<FileRow>(
      `SELECT file_id, target_id, name, object_key, content_type, state, size::text, sha256, event_id
       FROM tmi.file WHERE file_id = $1`,
      [fileId],
    );
    return rows[0];
  }
}
