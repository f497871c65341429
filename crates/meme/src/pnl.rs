//! Memes from trades: a PnL card is a meme (a template with captions picked by the trade's
//! outcome) above a strip with the symbol, side, % gain or loss, entry and exit, and a sparkline
//! of the price over the trade.
//!
//! Outcomes ([`Outcome::of`]) by the trade's signed % change:
//! big win ≥ +20 %, small win ≥ +1 %, flat within ±1 %, small loss > −20 %, big loss ≤ −20 %.
//! Captions come from the phrase bank `crates/meme/data/phrases.toml`; the same seed gives the
//! same template and captions; the caller can pass its own captions instead.

use std::sync::OnceLock;

use image::RgbaImage;
use serde::Deserialize;
use tiny_skia::{FillRule, LineCap, LineJoin, Paint, PathBuilder, Pixmap, Stroke, Transform};

use crate::error::MemeError;
use crate::pixels;
use crate::render::{RenderOptions, RenderedMeme, Renderer};
use crate::source::ImageSource;
use crate::template::{Align, Case, Color, Library, Template, TextBox, VAlign};

/// A change of at least this many percent is a big win or a big loss.
pub const BIG_MOVE_PCT: f64 = 20.0;
/// A change within ± this many percent is flat.
pub const FLAT_PCT: f64 = 1.0;

/// Long or short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Long,
    Short,
}

impl Side {
    fn word(self) -> &'static str {
        match self {
            Side::Long => "long",
            Side::Short => "short",
        }
    }
}

/// A closed trade or an open position, as the card shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TradeSummary {
    /// e.g. `PEPEUSDT`.
    pub symbol: String,
    pub side: Side,
    /// Entry price as the app displays it (e.g. `0.00001234`).
    pub entry_price: String,
    /// Exit price (or the mark price of an open position) as displayed.
    pub exit_price: String,
    /// Entry time, ms since the Unix epoch (UTC).
    pub entry_time_ms: i64,
    /// Exit time; `None` for a position still open.
    pub exit_time_ms: Option<i64>,
    /// Signed gain in percent for this side (+42.0 = 42 % profit).
    pub change_pct: f64,
    /// Prices over the trade, oldest first (for the sparkline; may be empty).
    pub prices: Vec<f64>,
}

impl TradeSummary {
    /// The base asset (`PEPE` for `PEPEUSDT`).
    pub fn base(&self) -> &str {
        for quote in ["USDT", "USDC", "BUSD", "USD", "BTC", "ETH"] {
            if let Some(b) = self.symbol.strip_suffix(quote) {
                if !b.is_empty() {
                    return b;
                }
            }
        }
        &self.symbol
    }
}

/// How a trade went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    BigWin,
    SmallWin,
    Flat,
    SmallLoss,
    BigLoss,
}

impl Outcome {
    /// The outcome of a signed % change (see the module docs for the thresholds). A NaN is flat.
    pub fn of(change_pct: f64) -> Outcome {
        if change_pct >= BIG_MOVE_PCT {
            Outcome::BigWin
        } else if change_pct >= FLAT_PCT {
            Outcome::SmallWin
        } else if change_pct <= -BIG_MOVE_PCT {
            Outcome::BigLoss
        } else if change_pct <= -FLAT_PCT {
            Outcome::SmallLoss
        } else {
            Outcome::Flat
        }
    }

    /// The phrase bank's table name.
    pub fn key(self) -> &'static str {
        match self {
            Outcome::BigWin => "big_win",
            Outcome::SmallWin => "small_win",
            Outcome::Flat => "flat",
            Outcome::SmallLoss => "small_loss",
            Outcome::BigLoss => "big_loss",
        }
    }

    /// Template tags and keywords that suit this outcome, most fitting first.
    pub fn template_words(self) -> &'static [&'static str] {
        match self {
            Outcome::BigWin => &["moon", "rocket", "lambo", "ath", "pump", "win"],
            Outcome::SmallWin => &["win", "gains", "pump", "profit"],
            Outcome::Flat => &["crab", "sideways", "wen", "waiting", "hodl", "cope"],
            Outcome::SmallLoss => &["dip", "loss", "cope", "paper hands"],
            Outcome::BigLoss => &["rekt", "crash", "dump", "loss", "liquidated"],
        }
    }
}

