//! Rendering: golden images with a perceptual tolerance, export formats, animated GIF timing
//! and caption windows, missing glyphs, bad input.
//!
//! Golden tolerance: a pixel "differs" when any channel is off by more than 40 (of 255); a
//! render passes when at most 0.5 % of its pixels differ and the mean absolute channel error is
//! at most 1.5. That absorbs anti-aliasing and float differences across platforms and
//! compilers while any layout change (a word on another line, a different font size, a missing
//! stroke or emoji) fails. `PAPERMEMES_BLESS=1 cargo test -p papermemes-meme --test render`
//! rewrites the references in tests/golden/; look at them before committing.

mod common;

use std::io::Cursor;
use std::sync::Arc;

use common::{fixtures, golden_dir, renderer};
use image::RgbaImage;
use papermemes_meme::{
    load_template, Color, ExportFormat, ImageSource, Limits, RenderOptions, SizePreset, Sticker,
    StickerKind, Template, TextBox,
};

const MAX_DIFF_FRACTION: f64 = 0.005;
const MAX_MEAN_ERROR: f64 = 1.5;
const PIXEL_THRESHOLD: u8 = 40;

fn check_golden(name: &str, img: &RgbaImage) {
    let path = golden_dir().join(format!("{name}.png"));
    if std::env::var_os("PAPERMEMES_BLESS").is_some() {
        std::fs::create_dir_all(golden_dir()).expect("mkdir");
        img.save(&path).expect("write golden");
        return;
    }
    let want = image::open(&path)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}; run with PAPERMEMES_BLESS=1 to create it",
                path.display()
            )
        })
        .into_rgba8();
    assert_eq!(want.dimensions(), img.dimensions(), "{name}: size");
    let mut differing = 0usize;
    let mut total_err = 0u64;
    for (a, b) in want.pixels().zip(img.pixels()) {
        let mut worst = 0u8;
        for k in 0..4 {
            let d = a[k].abs_diff(b[k]);
            total_err += u64::from(d);
            worst = worst.max(d);
        }
        if worst > PIXEL_THRESHOLD {
            differing += 1;
        }
    }
    let n = (img.width() * img.height()) as f64;
    let frac = differing as f64 / n;
    let mean = total_err as f64 / (n * 4.0);
    if frac > MAX_DIFF_FRACTION || mean > MAX_MEAN_ERROR {
        let got = std::env::temp_dir().join(format!("papermemes-golden-{name}.png"));
        img.save(&got).ok();
        panic!(
            "{name}: {:.3}% of pixels differ (max {:.1}%), mean error {mean:.2} (max {MAX_MEAN_ERROR}); got {} vs {}",
            frac * 100.0,
            MAX_DIFF_FRACTION * 100.0,
            got.display(),
            path.display()
        );
    }
}

fn fixture(id: &str) -> Template {
    load_template(fixtures().join(id)).expect("fixture loads")
}

#[test]
fn golden_top_bottom_with_emoji_and_scripts() {
    let t = fixture("gradient-moon");
    let m = renderer()
        .render(
            &t,
            &[
                "when PEPE does 10x 🚀",
                "and you sold at 2x — ça va? 日本語 שלום مرحبا 👍🏽",
            ],
            &RenderOptions {
                size: SizePreset::LongSide(540),
                ..RenderOptions::default()
            },
        )
        .expect("renders");
    assert_eq!(m.image.dimensions(), (540, 540));
    check_golden("top-bottom", &m.image);
}

#[test]
fn golden_panels_rotation_shadow_mock_stickers() {
    let t = fixture("two-panel");
    let m = renderer()
        .render(
            &t,
            &[
                "Selling the bottom like a genius",
                "holding through the dip",
            ],
            &RenderOptions::default(),
        )
        .expect("renders");
    check_golden("two-panel", &m.image);
}

