// SPDX-License-Identifier: MIT
// Units the normalizer recognises in names and converts from, to the canonical field's unit:
// value · scale + offset. Every conversion is linear, so a mapping is one rule (mapping_rule).

export interface Conversion {
  readonly scale: number;
  readonly offset: number;
}

/** Pseudo-unit of a 0–1 fraction of a percent-like quantity (× 100 → %). */
export const fractionUnit = 'fraction';

/** To unit → from unit → conversion. */
const conversions: Readonly<Record<string, Readonly<Record<string, Conversion>>>> = {
  C: { F: { scale: 5 / 9, offset: -160 / 9 }, K: { scale: 1, offset: -273.15 } },
  hPa: {
    Pa: { scale: 0.01, offset: 0 },
    kPa: { scale: 10, offset: 0 },
    mbar: { scale: 1, offset: 0 },
    bar: { scale: 1000, offset: 0 },
    psi: { scale: 68.94757293168361, offset: 0 },
    inHg: { scale: 33.86388666666671, offset: 0 },
  },
  m: { ft: { scale: 0.3048, offset: 0 } },
  km: { mi: { scale: 1.609344, offset: 0 } },
  'km/h': {
    mph: { scale: 1.609344, offset: 0 },
    'm/s': { scale: 3.6, offset: 0 },
    kn: { scale: 1.852, offset: 0 },
  },
  'm/s': {
    'km/h': { scale: 1 / 3.6, offset: 0 },
    mph: { scale: 0.44704, offset: 0 },
    kn: { scale: 1852 / 3600, offset: 0 },
  },
  V: { mV: { scale: 0.001, offset: 0 } },
  A: { mA: { scale: 0.001, offset: 0 } },
  W: { kW: { scale: 1000, offset: 0 } },
  kWh: { Wh: { scale: 0.001, offset: 0 }, MWh: { scale: 1000, offset: 0 } },
  mm: { in: { scale: 25.4, offset: 0 } },
  '%': { [fractionUnit]: { scale: 100, offset: 0 } },
};

/** The conversion from `from` to `to`: identity when they are equal; undefined when none is known. */
export function conversionOf(from: string, to: string): Conversion | undefined {
  if (from === to) return { scale: 1, offset: 0 };
  return conversions[to]?.[from];
}

/** Units convertible to `to` (besides `to` itself). */
export function sourceUnitsOf(to: string): string[] {
  return Object.keys(conversions[to] ?? {});
}

/** Applies a conversion, dropping floating-point noise (12 significant digits). */
export function convertValue(value: number, conversion: Conversion): number {
  if (conversion.scale === 1 && conversion.offset === 0) return value;
  return Number((value * conversion.scale + conversion.offset).toPrecision(12));
}
