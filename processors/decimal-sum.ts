// SPDX-License-Identifier: MIT
// An exact sum of numbers as JSON writes them (String(v)) and PostgreSQL's numeric reads them: 0.1 + 0.2 is
// 0.3, not 0.30000000000000004, and the result does not depend on the order of the additions. The common
// values (integers, a few decimals) add as a safe integer count of 10^-scale, with no allocation; anything
// else (exponents, 17 digits, a sum past 2^53) goes on as a BigInt.

/** A decimal: digits × 10^-scale. */
export interface Decimal {
  readonly digits: bigint;
  readonly scale: number;
}

const decimalPattern = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/;

/** The exact decimal JSON writes for a finite number. */
export function decimalOf(v: number): Decimal {
  if (Number.isSafeInteger(v)) return { digits: BigInt(v), scale: 0 };
  const m = decimalPattern.exec(String(v));
  if (m === null) throw new RangeError(`not a finite number: ${v}`);
  const frac = m[3] ?? '';
  const scale = frac.length - Number(m[4] ?? 0);
  const digits = BigInt(`${m[1]}${m[2]}${frac}`);
  return scale >= 0 ? { digits, scale } : { digits: digits * 10n ** BigInt(-scale), scale: 0 };
}

export function addDecimal(a: Decimal, b: Decimal): Decimal {
  if (a.scale === b.scale) return { digits: a.digits + b.digits, scale: a.scale };
  const [lo, hi] = a.scale < b.scale ? [a, b] : [b, a];
  return { digits: lo.digits * 10n ** BigInt(hi.scale - lo.scale) + hi.digits, scale: hi.scale };
}

/** As PostgreSQL's numeric input reads it: `-12.3400` keeps its scale (numeric sums keep the largest). */
export function decimalText(d: Decimal): string {
  if (d.scale === 0) return d.digits.toString();
  const negative = d.digits < 0n;
  const abs = (negative ? -d.digits : d.digits).toString().padStart(d.scale + 1, '0');
  const point = abs.length - d.scale;
  return `${negative ? '-' : ''}${abs.slice(0, point)}.${abs.slice(point)}`;
}

export class DecimalSum {
  /** The sum in units of 10^-scale while it is a safe integer … */
  private small = 0;
  /** … else here. */
  private big: Decimal | undefined;
  private scale = 0;

  add(v: number): void {
    let digits: number;
    let scale = 0;
    if (Number.isSafeInteger(v)) digits = v;
    else {
      const s = String(v);
      const dot = s.indexOf('.');
      digits = dot < 0 || s.includes('e') ? Number.NaN : Number(s.slice(0, dot) + s.slice(dot + 1));
      scale = s.length - dot - 1;
      if (!Number.isSafeInteger(digits)) {
        this.addDecimal(decimalOf(v));
        return;
      }
    }
    if (this.big === undefined) {
      const [ours, theirs] =
        scale > this.scale
          ? [this.small * 10 ** (scale - this.scale), digits]
          : [this.small, digits * 10 ** (this.scale - scale)];
      const sum = ours + theirs;
      if (Number.isSafeInteger(ours) && Number.isSafeInteger(theirs) && Number.isSafeInteger(sum)) {
        this.small = sum;
        this.scale = Math.max(scale, this.scale);
        return;
      }
    }
    this.addDecimal({ digits: BigInt(digits), scale });
  }

  addDecimal(d: Decimal): void {
    this.big = addDecimal(this.value(), d);
  }

  value(): Decimal {
    return this.big ?? { digits: BigInt(this.small), scale: this.scale };
  }
}
