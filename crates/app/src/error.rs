//! One error shape for every boundary: a stable `code`, a `message` that says what was wrong
//! and what to do, and optional `details`. Serialised as `{code, message, details?}`.

use serde::Serialize;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AppError {
    /// The exchange refused an order or cancel; nothing changed.
    #[error(transparent)]
    Rejected(#[from] papermemes_core::error::Reject),
    #[error(transparent)]
    Store(#[from] papermemes_store::StoreError),
    #[error(transparent)]
    Data(#[from] papermemes_market::candles::CandleError),
    #[error(transparent)]
    Backtest(#[from] papermemes_core::backtest::BacktestError),
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    #[error("{0}")]
    Config(String),
    #[error("{message}")]
    Io { message: String },
}

impl AppError {
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            code,
            message: message.into(),
        }
    }

    /// Stable machine-readable code.
    pub fn code(&self) -> String {
        match self {
            AppError::Rejected(r) => format!("order.{}", r.code()),
            AppError::Store(e) => e.code().to_string(),
            AppError::Data(e) => e.code().to_string(),
            AppError::Backtest(e) => format!("backtest.{}", e.code()),
            AppError::Invalid { code, .. } => (*code).to_string(),
            AppError::Config(_) => "config".into(),
            AppError::Io { .. } => "io".into(),
        }
    }

    /// Process exit code for the CLI: 3 refused input, 4 bad data files, 5 storage, 1 other.
    pub fn exit_code(&self) -> i32 {
        match self {
            AppError::Rejected(_) | AppError::Invalid { .. } | AppError::Backtest(_) => 3,
            AppError::Data(_) => 4,
            AppError::Store(_) => 5,
            AppError::Config(_) | AppError::Io { .. } => 1,
        }
    }

    pub fn to_json(&self) -> ErrorBody {
        let details = match self {
            AppError::Rejected(r) => Some(serde_json::json!({ "binance_code": r.binance_code() })),
            _ => None,
        };
        ErrorBody {
            code: self.code(),
            message: self.to_string(),
            details,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}
