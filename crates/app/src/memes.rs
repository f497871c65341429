//! The meme studio's services over [`papermemes_meme`]: the template library (bundled and
//! imported), rendering and export, the gallery of saved memes, and memes made from trades.
//! Driven by the CLI (`papermemes meme …`) and the desktop shell.
//!
//! Files and rows:
//! * the bundled templates are `assets/templates/<id>/`; fonts are `assets/fonts/`;
//! * imported templates are `<data>/templates/<id>/` (image + `template.toml`), with a row in
//!   the ledger's `user_templates` table (name, keywords, when);
//! * saved memes are `<data>/memes/<file>`, with a row in `memes` (template, captions, size,
//!   the edit that made them). A file is written completely (temp file, fsync, rename) before
//!   its row is added, so a row never points at a half-written file; a crash in between leaves
//!   at most a stray file that no row names.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use papermemes_meme::pnl::{self, PnlCardOptions, TradeSummary};
use papermemes_meme::{
    is_valid_id, ExportFormat, ExportInfo, FontBook, ImageSource, Layout, Library, Limits,
    MemeError, RenderOptions, Renderer, SizePreset, Sticker, StickerKind, Template, TextBox,
    MAX_BOXES,
};
use papermemes_store::{self as store, Ledger, MemeRow, NewMeme, UserTemplateRow};
use serde::{Deserialize, Serialize};

use crate::AppError;

/// Where saved memes go, under the data folder.
pub const GALLERY_DIR: &str = "memes";
/// Where imported templates go, under the data folder.
pub const USER_TEMPLATES_DIR: &str = "templates";

impl From<MemeError> for AppError {
    fn from(e: MemeError) -> Self {
        AppError::Invalid {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

/// A sticker the user placed: an emoji, centre and size in fractions of the image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct StickerSpec {
    pub emoji: String,
    pub x: f32,
    pub y: f32,
    /// Width as a fraction of the image width, in (0, 2].
    pub scale: f32,
    /// Degrees, clockwise.
    #[serde(default)]
    pub angle: f32,
}

/// Where a caption box sits, in fractions of the image (what the editor drags and resizes).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct BoxFrame {
    /// Left edge before rotation.
    pub x: f32,
    /// Top edge before rotation.
    pub y: f32,
    pub width: f32,
    pub height: f32,
    /// Degrees, clockwise, about the box centre.
    #[serde(default)]
    pub angle: f32,
}

impl BoxFrame {
    pub fn of(b: &TextBox) -> BoxFrame {
        BoxFrame {
            x: b.x,
            y: b.y,
            width: b.width,
            height: b.height,
            angle: b.angle,
        }
    }
}

/// `template`'s boxes moved and resized to `frames`: box `i` keeps its style; boxes added past
/// the template's take the style of its last box (or the defaults). Checked like a template
/// file, so a box outside the image is an error naming the box.
pub fn boxes_with_frames(
    template: &Template,
    frames: &[BoxFrame],
) -> Result<Vec<TextBox>, AppError> {
    if frames.is_empty() || frames.len() > MAX_BOXES {
        return Err(AppError::invalid(
            "meme.bad_box",
            format!("{} text boxes; a meme has 1 to {MAX_BOXES}", frames.len()),
        ));
    }
    let mut boxes = Vec::with_capacity(frames.len());
    for (i, f) in frames.iter().enumerate() {
        let mut b = template
            .boxes
            .get(i)
            .or(template.boxes.last())
            .cloned()
            .unwrap_or_else(|| TextBox::new(f.x, f.y, f.width, f.height));
        b.x = f.x;
        b.y = f.y;
        b.width = f.width;
        b.height = f.height;
        b.angle = f.angle;
        b.check(i).map_err(|(field, message)| {
            AppError::invalid("meme.bad_box", format!("{field}: {message}"))
        })?;
        boxes.push(b);
    }
    Ok(boxes)
}

/// Everything that makes one meme: what the editor holds, what the gallery stores to reopen it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct MemeSpec {
    pub template: String,
    /// One caption per box, in box order (missing ones are empty).
    pub captions: Vec<String>,
    #[serde(default)]
    pub stickers: Vec<StickerSpec>,
    /// A size preset id: `original`, `square-1080`, `720`, `480`, `square-N` or `N`.
    #[serde(default = "original")]
    pub size: String,
    /// The caption boxes as moved, resized, added or removed in the editor (the template's
    /// boxes when absent); see [`boxes_with_frames`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frames: Option<Vec<BoxFrame>>,
}

