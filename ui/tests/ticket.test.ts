import { describe, expect, it } from "vitest";
import type { InstrumentView } from "../src/bindings";
import { checkTicket, emptyForm, needsConfirm, percentAmount, stopLimitType, type TicketForm } from "../src/lib/ticket";
import { dec, div, floorTo, isMultiple, parseDec, toStr } from "../src/lib/decimal";

// Real Binance filters for PEPEUSDT (the bundled snapshot).
const PEPE: InstrumentView = {
  symbol: "PEPEUSDT",
  base_asset: "PEPE",
  quote_asset: "USDT",
  tick_size: "0.00000001",
  min_price: "0.00000001",
  max_price: "1000",
  step_size: "1",
  min_qty: "1",
  max_qty: "9000000000",
  market_step_size: "1",
  market_min_qty: "0",
  market_max_qty: "9000000000",
  min_notional: "5",
  max_notional: "9000000",
  price_decimals: 8,
  qty_decimals: 0,
  percent_price: null,
  order_types: ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"],
  estimated: [],
};

const rich = { quoteFree: "10000", baseFree: "50000000" };
const form = (p: Partial<TicketForm>): TicketForm => ({ ...emptyForm, ...p });

describe("decimals", () => {
  it("parse only plain decimals", () => {
    expect(parseDec("12.340")).toEqual({ units: 12340n, scale: 3 });
    expect(parseDec("-0.5")).toEqual({ units: -5n, scale: 1 });
    for (const bad of ["", "1e5", "1,000", "abc", "1.2.3", " . "]) expect(parseDec(bad)).toBeNull();
  });

  it("do exact arithmetic", () => {
    expect(isMultiple(dec("0.00001234"), dec("0.00000001"))).toBe(true);
    expect(isMultiple(dec("0.000012345"), dec("0.00000001"))).toBe(false);
    expect(toStr(floorTo(dec("1234.99"), dec("1")))).toBe("1234");
    expect(toStr(div(dec("1"), dec("3"), 6) ?? dec("0"))).toBe("0.333333");
    expect(div(dec("1"), dec("0"), 2)).toBeNull();
  });
});

