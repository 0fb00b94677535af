// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest';
import { copyField } from '../../../projections/copy.js';

describe('copyField: one field of COPY text format', () => {
  it.each([
    ['plain text', 'plain text'],
    ['back\\slash', 'back\\\\slash'],
    ['tab\there', 'tab\\there'],
    ['new\nline', 'new\\nline'],
    ['carriage\rreturn', 'carriage\\rreturn'],
    ['\\N', '\\\\N'],
    ['{"a":"x\\ny"}', '{"a":"x\\\\ny"}'],
    ['ünïcödé 😀 "quoted"', 'ünïcödé 😀 "quoted"'],
    ['', ''],
  ])('%j → %j', (value, field) => {
    expect(copyField(value)).toBe(field);
  });

  it('writes null as \\N and numbers as they print', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField(1_732_000_000_123_456)).toBe('1732000000123456');
    expect(copyField(-7)).toBe('-7');
  });
});
