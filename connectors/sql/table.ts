// SPDX-License-Identifier: MIT
// Following a table of another PostgreSQL (what Kafka Connect's JDBC source does): run the configured
// query with ($1 = the cursor, $2 = batch_rows) in a read-only transaction, turn each row into an event
// whose id derives from its cursor value, emit, and save the last row's cursor after the PubAck. A full
// batch runs again at once; a short one waits interval_s.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { uuidFromName } from '../../schemas/index.js';
import { SourceError } from '../runtime/errors.js';
import { keyText, resolveTargets } from '../runtime/targets.js';
import type {
  ConnectorRecord,
  ConnectorSession,
  PullSource,
  RejectedItem,
  SourceDeps,
  SourceEvent,
  TickResult,
} from '../runtime/types.js';
import type { TableConfig } from './config.js';

export const externalConnectMs = 10_000;

/** The external source's values as the cursor needs them: timestamps and big integers kept as text. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 1114 || oid === 1184 || oid === 1082) return (v: string) => v;
    if (oid === 20) return (v: string) => (Number.isSafeInteger(Number(v)) ? Number(v) : v);
    if (oid === 1700) return (v: string) => (Number.isFinite(Number(v)) ? Number(v) : v);
    return pg.types.getTypeParser(oid, format);
  },
} as unknown as pg.CustomTypesConfig;

/** PostgreSQL's timestamp text (`2026-11-25 13:00:00.123456+00`, zone UTC) → ISO-8601. */
export function pgTimestampToIso(text: string): string {
  const m = /^(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d(?::?\d\d)?)?$/.exec(text);
  if (!m) return text;
  const zone = m[3] === undefined ? 'Z' : m[3].length === 3 ? `${m[3]}:00` : m[3];
  return `${m[1]}T${m[2]}${zone === '+00:00' ? 'Z' : zone}`;
}

export class TableSource implements PullSource {
  readonly style = 'pull';
  private client: pg.Client | undefined;

  constructor(
    private readonly record: ConnectorRecord,
    private readonly config: TableConfig,
    private readonly deps: SourceDeps,
  ) {}

  async tick(session: ConnectorSession): Promise<TickResult> {
    const startedAt = this.deps.now();
    const prior = session.cursor() as { value: string | number } | undefined;
    const rows = await this.read(prior?.value ?? this.config.cursorStart);
    if (rows.length === 0) return { nextRunAt: startedAt + this.config.intervalS * 1000 };
    const last = rows.at(-1)![this.config.cursor];
    if (last === null || last === undefined) {
      throw new SourceError(
        'CURSOR_NULL',
        `a row's cursor column '${this.config.cursor}' is missing or NULL`,
        false,
      );
    }
    const rejected: RejectedItem[] = [];
    const events = await this.toEvents(session, rows, rejected);
    const bytes = rows.reduce((n, r) => n + JSON.stringify(r).length, 0);
    await session.emit(events, { cursor: { value: last }, bytesRead: bytes, rejected });
    const more = rows.length >= this.config.batchRows;
    return { nextRunAt: more ? this.deps.now() : startedAt + this.config.intervalS * 1000 };
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    await c?.end().catch(() => {});
  }

  private async read(cursor: string | number): Promise<Record<string, unknown>[]> {
    const client = await this.connect();
    try {
      await client.query('BEGIN READ ONLY');
      const { rows } = await client.query(this.config.query, [cursor, this.config.batchRows]);
      await client.query('COMMIT');
      return rows;
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  private async connect(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client({
      connectionString: this.config.url,
      application_name: 'tmiDB-connector',
      connectionTimeoutMillis: externalConnectMs,
      statement_timeout: this.config.statementTimeoutMs,
      options: '-c TimeZone=UTC -c DateStyle=ISO',
      types,
    });
    client.on('error', () => {
      if (this.client === client) this.client = undefined;
    });
    await client.connect();
    this.client = client;
    return client;
  }

  private async toEvents(
    session: ConnectorSession,
    rows: readonly Record<string, unknown>[],
    rejected: RejectedItem[],
  ): Promise<SourceEvent[]> {
    const { target, targetColumn, ts, cursor } = this.config;
    const keyOf = (row: Record<string, unknown>) =>
      'id' in target ? target.id : keyText(row[targetColumn!]);
    const keys = rows.flatMap((r) => keyOf(r) ?? []);
    const targets = await resolveTargets(session.pool, this.record.connector_id, target, keys);
    if (targets.created > 0) await this.deps.targetsChanged();
    const events: SourceEvent[] = [];
    for (const row of rows) {
      const origin = `row ${cursor}=${String(row[cursor])}`;
      const key = keyOf(row);
      const targetId = key === undefined ? undefined : targets.ids.get(key);
      if (targetId === undefined) {
        const miss = key === undefined ? undefined : targets.misses.get(key);
        rejected.push({
          origin,
          code: miss?.code ?? 'TARGET_KEY_MISSING',
          reason: miss?.reason ?? `no target key in column ${targetColumn}`,
          item: row,
        });
        continue;
      }
      const data: Record<string, unknown> = {};
      for (const [column, value] of Object.entries(row)) {
        if (column === targetColumn || column === ts || value === null) continue;
        data[column] = typeof value === 'string' ? pgTimestampToIso(value) : value;
      }
      const tsValue = ts === undefined ? undefined : row[ts];
      events.push({
        eventId: this.eventIdOf(row),
        targetId,
        ...(typeof tsValue === 'string' ? { ts: pgTimestampToIso(tsValue) } : {}),
        data,
        origin,
      });
    }
    return events;
  }

  /**
   * The row's source position: its cursor value — plus, for a timestamp cursor (not unique), a hash of
   * the row, so rows sharing a timestamp stay apart and a re-read (`>=` queries) repeats the same ids.
   */
  private eventIdOf(row: Record<string, unknown>): string {
    const position = String(row[this.config.cursor]);
    const extra =
      this.config.cursorType === 'timestamp'
        ? `\0${createHash('sha256').update(JSON.stringify(row)).digest('hex')}`
        : '';
    return uuidFromName(`sql\0${this.record.connector_id}\0${position}${extra}`);
  }
}
