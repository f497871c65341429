//! Why the meme engine refused something. Every variant has a stable machine code
//! (`meme.bad_template`, `meme.image_too_large`, …) for IPC, the CLI's JSON and logs, and a
//! message that names the file and field at fault and says what to do.

use std::path::PathBuf;

use thiserror::Error;

/// An error from loading a template, decoding an image, rendering or exporting a meme.
///
/// Refusals happen before any output is written where possible: a refused export writes
/// nothing to the destination path.
#[derive(Debug, Error)]
pub enum MemeError {
    /// `template.toml` is missing, unreadable, not TOML, or breaks a rule of the format
    /// (docs/meme-templates.md). `field` is a path like `text[1].width` (empty when the whole
    /// file is at fault).
    #[error("{}: {}{message}", file.display(), if field.is_empty() { String::new() } else { format!("{field}: ") })]
    BadTemplate {
        file: PathBuf,
        field: String,
        message: String,
    },
    /// An image could not be read or decoded (0-byte file, not an image, truncated data, an
    /// unsupported format).
    #[error("{}: cannot read the image: {message}", source_name)]
    BadImage {
        source_name: String,
        message: String,
    },
    /// An image is larger than [`crate::Limits`] allows; refused from its header, before its
    /// pixels are decoded.
    #[error("{source_name}: the image is {width}×{height}, larger than the limit of {max_width}×{max_height}")]
    ImageTooLarge {
        source_name: String,
        width: u32,
        height: u32,
        max_width: u32,
        max_height: u32,
    },
    /// An animated image has more frames than [`crate::Limits::max_frames`].
    #[error("{source_name}: the animation has more than {max} frames")]
    TooManyFrames { source_name: String, max: usize },
    /// The fonts folder is missing a bundled font, or a font file does not parse.
    #[error("font {}: {message}", path.display())]
    Font { path: PathBuf, message: String },
    /// A caption, box or option given to render is out of range (too many captions, a caption
    /// too long, an output size too large, a bad colour…).
    #[error("{field}: {message}")]
    BadInput { field: String, message: String },
    /// The output format is unknown or cannot hold this meme.
    #[error("{0}")]
    UnsupportedFormat(String),
    /// Encoding the output failed.
    #[error("encoding {format} failed: {message}")]
    Encode {
        format: &'static str,
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl MemeError {
    /// Stable machine-readable code, e.g. `meme.bad_template`.
    pub fn code(&self) -> &'static str {
        match self {
            MemeError::BadTemplate { .. } => "meme.bad_template",
            MemeError::BadImage { .. } => "meme.bad_image",
            MemeError::ImageTooLarge { .. } => "meme.image_too_large",
            MemeError::TooManyFrames { .. } => "meme.too_many_frames",
            MemeError::Font { .. } => "meme.font",
            MemeError::BadInput { .. } => "meme.bad_input",
            MemeError::UnsupportedFormat(_) => "meme.unsupported_format",
            MemeError::Encode { .. } => "meme.encode",
            MemeError::Io { .. } => "meme.io",
        }
    }

    pub(crate) fn bad_template(
        file: impl Into<PathBuf>,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        MemeError::BadTemplate {
            file: file.into(),
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn bad_image(source_name: impl Into<String>, message: impl Into<String>) -> Self {
        MemeError::BadImage {
            source_name: source_name.into(),
            message: message.into(),
        }
    }

    pub(crate) fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        MemeError::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        MemeError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn encode(format: &'static str, e: impl std::fmt::Display) -> Self {
        MemeError::Encode {
            format,
            message: e.to_string(),
        }
    }
}
