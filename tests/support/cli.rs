//! Running the binary in a test: [`TestEnv::cmd`] is the command line to
//! adjust (variables, owner, kubeconfig, standard input) before it runs,
//! as ripgrep's `TestCommand` and krew's `ITest`; the verbs the tests
//! repeat (`apply`, `diff`, `secret create`) are one call each; and
//! [`Run`]'s checks print the whole run when they fail.
//!
//! Every run goes through [`TestEnv::checked`], which fails the test if a
//! canary shows up in its output.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::Command;

use super::{OWNER, Run, TestEnv};

/// The variable the tests set to fix the owner hash (docs/konduktor-compat.md §2.1).
const TEST_OWNER_VAR: &str = "KONDUKTOR_TEST_USER_HASH";

/// One command line of the binary, built up before it runs.
pub struct TestCommand<'e> {
    env: &'e TestEnv,
    cmd: Command,
    /// `-n <the test namespace>` goes first (as [`TestEnv::run`] does).
    namespace: bool,
    args: Vec<OsString>,
    stdin: Option<String>,
}

impl<'e> TestCommand<'e> {
    fn new(env: &'e TestEnv, args: &[&str]) -> Self {
        TestCommand {
            env,
            cmd: env.command(),
            namespace: true,
            args: args.iter().map(OsString::from).collect(),
            stdin: None,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(OsString::from));
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.cmd.env_remove(key);
        self
    }

    /// Run as the owner `hash` (the tests' override of the owner hash).
    pub fn owner(self, hash: &str) -> Self {
        self.env(TEST_OWNER_VAR, hash)
    }

    /// Without the tests' owner override: the binary resolves the owner as
    /// on a user's machine (KONDUKTOR_USER_ID, the hash file, or computed).
    pub fn owner_unset(self) -> Self {
        self.env_remove(TEST_OWNER_VAR)
    }

    pub fn kubeconfig(self, path: impl AsRef<OsStr>) -> Self {
        self.env("KUBECONFIG", path)
    }

    pub fn home(self, path: &Path) -> Self {
        self.env("HOME", path)
    }

    /// From the repository's root, where `examples/` and the documents are
    /// (by default, the test's scratch folder).
    pub fn in_repo(mut self) -> Self {
        self.cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
        self
    }

    /// Without `-n`: the namespace comes from the kubeconfig's context.
    pub fn no_namespace(mut self) -> Self {
        self.namespace = false;
        self
    }

    pub fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.to_string());
        self
    }

    /// The command as it would run, for a caller that drives the process
    /// itself (a terminal, signals).
    pub fn into_command(mut self) -> Command {
        if self.namespace {
            self.cmd.arg("-n").arg(&self.env.namespace);
        }
        self.cmd.args(&self.args);
        self.cmd
    }

    pub fn run(self) -> Run {
        let env = self.env;
        match self.stdin.clone() {
            Some(text) => env.run_with_stdin(self.into_command(), &text),
            None => env.run_command(self.into_command()),
        }
    }

    /// Run, failing the test (not hanging the suite) if it has not
    /// finished after a minute: for anything that could block.
    pub fn run_unhung(self) -> Run {
        let env = self.env;
        super::run_unhung(env, self.into_command())
    }

    /// Run on a pseudo-terminal (util-linux `script`), typing `input` once
    /// it has had a moment to ask. A terminal shows both streams as one
    /// text: all of it is in the run's `stdout`.
    pub fn on_terminal(self, input: &str) -> Run {
        let env = self.env;
        let cmd = self.into_command();
        let (code, text) = run_on_terminal(env, &cmd, input);
        Run {
            code,
            stdout: text,
            ..Run::default()
        }
        .of(&cmd)
    }

    /// Start the process with no input and its output piped, for a test
    /// that signals it; [`TestEnv::checked`] its output once it ends.
    pub fn spawn(self) -> std::process::Child {
        let mut cmd = self.into_command();
        cmd.stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().unwrap_or_else(|e| panic!("spawn: {e}"))
    }

    /// Start it in the background, for a test to act while it runs (change
    /// a secret under it); [`Started::finish`] waits and checks it.
    pub fn start(self) -> Started<'e> {
        let env = self.env;
        let mut cmd = self.into_command();
        let command = Run::default().of(&cmd).command;
        Started {
            env,
            command,
            handle: std::thread::spawn(move || cmd.output()),
        }
    }
}