fn original() -> String {
    "original".into()
}

/// A template as lists show it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct TemplateView {
    pub id: String,
    pub name: String,
    pub keywords: Vec<String>,
    pub tags: Vec<String>,
    pub layout: String,
    pub boxes: usize,
    /// Where each caption box is.
    pub frames: Vec<BoxFrame>,
    pub width: u32,
    pub height: u32,
    pub animated: bool,
    /// Imported by the user (lives in the data folder).
    pub user: bool,
    pub license: String,
    pub source: String,
    pub examples: Vec<Vec<String>>,
}

/// A gallery meme, with where its file is and whether it is still there.
#[derive(Debug, Clone, Serialize)]
pub struct GalleryItem {
    #[serde(flatten)]
    pub row: MemeRow,
    pub path: PathBuf,
    pub exists: bool,
}

/// A meme made from a trade, ready to render or save.
#[derive(Debug, Clone)]
pub struct TradeMeme {
    pub trade: TradeSummary,
    pub template: String,
    pub captions: Vec<String>,
    /// The fill it was made from (a closed trade), if any.
    pub fill_id: Option<i64>,
}

/// The meme studio: fonts, templates and the folders of the gallery and imported templates.
#[derive(Debug)]
pub struct MemeStudio {
    renderer: Renderer,
    library: Library,
    user_ids: Vec<String>,
    gallery_dir: PathBuf,
    user_dir: PathBuf,
    limits: Limits,
}

