use super::*;
use crate::konduktor::identity::HashSource;
use crate::secrets::plan::tests::{ME, live};
use crate::secrets::store::fake::{Call, FakeStore};

fn me() -> Owner {
    Owner {
        hash: ME.into(),
        source: HashSource::TestOverride,
        username: "alice".into(),
    }
}

#[tokio::test]
async fn only_my_secret_goes_on_its_uid_and_resource_version() {
    let mut theirs = live("hf", "8417fdac", "env", &[("A", "1")]);
    theirs.name = "hf-8417fdac".into();
    let store = FakeStore::new(vec![live("hf", ME, "env", &[("A", "1")]), theirs]);
    let report = delete_mine(&store, "hf", &me())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        store.calls().last(),
        Some(&Call::Delete {
            name: format!("hf-{ME}"),
            uid: Some("uid-hf".into()),
            resource_version: Some("7".into()),
        })
    );
    assert_eq!(store.calls().iter().filter(|c| c.is_delete()).count(), 1);
    assert_eq!(
        report.render(),
        format!("secret \"hf\" deleted (hf-{ME})\n")
    );
}

#[tokio::test]
async fn someone_elses_name_is_not_found_and_says_so() {
    let mut theirs = live("hf", "8417fdac", "env", &[("A", "1")]);
    theirs.name = "hf-8417fdac".into();
    let store = FakeStore::new(vec![theirs]);
    let err = delete_mine(&store, "hf", &me())
        .await
        .err()
        .unwrap_or_else(|| panic!("deleted someone else's secret"));
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(
        err.message().contains(
            "you own no secret named \"hf\" in namespace fake-ns (owner abba3a3e, user alice)"
        ),
        "{err}"
    );
    assert!(
        format!("{err:?}").contains("1 other user has a secret with that name"),
        "{err:?}"
    );
    assert!(!store.calls().iter().any(Call::is_delete));
}

#[tokio::test]
async fn a_failed_delete_is_reported() {
    let store = FakeStore::new(vec![live("hf", ME, "env", &[("A", "1")])])
        .failing(&format!("hf-{ME}"), ErrorKind::Conflict);
    let report = delete_mine(&store, "hf", &me())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.deleted.is_empty());
    assert_eq!(report.failed.map(|e| e.kind), Some(ErrorKind::Conflict));
}

#[tokio::test]
async fn a_held_delete_is_pending_and_one_already_going_is_not_deleted_again() {
    let mut store = FakeStore::new(vec![live("hf", ME, "env", &[("A", "1")])]);
    store
        .held
        .insert(format!("hf-{ME}"), vec!["example.com/hold".into()]);
    let report = delete_mine(&store, "hf", &me())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(report.deleted.is_empty());
    assert_eq!(
        report.render(),
        format!("secret \"hf\" not yet deleted (hf-{ME}): deletion pending on example.com/hold\n")
    );
    // Already Terminating: waited on, no second DELETE.
    let mut going = live("hf", ME, "env", &[("A", "1")]);
    going.terminating = Some(crate::konduktor::Terminating {
        since: None,
        finalizers: vec!["example.com/hold".into()],
    });
    let store = FakeStore::new(vec![going]);
    let report = delete_mine(&store, "hf", &me())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(report.pending.len(), 1);
    assert!(!store.calls().iter().any(Call::is_delete));
}

#[tokio::test]
async fn a_non_opaque_secret_with_my_labels_is_refused_never_deleted() {
    let mut tls = live("hf", ME, "env", &[("tls.crt", "c"), ("tls.key", "k")]);
    tls.secret_type = Some("kubernetes.io/tls".into());
    let store = FakeStore::new(vec![tls]);
    let report = delete_mine(&store, "hf", &me())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let err = report.refusal().unwrap_or_else(|| panic!("not refused"));
    assert_eq!(err.kind, ErrorKind::Foreign);
    assert!(err.message().contains("type kubernetes.io/tls"), "{err}");
    assert!(!store.calls().iter().any(Call::is_delete));
}

/// A server that ignores the selector answers every secret: only the
/// object named `<NAME>-<hash>` with our owner and basename labels is ours.
#[tokio::test]
async fn what_a_list_returns_is_checked_never_trusted() {
    let mut theirs = live("hf", "deadbeef", "env", &[("A", "1")]);
    theirs.name = "hf-deadbeef".into();
    let mut misnamed = live("hf", ME, "env", &[("A", "1")]);
    misnamed.name = "hf-elsewhere".into();
    let store = FakeStore::new(vec![
        live("hf-token", ME, "env", &[("A", "1")]),
        theirs,
        misnamed,
        live("hf", ME, "env", &[("A", "1")]),
    ])
    .ignoring_selectors();
    let report = delete_mine(&store, "hf", &me())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let deletes: Vec<Call> = store.calls().into_iter().filter(Call::is_delete).collect();
    assert_eq!(
        deletes,
        vec![Call::Delete {
            name: format!("hf-{ME}"),
            uid: Some("uid-hf".into()),
            resource_version: Some("7".into()),
        }]
    );
    assert_eq!(report.deleted, vec![format!("hf-{ME}")]);

    // Nothing of ours at all: not found, nothing deleted.
    let mut theirs = live("held", "deadbeef", "env", &[("A", "1")]);
    theirs.name = "held-deadbeef".into();
    let store = FakeStore::new(vec![theirs, live("hf-token", ME, "env", &[("A", "1")])])
        .ignoring_selectors();
    let err = delete_mine(&store, "held", &me())
        .await
        .err()
        .unwrap_or_else(|| panic!("deleted what the list should not have held"));
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert!(
        format!("{err:?}").contains("1 other user has a secret with that name"),
        "{err:?}"
    );
    assert!(!store.calls().iter().any(Call::is_delete));
}

