//! Output formats and encoding of still images.

use std::io::Write;
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, ImageEncoder, RgbaImage};

use crate::error::MemeError;
use crate::gif_io::GifSink;
use crate::render::RenderOptions;
use crate::source::Repeat;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    /// Lossless, fast compression; RGB when the meme is opaque.
    Png,
    /// Quality from [`RenderOptions::jpeg_quality`]; transparency flattened onto
    /// [`RenderOptions::background`].
    Jpeg,
    /// Lossless WebP.
    WebP,
    /// GIF: animated for an animated template, one frame otherwise.
    Gif,
}

impl ExportFormat {
    /// Every format.
    pub const ALL: [ExportFormat; 4] = [
        ExportFormat::Png,
        ExportFormat::Jpeg,
        ExportFormat::WebP,
        ExportFormat::Gif,
    ];

    /// The format for a file extension (case-insensitive; `jpg` and `jpeg` are JPEG).
    pub fn from_extension(ext: &str) -> Option<ExportFormat> {
        match ext.to_ascii_lowercase().as_str() {
            "png" => Some(ExportFormat::Png),
            "jpg" | "jpeg" => Some(ExportFormat::Jpeg),
            "webp" => Some(ExportFormat::WebP),
            "gif" => Some(ExportFormat::Gif),
            _ => None,
        }
    }

    /// The format for a path, from its extension.
    pub fn from_path(path: &Path) -> Result<ExportFormat, MemeError> {
        path.extension()
            .and_then(|e| e.to_str())
            .and_then(ExportFormat::from_extension)
            .ok_or_else(|| {
                MemeError::UnsupportedFormat(format!(
                    "{}: the file name must end in .png, .jpg, .jpeg, .webp or .gif",
                    path.display()
                ))
            })
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Png => "png",
            ExportFormat::Jpeg => "jpg",
            ExportFormat::WebP => "webp",
            ExportFormat::Gif => "gif",
        }
    }

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            ExportFormat::Png => "image/png",
            ExportFormat::Jpeg => "image/jpeg",
            ExportFormat::WebP => "image/webp",
            ExportFormat::Gif => "image/gif",
        }
    }

    fn name(self) -> &'static str {
        match self {
            ExportFormat::Png => "PNG",
            ExportFormat::Jpeg => "JPEG",
            ExportFormat::WebP => "WebP",
            ExportFormat::Gif => "GIF",
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportInfo {
    pub format: ExportFormat,
    pub width: u32,
    pub height: u32,
    /// Frames written (1 for a still).
    pub frames: usize,
    /// Bytes written.
    pub bytes: u64,
    /// GIF only: palettes computed (1 when one shared palette served every frame).
    pub palettes: usize,
}

/// Counts bytes written.
pub(crate) struct CountingWriter<W> {
    pub(crate) inner: W,
    pub(crate) bytes: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn rgb_of(image: &RgbaImage) -> Vec<u8> {
    image
        .as_raw()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect()
}

/// Encodes a straight-alpha RGBA image.
pub(crate) fn encode_still<W: Write>(
    image: &RgbaImage,
    format: ExportFormat,
    options: &RenderOptions,
    out: W,
) -> Result<ExportInfo, MemeError> {
    let (w, h) = image.dimensions();
    let name = format.name();
    let err = |e: image::ImageError| MemeError::encode(name, e);
    let mut out = CountingWriter {
        inner: out,
        bytes: 0,
    };
    let opaque = crate::pixels::is_opaque(image.as_raw());
    let mut palettes = 0;
    match format {
        ExportFormat::Png => {
            let enc =
                PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Adaptive);
            if opaque {
                enc.write_image(&rgb_of(image), w, h, ExtendedColorType::Rgb8)
            } else {
                enc.write_image(image.as_raw(), w, h, ExtendedColorType::Rgba8)
            }
            .map_err(err)?;
        }
        ExportFormat::Jpeg => {
            let bg = options.background;
            let rgb: Vec<u8> = image
                .as_raw()
                .chunks_exact(4)
                .flat_map(|p| {
                    let a = u16::from(p[3]);
                    let mix = |c: u8, b: u8| {
                        ((u16::from(c) * a + u16::from(b) * (255 - a) + 127) / 255) as u8
                    };
                    [mix(p[0], bg.r), mix(p[1], bg.g), mix(p[2], bg.b)]
                })
                .collect();
            JpegEncoder::new_with_quality(&mut out, options.jpeg_quality.clamp(1, 100))
                .write_image(&rgb, w, h, ExtendedColorType::Rgb8)
                .map_err(err)?;
        }
        ExportFormat::WebP => {
            let enc = WebPEncoder::new_lossless(&mut out);
            if opaque {
                enc.encode(&rgb_of(image), w, h, ExtendedColorType::Rgb8)
            } else {
                enc.encode(image.as_raw(), w, h, ExtendedColorType::Rgba8)
            }
            .map_err(err)?;
        }
        ExportFormat::Gif => {
            let mut sink = GifSink::new(&mut out, w, h, Repeat::Infinite)?;
            sink.write(image.as_raw(), 0)?;
            palettes = sink.palettes;
            sink.finish()?;
        }
    }
    out.flush().map_err(|e| MemeError::encode(name, e))?;
    Ok(ExportInfo {
        format,
        width: w,
        height: h,
        frames: 1,
        bytes: out.bytes,
        palettes,
    })
}
