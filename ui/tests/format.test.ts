import { describe, expect, it } from "vitest";
import {
  fixed,
  formatCompact,
  formatMoney,
  formatPct,
  formatPrice,
  priceCacheSize,
  formatQty,
  formatSigned,
  formatSize,
  formatTime,
  formatWindow,
  groupThousands,
  pairName,
  chartTickMark,
  chartTime,
} from "../src/lib/format";

describe("prices", () => {
  it("compress the leading zeros of tiny prices the way exchanges do", () => {
    expect(formatPrice("0.00001234", 8)).toBe("0.0₄1234");
    expect(formatPrice("0.000001234", 9)).toBe("0.0₅1234");
    expect(formatPrice("0.00000000123", 11)).toBe("0.0₈123");
    // Three zeros or fewer stay as they are.
    expect(formatPrice("0.00016504", 8)).toBe("0.00016504");
    expect(formatPrice("0.12345", 5)).toBe("0.12345");
  });

  it("use the instrument's decimals, rounding half away from zero", () => {
    expect(formatPrice("0.1", 5)).toBe("0.10000");
    expect(formatPrice("0.123456", 5)).toBe("0.12346");
    expect(formatPrice("63119.2849", 2)).toBe("63,119.28");
    expect(formatPrice("63119.285", 2)).toBe("63,119.29");
    expect(formatPrice("-0.125", 2)).toBe("-0.13");
  });

  it("remember a bounded number of prices while the market drifts, and stay right", () => {
    // A market drifting through 50,000 prices: the memo must not keep them all.
    let peak = 0;
    for (let i = 0; i < 50_000; i++) {
      formatPrice((0.00001 + i * 1e-8).toFixed(8), 8);
      peak = Math.max(peak, priceCacheSize());
    }
    expect(peak).toBeLessThanOrEqual(2_000);
    expect(formatPrice("0.00001234", 8)).toBe("0.0₄1234");
    expect(formatPrice("0.00001234", 8)).toBe("0.0₄1234");
    expect(formatPrice("63119.285", 2)).toBe("63,119.29");
  });

  it("show a dash for nothing and leave garbage as it is", () => {
    expect(formatPrice(null, 2)).toBe("—");
    expect(formatPrice("", 2)).toBe("—");
    expect(formatPrice("abc", 2)).toBe("abc");
  });
});

describe("quantities and money", () => {
  it("group thousands without floating point", () => {
    expect(groupThousands("1234567.891")).toBe("1,234,567.891");
    expect(groupThousands("-1000")).toBe("-1,000");
    expect(groupThousands("999")).toBe("999");
    expect(formatQty("9000000000", 0)).toBe("9,000,000,000");
    // Exact: no float rounding on big decimals.
    expect(fixed("123456789012345678.125", 2)).toBe("123456789012345678.13");
  });

  it("money has two decimals, tiny amounts keep significant digits", () => {
    expect(formatMoney("10000")).toBe("10,000.00");
    expect(formatMoney("0.24969328")).toBe("0.25");
    expect(formatMoney("0.0012")).toBe("0.00120");
    expect(formatSigned("1.4231")).toBe("+1.42");
    expect(formatSigned("-0.5")).toBe("-0.50");
    expect(formatSigned("0")).toBe("0.00");
  });

  it("compact sizes for narrow columns", () => {
    expect(formatCompact(1234)).toBe("1.23K");
    expect(formatCompact("8993341230")).toBe("8.99B");
    expect(formatSize("999999", 0)).toBe("999,999");
    expect(formatSize("12345678", 0)).toBe("12.35M");
  });
});

describe("the rest", () => {
  it("percentages are signed", () => {
    expect(formatPct(1.234)).toBe("+1.23%");
    expect(formatPct(-0.5)).toBe("-0.50%");
    expect(formatPct(0.0001)).toBe("0.00%");
    expect(formatPct(null)).toBe("—");
  });

  it("times are market time in UTC", () => {
    expect(formatTime(Date.UTC(2024, 0, 1, 2, 3, 4))).toBe("2024-01-01 02:03:04");
    expect(formatTime(Date.UTC(2024, 0, 1, 2, 3, 4), false)).toBe("02:03:04");
    expect(formatWindow(86_400_000)).toBe("24h");
    expect(formatWindow(3 * 3600_000 + 20 * 60_000)).toBe("3h 20m");
    expect(formatWindow(45 * 60_000)).toBe("45m");
  });

  it("pairs read as BASE/QUOTE", () => {
    expect(pairName("PEPEUSDT")).toBe("PEPE/USDT");
    expect(pairName("WEIRD")).toBe("WEIRD");
  });

  it("the chart's time axis reads in UTC, whatever the user's locale", () => {
    const t = 1796565909; // 2026-12-06 14:05:09 UTC
    expect(chartTickMark(t, 0)).toBe("2026");
    expect(chartTickMark(t, 1)).toBe("Dec");
    expect(chartTickMark(t, 2)).toBe("6");
    expect(chartTickMark(t, 3)).toBe("14:05");
    expect(chartTickMark(t, 4)).toBe("14:05:09");
    expect(chartTime(t)).toBe("6 Dec '26 14:05");
    // Business days and date strings (the chart's other time forms) are dates at midnight UTC.
    expect(chartTime({ year: 2024, month: 1, day: 3 })).toBe("3 Jan '24 00:00");
    expect(chartTickMark("2024-01-03", 1)).toBe("Jan");
    // Nothing to show rather than "NaN:NaN".
    expect(chartTime(Number.NaN)).toBe("");
    expect(chartTickMark("not a date", 3)).toBe("");
  });
});
