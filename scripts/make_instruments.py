#!/usr/bin/env python3
"""Write assets/market/instruments.json: a dated snapshot of Binance spot trading rules.

The output has the same shape as Binance's `GET /api/v3/exchangeInfo` response, so the app can
parse the bundled snapshot and a live response with one parser. Numbers are formatted the way
Binance formats them (decimal strings with 8 decimals for price/quantity/notional fields, "5" and
"0.2" for the PERCENT_PRICE_BY_SIDE multipliers, integers for avgPriceMins).

Only a few values come from real exchange captures (KNOWN below). The tick size and lot step of the
other pairs are derived from the candles' decimal precision (see derive()); everything else uses
Binance's typical values. Every value not taken from a real capture is listed, per symbol, in
`x_papermemes.estimated`.

Usage: scripts/make_instruments.py [CANDLE_DIR] [-o OUTPUT]
CANDLE_DIR defaults to assets/market/candles (reads binance_<BASE>_USDT-5m.csv.gz, or .csv).
"""
import argparse
import csv
import gzip
import io
import json
import os
import sys
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CANDLES = os.path.join(ROOT, "assets", "market", "candles")
DEFAULT_OUT = os.path.join(ROOT, "assets", "market", "instruments.json")

AS_OF = "2024-06-30"
SERVER_TIME_MS = 1719791999999  # 2024-06-30T23:59:59.999Z, end of the candle data's last day

BASES = ["DOGE", "SHIB", "PEPE", "WIF", "BONK", "FLOKI", "BTC", "ETH"]

# Values seen in real Binance exchangeInfo captures; used as they are.
KNOWN = {
    "DOGE": {
        "PRICE_FILTER.tickSize": Decimal("0.00001"),
        "LOT_SIZE.stepSize": Decimal("1"),
        "NOTIONAL.minNotional": Decimal("5"),
    },
    "BTC": {
        "PRICE_FILTER.tickSize": Decimal("0.01"),
        "LOT_SIZE.stepSize": Decimal("0.00001"),
    },
}

ORDER_TYPES = ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT",
               "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"]

# Symbol-level constants: Binance's usual values for spot USDT pairs, not from a capture of these
# eight symbols, so they are listed as estimated too.
SYMBOL_CONSTANT_FIELDS = ["status", "baseAssetPrecision", "quotePrecision", "quoteAssetPrecision",
                          "orderTypes", "ocoAllowed", "quoteOrderQtyMarketAllowed",
                          "isSpotTradingAllowed"]

# Typical Binance limits (estimated). maxPrice: 1000 for the meme coins, 1000000 for BTC/ETH.
MAX_PRICE = {"BTC": Decimal("1000000"), "ETH": Decimal("1000000")}
MAX_PRICE_DEFAULT = Decimal("1000")
# LOT_SIZE.maxQty
MAX_QTY = {"BTC": Decimal("9000"), "ETH": Decimal("100000"), "WIF": Decimal("9000000")}
MAX_QTY_STEP1 = Decimal("9000000000")
# MARKET_LOT_SIZE.maxQty: Binance sets it per symbol from recent volume; these are typical orders
# of magnitude, not real values.
MARKET_MAX_QTY = {
    "BTC": Decimal("100"),
    "ETH": Decimal("2000"),
    "DOGE": Decimal("30000000"),
    "WIF": Decimal("500000"),
    "SHIB": Decimal("50000000000"),
    "PEPE": Decimal("9000000000"),
    "BONK": Decimal("9000000000"),
    "FLOKI": Decimal("9000000000"),
}


def fmt8(d: Decimal) -> str:
    """Binance style: fixed 8 decimals ("0.00001000", "1.00000000")."""
    return format(d.quantize(Decimal("0.00000001")), "f")


def decimals(s: str) -> int:
    s = s.strip()
    if "e" in s.lower():
        # Not expected (the CSVs print plain decimals), but handle it exactly.
        exp = Decimal(s).normalize().as_tuple().exponent
        return max(0, -exp)
    return len(s.split(".", 1)[1].rstrip("0")) if "." in s else 0


def open_candles(path):
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="ascii", newline="")
    return open(path, newline="", encoding="ascii")


def find_file(candle_dir, base):
    for name in (f"binance_{base}_USDT-5m.csv.gz", f"binance_{base}_USDT-5m.csv"):
        p = os.path.join(candle_dir, name)
        if os.path.exists(p):
            return p, name
    sys.exit(f"make_instruments: no 5m candle file for {base} in {candle_dir}")


def derive(path):
    """Largest number of decimals in open/high/low/close, and in volume, over the whole file."""
    price_dp = vol_dp = 0
    rows = 0
    with open_candles(path) as f:
        for r in csv.DictReader(f):
            rows += 1
            for k in ("open", "high", "low", "close"):
                price_dp = max(price_dp, decimals(r[k]))
            vol_dp = max(vol_dp, decimals(r["volume"]))
    return price_dp, vol_dp, rows


