//! The bundled fonts: loaded from a folder (the repo's `assets/fonts/`, or wherever the app
//! ships them), parsed once, and shared by every render.
//!
//! Caption fonts (what a template's `font` may name) are [`CAPTION_FONTS`]. Behind them every
//! caption falls back, per grapheme, to DejaVu Sans Bold (Latin, Greek, Cyrillic, Hebrew,
//! Arabic, symbols), Droid Sans Fallback (CJK) and Noto Color Emoji (colour emoji); a grapheme
//! none of them has is drawn as U+FFFD (�) so it stays visible.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustybuzz::ttf_parser::{self, GlyphId};
use tiny_skia::Pixmap;

use crate::error::MemeError;

/// Font ids a template's `font` field may name, with the file each one is.
pub const CAPTION_FONTS: &[(&str, &str)] = &[
    ("anton", "Anton-Regular.ttf"),
    ("dejavu-sans", "DejaVuSans-Bold.ttf"),
];

/// The default caption font id.
pub const DEFAULT_FONT: &str = "anton";

const FALLBACK_FILES: &[(&str, &str)] = &[("droid-sans-fallback", "DroidSansFallbackFull.ttf")];
const EMOJI_FILE: (&str, &str) = ("noto-color-emoji", "NotoColorEmoji.ttf");

/// Whether `id` is a caption font id (see [`CAPTION_FONTS`]).
pub fn is_caption_font(id: &str) -> bool {
    CAPTION_FONTS.iter().any(|(f, _)| *f == id)
}

/// The `assets/fonts` folder of this source tree (for tests, benches and development runs; the
/// app passes the folder it installs the fonts to).
pub fn repo_fonts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/fonts")
}

type Face<'a> = rustybuzz::Face<'a>;

self_cell::self_cell!(
    struct FaceCell {
        owner: Vec<u8>,
        #[covariant]
        dependent: Face,
    }
);

/// One parsed font.
pub(crate) struct LoadedFont {
    pub(crate) id: &'static str,
    cell: FaceCell,
    pub(crate) upem: f32,
    /// Cap height in ems.
    pub(crate) cap_height: f32,
    pub(crate) has_color_bitmaps: bool,
}

impl fmt::Debug for LoadedFont {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedFont")
            .field("id", &self.id)
            .field("upem", &self.upem)
            .finish()
    }
}

impl LoadedFont {
    fn load(id: &'static str, path: &Path) -> Result<Self, MemeError> {
        let bytes = std::fs::read(path).map_err(|e| MemeError::Font {
            path: path.to_path_buf(),
            message: format!("cannot read it: {e}"),
        })?;
        let cell = FaceCell::try_new(bytes, |b| {
            rustybuzz::Face::from_slice(b, 0).ok_or_else(|| MemeError::Font {
                path: path.to_path_buf(),
                message: "not a TrueType/OpenType font".to_string(),
            })
        })?;
        let face = cell.borrow_dependent();
        let upem = f32::from(face.units_per_em().max(1) as u16);
        let ascender = f32::from(face.ascender()) / upem;
        let cap_height = face
            .capital_height()
            .filter(|h| *h > 0)
            .map(|h| f32::from(h) / upem)
            .unwrap_or(ascender * 0.75);
        let has_color_bitmaps = face.tables().cbdt.is_some() || face.tables().sbix.is_some();
        Ok(LoadedFont {
            id,
            cell,
            upem,
            cap_height,
            has_color_bitmaps,
        })
    }

    pub(crate) fn face(&self) -> &rustybuzz::Face<'_> {
        self.cell.borrow_dependent()
    }

    pub(crate) fn glyph(&self, c: char) -> Option<GlyphId> {
        self.face().glyph_index(c)
    }

    pub(crate) fn has_char(&self, c: char) -> bool {
        self.glyph(c).is_some()
    }
}

/// A decoded colour-emoji bitmap at a given pixel size, premultiplied, and where it sits.
#[derive(Debug)]
pub(crate) struct ColorGlyph {
    pub(crate) pixmap: Pixmap,
    /// Left and top of the bitmap relative to the glyph origin (baseline), in pixels, y down.
    pub(crate) left: f32,
    pub(crate) top: f32,
}

/// Colour-emoji bitmaps by (font index, glyph id, pixel size); `None` when the glyph has none.
type ColorCache = HashMap<(usize, u16, u32), Option<Arc<ColorGlyph>>>;

/// The fonts the renderer uses. Load once and share (it is `Send + Sync`); cloning a
/// [`crate::Renderer`] shares it.
pub struct FontBook {
    dir: PathBuf,
    /// Caption fonts first (in [`CAPTION_FONTS`] order), then fallbacks, then the emoji font.
    pub(crate) fonts: Vec<LoadedFont>,
    pub(crate) emoji: usize,
    /// Fallback order after the caption font: the other caption fonts, then the fallbacks.
    pub(crate) fallback: Vec<usize>,
    /// Font and glyph for U+FFFD, drawn for graphemes no font has.
    pub(crate) replacement: (usize, GlyphId),
    color_cache: Mutex<ColorCache>,
}

