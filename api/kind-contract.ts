// SPDX-License-Identifier: MIT
// The per-kind read contract behind /v1/kinds: a kind's versions are those of its normalized subject
// (`<kind>#norm`, the shape readers see after mapping rules); a request reads as the version it pins
// (or the latest), each datum resolved from the version that wrote it (Avro writer → reader). Retired
// versions answer 410 naming the version to move to; deprecated ones carry RFC 9745 `Deprecation` and
// RFC 8594 `Sunset` headers.
import type { FastifyReply } from 'fastify';
import { RequestRejectedError } from '../errors/index.js';
import {
  type KindObsRow,
  type KindStateRow,
  notePinnedVersion,
  type VersionStatus,
  versionStatuses,
} from '../projections/index.js';
import {
  type Compatibility,
  narrowedTo,
  type RegisteredSchema,
  readAs,
  type SchemaRegistry,
} from '../schemas/index.js';
import type { ApiContext } from './context.js';

export const normalizedSuffix = '#norm';

/** A pinned version's use is written at most this often per version and process. */
export const pinNoteIntervalMs = 60_000;

export interface KindContract {
  readonly kind: string;
  readonly compatibility: Compatibility;
  /** Oldest first; never empty. */
  readonly versions: readonly RegisteredSchema[];
  readonly statuses: ReadonlyMap<number, VersionStatus>;
}

export interface ReaderChoice {
  readonly reader: RegisteredSchema;
  readonly status: VersionStatus | undefined;
  /** The newest version that is not retired (where clients should move). */
  readonly successor: RegisteredSchema;
}

/** The kind's versions and their lifecycle; 404 KIND_NOT_FOUND when no version exists. */
export async function loadKindContract(ctx: ApiContext, kind: string): Promise<KindContract> {
  const [versions, compatibility, statuses] = await Promise.all([
    ctx.registry.versions(`${kind}${normalizedSuffix}`),
    ctx.registry.compatibility(kind),
    versionStatuses(ctx.pool, kind),
  ]);
  if (versions.length === 0) {
    throw new RequestRejectedError(
      'KIND_NOT_FOUND',
      `no data of kind '${kind}' has been read yet (no version)`,
    );
  }
  return {
    kind,
    compatibility,
    versions,
    statuses: new Map((statuses.get(kind) ?? []).map((s) => [s.version, s])),
  };
}

/** The version a request reads as: `v<n>` when pinned, else the latest. 404 / 410 as the contract says. */
export function chooseReader(contract: KindContract, pinned: string | undefined): ReaderChoice {
  const successor =
    [...contract.versions].reverse().find((v) => contract.statuses.get(v.version)?.status !== 'retired') ??
    contract.versions.at(-1)!;
  const n = pinned === undefined ? undefined : Number(pinned.slice(1));
  const reader = n === undefined ? contract.versions.at(-1)! : contract.versions.find((v) => v.version === n);
  if (reader === undefined) {
    throw new RequestRejectedError(
      'SCHEMA_VERSION_NOT_FOUND',
      `kind '${contract.kind}' has no version ${n}; its versions are 1 to ${contract.versions.at(-1)!.version}`,
    );
  }
  const status = contract.statuses.get(reader.version);
  if (status?.status === 'retired') {
    throw new RequestRejectedError(
      'SCHEMA_VERSION_RETIRED',
      `version ${reader.version} of kind '${contract.kind}' is retired; move to version ${successor.version} ` +
        `(/v1/kinds/${contract.kind}/v${successor.version}/…)`,
    );
  }
  return { reader, status, successor };
}

/** Deprecation (RFC 9745), Sunset (RFC 8594) and the successor link on a deprecated version's answers. */
export function setLifecycleHeaders(reply: FastifyReply, kind: string, choice: ReaderChoice): void {
  const status = choice.status;
  if (status?.status !== 'deprecated' || status.deprecated_at === null) return;
  reply.header('Deprecation', `@${Math.floor(Date.parse(status.deprecated_at) / 1000)}`);
  if (status.sunset_at !== null) reply.header('Sunset', new Date(status.sunset_at).toUTCString());
  reply.header('Link', `</v1/kinds/${kind}/v${choice.successor.version}/targets>; rel="successor-version"`);
}

const lastPinNote = new Map<string, number>();

/** Remembers that a client pinned this version (for the dry run's `versions_in_use`), throttled. */
export function notePin(ctx: ApiContext, kind: string, version: number): void {
  const key = `${kind}\u0000${version}`;
  const now = Date.now();
  if (now - (lastPinNote.get(key) ?? 0) < pinNoteIntervalMs) return;
  lastPinNote.set(key, now);
  notePinnedVersion(ctx.pool, kind, version).catch(() => lastPinNote.delete(key));
}

/** Typed state of one target: every field of the reader (null when unset), each resolved from its writer. */
export async function typedState(
  registry: SchemaRegistry,
  reader: RegisteredSchema,
  rows: readonly KindStateRow[],
): Promise<{ state: Record<string, unknown>; ts: string | null }> {
  const byWriter = new Map<number | null, Record<string, unknown>>();
  let ts: string | null = null;
  for (const row of rows) {
    if (row.field === null) continue;
    const data = byWriter.get(row.schema_id) ?? {};
    data[row.field] = row.value;
    byWriter.set(row.schema_id, data);
    if (row.ts !== null && (ts === null || row.ts > ts)) ts = row.ts;
  }
  const state: Record<string, unknown> = {};
  for (const field of reader.schema.fields) state[field.name] = null;
  for (const [schemaId, data] of byWriter) {
    // A field whose observation is gone (pruned) is read as written by the reader itself.
    const writer = schemaId === null ? reader : await registry.byId(schemaId);
    const read = readAs(narrowedTo(writer, new Set(Object.keys(data))), reader, data);
    for (const [name, value] of Object.entries(read)) if (name in data) state[name] = value;
  }
  return { state, ts };
}

/** Observations read as `reader`; the writer version of each is reported beside its data. */
export async function typedObs(
  registry: SchemaRegistry,
  reader: RegisteredSchema,
  rows: readonly KindObsRow[],
) {
  const out = [];
  for (const row of rows) {
    const writer = await registry.byId(row.schema_id);
    out.push({
      ts: row.ts,
      event_id: row.event_id,
      written_as: writer.version,
      data: readAs(writer, reader, row.payload),
    });
  }
  return out;
}
