// SPDX-License-Identifier: MIT
// A real Kafka broker (KRaft, one node) for the test files that need one: started per file from the
// jars `npm run setup` resolved, in a temporary directory, on a free loopback port. Tests that use it
// call it in beforeAll (Kafka takes 20–60 s to start on a loaded two-core machine).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { type LocalKafka, startLocalKafka } from '../../ops/kafka.js';

export interface TestKafka {
  readonly broker: string;
  readonly client: Kafka;
  stop(): Promise<void>;
}

export async function startTestKafka(): Promise<TestKafka> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tmidb-kafka-'));
  let server: LocalKafka;
  try {
    server = await startLocalKafka({ dataDir: dir, readyTimeoutMs: 180_000 });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const client = new Kafka({ clientId: 'tmidb-test', brokers: [server.broker], logLevel: logLevel.NOTHING });
  return {
    broker: server.broker,
    client,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
