// Client state (Zustand): what the user has selected and typed, and the market data that
// arrives in frames. Request/response data (portfolio, orders, fills) lives in TanStack Query.

import { create } from "zustand";
import type { BookView, CandleView, Frame, TickerView, TradeView } from "../bindings";
import { emptyForm, type Side, type TicketForm } from "./ticket";

export const MAX_TAPE = 60;

/** A trade on the tape, with a key that stays the same while it scrolls down. */
export type TapeTrade = TradeView & { k: number };
let tradeSeq = 0;

export interface MarketData {
  symbol: string;
  interval: string;
  book: BookView | null;
  /** Newest first. */
  trades: TapeTrade[];
  tickers: Record<string, TickerView>;
  marketTime: number | null;
  /** Candles that changed since the chart last looked (the chart drains them). */
  pendingCandles: CandleView[];
  /** Bumped when the chart must reload its history (new source, symbol or interval). */
  historyEpoch: number;
  framesSeen: number;
  applyFrame: (f: Frame) => void;
  applyFrames: (frames: Frame[]) => void;
  drainCandles: () => CandleView[];
  select: (symbol: string) => void;
  setInterval: (interval: string) => void;
  reset: () => void;
}

type MarketSlice = Pick<
  MarketData,
  "book" | "trades" | "tickers" | "marketTime" | "pendingCandles" | "historyEpoch" | "framesSeen"
>;

/** One frame applied to the market data (pure). */
export function fold(s: MarketSlice, f: Frame): MarketSlice {
  const next: MarketSlice = { ...s, framesSeen: s.framesSeen + 1 };
  if (f.market_time_ms !== null) next.marketTime = f.market_time_ms;
  if (f.reset) {
    next.book = null;
    next.trades = [];
    next.pendingCandles = [];
    next.historyEpoch = s.historyEpoch + 1;
  } else if (f.history) {
    // More history arrived (computed in the background): the chart reloads it.
    next.historyEpoch = s.historyEpoch + 1;
  }
  if (f.book) next.book = f.book;
  if (f.trades.length > 0) {
    const incoming = f.trades.map((t) => ({ ...t, k: ++tradeSeq })).reverse();
    next.trades = [...incoming, ...next.trades].slice(0, MAX_TAPE);
  }
  if (f.tickers.length > 0) {
    const t = { ...next.tickers };
    for (const k of f.tickers) t[k.symbol] = k;
    next.tickers = t;
  }
  if (f.candles.length > 0 && !f.reset) {
    next.pendingCandles = [...next.pendingCandles, ...f.candles].slice(-500);
  }
  return next;
}

export const useMarket = create<MarketData>((set, get) => ({
  symbol: "PEPEUSDT",
  interval: "1m",
  book: null,
  trades: [],
  tickers: {},
  marketTime: null,
  pendingCandles: [],
  historyEpoch: 0,
  framesSeen: 0,
  applyFrame: (f) => get().applyFrames([f]),
  applyFrames: (frames) => {
    if (frames.length === 0) return;
    // All frames that arrived since the last display frame make one state change (one render).
    let s: MarketSlice = get();
    for (const f of frames) s = fold(s, f);
    set(s);
  },
  drainCandles: () => {
    const c = get().pendingCandles;
    if (c.length > 0) set({ pendingCandles: [] });
    return c;
  },
  select: (symbol) => {
    if (symbol === get().symbol) return;
    set({ symbol, book: null, trades: [], pendingCandles: [], historyEpoch: get().historyEpoch + 1 });
  },
  setInterval: (interval) => {
    if (interval === get().interval) return;
    set({ interval, pendingCandles: [], historyEpoch: get().historyEpoch + 1 });
  },
  reset: () => set({ book: null, trades: [], tickers: {}, pendingCandles: [], marketTime: null }),
}));

export interface UiState {
  theme: "dark" | "light";
  ticket: TicketForm;
  /** Bumped to ask the ticket to focus its amount field (B/S shortcuts). */
  focusTicket: number;
  setTheme: (t: "dark" | "light") => void;
  setTicket: (p: Partial<TicketForm>) => void;
  clearTicket: () => void;
  focusSide: (side: Side) => void;
  /** Which screen shows: trading or the meme studio. */
  screen: "trade" | "memes";
  setScreen: (s: "trade" | "memes") => void;
  /** What the meme studio makes a PnL card of: an open position or a closed trade (null: none). */
  memeTrade: MemeTrade | null;
  setMemeTrade: (t: MemeTrade | null) => void;
}

/** An open position (by symbol) or a closed trade (by the sell fill that closed it). */
export type MemeTrade = { kind: "position"; symbol: string } | { kind: "trade"; symbol: string; fillId: number };

export const useUi = create<UiState>((set, get) => ({
  theme: "dark",
  ticket: { ...emptyForm },
  focusTicket: 0,
  setTheme: (theme) => set({ theme }),
  setTicket: (p) => set({ ticket: { ...get().ticket, ...p } }),
  clearTicket: () =>
    set({
      ticket: { ...get().ticket, quantity: "", quote: "", price: "", stop: "", stopLimit: "" },
    }),
  focusSide: (side) => set({ ticket: { ...get().ticket, side }, focusTicket: get().focusTicket + 1 }),
  screen: "trade",
  setScreen: (screen) => set({ screen }),
  memeTrade: null,
  setMemeTrade: (memeTrade) => set({ memeTrade }),
}));