fn io_err(path: &Path, e: std::io::Error) -> AppError {
    AppError::Io {
        message: format!("{}: {e}", path.display()),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl MemeStudio {
    /// Loads fonts (`<assets>/fonts`), the bundled templates (`<assets>/templates`) and the
    /// user's imported templates (rows in `ledger`, folders in `<data_dir>/templates`). A
    /// template that fails to load is skipped and reported by [`MemeStudio::load_errors`].
    pub fn open(assets: &Path, data_dir: &Path, ledger: &Ledger) -> Result<MemeStudio, AppError> {
        let fonts = FontBook::load(assets.join("fonts"))?;
        let limits = Limits::default();
        let renderer = Renderer::with_limits(fonts, limits.clone());
        let mut library = Library::new();
        library.add_dir(&assets.join("templates"), &limits);
        let user_dir = data_dir.join(USER_TEMPLATES_DIR);
        let mut user_ids = Vec::new();
        for row in ledger.user_templates().wait()? {
            match papermemes_meme::load_template_with(&user_dir.join(&row.id), &limits) {
                Ok(mut t) => {
                    t.keywords
                        .extend(row.keywords.split_whitespace().map(str::to_owned));
                    user_ids.push(t.id.clone());
                    library.add(t);
                }
                Err(e) => {
                    tracing::warn!(template = %row.id, error = %e, "an imported template did not load");
                }
            }
        }
        Ok(MemeStudio {
            renderer,
            library,
            user_ids,
            gallery_dir: data_dir.join(GALLERY_DIR),
            user_dir,
            limits,
        })
    }

    pub fn renderer(&self) -> &Renderer {
        &self.renderer
    }

    /// Bundled templates that failed to load (folder, error).
    pub fn load_errors(&self) -> &[(PathBuf, MemeError)] {
        self.library.errors()
    }

    /// Templates matching `search` (every word, in name, keywords, tags or examples) and `tag`;
    /// all when both are empty.
    pub fn templates(&self, search: Option<&str>, tag: Option<&str>) -> Vec<TemplateView> {
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        let mut found: Vec<&Template> = match search {
            Some(q) => self.library.search(q),
            None => self.library.templates().iter().collect(),
        };
        if let Some(tag) = tag.map(str::trim).filter(|t| !t.is_empty()) {
            found.retain(|t| t.tags.iter().any(|x| x.eq_ignore_ascii_case(tag)));
        }
        found.into_iter().map(|t| self.view(t)).collect()
    }

    /// Every tag, sorted.
    pub fn tags(&self) -> Vec<String> {
        self.library.tags()
    }

    pub fn template(&self, id: &str) -> Result<&Template, AppError> {
        self.library.get(id).ok_or_else(|| {
            AppError::invalid(
                "meme.no_template",
                format!("no template {id:?}; `papermemes meme templates` lists them"),
            )
        })
    }

    pub fn view(&self, t: &Template) -> TemplateView {
        TemplateView {
            id: t.id.clone(),
            name: t.name.clone(),
            keywords: t.keywords.clone(),
            tags: t.tags.clone(),
            layout: serde_json::to_value(t.layout)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            boxes: t.boxes.len(),
            frames: t.boxes.iter().map(BoxFrame::of).collect(),
            width: t.info.width,
            height: t.info.height,
            animated: t.is_animated(),
            user: self.user_ids.iter().any(|u| u == &t.id),
            license: t.license.clone(),
            source: t.source_note.clone(),
            examples: t.examples.clone(),
        }
    }

    /// The template to render for `spec` (with the editor's boxes, when given) and the options.
    fn prepare(&self, spec: &MemeSpec) -> Result<(Template, RenderOptions), AppError> {
        let mut template = self.template(&spec.template)?.clone();
        if let Some(frames) = &spec.frames {
            template.boxes = boxes_with_frames(&template, frames)?;
            let n = template.boxes.len();
            for ex in &mut template.examples {
                ex.truncate(n);
            }
            template.validate()?;
        }
        if spec.captions.len() > template.boxes.len() {
            return Err(AppError::invalid(
                "meme.too_many_captions",
                format!(
                    "template {:?} has {} text box(es) but {} captions were given",
                    template.id,
                    template.boxes.len(),
                    spec.captions.len()
                ),
            ));
        }
        let size = SizePreset::parse(&spec.size).ok_or_else(|| {
            AppError::invalid(
                "meme.bad_size",
                format!(
                    "size {:?} is not a preset (original, square-1080, 720, 480, square-N or N)",
                    spec.size
                ),
            )
        })?;
        let mut stickers = Vec::with_capacity(spec.stickers.len());
        for (i, s) in spec.stickers.iter().enumerate() {
            let sticker = Sticker {
                kind: StickerKind::Emoji(s.emoji.clone()),
                x: s.x,
                y: s.y,
                scale: s.scale,
                angle: s.angle,
            };
            sticker
                .check(&format!("stickers[{i}]"))
                .map_err(|(field, message)| {
                    AppError::invalid("meme.bad_sticker", format!("{field}: {message}"))
                })?;
            stickers.push(sticker);
        }
        let options = RenderOptions {
            size,
            stickers,
            ..RenderOptions::default()
        };
        Ok((template, options))
    }

    /// Renders `spec` and encodes it as `format` into memory (the desktop preview: the same
    /// pixels as the export).
    pub fn render(&self, spec: &MemeSpec, format: ExportFormat) -> Result<Vec<u8>, AppError> {
        Ok(self.encode(spec, format)?.0)
    }

    /// [`MemeStudio::render`], with what the encoder reported (size, frames).
    fn encode(
        &self,
        spec: &MemeSpec,
        format: ExportFormat,
    ) -> Result<(Vec<u8>, ExportInfo), AppError> {
        let (template, options) = self.prepare(spec)?;
        let mut out = Vec::new();
        let info = self
            .renderer
            .export(&template, &spec.captions, &options, format, &mut out)?;
        Ok((out, info))
    }

    /// The still meme (first frame of an animated one) as straight-alpha RGBA pixels: what
    /// goes on the clipboard. Returns (pixels, width, height).
    pub fn still(&self, spec: &MemeSpec) -> Result<(Vec<u8>, u32, u32), AppError> {
        let (template, options) = self.prepare(spec)?;
        let m = self.renderer.render(&template, &spec.captions, &options)?;
        Ok(raw(m))
    }

    /// Renders `spec` into `path` (format from its extension). Nothing is left behind on error.
    pub fn export(&self, spec: &MemeSpec, path: &Path) -> Result<ExportInfo, AppError> {
        let (template, options) = self.prepare(spec)?;
        Ok(self
            .renderer
            .export_file(&template, &spec.captions, &options, path)?)
    }

    /// Renders `spec` and saves it in the gallery.
    pub fn save(
        &self,
        ledger: &Ledger,
        spec: &MemeSpec,
        format: ExportFormat,
        trade_fill_id: Option<i64>,
    ) -> Result<GalleryItem, AppError> {
        let encoded = self.encode(spec, format)?;
        let template = self.template(&spec.template)?;
        let title = spec
            .captions
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
            .collect::<Vec<_>>()
            .join(" / ");
        let title = if title.is_empty() {
            template.name.clone()
        } else {
            title
        };
        self.store_file(ledger, spec, &encoded, title, trade_fill_id)
    }

    fn store_file(
        &self,
        ledger: &Ledger,
        spec: &MemeSpec,
        (bytes, info): &(Vec<u8>, ExportInfo),
        title: String,
        trade_fill_id: Option<i64>,
    ) -> Result<GalleryItem, AppError> {
        let format = info.format;
        std::fs::create_dir_all(&self.gallery_dir).map_err(|e| io_err(&self.gallery_dir, e))?;
        let created_ms = now_ms();
        let file = unique_name(
            &self.gallery_dir,
            &format!("{created_ms}-{}", spec.template),
            format.extension(),
        );
        let path = self.gallery_dir.join(&file);
        write_atomically(&path, bytes)?;
        let row = NewMeme {
            created_ms,
            template_id: spec.template.clone(),
            title: truncate_chars(&title, 500),
            file: file.clone(),
            format: format_name(format).into(),
            width: info.width,
            height: info.height,
            bytes: bytes.len() as u64,
            frames: u32::try_from(info.frames).unwrap_or(u32::MAX),
            spec: serde_json::to_string(spec).map_err(|e| AppError::Io {
                message: format!("cannot serialise the meme: {e}"),
            })?,
            trade_fill_id,
        };
        match ledger.insert_meme(row).wait() {
            Ok(row) => Ok(GalleryItem {
                row,
                path,
                exists: true,
            }),
            Err(e) => {
                // Nothing acknowledged: take the file back.
                let _ = std::fs::remove_file(&path);
                Err(e.into())
            }
        }
    }

    fn item(&self, row: MemeRow) -> GalleryItem {
        let path = self.gallery_dir.join(&row.meme.file);
        let exists = path.is_file();
        GalleryItem { row, path, exists }
    }

    /// Saved memes, newest first, filtered by `search` (words in the captions or template id).
    pub fn gallery(
        &self,
        ledger: &Ledger,
        search: Option<&str>,
        limit: usize,
    ) -> Result<Vec<GalleryItem>, AppError> {
        Ok(ledger
            .memes(search, limit)
            .wait()?
            .into_iter()
            .map(|r| self.item(r))
            .collect())
    }

    pub fn gallery_item(&self, ledger: &Ledger, id: i64) -> Result<GalleryItem, AppError> {
        let row = ledger.meme(id).wait()?.ok_or_else(|| no_meme(id))?;
        Ok(self.item(row))
    }

    /// The edit a saved meme was made with (to reopen it in the editor).
    pub fn saved_spec(&self, ledger: &Ledger, id: i64) -> Result<MemeSpec, AppError> {
        let item = self.gallery_item(ledger, id)?;
        serde_json::from_str(&item.row.meme.spec).map_err(|e| {
            AppError::invalid(
                "meme.bad_spec",
                format!("saved meme {id} cannot be reopened: {e}"),
            )
        })
    }

    /// Exports a saved meme to `dest`: the saved file as it is when the format matches,
    /// otherwise rendered again from its edit in the format of `dest`'s extension.
    pub fn export_saved(&self, ledger: &Ledger, id: i64, dest: &Path) -> Result<PathBuf, AppError> {
        let item = self.gallery_item(ledger, id)?;
        let want = ExportFormat::from_path(dest)?;
        if format_name(want) == item.row.meme.format && item.exists {
            let bytes = std::fs::read(&item.path).map_err(|e| io_err(&item.path, e))?;
            write_atomically(dest, &bytes)?;
        } else if item.row.meme.trade_fill_id.is_some() && format_name(want) != item.row.meme.format
        {
            return Err(AppError::invalid(
                "meme.convert_card",
                format!(
                    "meme {id} is a trade card saved as {}; export it as .{} (cards are not re-rendered)",
                    item.row.meme.format,
                    item.row.meme.format.replace("jpeg", "jpg")
                ),
            ));
        } else {
            let spec = self.saved_spec(ledger, id)?;
            self.export(&spec, dest)?;
        }
        Ok(dest.to_path_buf())
    }

    /// Deletes a saved meme: its row, then its file.
    pub fn delete(&self, ledger: &Ledger, id: i64) -> Result<GalleryItem, AppError> {
        let row = ledger.delete_meme(id).wait()?.ok_or_else(|| no_meme(id))?;
        let item = self.item(row);
        if item.exists {
            if let Err(e) = std::fs::remove_file(&item.path) {
                tracing::warn!(path = %item.path.display(), error = %e, "could not remove a deleted meme's file");
            }
        }
        Ok(item)
    }

    /// Imports an image or GIF as a template named `name`, with a top and a bottom caption box
    /// (move them in the editor). The image is checked (format, size, frames) before anything
    /// is written; on any error nothing is left behind.
    pub fn import_template(
        &mut self,
        ledger: &Ledger,
        image: &Path,
        name: &str,
        keywords: &[String],
    ) -> Result<TemplateView, AppError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(AppError::invalid(
                "meme.bad_name",
                "a template name must be 1 to 80 characters",
            ));
        }
        let source = ImageSource::File(image.to_path_buf());
        let info = source.probe(&self.limits)?;
        let ext = match info.format {
            papermemes_meme::SourceFormat::Png => "png",
            papermemes_meme::SourceFormat::Jpeg => "jpg",
            papermemes_meme::SourceFormat::WebP => "webp",
            papermemes_meme::SourceFormat::Gif => "gif",
            papermemes_meme::SourceFormat::Raw => {
                return Err(AppError::invalid(
                    "meme.bad_image",
                    format!("{} is not an image file", image.display()),
                ))
            }
        };
        let id = self.free_id(ledger, &slug(name))?;
        let boxes = default_boxes();
        // Checked in memory first, so a bad import writes nothing.
        Template::from_image(&id, name, source, boxes.clone(), &self.limits)?;
        let dir = self.user_dir.join(&id);
        let staging = self.user_dir.join(format!(".{id}.part"));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging).map_err(|e| io_err(&staging, e))?;
        let result = (|| -> Result<Template, AppError> {
            let image_file = format!("image.{ext}");
            let dest = staging.join(&image_file);
            std::fs::copy(image, &dest).map_err(|e| io_err(image, e))?;
            let file = papermemes_meme::TemplateFile {
                name: name.to_string(),
                image: image_file,
                keywords: keywords.to_vec(),
                tags: vec!["mine".into()],
                examples: Vec::new(),
                layout: Layout::TopBottom,
                source: format!(
                    "imported by the user from {}",
                    image
                        .file_name()
                        .map(|f| f.to_string_lossy())
                        .unwrap_or_default()
                ),
                license: "user".into(),
                attribution: String::new(),
                text: boxes,
                overlay: Vec::new(),
            };
            let toml = toml::to_string_pretty(&file).map_err(|e| AppError::Io {
                message: format!("cannot write template.toml: {e}"),
            })?;
            write_atomically(
                &staging.join(papermemes_meme::TEMPLATE_FILE),
                toml.as_bytes(),
            )?;
            std::fs::rename(&staging, &dir).map_err(|e| io_err(&dir, e))?;
            Ok(papermemes_meme::load_template_with(&dir, &self.limits)?)
        })();
        let template = match result {
            Ok(t) => t,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&staging);
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let row = UserTemplateRow {
            id: id.clone(),
            name: name.to_string(),
            created_ms: now_ms(),
            keywords: keywords.join(" "),
            source_name: image
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        if let Err(e) = ledger.insert_user_template(row).wait() {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e.into());
        }
        self.user_ids.push(id.clone());
        self.library.add(template);
        let t = self.template(&id)?;
        Ok(self.view(t))
    }

    /// Saves the boxes of an imported template as drawn in the editor (moved, resized, added or
    /// removed; see [`boxes_with_frames`]) into its `template.toml`.
    pub fn update_user_frames(
        &mut self,
        id: &str,
        frames: &[BoxFrame],
    ) -> Result<TemplateView, AppError> {
        let boxes = boxes_with_frames(self.template(id)?, frames)?;
        self.update_user_boxes(id, boxes)?;
        let t = self.template(id)?;
        Ok(self.view(t))
    }

    /// Saves the boxes of an imported template (drawn in the editor) into its `template.toml`.
    pub fn update_user_boxes(&mut self, id: &str, boxes: Vec<TextBox>) -> Result<(), AppError> {
        if !self.user_ids.iter().any(|u| u == id) {
            return Err(AppError::invalid(
                "meme.not_user_template",
                format!("{id:?} is not an imported template (bundled templates are read-only)"),
            ));
        }
        let mut t = self.template(id)?.clone();
        t.boxes = boxes;
        t.validate()?;
        let dir = self.user_dir.join(id);
        let path = dir.join(papermemes_meme::TEMPLATE_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
        let mut file: papermemes_meme::TemplateFile = toml::from_str(&text).map_err(|e| {
            AppError::invalid("meme.bad_template", format!("{}: {e}", path.display()))
        })?;
        file.text = t.boxes.clone();
        let toml = toml::to_string_pretty(&file).map_err(|e| AppError::Io {
            message: format!("cannot write template.toml: {e}"),
        })?;
        write_atomically(&path, toml.as_bytes())?;
        self.library.remove(id);
        self.library.add(t);
        Ok(())
    }

    /// Deletes an imported template (its row, then its folder).
    pub fn delete_user_template(&mut self, ledger: &Ledger, id: &str) -> Result<(), AppError> {
        if !ledger.delete_user_template(id).wait()? {
            return Err(AppError::invalid(
                "meme.not_user_template",
                format!("{id:?} is not an imported template"),
            ));
        }
        self.user_ids.retain(|u| u != id);
        self.library.remove(id);
        let dir = self.user_dir.join(id);
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            tracing::warn!(dir = %dir.display(), error = %e, "could not remove a deleted template's folder");
        }
        Ok(())
    }

    fn free_id(&self, ledger: &Ledger, base: &str) -> Result<String, AppError> {
        for n in 1..1000 {
            let id = if n == 1 {
                base.to_string()
            } else {
                format!("{base}-{n}")
            };
            if self.library.get(&id).is_none()
                && !ledger.has_user_template(&id).wait()?
                && !self.user_dir.join(&id).exists()
            {
                return Ok(id);
            }
        }
        Err(AppError::invalid(
            "meme.bad_name",
            format!("too many templates named like {base:?}"),
        ))
    }

    /// A meme from a trade: the template and captions chosen by its outcome (moon for a big
    /// win, rekt for a big loss), `seed` picking among the candidates.
    pub fn trade_meme(
        &self,
        trade: TradeSummary,
        fill_id: Option<i64>,
        seed: u64,
    ) -> Result<TradeMeme, AppError> {
        let outcome = pnl::Outcome::of(trade.change_pct);
        let template = pnl::pick_template(&self.library, outcome, seed)
            .or_else(|| self.library.templates().first())
            .ok_or_else(|| {
                AppError::invalid("meme.no_template", "the template library is empty")
            })?;
        let mut captions = pnl::PhraseBank::bundled().captions(&trade, seed);
        captions.truncate(template.boxes.len());
        Ok(TradeMeme {
            trade,
            template: template.id.clone(),
            captions,
            fill_id,
        })
    }

    /// Renders a trade meme (the PnL card) as `format`; `captions`/`template` may be the
    /// user's edits of what [`MemeStudio::trade_meme`] proposed.
    pub fn render_trade(
        &self,
        m: &TradeMeme,
        size: &str,
        format: ExportFormat,
    ) -> Result<Vec<u8>, AppError> {
        Ok(self.encode_trade(m, size, format)?.0)
    }

    /// The PnL card of a trade meme as straight-alpha RGBA pixels (pixels, width, height).
    pub fn trade_still(&self, m: &TradeMeme) -> Result<(Vec<u8>, u32, u32), AppError> {
        let (card, _) = self.trade_card(m, "original")?;
        Ok(raw(card.meme))
    }

    fn trade_card(
        &self,
        m: &TradeMeme,
        size: &str,
    ) -> Result<(pnl::PnlCard, RenderOptions), AppError> {
        let template = self.template(&m.template)?;
        let spec = MemeSpec {
            template: m.template.clone(),
            captions: m.captions.clone(),
            stickers: Vec::new(),
            size: size.to_string(),
            frames: None,
        };
        let (_, render) = self.prepare(&spec)?;
        let card = pnl::render_pnl_card(
            &self.renderer,
            template,
            &m.trade,
            &PnlCardOptions {
                captions: Some(m.captions.clone()),
                seed: 0,
                render: render.clone(),
            },
        )?;
        Ok((card, render))
    }

    fn encode_trade(
        &self,
        m: &TradeMeme,
        size: &str,
        format: ExportFormat,
    ) -> Result<(Vec<u8>, ExportInfo), AppError> {
        let (card, render) = self.trade_card(m, size)?;
        let mut out = Vec::new();
        let info = card.meme.encode(format, &render, &mut out)?;
        Ok((out, info))
    }

    /// Renders a trade meme into the gallery.
    pub fn save_trade(
        &self,
        ledger: &Ledger,
        m: &TradeMeme,
        format: ExportFormat,
    ) -> Result<GalleryItem, AppError> {
        let encoded = self.encode_trade(m, "original", format)?;
        let spec = MemeSpec {
            template: m.template.clone(),
            captions: m.captions.clone(),
            stickers: Vec::new(),
            size: "original".into(),
            frames: None,
        };
        let title = format!(
            "{} {} {}",
            m.trade.symbol,
            pnl::format_pct(m.trade.change_pct),
            m.captions.join(" / ")
        );
        self.store_file(ledger, &spec, &encoded, title, m.fill_id)
    }
}

