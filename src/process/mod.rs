//! Running a program bounded: in a process group of its own (ended with
//! it: `group.rs`), its output read up to a limit, stopped at a timeout
//! and when this tool is signalled. What it prints is handed back as secret
//! bytes and never shown; a failure says how the program ended. The runner
//! of `fromCommand` (docs/konduktor-compat.md §5.2) and of the kubeconfig's
//! credential (exec) plugins; each words the failures for its own reader.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::konduktor::secret_value::SecretBytes;

/// How a program failed to give its output. Never holds the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunError {
    /// The program was not found (`program` escaped for messages).
    NotFound { program: String },
    /// It could not be started (`reason`: the kind of the OS error).
    CannotStart { program: String, reason: String },
    /// It ended with a status other than success (`status 3`, `signal 9`).
    Failed { status: String },
    /// It did not end within the timeout, and was stopped.
    TimedOut(Duration),
    /// It ended, but a program it started held its output open past the
    /// timeout.
    OutputHeldOpen(Duration),
    /// It printed more than the limit (and a newline).
    TooLarge,
    /// Its output could not be read.
    Unreadable(String),
}

/// Run `command` (its standard input and error set by the caller) in a
/// process group of its own and return what it printed on standard output,
/// read up to `limit` bytes and a trailing newline; the group is stopped at
/// `timeout` and when the tool is signalled. A status other than success is
/// an error. `program` names it in errors.
///
/// # Errors
///
/// The program is missing, fails, runs past its timeout, or prints more
/// than `limit` bytes and a newline.
pub fn run_bounded(
    mut command: Command,
    program: &str,
    timeout: Duration,
    limit: usize,
) -> Result<SecretBytes, RunError> {
    command.stdout(Stdio::piped());
    let terminal = group::Terminal::ours();
    group::prepare(&mut command, &terminal);
    let mut child = command.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => RunError::NotFound {
            program: crate::escape::text(program).into_owned(),
        },
        _ => RunError::CannotStart {
            program: crate::escape::text(program).into_owned(),
            reason: e.kind().to_string(),
        },
    })?;
    let running = group::started(&child, terminal);
    let deadline = Instant::now() + timeout;
    let output = match read_output(&mut child, &running, deadline, timeout, limit) {
        Ok(Some(output)) => Ok(output),
        Ok(None) => {
            // Ctrl-C ended the program; its group is stopped.
            group::end_as_interrupted(running);
            return Err(RunError::Failed {
                status: "signal 2".into(),
            });
        }
        Err(e) => Err(e),
    };
    let status = match output {
        Ok(_) => wait_until(&mut child, deadline),
        Err(_) => None,
    };
    let output = output?;
    let Some(status) = status else {
        running.stop(&mut child);
        return Err(RunError::TimedOut(timeout));
    };
    if running.interrupted_at_terminal(status) {
        group::end_as_interrupted(running);
    }
    if !status.success() {
        return Err(RunError::Failed {
            status: describe(status),
        });
    }
    Ok(output)
}

/// Read standard output on a thread (a pipe read blocks), up to one byte
/// past the limit and a trailing newline, until it closes or the deadline
/// passes. `None`: a Ctrl-C at the terminal ended the program while a
/// program it started still held its output; the group is then stopped
/// (the Ctrl-C ends this tool too, at once, not at the timeout).
fn read_output(
    child: &mut Child,
    running: &group::Running,
    deadline: Instant,
    timeout: Duration,
    limit: usize,
) -> Result<Option<SecretBytes>, RunError> {
    let Some(mut stdout) = child.stdout.take() else {
        running.stop(child);
        return Err(RunError::Unreadable("no output pipe".into()));
    };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let most = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(2);
        let read = (&mut stdout).take(most).read_to_end(&mut buf);
        // Held as secret bytes from here on (wiped when dropped).
        let _ = tx.send(
            read.map(|_| SecretBytes::new(buf))
                .map_err(|e| e.kind().to_string()),
        );
    });
    // Waited for in slices: between them, whether Ctrl-C ended the program.
    let received = loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(remaining.min(Duration::from_millis(50))) {
            Err(mpsc::RecvTimeoutError::Timeout) if !remaining.is_zero() => {
                if let Ok(Some(status)) = child.try_wait()
                    && running.interrupted_at_terminal(status)
                {
                    running.stop(child);
                    return Ok(None);
                }
            }
            received => break received,
        }
    };
    match received {
        // More than a value and its newline: too large, however it ends.
        Ok(Ok(bytes)) if bytes.len() > limit.saturating_add(1) => {
            running.stop(child);
            Err(RunError::TooLarge)
        }
        Ok(Ok(bytes)) => Ok(Some(bytes)),
        Ok(Err(kind)) => {
            running.stop(child);
            Err(RunError::Unreadable(kind))
        }
        Err(_) => {
            let ended = matches!(child.try_wait(), Ok(Some(_)));
            running.stop(child);
            Err(if ended {
                RunError::OutputHeldOpen(timeout)
            } else {
                RunError::TimedOut(timeout)
            })
        }
    }
}

/// The exit status, if the program ends before the deadline.
fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            _ => return None,
        }
    }
}

fn describe(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("status {code}"),
        None => "an unknown status".to_string(),
    }
}

#[cfg(unix)]
mod group;

/// Elsewhere: no process groups; the program alone is stopped.
#[cfg(not(unix))]
mod group {
    use std::process::{Child, Command};

    pub struct Terminal;

    impl Terminal {
        pub fn ours() -> Self {
            Terminal
        }
    }

    pub fn prepare(_: &mut Command, _: &Terminal) {}

    pub struct Running;

    pub fn started(_: &Child, _: Terminal) -> Running {
        Running
    }

    impl Running {
        pub fn stop(&self, child: &mut Child) {
            let _ = child.kill();
            let _ = child.wait();
        }

        pub fn interrupted_at_terminal(&self, _: std::process::ExitStatus) -> bool {
            false
        }
    }

    pub fn end_as_interrupted(_: Running) {}
}
