#!/usr/bin/env bash
# Desktop app start-up, memory and CPU, side by side with an empty Tauri 2 app built the same way,
# plus the UI's frame time at 100 book updates a second and its live heap under a 10x stream
# (Playwright in Chromium).
# Usage: bench/desktop/run.sh [--replay-mins N]   (needs Xvfb, the release app: ./x run builds it)
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="$ROOT/bench/out"
mkdir -p "$OUT"
APP="${PAPERMEMES_APP:-$TARGET/release/papermemes-desktop}"
[ -x "$APP" ] || { echo "build the app first (./x run, or ./x test)"; exit 1; }
echo "== building the empty Tauri app (same Tauri, same release profile)" >&2
(cd "$HERE/empty" && CARGO_TARGET_DIR="$TARGET/bench-empty" cargo build --release --quiet)
EMPTY="$TARGET/bench-empty/release/empty-tauri"
# Both apps composite the same way: without a GPU (as here, Xvfb) PaperMemes turns WebKit's
# compositing off itself (src-tauri/src/lib.rs, choose_compositing); the empty app gets the same.
export WEBKIT_DISABLE_COMPOSITING_MODE=1
echo "== start-up, idle memory, 10x replay (Xvfb)" >&2
xvfb-run -a -s "-screen 0 1600x1000x24" python3 "$HERE/measure.py" --app "$APP" --empty "$EMPTY" \
  --out "$OUT/desktop.json" "$@"
echo "== UI frame time at 100 book updates/s (Chromium)" >&2
(cd "$ROOT/ui" && npm run --silent build >/dev/null && FRAME_BENCH=1 npx playwright test e2e/frame-time.bench.ts --reporter=list)
echo "== the UI's live heap and DOM under a 10x stream, 6 minutes (Chromium)" >&2
(cd "$ROOT/ui" && MEMORY_BENCH=1 npx playwright test e2e/memory.bench.ts --reporter=list)
