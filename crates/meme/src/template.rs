//! Templates: `template.toml` beside an image (docs/meme-templates.md), checked on load, and
//! the library of them with keyword and tag search.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::MemeError;
use crate::fonts::{is_caption_font, CAPTION_FONTS, DEFAULT_FONT};
use crate::source::{path_in_dir, ImageInfo, ImageSource, Limits};

/// The file name of a template's description.
pub const TEMPLATE_FILE: &str = "template.toml";
/// Most text boxes a template may have.
pub const MAX_BOXES: usize = 8;

/// An sRGB colour with alpha, written `#RRGGBB` or `#RRGGBBAA`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Color {
    pub r: u8,
    pub g: u8,
    pub b: u8,
    pub a: u8,
}

impl Color {
    pub const WHITE: Color = Color::rgb(255, 255, 255);
    pub const BLACK: Color = Color::rgb(0, 0, 0);

    /// An opaque colour.
    pub const fn rgb(r: u8, g: u8, b: u8) -> Color {
        Color { r, g, b, a: 255 }
    }

    pub(crate) fn to_skia(self) -> tiny_skia::Color {
        tiny_skia::Color::from_rgba8(self.r, self.g, self.b, self.a)
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02X}{:02X}{:02X}", self.r, self.g, self.b)?;
        if self.a != 255 {
            write!(f, "{:02X}", self.a)?;
        }
        Ok(())
    }
}

impl FromStr for Color {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex = s
            .strip_prefix('#')
            .ok_or_else(|| format!("colour {s:?} must be #RRGGBB or #RRGGBBAA"))?;
        if !(hex.len() == 6 || hex.len() == 8) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("colour {s:?} must be #RRGGBB or #RRGGBBAA"));
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
        Ok(Color {
            r: byte(0),
            g: byte(2),
            b: byte(4),
            a: if hex.len() == 8 { byte(6) } else { 255 },
        })
    }
}

impl Serialize for Color {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Color {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// `outline`: a colour, or `""` for none.
mod opt_color {
    use super::Color;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(c: &Option<Color>, s: S) -> Result<S::Ok, S::Error> {
        match c {
            Some(c) => s.serialize_str(&c.to_string()),
            None => s.serialize_str(""),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Color>, D::Error> {
        let s = String::deserialize(d)?;
        if s.is_empty() {
            Ok(None)
        } else {
            s.parse().map(Some).map_err(serde::de::Error::custom)
        }
    }
}

/// Horizontal alignment of the lines in a box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Align {
    Left,
    #[default]
    Center,
    Right,
}

/// Vertical alignment of the text block in a box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VAlign {
    Top,
    #[default]
    Middle,
    Bottom,
}

/// How a caption's letters are cased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Case {
    /// ALL CAPS (the classic).
    #[default]
    Upper,
    /// As the user typed it.
    AsTyped,
    /// aLtErNaTiNg, starting lower-case, counting letters only.
    Mock,
}

impl Case {
    /// Applies the case to a caption.
    pub fn apply(self, text: &str) -> String {
        match self {
            Case::Upper => text.to_uppercase(),
            Case::AsTyped => text.to_string(),
            Case::Mock => {
                let mut upper = false;
                let mut out = String::with_capacity(text.len());
                for c in text.chars() {
                    if c.is_lowercase() || c.is_uppercase() {
                        if upper {
                            out.extend(c.to_uppercase());
                        } else {
                            out.extend(c.to_lowercase());
                        }
                        upper = !upper;
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        }
    }
}

/// The layout family of a template (informative, for the UI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    TopBottom,
    TwoPanel,
    FourPanel,
    Reaction,
    Label,
    ChartCaption,
    #[default]
    Other,
}

fn default_font() -> String {
    DEFAULT_FONT.to_string()
}
fn default_color() -> Color {
    Color::WHITE
}
fn default_outline() -> Option<Color> {
    Some(Color::BLACK)
}
fn default_outline_width() -> f32 {
    0.06
}
fn default_max_lines() -> u8 {
    3
}
fn default_stop() -> f32 {
    1.0
}
fn is_zero(v: &f32) -> bool {
    *v == 0.0
}

/// A caption box, in fractions of the image (docs/meme-templates.md, `[[text]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextBox {
    /// Left edge of the box before rotation.
    pub x: f32,
    /// Top edge of the box before rotation.
    pub y: f32,
    pub width: f32,
    pub height: f32,
    /// Degrees, clockwise, about the box centre.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub angle: f32,
    #[serde(default)]
    pub align: Align,
    #[serde(default)]
    pub valign: VAlign,
    /// A caption font id ([`CAPTION_FONTS`]).
    #[serde(default = "default_font")]
    pub font: String,
    /// Fill colour.
    #[serde(default = "default_color")]
    pub color: Color,
    /// Stroke colour, `None` (`""` in the file) for no outline.
    #[serde(default = "default_outline", with = "opt_color")]
    pub outline: Option<Color>,
    /// Visible outline thickness as a fraction of the font size (the stroke reaches this far
    /// outside the glyph's edge).
    #[serde(default = "default_outline_width")]
    pub outline_width: f32,
    /// A soft drop shadow behind the text.
    #[serde(default)]
    pub shadow: bool,
    #[serde(default)]
    pub case: Case,
    /// Wrap to at most this many lines (1–10).
    #[serde(default = "default_max_lines")]
    pub max_lines: u8,
    /// Animated images only: shown from this fraction of the duration…
    #[serde(default)]
    pub start: f32,
    /// …to this one.
    #[serde(default = "default_stop")]
    pub stop: f32,
}

impl TextBox {
    /// A box with every style at its default.
    pub fn new(x: f32, y: f32, width: f32, height: f32) -> TextBox {
        TextBox {
            x,
            y,
            width,
            height,
            angle: 0.0,
            align: Align::default(),
            valign: VAlign::default(),
            font: default_font(),
            color: default_color(),
            outline: default_outline(),
            outline_width: default_outline_width(),
            shadow: false,
            case: Case::default(),
            max_lines: default_max_lines(),
            start: 0.0,
            stop: 1.0,
        }
    }

