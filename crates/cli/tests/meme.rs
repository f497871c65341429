//! `papermemes meme …` end to end: templates, make, the gallery, import, and memes from trades.

mod common;

use std::path::Path;

use common::Env;
use rust_decimal::Decimal;
use serde_json::Value;

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG: &[u8] = b"\xff\xd8\xff";
const GIF: &[u8] = b"GIF8";

fn head(path: &Path) -> Vec<u8> {
    std::fs::read(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .into_iter()
        .take(8)
        .collect()
}

fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).expect("png");
    let w = u32::from_be_bytes([b[16], b[17], b[18], b[19]]);
    let h = u32::from_be_bytes([b[20], b[21], b[22], b[23]]);
    (w, h)
}

fn dec(v: &Value) -> Decimal {
    v.as_str()
        .map(|s| s.parse().expect("decimal"))
        .or_else(|| v.as_f64().map(|f| Decimal::try_from(f).expect("decimal")))
        .expect("a number")
}

/// A failed command: exit code and stderr.
fn fails(env: &Env, args: &[&str]) -> (i32, String) {
    let o = env.run(args);
    assert!(!o.status.success(), "{args:?} should fail");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn templates_are_listed_and_searched() {
    let env = Env::new();
    let all = env.json(&["meme", "templates"]);
    let all = all.as_array().expect("list");
    assert!(
        all.len() >= 40,
        "the starter library has {} templates",
        all.len()
    );
    let rockets = env.json(&["meme", "templates", "--search", "rocket"]);
    let rockets = rockets.as_array().expect("list");
    assert!(!rockets.is_empty());
    assert!(rockets.len() < all.len());
    for t in rockets {
        let text = t.to_string().to_lowercase();
        assert!(text.contains("rocket"), "{t}");
    }
    let animated = all.iter().filter(|t| t["animated"] == true).count();
    assert!(animated >= 1, "the library has animated templates");
    let none = env.json(&["meme", "templates", "--search", "zzzqqq"]);
    assert_eq!(none.as_array().map(Vec::len), Some(0));
}

#[test]
fn make_save_export_and_delete_a_meme() {
    let env = Env::new();
    let out = env.dir.path().join("meme.png");
    let o = env.json(&[
        "meme",
        "make",
        "--template",
        "cat-stare",
        "--text",
        "me watching PEPE at 3am",
        "--sticker",
        "🚀@0.8,0.5,0.2,15",
        "--size",
        "480",
        "-o",
        out.to_str().expect("utf-8"),
        "--save",
    ]);
    assert_eq!(head(&out)[..8], *PNG);
    let (w, h) = png_size(&out);
    assert_eq!(w.max(h), 480, "the 480 preset scales the long side");
    let id = o["saved"]["id"].as_i64().expect("saved id");

    let gallery = env.json(&["meme", "gallery"]);
    let gallery = gallery.as_array().expect("list");
    assert_eq!(gallery.len(), 1);
    assert_eq!(gallery[0]["template_id"], "cat-stare");
    assert_eq!(gallery[0]["exists"], true);
    assert!(gallery[0]["title"]
        .as_str()
        .expect("title")
        .contains("PEPE at 3am"));
    let saved = Path::new(gallery[0]["path"].as_str().expect("path")).to_path_buf();
    assert!(saved.starts_with(env.dir.path().join("memes")));
    assert_eq!(
        std::fs::read(&saved).expect("saved"),
        std::fs::read(&out).expect("out"),
        "the gallery keeps exactly what was exported"
    );
    assert_eq!(
        env.json(&["meme", "gallery", "--search", "pepe 3AM"])
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_eq!(
        env.json(&["meme", "gallery", "--search", "doge"])
            .as_array()
            .map(Vec::len),
        Some(0)
    );

    // Export in another format: rendered again from the saved edit.
    let jpg = env.dir.path().join("again.jpg");
    env.ok(&[
        "meme",
        "export",
        &id.to_string(),
        "-o",
        jpg.to_str().expect("utf-8"),
    ]);
    assert_eq!(head(&jpg)[..3], *JPEG);

    env.ok(&["meme", "delete", &id.to_string()]);
    assert!(!saved.exists(), "the file goes with the row");
    assert_eq!(
        env.json(&["meme", "gallery"]).as_array().map(Vec::len),
        Some(0)
    );
    let (code, err) = fails(&env, &["meme", "delete", &id.to_string()]);
    assert_eq!(code, 3);
    assert!(err.contains("no saved meme"), "{err}");
}

#[test]
fn an_animated_template_exports_an_animated_gif() {
    let env = Env::new();
    let out = env.dir.path().join("moon.gif");
    env.ok(&[
        "meme",
        "make",
        "--template",
        "rocket-launch-gif",
        "--text",
        "WIF holders",
        "-o",
        out.to_str().expect("utf-8"),
    ]);
    let bytes = std::fs::read(&out).expect("gif");
    assert_eq!(bytes[..4], *GIF);
    // More than one image descriptor (0x2C after a graphic control extension) = animated.
    let frames = bytes.windows(2).filter(|w| w == &[0x00, 0x2C]).count();
    assert!(frames > 1, "{frames} frames");
}

#[test]
fn bad_meme_input_is_a_clear_error_and_writes_nothing() {
    let env = Env::new();
    let dir = env.dir.path();
    let out = dir.join("x.png");
    let o = out.to_str().expect("utf-8");
    for (args, want) in [
        (
            vec![
                "meme",
                "make",
                "--template",
                "no-such",
                "--text",
                "a",
                "-o",
                o,
            ],
            "no template",
        ),
        (
            vec![
                "meme",
                "make",
                "--template",
                "cat-stare",
                "--text",
                "a",
                "--text",
                "b",
                "-o",
                o,
            ],
            "text box",
        ),
        (
            vec![
                "meme",
                "make",
                "--template",
                "cat-stare",
                "--sticker",
                "🚀@x",
                "-o",
                o,
            ],
            "EMOJI@X,Y,SCALE",
        ),
        (
            vec![
                "meme",
                "make",
                "--template",
                "cat-stare",
                "--size",
                "huge",
                "-o",
                o,
            ],
            "size",
        ),
        (
            vec![
                "meme",
                "make",
                "--template",
                "cat-stare",
                "--sticker",
                "🚀@0.5,0.5,9",
                "-o",
                o,
            ],
            "scale",
        ),
    ] {
        let (code, err) = fails(&env, &args);
        assert_eq!(code, 3, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} wrote a file");
    }
    let bmp = dir.join("x.bmp");
    let (code, err) = fails(
        &env,
        &[
            "meme",
            "make",
            "--template",
            "cat-stare",
            "-o",
            bmp.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(code, 3, "{err}");
    assert!(!bmp.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".part") || n.ends_with(".png"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(
        env.json(&["meme", "gallery"]).as_array().map(Vec::len),
        Some(0)
    );
}

#[test]
fn an_imported_image_becomes_a_template_and_bad_images_are_refused() {
    let env = Env::new();
    let dir = env.dir.path();
    let photo = dir.join("my photo.jpg");
    std::fs::copy(
        common::assets().join("templates/cat-stare/image.jpg"),
        &photo,
    )
    .expect("copy");
    let t = env.json(&[
        "meme",
        "import",
        photo.to_str().expect("utf-8"),
        "--name",
        "Office Cat!",
        "--keyword",
        "boss",
    ]);
    assert_eq!(t["id"], "office-cat");
    assert_eq!(t["user"], true);
    assert_eq!(t["boxes"], 2);
    let found = env.json(&["meme", "templates", "--search", "boss"]);
    assert_eq!(found[0]["id"], "office-cat");
    // Importing the same name again gets its own id.
    let t2 = env.json(&[
        "meme",
        "import",
        photo.to_str().expect("utf-8"),
        "--name",
        "Office Cat",
    ]);
    assert_eq!(t2["id"], "office-cat-2");
    let out = dir.join("mine.webp");
    env.ok(&[
        "meme",
        "make",
        "--template",
        "office-cat",
        "--text",
        "top",
        "--text",
        "bottom",
        "-o",
        out.to_str().expect("utf-8"),
    ]);
    assert_eq!(&head(&out)[..4], b"RIFF");

    // Bad images: nothing is imported, no folder is left behind.
    let empty = dir.join("empty.png");
    std::fs::write(&empty, b"").expect("write");
    let text = dir.join("notes.png");
    std::fs::write(&text, b"this is not an image").expect("write");
    for bad in [&empty, &text, &dir.join("missing.png")] {
        let (code, err) = fails(
            &env,
            &[
                "meme",
                "import",
                bad.to_str().expect("utf-8"),
                "--name",
                "Bad",
            ],
        );
        assert_eq!(code, 3, "{}: {err}", bad.display());
        assert!(
            err.contains(&*bad.file_name().expect("name").to_string_lossy()),
            "{err}"
        );
    }
    let folders: Vec<_> = std::fs::read_dir(dir.join("templates"))
        .expect("templates dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut folders = folders;
    folders.sort();
    assert_eq!(folders, ["office-cat", "office-cat-2"]);
    let (code, _) = fails(
        &env,
        &[
            "meme",
            "import",
            photo.to_str().expect("utf-8"),
            "--name",
            "  ",
        ],
    );
    assert_eq!(code, 3);
}

#[test]
fn a_meme_from_a_closed_trade_and_from_an_open_position() {
    let env = Env::new();
    env.ok(&["replay", "start", "--symbols", "DOGEUSDT"]);
    env.ok(&["order", "buy", "DOGEUSDT", "--quote", "500"]);
    env.ok(&["replay", "step", "--bars", "300"]);
    let p = env.json(&["portfolio"]);
    let qty = p["positions"][0]["quantity"]
        .as_str()
        .expect("qty")
        .to_string();
    env.ok(&["order", "sell", "DOGEUSDT", "--qty", &qty]);
    env.ok(&["replay", "step", "--bars", "1"]);
    let fills = env.json(&["fills"]);
    let fills = fills.as_array().expect("fills");
    assert_eq!(fills.len(), 2);
    let buy = fills.iter().find(|f| f["side"] == "BUY").expect("buy");
    let sell = fills.iter().find(|f| f["side"] == "SELL").expect("sell");
    let (entry, exit) = (dec(&buy["price"]), dec(&sell["price"]));
    let want = (exit - entry) / entry * Decimal::ONE_HUNDRED;

    let card = env.dir.path().join("card.png");
    let sell_id = sell["id"].as_i64().expect("id").to_string();
    let m = env.json(&[
        "meme",
        "from-trade",
        "--trade",
        &sell_id,
        "-o",
        card.to_str().expect("utf-8"),
        "--save",
    ]);
    let got = Decimal::try_from(m["change_pct"].as_f64().expect("pct")).expect("d");
    assert!((got - want).abs() < Decimal::new(1, 3), "{got} vs {want}");
    assert_eq!(dec(&m["entry"]), entry);
    assert_eq!(dec(&m["exit"]), exit);
    assert_eq!(head(&card)[..8], *PNG);
    let (w, h) = png_size(&card);
    assert!(
        h > w / 2,
        "the card has a PnL strip under the meme: {w}×{h}"
    );
    let gallery = env.json(&["meme", "gallery"]);
    assert_eq!(gallery[0]["trade_fill_id"].as_i64(), sell["id"].as_i64());

    // The user's own caption replaces the phrase bank's.
    let m2 = env.json(&[
        "meme",
        "from-trade",
        "--trade",
        &sell_id,
        "--text",
        "my own words",
        "-o",
        env.dir.path().join("c2.png").to_str().expect("utf-8"),
    ]);
    assert_eq!(m2["captions"][0], "my own words");

    // A buy opens a position: refused with a hint.
    let buy_id = buy["id"].as_i64().expect("id").to_string();
    let (code, err) = fails(
        &env,
        &["meme", "from-trade", "--trade", &buy_id, "-o", "x.png"],
    );
    assert_eq!(code, 3);
    assert!(err.contains("buy"), "{err}");
    let (code, _) = fails(
        &env,
        &["meme", "from-trade", "--trade", "999999", "-o", "x.png"],
    );
    assert_eq!(code, 3);

    // An open position, at its mark.
    env.ok(&["order", "buy", "DOGEUSDT", "--quote", "200"]);
    env.ok(&["replay", "step", "--bars", "20"]);
    let pos = env.dir.path().join("pos.jpg");
    let m = env.json(&[
        "meme",
        "from-trade",
        "--position",
        "dogeusdt",
        "-o",
        pos.to_str().expect("utf-8"),
    ]);
    assert_eq!(m["symbol"], "DOGEUSDT");
    assert_eq!(head(&pos)[..3], *JPEG);
    let (code, err) = fails(
        &env,
        &[
            "meme",
            "from-trade",
            "--position",
            "PEPEUSDT",
            "-o",
            "x.png",
        ],
    );
    assert_eq!(code, 3);
    assert!(err.contains("no open PEPEUSDT position"), "{err}");
}
