//! `papermemes meme …`: list templates, make a meme, make one from a trade, import an image as a
//! template, and the gallery of saved memes.

use std::path::{Path, PathBuf};

use papermemes_app::memes::{self, MemeSpec, MemeStudio, StickerSpec};
use papermemes_app::paths::AppPaths;
use papermemes_app::trading::{slot_account, Slot};
use papermemes_app::{assets, AppError};
use papermemes_meme::ExportFormat;
use papermemes_store::Ledger;
use serde_json::json;

use crate::args::{Cli, MemeCommand};

/// The folder holding `fonts/` and `templates/` (the same `assets/` as the market data).
fn assets_dir(cli: &Cli) -> Result<PathBuf, AppError> {
    assets::find_assets_dir(cli.assets.as_deref())
}

fn open(cli: &Cli) -> Result<(AppPaths, Ledger, MemeStudio), AppError> {
    let paths = AppPaths::resolve(cli.data_dir.as_deref())?;
    paths.create()?;
    let ledger = Ledger::open(&paths.db_file())?;
    let studio = MemeStudio::open(&assets_dir(cli)?, &paths.data_dir, &ledger)?;
    for (dir, err) in studio.load_errors() {
        eprintln!("warning: template {} skipped: {err}", dir.display());
    }
    Ok((paths, ledger, studio))
}

pub fn run(cli: &Cli, command: MemeCommand) -> Result<(), AppError> {
    match command {
        MemeCommand::Templates { search, tag } => templates(cli, search, tag),
        MemeCommand::Make {
            template,
            text,
            out,
            size,
            sticker,
            save,
        } => make(cli, template, text, out, size, sticker, save),
        MemeCommand::FromTrade {
            trade,
            position,
            out,
            template,
            text,
            seed,
            save,
        } => from_trade(cli, trade, position, out, template, text, seed, save),
        MemeCommand::Import {
            image,
            name,
            keyword,
        } => import(cli, &image, &name, &keyword),
        MemeCommand::Gallery { search, limit } => gallery(cli, search, limit),
        MemeCommand::Export { id, out } => export(cli, id, &out),
        MemeCommand::Delete { id } => delete(cli, id),
    }
}

fn templates(cli: &Cli, search: Option<String>, tag: Option<String>) -> Result<(), AppError> {
    let (_, _, studio) = open(cli)?;
    let found = studio.templates(search.as_deref(), tag.as_deref());
    if cli.json {
        println!("{}", serde_json::to_string(&found).unwrap_or_default());
        return Ok(());
    }
    if found.is_empty() {
        println!("no template matches; tags: {}", studio.tags().join(", "));
        return Ok(());
    }
    for t in &found {
        println!(
            "{:<24} {:<28} {} box{} {}×{}{}{}  [{}]",
            t.id,
            t.name,
            t.boxes,
            if t.boxes == 1 { "" } else { "es" },
            t.width,
            t.height,
            if t.animated { " GIF" } else { "" },
            if t.user { " (yours)" } else { "" },
            t.tags.join(", ")
        );
    }
    println!("{} template(s)", found.len());
    Ok(())
}

/// `🚀@0.8,0.2,0.25[,angle]`: an emoji, its centre (fractions of the image), its width
/// (fraction of the image width) and an optional angle in degrees.
pub fn parse_sticker(s: &str) -> Result<StickerSpec, AppError> {
    let bad = || {
        AppError::invalid(
            "meme.bad_sticker",
            format!("--sticker {s:?}: expected EMOJI@X,Y,SCALE[,ANGLE], e.g. 🚀@0.8,0.2,0.25"),
        )
    };
    let (emoji, rest) = s.split_once('@').ok_or_else(bad)?;
    let nums: Vec<f32> = rest
        .split(',')
        .map(|p| p.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad())?;
    let (x, y, scale, angle) = match nums.as_slice() {
        [x, y, s] => (*x, *y, *s, 0.0),
        [x, y, s, a] => (*x, *y, *s, *a),
        _ => return Err(bad()),
    };
    if emoji.trim().is_empty() {
        return Err(bad());
    }
    Ok(StickerSpec {
        emoji: emoji.trim().to_string(),
        x,
        y,
        scale,
        angle,
    })
}

