// SPDX-License-Identifier: MIT
// The sql connector (`type: "sql"`): the tmi.speak() outbox, or a table of another PostgreSQL.
import type { ConnectorKind } from '../runtime/types.js';
import { keepSqlSecrets, parseSqlConfig, redactSqlConfig, type SqlConfig } from './config.js';
import { OutboxSource } from './outbox.js';
import { TableSource } from './table.js';

export const sqlKind: ConnectorKind<SqlConfig> = {
  type: 'sql',
  parse: parseSqlConfig,
  redact: redactSqlConfig,
  keepSecrets: keepSqlSecrets,
  create: (record, config, deps) =>
    config.outbox ? new OutboxSource(config, deps) : new TableSource(record, config, deps),
};

export { pruneRejectedSpeaks, speakChannel } from './outbox.js';
export { pgTimestampToIso } from './table.js';
