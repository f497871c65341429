//! Where things live: the platform's data, config and log directories (XDG on Linux), or one
//! directory given with `--data-dir` / `PAPERMEMES_DATA_DIR` that then holds everything
//! (database, settings, logs) — handy for tests and for keeping several portfolios apart.

use std::path::{Path, PathBuf};

use crate::AppError;

#[derive(Debug, Clone)]
pub struct AppPaths {
    pub data_dir: PathBuf,
    pub config_file: PathBuf,
    pub log_dir: PathBuf,
}

impl AppPaths {
    pub fn resolve(data_dir: Option<&Path>) -> Result<AppPaths, AppError> {
        let paths = match data_dir {
            Some(d) => AppPaths {
                data_dir: d.to_path_buf(),
                config_file: d.join("settings.toml"),
                log_dir: d.join("logs"),
            },
            None => {
                let dirs = directories::ProjectDirs::from("app", "PaperMemes", "papermemes")
                    .ok_or_else(|| {
                        AppError::Config(
                            "cannot find a home directory for the data folder; pass --data-dir DIR"
                                .into(),
                        )
                    })?;
                AppPaths {
                    data_dir: dirs.data_dir().to_path_buf(),
                    config_file: dirs.config_dir().join("settings.toml"),
                    log_dir: dirs.data_dir().join("logs"),
                }
            }
        };
        Ok(paths)
    }

    pub fn db_file(&self) -> PathBuf {
        self.data_dir.join("papermemes.sqlite")
    }

    /// Take the data folder for this process: one PaperMemes (desktop app or CLI) at a time may
    /// trade in it, since each keeps the exchange's state in memory. The lock is the OS's
    /// (released when the process ends, also on a crash).
    pub fn lock(&self) -> Result<DataLock, AppError> {
        self.create()?;
        let path = self.data_dir.join("papermemes.lock");
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| AppError::Io {
                message: format!("cannot open {}: {e}", path.display()),
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                let holder = holder.trim();
                return Err(AppError::invalid(
                    "data.in_use",
                    format!(
                        "the data folder {} is in use by another PaperMemes{} (the desktop app or a command still running); close it, or use --data-dir for a separate folder",
                        self.data_dir.display(),
                        if holder.is_empty() { String::new() } else { format!(" ({holder})") }
                    ),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(AppError::Io {
                    message: format!("cannot lock {}: {e}", path.display()),
                })
            }
        }
        {
            use std::io::{Seek, Write};
            let mut f = &file;
            let _ = f.set_len(0);
            let _ = f.seek(std::io::SeekFrom::Start(0));
            let _ = write!(f, "pid {}", std::process::id());
        }
        Ok(DataLock { _file: file })
    }

    /// [`AppPaths::lock`], waiting up to `patience` while another PaperMemes holds the folder
    /// (the desktop app just quit and is still committing, or a CLI command is finishing).
    pub fn lock_waiting(&self, patience: std::time::Duration) -> Result<DataLock, AppError> {
        let until = std::time::Instant::now() + patience;
        loop {
            match self.lock() {
                Err(e) if e.code() == "data.in_use" && std::time::Instant::now() < until => {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                other => return other,
            }
        }
    }

    /// Create the data and log directories.
    pub fn create(&self) -> Result<(), AppError> {
        for d in [&self.data_dir, &self.log_dir] {
            std::fs::create_dir_all(d).map_err(|e| AppError::Io {
                message: format!("cannot create {}: {e}", d.display()),
            })?;
        }
        Ok(())
    }
}

/// Holds the data folder for this process (see [`AppPaths::lock`]); released on drop.
#[derive(Debug)]
pub struct DataLock {
    _file: std::fs::File,
}
