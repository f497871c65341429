//! Captions that fit: font choice per grapheme (with fallback and colour emoji), shaping,
//! bidi, line breaking, and the largest font size whose wrapped text fits its box.
//!
//! Everything is shaped once at 1 em (no hinting), so a layout at size `s` is the unit layout
//! scaled by `s`; the fit is a bisection on `s` over a cheap re-wrap. The fit is measured on
//! ink (glyph outlines and bitmaps, plus the outline stroke), so what is drawn stays inside the
//! box; vertically a line counts at least from the cap height to the baseline, so "..." does not
//! grow to fill the box.

use rustybuzz::ttf_parser::GlyphId;
use unicode_bidi::BidiInfo;
use unicode_linebreak::{linebreaks, BreakOpportunity};
use unicode_segmentation::UnicodeSegmentation;

use crate::fonts::FontBook;
use crate::template::TextBox;

/// Baseline-to-baseline distance in ems.
pub(crate) const LINE_HEIGHT: f32 = 1.08;

/// One glyph at 1 em: offsets and advance in ems, ink box relative to its origin (y up).
#[derive(Debug, Clone)]
pub(crate) struct Glyph {
    pub(crate) font: usize,
    pub(crate) gid: GlyphId,
    x_adv: f32,
    x_off: f32,
    y_off: f32,
    ink: Option<[f32; 4]>,
}

/// A run of glyphs placed as a unit (a word's font run, one grapheme, or a space).
#[derive(Debug, Clone)]
struct Atom {
    glyphs: Vec<Glyph>,
    advance: f32,
    level: u8,
    /// Ink relative to the atom's origin, ems, y up.
    ink: Option<[f32; 4]>,
}

impl Atom {
    fn new(glyphs: Vec<Glyph>, level: u8) -> Atom {
        let mut x = 0.0;
        let mut ink: Option<[f32; 4]> = None;
        for g in &glyphs {
            if let Some(b) = g.ink {
                let r = [
                    x + g.x_off + b[0],
                    g.y_off + b[1],
                    x + g.x_off + b[2],
                    g.y_off + b[3],
                ];
                ink = Some(union(ink, r));
            }
            x += g.x_adv;
        }
        Atom {
            glyphs,
            advance: x,
            level,
            ink,
        }
    }

    fn space(advance: f32, level: u8) -> Atom {
        Atom {
            glyphs: Vec::new(),
            advance,
            level,
            ink: None,
        }
    }
}

fn union(a: Option<[f32; 4]>, b: [f32; 4]) -> [f32; 4] {
    match a {
        None => b,
        Some(a) => [
            a[0].min(b[0]),
            a[1].min(b[1]),
            a[2].max(b[2]),
            a[3].max(b[3]),
        ],
    }
}

/// A piece of text between two line-break opportunities.
#[derive(Debug)]
struct Segment {
    /// The word as shaped, one atom per font/direction run, logical order.
    runs: Vec<Atom>,
    /// The same glyphs, one atom per grapheme, logical order (for breaking a too-long word).
    graphemes: Vec<Atom>,
    width: f32,
    /// Whitespace after the word (dropped at the end of a line).
    space: Option<Atom>,
    /// A newline follows.
    hard_break: bool,
}

/// A caption shaped at 1 em, ready to be fitted to any box.
#[derive(Debug)]
pub(crate) struct Shaped {
    segments: Vec<Segment>,
    /// Cap height of the caption font, ems.
    cap: f32,
}

