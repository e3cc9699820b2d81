//! Standard output that cannot be written: a full disk (`/dev/full`) or a
//! closed descriptor (`>&-`) is "cannot write standard output: ...", exit 1
//! (2 for `diff`, whose 1 means "changes"), never an internal error, from
//! every command that prints; an apply whose plan cannot be shown writes
//! nothing. A pipe whose reader is gone ends the tool quietly by SIGPIPE,
//! as it ends kubectl. Linux only: `/dev/full`, and a closed descriptor
//! noticed before the Rust runtime hides it (elsewhere it reads as
//! `/dev/null`).
#![cfg(target_os = "linux")]

use std::process::{Command, Stdio};

use crate::support::{Run, SMALL_TASK, TestEnv, entry};

/// Where standard output goes in a run.
#[derive(Clone, Copy, Debug)]
enum Stdout {
    /// `/dev/full`: every write fails with ENOSPC.
    Full,
    /// Closed before the program starts (`>&-`).
    Closed,
}

/// The binary, as `env.command()` makes it, with standard output on
/// `stdout`; `args` follow `-n NAMESPACE` unless the first is `__complete`
/// (kubectl's completion protocol, which must come first).
fn run_with_stdout(env: &TestEnv, args: &[String], stdout: Stdout) -> Run {
    let base = env.command();
    let mut cmd = match stdout {
        Stdout::Full => {
            let mut cmd = Command::new(base.get_program());
            let full = std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap_or_else(|e| panic!("/dev/full: {e}"));
            cmd.stdout(Stdio::from(full));
            cmd
        }
        Stdout::Closed => {
            let mut cmd = Command::new("sh");
            cmd.args(["-c", "exec \"$0\" \"$@\" >&-"])
                .arg(base.get_program());
            cmd
        }
    };
    for (key, value) in base.get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    cmd.current_dir(env.dir.path());
    if args.first().is_none_or(|a| a != "__complete") {
        cmd.arg("-n").arg(&env.namespace);
    }
    cmd.args(args).stdin(Stdio::null()).stderr(Stdio::piped());
    env.run_command(cmd)
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// One secret of ours (`kept`) and a manifest that adds `added`.
fn setup(env: &TestEnv) -> (String, String) {
    env.create_env("kept", &[("K", &env.canary("kept"))])
        .success();
    let manifest = env.manifest(&[
        entry("kept").kind("env").inline(&[("K", "changed")]),
        entry("added").kind("env").inline(&[("A", "a")]),
    ]);
    (manifest, env.task(SMALL_TASK))
}

/// Every command that prints, with nothing changed in the cluster when it
/// fails to: the message, the exit status, and no panic.
#[test]
fn every_command_says_it_cannot_write_standard_output_and_writes_nothing() {
    let env = TestEnv::new();
    let (manifest, task) = setup(&env);
    let cases: Vec<(Vec<&str>, i32)> = vec![
        (vec!["whoami"], 1),
        (vec!["whoami", "-o", "json"], 1),
        (vec!["identity", "show"], 1),
        (vec!["identity", "candidates"], 1),
        (vec!["identity", "export"], 1),
        (vec!["secret", "list"], 1),
        (vec!["secret", "list", "-o", "json"], 1),
        (vec!["secret", "list", "-o", "yaml"], 1),
        (
            vec!["secret", "create", "--dry-run", "--inline", "X=y", "other"],
            1,
        ),
        (vec!["diff", "-f", &manifest], 2),
        (vec!["diff", "-f", &manifest, "-o", "json"], 2),
        (vec!["apply", "-f", &manifest, "--yes"], 1),
        (vec!["apply", "-f", &manifest, "--dry-run"], 1),
        (vec!["apply", "-f", &manifest, "--dry-run", "-o", "yaml"], 1),
        (vec!["export"], 1),
        (vec!["render-job", "-f", &task, "--secrets", &manifest], 1),
        (vec!["completion", "bash"], 1),
        (vec!["__complete", "secret", ""], 1),
        (vec!["--help"], 1),
        (vec!["secret", "list", "--help"], 1),
        (vec!["--version"], 1),
    ];
    for stdout in [Stdout::Full, Stdout::Closed] {
        let expected = match stdout {
            Stdout::Full => "cannot write standard output: No space left on device",
            Stdout::Closed => "cannot write standard output: it is closed",
        };
        for (args, code) in &cases {
            run_with_stdout(&env, &strings(args), stdout)
                .exits(*code)
                .stderr_has(expected);
        }
        // The plan could not be shown: nothing was written.
        assert!(
            env.my_secret("added").is_none(),
            "{stdout:?}: apply wrote after failing to show its plan"
        );
        assert_ne!(env.my_data("kept")["K"], b"changed");
    }
}

/// Standard output closed from the start: a command that would write
/// refuses before any request, whatever `-o` (a report written after the
/// writes would be lost; `--prune` deletions too).
#[test]
fn with_standard_output_closed_no_command_writes() {
    let env = TestEnv::new();
    let (manifest, _) = setup(&env);
    let cases: Vec<Vec<&str>> = vec![
        vec!["apply", "-f", &manifest, "--yes", "-o", "json"],
        vec!["apply", "-f", &manifest, "--yes", "-o", "yaml", "--prune"],
        vec!["apply", "-f", &manifest, "--yes", "--prune"],
        vec!["secret", "create", "--inline", "B=b", "more"],
        vec!["secret", "delete", "kept"],
    ];
    for args in &cases {
        run_with_stdout(&env, &strings(args), Stdout::Closed)
            .exits(1)
            .stderr_has("cannot write standard output: it is closed")
            .stderr_has("nothing was changed");
        assert!(env.my_secret("added").is_none(), "{args:?}");
        assert!(env.my_secret("more").is_none(), "{args:?}");
        assert!(env.my_secret("kept").is_some(), "{args:?}");
        assert_ne!(env.my_data("kept")["K"], b"changed", "{args:?}");
    }
}

/// A command that printed after writing says that the writes were made,
/// so that nobody takes the failure for "nothing happened".
#[test]
fn a_failure_to_print_after_writing_says_the_changes_were_made() {
    let env = TestEnv::new();
    let (manifest, _) = setup(&env);
    run_with_stdout(
        &env,
        &strings(&["apply", "-f", &manifest, "--yes", "-o", "json"]),
        Stdout::Full,
    )
    .exits(1)
    .stderr_has("cannot write standard output")
    .stderr_has("the changes were made");
    assert_eq!(env.my_data("added")["A"], b"a");
    run_with_stdout(
        &env,
        &strings(&["secret", "create", "--inline", "B=b", "more"]),
        Stdout::Full,
    )
    .failure()
    .stderr_has("cannot write standard output")
    .stderr_has("the changes were made");
    assert_eq!(env.my_data("more")["B"], b"b");
    run_with_stdout(&env, &strings(&["secret", "delete", "more"]), Stdout::Full)
        .failure()
        .stderr_has("cannot write standard output")
        .stderr_has("the changes were made");
    assert!(env.my_secret("more").is_none());
}

/// A pipe whose reader is gone (`| head` that has read enough): the tool
/// ends by SIGPIPE, silently, as kubectl and other Unix tools do; an apply
/// whose plan could not be shown has written nothing.
#[test]
fn a_closed_pipe_ends_the_tool_quietly_before_any_write() {
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::process::ExitStatusExt;
    let env = TestEnv::new();
    let (manifest, _) = setup(&env);
    let mut fds = [0; 2];
    // SAFETY: pipe fills the two descriptors it is given.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both are fresh descriptors that nothing else owns.
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(reader);
    // Text prints the plan before writing; `-o json` and `yaml` print
    // after, and look at the pipe before the first write.
    for output in ["text", "json", "yaml"] {
        let mut cmd = env
            .cmd(&["apply", "-f", &manifest, "--yes", "-o", output])
            .into_command();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(
                writer.try_clone().unwrap_or_else(|e| panic!("{e}")),
            ))
            .stderr(Stdio::piped());
        let out = cmd.output().unwrap_or_else(|e| panic!("run: {e}"));
        assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{output} {out:?}");
        let run = env.checked(out);
        assert_eq!(run.stderr, "", "quiet");
        assert!(env.my_secret("added").is_none(), "{output}");
    }
    assert!(env.my_secret("added").is_none());
}
