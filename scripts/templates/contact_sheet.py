"""Render a contact sheet of a template library: every template's image with its text boxes
outlined, its first example caption drawn roughly (largest size that fits, word wrap, outline),
and its overlays. For checking by eye; the real renderer is crates/meme.

    python scripts/templates/contact_sheet.py [--lib DIR] [-o docs/templates-contact-sheet.png]

Animated templates show the frame at 80% of their duration; boxes hidden at that moment are
dashed and empty. Needs the sources fetched (for the emoji overlays) and a bold TTF font
(DejaVu Sans Condensed Bold from fonts-dejavu-core, or pass --font).
"""

from __future__ import annotations

import argparse
import json
import os
import tomllib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageSequence

import lib
import sources

REPO = sources.REPO
FONT_CANDIDATES = [
    str(REPO / "assets" / "fonts" / "Anton-Regular.ttf"),  # the app's default caption font, when bundled
    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSansNarrow-Bold.ttf",
]


def load_font_path(given: str | None) -> str | None:
    for p in ([given] if given else []) + FONT_CANDIDATES:
        if p and Path(p).exists():
            return p
    return None


def apply_case(s: str, case: str) -> str:
    if case == "upper":
        return s.upper()
    if case == "mock":
        out, k = [], 0
        for ch in s:
            if ch.isalpha():
                out.append(ch.upper() if k % 2 else ch.lower())
                k += 1
            else:
                out.append(ch)
        return "".join(out)
    return s


def wrap(draw, text, font, width, max_lines):
    words = text.split()
    lines, cur = [], ""
    for w in words:
        trial = (cur + " " + w).strip()
        if draw.textlength(trial, font=font) <= width or not cur:
            cur = trial
        else:
            lines.append(cur)
            cur = w
    if cur:
        lines.append(cur)
    return lines if len(lines) <= max_lines else None


