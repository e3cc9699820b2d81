//! Saved plans (issue 12, point 2): `diff --out plan.json` saves the
//! reviewed plan (digests, never values); `apply --plan plan.json` carries
//! out exactly it, without asking, or nothing, saying which secret moved
//! and on which side.

use crate::support::{OTHER_OWNER, OWNER, TestEnv, entry, mine};

/// `hf` holding `token`, and `old` deleted.
fn manifest(env: &TestEnv, token: &str) -> String {
    env.manifest(&[
        entry("hf").kind("env").inline(&[("TOKEN", token)]),
        entry("old").absent(),
    ])
}

/// One of our secrets to delete, so the plan holds a deletion.
fn seed_old(env: &TestEnv) {
    env.seed_mine("old", "env", &[("X", "x")]);
}

fn plan_path(env: &TestEnv) -> String {
    crate::support::arg(&env.path("plan.json")).to_string()
}

#[test]
fn a_reviewed_plan_is_carried_out_without_asking_again() {
    let env = TestEnv::new();
    seed_old(&env);
    let token = env.canary("token");
    let file = manifest(&env, &token);
    let out = plan_path(&env);
    env.diff_with(&file, &["--out", &out])
        .exits(1)
        .stderr_has("Plan saved to");
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
    env.apply(&file)
        .failure()
        .stderr_has("no terminal to confirm");
    env.apply_with(&file, &["--plan", &out])
        .success()
        .stdout_has("Apply complete: 2 done.");
    assert_eq!(env.my_data("hf")["TOKEN"], token.as_bytes());
    assert!(env.my_secret("old").is_none());
}

#[test]
fn a_value_changed_since_review_changes_nothing_and_says_sources() {
    let env = TestEnv::new();
    seed_old(&env);
    let out = plan_path(&env);
    env.diff_with(&manifest(&env, "reviewed"), &["--out", &out]);
    let file = manifest(&env, "swapped");
    env.clear_requests();
    env.apply_with(&file, &["--plan", &out])
        .failure()
        .stderr_has("out of date")
        .stderr_has("\"hf\" changed in the sources (the value of TOKEN changed)")
        .stderr_has("nothing was changed");
    env.assert_no_writes();
    assert!(env.my_secret("hf").is_none());
    assert!(env.my_secret("old").is_some());
}

#[test]
fn a_secret_changed_in_the_cluster_since_review_changes_nothing_and_says_cluster() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    seed_old(&env);
    let out = plan_path(&env);
    let file = manifest(&env, "reviewed");
    env.diff_with(&file, &["--out", &out]);
    server.touch_secret(&env.namespace, &mine("old"));
    server.clear_requests();
    env.apply_with(&file, &["--plan", &out])
        .failure()
        .stderr_has("\"old\" changed in the cluster (old-abba3a3e resourceVersion");
    env.assert_no_writes();
    assert!(env.my_secret("old").is_some());
    // An object appearing where the plan would create counts too.
    let file = manifest(&env, "reviewed");
    env.diff_with(&file, &["--out", &out, "--force"]);
    env.create_env("hf", &[("TOKEN", "x")]).success();
    env.apply_with(&file, &["--plan", &out])
        .failure()
        .stderr_has("\"hf\" changed in the cluster (hf-abba3a3e appeared)");
}

#[test]
fn a_plan_for_another_namespace_or_owner_is_refused() {
    let env = TestEnv::new();
    let out = plan_path(&env);
    let file = manifest(&env, "reviewed");
    env.diff_with(&file, &["--out", &out]);
    let mut saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
    saved["namespace"] = "elsewhere".into();
    let moved = env.file_arg("moved.json", saved.to_string());
    env.apply_with(&file, &["--plan", &moved])
        .failure()
        .stderr_has("is a plan for namespace elsewhere");
    env.as_owner(OTHER_OWNER)
        .apply_with(&file, &["--plan", &out])
        .failure()
        .stderr_has(&format!("is a plan for owner {OWNER}"));
    assert!(env.my_secret("hf").is_none());
}

#[test]
fn a_plan_file_of_another_format_or_not_a_plan_is_refused() {
    let env = TestEnv::new();
    let file = manifest(&env, "reviewed");
    let newer = env.file_arg("newer.json", r#"{"formatVersion": 3, "future": true}"#);
    env.apply_with(&file, &["--plan", &newer])
        .failure()
        .stderr_has("format version 3; this version reads version 2 only");
    // A plan the previous version saved: its digests are not keyed.
    let older = env.file_arg(
        "older.json",
        r#"{"formatVersion": 1, "server": "s", "namespace": "n", "owner": "o", "manifest": "m", "prune": false, "salt": "00", "secrets": []}"#,
    );
    env.apply_with(&file, &["--plan", &older])
        .failure()
        .stderr_has("was saved by an earlier version (format 1), whose digests are not keyed")
        .stderr_has("nothing was changed")
        .stderr_has("review a new plan: diff --out");
    let junk = env.file_arg("junk.json", "secrets: yaml\n");
    env.apply_with(&file, &["--plan", &junk])
        .failure()
        .stderr_has("is not a saved plan");
    env.assert_no_requests();
}

#[test]
fn out_never_replaces_a_file_without_force() {
    let env = TestEnv::new();
    let file = manifest(&env, "reviewed");
    let out = env.file_arg("plan.json", "keep me");
    env.diff_with(&file, &["--out", &out])
        .failure()
        .stderr_has("exists already; no plan was saved");
    env.assert_no_requests();
    assert_eq!(std::fs::read_to_string(&out).unwrap_or_default(), "keep me");
    env.diff_with(&file, &["--out", &out, "--force"]).exits(1);
    assert!(
        std::fs::read_to_string(&out)
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
    let apply = env.cmd(&["apply", "-f", file, "--plan", plan]).home(home);
    match key {
        Some(key) => apply.env("KONDUKTOR_DIGEST_KEY", key).run(),
        None => apply.run(),
    }
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
    env.diff_with(&file, &["--out", &out]);
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
    env.clear_requests();
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
    apply_elsewhere(&env, ci.path(), Some("hunter2-not-a-key"), &file, &out)
        .failure()
        .stderr_has("KONDUKTOR_DIGEST_KEY is set but is not 64 hex digits")
        .stderr_lacks("hunter2");
    env.assert_no_requests();
    assert!(env.my_secret("hf").is_none());
    // The key given in the variable: carried out.
    apply_elsewhere(&env, ci.path(), Some(key), &file, &out)
        .success()
        .stdout_has("Apply complete: 2 done.");
    assert_eq!(env.my_data("hf")["TOKEN"], token.as_bytes());
}

#[cfg(unix)]
#[test]
fn a_digest_key_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let file = manifest(&env, "reviewed");
    let out = plan_path(&env);
    env.diff_with(&file, &["--out", &out]);
    let path = key_file(env.home.path());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
        .unwrap_or_else(|e| panic!("{e}"));
    env.diff_with(&file, &["--out", &out, "--force"])
        .failure()
        .stderr_has("can be read by others (mode 0644)")
        .stderr_has("chmod 600");
    env.apply_with(&file, &["--plan", &out])
        .failure()
        .stderr_has("can be read by others (mode 0644)");
    assert!(env.my_secret("hf").is_none());
}
