//! Meme rendering speed (the targets):
//! * caption a 1080×1080 photo-like template with two boxes and export PNG (goal < 20 ms);
//! * caption a 30-frame 480×480 animated GIF and export GIF (goal < 300 ms).
//!
//! `cargo bench -p papermemes-meme --bench render`
//!
//! The images are made here (deterministic noise + gradients, so PNG and GIF compression see
//! photo-like content, not flat colour). Peak memory for a 200-frame GIF is measured with
//! `examples/gif_memory.rs` under `/usr/bin/time -v` (see docs/memes.md).

use std::sync::Arc;

#[path = "support/cube.rs"]
mod cube;

use criterion::{criterion_group, criterion_main, Criterion};
use cube::{cube_index, cube_palette};
use image::RgbaImage;
use papermemes_meme::{
    ExportFormat, FontBook, ImageSource, Limits, RenderOptions, Renderer, Template, TextBox,
};

/// A photo-like image: smooth gradients plus per-pixel noise (xorshift, fixed seed).
fn photo(w: u32, h: u32, phase: u32) -> RgbaImage {
    let mut s: u32 = 0x9E37_79B9 ^ phase.wrapping_mul(7919);
    RgbaImage::from_fn(w, h, |x, y| {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        let n = (s & 15) as i32 - 8;
        let fx = ((x + phase * 7) % w) as f32 / w as f32;
        let fy = y as f32 / h as f32;
        let c = |v: f32| (v * 255.0 + n as f32).clamp(0.0, 255.0) as u8;
        image::Rgba([
            c(0.2 + 0.6 * fx),
            c(0.3 + 0.5 * fy),
            c(0.8 - 0.5 * fx * fy),
            255,
        ])
    })
}

/// A 480×480 animated GIF of `frames` frames (each frame its own picture).
pub fn animated_gif(frames: u32, side: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc =
            gif::Encoder::new(&mut out, side as u16, side as u16, &[]).expect("gif encoder");
        enc.set_repeat(gif::Repeat::Infinite).expect("repeat");
        for i in 0..frames {
            let rgba = photo(side, side, i).into_raw();
            let mut frame = gif::Frame::from_palette_pixels(
                side as u16,
                side as u16,
                cube_index(&rgba),
                cube_palette(),
                None,
            );
            frame.delay = 4;
            enc.write_frame(&frame).expect("frame");
        }
    }
    out
}

fn two_boxes() -> Vec<TextBox> {
    vec![
        TextBox::new(0.04, 0.02, 0.92, 0.22),
        TextBox::new(0.04, 0.76, 0.92, 0.22),
    ]
}

fn bench(c: &mut Criterion) {
    let renderer = Renderer::new(FontBook::load_repo().expect("bundled fonts"));
    let limits = Limits::default();
    let captions = ["when PEPE does 10x 🚀", "and you sold at 2x"];

    let still = Template::from_image(
        "bench-still",
        "bench",
        ImageSource::Pixels {
            name: "photo".into(),
            image: Arc::new(photo(1080, 1080, 0)),
        },
        two_boxes(),
        &limits,
    )
    .expect("template");
    let opts = RenderOptions::default();
    let mut buf = Vec::with_capacity(4 << 20);
    c.bench_function("caption 1080x1080, 2 boxes, export PNG", |b| {
        b.iter(|| {
            buf.clear();
            renderer
                .export(&still, &captions, &opts, ExportFormat::Png, &mut buf)
                .expect("export");
        })
    });

    let gif = animated_gif(30, 480);
    let animated = Template::from_image(
        "bench-gif",
        "bench",
        ImageSource::Bytes {
            name: "30 frames".into(),
            bytes: Arc::from(gif),
        },
        two_boxes(),
        &limits,
    )
    .expect("template");
    let mut group = c.benchmark_group("gif");
    group.sample_size(10);
    group.bench_function("caption 30-frame 480x480 GIF, export GIF", |b| {
        b.iter(|| {
            buf.clear();
            renderer
                .export(&animated, &captions, &opts, ExportFormat::Gif, &mut buf)
                .expect("export");
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
