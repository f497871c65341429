//! Template loading: every rule of docs/meme-templates.md refused with the file and field
//! named, the library keeping the good ones, search, and bad images (0-byte, not an image,
//! huge dimensions from the header, too many frames).

mod common;

use std::sync::Arc;

use common::{fixtures, gif_bytes, png_header_only, toml_with, write_template};
use papermemes_meme::{
    load_template, load_template_with, ImageSource, Library, Limits, MemeError, Repeat, Template,
    TextBox,
};

const BOX: &str = "x = 0.05\ny = 0.05\nwidth = 0.9\nheight = 0.2";

fn refused(dir: &std::path::Path) -> MemeError {
    match load_template(dir) {
        Ok(_) => panic!("{} should be refused", dir.display()),
        Err(e) => e,
    }
}

#[test]
fn fixtures_load_with_defaults() {
    let t = load_template(fixtures().join("gradient-moon")).expect("loads");
    assert_eq!(t.id, "gradient-moon");
    assert_eq!(t.boxes.len(), 2);
    let b = &t.boxes[0];
    assert_eq!(b.font, "anton");
    assert_eq!(b.color.to_string(), "#FFFFFF");
    assert_eq!(b.outline.map(|c| c.to_string()).as_deref(), Some("#000000"));
    assert!((b.outline_width - 0.06).abs() < 1e-6);
    assert_eq!(b.max_lines, 3);
    assert_eq!((b.start, b.stop), (0.0, 1.0));
    assert_eq!((t.info.width, t.info.height), (1080, 1080));
    assert!(!t.is_animated());

    let t = load_template(fixtures().join("two-panel")).expect("loads");
    assert_eq!(t.stickers.len(), 2);
    assert!((t.boxes[1].angle + 12.0).abs() < 1e-6);

    let t = load_template(fixtures().join("moving-dot")).expect("loads");
    let anim = t.info.animation.expect("animated");
    assert_eq!(anim.frames, 12);
    assert_eq!(anim.repeat, Repeat::Finite(3));
    // Delays cycle 4, 6, 10 cs over 12 frames.
    assert_eq!(anim.duration_cs, 4 * (4 + 6 + 10));
}

#[test]
fn search_text_has_name_keywords_and_examples() {
    let t = load_template(fixtures().join("gradient-moon")).expect("loads");
    let s = t.search_text();
    assert!(s.contains("Gradient moon"));
    assert!(s.contains("sunset"));
    assert!(s.contains("when PEPE does 10x"));
}

