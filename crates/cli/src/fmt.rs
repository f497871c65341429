//! Human output: tables and number/time formatting.

use comfy_table::{presets::UTF8_BORDERS_ONLY, Cell, CellAlignment, Table};
use papermemes_app::trading::PortfolioView;
use papermemes_core::backtest::BacktestReport;
use papermemes_core::instrument::Instruments;
use papermemes_core::portfolio::Fill;
use papermemes_store::OrderWithState;
use rust_decimal::Decimal;
use serde::Serialize;

pub fn fmt_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// Market time to the second (captures move in sub-minute steps).
pub fn fmt_time_s(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

pub fn group_int(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Decimal for people: trailing zeros dropped, at most `dp` decimals.
pub fn d(x: Decimal, dp: u32) -> String {
    x.round_dp(dp).normalize().to_string()
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY);
    t.set_header(header.iter().map(Cell::new).collect::<Vec<_>>());
    t
}

fn right(t: &mut Table, from: usize) {
    let n = t.column_count();
    for i in from..n {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

pub fn print_backtest(reports: &[BacktestReport], show_trades: usize) {
    let mut t = table(&[
        "symbol",
        "bars",
        "trades",
        "return %",
        "max DD %",
        "Sharpe",
        "fees",
        "exposure %",
        "win %",
        "final equity",
    ]);
    for r in reports {
        t.add_row(vec![
            r.symbol.clone(),
            r.bars.to_string(),
            r.trades.len().to_string(),
            d(r.total_return_pct, 2),
            format!("{:.2}", r.max_drawdown_pct),
            format!("{:.2}", r.sharpe),
            d(r.fees_paid, 2),
            format!("{:.1}", r.exposure_pct),
            format!("{:.1}", r.win_rate_pct),
            d(r.final_equity, 2),
        ]);
    }
    right(&mut t, 1);
    println!("{t}");
    if reports.len() == 1 && show_trades > 0 {
        let r = &reports[0];
        let n = r.trades.len();
        let skip = n.saturating_sub(show_trades);
        let mut tt = table(&[
            "#",
            "entry",
            "exit",
            "entry price",
            "exit price",
            "quantity",
            "PnL",
        ]);
        for (i, tr) in r.trades.iter().enumerate().skip(skip) {
            tt.add_row(vec![
                (i + 1).to_string(),
                fmt_time(tr.entry_time_ms),
                tr.exit_time_ms
                    .map(fmt_time)
                    .unwrap_or_else(|| "open".into()),
                d(tr.entry_price, 10),
                d(tr.exit_price, 10),
                d(tr.quantity, 8),
                d(tr.pnl, 4),
            ]);
        }
        right(&mut tt, 3);
        if n > 0 {
            println!(
                "last {} of {} trades (all of them: --trades-csv FILE):",
                n - skip,
                n
            );
            println!("{tt}");
        }
    }
}

#[derive(Debug, Serialize)]
pub struct OrderLine {
    pub id: i64,
    pub symbol: String,
    pub side: String,
    pub order_type: String,
    pub status: String,
    pub quantity: Option<Decimal>,
    pub quote_quantity: Option<Decimal>,
    pub price: Option<Decimal>,
    pub stop_price: Option<Decimal>,
    pub executed_qty: Decimal,
    pub cumulative_quote_qty: Decimal,
    pub list_id: Option<i64>,
    pub created_ms: i64,
    pub reason: Option<String>,
}

impl OrderLine {
    pub fn from_row(o: &OrderWithState) -> Self {
        let r = &o.order;
        OrderLine {
            id: r.id,
            symbol: r.symbol.clone(),
            side: r.side.as_str().into(),
            order_type: r.order_type.clone(),
            status: o
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            quantity: r.quantity,
            quote_quantity: r.quote_quantity,
            price: r.price,
            stop_price: r.stop_price,
            executed_qty: o
                .latest
                .as_ref()
                .map(|e| e.executed_qty)
                .unwrap_or_default(),
            cumulative_quote_qty: o
                .latest
                .as_ref()
                .map(|e| e.cumulative_quote_qty)
                .unwrap_or_default(),
            list_id: r.list_id,
            created_ms: r.created_ms,
            reason: o.latest.as_ref().and_then(|e| e.reason.clone()),
        }
    }
}

pub fn print_orders_table(lines: &[OrderLine]) {
    let mut t = table(&[
        "id", "time", "symbol", "side", "type", "qty", "price", "stop", "filled", "status",
    ]);
    for o in lines {
        t.add_row(vec![
            o.id.to_string(),
            fmt_time(o.created_ms),
            o.symbol.clone(),
            o.side.clone(),
            o.order_type.clone(),
            o.quantity
                .map(|q| d(q, 8))
                .or(o.quote_quantity.map(|q| format!("{} (quote)", d(q, 8))))
                .unwrap_or_default(),
            o.price.map(|p| d(p, 10)).unwrap_or_default(),
            o.stop_price.map(|p| d(p, 10)).unwrap_or_default(),
            d(o.executed_qty, 8),
            o.status.clone(),
        ]);
    }
    println!("{t}");
}

pub fn print_fills_table(lines: &[Fill]) {
    let mut t = table(&[
        "fill", "order", "time", "symbol", "side", "price", "qty", "value", "fee", "role",
    ]);
    for f in lines {
        t.add_row(vec![
            f.id.to_string(),
            f.order_id.to_string(),
            fmt_time(f.time_ms),
            f.symbol.clone(),
            f.side.to_string(),
            d(f.price, 10),
            d(f.quantity, 8),
            d(f.quote_quantity, 4),
            format!("{} {}", d(f.fee, 8), f.fee_asset),
            if f.is_maker {
                "maker".into()
            } else {
                "taker".into()
            },
        ]);
    }
    println!("{t}");
}

pub fn print_portfolio(p: &PortfolioView) {
    println!(
        "account {} — market time {}",
        p.account_id,
        p.market_time_ms
            .map(fmt_time)
            .unwrap_or_else(|| "(no market running)".into())
    );
    let mut b = table(&["asset", "free", "locked"]);
    for x in &p.balances {
        b.add_row(vec![x.asset.clone(), d(x.free, 8), d(x.locked, 8)]);
    }
    right(&mut b, 1);
    println!("{b}");
    let open: Vec<_> = p
        .positions
        .iter()
        .filter(|x| !x.quantity.is_zero() || !x.realized_pnl.is_zero())
        .collect();
    if !open.is_empty() {
        let mut t = table(&[
            "symbol",
            "qty",
            "avg cost",
            "mark",
            "unrealized",
            "realized",
            "fees",
        ]);
        for x in open {
            t.add_row(vec![
                x.symbol.clone(),
                d(x.quantity, 8),
                d(x.avg_cost, 10),
                x.mark.map(|m| d(m, 10)).unwrap_or_else(|| "-".into()),
                d(x.unrealized_pnl, 4),
                d(x.realized_pnl, 4),
                d(x.fees_paid, 4),
            ]);
        }
        right(&mut t, 1);
        println!("{t}");
    }
    let ret = if p.initial_cash.is_zero() {
        Decimal::ZERO
    } else {
        (p.equity - p.initial_cash) / p.initial_cash * Decimal::ONE_HUNDRED
    };
    println!(
        "equity {} (started {}, {}%) · realized {} · unrealized {} · fees {}",
        d(p.equity, 4),
        d(p.initial_cash, 2),
        d(ret, 2),
        d(p.realized_pnl, 4),
        d(p.unrealized_pnl, 4),
        d(p.fees_paid, 4)
    );
}

pub fn print_instruments(all: &Instruments) {
    let mut t = table(&["symbol", "tick", "step", "min notional", "estimated"]);
    for i in all.by_symbol.values() {
        t.add_row(vec![
            i.symbol.clone(),
            d(i.tick(), 12),
            d(i.step(), 12),
            i.notional
                .as_ref()
                .map(|n| d(n.min_notional, 8))
                .unwrap_or_default(),
            if i.estimated
                .iter()
                .any(|e| e.contains("tickSize") || e.contains("stepSize"))
            {
                "tick/step estimated"
            } else {
                ""
            }
            .into(),
        ]);
    }
    println!("{t}");
    if let Some(a) = &all.as_of {
        println!("snapshot as of {a}");
    }
}
