//! PaperMemes meme engine: templates, captions that fit, stickers, rendering and export.
//!
//! ```no_run
//! use papermemes_meme::{FontBook, Library, Renderer, RenderOptions};
//!
//! let renderer = Renderer::new(FontBook::load("assets/fonts")?);
//! let library = Library::load("assets/templates");
//! for (dir, err) in library.errors() {
//!     eprintln!("skipped {}: [{}] {err}", dir.display(), err.code());
//! }
//! let template = library.search("rocket").into_iter().next().expect("a rocket template");
//! let options = RenderOptions::default();
//! renderer.export_file(template, &["when PEPE does 10x", "and you sold at 2x"], &options,
//!     "meme.png".as_ref())?;
//! # Ok::<(), papermemes_meme::MemeError>(())
//! ```
//!
//! * [`Template`] / [`load_template`] / [`Library`]: `template.toml` beside an image
//!   (docs/meme-templates.md), checked on load, searched by keyword and tag.
//! * [`Renderer`]: fits each caption into its box (largest size that wraps into `max_lines`),
//!   draws it as a stroked and filled vector path with colour-emoji and font fallback, adds
//!   stickers, and exports PNG, JPEG, WebP or GIF ([`ExportFormat`]); animated GIFs are
//!   captioned frame by frame without holding the frames.
//! * [`pnl`]: a meme made from a trade (PnL card with a sparkline, captions by outcome).
//! * Errors are [`MemeError`], each with a stable [`MemeError::code`].
//!
//! docs/memes.md describes the design, the limits and the tests.

mod draw;
mod error;
mod export;
mod fonts;
mod gif_io;
mod pixels;
pub mod pnl;
mod render;
mod source;
mod template;
mod text;

pub use error::MemeError;
pub use export::{ExportFormat, ExportInfo};
pub use fonts::{is_caption_font, repo_fonts_dir, FontBook, CAPTION_FONTS, DEFAULT_FONT};
pub use render::{RenderOptions, RenderedMeme, Renderer, SizePreset};
pub use source::{AnimationInfo, ImageInfo, ImageSource, Limits, Repeat, SourceFormat};
pub use template::{
    is_valid_id, load_template, load_template_with, Align, Case, Color, Layout, Library,
    OverlaySpec, Sticker, StickerKind, Template, TemplateFile, TextBox, VAlign, MAX_BOXES,
    TEMPLATE_FILE,
};
pub use text::CaptionFit;
