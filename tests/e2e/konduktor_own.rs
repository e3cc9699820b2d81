//! Konduktor's own secrets (docs/konduktor-compat.md §1.6): what its
//! `check s3`, `check gs` and `launch` write under the caller's owner label
//! (recorded: tests/fixtures/konduktor-made/internal-*.json) is never the
//! plan's: kept by `apply --prune`, never merged into or written over by a
//! manifest or `secret create`, marked by `secret list`, left out by
//! `export` saying Konduktor makes it, not warned about by `render-job`,
//! and deleted only by name, once `secret delete` has said what it is.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::support::{OWNER, Run, TestEnv, b64, entry, fixture_json, mine, secret_object};

const AWS: &str = "awscredentials-root-1a2b";
const GCP: &str = "gcpcredentials-root-1a2b";
const SSH_KEYS: &str = "konduktor-ssh-keys-abba3a3e";
/// Planted by a co-tenant: our owner label, a kind no manifest declares,
/// no `parent` label.
const PLANTED: &str = "odd-abba3a3e";

/// What a secret holds and its resourceVersion: equal before and after
/// means it was not written.
type Snapshot = (BTreeMap<String, Vec<u8>>, Value);

/// A recorded object with each value replaced by a canary (names, labels
/// and keys as recorded), so every run checks no value of it shows.
fn with_canaries(env: &TestEnv, mut obj: Value) -> Value {
    if let Some(data) = obj["data"].as_object_mut() {
        for (key, value) in data.iter_mut() {
            let canary = env.canary(&format!("own-{}", key.to_lowercase()));
            *value = json!(b64(canary));
        }
    }
    obj
}

/// The recorded S3 credentials and SSH keys, GCS credentials made from
/// the S3 object as `konduktor check gs` writes them (the same way, kind
/// `GCS`: not recorded), and a co-tenant's planted object.
fn seed_konduktors_own(env: &TestEnv) {
    let aws = fixture_json(&format!("konduktor-made/internal-{AWS}.json"));
    let mut gcp = aws.clone();
    gcp["metadata"]["name"] = json!(GCP);
    gcp["metadata"]["labels"]["trainy.ai/secret-basename"] = json!(GCP);
    gcp["metadata"]["labels"]["trainy.ai/secret-kind"] = json!("GCS");
    gcp["data"] = json!({"gcpcredentials": aws["data"]["awscredentials"]});
    let keys = fixture_json(&format!("konduktor-made/internal-{SSH_KEYS}.json"));
    // Konduktor's labels but `parent`.
    let planted = secret_object("odd")
        .labels(
            json!({"trainy.ai/secret-owner": OWNER, "trainy.ai/secret-basename": "odd",
            "trainy.ai/secret-kind": "newer-kind"}),
        )
        .value("K", "x")
        .json();
    for obj in [aws, gcp, keys, planted] {
        env.seed(with_canaries(env, obj));
    }
}

fn snapshot(env: &TestEnv) -> Vec<Snapshot> {
    [AWS, GCP, SSH_KEYS, PLANTED]
        .iter()
        .map(|name| {
            let obj = env.secret(name).unwrap_or_else(|| panic!("{name} is gone"));
            (
                crate::support::decode_data(&obj),
                obj["metadata"]["resourceVersion"].clone(),
            )
        })
        .collect()
}

fn occurrences(run: &Run, needle: &str) -> usize {
    run.stdout.matches(needle).count()
}

