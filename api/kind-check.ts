// SPDX-License-Identifier: MIT
// The dry run of a write to a kind (POST /v1/schemas/{kind}/check, `tmictl schema check`): nothing is
// written. The speakers' subject decides whether the write is accepted under the kind's mode; the
// normalized subject (the sample after the mapping rules in force) decides what readers would see
// change, and so what would be affected: listeners whose subscriptions name a changed or removed field,
// alarm rules reading one, pinned versions that could no longer read the new data, the typed views.

import { applyRules, rulesInForce, toRule } from '../processors/index.js';
import {
  alarmRulesOfKind,
  kindViews,
  listenersNaming,
  loadAllMappingRules,
  pinnedVersions,
} from '../projections/index.js';
import { dryRun, nowMicros, readProblem, type SchemaRegistry } from '../schemas/index.js';
import type { ApiContext } from './context.js';
import { normalizedSuffix } from './kind-contract.js';

/** Pinned versions count as in use when a client read them within this many days. */
export const pinnedVersionWindowDays = 30;

export interface CheckAnswer {
  would_register: boolean;
  compatible: boolean;
  mode: string;
  version: number;
  changes: { field: string; from: string | null; to: string | null }[];
  conflict: { field: string; from: string; to: string; version: number; direction: string } | null;
  affected: { listeners: string[]; alarm_rules: string[]; versions_in_use: number[]; views: string[] };
}

export async function checkWrite(
  ctx: ApiContext,
  kind: string,
  data: Readonly<Record<string, unknown>>,
): Promise<CheckAnswer> {
  const registry: SchemaRegistry = ctx.registry;
  const normSubject = `${kind}${normalizedSuffix}`;
  const [rawVersions, normVersions, mode, normMode, rules] = await Promise.all([
    registry.versions(kind),
    registry.versions(normSubject),
    registry.compatibility(kind),
    registry.compatibility(normSubject),
    loadAllMappingRules(ctx.pool),
  ]);
  const raw = dryRun(kind, [data], rawVersions, mode, registry.limits);
  const inForce = rulesInForce(rules.map(toRule), {
    kind,
    targetId: '',
    receivedAtMicros: nowMicros(),
  });
  const normalized = inForce.length === 0 ? data : applyRules({ ...data }, inForce);
  const norm = dryRun(normSubject, [normalized], normVersions, normMode, registry.limits);
  const conflict = raw.incompatibility ?? norm.incompatibility;
  const breaking = norm.changes.filter((c) => c.from !== null).map((c) => c.field);
  const inUse = await versionsInUse(ctx, kind, normVersions, norm.schema);
  return {
    would_register: raw.wouldRegister || norm.wouldRegister,
    compatible: conflict === undefined,
    mode,
    version: norm.version,
    changes: [...norm.changes],
    conflict: conflict === undefined ? null : { ...conflict },
    affected: {
      listeners: breaking.length === 0 ? [] : await listenersNaming(ctx.pool, kind, topLevel(breaking)),
      alarm_rules: breaking.length === 0 ? [] : await alarmRulesReading(ctx, kind, breaking),
      versions_in_use: norm.wouldRegister ? inUse : [],
      views: norm.wouldRegister && norm.changes.length > 0 ? await kindViews(ctx.pool, kind) : [],
    },
  };
}

/** Pinned (recently read) versions, and the latest (what unpinned clients read), that could not read the new schema's data. */
async function versionsInUse(
  ctx: ApiContext,
  kind: string,
  versions: Awaited<ReturnType<SchemaRegistry['versions']>>,
  candidate: Parameters<typeof readProblem>[1],
): Promise<number[]> {
  const latest = versions.at(-1)?.version;
  const pinned = new Set(await pinnedVersions(ctx.pool, kind, pinnedVersionWindowDays));
  if (latest !== undefined) pinned.add(latest);
  return versions
    .filter((v) => pinned.has(v.version) && readProblem(v.schema, candidate) !== undefined)
    .map((v) => v.version);
}

async function alarmRulesReading(
  ctx: ApiContext,
  kind: string,
  fields: readonly string[],
): Promise<string[]> {
  const rules = await alarmRulesOfKind(ctx.pool, kind);
  const touched = (path: string) =>
    fields.some((f) => path === f || path.startsWith(`${f}.`) || f.startsWith(`${path}.`));
  return rules.filter((r) => fieldsOfRule(r.type, r.spec).some(touched)).map((r) => r.name);
}

/** Every field path a stored rule spec names (`field` members at any depth; geofences read lat and lon). */
function fieldsOfRule(type: string, spec: unknown): string[] {
  const out = type === 'geofence' ? ['lat', 'lon'] : [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'field' && typeof value === 'string') out.push(value);
        else walk(value);
      }
    }
  };
  walk(spec);
  return out;
}

function topLevel(paths: readonly string[]): string[] {
  return [...new Set(paths.flatMap((p) => [p, p.split('.')[0]!]))];
}
