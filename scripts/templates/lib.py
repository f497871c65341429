"""Shared helpers for building the starter meme templates: loading the pinned sources (recording
where every pixel comes from), drawing (gradients, stars, candle charts), writing template.toml."""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import random
import re
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

import sources

REPO = sources.REPO
CANDLES_DIR = REPO / "assets" / "market" / "candles"

# ----------------------------------------------------------------------------------------------
# Provenance of every image component
# ----------------------------------------------------------------------------------------------

# Licence ids, most restrictive last: a composite carries the most restrictive one of its parts.
LICENSE_ORDER = ["public-domain", "CC0-1.0", "MIT", "Apache-2.0"]


@dataclass(frozen=True)
class Component:
    what: str  # human description, e.g. "clip art 'Brain' by Jon Phillips"
    package: str  # "openclipart-svg 1:0.18+dfsg-19 (Debian)" or "drawn by scripts/templates/build.py"
    path: str  # path inside the package ("" for drawn parts)
    license: str  # one of LICENSE_ORDER
    note: str = ""  # where the licence is stated


DRAWN = Component(
    what="shapes, gradients and charts drawn in code",
    package="scripts/templates/build.py (this repository)",
    path="",
    license="MIT",
    note="PaperMemes' own licence (LICENSE at the repository root)",
)

OPENCLIPART_NOTE = (
    "public-domain dedication: the file's own RDF metadata (cc:license = PublicDomain) and the "
    "package's /usr/share/doc/openclipart-svg/copyright"
)
NOTO_NOTE = (
    "Apache-2.0: package.json `license` and info.json `license.spdx` of @iconify-json/noto "
    "(upstream googlefonts/noto-emoji svg/LICENSE); text in assets/templates/LICENSE-Apache-2.0.txt"
)

# scikit-image sample images we use, with the licence statement its own docstrings make
# (skimage/data/_fetchers.py); build fails if the statement is no longer there.
SKIMAGE_IMAGES = {
    "chelsea.png": ("chelsea", "CC0-1.0", "CC0 by the photographer (Stefan van der Walt)", "Chelsea the cat, photo by Stefan van der Walt"),
    "coffee.png": ("coffee", "CC0-1.0", "CC0 by the photographer (Rachel Michetti)", "coffee cup, photo by Rachel Michetti (courtesy of Pikolo Espresso Bar)"),
    "rocket.jpg": ("rocket", "public-domain", "released in the public domain", "launch of DSCOVR on Falcon 9, photo by SpaceX"),
    "hubble_deep_field.jpg": ("hubble_deep_field", "public-domain", "may be freely used in the public domain", "Hubble eXtreme Deep Field, NASA"),
    "brick.png": ("brick", "CC0-1.0", "licensed\nunder the Creative Commons CC0 License", "brick wall texture from CC0Textures"),
    "grass.png": ("grass", "CC0-1.0", "licensed under the Creative Commons CC0 License", "grass texture by linolafett"),
    "clock_motion.png": ("clock", "public-domain", "Released into the public domain by the photographer (Stefan van der Walt)", "motion-blurred wall clock, photo by Stefan van der Walt"),
}


def combined_license(comps: list[Component]) -> str:
    return max((c.license for c in comps), key=LICENSE_ORDER.index)


# ----------------------------------------------------------------------------------------------
# Source access
# ----------------------------------------------------------------------------------------------

_RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
_CC = "{http://web.resource.org/cc/}"
_DC = "{http://purl.org/dc/elements/1.1/}"


