// The order ticket's rules: what the user typed, checked against the instrument's exchange
// filters and the account's balances, turned into the order the engine receives. The engine
// checks everything again; checking here lets the ticket say what is wrong before sending.

import type { InstrumentView, OcoTicket, OrderTicket } from "../bindings";
import {
  add,
  cmp,
  dec,
  div,
  floorTo,
  fromNumber,
  isMultiple,
  isZero,
  mul,
  parseDec,
  sub,
  toStr,
  type Dec,
} from "./decimal";

export type Side = "BUY" | "SELL";
export type TicketKind = "market" | "limit" | "stop_limit" | "oco";
export type AmountMode = "qty" | "quote";
export type Tif = "GTC" | "IOC" | "FOK";

export interface TicketForm {
  side: Side;
  kind: TicketKind;
  /** Market orders can be given in base quantity or in quote (USDT) amount. */
  amountMode: AmountMode;
  quantity: string;
  quote: string;
  /** Limit price (limit, stop-limit, OCO's limit leg). */
  price: string;
  /** Stop (trigger) price (stop-limit, OCO's stop leg). */
  stop: string;
  /** OCO's stop-limit price (empty: the stop leg is a stop-market). */
  stopLimit: string;
  tif: Tif;
  /** Limit orders only: rest on the book or be rejected (LIMIT_MAKER). */
  postOnly: boolean;
}

export const emptyForm: TicketForm = {
  side: "BUY",
  kind: "limit",
  amountMode: "qty",
  quantity: "",
  quote: "",
  price: "",
  stop: "",
  stopLimit: "",
  tif: "GTC",
  postOnly: false,
};

export interface Balances {
  /** Free quote asset (USDT). */
  quoteFree: string;
  /** Free base asset of the symbol. */
  baseFree: string;
}

export type Field = "quantity" | "quote" | "price" | "stop" | "stopLimit" | "form";

export interface Checked {
  errors: Partial<Record<Field, string>>;
  /** The order to send when there are no errors. */
  order?: { kind: "order"; ticket: OrderTicket } | { kind: "oco"; ticket: OcoTicket };
  /** Estimated value of the order in the quote asset. */
  notional?: string;
}

function checkPrice(
  v: string,
  inst: InstrumentView,
  what: string,
): { value?: Dec; error?: string } {
  if (v.trim() === "") return { error: `Enter a ${what}` };
  const d = parseDec(v);
  if (!d) return { error: `${what[0]?.toUpperCase()}${what.slice(1)} must be a number like 0.00001234` };
  if (d.units <= 0n) return { error: `${what[0]?.toUpperCase()}${what.slice(1)} must be above zero` };
  const tick = dec(inst.tick_size);
  if (!isZero(tick) && !isMultiple(d, tick)) {
    return { error: `Must be a multiple of the tick size ${inst.tick_size}` };
  }
  const min = dec(inst.min_price);
  const max = dec(inst.max_price);
  if (!isZero(min) && cmp(d, min) < 0) return { error: `Below the minimum price ${inst.min_price}` };
  if (!isZero(max) && cmp(d, max) > 0) return { error: `Above the maximum price ${inst.max_price}` };
  return { value: d };
}

function checkQty(
  v: string,
  inst: InstrumentView,
  market: boolean,
): { value?: Dec; error?: string } {
  if (v.trim() === "") return { error: "Enter a quantity" };
  const d = parseDec(v);
  if (!d) return { error: "Quantity must be a number" };
  if (d.units <= 0n) return { error: "Quantity must be above zero" };
  const step = dec(market ? inst.market_step_size : inst.step_size);
  const min = dec(market ? inst.market_min_qty : inst.min_qty);
  const max = dec(market ? inst.market_max_qty : inst.max_qty);
  if (!isZero(step) && !isMultiple(d, step)) {
    return { error: `Must be a multiple of the lot step ${toStr(step)}` };
  }
  if (cmp(d, min) < 0) return { error: `Minimum quantity is ${toStr(min)}` };
  if (!isZero(max) && cmp(d, max) > 0) return { error: `Maximum quantity is ${toStr(max)}` };
  return { value: d };
}