/// Caption sets per outcome, with `{base}`, `{symbol}`, `{pct}` and `{side}` placeholders.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhraseBank {
    big_win: Table,
    small_win: Table,
    flat: Table,
    small_loss: Table,
    big_loss: Table,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    phrases: Vec<Vec<String>>,
}

const BUNDLED_PHRASES: &str = include_str!("../data/phrases.toml");

impl PhraseBank {
    /// The phrase bank that ships with the crate (`data/phrases.toml`).
    pub fn bundled() -> &'static PhraseBank {
        static BANK: OnceLock<PhraseBank> = OnceLock::new();
        BANK.get_or_init(|| {
            PhraseBank::parse(BUNDLED_PHRASES).expect("the bundled phrase bank parses (tested)")
        })
    }

    /// Parses a phrase bank; every outcome needs at least one phrase of 1–8 captions.
    pub fn parse(text: &str) -> Result<PhraseBank, MemeError> {
        let bank: PhraseBank = toml::from_str(text)
            .map_err(|e| MemeError::bad_input("phrases", e.to_string().replace('\n', " ")))?;
        for o in [
            Outcome::BigWin,
            Outcome::SmallWin,
            Outcome::Flat,
            Outcome::SmallLoss,
            Outcome::BigLoss,
        ] {
            let p = bank.phrases(o);
            if p.is_empty() || p.iter().any(|c| c.is_empty() || c.len() > 8) {
                return Err(MemeError::bad_input(
                    format!("phrases.{}", o.key()),
                    "needs at least one phrase of 1–8 captions",
                ));
            }
        }
        Ok(bank)
    }

    /// The phrases for an outcome.
    pub fn phrases(&self, outcome: Outcome) -> &[Vec<String>] {
        match outcome {
            Outcome::BigWin => &self.big_win.phrases,
            Outcome::SmallWin => &self.small_win.phrases,
            Outcome::Flat => &self.flat.phrases,
            Outcome::SmallLoss => &self.small_loss.phrases,
            Outcome::BigLoss => &self.big_loss.phrases,
        }
    }

    /// Captions for a trade: a phrase of its outcome picked by `seed`, placeholders filled.
    pub fn captions(&self, trade: &TradeSummary, seed: u64) -> Vec<String> {
        let list = self.phrases(Outcome::of(trade.change_pct));
        let phrase = &list[(mix(seed ^ 0x5eed) % list.len() as u64) as usize];
        let pct = format_pct(trade.change_pct);
        phrase
            .iter()
            .map(|c| {
                c.replace("{base}", trade.base())
                    .replace("{symbol}", &trade.symbol)
                    .replace("{pct}", &pct)
                    .replace("{side}", trade.side.word())
            })
            .collect()
    }
}

/// SplitMix64: a fixed, portable mixer, so a seed means the same choice everywhere.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `+42.3%`, `-7.0%`, `+250%`.
pub fn format_pct(pct: f64) -> String {
    if !pct.is_finite() {
        return "0%".to_string();
    }
    if pct.abs() >= 100.0 {
        format!("{pct:+.0}%")
    } else {
        format!("{pct:+.1}%")
    }
}

/// A template for an outcome: one whose tags or keywords match the outcome's words (any
/// template when none does), chosen by `seed`. Animated templates are skipped (a card is a
/// still). `None` only for an empty library.
pub fn pick_template(library: &Library, outcome: Outcome, seed: u64) -> Option<&Template> {
    let words = outcome.template_words();
    let stills: Vec<&Template> = library
        .templates()
        .iter()
        .filter(|t| !t.is_animated())
        .collect();
    let matching: Vec<&Template> = stills
        .iter()
        .copied()
        .filter(|t| {
            t.tags
                .iter()
                .chain(&t.keywords)
                .any(|k| words.contains(&k.to_lowercase().as_str()))
        })
        .collect();
    let pool = if matching.is_empty() {
        stills
    } else {
        matching
    };
    if pool.is_empty() {
        return None;
    }
    Some(pool[(mix(seed) % pool.len() as u64) as usize])
}

