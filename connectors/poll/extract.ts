// SPDX-License-Identifier: MIT
// The poll connector's pure core: a response body → items (key, ts, fields), or the reasons it could
// not be read. No I/O, no clock. JSON through JSONPath (jsonpath-plus) or JSON Pointer (RFC 6901), HTML
// through CSS selectors (cheerio), CSV through csv-parse.
import * as cheerio from 'cheerio';
import { parse as parseCsv } from 'csv-parse/sync';
import type { AnyNode } from 'domhandler';
import { JSONPath } from 'jsonpath-plus';
import type { RejectedItem } from '../runtime/types.js';

export interface FieldSpec {
  readonly path: string;
  /** Appended to the field name (`energy_kwh`), for the normalizer's unit rules to convert. */
  readonly unit?: string;
}

export interface ExtractSpec {
  readonly format: 'json' | 'html' | 'csv';
  readonly items?: string;
  readonly fields?: Readonly<Record<string, FieldSpec>>;
  /** Where an item's target key is read (absent: a fixed target). */
  readonly key?: string;
  readonly ts?: string;
  readonly itemsMax: number;
}

export interface ExtractedItem {
  readonly origin: string;
  readonly key: unknown;
  readonly ts: unknown;
  readonly data: Record<string, unknown>;
  /** The item as read, for a dead letter. */
  readonly raw: unknown;
}

export interface Extraction {
  readonly items: ExtractedItem[];
  readonly rejected: RejectedItem[];
}

export function extractItems(body: string, spec: ExtractSpec): Extraction {
  switch (spec.format) {
    case 'json':
      return extractJson(body, spec);
    case 'html':
      return extractHtml(body, spec);
    case 'csv':
      return extractCsv(body, spec);
  }
}

function unreadable(code: string, reason: string, raw: unknown): Extraction {
  return { items: [], rejected: [{ origin: 'body', code, reason, item: raw }] };
}

/** Keeps at most itemsMax items; the rest become one rejection. */
function capped(items: ExtractedItem[], rejected: RejectedItem[], itemsMax: number): Extraction {
  if (items.length <= itemsMax) return { items, rejected };
  rejected.push({
    origin: `items[${itemsMax}…]`,
    code: 'TOO_MANY_ITEMS',
    reason: `the body holds ${items.length} items; the first ${itemsMax} (items_max) were taken`,
    item: null,
  });
  return { items: items.slice(0, itemsMax), rejected };
}

function fieldName(name: string, spec: FieldSpec): string {
  return spec.unit === undefined ? name : `${name}_${spec.unit}`;
}

// --- JSON ---------------------------------------------------------------------------------------

/** RFC 6901 JSON Pointer (`/stations/0/t`; `~1` is `/`, `~0` is `~`); undefined when it leads nowhere. */
export function jsonPointer(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  let at: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(at) && /^(0|[1-9]\d*)$/.test(token)) at = at[Number(token)];
    else if (at !== null && typeof at === 'object' && Object.hasOwn(at, token)) {
      at = (at as Record<string, unknown>)[token];
    } else return undefined;
  }
  return at;
}

export function isPointer(path: string): boolean {
  return path === '' || path.startsWith('/');
}

/** Every match of a JSONPath, or the one value a pointer leads to. */
export function jsonMatches(doc: unknown, path: string): unknown[] {
  if (isPointer(path)) {
    const v = jsonPointer(doc, path);
    return v === undefined ? [] : [v];
  }
  return JSONPath({ path, json: doc as object, wrap: true, eval: 'safe' }) as unknown[];
}

function jsonFirst(doc: unknown, path: string): unknown {
  return jsonMatches(doc, path)[0];
}

function extractJson(body: string, spec: ExtractSpec): Extraction {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    return unreadable(
      'BODY_UNPARSABLE',
      `the body is not JSON: ${(err as Error).message}`,
      body.slice(0, 4096),
    );
  }
  let list: unknown[] = [doc];
  if (spec.items !== undefined) {
    list = jsonMatches(doc, spec.items);
    if (list.length === 1 && Array.isArray(list[0])) list = list[0];
    if (list.length === 0) {
      return unreadable('ITEMS_NOT_FOUND', `items ${spec.items} matches nothing in the body`, doc);
    }
  }
  const items: ExtractedItem[] = [];
  const rejected: RejectedItem[] = [];
  list.forEach((item, i) => {
    const origin = `items[${i}]`;
    const data = jsonFields(item, spec.fields);
    if (Object.keys(data).length === 0) {
      rejected.push({ origin, code: 'NO_FIELDS', reason: 'no field of the item matched', item });
      return;
    }
    items.push({
      origin,
      key: spec.key === undefined ? undefined : jsonFirst(item, spec.key),
      ts: spec.ts === undefined ? undefined : jsonFirst(item, spec.ts),
      data,
      raw: item,
    });
  });
  return capped(items, rejected, spec.itemsMax);
}

