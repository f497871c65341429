//! `verify`: proof that balances are derivable from the ledger.

use std::collections::{BTreeMap, HashMap};

use rusqlite::Connection;
use rust_decimal::Decimal;

use crate::error::StoreError;
use crate::reason;
use crate::table::{accounts, add, balance_changes, fills, orders};
use crate::types::{AccountRow, OrderStatus, Side, VerifyReport};

/// Stop collecting problem sentences after this many (the count goes on).
const MAX_PROBLEMS: usize = 1000;

struct Problems {
    list: Vec<String>,
    more: usize,
}

impl Problems {
    fn push(&mut self, p: String) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(p);
        } else {
            self.more += 1;
        }
    }
}

pub(crate) fn verify(
    conn: &Connection,
    account_id: Option<i64>,
) -> Result<VerifyReport, StoreError> {
    let accounts = match account_id {
        Some(id) => match accounts::get(conn, id)? {
            Some(a) => vec![a],
            None => return Err(StoreError::NotFound(format!("account {id} does not exist"))),
        },
        None => accounts::all(conn)?,
    };
    let mut report = VerifyReport::default();
    let mut problems = Problems {
        list: Vec::new(),
        more: 0,
    };
    for a in &accounts {
        check_account(conn, a, &mut report, &mut problems)?;
    }
    report.accounts_checked = accounts.len();
    if problems.more > 0 {
        problems
            .list
            .push(format!("... and {} more problems", problems.more));
    }
    report.problems = problems.list;
    report.ok = report.problems.is_empty();
    if !report.ok {
        tracing::warn!(
            problems = report.problems.len(),
            "ledger verification found problems"
        );
    }
    Ok(report)
}

/// Split a symbol into (base, quote) given the account's quote asset.
fn split_symbol<'a>(symbol: &'a str, quote: &'a str) -> Option<(&'a str, &'a str)> {
    let base = symbol.strip_suffix(quote)?;
    if base.is_empty() {
        None
    } else {
        Some((base, quote))
    }
}

type AssetSums = BTreeMap<String, Decimal>;

fn bump(map: &mut AssetSums, asset: &str, delta: Decimal, what: &str) -> Result<(), StoreError> {
    let e = map.entry(asset.to_owned()).or_default();
    *e = add(*e, delta, || what.to_owned())?;
    Ok(())
}