/// How to make a card.
#[derive(Debug, Clone, Default)]
pub struct PnlCardOptions {
    /// Captions for the template's boxes; `None` picks them from the phrase bank.
    pub captions: Option<Vec<String>>,
    /// Picks the phrase (and, with [`pick_template`], the template).
    pub seed: u64,
    /// Size, stickers, background of the meme part.
    pub render: RenderOptions,
}

/// A rendered PnL card.
#[derive(Debug, Clone)]
pub struct PnlCard {
    /// The card: the meme with the PnL strip below it.
    pub meme: RenderedMeme,
    /// The captions used (so the UI can show them for editing).
    pub captions: Vec<String>,
    pub outcome: Outcome,
}

const UP: Color = Color::rgb(0x2E, 0xCC, 0x71);
const DOWN: Color = Color::rgb(0xFF, 0x4D, 0x4F);
const FLAT: Color = Color::rgb(0xC8, 0xCC, 0xD2);
const STRIP: Color = Color::rgb(0x14, 0x16, 0x1A);

/// Renders a PnL card: `template` with captions (the caller's, or picked from
/// [`PhraseBank::bundled`] by outcome and seed), and below it a strip with the symbol and
/// side, the % change, entry → exit prices and times, and a sparkline of `trade.prices`.
pub fn render_pnl_card(
    renderer: &Renderer,
    template: &Template,
    trade: &TradeSummary,
    options: &PnlCardOptions,
) -> Result<PnlCard, MemeError> {
    let outcome = Outcome::of(trade.change_pct);
    let mut captions = match &options.captions {
        Some(c) => c.clone(),
        None => PhraseBank::bundled().captions(trade, options.seed),
    };
    captions.truncate(template.boxes.len());
    let meme = renderer.render(template, &captions, &options.render)?;
    let (w, h) = meme.image.dimensions();
    let strip_h = ((w as f32 * 0.30).round() as u32).max(60);
    let total_h = h + strip_h;

    let mut canvas = Pixmap::new(w, total_h)
        .ok_or_else(|| MemeError::bad_input("size", "cannot allocate the card"))?;
    canvas.fill(STRIP.to_skia());
    let meme_pix = pixels::rgba_to_pixmap(meme.image.clone())
        .ok_or_else(|| MemeError::bad_input("size", "cannot allocate the card"))?;
    crate::draw::blend(
        &mut canvas,
        &crate::draw::Layer {
            pixmap: meme_pix,
            x: 0,
            y: 0,
        },
    );
    let accent = match outcome {
        Outcome::BigWin | Outcome::SmallWin => UP,
        Outcome::Flat => FLAT,
        Outcome::SmallLoss | Outcome::BigLoss => DOWN,
    };
    let (wf, hf, sf) = (w as f32, h as f32, strip_h as f32);
    draw_sparkline(
        &mut canvas,
        &trade.prices,
        [wf * 0.56, hf + sf * 0.14, wf * 0.40, sf * 0.72],
        accent,
        wf,
    );

    let tf = total_h as f32;
    let text_box = |y: f32, height: f32, font: &str, color: Color| {
        let mut b = TextBox::new(0.04, (hf + sf * y) / tf, 0.49, sf * height / tf);
        b.align = Align::Left;
        b.valign = VAlign::Middle;
        b.font = font.to_string();
        b.color = color;
        b.outline = None;
        b.case = Case::AsTyped;
        b.max_lines = 1;
        b
    };
    let boxes = vec![
        text_box(0.08, 0.18, "dejavu-sans", Color::WHITE),
        text_box(0.28, 0.36, "anton", accent),
        text_box(0.66, 0.13, "dejavu-sans", Color::rgb(0xB8, 0xBE, 0xC6)),
        text_box(0.81, 0.11, "dejavu-sans", Color::rgb(0x8A, 0x92, 0x9C)),
    ];
    let side = match trade.side {
        Side::Long => "LONG",
        Side::Short => "SHORT",
    };
    let exit_time = trade
        .exit_time_ms
        .map_or_else(|| "open".to_string(), format_time);
    let lines = [
        format!("{} · {side}", trade.symbol),
        format_pct(trade.change_pct),
        format!("{} → {}", trade.entry_price, trade.exit_price),
        format!("{} → {exit_time}", format_time(trade.entry_time_ms)),
    ];
    let card_image: RgbaImage = pixels::pixmap_to_rgba(canvas);
    let card = Template::from_image(
        "pnl-card",
        "PnL card",
        ImageSource::Pixels {
            name: "PnL card".to_string(),
            image: std::sync::Arc::new(card_image),
        },
        boxes,
        renderer.limits(),
    )?;
    let strip_options = RenderOptions {
        size: crate::render::SizePreset::Original,
        stickers: Vec::new(),
        ..options.render.clone()
    };
    let mut out = renderer.render(&card, &lines, &strip_options)?;
    out.animation = None;
    out.fits = meme.fits;
    Ok(PnlCard {
        meme: out,
        captions,
        outcome,
    })
}

