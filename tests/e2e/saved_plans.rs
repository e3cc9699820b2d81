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
    assert_eq!(saved["formatVersion"], 2);
    assert_eq!(saved["namespace"], env.namespace.as_str());
    assert_eq!(saved["owner"], OWNER);
    assert_eq!(saved["secrets"][1]["action"], "delete");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_default();
        assert_eq!(mode, 0o600, "a plan names secrets and keys: not for others");
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
    let newer = env.file("newer.json", r#"{"formatVersion": 3, "future": true}"#);
    env.run(&[
        "apply",
        "-f",
        &file,
        "--plan",
        newer.to_str().unwrap_or_default(),
    ])
    .failure()
    .stderr_has("format version 3; this version reads version 2 only");
    // A plan the previous version saved: its digests are not keyed.
    let older = env.file(
        "older.json",
        r#"{"formatVersion": 1, "server": "s", "namespace": "n", "owner": "o", "manifest": "m", "prune": false, "salt": "00", "secrets": []}"#,
    );
    env.run(&[
        "apply",
        "-f",
        &file,
        "--plan",
        older.to_str().unwrap_or_default(),
    ])
    .failure()
    .stderr_has("was saved by an earlier version (format 1), whose digests are not keyed")
    .stderr_has("nothing was changed")
    .stderr_has("review a new plan: diff --out");
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
            .contains("\"formatVersion\": 2")
    );
}

/// The digest key's file under a HOME.
fn key_file(home: &std::path::Path) -> std::path::PathBuf {
    home.join(".konduktor").join("digest-key")
}

/// `apply --plan` as run on another machine: another HOME, and maybe a
/// key in `KONDUKTOR_DIGEST_KEY`.
fn apply_elsewhere(
    env: &TestEnv,
    home: &std::path::Path,
    key: Option<&str>,
    file: &str,
    plan: &str,
) -> crate::support::Run {
    let mut cmd = env.command();
    cmd.env("HOME", home);
    if let Some(key) = key {
        cmd.env("KONDUKTOR_DIGEST_KEY", key);
    }
    cmd.arg("-n")
        .arg(&env.namespace)
        .args(["apply", "-f", file, "--plan", plan]);
    env.run_command(cmd)
}

/// Issue 19, point 7: a plan's digests are keyed with a key that is not
/// in the plan; where it is applied, that key must be there (the file, or
/// the variable for a CI job), or nothing is done.
#[test]
fn a_plan_applies_elsewhere_only_with_its_key_given() {
    let env = TestEnv::new();
    seed_old(&env);
    let token = env.canary("token");
    let file = manifest(&env, &token);
    let out = plan_path(&env);
    env.run(&["diff", "-f", &file, "--out", &out]);
    // diff --out made the key, 0600, and the plan names it by id only.
    let key = std::fs::read_to_string(key_file(env.home.path())).unwrap_or_else(|e| panic!("{e}"));
    let key = key.trim();
    assert_eq!(key.len(), 64);
    let plan = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(!plan.contains(key), "{plan}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(key_file(env.home.path()))
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_default();
        assert_eq!(mode, 0o600);
    }
    if let Some(s) = env.fake() {
        s.clear_requests();
    }
    // A machine without the key: refused before anything is read.
    let ci = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    apply_elsewhere(&env, ci.path(), None, &file, &out)
        .failure()
        .stderr_has("this machine has no digest key")
        .stderr_has("its digests cannot be checked; nothing was changed")
        .stderr_has("KONDUKTOR_DIGEST_KEY=");
    env.assert_no_requests();
    assert!(!key_file(ci.path()).exists(), "apply --plan makes no key");
    // Another key: refused, naming both.
    let other = "0123456789abcdef".repeat(4);
    apply_elsewhere(&env, ci.path(), Some(&other), &file, &out)
        .failure()
        .stderr_has("this run's digest key (from KONDUKTOR_DIGEST_KEY) is another one");
    // Not a key: refused without showing it.
    let run = apply_elsewhere(&env, ci.path(), Some("hunter2-not-a-key"), &file, &out);
    run.failure()
        .stderr_has("KONDUKTOR_DIGEST_KEY is set but is not 64 hex digits");
    assert!(!run.stderr.contains("hunter2"), "{run:?}");
    env.assert_no_requests();
    assert!(env.secret(&format!("hf-{OWNER}")).is_none());
    // The key given in the variable: carried out.
    apply_elsewhere(&env, ci.path(), Some(key), &file, &out)
        .success()
        .stdout_has("Apply complete: 2 done.");
    assert_eq!(env.data(&format!("hf-{OWNER}"))["TOKEN"], token.as_bytes());
}

#[cfg(unix)]
#[test]
fn a_digest_key_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let file = manifest(&env, "reviewed");
    let out = plan_path(&env);
    env.run(&["diff", "-f", &file, "--out", &out]);
    let path = key_file(env.home.path());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
        .unwrap_or_else(|e| panic!("{e}"));
    env.run(&["diff", "-f", &file, "--out", &out, "--force"])
        .failure()
        .stderr_has("can be read by others (mode 0644)")
        .stderr_has("chmod 600");
    env.run(&["apply", "-f", &file, "--plan", &out])
        .failure()
        .stderr_has("can be read by others (mode 0644)");
    assert!(env.secret(&format!("hf-{OWNER}")).is_none());
}