/// A run going on in the background.
pub struct Started<'e> {
    env: &'e TestEnv,
    command: String,
    handle: std::thread::JoinHandle<std::io::Result<std::process::Output>>,
}

impl Started<'_> {
    pub fn finish(self) -> Run {
        let out = self
            .handle
            .join()
            .unwrap_or_else(|_| panic!("the thread running the command panicked"))
            .unwrap_or_else(|e| panic!("run: {e}"));
        Run {
            command: self.command,
            ..self.env.checked(out)
        }
    }
}

/// Commands run as one owner: the test's own ([`OWNER`]) or another
/// workstation's or user's ([`TestEnv::as_owner`]).
pub struct Caller<'e> {
    env: &'e TestEnv,
    owner: &'e str,
}

impl<'e> Caller<'e> {
    pub fn cmd(&self, args: &[&str]) -> TestCommand<'e> {
        TestCommand::new(self.env, args).owner(self.owner)
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.cmd(args).run()
    }

    /// `apply -f MANIFEST`
    pub fn apply(&self, manifest: &str) -> Run {
        self.apply_with(manifest, &[])
    }

    /// `apply -f MANIFEST EXTRA...`
    pub fn apply_with(&self, manifest: &str, extra: &[&str]) -> Run {
        self.cmd(&["apply", "-f", manifest]).args(extra).run()
    }

    /// `diff -f MANIFEST`
    pub fn diff(&self, manifest: &str) -> Run {
        self.diff_with(manifest, &[])
    }

    /// `diff -f MANIFEST EXTRA...`
    pub fn diff_with(&self, manifest: &str, extra: &[&str]) -> Run {
        self.cmd(&["diff", "-f", manifest]).args(extra).run()
    }

    /// `secret create --inline K=V... NAME`: a `default` secret.
    pub fn create(&self, name: &str, pairs: &[(&str, &str)]) -> Run {
        self.create_inline(None, name, pairs)
    }

    /// `secret create --kind env --inline K=V... NAME`
    pub fn create_env(&self, name: &str, pairs: &[(&str, &str)]) -> Run {
        self.create_inline(Some("env"), name, pairs)
    }

    /// `secret create --from-file FILE NAME`: a `default` secret.
    pub fn create_file(&self, name: &str, file: &str) -> Run {
        self.run(&["secret", "create", "--from-file", file, name])
    }

    /// `secret create --kind git-ssh --from-file KEY NAME`
    pub fn create_git_ssh(&self, name: &str, key: &str) -> Run {
        self.run(&[
            "secret",
            "create",
            "--kind",
            "git-ssh",
            "--from-file",
            key,
            name,
        ])
    }

    fn create_inline(&self, kind: Option<&str>, name: &str, pairs: &[(&str, &str)]) -> Run {
        let mut args: Vec<String> = vec!["secret".into(), "create".into()];
        if let Some(kind) = kind {
            args.extend(["--kind".into(), kind.into()]);
        }
        for (key, value) in pairs {
            args.extend(["--inline".into(), format!("{key}={value}")]);
        }
        args.push(name.into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&args)
    }
}

impl TestEnv {
    /// The binary with `-n <namespace>` and `args`, to adjust before it runs.
    pub fn cmd(&self, args: &[&str]) -> TestCommand<'_> {
        TestCommand::new(self, args)
    }

    /// `args` as a user of the kubeconfig `path` runs them: that file, and
    /// its context's namespace (no `-n`).
    pub fn with_kubeconfig(&self, path: impl AsRef<OsStr>, args: &[&str]) -> TestCommand<'_> {
        self.cmd(args).no_namespace().kubeconfig(path)
    }

    /// Commands run as the owner `hash`: another user, or this user on
    /// another workstation.
    pub fn as_owner<'e>(&'e self, hash: &'e str) -> Caller<'e> {
        Caller {
            env: self,
            owner: hash,
        }
    }

    fn me(&self) -> Caller<'_> {
        self.as_owner(OWNER)
    }

    /// `apply -f MANIFEST`
    pub fn apply(&self, manifest: &str) -> Run {
        self.me().apply_with(manifest, &[])
    }

    /// `apply -f MANIFEST EXTRA...`
    pub fn apply_with(&self, manifest: &str, extra: &[&str]) -> Run {
        self.me().apply_with(manifest, extra)
    }

    /// `diff -f MANIFEST`
    pub fn diff(&self, manifest: &str) -> Run {
        self.me().diff_with(manifest, &[])
    }

    /// `diff -f MANIFEST EXTRA...`
    pub fn diff_with(&self, manifest: &str, extra: &[&str]) -> Run {
        self.me().diff_with(manifest, extra)
    }

    /// `secret create --inline K=V... NAME`: a `default` secret.
    pub fn create(&self, name: &str, pairs: &[(&str, &str)]) -> Run {
        self.me().create(name, pairs)
    }

    /// `secret create --kind env --inline K=V... NAME`
    pub fn create_env(&self, name: &str, pairs: &[(&str, &str)]) -> Run {
        self.me().create_env(name, pairs)
    }

    /// `secret create --from-file FILE NAME`: a `default` secret.
    pub fn create_file(&self, name: &str, file: &str) -> Run {
        self.me().create_file(name, file)
    }

    /// `secret create --kind git-ssh --from-file KEY NAME`
    pub fn create_git_ssh(&self, name: &str, key: &str) -> Run {
        self.me().create_git_ssh(name, key)
    }
}

