use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use super::*;
use crate::konduktor::{DesiredSecret, LiveSecret, SecretKind};
use crate::secrets::manifest::Desired;

pub(crate) const ME: &str = "abba3a3e";

/// The digest key the tests' `applied` records are made with.
pub(crate) fn key() -> DigestKey {
    crate::konduktor::digest_key::test_key(7)
}

/// What a write sends besides data, with [`key`] for the `applied` record.
pub(crate) fn keyed_meta() -> konduktor::WriteMeta {
    konduktor::WriteMeta {
        digest_key: Some(key()),
        ..konduktor::WriteMeta::default()
    }
}

/// [`plan`] with [`key`].
fn plan_k(desired: &[Desired], live: &[LiveSecret], prune: bool) -> Plan {
    plan_with_key(desired, live, ME, prune, Some(&key()))
}
const OTHER: &str = "8417fdac";

pub(crate) fn bytes(s: &str) -> SecretBytes {
    SecretBytes::new(s.as_bytes().to_vec())
}

pub(crate) fn want(name: &str, kind: SecretKind, data: &[(&str, &str)]) -> Desired {
    Desired::Present(desired_secret(name, kind, data))
}

pub(crate) fn desired_secret(name: &str, kind: SecretKind, data: &[(&str, &str)]) -> DesiredSecret {
    DesiredSecret {
        origins: Default::default(),
        basename: name.into(),
        kind,
        data: data
            .iter()
            .map(|(k, v)| (k.to_string(), bytes(v)))
            .collect(),
    }
}

pub(crate) fn live(name: &str, owner: &str, kind: &str, data: &[(&str, &str)]) -> LiveSecret {
    LiveSecret {
        name: format!("{name}-{owner}"),
        uid: Some(format!("uid-{name}")),
        resource_version: Some("7".into()),
        created: None,
        labels: konduktor::labels(name, kind.parse().unwrap_or_default(), owner),
        annotations: Default::default(),
        data: data
            .iter()
            .map(|(k, v)| (k.to_string(), bytes(v)))
            .collect(),
        ..LiveSecret::default()
    }
}

fn one<'a>(p: &'a Plan, name: &str) -> &'a SecretPlan {
    p.secrets
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} not in plan: {p:#?}"))
}

fn changes(s: &SecretPlan) -> Vec<(&str, Change)> {
    s.keys.iter().map(|k| (k.key.as_str(), k.change)).collect()
}

#[test]
fn create_when_missing() {
    let p = plan(
        &[want("hf", SecretKind::Env, &[("TOKEN", "t")])],
        &[],
        ME,
        false,
    );
    let s = one(&p, "hf");
    assert_eq!(s.action(), Action::Create);
    assert_eq!(s.secret_name, "hf-abba3a3e");
    assert_eq!(changes(s), [("TOKEN", Change::Added)]);
    assert_eq!(
        p.summary,
        Summary {
            create: 1,
            ..Summary::default()
        }
    );
    assert!(p.has_changes() && !p.has_deletions());
}

#[test]
fn merge_adds_changes_and_keeps() {
    let p = plan(
        &[want(
            "hf",
            SecretKind::Env,
            &[("A", "1"), ("B", "new"), ("C", "same")],
        )],
        &[live(
            "hf",
            ME,
            "env",
            &[("B", "old"), ("C", "same"), ("KEEP", "x")],
        )],
        ME,
        false,
    );
    let s = one(&p, "hf");
    assert_eq!(s.action(), Action::Merge);
    assert_eq!(
        changes(s),
        [
            ("A", Change::Added),
            ("B", Change::Changed),
            ("C", Change::Unchanged),
            ("KEEP", Change::Kept)
        ]
    );
    let Step::Merge { live, .. } = &s.step else {
        panic!("not a merge: {s:?}")
    };
    assert_eq!(live.resource_version.as_deref(), Some("7"));
    assert!(!p.has_deletions(), "kept keys are not deletions");
}

#[test]
fn kind_relabel_alone_is_a_merge() {
    let p = plan(
        &[want("x", SecretKind::Default, &[("A", "1")])],
        &[live("x", ME, "env", &[("A", "1")])],
        ME,
        false,
    );
    let s = one(&p, "x");
    assert_eq!(s.action(), Action::Merge);
    assert!(
        matches!(&s.step, Step::Merge { relabel_from: Some(from), .. } if from == "env"),
        "{s:?}"
    );
}

#[test]
fn unchanged_when_equal() {
    let p = plan(
        &[want("x", SecretKind::Env, &[("A", "1")])],
        &[live("x", ME, "env", &[("A", "1")])],
        ME,
        false,
    );
    assert_eq!(one(&p, "x").action(), Action::Unchanged);
    assert!(!p.has_changes());
    assert_eq!(p.summary.unchanged, 1);
}

#[test]
fn absent_deletes_only_what_exists() {
    let absent = |n: &str| Desired::Absent { basename: n.into() };
    let p = plan(
        &[absent("old"), absent("never")],
        &[live("old", ME, "default", &[("f", "x")])],
        ME,
        false,
    );
    let old = one(&p, "old");
    assert_eq!(
        (old.action(), old.reason()),
        (Action::Delete, Some(DeleteReason::Absent))
    );
    let Step::Delete { live, .. } = &old.step else {
        panic!("not a delete: {old:?}")
    };
    assert_eq!(live.uid.as_deref(), Some("uid-old"));
    assert_eq!(one(&p, "never").action(), Action::Unchanged);
    assert!(p.has_deletions());
}

