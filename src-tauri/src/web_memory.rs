//! A memory limit for the page's web process (WebKitGTK's memory-pressure settings).
//!
//! Left to itself, WebKit's web process measures its memory against a limit derived from the
//! machine's RAM (up to 3 GB), so on a desktop it gives nothing back of its own accord until the
//! whole machine runs short: streaming the market at 10×, its caches and its allocator's free
//! pages grew the web process ~10 MiB over the first minutes (docs/desktop-memory.md, "Seventh
//! pass"). With a limit, every poll interval the web process compares its footprint (its
//! anonymous private dirty memory) with fractions of the limit and, above them, releases memory:
//! its non-critical caches (fonts, glyphs, style) and free pages above the conservative fraction;
//! its critical ones too (compiled JavaScript, the memory cache) above the strict one. It is never
//! killed.
//!
//! The settings are a construct-only property of WebKit's web context, which wry builds, so the
//! workspace carries wry with one small patch that takes them (vendor/wry/PATCHED.md).
//! `PAPERMEMES_WEB_MEMORY` overrides them: `off`, or `LIMIT_MB,CONSERVATIVE,STRICT,POLL_S`.

/// What PaperMemes gives its web process unless the user overrides it (measured in
/// docs/desktop-memory.md, "Seventh pass"). The page's footprint is 41–47 MB on a 1440×900 window
/// while the market streams, so above the conservative line (40 MB) the web process keeps giving
/// back what the stream leaves behind, every 10 s. The strict line (90 MB) is far above it: a
/// bigger window has bigger canvases, and releasing compiled code every poll would cost CPU for
/// nothing; it is there for something growing well past what the page needs.
pub(crate) const DEFAULT: Settings = Settings {
    memory_limit_mb: 100,
    conservative_threshold: 0.4,
    strict_threshold: 0.9,
    poll_interval_s: 10.0,
};

pub(crate) const VAR: &str = "PAPERMEMES_WEB_MEMORY";

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Settings {
    pub memory_limit_mb: u32,
    pub conservative_threshold: f64,
    pub strict_threshold: f64,
    pub poll_interval_s: f64,
}

impl Settings {
    #[cfg(target_os = "linux")]
    fn to_wry(self) -> wry::WebProcessMemoryPressure {
        wry::WebProcessMemoryPressure {
            memory_limit_mb: self.memory_limit_mb,
            conservative_threshold: self.conservative_threshold,
            strict_threshold: self.strict_threshold,
            poll_interval_s: self.poll_interval_s,
        }
    }
}

/// The settings for a value of [`VAR`] (`None` when unset): `Ok(None)` turns the limit off.
/// A value that does not parse, or is out of WebKit's ranges, is an error and the caller keeps
/// the default.
pub(crate) fn parse(value: Option<&str>) -> Result<Option<Settings>, String> {
    let Some(value) = value.map(str::trim) else {
        return Ok(Some(DEFAULT));
    };
    if value.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let bad = || {
        format!(
            "{VAR}={value:?} is not understood: give `off` or LIMIT_MB,CONSERVATIVE,STRICT,POLL_S \
             (e.g. 100,0.4,0.9,10) with 0 < CONSERVATIVE < STRICT < 1 and POLL_S > 0"
        )
    };
    let parts: Vec<&str> = value.split(',').map(str::trim).collect();
    let [limit, conservative, strict, poll] = parts.as_slice() else {
        return Err(bad());
    };
    let s = Settings {
        memory_limit_mb: limit.parse().map_err(|_| bad())?,
        conservative_threshold: conservative.parse().map_err(|_| bad())?,
        strict_threshold: strict.parse().map_err(|_| bad())?,
        poll_interval_s: poll.parse().map_err(|_| bad())?,
    };
    let in_range = s.memory_limit_mb > 0
        && s.conservative_threshold > 0.0
        && s.conservative_threshold < s.strict_threshold
        && s.strict_threshold < 1.0
        && s.poll_interval_s > 0.0
        && s.poll_interval_s.is_finite();
    if in_range {
        Ok(Some(s))
    } else {
        Err(bad())
    }
}