    /// Checks the box against the format's rules; the error names the field (`text[i].…`).
    pub fn check(&self, i: usize) -> Result<(), (String, String)> {
        let f = |name: &str| format!("text[{i}].{name}");
        let finite = [
            ("x", self.x),
            ("y", self.y),
            ("width", self.width),
            ("height", self.height),
            ("angle", self.angle),
            ("outline_width", self.outline_width),
            ("start", self.start),
            ("stop", self.stop),
        ];
        for (name, v) in finite {
            if !v.is_finite() {
                return Err((f(name), format!("{v} is not a number")));
            }
        }
        if self.x < 0.0 {
            return Err((
                f("x"),
                format!("{} is left of the image (must be ≥ 0)", self.x),
            ));
        }
        if self.y < 0.0 {
            return Err((
                f("y"),
                format!("{} is above the image (must be ≥ 0)", self.y),
            ));
        }
        if self.width <= 0.02 {
            return Err((
                f("width"),
                format!("{} is too narrow (must be > 0.02)", self.width),
            ));
        }
        if self.height <= 0.02 {
            return Err((
                f("height"),
                format!("{} is too short (must be > 0.02)", self.height),
            ));
        }
        const EPS: f32 = 1e-4;
        if self.x + self.width > 1.0 + EPS {
            return Err((
                f("width"),
                format!(
                    "the box ends at {}, outside the image (0..1)",
                    round3(self.x + self.width)
                ),
            ));
        }
        if self.y + self.height > 1.0 + EPS {
            return Err((
                f("height"),
                format!(
                    "the box ends at {}, outside the image (0..1)",
                    round3(self.y + self.height)
                ),
            ));
        }
        if self.angle.abs() > 360.0 {
            return Err((f("angle"), format!("{} is beyond ±360 degrees", self.angle)));
        }
        if !is_caption_font(&self.font) {
            let known: Vec<&str> = CAPTION_FONTS.iter().map(|(id, _)| *id).collect();
            return Err((
                f("font"),
                format!(
                    "{:?} is not a bundled font (one of {})",
                    self.font,
                    known.join(", ")
                ),
            ));
        }
        if !(0.0..=0.5).contains(&self.outline_width) {
            return Err((
                f("outline_width"),
                format!("{} must be between 0 and 0.5", self.outline_width),
            ));
        }
        if !(1..=10).contains(&self.max_lines) {
            return Err((
                f("max_lines"),
                format!("{} must be 1 to 10", self.max_lines),
            ));
        }
        if !(0.0..=1.0).contains(&self.start) {
            return Err((f("start"), format!("{} must be within 0..1", self.start)));
        }
        if !(0.0..=1.0).contains(&self.stop) {
            return Err((f("stop"), format!("{} must be within 0..1", self.stop)));
        }
        if self.start >= self.stop {
            return Err((
                f("start"),
                format!("start {} must be before stop {}", self.start, self.stop),
            ));
        }
        Ok(())
    }
}

fn round3(v: f32) -> f32 {
    (v * 1000.0).round() / 1000.0
}

/// A sticker drawn over the image (docs/meme-templates.md, `[[overlay]]`): an image file in
/// the template's folder or an emoji, placed by its centre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverlaySpec {
    /// A file in the template's folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// An emoji rendered from the colour emoji font.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emoji: Option<String>,
    /// Centre, in fractions of the image.
    pub x: f32,
    pub y: f32,
    /// Width as a fraction of the image width, in (0, 2].
    pub scale: f32,
    /// Degrees, clockwise.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub angle: f32,
}

/// `template.toml`, as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateFile {
    pub name: String,
    pub image: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub examples: Vec<Vec<String>>,
    #[serde(default)]
    pub layout: Layout,
    pub source: String,
    pub license: String,
    #[serde(default)]
    pub attribution: String,
    pub text: Vec<TextBox>,
    #[serde(default)]
    pub overlay: Vec<OverlaySpec>,
}

