// The order-book ladder's model and geometry (pure): which rows it shows, where each one sits,
// and which row a point hits. The panel draws these rows in one canvas (see OrderBook.tsx).

import type { BookView } from "../bindings";
import { formatPrice } from "./format";

/** Levels shown per side. */
export const LEVELS = 20;
/** CSS pixels per level row. */
export const ROW_H = 18;
/** CSS pixels of the spread row between the sides. */
export const SPREAD_H = 26;

export interface LadderRow {
  price: string;
  qty: string;
  /** Size summed from the best level to this one. */
  cum: number;
}

export interface Ladder {
  /** Best first. */
  bids: LadderRow[];
  /** Best first. */
  asks: LadderRow[];
  /** The larger of the two sides' totals: a full-width depth bar. */
  max: number;
  mid: string | null;
  /** Best ask minus best bid, and that in basis points of the mid. */
  spread: string | null;
  spreadBps: string | null;
}

function side(levels: [string, string][]): LadderRow[] {
  let cum = 0;
  return levels.slice(0, LEVELS).map(([price, qty]) => {
    cum += Number(qty);
    return { price, qty, cum };
  });
}

export function ladder(book: BookView | null, priceDecimals: number): Ladder {
  const bids = side(book?.bids ?? []);
  const asks = side(book?.asks ?? []);
  const max = Math.max(bids[bids.length - 1]?.cum ?? 0, asks[asks.length - 1]?.cum ?? 0);
  const bestBid = bids[0]?.price;
  const bestAsk = asks[0]?.price;
  if (bestBid === undefined || bestAsk === undefined) {
    return { bids, asks, max, mid: null, spread: null, spreadBps: null };
  }
  const b = Number(bestBid);
  const a = Number(bestAsk);
  return {
    bids,
    asks,
    max,
    mid: ((a + b) / 2).toFixed(priceDecimals + 1),
    spread: (a - b).toFixed(priceDecimals),
    spreadBps: (((a - b) / ((a + b) / 2)) * 10_000).toFixed(1),
  };
}

/** One line that says what the ladder shows (the canvas's accessible name). */
export function ladderSummary(l: Ladder, priceDecimals: number): string {
  const parts = [`Order book: ${l.bids.length} bids, ${l.asks.length} asks`];
  if (l.bids[0]) parts.push(`best bid ${formatPrice(l.bids[0].price, priceDecimals)}`);
  if (l.asks[0]) parts.push(`best ask ${formatPrice(l.asks[0].price, priceDecimals)}`);
  if (l.spread !== null) parts.push(`spread ${formatPrice(l.spread, priceDecimals)} (${l.spreadBps} bps)`);
  return parts.join(", ");
}

/** Where the ladder's parts sit in a canvas `height` CSS pixels tall: the asks fill the top half
 *  from the spread up (best ask next to the spread), the bids the bottom half from the spread down.
 *  Rows that do not fit are cut at the edge, as a scrolled-off list would be. */
export interface LadderLayout {
  /** Top of the spread row. */
  spreadY: number;
}

export function ladderLayout(height: number): LadderLayout {
  return { spreadY: Math.max(0, Math.floor((height - SPREAD_H) / 2)) };
}

/** Top of the ask row `i` (0 = best). */
export function askY(layout: LadderLayout, i: number): number {
  return layout.spreadY - (i + 1) * ROW_H;
}

/** Top of the bid row `i` (0 = best). */
export function bidY(layout: LadderLayout, i: number): number {
  return layout.spreadY + SPREAD_H + i * ROW_H;
}

/** The row under the point `y` (CSS pixels from the canvas's top), if any. */
export function hitRow(
  layout: LadderLayout,
  l: Pick<Ladder, "bids" | "asks">,
  y: number,
): { side: "bid" | "ask"; index: number; row: LadderRow } | null {
  if (y < layout.spreadY) {
    // Ask row i spans [spreadY - (i + 1) * ROW_H, spreadY - i * ROW_H).
    const index = Math.ceil((layout.spreadY - y) / ROW_H) - 1;
    const row = l.asks[index];
    return row ? { side: "ask", index, row } : null;
  }
  const below = y - layout.spreadY - SPREAD_H;
  if (below < 0) return null;
  const index = Math.floor(below / ROW_H);
  const row = l.bids[index];
  return row ? { side: "bid", index, row } : null;
}
