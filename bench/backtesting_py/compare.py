#!/usr/bin/env python3
"""Compare the trades of two sma-cross backtest JSON files and explain the first mismatch.

Usage: compare.py OURS.json THEIRS.json [--candles DIR] [--fast 20 --slow 50] [--interval 5m]

Each file is either one result object ({"symbol", "trades", ...}) or {"results": [...]}.
Per symbol it counts trades, matched trades (same entry and exit bar times; a multiset match),
and for a mismatch finds the first differing trade, the bar whose close decided it (the bar
before the earliest differing fill), and prints fast/slow SMAs there and at the bar before,
computed exactly (integers scaled from the CSV decimal strings) and in f64 (pandas rolling mean,
as sma_cross.py computes them; plain f64 sums if pandas is missing), so a float tie or near-tie
shows up. Prints a markdown table, then details.
"""
import argparse
import collections
import csv
import decimal
import glob
import gzip
import io
import json
import os
import sys
from datetime import datetime, timezone
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def load_results(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    results = doc["results"] if "results" in doc else [doc]
    return {r["symbol"]: r for r in results}


def candle_file(candles_dir, symbol, interval, hint=None):
    if hint:
        p = os.path.join(candles_dir, hint)
        if os.path.exists(p):
            return p
    base = symbol[:-4] if symbol.endswith("USDT") else symbol
    for ext in (".csv.gz", ".csv"):
        hits = glob.glob(os.path.join(candles_dir, f"binance_{base}_USDT-{interval}{ext}"))
        if hits:
            return hits[0]
    return None


def read_candles(path):
    raw = gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")
    with io.TextIOWrapper(raw, encoding="ascii", newline="") as f:
        rows = list(csv.DictReader(f))
    return [int(r["open_time_ms"]) for r in rows], [r["close"] for r in rows]


def dec_places(s):
    return len(s.split(".", 1)[1]) if "." in s else 0


class Smas:
    """Exact and f64 SMAs of the closes; exact ones as scaled-integer window sums."""

    def __init__(self, closes, fast, slow):
        self.fast, self.slow, self.n = fast, slow, len(closes)
        dp = max(dec_places(c) for c in closes)
        self.scale = 10 ** dp
        ints = []
        for c in closes:
            whole, _, frac = c.partition(".")
            ints.append(int(whole + frac.ljust(dp, "0")) if dp else int(whole))
        self.prefix = [0]
        for v in ints:
            self.prefix.append(self.prefix[-1] + v)
        f64 = [float(c) for c in closes]
        try:
            import pandas as pd
            s = pd.Series(f64)
            self.f_f64 = s.rolling(fast).mean().tolist()
            self.s_f64 = s.rolling(slow).mean().tolist()
            self.f64_how = "pandas rolling mean"
        except ImportError:  # pragma: no cover
            def naive(n):
                out, acc = [], 0.0
                for i, v in enumerate(f64):
                    acc += v
                    if i >= n:
                        acc -= f64[i - n]
                    out.append(acc / n if i >= n - 1 else float("nan"))
                return out
            self.f_f64, self.s_f64 = naive(fast), naive(slow)
            self.f64_how = "running f64 sum / n"

    def exact(self, i, n):
        if i < n - 1:
            return None
        return Fraction(self.prefix[i + 1] - self.prefix[i + 1 - n], n * self.scale)

    def exact_pair(self, i):
        return self.exact(i, self.fast), self.exact(i, self.slow)

    def f64_pair(self, i):
        return self.f_f64[i], self.s_f64[i]

    @staticmethod
    def _signal(now, prev):
        (f0, s0), (f1, s1) = now, prev
        if any(v is None or v != v for v in (f0, s0, f1, s1)):  # undefined or NaN
            return "none"
        if f0 > s0 and f1 <= s1:
            return "up"
        if f0 < s0 and f1 >= s1:
            return "down"
        return "none"

    def signal_exact(self, i):
        return self._signal(self.exact_pair(i), self.exact_pair(i - 1)) if i >= 1 else "none"

    def signal_f64(self, i):
        return self._signal(self.f64_pair(i), self.f64_pair(i - 1)) if i >= 1 else "none"

    def disagreements(self):
        """Bars where the exact and the f64 cross signals differ (ignoring position state)."""
        out = []
        for i in range(self.slow, self.n):
            if self.signal_exact(i) != self.signal_f64(i):
                out.append(i)
        return out


def fmt_time(ms):
    if ms is None:
        return "open"
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


def fmt_frac(x, digits=12):
    """An exact rational as a decimal with `digits` significant digits; "…" if cut short."""
    if x is None:
        return "undef"
    if x == 0:
        return "0"
    with decimal.localcontext() as ctx:
        ctx.prec = digits
        d = decimal.Decimal(x.numerator) / decimal.Decimal(x.denominator)
        exact = Fraction(d) == x
    return f"{d.normalize():f}" + ("" if exact else "…")


def fmt_f64(x):
    return "undef" if x is None or x != x else repr(float(x))


def key(t):
    return (t.get("entry_time_ms"), t.get("exit_time_ms"))


def first_difference(a, b):
    for i in range(max(len(a), len(b))):
        ta = a[i] if i < len(a) else None
        tb = b[i] if i < len(b) else None
        if ta is None or tb is None or key(ta) != key(tb):
            return i, ta, tb
    return None


def deciding_time(ta, tb):
    """Earliest fill time at which the two trade lists diverge."""
    big = float("inf")
    cands = []
    if ta is None or tb is None:
        t = ta or tb
        return t["entry_time_ms"]
    if ta["entry_time_ms"] != tb["entry_time_ms"]:
        cands = [ta["entry_time_ms"], tb["entry_time_ms"]]
    else:
        cands = [x for x in (ta["exit_time_ms"], tb["exit_time_ms"]) if x is not None]
        if not cands:
            return None
    m = min(cands, key=lambda x: x if x is not None else big)
    return m


def compare_symbol(sym, ours, theirs, args):
    ta, tb = ours["trades"], theirs["trades"]
    ca = collections.Counter(key(t) for t in ta)
    cb = collections.Counter(key(t) for t in tb)
    matched = sum((ca & cb).values())
    qty_a = {key(t): t.get("quantity") for t in ta}
    same_qty = sum(1 for t in tb if key(t) in ca and key(t) in qty_a
                   and _num(qty_a[key(t)]) == _num(t.get("quantity")))
    row = {"symbol": sym, "ours": len(ta), "theirs": len(tb), "matched": matched,
           "same_qty": same_qty, "eq_ours": ours.get("final_equity"),
           "eq_theirs": theirs.get("final_equity"), "detail": None}
    diff = first_difference(ta, tb)
    if diff is None:
        return row
    idx, da, db = diff
    path = candle_file(args.candles, sym, args.interval, theirs.get("file") or ours.get("file"))
    d = {"index": idx, "ours": da, "theirs": db}
    row["detail"] = d
    if path is None:
        d["note"] = "candle file not found; SMAs not computed"
        return row
    times, closes = read_candles(path)
    smas = Smas(closes, args.fast, args.slow)
    pos = {t: i for i, t in enumerate(times)}
    fill = deciding_time(da, db)
    if fill is None or fill not in pos or pos[fill] < 1:
        d["note"] = "could not locate the deciding bar"
        return row
    k = pos[fill] - 1  # the signal is taken at this bar's close, filled at the next open
    d["bar"] = k
    d["bar_time"] = times[k]
    d["f64_how"] = smas.f64_how
    d["rows"] = []
    for i in (k - 1, k):
        ef, es = smas.exact_pair(i)
        ff, fs = smas.f64_pair(i)
        d["rows"].append({
            "bar": i, "time": times[i],
            "exact_fast": ef, "exact_slow": es,
            "exact_diff": None if ef is None or es is None else ef - es,
            "f64_fast": ff, "f64_slow": fs,
            "f64_diff": ff - fs,
        })
    d["signal_exact"] = smas.signal_exact(k)
    d["signal_f64"] = smas.signal_f64(k)
    if d["signal_exact"] != d["signal_f64"]:
        tie = any(r["exact_diff"] == 0 for r in d["rows"])
        d["verdict"] = ("float tie: exact SMAs equal, f64 not" if tie else
                        "float near-tie: f64 rounding flips the sign of fast-slow")
    else:
        d["verdict"] = ("not a float issue at this bar: exact and f64 signals agree "
                        "(check position state / sizing / earlier trades)")
    dis = smas.disagreements()
    d["disagreements"] = len(dis)
    d["first_disagreement"] = times[dis[0]] if dis else None
    return row


def _num(s):
    if s is None:
        return None
    try:
        return Fraction(str(s))
    except ValueError:
        return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ours")
    ap.add_argument("theirs")
    ap.add_argument("--candles", default=os.path.join(ROOT, "assets", "market", "candles"))
    ap.add_argument("--interval", default="5m")
    ap.add_argument("--fast", type=int, default=None)
    ap.add_argument("--slow", type=int, default=None)
    ap.add_argument("--names", default="ours,theirs", help="column names, comma-separated")
    args = ap.parse_args()
    ours, theirs = load_results(args.ours), load_results(args.theirs)
    if args.fast is None or args.slow is None:
        with open(args.theirs, encoding="utf-8") as f:
            p = json.load(f).get("params", {})
        args.fast = args.fast or int(p.get("fast", 20))
        args.slow = args.slow or int(p.get("slow", 50))
    na, nb = args.names.split(",")

    syms = sorted(set(ours) | set(theirs))
    rows = []
    for s in syms:
        if s not in ours or s not in theirs:
            rows.append({"symbol": s, "missing": na if s not in ours else nb})
            continue
        rows.append(compare_symbol(s, ours[s], theirs[s], args))

    print(f"SMA cross fast={args.fast} slow={args.slow}; matched = same entry and exit bar "
          f"times. 'exact' = rational arithmetic on the CSV decimals, 'f64' = "
          f"pandas rolling mean.\n")
    print(f"| symbol | trades {na} | trades {nb} | matched | same qty | final equity {na} | "
          f"final equity {nb} | first diff (trade #, signal bar UTC) | exact fast−slow "
          f"(prev; bar) | f64 fast−slow (prev; bar) | signal exact / f64 | verdict | "
          f"bars where exact≠f64 signal |")
    print("|" + "---|" * 13)
    tot = collections.Counter()
    for r in rows:
        if "missing" in r:
            print(f"| {r['symbol']} | missing in {r['missing']} |" + " |" * 11)
            continue
        tot["ours"] += r["ours"]
        tot["theirs"] += r["theirs"]
        tot["matched"] += r["matched"]
        tot["same_qty"] += r["same_qty"]
        d = r["detail"]
        if d is None:
            cells = ["none", "", "", "", "identical trade lists", ""]
        elif "rows" not in d:
            cells = [f"#{d['index']}", "", "", "", d.get("note", ""), ""]
        else:
            p, c = d["rows"]
            cells = [
                f"#{d['index']}, {fmt_time(d['bar_time'])}",
                f"{fmt_frac(p['exact_diff'], 6)}; {fmt_frac(c['exact_diff'], 6)}",
                f"{p['f64_diff']:.4g}; {c['f64_diff']:.4g}",
                f"{d['signal_exact']} / {d['signal_f64']}",
                d["verdict"],
                str(d["disagreements"]),
            ]
        print(f"| {r['symbol']} | {r['ours']} | {r['theirs']} | {r['matched']} | "
              f"{r['same_qty']} | {r['eq_ours']} | {r['eq_theirs']} | " + " | ".join(cells) + " |")
    print(f"| **all** | {tot['ours']} | {tot['theirs']} | {tot['matched']} | {tot['same_qty']} |"
          + " |" * 8)

    details = [r for r in rows if r.get("detail") and "rows" in r["detail"]]
    if details:
        print("\n### First mismatches\n")
    for r in details:
        d = r["detail"]

        def tr(t):
            if t is None:
                return "no trade"
            return (f"entry {fmt_time(t['entry_time_ms'])} @ {t.get('entry_price')}, "
                    f"exit {fmt_time(t.get('exit_time_ms'))} @ {t.get('exit_price')}, "
                    f"qty {t.get('quantity')}")
        print(f"**{r['symbol']}** trade #{d['index']}: {na}: {tr(d['ours'])}; "
              f"{nb}: {tr(d['theirs'])}. Deciding close: bar {d['bar']} "
              f"({fmt_time(d['bar_time'])} UTC). {d['verdict']}.\n")
        print("| bar (UTC) | fast exact | slow exact | fast−slow exact | fast f64 | slow f64 | "
              "fast−slow f64 |")
        print("|---|---|---|---|---|---|---|")
        for x in d["rows"]:
            print(f"| {fmt_time(x['time'])} | {fmt_frac(x['exact_fast'], 17)} | "
                  f"{fmt_frac(x['exact_slow'], 17)} | {fmt_frac(x['exact_diff'], 6)} | "
                  f"{fmt_f64(x['f64_fast'])} | {fmt_f64(x['f64_slow'])} | {x['f64_diff']!r} |")
        if d["disagreements"]:
            print(f"\nOver the whole file {d['disagreements']} bar(s) have a different raw cross "
                  f"signal in exact vs f64 arithmetic (first at "
                  f"{fmt_time(d['first_disagreement'])} UTC).\n")
        else:
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
