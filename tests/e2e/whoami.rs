//! `whoami`: owner hash with its source, username, context, namespace.

use crate::support::{OWNER, TestEnv};

#[test]
fn shows_hash_source_context_and_namespace() {
    let env = TestEnv::new();
    let run = env.run(&["whoami"]);
    run.success()
        .stdout_has(OWNER)
        .stdout_has("env KONDUKTOR_TEST_USER_HASH")
        .stdout_has(&env.namespace);
    let json = env.run(&["whoami", "-o", "json"]).json();
    assert_eq!(json["ownerHash"], OWNER);
    assert_eq!(json["ownerHashSource"]["type"], "testOverride");
    assert_eq!(json["namespace"], env.namespace.as_str());
    if env.fake().is_some() {
        assert_eq!(json["context"], "fake");
        assert_eq!(json["clusterUser"]["username"], "alice");
    }
}

#[test]
fn computed_hash_is_cached_where_konduktor_keeps_it() {
    let env = TestEnv::new();
    let mut cmd = env.command();
    cmd.env_remove("KONDUKTOR_TEST_USER_HASH")
        .env("USER", "alice")
        .env("LOGNAME", "alice")
        .args(["whoami", "-o", "json"]);
    let run = env.run_command(cmd);
    run.success();
    let json = run.json();
    let hash = json["ownerHash"].as_str().unwrap_or_default().to_string();
    assert_eq!(hash.len(), 8);
    assert_eq!(json["ownerHashSource"]["type"], "computed");
    assert_eq!(json["username"], "alice");
    let cached =
        std::fs::read_to_string(env.home.path().join(".konduktor/user_hash")).unwrap_or_default();
    assert_eq!(cached, hash, "written bare, as Konduktor writes it");
    // KONDUKTOR_USER_ID wins over the file.
    let mut cmd = env.command();
    cmd.env_remove("KONDUKTOR_TEST_USER_HASH")
        .env("KONDUKTOR_USER_ID", "0123abcd")
        .args(["whoami", "-o", "json"]);
    assert_eq!(env.run_command(cmd).json()["ownerHash"], "0123abcd");
    // The file is used next time.
    let mut cmd = env.command();
    cmd.env_remove("KONDUKTOR_TEST_USER_HASH")
        .args(["whoami", "-o", "json"]);
    assert_eq!(
        env.run_command(cmd).json()["ownerHashSource"]["type"],
        "cacheFile"
    );
}

#[test]
fn invalid_override_is_a_clear_error() {
    let env = TestEnv::new();
    let mut cmd = env.command();
    cmd.env("KONDUKTOR_TEST_USER_HASH", "NOT-A-HASH")
        .args(["secret", "list"]);
    let run = env.run_command(cmd);
    run.failure()
        .stderr_has("KONDUKTOR_TEST_USER_HASH")
        .stderr_has("8 lowercase hex");
    env.assert_no_requests();
}

#[test]
fn the_owner_hash_shows_even_without_a_kubeconfig() {
    let env = TestEnv::new();
    let mut cmd = env.command();
    cmd.env("KUBECONFIG", env.dir.path().join("missing"))
        .args(["whoami"]);
    let run = env.run_command(cmd);
    run.success()
        .stdout_has(OWNER)
        .stdout_has("Cluster:       unknown (none of the files in KUBECONFIG exists");
    let mut cmd = env.command();
    cmd.env("KUBECONFIG", env.dir.path().join("missing"))
        .args(["whoami", "-o", "json"]);
    let json = env.run_command(cmd).json();
    assert_eq!(json["ownerHash"], OWNER);
    assert!(json["context"].is_null());
    assert!(
        json["clusterError"]
            .as_str()
            .is_some_and(|e| e.contains("KUBECONFIG"))
    );
}
