#!/usr/bin/env python3
"""Make the UI's fonts (ui/src/fonts/*.woff2): Inter 400 and 600 and JetBrains Mono 400, cut down
to the characters the app shows.

Why not the @fontsource files the UI used before: their "latin" subsets leave out the subscript
digits (0.0₄1234, how tiny prices are written) and the few symbols in the header (▶ ↺ ☀ ▾), so
WebKit went looking for them in the system's fonts. That loaded seven more font files into the
web process (DejaVu Sans, Serif and Mono, bold and regular, Noto Sans Mono), and the digits of a
price came out in another typeface than the rest of it, different on every machine.

Source: the full Google Fonts builds, as packed on npm by @expo-google-fonts (OFL-1.1; the licence
texts are in ui/public/licenses/). Needs npm and `pip install fonttools brotli`. Run it again only
to change the character set; the output is checked in.

    python3 scripts/ui_fonts.py
"""

import pathlib
import subprocess
import sys
import tarfile
import tempfile

from fontTools import subset

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "ui" / "src" / "fonts"

PACKAGES = {
    "inter": "@expo-google-fonts/inter@0.4.2",
    "jetbrains-mono": "@expo-google-fonts/jetbrains-mono@0.4.1",
}
FONTS = [
    # (package, file inside it, output name)
    ("inter", "400Regular/Inter_400Regular.ttf", "inter-400.woff2"),
    ("inter", "600SemiBold/Inter_600SemiBold.ttf", "inter-600.woff2"),
    ("jetbrains-mono", "400Regular/JetBrainsMono_400Regular.ttf", "jetbrains-mono-400.woff2"),
]

# Google Fonts' "latin" range (what the @fontsource files held) ...
LATIN = (
    "U+0000-00FF,U+0131,U+0152-0153,U+02BB-02BC,U+02C6,U+02DA,U+02DC,U+0304,U+0308,U+0329,"
    "U+2000-206F,U+20AC,U+2122,U+2191,U+2193,U+2212,U+2215,U+FEFF,U+FFFD"
)
# ... and what the app shows beyond it: superscript and subscript digits (tiny prices), arrows,
# ≤ ≥, geometric shapes (▶ ▼ ▲ ● ◆) and the sun of the theme switch. A character a font does
# not have is simply left out (JetBrains Mono has no ☀, Inter no ▾): the UI uses only characters
# that its fonts have (ui/e2e/fonts.spec.ts checks).
EXTRA = "U+2070-209F,U+2190-21FF,U+2264-2265,U+25A0-25FF,U+2600"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = pathlib.Path(tmp)
        roots = {}
        for key, spec in PACKAGES.items():
            packed = subprocess.run(
                ["npm", "pack", spec, "--silent"], cwd=tmp, check=True, capture_output=True, text=True
            ).stdout.split()[-1]
            dest = tmp_path / key
            with tarfile.open(tmp_path / packed) as tar:
                tar.extractall(dest, filter="data")
            roots[key] = dest / "package"
        for key, rel, name in FONTS:
            options = subset.Options()
            options.flavor = "woff2"
            options.layout_features = ["*"]
            options.name_IDs = ["*"]  # keep the copyright and licence records
            options.notdef_outline = True
            font = subset.load_font(str(roots[key] / rel), options)
            subsetter = subset.Subsetter(options)
            subsetter.populate(unicodes=subset.parse_unicodes(LATIN + "," + EXTRA))
            subsetter.subset(font)
            subset.save_font(font, str(OUT / name), options)
            print(f"{name}: {len(font.getGlyphOrder())} glyphs, {(OUT / name).stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