/// Each broken rule: (what to put in template.toml, the field the error must name).
#[test]
fn every_rule_is_checked_and_names_the_field() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let cases: Vec<(&str, String, &str)> = vec![
        ("unknown-key", toml_with(BOX, "colr = \"red\""), "colr"),
        ("unknown-box-key", toml_with(&format!("{BOX}\nsizee = 3"), ""), "sizee"),
        ("box-outside", toml_with("x = 0.2\ny = 0.1\nwidth = 0.92\nheight = 0.2", ""), "text[0].width"),
        ("box-below", toml_with("x = 0.1\ny = 0.9\nwidth = 0.5\nheight = 0.2", ""), "text[0].height"),
        ("negative-x", toml_with("x = -0.1\ny = 0.1\nwidth = 0.5\nheight = 0.2", ""), "text[0].x"),
        ("tiny-box", toml_with("x = 0.1\ny = 0.1\nwidth = 0.01\nheight = 0.2", ""), "text[0].width"),
        ("bad-color", toml_with(&format!("{BOX}\ncolor = \"white\""), ""), "colour"),
        ("bad-outline", toml_with(&format!("{BOX}\noutline = \"#12\""), ""), "colour"),
        ("bad-font", toml_with(&format!("{BOX}\nfont = \"comic-sans\""), ""), "text[0].font"),
        ("start-after-stop", toml_with(&format!("{BOX}\nstart = 0.8\nstop = 0.2"), ""), "text[0].start"),
        ("stop-beyond", toml_with(&format!("{BOX}\nstop = 1.5"), ""), "text[0].stop"),
        ("max-lines", toml_with(&format!("{BOX}\nmax_lines = 11"), ""), "text[0].max_lines"),
        ("bad-case", toml_with(&format!("{BOX}\ncase = \"shout\""), ""), "case"),
        ("no-boxes", "name = \"T\"\nimage = \"image.png\"\nsource = \"s\"\nlicense = \"MIT\"\ntext = []\n".to_string(), "text"),
        ("nine-boxes", {
            let mut s = "name = \"T\"\nimage = \"image.png\"\nsource = \"s\"\nlicense = \"MIT\"\n".to_string();
            for _ in 0..9 { s.push_str(&format!("[[text]]\n{BOX}\n")); }
            s
        }, "text"),
        ("too-many-examples", toml_with(BOX, "examples = [[\"a\", \"b\"]]"), "examples[0]"),
        ("empty-name", toml_with(BOX, "").replace("name = \"Test\"", "name = \"\""), "name"),
        ("missing-image", toml_with(BOX, "").replace("image.png", "nope.png"), "image"),
        ("image-escapes", toml_with(BOX, "").replace("image.png", "../image.png"), "image"),
        ("image-absolute", toml_with(BOX, "").replace("image.png", "/etc/passwd"), "image"),
        ("overlay-both", format!("{}[[overlay]]\nimage = \"image.png\"\nemoji = \"🚀\"\nx = 0.5\ny = 0.5\nscale = 0.2\n", toml_with(BOX, "")), "overlay[0]"),
        ("overlay-neither", format!("{}[[overlay]]\nx = 0.5\ny = 0.5\nscale = 0.2\n", toml_with(BOX, "")), "overlay[0]"),
        ("overlay-scale", format!("{}[[overlay]]\nemoji = \"🚀\"\nx = 0.5\ny = 0.5\nscale = 2.5\n", toml_with(BOX, "")), "overlay[0].scale"),
        ("overlay-missing", format!("{}[[overlay]]\nimage = \"gone.png\"\nx = 0.5\ny = 0.5\nscale = 0.2\n", toml_with(BOX, "")), "overlay[0].image"),
        ("missing-license", toml_with(BOX, "").replace("license = \"MIT\"\n", ""), "license"),
        ("not-toml", "name = \"unterminated\n".to_string(), "template.toml"),
    ];
    for (id, toml, field) in cases {
        let dir = write_template(tmp.path(), id, &toml, 64, 48);
        let err = refused(&dir);
        assert_eq!(err.code(), "meme.bad_template", "{id}: {err}");
        let msg = err.to_string();
        assert!(
            msg.contains("template.toml"),
            "{id}: the error names the file: {msg}"
        );
        assert!(
            msg.contains(field),
            "{id}: the error names {field:?}: {msg}"
        );
    }
}

#[test]
fn example_message_reads_well() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let toml = format!(
        "{}[[text]]\nx = 0.2\ny = 0.5\nwidth = 0.92\nheight = 0.2\n",
        toml_with(BOX, "")
    );
    let dir = write_template(tmp.path(), "rocket-moon", &toml, 64, 48);
    let msg = refused(&dir).to_string();
    assert!(
        msg.ends_with("rocket-moon/template.toml: text[1].width: the box ends at 1.12, outside the image (0..1)"),
        "{msg}"
    );
}

#[test]
fn folder_name_must_be_an_id() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = write_template(tmp.path(), "Bad_Name", &toml_with(BOX, ""), 32, 32);
    assert_eq!(refused(&dir).code(), "meme.bad_template");
}

