// SPDX-License-Identifier: MIT
// The normalizer's feature extraction: (kind, field name, sample values) → a 0/1 vector of
// `featureCount` floats. The same algorithm is written in Python for training
// (models/normalizer/features.py); models/normalizer/feature-cases.json holds cases both test suites
// check, so the model sees at run time exactly what it was trained on. The algorithm, step by step:
//
// 1. The name is NFKC-normalised (`℃` → `°C`) and cut into tokens, code point by code point. A code
//    point is Hangul (U+1100–11FF, U+3130–318F, U+AC00–D7A3), an ASCII capital, another letter
//    (Unicode L*), a decimal digit (Nd), a unit sign (`%`, `°`) or a separator (anything else: `_`,
//    `.`, `-`, spaces, brackets, `/` …). A separator ends a token; a unit sign is a token of its own; a
//    token also ends where Hangul meets non-Hangul, before a capital that follows a lowercase letter or
//    digit (`tempF` → temp, F), and before the last capital of a run followed by a lowercase letter
//    (`HTTPServer` → HTTP, Server). Tokens are lowercased.
// 2. Strings, each hashed (FNV-1a 32 over UTF-8) into a slot of [denseCount, featureCount):
//    `t:` each token · `b:` each pair of neighbours `a|b` · `f:` first and `l:` last token · `hs:` each
//    Hangul syllable · `c3:`/`c4:` each 3- and 4-code-point window of `<tokens joined by spaces>` ·
//    `u:` the unit named by a token or by two neighbours glued (`km`+`h`), `ul:` the same for the last
//    one or two tokens · `k:` each token of the kind.
// 3. Dense slots [0, denseCount) from the first `sampleValuesMax` non-null values (see valueSlots).
// Every feature is 0 or 1 (no counts, no norms): nothing for floating point to disagree about.

export const featureVersion = 'tmidb-normalizer-features/1';
export const featureCount = 4096;
export const denseCount = 32;
export const sampleValuesMax = 16;

/** Lowercased unit spellings (a token, or two neighbouring tokens glued) → the unit they name. */
export const unitAliases: Readonly<Record<string, string>> = {
  c: 'C',
  '°c': 'C',
  degc: 'C',
  celsius: 'C',
  섭씨: 'C',
  f: 'F',
  '°f': 'F',
  degf: 'F',
  fahrenheit: 'F',
  화씨: 'F',
  k: 'K',
  kelvin: 'K',
  hpa: 'hPa',
  mbar: 'mbar',
  mb: 'mbar',
  pa: 'Pa',
  kpa: 'kPa',
  bar: 'bar',
  psi: 'psi',
  inhg: 'inHg',
  m: 'm',
  meter: 'm',
  meters: 'm',
  metres: 'm',
  ft: 'ft',
  feet: 'ft',
  km: 'km',
  mi: 'mi',
  miles: 'mi',
  kmh: 'km/h',
  kph: 'km/h',
  mph: 'mph',
  ms: 'm/s',
  mps: 'm/s',
  kn: 'kn',
  kt: 'kn',
  kts: 'kn',
  knots: 'kn',
  v: 'V',
  volt: 'V',
  volts: 'V',
  mv: 'mV',
  millivolt: 'mV',
  milliamp: 'mA',
  millibar: 'mbar',
  kilowatt: 'kW',
  a: 'A',
  amp: 'A',
  amps: 'A',
  ma: 'mA',
  w: 'W',
  watt: 'W',
  watts: 'W',
  kw: 'kW',
  kwh: 'kWh',
  wh: 'Wh',
  mwh: 'MWh',
  mm: 'mm',
  in: 'in',
  inch: 'in',
  inches: 'in',
  '%': '%',
  pct: '%',
  percent: '%',
  ratio: 'fraction',
  frac: 'fraction',
  fraction: 'fraction',
  ppm: 'ppm',
  db: 'dB',
  dba: 'dB',
  dbm: 'dBm',
  bpm: 'bpm',
  lux: 'lux',
  lx: 'lux',
  deg: 'deg',
  '°': 'deg',
  rpm: 'rpm',
};

const booleanWords = new Set(['on', 'off', 'open', 'closed', 'true', 'false', 'yes', 'no', '열림', '닫힘']);
const decimalPattern = /^-?\d+(\.\d+)?$/;
const ipPattern = /^\d+\.\d+\.\d+\.\d+$/;
const serialPattern = /^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_-]+$/;
const wordPattern = /^[a-z_]+$/;
const letterPattern = /^\p{L}$/u;
const digitPattern = /^\p{Nd}$/u;

type CharClass = 'hangul' | 'capital' | 'letter' | 'digit' | 'sign' | 'separator';

function classOf(ch: string): CharClass {
  const cp = ch.codePointAt(0)!;
  if ((cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0x3130 && cp <= 0x318f) || (cp >= 0xac00 && cp <= 0xd7a3))
    return 'hangul';
  if (cp >= 0x41 && cp <= 0x5a) return 'capital';
  if (ch === '%' || ch === '°') return 'sign';
  if (letterPattern.test(ch)) return 'letter';
  if (digitPattern.test(ch)) return 'digit';
  return 'separator';
}

function isAsciiLower(ch: string | undefined): boolean {
  return ch !== undefined && ch >= 'a' && ch <= 'z';
}

