// SPDX-License-Identifier: MIT
// The sql connector's configuration: either the tmi.speak() outbox (`{"outbox": true}`, the built-in
// `speak` connector) or a table of another PostgreSQL followed by a cursor column. The URL is a secret.
import { redactUrl } from '../../config/index.js';
import { ConnectorConfigError } from '../runtime/errors.js';
import type { TargetRule } from '../runtime/targets.js';
import {
  enumAt,
  intAt,
  type Members,
  objectAt,
  onlyMembers,
  stringAt,
  targetAt,
  urlAt,
} from '../runtime/validate.js';

export const sqlBatchRowsDefault = 500;
export const sqlBatchRowsMax = 10_000;
export const sqlIntervalSecondsMax = 24 * 3600;
export const sqlStatementTimeoutMsDefault = 30_000;
export const sqlStatementTimeoutMsMax = 600_000;
export const outboxBatchRowsDefault = 500;

export interface OutboxConfig {
  readonly outbox: true;
  readonly batchRows: number;
}

export interface TableConfig {
  readonly outbox: false;
  readonly url: string;
  readonly query: string;
  readonly cursor: string;
  readonly cursorType: 'incrementing' | 'timestamp';
  /** The cursor before the first row, as PostgreSQL text ('0', '-infinity', '2026-01-01T00:00:00Z'). */
  readonly cursorStart: string;
  readonly intervalS: number;
  readonly batchRows: number;
  readonly statementTimeoutMs: number;
  readonly target: TargetRule;
  /** The column holding the target key (absent: a fixed target id). */
  readonly targetColumn: string | undefined;
  readonly ts: string | undefined;
}

export type SqlConfig = OutboxConfig | TableConfig;

export function parseSqlConfig(raw: unknown): SqlConfig {
  const c = objectAt(raw, 'config');
  if (c.outbox !== undefined) {
    onlyMembers(c, 'config', ['outbox', 'batch_rows']);
    if (c.outbox !== true)
      throw new ConnectorConfigError('config.outbox', 'must be true (or absent for an external table)');
    return {
      outbox: true,
      batchRows: intAt(c, 'batch_rows', 'config', 1, sqlBatchRowsMax, outboxBatchRowsDefault),
    };
  }
  onlyMembers(c, 'config', [
    'url',
    'query',
    'cursor',
    'cursor_type',
    'cursor_start',
    'interval_s',
    'batch_rows',
    'statement_timeout_ms',
    'target',
    'ts',
  ]);
  const url = parsePgUrl(c);
  const query = stringAt(c, 'query', 'config', { required: true, lengthMax: 20_000 })!;
  if (!/\$1(?!\d)/.test(query) || !/\$2(?!\d)/.test(query)) {
    throw new ConnectorConfigError(
      'config.query',
      'must use $1 (the cursor) and $2 (the batch size), e.g. WHERE id > $1 ORDER BY id LIMIT $2',
    );
  }
  const cursorType = enumAt(
    c,
    'cursor_type',
    'config',
    ['incrementing', 'timestamp'] as const,
    'incrementing',
  );
  const { rule, where } = targetAt(c, 'config', 'column');
  return {
    outbox: false,
    url,
    query,
    cursor: stringAt(c, 'cursor', 'config', { required: true, lengthMax: 63 })!,
    cursorType,
    cursorStart: cursorStartOf(c, cursorType),
    intervalS: intAt(c, 'interval_s', 'config', 1, sqlIntervalSecondsMax, 10),
    batchRows: intAt(c, 'batch_rows', 'config', 1, sqlBatchRowsMax, sqlBatchRowsDefault),
    statementTimeoutMs: intAt(
      c,
      'statement_timeout_ms',
      'config',
      100,
      sqlStatementTimeoutMsMax,
      sqlStatementTimeoutMsDefault,
    ),
    target: rule,
    targetColumn: where,
    ts: stringAt(c, 'ts', 'config', { lengthMax: 63 }),
  };
}

function parsePgUrl(c: Members): string {
  const opts = { lengthMax: 4096, protocols: ['postgres:', 'postgresql:'], expected: 'a postgres:// URL' };
  return urlAt(c, 'url', 'config', opts).text;
}

function cursorStartOf(c: Members, type: TableConfig['cursorType']): string {
  const v = c.cursor_start;
  if (v === undefined || v === null) return type === 'incrementing' ? '0' : '-infinity';
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'string' && v.length > 0 && v.length <= 100) return v;
  throw new ConnectorConfigError(
    'config.cursor_start',
    'must be a number or a string PostgreSQL reads as the cursor column',
  );
}

export function redactSqlConfig(config: Record<string, unknown>): Record<string, unknown> {
  return typeof config.url === 'string' ? { ...config, url: redactUrl(config.url) } : { ...config };
}

export function keepSqlSecrets(
  next: Record<string, unknown>,
  stored: Record<string, unknown>,
): Record<string, unknown> {
  if (typeof next.url === 'string' && typeof stored.url === 'string' && next.url === redactUrl(stored.url)) {
    return { ...next, url: stored.url };
  }
  return next;
}
