//! docs/identity.md and the owner-hash rule of docs/konduktor-compat.md,
//! run as written: `whoami` says where the hash and the configuration came
//! from; on a second workstation it finds the first one's hash, and
//! `identity adopt` takes it over.

use super::{DocScript, Shell, assert_shows};
use crate::support::{OWNER, TestEnv};

#[test]
fn the_identity_doc_runs_as_written() {
    let env = TestEnv::new();
    if env.is_real() {
        return;
    }
    let mut doc = DocScript::new("docs/identity.md");
    // "`kubectl konduktor whoami` shows which applied": here, the tests' variable.
    Shell::new(&env)
        .run(&doc.next("kubectl konduktor whoami"), 0)
        .stdout_has(&format!("Owner hash:    {OWNER}"))
        .stdout_has("from:        env KONDUKTOR_TEST_USER_HASH");
    // "... shows which file applied".
    let config = env.file(
        "config.yaml",
        "kubernetes:\n  custom_metadata:\n    labels: {team: ml}\n",
    );
    Shell::new(&env)
        .var("KONDUKTOR_CONFIG", &config)
        .run(&doc.next("kubectl konduktor whoami"), 0)
        .stdout_has(&format!("Konduktor config: {}", config.display()));

    // The first workstation wrote the walk-through's five secrets.
    env.cmd(&["apply", "-f", "examples/secrets.yaml"])
        .in_repo()
        .env("HF_TOKEN", env.canary("hf"))
        .run()
        .success();
    // The second: another HOME, and the hash computed from login and host.
    let second = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let shell = Shell::new(&env)
        .var("HOME", second.path())
        .without("KONDUKTOR_TEST_USER_HASH");
    let whoami = doc.next("kubectl konduktor whoami");
    let run = shell.run(&whoami, 0);
    assert_shows(&whoami, &run, &[]);
    // It lists what it takes over, asks, and writes the hash.
    let out = shell.on_terminal(
        &doc.next("kubectl konduktor identity adopt abba3a3e"),
        "yes\n",
        0,
    );
    assert!(out.contains(&format!("hf-{OWNER}")), "{out}");
    assert!(out.contains("Type 'yes' to go on"), "{out}");
    let hash =
        std::fs::read_to_string(second.path().join(".konduktor/user_hash")).unwrap_or_default();
    assert_eq!(hash.trim(), OWNER);
    doc.finish();
}

/// docs/konduktor-compat.md §2.1: "`kubectl konduktor whoami` shows which
/// rule applied"; here the second, `KONDUKTOR_USER_ID`.
#[test]
fn the_compat_docs_whoami_shows_which_rule_applied() {
    let env = TestEnv::new();
    if env.is_real() {
        return;
    }
    let mut doc = DocScript::new("docs/konduktor-compat.md");
    let run = Shell::new(&env)
        .without("KONDUKTOR_TEST_USER_HASH")
        .var("KONDUKTOR_USER_ID", "12345678")
        .run(&doc.next("kubectl konduktor whoami"), 0);
    run.stdout_has("Owner hash:    12345678")
        .stdout_has("from:        env KONDUKTOR_USER_ID");
    doc.finish();
}