#[tokio::test]
async fn konduktors_own_goes_by_its_name_once_what_it_is_is_said() {
    use crate::secrets::plan::tests::konduktor_made;
    // As recorded: named by the basename alone (no `-<hash>` suffix).
    let aws = konduktor_made(
        "awscredentials-root-1a2b",
        Some("S3"),
        &[("awscredentials", "zip")],
    );
    let keys = konduktor_made("konduktor-ssh-keys-abba3a3e", None, &[("PUBKEY", "p")]);
    let store = FakeStore::new(vec![aws, keys, live("hf", ME, "env", &[("A", "1")])]);
    let found = find_mine(&store, "awscredentials-root-1a2b", &me())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        found.notes(),
        [
            "secret \"awscredentials-root-1a2b\" (awscredentials-root-1a2b) is Konduktor's own: storage credentials (S3), made by `konduktor check s3`; deleting it by name, as asked; `konduktor check s3` writes it again when it needs it"
        ]
    );
    assert!(!store.calls().iter().any(Call::is_delete), "said first");
    let report = delete_found(&store, found).await;
    assert_eq!(report.deleted, ["awscredentials-root-1a2b"]);
    let found = find_mine(&store, "konduktor-ssh-keys-abba3a3e", &me())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(found.notes()[0].contains("SSH keys, made by `konduktor launch`"));
    // A user's secret needs no word.
    let found = find_mine(&store, "hf", &me())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(found.notes().is_empty());
}

#[tokio::test]
async fn an_object_named_by_its_basename_alone_is_mine_only_if_konduktors_own() {
    // A user-kind secret with the basename as its whole object name was not
    // written under that name by anyone for us: not found, never deleted.
    let mut odd = live("hf", ME, "env", &[("A", "1")]);
    odd.name = "hf".into();
    let mut theirs = crate::secrets::plan::tests::konduktor_made(
        "awscredentials-bob-3f50",
        Some("S3"),
        &[("awscredentials", "zip")],
    );
    theirs
        .labels
        .insert(crate::konduktor::LABEL_OWNER.into(), "8417fdac".into());
    let store = FakeStore::new(vec![odd, theirs]);
    for name in ["hf", "awscredentials-bob-3f50"] {
        let err = delete_mine(&store, name, &me())
            .await
            .err()
            .unwrap_or_else(|| panic!("{name} deleted"));
        assert_eq!(err.kind, ErrorKind::NotFound);
    }
    assert!(!store.calls().iter().any(Call::is_delete));
}

/// One `secret delete NAME` deletes one object: with the caller's
/// `foo-<hash>` and Konduktor's own `foo` (both basename foo), the whole
/// object name is the better match; the other stays, and is said to.
#[tokio::test]
async fn one_name_deletes_one_object_and_says_which_stays() {
    let mut s3 = crate::secrets::plan::tests::konduktor_made("foo", Some("S3"), &[("k", "z")]);
    s3.labels
        .insert(crate::konduktor::LABEL_BASENAME.into(), "foo".into());
    let store = FakeStore::new(vec![live("foo", ME, "default", &[("A", "1")]), s3]);
    let found = find_mine(&store, "foo", &me())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let note = found.kept_note().unwrap_or_default();
    assert!(
        note.contains(&format!(
            "your secret \"foo\" (foo-{ME}) also answers to \"foo\" and is kept"
        )),
        "{note}"
    );
    assert_eq!(found.notes().len(), 1, "{:?}", found.notes());
    let report = delete_found(&store, found).await;
    assert_eq!(report.deleted, ["foo"]);
    assert_eq!(store.calls().iter().filter(|c| c.is_delete()).count(), 1);
    // Once it is gone, the same name finds the caller's own secret, alone.
    let store = FakeStore::new(vec![live("foo", ME, "default", &[("A", "1")])]);
    let found = find_mine(&store, "foo", &me())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(found.kept_note().is_none());
    assert_eq!(
        delete_found(&store, found).await.deleted,
        [format!("foo-{ME}")]
    );
}

/// `secret list` says Konduktor's own go only by `secret delete` with their
/// whole name: true even when the object has no basename label.
#[tokio::test]
async fn konduktors_own_without_a_basename_label_goes_by_its_whole_name() {
    let mut keys = crate::secrets::plan::tests::konduktor_made(
        "konduktor-ssh-keys-abba3a3e",
        None,
        &[("P", "p")],
    );
    keys.labels.remove(crate::konduktor::LABEL_BASENAME);
    let mut s3 = crate::secrets::plan::tests::konduktor_made("creds-x", Some("S3"), &[("k", "z")]);
    s3.labels
        .insert(crate::konduktor::LABEL_BASENAME.into(), "other".into());
    let store = FakeStore::new(vec![keys, s3]);
    for name in ["konduktor-ssh-keys-abba3a3e", "creds-x"] {
        let found = find_mine(&store, name, &me())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(delete_found(&store, found).await.deleted, [name]);
    }
}

#[test]
fn the_help_about_other_users_agrees_with_every_count() {
    use crate::output::tests::{counts, says_count};
    for n in counts() {
        let others = others_help(n);
        says_count(&others, n, "other user", "other users");
        let agrees = if n == 1 { "user has" } else { "users have" };
        assert!(others.contains(agrees), "{others}");
    }
}
