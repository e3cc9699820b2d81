//! Saved plans (issue 12, point 2): `diff --out plan.json` saves the
//! reviewed plan (digests, never values); `apply --plan plan.json` carries
//! out exactly it, without asking, or nothing, saying which secret moved
//! and on which side.

use crate::support::{OTHER_OWNER, OWNER, TestEnv};

const HEAD: &str = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n";

fn manifest(env: &TestEnv, token: &str) -> String {
    let body = format!(
        "  - name: hf\n    kind: env\n    inline: {{TOKEN: {token}}}\n  - name: old\n    state: absent\n"
    );
    let path = env.file("secrets.yaml", format!("{HEAD}{body}"));
    path.to_str().unwrap_or_default().to_string()
}

/// One of our secrets to delete, so the plan holds a deletion.
fn seed_old(env: &TestEnv) {
    env.seed(serde_json::json!({
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": format!("old-{OWNER}"), "labels": {
            "parent": "konduktor", "trainy.ai/secret-owner": OWNER,
            "trainy.ai/secret-basename": "old", "trainy.ai/secret-kind": "env"}},
        "data": {"X": "eA=="}
    }));
}

fn writes(env: &TestEnv) -> usize {
    env.fake().map_or(0, |s| {
        s.requests()
            .iter()
            .filter(|r| matches!(r.method.as_str(), "POST" | "PATCH" | "PUT" | "DELETE"))
            .filter(|r| !r.path.contains("selfsubject"))
            .count()
    })
}

fn plan_path(env: &TestEnv) -> String {
    env.dir
        .path()
        .join("plan.json")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_reviewed_plan_is_carried_out_without_asking_again() {
    let env = TestEnv::new();
    seed_old(&env);
    let token = env.canary("token");
    let file = manifest(&env, &token);
    let out = plan_path(&env);
    let diff = env.run(&["diff", "-f", &file, "--out", &out]);
    assert_eq!(diff.code, Some(1), "{diff:?}");
    diff.stderr_has("Plan saved to");
    let text = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{e}"));
    env.assert_no_leak(&text);
    let saved: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(saved["formatVersion"], 1);
    assert_eq!(saved["namespace"], env.namespace.as_str());
    assert_eq!(saved["owner"], OWNER);
    assert_eq!(saved["secrets"][1]["action"], "delete");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_default();
        assert_eq!(
            mode, 0o600,
            "a plan's digests confirm guesses: not for others"
        );
    }
    // No terminal and no --yes: a plain apply would refuse the deletion;
    // the reviewed plan goes ahead.
    env.run(&["apply", "-f", &file])
        .failure()
        .stderr_has("no terminal to confirm");
    env.run(&["apply", "-f", &file, "--plan", &out])
        .success()
        .stdout_has("Apply complete: 2 done.");
    assert_eq!(env.data(&format!("hf-{OWNER}"))["TOKEN"], token.as_bytes());
    assert!(env.secret(&format!("old-{OWNER}")).is_none());
}

#[test]
fn a_value_changed_since_review_changes_nothing_and_says_sources() {
    let env = TestEnv::new();
    seed_old(&env);
    let out = plan_path(&env);
    env.run(&["diff", "-f", &manifest(&env, "reviewed"), "--out", &out]);
    let file = manifest(&env, "swapped");
    if let Some(s) = env.fake() {
        s.clear_requests();
    }
    env.run(&["apply", "-f", &file, "--plan", &out])
        .failure()
        .stderr_has("out of date")
        .stderr_has("\"hf\" changed in the sources (the value of TOKEN changed)")
        .stderr_has("nothing was changed");
    assert_eq!(writes(&env), 0);
    assert!(env.secret(&format!("hf-{OWNER}")).is_none());
    assert!(env.secret(&format!("old-{OWNER}")).is_some());
}

#[test]
fn a_secret_changed_in_the_cluster_since_review_changes_nothing_and_says_cluster() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    seed_old(&env);
    let out = plan_path(&env);
    let file = manifest(&env, "reviewed");
    env.run(&["diff", "-f", &file, "--out", &out]);
    server.touch_secret(&env.namespace, &format!("old-{OWNER}"));
    server.clear_requests();
    env.run(&["apply", "-f", &file, "--plan", &out])
        .failure()
        .stderr_has("\"old\" changed in the cluster (old-abba3a3e resourceVersion");
    assert_eq!(writes(&env), 0);
    assert!(env.secret(&format!("old-{OWNER}")).is_some());
    // An object appearing where the plan would create counts too.
    let file = manifest(&env, "reviewed");
    env.run(&["diff", "-f", &file, "--out", &out, "--force"]);
    env.run(&[
        "secret", "create", "--kind", "env", "--inline", "TOKEN=x", "hf",
    ])
    .success();
    env.run(&["apply", "-f", &file, "--plan", &out])
        .failure()
        .stderr_has("\"hf\" changed in the cluster (hf-abba3a3e appeared)");
}

#[test]
fn a_plan_for_another_namespace_or_owner_is_refused() {
    let env = TestEnv::new();
    let out = plan_path(&env);
    let file = manifest(&env, "reviewed");
    env.run(&["diff", "-f", &file, "--out", &out]);
    let mut saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
    saved["namespace"] = "elsewhere".into();
    let moved = env.file("moved.json", saved.to_string());
    let moved = moved.to_str().unwrap_or_default();
    env.run(&["apply", "-f", &file, "--plan", moved])
        .failure()
        .stderr_has("is a plan for namespace elsewhere");
    env.run_as(OTHER_OWNER, &["apply", "-f", &file, "--plan", &out])
        .failure()
        .stderr_has(&format!("is a plan for owner {OWNER}"));
    assert!(env.secret(&format!("hf-{OWNER}")).is_none());
}

#[test]
fn a_plan_file_of_another_format_or_not_a_plan_is_refused() {
    let env = TestEnv::new();
    let file = manifest(&env, "reviewed");
    let newer = env.file("newer.json", r#"{"formatVersion": 2, "future": true}"#);
    env.run(&[
        "apply",
        "-f",
        &file,
        "--plan",
        newer.to_str().unwrap_or_default(),
    ])
    .failure()
    .stderr_has("format version 2; this version reads version 1 only");
    let junk = env.file("junk.json", "secrets: yaml\n");
    env.run(&[
        "apply",
        "-f",
        &file,
        "--plan",
        junk.to_str().unwrap_or_default(),
    ])
    .failure()
    .stderr_has("is not a saved plan");
    env.assert_no_requests();
}

#[test]
fn out_never_replaces_a_file_without_force() {
    let env = TestEnv::new();
    let file = manifest(&env, "reviewed");
    let out = env.file("plan.json", "keep me");
    let out = out.to_str().unwrap_or_default();
    env.run(&["diff", "-f", &file, "--out", out])
        .failure()
        .stderr_has("exists already; no plan was saved");
    env.assert_no_requests();
    assert_eq!(std::fs::read_to_string(out).unwrap_or_default(), "keep me");
    let diff = env.run(&["diff", "-f", &file, "--out", out, "--force"]);
    assert_eq!(diff.code, Some(1), "{diff:?}");
    assert!(
        std::fs::read_to_string(out)
            .unwrap_or_default()
            .contains("\"formatVersion\": 1")
    );
}