/// What a sticker shows.
#[derive(Debug, Clone)]
pub enum StickerKind {
    /// An image (PNG with transparency is usual).
    Image(ImageSource),
    /// An emoji (one grapheme, e.g. "🚀"), drawn from the colour emoji font.
    Emoji(String),
}

/// A sticker placed on a meme: a template overlay, or one the user added.
#[derive(Debug, Clone)]
pub struct Sticker {
    pub kind: StickerKind,
    /// Centre, in fractions of the image.
    pub x: f32,
    pub y: f32,
    /// Width as a fraction of the image width, in (0, 2].
    pub scale: f32,
    /// Degrees, clockwise.
    pub angle: f32,
}

impl Sticker {
    /// Checks position, scale and angle; the error names the field.
    pub fn check(&self, field: &str) -> Result<(), (String, String)> {
        for (name, v) in [
            ("x", self.x),
            ("y", self.y),
            ("scale", self.scale),
            ("angle", self.angle),
        ] {
            if !v.is_finite() {
                return Err((format!("{field}.{name}"), format!("{v} is not a number")));
            }
        }
        if !(self.scale > 0.0 && self.scale <= 2.0) {
            return Err((
                format!("{field}.scale"),
                format!("{} must be in (0, 2]", self.scale),
            ));
        }
        if !(-1.0..=2.0).contains(&self.x) || !(-1.0..=2.0).contains(&self.y) {
            return Err((
                format!("{field}.x"),
                "the centre must be within -1..2 of the image".to_string(),
            ));
        }
        if let StickerKind::Emoji(e) = &self.kind {
            if e.trim().is_empty() || e.chars().count() > 16 {
                return Err((
                    format!("{field}.emoji"),
                    "must be one emoji (1–16 characters)".to_string(),
                ));
            }
        }
        Ok(())
    }
}

