import { useEffect, useRef, useState } from "react";
import {
  CandlestickSeries,
  ColorType,
  HistogramSeries,
  createChart,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
} from "lightweight-charts";
import type { CandleView } from "../bindings";
import { api, errorMessage } from "../lib/ipc";
import { useInstrument } from "../lib/hooks";
import { useStatus } from "../lib/queries";
import { useMarket, useUi } from "../lib/store";
import { formatCompact, formatPct, formatPrice, pairName } from "../lib/format";
import { CHART_FONT, chartTickMark, chartTime } from "../lib/format";

const UP = "#0ecb81";
const DOWN = "#f6465d";

function toBar(c: CandleView) {
  return {
    time: Math.floor(c.time_ms / 1000) as UTCTimestamp,
    open: Number(c.open),
    high: Number(c.high),
    low: Number(c.low),
    close: Number(c.close),
  };
}

function toVol(c: CandleView) {
  return {
    time: Math.floor(c.time_ms / 1000) as UTCTimestamp,
    value: Number(c.volume),
    color: Number(c.close) >= Number(c.open) ? "rgba(14,203,129,0.35)" : "rgba(246,70,93,0.35)",
  };
}

export function ChartPanel() {
  const symbol = useMarket((s) => s.symbol);
  const interval = useMarket((s) => s.interval);
  const setInterval = useMarket((s) => s.setInterval);
  const epoch = useMarket((s) => s.historyEpoch);
  const ticker = useMarket((s) => s.tickers[symbol]);
  const theme = useUi((s) => s.theme);
  const status = useStatus();
  const inst = useInstrument(symbol);
  const decimals = inst?.price_decimals ?? 8;
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const candles = useRef<ISeriesApi<"Candlestick"> | null>(null);
  const volume = useRef<ISeriesApi<"Histogram"> | null>(null);
  const lastTime = useRef<number>(0);
  const [state, setState] = useState<"loading" | "ready" | "empty" | "error">("loading");
  const [error, setError] = useState("");
  const intervals = status.data?.intervals ?? ["1m", "5m", "15m", "1h", "4h", "1d"];
  // A source without this interval (candle replays start at 5m): take its finest.
  useEffect(() => {
    if (intervals.length > 0 && !intervals.includes(interval)) setInterval(intervals[0] ?? "5m");
  }, [intervals.join(","), interval, setInterval]);

  // The chart itself (once).
  useEffect(() => {
    if (!box.current) return;
    const el = box.current;
    const c = createChart(el, {
      width: el.clientWidth,
      height: el.clientHeight,
      // Time labels in UTC, written out without Intl (lib/format.ts, `chartTickMark`).
      localization: { locale: "en-US", timeFormatter: chartTime },
      layout: {
        background: { type: ColorType.Solid, color: "transparent" },
        fontSize: 11,
        fontFamily: CHART_FONT,
        attributionLogo: true,
      },
      rightPriceScale: { borderVisible: false },
      timeScale: { borderVisible: false, timeVisible: true, secondsVisible: false, tickMarkFormatter: chartTickMark },
      crosshair: { mode: 1 },
    });
    candles.current = c.addSeries(CandlestickSeries, {
      upColor: UP,
      downColor: DOWN,
      wickUpColor: UP,
      wickDownColor: DOWN,
      borderVisible: false,
    });
    volume.current = c.addSeries(HistogramSeries, {
      priceScaleId: "vol",
      priceFormat: { type: "volume" },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    c.priceScale("vol").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    candles.current.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.25 } });
    chart.current = c;
    // Follow the panel's size (not `autoSize`: WebKitGTK lacks the device-pixel box it needs).
    const ro = new ResizeObserver(() => c.resize(el.clientWidth, el.clientHeight));
    ro.observe(el);
    return () => {
      ro.disconnect();
      c.remove();
      chart.current = null;
      candles.current = null;
      volume.current = null;
    };
  }, []);

  // Colours and price format follow the theme and the instrument's tick.
  useEffect(() => {
    const dark = theme === "dark";
    chart.current?.applyOptions({
      layout: { textColor: dark ? "#848e9c" : "#707a8a" },
      grid: {
        vertLines: { color: dark ? "rgba(43,49,57,0.6)" : "rgba(234,236,239,0.9)" },
        horzLines: { color: dark ? "rgba(43,49,57,0.6)" : "rgba(234,236,239,0.9)" },
      },
      localization: { priceFormatter: (p: number) => formatPrice(p.toFixed(decimals), decimals) },
    });
    candles.current?.applyOptions({
      priceFormat: { type: "price", precision: Math.min(decimals, 10), minMove: Number(inst?.tick_size ?? "0.00000001") },
    });
  }, [theme, decimals, inst?.tick_size]);

  // History when the symbol, interval or source changes, and once the desk has worked out the
  // history of a market that has just started (without waiting for the next frame to say so).
  const historyPending = status.data?.history_pending ?? false;
  useEffect(() => {
    let cancelled = false;
    setState("loading");
    lastTime.current = 0;
    useMarket.getState().drainCandles();
    api
      .candles(symbol, interval, 1000)
      .then((data) => {
        if (cancelled || !candles.current || !volume.current) return;
        candles.current.setData(data.map(toBar));
        volume.current.setData(data.map(toVol));
        lastTime.current = data.length > 0 ? (data[data.length - 1]?.time_ms ?? 0) : 0;
        chart.current?.timeScale().scrollToRealTime();
        setState(data.length === 0 ? "empty" : "ready");
      })
      .catch((e: unknown) => {
        if (cancelled) return;
        console.error("chart history", e);
        setError(errorMessage(e));
        setState("error");
      });
    return () => {
      cancelled = true;
    };
  }, [symbol, interval, epoch, historyPending]);

  // Live updates from frames.
  useEffect(() => {
    return useMarket.subscribe((s, prev) => {
      if (s.pendingCandles === prev.pendingCandles || s.pendingCandles.length === 0) return;
      const list = useMarket.getState().drainCandles();
      if (!candles.current || !volume.current) return;
      for (const c of list) {
        if (c.time_ms < lastTime.current) continue; // older than what is drawn
        candles.current.update(toBar(c));
        volume.current.update(toVol(c));
        lastTime.current = c.time_ms;
      }
      setState((st) => (st === "empty" && list.length > 0 ? "ready" : st));
    });
  }, []);

  const pct = ticker?.change_pct ?? null;
  return (
    <div className="panel chart-panel">
      <div className="panel-head chart-head">
        <h3 data-testid="chart-symbol">{pairName(symbol)}</h3>
        <span className={`mono big ${pct === null ? "" : pct >= 0 ? "up" : "down"}`} data-testid="last-price">
          {formatPrice(ticker?.last, decimals)}
        </span>
        <span className={`mono ${pct === null ? "muted" : pct >= 0 ? "up" : "down"}`}>{formatPct(pct)}</span>
        <span className="muted small">H {formatPrice(ticker?.high, decimals)}</span>
        <span className="muted small">L {formatPrice(ticker?.low, decimals)}</span>
        <span className="muted small">Vol {formatCompact(ticker?.quote_volume)} USDT</span>
        <div className="spacer" />
        <div className="segmented small" role="tablist" aria-label="Timeframe">
          {intervals.map((i) => (
            <button key={i} className={i === interval ? "active" : ""} onClick={() => setInterval(i)}>
              {i}
            </button>
          ))}
        </div>
      </div>
      <div className="chart-box" ref={box}>
        {state === "loading" && <div className="overlay">Loading chart…</div>}
        {state === "empty" && (
          <div className="overlay">
            {historyPending
              ? "Working out the market's history…"
              : "No candles yet: the market has not traded this pair."}
          </div>
        )}
        {state === "error" && <div className="overlay error-text">Cannot load the chart: {error}</div>}
      </div>
    </div>
  );
}
