//! What kubectl users expect: --version with the commit, help with
//! examples everywhere, -v/-vv logging that never shows a value.

use crate::support::{TestEnv, entry};

#[test]
fn version_names_the_crate_version_and_commit() {
    let env = TestEnv::new();
    let run = env.run(&["--version"]);
    run.success()
        .stdout_has(env!("CARGO_PKG_VERSION"))
        .stdout_has("(commit ");
}

#[test]
fn every_subcommand_has_help_with_examples() {
    let env = TestEnv::new();
    for sub in [
        &["whoami"][..],
        &["diff"],
        &["apply"],
        &["render-job"],
        &["completion"],
        &["secret"],
        &["secret", "create"],
        &["secret", "list"],
        &["secret", "delete"],
    ] {
        let mut args = sub.to_vec();
        args.push("--help");
        let run = env.run(&args);
        run.success()
            .stdout_has("Examples:")
            .stdout_has("kubectl konduktor");
    }
    let top = env.run(&["--help"]);
    for sub in [
        "whoami",
        "diff",
        "apply",
        "render-job",
        "secret",
        "completion",
    ] {
        top.stdout_has(sub);
    }
}

#[test]
fn verbose_logs_requests_but_never_values() {
    let env = TestEnv::new();
    let v = env.canary("verbose");
    let pair = format!("TOKEN={v}");
    env.run(&[
        "-vv", "secret", "create", "--kind", "env", "--inline", &pair, "logged",
    ])
    .success()
    .stderr_has("[konduktor] create secrets \"logged-abba3a3e\"")
    .stderr_has("owner hash abba3a3e")
    .stderr_has("context");
    let list = env.run(&["secret", "list", "-v"]);
    list.success()
        .stderr_has("[konduktor] list secrets in namespace")
        .stderr_has("-> ok in ")
        .stderr_has("listed 1 secret in 1 page");
    env.run(&["secret", "list"])
        .success()
        .stderr_lacks("[konduktor]");
    let changed = format!("{v}-changed");
    let file = env.manifest(&[entry("logged").kind("env").inline(&[("TOKEN", &changed)])]);
    env.run(&["-vv", "apply", "-f", &file])
        .success()
        .stderr_has("patch secrets");
}

#[test]
fn license_and_changelog_ship_with_the_crate() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let license = std::fs::read_to_string(root.join("LICENSE")).unwrap_or_default();
    assert!(
        license.contains("Apache License") && license.contains("Version 2.0"),
        "LICENSE is Apache-2.0, as Konduktor"
    );
    let changelog = std::fs::read_to_string(root.join("CHANGELOG.md")).unwrap_or_default();
    assert!(
        changelog.contains(&format!("[{}]", env!("CARGO_PKG_VERSION"))),
        "CHANGELOG has an entry for this version"
    );
    let cargo = std::fs::read_to_string(root.join("Cargo.toml")).unwrap_or_default();
    assert!(cargo.contains("license = \"Apache-2.0\""));
}
