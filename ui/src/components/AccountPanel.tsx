import { useState } from "react";
import { usePortfolio, useReset } from "../lib/queries";
import { errorMessage } from "../lib/ipc";
import { formatMoney, formatPct, formatSigned, signOf } from "../lib/format";
import { Confirm } from "./Dialog";
import { toast } from "./Toasts";

export function AccountPanel() {
  const p = usePortfolio();
  const reset = useReset();
  const [asking, setAsking] = useState(false);
  const d = p.data;
  return (
    <div className="panel account-panel" data-testid="account">
      <div className="panel-head">
        <h3>Paper account {d ? `#${d.account_id}` : ""}</h3>
        <button className="btn btn-ghost small" onClick={() => setAsking(true)} disabled={!d}>
          Reset…
        </button>
      </div>
      {p.isLoading && <div className="empty">Loading the account…</div>}
      {p.isError && <div className="empty error-text">{errorMessage(p.error)}</div>}
      {d && (
        <dl className="kv">
          <dt>Equity</dt>
          <dd className="mono">
            {formatMoney(d.equity)} {d.quote_asset}
          </dd>
          <dt>Return</dt>
          <dd className={`mono ${(d.return_pct ?? 0) > 0 ? "up" : (d.return_pct ?? 0) < 0 ? "down" : ""}`}>{formatPct(d.return_pct)}</dd>
          <dt>Unrealized PnL</dt>
          <dd className={`mono ${signOf(d.unrealized_pnl) > 0 ? "up" : signOf(d.unrealized_pnl) < 0 ? "down" : ""}`}>
            {formatSigned(d.unrealized_pnl)}
          </dd>
          <dt>Realized PnL</dt>
          <dd className={`mono ${signOf(d.realized_pnl) > 0 ? "up" : signOf(d.realized_pnl) < 0 ? "down" : ""}`}>
            {formatSigned(d.realized_pnl)}
          </dd>
          <dt>Fees paid</dt>
          <dd className="mono">{formatMoney(d.fees_paid)}</dd>
          <dt>Open orders</dt>
          <dd className="mono">{d.open_orders}</dd>
        </dl>
      )}
      {asking && d && (
        <Confirm
          title="Reset the paper account?"
          confirmLabel="Reset account"
          danger
          onCancel={() => setAsking(false)}
          onConfirm={() => {
            setAsking(false);
            reset.mutate(null, {
              onSuccess: (np) =>
                toast({ kind: "info", title: "Fresh account", body: `Account #${np.account_id} starts with ${formatMoney(np.initial_cash)} ${np.quote_asset}` }),
              onError: (e) => toast({ kind: "error", title: "Reset failed", body: errorMessage(e) }),
            });
          }}
        >
          <p>
            Open orders are cancelled and a new account starts with {formatMoney(d.initial_cash)}{" "}
            {d.quote_asset} on this market. The current account's history stays in the ledger.
          </p>
        </Confirm>
      )}
    </div>
  );
}
