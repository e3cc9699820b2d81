//! `-v` / `-vv`: what the tool does, on stderr. Only names, paths, verbs,
//! status codes and timings are logged, never a value; every line is
//! escaped (a context or file name may hold control characters).

use std::sync::atomic::{AtomicU8, Ordering};

static VERBOSITY: AtomicU8 = AtomicU8::new(0);

pub fn set_verbosity(level: u8) {
    VERBOSITY.store(level, Ordering::Relaxed);
}

pub fn enabled(level: u8) -> bool {
    VERBOSITY.load(Ordering::Relaxed) >= level
}

/// Log at `level` (1 for -v, 2 for -vv); the message is built only if shown.
pub fn log(level: u8, message: impl FnOnce() -> String) {
    if enabled(level) {
        eprintln!(
            "{}",
            console::style(format!("[konduktor] {}", crate::escape::text(&message()))).dim()
        );
    }
}
