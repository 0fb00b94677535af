// SPDX-License-Identifier: MIT

export type { Config } from './config.js';
export {
  ConfigError,
  configFields,
  configMarkdown,
  loadConfig,
  redactedConfig,
  redactUrl,
} from './config.js';
export { packageRoot } from './paths.js';
export { VERSION } from './version.js';
