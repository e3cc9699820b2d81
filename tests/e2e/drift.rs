//! Where a change came from (issue 12, point 3): each write records what
//! it applied in `konduktor.trainy.ai/applied`; `diff` tells, per changed
//! key, whether the sources or the cluster moved since, or both; secrets
//! without a record say "origin unknown".

use serde_json::json;

use crate::support::{OWNER, TestEnv};

const HEAD: &str = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n";

fn manifest(env: &TestEnv, inline: &str) -> String {
    let path = env.file(
        "secrets.yaml",
        format!("{HEAD}  - name: my-env\n    kind: env\n    inline: {{{inline}}}\n"),
    );
    path.to_str().unwrap_or_default().to_string()
}

fn applied(env: &TestEnv, name: &str) -> Option<String> {
    env.secret(name).and_then(|o| {
        o["metadata"]["annotations"]["konduktor.trainy.ai/applied"]
            .as_str()
            .map(str::to_string)
    })
}

#[test]
fn a_create_and_a_merge_record_what_they_applied_in_konduktors_format() {
    let env = TestEnv::new();
    let name = format!("my-env-{OWNER}");
    let file = manifest(&env, "FOO: bar");
    env.run(&["apply", "-f", &file]).success();
    // Konduktor's CLI keeps this very record on its merges
    // (tests/fixtures/konduktor-made/my-env-annotated-merged-abba3a3e.json).
    assert_eq!(
        applied(&env, &name).as_deref(),
        Some(r#"{"FOO":"sha256:fcde2b2e"}"#)
    );
    let file = manifest(&env, "FOO: bar, BAZ: qux");
    env.run(&["apply", "-f", &file]).success();
    assert_eq!(
        applied(&env, &name).as_deref(),
        Some(r#"{"BAZ":"sha256:21f58d27","FOO":"sha256:fcde2b2e"}"#)
    );
    // `secret create` records too.
    env.run(&[
        "secret", "create", "--kind", "env", "--inline", "A=1", "solo",
    ])
    .success();
    assert!(
        applied(&env, &format!("solo-{OWNER}")).is_some_and(|a| a.starts_with(r#"{"A":"sha256:"#))
    );
}

#[test]
fn diff_tells_a_change_in_the_sources_from_one_in_the_cluster() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let name = format!("my-env-{OWNER}");
    env.run(&["apply", "-f", &manifest(&env, "A: '1', B: '1', C: '1'")])
        .success();
    // Someone edits B and C in the cluster (kubectl edit, Konduktor's CLI).
    let mut obj = env.secret(&name).unwrap_or_else(|| panic!("no {name}"));
    obj["data"]["B"] = json!("Mg=="); // 2
    obj["data"]["C"] = json!("Mg==");
    server.put_secret(&env.namespace, obj);
    // ... and the manifest changes A and C.
    let file = manifest(&env, "A: '2', B: '1', C: '3'");
    let diff = env.run(&["diff", "-f", &file]);
    assert_eq!(diff.code, Some(1), "{diff:?}");
    diff.stdout_has("    ~ A (changed in the sources since the last apply)")
        .stdout_has("    ~ B (changed in the cluster since the last apply)")
        .stdout_has("    ~ C (changed in the sources and in the cluster since the last apply)");
    let json = env.run(&["diff", "-f", &file, "-o", "json"]).json();
    let origins: Vec<(String, String)> = json["secrets"][0]["keys"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|k| {
            (
                k["key"].as_str().unwrap_or_default().to_string(),
                k["origin"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        origins,
        [
            ("A".to_string(), "sources".to_string()),
            ("B".to_string(), "cluster".to_string()),
            ("C".to_string(), "both".to_string()),
        ]
    );
}

#[test]
fn secrets_without_a_record_show_origin_unknown_never_an_error() {
    let env = TestEnv::new();
    // Written by Konduktor's CLI (FOO=bar, BAZ=qux), no record.
    env.seed_fixture(&format!("my-env-{OWNER}"));
    let file = manifest(&env, "FOO: changed");
    let diff = env.run(&["diff", "-f", &file]);
    assert_eq!(diff.code, Some(1), "{diff:?}");
    diff.stdout_has("    ~ FOO (origin unknown)");
    let json = env.run(&["diff", "-f", &file, "-o", "json"]).json();
    assert_eq!(json["secrets"][0]["keys"][1]["key"], "FOO");
    assert_eq!(json["secrets"][0]["keys"][1]["origin"], "unknown");
    // The apply that follows records it: from then on, origins are known.
    env.run(&["apply", "-f", &file]).success();
    let file = manifest(&env, "FOO: again");
    env.run(&["diff", "-f", &file])
        .stdout_has("    ~ FOO (changed in the sources since the last apply)");
}
