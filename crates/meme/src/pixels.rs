//! Moving pixels between `image` (straight alpha) and `tiny-skia` (premultiplied alpha).

use image::RgbaImage;
use tiny_skia::{IntSize, Pixmap};

/// Straight-alpha RGBA bytes to premultiplied, in place.
pub(crate) fn premultiply(data: &mut [u8]) {
    for px in data.chunks_exact_mut(4) {
        let a = px[3];
        if a == 255 {
            continue;
        }
        if a == 0 {
            px[0] = 0;
            px[1] = 0;
            px[2] = 0;
            continue;
        }
        let a = u16::from(a);
        for c in &mut px[..3] {
            *c = ((u16::from(*c) * a + 127) / 255) as u8;
        }
    }
}

/// Premultiplied RGBA bytes to straight alpha, in place.
pub(crate) fn demultiply(data: &mut [u8]) {
    for px in data.chunks_exact_mut(4) {
        let a = px[3];
        if a == 255 || a == 0 {
            continue;
        }
        let a = u32::from(a);
        for c in &mut px[..3] {
            *c = ((u32::from(*c) * 255 + a / 2) / a).min(255) as u8;
        }
    }
}

/// An RGBA image as a premultiplied pixmap (no copy of the buffer).
pub(crate) fn rgba_to_pixmap(image: RgbaImage) -> Option<Pixmap> {
    let (w, h) = image.dimensions();
    let mut data = image.into_raw();
    premultiply(&mut data);
    Pixmap::from_vec(data, IntSize::from_wh(w, h)?)
}

/// A premultiplied pixmap as a straight-alpha RGBA image (no copy of the buffer).
pub(crate) fn pixmap_to_rgba(pixmap: Pixmap) -> RgbaImage {
    let (w, h) = (pixmap.width(), pixmap.height());
    let mut data = pixmap.take();
    demultiply(&mut data);
    RgbaImage::from_raw(w, h, data).unwrap_or_else(|| RgbaImage::new(w, h))
}

/// Resizes straight-alpha RGBA to `w`×`h` (returns the input when the size already matches).
pub(crate) fn resize(image: RgbaImage, w: u32, h: u32) -> RgbaImage {
    if image.dimensions() == (w, h) {
        return image;
    }
    let filter = if w < image.width() || h < image.height() {
        image::imageops::FilterType::Triangle
    } else {
        image::imageops::FilterType::CatmullRom
    };
    image::imageops::resize(&image, w, h, filter)
}

/// Whether every pixel is fully opaque.
pub(crate) fn is_opaque(data: &[u8]) -> bool {
    data.chunks_exact(4).all(|p| p[3] == 255)
}
