//! The README's first two commands work and .ci/run runs the second.

use std::path::Path;

use clap::Parser;

use crate::support::TestEnv;

fn readme_commands() -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .unwrap_or_default();
    let block = text
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap_or_default();
    block
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn readme_opens_with_a_run_command_and_the_test_command() {
    let commands = readme_commands();
    assert_eq!(commands.len(), 2, "{commands:?}");
    let ci = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/run"))
        .unwrap_or_default();
    assert!(
        ci.lines().any(|l| l.trim_start().starts_with(&commands[1])),
        ".ci/run must run `{}`",
        commands[1]
    );

    // The first is `[VAR=value ...] cargo run -- ARGS`: run the built binary
    // with those variables and ARGS, from the repository root, with no cluster.
    let words: Vec<&str> = commands[0].split_whitespace().collect();
    let vars: Vec<(&str, &str)> = words.iter().map_while(|w| w.split_once('=')).collect();
    let rest = words[vars.len()..].join(" ");
    let args: Vec<&str> = rest
        .strip_prefix("cargo run -- ")
        .unwrap_or_else(|| panic!("{}", commands[0]))
        .split_whitespace()
        .collect();
    let env = TestEnv::new();
    let mut cmd = env.command();
    cmd.env("KUBECONFIG", env.dir.path().join("no-kubeconfig"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .envs(vars)
        .args(&args);
    env.run_command(cmd)
        .success()
        .stdout_has("kind: Job")
        .stdout_has("secretKeyRef");
}

/// The lines of the fenced block that follows `marker`.
fn block_after(text: &str, marker: &str) -> Vec<String> {
    let after = text.split(marker).nth(1).unwrap_or_default();
    let block = after
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap_or_default();
    block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// `A=b C=d kubectl konduktor ARGS # comment | pipe` -> (vars, ARGS).
/// A README command: its environment assignments and its arguments.
struct ReadmeCommand {
    vars: Vec<(String, String)>,
    args: Vec<String>,
}

fn split_command(line: &str) -> Option<ReadmeCommand> {
    let line = line.trim_start_matches("$ ");
    let line = line.split(" | ").next().unwrap_or_default();
    let line = line.split(" # ").next().unwrap_or_default();
    let words: Vec<&str> = line.split_whitespace().collect();
    let vars: Vec<(String, String)> = words
        .iter()
        .map_while(|w| w.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let rest = &words[vars.len()..];
    let args = match rest {
        ["kubectl", "konduktor", args @ ..] => args,
        ["kubectl-konduktor", args @ ..] => args,
        ["cargo", "run", "--", args @ ..] => args,
        _ => return None,
    };
    let args = args
        .iter()
        .map(|a| a.trim_matches('"').to_string())
        .collect();
    Some(ReadmeCommand { vars, args })
}

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .unwrap_or_default()
}

#[test]
fn the_walkthrough_runs_as_written() {
    let commands = block_after(&readme(), "<!-- walkthrough -->");
    assert!(commands.len() >= 8, "{commands:?}");
    let env = TestEnv::new();
    for line in &commands {
        let ReadmeCommand { vars, args } = split_command(line)
            .unwrap_or_else(|| panic!("not a kubectl konduktor command: {line}"));
        let mut cmd = env.command();
        cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
            .envs(vars)
            .arg("-n")
            .arg(&env.namespace)
            .args(&args);
        let run = env.run_command(cmd);
        let expected = if args.first().map(String::as_str) == Some("diff") {
            1
        } else {
            0
        };
        assert_eq!(
            run.code,
            Some(expected),
            "{line}\n{}\n{}",
            run.stdout,
            run.stderr
        );
    }
}

#[test]
fn every_command_in_the_readme_and_the_docs_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut text = readme();
    for entry in std::fs::read_dir(root.join("docs")).unwrap_or_else(|e| panic!("{e}")) {
        let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if path.extension().is_some_and(|x| x == "md") {
            text.push_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}")));
        }
    }
    let mut checked = 0;
    for block in text.split("```").skip(1).step_by(2) {
        for line in block.lines() {
            let Some(ReadmeCommand { args, .. }) = split_command(line.trim()) else {
                continue;
            };
            let mut argv = vec!["kubectl-konduktor".to_string()];
            argv.extend(args);
            if let Err(e) = konduktor::cli::Cli::try_parse_from(&argv) {
                // --help and --version "fail" with a display request.
                assert!(
                    matches!(
                        e.kind(),
                        clap::error::ErrorKind::DisplayHelp
                            | clap::error::ErrorKind::DisplayVersion
                    ),
                    "README line does not parse: {line}\n{e}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 12, "only {checked} commands found");
}

/// On a machine without the tools the suite uses, the README's test line
/// says which before any test runs (as root with apt-get, it installs them).
#[test]
fn the_test_line_says_plainly_what_it_needs() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // Only `id`: no busybox, unzip, script, kubectl or apt-get on PATH.
    #[cfg(unix)]
    std::os::unix::fs::symlink("/usr/bin/id", dir.path().join("id"))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = std::process::Command::new("/bin/bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/needs.sh"))
        .env("PATH", dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("the test suite needs unzip busybox script kubectl on PATH"),
        "{stderr}"
    );
    assert!(stderr.contains("apt-get install"), "{stderr}");
}