class Sources:
    def __init__(self, cache: Path):
        self.roots = sources.roots(cache)
        self.cur: list[Component] = []  # components of the image being built
        self._noto = None
        self._skdoc = None

    def take(self) -> list[Component]:
        out, self.cur = self.cur, []
        # keep order, drop duplicates
        seen, uniq = set(), []
        for c in out:
            if c not in seen:
                seen.add(c)
                uniq.append(c)
        return uniq

    def drawn(self) -> None:
        self.cur.append(DRAWN)

    # -- openclipart ---------------------------------------------------------------------------
    def clip(self, rel: str, width: int | None = None, height: int | None = None) -> Image.Image:
        """Render an openclipart SVG (public domain) to RGBA, trimmed to its visible pixels."""
        p = self.roots["openclipart"] / sources.OPENCLIPART_DIR / rel
        root = ET.parse(p).getroot()
        lic = [e.get(_RDF + "resource") for e in root.iter(_CC + "license")]
        if lic != ["http://web.resource.org/cc/PublicDomain"]:
            raise SystemExit(f"{rel}: its metadata does not dedicate it to the public domain ({lic})")
        title = ""
        for w in root.iter(_CC + "Work"):
            t = w.find(_DC + "title")
            title = (t.text or "").strip() if t is not None else ""
        creator = ""
        for c in root.iter(_DC + "creator"):
            t = c.find(f"{_CC}Agent/{_DC}title")
            creator = (t.text or "").strip() if t is not None else ""
        what = f"clip art '{title or Path(rel).stem}'" + (f" by {creator}" if creator else "")
        pkg = sources.BY_KEY["openclipart"]
        self.cur.append(
            Component(what, f"{pkg.name} {pkg.version} (Debian)", f"/usr/share/openclipart/svg/{rel}", "public-domain", OPENCLIPART_NOTE)
        )
        return trim(rsvg(p.read_bytes(), width, height))

    # -- Noto emoji (Apache-2.0) -----------------------------------------------------------------
    def emoji(self, name: str, size: int) -> Image.Image:
        if self._noto is None:
            self._noto = json.loads((self.roots["noto"] / sources.NOTO_ICONS).read_text())
        d = self._noto
        icon = d["icons"].get(name)
        if icon is None:
            raise SystemExit(f"noto emoji {name!r} not in @iconify-json/noto")
        w, h = icon.get("width", d.get("width", 16)), icon.get("height", d.get("height", 16))
        svg = (
            f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'width="{w}" height="{h}" viewBox="{icon.get("left", 0)} {icon.get("top", 0)} {w} {h}">{icon["body"]}</svg>'
        )
        pkg = sources.BY_KEY["noto"]
        self.cur.append(
            Component(f"Noto Emoji '{name}' (Google)", f"{pkg.name} {pkg.version} (npm)", f"package/icons.json, icons[\"{name}\"]", "Apache-2.0", NOTO_NOTE)
        )
        return rsvg(svg.encode(), size, size)

    # -- scikit-image sample photos --------------------------------------------------------------
    def photo(self, fname: str) -> Image.Image:
        func, lic, phrase, what = SKIMAGE_IMAGES[fname]
        if self._skdoc is None:
            import ast

            src = (self.roots["skimage"] / sources.SKIMAGE_DATA / "_fetchers.py").read_text()
            self._skdoc = {
                n.name: ast.get_docstring(n) or "" for n in ast.parse(src).body if isinstance(n, ast.FunctionDef)
            }
        doc = " ".join(self._skdoc.get(func, "").split())
        if " ".join(phrase.split()) not in doc:
            raise SystemExit(f"skimage {fname}: licence statement {phrase!r} not found in {func}() docstring")
        pkg = sources.BY_KEY["skimage"]
        self.cur.append(
            Component(
                what,
                f"{pkg.name} {pkg.version} (PyPI)",
                f"skimage/data/{fname}",
                lic,
                f"skimage/data/_fetchers.py, docstring of {func}(): \u201c{' '.join(phrase.split())}\u201d",
            )
        )
        im = Image.open(self.roots["skimage"] / sources.SKIMAGE_DATA / fname)
        im.load()
        return im

    # -- bundled real candles (MIT) --------------------------------------------------------------
    def candles(self, base: str, interval: str = "1h") -> list[tuple[int, float, float, float, float]]:
        p = CANDLES_DIR / f"binance_{base}_USDT-{interval}.csv.gz"
        with gzip.open(p, "rt") as f:
            rows = [
                (int(r["open_time_ms"]), float(r["open"]), float(r["high"]), float(r["low"]), float(r["close"]))
                for r in csv.DictReader(f)
            ]
        return rows

    def candle_component(self, base: str, interval: str, start_ms: int, end_ms: int) -> None:
        from datetime import datetime, timezone

        fmt = lambda ms: datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M")
        self.cur.append(
            Component(
                f"real Binance {base}/USDT {interval} candles, {fmt(start_ms)} to {fmt(end_ms)} UTC, drawn as a chart",
                "assets/market/candles (this repository)",
                f"assets/market/candles/binance_{base}_USDT-{interval}.csv.gz",
                "MIT",
                "MIT data, see assets/market/PROVENANCE.md (repository imsatoshi/GeneTrader, Copyright (c) 2024 jz)",
            )
        )


