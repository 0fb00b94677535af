// SPDX-License-Identifier: MIT
// The poll connector's configuration: validated member by member (errors name the member), with
// defaults and limits; `headers` and credentials in `url` are secrets (redacted on read and in logs).
import * as cheerio from 'cheerio';
import { Cron } from 'croner';
import { JSONPath } from 'jsonpath-plus';
import { redactUrl } from '../../config/index.js';
import { ConnectorConfigError } from '../runtime/errors.js';
import type { TargetRule } from '../runtime/targets.js';
import { redactedMarker } from '../runtime/types.js';
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
import { type ExtractSpec, type FieldSpec, isPointer, splitSelector } from './extract.js';

export const pollIntervalSecondsMax = 7 * 24 * 3600;
export const pollTimeoutMsDefault = 10_000;
export const pollTimeoutMsMax = 120_000;
export const pollBodyBytesDefault = 1024 * 1024;
export const pollBodyBytesMax = 64 * 1024 * 1024;
export const pollRedirectsDefault = 5;
export const pollRedirectsMax = 20;
export const pollItemsDefault = 1000;
export const pollItemsMax = 100_000;
export const pollHeadersMax = 50;
export const pollFieldsMax = 256;
/** Field names as the write path accepts them. */
const fieldNameRegex = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export interface PollConfig {
  readonly url: string;
  readonly method: 'GET' | 'POST';
  readonly body: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly schedule: { readonly intervalS: number } | { readonly cron: string };
  readonly timeoutMs: number;
  readonly bodyBytesMax: number;
  readonly redirectsMax: number;
  readonly target: TargetRule;
  readonly extract: ExtractSpec;
}

const members = [
  'url',
  'method',
  'body',
  'headers',
  'interval_s',
  'cron',
  'timeout_ms',
  'body_bytes_max',
  'redirects_max',
  'items_max',
  'format',
  'items',
  'fields',
  'target',
  'ts',
];

export function parsePollConfig(raw: unknown): PollConfig {
  const c = objectAt(raw, 'config');
  onlyMembers(c, 'config', members);
  const url = parseUrl(c);
  const method = enumAt(c, 'method', 'config', ['GET', 'POST'] as const, 'GET');
  const body =
    c.body === undefined || c.body === null
      ? undefined
      : typeof c.body === 'string'
        ? c.body
        : JSON.stringify(c.body);
  if (body !== undefined && method !== 'POST')
    throw new ConnectorConfigError('config.body', 'is sent with method POST only');
  const format = enumAt(c, 'format', 'config', ['json', 'html', 'csv'] as const, 'json');
  const { rule, where } = targetAt(c, 'config', 'path');
  const itemsMax = intAt(c, 'items_max', 'config', 1, pollItemsMax, pollItemsDefault);
  const extract: ExtractSpec = {
    format,
    items: stringAt(c, 'items', 'config', { lengthMax: 1000 }),
    fields: parseFields(c, format),
    key: where,
    ts: stringAt(c, 'ts', 'config', { lengthMax: 1000 }),
    itemsMax,
  };
  checkPaths(extract);
  return {
    url,
    method,
    body,
    headers: parseHeaders(c.headers),
    schedule: parseSchedule(c),
    timeoutMs: intAt(c, 'timeout_ms', 'config', 100, pollTimeoutMsMax, pollTimeoutMsDefault),
    bodyBytesMax: intAt(c, 'body_bytes_max', 'config', 1, pollBodyBytesMax, pollBodyBytesDefault),
    redirectsMax: intAt(c, 'redirects_max', 'config', 0, pollRedirectsMax, pollRedirectsDefault),
    target: rule,
    extract,
  };
}

function parseUrl(c: Members): string {
  const opts = { lengthMax: 8192, protocols: ['http:', 'https:'], expected: 'an http:// or https:// URL' };
  return urlAt(c, 'url', 'config', opts).url.toString();
}

function parseSchedule(c: Members): PollConfig['schedule'] {
  if (c.cron !== undefined && c.interval_s !== undefined) {
    throw new ConnectorConfigError('config.cron', 'and config.interval_s exclude each other: give one');
  }
  if (c.cron !== undefined) {
    const cron = stringAt(c, 'cron', 'config', { lengthMax: 200 })!;
    try {
      new Cron(cron, { paused: true }).stop();
    } catch (err) {
      throw new ConnectorConfigError('config.cron', `is not a cron expression: ${(err as Error).message}`);
    }
    return { cron };
  }
  if (c.interval_s === undefined)
    throw new ConnectorConfigError('config.interval_s', 'is required (or give config.cron)');
  return { intervalS: intAt(c, 'interval_s', 'config', 1, pollIntervalSecondsMax, 60) };
}

