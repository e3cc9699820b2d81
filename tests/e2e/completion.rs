//! Shell completion: generated scripts know every subcommand, and kubectl's
//! own plugin completion reaches us through kubectl_complete-konduktor.

use std::path::Path;
use std::process::Command;

use crate::support::TestEnv;

const SUBCOMMANDS: &[&str] = &[
    "whoami",
    "diff",
    "apply",
    "render-job",
    "secret",
    "create",
    "list",
    "delete",
    "completion",
];

#[test]
fn every_shell_script_mentions_every_subcommand() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let run = env.run(&["completion", shell]);
        run.success();
        for sub in SUBCOMMANDS {
            run.stdout_has(sub);
        }
        assert!(run.stdout.len() > 500, "{shell}: a real script");
    }
    env.run(&["completion", "tcsh"]).failure();
}

#[test]
fn kubectl_plugin_completion_uses_our_helper() {
    let bin = assert_cmd::cargo::cargo_bin!("kubectl-konduktor");
    let helper_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("plugin-index");
    let mut paths = vec![
        bin.parent().map(Path::to_path_buf).unwrap_or_default(),
        helper_dir,
    ];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let path = std::env::join_paths(paths).unwrap_or_default();
    let complete = |args: &[&str]| {
        let out = Command::new("kubectl")
            .arg("__complete")
            .arg("konduktor")
            .args(args)
            .env("PATH", &path)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let out = complete(&["sec"]);
    assert!(out.lines().any(|l| l == "secret"), "{out}");
    let out = complete(&["secret", "create", "--kind", ""]);
    for kind in ["default", "env", "git-ssh"] {
        assert!(out.lines().any(|l| l == kind), "{out}");
    }
    let out = complete(&["apply", "--pr"]);
    assert!(out.lines().any(|l| l == "--prune"), "{out}");
}