/// A template ready to render: checked metadata, boxes and stickers, and its image source.
///
/// The fields are public so an editor can move boxes or change styles; call
/// [`Template::validate`] after changing them (the renderer checks again anyway).
#[derive(Debug, Clone)]
pub struct Template {
    /// Stable id (the folder name): lowercase ASCII letters, digits and `-`, 1–64 chars.
    pub id: String,
    /// The folder it was loaded from (`None` for one built in memory).
    pub dir: Option<PathBuf>,
    pub name: String,
    pub keywords: Vec<String>,
    pub tags: Vec<String>,
    pub examples: Vec<Vec<String>>,
    pub layout: Layout,
    /// Where the image comes from, and its licence (SPDX id or "public-domain").
    pub source_note: String,
    pub license: String,
    pub attribution: String,
    pub boxes: Vec<TextBox>,
    pub stickers: Vec<Sticker>,
    pub image: ImageSource,
    /// Size, format and animation of the image, read when the template was loaded.
    pub info: ImageInfo,
}

/// Whether `id` is a valid template id.
pub fn is_valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Template {
    /// Builds a template in memory (an imported or generated image), checking it like a loaded
    /// one. `info` is read from `image`.
    pub fn from_image(
        id: &str,
        name: &str,
        image: ImageSource,
        boxes: Vec<TextBox>,
        limits: &Limits,
    ) -> Result<Template, MemeError> {
        let file = PathBuf::from(format!("<{id}>"));
        if !is_valid_id(id) {
            return Err(MemeError::bad_template(
                &file,
                "id",
                format!("{id:?} must be 1–64 lowercase letters, digits and '-'"),
            ));
        }
        let info = image.probe(limits)?;
        let t = Template {
            id: id.to_string(),
            dir: None,
            name: name.to_string(),
            keywords: Vec::new(),
            tags: Vec::new(),
            examples: Vec::new(),
            layout: Layout::Other,
            source_note: String::new(),
            license: String::new(),
            attribution: String::new(),
            boxes,
            stickers: Vec::new(),
            image,
            info,
        };
        t.validate()?;
        Ok(t)
    }

    /// The text a semantic search embeds: name, keywords and example captions.
    pub fn search_text(&self) -> String {
        let mut parts = vec![self.name.clone()];
        parts.extend(self.keywords.iter().cloned());
        for ex in &self.examples {
            parts.push(ex.join(" / "));
        }
        parts.join(". ")
    }

    /// Whether the image is animated.
    pub fn is_animated(&self) -> bool {
        self.info.animation.is_some()
    }

    /// Re-checks the rules that do not need the files (boxes, stickers, examples, name).
    pub fn validate(&self) -> Result<(), MemeError> {
        let file = self
            .dir
            .as_ref()
            .map(|d| d.join(TEMPLATE_FILE))
            .unwrap_or_else(|| PathBuf::from(format!("<{}>", self.id)));
        let err = |(field, msg): (String, String)| MemeError::bad_template(&file, field, msg);
        let name_len = self.name.chars().count();
        if !(1..=80).contains(&name_len) {
            return Err(err((
                "name".into(),
                format!("must be 1–80 characters (it has {name_len})"),
            )));
        }
        if self.boxes.is_empty() {
            return Err(err((
                "text".into(),
                "a template needs at least one [[text]] box".into(),
            )));
        }
        if self.boxes.len() > MAX_BOXES {
            return Err(err((
                "text".into(),
                format!("{} boxes; at most {MAX_BOXES}", self.boxes.len()),
            )));
        }
        for (i, b) in self.boxes.iter().enumerate() {
            b.check(i).map_err(err)?;
        }
        for (i, s) in self.stickers.iter().enumerate() {
            s.check(&format!("overlay[{i}]")).map_err(err)?;
        }
        for (i, ex) in self.examples.iter().enumerate() {
            if ex.len() > self.boxes.len() {
                return Err(err((
                    format!("examples[{i}]"),
                    format!(
                        "{} captions but the template has {} boxes",
                        ex.len(),
                        self.boxes.len()
                    ),
                )));
            }
        }
        Ok(())
    }
}

/// Loads and checks one template folder (`<id>/template.toml` + its image). Every rule of
/// docs/meme-templates.md is checked; the error names the file and the field.
pub fn load_template(dir: impl AsRef<Path>) -> Result<Template, MemeError> {
    load_template_with(dir.as_ref(), &Limits::default())
}

