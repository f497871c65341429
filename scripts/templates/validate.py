"""Check a meme template library against docs/meme-templates.md, rule by rule.

    python scripts/templates/validate.py [DIR]      # default assets/templates

Checks every rule the loader enforces (fields, types, unknown keys, images exist/decode/limits,
paths stay in the folder, 1–8 boxes inside the image, colours, fonts, start < stop, overlays,
examples) plus the starter library's own rules (ATTRIBUTION.md names every image file, no
files the format does not define, GIF budget, total size). Exits 1 and lists every problem.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[2]

ID_RE = re.compile(r"^[a-z0-9-]{1,64}$")
COLOR_RE = re.compile(r"^#(?:[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$")
# Licence texts sit at the top level as plain files (a sub-folder would be taken for a template).
LICENSE_FILE_RE = re.compile(r"^LICENSE-[A-Za-z0-9.-]+\.txt$")
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".webp", ".gif"}
LAYOUTS = {"top-bottom", "two-panel", "four-panel", "reaction", "label", "chart-caption", "other"}
# The doc names only "anton" as a bundled font id; anything else would be refused by a loader
# that does not bundle it.
FONTS = {"anton"}
LICENSES = {"public-domain", "CC0-1.0", "MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "OFL-1.1", "CC-BY-4.0", "CC-BY-3.0"}

TOP = {
    "name": str, "image": str, "keywords": list, "tags": list, "examples": list, "layout": str,
    "source": str, "license": str, "attribution": str, "text": list, "overlay": list,
}
TOP_REQUIRED = {"name", "image", "source", "license", "text"}
TEXT = {
    "x": float, "y": float, "width": float, "height": float, "angle": float, "align": str, "valign": str,
    "font": str, "color": str, "outline": str, "outline_width": float, "shadow": bool, "case": str,
    "max_lines": int, "start": float, "stop": float,
}
TEXT_REQUIRED = {"x", "y", "width", "height"}
OVERLAY = {"image": str, "emoji": str, "x": float, "y": float, "scale": float, "angle": float}
OVERLAY_REQUIRED = {"x", "y", "scale"}

# Starter-library budget (from the issue / brief)
MAX_TOTAL = 15 * 1024 * 1024
GIF_MAX_BYTES = 1024 * 1024
GIF_MAX_FRAMES = 60
GIF_MAX_SIDE = 480


def _is(v, t) -> bool:
    if t is float:
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t is int:
        return isinstance(v, int) and not isinstance(v, bool)
    return isinstance(v, t)


def safe_path(folder: Path, rel: str) -> Path | None:
    if not rel or rel.startswith("/") or "\\" in rel or ".." in Path(rel).parts or ":" in rel:
        return None
    p = (folder / rel).resolve()
    return p if p.parent == folder.resolve() or folder.resolve() in p.parents else None


def check_image(err, where: str, path: Path) -> tuple[int, int, int] | None:
    if path.suffix.lower() not in IMAGE_EXT:
        err(f"{where}: {path.name}: not a .png/.jpg/.jpeg/.webp/.gif file")
    try:
        with Image.open(path) as im:
            im.load()
            w, h = im.size
            n = getattr(im, "n_frames", 1)
            if w > 4096 or h > 4096:
                err(f"{where}: {path.name} is {w}x{h}, over 4096x4096")
            if n > 500:
                err(f"{where}: {path.name} has {n} frames, over 500")
            for i in range(n):  # every frame decodes
                im.seek(i)
                im.load()
            return w, h, n
    except Exception as e:  # noqa: BLE001
        err(f"{where}: {path.name} does not decode: {e}")
        return None


def validate_template(folder: Path, err) -> dict | None:
    tid = folder.name
    f = folder / "template.toml"
    loc = f"{folder.parent.name}/{tid}/template.toml"
    if not ID_RE.match(tid) or tid.startswith("-"):
        err(f"{loc}: id {tid!r} is not lowercase letters, digits and '-' (1-64 chars)")
    if not f.exists():
        err(f"{loc}: missing")
        return None
    try:
        data = tomllib.loads(f.read_text(encoding="utf-8"))
    except Exception as e:  # noqa: BLE001
        err(f"{loc}: does not parse: {e}")
        return None
    for k in data:
        if k not in TOP:
            err(f"{loc}: unknown key {k!r}")
    for k in TOP_REQUIRED - data.keys():
        err(f"{loc}: {k}: missing")
    for k, t in TOP.items():
        if k in data and not _is(data[k], t):
            err(f"{loc}: {k}: should be a {t.__name__}")
    name = data.get("name", "")
    if isinstance(name, str) and not (1 <= len(name) <= 80):
        err(f"{loc}: name: {len(name)} chars, must be 1-80")
    for k in ("keywords", "tags"):
        if any(not isinstance(x, str) or not x for x in data.get(k, [])):
            err(f"{loc}: {k}: every entry must be a non-empty string")
    if data.get("layout", "other") not in LAYOUTS:
        err(f"{loc}: layout: {data['layout']!r} is not one of {sorted(LAYOUTS)}")
    if data.get("license") not in LICENSES:
        err(f"{loc}: license: {data.get('license')!r} is not an expected SPDX id or public-domain")
    if not data.get("source"):
        err(f"{loc}: source: empty")

    used_files = {"template.toml"}
    size = None
    img = data.get("image")
    if isinstance(img, str):
        p = safe_path(folder, img)
        if p is None:
            err(f"{loc}: image: {img!r} leaves the folder")
        elif not p.exists():
            err(f"{loc}: image: {img!r} does not exist")
        else:
            used_files.add(img)
            size = check_image(err, f"{loc}: image", p)

    animated = bool(size and size[2] > 1)
    texts = data.get("text", [])
    if isinstance(texts, list):
        if not 1 <= len(texts) <= 8:
            err(f"{loc}: text: {len(texts)} boxes, must be 1-8")
        for i, t in enumerate(texts):
            w = f"{loc}: text[{i + 1}]"
            if not isinstance(t, dict):
                err(f"{w}: not a table")
                continue
            for k in t:
                if k not in TEXT:
                    err(f"{w}: unknown key {k!r}")
            for k in TEXT_REQUIRED - t.keys():
                err(f"{w}.{k}: missing")
            for k, ty in TEXT.items():
                if k in t and not _is(t[k], ty):
                    err(f"{w}.{k}: should be a {ty.__name__}")
            if not all(_is(t.get(k), float) for k in TEXT_REQUIRED):
                continue
            x, y, bw, bh = t["x"], t["y"], t["width"], t["height"]
            if x < 0:
                err(f"{w}.x: {x} < 0")
            if y < 0:
                err(f"{w}.y: {y} < 0")
            if bw <= 0.02:
                err(f"{w}.width: {bw} must be > 0.02")
            if bh <= 0.02:
                err(f"{w}.height: {bh} must be > 0.02")
            if x + bw > 1 + 1e-9:
                err(f"{w}.width: the box ends at {x + bw:.4f}, outside the image (0..1)")
            if y + bh > 1 + 1e-9:
                err(f"{w}.height: the box ends at {y + bh:.4f}, outside the image (0..1)")
            if t.get("align", "center") not in ("left", "center", "right"):
                err(f"{w}.align: {t['align']!r}")
            if t.get("valign", "middle") not in ("top", "middle", "bottom"):
                err(f"{w}.valign: {t['valign']!r}")
            if t.get("case", "upper") not in ("upper", "as-typed", "mock"):
                err(f"{w}.case: {t['case']!r}")
            if t.get("font", "anton") not in FONTS:
                err(f"{w}.font: {t['font']!r} is not a bundled font")
            if not COLOR_RE.match(str(t.get("color", "#FFFFFF"))):
                err(f"{w}.color: {t['color']!r} is not #RRGGBB or #RRGGBBAA")
            o = t.get("outline", "#000000")
            if o != "" and not COLOR_RE.match(str(o)):
                err(f"{w}.outline: {o!r} is not #RRGGBB, #RRGGBBAA or \"\"")
            if not 0 <= t.get("outline_width", 0.06) <= 1:
                err(f"{w}.outline_width: {t['outline_width']} out of 0..1")
            ml = t.get("max_lines", 3)
            if _is(ml, int) and not 1 <= ml <= 10:
                err(f"{w}.max_lines: {ml} must be 1-10")
            st, sp = t.get("start", 0.0), t.get("stop", 1.0)
            if not (0 <= st < sp <= 1):
                err(f"{w}.start/stop: need 0 <= start < stop <= 1 (got {st}, {sp})")
            if ("start" in t or "stop" in t) and not animated:
                err(f"{w}.start/stop: set on a still image")
    overlays = data.get("overlay", [])
    for i, o in enumerate(overlays if isinstance(overlays, list) else []):
        w = f"{loc}: overlay[{i + 1}]"
        if not isinstance(o, dict):
            err(f"{w}: not a table")
            continue
        for k in o:
            if k not in OVERLAY:
                err(f"{w}: unknown key {k!r}")
        for k in OVERLAY_REQUIRED - o.keys():
            err(f"{w}.{k}: missing")
        for k, ty in OVERLAY.items():
            if k in o and not _is(o[k], ty):
                err(f"{w}.{k}: should be a {ty.__name__}")
        if ("image" in o) == ("emoji" in o):
            err(f"{w}: needs exactly one of image and emoji")
        if "image" in o and isinstance(o["image"], str):
            p = safe_path(folder, o["image"])
            if p is None:
                err(f"{w}.image: {o['image']!r} leaves the folder")
            elif not p.exists():
                err(f"{w}.image: {o['image']!r} does not exist")
            else:
                used_files.add(o["image"])
                check_image(err, f"{w}.image", p)
        if "emoji" in o and isinstance(o["emoji"], str) and not o["emoji"].strip():
            err(f"{w}.emoji: empty")
        sc = o.get("scale")
        if _is(sc, float) and not 0 < sc <= 2:
            err(f"{w}.scale: {sc} not in (0, 2]")
        for k in ("x", "y"):
            if _is(o.get(k), float) and not 0 <= o[k] <= 1:
                err(f"{w}.{k}: {o[k]} outside 0..1")
    nboxes = len(texts) if isinstance(texts, list) else 0
    for i, ex in enumerate(data.get("examples", [])):
        if not isinstance(ex, list) or not all(isinstance(s, str) for s in ex):
            err(f"{loc}: examples[{i + 1}]: must be a list of strings")
        elif len(ex) > nboxes:
            err(f"{loc}: examples[{i + 1}]: {len(ex)} strings for {nboxes} boxes")
        elif not ex:
            err(f"{loc}: examples[{i + 1}]: empty")
    # starter library: nothing in the folder the format does not define
    for p in folder.iterdir():
        if p.name not in used_files:
            err(f"{folder.parent.name}/{tid}/{p.name}: not referenced by template.toml")
    if size and animated:
        w, h, n = size
        pth = folder / img
        if n > GIF_MAX_FRAMES or max(w, h) > GIF_MAX_SIDE or pth.stat().st_size > GIF_MAX_BYTES:
            err(f"{loc}: {img}: {w}x{h}, {n} frames, {pth.stat().st_size} bytes: over the starter budget (<= 480 px, <= 60 frames, <= 1 MiB)")
    return dict(id=tid, data=data, files=used_files - {"template.toml"})


def validate(root: Path) -> tuple[list[str], list[dict]]:
    errors: list[str] = []
    err = errors.append
    found = []
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        r = validate_template(d, err)
        if r:
            found.append(r)
    for p in root.iterdir():
        if p.is_file() and p.name != "ATTRIBUTION.md" and not LICENSE_FILE_RE.match(p.name):
            err(f"{root.name}/{p.name}: a file the format does not define")
    att = root / "ATTRIBUTION.md"
    if not att.exists():
        err(f"{root.name}/ATTRIBUTION.md: missing")
    else:
        text = att.read_text(encoding="utf-8")
        for r in found:
            for fname in r["files"]:
                if f"`{r['id']}/{fname}`" not in text:
                    err(f"{root.name}/ATTRIBUTION.md: does not list {r['id']}/{fname}")
    if any(r["data"].get("license") == "Apache-2.0" for r in found) and not (root / "LICENSE-Apache-2.0.txt").exists():
        err(f"{root.name}/LICENSE-Apache-2.0.txt: missing (Apache-2.0 images are shipped)")
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    if total > MAX_TOTAL:
        err(f"{root.name}: {total / 1048576:.1f} MiB, over the {MAX_TOTAL / 1048576:.0f} MiB budget")
    return errors, found


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "assets" / "templates"
    errors, found = validate(root)
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    gifs = sum(1 for r in found if any(f.endswith(".gif") for f in r["files"]))
    for e in errors:
        print(e)
    print(f"{len(found)} templates ({gifs} animated), {total / 1048576:.2f} MiB, {len(errors)} problem(s)")
    if len(found) < 40:
        print("fewer than 40 templates")
        sys.exit(1)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
