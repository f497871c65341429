import { useEffect, useMemo, useRef, useState } from "react";
import type { Estimate } from "../bindings";
import { useInstrument, useLastPrice, useTicketBalances } from "../lib/hooks";
import { api, errorMessage } from "../lib/ipc";
import { usePortfolio, useSettings, useStatus, useSubmit } from "../lib/queries";
import { useMarket, useUi } from "../lib/store";
import { checkTicket, needsConfirm, percentAmount, type TicketKind } from "../lib/ticket";
import { baseOf, formatMoney, formatPrice, formatQty } from "../lib/format";
import { Confirm } from "./Dialog";
import { toast } from "./Toasts";

const KINDS: { kind: TicketKind; label: string }[] = [
  { kind: "limit", label: "Limit" },
  { kind: "market", label: "Market" },
  { kind: "stop_limit", label: "Stop-limit" },
  { kind: "oco", label: "OCO" },
];

export function TicketPanel() {
  const symbol = useMarket((s) => s.symbol);
  const inst = useInstrument(symbol);
  const form = useUi((s) => s.ticket);
  const setTicket = useUi((s) => s.setTicket);
  const focusTick = useUi((s) => s.focusTicket);
  const bal = useTicketBalances(symbol);
  const last = useLastPrice(symbol);
  const status = useStatus();
  const portfolio = usePortfolio();
  const settings = useSettings();
  const submit = useSubmit();
  const amountRef = useRef<HTMLInputElement>(null);
  const [touched, setTouched] = useState(false);
  const [serverError, setServerError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [estimate, setEstimate] = useState<Estimate | null>(null);
  const base = baseOf(symbol);
  const quote = inst?.quote_asset ?? "USDT";

  // B / S shortcuts focus the amount field.
  useEffect(() => {
    if (focusTick > 0) amountRef.current?.focus();
  }, [focusTick]);
  // A new symbol starts a clean ticket.
  useEffect(() => {
    useUi.getState().clearTicket();
    setTouched(false);
    setServerError(null);
  }, [symbol]);

  const checked = useMemo(
    () => (inst ? checkTicket(form, inst, bal, last) : { errors: { form: "Loading the trading rules…" } }),
    [form, inst, bal, last],
  );

  // What it would cost now (asks the engine, which walks the current book).
  useEffect(() => {
    setEstimate(null);
    const o = checked.order;
    if (!o || o.kind !== "order") return;
    let stop = false;
    const t = setTimeout(() => {
      api
        .estimate(o.ticket)
        .then((e) => {
          if (!stop) setEstimate(e);
        })
        .catch(() => {});
    }, 150);
    return () => {
      stop = true;
      clearTimeout(t);
    };
  }, [checked.order]);

  const send = () => {
    const o = checked.order;
    if (!o) return;
    setConfirming(false);
    setServerError(null);
    submit.mutate(o, {
      onSuccess: (orders) => {
        const first = orders[0];
        toast({
          kind: "info",
          title: `Order ${orders.map((x) => x.id).join(" + ")} placed`,
          body: first ? `${first.side} ${first.order_type.replace(/_/g, " ")} ${base}` : "",
        });
        useUi.getState().setTicket({ quantity: "", quote: "" });
        setTouched(false);
      },
      onError: (e) => setServerError(errorMessage(e)),
    });
  };

  const onSubmit = (e: React.FormEvent) => {
    e.preventDefault();
    setTouched(true);
    if (!checked.order) return;
    const threshold = settings.data?.confirm_above ?? "1000";
    if (needsConfirm(estimate?.notional ?? checked.notional, threshold)) setConfirming(true);
    else send();
  };

  const pct = (p: number) => {
    if (!inst) return;
    setTicket(percentAmount(p, form, inst, bal, last));
  };

  // A field's problem shows as soon as it holds something (inline), all of them on submit.
  const typed: Record<string, string> = {
    quantity: form.quantity,
    quote: form.quote,
    price: form.price,
    stop: form.stop,
    stopLimit: form.stopLimit,
  };
  const err = (f: keyof typeof checked.errors) =>
    touched || (typed[f] ?? "") !== "" ? checked.errors[f] : undefined;
  const isBuy = form.side === "BUY";
  const byQuote = form.kind === "market" && form.amountMode === "quote";
  const pd = inst?.price_decimals ?? 8;
  const finished = status.data?.state === "finished";

  return (
    <div className="panel ticket-panel" data-testid="ticket">
      <form onSubmit={onSubmit} noValidate>
        <div className="side-tabs">
          <button type="button" className={`side-buy ${isBuy ? "active" : ""}`} onClick={() => setTicket({ side: "BUY" })}>
            Buy
          </button>
          <button type="button" className={`side-sell ${!isBuy ? "active" : ""}`} onClick={() => setTicket({ side: "SELL" })}>
            Sell
          </button>
        </div>
        <div className="kind-tabs" role="tablist" aria-label="Order type">
          {KINDS.map((k) => (
            <button
              type="button"
              key={k.kind}
              role="tab"
              aria-selected={form.kind === k.kind}
              className={form.kind === k.kind ? "active" : ""}
              onClick={() => setTicket({ kind: k.kind })}
            >
              {k.label}
            </button>
          ))}
        </div>
        <div className="avail muted small">
          Available{" "}
          <span className="mono" data-testid="available">
            {!portfolio.data
              ? "—" // the account is still loading: not a zero balance
              : isBuy
                ? `${formatMoney(bal.quoteFree)} ${quote}`
                : `${formatQty(bal.baseFree, inst?.qty_decimals ?? 2)} ${base}`}
          </span>
        </div>

        {(form.kind === "stop_limit" || form.kind === "oco") && (
          <Field label="Stop" unit={quote} error={err("stop")}>
            <input
              aria-label="Stop price"
              inputMode="decimal"
              value={form.stop}
              placeholder={last ? formatPrice(last, pd).replace(/[₀-₉]/g, "") : ""}
              onChange={(e) => setTicket({ stop: e.target.value.trim() })}
            />
          </Field>
        )}
        {form.kind !== "market" && (
          <Field label={form.kind === "oco" ? "Limit" : "Price"} unit={quote} error={err("price")}>
            <input
              aria-label="Price"
              inputMode="decimal"
              value={form.price}
              onChange={(e) => setTicket({ price: e.target.value.trim() })}
            />
            <button
              type="button"
              className="mini"
              title="Use the last price"
              onClick={() => last && setTicket({ price: last })}
            >
              Last
            </button>
          </Field>
        )}
        {form.kind === "oco" && (
          <Field label="Stop-limit" unit={quote} error={err("stopLimit")} hint="empty: stop-market">
            <input
              aria-label="Stop-limit price"
              inputMode="decimal"
              value={form.stopLimit}
              onChange={(e) => setTicket({ stopLimit: e.target.value.trim() })}
            />
          </Field>
        )}
        {byQuote ? (
          <Field label="Total" unit={quote} error={err("quote")}>
            <input
              ref={amountRef}
              aria-label="Amount"
              inputMode="decimal"
              value={form.quote}
              onChange={(e) => setTicket({ quote: e.target.value.trim() })}
            />
          </Field>
        ) : (
          <Field label="Amount" unit={base} error={err("quantity")}>
            <input
              ref={amountRef}
              aria-label="Quantity"
              inputMode="decimal"
              value={form.quantity}
              onChange={(e) => setTicket({ quantity: e.target.value.trim() })}
            />
          </Field>
        )}
        {form.kind === "market" && (
          <label className="check small">
            <input
              type="checkbox"
              checked={form.amountMode === "quote"}
              onChange={(e) => setTicket({ amountMode: e.target.checked ? "quote" : "qty" })}
            />
            Amount in {quote}
          </label>
        )}
        <div className="pct-row">
          {[25, 50, 75, 100].map((p) => (
            <button type="button" key={p} onClick={() => pct(p)}>
              {p}%
            </button>
          ))}
        </div>
        {form.kind === "limit" && (
          <div className="row small">
            <label className="check">
              <input type="checkbox" checked={form.postOnly} onChange={(e) => setTicket({ postOnly: e.target.checked })} />
              Post-only
            </label>
            <select
              aria-label="Time in force"
              value={form.tif}
              disabled={form.postOnly}
              onChange={(e) => setTicket({ tif: e.target.value as "GTC" | "IOC" | "FOK" })}
            >
              <option value="GTC">GTC</option>
              <option value="IOC">IOC</option>
              <option value="FOK">FOK</option>
            </select>
          </div>
        )}
        <div className="estimate small" data-testid="estimate">
          <Line k="Order value" v={checked.notional ? `${formatMoney(estimate?.notional ?? checked.notional)} ${quote}` : "—"} />
          <Line
            k={`Est. fee (${estimate ? (estimate.taker ? "taker" : "maker") : "—"})`}
            v={estimate ? `${formatMoney(estimate.fee)} ${estimate.fee_asset}` : "—"}
          />
          <Line
            k="Est. avg price"
            v={estimate?.avg_price ? formatPrice(estimate.avg_price, pd + 2) : "—"}
          />
          <Line
            k="Est. slippage"
            v={estimate?.slippage_bps !== undefined && estimate?.slippage_bps !== null ? `${estimate.slippage_bps.toFixed(1)} bps` : "—"}
          />
          {estimate?.partial && <div className="warn">The book cannot fill all of it now: the rest would expire.</div>}
        </div>
        {touched && checked.errors.form && <div className="error-text small">{checked.errors.form}</div>}
        {serverError && (
          <div className="error-text small" role="alert" data-testid="ticket-error">
            {serverError}
          </div>
        )}
        <button
          type="submit"
          className={`btn submit ${isBuy ? "btn-buy" : "btn-sell"}`}
          disabled={submit.isPending || !inst || finished || portfolio.isLoading}
          data-testid="submit"
        >
          {submit.isPending ? "Placing…" : `${isBuy ? "Buy" : "Sell"} ${base}`}
        </button>
        {finished && <div className="muted small">The replay has ended: restart it or pick another market.</div>}
      </form>
      {confirming && (
        <Confirm
          title="Place this order?"
          confirmLabel={`${isBuy ? "Buy" : "Sell"} ${base}`}
          onCancel={() => setConfirming(false)}
          onConfirm={send}
        >
          <p>
            {isBuy ? "Buy" : "Sell"} {form.kind.replace("_", "-")} {base} worth about{" "}
            <strong>
              {formatMoney(estimate?.notional ?? checked.notional)} {quote}
            </strong>
            {estimate ? `, fee about ${formatMoney(estimate.fee)} ${quote}` : ""}.
          </p>
          <p className="muted small">Orders above {settings.data?.confirm_above ?? "1000"} {quote} ask first (settings).</p>
        </Confirm>
      )}
    </div>
  );
}

function Field(props: { label: string; unit: string; error?: string; hint?: string; children: React.ReactNode }) {
  return (
    <div className={`field ${props.error ? "invalid" : ""}`}>
      <div className="field-box">
        <span className="field-label">{props.label}</span>
        {props.children}
        <span className="field-unit">{props.unit}</span>
      </div>
      {props.error ? (
        <div className="field-error" role="alert">
          {props.error}
        </div>
      ) : (
        props.hint && <div className="muted small">{props.hint}</div>
      )}
    </div>
  );
}

function Line(props: { k: string; v: string }) {
  return (
    <div className="line">
      <span className="muted">{props.k}</span>
      <span className="mono">{props.v}</span>
    </div>
  );
}