def rsvg(svg: bytes, width: int | None, height: int | None) -> Image.Image:
    cmd = ["rsvg-convert", "--format=png"]
    if width:
        cmd += ["-w", str(width)]
    if height:
        cmd += ["-h", str(height)]
    if width and height:
        cmd += ["--keep-aspect-ratio"]
    try:
        out = subprocess.run(cmd, input=svg, capture_output=True, check=True).stdout
    except FileNotFoundError:
        raise SystemExit("rsvg-convert is needed: apt-get install librsvg2-bin")
    im = Image.open(io.BytesIO(out)).convert("RGBA")
    im.load()
    return im


def trim(im: Image.Image, pad: int = 0) -> Image.Image:
    bbox = im.getchannel("A").point(lambda a: 255 if a > 8 else 0).getbbox()
    if not bbox:
        return im
    l, t, r, b = bbox
    return im.crop((max(0, l - pad), max(0, t - pad), min(im.width, r + pad), min(im.height, b + pad)))


# ----------------------------------------------------------------------------------------------
# Drawing helpers (all deterministic)
# ----------------------------------------------------------------------------------------------


def rgb(c: str) -> tuple[int, int, int]:
    c = c.lstrip("#")
    return tuple(int(c[i : i + 2], 16) for i in (0, 2, 4))


def vgrad(w: int, h: int, top: str, bottom: str) -> Image.Image:
    a, b = rgb(top), rgb(bottom)
    im = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(im)
    for y in range(h):
        t = y / max(1, h - 1)
        d.line([(0, y), (w, y)], fill=tuple(round(a[i] + (b[i] - a[i]) * t) for i in range(3)))
    return im.convert("RGBA")


def radial(w: int, h: int, inner: str, outer: str, cx: float = 0.5, cy: float = 0.5, r: float = 0.75) -> Image.Image:
    """Radial gradient: inner colour at (cx, cy) to outer at distance r (fraction of the diagonal/√2)."""
    small = 200
    a, b = rgb(inner), rgb(outer)
    im = Image.new("RGB", (small, small))
    px = im.load()
    for y in range(small):
        for x in range(small):
            dx, dy = x / small - cx, (y / small - cy) * h / w
            t = min(1.0, math.hypot(dx, dy) / r)
            px[x, y] = tuple(round(a[i] + (b[i] - a[i]) * t) for i in range(3))
    return im.resize((w, h), Image.BICUBIC).convert("RGBA")


def starfield(im: Image.Image, seed: int, n: int = 200, box: tuple[int, int, int, int] | None = None) -> None:
    rnd = random.Random(seed)
    d = ImageDraw.Draw(im)
    x0, y0, x1, y1 = box or (0, 0, im.width, im.height)
    for _ in range(n):
        x, y = rnd.uniform(x0, x1), rnd.uniform(y0, y1)
        r = rnd.choice([0.8, 1.0, 1.2, 1.6, 2.2])
        v = rnd.randint(170, 255)
        d.ellipse([x - r, y - r, x + r, y + r], fill=(v, v, min(255, v + 20), 255))


