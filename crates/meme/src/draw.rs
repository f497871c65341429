//! Rasterising laid-out captions and stickers into small layers: glyph outlines become one
//! vector path that is stroked (round joins) and then filled; colour emoji are bitmaps; the
//! shadow is the text's coverage, blurred. A layer covers only its rotated box, so an animated
//! meme draws each caption once and blends the layer onto every frame.

use rustybuzz::ttf_parser::OutlineBuilder;
use tiny_skia::{
    FillRule, FilterQuality, IntRect, LineCap, LineJoin, Mask, Paint, PathBuilder, Pixmap,
    PixmapPaint, Point, Rect, Stroke, Transform,
};

use crate::fonts::FontBook;
use crate::template::{Color, TextBox};
use crate::text::PlacedGlyph;

/// A premultiplied RGBA layer placed at (`x`, `y`) in the output image.
#[derive(Debug)]
pub(crate) struct Layer {
    pub(crate) pixmap: Pixmap,
    pub(crate) x: i32,
    pub(crate) y: i32,
}

struct PathSink<'a> {
    pb: &'a mut PathBuilder,
    ox: f32,
    oy: f32,
    scale: f32,
}

impl OutlineBuilder for PathSink<'_> {
    fn move_to(&mut self, x: f32, y: f32) {
        self.pb
            .move_to(self.ox + x * self.scale, self.oy - y * self.scale);
    }
    fn line_to(&mut self, x: f32, y: f32) {
        self.pb
            .line_to(self.ox + x * self.scale, self.oy - y * self.scale);
    }
    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        self.pb.quad_to(
            self.ox + x1 * self.scale,
            self.oy - y1 * self.scale,
            self.ox + x * self.scale,
            self.oy - y * self.scale,
        );
    }
    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        self.pb.cubic_to(
            self.ox + x1 * self.scale,
            self.oy - y1 * self.scale,
            self.ox + x2 * self.scale,
            self.oy - y2 * self.scale,
            self.ox + x * self.scale,
            self.oy - y * self.scale,
        );
    }
    fn close(&mut self) {
        self.pb.close();
    }
}

/// The style of drawn text.
#[derive(Debug, Clone)]
pub(crate) struct TextStyle {
    pub(crate) color: Color,
    pub(crate) outline: Option<Color>,
    pub(crate) shadow: bool,
}

impl TextStyle {
    pub(crate) fn of(b: &TextBox) -> TextStyle {
        TextStyle {
            color: b.color,
            outline: b.outline.filter(|_| b.outline_width > 0.0),
            shadow: b.shadow,
        }
    }
}

/// Where a layer's content sits: a `w`×`h` rectangle whose top-left maps through `to_image`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    pub(crate) w: f32,
    pub(crate) h: f32,
    pub(crate) to_image: Transform,
}

impl Frame {
    /// A box at (`x`, `y`), `w`×`h`, rotated `angle` degrees clockwise about its centre.
    pub(crate) fn rotated(x: f32, y: f32, w: f32, h: f32, angle: f32) -> Frame {
        let to_image = Transform::from_translate(x + w / 2.0, y + h / 2.0)
            .pre_rotate(angle)
            .pre_translate(-w / 2.0, -h / 2.0);
        Frame { w, h, to_image }
    }

    /// The corners in image coordinates.
    pub(crate) fn corners(&self) -> [Point; 4] {
        let mut pts = [
            Point::from_xy(0.0, 0.0),
            Point::from_xy(self.w, 0.0),
            Point::from_xy(self.w, self.h),
            Point::from_xy(0.0, self.h),
        ];
        self.to_image.map_points(&mut pts);
        pts
    }

    /// Pixel rectangle of the image covered by the frame grown by `margin`, clipped to the image.
    fn pixel_bounds(&self, margin: f32, img_w: u32, img_h: u32) -> Option<IntRect> {
        let pts = self.corners();
        let min_x = pts.iter().map(|p| p.x).fold(f32::INFINITY, f32::min) - margin;
        let min_y = pts.iter().map(|p| p.y).fold(f32::INFINITY, f32::min) - margin;
        let max_x = pts.iter().map(|p| p.x).fold(f32::NEG_INFINITY, f32::max) + margin;
        let max_y = pts.iter().map(|p| p.y).fold(f32::NEG_INFINITY, f32::max) + margin;
        let x0 = min_x.floor().max(0.0) as i32;
        let y0 = min_y.floor().max(0.0) as i32;
        let x1 = (max_x.ceil() as i64).min(i64::from(img_w)) as i32;
        let y1 = (max_y.ceil() as i64).min(i64::from(img_h)) as i32;
        if x1 <= x0 || y1 <= y0 {
            return None;
        }
        IntRect::from_ltrb(x0, y0, x1, y1)
    }
}

