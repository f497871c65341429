//! Property tests of caption layout:
//! * every drawn text pixel (fill and outline stroke) lies inside its box, rotated or not;
//! * appending words to a caption never gives it a larger font.

mod common;

use std::sync::Arc;

use common::renderer;
use image::RgbaImage;
use papermemes_meme::{
    Align, Case, Color, ImageSource, Limits, RenderOptions, Template, TextBox, VAlign,
};
use proptest::prelude::*;

const W: u32 = 320;
const H: u32 = 240;

fn black() -> ImageSource {
    static IMG: std::sync::OnceLock<Arc<RgbaImage>> = std::sync::OnceLock::new();
    ImageSource::Pixels {
        name: "black".into(),
        image: IMG
            .get_or_init(|| Arc::new(RgbaImage::from_pixel(W, H, image::Rgba([0, 0, 0, 255]))))
            .clone(),
    }
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[a-zA-Z]{1,9}",
        2 => "[A-Z]{10,24}",
        1 => Just("🚀".to_string()),
        1 => Just("gm👋🏽".to_string()),
        1 => Just("ÉÀÇ".to_string()),
        1 => Just("日本語".to_string()),
        1 => Just("مرحبا".to_string()),
        1 => "[0-9]{1,6}%",
    ]
}

fn words(max: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(word(), 1..max)
}

prop_compose! {
    fn a_box()(
        x in 0.0f32..0.6,
        y in 0.0f32..0.6,
        w in 0.05f32..0.4,
        h in 0.05f32..0.4,
        angle in prop_oneof![Just(0.0f32), -45.0f32..45.0],
        align in prop_oneof![Just(Align::Left), Just(Align::Center), Just(Align::Right)],
        valign in prop_oneof![Just(VAlign::Top), Just(VAlign::Middle), Just(VAlign::Bottom)],
        max_lines in 1u8..5,
        outline_width in 0.0f32..0.15,
        font in prop_oneof![Just("anton"), Just("dejavu-sans")],
    ) -> TextBox {
        let mut b = TextBox::new(x, y, w, h);
        b.angle = angle;
        b.align = align;
        b.valign = valign;
        b.max_lines = max_lines;
        b.outline_width = outline_width;
        b.font = font.to_string();
        b.color = Color::rgb(255, 255, 255);
        b.outline = Some(Color::rgb(255, 0, 0));
        b.case = Case::AsTyped;
        b
    }
}

/// Whether the pixel centre (px, py) is inside the box rotated about its centre, grown by `tol`.
fn inside(b: &TextBox, px: f32, py: f32, tol: f32) -> bool {
    let (bx, by, bw, bh) = (
        b.x * W as f32,
        b.y * H as f32,
        b.width * W as f32,
        b.height * H as f32,
    );
    let (cx, cy) = (bx + bw / 2.0, by + bh / 2.0);
    let a = -b.angle.to_radians();
    let (dx, dy) = (px - cx, py - cy);
    let (lx, ly) = (dx * a.cos() - dy * a.sin(), dx * a.sin() + dy * a.cos());
    lx.abs() <= bw / 2.0 + tol && ly.abs() <= bh / 2.0 + tol
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn text_stays_inside_its_box(b in a_box(), caption in words(14)) {
        let caption = caption.join(" ");
        let t = Template::from_image("prop", "prop", black(), vec![b.clone()], &Limits::default())
            .expect("valid template");
        let m = renderer().render(&t, &[caption.as_str()], &RenderOptions::default()).expect("renders");
        let mut drawn = 0;
        for (x, y, p) in m.image.enumerate_pixels() {
            if p[0] > 8 || p[1] > 8 || p[2] > 8 {
                drawn += 1;
                // 1.5 px: anti-aliasing of an edge that touches the box boundary.
                prop_assert!(
                    inside(&b, x as f32 + 0.5, y as f32 + 0.5, 1.5),
                    "pixel ({x}, {y}) outside box {b:?} for {caption:?} (fit {:?})", m.fits[0]
                );
            }
        }
        prop_assert!(drawn > 0, "something is drawn for {caption:?}");
    }

    #[test]
    fn a_longer_caption_never_gets_a_larger_font(b in a_box(), first in words(10), more in words(6)) {
        let short = first.join(" ");
        let long = format!("{short} {}", more.join(" "));
        let a = renderer().fit_caption(&short, &b, W, H);
        let l = renderer().fit_caption(&long, &b, W, H);
        prop_assert!(
            l.font_size <= a.font_size + 0.02,
            "{long:?} got {} > {short:?} {}", l.font_size, a.font_size
        );
    }
}
