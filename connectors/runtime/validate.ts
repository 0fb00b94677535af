// SPDX-License-Identifier: MIT
// Small checks the connector kinds build their config parsers from. Each names the member it refuses
// (`config.timeout_ms must be an integer in [100, 60000]`), which the API returns as problem+json.
import { ConnectorConfigError } from './errors.js';
import { keyText, type TargetRule, targetKindRegex } from './targets.js';

export type Members = Record<string, unknown>;

export function objectAt(value: unknown, member: string): Members {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConnectorConfigError(member, 'must be a JSON object');
  }
  return value as Members;
}

/** Refuses members the kind does not know (a typo must not silently do nothing). */
export function onlyMembers(obj: Members, member: string, known: readonly string[]): void {
  const unknown = Object.keys(obj).find((k) => !known.includes(k));
  if (unknown !== undefined) {
    throw new ConnectorConfigError(`${member}.${unknown}`, `is not a member; known: ${known.join(', ')}`);
  }
}

export function stringAt(
  obj: Members,
  key: string,
  member: string,
  opts: { required?: boolean; lengthMax?: number } = {},
): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (opts.required) throw new ConnectorConfigError(`${member}.${key}`, 'is required');
    return undefined;
  }
  if (typeof v !== 'string' || v.length === 0) {
    throw new ConnectorConfigError(`${member}.${key}`, 'must be a non-empty string');
  }
  if (v.length > (opts.lengthMax ?? 4096)) {
    throw new ConnectorConfigError(
      `${member}.${key}`,
      `must be at most ${opts.lengthMax ?? 4096} characters`,
    );
  }
  return v;
}

/** A required URL member of one of the given protocols (`'https:'` …); `expected` says them in words. */
export function urlAt(
  obj: Members,
  key: string,
  member: string,
  opts: { lengthMax: number; protocols: readonly string[]; expected: string },
): { readonly text: string; readonly url: URL } {
  const text = stringAt(obj, key, member, { required: true, lengthMax: opts.lengthMax })!;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConnectorConfigError(`${member}.${key}`, 'is not a URL');
  }
  if (!opts.protocols.includes(url.protocol)) {
    throw new ConnectorConfigError(`${member}.${key}`, `must be ${opts.expected}`);
  }
  return { text, url };
}

export function intAt(
  obj: Members,
  key: string,
  member: string,
  min: number,
  max: number,
  dflt: number,
): number {
  const v = obj[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConnectorConfigError(`${member}.${key}`, `must be an integer in [${min}, ${max}]`);
  }
  return v;
}

export function enumAt<T extends string>(
  obj: Members,
  key: string,
  member: string,
  values: readonly T[],
  dflt: T,
): T {
  const v = obj[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string' || !values.includes(v as T)) {
    throw new ConnectorConfigError(`${member}.${key}`, `must be one of ${values.join(', ')}`);
  }
  return v as T;
}

/** `{id}` or `{by: "name" | "meta.<key>", <where>: …, create_kind?}`; returns the rule and where the key is read. */
export function targetAt(
  obj: Members,
  member: string,
  whereKey: 'path' | 'column',
): { rule: TargetRule; where: string | undefined } {
  const t = objectAt(obj.target, `${member}.target`);
  const at = `${member}.target`;
  if (t.id !== undefined) {
    onlyMembers(t, at, ['id']);
    const id = keyText(t.id);
    if (id === undefined || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) {
      throw new ConnectorConfigError(`${at}.id`, 'must be a target UUID');
    }
    return { rule: { id: id.toLowerCase() }, where: undefined };
  }
  onlyMembers(t, at, ['by', whereKey, 'create_kind']);
  const by = t.by;
  if (by !== 'name' && !(typeof by === 'string' && /^meta\.[A-Za-z0-9_-]{1,64}$/.test(by))) {
    throw new ConnectorConfigError(`${at}.by`, 'must be "name" or "meta.<key>" (or give target.id instead)');
  }
  const where = stringAt(t, whereKey, at, { required: true, lengthMax: 1000 });
  const createKind = stringAt(t, 'create_kind', at, { lengthMax: 64 });
  if (createKind !== undefined && !targetKindRegex.test(createKind)) {
    throw new ConnectorConfigError(`${at}.create_kind`, `must match ${targetKindRegex.source}`);
  }
  return { rule: { by: by as 'name' | `meta.${string}`, createKind }, where };
}