def shadow(im: Image.Image, radius: int = 10, offset: tuple[int, int] = (6, 8), opacity: int = 110) -> Image.Image:
    pad = radius * 3
    out = Image.new("RGBA", (im.width + 2 * pad, im.height + 2 * pad), (0, 0, 0, 0))
    a = im.getchannel("A").point(lambda v: v * opacity // 255)
    sh = Image.new("RGBA", im.size, (0, 0, 0, 255))
    sh.putalpha(a)
    out.alpha_composite(sh, (pad + offset[0], pad + offset[1]))
    out = out.filter(ImageFilter.GaussianBlur(radius))
    out.alpha_composite(im, (pad, pad))
    return out


def paste(base: Image.Image, im: Image.Image, cx: float, cy: float, angle: float = 0.0) -> None:
    """Alpha-composite im centred on (cx, cy) (pixels); angle in degrees, clockwise."""
    if angle:
        im = im.rotate(-angle, resample=Image.BICUBIC, expand=True)
    x, y = round(cx - im.width / 2), round(cy - im.height / 2)
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    layer.paste(im, (x, y), im)
    base.alpha_composite(layer)


def fit(im: Image.Image, w: int, h: int) -> Image.Image:
    """Scale im (keeping aspect) to fit inside w×h."""
    s = min(w / im.width, h / im.height)
    return im.resize((max(1, round(im.width * s)), max(1, round(im.height * s))), Image.LANCZOS)


def cover(im: Image.Image, w: int, h: int, cx: float = 0.5, cy: float = 0.5) -> Image.Image:
    """Scale and crop im to exactly w×h, keeping the point (cx, cy) (fractions) in view."""
    s = max(w / im.width, h / im.height)
    im = im.resize((max(w, round(im.width * s)), max(h, round(im.height * s))), Image.LANCZOS)
    x = min(max(0, round(im.width * cx - w / 2)), im.width - w)
    y = min(max(0, round(im.height * cy - h / 2)), im.height - h)
    return im.crop((x, y, x + w, y + h))


def tint(gray: Image.Image, dark: str, light: str) -> Image.Image:
    return ImageOps.colorize(gray.convert("L"), rgb(dark), rgb(light)).convert("RGBA")


def recolor(im: Image.Image, color: str) -> Image.Image:
    """Fill every visible pixel of im with color, keeping its alpha (silhouettes)."""
    out = Image.new("RGBA", im.size, rgb(color) + (255,))
    out.putalpha(im.getchannel("A"))
    return out


def paperize(im: Image.Image) -> Image.Image:
    """Turn a coloured sticker into a white-paper version of itself (for 'paper hands')."""
    g = ImageOps.grayscale(im.convert("RGB"))
    g = ImageOps.autocontrast(g)
    col = ImageOps.colorize(g, (150, 150, 140), (253, 253, 247)).convert("RGBA")
    col.putalpha(im.getchannel("A"))
    return col


def glow(base: Image.Image, cx: float, cy: float, r: float, color: str, strength: int = 200) -> None:
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=rgb(color) + (strength,))
    layer = layer.filter(ImageFilter.GaussianBlur(r / 2.5))
    base.alpha_composite(layer)


def panel_border(im: Image.Image, rects: list[tuple[int, int, int, int]], width: int = 4, color: str = "#000000") -> None:
    d = ImageDraw.Draw(im)
    for r in rects:
        d.rectangle(r, outline=color, width=width)


# -- price series ----------------------------------------------------------------------------------

OHLC = tuple[float, float, float, float]
UP, DOWN = "#16c784", "#ea3943"


def walk(seed: int, n: int, drift: float, vol: float, start: float = 100.0, shocks: dict[int, float] | None = None) -> list[OHLC]:
    """A seeded random-walk OHLC series; drift/vol per bar as fractions; shocks: bar -> extra return."""
    rnd = random.Random(seed)
    bars, price = [], start
    for i in range(n):
        o = price
        ticks = [o]
        for _ in range(6):
            ticks.append(ticks[-1] * (1 + drift / 6 + rnd.gauss(0, vol / 2.4)))
        if shocks and i in shocks:
            ticks.append(ticks[-1] * (1 + shocks[i]))
        c = ticks[-1]
        h = max(ticks) * (1 + abs(rnd.gauss(0, vol / 4)))
        l = min(ticks) * (1 - abs(rnd.gauss(0, vol / 4)))
        bars.append((o, h, l, c))
        price = c
    return bars