def draw_text_box(img: Image.Image, b: dict, text: str, font_path: str | None) -> None:
    W, H = img.size
    bw, bh = int(b["width"] * W), int(b["height"] * H)
    text = apply_case(text, b.get("case", "upper"))
    layer = Image.new("RGBA", (bw, bh), (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    max_lines = b.get("max_lines", 3)
    best = None
    for size in range(max(8, bh), 7, -2):
        font = ImageFont.truetype(font_path, size) if font_path else ImageFont.load_default(size)
        stroke = round(size * b.get("outline_width", 0.06)) if b.get("outline", "#000000") else 0
        lines = wrap(d, text, font, bw - 2 * stroke, max_lines)
        if not lines:
            continue
        asc, desc = font.getmetrics()
        lh = asc + desc
        if lh * len(lines) + 2 * stroke <= bh and all(d.textlength(l, font=font) + 2 * stroke <= bw for l in lines):
            best = (font, lines, lh, stroke)
            break
    if not best:
        return
    font, lines, lh, stroke = best
    total = lh * len(lines)
    # glyphs are drawn from their ascent line: d.text((x, y)) puts the ascent at y
    va = b.get("valign", "middle")
    y = {"top": stroke, "middle": (bh - total) / 2, "bottom": bh - total - stroke}[va]
    fill = b.get("color", "#FFFFFF")
    outline = b.get("outline", "#000000")
    for l in lines:
        lw = d.textlength(l, font=font)
        al = b.get("align", "center")
        x = {"left": stroke, "center": (bw - lw) / 2, "right": bw - lw - stroke}[al]
        d.text((x, y), l, font=font, fill=fill, stroke_width=stroke, stroke_fill=outline or None)
        y += lh
    ang = b.get("angle", 0.0)
    if ang:
        layer = layer.rotate(-ang, resample=Image.BICUBIC, expand=True)
    cx, cy = (b["x"] + b["width"] / 2) * W, (b["y"] + b["height"] / 2) * H
    img.alpha_composite(layer, (round(cx - layer.width / 2), round(cy - layer.height / 2)))


def dashed_rect(d: ImageDraw.ImageDraw, r, color, width=2, dash=8):
    x0, y0, x1, y1 = r
    for x in range(int(x0), int(x1), dash * 2):
        d.line([(x, y0), (min(x + dash, x1), y0)], fill=color, width=width)
        d.line([(x, y1), (min(x + dash, x1), y1)], fill=color, width=width)
    for y in range(int(y0), int(y1), dash * 2):
        d.line([(x0, y), (x0, min(y + dash, y1))], fill=color, width=width)
        d.line([(x1, y), (x1, min(y + dash, y1))], fill=color, width=width)


class EmojiSource:
    def __init__(self, cache: Path):
        self.S = lib.Sources(cache)
        chars = json.loads((self.S.roots["noto"] / "package" / "chars.json").read_text())
        self.chars = chars

    def get(self, ch: str, size: int) -> Image.Image | None:
        key = "-".join(f"{ord(c):x}" for c in ch if ord(c) != 0xFE0F)
        name = self.chars.get(key)
        if not name:
            return None
        return self.S.emoji(name, size)


def render_template(folder: Path, font_path: str | None, emoji: EmojiSource, t_anim: float = 0.8) -> Image.Image:
    meta = tomllib.loads((folder / "template.toml").read_text(encoding="utf-8"))
    src = Image.open(folder / meta["image"])
    n = getattr(src, "n_frames", 1)
    if n > 1:
        frames = [f.convert("RGBA") for f in ImageSequence.Iterator(src)]
        durs = []
        for i in range(n):
            src.seek(i)
            durs.append(src.info.get("duration", 100))
        total, acc, idx = sum(durs), 0, 0
        for i, du in enumerate(durs):
            if acc / total <= t_anim:
                idx = i
            acc += du
        img = frames[idx].copy()
    else:
        img = src.convert("RGBA")
    W, H = img.size
    for o in meta.get("overlay", []):
        size = max(8, round(o["scale"] * W))
        if "image" in o:
            st = Image.open(folder / o["image"]).convert("RGBA")
            st = st.resize((size, max(1, round(st.height * size / st.width))), Image.LANCZOS)
        else:
            st = emoji.get(o["emoji"], size)
            if st is None:
                continue
        lib.paste(img, st, o["x"] * W, o["y"] * H, o.get("angle", 0.0))
    examples = meta.get("examples") or [[]]
    ex = examples[0]
    d = ImageDraw.Draw(img)
    for i, b in enumerate(meta["text"]):
        r = (b["x"] * W, b["y"] * H, (b["x"] + b["width"]) * W, (b["y"] + b["height"]) * H)
        visible = b.get("start", 0.0) <= t_anim <= b.get("stop", 1.0) if n > 1 else True
        if visible:
            d.rectangle(r, outline=(255, 0, 200, 255), width=max(2, W // 300))
            if i < len(ex):
                draw_text_box(img, b, ex[i], font_path)
        else:
            dashed_rect(d, r, (255, 0, 200, 255), max(2, W // 300))
    return img


def sheet(lib_dir: Path, out: Path, font_path: str | None, cache: Path, tile: int = 300, cols: int = 7) -> None:
    emoji = EmojiSource(cache)
    folders = sorted(p for p in lib_dir.iterdir() if (p / "template.toml").exists())
    label_h = 22
    rows = (len(folders) + cols - 1) // cols
    S = Image.new("RGB", (cols * tile, rows * (tile + label_h)), (245, 245, 245))
    d = ImageDraw.Draw(S)
    lf = ImageFont.truetype(font_path, 14) if font_path else ImageFont.load_default(14)
    for k, f in enumerate(folders):
        im = render_template(f, font_path, emoji)
        im.thumbnail((tile - 8, tile - 8), Image.LANCZOS)
        x, y = (k % cols) * tile, (k // cols) * (tile + label_h)
        S.paste(im.convert("RGB"), (x + (tile - im.width) // 2, y + (tile - im.height) // 2))
        d.text((x + 6, y + tile + 2), f.name, fill=(20, 20, 20), font=lf)
    out.parent.mkdir(parents=True, exist_ok=True)
    S = S.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.FLOYDSTEINBERG)
    S.save(out, optimize=True)
    print(f"{out}: {len(folders)} templates, {out.stat().st_size / 1024:.0f} KiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lib", type=Path, default=REPO / "assets" / "templates")
    ap.add_argument("-o", "--out", type=Path, default=REPO / "docs" / "templates-contact-sheet.png")
    ap.add_argument("--font", default=None)
    ap.add_argument("--tile", type=int, default=300)
    ap.add_argument("--cols", type=int, default=7)
    ap.add_argument("--only", default="", help="comma-separated ids: render just these, large, for a close look")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("TEMPLATES_CACHE", sources.DEFAULT_CACHE)))
    args = ap.parse_args()
    font = load_font_path(args.font)
    if args.only:
        emoji = EmojiSource(args.cache)
        ids = args.only.split(",")
        ims = [render_template(args.lib / i, font, emoji) for i in ids]
        for im in ims:
            im.thumbnail((args.tile, args.tile), Image.LANCZOS)
        W = sum(im.width for im in ims) + 10 * len(ims)
        out = Image.new("RGB", (W, max(im.height for im in ims)), (245, 245, 245))
        x = 0
        for im in ims:
            out.paste(im.convert("RGB"), (x, 0))
            x += im.width + 10
        out.save(args.out)
        print(args.out)
        return
    sheet(args.lib, args.out, font, args.cache, args.tile, args.cols)


if __name__ == "__main__":
    main()