#[test]
fn replaced_git_ssh_under_another_name_is_deleted() {
    let current = [
        live("old-key", ME, "git-ssh", &[("gitkey", "k1")]),
        live("other", ME, "default", &[("f", "x")]),
    ];
    let p = plan(
        &[want("new-key", SecretKind::GitSsh, &[("gitkey", "k2")])],
        &current,
        ME,
        false,
    );
    let old = one(&p, "old-key");
    assert_eq!(
        (old.action(), old.reason()),
        (Action::Delete, Some(DeleteReason::ReplacedGitSsh))
    );
    assert_eq!(
        p.unmanaged,
        ["other"],
        "non-git-ssh secrets are kept without --prune"
    );
    // No git-ssh in the manifest: the old one stays.
    let p = plan(
        &[want("x", SecretKind::Env, &[("A", "1")])],
        &current,
        ME,
        false,
    );
    assert!(p.secrets.iter().all(|s| s.name != "old-key"));
}

#[test]
fn prune_deletes_unlisted_secrets_and_keys() {
    let current = [
        live("listed", ME, "env", &[("A", "1"), ("EXTRA", "x")]),
        live("unlisted", ME, "default", &[("f", "x")]),
    ];
    let desired = [want("listed", SecretKind::Env, &[("A", "1")])];
    let p = plan(&desired, &current, ME, true);
    assert_eq!(
        changes(one(&p, "listed")),
        [("A", Change::Unchanged), ("EXTRA", Change::Removed)]
    );
    assert_eq!(one(&p, "listed").action(), Action::Merge);
    let gone = one(&p, "unlisted");
    assert_eq!(
        (gone.action(), gone.reason()),
        (Action::Delete, Some(DeleteReason::Pruned))
    );
    assert!(p.has_deletions());
    // Without --prune the same is kept.
    let p = plan(&desired, &current, ME, false);
    assert_eq!(one(&p, "listed").action(), Action::Unchanged);
    assert_eq!(p.unmanaged, ["unlisted"]);
}

#[test]
fn prune_never_reaches_other_owners() {
    let p = plan(
        &[],
        &[live("theirs", OTHER, "env", &[("A", "1")])],
        ME,
        true,
    );
    assert!(p.secrets.is_empty());
}

#[test]
fn a_foreign_secret_holding_our_name_is_a_conflict() {
    let mut foreign = live("creds", OTHER, "env", &[("A", "1")]);
    foreign.name = "creds-abba3a3e".into();
    let mut unlabelled = live("plain", ME, "env", &[("A", "1")]);
    unlabelled.labels.clear();
    let p = plan(
        &[
            want("creds", SecretKind::Env, &[("A", "2")]),
            Desired::Absent {
                basename: "plain".into(),
            },
        ],
        &[foreign, unlabelled],
        ME,
        true,
    );
    assert_eq!(one(&p, "creds").action(), Action::Conflict);
    assert_eq!(one(&p, "plain").action(), Action::Conflict);
    assert!(
        one(&p, "creds")
            .conflict_message()
            .is_some_and(|c| c.contains(OTHER))
    );
    assert_eq!(p.summary.conflict, 2);
    assert!(
        !p.has_deletions(),
        "a conflict is never deleted, even with --prune"
    );
}

/// A zip as another tool makes it: given order, timestamps and modes.
fn zip_of(entries: &[(&str, &str, u32)], minute: u8) -> SecretBytes {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content, mode) in entries {
        let when =
            zip::DateTime::from_date_and_time(2026, 11, 27, 20, minute, 0).unwrap_or_default();
        let opts = zip::write::SimpleFileOptions::default()
            .last_modified_time(when)
            .unix_permissions(*mode);
        w.start_file(*name, opts).unwrap_or_else(|e| panic!("{e}"));
        w.write_all(content.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
    }
    SecretBytes::new(w.finish().unwrap_or_else(|e| panic!("{e}")).into_inner())
}

fn dir_secret(data: SecretBytes) -> DesiredSecret {
    DesiredSecret {
        origins: Default::default(),
        basename: "creds".into(),
        kind: SecretKind::Default,
        data: BTreeMap::from([(PAYLOAD_ZIP_KEY.to_string(), data)]),
    }
}

#[test]
fn directory_secrets_compare_by_content() {
    let ours = zip_of(&[("d/a", "1", 0o600), ("d/b", "2", 0o644)], 1);
    let theirs = zip_of(&[("d/b", "2", 0o644), ("d/a", "1", 0o600)], 44);
    assert_ne!(ours, theirs);
    let mut current = live("creds", ME, "default", &[]);
    current.data.insert(PAYLOAD_ZIP_KEY.into(), theirs.clone());
    let p = plan(
        &[Desired::Present(dir_secret(ours))],
        std::slice::from_ref(&current),
        ME,
        false,
    );
    assert_eq!(
        one(&p, "creds").action(),
        Action::Unchanged,
        "timestamps and order do not count"
    );

    let changed = zip_of(&[("d/a", "1", 0o644), ("d/c", "3", 0o644)], 1);
    let p = plan(
        &[Desired::Present(dir_secret(changed))],
        &[current],
        ME,
        false,
    );
    let s = one(&p, "creds");
    assert_eq!(s.action(), Action::Merge);
    let files: Vec<(&str, Change)> = s.keys[0]
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.change))
        .collect();
    assert_eq!(
        files,
        [
            ("d/a", Change::Changed),
            ("d/b", Change::Removed),
            ("d/c", Change::Added)
        ]
    );
}