/// What [`apply`] chose, for the log file: the log opens later, once the data folder is known.
/// `(override refused, message)`.
static CHOSEN: std::sync::OnceLock<(bool, String)> = std::sync::OnceLock::new();

/// Chooses the settings (the default, or the user's override) for every web context made from
/// now on; before the window is built. A bad override is reported on stderr at once and in the
/// log by [`log_choice`].
#[cfg(target_os = "linux")]
pub(crate) fn apply() {
    let value = std::env::var(VAR).ok();
    let (chosen, warning) = match parse(value.as_deref()) {
        Ok(c) => (c, None),
        Err(why) => {
            let w = format!("{why}; keeping the default web memory limit");
            eprintln!("PaperMemes: {w}");
            (Some(DEFAULT), Some(w))
        }
    };
    let outcome = match wry::set_web_process_memory_pressure(chosen.map(Settings::to_wry)) {
        Err(why) => format!("web memory limit not set: {why}"),
        Ok(()) => match chosen {
            None => format!("web memory limit off ({VAR}=off)"),
            Some(s) => format!(
                "web memory limit {} MB, releases above {} and {} of it, every {} s",
                s.memory_limit_mb, s.conservative_threshold, s.strict_threshold, s.poll_interval_s
            ),
        },
    };
    let _ = CHOSEN.set(match warning {
        Some(w) => (true, format!("{w}. {outcome}")),
        None => (false, outcome),
    });
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn apply() {}

/// Writes what [`apply`] chose to the log (once logging is set up).
pub(crate) fn log_choice() {
    match CHOSEN.get() {
        Some((true, c)) => tracing::warn!("{c}"),
        Some((false, c)) => tracing::info!("{c}"),
        None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_gives_the_default_and_off_turns_it_off() {
        assert_eq!(parse(None), Ok(Some(DEFAULT)));
        assert_eq!(parse(Some("off")), Ok(None));
        assert_eq!(parse(Some(" OFF ")), Ok(None));
    }

    #[test]
    fn a_full_override_is_taken() {
        let s = parse(Some("200, 0.3, 0.5, 30"))
            .expect("valid")
            .expect("on");
        assert_eq!(s.memory_limit_mb, 200);
        assert_eq!(s.conservative_threshold, 0.3);
        assert_eq!(s.strict_threshold, 0.5);
        assert_eq!(s.poll_interval_s, 30.0);
    }

    #[test]
    fn values_webkit_would_reject_are_errors_naming_the_variable() {
        for bad in [
            "",
            "100",
            "100,0.4,0.6",
            "100,0.4,0.6,10,1",
            "lots,0.4,0.6,10",
            "0,0.4,0.6,10",
            "-5,0.4,0.6,10",
            "100,0.6,0.4,10",
            "100,0.4,1.2,10",
            "100,0,0.6,10",
            "100,0.4,0.6,0",
            "100,0.4,0.6,inf",
            "100,NaN,0.6,10",
        ] {
            let err = parse(Some(bad)).expect_err(bad);
            assert!(err.contains(VAR), "{bad}: {err}");
        }
    }

    /// The patched wry checks the values against WebKit's ranges too (WebKit asserts on bad
    /// ones): what we ship by default must pass, and inverted thresholds must be refused.
    #[cfg(target_os = "linux")]
    #[test]
    fn wry_takes_the_default_and_refuses_what_webkit_would_not() {
        assert_eq!(
            wry::set_web_process_memory_pressure(Some(DEFAULT.to_wry())),
            Ok(())
        );
        let inverted = Settings {
            conservative_threshold: 0.95,
            ..DEFAULT
        };
        assert!(wry::set_web_process_memory_pressure(Some(inverted.to_wry())).is_err());
        assert_eq!(wry::set_web_process_memory_pressure(None), Ok(()));
    }
}
