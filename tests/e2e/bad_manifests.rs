//! The corpus of bad manifests in tests/manifests/bad: each one's diagnostic
//! is pinned by a snapshot, exits 2 from `diff` (1 from `apply`), and makes
//! no request to the cluster.

use std::path::Path;

use crate::support::{TestEnv, arg, yaml_corpus};

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
        let name = crate::support::corpus_name(&file);
        let run = env
            .cmd(&["diff", "-f", arg(&file)])
            .env_remove("KONDUKTOR_TEST_SURELY_UNSET_VARIABLE")
            .run();
        run.exits(2);
        assert!(run.stdout.is_empty(), "{name}: {}", run.stdout);
        let stderr = run
            .stderr
            .replace(&root.display().to_string(), "[MANIFESTS]");
        insta::assert_snapshot!(name.as_str(), stderr);

        env.run(&["apply", "--yes", "-f", arg(&file)]).exits(1);
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
        let path = env.manifest_yaml(&format!(
            "  - name: tmany\n    kind: default\n    fromEnvFile: ./{file}\n"
        ));
        for command in [&["diff", "-f", &path][..], &["apply", "-f", &path, "--yes"]] {
            env.clear_requests();
            env.run(command)
                .failure()
                .stderr_has("tmany")
                .stderr_has(says)
                .stderr_has("split the keys");
            env.assert_no_requests();
        }
    }
}
