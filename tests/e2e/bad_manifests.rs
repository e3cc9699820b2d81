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
