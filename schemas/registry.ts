// SPDX-License-Identifier: MIT
// The schema registry: payload schemas inferred per subject (a target kind, or `<kind>#norm`) and
// versioned in tmi.model_versions. The hot path — data whose shape the latest version already covers —
// is answered from memory; only a new shape takes a transaction, serialized per subject by a row lock.
import type { QueryResultRow } from 'pg';
import { classifyDatabaseError, type Pool, type PoolClient, withTransaction } from '../db/index.js';
import { avroType, fingerprintOfType } from './codec.js';
import { incompatibility, isTransitive } from './compatibility.js';
import { InvalidDataError, SchemaConflictError, SchemaNotFoundError } from './errors.js';
import { fitsSchema, type InferLimits, inferSchema } from './infer.js';
import { mergeMany, mergeSchemas } from './merge.js';
import type { AvroRecordSchema, Compatibility, RegisteredSchema, SubjectSummary } from './types.js';

interface SubjectState {
  readonly compatibility: Compatibility;
  readonly latest: RegisteredSchema | undefined;
  /** When this state was last read from the database (the registry's clock, ms). */
  readonly checkedAt: number;
}

/**
 * A write that conflicts with the cached latest version is rechecked against the database (another
 * process may have changed the compatibility mode) unless the cache was read this recently.
 */
export const conflictRecheckMs = 1_000;

interface VersionRow {
  schema_id: number;
  subject: string;
  version: number;
  schema: AvroRecordSchema;
  fingerprint: string;
  created_at: Date | string;
}

type LatestRow = { compatibility: Compatibility } & {
  [K in keyof VersionRow]: VersionRow[K] | null;
};

const versionColumns = 'schema_id, subject, version, schema, fingerprint, created_at';

/** The outcome of `prepare`: what `commit` registers, unless an existing version already covers it. */
export interface PreparedSchema {
  readonly subject: string;
  readonly incoming: AvroRecordSchema;
  readonly covering: RegisteredSchema | undefined;
}

export class SchemaRegistry {
  /** Every version ever seen, by schema_id: versions are immutable, so this never goes stale. */
  private readonly byIdCache = new Map<number, RegisteredSchema>();
  /** Compatibility and latest version per subject, as last read; refreshed when a newer one shows up. */
  private readonly subjects = new Map<string, SubjectState>();
  private readonly loadingIds = new Map<number, Promise<RegisteredSchema>>();
  private readonly loadingSubjects = new Map<string, Promise<SubjectState>>();
  /** Registrations in this process, chained per subject (the row lock serializes across processes). */
  private readonly registering = new Map<string, Promise<unknown>>();

