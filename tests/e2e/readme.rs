//! The README's first two commands work and .ci/run runs the second.

use std::path::Path;

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
