#!/usr/bin/env bash
# Rebuild the starter meme template library (assets/templates/) from the package registries.
#
#   scripts/templates/build.sh            # venv + fetch + build + validate + contact sheet
#
# Needs: python3 (3.11+, with venv), apt-get (Debian 12 sources, for openclipart-svg), npm,
# rsvg-convert (apt-get install librsvg2-bin) and a bold TTF for the contact sheet
# (fonts-dejavu-core). Downloads and the venv go under bench/out/ (git-ignored); override with
# TEMPLATES_CACHE / TEMPLATES_VENV.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${TEMPLATES_VENV:-$repo/bench/out/templates-venv}"
export TEMPLATES_CACHE="${TEMPLATES_CACHE:-$repo/bench/out/templates-cache}"

missing=()
command -v rsvg-convert >/dev/null || missing+=(librsvg2-bin)
command -v npm >/dev/null || missing+=(npm)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf ] || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get install -y --no-install-recommends "${missing[@]}"
  else
    echo "missing: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet -r "$here/requirements.txt"

cd "$here"
"$venv/bin/python" sources.py >/dev/null
"$venv/bin/python" build.py "$@"
"$venv/bin/python" validate.py "$repo/assets/templates"
"$venv/bin/python" contact_sheet.py --lib "$repo/assets/templates" -o "$repo/docs/templates-contact-sheet.png" --tile 260