  /** `nowMs`: the clock that ages the cached subject states (tests pass their own). */
  constructor(
    private readonly pool: Pool,
    readonly limits: InferLimits,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /**
   * The schema to encode every one of `datas` with: the latest version of `subject` when it covers
   * them all (no database round trip), else a new version registered now. Bad data throws
   * InvalidDataError (with the item's `index` when there are several) and a type change the subject's
   * compatibility forbids throws SchemaConflictError; either way nothing is written.
   */
  async ensure(
    subject: string,
    datas: readonly Readonly<Record<string, unknown>>[],
  ): Promise<RegisteredSchema> {
    return this.commit(await this.prepare(subject, datas));
  }

  /**
   * Infers and merges in memory, registering nothing: throws what `ensure` would throw. A write that
   * touches several subjects prepares them all before committing any, so a conflict in one registers
   * nothing in the others. `indexOf` maps a position in `datas` to the position reported in errors.
   */
  async prepare(
    subject: string,
    datas: readonly Readonly<Record<string, unknown>>[],
    indexOf: (i: number) => number = (i) => i,
  ): Promise<PreparedSchema> {
    // Fast path: data of a shape the latest version already covers (what a speaker sends again and again).
    const cached = this.subjects.get(subject)?.latest;
    if (cached !== undefined && datas.every((data) => fitsSchema(data, cached.schema, this.limits))) {
      return { subject, incoming: cached.schema, covering: cached };
    }
    const inferred = datas.map((data, i) => {
      try {
        return inferSchema(data, this.limits);
      } catch (err) {
        throw err instanceof InvalidDataError && datas.length > 1 ? err.atIndex(indexOf(i)) : err;
      }
    });
    const incoming = mergeMany(subject, inferred);
    const state = this.subjects.get(subject) ?? (await this.loadSubject(subject));
    if (state.latest !== undefined) {
      try {
        const merged = mergeSchemas(
          subject,
          state.latest.schema,
          incoming,
          state.latest.version,
          state.compatibility,
        );
        if (!merged.changed) return { subject, incoming, covering: state.latest };
      } catch (err) {
        // The cached mode may be stale (another process may have changed it): unless it was read just
        // now, decide on what the database says, when committing.
        if (!(err instanceof SchemaConflictError) || this.nowMs() - state.checkedAt < conflictRecheckMs) {
          throw err;
        }
      }
    }
    return { subject, incoming, covering: undefined };
  }

  /** The prepared schema's version: the covering one, or a new one registered now. */
  async commit(prepared: PreparedSchema): Promise<RegisteredSchema> {
    if (prepared.covering) return prepared.covering;
    return this.serialized(prepared.subject, () => this.register(prepared.subject, prepared.incoming));
  }

  /** The version with this schema_id (cached forever once loaded); SchemaNotFoundError if none. */
  async byId(schemaId: number): Promise<RegisteredSchema> {
    const cached = this.byIdCache.get(schemaId);
    if (cached !== undefined) return cached;
    let loading = this.loadingIds.get(schemaId);
    if (loading === undefined) {
      loading = this.loadById(schemaId).finally(() => this.loadingIds.delete(schemaId));
      this.loadingIds.set(schemaId, loading);
    }
    return loading;
  }

  /**
   * The latest version of `subject` as this process last saw it, without a database round trip;
   * undefined before the subject was first used here. May lag a version registered by another process.
   */
  cachedLatest(subject: string): RegisteredSchema | undefined {
    return this.subjects.get(subject)?.latest;
  }

  /** The latest version of `subject`, read from the database; undefined if it has none. */
  async latest(subject: string): Promise<RegisteredSchema | undefined> {
    return (await this.loadSubject(subject)).latest;
  }

  /** Every subject with its compatibility mode, latest version and number of versions, by name. */
  async list(): Promise<SubjectSummary[]> {
    const { rows } = await this.query<{
      subject: string;
      compatibility: Compatibility;
      created_at: Date | string;
      versions: number;
      latest_version: number | null;
      latest_schema_id: number | null;
    }>(
      `SELECT s.subject, s.compatibility, s.created_at,
              count(v.schema_id)::int AS versions,
              max(v.version) AS latest_version,
              (array_agg(v.schema_id ORDER BY v.version DESC))[1] AS latest_schema_id
         FROM tmi.schema_subject s
         LEFT JOIN tmi.model_versions v ON v.subject = s.subject
        GROUP BY s.subject
        ORDER BY s.subject`,
      [],
    );
    return rows.map((row) => ({
      subject: row.subject,
      compatibility: row.compatibility,
      latestVersion: row.latest_version,
      latestSchemaId: row.latest_schema_id,
      versions: row.versions,
      createdAt: isoOf(row.created_at),
    }));
  }

  /** Every version of `subject`, oldest first (empty if the subject is unknown). */
  async versions(subject: string): Promise<RegisteredSchema[]> {
    const { rows } = await this.query<VersionRow>(
      `SELECT ${versionColumns} FROM tmi.model_versions WHERE subject = $1 ORDER BY version`,
      [subject],
    );
    const versions = rows.map((row) => this.remember(row));
    const newest = versions.at(-1);
    if (newest !== undefined) this.noteVersion(newest);
    return versions;
  }

  /** The compatibility mode of `subject` (BACKWARD for a subject not seen yet). */
  async compatibility(subject: string): Promise<Compatibility> {
    return (await this.loadSubject(subject)).compatibility;
  }

  /**
   * Sets the compatibility mode of `subject` (creating the subject if needed). Other processes pick it
   * up when a write of theirs needs a new version or conflicts with their cached one.
   */
  async setCompatibility(subject: string, compatibility: Compatibility): Promise<void> {
    await this.query(
      `INSERT INTO tmi.schema_subject (subject, compatibility) VALUES ($1, $2)
       ON CONFLICT (subject) DO UPDATE SET compatibility = EXCLUDED.compatibility`,
      [subject, compatibility],
    );
    const state = this.subjects.get(subject);
    this.subjects.set(subject, { compatibility, latest: state?.latest, checkedAt: this.nowMs() });
  }

  // ── internals ──────────────────────────────────────────────────────────────

  /** Registers the merge of `incoming` with the subject's latest version in the database, if new. */
  private async register(subject: string, incoming: AvroRecordSchema): Promise<RegisteredSchema> {
    // A registration that ran just before (in this process) may already cover `incoming`.
    const cached = this.subjects.get(subject);
    if (cached?.latest !== undefined) {
      try {
        const merged = mergeSchemas(
          subject,
          cached.latest.schema,
          incoming,
          cached.latest.version,
          cached.compatibility,
        );
        if (!merged.changed) return cached.latest;
      } catch (err) {
        if (!(err instanceof SchemaConflictError) || this.nowMs() - cached.checkedAt < conflictRecheckMs) {
          throw err;
        }
      }
    }
    let seen: SubjectState | undefined; // what the database said, kept even when the merge conflicts
    const outcome = await this.transaction(async (client) => {
      await client.query(
        'INSERT INTO tmi.schema_subject (subject) VALUES ($1) ON CONFLICT (subject) DO NOTHING',
        [subject],
      );
      const locked = await client.query<{ compatibility: Compatibility }>(
        'SELECT compatibility FROM tmi.schema_subject WHERE subject = $1 FOR UPDATE',
        [subject],
      );
      const compatibility = locked.rows[0]?.compatibility ?? 'BACKWARD';
      const latestRows = await client.query<VersionRow>(
        `SELECT ${versionColumns} FROM tmi.model_versions WHERE subject = $1 ORDER BY version DESC LIMIT 1`,
        [subject],
      );
      const latestRow = latestRows.rows[0];
      const latest = latestRow === undefined ? undefined : this.remember(latestRow);
      seen = { compatibility, latest, checkedAt: this.nowMs() };
      // Throws SchemaConflictError: the transaction rolls back, nothing is written.
      const merged = mergeSchemas(subject, latest?.schema, incoming, latest?.version ?? 0, compatibility);
      if (!merged.changed && latest !== undefined) return { compatibility, latest, result: latest };
      await this.assertCompatible(client, subject, compatibility, merged.schema, latest);
      const type = avroType(merged.schema);
      const fingerprint = fingerprintOfType(type);
      if (latest !== undefined && latest.fingerprint === fingerprint) {
        return { compatibility, latest, result: latest };
      }
      // Under NONE a shape may come back to an earlier version's: reuse that version (the same schema).
      const same = await client.query<VersionRow>(
        `SELECT ${versionColumns} FROM tmi.model_versions WHERE subject = $1 AND fingerprint = $2`,
        [subject, fingerprint],
      );
      const sameRow = same.rows[0];
      if (sameRow !== undefined) return { compatibility, latest, result: this.remember(sameRow) };
      const inserted = await client.query<VersionRow>(
        `INSERT INTO tmi.model_versions (subject, version, schema, fingerprint) VALUES ($1, $2, $3, $4)
         RETURNING ${versionColumns}`,
        [subject, (latest?.version ?? 0) + 1, JSON.stringify(merged.schema), fingerprint],
      );
      const created = this.remember(inserted.rows[0]!, merged.schema);
      return { compatibility, latest: created, result: created };
    }).catch((err: unknown) => {
      if (seen !== undefined && err instanceof SchemaConflictError) this.subjects.set(subject, seen);
      throw err;
    });
    this.subjects.set(subject, {
      compatibility: outcome.compatibility,
      latest: outcome.latest,
      checkedAt: this.nowMs(),
    });
    return outcome.result;
  }

  /**
   * Throws SchemaConflictError (naming the field, both types, the version and the mode) when `candidate`
   * may not follow the subject's versions under `mode`; transitive modes read every version.
   */
  private async assertCompatible(
    client: PoolClient,
    subject: string,
    mode: Compatibility,
    candidate: AvroRecordSchema,
    latest: RegisteredSchema | undefined,
  ): Promise<void> {
    if (mode === 'NONE' || latest === undefined) return;
    let earlier: readonly RegisteredSchema[] = [latest];
    if (isTransitive(mode)) {
      const { rows } = await client.query<VersionRow>(
        `SELECT ${versionColumns} FROM tmi.model_versions WHERE subject = $1 ORDER BY version`,
        [subject],
      );
      earlier = rows.map((row) => this.remember(row));
    }
    const found = incompatibility(mode, candidate, earlier);
    if (found !== undefined) {
      throw new SchemaConflictError(subject, found.field, found.from, found.to, found.version, mode);
    }
  }

  /** Reads the subject's compatibility and latest version from the database into the cache. */
  private async loadSubject(subject: string): Promise<SubjectState> {
    let loading = this.loadingSubjects.get(subject);
    if (loading === undefined) {
      loading = (async () => {
        const { rows } = await this.query<LatestRow>(
          `SELECT s.compatibility, v.schema_id, v.subject, v.version, v.schema, v.fingerprint, v.created_at
             FROM tmi.schema_subject s
             LEFT JOIN LATERAL (
               SELECT * FROM tmi.model_versions mv WHERE mv.subject = s.subject ORDER BY mv.version DESC LIMIT 1
             ) v ON true
            WHERE s.subject = $1`,
          [subject],
        );
        const row = rows[0];
        const loaded =
          row === undefined || row.schema_id === null ? undefined : this.remember(row as VersionRow);
        // A registration in this process may have committed a newer version while this query ran.
        const cached = this.subjects.get(subject)?.latest;
        const latest =
          cached !== undefined && (loaded === undefined || cached.version > loaded.version) ? cached : loaded;
        const state: SubjectState = {
          compatibility: row?.compatibility ?? 'BACKWARD',
          latest,
          checkedAt: this.nowMs(),
        };
        this.subjects.set(subject, state);
        return state;
      })().finally(() => this.loadingSubjects.delete(subject));
      this.loadingSubjects.set(subject, loading);
    }
    return loading;
  }

  private async loadById(schemaId: number): Promise<RegisteredSchema> {
    const { rows } = await this.query<VersionRow>(
      `SELECT ${versionColumns} FROM tmi.model_versions WHERE schema_id = $1`,
      [schemaId],
    );
    const row = rows[0];
    if (row === undefined) throw new SchemaNotFoundError(schemaId);
    const registered = this.remember(row);
    this.noteVersion(registered);
    return registered;
  }

  /** A row as a RegisteredSchema, shared through the by-id cache. */
  private remember(row: VersionRow, schema: AvroRecordSchema = row.schema): RegisteredSchema {
    const cached = this.byIdCache.get(row.schema_id);
    if (cached !== undefined) return cached;
    const registered: RegisteredSchema = {
      schemaId: row.schema_id,
      subject: row.subject,
      version: row.version,
      schema,
      fingerprint: row.fingerprint,
      type: avroType(schema),
      createdAt: isoOf(row.created_at),
    };
    this.byIdCache.set(registered.schemaId, registered);
    return registered;
  }

  /** Makes a version loaded from the database the cached latest of its subject if it is newer. */
  private noteVersion(registered: RegisteredSchema): void {
    const state = this.subjects.get(registered.subject);
    if (state !== undefined && (state.latest === undefined || state.latest.version < registered.version)) {
      this.subjects.set(registered.subject, { ...state, latest: registered });
    }
  }

  private serialized<T>(subject: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.registering.get(subject) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.catch(() => {});
    this.registering.set(subject, settled);
    void settled.then(() => {
      if (this.registering.get(subject) === settled) this.registering.delete(subject);
    });
    return next;
  }

  private async query<R extends object>(text: string, values: readonly unknown[]): Promise<{ rows: R[] }> {
    try {
      return await this.pool.query<R & QueryResultRow>(text, values as unknown[]);
    } catch (err) {
      throw classifyDatabaseError(err);
    }
  }

  private async transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    try {
      return await withTransaction(this.pool, fn);
    } catch (err) {
      if (err instanceof SchemaConflictError || err instanceof InvalidDataError) throw err;
      throw classifyDatabaseError(err);
    }
  }
}

function isoOf(value: Date | string): string {
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}
