//! The README's first two commands work and .ci/run runs the second; every
//! command the README shows runs as written (the machinery, and the other
//! documents' tests, are in tests/e2e/docs.rs).

use std::path::Path;

use clap::Parser;

use crate::docs::{DocScript, Shell, TwoClusters, documents, read, shown_commands};
use crate::support::{TestEnv, entry, mine};

/// The lines of the first ```sh block of `text`, trimmed, without blank
/// lines, `# comments` cut off if `cut_comments`.
fn sh_block(text: &str, cut_comments: bool) -> Vec<String> {
    let block = text
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap_or_default();
    block
        .lines()
        .map(|l| match cut_comments {
            true => l.split('#').next().unwrap_or_default(),
            false => l,
        })
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The README's first block: the two commands at its top.
fn readme_commands() -> Vec<String> {
    sh_block(&read("README.md"), true)
}

#[test]
fn readme_opens_with_a_run_command_and_the_test_command() {
    let commands = readme_commands();
    assert_eq!(commands.len(), 2, "{commands:?}");
    let ci = read(".ci/run");
    assert!(
        ci.lines().any(|l| l.trim_start().starts_with(&commands[1])),
        ".ci/run must run `{}`",
        commands[1]
    );
    // The first is the README's first command, which the next test runs.
    let first = shown_commands("README.md");
    assert_eq!(
        first.first().map(|s| s.command.as_str()),
        Some(commands[0].as_str())
    );
}

/// The lines of the fenced block that follows `marker`.
fn block_after(text: &str, marker: &str) -> Vec<String> {
    sh_block(text.split(marker).nth(1).unwrap_or_default(), false)
}

/// The plugin's arguments in a documented command: what follows `kubectl
/// konduktor`, the binary's name or `cargo run --`, up to a pipe or the
/// end of a `<(...)`.
fn plugin_args(command: &str) -> Option<Vec<String>> {
    let rest = ["kubectl konduktor ", "kubectl-konduktor ", "cargo run -- "]
        .iter()
        .find_map(|p| command.split_once(p).map(|(_, rest)| rest))?;
    let rest = rest.split(" | ").next().unwrap_or_default();
    let rest = rest.split(')').next().unwrap_or_default();
    Some(
        rest.split_whitespace()
            .map(|a| a.trim_matches('"').to_string())
            .collect(),
    )
}

/// Every command of the README, in order: the first (`cargo run -- ...`)
/// as the built binary with no cluster; the install check; the completion
/// script, sourced; and the walk-through, from the repository's root, as a
/// user types it (`diff` exits 1: there are changes).
#[test]
fn the_readme_runs_as_written() {
    let mut doc = DocScript::new("README.md");
    let env = TestEnv::new();

    // `[VAR=value ...] cargo run -- ARGS`: the built binary with those
    // variables and ARGS, from the repository root, with no kubeconfig.
    let first = doc.next(
        "HF_TOKEN=hf_demo cargo run -- render-job -f examples/job.yaml --secrets examples/secrets.yaml",
    );
    let words: Vec<&str> = first.command.split_whitespace().collect();
    let vars: Vec<(&str, &str)> = words.iter().map_while(|w| w.split_once('=')).collect();
    let rest = words[vars.len()..].join(" ");
    let args: Vec<&str> = rest
        .strip_prefix("cargo run -- ")
        .unwrap_or_else(|| panic!("{}", first.command))
        .split_whitespace()
        .collect();
    let built = env
        .cmd(&args)
        .no_namespace()
        .kubeconfig(env.path("no-kubeconfig"))
        .in_repo();
    vars.iter()
        .fold(built, |cmd, (key, value)| cmd.env(key, value))
        .run()
        .success()
        .stdout_has("kind: Job")
        .stdout_has("secretKeyRef");

    let shell = Shell::new(&env).in_dir(Path::new(env!("CARGO_MANIFEST_DIR")));
    shell
        .run(&doc.next("kubectl konduktor --version"), 0)
        .stdout_has(env!("CARGO_PKG_VERSION"));
    // Sourcing the script defines the completion, without a word printed.
    let sourced = shell.run(&doc.next("source <(kubectl-konduktor completion bash)"), 0);
    assert_eq!(sourced.stdout, "", "{}", sourced.stderr);
    assert_eq!(sourced.stderr, "");

    // The walk-through, as it stands between its marker and the next section.
    let walkthrough = block_after(&read("README.md"), "<!-- walkthrough -->");
    for (line, code) in [
        ("kubectl konduktor whoami", 0),
        (
            "kubectl konduktor secret create --from-file examples/settings.txt settings",
            0,
        ),
        (
            "kubectl konduktor secret create --kind env --inline WANDB_MODE=offline wandb",
            0,
        ),
        ("kubectl konduktor secret list", 0),
        (
            "HF_TOKEN=hf_example kubectl konduktor diff -f examples/secrets.yaml",
            1,
        ),
        (
            "HF_TOKEN=hf_example kubectl konduktor apply -f examples/secrets.yaml",
            0,
        ),
        ("kubectl konduktor secret list --all-users", 0),
        ("kubectl konduktor render-job -f examples/job.yaml", 0),
        ("kubectl konduktor secret delete settings", 0),
    ] {
        assert!(
            walkthrough.iter().any(|l| l == line),
            "not in the walk-through: {line}"
        );
        shell.run(&doc.next(line), code);
    }
    // What the walk-through says happened.
    let names = env.secret_names();
    assert!(!names.contains(&mine("settings")), "deleted: {names:?}");
    for name in ["wandb", "hf"] {
        assert!(names.contains(&mine(name)), "{name}: {names:?}");
    }
    // "Run `apply` again: nothing changes."
    env.cmd(&["diff", "-f", "examples/secrets.yaml"])
        .in_repo()
        .env("HF_TOKEN", "hf_example")
        .run()
        .success();

    // Several clusters: a token already on `train`, new on `infer`.
    let diff = doc.next("kubectl konduktor diff -f secrets.yaml --context train,infer");
    let apply = doc.next("kubectl konduktor apply -f secrets.yaml --context train,infer");
    if let Some(two) = TwoClusters::new() {
        let hf = |token: &str| {
            two.env
                .manifest(&[entry("hf").kind("env").inline(&[("HF_TOKEN", token)])])
        };
        hf(&two.env.canary("token"));
        let shell = two.shell();
        shell.run(&apply, 0);
        let rotated = two.env.canary("rotated");
        hf(&rotated);
        shell
            .run(&diff, 1)
            .stdout_has("Target: context `train`")
            .stdout_has("Target: context `infer`")
            .stdout_has("Total over 2 targets: 0 to create, 2 to merge, 0 to delete, 0 unchanged.");
        shell
            .run(&apply, 0)
            .stdout_has("Total over 2 targets: 0 to create, 2 to merge");
        assert_eq!(two.env.my_data("hf")["HF_TOKEN"], rotated.as_bytes());
        two.cmd(&["diff", "-f", "secrets.yaml", "--context", "train,infer"])
            .run()
            .success();
    }
    doc.finish();
}

/// A quick check before the slower runs: clap takes every documented
/// command's arguments.
#[test]
fn every_command_in_the_readme_and_the_docs_parses() {
    let mut checked = 0;
    for doc in documents() {
        for shown in shown_commands(&doc) {
            let args = plugin_args(&shown.command)
                .unwrap_or_else(|| panic!("{doc}:{}: {}", shown.line, shown.command));
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
                    "{doc}:{}: `{}` does not parse\n{e}",
                    shown.line,
                    shown.command
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} commands found");
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
