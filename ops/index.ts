// SPDX-License-Identifier: MIT

export type { NatsServerBinary, PostgresBinaries } from './binaries.js';
export {
  compareVersions,
  findNatsServer,
  findPostgresBinaries,
  natsServerVersionMin,
  postgresMajorVersionMin,
} from './binaries.js';
export { LaunchError, MissingBinaryError } from './errors.js';
export type { LocalPaths, LocalServers, LocalServersConfig, StartLocalServersOptions } from './local.js';
export { localPaths, startLocalServers } from './local.js';
export type { HomeLock } from './lock.js';
export { AlreadyRunningError, acquireHomeLock, homeLockFileName, readHomeLock } from './lock.js';
export type { LocalNats, LocalNatsOptions } from './nats.js';
export { natsConfigText, natsServerName, startLocalNats } from './nats.js';
export type { LocalPostgres, LocalPostgresOptions } from './postgres.js';
export {
  dropDatabase,
  ensureDatabase,
  postgresClusterName,
  postgresDefaultSettings,
  postgresUrl,
  quoteIdent,
  readPasswordFile,
  startLocalPostgres,
} from './postgres.js';
export { freePort, freePorts, isPidAlive, isPortFree } from './process.js';
export { ensureReaderLogin, readerRole } from './reader.js';