#[test]
fn bad_images_are_refused_with_their_code() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let toml = toml_with(BOX, "");
    // 0 bytes.
    let d = write_template(tmp.path(), "zero-bytes", &toml, 8, 8);
    std::fs::write(d.join("image.png"), b"").expect("write");
    let e = refused(&d);
    assert!(e.to_string().contains("empty (0 bytes)"), "{e}");
    // Not an image.
    let d = write_template(tmp.path(), "not-image", &toml, 8, 8);
    std::fs::write(d.join("image.png"), b"hello, I am text").expect("write");
    assert!(refused(&d)
        .to_string()
        .contains("not a PNG, JPEG, WebP or GIF"));
    // Truncated PNG: the header is fine, the pixels are not.
    let d = write_template(tmp.path(), "truncated", &toml, 64, 64);
    let bytes = std::fs::read(d.join("image.png")).expect("read");
    std::fs::write(d.join("image.png"), &bytes[..bytes.len() / 2]).expect("write");
    refused(&d);
    // Huge: the header says 60000×60000; refused from the header, no 14 GB allocation.
    let d = write_template(tmp.path(), "huge", &toml, 8, 8);
    std::fs::write(d.join("image.png"), png_header_only(60_000, 60_000)).expect("write");
    let e = refused(&d);
    assert!(
        e.to_string()
            .contains("60000×60000, larger than the limit of 4096×4096"),
        "{e}"
    );

    // The same errors through an in-memory source carry their own codes.
    let limits = Limits::default();
    let src = |bytes: Vec<u8>| ImageSource::Bytes {
        name: "upload".into(),
        bytes: Arc::from(bytes),
    };
    assert_eq!(
        src(vec![])
            .probe(&limits)
            .map(|_| ())
            .expect_err("empty")
            .code(),
        "meme.bad_image"
    );
    assert_eq!(
        src(png_header_only(5000, 10))
            .probe(&limits)
            .map(|_| ())
            .expect_err("too wide")
            .code(),
        "meme.image_too_large"
    );
    assert_eq!(
        src(png_header_only(0, 10))
            .probe(&limits)
            .map(|_| ())
            .expect_err("no pixels")
            .code(),
        "meme.bad_image"
    );
}

#[test]
fn too_many_frames_is_refused() {
    let limits = Limits {
        max_frames: 5,
        ..Limits::default()
    };
    let src = ImageSource::Bytes {
        name: "anim.gif".into(),
        bytes: Arc::from(gif_bytes(16, 16, 6, &[5])),
    };
    let e = src.probe(&limits).map(|_| ()).expect_err("6 frames > 5");
    assert_eq!(e.code(), "meme.too_many_frames");
    let ok = ImageSource::Bytes {
        name: "anim.gif".into(),
        bytes: Arc::from(gif_bytes(16, 16, 5, &[5])),
    };
    assert_eq!(
        ok.probe(&limits)
            .expect("5 frames ok")
            .animation
            .expect("animated")
            .frames,
        5
    );

    // And through a template folder with the default limit of 500.
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = write_template(
        tmp.path(),
        "long-gif",
        &toml_with(BOX, "").replace("image.png", "image.gif"),
        8,
        8,
    );
    std::fs::write(d.join("image.gif"), gif_bytes(4, 4, 501, &[2])).expect("write");
    let e = load_template_with(&d, &Limits::default())
        .map(|_| ())
        .expect_err("501 frames");
    assert!(e.to_string().contains("more than 500 frames"), "{e}");
}

