//! `whoami`: owner hash with its source, username, context, namespace.

use crate::support::{OWNER, Run, TestEnv};

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
    let whoami = || {
        env.cmd(&["whoami", "-o", "json"])
            .no_namespace()
            .owner_unset()
    };
    let run = whoami().env("USER", "alice").env("LOGNAME", "alice").run();
    run.success();
    let json = run.json();
    let hash = json["ownerHash"].as_str().unwrap_or_default().to_string();
    assert_eq!(hash.len(), 8);
    assert_eq!(json["ownerHashSource"]["type"], "computed");
    assert_eq!(json["username"], "alice");
    let cached = std::fs::read_to_string(env.home_path(".konduktor/user_hash")).unwrap_or_default();
    assert_eq!(cached, hash, "written bare, as Konduktor writes it");
    // KONDUKTOR_USER_ID wins over the file.
    assert_eq!(
        whoami().env("KONDUKTOR_USER_ID", "0123abcd").run().json()["ownerHash"],
        "0123abcd"
    );
    // The file is used next time.
    assert_eq!(
        whoami().run().json()["ownerHashSource"]["type"],
        "cacheFile"
    );
}

#[test]
fn invalid_override_is_a_clear_error() {
    let env = TestEnv::new();
    env.cmd(&["secret", "list"])
        .no_namespace()
        .owner("NOT-A-HASH")
        .run()
        .failure()
        .stderr_has("KONDUKTOR_TEST_USER_HASH")
        .stderr_has("8 lowercase hex");
    env.assert_no_requests();
}

#[test]
fn the_owner_hash_shows_even_without_a_kubeconfig() {
    let env = TestEnv::new();
    let missing = env.path("missing");
    env.cmd(&["whoami"])
        .no_namespace()
        .kubeconfig(&missing)
        .run()
        .success()
        .stdout_has(OWNER)
        .stdout_has("Cluster:       unknown (none of the files in KUBECONFIG exists");
    let json = env
        .cmd(&["whoami", "-o", "json"])
        .no_namespace()
        .kubeconfig(&missing)
        .run()
        .json();
    assert_eq!(json["ownerHash"], OWNER);
    assert!(json["context"].is_null());
    assert!(
        json["clusterError"]
            .as_str()
            .is_some_and(|e| e.contains("KUBECONFIG"))
    );
}

fn without_override(env: &TestEnv, args: &[&str]) -> Run {
    env.cmd(args)
        .owner_unset()
        .env("USER", "alice")
        .env("LOGNAME", "alice")
        .run()
}

/// The owner-hash file, its folder made.
fn hash_file(env: &TestEnv) -> std::path::PathBuf {
    let dir = env.home_path(".konduktor");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir.join("user_hash")
}

#[test]
fn a_hash_file_konduktor_accepts_is_used_as_is() {
    let env = TestEnv::new();
    let file = env.home_file(".konduktor/user_hash", "ABBA3A3E\n");
    let run = without_override(&env, &["whoami", "-o", "json"]);
    run.success();
    let json = run.json();
    assert_eq!(json["ownerHash"], "ABBA3A3E");
    assert_eq!(json["ownerHashSource"]["type"], "cacheFile");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap_or_default(),
        "ABBA3A3E\n",
        "never overwritten"
    );
    // Secret names are lowercase: creating one is refused before any request.
    env.file("ok.txt", "x");
    env.clear_requests();
    without_override(&env, &["secret", "create", "--from-file", "ok.txt", "x"])
        .failure()
        .stderr_has("ABBA3A3E")
        .stderr_has("cannot be part of a Secret name");
    env.assert_no_requests();
}

#[test]
fn a_hash_no_label_can_hold_is_a_clear_error() {
    let env = TestEnv::new();
    let file = env.home_file(".konduktor/user_hash", "+1234567");
    without_override(&env, &["whoami"])
        .failure()
        .stderr_has(".konduktor/user_hash")
        .stderr_has("cannot be a Kubernetes label value");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap_or_default(),
        "+1234567"
    );
}

#[test]
fn an_invalid_hash_file_is_replaced_and_says_so() {
    let env = TestEnv::new();
    let file = env.home_file(".konduktor/user_hash", "not-a-hash");
    let run = without_override(&env, &["whoami", "-o", "json"]);
    run.success().stderr_has(
        ".konduktor/user_hash` does not hold an owner hash; it was replaced with the computed hash",
    );
    let hash = run.json()["ownerHash"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(std::fs::read_to_string(&file).unwrap_or_default(), hash);
}

#[cfg(unix)]
#[test]
fn a_fifo_as_the_hash_file_neither_hangs_nor_is_replaced() {
    let env = TestEnv::new();
    let file = hash_file(&env);
    crate::support::mkfifo(&file);
    let run = without_override(&env, &["whoami", "-o", "json"]);
    run.success()
        .stderr_has("is a FIFO (named pipe), not a regular file")
        .stderr_has("the computed hash is used for this run");
    assert_eq!(run.json()["ownerHashSource"]["type"], "computed");
    let still_fifo = std::fs::symlink_metadata(&file)
        .map(|m| std::os::unix::fs::FileTypeExt::is_fifo(&m.file_type()))
        .unwrap_or(false);
    assert!(still_fifo, "the FIFO was replaced");
}
