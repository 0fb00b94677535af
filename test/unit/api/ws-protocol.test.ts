// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import {
  checkCursor,
  closeCodes,
  closeReason,
  dataFrame,
  originAllowed,
  parseClientFrame,
  urlCarriesCredential,
} from '../../../api/ws/protocol.js';

describe('parseClientFrame', () => {
  it.each([
    ['{"type":"auth","token":"tmi_x"}', { type: 'auth', token: 'tmi_x' }],
    ['{"type":"auth","token":"t","listener":"l"}', { type: 'auth', token: 't', listener: 'l' }],
    ['{"type":"subscribe"}', { type: 'subscribe', from: 'now' }],
    ['{"type":"subscribe","from":"oldest"}', { type: 'subscribe', from: 'oldest' }],
    ['{"type":"resume","cursor":0}', { type: 'resume', cursor: 0 }],
    ['{"type":"resume","cursor":123456789}', { type: 'resume', cursor: 123456789 }],
    ['{"type":"ping"}', { type: 'ping' }],
  ])('%s → %j', (text, frame) => {
    expect(parseClientFrame(text)).toEqual({ ok: true, frame });
  });

  it.each([
    ['not json', /JSON object/],
    ['[1]', /JSON object/],
    ['null', /JSON object/],
    ['{"type":"auth"}', /token/],
    ['{"type":"auth","token":""}', /token/],
    ['{"type":"auth","token":5}', /token/],
    ['{"type":"auth","token":"t","listener":7}', /listener/],
    ['{"type":"subscribe","from":"yesterday"}', /from/],
    ['{"type":"resume"}', /cursor/],
    ['{"type":"resume","cursor":-1}', /cursor/],
    ['{"type":"resume","cursor":1.5}', /cursor/],
    ['{"type":"resume","cursor":"5"}', /cursor/],
    ['{"type":"resume","cursor":1e300}', /cursor/],
    ['{"type":"hello"}', /unknown frame type/],
    ['{}', /unknown frame type/],
  ])('%s is refused', (text, detail) => {
    const parsed = parseClientFrame(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.detail).toMatch(detail);
  });
});

describe('originAllowed', () => {
  it.each([
    [undefined, 'db.local:3000', '', true],
    ['http://db.local:3000', 'db.local:3000', '', true],
    ['http://DB.local:3000', 'db.local:3000', '', true],
    ['http://evil.example', 'db.local:3000', '', false],
    ['http://db.local:3001', 'db.local:3000', '', false],
    ['null', 'db.local:3000', '', false],
    ['https://app.example.com', 'db.local:3000', 'https://app.example.com', true],
    ['https://app.example.com', 'db.local:3000', ' https://other.example , https://app.example.com/ ', true],
    ['http://app.example.com', 'db.local:3000', 'https://app.example.com', false],
    ['http://db.local:3000', 'db.local:3000', 'https://app.example.com', false],
    ['https://anything.example', 'db.local:3000', '*', true],
    [undefined, undefined, 'https://app.example.com', true],
  ])('Origin %s to host %s with allowlist %j → %s', (origin, host, allowlist, expected) => {
    expect(originAllowed(origin, host, allowlist)).toBe(expected);
  });
});

describe('checkCursor', () => {
  it.each([
    [0, 0, 0, 'ok'],
    [0, 1, 10, 'ok'],
    [5, 1, 10, 'ok'],
    [10, 1, 10, 'ok'],
    [11, 1, 10, 'ahead'],
    [4, 6, 10, 'expired'],
    [5, 6, 10, 'ok'],
    [9, 11, 10, 'expired'],
    [10, 11, 10, 'ok'],
  ])('cursor %d with stream %d..%d → %s', (cursor, first, last, expected) => {
    expect(checkCursor(cursor, first, last)).toBe(expected);
  });
});

describe('frames', () => {
  it.each([
    ['{"type":"event","data":{"a":1}}', 7, '{"cursor":7,"type":"event","data":{"a":1}}'],
    ['{}', 3, '{"cursor":3}'],
    ['[1]', 3, undefined],
    ['', 3, undefined],
    ['{"unterminated"', 3, undefined],
    ['{"data":{"名前":"ü"}}', 12, '{"cursor":12,"data":{"名前":"ü"}}'],
  ])('dataFrame(%s, %d)', (payload, cursor, expected) => {
    const frame = dataFrame(cursor, Buffer.from(payload))?.toString('utf8');
    expect(frame).toBe(expected);
    if (frame) expect(JSON.parse(frame).cursor).toBe(cursor);
  });

  it.each([
    ['', false],
    ['?from=1', false],
    ['?token=abc', true],
    ['?access_token=abc', true],
    ['?api_key=x&b=1', true],
  ])('urlCarriesCredential(%j) → %s', (search, expected) => {
    expect(urlCarriesCredential(search)).toBe(expected);
  });

  it('keeps close reasons within 123 bytes, even in multi-byte text', () => {
    expect(Buffer.byteLength(closeReason('é'.repeat(200)))).toBeLessThanOrEqual(123);
    expect(closeReason('short')).toBe('short');
  });

  it('uses application close codes for application reasons', () => {
    for (const [name, code] of Object.entries(closeCodes)) {
      if (['goingAway', 'messageTooBig', 'internalError'].includes(name)) continue;
      expect(code, name).toBeGreaterThanOrEqual(4000);
      expect(code, name).toBeLessThan(5000);
    }
  });
});
