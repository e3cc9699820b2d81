//! Behaviour on a real terminal, through a pseudo-terminal from util-linux
//! `script`: colour by default and off with NO_COLOR, and the confirmation
//! prompt before deletions.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::{OWNER, TestEnv};

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Run the binary on a pseudo-terminal, feeding `input` to it.
fn on_terminal(
    env: &TestEnv,
    vars: &[(&str, &str)],
    args: &[&str],
    input: &str,
) -> (Option<i32>, String) {
    let mut base = env.command();
    base.env_remove("NO_COLOR");
    for (k, v) in vars {
        base.env(k, v);
    }
    on_terminal_with(env, &base, args, input)
}

/// Run the binary on a pseudo-terminal with the environment of `base` (its
/// variables set and removed), feeding `input` to it; stdout and stderr
/// come back as one text, as a terminal shows them.
pub fn on_terminal_with(
    env: &TestEnv,
    base: &Command,
    args: &[&str],
    input: &str,
) -> (Option<i32>, String) {
    let bin = assert_cmd::cargo::cargo_bin!("kubectl-konduktor");
    let mut line = quote(&bin.display().to_string());
    for a in ["-n", env.namespace.as_str()].iter().chain(args) {
        line.push(' ');
        line.push_str(&quote(a));
    }
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .current_dir(env.dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("script: {e}"));
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

#[test]
fn colour_on_a_terminal_unless_no_color() {
    let env = TestEnv::new();
    let file = env.file("secrets.yaml", "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n  - name: c\n    inline: {A: a}\n");
    let file = file.to_str().unwrap_or_default();
    let (code, out) = on_terminal(&env, &[], &["diff", "-f", file], "");
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("\u{1b}["),
        "colour expected on a terminal: {out:?}"
    );
    let (_, out) = on_terminal(&env, &[("NO_COLOR", "1")], &["diff", "-f", file], "");
    assert!(out.contains("Plan: 1 to create"), "{out}");
    assert!(
        !out.contains("\u{1b}["),
        "NO_COLOR must turn colour off: {out:?}"
    );
}

#[test]
fn deletions_are_confirmed_on_a_terminal() {
    let env = TestEnv::new();
    let v = env.canary("confirm");
    env.run(&["secret", "create", "--inline", &format!("K={v}"), "doomed"])
        .success();
    let file = env.file("secrets.yaml", "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n  - name: doomed\n    state: absent\n");
    let file = file.to_str().unwrap_or_default();
    let (code, out) = on_terminal(&env, &[], &["apply", "-f", file], "no\n");
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("Type 'yes' to go on") && out.contains("cancelled"),
        "{out}"
    );
    assert!(env.secret(&format!("doomed-{OWNER}")).is_some());
    let (code, out) = on_terminal(&env, &[], &["apply", "-f", file], "yes\n");
    assert_eq!(code, Some(0), "{out}");
    assert!(env.secret(&format!("doomed-{OWNER}")).is_none(), "{out}");
}

#[test]
fn a_slow_apply_shows_progress_on_a_terminal() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    server.inject(
        crate::support::FaultRule::new(crate::support::Fault::Delay(
            std::time::Duration::from_millis(1500),
        ))
        .on("POST")
        .path("/secrets"),
    );
    let file = env.file("secrets.yaml", "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n  - name: slow\n    inline: {A: a}\n");
    let (code, out) = on_terminal(
        &env,
        &[],
        &["apply", "-f", file.to_str().unwrap_or_default()],
        "",
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Applying: 0/1 done"), "{out:?}");
    assert!(out.contains("Apply complete: 1 done."), "{out}");
}
