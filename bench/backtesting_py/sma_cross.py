#!/usr/bin/env python3
"""SMA-cross backtest with backtesting.py, the reference side of the PaperMemes benchmark.

Runs kernc/backtesting.py 0.6.6 on the 5m candles of the eight pairs with the same strategy
semantics as `papermemes backtest --strategy sma-cross` (see README.md), and prints one JSON
document shaped like the CLI's multi-file `--json` output:

    {"engine": "backtesting.py 0.6.6", "results": [{"symbol", "bars", "trades": [...],
     "final_equity", ...}, ...], "bars", "run_seconds", "bars_per_second", "total_seconds"}

Timings: `run_seconds` is the sum of Backtest.run() only (indicator set-up in Strategy.init plus
the bar loop, the library's own statistics at the end included, which it cannot skip);
`total_seconds` is the whole script from its first line (before importing pandas) to the JSON
being ready, so it includes imports and CSV loading.
"""
import time

T0 = time.perf_counter()

import argparse  # noqa: E402
import glob  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import warnings  # noqa: E402
from decimal import Decimal  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import backtesting  # noqa: E402
from backtesting import Strategy  # noqa: E402
from backtesting.lib import FractionalBacktest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Largest float below 1. backtesting.py reads an order size in (0, 1) as "this fraction of the
# available margin" and a size >= 1 as a unit count, so "all the cash" cannot be said exactly;
# 1 - 2**-53 gives floor(cash * (1 - 2**-53) / (price * (1 + fee))) units, which differs from
# floor(cash / (price * (1 + fee))) only when that quotient is an exact integer in f64.
ALL_IN = float(np.nextafter(1.0, 0.0))


def symbol_from_path(path):
    m = re.match(r"binance_([A-Z0-9]+)_([A-Z0-9]+)-", os.path.basename(path))
    if not m:
        sys.exit(f"cannot infer symbol from {path}")
    return m.group(1) + m.group(2)


def load_steps(instruments_path):
    with open(instruments_path, encoding="utf-8") as f:
        doc = json.load(f)
    steps = {}
    for s in doc["symbols"]:
        for flt in s["filters"]:
            if flt["filterType"] == "LOT_SIZE":
                steps[s["symbol"]] = Decimal(flt["stepSize"]).normalize()
    return steps


def load_candles(path):
    """Keep the CSV strings (for exact prices in the output) and f64 columns for the engine."""
    raw = pd.read_csv(path, dtype=str)  # compression inferred from .gz
    ms = raw["open_time_ms"].astype("int64").to_numpy()
    df = pd.DataFrame(
        {
            "Open": raw["open"].astype("float64").to_numpy(),
            "High": raw["high"].astype("float64").to_numpy(),
            "Low": raw["low"].astype("float64").to_numpy(),
            "Close": raw["close"].astype("float64").to_numpy(),
            "Volume": raw["volume"].astype("float64").to_numpy(),
        },
        index=pd.to_datetime(ms, unit="ms"),
    )
    return df, ms, raw["open"].tolist(), raw["close"].tolist()


def _precomputed(values):
    return values


class SmaCross(Strategy):
    fast = 20
    slow = 50
    # Unscaled f64 closes, set per run: FractionalBacktest multiplies the OHLC data by the lot step,
    # and the SMAs must be computed from the same f64 closes the Rust side would see, not from the
    # rescaled ones (scaling adds its own rounding and would move float ties).
    raw_close = None

    def init(self):
        close = pd.Series(self.raw_close)
        # pandas rolling mean (running-sum algorithm) -> f64; NaN until `slow`/`fast` closes exist.
        f = close.rolling(self.fast).mean().to_numpy()
        s = close.rolling(self.slow).mean().to_numpy()
        # overlay=False: FractionalBacktest would otherwise rescale them in the result.
        self.sma_f = self.I(_precomputed, f, name="SMA_fast", overlay=False)
        self.sma_s = self.I(_precomputed, s, name="SMA_slow", overlay=False)

    def next(self):
        f, s = self.sma_f, self.sma_s
        f0, s0, f1, s1 = f[-1], s[-1], f[-2], s[-2]
        # Hand-written cross (not backtesting.lib.crossover, which needs a strict < before):
        # NaN compares False, so both SMAs must be defined now and at the previous close.
        if f0 > s0 and f1 <= s1:
            if not self.position:
                self.buy(size=ALL_IN)
        elif f0 < s0 and f1 >= s1:
            if self.position:
                self.position.close()


