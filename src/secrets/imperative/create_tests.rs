use super::*;
use crate::secrets::plan::tests::{
    ME, applied_annotations, desired_secret as desired, keyed_meta, live,
};
use crate::secrets::store::fake::{Call, FakeStore};

const CANARY: &str = "canary-5b2e0d";

fn obj(name: &str) -> String {
    format!("{name}-{ME}")
}

async fn ok(store: &FakeStore, d: &DesiredSecret) -> CreateReport {
    create_or_merge(store, d, ME, &keyed_meta())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_new_secret_is_created() {
    let store = FakeStore::new(Vec::new());
    let d = desired("hf", SecretKind::Env, &[("B", CANARY), ("A", "1")]);
    let report = ok(&store, &d).await;
    assert_eq!(
        store.calls(),
        [Call::Get(obj("hf")), Call::Create(obj("hf"))]
    );
    assert_eq!(
        report.render(),
        format!(
            "secret \"hf\" created ({}, kind env, keys: A, B)\n",
            obj("hf")
        )
    );
}

#[tokio::test]
async fn an_existing_secret_of_ours_is_merged_on_its_resource_version() {
    let store = FakeStore::new(vec![live(
        "hf",
        ME,
        "default",
        &[("A", "old"), ("K", "keep"), ("S", "same")],
    )])
    .failing_create(&obj("hf"), ErrorKind::Conflict);
    let d = desired(
        "hf",
        SecretKind::Env,
        &[("A", "new"), ("N", "n"), ("S", "same")],
    );
    let report = ok(&store, &d).await;
    assert_eq!(
        store.calls(),
        [
            Call::Get(obj("hf")),
            Call::Merge {
                name: obj("hf"),
                resource_version: "7".into(),
                keys: vec![("A".into(), true), ("N".into(), true)],
                labels: konduktor::labels("hf", SecretKind::Env, ME),
                annotations: applied_annotations(
                    &obj("hf"),
                    &[("A", "new"), ("N", "n"), ("S", "same")]
                ),
            }
        ]
    );
    assert_eq!(
        report.render(),
        format!(
            "secret \"hf\" merged into {} (added: N; updated: A; kept: K; kind now env)\n",
            obj("hf")
        )
    );
}

#[tokio::test]
async fn the_same_content_again_is_unchanged_and_not_written() {
    let store = FakeStore::new(vec![live("hf", ME, "env", &[("A", "1")])])
        .failing_create(&obj("hf"), ErrorKind::Conflict);
    let report = ok(&store, &desired("hf", SecretKind::Env, &[("A", "1")])).await;
    assert_eq!(report.written, Written::Unchanged);
    assert_eq!(
        store.calls(),
        [Call::Get(obj("hf"))],
        "get, no create, no merge"
    );
    assert_eq!(
        report.render(),
        format!("secret \"hf\" unchanged ({})\n", obj("hf"))
    );
}

#[tokio::test]
async fn someone_elses_secret_is_never_merged_into() {
    let mut theirs = live("hf", "8417fdac", "env", &[("A", "1")]);
    theirs.name = obj("hf");
    let store = FakeStore::new(vec![theirs]).failing_create(&obj("hf"), ErrorKind::Conflict);
    let err = create_or_merge(
        &store,
        &desired("hf", SecretKind::Env, &[("A", "2")]),
        ME,
        &WriteMeta::default(),
    )
    .await
    .err()
    .unwrap_or_else(|| panic!("merged into someone else's secret"));
    assert_eq!(err.kind, ErrorKind::Foreign);
    assert!(
        err.message()
            .contains("namespace fake-ns and is owned by 8417fdac"),
        "{err}"
    );
    assert!(
        !store
            .calls()
            .iter()
            .any(|c| matches!(c, Call::Merge { .. }))
    );
}

#[tokio::test]
async fn a_secret_deleted_between_create_and_get_asks_to_run_again() {
    let store = FakeStore::new(Vec::new()).failing_create(&obj("hf"), ErrorKind::Conflict);
    let err = create_or_merge(
        &store,
        &desired("hf", SecretKind::Env, &[("A", "2")]),
        ME,
        &WriteMeta::default(),
    )
    .await
    .err()
    .unwrap_or_else(|| panic!("no error"));
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert!(
        err.message().contains("changed while it was being written"),
        "{err}"
    );
}

#[tokio::test]
async fn a_new_git_ssh_secret_replaces_the_previous_one_once_written() {
    let store = FakeStore::new(vec![
        live("old-ssh", ME, "git-ssh", &[("gitkey", "k1")]),
        live("other", ME, "env", &[("A", "1")]),
    ]);
    let d = desired("new-ssh", SecretKind::GitSsh, &[("gitkey", "k2")]);
    let report = ok(&store, &d).await;
    let calls = store.calls();
    assert!(matches!(calls.first(), Some(Call::List(Some(sel))) if sel.contains("git-ssh")));
    assert_eq!(
        calls.get(1..),
        Some(
            &[
                Call::Get(obj("new-ssh")),
                Call::Create(obj("new-ssh")),
                Call::Delete {
                    name: obj("old-ssh"),
                    uid: Some("uid-old-ssh".into()),
                    resource_version: Some("7".into()),
                }
            ][..]
        )
    );
    assert!(
        report.render().ends_with(&format!(
            "removed the previous git-ssh secret \"old-ssh\" ({})\n",
            obj("old-ssh")
        )),
        "{}",
        report.render()
    );
}

/// Issue 21 point 7: a previous git-ssh secret a finalizer holds is
/// deleted but not gone: the report says it stays, and names the
/// finalizers, instead of calling it removed.
#[tokio::test]
async fn a_previous_git_ssh_secret_a_finalizer_holds_is_not_reported_removed() {
    let mut store = FakeStore::new(vec![live("old-ssh", ME, "git-ssh", &[("gitkey", "k1")])]);
    store
        .held
        .insert(obj("old-ssh"), vec!["example.com/keep".to_string()]);
    let d = desired("new-ssh", SecretKind::GitSsh, &[("gitkey", "k2")]);
    let report = ok(&store, &d).await;
    let shown = report.render();
    assert!(!shown.contains("removed the previous"), "{shown}");
    assert!(
        shown.ends_with(&format!(
            "deleting the previous git-ssh secret \"old-ssh\" ({}): it stays until its finalizers are removed (example.com/keep)\n",
            obj("old-ssh")
        )),
        "{shown}"
    );
    assert_eq!(
        report.removed.first().and_then(|r| r.held_by.clone()),
        Some(vec!["example.com/keep".to_string()])
    );
}

#[tokio::test]
async fn a_previous_git_ssh_secret_that_cannot_go_is_reported_after_the_write() {
    let store = FakeStore::new(vec![live("old-ssh", ME, "git-ssh", &[("gitkey", "k1")])])
        .failing(&obj("old-ssh"), ErrorKind::Forbidden);
    let report = ok(
        &store,
        &desired("new-ssh", SecretKind::GitSsh, &[("gitkey", "k2")]),
    )
    .await;
    assert_eq!(report.written, Written::Created);
    assert!(report.removed.is_empty());
    let err = report
        .removal_failed
        .unwrap_or_else(|| panic!("the failed removal was not reported"));
    assert_eq!(err.kind, ErrorKind::Forbidden);
    assert!(
        err.message()
            .starts_with("the new git-ssh secret is in place, but the previous one")
    );
}

#[test]
fn the_dry_run_preview_shows_sizes_never_values() {
    let d = desired("hf", SecretKind::Env, &[("TOKEN", CANARY)]);
    let preview = dry_run_preview(&d, ME, &WriteMeta::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(!preview.contains(CANARY), "{preview}");
    assert!(preview.contains("<redacted, 13 bytes>"), "{preview}");
    assert!(preview.starts_with("# Client-side dry run"), "{preview}");
}

/// A server that ignores the selector: only the caller's own git-ssh
/// secrets are previous ones; another user's, or one of mine of another
/// kind, is never deleted.
#[tokio::test]
async fn only_my_git_ssh_secrets_are_replaced_whatever_the_list_returns() {
    let mut theirs = live("their-ssh", "deadbeef", "git-ssh", &[("gitkey", "k0")]);
    theirs.name = "their-ssh-deadbeef".into();
    let store = FakeStore::new(vec![
        live("old-ssh", ME, "git-ssh", &[("gitkey", "k1")]),
        live("other", ME, "env", &[("A", "1")]),
        theirs,
    ])
    .ignoring_selectors();
    let d = desired("new-ssh", SecretKind::GitSsh, &[("gitkey", "k2")]);
    ok(&store, &d).await;
    let deleted: Vec<String> = store
        .calls()
        .into_iter()
        .filter_map(|c| match c {
            Call::Delete { name, .. } => Some(name),
            _ => None,
        })
        .collect();
    assert_eq!(deleted, vec![obj("old-ssh")]);
}

#[tokio::test]
async fn konduktors_own_secret_is_never_merged_into_and_the_refusal_names_both() {
    use crate::secrets::plan::tests::konduktor_made;
    // `secret create konduktor-ssh-keys` names the object Konduktor's SSH
    // keys live in (tests/fixtures/konduktor-made/internal-*.json); and a
    // planted object with our owner label and a kind no manifest declares.
    let mut planted = live("odd", ME, "env", &[("K", "v")]);
    planted
        .labels
        .insert(crate::konduktor::LABEL_KIND.into(), "S3".into());
    for (name, live_secret, what) in [
        (
            "konduktor-ssh-keys",
            konduktor_made("konduktor-ssh-keys-abba3a3e", None, &[("PUBKEY", "p")]),
            "SSH keys",
        ),
        ("odd", planted.clone(), "storage credentials (S3)"),
    ] {
        for kind in SecretKind::ALL {
            let key = if kind == SecretKind::GitSsh {
                "gitkey"
            } else {
                "PUBKEY"
            };
            let store = FakeStore::new(vec![live_secret.clone()]);
            let err = create_or_merge(
                &store,
                &desired(name, kind, &[(key, CANARY)]),
                ME,
                &WriteMeta::default(),
            )
            .await
            .err()
            .unwrap_or_else(|| panic!("wrote into Konduktor's own {name}"));
            assert_eq!(err.kind, ErrorKind::Foreign);
            let message = err.message();
            for part in [
                format!("\"{name}\""),
                live_secret.name.clone(),
                "Konduktor's own".to_string(),
                what.to_string(),
            ] {
                assert!(message.contains(&part), "{part} not in {message}");
            }
            assert!(!message.contains(CANARY));
            assert!(
                store
                    .calls()
                    .iter()
                    .all(|c| matches!(c, Call::List(_) | Call::Get(_))),
                "{:?}",
                store.calls()
            );
        }
    }
}
