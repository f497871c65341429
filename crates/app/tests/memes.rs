//! The meme studio's editor services as the desktop app drives them: caption boxes moved,
//! resized, added and removed in the editor; boxes saved into an imported template; the still
//! image that goes on the clipboard; the animated preview.

use std::path::Path;

use papermemes_app::assets::find_assets_dir;
use papermemes_app::memes::{BoxFrame, MemeSpec, MemeStudio};
use papermemes_app::AppError;
use papermemes_meme::ExportFormat;
use papermemes_store::Ledger;

fn open(dir: &Path) -> (Ledger, MemeStudio) {
    let assets = find_assets_dir(None).expect("the repository's assets");
    let ledger = Ledger::open(&dir.join("papermemes.sqlite")).expect("ledger");
    let studio = MemeStudio::open(&assets, dir, &ledger).expect("studio");
    (ledger, studio)
}

fn spec(template: &str, captions: &[&str], frames: Option<Vec<BoxFrame>>) -> MemeSpec {
    MemeSpec {
        template: template.into(),
        captions: captions.iter().map(|c| c.to_string()).collect(),
        stickers: Vec::new(),
        size: "480".into(),
        frames,
    }
}

fn frame(x: f32, y: f32, width: f32, height: f32) -> BoxFrame {
    BoxFrame {
        x,
        y,
        width,
        height,
        angle: 0.0,
    }
}

/// How much the pixels of rows `from..to` (fractions of the height) differ between two
/// renders of the same size.
fn diff_in_rows(a: &(Vec<u8>, u32, u32), b: &(Vec<u8>, u32, u32), from: f32, to: f32) -> u64 {
    assert_eq!((a.1, a.2), (b.1, b.2), "same size");
    let (w, h) = (a.1 as usize, a.2 as usize);
    let (r0, r1) = ((from * h as f32) as usize, (to * h as f32) as usize);
    let mut sum = 0u64;
    for row in r0..r1.min(h) {
        for i in row * w * 4..(row + 1) * w * 4 {
            sum += u64::from(a.0[i].abs_diff(b.0[i]));
        }
    }
    sum
}

#[test]
fn a_moved_box_draws_its_caption_where_it_was_moved() {
    let dir = tempfile::tempdir().expect("tmp");
    let (_ledger, studio) = open(dir.path());
    let t = studio.template("cat-top-bottom").expect("bundled");
    let view = studio.view(t);
    assert_eq!(view.frames.len(), t.boxes.len(), "the view lists every box");
    let blank = studio
        .still(&spec("cat-top-bottom", &[], None))
        .expect("blank");
    // As the template has it: the first caption at the top.
    let top = studio
        .still(&spec("cat-top-bottom", &["HODL"], None))
        .expect("render");
    assert!(
        diff_in_rows(&top, &blank, 0.0, 0.3) > 10_000,
        "caption at the top"
    );
    assert_eq!(
        diff_in_rows(&top, &blank, 0.4, 1.0),
        0,
        "nothing lower down"
    );
    // Moved to the middle band: the top is the bare picture, the middle has the text.
    let mut frames = view.frames.clone();
    frames[0] = frame(0.1, 0.4, 0.8, 0.2);
    let moved = studio
        .still(&spec("cat-top-bottom", &["HODL"], Some(frames.clone())))
        .expect("render");
    assert_eq!(
        diff_in_rows(&moved, &blank, 0.0, 0.38),
        0,
        "the top is bare"
    );
    assert!(
        diff_in_rows(&moved, &blank, 0.4, 0.6) > 10_000,
        "the text moved"
    );
    // An added box takes a caption of its own.
    frames.push(frame(0.1, 0.05, 0.8, 0.15));
    let three = studio
        .still(&spec("cat-top-bottom", &["", "", "WEN"], Some(frames)))
        .expect("render");
    assert!(diff_in_rows(&three, &blank, 0.05, 0.2) > 10_000);
    assert_eq!(diff_in_rows(&three, &blank, 0.3, 1.0), 0);
}

