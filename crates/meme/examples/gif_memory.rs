//! Peak memory when captioning a long animated GIF: frames are streamed (decoded, captioned,
//! quantised and written one at a time), so peak memory stays near one canvas, not
//! frames × canvas.
//!
//! ```sh
//! cargo build --release -p papermemes-meme --example gif_memory
//! /usr/bin/time -v target/release/examples/gif_memory 200   # "Maximum resident set size"
//! ```
//!
//! Writes a `N`-frame 480×480 GIF (N = the argument, default 200) to a temp folder, then
//! captions it into another file. For scale: all 200 frames decoded at once would be
//! 200 × 480 × 480 × 4 bytes = 184 MB.

#[path = "../benches/support/cube.rs"]
mod cube;

use std::io::Write;

use cube::{cube_index, cube_palette};
use std::path::PathBuf;

use papermemes_meme::{FontBook, ImageSource, Limits, RenderOptions, Renderer, Template, TextBox};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let frames: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let side: u16 = 480;
    let dir = std::env::temp_dir().join(format!("papermemes-gif-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let input: PathBuf = dir.join("in.gif");
    {
        // Written frame by frame too (each frame a moving pattern).
        let file = std::fs::File::create(&input)?;
        let mut enc = gif::Encoder::new(std::io::BufWriter::new(file), side, side, &[])?;
        let _ = enc.set_repeat(gif::Repeat::Infinite);
        for i in 0..frames {
            let mut rgba: Vec<u8> = Vec::with_capacity(usize::from(side) * usize::from(side) * 4);
            for y in 0..u32::from(side) {
                for x in 0..u32::from(side) {
                    let v = ((x + i * 5) ^ y) as u8;
                    rgba.extend_from_slice(&[v, v.wrapping_mul(3), 255 - v, 255]);
                }
            }
            let mut f = gif::Frame::from_palette_pixels(
                side,
                side,
                cube_index(&rgba),
                cube_palette(),
                None,
            );
            f.delay = 4;
            enc.write_frame(&f)?;
        }
    }
    let renderer = Renderer::new(FontBook::load_repo()?);
    let template = Template::from_image(
        "memory",
        "memory",
        ImageSource::File(input.clone()),
        vec![
            TextBox::new(0.04, 0.02, 0.92, 0.22),
            TextBox::new(0.04, 0.76, 0.92, 0.22),
        ],
        &Limits::default(),
    )?;
    let out = dir.join("out.gif");
    let t0 = std::time::Instant::now();
    let info = renderer.export_file(
        &template,
        &["200 frames of pump", "one frame in memory at a time"],
        &RenderOptions::default(),
        &out,
    )?;
    let took = t0.elapsed();
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    let mut stdout = std::io::stdout();
    let _ = writeln!(
        stdout,
        "captioned {frames} frames {side}x{side} in {took:.2?} -> {size} bytes ({info:?})"
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
