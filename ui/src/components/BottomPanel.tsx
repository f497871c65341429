import { useEffect, useRef, useState } from "react";
import { AreaSeries, ColorType, createChart, type UTCTimestamp } from "lightweight-charts";
import type { OrderView } from "../bindings";
import {
  useCancel,
  useCancelAll,
  useEquity,
  useFills,
  useInstruments,
  useOpenOrders,
  useOrderHistory,
  usePortfolio,
} from "../lib/queries";
import { errorMessage } from "../lib/ipc";
import { useMarket, useUi } from "../lib/store";
import { formatMoney, formatPct, formatPrice, formatQty, formatSigned, formatTime, pairName, signOf } from "../lib/format";
import { CHART_FONT, chartTickMark, chartTime } from "../lib/format";
import { toast } from "./Toasts";

type Tab = "open" | "positions" | "fills" | "history" | "balances" | "equity";

export function BottomPanel() {
  const [tab, setTab] = useState<Tab>("open");
  const open = useOpenOrders();
  const portfolio = usePortfolio();
  const tabs: [Tab, string][] = [
    ["open", `Open orders (${open.data?.length ?? 0})`],
    ["positions", `Positions (${portfolio.data?.positions.filter((p) => signOf(p.quantity) !== 0).length ?? 0})`],
    ["fills", "Fills"],
    ["history", "Order history"],
    ["balances", "Balances"],
    ["equity", "Equity curve"],
  ];
  return (
    <div className="panel bottom-panel">
      <div className="tabs" role="tablist">
        {tabs.map(([t, l]) => (
          <button key={t} role="tab" aria-selected={tab === t} className={tab === t ? "active" : ""} onClick={() => setTab(t)}>
            {l}
          </button>
        ))}
      </div>
      <div className="tab-body">
        {tab === "open" && <OpenOrders />}
        {tab === "positions" && <Positions />}
        {tab === "fills" && <Fills />}
        {tab === "history" && <History />}
        {tab === "balances" && <Balances />}
        {tab === "equity" && <EquityCurve />}
      </div>
    </div>
  );
}

function usePriceDecimals(): (symbol: string) => number {
  const q = useInstruments();
  return (s) => q.data?.find((i) => i.symbol === s)?.price_decimals ?? 8;
}

function useQtyDecimals(): (symbol: string) => number {
  const q = useInstruments();
  return (s) => q.data?.find((i) => i.symbol === s)?.qty_decimals ?? 8;
}

function typeLabel(o: OrderView): string {
  return o.order_type.replace(/_/g, " ").toLowerCase();
}

function Loading(props: { q: { isLoading: boolean; isError: boolean; error: unknown }; empty: boolean; what: string }) {
  if (props.q.isLoading) return <div className="empty">Loading…</div>;
  if (props.q.isError) return <div className="empty error-text">{errorMessage(props.q.error)}</div>;
  if (props.empty) return <div className="empty">{props.what}</div>;
  return null;
}