describe("the ticket", () => {
  it("turns a valid limit buy into the engine's order", () => {
    const c = checkTicket(form({ price: "0.00001200", quantity: "1000000" }), PEPE, rich, "0.00001234");
    expect(c.errors).toEqual({});
    expect(c.notional).toBe("12");
    expect(c.order).toEqual({
      kind: "order",
      ticket: {
        symbol: "PEPEUSDT",
        side: "BUY",
        order_type: "LIMIT",
        quantity: "1000000",
        quote_quantity: null,
        price: "0.000012",
        stop_price: null,
        time_in_force: "GTC",
      },
    });
  });

  it("refuses what the exchange would refuse, with the filter's own numbers", () => {
    const off = (p: Partial<TicketForm>) => checkTicket(form(p), PEPE, rich, "0.00001234").errors;
    expect(off({ price: "0.000012345", quantity: "1000000" }).price).toBe("Must be a multiple of the tick size 0.00000001");
    expect(off({ price: "0.000012", quantity: "10.5" }).quantity).toBe("Must be a multiple of the lot step 1");
    expect(off({ price: "0.000012", quantity: "100" }).quantity).toMatch(/below the minimum of 5 USDT/);
    expect(off({ price: "0", quantity: "1" }).price).toBe("Price must be above zero");
    expect(off({ price: "abc", quantity: "1" }).price).toMatch(/must be a number/);
    expect(off({ price: "", quantity: "" })).toMatchObject({ price: "Enter a price", quantity: "Enter a quantity" });
    expect(off({ price: "2000", quantity: "1" }).price).toBe("Above the maximum price 1000");
    expect(off({ price: "0.000012", quantity: "9000000001" }).quantity).toBe("Maximum quantity is 9000000000");
  });

  it("checks balances: no spending what you do not have, no shorting", () => {
    const poor = { quoteFree: "10", baseFree: "0" };
    const buy = checkTicket(form({ price: "0.00001200", quantity: "1000000" }), PEPE, poor, "0.00001234");
    expect(buy.errors.quantity).toMatch(/Not enough USDT: needs about 12, 10 available/);
    expect(buy.order).toBeUndefined();
    const sell = checkTicket(form({ side: "SELL", price: "0.00001300", quantity: "1000000" }), PEPE, poor, "0.00001234");
    expect(sell.errors.quantity).toMatch(/Not enough PEPE.*no shorting/);
  });

  it("a market order can be sized in USDT", () => {
    const c = checkTicket(form({ kind: "market", amountMode: "quote", quote: "250" }), PEPE, rich, "0.00001234");
    expect(c.errors).toEqual({});
    expect(c.order?.kind === "order" && c.order.ticket).toMatchObject({ order_type: "MARKET", quote_quantity: "250", quantity: null });
    const small = checkTicket(form({ kind: "market", amountMode: "quote", quote: "4" }), PEPE, rich, "0.00001234");
    expect(small.errors.quote).toMatch(/below the minimum/);
  });

  it("post-only sends LIMIT_MAKER without a time in force", () => {
    const c = checkTicket(form({ price: "0.00001200", quantity: "1000000", postOnly: true }), PEPE, rich, "0.00001234");
    expect(c.order?.kind === "order" && c.order.ticket).toMatchObject({ order_type: "LIMIT_MAKER", time_in_force: null });
  });

  it("a stop-limit becomes a stop-loss or a take-profit from where the stop is", () => {
    const last = dec("0.00001234");
    expect(stopLimitType("SELL", dec("0.00001100"), last)).toBe("STOP_LOSS_LIMIT");
    expect(stopLimitType("SELL", dec("0.00001300"), last)).toBe("TAKE_PROFIT_LIMIT");
    expect(stopLimitType("BUY", dec("0.00001300"), last)).toBe("STOP_LOSS_LIMIT");
    expect(stopLimitType("BUY", dec("0.00001100"), last)).toBe("TAKE_PROFIT_LIMIT");
    expect(stopLimitType("BUY", last, last)).toBeNull();
    const c = checkTicket(form({ kind: "stop_limit", side: "SELL", stop: "0.00001100", price: "0.00001090", quantity: "1000000" }), PEPE, rich, "0.00001234");
    expect(c.order?.kind === "order" && c.order.ticket).toMatchObject({ order_type: "STOP_LOSS_LIMIT", stop_price: "0.000011", price: "0.0000109" });
    const now = checkTicket(form({ kind: "stop_limit", stop: "0.00001234", price: "0.00001240", quantity: "1000000" }), PEPE, rich, "0.00001234");
    expect(now.errors.stop).toMatch(/trigger at once/);
  });

  it("an OCO needs its legs on either side of the market", () => {
    const ok = checkTicket(form({ kind: "oco", side: "SELL", price: "0.00001400", stop: "0.00001100", quantity: "1000000" }), PEPE, rich, "0.00001234");
    expect(ok.order).toEqual({
      kind: "oco",
      ticket: { symbol: "PEPEUSDT", side: "SELL", quantity: "1000000", price: "0.000014", stop_price: "0.000011", stop_limit_price: null },
    });
    const bad = checkTicket(form({ kind: "oco", side: "SELL", price: "0.00001100", stop: "0.00001400", quantity: "1000000" }), PEPE, rich, "0.00001234");
    expect(bad.errors.form).toMatch(/limit above the last price and its stop below/);
  });

  it("percentage buttons size from the balance, floored to the lot step", () => {
    const buy = percentAmount(50, form({ price: "0.00001200" }), PEPE, rich, "0.00001234");
    // 5000 USDT / (0.000012 × 1.001) = 416,250,416.25… → 416,250,416
    expect(buy).toEqual({ quantity: "416250416" });
    const sell = percentAmount(25, form({ side: "SELL" }), PEPE, { quoteFree: "0", baseFree: "1000003" }, "0.00001234");
    expect(sell).toEqual({ quantity: "250000" });
    const quote = percentAmount(100, form({ kind: "market", amountMode: "quote" }), PEPE, { quoteFree: "123.456", baseFree: "0" }, "0.00001234");
    expect(quote).toEqual({ quote: "123.45" });
  });

  it("confirms above the threshold only", () => {
    expect(needsConfirm("1500", "1000")).toBe(true);
    expect(needsConfirm("1000", "1000")).toBe(false);
    expect(needsConfirm(undefined, "1000")).toBe(false);
    expect(needsConfirm("5000", "0")).toBe(false);
  });
});
