import { useMemo } from "react";
import type { InstrumentView } from "../bindings";
import { useInstruments, usePortfolio } from "./queries";
import { useMarket } from "./store";
import { baseOf } from "./format";

export function useInstrument(symbol: string): InstrumentView | undefined {
  const q = useInstruments();
  return q.data?.find((i) => i.symbol === symbol);
}

/** The last traded price of `symbol` (or the mid of its book when nothing traded yet). */
export function useLastPrice(symbol: string): string | null {
  // Primitive selections: a re-render only when the price itself changes.
  const last = useMarket((s) => s.tickers[symbol]?.last ?? null);
  const bid = useMarket((s) => (s.book?.symbol === symbol ? (s.book.bids[0]?.[0] ?? null) : null));
  const ask = useMarket((s) => (s.book?.symbol === symbol ? (s.book.asks[0]?.[0] ?? null) : null));
  return last ?? bid ?? ask ?? null;
}

/** Free balances for a symbol's ticket: the quote asset and its base asset. */
export function useTicketBalances(symbol: string): { quoteFree: string; baseFree: string; ready: boolean } {
  const p = usePortfolio();
  const quote = p.data?.quote_asset ?? "USDT";
  const base = baseOf(symbol, quote);
  const q = p.data?.balances.find((b) => b.asset === quote)?.free ?? "0";
  const b = p.data?.balances.find((x) => x.asset === base)?.free ?? "0";
  const ready = p.data !== undefined;
  // The same object while the numbers are the same (the ticket's checks depend on it).
  return useMemo(() => ({ quoteFree: q, baseFree: b, ready }), [q, b, ready]);
}
