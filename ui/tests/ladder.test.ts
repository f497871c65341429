import { describe, expect, it } from "vitest";
import type { BookView } from "../src/bindings";
import { askY, bidY, hitRow, ladder, ladderLayout, ladderSummary, LEVELS, ROW_H, SPREAD_H } from "../src/lib/ladder";

function book(bids: [string, string][], asks: [string, string][]): BookView {
  return { symbol: "PEPEUSDT", bids, asks, last_update_id: 1 };
}

function levels(from: number, step: number, n: number, qty = "10"): [string, string][] {
  return Array.from({ length: n }, (_, i) => [(from + i * step).toFixed(5), qty]);
}

describe("the ladder's rows", () => {
  it("sums the size from the best level outwards, and scales bars by the deeper side", () => {
    const l = ladder(book([["0.12344", "5"], ["0.12343", "7"]], [["0.12346", "1"], ["0.12347", "2"], ["0.12348", "20"]]), 5);
    expect(l.bids.map((r) => r.cum)).toEqual([5, 12]);
    expect(l.asks.map((r) => r.cum)).toEqual([1, 3, 23]);
    expect(l.max).toBe(23);
  });

  it("shows at most 20 levels a side", () => {
    const l = ladder(book(levels(0.1, -0.00001, 50), levels(0.2, 0.00001, 30)), 5);
    expect(l.bids).toHaveLength(LEVELS);
    expect(l.asks).toHaveLength(LEVELS);
    expect(l.bids[0]?.price).toBe("0.10000");
  });

  it("gives the mid with one more decimal, and the spread in price and basis points", () => {
    const l = ladder(book([["0.12344", "1"]], [["0.12346", "1"]]), 5);
    expect(l.mid).toBe("0.123450");
    expect(l.spread).toBe("0.00002");
    expect(l.spreadBps).toBe("1.6");
    expect(ladderSummary(l, 5)).toBe(
      "Order book: 1 bids, 1 asks, best bid 0.12344, best ask 0.12346, spread 0.0₄2 (1.6 bps)",
    );
  });

  it("has no mid or spread while a side is empty", () => {
    const l = ladder(book([["0.12344", "1"]], []), 5);
    expect(l.mid).toBeNull();
    expect(l.spread).toBeNull();
    expect(ladderSummary(l, 5)).toBe("Order book: 1 bids, 0 asks, best bid 0.12344");
    expect(ladder(null, 5)).toMatchObject({ bids: [], asks: [], max: 0 });
  });
});

describe("the ladder's geometry", () => {
  const l = ladder(book(levels(0.12344, -0.00001, 20), levels(0.12346, 0.00001, 20)), 5);

  it("puts the best ask just above the spread and the best bid just below it", () => {
    const layout = ladderLayout(400);
    expect(layout.spreadY).toBe(187);
    expect(askY(layout, 0)).toBe(187 - ROW_H);
    expect(bidY(layout, 0)).toBe(187 + SPREAD_H);
    expect(bidY(layout, 3) - bidY(layout, 2)).toBe(ROW_H);
  });

  it("finds the row under a point, and none on the spread or past the last level", () => {
    const layout = ladderLayout(400);
    expect(hitRow(layout, l, bidY(layout, 0) + 1)).toMatchObject({ side: "bid", index: 0, row: { price: "0.12344" } });
    expect(hitRow(layout, l, bidY(layout, 5) + ROW_H - 1)).toMatchObject({ side: "bid", index: 5, row: { price: "0.12339" } });
    expect(hitRow(layout, l, askY(layout, 0) + 1)).toMatchObject({ side: "ask", index: 0, row: { price: "0.12346" } });
    expect(hitRow(layout, l, askY(layout, 2))).toMatchObject({ side: "ask", index: 2, row: { price: "0.12348" } });
    expect(hitRow(layout, l, layout.spreadY + SPREAD_H / 2)).toBeNull();
    const short = ladder(book(levels(0.12344, -0.00001, 2), levels(0.12346, 0.00001, 2)), 5);
    expect(hitRow(layout, short, bidY(layout, 2) + 1)).toBeNull();
    expect(hitRow(layout, short, askY(layout, 2) + 1)).toBeNull();
  });
});