impl Run {
    /// This run, named by the command line that made it.
    pub fn of(mut self, cmd: &Command) -> Self {
        let program = Path::new(cmd.get_program())
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        self.command = format!("{program} {}", args.join(" "));
        self
    }

    /// Exited with `code`; a failure also shows no panic (see [`Run::failure`]).
    pub fn exits(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}: {}\nstdout:\n{}\nstderr:\n{}",
            self.command,
            self.stdout,
            self.stderr
        );
        if code != 0 {
            self.failure();
        }
        self
    }

    pub fn stdout_lacks(&self, needle: &str) -> &Self {
        self.lacks("stdout", &self.stdout, needle)
    }

    pub fn stderr_lacks(&self, needle: &str) -> &Self {
        self.lacks("stderr", &self.stderr, needle)
    }

    fn lacks(&self, stream: &str, text: &str, needle: &str) -> &Self {
        assert!(
            !text.contains(needle),
            "{stream} holds {needle:?}: {}\n{text}",
            self.command
        );
        self
    }

    /// Standard output, then standard error.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Run `cmd` (its program, arguments and the variables it sets or
/// removes) on a pseudo-terminal in the test's folder, typing `input`;
/// its exit code and what the terminal showed, checked for canaries.
pub fn run_on_terminal(env: &TestEnv, cmd: &Command, input: &str) -> (Option<i32>, String) {
    use std::io::Write;
    use std::process::Stdio;
    fn quote(s: &OsStr) -> String {
        format!("'{}'", s.to_string_lossy().replace('\'', "'\\''"))
    }
    let mut line = quote(cmd.get_program());
    for a in cmd.get_args() {
        line.push(' ');
        line.push_str(&quote(a));
    }
    let mut script = Command::new("script");
    script
        .args(["-qec", &line, "/dev/null"])
        .current_dir(env.dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => script.env(k, v),
            None => script.env_remove(k),
        };
    }
    let mut child = script.spawn().unwrap_or_else(|e| panic!("script: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        // Give the prompt a moment, then answer.
        std::thread::sleep(std::time::Duration::from_millis(300));
        let _ = stdin.write_all(input.as_bytes());
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    env.assert_no_leak(&text);
    (out.status.code(), text)
}

/// `(done, failed, skipped)` among the results of an `apply -o json`
/// report (of one target, or one target's entry of several).
pub fn result_counts(report: &serde_json::Value) -> (usize, usize, usize) {
    let count = |status: &str| {
        report["result"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["status"] == status)
            .count()
    };
    (count("done"), count("failed"), count("skipped"))
}

/// Wait until `happened` holds: only a watchdog bounds the wait, and it
/// catches a hang (`what` names what never happened).
pub fn wait_until(what: &str, happened: impl Fn() -> bool) {
    let watchdog = std::time::Instant::now();
    while !happened() {
        assert!(
            watchdog.elapsed() < std::time::Duration::from_secs(120),
            "{what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Send `signal` (`INT`, `TERM`, ...) to `child`.
pub fn send_signal(signal: &str, child: &std::process::Child) {
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(sent.success());
}

/// A path as a command-line argument.
pub fn arg(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("not UTF-8: {}", path.display()))
}
