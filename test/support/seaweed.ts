// SPDX-License-Identifier: MIT
// A real SeaweedFS S3 gateway for the test files that need one: the `weed` setup built, started per
// file in a temporary directory on free loopback ports, with generated credentials.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type LocalSeaweed, startLocalSeaweed } from '../../ops/seaweed.js';

export interface TestS3 {
  readonly url: string;
  readonly accessKey: string;
  readonly secretKey: string;
  stop(): Promise<void>;
}

export async function startTestS3(): Promise<TestS3> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tmidb-s3-'));
  let server: LocalSeaweed;
  try {
    server = await startLocalSeaweed({ dataDir: dir, readyTimeoutMs: 120_000 });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: server.s3Url,
    ...server.credentials,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
