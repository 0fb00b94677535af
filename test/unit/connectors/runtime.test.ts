// SPDX-License-Identifier: MIT
import dns from 'node:dns';
import { describe, expect, it } from 'vitest';
import { parsePollConfig, redactPollConfig } from '../../../connectors/poll/config.js';
import { guardedLookup, refusedAddress } from '../../../connectors/poll/guard.js';
import { backoffDelayMs, parseRetryAfterMs } from '../../../connectors/runtime/backoff.js';
import { parseSqlConfig } from '../../../connectors/sql/config.js';
import { pgTimestampToIso } from '../../../connectors/sql/table.js';

describe('backoffDelayMs', () => {
  const policy = { initialMs: 1000, maxMs: 60_000 };
  it.each([
    [1, 0, undefined, 500],
    [1, 1, undefined, 1000],
    [2, 0.5, undefined, 1500],
    [4, 1, undefined, 8000],
    [10, 1, undefined, 60_000],
    [40, 0, undefined, 30_000],
    [1, 0, 30_000, 30_000],
    [1, 0, 10 * 3600_000, 60_000],
    [6, 1, 1000, 32_000],
  ])('failures %i, random %d, Retry-After %j → %i ms', (failures, random, retryAfter, expected) => {
    expect(backoffDelayMs(policy, failures, random, retryAfter)).toBe(expected);
  });
});

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2026-11-25T10:00:00Z');
  it.each([
    ['30', 30_000],
    ['0', 0],
    ['Wed, 25 Nov 2026 10:01:00 GMT', 60_000],
    ['Wed, 25 Nov 2026 09:00:00 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
  ])('%j → %j', (header, expected) => {
    expect(parseRetryAfterMs(header, now)).toBe(expected);
  });
});

describe('refusedAddress (SSRF guard)', () => {
  it.each([
    ['8.8.8.8', false, undefined],
    ['2001:4860:4860::8888', false, undefined],
    ['169.254.169.254', true, 'link-local'],
    ['::ffff:169.254.169.254', true, 'link-local'],
    ['fd00:ec2::254', true, 'link-local'],
    ['fe80::1', true, 'link-local'],
    ['224.0.0.1', true, 'link-local'],
    ['127.0.0.1', false, 'loopback or private'],
    ['10.1.2.3', false, 'loopback or private'],
    ['172.16.0.1', false, 'loopback or private'],
    ['192.168.1.1', false, 'loopback or private'],
    ['100.64.0.1', false, 'loopback or private'],
    ['0.0.0.0', false, 'loopback or private'],
    ['::1', false, 'loopback or private'],
    ['fc00::1', false, 'loopback or private'],
    ['127.0.0.1', true, undefined],
    ['10.1.2.3', true, undefined],
  ])('%s (allow private: %j)', (ip, allowPrivate, reason) => {
    const r = refusedAddress(ip, allowPrivate as boolean);
    if (reason === undefined) expect(r).toBeUndefined();
    else expect(r).toContain(reason);
  });

  it('checks the addresses a name resolves to: localhost is refused without TMIDB_POLL_ALLOW_PRIVATE', async () => {
    const lookup = (allow: boolean) =>
      new Promise<{ err: any; address: unknown }>((resolve) =>
        guardedLookup(allow)('localhost', { all: true }, (err, address) => resolve({ err, address })),
      );
    const refused = await lookup(false);
    expect([refused.err?.code, refused.err?.reason]).toEqual([
      'CONNECTOR_SOURCE_FAILED',
      'DESTINATION_REFUSED',
    ]);
    const allowed = await lookup(true);
    expect(allowed.err).toBeNull();
    const expected = await dns.promises.lookup('localhost', { all: true });
    expect(allowed.address).toEqual(expected);
  });
});