function jsonFields(item: unknown, fields: ExtractSpec['fields']): Record<string, unknown> {
  if (fields === undefined) {
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) return { ...(item as object) };
    return item === undefined || item === null ? {} : { value: item };
  }
  const data: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(fields)) {
    const v = jsonFirst(item, f.path);
    if (v !== undefined) data[fieldName(name, f)] = v;
  }
  return data;
}

// --- HTML ---------------------------------------------------------------------------------------

/** A number at the start of a text, its unit or words after it (`"21.5 °C"` → 21.5, `"1,204 kWh"` → 1204). */
export function numberInText(text: string): number | undefined {
  const m =
    /^\s*([+\-\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?)(?:\s*(?:[^\d\s.,+\-:/][\s\S]*)?)$/.exec(
      text,
    );
  if (!m) return undefined;
  const n = Number(m[1]!.replaceAll(',', '').replace('\u2212', '-'));
  return Number.isFinite(n) ? n : undefined;
}

/** `"td.temp"` → the element's text; `"a.link@href"` → an attribute; `"@data-id"` → the item's own attribute. */
export function splitSelector(spec: string): { selector: string; attr: string | undefined } {
  const at = spec.lastIndexOf('@');
  if (at < 0 || /[\]"']/.test(spec.slice(at))) return { selector: spec.trim(), attr: undefined };
  return { selector: spec.slice(0, at).trim(), attr: spec.slice(at + 1).trim() };
}

function htmlText($: cheerio.CheerioAPI, item: cheerio.Cheerio<AnyNode>, spec: string): string | undefined {
  const { selector, attr } = splitSelector(spec);
  const el = selector === '' ? item : item.find(selector).first();
  if (el.length === 0) return undefined;
  const v = attr === undefined ? $(el).text() : $(el).attr(attr);
  return v === undefined ? undefined : v.replace(/\s+/g, ' ').trim();
}

function extractHtml(body: string, spec: ExtractSpec): Extraction {
  const $ = cheerio.load(body);
  const elements =
    spec.items === undefined
      ? [$.root()]
      : $(spec.items)
          .toArray()
          .map((e) => $(e));
  if (elements.length === 0) {
    return unreadable('ITEMS_NOT_FOUND', `items selector '${spec.items}' matches nothing in the page`, null);
  }
  const items: ExtractedItem[] = [];
  const rejected: RejectedItem[] = [];
  elements.forEach((el, i) => {
    const origin = `items[${i}]`;
    const data: Record<string, unknown> = {};
    const missing: string[] = [];
    for (const [name, f] of Object.entries(spec.fields ?? {})) {
      const text = htmlText($, el, f.path);
      if (text === undefined) missing.push(name);
      else data[fieldName(name, f)] = numberInText(text) ?? text;
    }
    const raw = (spec.items === undefined ? '' : $.html(el)).slice(0, 4096);
    if (Object.keys(data).length === 0) {
      rejected.push({
        origin,
        code: 'SELECTOR_MATCHED_NOTHING',
        reason: `no field selector matched (${missing.join(', ')})`,
        item: raw,
      });
      return;
    }
    const key = spec.key === undefined ? undefined : htmlText($, el, spec.key);
    const ts = spec.ts === undefined ? undefined : htmlText($, el, spec.ts);
    items.push({ origin, key, ts, data, raw });
  });
  return capped(items, rejected, spec.itemsMax);
}

// --- CSV ----------------------------------------------------------------------------------------

/** A CSV cell as a JSON value: numbers and booleans typed, empty cells absent, the rest text. */
export function csvValue(cell: string): unknown {
  if (cell === '') return undefined;
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(cell)) return Number(cell);
  if (cell === 'true' || cell === 'false') return cell === 'true';
  return cell;
}

function extractCsv(body: string, spec: ExtractSpec): Extraction {
  let rows: Record<string, string>[];
  try {
    rows = parseCsv(body, {
      columns: true,
      bom: true,
      skip_empty_lines: true,
      trim: true,
      to: spec.itemsMax + 1,
    });
  } catch (err) {
    return unreadable(
      'BODY_UNPARSABLE',
      `the body is not CSV with a header row: ${(err as Error).message}`,
      body.slice(0, 4096),
    );
  }
  const items: ExtractedItem[] = [];
  const rejected: RejectedItem[] = [];
  rows.forEach((row, i) => {
    const origin = `rows[${i + 1}]`;
    const data: Record<string, unknown> = {};
    const pick = spec.fields ?? Object.fromEntries(Object.keys(row).map((c) => [c, { path: c }]));
    for (const [name, f] of Object.entries(pick)) {
      const v = row[f.path] === undefined ? undefined : csvValue(row[f.path]!);
      if (v !== undefined) data[fieldName(name, f)] = v;
    }
    if (Object.keys(data).length === 0) {
      rejected.push({ origin, code: 'NO_FIELDS', reason: 'no named column has a value', item: row });
      return;
    }
    const key = spec.key === undefined ? undefined : row[spec.key];
    const ts = spec.ts === undefined ? undefined : csvValue(row[spec.ts] ?? '');
    items.push({ origin, key, ts, data, raw: row });
  });
  return capped(items, rejected, spec.itemsMax);
}