def path_series(seed: int, points: list[tuple[float, float]], n: int, vol: float) -> list[OHLC]:
    """OHLC bars following a piecewise-linear shape (x in 0..1 -> level), with seeded noise."""
    rnd = random.Random(seed)

    def level(x: float) -> float:
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            if x0 <= x <= x1:
                return y0 + (y1 - y0) * (x - x0) / (x1 - x0 or 1)
        return points[-1][1]

    bars = []
    prev = level(0)
    for i in range(n):
        target = level((i + 1) / n)
        o = prev
        c = target * (1 + rnd.gauss(0, vol))
        h = max(o, c) * (1 + abs(rnd.gauss(0, vol)))
        l = min(o, c) * (1 - abs(rnd.gauss(0, vol)))
        bars.append((o, h, l, c))
        prev = c
    return bars


def draw_grid(im: Image.Image, rect: tuple[int, int, int, int], color=(255, 255, 255, 22), nx: int = 8, ny: int = 6) -> None:
    x0, y0, x1, y1 = rect
    layer = Image.new("RGBA", im.size, (0, 0, 0, 0))
    d = ImageDraw.Draw(layer)
    for i in range(nx + 1):
        x = x0 + (x1 - x0) * i / nx
        d.line([(x, y0), (x, y1)], fill=color, width=1)
    for j in range(ny + 1):
        y = y0 + (y1 - y0) * j / ny
        d.line([(x0, y), (x1, y)], fill=color, width=1)
    im.alpha_composite(layer)


def draw_candles(
    im: Image.Image,
    rect: tuple[int, int, int, int],
    bars: list[OHLC],
    up: str = UP,
    down: str = DOWN,
    lo: float | None = None,
    hi: float | None = None,
    slots: int | None = None,
    wick: int | None = None,
) -> list[tuple[float, float]]:
    """Candlesticks filling rect; returns the (x, y_close) of every bar (for labels/stickers)."""
    x0, y0, x1, y1 = rect
    lo = min(b[2] for b in bars) if lo is None else lo
    hi = max(b[1] for b in bars) if hi is None else hi
    span = (hi - lo) or 1.0
    n = slots or len(bars)
    step = (x1 - x0) / n
    body = max(1.0, step * 0.68)
    wick = wick or max(1, round(step * 0.14))
    ymap = lambda v: y1 - (v - lo) / span * (y1 - y0)
    d = ImageDraw.Draw(im)
    pts = []
    for i, (o, h, l, c) in enumerate(bars):
        cx = x0 + step * (i + 0.5)
        col = rgb(up if c >= o else down)
        d.line([(cx, ymap(h)), (cx, ymap(l))], fill=col, width=wick)
        top, bot = sorted((ymap(o), ymap(c)))
        if bot - top < 2:
            bot = top + 2
        d.rectangle([cx - body / 2, top, cx + body / 2, bot], fill=col)
        pts.append((cx, ymap(c)))
    return pts


def draw_line(im: Image.Image, rect, values: list[float], color: str, width: int = 6, fill_alpha: int = 60,
              lo: float | None = None, hi: float | None = None) -> list[tuple[float, float]]:
    x0, y0, x1, y1 = rect
    lo = min(values) if lo is None else lo
    hi = max(values) if hi is None else hi
    span = (hi - lo) or 1.0
    n = len(values)
    pts = [(x0 + (x1 - x0) * i / max(1, n - 1), y1 - (v - lo) / span * (y1 - y0)) for i, v in enumerate(values)]
    if fill_alpha:
        layer = Image.new("RGBA", im.size, (0, 0, 0, 0))
        ImageDraw.Draw(layer).polygon(pts + [(pts[-1][0], y1), (pts[0][0], y1)], fill=rgb(color) + (fill_alpha,))
        im.alpha_composite(layer)
    d = ImageDraw.Draw(im)
    d.line(pts, fill=rgb(color), width=width, joint="curve")
    return pts