/// A rendered meme's pixels with its width and height.
fn raw(m: papermemes_meme::RenderedMeme) -> (Vec<u8>, u32, u32) {
    let (w, h) = m.image.dimensions();
    (m.image.into_raw(), w, h)
}

fn no_meme(id: i64) -> AppError {
    AppError::invalid(
        "meme.no_meme",
        format!("no saved meme {id}; `papermemes meme gallery` lists them"),
    )
}

fn format_name(f: ExportFormat) -> &'static str {
    match f {
        ExportFormat::Png => "png",
        ExportFormat::Jpeg => "jpeg",
        ExportFormat::WebP => "webp",
        ExportFormat::Gif => "gif",
    }
}

fn truncate_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// A file name in `dir` that does not exist yet: `<stem>.<ext>`, `<stem>-2.<ext>`, …
fn unique_name(dir: &Path, stem: &str, ext: &str) -> String {
    let mut n = 1;
    loop {
        let name = if n == 1 {
            format!("{stem}.{ext}")
        } else {
            format!("{stem}-{n}.{ext}")
        };
        if !dir.join(&name).exists() {
            return name;
        }
        n += 1;
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder, synced before the
/// rename, so `path` is either the old file or the complete new one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.part"));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io_err(path, e)
    })
}

/// A template id from a name: lowercase ASCII letters and digits, other runs become `-`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out: String = out.trim_end_matches('-').chars().take(48).collect();
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() || !is_valid_id(&out) {
        "my-template".into()
    } else {
        out
    }
}