#[test]
fn apply_prune_keeps_konduktors_own_secrets_and_shows_them_once() {
    let env = TestEnv::new();
    seed_konduktors_own(&env);
    let stale = env.canary("stale");
    env.create("stale", &[("K", &stale)]).success();
    let before = snapshot(&env);
    let value = env.canary("hf");
    let m = env.manifest(&[entry("hf").kind("env").inline(&[("TOKEN", &value)])]);

    let diff = env.diff_with(&m, &["--prune"]);
    diff.exits(1)
        .stdout_has("Konduktor's own, kept (a manifest never manages them):")
        .stdout_has(&format!(
            "  {AWS}: storage credentials (S3), made by `konduktor check s3`"
        ))
        .stdout_has(&format!(
            "  {GCP}: storage credentials (GCS), made by `konduktor check gs`"
        ))
        .stdout_has(&format!(
            "  {SSH_KEYS}: SSH keys, made by `konduktor launch`"
        ))
        .stdout_has("  odd: a secret of kind `newer-kind`, which no manifest can declare")
        .stdout_has("- stale (default): delete stale-abba3a3e (not in the manifest, --prune)");
    for name in [AWS, GCP, SSH_KEYS] {
        assert_eq!(occurrences(&diff, name), 1, "{name} once:\n{}", diff.stdout);
    }
    assert_eq!(occurrences(&diff, "odd"), 1, "{}", diff.stdout);

    let json = env.diff_with(&m, &["--prune", "-o", "json"]).json();
    let kept: Vec<(&str, &str)> = json["konduktorOwn"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|k| {
                    (
                        k["secretName"].as_str().unwrap_or_default(),
                        k["what"].as_str().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        kept,
        [
            (AWS, "storageCredentials"),
            (GCP, "storageCredentials"),
            (SSH_KEYS, "sshKeys"),
            (PLANTED, "otherKind"),
        ]
    );
    let planned: Vec<&str> = json["secrets"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["secretName"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(planned, ["hf-abba3a3e", "stale-abba3a3e"]);

    let apply = env.apply_with(&m, &["--prune", "--yes"]);
    apply.success();
    assert_eq!(occurrences(&apply, SSH_KEYS), 1, "{}", apply.stdout);
    assert_eq!(snapshot(&env), before, "Konduktor's own were written");
    assert!(env.secret("stale-abba3a3e").is_none(), "stale kept");
    assert!(env.secret("hf-abba3a3e").is_some());

    // A new git-ssh secret replaces only the user's git-ssh secrets.
    let key = env.file_arg("id_new", "KEY");
    let m = env.manifest(&[entry("ssh").kind("git-ssh").file(&key)]);
    env.apply_with(&m, &["--prune", "--yes"]).success();
    assert_eq!(snapshot(&env), before, "Konduktor's own were written");
}

#[test]
fn a_manifest_entry_or_secret_create_onto_konduktors_own_object_is_refused_naming_both() {
    let env = TestEnv::new();
    seed_konduktors_own(&env);
    let before = snapshot(&env);
    let value = env.canary("mine");
    // `konduktor-ssh-keys` names the object `konduktor-ssh-keys-abba3a3e`,
    // where Konduktor keeps the SSH keys.
    for (name, listed) in [
        (
            "konduktor-ssh-keys",
            entry("konduktor-ssh-keys")
                .kind("env")
                .inline(&[("PUBKEY", &value)]),
        ),
        ("konduktor-ssh-keys", entry("konduktor-ssh-keys").absent()),
        ("odd", entry("odd").inline(&[("K", &value)])),
    ] {
        let m = env.manifest(&[listed]);
        let object = if name == "odd" { PLANTED } else { SSH_KEYS };
        env.apply_with(&m, &["--yes"])
            .failure()
            .stderr_has("apply refused")
            .stdout_has(&format!("! {name}: conflict: the entry \"{name}\" names the Secret {object}, which is Konduktor's own"));
        let json = env.diff_with(&m, &["-o", "json"]).json();
        assert_eq!(json["secrets"][0]["action"], "conflict", "{json}");
        assert_eq!(
            json["secrets"][0]["konduktorOwn"],
            if name == "odd" {
                "otherKind"
            } else {
                "sshKeys"
            }
        );
        // Shown once: as the conflict, not also as kept.
        assert!(
            json["konduktorOwn"]
                .as_array()
                .is_some_and(|a| a.iter().all(|k| k["secretName"] != object)),
            "{json}"
        );
    }
    for (name, object) in [("konduktor-ssh-keys", SSH_KEYS), ("odd", PLANTED)] {
        env.create(name, &[("PUBKEY", &value)])
            .failure()
        .stderr_has(&format!(
            "the secret \"{name}\" would be written into the Secret {object}, which is Konduktor's own"
        ));
    }
    assert_eq!(snapshot(&env), before, "Konduktor's own were written");
}

#[test]
fn secret_list_marks_them_and_export_leaves_them_out_saying_konduktor_makes_them() {
    let env = TestEnv::new();
    seed_konduktors_own(&env);
    let value = env.canary("listed");
    env.create("mine", &[("K", &value)]).success();
    let list = env.run(&["secret", "list"]);
    list.success()
        .stdout_has("S3 (Konduktor's own)")
        .stdout_has("GCS (Konduktor's own)")
        .stdout_has("- (Konduktor's own)")
        .stderr_has("note: rows marked (Konduktor's own) are secrets Konduktor keeps for itself")
        .stderr_has(&format!(
            "  {SSH_KEYS}: SSH keys, made by `konduktor launch`"
        ));
    let mine_row = list
        .stdout
        .lines()
        .find(|l| l.starts_with("mine "))
        .unwrap_or_default();
    assert!(!mine_row.contains("Konduktor's own"), "{mine_row}");
    let json = env.run(&["secret", "list", "-o", "json"]).json();
    let marks: BTreeMap<String, Value> = json["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| {
                    (
                        i["secretName"].as_str().unwrap_or_default().to_string(),
                        i["konduktorOwn"]["what"].clone(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(marks[AWS], "storageCredentials");
    assert_eq!(marks[SSH_KEYS], "sshKeys");
    assert_eq!(marks[&mine("mine")], Value::Null);

    let export = env.run(&["export"]);
    export
        .success()
        .stderr_has(&format!("left out secret `{AWS}`: it is Konduktor's own (storage credentials (S3)): Konduktor makes it (`konduktor check s3`)"))
        .stderr_has(&format!("left out secret `{GCP}`: it is Konduktor's own (storage credentials (GCS)): Konduktor makes it (`konduktor check gs`)"))
        .stderr_has(&format!("left out secret `{SSH_KEYS}`: it is Konduktor's own (SSH keys): Konduktor makes it (`konduktor launch`)"))
        .stdout_has("  - name: \"mine\"\n");
}

#[test]
fn render_job_is_quiet_about_konduktors_storage_credentials_and_ssh_keys() {
    let env = TestEnv::new();
    // The recorded objects only (not the planted kind, which is warned about).
    for name in [AWS, SSH_KEYS] {
        let obj = fixture_json(&format!("konduktor-made/internal-{name}.json"));
        env.seed(with_canaries(&env, obj));
    }
    let value = env.canary("injected");
    env.create_env("app", &[("K", &value)]).success();
    let task =
        env.task("name: t\nresources: {image_id: ubuntu, cpus: 1, memory: 1}\nrun: echo hi\n");
    let run = env.run(&["render-job", "-f", &task]);
    run.success()
        .stderr_lacks("warning")
        .stdout_has("app-abba3a3e");
    // Neither is injected.
    for name in [AWS, SSH_KEYS] {
        run.stdout_lacks(name);
    }
}

#[test]
fn secret_delete_takes_one_by_name_after_saying_what_it_is() {
    let env = TestEnv::new();
    seed_konduktors_own(&env);
    let run = env.run(&["secret", "delete", AWS]);
    run.success()
        .stderr_has(&format!("note: secret \"{AWS}\" ({AWS}) is Konduktor's own: storage credentials (S3), made by `konduktor check s3`; deleting it by name, as asked"))
        .stdout_has(&format!("secret \"{AWS}\" deleted ({AWS})"));
    assert!(env.secret(AWS).is_none());
    env.run(&["secret", "delete", SSH_KEYS])
        .success()
        .stderr_has("SSH keys, made by `konduktor launch`");
    assert!(env.secret(SSH_KEYS).is_none());
    assert!(env.secret(GCP).is_some(), "only the one named goes");
}