/** Which engine order type a stop-limit ticket is, from where the stop is against the price. */
export function stopLimitType(
  side: Side,
  stop: Dec,
  last: Dec,
): "STOP_LOSS_LIMIT" | "TAKE_PROFIT_LIMIT" | null {
  const c = cmp(stop, last);
  if (c === 0) return null;
  // A buy stop above the market (breakout) or a sell stop below it (stop loss) is a stop-loss;
  // the other way round it is a take-profit.
  if (side === "BUY") return c > 0 ? "STOP_LOSS_LIMIT" : "TAKE_PROFIT_LIMIT";
  return c < 0 ? "STOP_LOSS_LIMIT" : "TAKE_PROFIT_LIMIT";
}

/**
 * Check a ticket. `last` is the last traded price (or mark), `feeBps` the taker fee used to
 * estimate what a buy costs.
 */
export function checkTicket(
  f: TicketForm,
  inst: InstrumentView,
  bal: Balances,
  last: string | null,
  feeBps = 10,
): Checked {
  const errors: Checked["errors"] = {};
  const lastD = parseDec(last ?? "");
  const market = f.kind === "market";
  const byQuote = market && f.amountMode === "quote";
  let price: Dec | undefined;
  let stop: Dec | undefined;
  let stopLimit: Dec | undefined;
  if (f.kind !== "market") {
    const p = checkPrice(f.price, inst, "price");
    if (p.error) errors.price = p.error;
    price = p.value;
  }
  if (f.kind === "stop_limit" || f.kind === "oco") {
    const s = checkPrice(f.stop, inst, "stop price");
    if (s.error) errors.stop = s.error;
    stop = s.value;
  }
  if (f.kind === "oco" && f.stopLimit.trim() !== "") {
    const s = checkPrice(f.stopLimit, inst, "stop-limit price");
    if (s.error) errors.stopLimit = s.error;
    stopLimit = s.value;
  }
  let qty: Dec | undefined;
  let quote: Dec | undefined;
  if (byQuote) {
    if (f.quote.trim() === "") errors.quote = "Enter an amount";
    else {
      const q = parseDec(f.quote);
      if (!q) errors.quote = "Amount must be a number";
      else if (q.units <= 0n) errors.quote = "Amount must be above zero";
      else quote = q;
    }
  } else {
    const q = checkQty(f.quantity, inst, market);
    if (q.error) errors.quantity = q.error;
    qty = q.value;
  }

  // The value of the order: at its price, or at the last price for a market order.
  const refPrice = market ? lastD : price;
  let notional: Dec | undefined;
  if (quote) notional = quote;
  else if (qty && refPrice) notional = mul(qty, refPrice);
  const minNotional = dec(inst.min_notional);
  if (notional && !isZero(minNotional) && cmp(notional, minNotional) < 0 && !errors.quantity && !errors.quote) {
    const field: Field = byQuote ? "quote" : "quantity";
    errors[field] = `Order value ${toStr(roundDown(notional, 8))} is below the minimum of ${inst.min_notional} ${inst.quote_asset}`;
  }

  // Balances (spot only: no borrowing, no shorting).
  const quoteFree = parseDec(bal.quoteFree) ?? dec("0");
  const baseFree = parseDec(bal.baseFree) ?? dec("0");
  if (f.side === "BUY" && notional && !errors.quantity && !errors.quote) {
    const fee = div(mul(notional, dec(String(feeBps))), dec("10000"), 12) ?? dec("0");
    const needed = market && !byQuote ? add(notional, fee) : notional;
    if (cmp(needed, quoteFree) > 0) {
      errors[byQuote ? "quote" : "quantity"] =
        `Not enough ${inst.quote_asset}: needs about ${toStr(roundDown(needed, 2))}, ${toStr(roundDown(quoteFree, 2))} available`;
    }
  }
  if (f.side === "SELL" && qty && !errors.quantity && cmp(qty, baseFree) > 0) {
    errors.quantity = `Not enough ${inst.base_asset}: ${toStr(baseFree)} available (spot only: no shorting)`;
  }
  if (f.side === "SELL" && byQuote && quote && lastD && !errors.quote) {
    const approxQty = div(quote, lastD, 12);
    if (approxQty && cmp(approxQty, baseFree) > 0) {
      errors.quote = `Not enough ${inst.base_asset} to sell for that amount`;
    }
  }

  // Stop-limit and OCO price relations.
  let stopType: "STOP_LOSS_LIMIT" | "TAKE_PROFIT_LIMIT" | null = null;
  if (f.kind === "stop_limit" && stop) {
    if (!lastD) errors.stop = "No market price yet to place a stop against";
    else {
      stopType = stopLimitType(f.side, stop, lastD);
      if (!stopType) errors.stop = "The stop equals the last price: it would trigger at once";
    }
  }
  if (f.kind === "oco" && price && stop && lastD) {
    if (f.side === "SELL" && !(cmp(price, lastD) > 0 && cmp(stop, lastD) < 0)) {
      errors.form = "A sell OCO needs its limit above the last price and its stop below it";
    }
    if (f.side === "BUY" && !(cmp(price, lastD) < 0 && cmp(stop, lastD) > 0)) {
      errors.form = "A buy OCO needs its limit below the last price and its stop above it";
    }
  }

  const out: Checked = { errors };
  if (notional) out.notional = toStr(roundDown(notional, 8));
  if (Object.keys(errors).length > 0) return out;

  if (f.kind === "oco") {
    if (!qty || !price || !stop) return out;
    out.order = {
      kind: "oco",
      ticket: {
        symbol: inst.symbol,
        side: f.side,
        quantity: toStr(qty),
        price: toStr(price),
        stop_price: toStr(stop),
        stop_limit_price: stopLimit ? toStr(stopLimit) : null,
      },
    };
    return out;
  }
  const ticket: OrderTicket = {
    symbol: inst.symbol,
    side: f.side,
    order_type: "MARKET",
    quantity: qty ? toStr(qty) : null,
    quote_quantity: quote ? toStr(quote) : null,
    price: null,
    stop_price: null,
    time_in_force: null,
  };
  if (f.kind === "limit") {
    ticket.order_type = f.postOnly ? "LIMIT_MAKER" : "LIMIT";
    ticket.price = price ? toStr(price) : null;
    ticket.time_in_force = f.postOnly ? null : f.tif;
  } else if (f.kind === "stop_limit") {
    ticket.order_type = stopType ?? "STOP_LOSS_LIMIT";
    ticket.price = price ? toStr(price) : null;
    ticket.stop_price = stop ? toStr(stop) : null;
    ticket.time_in_force = "GTC";
  }
  out.order = { kind: "order", ticket };
  return out;
}

