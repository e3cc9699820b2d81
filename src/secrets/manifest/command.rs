//! `fromCommand` (docs/konduktor-compat.md §5.2): a value is what a program prints. The
//! program is run directly (an argument list, never a shell), in the
//! manifest's folder, with the user's environment, standard input and
//! standard error (a password manager may ask on the terminal); its output
//! is read up to [`MAX_OUTPUT_BYTES`] and it is stopped at its timeout. It
//! runs in a process group of its own, ended with it ([`crate::process`]).
//! Nothing a program prints ever reaches a message: a failure names the
//! command and how it ended.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::input::located::Place;
use crate::konduktor::secret_value::SecretBytes;
use crate::process::RunError;

/// What one program may print: a Secret holds at most 1 MiB.
pub const MAX_OUTPUT_BYTES: usize = crate::konduktor::MAX_SECRET_BYTES;
/// How long a program may run, unless its entry says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// One `fromCommand` entry, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    /// The data key its output becomes.
    pub key: String,
    /// The program and its arguments (never a shell line).
    pub argv: Vec<String>,
    pub timeout: Duration,
    /// Remove one trailing newline (`trim: true`, the default).
    pub trim: bool,
    /// Where the entry is written.
    pub place: Place,
}

impl CommandSpec {
    /// The command line as a person would type it: arguments with spaces
    /// or quotes in single quotes, control characters escaped, and whole:
    /// what is shown before a program runs is all that it runs (a cut
    /// could hide the end of a long argument list).
    pub fn display(&self) -> String {
        let shown: Vec<String> = self.argv.iter().map(|a| shell_word(a)).collect();
        visible(&crate::escape::text(&shown.join(" ")))
    }
}

/// Text with every character that shows as nothing, or as a plain space,
/// written as a `\u{..}` escape: zero-width and other format characters,
/// spaces other than U+0020, variation selectors, tag characters, blank
/// glyphs (U+2800, U+1D159), and combining marks (which draw on the
/// character before them: an argument could look like another). In a
/// command about to run, nothing may be invisible.
fn visible(text: &str) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_invisible(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

fn is_invisible(c: char) -> bool {
    (c.is_whitespace() && c != ' ')
        || matches!(
            c,
            '\u{00AD}'
                // Combining marks: the general-purpose blocks.
                | '\u{0300}'..='\u{036F}'
                | '\u{1AB0}'..='\u{1AFF}'
                | '\u{1DC0}'..='\u{1DFF}'
                | '\u{20D0}'..='\u{20FF}'
                | '\u{FE20}'..='\u{FE2F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2060}'..='\u{206F}'
                // Braille pattern blank.
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFFB}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                // Musical symbols: a null notehead, combining stems and
                // flags, and format characters.
                | '\u{1D159}'
                | '\u{1D165}'..='\u{1D169}'
                | '\u{1D16D}'..='\u{1D182}'
                | '\u{1D185}'..='\u{1D18B}'
                | '\u{1D1AA}'..='\u{1D1AD}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

fn shell_word(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '-' | '_' | '.' | '/' | ':' | '=' | '@' | '+' | ',' | '%')
        });
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// How a program failed to give a value. Never holds its output.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum CommandError {
    #[error("the program `{program}` was not found")]
    NotFound { program: String },
    #[error("the program `{program}` could not be started: {reason}")]
    CannotStart { program: String, reason: String },
    #[error("it exited with {status}")]
    Failed { status: String },
    #[error("it did not finish within {}", crate::cluster::humanize(*.0))]
    TimedOut(Duration),
    #[error("it ended, but a program it started kept its output open past {}", crate::cluster::humanize(*.0))]
    OutputHeldOpen(Duration),
    #[error(
        "it printed more than {} bytes (a Secret holds at most 1 MiB)",
        MAX_OUTPUT_BYTES
    )]
    TooLarge,
    #[error("its output could not be read: {0}")]
    Unreadable(String),
    /// It printed a value its secret cannot take (an `env` value that is
    /// not text): why, and how to fix it.
    #[error("{0}")]
    Refused(String, String),
}

impl CommandError {
    pub fn help(&self) -> &str {
        match self {
            CommandError::NotFound { .. } => {
                "install it or put it on PATH, or give its path (a relative path is taken from the manifest's folder)"
            }
            CommandError::CannotStart { .. } => "check that the program is executable",
            CommandError::Failed { .. } => {
                "run the command yourself to see why (its output is never shown here); a password manager may need you to sign in first"
            }
            CommandError::TimedOut(_) => {
                "raise the entry's `timeout:` (e.g. `timeout: 2m`), or check that the program is not waiting for input"
            }
            CommandError::OutputHeldOpen(_) => {
                "a program it left running in the background still holds its standard output: redirect that program's output elsewhere"
            }
            CommandError::TooLarge => "a value must fit in a Secret; print only the value",
            CommandError::Unreadable(_) => "run the command again",
            CommandError::Refused(_, help) => help,
        }
    }
}

impl From<RunError> for CommandError {
    fn from(e: RunError) -> Self {
        match e {
            RunError::NotFound { program } => CommandError::NotFound { program },
            RunError::CannotStart { program, reason } => {
                CommandError::CannotStart { program, reason }
            }
            RunError::Failed { status } => CommandError::Failed { status },
            RunError::TimedOut(limit) => CommandError::TimedOut(limit),
            RunError::OutputHeldOpen(limit) => CommandError::OutputHeldOpen(limit),
            RunError::TooLarge => CommandError::TooLarge,
            RunError::Unreadable(reason) => CommandError::Unreadable(reason),
        }
    }
}

/// Run `spec` in `dir` and return what it printed (less one trailing
/// newline, unless `trim: false`).
///
/// # Errors
///
/// The program is missing, fails, runs past its timeout, or prints more
/// than [`MAX_OUTPUT_BYTES`].
pub fn run(spec: &CommandSpec, dir: &Path) -> Result<SecretBytes, CommandError> {
    let Some(program) = spec.argv.first() else {
        return Err(CommandError::NotFound {
            program: String::new(),
        });
    };
    // Absolute, so that a program path taken from the folder is not taken
    // from it twice once the program runs there.
    let dir = std::path::absolute(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    })
    .map_err(|e| CommandError::CannotStart {
        program: crate::escape::text(program).into_owned(),
        reason: e.kind().to_string(),
    })?;
    let program_path = resolve_program(program, &dir);
    let mut command = Command::new(&program_path);
    command
        .args(spec.argv.iter().skip(1))
        .current_dir(&dir)
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit());
    let output = crate::process::run_bounded(command, program, spec.timeout, MAX_OUTPUT_BYTES)?;
    let mut bytes = output.expose().to_vec();
    if spec.trim && bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    // The limit is on the value: a value of exactly 1 MiB may be printed
    // with its newline.
    if bytes.len() > MAX_OUTPUT_BYTES {
        return Err(CommandError::TooLarge);
    }
    Ok(SecretBytes::new(bytes))
}

/// A program path with a `/` is taken from the manifest's folder; a bare
/// name is looked up on PATH.
fn resolve_program(program: &str, dir: &Path) -> PathBuf {
    let path = Path::new(program);
    if program.contains('/') && path.is_relative() {
        dir.join(path)
    } else {
        path.to_path_buf()
    }
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