#[test]
fn boxes_outside_the_picture_or_too_many_are_refused_with_the_box_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let (_ledger, studio) = open(dir.path());
    let err = |frames: Vec<BoxFrame>| match studio.still(&spec("cat-top-bottom", &[], Some(frames)))
    {
        Err(AppError::Invalid { code, message }) => (code, message),
        other => panic!("expected a refusal, got {:?}", other.map(|r| (r.1, r.2))),
    };
    let (code, message) = err(vec![frame(0.1, 0.1, 0.5, 0.2), frame(0.6, 0.9, 0.5, 0.2)]);
    assert_eq!(code, "meme.bad_box");
    assert!(message.contains("text[1]"), "{message}");
    let (code, message) = err(Vec::new());
    assert_eq!(code, "meme.bad_box");
    assert!(message.contains("1 to 8"), "{message}");
    let (code, _) = err(vec![frame(0.1, 0.1, 0.2, 0.05); 9]);
    assert_eq!(code, "meme.bad_box");
    let (code, message) = err(vec![frame(f32::NAN, 0.1, 0.2, 0.2)]);
    assert_eq!(code, "meme.bad_box");
    assert!(message.contains("not a number"), "{message}");
    // More captions than boxes is an error too, not a silent drop.
    match studio.still(&spec(
        "cat-top-bottom",
        &["a", "b", "c"],
        Some(vec![frame(0.1, 0.1, 0.5, 0.2)]),
    )) {
        Err(AppError::Invalid { code, .. }) => assert_eq!(code, "meme.too_many_captions"),
        other => panic!("expected a refusal, got {:?}", other.map(|r| (r.1, r.2))),
    }
}

#[test]
fn boxes_drawn_on_an_imported_template_are_kept_in_it_and_bundled_ones_are_read_only() {
    let dir = tempfile::tempdir().expect("tmp");
    let (ledger, mut studio) = open(dir.path());
    let assets = find_assets_dir(None).expect("assets");
    let image = assets.join("templates/cat-stare/image.jpg");
    let view = studio
        .import_template(&ledger, &image, "My cat", &[])
        .expect("import");
    assert_eq!(view.frames.len(), 2, "top and bottom to start with");
    let drawn = vec![
        frame(0.05, 0.05, 0.4, 0.3),
        frame(0.55, 0.05, 0.4, 0.3),
        frame(0.1, 0.7, 0.8, 0.25),
    ];
    let after = studio.update_user_frames(&view.id, &drawn).expect("saved");
    assert_eq!(after.boxes, 3);
    assert_eq!(after.frames, drawn);
    // A bad box changes nothing.
    assert!(studio
        .update_user_frames(&view.id, &[frame(0.9, 0.9, 0.5, 0.5)])
        .is_err());
    assert_eq!(
        studio.view(studio.template(&view.id).expect("t")).frames,
        drawn
    );
    // Bundled templates are read-only.
    match studio.update_user_frames("cat-stare", &drawn) {
        Err(AppError::Invalid { code, .. }) => assert_eq!(code, "meme.not_user_template"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Reopened (the app started again): the template has the drawn boxes.
    drop(studio);
    let (_ledger2, studio) = open(dir.path());
    let t = studio.template(&view.id).expect("still there");
    assert_eq!(studio.view(t).frames, drawn);
}

#[test]
fn the_clipboard_image_is_the_still_render_and_an_animated_preview_keeps_every_frame() {
    let dir = tempfile::tempdir().expect("tmp");
    let (_ledger, studio) = open(dir.path());
    let s = spec("cat-top-bottom", &["TO THE", "MOON"], None);
    let (rgba, w, h) = studio.still(&s).expect("still");
    assert_eq!(rgba.len(), (w * h * 4) as usize);
    assert_eq!(w.max(h), 480, "the size preset applies");
    // The same pixels as the PNG export.
    let png = studio.render(&s, ExportFormat::Png).expect("png");
    let decoded = image::load_from_memory(&png).expect("decode").to_rgba8();
    assert_eq!(decoded.dimensions(), (w, h));
    assert!(decoded.into_raw() == rgba, "clipboard = export pixels");
    // An animated template: the GIF keeps its frames.
    let t = studio.template("chart-pump-gif").expect("animated");
    assert!(t.is_animated());
    let frames = t.info.animation.as_ref().map(|a| a.frames).unwrap_or(0);
    let gif = studio
        .render(&spec("chart-pump-gif", &["PUMP"], None), ExportFormat::Gif)
        .expect("gif");
    let mut decoder = gif::DecodeOptions::new()
        .read_info(std::io::Cursor::new(&gif))
        .expect("gif");
    let mut n = 0;
    while decoder.next_frame_info().expect("frame").is_some() {
        n += 1;
    }
    assert!(n > 1, "animated: {n} frames");
    assert_eq!(n, frames, "every frame of the template");
}