def window(rows, n: int, score) -> list:
    """The n consecutive rows maximising score(window)."""
    best, best_i = None, 0
    for i in range(0, len(rows) - n):
        s = score(rows[i : i + n])
        if best is None or s > best:
            best, best_i = s, i
    return rows[best_i : best_i + n]


# ----------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------


def save_image(im: Image.Image, path: Path) -> None:
    """PNG for drawings, JPEG for photos; deterministic encoder settings, no metadata."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".png":
        im.save(path, format="PNG", optimize=True)
    elif path.suffix in (".jpg", ".jpeg"):
        im.convert("RGB").save(path, format="JPEG", quality=86, optimize=True, progressive=False, subsampling=2)
    else:
        raise ValueError(path)


def save_gif(frames: list[Image.Image], path: Path, duration_ms: int | list[int]) -> None:
    """Animated GIF with one shared adaptive palette (from a sample of the frames), no dithering."""
    path.parent.mkdir(parents=True, exist_ok=True)
    w, h = frames[0].size
    sample_idx = sorted(set([0, len(frames) // 3, 2 * len(frames) // 3, len(frames) - 1]))
    strip = Image.new("RGB", (w, h * len(sample_idx)))
    for k, i in enumerate(sample_idx):
        strip.paste(frames[i].convert("RGB"), (0, h * k))
    pal = strip.quantize(colors=255, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    q = [f.convert("RGB").quantize(palette=pal, dither=Image.Dither.NONE) for f in frames]
    q[0].save(path, format="GIF", save_all=True, append_images=q[1:], duration=duration_ms, loop=0, optimize=False, disposal=1)


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _toml_val(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        s = f"{v:.4f}".rstrip("0")
        return s + "0" if s.endswith(".") else s
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_val(x) for x in v) + "]"
    raise TypeError(v)


TOP_KEYS = ["name", "image", "keywords", "tags", "examples", "layout", "source", "license", "attribution"]
TEXT_KEYS = ["x", "y", "width", "height", "angle", "align", "valign", "font", "color", "outline",
             "outline_width", "shadow", "case", "max_lines", "start", "stop"]
OVERLAY_KEYS = ["image", "emoji", "x", "y", "scale", "angle"]


def write_toml(path: Path, meta: dict) -> None:
    lines = []
    for k in TOP_KEYS:
        if k in meta:
            lines.append(f"{k} = {_toml_val(meta[k])}")
    for box in meta.get("text", []):
        lines += ["", "[[text]]"]
        for k in TEXT_KEYS:
            if k in box:
                v = box[k]
                lines.append(f"{k} = {_toml_val(float(v) if k in ('x', 'y', 'width', 'height', 'angle', 'outline_width', 'start', 'stop') else v)}")
    for ov in meta.get("overlay", []):
        lines += ["", "[[overlay]]"]
        for k in OVERLAY_KEYS:
            if k in ov:
                v = ov[k]
                lines.append(f"{k} = {_toml_val(float(v) if k in ('x', 'y', 'scale', 'angle') else v)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def outline(im: Image.Image, px: int, color: str) -> Image.Image:
    """A sticker with a solid outline of px pixels around its visible shape."""
    pad = px + 2
    big = Image.new("RGBA", (im.width + 2 * pad, im.height + 2 * pad), (0, 0, 0, 0))
    big.alpha_composite(im, (pad, pad))
    a = big.getchannel("A").point(lambda v: 255 if v > 40 else 0).filter(ImageFilter.MaxFilter(2 * px + 1))
    out = Image.new("RGBA", big.size, rgb(color) + (0,))
    out.putalpha(a)
    out.alpha_composite(big)
    return out