/// A top and a bottom caption box, the classic layout.
fn default_boxes() -> Vec<TextBox> {
    vec![
        TextBox::new(0.04, 0.02, 0.92, 0.22),
        TextBox::new(0.04, 0.76, 0.92, 0.22),
    ]
}

/// The closed trade a SELL fill ends: the average cost of the position it sold from (fills of
/// the same symbol before it, average-cost method, fees not included), from when that
/// position was opened from flat, to this fill. `prices` are the market's prices over the
/// trade (for the sparkline), oldest first; when there are fewer than two, the fills' own
/// prices in the window are used.
pub fn closed_trade(
    fills: &[store::FillRow],
    fill_id: i64,
    prices: impl FnOnce(&str, i64, i64) -> Vec<f64>,
) -> Result<TradeSummary, AppError> {
    let target = fills.iter().find(|f| f.id == fill_id).ok_or_else(|| {
        AppError::invalid(
            "meme.no_trade",
            format!("no fill {fill_id} in this account; `papermemes fills` lists them"),
        )
    })?;
    if target.side != store::Side::Sell {
        return Err(AppError::invalid(
            "meme.not_closed",
            format!(
                "fill {fill_id} is a buy, which opens a position rather than closing one; use a sell fill, or --position {}",
                target.symbol
            ),
        ));
    }
    let mut same: Vec<&store::FillRow> =
        fills.iter().filter(|f| f.symbol == target.symbol).collect();
    same.sort_by_key(|f| (f.time_ms, f.id));
    let (mut qty, mut cost) = (rust_decimal::Decimal::ZERO, rust_decimal::Decimal::ZERO);
    let mut opened_ms = None;
    for f in &same {
        if f.id == fill_id {
            break;
        }
        match f.side {
            store::Side::Buy => {
                if qty.is_zero() {
                    opened_ms = Some(f.time_ms);
                }
                qty += f.quantity;
                cost += f.quantity * f.price;
            }
            store::Side::Sell => {
                if !qty.is_zero() {
                    let sold = f.quantity.min(qty);
                    cost -= cost * sold / qty;
                    qty -= sold;
                }
                if qty.is_zero() {
                    cost = rust_decimal::Decimal::ZERO;
                    opened_ms = None;
                }
            }
        }
    }
    let (Some(opened), false) = (opened_ms, qty.is_zero()) else {
        return Err(AppError::invalid(
            "meme.not_closed",
            format!(
                "fill {fill_id} sells {} that no earlier buy in this account opened",
                target.symbol
            ),
        ));
    };
    let entry = cost / qty;
    let change = if entry.is_zero() {
        0.0
    } else {
        ((target.price - entry) / entry * rust_decimal::Decimal::ONE_HUNDRED)
            .round_dp(4)
            .to_string()
            .parse::<f64>()
            .unwrap_or(0.0)
    };
    let mut series = prices(&target.symbol, opened, target.time_ms);
    if series.len() < 2 {
        series = same
            .iter()
            .filter(|f| f.time_ms >= opened && f.time_ms <= target.time_ms)
            .filter_map(|f| f.price.to_string().parse::<f64>().ok())
            .collect();
    }
    Ok(TradeSummary {
        symbol: target.symbol.clone(),
        side: pnl::Side::Long,
        entry_price: entry.round_dp(10).normalize().to_string(),
        exit_price: target.price.normalize().to_string(),
        entry_time_ms: opened,
        exit_time_ms: Some(target.time_ms),
        change_pct: change,
        prices: downsample(series, 200),
    })
}

