import { memo } from "react";
import { useInstrument } from "../lib/hooks";
import { useStatus } from "../lib/queries";
import { useMarket, useUi } from "../lib/store";
import { formatPrice, formatSize } from "../lib/format";

const LEVELS = 20;

interface Row {
  price: string;
  qty: string;
  cum: number;
}

function rows(levels: [string, string][]): Row[] {
  let cum = 0;
  return levels.slice(0, LEVELS).map(([price, qty]) => {
    cum += Number(qty);
    return { price, qty, cum };
  });
}

const Side = memo(function Side(props: {
  rows: Row[];
  max: number;
  side: "bid" | "ask";
  pd: number;
  qd: number;
  onPick: (p: string) => void;
}) {
  return (
    <div className={`book-side book-${props.side}`}>
      {props.rows.map((r) => (
        <div key={r.price} className="book-row" onClick={() => props.onPick(r.price)} title="Use this price">
          <div className="book-bar" style={{ transform: `scaleX(${props.max > 0 ? Math.min(1, r.cum / props.max) : 0})` }} />
          <span className={`mono ${props.side === "bid" ? "up" : "down"}`}>{formatPrice(r.price, props.pd)}</span>
          <span className="mono">{formatSize(r.qty, props.qd)}</span>
          <span className="mono muted">{formatSize(String(r.cum), props.qd)}</span>
        </div>
      ))}
    </div>
  );
});

export function OrderBookPanel() {
  const symbol = useMarket((s) => s.symbol);
  const book = useMarket((s) => (s.book?.symbol === symbol ? s.book : null));
  const status = useStatus();
  const inst = useInstrument(symbol);
  const pd = inst?.price_decimals ?? 8;
  const qd = inst?.qty_decimals ?? 2;
  const hasBook = status.data?.has_book ?? true;
  const pick = (p: string) => useUi.getState().setTicket({ price: p });

  if (!hasBook) {
    return (
      <div className="panel book-panel">
        <div className="panel-head">
          <h3>Order book</h3>
        </div>
        <div className="empty">
          A candle replay has no order book. Choose the simulator or an order-book capture to trade
          against real depth.
        </div>
      </div>
    );
  }
  const bids = rows(book?.bids ?? []);
  const asks = rows(book?.asks ?? []);
  const max = Math.max(bids[bids.length - 1]?.cum ?? 0, asks[asks.length - 1]?.cum ?? 0);
  const bestBid = book?.bids[0]?.[0];
  const bestAsk = book?.asks[0]?.[0];
  let spread = "—";
  let spreadBps = "";
  if (bestBid && bestAsk) {
    const b = Number(bestBid);
    const a = Number(bestAsk);
    spread = formatPrice((a - b).toFixed(pd), pd);
    spreadBps = `${(((a - b) / ((a + b) / 2)) * 10_000).toFixed(1)} bps`;
  }
  return (
    <div className="panel book-panel" data-testid="order-book">
      <div className="panel-head">
        <h3>Order book</h3>
        <span className="muted small">price · size · total</span>
      </div>
      {!book && <div className="empty">Waiting for the book…</div>}
      {book && (
        <div className="book">
          <div className="book-body">
            <Side rows={[...asks].reverse()} max={max} side="ask" pd={pd} qd={qd} onPick={pick} />
            <div className="book-spread">
              <span className="mono">{formatPrice(bestBid && bestAsk ? ((Number(bestBid) + Number(bestAsk)) / 2).toFixed(pd + 1) : null, pd + 1)}</span>
              <span className="muted small">
                spread {spread} {spreadBps && `(${spreadBps})`}
              </span>
            </div>
            <Side rows={bids} max={max} side="bid" pd={pd} qd={qd} onPick={pick} />
          </div>
        </div>
      )}
    </div>
  );
}