/// [`load_template`] with explicit limits.
pub fn load_template_with(dir: &Path, limits: &Limits) -> Result<Template, MemeError> {
    let file = dir.join(TEMPLATE_FILE);
    let id = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string();
    if !is_valid_id(&id) {
        return Err(MemeError::bad_template(
            dir,
            "",
            format!(
                "the folder name {id:?} is not a template id (1–64 lowercase letters, digits and '-')"
            ),
        ));
    }
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(MemeError::bad_template(
                &file,
                "",
                "missing: a template folder needs a template.toml",
            ))
        }
        Err(e) => {
            return Err(MemeError::bad_template(
                &file,
                "",
                format!("cannot read it: {e}"),
            ))
        }
    };
    let spec: TemplateFile = toml::from_str(&text).map_err(|e| {
        MemeError::bad_template(&file, "", e.to_string().trim_end().replace('\n', " "))
    })?;

    let image_path = path_in_dir(dir, &spec.image).ok_or_else(|| {
        MemeError::bad_template(
            &file,
            "image",
            format!(
                "{:?} must be a file in the template's folder (no '..', not absolute)",
                spec.image
            ),
        )
    })?;
    if !image_path.is_file() {
        return Err(MemeError::bad_template(
            &file,
            "image",
            format!("{} does not exist", image_path.display()),
        ));
    }
    let image = ImageSource::File(image_path);
    let check_image = |field: &str, src: &ImageSource| -> Result<ImageInfo, MemeError> {
        let info = src
            .probe(limits)
            .map_err(|e| MemeError::bad_template(&file, field, e.to_string()))?;
        src.decode(limits)
            .map_err(|e| MemeError::bad_template(&file, field, e.to_string()))?;
        Ok(info)
    };
    let info = check_image("image", &image)?;

    let mut stickers = Vec::with_capacity(spec.overlay.len());
    for (i, o) in spec.overlay.iter().enumerate() {
        let kind = match (&o.image, &o.emoji) {
            (Some(img), None) => {
                let field = format!("overlay[{i}].image");
                let p = path_in_dir(dir, img).ok_or_else(|| {
                    MemeError::bad_template(
                        &file,
                        &field,
                        format!("{img:?} must be a file in the template's folder (no '..', not absolute)"),
                    )
                })?;
                if !p.is_file() {
                    return Err(MemeError::bad_template(
                        &file,
                        &field,
                        format!("{} does not exist", p.display()),
                    ));
                }
                let src = ImageSource::File(p);
                check_image(&field, &src)?;
                StickerKind::Image(src)
            }
            (None, Some(e)) => StickerKind::Emoji(e.clone()),
            _ => {
                return Err(MemeError::bad_template(
                    &file,
                    format!("overlay[{i}]"),
                    "needs exactly one of `image` and `emoji`",
                ))
            }
        };
        stickers.push(Sticker {
            kind,
            x: o.x,
            y: o.y,
            scale: o.scale,
            angle: o.angle,
        });
    }
    if spec.source.trim().is_empty() {
        return Err(MemeError::bad_template(
            &file,
            "source",
            "must say where the image comes from",
        ));
    }
    if spec.license.trim().is_empty() {
        return Err(MemeError::bad_template(
            &file,
            "license",
            "must name the image's licence",
        ));
    }
    let t = Template {
        id,
        dir: Some(dir.to_path_buf()),
        name: spec.name,
        keywords: spec.keywords,
        tags: spec.tags,
        examples: spec.examples,
        layout: spec.layout,
        source_note: spec.source,
        license: spec.license,
        attribution: spec.attribution,
        boxes: spec.text,
        stickers,
        image,
        info,
    };
    t.validate()?;
    Ok(t)
}

/// A folder of template folders: the good ones, and why each bad one was refused.
#[derive(Debug, Default)]
pub struct Library {
    templates: Vec<Template>,
    errors: Vec<(PathBuf, MemeError)>,
}

impl Library {
    /// An empty library.
    pub fn new() -> Library {
        Library::default()
    }

    /// Loads every sub-folder of `dir` as a template. Never fails and never panics: a bad
    /// template (or an unreadable `dir`) is listed in [`Library::errors`].
    pub fn load(dir: impl AsRef<Path>) -> Library {
        let mut lib = Library::new();
        lib.add_dir(dir.as_ref(), &Limits::default());
        lib
    }

