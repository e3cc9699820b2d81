//! Rendering: tables, kubectl-style ages, JSON and YAML, diagnostics.

use std::io::IsTerminal;

use crate::error::Error;

/// `--color auto|always|never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Colour on a terminal only, never with `NO_COLOR` (any non-empty value).
    pub fn enabled_for(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }

    /// Tell `console` what we decided, for stdout and stderr separately.
    pub fn apply(self) {
        console::set_colors_enabled(self.enabled_for(std::io::stdout().is_terminal()));
        console::set_colors_enabled_stderr(self.enabled_for(std::io::stderr().is_terminal()));
    }
}

/// Standard output was closed when the process started (`>&-`). The Rust
/// runtime opens `/dev/null` on a closed standard descriptor before `main`,
/// so writes would silently vanish: [`note_closed_stdout`] looks first.
static STDOUT_WAS_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Record whether standard output is open. Runs before the Rust runtime
/// starts (the binary lists it in `.init_array`), hence the C ABI and no
/// allocation: one `fcntl` and one atomic store.
pub extern "C" fn note_closed_stdout() {
    #[cfg(unix)]
    {
        // SAFETY: F_GETFD on a descriptor number only reads its flags; it
        // touches no memory of ours.
        let closed = unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_GETFD) } == -1;
        STDOUT_WAS_CLOSED.store(closed, std::sync::atomic::Ordering::Relaxed);
    }
}

/// For a command that writes to the cluster, before its first request:
/// standard output closed from the start (`>&-`) could never carry its
/// report, so nothing is changed (a report lost after the writes would
/// leave the user guessing what was done).
///
/// # Errors
///
/// Standard output was closed when the tool started.
pub fn refuse_if_closed() -> Result<(), Error> {
    if STDOUT_WAS_CLOSED.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(cannot_write_stdout(
            "it is closed (the command ran with `>&-`); nothing was changed",
            "run it with its output open: to a file (`> file`), or to `/dev/null` to throw it away",
        ));
    }
    Ok(())
}

/// Before the first write of a command whose report comes after its
/// writes (`apply -o json`): a pipe whose reader is already gone (`| head`
/// that has finished) ends the tool now, by SIGPIPE as a print to it
/// would, and not after the writes with the report lost. A reader that
/// goes away later cannot be foreseen.
pub fn quit_if_reader_gone() {
    #[cfg(unix)]
    {
        let mut watch = libc::pollfd {
            fd: libc::STDOUT_FILENO,
            events: libc::POLLOUT,
            revents: 0,
        };
        // SAFETY: poll reads and fills the one pollfd it is given, without
        // waiting (timeout 0); raise ends the process by SIGPIPE (its
        // default action, restored first thing in main).
        unsafe {
            if libc::poll(&mut watch, 1, 0) == 1 && watch.revents & libc::POLLERR != 0 {
                libc::raise(libc::SIGPIPE);
            }
        }
    }
}

/// Write `text` to standard output, whole, and flush it, so that a full
/// disk or a closed descriptor is an error here (exit 1) and not a panic of
/// `print!`, nor output lost without a word. A closed pipe (`| head`) never
/// gets here: SIGPIPE ends the process quietly first, as it ends kubectl
/// (see `cli::quit_on_broken_pipe`).
///
/// # Errors
///
/// Standard output cannot be written.
pub fn print(text: &str) -> Result<(), Error> {
    print_bytes(text.as_bytes())
}

/// [`print`] for bytes that need not be text (a file written to `-`).
///
/// # Errors
///
/// As [`print`].
pub fn print_bytes(text: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    if text.is_empty() {
        return Ok(());
    }
    if STDOUT_WAS_CLOSED.load(std::sync::atomic::Ordering::Relaxed) {
        return Err(cannot_write_stdout(
            "it is closed (the command ran with `>&-`)",
            "run it with its output open: to a file (`> file`), or to `/dev/null` to throw it away",
        ));
    }
    let mut out = std::io::stdout().lock();
    out.write_all(text)
        .and_then(|()| out.flush())
        .map_err(|e| {
            cannot_write_stdout(
                &io_reason(&e),
                "make room where the output goes, or send it elsewhere (`> file`); nothing was done after the output failed",
            )
        })
}

