//! The binary is a kubectl plugin: found on PATH by the real kubectl, with
//! flags after the plugin name passed straight through.

use std::path::Path;
use std::process::Command;

use crate::support::TestEnv;

fn path_with(dir: &Path) -> std::ffi::OsString {
    let mut paths = vec![dir.to_path_buf()];
    paths.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(paths).unwrap_or_default()
}

fn kubectl_available() -> bool {
    Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn kubectl_finds_and_runs_the_plugin() {
    if !kubectl_available() {
        panic!("kubectl is required on PATH for this test");
    }
    let env = TestEnv::new();
    let bin = assert_cmd::cargo::cargo_bin!("kubectl-konduktor");
    let dir = bin.parent().unwrap_or_else(|| panic!("no parent"));
    let path = path_with(dir);

    let list = Command::new("kubectl")
        .args(["plugin", "list"])
        .env("PATH", &path)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains("kubectl-konduktor"),
        "{listed}\n{}",
        String::from_utf8_lossy(&list.stderr)
    );

    let help = Command::new("kubectl")
        .args(["konduktor", "--help"])
        .env("PATH", &path)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("Usage: kubectl konduktor"), "{help}");
    assert!(help.contains("secret") && help.contains("whoami"), "{help}");

    // Flags after the plugin name reach us untouched.
    let v = env.canary("plugin");
    let base = env.cmd(&[]).env("PATH", &path).into_command();
    let kubectl = |args: &[&str]| {
        let mut kubectl = Command::new("kubectl");
        kubectl
            .envs(
                base.get_envs()
                    .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
            )
            .current_dir(env.dir.path())
            .args(args);
        env.run_command(kubectl)
    };
    let kubeconfig = crate::support::arg(&env.kubeconfig);
    kubectl(&[
        "konduktor",
        "--kubeconfig",
        kubeconfig,
        "-n",
        &env.namespace,
        "secret",
        "create",
        "--inline",
        &format!("K={v}"),
        "via-kubectl",
    ])
    .success();
    kubectl(&[
        "konduktor",
        "secret",
        "list",
        "--namespace",
        &env.namespace,
        "--kubeconfig",
        kubeconfig,
    ])
    .success()
    .stdout_has("via-kubectl");
}