function roundDown(d: Dec, scale: number): Dec {
  if (d.scale <= scale) return d;
  return floorTo(d, { units: 1n, scale });
}

/**
 * The amount for a "25/50/75/100 %" button. Buys spend that share of the free quote asset
 * (in quote mode as an amount; otherwise as a quantity at the price, fee included); sells use
 * that share of the free base asset. Quantities are floored to the lot step.
 */
export function percentAmount(
  pct: number,
  f: TicketForm,
  inst: InstrumentView,
  bal: Balances,
  last: string | null,
  feeBps = 10,
): { quantity?: string; quote?: string } {
  const share = fromNumber(pct / 100, 4);
  const market = f.kind === "market";
  const step = dec(market ? inst.market_step_size : inst.step_size);
  if (f.side === "BUY") {
    const spend = mul(parseDec(bal.quoteFree) ?? dec("0"), share);
    if (market && f.amountMode === "quote") {
      return { quote: toStr(floorTo(spend, dec("0.01"))) };
    }
    const p = parseDec(market ? (last ?? "") : f.price) ?? null;
    if (!p || isZero(p)) return {};
    const withFee = mul(p, add(dec("1"), div(dec(String(feeBps)), dec("10000"), 8) ?? dec("0")));
    const q = div(spend, withFee, Math.max(step.scale, 0) + 8);
    if (!q) return {};
    return { quantity: toStr(floorTo(q, step)) };
  }
  const have = mul(parseDec(bal.baseFree) ?? dec("0"), share);
  if (market && f.amountMode === "quote") {
    const p = parseDec(last ?? "");
    if (!p) return {};
    return { quote: toStr(floorTo(mul(have, p), dec("0.01"))) };
  }
  return { quantity: toStr(floorTo(have, step)) };
}

/** Whether an order of this value needs a confirmation. */
export function needsConfirm(notional: string | undefined, threshold: string): boolean {
  if (!notional) return false;
  const n = parseDec(notional);
  const t = parseDec(threshold);
  if (!n || !t || isZero(t)) return false;
  return cmp(n, t) > 0;
}

export { sub };
