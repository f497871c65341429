import { beforeEach, describe, expect, it } from "vitest";
import type { Frame } from "../src/bindings";
import { MAX_TAPE, useMarket, useUi } from "../src/lib/store";

function frame(p: Partial<Frame>): Frame {
  return { seq: 1, market_time_ms: 1000, tickers: [], book: null, trades: [], candles: [], reset: false, history: false, ...p };
}

const trade = (i: number) => ({ time_ms: i, price: "1", quantity: String(i), buy: i % 2 === 0 });

describe("market data from frames", () => {
  beforeEach(() => {
    useMarket.setState({ symbol: "PEPEUSDT", interval: "1m", book: null, trades: [], tickers: {}, pendingCandles: [], historyEpoch: 0, framesSeen: 0 });
  });

  it("keeps the tape newest first and bounded", () => {
    const m = useMarket.getState();
    for (let i = 0; i < 100; i++) m.applyFrame(frame({ trades: [trade(2 * i), trade(2 * i + 1)] }));
    const t = useMarket.getState().trades;
    expect(t).toHaveLength(MAX_TAPE);
    expect(t[0]?.quantity).toBe("199");
    expect(t[1]?.quantity).toBe("198");
    // Keys stay with their trade while it scrolls.
    const k = t[5]?.k;
    useMarket.getState().applyFrame(frame({ trades: [trade(500)] }));
    expect(useMarket.getState().trades[6]?.k).toBe(k);
  });

  it("a reset drops the old market and asks the chart to reload", () => {
    const m = useMarket.getState();
    m.applyFrame(frame({ trades: [trade(1)], book: { symbol: "PEPEUSDT", bids: [["1", "2"]], asks: [], last_update_id: 1 } }));
    const epoch = useMarket.getState().historyEpoch;
    useMarket.getState().applyFrame(frame({ reset: true, trades: [trade(7)] }));
    const s = useMarket.getState();
    expect(s.book).toBeNull();
    expect(s.trades.map((x) => x.quantity)).toEqual(["7"]);
    expect(s.historyEpoch).toBe(epoch + 1);
  });

  it("history computed in the background makes the chart reload, without losing the tape", () => {
    useMarket.getState().applyFrame(frame({ trades: [trade(1)] }));
    const epoch = useMarket.getState().historyEpoch;
    useMarket.getState().applyFrame(frame({ history: true }));
    expect(useMarket.getState().historyEpoch).toBe(epoch + 1);
    expect(useMarket.getState().trades).toHaveLength(1);
  });

  it("merges watchlist lines and queues candles for the chart", () => {
    const t = (symbol: string, last: string) => ({ symbol, last, change_pct: 1, change_window_ms: 1, high: null, low: null, quote_volume: "0" });
    const m = useMarket.getState();
    m.applyFrame(frame({ tickers: [t("PEPEUSDT", "1"), t("DOGEUSDT", "2")] }));
    m.applyFrame(frame({ tickers: [t("PEPEUSDT", "3")] }));
    expect(Object.fromEntries(Object.entries(useMarket.getState().tickers).map(([k, v]) => [k, v.last]))).toEqual({ PEPEUSDT: "3", DOGEUSDT: "2" });
    const c = { time_ms: 0, open: "1", high: "1", low: "1", close: "1", volume: "1" };
    m.applyFrame(frame({ candles: [c] }));
    expect(useMarket.getState().drainCandles()).toEqual([c]);
    expect(useMarket.getState().drainCandles()).toEqual([]);
  });

  it("a new symbol clears the book and tape", () => {
    useMarket.getState().applyFrame(frame({ trades: [trade(1)] }));
    useMarket.getState().select("DOGEUSDT");
    expect(useMarket.getState().trades).toEqual([]);
    expect(useMarket.getState().symbol).toBe("DOGEUSDT");
  });
});

describe("the ticket state", () => {
  it("B/S set the side and ask for focus; clearing keeps the side and type", () => {
    const ui = useUi.getState();
    ui.setTicket({ kind: "market", quantity: "5", price: "1" });
    const before = useUi.getState().focusTicket;
    ui.focusSide("SELL");
    expect(useUi.getState().ticket.side).toBe("SELL");
    expect(useUi.getState().focusTicket).toBe(before + 1);
    ui.clearTicket();
    expect(useUi.getState().ticket).toMatchObject({ side: "SELL", kind: "market", quantity: "", price: "" });
  });
});
