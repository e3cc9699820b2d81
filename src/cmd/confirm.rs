//! Asking before a change that cannot be taken back: on a terminal, the user
//! types `yes`; elsewhere the command refuses (and `--yes` skips the
//! question). A leaf of the command layer, as [`super::prelude`].

use std::io::{BufRead, IsTerminal, Read, Write};

use crate::error::{Error, ErrorKind, Result};

/// The longest answer read: a terminal line, never an unbounded stream.
const MAX_ANSWER_BYTES: u64 = 1024;

/// Ask `question` on a terminal and go on only if the answer is `yes`.
/// Without a terminal on stdin, refuse: `no_terminal` and `cancelled` are
/// the errors for each case (they should say that nothing was changed).
pub fn confirm(question: &str, no_terminal: Error, cancelled: Error) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(no_terminal);
    }
    eprint!("{question} Type 'yes' to go on: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .take(MAX_ANSWER_BYTES)
        .read_line(&mut answer)
        .map_err(|e| Error::new(ErrorKind::Refused, format!("cannot read the answer: {e}")))?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(cancelled)
    }
}