def run_one(path, step, fast, slow, cash, commission):
    df, ms, open_str, close_str = load_candles(path)
    # FractionalBacktest (new in 0.6.x) trades whole units of `fractional_unit`; with the lot step
    # as the unit, one backtesting.py "share" = one lot, so its integer sizing is the lot rounding
    # the Rust side does (largest multiple of the step with qty*price*(1+fee) <= cash).
    bt = FractionalBacktest(
        df,
        SmaCross,
        fractional_unit=float(step),
        cash=cash,
        commission=commission,
        exclusive_orders=True,
        trade_on_close=False,  # market orders fill at the next bar's open (default)
        finalize_trades=False,  # an open position stays open, equity valued at the last close
    )
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = bt.run(fast=fast, slow=slow, raw_close=df["Close"].to_numpy())
    run_s = time.perf_counter() - t

    fee = Decimal(str(commission))
    trades = []
    cash_d = Decimal(str(cash))
    strategy = stats["_strategy"]
    closed = [(int(r.EntryBar), int(r.ExitBar), float(r.Size)) for r in
              stats["_trades"].itertuples()]
    # Still-open trades are not in _trades; their size is in raw units (lots).
    still_open = [(t_.entry_bar, None, t_.size * float(step)) for t_ in strategy._broker.trades]
    for entry_bar, exit_bar, size in closed + still_open:
        lots = int(round(size / float(step)))
        qty = step * lots
        entry = Decimal(open_str[entry_bar])
        cash_d -= qty * entry * (1 + fee)
        if exit_bar is not None:
            exit_p = Decimal(open_str[exit_bar])
            cash_d += qty * exit_p * (1 - fee)
            pnl = qty * (exit_p - entry) - fee * qty * (entry + exit_p)
        else:
            last = Decimal(close_str[-1])
            cash_d += qty * last
            exit_p = None
            pnl = qty * (last - entry) - fee * qty * entry
        trades.append({
            "entry_time_ms": int(ms[entry_bar]),
            "exit_time_ms": None if exit_bar is None else int(ms[exit_bar]),
            "entry_price": str(entry),
            "exit_price": None if exit_p is None else str(exit_p),
            "quantity": format(qty.normalize(), "f") if lots else "0",
            "pnl": str(pnl),
        })
    return {
        "symbol": symbol_from_path(path),
        "file": os.path.basename(path),
        "bars": len(df),
        "trades": trades,
        # Replayed exactly in Decimal from the library's fills (same formula as the Rust side).
        "final_equity": str(cash_d),
        # The library's own float figure, for reference.
        "final_equity_f64": float(stats["Equity Final [$]"]),
        "run_seconds": run_s,
    }


def main():
    ap = argparse.ArgumentParser(description="backtesting.py side of the sma-cross benchmark")
    ap.add_argument("--candles", default=os.path.join(ROOT, "assets", "market", "candles"))
    ap.add_argument("--pattern", default="binance_*_USDT-5m.csv.gz")
    ap.add_argument("--instruments",
                    default=os.path.join(ROOT, "assets", "market", "instruments.json"))
    ap.add_argument("--fast", type=int, default=20)
    ap.add_argument("--slow", type=int, default=50)
    ap.add_argument("--fee-bps", type=Decimal, default=Decimal(10))
    ap.add_argument("--cash", type=float, default=10000.0)
    ap.add_argument("--only", nargs="*", help="symbols to run, e.g. PEPEUSDT")
    ap.add_argument("-o", "--output", help="write JSON here instead of stdout")
    args = ap.parse_args()

    commission = float(args.fee_bps / 10000)  # 10 bps -> 0.001
    steps = load_steps(args.instruments)
    files = sorted(glob.glob(os.path.join(args.candles, args.pattern)))
    if not files:
        sys.exit(f"no candle files matching {args.pattern} in {args.candles}")
    results = []
    for path in files:
        sym = symbol_from_path(path)
        if args.only and sym not in args.only:
            continue
        results.append(run_one(path, steps[sym], args.fast, args.slow, args.cash, commission))
        print(f"{sym:10} bars {results[-1]['bars']:6}  trades {len(results[-1]['trades']):4}  "
              f"run {results[-1]['run_seconds']:.3f}s", file=sys.stderr)

    bars = sum(r["bars"] for r in results)
    run_s = sum(r["run_seconds"] for r in results)
    doc = {
        "engine": f"backtesting.py {backtesting.__version__}",
        "strategy": "sma-cross",
        "params": {"fast": args.fast, "slow": args.slow, "fee_bps": str(args.fee_bps),
                   "slippage_bps": "0", "cash": args.cash},
        "results": results,
        "bars": bars,
        "run_seconds": run_s,
        "bars_per_second": bars / run_s if run_s else None,
    }
    doc["total_seconds"] = time.perf_counter() - T0
    text = json.dumps(doc, indent=1)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