fn format_of(out: &Path) -> Result<ExportFormat, AppError> {
    Ok(ExportFormat::from_path(out)?)
}

fn report_export(cli: &Cli, out: &Path, saved: Option<&memes::GalleryItem>) {
    let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    if cli.json {
        println!(
            "{}",
            json!({
                "file": out,
                "bytes": size,
                "saved": saved.map(|s| json!({"id": s.row.id, "path": s.path})),
            })
        );
    } else {
        println!("wrote {} ({size} bytes)", out.display());
        if let Some(s) = saved {
            println!(
                "saved to the gallery as meme {} ({})",
                s.row.id,
                s.path.display()
            );
        }
    }
}

fn make(
    cli: &Cli,
    template: String,
    text: Vec<String>,
    out: PathBuf,
    size: String,
    stickers: Vec<String>,
    save: bool,
) -> Result<(), AppError> {
    let (_, ledger, studio) = open(cli)?;
    let format = format_of(&out)?;
    let stickers = stickers
        .iter()
        .map(|s| parse_sticker(s))
        .collect::<Result<Vec<_>, _>>()?;
    let spec = MemeSpec {
        template,
        captions: text,
        stickers,
        size,
        frames: None,
    };
    studio.export(&spec, &out)?;
    let saved = if save {
        Some(studio.save(&ledger, &spec, format, None)?)
    } else {
        None
    };
    report_export(cli, &out, saved.as_ref());
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn from_trade(
    cli: &Cli,
    trade: Option<i64>,
    position: Option<String>,
    out: Option<PathBuf>,
    template: Option<String>,
    text: Vec<String>,
    seed: u64,
    save: bool,
) -> Result<(), AppError> {
    if out.is_none() && !save {
        return Err(AppError::invalid(
            "meme.no_output",
            "give -o FILE (format from its extension), --save (to the gallery), or both",
        ));
    }
    let format = match &out {
        Some(o) => format_of(o)?,
        None => ExportFormat::Png,
    };
    let (paths, ledger, studio) = open(cli)?;
    let account = slot_account(&ledger, Slot::Cli)?.ok_or_else(|| {
        AppError::invalid(
            "meme.no_trade",
            "this data folder has no paper account yet; trade first (papermemes order …)",
        )
    })?;
    let fills = ledger.fills(account.id, None).wait()?;
    let (summary, fill_id) = match (trade, position) {
        (Some(id), None) => {
            let settings = papermemes_app::settings::Settings::load(&paths.config_file)?;
            let prices = memes::bundled_closes(assets_dir(cli)?, settings.replay.interval.clone());
            let s = memes::closed_trade(&fills, id, prices)?;
            (s, Some(id))
        }
        (None, Some(symbol)) => {
            let symbol = symbol.to_ascii_uppercase();
            let mut t = crate::open_trading(cli)?;
            let p = t.portfolio()?;
            let pos = p
                .positions
                .iter()
                .find(|p| p.symbol == symbol && !p.quantity.is_zero())
                .ok_or_else(|| {
                    AppError::invalid(
                        "meme.no_position",
                        format!("no open {symbol} position; `papermemes portfolio` shows them"),
                    )
                })?;
            let mark = pos.mark.ok_or_else(|| {
                AppError::invalid(
                    "meme.no_price",
                    format!("no market price for {symbol} yet; start or step the replay first"),
                )
            })?;
            let opened = memes::position_opened_ms(&fills, &symbol).unwrap_or(0);
            let now = p.market_time_ms.unwrap_or(opened);
            let prices = t
                .candle_series()
                .get(&symbol)
                .map(|c| memes::closes_between(c, opened, now))
                .unwrap_or_default();
            (
                memes::open_position(&symbol, pos.avg_cost, mark, opened, prices),
                None,
            )
        }
        _ => {
            return Err(AppError::invalid(
                "meme.bad_input",
                "give either --trade FILL_ID (a sell fill: a closed trade) or --position SYMBOL",
            ))
        }
    };
    let mut m = studio.trade_meme(summary, fill_id, seed)?;
    if let Some(t) = template {
        let boxes = studio.template(&t)?.boxes.len();
        m.template = t;
        m.captions.resize(boxes, String::new());
    }
    if !text.is_empty() {
        m.captions = text;
    }
    if let Some(o) = &out {
        let bytes = studio.render_trade(&m, "original", format)?;
        memes::write_atomically(o, &bytes)?;
    }
    let saved = if save {
        Some(studio.save_trade(&ledger, &m, format)?)
    } else {
        None
    };
    if cli.json {
        println!(
            "{}",
            json!({
                "file": out,
                "template": m.template,
                "captions": m.captions,
                "symbol": m.trade.symbol,
                "change_pct": m.trade.change_pct,
                "entry": m.trade.entry_price,
                "exit": m.trade.exit_price,
                "saved": saved.as_ref().map(|s| json!({"id": s.row.id, "path": s.path})),
            })
        );
    } else {
        println!(
            "{} {} → {} ({}), template {}: {}",
            m.trade.symbol,
            m.trade.entry_price,
            m.trade.exit_price,
            papermemes_meme::pnl::format_pct(m.trade.change_pct),
            m.template,
            m.captions.join(" / ")
        );
        if let Some(o) = &out {
            println!("wrote {}", o.display());
        }
        if let Some(s) = &saved {
            println!("saved to the gallery as meme {}", s.row.id);
        }
    }
    Ok(())
}

fn import(cli: &Cli, image: &Path, name: &str, keywords: &[String]) -> Result<(), AppError> {
    let (_, ledger, mut studio) = open(cli)?;
    let t = studio.import_template(&ledger, image, name, keywords)?;
    if cli.json {
        println!("{}", serde_json::to_string(&t).unwrap_or_default());
    } else {
        println!(
            "imported {} as template {:?} ({}×{}{}, top and bottom captions); use it with: papermemes meme make --template {} --text \"…\" --text \"…\" -o meme.png",
            image.display(),
            t.id,
            t.width,
            t.height,
            if t.animated { ", animated" } else { "" },
            t.id
        );
    }
    Ok(())
}

fn gallery(cli: &Cli, search: Option<String>, limit: usize) -> Result<(), AppError> {
    let (_, ledger, studio) = open(cli)?;
    let items = studio.gallery(&ledger, search.as_deref(), limit)?;
    if cli.json {
        println!("{}", serde_json::to_string(&items).unwrap_or_default());
        return Ok(());
    }
    if items.is_empty() {
        println!("no saved memes (save one with `papermemes meme make … --save`)");
        return Ok(());
    }
    for i in &items {
        println!(
            "{:>5}  {}  {:<22} {:>4} {}×{}  {}{}",
            i.row.id,
            crate::fmt::fmt_time(i.row.meme.created_ms),
            i.row.meme.template_id,
            i.row.meme.format,
            i.row.meme.width,
            i.row.meme.height,
            i.row.meme.title,
            if i.exists { "" } else { "  (file missing)" }
        );
    }
    Ok(())
}

fn export(cli: &Cli, id: i64, out: &Path) -> Result<(), AppError> {
    let (_, ledger, studio) = open(cli)?;
    studio.export_saved(&ledger, id, out)?;
    report_export(cli, out, None);
    Ok(())
}

fn delete(cli: &Cli, id: i64) -> Result<(), AppError> {
    let (_, ledger, studio) = open(cli)?;
    let item = studio.delete(&ledger, id)?;
    if cli.json {
        println!("{}", json!({"deleted": id, "file": item.path}));
    } else {
        println!("deleted meme {id} ({})", item.path.display());
    }
    Ok(())
}
