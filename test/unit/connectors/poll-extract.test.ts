// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import {
  csvValue,
  type ExtractSpec,
  extractItems,
  jsonPointer,
  numberInText,
  splitSelector,
} from '../../../connectors/poll/extract.js';

const spec = (s: Partial<ExtractSpec>): ExtractSpec => ({ format: 'json', itemsMax: 100, ...s });

describe('numberInText', () => {
  it.each([
    ['21.5 °C', 21.5],
    ['  -3 ', -3],
    ['\u22124.5°F', -4.5],
    ['1,204.5 kWh', 1204.5],
    ['1e3 lux', 1000],
    ['42', 42],
    ['2026-11-25', undefined],
    ['12:30', undefined],
    ['n/a', undefined],
    ['', undefined],
    ['1.2.3', undefined],
  ])('%j → %j', (text, expected) => {
    expect(numberInText(text)).toBe(expected);
  });
});

describe('jsonPointer (RFC 6901)', () => {
  const doc = { a: { 'b/c': [10, { 'm~n': 'x' }] }, '': 'root-empty' };
  it.each([
    ['', doc],
    ['/a/b~1c/0', 10],
    ['/a/b~1c/1/m~0n', 'x'],
    ['/', 'root-empty'],
    ['/a/missing', undefined],
    ['/a/b~1c/01', undefined],
    ['/a/b~1c/5', undefined],
  ])('%j', (pointer, expected) => {
    expect(jsonPointer(doc, pointer)).toEqual(expected);
  });
});

describe('splitSelector', () => {
  it.each([
    ['td.t', { selector: 'td.t', attr: undefined }],
    ['a.link@href', { selector: 'a.link', attr: 'href' }],
    ['@data-id', { selector: '', attr: 'data-id' }],
    ['a[href="x@y"]', { selector: 'a[href="x@y"]', attr: undefined }],
  ])('%j', (text, expected) => {
    expect(splitSelector(text)).toEqual(expected);
  });
});

describe('csvValue', () => {
  it.each([
    ['20.5', 20.5],
    ['-3', -3],
    ['.5', 0.5],
    ['true', true],
    ['', undefined],
    ['007a', '007a'],
    ['2026-11-25T10:00:00Z', '2026-11-25T10:00:00Z'],
  ])('%j → %j', (cell, expected) => {
    expect(csvValue(cell)).toEqual(expected);
  });
});

describe('extractItems: JSON', () => {
  it('JSON: JSONPath items, fields by JSONPath and pointer, key and ts; JSON types kept', () => {
    const body = JSON.stringify({
      s: [
        { id: 'A', t: 1.5, ok: true, time: 't0' },
        { id: 'B', ok: false },
      ],
    });
    const r = extractItems(
      body,
      spec({
        items: '$.s[*]',
        fields: { temp: { path: '$.t' }, ok: { path: '/ok' } },
        key: '$.id',
        ts: '$.time',
      }),
    );
    expect(r.rejected).toEqual([]);
    expect(r.items.map((i) => [i.origin, i.key, i.ts, i.data])).toEqual([
      ['items[0]', 'A', 't0', { temp: 1.5, ok: true }],
      ['items[1]', 'B', undefined, { ok: false }],
    ]);
  });

  it('JSON: a path to one array is the list of items; no fields = every member', () => {
    const r = extractItems('{"list": [{"a": 1}, {"b": [1, 2]}]}', spec({ items: '$.list' }));
    expect(r.items.map((i) => i.data)).toEqual([{ a: 1 }, { b: [1, 2] }]);
  });

  it.each([
    ['not JSON', '{"a": ', {}, 'BODY_UNPARSABLE'],
    ['items match nothing', '{"a": 1}', { items: '$.nothing[*]' }, 'ITEMS_NOT_FOUND'],
  ])('JSON: %s → one rejection of the body', (_what, body, s, code) => {
    const r = extractItems(body, spec(s));
    expect(r.items).toEqual([]);
    expect(r.rejected.map((x) => [x.origin, x.code])).toEqual([['body', code]]);
  });

  it('JSON: an item none of whose fields match is rejected, the others kept; items_max caps', () => {
    const body = JSON.stringify([{ t: 1 }, { x: 1 }, { t: 3 }, { t: 4 }]);
    const r = extractItems(body, spec({ items: '$[*]', fields: { t: { path: '$.t' } }, itemsMax: 2 }));
    expect(r.items.map((i) => i.data)).toEqual([{ t: 1 }, { t: 3 }]);
    expect(r.rejected.map((x) => [x.origin, x.code])).toEqual([
      ['items[1]', 'NO_FIELDS'],
      ['items[2…]', 'TOO_MANY_ITEMS'],
    ]);
  });
});

describe('extractItems: HTML and CSV', () => {
  it('HTML: selectors per field relative to each item, attributes, numbers parsed, units as suffix', () => {
    const page = `<ul><li data-id="n1"><b>North</b><i>21.5 °C</i></li><li data-id="n2"><b>South</b></li><li></li></ul>`;
    const r = extractItems(
      page,
      spec({
        format: 'html',
        items: 'li',
        key: '@data-id',
        fields: { name: { path: 'b' }, temp: { path: 'i', unit: 'c' } },
      }),
    );
    expect(r.items.map((i) => [i.key, i.data])).toEqual([
      ['n1', { name: 'North', temp_c: 21.5 }],
      ['n2', { name: 'South' }],
    ]);
    expect(r.rejected.map((x) => [x.origin, x.code])).toEqual([['items[2]', 'SELECTOR_MATCHED_NOTHING']]);
  });

  it('HTML: items that match nothing reject the page', () => {
    const r = extractItems(
      '<p>x</p>',
      spec({ format: 'html', items: 'tr.row', fields: { a: { path: 'td' } } }),
    );
    expect(r.rejected.map((x) => x.code)).toEqual(['ITEMS_NOT_FOUND']);
  });

  it('CSV: header row → fields, typed cells, chosen columns, key and ts columns', () => {
    const body = '\ufeffid,temp,when,note\nA,20.5,2026-11-25T10:00:00Z,"a, b"\nB,,2026-11-25T10:00:01Z,\n';
    const all = extractItems(body, spec({ format: 'csv', key: 'id', ts: 'when' }));
    expect(all.items.map((i) => [i.key, i.ts, i.data])).toEqual([
      ['A', '2026-11-25T10:00:00Z', { id: 'A', temp: 20.5, when: '2026-11-25T10:00:00Z', note: 'a, b' }],
      ['B', '2026-11-25T10:00:01Z', { id: 'B', when: '2026-11-25T10:00:01Z' }],
    ]);
    const some = extractItems(body, spec({ format: 'csv', fields: { t: { path: 'temp' } } }));
    expect(some.items.map((i) => i.data)).toEqual([{ t: 20.5 }]);
    expect(some.rejected.map((x) => [x.origin, x.code])).toEqual([['rows[2]', 'NO_FIELDS']]);
  });

  it('CSV: ragged rows reject the body', () => {
    const r = extractItems('a,b\n1,2,3\n', spec({ format: 'csv' }));
    expect(r.rejected.map((x) => x.code)).toEqual(['BODY_UNPARSABLE']);
  });
});