def symbol_entry(base, candle_dir):
    path, name = find_file(candle_dir, base)
    price_dp, vol_dp, rows = derive(path)
    derived_tick = Decimal(1).scaleb(-price_dp)
    derived_step = Decimal(1).scaleb(-vol_dp)
    known = KNOWN.get(base, {})
    tick = known.get("PRICE_FILTER.tickSize", derived_tick)
    step = known.get("LOT_SIZE.stepSize", derived_step)
    min_notional = known.get("NOTIONAL.minNotional", Decimal("5"))
    max_price = MAX_PRICE.get(base, MAX_PRICE_DEFAULT)
    max_qty = MAX_QTY.get(base, MAX_QTY_STEP1 if step == 1 else Decimal("9000000"))

    filters = [
        {"filterType": "PRICE_FILTER", "minPrice": fmt8(tick), "maxPrice": fmt8(max_price),
         "tickSize": fmt8(tick)},
        {"filterType": "LOT_SIZE", "minQty": fmt8(step), "maxQty": fmt8(max_qty),
         "stepSize": fmt8(step)},
        {"filterType": "MARKET_LOT_SIZE", "minQty": fmt8(Decimal(0)),
         "maxQty": fmt8(MARKET_MAX_QTY[base]), "stepSize": fmt8(Decimal(0))},
        {"filterType": "NOTIONAL", "minNotional": fmt8(min_notional), "applyMinToMarket": True,
         "maxNotional": fmt8(Decimal("9000000")), "applyMaxToMarket": False, "avgPriceMins": 5},
        {"filterType": "PERCENT_PRICE_BY_SIDE", "bidMultiplierUp": "5", "bidMultiplierDown": "0.2",
         "askMultiplierUp": "5", "askMultiplierDown": "0.2", "avgPriceMins": 5},
    ]

    estimated = list(SYMBOL_CONSTANT_FIELDS)
    for flt in filters:
        for key in flt:
            if key == "filterType":
                continue
            fp = f"{flt['filterType']}.{key}"
            if fp not in known:
                estimated.append(fp)

    how = []
    if "PRICE_FILTER.tickSize" in known:
        how.append(f"tickSize {fmt8(tick)} from a real exchangeInfo capture "
                   f"(candle prices show at most {price_dp} decimals -> {derived_tick:f})")
    else:
        how.append(f"tickSize = 10^-{price_dp}: the most decimals seen in open/high/low/close")
    if "LOT_SIZE.stepSize" in known:
        how.append(f"stepSize {fmt8(step)} from a real exchangeInfo capture "
                   f"(volume shows at most {vol_dp} decimals -> {derived_step:f})")
    else:
        how.append(f"stepSize = 10^-{vol_dp}: the most decimals seen in volume "
                   f"(a sum of trade quantities, so its precision reflects the lot step)")
    derived_from = (f"{name} ({rows} rows, 2024 Binance spot 5m candles, see PROVENANCE.md): "
                    + "; ".join(how) + "; minPrice = tickSize, minQty = stepSize")

    note = ("Estimated fields use Binance's typical values for spot USDT pairs; a tick/step "
            "derived from candle decimals is a lower bound on precision (the real filter can be "
            "coarser, or have changed during the period). Refresh from /api/v3/exchangeInfo "
            "before trusting these for live orders.")
    if base == "BTC":
        note += (" BTC volume has 22 rows with 6 decimals (most rows have 5), so the derivation "
                 "would give 0.000001; the captured stepSize 0.00001 is used.")

    return {
        "symbol": f"{base}USDT",
        "status": "TRADING",
        "baseAsset": base,
        "baseAssetPrecision": 8,
        "quoteAsset": "USDT",
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "orderTypes": ORDER_TYPES,
        "ocoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "isSpotTradingAllowed": True,
        "filters": filters,
        "x_papermemes": {"estimated": estimated, "derived_from": derived_from, "note": note},
    }, (price_dp, vol_dp, tick, step)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("candles", nargs="?", default=DEFAULT_CANDLES)
    ap.add_argument("-o", "--output", default=DEFAULT_OUT)
    args = ap.parse_args()

    symbols = []
    for base in BASES:
        entry, (pdp, vdp, tick, step) = symbol_entry(base, args.candles)
        symbols.append(entry)
        print(f"{base + 'USDT':10} price dp {pdp}  volume dp {vdp}  ->  tickSize {tick:f}  "
              f"stepSize {step:f}", file=sys.stderr)

    doc = {
        "timezone": "UTC",
        "serverTime": SERVER_TIME_MS,
        "symbols": symbols,
        "x_papermemes": {
            "as_of": AS_OF,
            "source": ("Generated by scripts/make_instruments.py: DOGEUSDT tickSize/stepSize/"
                       "minNotional and BTCUSDT tickSize/stepSize from real Binance exchangeInfo "
                       "captures; other ticks/steps derived from the 2024-01-01..2024-06-30 5m "
                       "candles in assets/market/candles (MIT, see PROVENANCE.md); the rest "
                       "Binance's typical values. Per-symbol x_papermemes.estimated lists every "
                       "value not from a real capture."),
            "note": "dated snapshot; the app refreshes it from /api/v3/exchangeInfo when online",
        },
    }
    with open(args.output, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
