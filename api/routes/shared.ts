// SPDX-License-Identifier: MIT
// What every route shares: the JSON schemas of ids, names and pages, and the one way to cut a page.

export const uuidSchema = { type: 'string', format: 'uuid' } as const;
export const nullableUuidSchema = { type: ['string', 'null'], format: 'uuid' } as const;

/** `:id` path parameter holding a UUID. */
export const idParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: uuidSchema },
} as const;

/** A non-empty name of at most `lengthMax` characters. */
export function boundedNameSchema<const N extends number>(lengthMax: N) {
  return { type: 'string', minLength: 1, maxLength: lengthMax } as const;
}

/** `?limit=` of a list: 1…max, default `byDefault`. */
export function limitSchema<const M extends number, const D extends number>(max: M, byDefault: D) {
  return { type: 'integer', minimum: 1, maximum: max, default: byDefault } as const;
}

/** A page of a list: the items under `key` (`targets`, `rules` …) and `next`, absent on the last page. */
export function pageSchema<const K extends string, I, N = { readonly type: 'string' }>(
  key: K,
  item: I,
  next: N = { type: 'string' } as N,
) {
  return {
    type: 'object',
    required: [key],
    properties: { [key]: { type: 'array', items: item }, next },
  } as const;
}

export interface Page<T> {
  readonly items: T[];
  /** Cursor of the next page (give it as `after`); absent on the last page. */
  readonly next?: string;
}

/**
 * Cuts a page from `rows` read with `limit + 1`: the first `limit` rows, and the cursor of the last one
 * when one more row exists. `const { items, ...next } = paginate(rows, q.limit, (r) => r.id)`.
 */
export function paginate<T>(rows: readonly T[], limit: number, cursorOf: (last: T) => string): Page<T> {
  const items = rows.slice(0, limit);
  return rows.length > limit ? { items, next: cursorOf(items[items.length - 1]!) } : { items };
}

/**
 * A query parameter holding a comma list of `item` (a regex source without anchors), at most `countMax`
 * of them: the schema states what the parser accepts, so a bad list is refused by validation.
 */
export function commaListSchema(item: string, countMax: number, description: string) {
  return {
    type: 'string',
    pattern: `^(${item})(,(${item})){0,${countMax - 1}}$`,
    description,
  } as const;
}
