//! CSV export (RFC 4180: CRLF line ends, fields quoted when needed).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::Connection;

use crate::error::StoreError;
use crate::table::accounts;
use crate::types::{ExportSummary, ExportedFile};

/// (file name, query). `?1` is the account id or NULL for all accounts.
const FILES: &[(&str, &str)] = &[
    (
        "accounts.csv",
        "SELECT id, name, quote_asset, created_ms, maker_fee_bps, taker_fee_bps, initial_cash
         FROM accounts WHERE ?1 IS NULL OR id = ?1 ORDER BY id",
    ),
    (
        "orders.csv",
        "SELECT id, account_id, client_order_id, symbol, side, order_type, time_in_force, quantity,
                quote_quantity, price, stop_price, list_id, created_ms
         FROM orders WHERE ?1 IS NULL OR account_id = ?1 ORDER BY id",
    ),
    (
        "order_events.csv",
        "SELECT e.seq, e.order_id, e.time_ms, e.status, e.executed_qty, e.cumulative_quote_qty,
                e.reason
         FROM order_events e JOIN orders o ON o.id = e.order_id
         WHERE ?1 IS NULL OR o.account_id = ?1 ORDER BY e.seq",
    ),
    (
        "fills.csv",
        "SELECT id, order_id, account_id, symbol, side, price, quantity, quote_quantity, fee,
                fee_asset, is_maker, time_ms
         FROM fills WHERE ?1 IS NULL OR account_id = ?1 ORDER BY id",
    ),
    (
        "balance_changes.csv",
        "SELECT seq, account_id, asset, free_delta, locked_delta, reason, order_id, fill_id, time_ms
         FROM balance_changes WHERE ?1 IS NULL OR account_id = ?1 ORDER BY seq",
    ),
    (
        "equity.csv",
        "SELECT account_id, time_ms, equity
         FROM equity_points WHERE ?1 IS NULL OR account_id = ?1
         ORDER BY account_id, time_ms, rowid",
    ),
];

/// Append one CSV field to `out`, quoted if it contains a comma, quote, CR
/// or LF (quotes doubled).
pub(crate) fn push_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\r', '\n']) {
        out.push('"');
        out.push_str(&field.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(field);
    }
}

/// Append a record (fields joined by commas, ended by CRLF).
pub(crate) fn push_record<'a>(out: &mut String, fields: impl IntoIterator<Item = &'a str>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_field(out, f);
    }
    out.push_str("\r\n");
}

fn value_text(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Null => String::new(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(r) => r.to_string(),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Blob(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
    }
}

pub(crate) fn export_csv(
    conn: &Connection,
    account_id: Option<i64>,
    dir: &Path,
) -> Result<ExportSummary, StoreError> {
    if let Some(id) = account_id {
        if !accounts::exists(conn, id)? {
            return Err(StoreError::NotFound(format!("account {id} does not exist")));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| StoreError::io(dir, e))?;
    let mut summary = ExportSummary::default();
    for (name, sql) in FILES {
        let path = dir.join(name);
        let mut stmt = conn.prepare(sql)?;
        let names: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let file = File::create(&path).map_err(|e| StoreError::io(&path, e))?;
        let mut w = BufWriter::new(file);
        let mut buf = String::new();
        push_record(&mut buf, names.iter().map(String::as_str));
        let mut rows = stmt.query([account_id])?;
        let mut count = 0usize;
        while let Some(row) = rows.next()? {
            let fields = (0..names.len())
                .map(|i| row.get_ref(i).map(value_text))
                .collect::<Result<Vec<String>, _>>()?;
            push_record(&mut buf, fields.iter().map(String::as_str));
            count += 1;
            if buf.len() > 64 * 1024 {
                w.write_all(buf.as_bytes())
                    .map_err(|e| StoreError::io(&path, e))?;
                buf.clear();
            }
        }
        w.write_all(buf.as_bytes())
            .map_err(|e| StoreError::io(&path, e))?;
        w.flush().map_err(|e| StoreError::io(&path, e))?;
        summary.files.push(ExportedFile { path, rows: count });
    }
    tracing::info!(dir = %dir.display(), "ledger exported as CSV");
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Minimal RFC 4180 parser for one record (test oracle).
    fn parse_record(s: &str) -> Vec<String> {
        let body = s.strip_suffix("\r\n").unwrap_or(s);
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut chars = body.chars().peekable();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            if quoted {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        cur.push('"');
                    } else {
                        quoted = false;
                    }
                } else {
                    cur.push(c);
                }
            } else if c == '"' {
                quoted = true;
            } else if c == ',' {
                out.push(std::mem::take(&mut cur));
            } else {
                cur.push(c);
            }
        }
        out.push(cur);
        out
    }

    #[test]
    fn quotes_only_when_needed() {
        let mut s = String::new();
        push_record(&mut s, ["PEPEUSDT", "A,B", "say \"hi\"", ""]);
        assert_eq!(s, "PEPEUSDT,\"A,B\",\"say \"\"hi\"\"\",\r\n");
    }

    proptest! {
        #[test]
        fn records_round_trip(fields in proptest::collection::vec(".*", 1..6)) {
            let mut s = String::new();
            push_record(&mut s, fields.iter().map(String::as_str));
            prop_assert_eq!(parse_record(&s), fields);
        }
    }
}