impl Shaped {
    pub(crate) fn is_empty(&self) -> bool {
        self.segments
            .iter()
            .all(|s| s.runs.iter().all(|a| a.glyphs.is_empty()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    Font(usize),
    Replacement,
}

fn is_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{200C}' | '\u{200D}' | '\u{FE0E}' | '\u{FE0F}' | '\u{E0020}'..='\u{E007F}'
    )
}

/// Emoji shown in colour by default (Emoji_Presentation), approximately: the pictograph
/// blocks, regional indicators, and the BMP symbols that default to emoji.
fn is_emoji_presentation(c: char) -> bool {
    matches!(c as u32,
        0x1F1E6..=0x1F1FF | 0x1F300..=0x1F5FF | 0x1F600..=0x1F64F | 0x1F680..=0x1F6FF
        | 0x1F7E0..=0x1F7EB | 0x1F90C..=0x1F9FF | 0x1FA70..=0x1FAFF | 0x1F004 | 0x1F0CF
        | 0x1F18E | 0x1F191..=0x1F19A | 0x231A..=0x231B | 0x23E9..=0x23EC | 0x23F0 | 0x23F3
        | 0x25FD..=0x25FE | 0x2614..=0x2615 | 0x2648..=0x2653 | 0x267F | 0x2693 | 0x26A1
        | 0x26AA..=0x26AB | 0x26BD..=0x26BE | 0x26C4..=0x26C5 | 0x26CE | 0x26D4 | 0x26EA
        | 0x26F2..=0x26F3 | 0x26F5 | 0x26FA | 0x26FD | 0x2705 | 0x270A..=0x270B | 0x2728
        | 0x274C | 0x274E | 0x2753..=0x2755 | 0x2757 | 0x2795..=0x2797 | 0x27B0 | 0x27BF
        | 0x2B1B..=0x2B1C | 0x2B50 | 0x2B55)
}

fn pick_font(book: &FontBook, grapheme: &str, primary: usize) -> Pick {
    let chars: Vec<char> = grapheme.chars().filter(|c| !is_ignorable(*c)).collect();
    let Some(&first) = chars.first() else {
        return Pick::Font(primary);
    };
    let emoji = &book.fonts[book.emoji];
    let wants_emoji = !grapheme.contains('\u{FE0E}')
        && (grapheme.contains('\u{FE0F}')
            || grapheme.contains('\u{20E3}')
            || is_emoji_presentation(first));
    if wants_emoji && emoji.has_char(first) {
        return Pick::Font(book.emoji);
    }
    let order =
        std::iter::once(primary).chain(book.fallback.iter().copied().filter(|&f| f != primary));
    for f in order.clone() {
        if chars.iter().all(|&c| book.fonts[f].has_char(c)) {
            return Pick::Font(f);
        }
    }
    if chars.iter().all(|&c| emoji.has_char(c)) {
        return Pick::Font(book.emoji);
    }
    // No single font has every character (e.g. a rare combining mark): the one with the base.
    for f in order {
        if book.fonts[f].has_char(first) {
            return Pick::Font(f);
        }
    }
    Pick::Replacement
}

/// Shapes `text` (already cased) with caption font `primary`.
pub(crate) fn shape(book: &FontBook, text: &str, primary: usize) -> Shaped {
    let text: String = text
        .replace("\r\n", "\n")
        .chars()
        .map(|c| match c {
            '\t' | '\r' => ' ',
            c if c.is_control() && c != '\n' => ' ',
            c => c,
        })
        .collect();
    let cap = book.fonts[primary].cap_height;
    let mut segments = Vec::new();
    if text.trim().is_empty() {
        return Shaped { segments, cap };
    }
    let bidi = BidiInfo::new(&text, None);
    let level_at = |i: usize| bidi.levels.get(i).map_or(0, |l| l.number());
    let space_adv = {
        let f = &book.fonts[primary];
        f.glyph(' ')
            .and_then(|g| f.face().glyph_hor_advance(g))
            .map_or(0.25, |a| f32::from(a) / f.upem)
    };
    let mut start = 0;
    for (end, op) in linebreaks(&text) {
        let piece = &text[start..end];
        let content_len = piece.trim_end().len();
        let content = &piece[..content_len];
        let trailing = &piece[content_len..];
        let hard_break =
            op == BreakOpportunity::Mandatory && end < text.len() || trailing.contains('\n');
        let spaces = trailing.chars().filter(|c| *c != '\n').count();
        let space = (spaces > 0)
            .then(|| Atom::space(space_adv * spaces as f32, level_at(start + content_len)));
        let (runs, graphemes) = shape_word(book, content, start, primary, &level_at);
        let width = runs.iter().map(|a| a.advance).sum();
        segments.push(Segment {
            runs,
            graphemes,
            width,
            space,
            hard_break,
        });
        start = end;
    }
    Shaped { segments, cap }
}

/// Shapes one word: graphemes → (font, level) runs → rustybuzz; returns the run atoms and the
/// per-grapheme atoms, both in logical order.
fn shape_word(
    book: &FontBook,
    word: &str,
    offset: usize,
    primary: usize,
    level_at: &dyn Fn(usize) -> u8,
) -> (Vec<Atom>, Vec<Atom>) {
    let mut runs = Vec::new();
    let mut graphemes = Vec::new();
    if word.is_empty() {
        return (runs, graphemes);
    }
    // (byte start, pick, level) per grapheme.
    let gs: Vec<(usize, Pick, u8)> = word
        .grapheme_indices(true)
        .map(|(i, g)| (i, pick_font(book, g, primary), level_at(offset + i)))
        .collect();
    let mut i = 0;
    while i < gs.len() {
        let (run_start, pick, level) = gs[i];
        let mut j = i + 1;
        while j < gs.len() && gs[j].1 == pick && gs[j].2 == level {
            j += 1;
        }
        let run_end = gs.get(j).map_or(word.len(), |g| g.0);
        let starts: Vec<usize> = gs[i..j].iter().map(|g| g.0 - run_start).collect();
        let run_text = &word[run_start..run_end];
        // Glyphs in visual order, each tagged with its grapheme (index into `starts`).
        let tagged: Vec<(usize, Glyph)> = match pick {
            Pick::Font(f) => shape_run(book, f, run_text, level, &starts),
            Pick::Replacement => {
                let (f, gid) = book.replacement;
                let font = &book.fonts[f];
                let adv = font
                    .face()
                    .glyph_hor_advance(gid)
                    .map_or(0.6, |a| f32::from(a) / font.upem);
                (0..starts.len())
                    .map(|k| {
                        (
                            k,
                            Glyph {
                                font: f,
                                gid,
                                x_adv: adv,
                                x_off: 0.0,
                                y_off: 0.0,
                                ink: book.glyph_ink(f, gid),
                            },
                        )
                    })
                    .collect()
            }
        };
        // Per grapheme, logical order.
        for k in 0..starts.len() {
            let glyphs: Vec<Glyph> = tagged
                .iter()
                .filter(|(g, _)| *g == k)
                .map(|(_, gl)| gl.clone())
                .collect();
            graphemes.push(Atom::new(glyphs, level));
        }
        runs.push(Atom::new(
            tagged.into_iter().map(|(_, g)| g).collect(),
            level,
        ));
        i = j;
    }
    (runs, graphemes)
}

fn shape_run(
    book: &FontBook,
    font: usize,
    text: &str,
    level: u8,
    grapheme_starts: &[usize],
) -> Vec<(usize, Glyph)> {
    let f = &book.fonts[font];
    let mut buf = rustybuzz::UnicodeBuffer::new();
    buf.push_str(text);
    buf.set_direction(if level % 2 == 1 {
        rustybuzz::Direction::RightToLeft
    } else {
        rustybuzz::Direction::LeftToRight
    });
    let out = rustybuzz::shape(f.face(), &[], buf);
    let scale = 1.0 / f.upem;
    out.glyph_infos()
        .iter()
        .zip(out.glyph_positions())
        .map(|(info, pos)| {
            let cluster = info.cluster as usize;
            let g = grapheme_starts
                .partition_point(|&s| s <= cluster)
                .saturating_sub(1);
            let gid = GlyphId(info.glyph_id as u16);
            (
                g,
                Glyph {
                    font,
                    gid,
                    x_adv: pos.x_advance as f32 * scale,
                    x_off: pos.x_offset as f32 * scale,
                    y_off: pos.y_offset as f32 * scale,
                    ink: book.glyph_ink(font, gid),
                },
            )
        })
        .collect()
}

/// One wrapped line at 1 em: atoms in visual order with their x.
#[derive(Debug)]
struct Line<'a> {
    atoms: Vec<(f32, &'a Atom)>,
    ink: Option<[f32; 4]>,
}

/// Greedy wrap to `max_w` ems. `None` when a word is wider than the line and `break_words` is
/// off.
fn wrap(shaped: &Shaped, max_w: f32, break_words: bool) -> Option<Vec<Line<'_>>> {
    let mut lines: Vec<Vec<&Atom>> = Vec::new();
    let mut cur: Vec<&Atom> = Vec::new();
    let mut cur_w = 0.0f32;
    let mut pending: Option<&Atom> = None;
    for seg in &shaped.segments {
        let space_w = if cur.is_empty() {
            0.0
        } else {
            pending.map_or(0.0, |s| s.advance)
        };
        if seg.width <= max_w {
            if !cur.is_empty() && cur_w + space_w + seg.width > max_w {
                lines.push(std::mem::take(&mut cur));
                cur_w = 0.0;
            } else if !cur.is_empty() {
                if let Some(s) = pending {
                    cur.push(s);
                }
                cur_w += space_w;
            }
            cur.extend(seg.runs.iter());
            cur_w += seg.width;
        } else {
            if !break_words {
                return None;
            }
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
                cur_w = 0.0;
            }
            for g in &seg.graphemes {
                if !cur.is_empty() && cur_w + g.advance > max_w {
                    lines.push(std::mem::take(&mut cur));
                    cur_w = 0.0;
                }
                cur.push(g);
                cur_w += g.advance;
            }
        }
        pending = seg.space.as_ref();
        if seg.hard_break {
            lines.push(std::mem::take(&mut cur));
            cur_w = 0.0;
            pending = None;
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    Some(lines.into_iter().map(place_line).collect())
}

/// Visual order (UAX #9 rule L2 over atoms; RTL atoms are already shaped in visual order) and
/// x positions.
fn place_line(mut atoms: Vec<&Atom>) -> Line<'_> {
    let max = atoms.iter().map(|a| a.level).max().unwrap_or(0);
    let min_odd = atoms.iter().map(|a| a.level).filter(|l| l % 2 == 1).min();
    if let Some(min_odd) = min_odd {
        let mut level = max;
        while level >= min_odd {
            let mut i = 0;
            while i < atoms.len() {
                if atoms[i].level >= level {
                    let mut j = i;
                    while j < atoms.len() && atoms[j].level >= level {
                        j += 1;
                    }
                    atoms[i..j].reverse();
                    i = j;
                } else {
                    i += 1;
                }
            }
            if level == 0 {
                break;
            }
            level -= 1;
        }
    }
    let mut x = 0.0;
    let mut ink = None;
    let mut placed = Vec::with_capacity(atoms.len());
    for a in atoms {
        if let Some(b) = a.ink {
            ink = Some(union(ink, [x + b[0], b[1], x + b[2], b[3]]));
        }
        placed.push((x, a));
        x += a.advance;
    }
    Line { atoms: placed, ink }
}