/// An open long position at its mark price.
pub fn open_position(
    symbol: &str,
    avg_cost: rust_decimal::Decimal,
    mark: rust_decimal::Decimal,
    opened_ms: i64,
    prices: Vec<f64>,
) -> TradeSummary {
    let change = if avg_cost.is_zero() {
        0.0
    } else {
        ((mark - avg_cost) / avg_cost * rust_decimal::Decimal::ONE_HUNDRED)
            .round_dp(4)
            .to_string()
            .parse::<f64>()
            .unwrap_or(0.0)
    };
    TradeSummary {
        symbol: symbol.to_string(),
        side: pnl::Side::Long,
        entry_price: avg_cost.round_dp(10).normalize().to_string(),
        exit_price: mark.normalize().to_string(),
        entry_time_ms: opened_ms,
        exit_time_ms: None,
        change_pct: change,
        prices: downsample(prices, 200),
    }
}

/// At most `n` points, evenly spaced, keeping the first and the last.
pub fn downsample(v: Vec<f64>, n: usize) -> Vec<f64> {
    if v.len() <= n || n < 2 {
        return v;
    }
    let last = v.len() - 1;
    (0..n).map(|i| v[i * last / (n - 1)]).collect()
}

/// When the open position in `symbol` was opened from flat (a walk over the fills in time
/// order), or `None` when the fills leave it flat.
pub fn position_opened_ms(fills: &[store::FillRow], symbol: &str) -> Option<i64> {
    opened_ms(
        fills
            .iter()
            .filter(|f| f.symbol == symbol)
            .map(|f| (f.time_ms, f.id, f.side == store::Side::Buy, f.quantity)),
    )
}

