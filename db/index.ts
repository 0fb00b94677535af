// SPDX-License-Identifier: MIT
export type { SqlStateFault } from './errors.js';
export {
  classifyDatabaseError,
  DatabaseError,
  isConnectionLost,
  isRetryableSqlState,
  isUniqueViolation,
  markConnectionLost,
  sqlStateFault,
  sqlStateOf,
} from './errors.js';
export type { Migration, MigrationReport } from './migrate.js';
export { listMigrations, migrate, migrationsDir } from './migrate.js';
export { partitioningMode, runPartitionMaintenance } from './partitions.js';
export type { Pool, PoolClient } from './pool.js';
export { applicationName, createPool, withTransaction } from './pool.js';