/// A glyph placed in box coordinates (pixels, origin at the box's top-left, y down).
#[derive(Debug, Clone)]
pub(crate) struct PlacedGlyph {
    pub(crate) font: usize,
    pub(crate) gid: GlyphId,
    /// Origin on the baseline.
    pub(crate) x: f32,
    pub(crate) y: f32,
}

/// The result of fitting a caption into a box.
#[derive(Debug, Clone, PartialEq)]
pub struct CaptionFit {
    /// Font size in pixels (em size), 0 for an empty caption.
    pub font_size: f32,
    /// Number of lines.
    pub lines: usize,
    /// A word had to be broken across lines.
    pub broke_words: bool,
    /// Even the smallest size did not fit; the text is clipped to the box.
    pub overflow: bool,
}

#[derive(Debug)]
pub(crate) struct BoxLayout {
    pub(crate) fit: CaptionFit,
    pub(crate) glyphs: Vec<PlacedGlyph>,
    /// Outline stroke reach outside the glyph edge, px.
    pub(crate) stroke: f32,
}

/// Block extents at 1 em: (ink/metric width per line, top, bottom), y down from line 0's
/// baseline.
fn block_extents(lines: &[Line<'_>], cap: f32) -> (f32, f32, f32) {
    let mut w: f32 = 0.0;
    let mut top = f32::INFINITY;
    let mut bottom = f32::NEG_INFINITY;
    for (i, l) in lines.iter().enumerate() {
        let base = i as f32 * LINE_HEIGHT;
        let mut t = base - cap;
        let mut b = base;
        if let Some(ink) = l.ink {
            w = w.max(ink[2] - ink[0]);
            t = t.min(base - ink[3]);
            b = b.max(base - ink[1]);
        }
        top = top.min(t);
        bottom = bottom.max(b);
    }
    if lines.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (w, top, bottom)
    }
}

