// SPDX-License-Identifier: MIT
// Files in an S3-compatible bucket (the embedded SeaweedFS, or TMIDB_S3_URL): streamed uploads that
// hash and count on the way (multipart for large bodies, aborted on any failure so no part is left),
// verification of a presigned upload by reading the object back, presigned URLs, deletion.
import { createHash } from 'node:crypto';
import { PassThrough, type Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

/** Multipart part size: bodies above it go up in parts of this size, 2 in flight (about 16–32 MiB buffered). */
export const filePartBytes = 8 * 1024 * 1024;
export const fileUploadPartsInFlight = 2;

export interface FileStoreOptions {
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

export interface StoredObject {
  readonly size: number;
  readonly sha256: string;
}

/** The body was larger than allowed; nothing is kept. */
export class FileTooLargeError extends Error {
  constructor(readonly bytesMax: number) {
    super(`the file is larger than ${bytesMax} bytes`);
  }
}

/** Counts and hashes what passes; fails past `bytesMax`. */
function meter(bytesMax: number): Transform & { result(): StoredObject } {
  const hash = createHash('sha256');
  let size = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > bytesMax) return done(new FileTooLargeError(bytesMax));
      hash.update(chunk);
      done(null, chunk);
    },
  }) as Transform & { result(): StoredObject };
  t.result = () => ({ size, sha256: hash.digest('hex') });
  return t;
}

export class FileStore {
  readonly bucket: string;
  private readonly s3: S3Client;

  constructor(opts: FileStoreOptions) {
    this.bucket = opts.bucket;
    this.s3 = new S3Client({
      endpoint: opts.endpoint,
      region: opts.region,
      forcePathStyle: true,
      credentials: { accessKeyId: opts.accessKey, secretAccessKey: opts.secretKey },
      // Checksums only where S3 requires them: the SDK's default signs a CRC32 of the (empty) body into
      // presigned PUT URLs, which every real upload through them then fails; sha256 is ours to check.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  async ensureBucket(): Promise<void> {
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch {
      await this.s3.send(new CreateBucketCommand({ Bucket: this.bucket })).catch((err: { name?: string }) => {
        if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
      });
    }
  }

  /** Streams `body` into `key`; on any failure the upload (and its parts) is aborted and this throws. */
  async put(key: string, body: Readable, contentType: string, bytesMax: number): Promise<StoredObject> {
    const m = meter(bytesMax);
    const pass = new PassThrough({ highWaterMark: 1024 * 1024 });
    const feeding = pipeline(body, m, pass);
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: pass, ContentType: contentType },
      partSize: filePartBytes,
      queueSize: fileUploadPartsInFlight,
      leavePartsOnError: false,
    });
    try {
      await Promise.all([upload.done(), feeding]);
    } catch (err) {
      pass.destroy();
      await upload.abort().catch(() => {});
      await this.delete(key).catch(() => {});
      throw err;
    }
    return m.result();
  }

  /** Size and sha256 of a stored object, read back in full; undefined when it does not exist. */
  async measure(key: string, bytesMax: number): Promise<StoredObject | undefined> {
    let res: GetObjectCommandOutput;
    try {
      res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
      throw err;
    }
    const m = meter(bytesMax);
    // The meter counts and hashes; what passes it is dropped.
    await pipeline(res.Body as Readable, m, new Writable({ write: (_c, _e, done) => done() }));
    return m.result();
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch {
      return false;
    }
  }

  presignPut(key: string, contentType: string, ttlS: number): Promise<string> {
    return getSignedUrl(
      this.s3,
      new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: contentType }),
      {
        expiresIn: ttlS,
      },
    );
  }

  presignGet(key: string, name: string, ttlS: number): Promise<string> {
    const disposition = `attachment; filename*=UTF-8''${encodeURIComponent(name)}`;
    return getSignedUrl(
      this.s3,
      new GetObjectCommand({ Bucket: this.bucket, Key: key, ResponseContentDisposition: disposition }),
      { expiresIn: ttlS },
    );
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  /** Multipart uploads still open under `prefix` (a failed upload must leave none). */
  async openUploads(prefix: string): Promise<number> {
    const r = await this.s3.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: prefix }));
    return r.Uploads?.length ?? 0;
  }

  destroy(): void {
    this.s3.destroy();
  }
}