/// Draws placed glyphs (box coordinates, `size` px per em) into a new layer.
#[allow(clippy::too_many_arguments)]
pub(crate) fn draw_text(
    book: &FontBook,
    glyphs: &[PlacedGlyph],
    size: f32,
    stroke: f32,
    style: &TextStyle,
    frame: Frame,
    clip: bool,
    img_w: u32,
    img_h: u32,
) -> Option<Layer> {
    if glyphs.is_empty() || size <= 0.0 {
        return None;
    }
    let shadow_off = if style.shadow { size * 0.05 } else { 0.0 };
    let blur = if style.shadow {
        (size * 0.06).max(1.0)
    } else {
        0.0
    };
    let margin = 2.0 + stroke + shadow_off + 3.0 * blur;
    let bounds = frame.pixel_bounds(margin, img_w, img_h)?;
    let mut layer = Pixmap::new(bounds.width(), bounds.height())?;
    let to_layer = Transform::from_translate(-(bounds.x() as f32), -(bounds.y() as f32))
        .pre_concat(frame.to_image);

    let mut pb = PathBuilder::new();
    let mut bitmaps = Vec::new();
    for g in glyphs {
        let font = &book.fonts[g.font];
        if font.has_color_bitmaps {
            bitmaps.push(g);
            continue;
        }
        let mut sink = PathSink {
            pb: &mut pb,
            ox: g.x,
            oy: g.y,
            scale: size / font.upem,
        };
        font.face().outline_glyph(g.gid, &mut sink);
    }
    let path = pb.finish();

    let clip_mask = if clip {
        let mut m = Mask::new(layer.width(), layer.height())?;
        let rect = Rect::from_xywh(0.0, 0.0, frame.w, frame.h)?;
        m.fill_path(
            &PathBuilder::from_rect(rect),
            FillRule::Winding,
            true,
            to_layer,
        );
        Some(m)
    } else {
        None
    };
    let stroke_def = Stroke {
        width: 2.0 * stroke,
        line_join: LineJoin::Round,
        line_cap: LineCap::Round,
        ..Stroke::default()
    };

    if style.shadow {
        let mut m = Mask::new(layer.width(), layer.height())?;
        let t = to_layer.post_translate(shadow_off, shadow_off);
        if let Some(p) = &path {
            m.fill_path(p, FillRule::Winding, true, t);
            if style.outline.is_some() && stroke > 0.0 {
                if let Some(sp) = p.stroke(&stroke_def, 1.0) {
                    m.fill_path(&sp, FillRule::Winding, true, t);
                }
            }
        }
        for g in &bitmaps {
            // The emoji's square as the shadow's shape.
            let r = Rect::from_xywh(g.x, g.y - size * 0.9, size * 1.15, size * 1.1);
            if let Some(r) = r {
                m.fill_path(&PathBuilder::from_rect(r), FillRule::Winding, true, t);
            }
        }
        box_blur(
            m.data_mut(),
            layer.width() as usize,
            layer.height() as usize,
            blur,
        );
        let mut paint = Paint::default();
        paint.set_color_rgba8(0, 0, 0, 150);
        if let Some(r) = Rect::from_xywh(0.0, 0.0, layer.width() as f32, layer.height() as f32) {
            layer.fill_rect(r, &paint, Transform::identity(), Some(&m));
        }
    }

    if let Some(p) = &path {
        if let Some(outline) = style.outline {
            if stroke > 0.0 {
                let mut paint = Paint::default();
                paint.set_color(outline.to_skia());
                paint.anti_alias = true;
                layer.stroke_path(p, &paint, &stroke_def, to_layer, clip_mask.as_ref());
            }
        }
        let mut paint = Paint::default();
        paint.set_color(style.color.to_skia());
        paint.anti_alias = true;
        layer.fill_path(p, &paint, FillRule::Winding, to_layer, clip_mask.as_ref());
    }

    for g in bitmaps {
        if let Some(cg) = book.color_glyph(g.font, g.gid, size) {
            let t = to_layer.pre_translate(g.x + cg.left, g.y + cg.top);
            let paint = PixmapPaint {
                quality: FilterQuality::Bilinear,
                ..PixmapPaint::default()
            };
            layer.draw_pixmap(0, 0, cg.pixmap.as_ref(), &paint, t, clip_mask.as_ref());
        }
    }
    Some(Layer {
        pixmap: layer,
        x: bounds.x(),
        y: bounds.y(),
    })
}