#[test]
fn golden_square_preset_with_user_stickers() {
    let t = fixture("two-panel");
    let opts = RenderOptions {
        size: SizePreset::Square(400),
        background: Color::rgb(20, 20, 20),
        stickers: vec![
            Sticker {
                kind: StickerKind::Emoji("💎".into()),
                x: 0.25,
                y: 0.8,
                scale: 0.15,
                angle: 20.0,
            },
            Sticker {
                kind: StickerKind::Image(ImageSource::File(
                    fixtures().join("two-panel/sticker-star.png"),
                )),
                x: 0.75,
                y: 0.85,
                scale: 0.2,
                angle: 0.0,
            },
        ],
        ..RenderOptions::default()
    };
    let m = renderer()
        .render(&t, &["no", "YES"], &opts)
        .expect("renders");
    assert_eq!(m.image.dimensions(), (400, 400));
    check_golden("square-stickers", &m.image);
}

#[test]
fn golden_pnl_card() {
    use papermemes_meme::pnl::{render_pnl_card, PnlCardOptions, Side, TradeSummary};
    let t = fixture("gradient-moon");
    let trade = TradeSummary {
        symbol: "DOGEUSDT".into(),
        side: Side::Short,
        entry_price: "0.08956".into(),
        exit_price: "0.09944".into(),
        entry_time_ms: 1_704_067_200_000,
        exit_time_ms: Some(1_704_153_600_000),
        change_pct: -11.03,
        prices: (0..40)
            .map(|i| 0.0895 + (i as f64 * 0.37).sin() * 0.002 + i as f64 * 0.00025)
            .collect(),
    };
    let card = render_pnl_card(
        renderer(),
        &t,
        &trade,
        &PnlCardOptions {
            seed: 3,
            render: RenderOptions {
                size: SizePreset::LongSide(480),
                ..RenderOptions::default()
            },
            ..PnlCardOptions::default()
        },
    )
    .expect("card");
    check_golden("pnl-card", &card.meme.image);
}

#[test]
fn every_format_exports_and_decodes() {
    let t = fixture("gradient-moon");
    let opts = RenderOptions {
        size: SizePreset::LongSide(300),
        ..RenderOptions::default()
    };
    for format in ExportFormat::ALL {
        let mut out = Vec::new();
        let info = renderer()
            .export(&t, &["top", "bottom"], &opts, format, &mut out)
            .expect("exports");
        assert_eq!(info.bytes as usize, out.len(), "{format:?}");
        assert_eq!((info.width, info.height), (300, 300));
        let fmt = match format {
            ExportFormat::Png => image::ImageFormat::Png,
            ExportFormat::Jpeg => image::ImageFormat::Jpeg,
            ExportFormat::WebP => image::ImageFormat::WebP,
            ExportFormat::Gif => {
                let mut d = gif::DecodeOptions::new()
                    .read_info(Cursor::new(&out))
                    .expect("gif");
                assert_eq!((d.width(), d.height()), (300, 300));
                assert!(d.read_next_frame().expect("frame").is_some());
                continue;
            }
        };
        let back = image::load_from_memory_with_format(&out, fmt).expect("decodes");
        assert_eq!((back.width(), back.height()), (300, 300), "{format:?}");
    }
    assert_eq!(
        ExportFormat::from_extension("JPEG"),
        Some(ExportFormat::Jpeg)
    );
    assert_eq!(
        ExportFormat::from_path("a/b.bmp".as_ref())
            .expect_err("bmp")
            .code(),
        "meme.unsupported_format"
    );
}

#[test]
fn export_file_writes_atomically_and_refuses_unknown_extensions() {
    let t = fixture("gradient-moon");
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = RenderOptions {
        size: SizePreset::LongSide(200),
        ..RenderOptions::default()
    };
    let ok = dir.path().join("meme.webp");
    renderer()
        .export_file(&t, &["a", "b"], &opts, &ok)
        .expect("exports");
    assert!(ok.is_file());
    let bad = dir.path().join("meme.tiff");
    assert!(renderer().export_file(&t, &["a"], &opts, &bad).is_err());
    // A refused render (too many captions) leaves nothing behind.
    let refused = dir.path().join("refused.png");
    let e = renderer()
        .export_file(&t, &["a", "b", "c"], &opts, &refused)
        .expect_err("3 captions, 2 boxes");
    assert_eq!(e.code(), "meme.bad_input");
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").collect();
    assert_eq!(left.len(), 1, "only meme.webp: {left:?}");
}

