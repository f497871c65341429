// Exact decimal arithmetic on the strings the engine sends (prices, quantities, balances are
// decimals, never floats). A decimal is a bigint of units and a scale: 12.345 = 12345n, 3.

export interface Dec {
  units: bigint;
  scale: number;
}

const DEC_RE = /^([+-])?(\d+)(?:\.(\d+))?$/;

/** Parse "12.34", "-0.5", "7"; `null` for anything else (empty, "1e5", "1,000", "abc"). */
export function parseDec(s: string | null | undefined): Dec | null {
  if (s === null || s === undefined) return null;
  const m = DEC_RE.exec(s.trim());
  if (!m) return null;
  const sign = m[1] === "-" ? -1n : 1n;
  const int = m[2] ?? "0";
  const frac = m[3] ?? "";
  return { units: sign * BigInt(int + frac), scale: frac.length };
}

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

function align(a: Dec, b: Dec): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.units * pow10(scale - a.scale), b.units * pow10(scale - b.scale), scale];
}

export function cmp(a: Dec, b: Dec): number {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function add(a: Dec, b: Dec): Dec {
  const [x, y, scale] = align(a, b);
  return { units: x + y, scale };
}

export function sub(a: Dec, b: Dec): Dec {
  const [x, y, scale] = align(a, b);
  return { units: x - y, scale };
}

export function mul(a: Dec, b: Dec): Dec {
  return { units: a.units * b.units, scale: a.scale + b.scale };
}

/** a / b truncated to `scale` decimals (toward zero). `null` when b is zero. */
export function div(a: Dec, b: Dec, scale: number): Dec | null {
  if (b.units === 0n) return null;
  // a/b = (a.units / 10^a.scale) / (b.units / 10^b.scale)
  const num = a.units * pow10(scale + b.scale);
  const den = b.units * pow10(a.scale);
  return { units: num / den, scale };
}

export function isZero(a: Dec): boolean {
  return a.units === 0n;
}

/** Whether `a` is a whole multiple of `step` (step > 0). */
export function isMultiple(a: Dec, step: Dec): boolean {
  const [x, y] = align(a, step);
  if (y === 0n) return true;
  return x % y === 0n;
}

/** The largest multiple of `step` that is ≤ a (a ≥ 0). */
export function floorTo(a: Dec, step: Dec): Dec {
  const [x, y, scale] = align(a, step);
  if (y === 0n) return a;
  const q = x / y;
  return { units: q * y, scale };
}

/** Canonical string: no trailing zeros, no exponent ("1.50" → "1.5", "2.000" → "2"). */
export function toStr(a: Dec): string {
  const neg = a.units < 0n;
  let digits = (neg ? -a.units : a.units).toString();
  if (a.scale > 0) {
    digits = digits.padStart(a.scale + 1, "0");
    let int = digits.slice(0, digits.length - a.scale);
    let frac = digits.slice(digits.length - a.scale).replace(/0+$/, "");
    if (int === "") int = "0";
    digits = frac.length > 0 ? `${int}.${frac}` : int;
  }
  return neg && digits !== "0" ? `-${digits}` : digits;
}

/** Round half away from zero to `scale` decimals. */
export function roundTo(a: Dec, scale: number): Dec {
  if (a.scale <= scale) return { units: a.units * pow10(scale - a.scale), scale };
  const f = pow10(a.scale - scale);
  const half = f / 2n;
  const q = a.units >= 0n ? (a.units + half) / f : (a.units - half) / f;
  return { units: q, scale };
}

export function dec(s: string): Dec {
  const d = parseDec(s);
  if (d === null) throw new Error(`not a decimal: ${s}`);
  return d;
}

/** A float as a decimal string with up to `scale` decimals (for percentages of a balance). */
export function fromNumber(n: number, scale: number): Dec {
  const s = n.toFixed(scale);
  return parseDec(s) ?? { units: 0n, scale: 0 };
}

export function decimalsOf(step: string): number {
  const d = parseDec(step);
  if (!d) return 0;
  return toStr(d).split(".")[1]?.length ?? 0;
}