fn check_account(
    conn: &Connection,
    a: &AccountRow,
    report: &mut VerifyReport,
    problems: &mut Problems,
) -> Result<(), StoreError> {
    let aid = a.id;
    let orders = orders::with_events(conn, aid)?;
    let fills = fills::for_account(conn, aid, None)?;
    let changes = balance_changes::for_account(conn, aid)?;
    report.orders += orders.len();
    report.fills += fills.len();
    report.balance_changes += changes.len();

    let order_status: HashMap<i64, Option<OrderStatus>> = orders
        .iter()
        .map(|(o, ev)| (o.id, ev.last().map(|e| e.status)))
        .collect();
    let fill_ids: HashMap<i64, i64> = fills.iter().map(|f| (f.id, f.order_id)).collect();

    // 1. Running balances never go negative; per-row sanity.
    let mut running: BTreeMap<&str, (Decimal, Decimal, bool, bool)> = BTreeMap::new();
    let mut fill_changes: HashMap<i64, AssetSums> = HashMap::new();
    let mut order_locks: HashMap<i64, AssetSums> = HashMap::new();
    let mut total_locked: AssetSums = BTreeMap::new();
    for c in &changes {
        let what = format!("balance change seq {}", c.seq);
        let r = running.entry(&c.asset).or_default();
        r.0 = add(r.0, c.free_delta, || what.clone())?;
        r.1 = add(r.1, c.locked_delta, || what.clone())?;
        let free_neg = r.0 < Decimal::ZERO;
        let locked_neg = r.1 < Decimal::ZERO;
        if free_neg && !r.2 {
            problems.push(format!(
                "account {aid}: balance change seq {} ({}) takes free {} to {}",
                c.seq, c.reason, c.asset, r.0
            ));
        }
        if locked_neg && !r.3 {
            problems.push(format!(
                "account {aid}: balance change seq {} ({}) takes locked {} to {}",
                c.seq, c.reason, c.asset, r.1
            ));
        }
        r.2 = free_neg;
        r.3 = locked_neg;
        bump(&mut total_locked, &c.asset, c.locked_delta, &what)?;

        if (c.reason == reason::LOCK || c.reason == reason::UNLOCK)
            && c.free_delta != -c.locked_delta
        {
            problems.push(format!(
                "balance change seq {} ({} of {} for order {}): free delta {} is not the negative of locked delta {}",
                c.seq,
                c.reason,
                c.asset,
                c.order_id.map_or_else(|| "none".to_owned(), |o| o.to_string()),
                c.free_delta,
                c.locked_delta
            ));
        }
        if (c.reason == reason::FILL || c.reason == reason::FEE) && c.fill_id.is_none() {
            problems.push(format!(
                "balance change seq {} ({} of {}) does not name a fill",
                c.seq, c.reason, c.asset
            ));
        }
        match c.order_id {
            Some(oid) => {
                if !order_status.contains_key(&oid) {
                    problems.push(format!(
                        "balance change seq {} references order {oid}, which is not an order of account {aid}",
                        c.seq
                    ));
                }
                bump(
                    order_locks.entry(oid).or_default(),
                    &c.asset,
                    c.locked_delta,
                    &what,
                )?;
            }
            None => {
                if !c.locked_delta.is_zero() {
                    problems.push(format!(
                        "balance change seq {} ({}) changes locked {} by {} without naming an order",
                        c.seq, c.reason, c.asset, c.locked_delta
                    ));
                }
            }
        }
        if let Some(fid) = c.fill_id {
            match fill_ids.get(&fid) {
                None => problems.push(format!(
                    "balance change seq {} references fill {fid}, which is not a fill of account {aid}",
                    c.seq
                )),
                Some(&foid) => {
                    if c.order_id.is_some_and(|oid| oid != foid) {
                        problems.push(format!(
                            "balance change seq {} names order {} but its fill {fid} is of order {foid}",
                            c.seq,
                            c.order_id.unwrap_or_default()
                        ));
                    }
                }
            }
            bump(
                fill_changes.entry(fid).or_default(),
                &c.asset,
                add(c.free_delta, c.locked_delta, || what.clone())?,
                &what,
            )?;
        }
    }

    // 2. Every fill is matched exactly by its balance changes.
    let mut fills_by_order: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, f) in fills.iter().enumerate() {
        fills_by_order.entry(f.order_id).or_default().push(i);
        let label = format!("fill {} of order {}", f.id, f.order_id);
        let Some((base, quote)) = split_symbol(&f.symbol, &a.quote_asset) else {
            problems.push(format!(
                "{label}: symbol {} does not end with account {aid}'s quote asset {}",
                f.symbol, a.quote_asset
            ));
            continue;
        };
        let mut expected: AssetSums = BTreeMap::new();
        match f.side {
            Side::Buy => {
                bump(&mut expected, base, f.quantity, &label)?;
                bump(&mut expected, quote, -f.quote_quantity, &label)?;
            }
            Side::Sell => {
                bump(&mut expected, base, -f.quantity, &label)?;
                bump(&mut expected, quote, f.quote_quantity, &label)?;
            }
        }
        bump(&mut expected, &f.fee_asset, -f.fee, &label)?;
        let empty = BTreeMap::new();
        let actual = fill_changes.get(&f.id).unwrap_or(&empty);
        if actual.is_empty() && expected.values().any(|v| !v.is_zero()) {
            problems.push(format!("{label} has no balance changes"));
            continue;
        }
        let assets: std::collections::BTreeSet<&String> =
            expected.keys().chain(actual.keys()).collect();
        for asset in assets {
            let exp = expected.get(asset).copied().unwrap_or_default();
            let act = actual.get(asset).copied().unwrap_or_default();
            if exp != act {
                let role = if asset == base {
                    "base"
                } else if asset == quote {
                    "quote"
                } else {
                    "fee"
                };
                problems.push(format!(
                    "{label}: {role} ({asset}) balance change is {} but fill implies {}",
                    act.normalize(),
                    exp.normalize()
                ));
            }
        }
    }

    // 3. Orders agree with their fills; 4./5. locks.
    let mut open_locked: AssetSums = BTreeMap::new();
    for (o, events) in &orders {
        let Some(latest) = events.last() else {
            problems.push(format!("order {} has no status events", o.id));
            continue;
        };
        let first_terminal = events.iter().position(|e| e.status.is_terminal());
        if let Some(t) = first_terminal {
            for e in &events[t + 1..] {
                problems.push(format!(
                    "order {} has a {} event (seq {}) after it became {} (seq {})",
                    o.id, e.status, e.seq, events[t].status, events[t].seq
                ));
            }
        }
        let mut qty = Decimal::ZERO;
        let mut quote_qty = Decimal::ZERO;
        let label = format!("order {}", o.id);
        for &i in fills_by_order.get(&o.id).map(Vec::as_slice).unwrap_or(&[]) {
            let Some(f) = fills.get(i) else { continue };
            qty = add(qty, f.quantity, || label.clone())?;
            quote_qty = add(quote_qty, f.quote_quantity, || label.clone())?;
            if f.time_ms < o.created_ms {
                problems.push(format!(
                    "fill {} of order {} at {} is earlier than the order's creation at {}",
                    f.id, o.id, f.time_ms, o.created_ms
                ));
            }
            if let Some(t) = first_terminal.and_then(|t| events.get(t)) {
                if f.time_ms > t.time_ms {
                    problems.push(format!(
                        "fill {} of order {} at {} comes after the order became {} at {}",
                        f.id, o.id, f.time_ms, t.status, t.time_ms
                    ));
                }
            }
        }
        if qty != latest.executed_qty {
            problems.push(format!(
                "order {}: fills add up to quantity {} but its latest event ({}, seq {}) says executed {}",
                o.id,
                qty.normalize(),
                latest.status,
                latest.seq,
                latest.executed_qty
            ));
        }
        if quote_qty != latest.cumulative_quote_qty {
            problems.push(format!(
                "order {}: fills add up to quote quantity {} but its latest event ({}, seq {}) says {}",
                o.id,
                quote_qty.normalize(),
                latest.status,
                latest.seq,
                latest.cumulative_quote_qty
            ));
        }
        if latest.status == OrderStatus::Filled {
            if let Some(q) = o.quantity {
                if latest.executed_qty != q {
                    problems.push(format!(
                        "order {} is FILLED but executed {} of quantity {}",
                        o.id, latest.executed_qty, q
                    ));
                }
            }
        }
        let locks = order_locks.get(&o.id);
        for (asset, amount) in locks.into_iter().flatten() {
            if latest.status.is_terminal() {
                if !amount.is_zero() {
                    problems.push(format!(
                        "order {} is {} but {} {asset} is still locked for it",
                        o.id,
                        latest.status,
                        amount.normalize()
                    ));
                }
            } else {
                if *amount < Decimal::ZERO {
                    problems.push(format!(
                        "order {} ({}) has a negative lock of {} {asset}",
                        o.id,
                        latest.status,
                        amount.normalize()
                    ));
                }
                bump(&mut open_locked, asset, *amount, &label)?;
            }
        }
    }
    // 5. The account's locked balance is exactly what its open orders hold.
    let assets: std::collections::BTreeSet<&String> =
        total_locked.keys().chain(open_locked.keys()).collect();
    for asset in assets {
        let total = total_locked.get(asset).copied().unwrap_or_default();
        let open = open_locked.get(asset).copied().unwrap_or_default();
        if total != open {
            problems.push(format!(
                "account {aid}: locked {asset} is {} but open orders hold {}",
                total.normalize(),
                open.normalize()
            ));
        }
    }

    report.balances.extend(balance_changes::sum(aid, &changes)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_split_on_the_quote_suffix() {
        assert_eq!(split_symbol("PEPEUSDT", "USDT"), Some(("PEPE", "USDT")));
        assert_eq!(split_symbol("USDT", "USDT"), None);
        assert_eq!(split_symbol("PEPEBTC", "USDT"), None);
    }
}