/// Fits `shaped` into a `box_w`×`box_h` pixel box. `min_size` is the smallest font size tried.
pub(crate) fn fit(
    shaped: &Shaped,
    b: &TextBox,
    box_w: f32,
    box_h: f32,
    min_size: f32,
) -> BoxLayout {
    let stroke_em = if b.outline.is_some() {
        b.outline_width
    } else {
        0.0
    };
    let max_lines = usize::from(b.max_lines.max(1));
    let fits = |s: f32, break_words: bool| -> bool {
        let avail_w = box_w / s - 2.0 * stroke_em;
        let avail_h = box_h / s - 2.0 * stroke_em;
        if avail_w <= 0.0 || avail_h <= 0.0 {
            return false;
        }
        let Some(lines) = wrap(shaped, avail_w, break_words) else {
            return false;
        };
        if lines.len() > max_lines {
            return false;
        }
        let (w, top, bottom) = block_extents(&lines, shaped.cap);
        w <= avail_w && bottom - top <= avail_h
    };
    let empty = BoxLayout {
        fit: CaptionFit {
            font_size: 0.0,
            lines: 0,
            broke_words: false,
            overflow: false,
        },
        glyphs: Vec::new(),
        stroke: 0.0,
    };
    if shaped.is_empty() || !(box_w > 0.0 && box_h > 0.0) {
        return empty;
    }
    let min_size = min_size.max(1.0);
    let hi = (box_h * 1.5).max(min_size);
    let mut break_words = false;
    let mut overflow = false;
    if !fits(min_size, false) {
        break_words = true;
        if !fits(min_size, true) {
            overflow = true;
        }
    }
    let mut size = min_size;
    if !overflow {
        let (mut lo, mut hi) = (min_size, hi);
        if fits(hi, break_words) {
            lo = hi;
        } else {
            for _ in 0..24 {
                let mid = 0.5 * (lo + hi);
                if fits(mid, break_words) {
                    lo = mid;
                } else {
                    hi = mid;
                }
                if hi - lo < 0.01 {
                    break;
                }
            }
        }
        size = lo;
    }
    place(
        shaped,
        b,
        box_w,
        box_h,
        size,
        break_words,
        overflow,
        stroke_em,
    )
}

