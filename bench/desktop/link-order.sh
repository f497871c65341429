#!/usr/bin/env bash
# The desktop binary's link order (src-tauri/link-order.txt): the functions the app runs while it
# starts and sits idle, in the order they first run. src-tauri/build.rs hands the file to the
# linker (LLD, Rust's default linker on x86_64 Linux), which lays those functions out side by side,
# so the few MiB of code the app runs sit in a few MiB of the binary instead of being spread over
# all of it (docs/desktop-memory.md, "Eighth pass").
#
#   bench/desktop/link-order.sh           record it again: runs the release app under valgrind's
#                                         callgrind (Xvfb): a first start in a new data folder,
#                                         then a reopen left idle on the simulator (~8 minutes)
#   bench/desktop/link-order.sh --check   how much of the file the built binary still holds
#
# Symbol names carry hashes that change with the compiler and dependency versions; names the
# binary no longer has are skipped by the linker (the app is the same, only its layout is less
# tight). Record it again after a toolchain or dependency update; --check says when.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
APP="${PAPERMEMES_APP:-$TARGET/release/papermemes-desktop}"
ORDER="$ROOT/src-tauri/link-order.txt"
[ -x "$APP" ] || { echo "build the release app first (./x run)" >&2; exit 1; }

if [ "${1:-}" = "--check" ]; then
  export LC_ALL=C
  total=$(sort -u "$ORDER" | wc -l)
  held=$(comm -12 <(sort -u "$ORDER") <(nm --defined-only "$APP" | awk '{print $NF}' | sort -u) | wc -l)
  echo "link order: the binary holds $held of the $total functions in src-tauri/link-order.txt ($((100 * held / total)) %)"
  # Held is not laid out: the functions must also sit side by side (the linker was given the file).
  read -r span size < <(nm --defined-only -S "$APP" | python3 -c '
import sys
want = set(open(sys.argv[1]).read().split())
lo, hi, total = None, 0, 0
for line in sys.stdin:
    f = line.split()
    if len(f) == 4 and f[3] in want:
        a, n = int(f[0], 16), int(f[1], 16)
        lo = a if lo is None else min(lo, a)
        hi, total = max(hi, a + n), total + n
print(hi - (lo or 0), total)' "$ORDER")
  echo "link order: they span $((span / 1024)) KiB of code for $((size / 1024)) KiB of functions"
  if [ "$span" -gt $((size * 2)) ]; then
    echo "link order: NOT APPLIED (the functions are spread out; was the binary linked with src-tauri/link-order.txt?)"
    exit 1
  fi
  [ "$held" -ge $((total * 9 / 10)) ] || echo "link order: stale; record it again with bench/desktop/link-order.sh"
  exit 0
fi

command -v valgrind >/dev/null || { echo "needs valgrind (apt install valgrind)" >&2; exit 1; }
if [ -z "${DISPLAY:-}" ]; then exec xvfb-run -a -s "-screen 0 1600x1000x24" "$0" "$@"; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
data="$work/data"
mkdir -p "$data"
printf '[desktop]\nmarket = "sim"\nnotify_fills = false\n' >"$data/settings.toml"
export LANG=C.UTF-8 PAPERMEMES_LOG=warn PAPERMEMES_DATA_DIR="$data"

# Run the app under callgrind until its screen is interactive, then $2 seconds more.
record() {
  local n="$1" secs="$2"
  valgrind --tool=callgrind --demangle=no --dump-instr=no --compress-strings=no \
    --compress-pos=no --callgrind-out-file="$work/cg.$n" "$APP" 2>"$work/log.$n" &
  local pid=$!
  for _ in $(seq 600); do
    grep -q "screen interactive" "$work/log.$n" && break
    kill -0 "$pid" 2>/dev/null || { tail -20 "$work/log.$n" >&2; exit 1; }
    sleep 1
  done
  grep -q "screen interactive" "$work/log.$n" || { echo "the app did not become interactive" >&2; exit 1; }
  echo "run $n: $(grep -o 'interactive [0-9]* ms after start' "$work/log.$n") under valgrind; recording ${secs} s more" >&2
  sleep "$secs"
  kill -TERM "$pid"
  wait "$pid" || true
}
record first 60
record idle 360

# The binary's functions as they first appear in each run (callgrind lists a function when it
# first runs), the first start's before the reopen's, each once.
python3 - "$APP" "$work/cg.first" "$work/cg.idle" >"$ORDER.new" <<'PY'
import os, re, sys
exe = os.path.realpath(sys.argv[1])
seen, out = set(), []
for path in sys.argv[2:]:
    ob = cob = None
    for line in open(path, errors="replace"):
        if line.startswith("ob="):
            ob = line[3:].strip()
        elif line.startswith("cob="):
            cob = line[4:].strip()
        elif line.startswith(("fn=", "cfn=")):
            key, name = line.split("=", 1)
            obj = (cob or ob) if key == "cfn" else ob
            cob = None
            name = re.sub(r"'\d+$", "", name.strip())  # callgrind's recursion marks
            if obj == exe and not name.startswith("0x") and name != "(below main)" and name not in seen:
                seen.add(name)
                out.append(name)
print("\n".join(out))
PY
mv "$ORDER.new" "$ORDER"
echo "wrote $(wc -l <"$ORDER") functions to src-tauri/link-order.txt" >&2
