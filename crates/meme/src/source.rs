//! Where a template's pixels come from, and reading them safely: the format and size are read
//! from the header and checked against [`Limits`] before any pixel is decoded.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::RgbaImage;

use crate::error::MemeError;

/// Limits on input and output. Anything above them is refused with a clear error before the
/// work (or the allocation) starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Widest image accepted, in pixels (checked from the header). Default 4096.
    pub max_width: u32,
    /// Tallest image accepted, in pixels (checked from the header). Default 4096.
    pub max_height: u32,
    /// Most frames an animated image may have. Default 500.
    pub max_frames: usize,
    /// Largest image file accepted, in bytes. Default 64 MiB.
    pub max_file_bytes: u64,
    /// Longest side of a rendered meme, in pixels. Default 4096.
    pub max_output_side: u32,
    /// Longest caption, in characters. Default 500.
    pub max_caption_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_width: 4096,
            max_height: 4096,
            max_frames: 500,
            max_file_bytes: 64 * 1024 * 1024,
            max_output_side: 4096,
            max_caption_chars: 500,
        }
    }
}

/// The pixels of a template or a sticker: a file, encoded bytes in memory (an import, a
/// download, a generated image), or already-decoded pixels (e.g. from an image model).
#[derive(Clone)]
pub enum ImageSource {
    /// An image file (PNG, JPEG, WebP or GIF; the format is read from its first bytes).
    File(PathBuf),
    /// An encoded image in memory. `name` is used in error messages.
    Bytes { name: String, bytes: Arc<[u8]> },
    /// Decoded RGBA pixels (straight alpha). `name` is used in error messages.
    Pixels { name: String, image: Arc<RgbaImage> },
}

impl fmt::Debug for ImageSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageSource::File(p) => f.debug_tuple("File").field(p).finish(),
            ImageSource::Bytes { name, bytes } => f
                .debug_struct("Bytes")
                .field("name", name)
                .field("len", &bytes.len())
                .finish(),
            ImageSource::Pixels { name, image } => f
                .debug_struct("Pixels")
                .field("name", name)
                .field("width", &image.width())
                .field("height", &image.height())
                .finish(),
        }
    }
}

/// The encoded format of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceFormat {
    Png,
    Jpeg,
    WebP,
    Gif,
    /// Already decoded pixels.
    Raw,
}

/// How often an animation plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Forever (the usual case).
    Infinite,
    /// This many times in all (GIF's loop count + 1 … as stored in the file).
    Finite(u16),
}

/// Timing of an animated image, read without decoding its pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnimationInfo {
    /// Number of frames (≥ 2).
    pub frames: usize,
    /// Sum of all frame delays, in hundredths of a second (GIF's unit).
    pub duration_cs: u64,
    /// The loop count.
    pub repeat: Repeat,
}

/// What the header says about an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    pub width: u32,
    pub height: u32,
    pub format: SourceFormat,
    /// `Some` for an animated GIF with at least two frames.
    pub animation: Option<AnimationInfo>,
}

impl ImageSource {
    /// A short name for messages: the file path or the given name.
    pub fn name(&self) -> String {
        match self {
            ImageSource::File(p) => p.display().to_string(),
            ImageSource::Bytes { name, .. } | ImageSource::Pixels { name, .. } => name.clone(),
        }
    }

    /// Reads the header (and, for a GIF, the frame table without decoding pixels) and checks
    /// it against `limits`.
    pub fn probe(&self, limits: &Limits) -> Result<ImageInfo, MemeError> {
        let name = self.name();
        match self {
            ImageSource::Pixels { image, .. } => {
                check_dims(&name, image.width(), image.height(), limits)?;
                Ok(ImageInfo {
                    width: image.width(),
                    height: image.height(),
                    format: SourceFormat::Raw,
                    animation: None,
                })
            }
            _ => {
                let head = self.head(limits)?;
                let format = sniff(&head).ok_or_else(|| {
                    MemeError::bad_image(&name, "not a PNG, JPEG, WebP or GIF image")
                })?;
                if format == SourceFormat::Gif {
                    let reader = self.open(limits)?;
                    probe_gif(&name, reader, limits)
                } else {
                    let bytes = self.read_all(limits)?;
                    let (width, height) = image::ImageReader::new(Cursor::new(&bytes[..]))
                        .with_guessed_format()
                        .map_err(|e| MemeError::bad_image(&name, e.to_string()))?
                        .into_dimensions()
                        .map_err(|e| MemeError::bad_image(&name, e.to_string()))?;
                    check_dims(&name, width, height, limits)?;
                    Ok(ImageInfo {
                        width,
                        height,
                        format,
                        animation: None,
                    })
                }
            }
        }
    }