describe('connector configs name the bad member', () => {
  const poll = { url: 'https://example.org/x.json', interval_s: 10, target: { by: 'name', path: '$.id' } };
  it.each([
    [{ ...poll, url: 'ftp://x' }, /^config\.url /],
    [{ ...poll, interval_s: 0 }, /^config\.interval_s /],
    [{ ...poll, interval_s: undefined }, /^config\.interval_s is required/],
    [{ ...poll, cron: 'every now and then' }, /^config\.cron /],
    [{ ...poll, interval_s: undefined, cron: 'nope' }, /^config\.cron is not a cron expression/],
    [{ ...poll, timeout_ms: 10 }, /^config\.timeout_ms /],
    [{ ...poll, format: 'xml' }, /^config\.format /],
    [{ ...poll, items: '$[?(' }, /^config\.items is not a JSONPath/],
    [
      { ...poll, format: 'html', target: { by: 'name', path: 'td' }, fields: { t: 'td:::nope' } },
      /^config\.fields\.t is not a CSS selector/,
    ],
    [{ ...poll, fields: { 'bad name': '$.x' } }, /^config\.fields\.bad name /],
    [{ ...poll, fields: { t: { path: '$.t', unit: '°C' } } }, /^config\.fields\.t\.unit /],
    [{ ...poll, target: { by: 'owner', path: '$.id' } }, /^config\.target\.by /],
    [{ ...poll, target: { id: 'nope' } }, /^config\.target\.id /],
    [{ ...poll, target: { by: 'name' } }, /^config\.target\.path is required/],
    [
      { ...poll, target: { by: 'name', path: '$.id', create_kind: 'bad kind' } },
      /^config\.target\.create_kind /,
    ],
    [{ ...poll, headers: { 'x-key': 1 } }, /^config\.headers\.x-key /],
    [{ ...poll, body: '{}' }, /^config\.body /],
    [{ ...poll, intervall_s: 5 }, /^config\.intervall_s is not a member/],
  ])('poll %#', (config, message) => {
    expect(() => parsePollConfig(config)).toThrow(message);
  });

  const sql = {
    url: 'postgres://u:p@h/db',
    query: 'SELECT * FROM t WHERE id > $1 LIMIT $2',
    cursor: 'id',
    target: { by: 'name', column: 'c' },
  };
  it.each([
    [{ ...sql, url: 'mysql://x' }, /^config\.url /],
    [{ ...sql, query: 'SELECT * FROM t WHERE id > $1' }, /^config\.query /],
    [{ ...sql, cursor: undefined }, /^config\.cursor is required/],
    [{ ...sql, cursor_type: 'uuid' }, /^config\.cursor_type /],
    [{ ...sql, batch_rows: 0 }, /^config\.batch_rows /],
    [{ ...sql, target: { by: 'name', path: 'c' } }, /^config\.target\.path is not a member/],
    [{ outbox: false }, /^config\.outbox /],
    [{ outbox: true, url: 'postgres://x' }, /^config\.url is not a member/],
  ])('sql %#', (config, message) => {
    expect(() => parseSqlConfig(config)).toThrow(message);
  });

  it('defaults a timestamp cursor to -infinity and an incrementing one to 0', () => {
    expect(parseSqlConfig(sql)).toMatchObject({
      cursorType: 'incrementing',
      cursorStart: '0',
      intervalS: 10,
      batchRows: 500,
    });
    expect(parseSqlConfig({ ...sql, cursor_type: 'timestamp' })).toMatchObject({ cursorStart: '-infinity' });
  });

  it('redacts header values and URL passwords', () => {
    const shown = redactPollConfig({
      ...poll,
      url: 'https://user:pw@example.org/x',
      headers: { authorization: 'Bearer t' },
    });
    expect(shown).toMatchObject({ url: 'https://user:***@example.org/x', headers: { authorization: '***' } });
  });
});

describe('pgTimestampToIso', () => {
  it.each([
    ['2026-11-25 13:00:00.123456+00', '2026-11-25T13:00:00.123456Z'],
    ['2026-11-25 13:00:00+05:30', '2026-11-25T13:00:00+05:30'],
    ['2026-11-25 13:00:00-08', '2026-11-25T13:00:00-08:00'],
    ['2026-11-25 13:00:00', '2026-11-25T13:00:00Z'],
    ['hello', 'hello'],
  ])('%s', (text, iso) => {
    expect(pgTimestampToIso(text)).toBe(iso);
  });
});

describe('config.url of poll and sql connectors (one urlAt)', () => {
  const target = { id: '0195c1a4-7e6b-7000-8000-000000000001' };
  const poll = (url: unknown) => parsePollConfig({ url, interval_s: 10, target });
  const sql = (url: unknown) =>
    parseSqlConfig({
      url,
      query: 'SELECT id FROM t WHERE id > $1 ORDER BY id LIMIT $2',
      cursor: 'id',
      target: { by: 'name', column: 'c' },
    });
  it.each([
    ['poll', poll, 'ftp://example.org/x', /config\.url must be an http:\/\/ or https:\/\/ URL/],
    ['poll', poll, 'not a url', /config\.url is not a URL/],
    ['poll', poll, undefined, /config\.url is required/],
    ['sql', sql, 'https://db.example/shop', /config\.url must be a postgres:\/\/ URL/],
    ['sql', sql, '::', /config\.url is not a URL/],
  ])('%s refuses %j', (_kind, parse, url, message) => {
    expect(() => parse(url)).toThrow(message);
  });
  it('keeps what a valid URL says: poll normalized, sql as written', () => {
    expect(poll('https://example.org/a b')).toMatchObject({ url: 'https://example.org/a%20b' });
    expect(sql('postgres://reader:pw@db.example:5432/shop')).toMatchObject({
      url: 'postgres://reader:pw@db.example:5432/shop',
    });
  });
});
