// How numbers are shown: the way exchanges show them. Prices use the instrument's tick
// decimals; tiny prices compress their leading zeros (0.00001234 → 0.0₄1234); large numbers get
// thousands separators. Everything works on the decimal strings the engine sends.

import { parseDec, roundTo, toStr } from "./decimal";

const SUBSCRIPT = ["₀", "₁", "₂", "₃", "₄", "₅", "₆", "₇", "₈", "₉"];

function subscript(n: number): string {
  return String(n)
    .split("")
    .map((d) => SUBSCRIPT[Number(d)] ?? d)
    .join("");
}

/** "1234567.891" → "1,234,567.891" (the integer part grouped). */
export function groupThousands(s: string): string {
  const neg = s.startsWith("-");
  const body = neg ? s.slice(1) : s;
  const [int = "0", frac] = body.split(".");
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return (neg ? "-" : "") + (frac !== undefined ? `${grouped}.${frac}` : grouped);
}

/** A decimal string with exactly `decimals` places (rounded half away from zero). */
export function fixed(value: string, decimals: number): string {
  const d = parseDec(value);
  if (!d) return value;
  const r = roundTo(d, decimals);
  const neg = r.units < 0n;
  let digits = (neg ? -r.units : r.units).toString();
  if (decimals > 0) {
    digits = digits.padStart(decimals + 1, "0");
    digits = `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  }
  return (neg && /[1-9]/.test(digits) ? "-" : "") + digits;
}

// The book and tape show the same prices over and over, so formatted prices are remembered; at
// most this many. The screen shows ~120 prices at a time, and as the market drifts every new price
// is a new entry, so a bigger memo is mostly prices long gone (20,000 grew the page's memory by
// ~4 MiB over 6 minutes at 10×; docs/desktop-memory.md).
const PRICE_CACHE_MAX = 2_000;
const priceCache = new Map<string, string>();

/** How many formatted prices are remembered (for tests: the cache must stay bounded). */
export function priceCacheSize(): number {
  return priceCache.size;
}

/**
 * A price with the instrument's decimals. When it has 4 or more zeros right after the decimal
 * point, they are compressed: 0.00001234 → "0.0₄1234" (zero, point, zero, then how many zeros).
 */
export function formatPrice(value: string | null | undefined, decimals: number): string {
  if (value === null || value === undefined || value === "") return "—";
  const key = `${decimals}|${value}`;
  const hit = priceCache.get(key);
  if (hit !== undefined) return hit;
  const out = formatPriceUncached(value, decimals);
  if (priceCache.size >= PRICE_CACHE_MAX) priceCache.clear();
  priceCache.set(key, out);
  return out;
}

function formatPriceUncached(value: string, decimals: number): string {
  const s = fixed(value, decimals);
  const m = /^(-?)0\.(0+)(\d*)$/.exec(s);
  if (m) {
    const zeros = m[2]?.length ?? 0;
    const rest = m[3] ?? "";
    if (zeros >= 4 && rest.length > 0) {
      return `${m[1]}0.0${subscript(zeros)}${rest}`;
    }
  }
  return groupThousands(s);
}

/** A quantity with the step's decimals, grouped. */
export function formatQty(value: string | null | undefined, decimals: number): string {
  if (value === null || value === undefined || value === "") return "—";
  return groupThousands(fixed(value, decimals));
}

/** Money in the quote asset: 2 decimals, grouped (more for tiny amounts so they are not 0.00). */
export function formatMoney(value: string | null | undefined, decimals = 2): string {
  if (value === null || value === undefined || value === "") return "—";
  const d = parseDec(value);
  if (!d) return value;
  const abs = d.units < 0n ? { ...d, units: -d.units } : d;
  let places = decimals;
  // Tiny non-zero amounts (fees on small orders) keep 3 significant digits.
  const asNum = Number(toStr(abs));
  if (asNum > 0 && asNum < 0.01) places = Math.min(8, Math.max(decimals, 2 - Math.floor(Math.log10(asNum))));
  return groupThousands(fixed(value, places));
}

/** A compact amount: 1.2K, 3.4M, 5.6B (for volumes). */
export function formatCompact(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") return "—";
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isFinite(n)) return "—";
  const abs = Math.abs(n);
  const units: [number, string][] = [
    [1e12, "T"],
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "K"],
  ];
  for (const [v, u] of units) {
    if (abs >= v) return `${(n / v).toFixed(2)}${u}`;
  }
  return n.toFixed(2);
}

/** "+1.23%" / "-0.50%" / "0.00%". */
export function formatPct(pct: number | null | undefined, decimals = 2): string {
  if (pct === null || pct === undefined || !Number.isFinite(pct)) return "—";
  const s = pct.toFixed(decimals);
  if (Number(s) === 0) return `${(0).toFixed(decimals)}%`;
  return pct > 0 ? `+${s}%` : `${s}%`;
}

/** A signed money amount: "+12.34" / "-0.56". */
export function formatSigned(value: string | null | undefined, decimals = 2): string {
  if (value === null || value === undefined) return "—";
  const s = formatMoney(value, decimals);
  if (s.startsWith("-") || /^[0.,]+$/.test(s)) return s;
  return `+${s}`;
}

/** The sign of a decimal string: 1, -1 or 0. */
export function signOf(value: string | null | undefined): number {
  const d = parseDec(value ?? "");
  if (!d || d.units === 0n) return 0;
  return d.units > 0n ? 1 : -1;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** Market time as "2024-01-03 14:05:09" (UTC: replays are in exchange time). */
export function formatTime(ms: number | null | undefined, withDate = true): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  const d = new Date(ms);
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  if (!withDate) return time;
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${time}`;
}

/** "24h", "3h 20m", "45m" for a change window. */
export function formatWindow(ms: number): string {
  if (ms >= 86_400_000 - 60_000) return "24h";
  const m = Math.floor(ms / 60_000);
  const h = Math.floor(m / 60);
  if (h > 0) return `${h}h ${m % 60}m`;
  return `${m}m`;
}

/** "PEPEUSDT" → "PEPE/USDT" given the quote asset. */
export function pairName(symbol: string, quote = "USDT"): string {
  return symbol.endsWith(quote) ? `${symbol.slice(0, -quote.length)}/${quote}` : symbol;
}

/** Base asset of a symbol quoted in `quote`. */
export function baseOf(symbol: string, quote = "USDT"): string {
  return symbol.endsWith(quote) ? symbol.slice(0, -quote.length) : symbol;
}

export { toStr };

/**
 * The charts' labels in the page's own font (bundled, already loaded for the rest of the UI)
 * instead of lightweight-charts' list of system fonts (-apple-system, Trebuchet MS, Roboto,
 * Ubuntu…), which WebKit looks up one by one and most Linux desktops lack.
 */
export const CHART_FONT = "Inter, sans-serif";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** A chart's time (seconds since the epoch, a "yyyy-mm-dd" string or a business day) as a UTC date. */
function chartDate(time: unknown): Date | null {
  if (typeof time === "number") return Number.isFinite(time) ? new Date(time * 1000) : null;
  if (typeof time === "string") {
    const ms = Date.parse(`${time}T00:00:00Z`);
    return Number.isFinite(ms) ? new Date(ms) : null;
  }
  if (time && typeof time === "object" && "year" in time && "month" in time && "day" in time) {
    const { year, month, day } = time as { year: number; month: number; day: number };
    return new Date(Date.UTC(year, month - 1, day));
  }
  return null;
}

/**
 * Labels for the chart's time axis, in UTC like every other time in the app (replays run in
 * exchange time): "2026", "Dec", "6", "14:05", "14:05:09" for lightweight-charts' tick mark types
 * 0-4 (year, month, day of month, time, time with seconds).
 *
 * The chart's own labels call `toLocaleString` with options for every tick it draws, and
 * `navigator.language` may be a tag the engine rejects ("C"); written out here, they need no
 * `Intl` at all, which spares the page ICU's date data (docs/desktop-memory.md).
 */
export function chartTickMark(time: unknown, tickMarkType: number): string {
  const d = chartDate(time);
  if (!d) return "";
  switch (tickMarkType) {
    case 0:
      return String(d.getUTCFullYear());
    case 1:
      return MONTHS[d.getUTCMonth()] ?? "";
    case 2:
      return String(d.getUTCDate());
    case 4:
      return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
    default:
      return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  }
}

/** The chart's crosshair label: "6 Dec '26 14:05" (UTC). */
export function chartTime(time: unknown): string {
  const d = chartDate(time);
  if (!d) return "";
  const date = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()] ?? ""} '${pad(d.getUTCFullYear() % 100)}`;
  return `${date} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/** A size in a narrow column: grouped below a million, compact (12.35M, 8.99B) above. */
export function formatSize(value: string | null | undefined, decimals: number): string {
  if (value === null || value === undefined || value === "") return "—";
  const n = Number(value);
  if (Number.isFinite(n) && Math.abs(n) >= 1e6) return formatCompact(n);
  return formatQty(value, decimals);
}
