import { useInstrument } from "../lib/hooks";
import { useStatus } from "../lib/queries";
import { useMarket } from "../lib/store";
import { formatPrice, formatSize, formatTime } from "../lib/format";

export function TradesPanel() {
  const symbol = useMarket((s) => s.symbol);
  const trades = useMarket((s) => s.trades);
  const status = useStatus();
  const inst = useInstrument(symbol);
  const pd = inst?.price_decimals ?? 8;
  const qd = inst?.qty_decimals ?? 2;
  const hasTrades = status.data?.has_trades ?? true;
  return (
    <div className="panel trades-panel" data-testid="trades">
      <div className="panel-head">
        <h3>Trades</h3>
        <span className="muted small">market time (UTC)</span>
      </div>
      {!hasTrades && <div className="empty">A candle replay has no trade tape.</div>}
      {hasTrades && trades.length === 0 && <div className="empty">No trades yet</div>}
      <div className="tape">
        <div className="tape-body">
          {trades.map((t) => (
            <div className="tape-row" key={t.k}>
              <span className={`mono ${t.buy ? "up" : "down"}`}>{formatPrice(t.price, pd)}</span>
              <span className="mono">{formatSize(t.quantity, qd)}</span>
              <span className="mono muted">{formatTime(t.time_ms, false)}</span>
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
