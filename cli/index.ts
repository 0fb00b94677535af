// SPDX-License-Identifier: MIT

export type { RunInfo } from './run-info.js';
export { endpoints, NotRunningError, readRunInfo } from './run-info.js';
export type { Runtime, RuntimeOptions } from './runtime.js';
export { partitionMaintenanceIntervalMs, startRuntime } from './runtime.js';
export { formatPairs, formatTable } from './table.js';