#[test]
fn library_keeps_good_templates_and_reports_bad_ones() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for id in ["gradient-moon", "two-panel", "moving-dot"] {
        let src = fixtures().join(id);
        let dst = tmp.path().join(id);
        std::fs::create_dir_all(&dst).expect("mkdir");
        for f in std::fs::read_dir(&src).expect("read") {
            let f = f.expect("entry").path();
            std::fs::copy(&f, dst.join(f.file_name().expect("name"))).expect("copy");
        }
    }
    write_template(
        tmp.path(),
        "broken",
        &toml_with("x = 2.0\ny = 0\nwidth = 0.5\nheight = 0.5", ""),
        8,
        8,
    );
    write_template(tmp.path(), "garbage", "this is not toml [[[", 8, 8);
    std::fs::create_dir_all(tmp.path().join("no-toml")).expect("mkdir");
    std::fs::create_dir_all(tmp.path().join("LICENSES")).expect("mkdir");

    let lib = Library::load(tmp.path());
    let ids: Vec<&str> = lib.templates().iter().map(|t| t.id.as_str()).collect();
    assert_eq!(ids, ["gradient-moon", "moving-dot", "two-panel"]);
    let bad: Vec<String> = lib
        .errors()
        .iter()
        .map(|(p, _)| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        bad,
        ["broken", "garbage", "no-toml"],
        "LICENSES/ is skipped quietly"
    );
    assert!(lib
        .errors()
        .iter()
        .all(|(_, e)| e.code() == "meme.bad_template"));

    // A folder that does not exist is reported, not a panic.
    let missing = Library::load(tmp.path().join("nope"));
    assert!(missing.templates().is_empty());
    assert_eq!(missing.errors().len(), 1);
}

#[test]
fn search_is_case_insensitive_over_name_keywords_tags_and_examples() {
    let mut lib = Library::new();
    for id in ["gradient-moon", "two-panel", "moving-dot"] {
        lib.add(load_template(fixtures().join(id)).expect("loads"));
    }
    let ids = |q: &str| -> Vec<String> { lib.search(q).iter().map(|t| t.id.clone()).collect() };
    assert_eq!(ids("MOON"), ["gradient-moon"], "keyword / name");
    assert_eq!(ids("Choice"), ["two-panel"], "tag");
    assert_eq!(
        ids("diamond hands"),
        ["two-panel"],
        "example caption, every word"
    );
    assert_eq!(ids("sold"), ["gradient-moon"], "example caption");
    assert!(ids("moon diamond").is_empty(), "every word must match");
    assert_eq!(ids("").len(), 3, "empty query lists everything");
    // A whole keyword ranks above a substring match.
    assert_eq!(ids("dot")[0], "moving-dot");
    assert_eq!(lib.with_tag("GIF").len(), 1);
    assert!(lib.tags().contains(&"test".to_string()));
    // Duplicate ids are refused and reported.
    lib.add(load_template(fixtures().join("two-panel")).expect("loads"));
    assert_eq!(lib.templates().len(), 3);
    assert_eq!(lib.errors().len(), 1);
}

#[test]
fn templates_from_generated_images() {
    let limits = Limits::default();
    let img = image::RgbaImage::from_pixel(300, 200, image::Rgba([10, 20, 30, 255]));
    let t = Template::from_image(
        "generated-1",
        "A generated image",
        ImageSource::Pixels {
            name: "model output".into(),
            image: Arc::new(img),
        },
        vec![TextBox::new(0.05, 0.05, 0.9, 0.3)],
        &limits,
    )
    .expect("builds");
    assert_eq!((t.info.width, t.info.height), (300, 200));
    let bad = Template::from_image(
        "generated-2",
        "bad",
        t.image.clone(),
        vec![TextBox::new(0.5, 0.5, 0.9, 0.3)],
        &limits,
    );
    assert_eq!(
        bad.map(|_| ()).expect_err("outside").code(),
        "meme.bad_template"
    );
    assert!(Template::from_image("Bad Id", "x", t.image.clone(), vec![], &limits).is_err());
}

#[test]
fn the_starter_library_loads_cleanly() {
    // Every template of the starter library (assets/templates) passes this loader.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/templates");
    let lib = Library::load(&dir);
    let errors: Vec<String> = lib
        .errors()
        .iter()
        .map(|(d, e)| format!("{}: {e}", d.display()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(
        lib.templates().len() >= 40,
        "{} templates",
        lib.templates().len()
    );
}
