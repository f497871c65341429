//! Writes the test fixture templates under `crates/meme/tests/fixtures/` from images drawn
//! here in code (gradients and shapes; nothing copyrighted). Deterministic: running it again
//! gives the same files.
//!
//! `cargo run -p papermemes-meme --example make_fixtures`

use std::fs;
use std::path::Path;

use image::{Rgba, RgbaImage};

fn gradient(w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        let fx = x as f32 / w as f32;
        let fy = y as f32 / h as f32;
        // A sunset-ish diagonal gradient with a circle (the "moon") and a ground band.
        let (cx, cy, r) = (0.7 * w as f32, 0.35 * h as f32, 0.12 * w.min(h) as f32);
        let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
        if d < r {
            return Rgba([240, 232, 200, 255]);
        }
        if fy > 0.8 {
            return Rgba([30, (60.0 + 40.0 * fx) as u8, 40, 255]);
        }
        Rgba([
            (40.0 + 200.0 * fy) as u8,
            (30.0 + 90.0 * fx) as u8,
            (120.0 + 100.0 * (1.0 - fy)) as u8,
            255,
        ])
    })
}

fn panels(w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        let left = x < w / 2;
        let stripe = ((x / 40) + (y / 40)) % 2 == 0;
        match (left, stripe) {
            (true, true) => Rgba([200, 60, 60, 255]),
            (true, false) => Rgba([170, 40, 40, 255]),
            (false, true) => Rgba([60, 180, 90, 255]),
            (false, false) => Rgba([40, 150, 70, 255]),
        }
    })
}

fn star(size: u32) -> RgbaImage {
    RgbaImage::from_fn(size, size, |x, y| {
        let c = size as f32 / 2.0;
        let (dx, dy) = (x as f32 + 0.5 - c, y as f32 + 0.5 - c);
        let r = (dx * dx + dy * dy).sqrt();
        let a = dy.atan2(dx);
        let edge = c * (0.55 + 0.4 * (5.0 * a).cos().abs().powf(0.3)) * 0.95;
        if r < edge {
            Rgba([255, 210, 40, 255])
        } else {
            Rgba([0, 0, 0, 0])
        }
    })
}

fn write_gif(path: &Path, w: u16, h: u16, frames: usize, delays: &[u16]) {
    let file = fs::File::create(path).expect("create gif");
    let mut palette = Vec::new();
    for i in 0..256u32 {
        palette.extend_from_slice(&[(i * 7 % 256) as u8, (i * 3 % 256) as u8, (255 - i) as u8]);
    }
    let mut enc = gif::Encoder::new(file, w, h, &palette).expect("encoder");
    enc.set_repeat(gif::Repeat::Finite(3)).expect("repeat");
    for f in 0..frames {
        let mut idx = vec![0u8; usize::from(w) * usize::from(h)];
        let cx = (f as f32 / frames as f32) * f32::from(w);
        for y in 0..usize::from(h) {
            for x in 0..usize::from(w) {
                let band = ((y * 8) / usize::from(h)) as u8;
                let d = ((x as f32 - cx).powi(2) + (y as f32 - f32::from(h) / 2.0).powi(2)).sqrt();
                idx[y * usize::from(w) + x] = if d < f32::from(h) / 6.0 {
                    200
                } else {
                    band * 20 + 10
                };
            }
        }
        let mut frame = gif::Frame::from_indexed_pixels(w, h, idx, None);
        frame.delay = delays[f % delays.len()];
        enc.write_frame(&frame).expect("frame");
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let dir = |name: &str| {
        let d = root.join(name);
        fs::create_dir_all(&d).expect("mkdir");
        d
    };

    let d = dir("gradient-moon");
    gradient(1080, 1080).save(d.join("image.png")).expect("png");
    fs::write(
        d.join("template.toml"),
        r##"name = "Gradient moon"
image = "image.png"
keywords = ["moon", "night", "sunset"]
tags = ["test", "win"]
examples = [["when PEPE does 10x", "and you sold at 2x"]]
layout = "top-bottom"
source = "drawn in code by crates/meme/examples/make_fixtures.rs"
license = "MIT"

[[text]]
x = 0.04
y = 0.02
width = 0.92
height = 0.22

[[text]]
x = 0.04
y = 0.76
width = 0.92
height = 0.22
valign = "bottom"
"##,
    )
    .expect("toml");

    let d = dir("two-panel");
    let img = image::DynamicImage::ImageRgba8(panels(800, 500)).into_rgb8();
    img.save(d.join("image.jpg")).expect("jpg");
    star(256).save(d.join("sticker-star.png")).expect("star");
    fs::write(
        d.join("template.toml"),
        r##"name = "Two panels: no / yes"
image = "image.jpg"
keywords = ["comparison", "drake", "no yes"]
tags = ["test", "choice"]
examples = [["paper hands", "diamond hands"]]
layout = "two-panel"
source = "drawn in code by crates/meme/examples/make_fixtures.rs"
license = "MIT"

[[text]]
x = 0.03
y = 0.1
width = 0.44
height = 0.8
align = "left"
valign = "top"
case = "as-typed"
color = "#FFEE00"
max_lines = 5

[[text]]
x = 0.53
y = 0.3
width = 0.44
height = 0.4
angle = -12.0
align = "right"
shadow = true
case = "mock"

[[overlay]]
image = "sticker-star.png"
x = 0.5
y = 0.12
scale = 0.12
angle = 15.0

[[overlay]]
emoji = "🚀"
x = 0.9
y = 0.85
scale = 0.1
angle = -20.0
"##,
    )
    .expect("toml");

    let d = dir("moving-dot");
    write_gif(&d.join("image.gif"), 240, 240, 12, &[4, 6, 10]);
    fs::write(
        d.join("template.toml"),
        r##"name = "Moving dot (animated)"
image = "image.gif"
keywords = ["animated", "dot"]
tags = ["test", "gif"]
source = "drawn in code by crates/meme/examples/make_fixtures.rs"
license = "MIT"

[[text]]
x = 0.05
y = 0.02
width = 0.9
height = 0.25

[[text]]
x = 0.05
y = 0.73
width = 0.9
height = 0.25
start = 0.5
stop = 1.0
"##,
    )
    .expect("toml");
    println!("fixtures written to {}", root.display());
}