impl fmt::Debug for FontBook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FontBook")
            .field("dir", &self.dir)
            .field("fonts", &self.fonts)
            .finish()
    }
}

impl FontBook {
    /// Loads the bundled fonts from `dir` (the layout of `assets/fonts/`). A missing or broken
    /// font file is an error naming it.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self, MemeError> {
        let dir = dir.as_ref().to_path_buf();
        let mut fonts = Vec::new();
        for (id, file) in CAPTION_FONTS.iter().chain(FALLBACK_FILES) {
            fonts.push(LoadedFont::load(id, &dir.join(file))?);
        }
        let emoji_font = LoadedFont::load(EMOJI_FILE.0, &dir.join(EMOJI_FILE.1))?;
        if !emoji_font.has_color_bitmaps {
            return Err(MemeError::Font {
                path: dir.join(EMOJI_FILE.1),
                message: "has no colour bitmaps (CBDT or sbix)".to_string(),
            });
        }
        fonts.push(emoji_font);
        let emoji = fonts.len() - 1;
        let fallback: Vec<usize> = (0..emoji).collect();
        let replacement = fallback
            .iter()
            .find_map(|&i| fonts[i].glyph('\u{FFFD}').map(|g| (i, g)))
            .unwrap_or((0, GlyphId(0)));
        Ok(FontBook {
            dir,
            fonts,
            emoji,
            fallback,
            replacement,
            color_cache: Mutex::new(HashMap::new()),
        })
    }

    /// Loads the fonts of this source tree ([`repo_fonts_dir`]).
    pub fn load_repo() -> Result<Self, MemeError> {
        Self::load(repo_fonts_dir())
    }

    /// The folder the fonts were loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Index of a caption font id, or the default font for an unknown id.
    pub(crate) fn caption_font(&self, id: &str) -> usize {
        self.fonts
            .iter()
            .position(|f| f.id == id && is_caption_font(f.id))
            .unwrap_or(0)
    }

    /// Whether some bundled font (emoji included) has a glyph for `c`.
    pub fn covers(&self, c: char) -> bool {
        self.fonts.iter().any(|f| f.has_char(c))
    }

    /// The colour bitmap of an emoji glyph scaled to `px` pixels per em (cached).
    pub(crate) fn color_glyph(
        &self,
        font: usize,
        gid: GlyphId,
        px: f32,
    ) -> Option<Arc<ColorGlyph>> {
        let px_key = (px * 4.0).round().max(1.0) as u32;
        let key = (font, gid.0, px_key);
        if let Some(hit) = self
            .color_cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return hit.clone();
        }
        let made = self
            .make_color_glyph(font, gid, px_key as f32 / 4.0)
            .map(Arc::new);
        let mut cache = self.color_cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() > 4096 {
            cache.clear();
        }
        cache.insert(key, made.clone());
        made
    }

    fn make_color_glyph(&self, font: usize, gid: GlyphId, px: f32) -> Option<ColorGlyph> {
        let f = self.fonts.get(font)?;
        let raster = f.face().glyph_raster_image(gid, u16::MAX)?;
        if raster.format != ttf_parser::RasterImageFormat::PNG {
            return None;
        }
        let decoded = image::load_from_memory_with_format(raster.data, image::ImageFormat::Png)
            .ok()?
            .into_rgba8();
        let strike = f32::from(raster.pixels_per_em.max(1));
        let scale = px / strike;
        let w = ((decoded.width() as f32 * scale).round() as u32).max(1);
        let h = ((decoded.height() as f32 * scale).round() as u32).max(1);
        let resized = if (w, h) == decoded.dimensions() {
            decoded
        } else {
            image::imageops::resize(&decoded, w, h, image::imageops::FilterType::Triangle)
        };
        let pixmap = crate::pixels::rgba_to_pixmap(resized)?;
        Some(ColorGlyph {
            pixmap,
            left: f32::from(raster.x) * scale,
            top: -(f32::from(raster.y) + f32::from(raster.height)) * scale,
        })
    }

    /// Ink box of a glyph in ems (x_min, y_min, x_max, y_max), y up; `None` for a blank glyph.
    pub(crate) fn glyph_ink(&self, font: usize, gid: GlyphId) -> Option<[f32; 4]> {
        let f = &self.fonts[font];
        if f.has_color_bitmaps {
            let r = f.face().glyph_raster_image(gid, u16::MAX)?;
            let s = f32::from(r.pixels_per_em.max(1));
            return Some([
                f32::from(r.x) / s,
                f32::from(r.y) / s,
                (f32::from(r.x) + f32::from(r.width)) / s,
                (f32::from(r.y) + f32::from(r.height)) / s,
            ]);
        }
        let b = f.face().glyph_bounding_box(gid)?;
        Some([
            f32::from(b.x_min) / f.upem,
            f32::from(b.y_min) / f.upem,
            f32::from(b.x_max) / f.upem,
            f32::from(b.y_max) / f.upem,
        ])
    }
}
