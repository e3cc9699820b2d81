//! The corpus of bad manifests in tests/manifests/bad: each one's diagnostic
//! is pinned by a snapshot, exits 2 from `diff` (1 from `apply`), and makes
//! no request to the cluster.

use std::path::Path;

use crate::support::{TestEnv, yaml_corpus};

#[test]
fn every_bad_manifest_has_a_pinned_diagnostic_and_sends_nothing() {
    let files = yaml_corpus("tests/manifests/bad");
    assert!(
        files.len() >= 25,
        "the corpus has {} manifests",
        files.len()
    );
    let env = TestEnv::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests");
    for file in files {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_string();
        let mut cmd = env.command();
        cmd.env_remove("KONDUKTOR_TEST_SURELY_UNSET_VARIABLE")
            .args(["-n", &env.namespace, "diff", "-f"])
            .arg(&file);
        let run = env.run_command(cmd);
        assert_eq!(run.code, Some(2), "{name}: {run:?}");
        assert!(run.stdout.is_empty(), "{name}: {}", run.stdout);
        let stderr = run
            .stderr
            .replace(&root.display().to_string(), "[MANIFESTS]");
        insta::assert_snapshot!(name.as_str(), stderr);

        let mut cmd = env.command();
        cmd.args(["-n", &env.namespace, "apply", "--yes", "-f"])
            .arg(&file);
        let apply = env.run_command(cmd);
        assert_eq!(apply.code, Some(1), "{name}: {apply:?}");
    }
    if let Some(server) = env.fake() {
        assert_eq!(
            server.requests(),
            vec![],
            "bad manifests must not reach the cluster"
        );
    }
}

/// Attack F9: an env file of many keys (empty values: under the values'
/// 1 MiB) is an input error naming the entry, before any request, for
/// diff and apply alike; one of long key names as well.
#[test]
fn a_secret_of_too_many_keys_is_an_input_error_before_any_request() {
    let env = TestEnv::new();
    let value = env.canary("manykeys");
    let many: String = (0..20_001).map(|i| format!("K{i}=\n")).collect();
    env.file("many.env", format!("FIRST={value}\n{many}"));
    let long: String = (0..9_000).map(|i| format!("K{i:0>200}=\n")).collect();
    env.file("long.env", long);
    for (file, says) in [("many.env", "at most 10000 "), ("long.env", "1.5 MiB")] {
        let manifest = env.file(
            "secrets.yaml",
            format!(
                "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n  - name: tmany\n    kind: default\n    fromEnvFile: ./{file}\n"
            ),
        );
        let path = manifest.to_str().unwrap_or_default();
        for command in [&["diff", "-f", path][..], &["apply", "-f", path, "--yes"]] {
            if let Some(server) = env.fake() {
                server.clear_requests();
            }
            env.run(command)
                .failure()
                .stderr_has("tmany")
                .stderr_has(says)
                .stderr_has("split the keys");
            env.assert_no_requests();
        }
    }
}
