//! Binance spot public REST: depth snapshots, `exchangeInfo`, `klines`.
//!
//! The base URL is a setting, so tests point it at a local server. Rate limits are honoured:
//! HTTP 429 (too many requests) and 418 (IP banned after ignoring 429s) come back as
//! [`RestError::RateLimited`] with the server's `Retry-After`, and callers wait that long.

use std::str::FromStr;
use std::time::Duration;

use papermemes_core::event::Candle;
use papermemes_core::instrument::Instruments;
use rust_decimal::Decimal;
use thiserror::Error;

use crate::binance::{decode, DepthSnapshot, Payload};

#[derive(Debug, Error)]
pub enum RestError {
    #[error("cannot reach {url}: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("{url}: rate limited (HTTP {status}{}); retry after {}s", if *status == 418 { ", IP banned" } else { "" }, retry_after.as_secs())]
    RateLimited {
        url: String,
        status: u16,
        retry_after: Duration,
    },
    #[error("{url}: HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("{url}: unexpected response: {message}")]
    Decode { url: String, message: String },
}

impl RestError {
    pub fn code(&self) -> &'static str {
        match self {
            RestError::Http { .. } => "rest.unreachable",
            RestError::RateLimited { .. } => "rest.rate_limited",
            RestError::Status { .. } => "rest.status",
            RestError::Decode { .. } => "rest.decode",
        }
    }
}

/// Parse a `klines` body: arrays of `[openTime, "o", "h", "l", "c", "v", closeTime, …]`.
pub fn parse_klines(body: &str) -> Result<Vec<Candle>, String> {
    let rows: Vec<Vec<serde_json::Value>> =
        serde_json::from_str(body).map_err(|e| e.to_string())?;
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let int = |k: usize| r.get(k).and_then(serde_json::Value::as_i64);
            let dec = |k: usize| {
                r.get(k)
                    .and_then(serde_json::Value::as_str)
                    .and_then(|s| Decimal::from_str(s).ok())
            };
            match (int(0), dec(1), dec(2), dec(3), dec(4), dec(5), int(6)) {
                (Some(t), Some(o), Some(h), Some(l), Some(c), Some(v), Some(close_t)) => {
                    Ok(Candle {
                        open_time_ms: t,
                        interval_ms: close_t + 1 - t,
                        open: o,
                        high: h,
                        low: l,
                        close: c,
                        volume: v,
                    })
                }
                _ => Err(format!("kline row {i} is malformed")),
            }
        })
        .collect()
}

/// A client for one REST base URL (e.g. `https://api.binance.com`).
#[derive(Debug, Clone)]
pub struct RestClient {
    base: String,
    http: reqwest::Client,
}

impl RestClient {
    pub fn new(base: &str, timeout: Duration) -> Result<Self, RestError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("papermemes/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| RestError::Http {
                url: base.to_string(),
                source,
            })?;
        Ok(RestClient {
            base: base.trim_end_matches('/').to_string(),
            http,
        })
    }

    /// GET `path` (with query) and return the body, mapping rate limits and errors.
    pub async fn get(&self, path: &str) -> Result<String, RestError> {
        let url = format!("{}{}", self.base, path);
        let resp = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|source| RestError::Http {
                url: url.clone(),
                source,
            })?;
        let status = resp.status().as_u16();
        if status == 429 || status == 418 {
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs)
                // Binance always sends Retry-After; if a proxy drops it, back off a minute.
                .unwrap_or(Duration::from_secs(60));
            return Err(RestError::RateLimited {
                url,
                status,
                retry_after,
            });
        }
        let body = resp.text().await.map_err(|source| RestError::Http {
            url: url.clone(),
            source,
        })?;
        if !(200..300).contains(&status) {
            let body = body.chars().take(300).collect();
            return Err(RestError::Status { url, status, body });
        }
        Ok(body)
    }

    pub async fn depth(&self, symbol: &str, limit: u32) -> Result<DepthSnapshot, RestError> {
        let path = format!(
            "/api/v3/depth?symbol={}&limit={limit}",
            symbol.to_ascii_uppercase()
        );
        let body = self.get(&path).await?;
        match decode(&body) {
            Ok(m) => match m.payload {
                Payload::DepthSnapshot(s) => Ok(s),
                _ => Err(RestError::Decode {
                    url: path,
                    message: "not a depth snapshot".into(),
                }),
            },
            Err(e) => Err(RestError::Decode {
                url: path,
                message: e.to_string(),
            }),
        }
    }

    /// The trading rules, parsed, plus the raw JSON (to cache for offline use).
    pub async fn exchange_info(
        &self,
        symbols: &[String],
    ) -> Result<(Instruments, String), RestError> {
        let list = symbols
            .iter()
            .map(|s| format!("%22{}%22", s.to_ascii_uppercase()))
            .collect::<Vec<_>>()
            .join(",");
        let path = format!("/api/v3/exchangeInfo?symbols=[{list}]");
        let body = self.get(&path).await?;
        let parsed =
            Instruments::from_exchange_info_json(&body).map_err(|e| RestError::Decode {
                url: path,
                message: e.to_string(),
            })?;
        Ok((parsed, body))
    }

    /// Klines with `start_ms <= open time <= end_ms`, oldest first, at most `limit` (Binance
    /// caps it at 1000). Page by asking again from the last open time + the interval.
    pub async fn klines_range(
        &self,
        symbol: &str,
        interval: &str,
        start_ms: i64,
        end_ms: i64,
        limit: u32,
    ) -> Result<Vec<Candle>, RestError> {
        let path = format!(
            "/api/v3/klines?symbol={}&interval={interval}&startTime={start_ms}&endTime={end_ms}&limit={}",
            symbol.to_ascii_uppercase(),
            limit.clamp(1, 1000)
        );
        let body = self.get(&path).await?;
        parse_klines(&body).map_err(|message| RestError::Decode { url: path, message })
    }

    pub async fn klines(
        &self,
        symbol: &str,
        interval: &str,
        limit: u32,
    ) -> Result<Vec<Candle>, RestError> {
        let path = format!(
            "/api/v3/klines?symbol={}&interval={interval}&limit={limit}",
            symbol.to_ascii_uppercase()
        );
        let body = self.get(&path).await?;
        parse_klines(&body).map_err(|message| RestError::Decode { url: path, message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_klines() {
        let k = parse_klines(r#"[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100","148976.11427815",1499644799999,"2434.19055334",308,"1756.87402397","28.46694368","0"]]"#)
            .expect("klines");
        assert_eq!(k[0].interval_ms, 1499644800000 - 1499040000000);
        assert!(parse_klines("[[1]]").is_err());
    }
}