/// Near-white pixels (caption fill) inside a rectangle of a frame.
fn white_pixels(frame: &[u8], w: usize, rect: (usize, usize, usize, usize)) -> usize {
    let (x0, y0, x1, y1) = rect;
    let mut n = 0;
    for y in y0..y1 {
        for x in x0..x1 {
            let p = &frame[(y * w + x) * 4..(y * w + x) * 4 + 4];
            if p[0] > 230 && p[1] > 230 && p[2] > 230 {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn animated_gif_keeps_timing_loop_count_and_caption_windows() {
    let t = fixture("moving-dot");
    let mut out = Vec::new();
    let info = renderer()
        .export(
            &t,
            &["always", "late"],
            &RenderOptions::default(),
            ExportFormat::Gif,
            &mut out,
        )
        .expect("exports");
    assert_eq!(info.frames, 12);

    let src = std::fs::read(fixtures().join("moving-dot/image.gif")).expect("read");
    let delays = |bytes: &[u8]| -> (Vec<u16>, gif::Repeat) {
        let mut d = gif::DecodeOptions::new()
            .read_info(Cursor::new(bytes))
            .expect("gif");
        let mut v = Vec::new();
        while let Some(f) = d.read_next_frame().expect("frame") {
            v.push(f.delay);
        }
        (v, d.repeat())
    };
    let (want, want_repeat) = delays(&src);
    let (got, got_repeat) = delays(&out);
    assert_eq!(got, want, "every frame keeps its delay");
    assert_eq!(got_repeat, want_repeat, "the loop count is kept");
    assert_eq!(got_repeat, gif::Repeat::Finite(3));

    // Box 0 (no window) on every frame; box 1 (start = 0.5) only from half the duration on.
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::RGBA);
    let mut d = opts.read_info(Cursor::new(&out)).expect("gif");
    let w = usize::from(d.width());
    let total: u32 = want.iter().map(|&d| u32::from(d)).sum();
    let mut elapsed = 0u32;
    let mut canvas = vec![0u8; w * usize::from(d.height()) * 4];
    let mut i = 0;
    while let Some(f) = d.read_next_frame().expect("frame") {
        // Output frames are full-canvas.
        assert_eq!((usize::from(f.width), f.left, f.top), (w, 0, 0));
        canvas.copy_from_slice(&f.buffer);
        let top = white_pixels(&canvas, w, (12, 5, 228, 60));
        let bottom = white_pixels(&canvas, w, (12, 175, 228, 235));
        assert!(top > 50, "frame {i}: top caption drawn ({top} white px)");
        let in_window = elapsed as f32 / total as f32 >= 0.5;
        if in_window {
            assert!(
                bottom > 50,
                "frame {i}: bottom caption drawn ({bottom} white px)"
            );
        } else {
            assert_eq!(bottom, 0, "frame {i}: bottom caption not yet shown");
        }
        elapsed += u32::from(f.delay);
        i += 1;
    }
    assert_eq!(i, 12);
}

#[test]
fn animated_template_renders_a_still_and_exports_still_formats() {
    let t = fixture("moving-dot");
    let m = renderer()
        .render(
            &t,
            &["a"],
            &RenderOptions {
                frame: 5,
                ..RenderOptions::default()
            },
        )
        .expect("renders frame 5");
    assert_eq!(m.image.dimensions(), (240, 240));
    assert_eq!(m.animation.expect("animation info").frames, 12);
    let mut out = Vec::new();
    let info = renderer()
        .export(
            &t,
            &["a"],
            &RenderOptions::default(),
            ExportFormat::Png,
            &mut out,
        )
        .expect("png of an animated template");
    assert_eq!(info.frames, 1);
}

#[test]
fn glyphs_no_font_has_render_a_visible_replacement() {
    let t = fixture("gradient-moon");
    let opts = RenderOptions {
        size: SizePreset::LongSide(300),
        ..RenderOptions::default()
    };
    // Linear B and an unassigned-in-our-fonts private-use character: no bundled font has them.
    let strange = "\u{10000}\u{10001} \u{F8FF}";
    assert!(!renderer().fonts().covers('\u{10000}'));
    let m = renderer()
        .render(&t, &[strange], &opts)
        .expect("renders, no panic");
    let plain = renderer().render(&t, &[""], &opts).expect("renders");
    let changed = m
        .image
        .pixels()
        .zip(plain.image.pixels())
        .filter(|(a, b)| a != b)
        .count();
    assert!(
        changed > 200,
        "replacement glyphs are drawn ({changed} px changed)"
    );
    assert!(m.fits[0].font_size > 0.0);
}

#[test]
fn bad_input_is_refused_with_codes() {
    let t = fixture("gradient-moon");
    let r = renderer();
    let o = RenderOptions::default();
    let code = |res: Result<papermemes_meme::RenderedMeme, papermemes_meme::MemeError>| {
        res.map(|_| ()).expect_err("refused").code()
    };
    assert_eq!(code(r.render(&t, &["1", "2", "3"], &o)), "meme.bad_input");
    let long = "x".repeat(Limits::default().max_caption_chars + 1);
    assert_eq!(code(r.render(&t, &[long.as_str()], &o)), "meme.bad_input");
    let huge = RenderOptions {
        size: SizePreset::LongSide(10_000),
        ..RenderOptions::default()
    };
    assert_eq!(code(r.render(&t, &["a"], &huge)), "meme.bad_input");
    // Absurd geometry set by an editor is caught before drawing.
    for b in [
        TextBox::new(f32::NAN, 0.1, 0.5, 0.5),
        TextBox::new(0.1, 0.1, f32::INFINITY, 0.5),
        TextBox::new(0.9, 0.9, 0.5, 0.5),
        TextBox::new(0.1, 0.1, 0.0, 0.5),
        TextBox::new(0.1, 0.1, 0.5, -1.0),
    ] {
        let mut bad = t.clone();
        bad.boxes[0] = b;
        assert_eq!(code(r.render(&bad, &["a"], &o)), "meme.bad_template");
    }
    let mut bad = t.clone();
    bad.boxes[0].angle = 1e9;
    assert_eq!(code(r.render(&bad, &["a"], &o)), "meme.bad_template");
    let sticker = RenderOptions {
        stickers: vec![Sticker {
            kind: StickerKind::Emoji("🚀".into()),
            x: 0.5,
            y: 0.5,
            scale: 0.0,
            angle: 0.0,
        }],
        ..RenderOptions::default()
    };
    assert_eq!(code(r.render(&t, &["a"], &sticker)), "meme.bad_input");
    // An unreadable sticker image is an image error, not a panic.
    let broken = RenderOptions {
        stickers: vec![Sticker {
            kind: StickerKind::Image(ImageSource::Bytes {
                name: "sticker".into(),
                bytes: Arc::from(&b"\x89PNG\r\n\x1a\nbroken"[..]),
            }),
            x: 0.5,
            y: 0.5,
            scale: 0.2,
            angle: 0.0,
        }],
        ..RenderOptions::default()
    };
    assert_eq!(code(r.render(&t, &["a"], &broken)), "meme.bad_image");
}

#[test]
fn tiny_and_extreme_boxes_do_not_panic() {
    let img = RgbaImage::from_pixel(64, 64, image::Rgba([0, 0, 0, 255]));
    let src = ImageSource::Pixels {
        name: "tiny".into(),
        image: Arc::new(img),
    };
    let mut b = TextBox::new(0.0, 0.0, 0.021, 0.021);
    b.angle = 359.0;
    let mut wide = TextBox::new(0.0, 0.0, 1.0, 1.0);
    wide.max_lines = 1;
    wide.outline_width = 0.5;
    let t = Template::from_image("tiny", "tiny", src, vec![b, wide], &Limits::default())
        .expect("valid");
    let long = "supercalifragilisticexpialidocious ".repeat(12);
    let m = renderer()
        .render(
            &t,
            &[long.as_str(), long.as_str()],
            &RenderOptions::default(),
        )
        .expect("renders");
    assert!(m.fits[0].overflow, "a 1-pixel box cannot hold the caption");
    assert!(m.fits[1].broke_words || m.fits[1].overflow);
}

#[test]
fn caption_case_transforms() {
    use papermemes_meme::Case;
    assert_eq!(Case::Upper.apply("to the moon ß"), "TO THE MOON SS");
    assert_eq!(Case::AsTyped.apply("To The moon"), "To The moon");
    assert_eq!(Case::Mock.apply("to the moon!"), "tO tHe MoOn!");
}