/// Draws a premultiplied image sticker of `w`×`h` pixels into a layer, placed by `frame`.
pub(crate) fn draw_image(image: &Pixmap, frame: Frame, img_w: u32, img_h: u32) -> Option<Layer> {
    let bounds = frame.pixel_bounds(2.0, img_w, img_h)?;
    let mut layer = Pixmap::new(bounds.width(), bounds.height())?;
    let t = Transform::from_translate(-(bounds.x() as f32), -(bounds.y() as f32))
        .pre_concat(frame.to_image)
        .pre_scale(
            frame.w / image.width() as f32,
            frame.h / image.height() as f32,
        );
    let paint = PixmapPaint {
        quality: FilterQuality::Bilinear,
        ..PixmapPaint::default()
    };
    layer.draw_pixmap(0, 0, image.as_ref(), &paint, t, None);
    Some(Layer {
        pixmap: layer,
        x: bounds.x(),
        y: bounds.y(),
    })
}

/// Source-over blend of a premultiplied layer onto a premultiplied pixmap.
pub(crate) fn blend(dst: &mut Pixmap, layer: &Layer) {
    let (dw, dh) = (dst.width() as i32, dst.height() as i32);
    let (lw, lh) = (layer.pixmap.width() as i32, layer.pixmap.height() as i32);
    let x0 = layer.x.max(0);
    let y0 = layer.y.max(0);
    let x1 = (layer.x + lw).min(dw);
    let y1 = (layer.y + lh).min(dh);
    if x1 <= x0 || y1 <= y0 {
        return;
    }
    let src = layer.pixmap.data();
    let data = dst.data_mut();
    for y in y0..y1 {
        let srow = ((y - layer.y) * lw + (x0 - layer.x)) as usize * 4;
        let drow = (y * dw + x0) as usize * 4;
        let n = (x1 - x0) as usize * 4;
        let s = &src[srow..srow + n];
        let d = &mut data[drow..drow + n];
        for (sp, dp) in s.chunks_exact(4).zip(d.chunks_exact_mut(4)) {
            let a = sp[3];
            if a == 0 {
                continue;
            }
            if a == 255 {
                dp.copy_from_slice(sp);
                continue;
            }
            let inv = 255 - u16::from(a);
            for k in 0..4 {
                let v = u16::from(sp[k]) + (u16::from(dp[k]) * inv + 127) / 255;
                dp[k] = v.min(255) as u8;
            }
        }
    }
}

/// Three box-blur passes (≈ a Gaussian with σ ≈ `radius`) over an 8-bit mask, in place.
fn box_blur(data: &mut [u8], w: usize, h: usize, radius: f32) {
    let r = (radius.round() as usize).max(1);
    if w == 0 || h == 0 {
        return;
    }
    let mut tmp = vec![0u8; data.len()];
    for _ in 0..3 {
        blur_pass(data, &mut tmp, w, h, r, true);
        blur_pass(&tmp, data, w, h, r, false);
    }
}

fn blur_pass(src: &[u8], dst: &mut [u8], w: usize, h: usize, r: usize, horizontal: bool) {
    let (outer, inner) = if horizontal { (h, w) } else { (w, h) };
    let idx = |o: usize, i: usize| if horizontal { o * w + i } else { i * w + o };
    let div = (2 * r + 1) as u32;
    for o in 0..outer {
        let mut sum: u32 = 0;
        for i in 0..=r.min(inner - 1) {
            sum += u32::from(src[idx(o, i)]);
        }
        for i in 0..inner {
            dst[idx(o, i)] = (sum / div) as u8;
            let add = i + r + 1;
            if add < inner {
                sum += u32::from(src[idx(o, add)]);
            }
            if i >= r {
                sum -= u32::from(src[idx(o, i - r)]);
            }
        }
    }
}