/// [`position_opened_ms`] from the desk's fill views; 0 when they do not say.
pub fn opened_from_views(fills: &[crate::desk::views::FillView], symbol: &str) -> i64 {
    opened_ms(fills.iter().filter(|f| f.symbol == symbol).map(|f| {
        (
            f.time_ms,
            f.id,
            matches!(f.side, crate::desk::views::SideView::Buy),
            f.quantity,
        )
    }))
    .unwrap_or(0)
}

/// `(time_ms, id, is_buy, quantity)` of one symbol's fills, any order.
fn opened_ms(fills: impl Iterator<Item = (i64, i64, bool, rust_decimal::Decimal)>) -> Option<i64> {
    let mut fills: Vec<_> = fills.collect();
    fills.sort_by_key(|&(time, id, _, _)| (time, id));
    let mut qty = rust_decimal::Decimal::ZERO;
    let mut opened = None;
    for (time, _, buy, q) in fills {
        if buy {
            if qty.is_zero() {
                opened = Some(time);
            }
            qty += q;
        } else {
            qty = (qty - q).max(rust_decimal::Decimal::ZERO);
            if qty.is_zero() {
                opened = None;
            }
        }
    }
    opened
}

/// Closing prices of the bars that overlap `[from_ms, to_ms]`, oldest first.
pub fn closes_between(
    candles: &[papermemes_core::event::Candle],
    from_ms: i64,
    to_ms: i64,
) -> Vec<f64> {
    let start = candles.partition_point(|c| c.open_time_ms + c.interval_ms <= from_ms);
    candles[start..]
        .iter()
        .take_while(|c| c.open_time_ms <= to_ms)
        .filter_map(|c| c.close.to_string().parse::<f64>().ok())
        .collect()
}

/// A price series source for [`closed_trade`] from the bundled candles of `interval`
/// (`assets/market/candles`): loads a symbol's file when asked; empty when there is none.
pub fn bundled_closes(
    assets: PathBuf,
    interval: String,
) -> impl FnOnce(&str, i64, i64) -> Vec<f64> {
    move |symbol, from, to| {
        crate::assets::bundled_candles(&assets, symbol, &interval)
            .ok()
            .and_then(|p| papermemes_market::candles::read_candles(&p).ok())
            .map(|s| closes_between(&s.candles, from, to))
            .unwrap_or_default()
    }
}
