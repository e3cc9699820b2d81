//! Where a change came from (issue 12, point 3): each write records what
//! it applied in `konduktor.trainy.ai/applied`; `diff` tells, per changed
//! key, whether the sources or the cluster moved since, or both; secrets
//! without a record say "origin unknown".

use std::collections::BTreeMap;

use serde_json::json;

use crate::support::{OWNER, TestEnv, entry, mine};

/// A manifest of one env secret, `my-env`, holding `pairs`.
fn manifest(env: &TestEnv, pairs: &[(&str, &str)]) -> String {
    env.manifest(&[entry("my-env").kind("env").inline(pairs)])
}

fn applied(env: &TestEnv, name: &str) -> Option<String> {
    env.secret(name).and_then(|o| {
        o["metadata"]["annotations"]["konduktor.trainy.ai/applied"]
            .as_str()
            .map(str::to_string)
    })
}

/// The record's entries by key: `hmac-sha256:<key id>:<8 hex>` each.
fn entries(env: &TestEnv, name: &str) -> BTreeMap<String, String> {
    let record = applied(env, name).unwrap_or_else(|| panic!("{name} has no applied record"));
    let entries: BTreeMap<String, String> =
        serde_json::from_str(&record).unwrap_or_else(|e| panic!("{record}: {e}"));
    for entry in entries.values() {
        let parts: Vec<&str> = entry.split(':').collect();
        assert!(
            parts.len() == 3
                && parts[0] == "hmac-sha256"
                && parts[1..]
                    .iter()
                    .all(|p| p.len() == 8 && p.bytes().all(|b| b.is_ascii_hexdigit())),
            "{record}"
        );
    }
    entries
}

#[test]
fn a_create_and_a_merge_record_what_they_applied_keyed() {
    let env = TestEnv::new();
    let name = mine("my-env");
    env.apply(&manifest(&env, &[("FOO", "bar")])).success();
    let first = entries(&env, &name);
    assert_eq!(first.keys().collect::<Vec<_>>(), ["FOO"]);
    // Not the previous version's unkeyed digest of "bar".
    assert!(
        !applied(&env, &name)
            .unwrap_or_default()
            .contains("fcde2b2e")
    );
    env.apply(&manifest(&env, &[("FOO", "bar"), ("BAZ", "qux")]))
        .success();
    let second = entries(&env, &name);
    assert_eq!(second.keys().collect::<Vec<_>>(), ["BAZ", "FOO"]);
    assert_eq!(
        second["FOO"], first["FOO"],
        "the same key, value and object"
    );
    // `secret create` records too.
    env.create_env("solo", &[("A", "1")]).success();
    assert_eq!(entries(&env, &mine("solo")).len(), 1);
}

/// Issue 19, point 7: another writer rotates a value this tool applied;
/// the entry that describes the old value goes at our next write to the
/// secret, even one that changes another key.
#[test]
fn a_digest_another_writer_made_stale_goes_at_the_next_write() {
    let env = TestEnv::new();
    let name = mine("my-env");
    env.apply(&manifest(
        &env,
        &[("PIN", "493817"), ("KEEP", "1"), ("B", "1")],
    ))
    .success();
    let before = entries(&env, &name);
    // Another writer rotates PIN (kubectl edit, a rotation job).
    let mut obj = env.secret(&name).unwrap_or_else(|| panic!("no {name}"));
    obj["data"]["PIN"] = json!("MDAwMTEx"); // 000111
    env.replace(obj);
    assert_eq!(
        entries(&env, &name)["PIN"],
        before["PIN"],
        "stale until our next write"
    );
    // The manifest no longer names PIN or KEEP (kept in the cluster), and changes B.
    env.apply(&manifest(&env, &[("B", "2")])).success();
    let after = entries(&env, &name);
    assert_eq!(after.keys().collect::<Vec<_>>(), ["B", "KEEP"], "{after:?}");
    // KEEP still holds what was applied: its entry stands.
    assert_eq!(after["KEEP"], before["KEEP"]);
    assert_ne!(after["B"], before["B"]);
    assert_eq!(env.data(&name)["PIN"], b"000111");
}

/// A record the previous version wrote (unkeyed, as Konduktor's CLI keeps
/// it): read as before, and replaced by keyed entries at the next write;
/// an entry whose value was changed since is dropped.
#[test]
fn an_unkeyed_record_of_the_previous_version_is_replaced_at_the_next_write() {
    let env = TestEnv::new();
    // FOO=bar, BAZ=qux, as Konduktor's CLI left it; recorded FOO=bar
    // (fcde2b2e) and, as if BAZ had been rotated since, BAZ=something else.
    let mut obj = crate::support::fixture_json(&format!(
        "konduktor-made/my-env-annotated-merged-{OWNER}.json"
    ));
    obj["metadata"]["annotations"]["konduktor.trainy.ai/applied"] =
        json!(r#"{"BAZ":"sha256:00000000","FOO":"sha256:fcde2b2e"}"#);
    env.seed(obj);
    let name = mine("my-env-ann");
    env.apply(&env.manifest(&[entry("my-env-ann").kind("env").inline(&[("X", "1")])]))
        .success();
    let after = entries(&env, &name);
    assert_eq!(after.keys().collect::<Vec<_>>(), ["FOO", "X"], "{after:?}");
    assert!(
        !applied(&env, &name)
            .unwrap_or_default()
            .contains("sha256:fcde2b2e")
    );
}

#[test]
fn diff_tells_a_change_in_the_sources_from_one_in_the_cluster() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let name = mine("my-env");
    env.apply(&manifest(&env, &[("A", "1"), ("B", "1"), ("C", "1")]))
        .success();
    // Someone edits B and C in the cluster (kubectl edit, Konduktor's CLI).
    let mut obj = env.secret(&name).unwrap_or_else(|| panic!("no {name}"));
    obj["data"]["B"] = json!("Mg=="); // 2
    obj["data"]["C"] = json!("Mg==");
    server.put_secret(&env.namespace, obj);
    // ... and the manifest changes A and C.
    let file = manifest(&env, &[("A", "2"), ("B", "1"), ("C", "3")]);
    env.diff(&file)
        .exits(1)
        .stdout_has("    ~ A (changed in the sources since the last apply)")
        .stdout_has("    ~ B (changed in the cluster since the last apply)")
        .stdout_has("    ~ C (changed in the sources and in the cluster since the last apply)");
    let json = env.diff_with(&file, &["-o", "json"]).json();
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
    env.seed_fixture(&mine("my-env"));
    let file = manifest(&env, &[("FOO", "changed")]);
    env.diff(&file)
        .exits(1)
        .stdout_has("    ~ FOO (origin unknown)");
    let json = env.diff_with(&file, &["-o", "json"]).json();
    assert_eq!(json["secrets"][0]["keys"][1]["key"], "FOO");
    assert_eq!(json["secrets"][0]["keys"][1]["origin"], "unknown");
    // The apply that follows records it: from then on, origins are known.
    env.apply(&file).success();
    env.diff(&manifest(&env, &[("FOO", "again")]))
        .stdout_has("    ~ FOO (changed in the sources since the last apply)");
}
