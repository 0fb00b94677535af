// SPDX-License-Identifier: MIT
// `tmictl schema list | show <kind> [--version n] | check <kind> <json>`: the kinds' contract, read
// through the running API (human tables; --json prints what the API answered).
import type { Config } from '../config/index.js';
import type { Io } from './commands.js';
import { cliApiKey, endpoints } from './run-info.js';
import { formatPairs, formatTable } from './table.js';

interface KindVersion {
  version: number;
  schema_id: number;
  status: string;
  sunset_at: string | null;
  created_at: string;
}
interface KindEntry {
  kind: string;
  compatibility: string;
  latest_version: number;
  versions: KindVersion[];
}
interface SchemaField {
  name: string;
  type: unknown;
}

const usage = 'usage: tmictl schema list | show <kind> [--version n] | check <kind> <json>';

export async function schema(
  config: Config,
  io: Io,
  args: readonly string[],
  version?: string,
): Promise<number> {
  const [sub, kind, body] = args;
  if (sub === 'list') return list(config, io);
  if (sub === 'show' && kind) return show(config, io, kind, version);
  if (sub === 'check' && kind && body) return check(config, io, kind, body);
  io.err(usage);
  return 2;
}

interface ProblemBody {
  code?: string;
  detail?: string;
}
interface CheckBody {
  would_register: boolean;
  compatible: boolean;
  mode: string;
  version: number;
  changes: Record<string, unknown>[];
  conflict: { field: string; from: string; to: string; version: number; direction: string } | null;
  affected: Record<'listeners' | 'alarm_rules' | 'versions_in_use' | 'views', (string | number)[]>;
}

async function api<T>(config: Config, method: string, route: string, body?: unknown) {
  const { httpUrl } = endpoints(config);
  const res = await fetch(`${httpUrl}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${cliApiKey(config)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { ok: res.ok, status: res.status, body: (await res.json()) as T & ProblemBody };
}

function failed(io: Io, r: { status: number; body: ProblemBody }): number {
  io.err(`${r.status} ${r.body.code ?? ''}: ${r.body.detail ?? JSON.stringify(r.body)}`);
  return 1;
}

async function list(config: Config, io: Io): Promise<number> {
  const r = await api<{ kinds: KindEntry[] }>(config, 'GET', '/v1/kinds');
  if (!r.ok) return failed(io, r);
  const kinds = r.body.kinds;
  const rows = kinds.map((k) => ({
    kind: k.kind,
    compatibility: k.compatibility,
    latest: k.latest_version,
    versions: k.versions
      .map((v) => (v.status === 'active' ? `v${v.version}` : `v${v.version}(${v.status})`))
      .join(' '),
  }));
  io.out(
    io.json
      ? JSON.stringify(r.body, null, 2)
      : formatTable(rows, ['kind', 'compatibility', 'latest', 'versions']),
  );
  return 0;
}

async function show(config: Config, io: Io, kind: string, version: string | undefined): Promise<number> {
  const k = encodeURIComponent(kind);
  const [kinds, schemas] = await Promise.all([
    api<{ kinds?: KindEntry[] }>(config, 'GET', '/v1/kinds'),
    api<{ compatibility: string; versions: { version: number; schema: { fields: SchemaField[] } }[] }>(
      config,
      'GET',
      `/v1/schemas/${k}?normalized=true`,
    ),
  ]);
  if (!schemas.ok) return failed(io, schemas);
  const entry = kinds.body.kinds?.find((e) => e.kind === kind);
  const versions = schemas.body.versions;
  const wanted =
    version === undefined ? versions.at(-1) : versions.find((v) => v.version === Number(version));
  if (wanted === undefined) {
    io.err(`kind '${kind}' has no version ${version}; it has ${versions.map((v) => v.version).join(', ')}`);
    return 1;
  }
  const status = entry?.versions.find((v) => v.version === wanted.version);
  const data = {
    kind,
    compatibility: entry?.compatibility ?? schemas.body.compatibility,
    version: wanted.version,
    status: status?.status ?? 'active',
    sunset_at: status?.sunset_at ?? null,
    fields: wanted.schema.fields.map((f) => ({ field: f.name, type: typeName(f.type) })),
  };
  if (io.json) io.out(JSON.stringify({ ...data, schema: wanted.schema }, null, 2));
  else {
    const { fields, ...head } = data;
    io.out(`${formatPairs(head)}\n\n${formatTable(fields)}`);
  }
  return 0;
}

async function check(config: Config, io: Io, kind: string, body: string): Promise<number> {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (err) {
    io.err(`not JSON: ${(err as Error).message}`);
    return 2;
  }
  const r = await api<CheckBody>(config, 'POST', `/v1/schemas/${encodeURIComponent(kind)}/check`, { data });
  if (!r.ok) return failed(io, r);
  if (io.json) {
    io.out(JSON.stringify(r.body, null, 2));
    return 0;
  }
  const a = r.body.affected;
  const conflict = r.body.conflict;
  const head = {
    would_register: r.body.would_register,
    compatible: r.body.compatible,
    mode: r.body.mode,
    version: r.body.version,
    conflict: conflict
      ? `${conflict.field}: ${conflict.from} → ${conflict.to} (version ${conflict.version}, ${conflict.direction})`
      : '-',
    listeners: a.listeners.join(', ') || '-',
    alarm_rules: a.alarm_rules.join(', ') || '-',
    versions_in_use: a.versions_in_use.join(', ') || '-',
    views: a.views.join(', ') || '-',
  };
  io.out(`${formatPairs(head)}\n\nchanges:\n${formatTable(r.body.changes)}`);
  return 0;
}

/** An Avro field type in words: `double`, `string`, `object`, `array of double`. */
function typeName(type: unknown): string {
  const core = Array.isArray(type) ? type[1] : type;
  if (typeof core === 'string') return core;
  const t = core as { type: string; items?: unknown };
  if (t.type === 'record') return 'object';
  return t.items === 'null' ? 'array' : `array of ${typeName(t.items)}`;
}
