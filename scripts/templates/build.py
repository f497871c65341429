"""Build the starter meme template library in assets/templates/ from the pinned package sources.

    scripts/templates/build.sh            # the whole thing: venv, fetch, build, validate
    python scripts/templates/build.py [--cache DIR] [--out DIR] [--only ID,ID]

Each template is a function below that composes its image(s) from public-domain / CC0 /
Apache-2.0 sources (see sources.py) and our own drawings, and returns its template.toml fields.
Every image component is recorded, and ATTRIBUTION.md is written from those records, so the
attribution can never drift from what was actually drawn. The output is deterministic: the same
sources and the same Pillow / rsvg-convert versions give byte-identical files.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageOps

import lib
import sources
from lib import (
    DOWN,
    UP,
    Component,
    combined_license,
    cover,
    draw_candles,
    draw_grid,
    draw_line,
    fit,
    glow,
    paperize,
    paste,
    path_series,
    radial,
    recolor,
    rgb,
    shadow,
    starfield,
    tint,
    trim,
    vgrad,
    walk,
    window,
)

TEMPLATES = []
APACHE_FILE = "LICENSE-Apache-2.0.txt"


def template(fn):
    TEMPLATES.append(fn)
    return fn


# -- text boxes ------------------------------------------------------------------------------------


def box(x, y, w, h, **style):
    return dict(x=round(x, 4), y=round(y, 4), width=round(w, 4), height=round(h, 4), **style)


def top(h=0.2):
    return box(0.03, 0.02, 0.94, h)


def bottom(h=0.2):
    return box(0.03, 0.98 - h, 0.94, h)


def header(frac, **kw):
    """Black as-typed caption on the white band that fills the top `frac` of the image."""
    style = dict(color="#000000", outline="", case="as-typed", max_lines=4)
    style.update(kw)
    return box(0.04, 0.06 * frac, 0.92, 0.88 * frac, **style)


def label(x, y, w, h, **kw):
    style = dict(max_lines=2)
    style.update(kw)
    return box(x, y, w, h, **style)


def panel_text(x, y, w, h, **kw):
    """Text on a light panel (comparison and escalation layouts)."""
    style = dict(color="#111111", outline="", case="as-typed", max_lines=5)
    style.update(kw)
    return box(x, y, w, h, **style)


def with_header(im: Image.Image, band: int, color: str = "#ffffff") -> Image.Image:
    out = Image.new("RGBA", (im.width, im.height + band), rgb(color) + (255,))
    out.alpha_composite(im.convert("RGBA"), (0, band))
    return out


# ==================================================================================================
# Photos (scikit-image sample data: CC0 / public domain)
# ==================================================================================================


@template
def rocket_launch(S):
    im = S.photo("rocket.jpg").convert("RGB").resize((960, 640), Image.LANCZOS)
    return dict(
        id="rocket-launch",
        name="Rocket launch",
        files={"image.jpg": (im, S.take())},
        layout="top-bottom",
        keywords=["rocket", "launch", "pump", "liftoff", "moon", "send it"],
        tags=["crypto", "pump", "photo"],
        examples=[["PEPE devs at launch", "me buying the top 5 minutes later"], ["T minus 10 seconds", "to the moon"]],
        text=[top(0.2), bottom(0.2)],
    )


@template
def rocket_to_the_moon(S):
    # the launch photo with a public-domain moon sticker the user can move
    moon = fit(S.clip("science/astronomy/the_moon_dan_gerhards_01.svg", 400), 300, 300)
    sticker = (moon, S.take())
    im = S.photo("rocket.jpg").convert("RGB").resize((960, 640), Image.LANCZOS)
    return dict(
        id="rocket-to-the-moon",
        name="Rocket to the moon",
        files={"image.jpg": (im, S.take()), "sticker-moon.png": sticker},
        layout="top-bottom",
        keywords=["rocket", "moon", "to the moon", "pump", "wagmi"],
        tags=["crypto", "win", "photo"],
        examples=[["next stop", "the moon"], ["my bags when", "the dev tweets 'soon'"]],
        text=[box(0.03, 0.02, 0.62, 0.22), bottom(0.2)],
        overlay=[dict(image="sticker-moon.png", x=0.84, y=0.2, scale=0.22, angle=0.0), dict(emoji="🚀", x=0.7, y=0.42, scale=0.08, angle=-30.0)],
    )


def chelsea(S, w=900):
    im = S.photo("chelsea.png").convert("RGB")
    return im.resize((w, round(im.height * w / im.width)), Image.LANCZOS)


@template
def cat_stare(S):
    im = with_header(chelsea(S), 230)
    return dict(
        id="cat-stare",
        name="Cat stare",
        files={"image.jpg": (im, S.take())},
        layout="reaction",
        keywords=["cat", "stare", "reaction", "judging", "waiting"],
        tags=["reaction", "animals", "photo"],
        examples=[["me watching my limit order sit 0.1% under the price for six hours"], ["when someone says their coin has 'real utility'"]],
        text=[header(230 / im.height)],
    )


@template
def cat_top_bottom(S):
    im = chelsea(S)
    return dict(
        id="cat-top-bottom",
        name="Serious cat",
        files={"image.jpg": (im, S.take())},
        layout="top-bottom",
        keywords=["cat", "serious", "stare", "classic"],
        tags=["classic", "animals", "photo"],
        examples=[["you said it was a stablecoin", "explain"], ["I have seen your trades", "all of them"]],
        text=[top(0.2), bottom(0.2)],
    )


def coffee(S):
    return S.photo("coffee.png").convert("RGB").resize((900, 600), Image.LANCZOS)


@template
def coffee_morning(S):
    im = coffee(S)
    return dict(
        id="coffee-morning",
        name="Morning coffee",
        files={"image.jpg": (im, S.take())},
        layout="top-bottom",
        keywords=["coffee", "morning", "wake up", "portfolio", "check"],
        tags=["classic", "photo"],
        examples=[["first coffee", "first red candle"], ["opening the app at 6am", "like it's going to be different"]],
        text=[top(0.2), bottom(0.2)],
    )


@template
def coffee_label(S):
    im = coffee(S)
    return dict(
        id="coffee-label",
        name="Label the coffee",
        files={"image.jpg": (im, S.take())},
        layout="label",
        keywords=["coffee", "label", "portfolio", "leverage"],
        tags=["label", "photo"],
        examples=[["my portfolio", "leverage", "exit liquidity", "me"]],
        text=[
            label(0.47, 0.14, 0.30, 0.14),  # the cup
            label(0.78, 0.30, 0.21, 0.12),  # the spoon
            label(0.36, 0.74, 0.34, 0.13),  # the saucer
            label(0.01, 0.42, 0.26, 0.14),  # the table
        ],
    )


@template
def touch_grass(S):
    g = S.photo("grass.png")
    im = tint(g, "#0f3d12", "#b8f07a").resize((800, 800), Image.LANCZOS).convert("RGB")
    return dict(
        id="touch-grass",
        name="Touch grass",
        files={"image.jpg": (im, S.take())},
        layout="top-bottom",
        keywords=["grass", "touch grass", "outside", "log off", "break"],
        tags=["classic", "photo"],
        examples=[["chart's red again?", "go touch grass"], ["this is grass", "it does not have a 1m timeframe"]],
        text=[top(0.2), bottom(0.2)],
    )


@template
def brick_wall_resistance(S):
    b = S.photo("brick.png")
    im = tint(b, "#3a1208", "#f0b48a").resize((800, 800), Image.LANCZOS).convert("RGB")
    return dict(
        id="brick-wall-resistance",
        name="Resistance wall",
        files={"image.jpg": (im, S.take())},
        layout="top-bottom",
        keywords=["wall", "resistance", "brick", "breakout", "rejected"],
        tags=["crypto", "loss", "photo"],
        examples=[["$0.10 resistance", "PEPE bouncing off it for the 9th time"], ["the sell wall", "my market buy"]],
        text=[top(0.2), bottom(0.2)],
        overlay=[dict(emoji="🐸", x=0.5, y=0.5, scale=0.22)],
    )


@template
def zoom_out(S):
    im = S.photo("hubble_deep_field.jpg").convert("RGB")
    return dict(
        id="zoom-out",
        name="Zoom out",
        files={"image.jpg": (im, S.take())},
        layout="top-bottom",
        keywords=["zoom out", "space", "galaxy", "big picture", "long term"],
        tags=["crypto", "photo"],
        examples=[["\"just zoom out\" they said", "still down 80%"], ["my position size", "in the grand scheme of things"]],
        text=[top(0.19), bottom(0.19)],
    )


@template
def clock_refresh(S):
    c = ImageOps.autocontrast(S.photo("clock_motion.png").convert("L"), cutoff=1).convert("RGB").resize((800, 600), Image.LANCZOS)
    im = with_header(c, 220)
    return dict(
        id="clock-refresh",
        name="Blurry clock",
        files={"image.jpg": (im, S.take())},
        layout="reaction",
        keywords=["clock", "time", "waiting", "refresh", "candle close"],
        tags=["reaction", "photo"],
        examples=[["me refreshing the chart every second before the 4h candle closes"], ["time in the market vs timing the market"]],
        text=[header(220 / im.height)],
    )


# ==================================================================================================
# Clip-art compositions (openclipart: public domain; Noto Emoji: Apache-2.0; drawn parts: MIT)
# ==================================================================================================


def sparkle_field(S, im, seed, n=8, size=(40, 80), box=None):
    rnd = random.Random(seed)
    sp = S.emoji("sparkles", 96)
    x0, y0, x1, y1 = box or (0, 0, im.width, im.height)
    for _ in range(n):
        s = rnd.randint(*size)
        paste(im, sp.resize((s, s), Image.LANCZOS), rnd.uniform(x0, x1), rnd.uniform(y0, y1), rnd.uniform(-20, 20))


@template
def diamond_hands(S):
    W = 800
    im = radial(W, W, "#6d3cc4", "#150a33", 0.5, 0.62, 0.8)
    S.drawn()
    hands = S.emoji("raising-hands", 380)
    paste(im, shadow(hands, 14), 400, 500)
    gem = S.emoji("gem-stone", 210)
    glow(im, 240, 310, 120, "#7fe7ff", 120)
    glow(im, 560, 310, 120, "#7fe7ff", 120)
    paste(im, gem, 240, 310, -12)
    paste(im, gem, 560, 310, 12)
    sparkle_field(S, im, 7, 7, (36, 70), (60, 190, 740, 520))
    return dict(
        id="diamond-hands",
        name="Diamond hands",
        files={"image.png": (im, S.take())},
        layout="top-bottom",
        keywords=["diamond hands", "hodl", "hold", "never selling", "gem"],
        tags=["crypto", "hodl"],
        examples=[["down 70%", "still not selling"], ["they said sell the news", "I said no"]],
        text=[top(0.19), bottom(0.17)],
    )


def paper_hands_img(S, W, H):
    im = vgrad(W, H, "#dfe6ee", "#9aa8b8")
    S.drawn()
    hands = lib.outline(paperize(S.emoji("raising-hands", int(min(W, H) * 0.5))), 3, "#4a4f57")
    paste(im, shadow(hands, 10, (4, 6), 80), W * 0.5, H * 0.56)
    sheet = lib.outline(S.clip("office/paper1.svg", int(W * 0.16)), 2, "#4a4f57")
    rnd = random.Random(11)
    for (fx, fy) in [(0.2, 0.3), (0.78, 0.26), (0.86, 0.58), (0.12, 0.62)]:
        paste(im, sheet, W * fx, H * fy, rnd.uniform(-40, 40))
    return im


@template
def paper_hands(S):
    im = paper_hands_img(S, 800, 800)
    return dict(
        id="paper-hands",
        name="Paper hands",
        files={"image.png": (im, S.take())},
        layout="top-bottom",
        keywords=["paper hands", "sold", "panic sell", "weak hands", "fud"],
        tags=["crypto", "loss"],
        examples=[["sold at -5%", "it pumped 40% the next hour"], ["one red candle", "and I'm out"]],
        text=[top(0.19), bottom(0.17)],
    )


@template
def paper_vs_diamond(S):
    W, H = 1000, 620
    left = paper_hands_img(S, W // 2, H)
    right = radial(W // 2, H, "#6d3cc4", "#150a33", 0.5, 0.6, 0.8)
    hands = S.emoji("raising-hands", 300)
    paste(right, shadow(hands, 10), W / 4, H * 0.66)
    gem = S.emoji("gem-stone", 130)
    glow(right, W / 4 - 90, H * 0.36, 80, "#7fe7ff", 110)
    glow(right, W / 4 + 90, H * 0.36, 80, "#7fe7ff", 110)
    paste(right, gem, W / 4 - 90, H * 0.36, -12)
    paste(right, gem, W / 4 + 90, H * 0.36, 12)
    im = Image.new("RGBA", (W, H))
    im.alpha_composite(left, (0, 0))
    im.alpha_composite(right, (W // 2, 0))
    ImageDraw.Draw(im).line([(W / 2, 0), (W / 2, H)], fill=(0, 0, 0, 255), width=6)
    return dict(
        id="paper-vs-diamond",
        name="Paper hands vs diamond hands",
        files={"image.png": (im, S.take())},
        layout="two-panel",
        keywords=["paper hands", "diamond hands", "compare", "hold", "sell"],
        tags=["crypto", "comparison"],
        examples=[["sells at -5%", "holds at -95%"], ["took profit", "still waiting for 100x"]],
        text=[box(0.02, 0.03, 0.46, 0.2), box(0.52, 0.03, 0.46, 0.2)],
    )


@template
def praying_for_pump(S):
    W = 800
    im = radial(W, W, "#fff6d8", "#e9c46a", 0.5, 0.45, 0.8)
    S.drawn()
    bars = path_series(3, [(0, 40), (0.5, 30), (0.8, 26), (1, 60)], 36, 0.04)
    faint = Image.new("RGBA", im.size, (0, 0, 0, 0))
    draw_candles(faint, (40, 180, 760, 620), bars)
    faint.putalpha(faint.getchannel("A").point(lambda a: a * 55 // 255))
    im.alpha_composite(faint)
    hands = S.clip("people/bodypart/hands_lorenzo_luengo_01.svg", None, 430)
    glow(im, 400, 410, 190, "#ffffff", 230)
    paste(im, hands, 400, 420)
    return dict(
        id="praying-for-pump",
        name="Praying for a pump",
        files={"image.png": (im, S.take())},
        layout="top-bottom",
        keywords=["pray", "please", "pump", "hope", "cope"],
        tags=["crypto", "cope"],
        examples=[["please", "just one more pump"], ["dear market", "let me break even and I'll never trade again"]],
        text=[top(0.18), bottom(0.18)],
    )


@template
def whale_alert(S):
    W, H = 900, 700
    im = vgrad(W, H, "#0a4f7a", "#021526")
    S.drawn()
    d = ImageDraw.Draw(im)
    rnd = random.Random(5)
    for _ in range(40):  # bubbles
        x, y, r = rnd.uniform(0, W), rnd.uniform(150, H), rnd.uniform(3, 9)
        d.ellipse([x - r, y - r, x + r, y + r], outline=(180, 225, 255, 120), width=2)
    whale = S.emoji("spouting-whale", 520)
    paste(im, whale, 320, 390)
    fish = S.emoji("tropical-fish", 80)
    paste(im, fish.transpose(Image.FLIP_LEFT_RIGHT), 760, 520)
    return dict(
        id="whale-alert",
        name="Whale and the small fish",
        files={"image.png": (im, S.take())},
        layout="label",
        keywords=["whale", "fish", "retail", "market maker", "big player"],
        tags=["crypto", "label"],
        examples=[["one wallet selling 2% of supply", "a whale", "me, 40 USDT"], ["when the whale sells", "market maker", "my stop loss"]],
        text=[box(0.03, 0.02, 0.94, 0.17), label(0.1, 0.8, 0.5, 0.14), label(0.66, 0.6, 0.32, 0.14)],
    )


@template
def bull_vs_bear(S):
    W, H = 1000, 640
    im = Image.new("RGBA", (W, H))
    S.drawn()
    im.alpha_composite(radial(W // 2, H, "#7ff0a8", "#137a43", 0.5, 0.45, 0.8), (0, 0))
    im.alpha_composite(radial(W // 2, H, "#ff9b8f", "#8f1d1d", 0.5, 0.45, 0.8), (W // 2, 0))
    bull = S.clip("animals/mammals/bull_utrescu_.svg", 420)
    paste(im, shadow(recolor(bull, "#0a1f12"), 10), 250, 300)
    bear = S.clip("animals/mammals/bears/ours_etienne_bersac_r.svg", 420)
    paste(im, shadow(bear, 10), 750, 300)
    ImageDraw.Draw(im).line([(W / 2, 0), (W / 2, H)], fill=(0, 0, 0, 255), width=6)
    return dict(
        id="bull-vs-bear",
        name="Bull vs bear",
        files={"image.png": (im, S.take())},
        layout="two-panel",
        keywords=["bull", "bear", "market", "compare", "bullish", "bearish"],
        tags=["crypto", "comparison"],
        examples=[["bulls: healthy pullback", "bears: the top is in"], ["me at 9am", "me at 9:05am"]],
        text=[box(0.02, 0.76, 0.46, 0.22), box(0.52, 0.76, 0.46, 0.22)],
    )


def no_yes(S, top_img, bot_img, bg_top="#f3d2d2", bg_bot="#d5f0d8"):
    W = 800
    im = Image.new("RGBA", (W, W), (255, 255, 255, 255))
    d = ImageDraw.Draw(im)
    d.rectangle([0, 0, W // 2, W // 2], fill=rgb(bg_top))
    d.rectangle([0, W // 2, W // 2, W], fill=rgb(bg_bot))
    S.drawn()
    paste(im, fit(top_img, 320, 320), W / 4, W / 4)
    paste(im, fit(bot_img, 320, 320), W / 4, 3 * W / 4)
    d.line([(0, W / 2), (W, W / 2)], fill=(0, 0, 0), width=5)
    d.line([(W / 2, 0), (W / 2, W)], fill=(0, 0, 0), width=5)
    return im


@template
def monkey_no_yes(S):
    im = no_yes(
        S,
        S.clip("animals/mammals/angry_monkey_benji_park_01.svg", 600),
        S.clip("animals/mammals/happy_monkey_benji_park_01.svg", 600),
    )
    return dict(
        id="monkey-no-yes",
        name="Monkey: no / yes",
        files={"image.png": (im, S.take())},
        layout="two-panel",
        keywords=["no", "yes", "prefer", "instead", "choice", "monkey"],
        tags=["comparison", "classic", "animals"],
        examples=[["holding BTC", "buying a coin named after a dog's hat"], ["reading the whitepaper", "reading the ticker"]],
        text=[panel_text(0.53, 0.03, 0.44, 0.44), panel_text(0.53, 0.53, 0.44, 0.44)],
    )


@template
def smiley_no_yes(S):
    im = no_yes(
        S,
        S.clip("people/smilies/smiley115.svg", 600),
        S.clip("people/smilies/smiley110.svg", 600),
        "#dfe3ea",
        "#fff1c2",
    )
    return dict(
        id="smiley-no-yes",
        name="Boring vs cool",
        files={"image.png": (im, S.take())},
        layout="two-panel",
        keywords=["boring", "cool", "no", "yes", "prefer", "sunglasses"],
        tags=["comparison", "classic"],
        examples=[["index funds", "100x leverage on FLOKI"], ["stop losses", "vibes"]],
        text=[panel_text(0.53, 0.03, 0.44, 0.44), panel_text(0.53, 0.53, 0.44, 0.44)],
    )


def four_rows(S, imgs: list[Image.Image], W=800, H=1000):
    """Escalation layout: text on the left half, one picture per row on the right half."""
    im = Image.new("RGBA", (W, H), (255, 255, 255, 255))
    rh = H // 4
    for k, p in enumerate(imgs):
        im.alpha_composite(p, (W // 2, k * rh))
    d = ImageDraw.Draw(im)
    for k in range(1, 4):
        d.line([(0, k * rh), (W, k * rh)], fill=(0, 0, 0), width=5)
    d.line([(W / 2, 0), (W / 2, H)], fill=(0, 0, 0), width=5)
    boxes = [panel_text(0.03, (k * rh + 12) / H, 0.44, (rh - 24) / H, max_lines=4) for k in range(4)]
    return im, boxes


@template
def galaxy_brain(S):
    W, H = 800, 1000
    pw, ph = W // 2, H // 4
    S.drawn()
    panels = []
    for k in range(4):
        if k == 3:
            bg = cover(S.photo("hubble_deep_field.jpg").convert("RGBA"), pw, ph, 0.4, 0.5)
        else:
            bg = radial(pw, ph, ["#4a4a4a", "#2a4d8f", "#1fa2c9"][k], ["#1a1a1a", "#0d1a3a", "#0a2c55"][k], 0.5, 0.5, 0.7)
        size = [150, 170, 190, 205][k]
        if k >= 1:
            glow(bg, pw / 2, ph / 2, [0, 85, 110, 135][k], ["", "#6fa8ff", "#aaf6ff", "#ffffff"][k], [0, 170, 220, 255][k])
        if k == 3:
            d = ImageDraw.Draw(bg)
            for a in range(0, 360, 20):  # rays
                r0, r1 = 100, 220
                ca, sa = math.cos(math.radians(a)), math.sin(math.radians(a))
                d.line([(pw / 2 + r0 * ca, ph / 2 + r0 * sa), (pw / 2 + r1 * ca, ph / 2 + r1 * sa)], fill=(255, 255, 255, 150), width=3)
        b = S.emoji("brain", size)
        if k >= 2:
            b = Image.blend(b, recolor(b, ["", "", "#e6fdff", "#ffffff"][k]), [0, 0, 0.35, 0.6][k])
        paste(bg, b, pw / 2, ph / 2)
        panels.append(bg)
    im, boxes = four_rows(S, panels, W, H)
    return dict(
        id="galaxy-brain",
        name="Expanding brain",
        files={"image.png": (im, S.take())},
        layout="four-panel",
        keywords=["brain", "galaxy brain", "smart", "escalation", "enlightened", "big brain"],
        tags=["escalation", "classic"],
        examples=[["buying BTC", "buying ETH", "buying dog coins", "buying a coin launched 4 minutes ago"], ["DCA", "buy the dip", "buy the dip of the dip", "sell a kidney, buy more"]],
        text=boxes,
    )


@template
def clown_steps(S):
    W, H = 800, 1000
    pw, ph = W // 2, H // 4
    faces = ["slightly-smiling-face", "nerd-face", "zany-face", "clown-face"]
    bgs = [("#fdfdfd", "#dddddd"), ("#fff3d6", "#f2c66d"), ("#ffe0ec", "#f07aa5"), ("#e8dcff", "#8a5cf0")]
    S.drawn()
    panels = []
    for k, (f, (a, b)) in enumerate(zip(faces, bgs)):
        bg = radial(pw, ph, a, b, 0.5, 0.5, 0.7)
        paste(bg, S.emoji(f, 200), pw / 2, ph / 2)
        panels.append(bg)
    im, boxes = four_rows(S, panels, W, H)
    return dict(
        id="clown-steps",
        name="Clown in four steps",
        files={"image.png": (im, S.take())},
        layout="four-panel",
        keywords=["clown", "honk", "escalation", "steps", "cope", "denial"],
        tags=["escalation", "cope"],
        examples=[["it's just a dip", "I'll buy more", "leverage will fix it", "liquidated"], ["one trade", "one more trade", "revenge trade", "honk"]],
        text=boxes,
    )


@template
def portfolio_stages(S):
    W = 800
    c = W // 2
    faces = ["smiling-face-with-sunglasses", "grimacing-face", "face-screaming-in-fear", "skull"]
    cols = [("#2fbf71", "#0f5132"), ("#f2c14e", "#8a5a00"), ("#f08a4b", "#7a2e00"), ("#d64545", "#3b0a0a")]
    im = Image.new("RGBA", (W, W))
    S.drawn()
    series = [v for (_, _, _, v) in path_series(8, [(0, 100), (0.2, 120), (0.45, 80), (0.7, 40), (1, 5)], 48, 0.03)]
    for k, (f, (a, b)) in enumerate(zip(faces, cols)):
        cell = radial(c, c, a, b, 0.5, 0.45, 0.75)
        seg = series[: (k + 1) * 12]  # the story so far
        draw_line(cell, (20, 60, c - 20, c - 90), seg, "#ffffff", 4, 40, lo=0, hi=130)
        paste(cell, S.emoji(f, 170), c / 2, c * 0.42)
        im.alpha_composite(cell, ((k % 2) * c, (k // 2) * c))
    d = ImageDraw.Draw(im)
    d.line([(c, 0), (c, W)], fill=(0, 0, 0), width=6)
    d.line([(0, c), (W, c)], fill=(0, 0, 0), width=6)
    boxes = [label((k % 2) * 0.5 + 0.02, (k // 2) * 0.5 + 0.36, 0.46, 0.12) for k in range(4)]
    return dict(
        id="portfolio-stages",
        name="Four stages of a portfolio",
        files={"image.png": (im, S.take())},
        layout="four-panel",
        keywords=["stages", "portfolio", "grief", "escalation", "down bad", "skull"],
        tags=["escalation", "crypto", "loss"],
        examples=[["+10%", "-20%", "-60%", "-95%"], ["it's a dip", "it's a correction", "it's a bear market", "it's over"]],
        text=boxes,
    )


@template
def participation_trophy(S):
    W = 800
    im = radial(W, W, "#24407a", "#070d1f", 0.5, 0.5, 0.8)
    S.drawn()
    rnd = random.Random(21)
    d = ImageDraw.Draw(im)
    for _ in range(120):  # confetti
        x, y = rnd.uniform(0, W), rnd.uniform(0, W)
        col = rnd.choice(["#ffd166", "#ef476f", "#06d6a0", "#118ab2", "#ffffff"])
        a = rnd.uniform(0, 3.14)
        dx, dy = 9 * math.cos(a), 9 * math.sin(a)
        d.line([(x - dx, y - dy), (x + dx, y + dy)], fill=rgb(col), width=5)
    glow(im, 400, 420, 220, "#ffe08a", 130)
    trophy = S.clip("signs_and_symbols/awards/trophy.svg", None, 440)
    paste(im, shadow(trophy, 12), 400, 420)
    return dict(
        id="participation-trophy",
        name="Participation trophy",
        files={"image.png": (im, S.take())},
        layout="top-bottom",
        keywords=["trophy", "award", "winner", "participation", "congratulations"],
        tags=["crypto", "loss"],
        examples=[["held from the top", "all the way to the bottom"], ["award for most", "tops bought in one year"]],
        text=[top(0.18), bottom(0.18)],
    )


@template
def wen_lambo(S):
    W, H = 900, 760
    hz = 430  # horizon
    im = vgrad(W, H, "#ff7e5f", "#2b1055")
    S.drawn()
    glow(im, 450, hz, 170, "#ffd27f", 255)
    d = ImageDraw.Draw(im)
    d.ellipse([360, hz - 90, 540, hz + 90], fill=(255, 214, 128, 255))
    d.rectangle([0, hz, W, H], fill=(28, 16, 48, 255))
    d.polygon([(400, hz), (500, hz), (W + 250, H), (-250, H)], fill=(52, 40, 70, 255))
    for k in range(7):  # lane dashes, in perspective
        t0, t1 = k / 7, k / 7 + 0.07
        y0, y1 = hz + (H - hz) * t0 ** 1.6, hz + (H - hz) * t1 ** 1.6
        w0, w1 = 2 + 10 * t0, 2 + 10 * t1
        d.polygon([(450 - w0, y0), (450 + w0, y0), (450 + w1, y1), (450 - w1, y1)], fill=(255, 220, 120, 255))
    car = S.clip("recreation/sports/sportcar_sergio_luiz_ara_01.svg", 540)
    paste(im, shadow(car, 8, (0, 10), 160), 450, 535)
    return dict(
        id="wen-lambo",
        name="Wen lambo",
        files={"image.png": (im, S.take())},
        layout="top-bottom",
        keywords=["lambo", "car", "wen lambo", "rich", "sports car", "gains"],
        tags=["crypto", "win"],
        examples=[["wen lambo?", "ser, it's been three years"], ["bought a lambo", "with my unrealized gains"]],
        text=[top(0.18), bottom(0.15)],
    )


@template
def hodl_lock(S):
    W = 800
    im = radial(W, W, "#ffe9a8", "#c98a12", 0.5, 0.5, 0.8)
    S.drawn()
    pig = S.clip("signs_and_symbols/money/piggybank.svg", 520)
    paste(im, shadow(pig, 12), 400, 420)
    chain = S.clip("signs_and_symbols/chain_nicu_buculei_01.svg", None, 200)
    for k, x in enumerate([180, 300, 500, 620]):
        paste(im, chain, x, 470, 90 + (15 if k % 2 else -15))
    lock = S.clip("tools/padlock_aj_ashton_01.svg", None, 240)
    paste(im, shadow(lock, 8), 400, 500)
    return dict(
        id="hodl-lock",
        name="HODL",
        files={"image.png": (im, S.take())},
        layout="top-bottom",
        keywords=["hodl", "hold", "locked", "savings", "piggy bank", "never sell"],
        tags=["crypto", "hodl"],
        examples=[["HODL", "can't sell if you lose the password"], ["my coins", "locked until they're worth something"]],
        text=[top(0.18), bottom(0.18)],
    )


@template
def counting_gains(S):
    W, H = 800, 620
    scene = radial(W, H, "#fff7e0", "#e8cf9b", 0.5, 0.6, 0.8)
    S.drawn()
    man = S.clip("people/rich_young_man_counting_01.svg", None, 520)
    paste(scene, man, W / 2, H / 2 + 20)
    im = with_header(scene, 210)
    return dict(
        id="counting-gains",
        name="Counting the gains",
        files={"image.png": (im, S.take())},
        layout="reaction",
        keywords=["counting", "gains", "rich", "money", "coins", "unrealized"],
        tags=["reaction", "win"],
        examples=[["me counting my unrealized gains for the 40th time today"], ["calculating how rich I'd be if I had sold at the top"]],
        text=[header(210 / im.height)],
    )


@template
def shill_megaphone(S):
    W, H = 900, 650
    im = radial(W, H, "#ffef7a", "#ff8c1a", 0.7, 0.45, 0.8)
    S.drawn()
    burst = S.clip("shapes/callouts/stared.svg", 560)
    bx, by = 590, 270
    paste(im, burst, bx, by)
    mega = S.clip("office/megaphone_nicu_buculei_01.svg", None, 300)
    paste(im, shadow(mega, 8), 200, 430, -20)
    # the calm middle of the burst, for the shout
    sx, sy = burst.width * 0.52, burst.height * 0.42
    return dict(
        id="shill-megaphone",
        name="Shill megaphone",
        files={"image.png": (im, S.take())},
        layout="label",
        keywords=["shill", "megaphone", "announce", "buy now", "promo", "influencer"],
        tags=["crypto", "label"],
        examples=[["BUY $FROG NOW", "me, 3 followers"], ["this is not financial advice", "financial advice"]],
        text=[
            label((bx - sx / 2) / W, (by - sy / 2 - 10) / H, sx / W, sy / H, color="#111111", outline="", max_lines=3),
            label(0.03, 0.83, 0.5, 0.14),
        ],
    )


def draw_screen_device(im, rect, bezel="#1b1d22"):
    """A flat TV/monitor: bezel with rounded corners and a stand under it; returns the screen rect."""
    x0, y0, x1, y1 = rect
    d = ImageDraw.Draw(im)
    cx = (x0 + x1) / 2
    d.polygon([(cx - 60, y1), (cx + 60, y1), (cx + 110, y1 + 60), (cx - 110, y1 + 60)], fill=rgb("#2c2f36"))
    d.rounded_rectangle([x0, y0, x1, y1], radius=24, fill=rgb(bezel))
    return (x0 + 22, y0 + 22, x1 - 22, y1 - 22)


@template
def breaking_news(S):
    W, H = 900, 700
    im = vgrad(W, H, "#3b3f4a", "#16181d")
    S.drawn()
    sx0, sy0, sx1, sy1 = draw_screen_device(im, (60, 40, 840, 580))
    screen = vgrad(sx1 - sx0, sy1 - sy0, "#10141c", "#0a0c10")
    draw_grid(screen, (0, 0, screen.width, screen.height))
    bars = path_series(14, [(0, 100), (0.55, 112), (0.7, 104), (1, 30)], 40, 0.02)
    draw_candles(screen, (20, 20, screen.width - 20, screen.height - 130), bars)
    d = ImageDraw.Draw(screen)
    d.rectangle([0, screen.height - 110, screen.width, screen.height], fill=rgb("#c0161b"))
    d.rectangle([0, screen.height - 110, 150, screen.height], fill=rgb("#14161b"))
    d.ellipse([55, screen.height - 75, 95, screen.height - 35], fill=rgb("#ff3b30"))  # "live" dot
    d.ellipse([45, screen.height - 85, 105, screen.height - 25], outline=rgb("#ff3b30"), width=3)
    im.alpha_composite(screen, (sx0, sy0))
    return dict(
        id="breaking-news",
        name="Breaking news",
        files={"image.png": (im, S.take())},
        layout="label",
        keywords=["news", "breaking", "tv", "headline", "crash", "announcement"],
        tags=["crypto", "label", "loss"],
        examples=[["BREAKING: local man buys the top again", "analysts: nobody could have seen this coming"], ["dev wallet sells everything", "holders: it's a healthy correction"]],
        text=[
            label((sx0 + 160) / W, (sy1 - 104) / H, (sx1 - sx0 - 175) / W, 98 / H, max_lines=2, align="left"),
            box(0.03, 0.885, 0.94, 0.105),
        ],
    )


@template
def chart_monitor(S):
    W, H = 900, 680
    scene = vgrad(W, H, "#2d3340", "#0e1116")
    S.drawn()
    sx0, sy0, sx1, sy1 = draw_screen_device(scene, (90, 40, 810, 540))
    screen = vgrad(sx1 - sx0, sy1 - sy0, "#131722", "#0b0e15")
    draw_grid(screen, (0, 0, screen.width, screen.height))
    bars = walk(31, 60, 0.0, 0.03)
    draw_candles(screen, (14, 14, screen.width - 14, screen.height - 14), bars)
    scene.alpha_composite(screen, (sx0, sy0))
    glow(scene, W / 2, 300, 300, "#4a7bd1", 40)
    im = with_header(scene, 200)
    return dict(
        id="chart-monitor",
        name="Staring at the chart",
        files={"image.png": (im, S.take())},
        layout="reaction",
        keywords=["chart", "screen", "1m", "staring", "monitor", "trading"],
        tags=["reaction", "crypto"],
        examples=[["me watching 1-minute candles at 3am like I can change them"], ["when you said 'just one more look' two hours ago"]],
        text=[header(200 / im.height)],
    )


def space_bg(W, H, seed, top="#0b1033", bottom="#000000", n=260):
    im = vgrad(W, H, top, bottom)
    starfield(im, seed, n)
    return im


@template
def dog_rocket(S):
    W = 800
    im = space_bg(W, W, 41)
    S.drawn()
    moon = S.clip("science/astronomy/full_moon_dan_gerhards_01.svg", 260)
    glow(im, 650, 150, 150, "#fff5cc", 90)
    paste(im, moon, 650, 150)
    rocket = S.emoji("rocket", 380)
    paste(im, rocket, 340, 480)
    dog = S.emoji("dog-face", 200)
    paste(im, dog, 300, 420, -10)
    return dict(
        id="dog-rocket",
        name="Dog on a rocket",
        files={"image.png": (im, S.take())},
        layout="top-bottom",
        keywords=["dog", "rocket", "moon", "pump", "dog coin", "space"],
        tags=["crypto", "win", "animals"],
        examples=[["my dog coin", "on its way to the moon"], ["one tweet", "and the dog is in orbit"]],
        text=[top(0.18), bottom(0.18)],
    )


@template
def frog_pump(S):
    W = 800
    im = radial(W, W, "#1f5130", "#07140c", 0.5, 0.55, 0.85)
    S.drawn()
    draw_grid(im, (0, 0, W, W), nx=10, ny=10)
    bars = path_series(5, [(0, 10), (0.4, 14), (0.7, 30), (1, 95)], 40, 0.035)
    faint = Image.new("RGBA", im.size, (0, 0, 0, 0))
    draw_candles(faint, (20, 150, 780, 650), bars)
    faint.putalpha(faint.getchannel("A").point(lambda a: a * 120 // 255))
    im.alpha_composite(faint)
    frog = S.emoji("frog", 420)
    paste(im, shadow(frog, 14), 400, 440)
    return dict(
        id="frog-pump",
        name="Frog pump",
        files={"image.png": (im, S.take())},
        layout="top-bottom",
        keywords=["frog", "pump", "green", "gains", "up only"],
        tags=["crypto", "win", "animals"],
        examples=[["when the frog coin", "does a 10x overnight"], ["me after one green candle", "I'm a genius"]],
        text=[top(0.18), bottom(0.18)],
    )


@template
def exploding_head(S):
    W, H = 800, 620
    scene = radial(W, H, "#ffd6a5", "#e4572e", 0.5, 0.55, 0.8)
    S.drawn()
    paste(scene, shadow(S.emoji("exploding-head", 430), 12), W / 2, H / 2 + 10)
    im = with_header(scene, 210)
    return dict(
        id="exploding-head",
        name="Mind blown",
        files={"image.png": (im, S.take())},
        layout="reaction",
        keywords=["mind blown", "exploding head", "shock", "wow", "surprise"],
        tags=["reaction"],
        examples=[["when the 'stablecoin' loses its peg"], ["finding out the fees were 3% per trade"]],
        text=[header(210 / im.height)],
    )


@template
def money_printer(S):
    W, H = 900, 750
    im = radial(W, H, "#e6f4ea", "#8fc79a", 0.4, 0.6, 0.8)
    S.drawn()
    printer = S.clip("computer/hardware/printer_nicu_buculei_01.svg", 440)
    paste(im, shadow(printer, 12), 300, 460)
    bill = S.emoji("money-with-wings", 150)
    rnd = random.Random(9)
    for (x, y) in [(560, 300), (700, 200), (820, 330), (650, 420), (790, 110), (520, 150)]:
        paste(im, bill, x, y, rnd.uniform(-30, 30))
    return dict(
        id="money-printer",
        name="Money printer",
        files={"image.png": (im, S.take())},
        layout="label",
        keywords=["money printer", "brrr", "inflation", "print", "cash"],
        tags=["crypto", "label"],
        examples=[["money printer go brrr", "central bank", "your savings"], ["new token launch", "devs", "liquidity"]],
        text=[box(0.03, 0.02, 0.94, 0.14), label(0.06, 0.83, 0.52, 0.13), label(0.58, 0.62, 0.4, 0.13)],
    )


@template
def rekt_skull(S):
    W = 800
    im = radial(W, W, "#5c0f12", "#120203", 0.5, 0.5, 0.8)
    S.drawn()
    bars = path_series(17, [(0, 90), (0.5, 100), (0.62, 60), (1, 8)], 40, 0.04)
    faint = Image.new("RGBA", im.size, (0, 0, 0, 0))
    draw_candles(faint, (20, 140, 780, 660), bars)
    faint.putalpha(faint.getchannel("A").point(lambda a: a * 90 // 255))
    im.alpha_composite(faint)
    skull = S.clip("signs_and_symbols/hazard/cute_skull_fredrik_holmq_01.svg", None, 420)
    paste(im, shadow(skull, 14), 400, 420)
    return dict(
        id="rekt-skull",
        name="Rekt",
        files={"image.png": (im, S.take())},
        layout="top-bottom",
        keywords=["rekt", "liquidated", "dead", "skull", "loss", "crash"],
        tags=["crypto", "loss"],
        examples=[["100x long", "rekt"], ["opened a position", "it's in a better place now"]],
        text=[top(0.18), bottom(0.18)],
    )


@template
def buy_the_dip(S):
    W, H = 1000, 720
    im = vgrad(W, H, "#131722", "#0b0e15")
    S.drawn()
    draw_grid(im, (0, 0, W, H))
    bars = path_series(23, [(0, 80), (0.25, 96), (0.42, 62), (0.5, 70), (0.62, 50), (0.82, 18), (1, 24)], 50, 0.025)
    rect = (30, 140, 970, 520)
    pts = draw_candles(im, rect, bars)
    lo, hi = min(b[2] for b in bars), max(b[1] for b in bars)
    ylow = lambda i: rect[3] - (bars[i][2] - lo) / (hi - lo) * (rect[3] - rect[1])
    i1 = min(range(15, 24), key=lambda i: bars[i][2])  # the first dip
    i2 = min(range(len(bars)), key=lambda i: bars[i][2])  # the real bottom
    x1, y1 = pts[i1][0], ylow(i1)
    x2, y2 = pts[i2][0], ylow(i2)
    cart = S.emoji("shopping-cart", 100)
    paste(im, cart, x1, y1 + 60)
    d = ImageDraw.Draw(im)
    d.polygon([(x2, y2 + 8), (x2 - 18, y2 + 40), (x2 + 18, y2 + 40)], fill=rgb("#ffd166"))
    return dict(
        id="buy-the-dip",
        name="Buy the dip",
        files={"image.png": (im, S.take())},
        layout="label",
        keywords=["buy the dip", "dip", "btfd", "catching a falling knife", "bottom"],
        tags=["crypto", "label", "loss"],
        examples=[["buying the dip", "me", "the actual dip"], ["'the bottom is in'", "my entry", "the bottom"]],
        text=[
            box(0.03, 0.02, 0.94, 0.15),
            label(max(0.01, x1 / W - 0.15), (y1 + 115) / H, 0.3, 0.11),
            label(min(0.69, x2 / W - 0.15), (y2 + 48) / H, 0.3, 0.11),
        ],
    )


@template
def expectation_reality(S):
    W, H = 800, 900
    im = Image.new("RGBA", (W, H))
    S.drawn()
    half = H // 2
    for k, (bars, c0, c1) in enumerate([
        (path_series(4, [(0, 20), (0.5, 40), (1, 100)], 36, 0.03), "#123d2a", "#07150e"),
        (path_series(6, [(0, 60), (0.3, 68), (0.45, 35), (1, 6)], 36, 0.04), "#4a1216", "#140405"),
    ]):
        p = vgrad(W, half, c0, c1)
        draw_grid(p, (0, 0, W, half))
        draw_candles(p, (30, 110, W - 30, half - 25), bars)
        im.alpha_composite(p, (0, k * half))
    ImageDraw.Draw(im).line([(0, half), (W, half)], fill=(0, 0, 0), width=8)
    return dict(
        id="expectation-reality",
        name="Expectation vs reality",
        files={"image.png": (im, S.take())},
        layout="two-panel",
        keywords=["expectation", "reality", "vs", "compare", "plan"],
        tags=["comparison", "crypto"],
        examples=[["expectation", "reality"], ["my plan when I bought", "what actually happened"]],
        text=[box(0.03, 0.01, 0.94, 0.11), box(0.03, 0.51, 0.94, 0.11)],
    )


@template
def moon_arrival(S):
    W = 800
    im = space_bg(W, W, 77, "#05081c", "#000000", 320)
    S.drawn()
    glow(im, 560, 560, 330, "#fff1c1", 70)
    moon = S.clip("science/astronomy/the_moon_dan_gerhards_01.svg", 560)
    paste(im, moon, 560, 560)
    return dict(
        id="moon-arrival",
        name="We made it to the moon",
        files={"image.png": (im, S.take())},
        layout="top-bottom",
        keywords=["moon", "arrived", "to the moon", "space", "ath", "wagmi"],
        tags=["crypto", "win"],
        examples=[["we made it", "to the moon"], ["PEPE holders", "landing on the moon"]],
        text=[top(0.19), box(0.03, 0.8, 0.6, 0.18, align="left")],
        overlay=[dict(emoji="🚀", x=0.2, y=0.45, scale=0.18, angle=45.0)],
    )


@template
def bear_hibernate(S):
    W = 800
    im = space_bg(W, W, 13, "#0a1a3f", "#02050f", 200)
    S.drawn()
    scene = S.clip("animals/mammals/bears/sleeping_bear_under_sta_01.svg", 520)
    paste(im, shadow(scene, 16, (0, 10), 160), 400, 410)
    return dict(
        id="bear-hibernate",
        name="Bear market hibernation",
        files={"image.png": (im, S.take())},
        layout="top-bottom",
        keywords=["bear market", "sleep", "hibernate", "wait", "winter"],
        tags=["crypto", "loss", "animals"],
        examples=[["bear market", "see you in two years"], ["me after checking my portfolio", "wake me up when it's green"]],
        text=[top(0.16), bottom(0.16)],
    )


@template
def fireworks_ath(S):
    W = 800
    im = vgrad(W, W, "#05030f", "#151a3a")
    S.drawn()
    fw = S.clip("recreation/party/fireworks__ganson.svg", 420)
    black = fw.convert("RGB").convert("L").point(lambda v: 255 if v > 40 else 0)  # drop its black sky
    fw.putalpha(Image.composite(fw.getchannel("A"), Image.new("L", fw.size, 0), black))
    for (x, y, s, a) in [(220, 220, 380, 0), (580, 180, 320, 20), (660, 430, 240, -10)]:
        paste(im, fit(fw, s, s), x, y, a)
    bars = path_series(2, [(0, 30), (0.5, 45), (0.8, 60), (1, 100)], 40, 0.02)
    draw_candles(im, (30, 470, 770, 700), bars)
    return dict(
        id="fireworks-ath",
        name="New all-time high",
        files={"image.png": (im, S.take())},
        layout="top-bottom",
        keywords=["ath", "all time high", "fireworks", "celebrate", "party", "pump"],
        tags=["crypto", "win"],
        examples=[["new all-time high", "I sold last week"], ["ATH!!!", "(I bought at the previous one)"]],
        text=[top(0.18), bottom(0.12)],
    )


@template
def thumbs_up_crash(S):
    W, H = 800, 620
    scene = vgrad(W, H, "#2a0b0d", "#0d0304")
    S.drawn()
    draw_grid(scene, (0, 0, W, H))
    bars = path_series(19, [(0, 100), (0.3, 104), (0.5, 60), (1, 15)], 40, 0.035)
    draw_candles(scene, (20, 20, W - 20, H - 20), bars)
    thumb = S.clip("people/bodypart/thumbs_up_nathan_eady_01.svg", None, 400)
    paste(scene, shadow(thumb, 12), W / 2, H / 2 + 30)
    im = with_header(scene, 200)
    return dict(
        id="thumbs-up-crash",
        name="Everything is fine",
        files={"image.png": (im, S.take())},
        layout="reaction",
        keywords=["fine", "thumbs up", "ok", "crash", "cope", "in it for the tech"],
        tags=["reaction", "loss", "cope"],
        examples=[["it's fine, I'm in it for the tech"], ["my portfolio: -80%. me: great buying opportunity"]],
        text=[header(200 / im.height)],
    )


@template
def sleeping_cat_hodl(S):
    W, H = 800, 640
    im = radial(W, H, "#fbe3c4", "#b07a4a", 0.5, 0.6, 0.8)
    S.drawn()
    d = ImageDraw.Draw(im)
    d.ellipse([120, 380, 680, 600], fill=rgb("#7a3e2b"))  # cushion
    d.ellipse([140, 370, 660, 570], fill=rgb("#a4543a"))
    cat = S.clip("animals/mammals/housecats/sleeping_cat_ron_golan_01.svg", 460)
    paste(im, cat, 400, 420)
    return dict(
        id="sleeping-cat-hodl",
        name="Sleeping through it",
        files={"image.png": (im, S.take())},
        layout="top-bottom",
        keywords=["sleep", "cat", "hodl", "calm", "ignore", "zzz"],
        tags=["crypto", "hodl", "animals"],
        examples=[["market crashes 30%", "long-term holder:"], ["deleted the app", "best trade I ever made"]],
        text=[top(0.2), bottom(0.16)],
    )


@template
def hourglass_soon(S):
    W = 800
    im = radial(W, W, "#e9f0ff", "#7d8fb8", 0.5, 0.5, 0.8)
    S.drawn()
    hg = S.clip("office/clessidra_architetto_fra_01.svg", None, 470)
    paste(im, shadow(hg, 12), 400, 410)
    return dict(
        id="hourglass-soon",
        name="Soon",
        files={"image.png": (im, S.take())},
        layout="top-bottom",
        keywords=["soon", "wen", "waiting", "time", "hourglass", "roadmap"],
        tags=["crypto", "cope"],
        examples=[["wen mainnet?", "soon"], ["the roadmap said Q1", "it did not say which year"]],
        text=[top(0.18), bottom(0.16)],
    )


@template
def thinking_chair(S):
    W, H = 800, 600
    scene = radial(W, H, "#f4f1ea", "#c9c2b0", 0.5, 0.5, 0.8)
    S.drawn()
    man = S.clip("people/man_in_chair_-_thinking_01.svg", 520)
    paste(scene, man, W / 2, H / 2 + 20)
    im = with_header(scene, 210)
    return dict(
        id="thinking-chair",
        name="Deep thoughts",
        files={"image.png": (im, S.take())},
        layout="reaction",
        keywords=["thinking", "hmm", "deciding", "ponder", "chair"],
        tags=["reaction"],
        examples=[["me deciding whether to sell at -90% or wait for -99%"], ["if I never sell, it's not a loss"]],
        text=[header(210 / im.height)],
    )


# ==================================================================================================
# Charts drawn from the bundled real candles (MIT data)
# ==================================================================================================


def span(win) -> str:
    from datetime import datetime, timezone

    a, b = (datetime.fromtimestamp(win[i][0] / 1000, timezone.utc) for i in (0, -1))
    if a.month == b.month:
        return f"{a.day}-{b.day} {a:%B %Y}"
    return f"{a.day} {a:%B} - {b.day} {b:%B %Y}"


def pct(ratio: float) -> str:
    return f"{(ratio - 1) * 100:+.0f}%"


def chart_caption(S, base, interval, n, score, title_band=200, W=1000, H=760, up=UP, down=DOWN, sticker=None, band=None):
    rows = S.candles(base, interval)
    win = window(rows, n, score)
    S.candle_component(base, interval, win[0][0], win[-1][0])
    S.drawn()
    ch = vgrad(W, H - title_band, "#131722", "#0b0e15")
    draw_grid(ch, (0, 0, W, H - title_band))
    lo = hi = None
    if band:  # show the window on a fixed +-band scale around its mean (so flat looks flat)
        mid = sum(r[4] for r in win) / len(win)
        lo, hi = mid * (1 - band), mid * (1 + band)
    pts = draw_candles(ch, (24, 24, W - 24, H - title_band - 24), [r[1:] for r in win], up, down, lo=lo, hi=hi)
    if sticker:
        sticker(ch, pts)
    return with_header(ch, title_band), win


@template
def chart_pepe_pump(S):
    im, win = chart_caption(S, "PEPE", "1h", 96, lambda w: w[-1][4] / w[0][1])
    return dict(
        id="chart-pepe-pump",
        name="PEPE pump (real chart)",
        files={"image.png": (im, S.take())},
        layout="chart-caption",
        keywords=["pepe", "pump", "chart", "green", "candles", "up only"],
        tags=["chart", "crypto", "win"],
        examples=[[f"PEPE, {span(win)}: {pct(win[-1][4] / win[0][1])} in four days (real chart). I was watching from the sidelines."], ["when you finally sell and it does this"]],
        text=[header(200 / im.height)],
    )


@template
def chart_doge_dump(S):
    im, _ = chart_caption(S, "DOGE", "1h", 96, lambda w: w[0][1] / w[-1][4])
    return dict(
        id="chart-doge-dump",
        name="DOGE dump (real chart)",
        files={"image.png": (im, S.take())},
        layout="chart-caption",
        keywords=["doge", "dump", "crash", "chart", "red", "candles"],
        tags=["chart", "crypto", "loss"],
        examples=[["\"it can't go lower\", me at every candle of this chart"], ["bought the first dip. and the second. and the third."]],
        text=[header(200 / im.height)],
    )


@template
def chart_crab_market(S):
    def crabs(ch, pts):
        crab = S.emoji("crab", 110)
        for k, f in enumerate([0.2, 0.5, 0.8]):
            x = ch.width * f
            paste(ch, crab, x, ch.height - 80, [-8, 6, -4][k])

    # the calmest 4 days of BTC: smallest range relative to price
    im, _ = chart_caption(S, "BTC", "1h", 96, lambda w: -(max(r[2] for r in w) / min(r[3] for r in w)), sticker=crabs, band=0.06)
    return dict(
        id="chart-crab-market",
        name="Crab market (real chart)",
        files={"image.png": (im, S.take())},
        layout="chart-caption",
        keywords=["crab", "sideways", "flat", "boring", "range", "chop"],
        tags=["chart", "crypto"],
        examples=[["four days of BTC going absolutely nowhere (real chart)"], ["me waiting for a breakout like"]],
        text=[header(200 / im.height)],
    )


@template
def chart_rollercoaster(S):
    def score(w):  # big swings both ways, ending about where it started
        hi, lo = max(r[2] for r in w), min(r[3] for r in w)
        return hi / lo - 3 * abs(w[-1][4] / w[0][1] - 1)

    im, win = chart_caption(S, "WIF", "1h", 120, score)
    lo_i = min(range(len(win)), key=lambda i: win[i][3])
    hi_i = max(range(len(win)), key=lambda i: win[i][2])
    moves = [pct(win[lo_i][3] / win[0][1]), pct(win[hi_i][2] / win[lo_i][3])] if lo_i < hi_i else [pct(win[hi_i][2] / win[0][1]), pct(win[lo_i][3] / win[hi_i][2])]
    return dict(
        id="chart-rollercoaster",
        name="Rollercoaster (real chart)",
        files={"image.png": (im, S.take())},
        layout="chart-caption",
        keywords=["rollercoaster", "volatility", "wif", "up and down", "chart", "whipsaw"],
        tags=["chart", "crypto"],
        examples=[[f"WIF, {span(win)}: {moves[0]}, then {moves[1]}, then right back where it started (real chart). I got stopped out both ways."], ["my emotions this week"]],
        text=[header(200 / im.height)],
    )


# ==================================================================================================
# Animated GIFs (drawn frame by frame)
# ==================================================================================================


@template
def rocket_launch_gif(S):
    W = H = 480
    N = 40
    bg = vgrad(W, H, "#0b1033", "#000000")
    S.drawn()
    moon = S.clip("science/astronomy/full_moon_dan_gerhards_01.svg", 150)
    rocket = trim(S.clip("transportation/vehicles/rocket.svg", None, 150))
    rocket = rocket.rotate(-45, resample=Image.BICUBIC, expand=True)  # the clip art flies up-left; point it up
    starfield(bg, 99, 160)
    glow(bg, 380, 95, 90, "#fff5cc", 110)
    paste(bg, fit(moon, 150, 150), 380, 95)
    rnd = random.Random(99)
    frames = []
    for i in range(N):
        t = i / (N - 1)
        f = bg.copy()
        x, y = 150 + 120 * t, 400 - 250 * t ** 1.4
        d = ImageDraw.Draw(f)
        for k in range(5):  # speed lines behind the rocket
            off = (k - 2) * 14
            ln = 40 + 25 * ((i + k) % 3)
            d.line([(x - 22 + off - 0.45 * ln, y + 80 + ln), (x - 22 + off, y + 80)], fill=(200, 210, 255, 255), width=2)
        paste(f, rocket, x, y)
        frames.append(f)
    return dict(
        id="rocket-launch-gif",
        name="Rocket launch (animated)",
        files={"image.gif": (frames, S.take())},
        gif_duration=70,
        layout="other",
        keywords=["rocket", "moon", "launch", "animated", "gif", "pump"],
        tags=["crypto", "win", "animated"],
        examples=[["me after buying", "next stop: the moon"], ["PEPE", "wait for it..."]],
        text=[box(0.03, 0.02, 0.94, 0.2, stop=0.6), box(0.03, 0.78, 0.94, 0.2, start=0.45)],
    )


@template
def chart_pump_gif(S):
    W, H = 480, 400
    rows = S.candles("PEPE", "1h")
    win = window(rows, 48, lambda w: w[-1][4] / w[0][1])
    S.candle_component("PEPE", "1h", win[0][0], win[-1][0])
    S.drawn()
    bars = [r[1:] for r in win]
    lo, hi = min(b[2] for b in bars), max(b[1] for b in bars)
    bg = vgrad(W, H, "#131722", "#0b0e15")
    draw_grid(bg, (0, 0, W, H), nx=6, ny=5)
    frames = []
    N = 48
    for i in range(N):
        f = bg.copy()
        draw_candles(f, (12, 90, W - 12, H - 12), bars[: i + 1], lo=lo, hi=hi, slots=len(bars))
        frames.append(f)
    frames += [frames[-1]] * 8  # hold the last frame
    return dict(
        id="chart-pump-gif",
        name="Chart pumping (animated, real PEPE)",
        files={"image.gif": (frames, S.take())},
        gif_duration=80,
        layout="chart-caption",
        keywords=["chart", "pump", "animated", "gif", "pepe", "green candles"],
        tags=["chart", "crypto", "win", "animated"],
        examples=[["me refreshing the chart", "it keeps going"], [f"PEPE, {span(win)}", f"{pct(win[-1][4] / win[0][1])} in 48 hours, real candles"]],
        text=[box(0.03, 0.02, 0.94, 0.19), box(0.4, 0.76, 0.57, 0.2, start=0.75, align="right")],
    )


@template
def chart_crash_gif(S):
    W, H = 480, 400
    S.drawn()
    up = path_series(30, [(0, 40), (1, 80)], 30, 0.02)
    last = up[-1][3]
    crash = [(last, last * 1.01, last * 0.55, last * 0.58), (last * 0.58, last * 0.62, last * 0.3, last * 0.33), (last * 0.33, last * 0.36, last * 0.12, last * 0.14)]
    bars = up + crash
    lo, hi = min(b[2] for b in bars), max(b[1] for b in bars)
    bg = vgrad(W, H, "#131722", "#0b0e15")
    draw_grid(bg, (0, 0, W, H), nx=6, ny=5)
    skull = S.emoji("skull", 150)
    frames = []
    for i in range(len(bars)):
        f = bg.copy()
        draw_candles(f, (12, 90, W - 12, H - 12), bars[: i + 1], lo=lo, hi=hi, slots=len(bars))
        frames.append(f)
        if i >= len(up):  # a red flash on every crash candle
            fl = f.copy()
            fl.alpha_composite(Image.new("RGBA", (W, H), (234, 57, 67, 90)))
            frames += [fl, f]
    end = frames[-1].copy()
    end.alpha_composite(Image.new("RGBA", (W, H), (60, 0, 0, 110)))
    paste(end, skull, W / 2, H / 2 + 30)
    frames += [end] * 10
    return dict(
        id="chart-crash-gif",
        name="Chart crash (animated)",
        files={"image.gif": (frames, S.take())},
        gif_duration=90,
        layout="chart-caption",
        keywords=["crash", "dump", "animated", "gif", "rekt", "liquidation", "rug"],
        tags=["chart", "crypto", "loss", "animated"],
        examples=[["me: all in at the top", "the market:"], ["everything is going great", "rug pulled"]],
        text=[box(0.03, 0.02, 0.94, 0.19, stop=0.7), box(0.03, 0.02, 0.94, 0.19, start=0.7)],
    )


# ==================================================================================================
# Driver
# ==================================================================================================


def source_line(comps: list[Component]) -> str:
    parts = []
    for c in comps:
        if c.package.startswith("scripts/templates"):
            parts.append("drawn by scripts/templates/build.py (MIT)")
        elif c.package.startswith("assets/market"):
            parts.append(f"{c.what} ({c.path}, MIT)")
        else:
            parts.append(f"{c.what} ({c.package}: {c.path}; {c.license})")
    return "; ".join(dict.fromkeys(parts))


def build(out: Path, cache: Path, only: set[str] | None) -> list[dict]:
    S = lib.Sources(cache)
    results = []
    for fn in TEMPLATES:
        if only and fn.__name__.replace("_", "-") not in only:
            continue
        S.cur = []
        t = fn(S)
        tid = t["id"]
        assert tid == fn.__name__.replace("_", "-"), (tid, fn.__name__)
        d = out / tid
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        all_comps, files = [], {}
        for fname, (img, comps) in t["files"].items():
            if fname.endswith(".gif"):
                lib.save_gif(img, d / fname, t.get("gif_duration", 80))
            else:
                lib.save_image(img, d / fname)
            files[fname] = comps
            all_comps += [c for c in comps if c not in all_comps]
        main = next(f for f in t["files"] if f.startswith("image."))
        meta = dict(
            name=t["name"],
            image=main,
            keywords=t["keywords"],
            tags=t["tags"],
            examples=t["examples"],
            layout=t["layout"],
            source=source_line(all_comps),
            license=combined_license(all_comps),
            text=t["text"],
        )
        if t.get("overlay"):
            meta["overlay"] = t["overlay"]
        lib.write_toml(d / "template.toml", meta)
        results.append(dict(id=tid, files=files, meta=meta))
        print(f"{tid:28s} {meta['license']:14s} {sum((d / f).stat().st_size for f in files) / 1024:7.0f} KiB", file=sys.stderr)
    return results


def write_attribution(out: Path, results: list[dict]) -> None:
    L = [
        "# Starter meme templates: where every image comes from",
        "",
        "Generated by `scripts/templates/build.py` (do not edit by hand; rebuild with",
        "`scripts/templates/build.sh`). Every image file under `assets/templates/` is listed with each",
        "of its parts: the package it comes from (registry, name and version), the file inside that",
        "package, and its licence. A template's `license` field is the most restrictive licence among",
        "its parts (public-domain < CC0-1.0 < MIT < Apache-2.0).",
        "",
        "## Sources",
        "",
        "| package | registry | version | licence | where the licence is stated |",
        "|---|---|---|---|---|",
        f"| `openclipart-svg` | Debian 12 (bookworm) | {sources.BY_KEY['openclipart'].version} | public domain | each file's RDF metadata (`cc:license` = `http://web.resource.org/cc/PublicDomain`, checked by the build for every file used) and `/usr/share/doc/openclipart-svg/copyright` (Creative Commons Public Domain Dedication) |",
        f"| `@iconify-json/noto` (Google's Noto Emoji artwork as SVG) | npm | {sources.BY_KEY['noto'].version} | Apache-2.0 | `package.json` (`\"license\": \"Apache-2.0\"`) and `info.json` (`license.spdx`), upstream googlefonts/noto-emoji `svg/LICENSE`; full text in [LICENSE-Apache-2.0.txt](LICENSE-Apache-2.0.txt) |",
        f"| `scikit-image` (sample data in `skimage/data/`) | PyPI | {sources.BY_KEY['skimage'].version} | per image: CC0-1.0 or public domain | the docstring of each image's loader in `skimage/data/_fetchers.py` (quoted below; checked by the build) |",
        "| `assets/market/candles/*.csv.gz` | this repository | — | MIT | real Binance candles, see [assets/market/PROVENANCE.md](../market/PROVENANCE.md) |",
        "| drawings made in code | this repository | — | MIT | `scripts/templates/*.py`, the repository's `LICENSE` |",
        "",
        "Images we deliberately did not use: scikit-image's `astronaut.png` and `camera.png` (public",
        "domain / CC0 photos, but of identifiable real people), `coins.png` (\"no known copyright",
        "restrictions\" only), `moon.png`, `page.png`, `text.png`, `logo.png` and others without an",
        "explicit licence statement; openclipart files whose metadata names another licence or none,",
        "and clip art depicting brands, logos, real people or well-known characters.",
        "",
        "Noto Emoji is © Google Inc., licensed under the Apache License, Version 2.0; the emoji in these",
        "images are rendered from its SVGs, some recoloured (the \"paper hands\"). The `emoji = \"…\"`",
        "overlays in some `template.toml` files are not image files: the app draws them with its own",
        "bundled colour emoji font.",
        "",
        "## Files",
        "",
    ]
    for r in results:
        m = r["meta"]
        L.append(f"### `{r['id']}/` — {m['name']} (`license = \"{m['license']}\"`)")
        L.append("")
        for fname, comps in r["files"].items():
            L.append(f"- `{r['id']}/{fname}`")
            for c in comps:
                where = f"`{c.path}` in {c.package}" if c.path else c.package
                L.append(f"  - {c.what}: {where}; **{c.license}**" + (f" ({c.note})" if c.note else ""))
        L.append("")
    (out / "ATTRIBUTION.md").write_text("\n".join(L), encoding="utf-8")


def write_licenses(out: Path) -> None:
    """The Apache-2.0 text the Noto Emoji artwork requires. A plain file at the library's top
    level: the loader treats every sub-folder as a template, so a LICENSES/ folder would be
    reported as a bad template."""
    src = Path("/usr/share/common-licenses/Apache-2.0")  # Debian base-files
    if not src.exists():
        raise SystemExit(f"{src} is missing (Debian's base-files ships it)")
    (out / APACHE_FILE).write_text(src.read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("TEMPLATES_CACHE", sources.DEFAULT_CACHE)))
    ap.add_argument("--out", type=Path, default=sources.REPO / "assets" / "templates")
    ap.add_argument("--only", default="", help="comma-separated ids (for quick iterations; skips ATTRIBUTION.md)")
    args = ap.parse_args()
    only = set(filter(None, args.only.split(",")))
    args.out.mkdir(parents=True, exist_ok=True)
    if not only:
        # start from a clean folder so a renamed template leaves nothing behind
        for p in args.out.iterdir():
            if p.is_dir():
                shutil.rmtree(p)
            else:
                p.unlink()
    results = build(args.out, args.cache, only or None)
    if not only:
        write_attribution(args.out, results)
        write_licenses(args.out)
    print(f"{len(results)} templates in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
