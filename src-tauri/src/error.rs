//! Errors cross IPC as `{code, message, details?}` with stable codes (the app's codes).

use papermemes_app::AppError;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct IpcError {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl IpcError {
    pub fn internal(message: impl std::fmt::Display) -> Self {
        IpcError {
            code: "internal".into(),
            message: message.to_string(),
            details: None,
        }
    }
}

impl From<AppError> for IpcError {
    fn from(e: AppError) -> Self {
        let body = e.to_json();
        IpcError {
            code: body.code,
            message: body.message,
            details: body.details,
        }
    }
}