    /// Decodes the image (the first frame of an animation) to RGBA, after checking its header
    /// against `limits`.
    pub fn decode(&self, limits: &Limits) -> Result<RgbaImage, MemeError> {
        let name = self.name();
        match self {
            ImageSource::Pixels { image, .. } => {
                check_dims(&name, image.width(), image.height(), limits)?;
                Ok((**image).clone())
            }
            _ => {
                let head = self.head(limits)?;
                let format = sniff(&head).ok_or_else(|| {
                    MemeError::bad_image(&name, "not a PNG, JPEG, WebP or GIF image")
                })?;
                if format == SourceFormat::Gif {
                    let mut frames = crate::gif_io::GifFrames::open(self, limits)?;
                    let frame = frames
                        .next_frame()?
                        .ok_or_else(|| MemeError::bad_image(&name, "the GIF has no frames"))?;
                    return Ok(frame.image);
                }
                let bytes = self.read_all(limits)?;
                decode_still(&name, &bytes, limits)
            }
        }
    }

    /// First bytes of the image, enough to tell its format. Refuses an empty or too-large file.
    fn head(&self, limits: &Limits) -> Result<Vec<u8>, MemeError> {
        let name = self.name();
        match self {
            ImageSource::File(path) => {
                let meta = std::fs::metadata(path).map_err(|e| MemeError::io(path, e))?;
                if meta.len() == 0 {
                    return Err(MemeError::bad_image(name, "the file is empty (0 bytes)"));
                }
                if meta.len() > limits.max_file_bytes {
                    return Err(MemeError::bad_image(
                        name,
                        format!(
                            "the file is {} bytes, larger than the limit of {} bytes",
                            meta.len(),
                            limits.max_file_bytes
                        ),
                    ));
                }
                let mut head = Vec::with_capacity(16);
                File::open(path)
                    .map_err(|e| MemeError::io(path, e))?
                    .take(16)
                    .read_to_end(&mut head)
                    .map_err(|e| MemeError::io(path, e))?;
                Ok(head)
            }
            ImageSource::Bytes { bytes, .. } => {
                if bytes.is_empty() {
                    return Err(MemeError::bad_image(name, "the image is empty (0 bytes)"));
                }
                if bytes.len() as u64 > limits.max_file_bytes {
                    return Err(MemeError::bad_image(
                        name,
                        format!(
                            "the image is {} bytes, larger than the limit of {} bytes",
                            bytes.len(),
                            limits.max_file_bytes
                        ),
                    ));
                }
                Ok(bytes[..bytes.len().min(16)].to_vec())
            }
            ImageSource::Pixels { .. } => Ok(Vec::new()),
        }
    }

    /// A streaming reader over the encoded bytes (a file is read as it is consumed).
    pub(crate) fn open(&self, limits: &Limits) -> Result<Box<dyn Read + Send>, MemeError> {
        self.head(limits)?;
        match self {
            ImageSource::File(path) => Ok(Box::new(BufReader::with_capacity(
                64 * 1024,
                File::open(path).map_err(|e| MemeError::io(path, e))?,
            ))),
            ImageSource::Bytes { bytes, .. } => Ok(Box::new(Cursor::new(ArcBytes(bytes.clone())))),
            ImageSource::Pixels { name, .. } => Err(MemeError::bad_image(
                name,
                "decoded pixels have no encoded form",
            )),
        }
    }

    fn read_all(&self, limits: &Limits) -> Result<Arc<[u8]>, MemeError> {
        self.head(limits)?;
        match self {
            ImageSource::File(path) => std::fs::read(path)
                .map(Arc::from)
                .map_err(|e| MemeError::io(path, e)),
            ImageSource::Bytes { bytes, .. } => Ok(bytes.clone()),
            ImageSource::Pixels { name, .. } => Err(MemeError::bad_image(
                name,
                "decoded pixels have no encoded form",
            )),
        }
    }

