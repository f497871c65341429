//! Renders a few memes to /tmp for a look (development aid).
use papermemes_meme::*;

fn main() -> Result<(), MemeError> {
    let r = Renderer::new(FontBook::load_repo()?);
    let fx = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/meme-smoke".into());
    std::fs::create_dir_all(&out).ok();
    let o = RenderOptions::default();
    let t = load_template(fx.join("gradient-moon"))?;
    let t0 = std::time::Instant::now();
    let i = r.export_file(
        &t,
        &[
            "when PEPE does 10x 🚀🚀",
            "and you sold at 2x — ça va? Ünïcødé 日本語 שלום مرحبا 👍🏽",
        ],
        &o,
        format!("{out}/gradient.png").as_ref(),
    )?;
    println!("{i:?} {:?}", t0.elapsed());
    let t = load_template(fx.join("two-panel"))?;
    let i = r.export_file(
        &t,
        &[
            "Selling the bottom like a genius",
            "holding through the dip",
        ],
        &o,
        format!("{out}/panels.png").as_ref(),
    )?;
    println!("{i:?}");
    let t = load_template(fx.join("moving-dot"))?;
    let i = r.export_file(
        &t,
        &["top always", "bottom late"],
        &o,
        format!("{out}/dot.gif").as_ref(),
    )?;
    println!("{i:?}");
    let lib = Library::load(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/templates"),
    );
    println!(
        "library: {} ok, {} bad",
        lib.templates().len(),
        lib.errors().len()
    );
    for (d, e) in lib.errors() {
        println!("  {}: {e}", d.display());
    }
    let trade = pnl::TradeSummary {
        symbol: "PEPEUSDT".into(),
        side: pnl::Side::Long,
        entry_price: "0.00001107".into(),
        exit_price: "0.00001593".into(),
        entry_time_ms: 1_719_000_000_000,
        exit_time_ms: Some(1_719_500_000_000),
        change_pct: 43.9,
        prices: (0..60)
            .map(|i| 1.0 + (i as f64 / 8.0).sin() * 0.1 + i as f64 * 0.01)
            .collect(),
    };
    let t = pnl::pick_template(&lib, pnl::Outcome::of(trade.change_pct), 7).expect("template");
    let card = pnl::render_pnl_card(
        &r,
        t,
        &trade,
        &pnl::PnlCardOptions {
            seed: 7,
            ..Default::default()
        },
    )?;
    card.meme.encode(
        ExportFormat::Png,
        &o,
        std::fs::File::create(format!("{out}/pnl.png")).expect("f"),
    )?;
    println!("pnl on {}: {:?}", t.id, card.captions);
    Ok(())
}

#[allow(dead_code)]
fn unused() {}
