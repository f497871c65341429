//! The PaperMemes application: composes the engine ([`papermemes_core`]), the ledger
//! ([`papermemes_store`]) and market data ([`papermemes_market`]) into services that the CLI
//! and the desktop shell both drive.

pub mod assets;
pub mod backtest;
pub mod chart;
pub mod desk;
pub mod error;
pub mod instruments;
pub mod memes;
pub mod paths;
pub mod settings;
pub mod trading;

pub use error::AppError;
