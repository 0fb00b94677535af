// SPDX-License-Identifier: MIT
// Aliases: a name the normalizer (or a person's rename) has mapped resolves to the field it became, so a
// client written against `tempF` keeps working once `tempF` is `temperature`. Built from the active
// `map` and `rename` rules; a kind's own rules win over rules for every kind.
import type { AliasRow } from '../../projections/index.js';

export class AliasIndex {
  private readonly byKind = new Map<string, Map<string, string>>();
  private readonly anyKind = new Map<string, string>();

  constructor(rows: readonly AliasRow[]) {
    for (const r of rows) {
      const map = r.kind === null ? this.anyKind : this.kindMap(r.kind);
      if (!map.has(r.field)) map.set(r.field, r.to_field);
    }
  }

  private kindMap(kind: string): Map<string, string> {
    let map = this.byKind.get(kind);
    if (map === undefined) {
      map = new Map();
      this.byKind.set(kind, map);
    }
    return map;
  }

  /** The field `name` became for targets of `kind` (null: of any kind); undefined when it is no alias. */
  canonicalOf(kind: string | null, name: string): string | undefined {
    if (kind === null) {
      for (const map of this.byKind.values()) {
        const hit = map.get(name);
        if (hit !== undefined) return hit;
      }
      return this.anyKind.get(name);
    }
    return this.byKind.get(kind)?.get(name) ?? this.anyKind.get(name);
  }

  /** Every field `name` became, in any kind (a listener's mask spans kinds). */
  everyCanonicalOf(name: string): string[] {
    const out = new Set<string>();
    for (const map of this.byKind.values()) {
      const hit = map.get(name);
      if (hit !== undefined) out.add(hit);
    }
    const any = this.anyKind.get(name);
    if (any !== undefined) out.add(any);
    return [...out];
  }

  /** The names that resolve to `canonical` for `kind`. */
  aliasesOf(kind: string, canonical: string): string[] {
    const out: string[] = [];
    for (const map of [this.byKind.get(kind), this.anyKind]) {
      for (const [alias, to] of map ?? []) if (to === canonical && !out.includes(alias)) out.push(alias);
    }
    return out;
  }

  /** Resolves names for `kind`; `resolved` lists only the names that changed. */
  resolve(
    kind: string | null,
    names: readonly string[],
  ): { names: string[]; resolved: Record<string, string> } {
    const resolved: Record<string, string> = {};
    const out = names.map((n) => {
      const c = this.canonicalOf(kind, n);
      if (c === undefined) return n;
      resolved[n] = c;
      return c;
    });
    return { names: [...new Set(out)], resolved };
  }
}
