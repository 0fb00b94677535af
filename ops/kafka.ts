// SPDX-License-Identifier: MIT
// A local Apache Kafka broker: KRaft, one node that is both broker and controller, on loopback, its log
// under a data directory. It runs from the jars `npm run setup` resolved from Maven Central (kafka_2.13
// and its runtime dependencies) with the Java on PATH. Tests start one per run; `tmictl up` does not
// (Kafka is a source or a sink the user points at, not a store of tmiDB's).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startDaemon } from './daemon.js';
import { MissingBinaryError } from './errors.js';
import { freePorts, runCommand } from './process.js';

export const kafkaVersion = '4.1.1';
const readyTimeoutMsDefault = 120_000;
const formatTimeoutMs = 120_000;
const heapMb = 512;

export interface LocalKafkaOptions {
  readonly dataDir: string;
  /** Broker port on 127.0.0.1 (default: a free one). */
  readonly port?: number;
  /** Directory of Kafka's jars (default: see kafkaLibsDir). */
  readonly libsDir?: string;
  readonly readyTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface LocalKafka {
  /** `127.0.0.1:<port>` */
  readonly broker: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** tmiDB's cache of downloaded and built servers: TMIDB_CACHE_DIR, else ~/.cache/tmidb. */
export function tmidbCacheDir(): string {
  return (
    process.env.TMIDB_CACHE_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'tmidb')
  );
}

/** Where setup put Kafka's jars: TMIDB_KAFKA_LIBS_DIR, else <cache>/kafka-<version>/libs. */
export function kafkaLibsDir(dir?: string): string {
  const d =
    dir ?? process.env.TMIDB_KAFKA_LIBS_DIR ?? path.join(tmidbCacheDir(), `kafka-${kafkaVersion}`, 'libs');
  if (
    !existsSync(path.join(d, `kafka_2.13-${kafkaVersion}.jar`)) &&
    !existsSync(path.join(d, 'kafka-server-' + kafkaVersion + '.jar'))
  ) {
    throw new MissingBinaryError(`Kafka ${kafkaVersion} jars not found in ${d}: run \`npm run setup\``);
  }
  return d;
}

export function kafkaServerProperties(o: { port: number; controllerPort: number; logDir: string }): string {
  return [
    '# Written by tmiDB at every start; do not edit.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${o.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${o.port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${o.logDir}`,
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=3',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    'num.partitions=1',
    '',
  ].join('\n');
}

/**
 * A KRaft cluster id: 16 random bytes, base64url without padding (what kafka-storage random-uuid prints),
 * never starting with '-' (the storage tool would read it as an option; Kafka's own ids avoid it too).
 */
export function kafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/** Formats the log directory once (KRaft needs it), then starts the broker and waits for it to answer. */
export async function startLocalKafka(opts: LocalKafkaOptions): Promise<LocalKafka> {
  const libs = kafkaLibsDir(opts.libsDir);
  const dataDir = path.resolve(opts.dataDir);
  const logDir = path.join(dataDir, 'log');
  mkdirSync(logDir, { recursive: true });
  const given = opts.port === undefined ? [] : [opts.port];
  const found = await freePorts(2 - given.length, '127.0.0.1', given);
  const [controllerPort, port] = [found[0] as number, opts.port ?? (found[1] as number)];
  const props = path.join(dataDir, 'server.properties');
  writeFileSync(props, kafkaServerProperties({ port, controllerPort, logDir }));
  const classpath = `${libs}/*`;
  const jvm = [`-Xmx${heapMb}m`, '-XX:+UseG1GC', '-Djava.awt.headless=true', '-cp', classpath];
  if (!existsSync(path.join(logDir, 'meta.properties'))) {
    const r = await runCommand(
      'java',
      [...jvm, 'kafka.tools.StorageTool', 'format', '-t', kafkaClusterId(), '-c', props],
      {
        timeoutMs: formatTimeoutMs,
      },
    );
    if (r.code !== 0) throw new MissingBinaryError(`kafka storage format failed: ${r.stderr || r.stdout}`);
  }
  const broker = `127.0.0.1:${port}`;
  const admin = new Kafka({
    clientId: 'tmidb-launcher',
    brokers: [broker],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).admin();
  const daemon = await startDaemon({
    name: 'kafka',
    command: 'java',
    args: [...jvm, 'kafka.Kafka', props],
    logFile: path.join(dataDir, 'kafka.log'),
    pidFile: path.join(dataDir, 'kafka.pid'),
    orphanMarker: props,
    readyTimeoutMs: opts.readyTimeoutMs ?? readyTimeoutMsDefault,
    log: opts.log,
    ready: async () => {
      try {
        await admin.connect();
        const c = await admin.describeCluster();
        return c.brokers.length > 0;
      } finally {
        await admin.disconnect().catch(() => {});
      }
    },
  });
  return { broker, pid: daemon.pid, stop: daemon.stop };
}