function parseHeaders(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  const h = objectAt(raw, 'config.headers');
  const entries = Object.entries(h);
  if (entries.length > pollHeadersMax)
    throw new ConnectorConfigError('config.headers', `may hold at most ${pollHeadersMax} headers`);
  for (const [name, value] of entries) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      throw new ConnectorConfigError(`config.headers.${name}`, 'is not a header name');
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) {
      throw new ConnectorConfigError(`config.headers.${name}`, 'must be a string without line breaks');
    }
  }
  return h as Record<string, string>;
}

function parseFields(c: Members, format: ExtractSpec['format']): ExtractSpec['fields'] {
  if (c.fields === undefined || c.fields === null) {
    if (format === 'html')
      throw new ConnectorConfigError('config.fields', 'is required for html (a CSS selector per field)');
    return undefined;
  }
  const f = objectAt(c.fields, 'config.fields');
  const entries = Object.entries(f);
  if (entries.length === 0 || entries.length > pollFieldsMax) {
    throw new ConnectorConfigError('config.fields', `must name 1 to ${pollFieldsMax} fields`);
  }
  const out: Record<string, FieldSpec> = {};
  for (const [name, spec] of entries) {
    const at = `config.fields.${name}`;
    if (!fieldNameRegex.test(name))
      throw new ConnectorConfigError(at, `is not a field name (${fieldNameRegex.source})`);
    if (typeof spec === 'string' && spec.length > 0) out[name] = { path: spec };
    else if (spec !== null && typeof spec === 'object' && !Array.isArray(spec)) {
      const s = spec as Members;
      onlyMembers(s, at, ['path', 'unit']);
      const unit = stringAt(s, 'unit', at, { lengthMax: 16 });
      if (unit !== undefined && !/^[A-Za-z0-9_]+$/.test(unit)) {
        throw new ConnectorConfigError(
          `${at}.unit`,
          'must be letters, digits or _ (the field is named <name>_<unit>: temp_c)',
        );
      }
      out[name] = { path: stringAt(s, 'path', at, { required: true, lengthMax: 1000 })!, unit };
    } else throw new ConnectorConfigError(at, 'must be a path string or {path, unit?}');
  }
  return out;
}

/** Refuses paths and selectors that cannot work, at definition time rather than at every poll. */
function checkPaths(spec: ExtractSpec): void {
  const paths = [
    ['config.items', spec.items ?? ''] as [string, string],
    ['config.target.path', spec.key ?? ''] as [string, string],
    ['config.ts', spec.ts ?? ''] as [string, string],
    ...Object.entries(spec.fields ?? {}).map(([n, f]): [string, string] => [`config.fields.${n}`, f.path]),
  ].filter(([, p]) => p !== '');
  for (const [member, path] of paths) {
    try {
      if (spec.format === 'json' && !isPointer(path)) {
        if (!path.startsWith('$')) throw new Error("a JSONPath starts with '$', a JSON Pointer with '/'");
        // jsonpath-plus parses filters lazily: give it something to walk so a broken one throws now.
        JSONPath({ path, json: { a: [{ b: 1 }], b: 1 }, eval: 'safe' });
      }
      if (spec.format === 'html') {
        const { selector } = splitSelector(path);
        if (selector !== '') cheerio.load('<p></p>')(selector);
      }
    } catch (err) {
      const what = spec.format === 'json' ? 'a JSONPath or JSON Pointer' : 'a CSS selector';
      throw new ConnectorConfigError(member, `is not ${what}: ${(err as Error).message}`);
    }
  }
  if (spec.format === 'csv' && spec.items !== undefined) {
    throw new ConnectorConfigError('config.items', 'is not used with csv (every row is an item)');
  }
}

/** The config as the API and logs show it: header values and URL credentials replaced. */
export function redactPollConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  if (typeof out.url === 'string') out.url = redactUrl(out.url);
  if (out.headers && typeof out.headers === 'object') {
    out.headers = Object.fromEntries(Object.keys(out.headers).map((k) => [k, redactedMarker]));
  }
  return out;
}

/** A PATCH that sends redacted values back keeps the stored secrets. */
export function keepPollSecrets(
  next: Record<string, unknown>,
  stored: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...next };
  if (typeof out.url === 'string' && typeof stored.url === 'string' && out.url === redactUrl(stored.url)) {
    out.url = stored.url;
  }
  const headers = out.headers as Record<string, unknown> | undefined;
  const old = (stored.headers ?? {}) as Record<string, unknown>;
  if (headers && typeof headers === 'object') {
    out.headers = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k, v === redactedMarker && k in old ? old[k] : v]),
    );
  }
  return out;
}
