#!/usr/bin/env bash
# Side-by-side sma-cross benchmark: `papermemes backtest` vs backtesting.py 0.6.6.
# Usage: bench/backtesting_py/run.sh            (from anywhere inside the repo)
# Env:   FAST=20 SLOW=50 FEE_BPS=10 CASH=10000  strategy parameters
#        PAPERMEMES_BIN=path                    use this binary instead of building
#                                               target/release/papermemes ($CARGO_TARGET_DIR
#                                               is honoured)
# Outputs go to bench/out/ (gitignored): ours.json, theirs.json, *.time (GNU time -v),
# *.stderr, compare.md, summary.txt.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
OUT="$ROOT/bench/out"
VENV="$OUT/venv"
FAST="${FAST:-20}" SLOW="${SLOW:-50}" FEE_BPS="${FEE_BPS:-10}" CASH="${CASH:-10000}"
cd "$ROOT"
mkdir -p "$OUT"

step() { printf '\n== %s\n' "$*" >&2; }
die() { printf '\nrun.sh: FAILED: %s\n' "$*" >&2; exit 1; }

step "GNU time"
if [ ! -x /usr/bin/time ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get install -y time >/dev/null || die "/usr/bin/time missing and 'apt-get install time' failed"
fi
/usr/bin/time -v true 2>/dev/null || die "/usr/bin/time is not GNU time (needs -v)"

step "Python venv ($VENV)"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV" || die "python3 -m venv failed"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt" \
    || die "pip install -r requirements.txt failed"

step "candles"
shopt -s nullglob
DATA=("$ROOT"/assets/market/candles/binance_*_USDT-5m.csv.gz)
shopt -u nullglob
[ "${#DATA[@]}" -gt 0 ] || die "no assets/market/candles/binance_*_USDT-5m.csv.gz"
echo "${#DATA[@]} files" >&2

step "Rust binary"
if [ -n "${PAPERMEMES_BIN:-}" ]; then
    BIN="$PAPERMEMES_BIN"
    echo "using PAPERMEMES_BIN=$BIN (not building)" >&2
else
    # Where cargo puts it: CARGO_TARGET_DIR (relative to the repo root) when set.
    TARGET_DIR="${CARGO_TARGET_DIR:-target}"
    case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
    BIN="$TARGET_DIR/release/papermemes"
    command -v cargo >/dev/null || die "cargo not found; cannot build papermemes-cli"
    cargo build --release -p papermemes-cli \
        || die "cargo build --release -p papermemes-cli failed (is the CLI there yet?)"
fi
[ -x "$BIN" ] || die "papermemes binary not found at $BIN after the build"

DARGS=()
for f in "${DATA[@]}"; do DARGS+=(--data "$f"); done

# Run the two one after the other (2-core machine: running them together would skew both).
step "papermemes backtest (ours)"
/usr/bin/time -v -o "$OUT/ours.time" \
    "$BIN" backtest "${DARGS[@]}" --strategy sma-cross --param "fast=$FAST" --param "slow=$SLOW" \
    --fee-bps "$FEE_BPS" --slippage-bps 0 --cash "$CASH" --json \
    >"$OUT/ours.json" 2>"$OUT/ours.stderr" \
    || { tail -20 "$OUT/ours.stderr" >&2; die "papermemes backtest failed (see bench/out/ours.stderr)"; }

step "backtesting.py (theirs)"
/usr/bin/time -v -o "$OUT/theirs.time" \
    "$VENV/bin/python" "$HERE/sma_cross.py" --fast "$FAST" --slow "$SLOW" --fee-bps "$FEE_BPS" \
    --cash "$CASH" -o "$OUT/theirs.json" 2>"$OUT/theirs.stderr" \
    || { tail -20 "$OUT/theirs.stderr" >&2; die "sma_cross.py failed (see bench/out/theirs.stderr)"; }

step "summary"
"$VENV/bin/python" - "$OUT" <<'PY' | tee "$OUT/summary.txt"
import json, re, sys, os
out = sys.argv[1]

def gtime(path):
    d = {}
    for line in open(path, encoding="utf-8", errors="replace"):
        k, _, v = line.strip().rpartition(": ")
        d[k] = v
    w = d["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":")
    wall = sum(float(x) * 60 ** i for i, x in enumerate(reversed(w)))
    return wall, int(d["Maximum resident set size (kbytes)"]) / 1024, int(d["Exit status"])

ours = json.load(open(os.path.join(out, "ours.json")))
theirs = json.load(open(os.path.join(out, "theirs.json")))
if "results" not in ours:  # single --data: one object
    ours = {"results": [ours], "bars": ours["bars"], "engine_seconds": ours["engine_seconds"]}
o_bars = ours.get("bars") or sum(r["bars"] for r in ours["results"])
o_eng = ours["engine_seconds"]
o_bps = ours.get("bars_per_second") or o_bars / o_eng
t_bars, t_run, t_bps = theirs["bars"], theirs["run_seconds"], theirs["bars_per_second"]
ow, orss, _ = gtime(os.path.join(out, "ours.time"))
tw, trss, _ = gtime(os.path.join(out, "theirs.time"))
print("| | papermemes | backtesting.py 0.6.6 | papermemes vs backtesting.py |")
print("|---|---|---|---|")
print(f"| bars | {o_bars} | {t_bars} | |")
print(f"| engine seconds (loop only) | {o_eng:.4f} | {t_run:.4f} (Backtest.run) | {t_run / o_eng:.2f}x speed (>1: papermemes faster) |")
print(f"| bars/s (engine) | {o_bps:,.0f} | {t_bps:,.0f} | {o_bps / t_bps:.2f}x bars/s |")
print(f"| whole process wall time, s | {ow:.2f} | {tw:.2f} (script total_seconds {theirs['total_seconds']:.2f}) | {tw / ow:.2f}x speed (theirs wall / ours wall) |")
print(f"| peak RSS, MiB | {orss:.1f} | {trss:.1f} | {orss / trss:.2f}x memory (ours / theirs) |")
if o_bars != t_bars:
    print(f"\nWARNING: bar counts differ ({o_bars} vs {t_bars})")
PY

step "trade comparison"
"$VENV/bin/python" "$HERE/compare.py" "$OUT/ours.json" "$OUT/theirs.json" \
    --fast "$FAST" --slow "$SLOW" --names "papermemes,backtesting.py" | tee "$OUT/compare.md"