/** Step 1: the name's tokens, lowercased. */
export function tokensOf(name: string): string[] {
  const chars = [...name.normalize('NFKC')];
  const tokens: string[] = [];
  let current = '';
  let previous: CharClass = 'separator';
  const flush = () => {
    if (current !== '') tokens.push(current.toLowerCase());
    current = '';
  };
  chars.forEach((ch, i) => {
    const cls = classOf(ch);
    if (cls === 'separator' || cls === 'sign') {
      flush();
      if (cls === 'sign') tokens.push(ch);
      previous = cls;
      return;
    }
    const hangulChange = current !== '' && (cls === 'hangul') !== (previous === 'hangul');
    const camel = cls === 'capital' && (previous === 'letter' || previous === 'digit');
    const acronymEnd = cls === 'capital' && previous === 'capital' && isAsciiLower(chars[i + 1]);
    if (hangulChange || camel || acronymEnd) flush();
    current += ch;
    previous = cls;
  });
  flush();
  return tokens;
}

/** Step 2: the hashed features' strings. */
export function featureStrings(kind: string, name: string): string[] {
  const tokens = tokensOf(name);
  const out: string[] = [];
  tokens.forEach((t, i) => {
    out.push(`t:${t}`);
    if (i + 1 < tokens.length) out.push(`b:${t}|${tokens[i + 1]}`);
    for (const ch of t) if (classOf(ch) === 'hangul') out.push(`hs:${ch}`);
  });
  if (tokens.length > 0) out.push(`f:${tokens[0]}`, `l:${tokens[tokens.length - 1]}`);
  const joined = [...`<${tokens.join(' ')}>`];
  for (const n of [3, 4]) {
    for (let i = 0; i + n <= joined.length; i++) out.push(`c${n}:${joined.slice(i, i + n).join('')}`);
  }
  out.push(...unitFeatures(tokens));
  for (const t of tokensOf(kind)) out.push(`k:${t}`);
  return out;
}

function unitFeatures(tokens: readonly string[]): string[] {
  const out: string[] = [];
  const last = tokens.length - 1;
  tokens.forEach((t, i) => {
    const single = unitAliases[t];
    if (single !== undefined) out.push(`u:${single}`, ...(i === last ? [`ul:${single}`] : []));
    if (i < last) {
      const glued = unitAliases[t + tokens[i + 1]];
      if (glued !== undefined) out.push(`u:${glued}`, ...(i + 1 === last ? [`ul:${glued}`] : []));
    }
  });
  return out;
}

/** FNV-1a, 32 bits, over the UTF-8 bytes of `text`. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Step 3: the dense slots set by the sample values. */
export function valueSlots(values: readonly unknown[]): number[] {
  const sample = values.filter((v) => v !== null && v !== undefined).slice(0, sampleValuesMax);
  if (sample.length === 0) return [0];
  if (sample.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    return [1, ...numberSlots(sample as number[])];
  }
  if (sample.every((v) => typeof v === 'boolean')) return [2];
  if (sample.every((v) => typeof v === 'string')) return [3, ...stringSlots(sample as string[])];
  return [4];
}

function numberSlots(xs: readonly number[]): number[] {
  const slots: number[] = [];
  const all = (p: (x: number) => boolean) => xs.every(p);
  if (all(Number.isInteger)) slots.push(5);
  if (all((x) => x >= 0 && x <= 1)) slots.push(6);
  if (all((x) => Math.abs(x) <= 90)) slots.push(7);
  if (all((x) => Math.abs(x) <= 180)) slots.push(8);
  if (xs.some((x) => x < 0)) slots.push(9);
  if (all((x) => x >= 0 && x <= 100)) slots.push(10);
  if (all((x) => x === 0 || x === 1)) slots.push(11);
  const sorted = xs.map(Math.abs).sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const bounds = [1, 10, 100, 1000, 10_000, 1_000_000];
  const bin = bounds.findIndex((b) => median < b);
  slots.push(12 + (bin < 0 ? bounds.length : bin));
  if (xs.length >= 2 && Math.min(...xs) === Math.max(...xs)) slots.push(19);
  if (all((x) => x >= 180 && x <= 350)) slots.push(20);
  if (all((x) => x >= 850 && x <= 1100)) slots.push(21);
  if (all((x) => x >= 0 && x <= 360)) slots.push(22);
  if (xs.some((x) => x !== Math.trunc(x * 1000) / 1000)) slots.push(23);
  return slots;
}

function stringSlots(ss: readonly string[]): number[] {
  const slots: number[] = [];
  if (ss.every((s) => decimalPattern.test(s))) slots.push(24);
  if (ss.every((s) => [...s].length <= 16)) slots.push(25);
  if (ss.every((s) => booleanWords.has(s.toLowerCase()))) slots.push(26);
  if (ss.some((s) => ipPattern.test(s))) slots.push(27);
  if (ss.some((s) => serialPattern.test(s))) slots.push(28);
  if (ss.every((s) => wordPattern.test(s))) slots.push(29);
  return slots;
}

/** The indices set to 1, ascending, without repeats. */
export function activeFeatures(kind: string, name: string, values: readonly unknown[]): number[] {
  const active = new Set<number>(valueSlots(values));
  for (const s of featureStrings(kind, name))
    active.add(denseCount + (fnv1a32(s) % (featureCount - denseCount)));
  return [...active].sort((a, b) => a - b);
}

/** The feature vector of one (kind, name, sample values) triple. */
export function featureVector(kind: string, name: string, values: readonly unknown[]): Float32Array {
  const vector = new Float32Array(featureCount);
  for (const i of activeFeatures(kind, name, values)) vector[i] = 1;
  return vector;
}