#[allow(clippy::too_many_arguments)]
fn place(
    shaped: &Shaped,
    b: &TextBox,
    box_w: f32,
    box_h: f32,
    s: f32,
    break_words: bool,
    overflow: bool,
    stroke_em: f32,
) -> BoxLayout {
    let avail_w = (box_w / s - 2.0 * stroke_em).max(1e-3);
    let lines = wrap(shaped, avail_w, true).unwrap_or_default();
    let (_, top, bottom) = block_extents(&lines, shaped.cap);
    let stroke = stroke_em * s;
    let block_h = (bottom - top) * s;
    let oy = match b.valign {
        crate::template::VAlign::Top => stroke - top * s,
        crate::template::VAlign::Middle => (box_h - block_h) / 2.0 - top * s,
        crate::template::VAlign::Bottom => box_h - stroke - bottom * s,
    };
    let mut glyphs = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let (l, r) = line.ink.map_or((0.0, 0.0), |k| (k[0], k[2]));
        let ox = match b.align {
            crate::template::Align::Left => stroke - l * s,
            crate::template::Align::Center => (box_w - (r - l) * s) / 2.0 - l * s,
            crate::template::Align::Right => box_w - stroke - r * s,
        };
        let base = oy + i as f32 * LINE_HEIGHT * s;
        for (ax, atom) in &line.atoms {
            let mut x = *ax;
            for g in &atom.glyphs {
                glyphs.push(PlacedGlyph {
                    font: g.font,
                    gid: g.gid,
                    x: ox + (x + g.x_off) * s,
                    y: base - g.y_off * s,
                });
                x += g.x_adv;
            }
        }
    }
    BoxLayout {
        fit: CaptionFit {
            font_size: s,
            lines: lines.len(),
            broke_words: break_words,
            overflow,
        },
        glyphs,
        stroke,
    }
}

/// The first line of `shaped`, unwrapped, at `size` px per em: glyphs (baseline at y = 0, y
/// down) and the ink box `[left, top, right, bottom]`. `None` when it has no ink.
pub(crate) fn single_line(shaped: &Shaped, size: f32) -> Option<(Vec<PlacedGlyph>, [f32; 4])> {
    let lines = wrap(shaped, f32::INFINITY, true)?;
    let line = lines.into_iter().find(|l| l.ink.is_some())?;
    let ink = line.ink?;
    let mut glyphs = Vec::new();
    for (ax, atom) in &line.atoms {
        let mut x = *ax;
        for g in &atom.glyphs {
            glyphs.push(PlacedGlyph {
                font: g.font,
                gid: g.gid,
                x: (x + g.x_off) * size,
                y: -g.y_off * size,
            });
            x += g.x_adv;
        }
    }
    Some((
        glyphs,
        [ink[0] * size, -ink[3] * size, ink[2] * size, -ink[1] * size],
    ))
}
