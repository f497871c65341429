//! The renderer: a template + captions + options → a meme (still, or an animated GIF streamed
//! frame by frame to a writer).

use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use image::RgbaImage;
use tiny_skia::Pixmap;

use crate::draw::{self, Frame, Layer, TextStyle};
use crate::error::MemeError;
use crate::export::{self, CountingWriter, ExportFormat, ExportInfo};
use crate::fonts::FontBook;
use crate::gif_io::{GifFrames, GifSink};
use crate::pixels;
use crate::source::{AnimationInfo, ImageSource, Limits};
use crate::template::{Case, Color, Sticker, StickerKind, Template, TextBox};
use crate::text::{self, CaptionFit};

/// The size of the exported meme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SizePreset {
    /// The template image's own size.
    #[default]
    Original,
    /// Scaled (up or down) so the longer side is this many pixels, aspect kept.
    LongSide(u32),
    /// Fitted inside an N×N square and centred, the rest filled with the background colour
    /// (for feeds that want square posts).
    Square(u32),
}

impl SizePreset {
    /// The presets the UI offers, with their ids.
    pub const PRESETS: [(&'static str, SizePreset); 4] = [
        ("original", SizePreset::Original),
        ("square-1080", SizePreset::Square(1080)),
        ("720", SizePreset::LongSide(720)),
        ("480", SizePreset::LongSide(480)),
    ];

    /// A preset by id (`original`, `square-1080`, `720`, `480`, or any `square-N` / `N`).
    pub fn parse(s: &str) -> Option<SizePreset> {
        if s == "original" {
            return Some(SizePreset::Original);
        }
        if let Some(n) = s.strip_prefix("square-") {
            return n.parse().ok().filter(|n| *n > 0).map(SizePreset::Square);
        }
        s.parse().ok().filter(|n| *n > 0).map(SizePreset::LongSide)
    }

    /// Output size and where the image sits in it, for a `w`×`h` image.
    fn geometry(self, w: u32, h: u32) -> Geometry {
        let scaled = |n: u32| {
            let s = n as f64 / w.max(h) as f64;
            (
                ((w as f64 * s).round() as u32).max(1),
                ((h as f64 * s).round() as u32).max(1),
            )
        };
        match self {
            SizePreset::Original => Geometry {
                out_w: w,
                out_h: h,
                x: 0,
                y: 0,
                w,
                h,
            },
            SizePreset::LongSide(n) => {
                let (iw, ih) = scaled(n);
                Geometry {
                    out_w: iw,
                    out_h: ih,
                    x: 0,
                    y: 0,
                    w: iw,
                    h: ih,
                }
            }
            SizePreset::Square(n) => {
                let (iw, ih) = scaled(n);
                Geometry {
                    out_w: n,
                    out_h: n,
                    x: (n - iw.min(n)) / 2,
                    y: (n - ih.min(n)) / 2,
                    w: iw,
                    h: ih,
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Geometry {
    out_w: u32,
    out_h: u32,
    /// Where the image is drawn in the output.
    x: u32,
    y: u32,
    w: u32,
    h: u32,
}

/// How to render and export.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub size: SizePreset,
    /// Stickers the user placed, drawn over everything else (after the template's overlays and
    /// the captions).
    pub stickers: Vec<Sticker>,
    /// For a still render of an animated template: which frame (0 = the first).
    pub frame: usize,
    /// Fills the padding of a square preset, and transparent pixels in a JPEG.
    pub background: Color,
    /// JPEG quality, 1–100.
    pub jpeg_quality: u8,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            size: SizePreset::Original,
            stickers: Vec::new(),
            frame: 0,
            background: Color::WHITE,
            jpeg_quality: 90,
        }
    }
}

/// A rendered still meme (for an animated template: the chosen frame, with every caption).
#[derive(Debug, Clone)]
pub struct RenderedMeme {
    /// RGBA pixels, straight alpha.
    pub image: RgbaImage,
    /// The template's animation, when it has one (export as GIF to keep it).
    pub animation: Option<AnimationInfo>,
    /// How each caption was fitted, box by box.
    pub fits: Vec<CaptionFit>,
}

impl RenderedMeme {
    /// Encodes the still image.
    pub fn encode<W: Write>(
        &self,
        format: ExportFormat,
        options: &RenderOptions,
        out: W,
    ) -> Result<ExportInfo, MemeError> {
        export::encode_still(&self.image, format, options, out)
    }
}

/// Renders memes. Cheap to clone (shares its fonts and image cache); `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Renderer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    fonts: FontBook,
    limits: Limits,
    cache: Mutex<ImageCache>,
}

/// Decoded images, most recently used last, bounded in bytes.
#[derive(Debug, Default)]
struct ImageCache {
    entries: VecDeque<(String, Arc<RgbaImage>)>,
    bytes: usize,
}

const CACHE_BYTES: usize = 192 << 20;

impl ImageCache {
    fn get(&mut self, key: &str) -> Option<Arc<RgbaImage>> {
        let i = self.entries.iter().position(|(k, _)| k == key)?;
        let e = self.entries.remove(i)?;
        let img = e.1.clone();
        self.entries.push_back(e);
        Some(img)
    }

    fn put(&mut self, key: String, img: Arc<RgbaImage>) {
        let size = img.as_raw().len();
        if size > CACHE_BYTES / 2 {
            return;
        }
        self.bytes += size;
        self.entries.push_back((key, img));
        while self.bytes > CACHE_BYTES {
            match self.entries.pop_front() {
                Some((_, old)) => self.bytes -= old.as_raw().len(),
                None => break,
            }
        }
    }
}

/// Everything drawn over the image, prepared once per render.
#[derive(Debug)]
struct Scene {
    geo: Geometry,
    background: Color,
    below: Vec<Layer>,
    /// Caption layers with their time window (fractions of the animation).
    captions: Vec<(Layer, f32, f32)>,
    above: Vec<Layer>,
    fits: Vec<CaptionFit>,
}

impl Renderer {
    /// A renderer with these fonts and the default [`Limits`].
    pub fn new(fonts: FontBook) -> Renderer {
        Renderer::with_limits(fonts, Limits::default())
    }

    /// A renderer with these fonts and limits.
    pub fn with_limits(fonts: FontBook, limits: Limits) -> Renderer {
        Renderer {
            inner: Arc::new(Inner {
                fonts,
                limits,
                cache: Mutex::new(ImageCache::default()),
            }),
        }
    }

    /// The fonts.
    pub fn fonts(&self) -> &FontBook {
        &self.inner.fonts
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// How `caption` fits `b` on an `image_w`×`image_h` image: the font size (px), lines, and
    /// whether words were broken or the text overflowed.
    pub fn fit_caption(
        &self,
        caption: &str,
        b: &TextBox,
        image_w: u32,
        image_h: u32,
    ) -> CaptionFit {
        let (w, h) = (image_w as f32, image_h as f32);
        let cased = b.case.apply(caption);
        let font = self.inner.fonts.caption_font(&b.font);
        let shaped = text::shape(&self.inner.fonts, &cased, font);
        text::fit(
            &shaped,
            b,
            b.width * w,
            b.height * h,
            min_font_size(image_w, image_h),
        )
        .fit
    }

    /// Renders a still meme: the template image (for an animated one, frame
    /// `options.frame`), its overlays, the captions (caption *i* → box *i*; fewer captions
    /// than boxes leave the rest empty) and the user's stickers.
    pub fn render<S: AsRef<str>>(
        &self,
        template: &Template,
        captions: &[S],
        options: &RenderOptions,
    ) -> Result<RenderedMeme, MemeError> {
        let base = self.base_image(template, options.frame)?;
        let geo = self.geometry(base.width(), base.height(), options.size)?;
        let scene = self.scene(template, captions, options, geo)?;
        let scaled = self.scaled_base(template, options.frame, &base, geo);
        let pixmap = compose(&scene, &scaled, None)?;
        Ok(RenderedMeme {
            image: pixels::pixmap_to_rgba(pixmap),
            animation: template.info.animation.clone(),
            fits: scene.fits,
        })
    }

    /// Renders and encodes a meme to `out`. An animated template exported as GIF is captioned
    /// frame by frame (streamed: one frame in memory at a time), keeping each frame's delay
    /// and the loop count; captions with a `start`/`stop` window appear only on the frames
    /// inside it. Any other case encodes the still render.
    pub fn export<S: AsRef<str>, W: Write>(
        &self,
        template: &Template,
        captions: &[S],
        options: &RenderOptions,
        format: ExportFormat,
        out: W,
    ) -> Result<ExportInfo, MemeError> {
        if format == ExportFormat::Gif && template.is_animated() {
            return self.export_animated(template, captions, options, out);
        }
        let meme = self.render(template, captions, options)?;
        meme.encode(format, options, out)
    }

    /// [`Renderer::export`] to a file, the format from its extension (`.png`, `.jpg`/`.jpeg`,
    /// `.webp`, `.gif`). The file is written beside the target and renamed into place, so a
    /// failed export leaves nothing behind.
    pub fn export_file<S: AsRef<str>>(
        &self,
        template: &Template,
        captions: &[S],
        options: &RenderOptions,
        path: &Path,
    ) -> Result<ExportInfo, MemeError> {
        let format = ExportFormat::from_path(path)?;
        let tmp = path.with_extension(format!("{}.part", format.extension()));
        let file = std::fs::File::create(&tmp).map_err(|e| MemeError::io(&tmp, e))?;
        let result = self
            .export(
                template,
                captions,
                options,
                format,
                std::io::BufWriter::new(file),
            )
            .and_then(|info| {
                std::fs::rename(&tmp, path).map_err(|e| MemeError::io(path, e))?;
                Ok(info)
            });
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }

    fn export_animated<S: AsRef<str>, W: Write>(
        &self,
        template: &Template,
        captions: &[S],
        options: &RenderOptions,
        out: W,
    ) -> Result<ExportInfo, MemeError> {
        let anim = template
            .info
            .animation
            .clone()
            .ok_or_else(|| MemeError::bad_input("template", "not animated"))?;
        let geo = self.geometry(template.info.width, template.info.height, options.size)?;
        let scene = self.scene(template, captions, options, geo)?;
        let mut frames = GifFrames::open(&template.image, &self.inner.limits)?;
        let counted = CountingWriter {
            inner: out,
            bytes: 0,
        };
        let mut sink = GifSink::new(counted, geo.out_w, geo.out_h, anim.repeat)?;
        let mut elapsed_cs = 0u64;
        let mut index = 0usize;
        let mut rgba = Vec::new();
        while let Some(frame) = frames.next_frame()? {
            let t = if anim.duration_cs > 0 {
                elapsed_cs as f32 / anim.duration_cs as f32
            } else {
                index as f32 / anim.frames.max(1) as f32
            };
            let scaled = pixels::resize(frame.image, geo.w, geo.h);
            let pixmap = compose(&scene, &scaled, Some(t))?;
            drop(scaled);
            rgba.clear();
            rgba.extend_from_slice(pixmap.data());
            pixels::demultiply(&mut rgba);
            sink.write(&rgba, frame.delay_cs)?;
            elapsed_cs += u64::from(frame.delay_cs);
            index += 1;
        }
        let (frames_written, palettes) = (sink.frames, sink.palettes);
        let counted = sink.finish()?;
        let mut inner = counted.inner;
        inner.flush().map_err(|e| MemeError::encode("GIF", e))?;
        Ok(ExportInfo {
            format: ExportFormat::Gif,
            width: geo.out_w,
            height: geo.out_h,
            frames: frames_written,
            bytes: counted.bytes,
            palettes,
        })
    }

    fn geometry(&self, w: u32, h: u32, size: SizePreset) -> Result<Geometry, MemeError> {
        let geo = size.geometry(w, h);
        let max = self.inner.limits.max_output_side;
        if geo.out_w > max || geo.out_h > max {
            return Err(MemeError::bad_input(
                "size",
                format!(
                    "the output would be {}×{}, larger than the limit of {max} a side",
                    geo.out_w, geo.out_h
                ),
            ));
        }
        Ok(geo)
    }

    /// The decoded template image (frame `frame` of an animation), cached.
    fn base_image(&self, template: &Template, frame: usize) -> Result<Arc<RgbaImage>, MemeError> {
        let key = format!("{}#{frame}", template.image.cache_key());
        if let Some(img) = self.cache().get(&key) {
            return Ok(img);
        }
        let img = if template.is_animated() && frame > 0 {
            let mut frames = GifFrames::open(&template.image, &self.inner.limits)?;
            let mut last = None;
            for _ in 0..=frame {
                match frames.next_frame()? {
                    Some(f) => last = Some(f.image),
                    None => break,
                }
            }
            last.ok_or_else(|| MemeError::bad_image(template.image.name(), "no frames"))?
        } else {
            template.image.decode(&self.inner.limits)?
        };
        let img = Arc::new(img);
        self.cache().put(key, img.clone());
        Ok(img)
    }

    fn scaled_base(
        &self,
        template: &Template,
        frame: usize,
        base: &Arc<RgbaImage>,
        geo: Geometry,
    ) -> Arc<RgbaImage> {
        if base.dimensions() == (geo.w, geo.h) {
            return base.clone();
        }
        let key = format!("{}#{frame}@{}x{}", template.image.cache_key(), geo.w, geo.h);
        if let Some(img) = self.cache().get(&key) {
            return img;
        }
        let img = Arc::new(pixels::resize((**base).clone(), geo.w, geo.h));
        self.cache().put(key, img.clone());
        img
    }

    fn sticker_image(&self, src: &ImageSource) -> Result<Arc<RgbaImage>, MemeError> {
        let key = src.cache_key();
        if let Some(img) = self.cache().get(&key) {
            return Ok(img);
        }
        let img = Arc::new(src.decode(&self.inner.limits)?);
        self.cache().put(key, img.clone());
        Ok(img)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, ImageCache> {
        self.inner.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn scene<S: AsRef<str>>(
        &self,
        template: &Template,
        captions: &[S],
        options: &RenderOptions,
        geo: Geometry,
    ) -> Result<Scene, MemeError> {
        template.validate()?;
        if captions.len() > template.boxes.len() {
            return Err(MemeError::bad_input(
                "captions",
                format!(
                    "{} captions but the template {:?} has {} boxes",
                    captions.len(),
                    template.id,
                    template.boxes.len()
                ),
            ));
        }
        for (i, c) in captions.iter().enumerate() {
            let n = c.as_ref().chars().count();
            if n > self.inner.limits.max_caption_chars {
                return Err(MemeError::bad_input(
                    format!("captions[{i}]"),
                    format!(
                        "{n} characters; at most {}",
                        self.inner.limits.max_caption_chars
                    ),
                ));
            }
        }
        for (i, s) in options.stickers.iter().enumerate() {
            s.check(&format!("stickers[{i}]"))
                .map_err(|(f, m)| MemeError::bad_input(f, m))?;
        }
        if !(1..=100).contains(&options.jpeg_quality) {
            return Err(MemeError::bad_input(
                "jpeg_quality",
                format!("{} must be 1–100", options.jpeg_quality),
            ));
        }
        let book = &self.inner.fonts;
        let (ox, oy, iw, ih) = (geo.x as f32, geo.y as f32, geo.w as f32, geo.h as f32);
        let min_size = min_font_size(geo.w, geo.h);

        let mut below = Vec::new();
        for s in &template.stickers {
            if let Some(l) = self.sticker_layer(s, geo)? {
                below.push(l);
            }
        }
        let mut layers = Vec::new();
        let mut fits = Vec::new();
        for (i, b) in template.boxes.iter().enumerate() {
            let caption = captions.get(i).map(|c| c.as_ref()).unwrap_or("");
            let cased = b.case.apply(caption);
            let shaped = text::shape(book, &cased, book.caption_font(&b.font));
            let (bw, bh) = (b.width * iw, b.height * ih);
            let layout = text::fit(&shaped, b, bw, bh, min_size);
            let frame = Frame::rotated(ox + b.x * iw, oy + b.y * ih, bw, bh, b.angle);
            if let Some(layer) = draw::draw_text(
                book,
                &layout.glyphs,
                layout.fit.font_size,
                layout.stroke,
                &TextStyle::of(b),
                frame,
                layout.fit.overflow,
                geo.out_w,
                geo.out_h,
            ) {
                layers.push((layer, b.start, b.stop));
            }
            fits.push(layout.fit);
        }
        let mut above = Vec::new();
        for s in &options.stickers {
            if let Some(l) = self.sticker_layer(s, geo)? {
                above.push(l);
            }
        }
        Ok(Scene {
            geo,
            background: options.background,
            below,
            captions: layers,
            above,
            fits,
        })
    }

    fn sticker_layer(&self, s: &Sticker, geo: Geometry) -> Result<Option<Layer>, MemeError> {
        let (ox, oy, iw, ih) = (geo.x as f32, geo.y as f32, geo.w as f32, geo.h as f32);
        let cx = ox + s.x * iw;
        let cy = oy + s.y * ih;
        let target_w = (s.scale * iw).max(1.0);
        match &s.kind {
            StickerKind::Image(src) => {
                let img = self.sticker_image(src)?;
                let target_h = (target_w * img.height() as f32 / img.width() as f32).max(1.0);
                let max = self.inner.limits.max_output_side as f32 * 2.0;
                let (tw, th) = (target_w.min(max), target_h.min(max));
                let resized = pixels::resize(
                    (*img).clone(),
                    tw.round().max(1.0) as u32,
                    th.round().max(1.0) as u32,
                );
                let Some(pixmap) = pixels::rgba_to_pixmap(resized) else {
                    return Ok(None);
                };
                let frame = Frame::rotated(cx - tw / 2.0, cy - th / 2.0, tw, th, s.angle);
                Ok(draw::draw_image(&pixmap, frame, geo.out_w, geo.out_h))
            }
            StickerKind::Emoji(e) => {
                let book = &self.inner.fonts;
                let shaped = text::shape(book, e, 0);
                let Some((glyphs, ink)) = text::single_line(&shaped, 1.0) else {
                    return Ok(None);
                };
                let ink_w = (ink[2] - ink[0]).max(1e-3);
                let size = target_w / ink_w;
                let (w, h) = (target_w, (ink[3] - ink[1]) * size);
                // Glyphs relative to the ink box's top-left.
                let placed: Vec<text::PlacedGlyph> = glyphs
                    .into_iter()
                    .map(|g| text::PlacedGlyph {
                        font: g.font,
                        gid: g.gid,
                        x: (g.x - ink[0]) * size,
                        y: (g.y - ink[1]) * size,
                    })
                    .collect();
                let frame = Frame::rotated(cx - w / 2.0, cy - h / 2.0, w, h, s.angle);
                let style = TextStyle {
                    color: Color::WHITE,
                    outline: Some(Color::BLACK),
                    shadow: false,
                };
                Ok(draw::draw_text(
                    book,
                    &placed,
                    size,
                    size * 0.04,
                    &style,
                    frame,
                    false,
                    geo.out_w,
                    geo.out_h,
                ))
            }
        }
    }
}

/// The smallest font size a caption is fitted at: 1.2 % of the image's shorter side, ≥ 4 px.
fn min_font_size(w: u32, h: u32) -> f32 {
    (0.012 * w.min(h) as f32).max(4.0)
}

/// Draws the scene over a base image already at the image size of the geometry. `time` is the
/// frame's position in an animation (0..1), `None` for a still (every caption shown).
fn compose(scene: &Scene, base: &RgbaImage, time: Option<f32>) -> Result<Pixmap, MemeError> {
    let geo = scene.geo;
    let mut pixmap = if (geo.out_w, geo.out_h) == base.dimensions() {
        let mut data = base.as_raw().clone();
        pixels::premultiply(&mut data);
        tiny_skia::IntSize::from_wh(geo.out_w, geo.out_h).and_then(|s| Pixmap::from_vec(data, s))
    } else {
        let mut p = Pixmap::new(geo.out_w, geo.out_h);
        if let Some(p) = p.as_mut() {
            p.fill(scene.background.to_skia());
            let mut data = base.as_raw().clone();
            pixels::premultiply(&mut data);
            if let Some(img) = tiny_skia::IntSize::from_wh(base.width(), base.height())
                .and_then(|s| Pixmap::from_vec(data, s))
            {
                draw::blend(
                    p,
                    &Layer {
                        pixmap: img,
                        x: geo.x as i32,
                        y: geo.y as i32,
                    },
                );
            }
        }
        p
    }
    .ok_or_else(|| MemeError::bad_input("size", "cannot allocate the output image"))?;
    for l in &scene.below {
        draw::blend(&mut pixmap, l);
    }
    for (l, start, stop) in &scene.captions {
        let shown = match time {
            None => true,
            Some(t) => t >= *start && (t < *stop || *stop >= 1.0),
        };
        if shown {
            draw::blend(&mut pixmap, l);
        }
    }
    for l in &scene.above {
        draw::blend(&mut pixmap, l);
    }
    Ok(pixmap)
}

#[allow(dead_code)]
fn _assert_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Renderer>();
    let _ = Case::Upper;
}