    /// A key that changes when the image does (path + size + mtime, or the buffer's identity).
    pub(crate) fn cache_key(&self) -> String {
        match self {
            ImageSource::File(p) => {
                let (len, mtime) = std::fs::metadata(p)
                    .map(|m| (m.len(), m.modified().ok()))
                    .unwrap_or((0, None));
                format!("file:{}:{len}:{mtime:?}", p.display())
            }
            ImageSource::Bytes { bytes, .. } => {
                format!("bytes:{:p}:{}", Arc::as_ptr(bytes), bytes.len())
            }
            ImageSource::Pixels { image, .. } => format!("pixels:{:p}", Arc::as_ptr(image)),
        }
    }
}

/// `Arc<[u8]>` as `AsRef<[u8]>` for a `Cursor`.
struct ArcBytes(Arc<[u8]>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// The format from an image's first bytes.
pub(crate) fn sniff(head: &[u8]) -> Option<SourceFormat> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(SourceFormat::Png)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(SourceFormat::Jpeg)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some(SourceFormat::Gif)
    } else if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        Some(SourceFormat::WebP)
    } else {
        None
    }
}

pub(crate) fn check_dims(
    name: &str,
    width: u32,
    height: u32,
    limits: &Limits,
) -> Result<(), MemeError> {
    if width == 0 || height == 0 {
        return Err(MemeError::bad_image(
            name,
            format!("the image is {width}×{height}: it has no pixels"),
        ));
    }
    if width > limits.max_width || height > limits.max_height {
        return Err(MemeError::ImageTooLarge {
            source_name: name.to_string(),
            width,
            height,
            max_width: limits.max_width,
            max_height: limits.max_height,
        });
    }
    Ok(())
}

fn decode_still(name: &str, bytes: &[u8], limits: &Limits) -> Result<RgbaImage, MemeError> {
    let open = || {
        image::ImageReader::new(Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| MemeError::bad_image(name, e.to_string()))
    };
    let (width, height) = open()?
        .into_dimensions()
        .map_err(|e| MemeError::bad_image(name, e.to_string()))?;
    let mut reader = open()?;
    check_dims(name, width, height, limits)?;
    let mut image_limits = image::Limits::default();
    image_limits.max_image_width = Some(limits.max_width);
    image_limits.max_image_height = Some(limits.max_height);
    // Room for the decoded RGBA pixels plus the decoder's own buffers.
    image_limits.max_alloc = Some(u64::from(width) * u64::from(height) * 4 * 3 + (16 << 20));
    reader.limits(image_limits);
    let decoded = reader
        .decode()
        .map_err(|e| MemeError::bad_image(name, e.to_string()))?;
    Ok(decoded.into_rgba8())
}

fn probe_gif(
    name: &str,
    reader: Box<dyn Read + Send>,
    limits: &Limits,
) -> Result<ImageInfo, MemeError> {
    let mut options = gif::DecodeOptions::new();
    options.skip_frame_decoding(true);
    options.set_memory_limit(gif::MemoryLimit::Bytes(
        std::num::NonZeroU64::new(64 << 20).expect("non-zero"),
    ));
    let mut decoder = options
        .read_info(reader)
        .map_err(|e| MemeError::bad_image(name, e.to_string()))?;
    let (width, height) = (u32::from(decoder.width()), u32::from(decoder.height()));
    check_dims(name, width, height, limits)?;
    let mut frames = 0usize;
    let mut duration_cs = 0u64;
    while let Some(frame) = decoder
        .read_next_frame()
        .map_err(|e| MemeError::bad_image(name, e.to_string()))?
    {
        frames += 1;
        duration_cs += u64::from(frame.delay);
        if frames > limits.max_frames {
            return Err(MemeError::TooManyFrames {
                source_name: name.to_string(),
                max: limits.max_frames,
            });
        }
    }
    if frames == 0 {
        return Err(MemeError::bad_image(name, "the GIF has no frames"));
    }
    let repeat = match decoder.repeat() {
        gif::Repeat::Infinite => Repeat::Infinite,
        gif::Repeat::Finite(n) => Repeat::Finite(n),
    };
    Ok(ImageInfo {
        width,
        height,
        format: SourceFormat::Gif,
        animation: (frames >= 2).then_some(AnimationInfo {
            frames,
            duration_cs,
            repeat,
        }),
    })
}

/// Resolves `file` inside `dir`, refusing absolute paths and any `..` or prefix component.
pub(crate) fn path_in_dir(dir: &Path, file: &str) -> Option<PathBuf> {
    use std::path::Component;
    let rel = Path::new(file);
    if file.is_empty() || rel.is_absolute() {
        return None;
    }
    for c in rel.components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            _ => return None,
        }
    }
    Some(dir.join(rel))
}
