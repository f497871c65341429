//! Shared helpers for the meme tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use papermemes_meme::{FontBook, Renderer};

/// One renderer (fonts parsed once) for every test in a binary.
pub fn renderer() -> &'static Renderer {
    static R: OnceLock<Renderer> = OnceLock::new();
    R.get_or_init(|| Renderer::new(FontBook::load_repo().expect("bundled fonts load")))
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Writes a template folder `<root>/<id>/` with `toml` and a small generated PNG `image.png`
/// (w×h), returning the folder.
pub fn write_template(root: &Path, id: &str, toml: &str, w: u32, h: u32) -> PathBuf {
    let dir = root.join(id);
    std::fs::create_dir_all(&dir).expect("mkdir");
    image::RgbaImage::from_fn(w, h, |x, y| {
        image::Rgba([(x % 256) as u8, (y % 256) as u8, 90, 255])
    })
    .save(dir.join("image.png"))
    .expect("write png");
    std::fs::write(dir.join("template.toml"), toml).expect("write toml");
    dir
}

/// A minimal valid template.toml with one box; `extra_box` is appended inside the [[text]].
pub fn toml_with(box_fields: &str, top: &str) -> String {
    format!(
        "name = \"Test\"\nimage = \"image.png\"\nsource = \"drawn in the test\"\nlicense = \"MIT\"\n{top}\n[[text]]\n{box_fields}\n"
    )
}

/// A PNG whose header claims `w`×`h` (IHDR and an empty IDAT, no pixel data): enough for the header check.
pub fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    // An empty IDAT: the decoder has read the whole header once it sees it.
    out.extend_from_slice(&0u32.to_be_bytes());
    out.extend_from_slice(b"IDAT");
    out.extend_from_slice(&crc32(b"IDAT").to_be_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// An animated GIF of `frames` frames (w×h), delays cycling through `delays`.
pub fn gif_bytes(w: u16, h: u16, frames: usize, delays: &[u16]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let palette: Vec<u8> = (0..=255u8).flat_map(|i| [i, 255 - i, i / 2]).collect();
        let mut enc = gif::Encoder::new(&mut out, w, h, &palette).expect("encoder");
        enc.set_repeat(gif::Repeat::Infinite).expect("repeat");
        for f in 0..frames {
            let idx: Vec<u8> = (0..usize::from(w) * usize::from(h))
                .map(|i| ((i + f * 7) % 200) as u8)
                .collect();
            let mut frame = gif::Frame::from_indexed_pixels(w, h, idx, None);
            frame.delay = delays[f % delays.len()];
            enc.write_frame(&frame).expect("frame");
        }
    }
    out
}