/// `print` with a newline after `text`.
///
/// # Errors
///
/// As [`print`].
pub fn println(text: &str) -> Result<(), Error> {
    print(&format!("{text}\n"))
}

/// An OS error as a person reads it: `No space left on device`, without
/// the `(os error 28)` that means nothing to them.
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(at) => text.get(..at).unwrap_or(&text).to_string(),
        None => text,
    }
}

fn cannot_write_stdout(reason: &str, help: &str) -> Error {
    Error::new(
        crate::error::ErrorKind::Output,
        format!("cannot write standard output: {reason}"),
    )
    .with_help(help)
}

/// `-o` formats shared by the commands that print data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
    Yaml,
}

/// Serialize `value` as pretty JSON or YAML. Strings in it may come from
/// files or the cluster: control and bidi characters are written as JSON
/// `\u` escapes, and YAML that would hold one raw is written as that JSON
/// instead (YAML 1.2 reads JSON, so `kubectl create -f -` takes it).
pub fn to_data<T: serde::Serialize>(value: &T, format: Format) -> Result<String, Error> {
    let fail = |e: String| {
        Error::new(
            crate::error::ErrorKind::Server,
            format!("cannot render the output: {e}"),
        )
    };
    let json = || {
        serde_json::to_string_pretty(value)
            .map(|s| crate::escape::json(&s).into_owned() + "\n")
            .map_err(|e| fail(e.to_string()))
    };
    match format {
        Format::Json | Format::Text => json(),
        Format::Yaml => {
            let yaml = serde_saphyr::to_string(value).map_err(|e| fail(e.to_string()))?;
            if yaml.chars().any(crate::escape::is_unsafe_in_data) {
                json()
            } else {
                Ok(yaml)
            }
        }
    }
}

/// A plain left-aligned table, kubectl style: upper-case headers, columns
/// separated by three spaces. Cells come from the cluster: escaped.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| crate::escape::text(c).into_owned())
                .collect()
        })
        .collect();
    let rows = rows.as_slice();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<width$}   ", width = widths[i]));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(headers.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// `n` things, in English: `0 secrets`, `1 secret`, `2 secrets`. The one
/// place a count meets its noun: no message says `secret(s)`.
pub fn count(n: impl std::fmt::Display, one: &str, many: &str) -> String {
    let n = n.to_string();
    if n == "1" {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Items joined as English lists them: `a`, `a and b`, `a, b and c`.
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// kubectl's `HumanDuration`: `45s`, `5m10s`, `3h`, `2d4h`, `400d`, `3y20d`.
pub fn age(seconds: i64) -> String {
    let s = seconds.max(0);
    let (m, h) = (s / 60, s / 3600);
    let d = h / 24;
    let y = d / 365;
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        if s % 60 == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{}s", s % 60)
        }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        if m % 60 == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{}m", m % 60)
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        if h % 24 == 0 {
            format!("{d}d")
        } else {
            format!("{d}d{}h", h % 24)
        }
    } else if d < 365 * 2 {
        format!("{d}d")
    } else if d < 365 * 8 {
        if d % 365 == 0 {
            format!("{y}y")
        } else {
            format!("{y}y{}d", d % 365)
        }
    } else {
        format!("{y}y")
    }
}

/// Render a diagnostic for stderr, with or without colour. Wrapped to the
/// terminal's width on a terminal; not wrapped otherwise, so that logs and
/// `grep` see whole lines.
#[must_use]
pub fn diagnostic(err: &Error, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let term = console::Term::stderr();
    let width = if term.is_term() {
        usize::from(term.size().1).max(40)
    } else {
        100_000
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(width);
    let mut out = String::new();
    if handler.render_report(&mut out, err).is_err() {
        return format!("error: {err}\n");
    }
    out
}

#[cfg(test)]
#[path = "output_tests.rs"]
pub(crate) mod tests;