    /// Adds the templates of another folder (e.g. the user's imported templates). A template
    /// whose id is already in the library is refused.
    pub fn add_dir(&mut self, dir: &Path, limits: &Limits) {
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                self.errors.push((dir.to_path_buf(), MemeError::io(dir, e)));
                return;
            }
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for d in dirs {
            // A folder that is neither named like a template nor has a template.toml (e.g.
            // `LICENSES/`) is not a template: skip it quietly.
            let named_like_id = d
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_valid_id);
            if !named_like_id && !d.join(TEMPLATE_FILE).exists() {
                continue;
            }
            match load_template_with(&d, limits) {
                Ok(t) => self.add(t),
                Err(e) => self.errors.push((d, e)),
            }
        }
    }

    /// Adds one template; one with an id already present is refused (listed in errors).
    pub fn add(&mut self, t: Template) {
        if self.get(&t.id).is_some() {
            let dir = t.dir.clone().unwrap_or_default();
            let err = MemeError::bad_template(
                dir.join(TEMPLATE_FILE),
                "",
                format!("the id {:?} is already in the library", t.id),
            );
            self.errors.push((dir, err));
            return;
        }
        self.templates.push(t);
    }

    /// Removes a template by id, returning it.
    pub fn remove(&mut self, id: &str) -> Option<Template> {
        let i = self.templates.iter().position(|t| t.id == id)?;
        Some(self.templates.remove(i))
    }

    /// The templates that loaded, sorted by folder within each added folder.
    pub fn templates(&self) -> &[Template] {
        &self.templates
    }

    /// The folders that were refused, with why.
    pub fn errors(&self) -> &[(PathBuf, MemeError)] {
        &self.errors
    }

    /// A template by id.
    pub fn get(&self, id: &str) -> Option<&Template> {
        self.templates.iter().find(|t| t.id == id)
    }

    /// Every tag in use, sorted, each once.
    pub fn tags(&self) -> Vec<String> {
        let mut tags: Vec<String> = self
            .templates
            .iter()
            .flat_map(|t| t.tags.iter().map(|s| s.to_lowercase()))
            .collect();
        tags.sort();
        tags.dedup();
        tags
    }

    /// Templates carrying `tag` (case-insensitive).
    pub fn with_tag(&self, tag: &str) -> Vec<&Template> {
        let tag = tag.to_lowercase();
        self.templates
            .iter()
            .filter(|t| t.tags.iter().any(|x| x.to_lowercase() == tag))
            .collect()
    }

    /// Keyword search, case-insensitive: every word of `query` must occur in the template's
    /// id, name, keywords, tags or example captions. Best first: a word that is a whole
    /// keyword, tag or name word counts most, then one inside the name, keywords or tags,
    /// then one inside an example caption; ties keep library order. An empty query returns
    /// everything.
    pub fn search(&self, query: &str) -> Vec<&Template> {
        let words: Vec<String> = query
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        let mut scored: Vec<(u32, usize, &Template)> = self
            .templates
            .iter()
            .enumerate()
            .filter_map(|(i, t)| score(t, &words).map(|s| (s, i, t)))
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.into_iter().map(|(_, _, t)| t).collect()
    }
}

fn score(t: &Template, words: &[String]) -> Option<u32> {
    let name = t.name.to_lowercase();
    let terms: Vec<String> = t
        .keywords
        .iter()
        .chain(&t.tags)
        .map(|s| s.to_lowercase())
        .chain(std::iter::once(t.id.clone()))
        .collect();
    let examples: Vec<String> = t
        .examples
        .iter()
        .flatten()
        .map(|s| s.to_lowercase())
        .collect();
    let mut total = 0;
    for w in words {
        let whole = terms.iter().any(|k| k == w)
            || name.split(|c: char| !c.is_alphanumeric()).any(|nw| nw == w);
        let s = if whole {
            4
        } else if name.contains(w.as_str()) || terms.iter().any(|k| k.contains(w.as_str())) {
            2
        } else if examples.iter().any(|e| e.contains(w.as_str())) {
            1
        } else {
            return None;
        };
        total += s;
    }
    Some(total)
}