#[test]
fn konduktors_own_directory_zip_matches_ours() {
    // The fixture was zipped by Konduktor's CLI with other timestamps; the
    // same folder zipped by us (a.txt at 0600, as it was there) is unchanged.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/konduktor-made");
    let text = std::fs::read_to_string(fixtures.join("my-default-directory-abba3a3e.json"))
        .unwrap_or_default();
    let object: k8s_openapi::api::core::v1::Secret =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let theirs = LiveSecret::from_object(object);

    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = tmp.path().join("mycreds");
    for rel in [
        ".DS_Store",
        ".hidden",
        "a.txt",
        "sub/b.json",
        "sub/deeper/c",
    ] {
        let to = root.join(rel);
        std::fs::create_dir_all(to.parent().unwrap_or(&root)).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            &to,
            std::fs::read(fixtures.join("source/mycreds").join(rel)).unwrap_or_default(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for (rel, mode) in [
            (".hidden", 0o644),
            ("a.txt", 0o600),
            ("sub/b.json", 0o644),
            ("sub/deeper/c", 0o644),
        ] {
            std::fs::set_permissions(root.join(rel), std::fs::Permissions::from_mode(mode))
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let ours = crate::secrets::manifest::sources::zip_directory(&root, konduktor::MAX_SECRET_BYTES)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(
        Some(&ours),
        theirs.data.get(PAYLOAD_ZIP_KEY),
        "the bytes differ (timestamps)"
    );
    let desired = DesiredSecret {
        origins: Default::default(),
        basename: "my-default-directory".into(),
        ..dir_secret(ours)
    };
    let p = plan(&[Desired::Present(desired)], &[theirs], ME, false);
    assert_eq!(
        one(&p, "my-default-directory").action(),
        Action::Unchanged,
        "{:#?}",
        p.secrets[0].keys
    );
}

#[test]
fn plan_json_has_no_values() {
    let p = plan(
        &[want(
            "hf",
            SecretKind::Env,
            &[("TOKEN", "canary-plan-value")],
        )],
        &[live("hf", ME, "env", &[("TOKEN", "canary-old")])],
        ME,
        false,
    );
    let json = serde_json::to_string(&p).unwrap_or_default();
    assert!(!json.contains("canary"), "{json}");
    assert!(json.contains("\"changed\""), "{json}");
}

#[test]
fn a_merge_past_one_mebibyte_is_caught_by_the_plan() {
    let half = "x".repeat(600_000);
    let current = [live("big", ME, "env", &[("A", &half)])];
    let p = plan(
        &[want("big", SecretKind::Env, &[("B", &half)])],
        &current,
        ME,
        false,
    );
    let (s, size) = p.oversized().unwrap_or_else(|| panic!("not caught"));
    assert_eq!((s.name.as_str(), size), ("big", 1_200_000));
    // With --prune the old key goes, and the result fits.
    let p = plan(
        &[want("big", SecretKind::Env, &[("B", &half)])],
        &current,
        ME,
        true,
    );
    assert!(p.oversized().is_none());
}

#[path = "../../../tests/support/zip_bomb.rs"]
mod zip_bombs;

/// [`zip_bombs::zip_bomb`], as a value.
pub(crate) fn zip_bomb(copies: usize) -> SecretBytes {
    SecretBytes::new(zip_bombs::zip_bomb("bomb", copies))
}

fn tiny_entries(count: usize) -> SecretBytes {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..count {
        w.start_file(format!("t/{i}"), opts)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    SecretBytes::new(w.finish().unwrap_or_else(|e| panic!("{e}")).into_inner())
}

fn plan_against_live_zip(live_zip: SecretBytes) -> KeyChange {
    let ours = zip_of(&[("d/a", "1", 0o600)], 1);
    let mut current = live("creds", ME, "default", &[]);
    current.data.insert(PAYLOAD_ZIP_KEY.into(), live_zip);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let p = plan(&[Desired::Present(dir_secret(ours))], &[current], ME, false);
        let _ = tx.send(one(&p, "creds").keys.clone());
    });
    let keys = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .unwrap_or_else(|_| panic!("the plan did not finish"));
    keys.into_iter().next().unwrap_or_else(|| panic!("no key"))
}

#[test]
fn a_zip_bomb_in_the_cluster_is_compared_by_bytes() {
    // 100 MiB inflated, about 100 KiB as stored.
    let bomb = zip_bomb(100);
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    assert_eq!(read_zip(bomb.expose()), ZipRead::OverCap);
    let key = plan_against_live_zip(bomb);
    assert_eq!(key.change, Change::Changed);
    assert!(key.files.is_empty(), "{:?}", key.files);
    assert_eq!(key.note.as_deref(), Some(NOTE_ZIP_BY_BYTES));
    let json = serde_json::to_value(&key).unwrap_or_default();
    assert_eq!(json["note"], NOTE_ZIP_BY_BYTES);
    // Under the cap, the same shape is still compared by file.
    let small = zip_bomb(3);
    assert!(matches!(read_zip(small.expose()), ZipRead::Content(c) if c.len() == 3));
    let key = plan_against_live_zip(small);
    assert_eq!(key.note, None);
    assert_eq!(key.files.len(), 4, "{:?}", key.files);
}

#[test]
fn a_zip_with_too_many_entries_is_compared_by_bytes() {
    let many = tiny_entries(MAX_ZIP_ENTRIES + 1);
    assert_eq!(read_zip(many.expose()), ZipRead::OverCap);
    let key = plan_against_live_zip(many);
    assert_eq!(key.note.as_deref(), Some(NOTE_ZIP_BY_BYTES));
    assert!(key.files.is_empty());
    assert!(matches!(
        read_zip(tiny_entries(MAX_ZIP_ENTRIES).expose()),
        ZipRead::Content(c) if c.len() == MAX_ZIP_ENTRIES
    ));
}

/// One plan with every action, every delete reason, a relabel, a conflict
/// with and without an owner, and Konduktor's own secrets (a live kind
/// label this version does not know, and the SSH keys with none), kept
/// whatever --prune says: the JSON `diff -o json` and `apply -o json`
/// print, pinned.
pub(crate) fn every_action() -> Plan {
    let mut not_konduktor = live("taken", OTHER, "env", &[("K", "v")]);
    not_konduktor.name = format!("taken2-{ME}");
    not_konduktor.labels.clear();
    let mut unknown_kind = live("odd", ME, "env", &[("K", "v")]);
    unknown_kind
        .labels
        .insert(konduktor::LABEL_KIND.into(), "future-kind".into());
    let mut foreign = live("taken", OTHER, "env", &[("K", "v")]);
    foreign.name = format!("taken-{ME}");
    plan(
        &[
            want("new", SecretKind::Env, &[("A", "1")]),
            want("ssh", SecretKind::GitSsh, &[("gitkey", "k")]),
            want("same", SecretKind::Default, &[("f", "x")]),
            want("relabel", SecretKind::Default, &[("f", "x"), ("g", "y")]),
            Desired::Absent {
                basename: "gone".into(),
            },
            Desired::Absent {
                basename: "never".into(),
            },
            want("taken", SecretKind::Env, &[("K", "v")]),
            want("taken2", SecretKind::Env, &[("K", "v")]),
        ],
        &[
            live("same", ME, "default", &[("f", "x")]),
            live("relabel", ME, "env", &[("f", "old"), ("h", "z")]),
            live("gone", ME, "default", &[("f", "x")]),
            live("oldssh", ME, "git-ssh", &[("gitkey", "k")]),
            live("stale", ME, "default", &[("f", "x")]),
            unknown_kind,
            konduktor_made("konduktor-ssh-keys-abba3a3e", None, &[("PUBKEY", "p")]),
            foreign,
            not_konduktor,
        ],
        ME,
        true,
    )
}

/// One of Konduktor's own secrets as it writes them
/// (tests/fixtures/konduktor-made/internal-*.json): named by its basename
/// alone, with the caller's owner label, and the kind label given (`None`:
/// none, as the SSH keys).
pub(crate) fn konduktor_made(name: &str, kind: Option<&str>, data: &[(&str, &str)]) -> LiveSecret {
    let mut l = live(name, ME, "default", data);
    l.name = name.to_string();
    l.labels.remove(konduktor::LABEL_KIND);
    if let Some(kind) = kind {
        l.labels
            .insert(konduktor::LABEL_KIND.into(), kind.to_string());
    }
    l
}

/// The recorded three, and one of a kind a newer Konduktor might add.
fn konduktors_own() -> Vec<LiveSecret> {
    vec![
        konduktor_made(
            "awscredentials-root-1a2b",
            Some("S3"),
            &[("awscredentials", "zip")],
        ),
        konduktor_made(
            "gcpcredentials-root-1a2b",
            Some("GCS"),
            &[("gcpcredentials", "zip")],
        ),
        konduktor_made(
            "konduktor-ssh-keys-abba3a3e",
            None,
            &[("PUBKEY", "p"), ("PRIVKEY", "k")],
        ),
        konduktor_made("tpu-creds-abba3a3e", Some("TPU"), &[("K", "v")]),
    ]
}

#[test]
fn konduktors_own_secrets_are_kept_never_pruned_nor_replaced_as_git_ssh() {
    let mut live_secrets = konduktors_own();
    live_secrets.push(live("stale", ME, "env", &[("K", "v")]));
    live_secrets.push(live("oldssh", ME, "git-ssh", &[("gitkey", "k")]));
    let p = plan(
        &[want("newssh", SecretKind::GitSsh, &[("gitkey", "n")])],
        &live_secrets,
        ME,
        true,
    );
    // Only ours go: the user's stale secret and the replaced git-ssh one.
    let deleted: Vec<&str> = p
        .secrets
        .iter()
        .filter(|s| s.action() == Action::Delete)
        .map(|s| s.secret_name.as_str())
        .collect();
    assert_eq!(deleted, ["stale-abba3a3e", "oldssh-abba3a3e"], "{p:#?}");
    // Konduktor's own: no step at all, kept once each, with what they are.
    for own in konduktors_own() {
        assert!(
            p.secrets.iter().all(|s| s.secret_name != own.name),
            "{} planned: {p:#?}",
            own.name
        );
    }
    let kept: Vec<(&str, &str, &str)> = p
        .konduktor_own
        .iter()
        .map(|k| (k.secret_name.as_str(), k.what, k.description.as_str()))
        .collect();
    assert_eq!(
        kept,
        [
            (
                "awscredentials-root-1a2b",
                "storageCredentials",
                "storage credentials (S3), made by `konduktor check s3`"
            ),
            (
                "gcpcredentials-root-1a2b",
                "storageCredentials",
                "storage credentials (GCS), made by `konduktor check gs`"
            ),
            (
                "konduktor-ssh-keys-abba3a3e",
                "sshKeys",
                "SSH keys, made by `konduktor launch`"
            ),
            (
                "tpu-creds-abba3a3e",
                "otherKind",
                "a secret of kind `TPU`, which no manifest can declare"
            ),
        ]
    );
    assert!(p.unmanaged.is_empty(), "shown once: {:?}", p.unmanaged);
    let json = serde_json::to_value(&p).unwrap_or_default();
    assert_eq!(json["konduktorOwn"][2]["what"], "sshKeys");
    assert_eq!(json["konduktorOwn"][2]["kind"], serde_json::Value::Null);
    assert_eq!(json["konduktorOwn"][0]["kind"], "S3");
    // Without --prune too, and they count as the caller's (the hash is right).
    let p = plan(&[], &konduktors_own(), ME, false);
    assert_eq!(p.konduktor_own.len(), 4);
    assert!(p.secrets.is_empty() && !p.found_none_of_yours());
}

#[test]
fn a_manifest_entry_whose_object_is_konduktors_own_is_a_conflict_naming_both() {
    for d in [
        want(
            "konduktor-ssh-keys",
            SecretKind::Default,
            &[("PUBKEY", "mine")],
        ),
        want(
            "konduktor-ssh-keys",
            SecretKind::Env,
            &[("PRIVKEY", "mine")],
        ),
        Desired::Absent {
            basename: "konduktor-ssh-keys".into(),
        },
    ] {
        let p = plan(&[d], &konduktors_own(), ME, true);
        let s = one(&p, "konduktor-ssh-keys");
        assert_eq!(s.action(), Action::Conflict, "{s:#?}");
        assert!(s.blocks() && p.refuse_conflicts().is_err());
        assert!(!s.writes_object() && !p.has_deletions());
        let message = s.conflict_message().unwrap_or_default();
        for part in [
            "\"konduktor-ssh-keys\"",
            "konduktor-ssh-keys-abba3a3e",
            "Konduktor's own",
            "SSH keys",
        ] {
            assert!(message.contains(part), "{part} not in {message}");
        }
        // Shown once: as the conflict, not also as kept.
        assert!(
            p.konduktor_own
                .iter()
                .all(|k| k.secret_name != "konduktor-ssh-keys-abba3a3e")
        );
        let json = serde_json::to_value(&p).unwrap_or_default();
        assert_eq!(json["secrets"][0]["konduktorOwn"], "sshKeys");
    }
}

#[test]
fn a_planted_secret_with_our_owner_label_and_an_odd_kind_is_never_pruned_nor_merged() {
    // Generated kind labels (near misses of ours among them) on an object
    // with our owner label and our object name, with and without `parent`:
    // unless the label is exactly a manifest kind, the object is never
    // deleted, merged, created over or left unchanged-as-ours; it is kept
    // (or, when the manifest names it, a conflict), and shown exactly once.
    let near = [
        "",
        "S3",
        "GCS",
        "Default",
        "ENV",
        "env ",
        " env",
        "git_ssh",
        "gitssh",
        "git-ssh\n",
        "default.",
        "env-",
        "s3",
        "gcs",
    ];
    let alphabet: Vec<char> = "abcdefgenvsthiDS3-_. ".chars().collect();
    for seed in 1..=2000u64 {
        let mut rng = crate::test_rng::Rng(seed);
        let label: Option<String> = match rng.below(3) {
            0 => None,
            1 => Some(near[rng.index(near.len())].to_string()),
            _ => Some(
                (0..rng.below(9))
                    .map(|_| alphabet[rng.index(alphabet.len())])
                    .collect(),
            ),
        };
        let ours = label
            .as_deref()
            .is_some_and(|k| k.parse::<SecretKind>().is_ok());
        let mut l = live("x", ME, "env", &[("K", "v")]);
        l.labels.remove(konduktor::LABEL_KIND);
        if let Some(k) = &label {
            l.labels.insert(konduktor::LABEL_KIND.into(), k.clone());
        }
        if rng.below(2) == 0 {
            l.labels.remove(konduktor::LABEL_PARENT);
        }
        let desired = match rng.below(4) {
            0 => Vec::new(),
            1 => vec![want("x", SecretKind::Env, &[("K", "w")])],
            2 => vec![Desired::Absent {
                basename: "x".into(),
            }],
            _ => vec![want("y", SecretKind::GitSsh, &[("gitkey", "k")])],
        };
        let prune = rng.below(2) == 0;
        let p = plan(&desired, std::slice::from_ref(&l), ME, prune);
        if ours {
            continue;
        }
        let steps: Vec<Action> = p
            .secrets
            .iter()
            .filter(|s| s.secret_name == "x-abba3a3e")
            .map(SecretPlan::action)
            .collect();
        let kept = p
            .konduktor_own
            .iter()
            .filter(|k| k.secret_name == "x-abba3a3e")
            .count();
        let case = format!("seed {seed}, label {label:?}, prune {prune}: {p:#?}");
        assert!(steps.iter().all(|a| *a == Action::Conflict), "{case}");
        assert_eq!(steps.len() + kept, 1, "shown once: {case}");
        assert!(!p.has_deletions(), "{case}");
        assert!(p.unmanaged.is_empty(), "{case}");
    }
}

#[test]
fn plan_json_is_pinned_for_every_action() {
    let json = serde_json::to_string_pretty(&every_action()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json, include_str!("tests_every_action.json").trim_end());
}

#[test]
fn an_unknown_live_kind_is_kept_as_written_and_known_as_none() {
    let p = every_action();
    let odd = p
        .konduktor_own
        .iter()
        .find(|k| k.secret_name == "odd-abba3a3e")
        .unwrap_or_else(|| panic!("odd not kept: {p:#?}"));
    assert_eq!(odd.kind.as_deref(), Some("future-kind"));
    assert_eq!(odd.what, "otherKind");
    // A foreign secret of a kind this version does not know, in the way of
    // a manifest entry: its label shown as written, known as none.
    let mut theirs = live("there", OTHER, "env", &[("K", "v")]);
    theirs.name = format!("there-{ME}");
    theirs
        .labels
        .insert(konduktor::LABEL_KIND.into(), "future-kind".into());
    let q = plan(
        &[want("there", SecretKind::Env, &[("K", "v")])],
        &[theirs],
        ME,
        false,
    );
    let there = one(&q, "there");
    assert_eq!(there.kind, Some(KindLabel::Unknown("future-kind".into())));
    assert_eq!(there.known_kind(), None);
    let ssh = one(&p, "oldssh");
    assert_eq!(ssh.kind, Some(KindLabel::Known(SecretKind::GitSsh)));
    assert!(matches!(
        ssh.step,
        Step::Delete {
            reason: DeleteReason::ReplacedGitSsh,
            ..
        }
    ));
}

/// A live secret holding `data`, whose `applied` annotation records `applied`.
fn live_applied(data: &[(&str, &str)], applied: Option<&[(&str, &str)]>) -> LiveSecret {
    let mut l = live("my-env", ME, "env", data);
    if let Some(applied) = applied {
        let record: BTreeMap<String, String> = applied
            .iter()
            .map(|(k, v)| {
                let entry =
                    konduktor::applied_digest(&key(), &format!("my-env-{ME}"), k, v.as_bytes());
                (k.to_string(), entry)
            })
            .collect();
        l.annotations.insert(
            konduktor::ANNOTATION_APPLIED.to_string(),
            konduktor::applied_annotation(&record),
        );
    }
    l
}

fn origins(s: &SecretPlan) -> Vec<(&str, Option<Origin>)> {
    s.keys.iter().map(|k| (k.key.as_str(), k.origin)).collect()
}

#[test]
fn each_changed_key_says_where_the_change_came_from() {
    // Applied A=1 B=1 C=1 D=1. Since then: A changed in the sources, B in
    // the cluster, C on both sides, D untouched; E added in the sources; F
    // deleted from the cluster; G appeared in the cluster (kept).
    let l = live_applied(
        &[("A", "1"), ("B", "2"), ("C", "2"), ("D", "1"), ("G", "1")],
        Some(&[("A", "1"), ("B", "1"), ("C", "1"), ("D", "1"), ("F", "1")]),
    );
    let d = want(
        "my-env",
        SecretKind::Env,
        &[
            ("A", "2"),
            ("B", "1"),
            ("C", "3"),
            ("D", "1"),
            ("E", "1"),
            ("F", "1"),
        ],
    );
    let p = plan_k(&[d], &[l], false);
    assert_eq!(
        origins(one(&p, "my-env")),
        [
            ("A", Some(Origin::Sources)),
            ("B", Some(Origin::Cluster)),
            ("C", Some(Origin::Both)),
            ("D", None),
            ("E", Some(Origin::Sources)),
            ("F", Some(Origin::Cluster)),
            ("G", None),
        ]
    );
}

#[test]
fn a_pruned_key_says_which_side_it_left() {
    // H was applied and then taken out of the manifest; I appeared in the cluster.
    let l = live_applied(&[("H", "1"), ("I", "1")], Some(&[("H", "1")]));
    let d = want("my-env", SecretKind::Env, &[]);
    let p = plan_k(&[d], &[l], true);
    assert_eq!(
        origins(one(&p, "my-env")),
        [("H", Some(Origin::Sources)), ("I", Some(Origin::Cluster))]
    );
}

#[test]
fn without_a_record_the_origin_is_unknown_never_an_error() {
    for annotation in [None, Some(""), Some("not json"), Some(r#"{"A":"md5:1"}"#)] {
        let mut l = live_applied(&[("A", "1")], None);
        if let Some(a) = annotation {
            l.annotations
                .insert(konduktor::ANNOTATION_APPLIED.into(), a.into());
        }
        let d = want("my-env", SecretKind::Env, &[("A", "2"), ("B", "1")]);
        let p = plan_k(&[d], &[l], false);
        assert_eq!(
            origins(one(&p, "my-env")),
            [("A", Some(Origin::Unknown)), ("B", Some(Origin::Unknown))],
            "{annotation:?}"
        );
    }
}

#[test]
fn konduktors_kept_record_tells_its_own_merge_apart() {
    // Konduktor's CLI merged BAZ=qux into a secret we applied FOO=bar to,
    // and kept our record: FOO unchanged, BAZ appeared in the cluster.
    let obj = konduktor_fixture("my-env-annotated-merged-abba3a3e");
    let l = LiveSecret::from_object(obj);
    let d = want("my-env-ann", SecretKind::Env, &[("FOO", "baz")]);
    let p = plan(&[d], &[l], ME, true);
    assert_eq!(
        origins(one(&p, "my-env-ann")),
        [
            ("BAZ", Some(Origin::Cluster)),
            ("FOO", Some(Origin::Sources))
        ]
    );
}

pub(crate) fn konduktor_fixture(name: &str) -> k8s_openapi::api::core::v1::Secret {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/konduktor-made")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_write_records_what_the_secret_holds_of_the_manifest_afterwards() {
    // Applied A, K; the manifest now changes A, drops K (kept without
    // --prune: its record stays), adds B; R is pruned away below.
    let l = live_applied(&[("A", "1"), ("K", "1")], Some(&[("A", "1"), ("K", "1")]));
    let d = want("my-env", SecretKind::Env, &[("A", "2"), ("B", "1")]);
    let p = plan(
        std::slice::from_ref(&d),
        std::slice::from_ref(&l),
        ME,
        false,
    );
    let digest = |k: &str, v: &str| {
        konduktor::applied_digest(&key(), &format!("my-env-{ME}"), k, v.as_bytes())
    };
    assert_eq!(
        one(&p, "my-env").applied_after(Some(&key())),
        BTreeMap::from([
            ("A".to_string(), digest("A", "2")),
            ("B".to_string(), digest("B", "1")),
            ("K".to_string(), digest("K", "1")),
        ])
    );
    let pruned = plan(&[d], &[l], ME, true);
    assert_eq!(
        one(&pruned, "my-env").applied_after(Some(&key())),
        BTreeMap::from([
            ("A".to_string(), digest("A", "2")),
            ("B".to_string(), digest("B", "1"))
        ])
    );
    // Without a key, a write records nothing.
    assert_eq!(one(&pruned, "my-env").applied_after(None), BTreeMap::new());
}

#[test]
fn a_write_drops_the_entry_of_a_value_another_writer_changed() {
    // Applied PIN and KEEP; since then another writer rotated PIN. A
    // workstation with another key recorded OTHER. The manifest now sets
    // only B: PIN, KEEP and OTHER are kept, unwritten.
    let mut l = live_applied(
        &[("PIN", "000111"), ("KEEP", "1"), ("OTHER", "x")],
        Some(&[("PIN", "493817"), ("KEEP", "1")]),
    );
    let theirs = konduktor::applied_digest(
        &crate::konduktor::digest_key::test_key(3),
        &format!("my-env-{ME}"),
        "OTHER",
        b"x",
    );
    let mut record = l.applied().unwrap_or_default();
    record.insert("OTHER".into(), theirs.clone());
    l.annotations.insert(
        konduktor::ANNOTATION_APPLIED.to_string(),
        konduktor::applied_annotation(&record),
    );
    let d = want("my-env", SecretKind::Env, &[("B", "2")]);
    let p = plan_k(&[d], &[l], false);
    let after = one(&p, "my-env").applied_after(Some(&key()));
    let digest = |k: &str, v: &str| {
        konduktor::applied_digest(&key(), &format!("my-env-{ME}"), k, v.as_bytes())
    };
    assert_eq!(
        after,
        BTreeMap::from([
            ("B".to_string(), digest("B", "2")),
            // Still what was applied: it stands.
            ("KEEP".to_string(), digest("KEEP", "1")),
            // Another key's: this run cannot tell, and it reveals nothing.
            ("OTHER".to_string(), theirs),
        ])
    );
}

#[test]
fn an_unkeyed_entry_of_the_previous_version_is_checked_and_replaced() {
    // {"FOO":"sha256:fcde2b2e"} is FOO=bar, unkeyed; BAZ's entry no
    // longer matches what the cluster holds.
    let mut l = live_applied(&[("FOO", "bar"), ("BAZ", "qux")], None);
    l.annotations.insert(
        konduktor::ANNOTATION_APPLIED.to_string(),
        r#"{"BAZ":"sha256:00000000","FOO":"sha256:fcde2b2e"}"#.to_string(),
    );
    let d = want("my-env", SecretKind::Env, &[("FOO", "new")]);
    let p = plan_k(&[d], std::slice::from_ref(&l), false);
    assert_eq!(
        origins(one(&p, "my-env")),
        [("BAZ", None), ("FOO", Some(Origin::Sources))]
    );
    let after = one(&p, "my-env").applied_after(Some(&key()));
    let foo = konduktor::applied_digest(&key(), &format!("my-env-{ME}"), "FOO", b"new");
    assert_eq!(after, BTreeMap::from([("FOO".to_string(), foo)]));
    // Kept and still as applied: made anew, keyed.
    let d = want("my-env", SecretKind::Env, &[("X", "1")]);
    let p = plan_k(&[d], &[l], false);
    let after = one(&p, "my-env").applied_after(Some(&key()));
    assert_eq!(after.keys().collect::<Vec<_>>(), ["FOO", "X"]);
    assert!(
        after.values().all(|e| e.starts_with("hmac-sha256:")),
        "{after:?}"
    );
}

#[test]
fn without_the_key_a_keyed_record_tells_nothing() {
    let l = live_applied(&[("A", "1"), ("B", "2")], Some(&[("A", "1"), ("B", "1")]));
    let d = want("my-env", SecretKind::Env, &[("A", "2"), ("B", "1")]);
    let unknown = [("A", Some(Origin::Unknown)), ("B", Some(Origin::Unknown))];
    let p = plan(
        std::slice::from_ref(&d),
        std::slice::from_ref(&l),
        ME,
        false,
    );
    assert_eq!(origins(one(&p, "my-env")), unknown);
    let other = crate::konduktor::digest_key::test_key(3);
    let p = plan_with_key(&[d], &[l], ME, false, Some(&other));
    assert_eq!(origins(one(&p, "my-env")), unknown);
}

#[test]
fn plan_json_carries_the_origin() {
    let l = live_applied(&[("A", "1")], Some(&[("A", "1")]));
    let d = want("my-env", SecretKind::Env, &[("A", "2")]);
    let p = plan_k(&[d], &[l], false);
    let json = serde_json::to_value(&p).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(json["secrets"][0]["keys"][0]["origin"], "sources");
}

/// The annotations a write with [`keyed_meta`] leaves on `secret_name`
/// that records `values` as applied.
pub(crate) fn applied_annotations(
    secret_name: &str,
    values: &[(&str, &str)],
) -> BTreeMap<String, String> {
    let record = values
        .iter()
        .map(|(k, v)| {
            let entry = konduktor::applied_digest(&key(), secret_name, k, v.as_bytes());
            (k.to_string(), entry)
        })
        .collect();
    BTreeMap::from([(
        konduktor::ANNOTATION_APPLIED.to_string(),
        konduktor::applied_annotation(&record),
    )])
}

// Issue 14: one object, one action; only Opaque secrets are ours; a
// secret being deleted is waited on, never written or deleted again.

fn held(mut l: LiveSecret, finalizers: &[&str]) -> LiveSecret {
    l.terminating = Some(Terminating {
        since: None,
        finalizers: finalizers.iter().map(|f| f.to_string()).collect(),
    });
    l
}

fn typed(mut l: LiveSecret, secret_type: &str) -> LiveSecret {
    l.secret_type = Some(secret_type.to_string());
    l
}

/// Every object name the plan acts on, with how often.
fn actions_per_object(p: &Plan) -> BTreeMap<&str, usize> {
    let mut seen = BTreeMap::new();
    for s in &p.secrets {
        *seen.entry(s.secret_name.as_str()).or_insert(0) += 1;
    }
    seen
}

#[test]
fn no_object_gets_two_actions_whatever_its_labels_say() {
    // Live objects named as the manifest's secrets would be, or not, with
    // every basename label (right, another, another desired's, none),
    // kind label, owner, type and deletion state; the manifest wanting
    // each present, absent or not at all; with and without --prune.
    let basenames = ["a", "b", "c"];
    let label_choices = [Some("a"), Some("b"), Some("zz"), None];
    let kinds = [Some("env"), Some("git-ssh"), Some("weird"), None];
    let owners = [Some(ME), Some(OTHER), None];
    let types = ["Opaque", "kubernetes.io/tls"];
    let mut checked = 0usize;
    for (i, object_base) in ["a", "b", "orphan"].iter().enumerate() {
        for label in label_choices {
            for kind in kinds {
                for owner in owners {
                    for ty in types {
                        for terminating in [false, true] {
                            let mut l = live(object_base, ME, "env", &[("K", "v")]);
                            l.labels.clear();
                            l.labels.insert(
                                konduktor::LABEL_PARENT.into(),
                                konduktor::PARENT_VALUE.into(),
                            );
                            for (key, value) in [
                                (konduktor::LABEL_BASENAME, label),
                                (konduktor::LABEL_KIND, kind),
                                (konduktor::LABEL_OWNER, owner),
                            ] {
                                if let Some(v) = value {
                                    l.labels.insert(key.into(), v.into());
                                }
                            }
                            l = typed(l, ty);
                            if terminating {
                                l = held(l, &["example.com/hold"]);
                            }
                            // A second, well-labelled object of ours beside it.
                            let other = live(basenames[(i + 1) % 3], ME, "git-ssh", &[("K", "w")]);
                            let lives = vec![l, other];
                            for wants in 0..9u32 {
                                let desired: Vec<Desired> = basenames
                                    .iter()
                                    .take(2)
                                    .enumerate()
                                    .filter_map(|(j, b)| match (wants / 3u32.pow(j as u32)) % 3 {
                                        0 => None,
                                        1 => Some(want(b, SecretKind::GitSsh, &[("K", "x")])),
                                        _ => Some(Desired::Absent {
                                            basename: b.to_string(),
                                        }),
                                    })
                                    .collect();
                                for prune in [false, true] {
                                    let p = plan(&desired, &lives, ME, prune);
                                    for (object, n) in actions_per_object(&p) {
                                        assert_eq!(n, 1, "{object} planned {n} times: {p:#?}");
                                    }
                                    for s in &p.secrets {
                                        let live = lives.iter().find(|l| l.name == s.secret_name);
                                        let foreign = live
                                            .is_some_and(|l| !l.is_owned_by(ME) || !l.is_opaque());
                                        let being_deleted =
                                            live.is_some_and(|l| l.terminating.is_some());
                                        if foreign {
                                            assert_eq!(s.action(), Action::Conflict, "{s:#?}");
                                        } else if being_deleted {
                                            assert!(
                                                matches!(
                                                    s.action(),
                                                    Action::Conflict | Action::Terminating
                                                ),
                                                "{s:#?}"
                                            );
                                        }
                                    }
                                    checked += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    assert_eq!(checked, 3 * 4 * 4 * 3 * 2 * 2 * 9 * 2);
}

#[test]
fn our_object_under_another_basename_label_is_merged_and_relabelled_not_also_pruned() {
    let mut l = live("env-a", ME, "env", &[("K", "1")]);
    l.labels
        .insert(konduktor::LABEL_BASENAME.into(), "something-else".into());
    let p = plan(
        &[want("env-a", SecretKind::Env, &[("K", "1")])],
        &[l.clone()],
        ME,
        true,
    );
    assert_eq!(p.secrets.len(), 1, "{p:#?}");
    assert_eq!(one(&p, "env-a").action(), Action::Merge);
    assert!(!p.has_deletions());
    // No basename label at all: the same.
    l.labels.remove(konduktor::LABEL_BASENAME);
    let p = plan(
        &[want("env-a", SecretKind::Env, &[("K", "1")])],
        &[l],
        ME,
        true,
    );
    assert_eq!(p.secrets.len(), 1, "{p:#?}");
    assert_eq!(one(&p, "env-a").action(), Action::Merge);
}

#[test]
fn a_non_opaque_secret_with_our_labels_is_a_conflict_never_written_or_deleted() {
    let tls = typed(
        live("cert", ME, "default", &[("tls.crt", "c"), ("tls.key", "k")]),
        "kubernetes.io/tls",
    );
    // Named: a conflict that stops apply, naming the type.
    for d in [
        want("cert", SecretKind::Default, &[("K", "v")]),
        Desired::Absent {
            basename: "cert".into(),
        },
    ] {
        let p = plan(&[d], std::slice::from_ref(&tls), ME, true);
        let s = one(&p, "cert");
        assert_eq!(s.action(), Action::Conflict);
        assert!(s.blocks());
        let message = s.conflict_message().unwrap_or_default();
        assert!(
            message.contains("kubernetes.io/tls, not Opaque"),
            "{message}"
        );
        assert!(p.refuse_conflicts().is_err());
    }
    // Not named, with --prune: reported, never deleted, apply goes on.
    let p = plan(&[], std::slice::from_ref(&tls), ME, true);
    assert_eq!(one(&p, "cert").action(), Action::Conflict);
    assert!(!p.has_deletions() && p.refuse_conflicts().is_ok());
    assert!(p.unmanaged.is_empty());
}

#[test]
fn a_secret_being_deleted_is_never_merged_into_or_deleted_again() {
    let going = held(
        live("going", ME, "env", &[("K", "1")]),
        &["example.com/hold"],
    );
    // Wanted: not merged into; a conflict naming what holds it.
    let p = plan(
        &[want("going", SecretKind::Env, &[("K", "2")])],
        std::slice::from_ref(&going),
        ME,
        false,
    );
    let s = one(&p, "going");
    assert_eq!(s.action(), Action::Conflict);
    assert!(
        s.conflict_message()
            .unwrap_or_default()
            .contains("deletion pending on example.com/hold"),
        "{s:#?}"
    );
    assert!(!s.writes_object());
    // Absent, or pruned: waiting on deletion, not a new delete.
    for (desired, prune, reason) in [
        (
            vec![Desired::Absent {
                basename: "going".into(),
            }],
            false,
            Some(DeleteReason::Absent),
        ),
        (Vec::new(), true, Some(DeleteReason::Pruned)),
        (Vec::new(), false, None),
    ] {
        let p = plan(&desired, std::slice::from_ref(&going), ME, prune);
        let s = one(&p, "going");
        assert_eq!(s.action(), Action::Terminating, "{s:#?}");
        assert_eq!(s.reason(), reason);
        assert!(!p.has_deletions());
        assert_eq!(p.summary.delete, 0);
        assert_eq!(p.awaits_deletion(), reason.is_some());
        let json = serde_json::to_value(&p).unwrap_or_default();
        assert_eq!(json["secrets"][0]["action"], "terminating");
        assert_eq!(
            json["secrets"][0]["finalizers"],
            serde_json::json!(["example.com/hold"])
        );
    }
}
