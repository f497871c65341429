// The bundled instrument snapshot as the app's `instruments` command returns it, for the UI test
// double (real Binance filters, not made up).
import type { Page } from "@playwright/test";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));

type Filter = Record<string, string | number | boolean> & { filterType: string };

function decimals(v: string): number {
  const t = v.replace(/0+$/, "");
  const i = t.indexOf(".");
  return i < 0 ? 0 : t.length - i - 1;
}

function norm(v: string): string {
  const t = v.includes(".") ? v.replace(/0+$/, "").replace(/\.$/, "") : v;
  return t === "" ? "0" : t;
}

export function instruments(): unknown[] {
  const raw = JSON.parse(readFileSync(join(here, "../../assets/market/instruments.json"), "utf8")) as {
    symbols: { symbol: string; baseAsset: string; quoteAsset: string; orderTypes: string[]; filters: Filter[] }[];
  };
  return raw.symbols.map((s) => {
    const f = (t: string) => s.filters.find((x) => x.filterType === t);
    const price = f("PRICE_FILTER")!;
    const lot = f("LOT_SIZE")!;
    const mlot = f("MARKET_LOT_SIZE");
    const notional = f("NOTIONAL");
    const tick = String(price.tickSize);
    const step = String(lot.stepSize);
    const mstep = mlot && Number(mlot.stepSize) > 0 ? String(mlot.stepSize) : step;
    return {
      symbol: s.symbol,
      base_asset: s.baseAsset,
      quote_asset: s.quoteAsset,
      tick_size: norm(tick),
      min_price: norm(String(price.minPrice)),
      max_price: norm(String(price.maxPrice)),
      step_size: norm(step),
      min_qty: norm(String(lot.minQty)),
      max_qty: norm(String(lot.maxQty)),
      market_step_size: norm(mstep),
      market_min_qty: norm(String(mlot?.minQty ?? lot.minQty)),
      market_max_qty: norm(String(mlot?.maxQty ?? lot.maxQty)),
      min_notional: norm(String(notional?.minNotional ?? "0")),
      max_notional: notional ? norm(String(notional.maxNotional)) : null,
      price_decimals: decimals(tick),
      qty_decimals: decimals(step),
      percent_price: null,
      order_types: s.orderTypes,
      estimated: [],
    };
  });
}

/**
 * Open the built UI with the shell replaced by its test double (`mock-ipc.js`), configured by
 * `params` (frame rate, delays, drift: see the double); the bundled instruments are always given.
 */
export async function openWithDouble(page: Page, params: Record<string, unknown>): Promise<void> {
  await page.addInitScript(
    (p) => {
      (window as unknown as { __MOCK_PARAMS__: unknown }).__MOCK_PARAMS__ = p;
    },
    { instruments: instruments(), ...params },
  );
  await page.addInitScript({ path: join(here, "mock-ipc.js") });
  await page.goto("/");
}