function OpenOrders() {
  const q = useOpenOrders();
  const cancel = useCancel();
  const cancelAll = useCancelAll();
  const pd = usePriceDecimals();
  const qd = useQtyDecimals();
  const orders = q.data ?? [];
  return (
    <>
      <Loading q={q} empty={orders.length === 0} what="No open orders" />
      {orders.length > 0 && (
        <table className="table" data-testid="open-orders">
          <thead>
            <tr>
              <th>Time</th>
              <th>Pair</th>
              <th>Type</th>
              <th>Side</th>
              <th className="num">Price</th>
              <th className="num">Stop</th>
              <th className="num">Amount</th>
              <th className="num">Filled</th>
              <th>Status</th>
              <th className="num">
                <button
                  className="btn btn-ghost small"
                  onClick={() =>
                    cancelAll.mutate(null, {
                      onSuccess: (n) => toast({ kind: "info", title: `${n} order(s) cancelled`, body: "" }),
                      onError: (e) => toast({ kind: "error", title: "Cancel failed", body: errorMessage(e) }),
                    })
                  }
                >
                  Cancel all
                </button>
              </th>
            </tr>
          </thead>
          <tbody>
            {orders.map((o) => (
              <tr key={o.id} data-testid={`open-order-${o.id}`}>
                <td className="mono muted">{formatTime(o.created_ms)}</td>
                <td>{pairName(o.symbol)}</td>
                <td>{typeLabel(o)}</td>
                <td className={o.side === "BUY" ? "up" : "down"}>{o.side}</td>
                <td className="num mono">{o.price ? formatPrice(o.price, pd(o.symbol)) : "market"}</td>
                <td className="num mono">{o.stop_price ? formatPrice(o.stop_price, pd(o.symbol)) : "—"}</td>
                <td className="num mono">{o.quantity ? formatQty(o.quantity, qd(o.symbol)) : `${formatMoney(o.quote_quantity)} USDT`}</td>
                <td className="num mono">{formatQty(o.executed_qty, qd(o.symbol))}</td>
                <td>{o.status.replace(/_/g, " ").toLowerCase()}</td>
                <td className="num">
                  <button
                    className="btn btn-ghost small"
                    aria-label={`Cancel order ${o.id}`}
                    disabled={cancel.isPending}
                    onClick={() =>
                      cancel.mutate(o.id, {
                        onError: (e) => toast({ kind: "error", title: `Cannot cancel ${o.id}`, body: errorMessage(e) }),
                      })
                    }
                  >
                    Cancel
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function Positions() {
  const q = usePortfolio();
  const pd = usePriceDecimals();
  const qd = useQtyDecimals();
  const positions = (q.data?.positions ?? []).filter((p) => signOf(p.quantity) !== 0 || signOf(p.realized_pnl) !== 0);
  return (
    <>
      <Loading q={q} empty={positions.length === 0} what="No positions: buy something to open one" />
      {positions.length > 0 && (
        <table className="table" data-testid="positions">
          <thead>
            <tr>
              <th>Pair</th>
              <th className="num">Amount</th>
              <th className="num">Avg cost</th>
              <th className="num">Mark</th>
              <th className="num">Value</th>
              <th className="num">Unrealized PnL</th>
              <th className="num">Realized PnL</th>
              <th className="num">Fees</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {positions.map((p) => (
              <tr key={p.symbol} data-testid={`position-${p.symbol}`}>
                <td>{pairName(p.symbol)}</td>
                <td className="num mono">{formatQty(p.quantity, qd(p.symbol))}</td>
                <td className="num mono">{formatPrice(p.avg_cost, pd(p.symbol) + 2)}</td>
                <td className="num mono">{formatPrice(p.mark, pd(p.symbol))}</td>
                <td className="num mono">{formatMoney(p.value)}</td>
                <td className={`num mono ${signOf(p.unrealized_pnl) > 0 ? "up" : signOf(p.unrealized_pnl) < 0 ? "down" : ""}`} data-testid="upnl">
                  {formatSigned(p.unrealized_pnl)} ({formatPct(p.unrealized_pct)})
                </td>
                <td className={`num mono ${signOf(p.realized_pnl) > 0 ? "up" : signOf(p.realized_pnl) < 0 ? "down" : ""}`}>
                  {formatSigned(p.realized_pnl)}
                </td>
                <td className="num mono">{formatMoney(p.fees_paid)}</td>
                <td className="num">
                  {signOf(p.quantity) > 0 && (
                    <button
                      className="btn btn-ghost small"
                      title="Fill the ticket to sell the whole position at market"
                      onClick={() => {
                        useMarket.getState().select(p.symbol);
                        setTimeout(() => useUi.getState().setTicket({ side: "SELL", kind: "market", amountMode: "qty", quantity: p.quantity }), 0);
                      }}
                    >
                      Close…
                    </button>
                  )}
                  {signOf(p.quantity) > 0 && (
                    <button
                      className="btn btn-ghost small"
                      title="Make a meme of this position (a PnL card)"
                      data-testid={`meme-${p.symbol}`}
                      onClick={() => {
                        useUi.getState().setMemeTrade({ kind: "position", symbol: p.symbol });
                        useUi.getState().setScreen("memes");
                      }}
                    >
                      Meme…
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function Fills() {
  const q = useFills();
  const pd = usePriceDecimals();
  const qd = useQtyDecimals();
  const fills = q.data ?? [];
  return (
    <>
      <Loading q={q} empty={fills.length === 0} what="No fills yet" />
      {fills.length > 0 && (
        <table className="table" data-testid="fills">
          <thead>
            <tr>
              <th>Time</th>
              <th>Pair</th>
              <th>Side</th>
              <th className="num">Price</th>
              <th className="num">Amount</th>
              <th className="num">Value</th>
              <th className="num">Fee</th>
              <th>Role</th>
              <th className="num">Order</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {fills.map((f) => (
              <tr key={f.id}>
                <td className="mono muted">{formatTime(f.time_ms)}</td>
                <td>{pairName(f.symbol)}</td>
                <td className={f.side === "BUY" ? "up" : "down"}>{f.side}</td>
                <td className="num mono">{formatPrice(f.price, pd(f.symbol))}</td>
                <td className="num mono">{formatQty(f.quantity, qd(f.symbol))}</td>
                <td className="num mono">{formatMoney(f.quote_quantity)}</td>
                <td className="num mono">
                  {formatMoney(f.fee)} {f.fee_asset}
                </td>
                <td>{f.is_maker ? "maker" : "taker"}</td>
                <td className="num mono">{f.order_id}</td>
                <td className="num">
                  {f.side === "SELL" && (
                    <button
                      className="btn btn-ghost small"
                      title="Make a meme of the trade this sale closed (a PnL card)"
                      data-testid={`meme-fill-${f.id}`}
                      onClick={() => {
                        useUi.getState().setMemeTrade({ kind: "trade", symbol: f.symbol, fillId: f.id });
                        useUi.getState().setScreen("memes");
                      }}
                    >
                      Meme…
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function History() {
  const q = useOrderHistory();
  const pd = usePriceDecimals();
  const qd = useQtyDecimals();
  const orders = q.data ?? [];
  return (
    <>
      <Loading q={q} empty={orders.length === 0} what="No orders yet" />
      {orders.length > 0 && (
        <table className="table" data-testid="order-history">
          <thead>
            <tr>
              <th>Time</th>
              <th>Pair</th>
              <th>Type</th>
              <th>Side</th>
              <th className="num">Price</th>
              <th className="num">Avg price</th>
              <th className="num">Filled</th>
              <th>Status</th>
              <th>Note</th>
            </tr>
          </thead>
          <tbody>
            {orders.map((o) => (
              <tr key={o.id}>
                <td className="mono muted">{formatTime(o.created_ms)}</td>
                <td>{pairName(o.symbol)}</td>
                <td>{typeLabel(o)}</td>
                <td className={o.side === "BUY" ? "up" : "down"}>{o.side}</td>
                <td className="num mono">{o.price ? formatPrice(o.price, pd(o.symbol)) : "market"}</td>
                <td className="num mono">{o.avg_price ? formatPrice(o.avg_price, pd(o.symbol) + 2) : "—"}</td>
                <td className="num mono">{formatQty(o.executed_qty, qd(o.symbol))}</td>
                <td>{o.status.replace(/_/g, " ").toLowerCase()}</td>
                <td className="muted">{o.reason ?? ""}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function Balances() {
  const q = usePortfolio();
  const balances = q.data?.balances ?? [];
  return (
    <>
      <Loading q={q} empty={balances.length === 0} what="No balances" />
      {balances.length > 0 && (
        <table className="table" data-testid="balances">
          <thead>
            <tr>
              <th>Asset</th>
              <th className="num">Free</th>
              <th className="num">Locked (in orders)</th>
              <th className="num">Value (USDT)</th>
            </tr>
          </thead>
          <tbody>
            {balances.map((b) => (
              <tr key={b.asset}>
                <td>{b.asset}</td>
                <td className="num mono">{formatQty(b.free, b.asset === "USDT" ? 2 : 8).replace(/\.?0+$/, "")}</td>
                <td className="num mono">{formatQty(b.locked, b.asset === "USDT" ? 2 : 8).replace(/\.?0+$/, "")}</td>
                <td className="num mono">{formatMoney(b.value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function EquityCurve() {
  const q = useEquity();
  const theme = useUi((s) => s.theme);
  const box = useRef<HTMLDivElement>(null);
  const points = q.data ?? [];
  useEffect(() => {
    if (!box.current || points.length === 0) return;
    const dark = theme === "dark";
    const el = box.current;
    const c = createChart(el, {
      width: el.clientWidth,
      height: el.clientHeight,
      localization: { locale: "en-US", timeFormatter: chartTime },
      layout: {
        background: { type: ColorType.Solid, color: "transparent" },
        textColor: dark ? "#848e9c" : "#707a8a",
        fontFamily: CHART_FONT,
        attributionLogo: true,
      },
      grid: { vertLines: { visible: false }, horzLines: { color: dark ? "rgba(43,49,57,0.6)" : "#eaecef" } },
      timeScale: { timeVisible: true, borderVisible: false, tickMarkFormatter: chartTickMark },
      rightPriceScale: { borderVisible: false },
    });
    const s = c.addSeries(AreaSeries, {
      lineColor: "#f0b90b",
      topColor: "rgba(240,185,11,0.3)",
      bottomColor: "rgba(240,185,11,0.02)",
      lineWidth: 2,
    });
    // One point per second at most (the chart needs strictly increasing times).
    const data: { time: UTCTimestamp; value: number }[] = [];
    for (const p of points) {
      const t = Math.floor(p.time_ms / 1000) as UTCTimestamp;
      const last = data[data.length - 1];
      if (last && last.time >= t) last.value = Number(p.equity);
      else data.push({ time: t, value: Number(p.equity) });
    }
    s.setData(data);
    c.timeScale().fitContent();
    const ro = new ResizeObserver(() => c.resize(el.clientWidth, el.clientHeight));
    ro.observe(el);
    return () => {
      ro.disconnect();
      c.remove();
    };
  }, [points, theme]);
  return (
    <>
      <Loading q={q} empty={points.length === 0} what="No equity history yet: it is recorded as the market runs" />
      {points.length > 0 && <div className="equity-box" ref={box} data-testid="equity-curve" />}
    </>
  );
}
