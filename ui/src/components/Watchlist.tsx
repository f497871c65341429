import { useInstruments, useStatus } from "../lib/queries";
import { useMarket } from "../lib/store";
import { baseOf, formatCompact, formatPct, formatPrice, formatWindow } from "../lib/format";

export function Watchlist() {
  const status = useStatus();
  const instruments = useInstruments();
  const tickers = useMarket((s) => s.tickers);
  const selected = useMarket((s) => s.symbol);
  const select = useMarket((s) => s.select);
  const symbols = status.data?.symbols ?? [];
  const decimals = (sym: string) => instruments.data?.find((i) => i.symbol === sym)?.price_decimals ?? 8;
  const window = Object.values(tickers)[0]?.change_window_ms ?? 0;
  return (
    <aside className="panel watchlist" aria-label="Watchlist">
      <div className="panel-head">
        <h3>Markets</h3>
        <span className="muted small">{window > 0 ? `${formatWindow(window)} change` : ""}</span>
      </div>
      {status.isLoading && <div className="empty">Loading markets…</div>}
      {status.isError && <div className="empty error-text">Cannot load the markets</div>}
      {symbols.length === 0 && status.data && <div className="empty">No markets in this source</div>}
      <ul className="watch-rows">
        {symbols.map((s) => {
          const t = tickers[s];
          const pct = t?.change_pct ?? null;
          return (
            <li
              key={s}
              className={`watch-row ${s === selected ? "selected" : ""}`}
              onClick={() => select(s)}
              data-testid={`watch-${s}`}
              aria-selected={s === selected}
            >
              <div className="watch-name">
                <strong>{baseOf(s)}</strong>
                <span className="muted">/USDT</span>
                <div className="muted small">Vol {formatCompact(t?.quote_volume)}</div>
              </div>
              <div className="watch-price">
                <div className="mono">{formatPrice(t?.last, decimals(s))}</div>
                <div className={`mono small ${pct === null ? "muted" : pct > 0 ? "up" : pct < 0 ? "down" : ""}`}>
                  {formatPct(pct)}
                </div>
              </div>
            </li>
          );
        })}
      </ul>
    </aside>
  );
}