/// Draws `prices` as a line with a soft fill under it inside `rect` = [x, y, w, h].
fn draw_sparkline(canvas: &mut Pixmap, prices: &[f64], rect: [f32; 4], color: Color, width: f32) {
    let pts: Vec<f64> = prices.iter().copied().filter(|p| p.is_finite()).collect();
    if pts.len() < 2 {
        return;
    }
    let (min, max) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &p| {
            (a.min(p), b.max(p))
        });
    let span = if max > min { max - min } else { 1.0 };
    let [x, y, w, h] = rect;
    let n = pts.len() - 1;
    let at = |i: usize, p: f64| {
        let px = x + w * i as f32 / n as f32;
        let py = if max > min {
            y + h * (1.0 - ((p - min) / span) as f32)
        } else {
            y + h / 2.0
        };
        (px, py)
    };
    let mut line = PathBuilder::new();
    let mut area = PathBuilder::new();
    area.move_to(x, y + h);
    for (i, &p) in pts.iter().enumerate() {
        let (px, py) = at(i, p);
        if i == 0 {
            line.move_to(px, py);
        } else {
            line.line_to(px, py);
        }
        area.line_to(px, py);
    }
    area.line_to(x + w, y + h);
    area.close();
    if let Some(area) = area.finish() {
        let mut paint = Paint::default();
        paint.set_color_rgba8(color.r, color.g, color.b, 48);
        paint.anti_alias = true;
        canvas.fill_path(
            &area,
            &paint,
            FillRule::Winding,
            Transform::identity(),
            None,
        );
    }
    if let Some(line) = line.finish() {
        let mut paint = Paint::default();
        paint.set_color(color.to_skia());
        paint.anti_alias = true;
        let stroke = Stroke {
            width: (width * 0.007).max(1.5),
            line_join: LineJoin::Round,
            line_cap: LineCap::Round,
            ..Stroke::default()
        };
        canvas.stroke_path(&line, &paint, &stroke, Transform::identity(), None);
    }
    // Entry and exit dots.
    for i in [0, n] {
        let (px, py) = at(i, pts[i]);
        if let Some(c) = PathBuilder::from_circle(px, py, (width * 0.009).max(2.0)) {
            let mut paint = Paint::default();
            paint.set_color(Color::WHITE.to_skia());
            paint.anti_alias = true;
            canvas.fill_path(&c, &paint, FillRule::Winding, Transform::identity(), None);
        }
    }
}

/// `2024-03-01 14:05 UTC` from ms since the epoch.
pub fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let mut y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    if m <= 2 {
        y += 1;
    }
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}
