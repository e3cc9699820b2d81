use super::*;
use crate::konduktor::SecretKind;
use crate::secrets::execute::view::render_outcomes;
use crate::secrets::manifest::Desired;
use crate::secrets::plan::plan;
use crate::secrets::plan::tests::{ME, applied_annotations, keyed_meta, live, want};
use crate::secrets::store::fake::{Call, FakeStore};

fn obj(name: &str) -> String {
    format!("{name}-{ME}")
}

async fn execute(
    store: &FakeStore,
    p: &Plan,
    meta: &WriteMeta,
    progress: &Progress,
) -> Vec<Outcome> {
    execute_with(store, p, meta, progress, PARALLELISM)
        .await
        .outcomes
}

async fn run(store: &FakeStore, p: &Plan) -> Vec<Outcome> {
    execute(store, p, &keyed_meta(), &Progress::default()).await
}

/// A create, a merge and two deletes, the deletes listed between the writes.
fn mixed() -> (Plan, Vec<crate::konduktor::LiveSecret>) {
    let existing = vec![
        live(
            "merged",
            ME,
            "env",
            &[("A", "old"), ("GONE", "x"), ("SAME", "s")],
        ),
        live("absent", ME, "default", &[("f", "x")]),
        live("stale", ME, "default", &[("f", "x")]),
    ];
    let desired = [
        want(
            "merged",
            SecretKind::Default,
            &[("A", "new"), ("SAME", "s")],
        ),
        Desired::Absent {
            basename: "absent".into(),
        },
        want("created", SecretKind::Env, &[("K", "v")]),
    ];
    (plan(&desired, &existing, ME, true), existing)
}

fn statuses(outcomes: &[Outcome]) -> Vec<(&str, Action, &Status)> {
    outcomes
        .iter()
        .map(|o| (o.name.as_str(), o.action, &o.status))
        .collect()
}

#[tokio::test]
async fn writes_go_first_then_deletes_and_outcomes_follow_the_plan() {
    let (p, existing) = mixed();
    let store = FakeStore::new(existing);
    let outcomes = run(&store, &p).await;
    let calls = store.calls();
    let first_delete = calls.iter().position(Call::is_delete);
    let last_write = calls.iter().rposition(|c| !c.is_delete());
    assert!(
        matches!((first_delete, last_write), (Some(d), Some(w)) if w < d),
        "{calls:#?}"
    );
    assert_eq!(calls.len(), 4, "{calls:#?}");
    assert_eq!(
        statuses(&outcomes),
        [
            ("merged", Action::Merge, &Status::Done),
            ("absent", Action::Delete, &Status::Done),
            ("created", Action::Create, &Status::Done),
            ("stale", Action::Delete, &Status::Done),
        ]
    );
}

#[tokio::test]
async fn every_write_is_conditional_on_what_the_plan_saw() {
    let (p, existing) = mixed();
    let store = FakeStore::new(existing);
    run(&store, &p).await;
    let calls = store.calls();
    let merge = calls
        .iter()
        .find(|c| matches!(c, Call::Merge { .. }))
        .unwrap_or_else(|| panic!("no merge: {calls:#?}"));
    assert_eq!(
        merge,
        &Call::Merge {
            name: obj("merged"),
            resource_version: "7".into(),
            // Changed key sent, key not in the manifest removed (prune),
            // unchanged key not sent.
            keys: vec![("A".into(), true), ("GONE".into(), false)],
            labels: konduktor::labels("merged", SecretKind::Default, ME),
            // What the object holds of the manifest afterwards.
            annotations: applied_annotations(&obj("merged"), &[("A", "new"), ("SAME", "s")]),
        }
    );
    for name in ["absent", "stale"] {
        assert!(
            calls.contains(&Call::Delete {
                name: obj(name),
                uid: Some(format!("uid-{name}")),
                resource_version: Some("7".into()),
            }),
            "{name}: {calls:#?}"
        );
    }
    assert!(calls.contains(&Call::Create(obj("created"))), "{calls:#?}");
}

#[tokio::test]
async fn a_failed_write_fails_alone_and_is_reported() {
    let (p, existing) = mixed();
    let store = FakeStore::new(existing)
        .failing(&obj("merged"), ErrorKind::Conflict)
        .failing(&obj("stale"), ErrorKind::Server);
    let outcomes = run(&store, &p).await;
    let writes = store
        .calls()
        .into_iter()
        .filter(|c| !matches!(c, Call::Get(_)))
        .count();
    assert_eq!(writes, 4, "the others are still attempted");
    // The conflicted merge read the object again, to see whether it
    // already held what was meant (it did not).
    assert!(store.calls().contains(&Call::Get(obj("merged"))));
    let failed: Vec<(&str, &str)> = outcomes
        .iter()
        .filter_map(|o| match &o.status {
            Status::Failed { message, .. } => Some((o.name.as_str(), message.as_str())),
            _ => None,
        })
        .collect();
    let merged = format!(
        "the fake refused {}; it changed since the plan was made: run apply again",
        obj("merged")
    );
    let stale = format!("the fake refused {}", obj("stale"));
    assert_eq!(
        failed,
        [("merged", merged.as_str()), ("stale", stale.as_str())]
    );
    let text = render_outcomes(&outcomes);
    assert!(
        text.ends_with(
            "Apply incomplete: 2 done, 2 failed, 0 not attempted. Run apply again to converge.\n"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn the_old_git_ssh_secret_stays_when_the_new_one_was_not_written() {
    let p = plan(
        &[want("new-ssh", SecretKind::GitSsh, &[("gitkey", "k2")])],
        &[live("old-ssh", ME, "git-ssh", &[("gitkey", "k1")])],
        ME,
        false,
    );
    let store = FakeStore::new(Vec::new()).failing(&obj("new-ssh"), ErrorKind::Server);
    let outcomes = run(&store, &p).await;
    assert!(
        !store.calls().iter().any(Call::is_delete),
        "{:#?}",
        store.calls()
    );
    assert_eq!(
        outcomes.get(1).map(|o| (o.name.as_str(), &o.status)),
        Some((
            "old-ssh",
            &Status::Skipped {
                message: "kept because the new git-ssh secret was not written".into()
            }
        ))
    );
    assert_eq!(
        render_outcomes(&outcomes),
        format!(
            "secret \"new-ssh\" NOT created: the fake refused {}\n\
             secret \"old-ssh\" not deleted: kept because the new git-ssh secret was not written\n\
             Apply incomplete: 0 done, 1 failed, 1 not attempted. Run apply again to converge.\n",
            obj("new-ssh")
        )
    );

    // Once written, the old one goes, after it.
    let store = FakeStore::new(Vec::new());
    run(&store, &p).await;
    assert_eq!(
        store.calls(),
        [
            Call::Create(obj("new-ssh")),
            Call::Delete {
                name: obj("old-ssh"),
                uid: Some("uid-old-ssh".into()),
                resource_version: Some("7".into()),
            }
        ]
    );
}

#[tokio::test]
async fn a_secret_already_gone_counts_as_deleted() {
    let (p, existing) = mixed();
    let store = FakeStore::new(existing).failing(&obj("stale"), ErrorKind::NotFound);
    let outcomes = run(&store, &p).await;
    assert!(
        outcomes.iter().all(|o| o.status == Status::Done),
        "{outcomes:#?}"
    );
}

#[tokio::test]
async fn a_create_that_finds_the_name_taken_says_by_whom() {
    let p = plan(
        &[
            want("theirs", SecretKind::Env, &[("K", "v")]),
            want("raced", SecretKind::Env, &[("K", "v")]),
        ],
        &[],
        ME,
        false,
    );
    let mut theirs = live("theirs", "8417fdac", "env", &[("K", "x")]);
    theirs.name = obj("theirs");
    let store = FakeStore::new(vec![theirs, live("raced", ME, "env", &[("K", "x")])])
        .failing(&obj("theirs"), ErrorKind::Conflict)
        .failing(&obj("raced"), ErrorKind::Conflict);
    let outcomes = run(&store, &p).await;
    let messages: Vec<&Status> = outcomes.iter().map(|o| &o.status).collect();
    assert_eq!(
        messages,
        [
            &Status::Failed {
                message: format!(
                    "conflict: a Secret named {} exists and is not yours; it was not touched",
                    obj("theirs")
                ),
                class: crate::cluster::FailureClass::Foreign,
                help: None,
            },
            &Status::Failed {
                message: format!(
                    "{} was created by someone else since the plan was made; run apply again",
                    obj("raced")
                ),
                class: crate::cluster::FailureClass::Conflict,
                help: None,
            },
        ]
    );
    assert!(store.calls().contains(&Call::Get(obj("theirs"))));
}

#[tokio::test]
async fn at_most_parallelism_requests_run_at_once() {
    let names: Vec<String> = (0..PARALLELISM * 3).map(|i| format!("s{i}")).collect();
    let desired: Vec<Desired> = names
        .iter()
        .map(|n| want(n, SecretKind::Env, &[("K", "v")]))
        .collect();
    let p = plan(&desired, &[], ME, false);
    let store = FakeStore::new(Vec::new());
    let progress = Progress::default();
    let outcomes = execute(&store, &p, &WriteMeta::default(), &progress).await;
    assert_eq!(outcomes.len(), names.len());
    assert_eq!(
        progress.done.load(std::sync::atomic::Ordering::SeqCst),
        steps(&p)
    );
    assert_eq!(store.max_in_flight(), PARALLELISM, "never more, and used");
}

#[tokio::test]
async fn nothing_is_sent_for_unchanged_absent_or_conflicting_secrets() {
    let p = crate::secrets::plan::tests::every_action();
    let store = FakeStore::new(Vec::new());
    let outcomes = run(&store, &p).await;
    let touched: Vec<&str> = outcomes.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        touched,
        ["new", "ssh", "relabel", "gone", "oldssh", "stale"]
    );
    assert_eq!(store.calls().len(), steps(&p));
}

/// Who wrote it, and the configuration's metadata (docs/konduktor-compat.md §5.1).
fn meta() -> WriteMeta {
    WriteMeta {
        created_by: Some("alice@example.com".into()),
        created_by_user_id: Some("alice-7994".into()),
        custom: crate::konduktor::CustomMetadata {
            labels: BTreeMap::from([
                ("team".to_string(), "ml".to_string()),
                // Ours win over the configuration's.
                (konduktor::LABEL_OWNER.to_string(), "ffffffff".to_string()),
            ]),
            annotations: BTreeMap::from([
                ("cost-center".to_string(), "42".to_string()),
                // Only the cluster says who wrote a secret.
                (
                    konduktor::ANNOTATION_CREATED_BY.to_string(),
                    "forged".to_string(),
                ),
                (
                    konduktor::ANNOTATION_CREATED_BY_USER_ID.to_string(),
                    "forged-0000".to_string(),
                ),
            ]),
        },
        digest_key: Some(crate::secrets::plan::tests::key()),
    }
}

#[tokio::test]
async fn a_create_carries_created_by_and_the_custom_metadata_under_our_labels() {
    let p = plan(
        &[want("new", SecretKind::Env, &[("K", "v")])],
        &[],
        ME,
        false,
    );
    let store = FakeStore::new(Vec::new());
    execute(&store, &p, &meta(), &Progress::default()).await;
    let created = store.created_objects();
    let [object] = created.as_slice() else {
        panic!("one create expected: {created:#?}")
    };
    let labels = object.metadata.labels.clone().unwrap_or_default();
    assert_eq!(
        labels.get(konduktor::LABEL_OWNER).map(String::as_str),
        Some(ME)
    );
    assert_eq!(labels.get("team").map(String::as_str), Some("ml"));
    let annotations = object.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(
        annotations,
        BTreeMap::from([
            ("cost-center".to_string(), "42".to_string()),
            (
                konduktor::ANNOTATION_CREATED_BY.to_string(),
                "alice@example.com".to_string()
            ),
            (
                konduktor::ANNOTATION_CREATED_BY_USER_ID.to_string(),
                "alice-7994".to_string()
            ),
            (
                konduktor::ANNOTATION_APPLIED.to_string(),
                applied_annotations(&obj("new"), &[("K", "v")])
                    .into_values()
                    .collect::<String>()
            ),
        ])
    );
}

#[tokio::test]
async fn without_a_cluster_user_a_create_names_no_writer() {
    let p = plan(
        &[want("new", SecretKind::Env, &[("K", "v")])],
        &[],
        ME,
        false,
    );
    let store = FakeStore::new(Vec::new());
    execute(&store, &p, &keyed_meta(), &Progress::default()).await;
    let created = store.created_objects();
    assert!(
        created.iter().all(|o| o
            .metadata
            .annotations
            .as_ref()
            .is_some_and(|a| !a.contains_key(konduktor::ANNOTATION_CREATED_BY))),
        "{created:#?}"
    );
}

#[tokio::test]
async fn a_merge_adds_created_by_where_missing_and_keeps_it_where_present() {
    let mut written_by_bob = live("bob-made", ME, "env", &[("K", "old")]);
    written_by_bob.annotations.insert(
        konduktor::ANNOTATION_CREATED_BY.to_string(),
        "bob".to_string(),
    );
    let unattributed = live("konduktor-made", ME, "env", &[("K", "old")]);
    let p = plan(
        &[
            want("bob-made", SecretKind::Env, &[("K", "new")]),
            want("konduktor-made", SecretKind::Env, &[("K", "new")]),
        ],
        &[written_by_bob, unattributed],
        ME,
        false,
    );
    let store = FakeStore::new(Vec::new());
    execute(&store, &p, &meta(), &Progress::default()).await;
    let annotations_sent = |name: &str| {
        store
            .calls()
            .into_iter()
            .find_map(|c| match c {
                Call::Merge {
                    name: n,
                    annotations,
                    labels,
                    ..
                } if n == obj(name) => Some((annotations, labels)),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no merge of {name}"))
    };
    let (bob, labels) = annotations_sent("bob-made");
    assert_eq!(
        bob.get(konduktor::ANNOTATION_CREATED_BY),
        None,
        "kept as bob wrote it: a merge patch that names no value keeps it"
    );
    assert_eq!(
        bob.get(konduktor::ANNOTATION_CREATED_BY_USER_ID),
        None,
        "the login that wrote it first is kept with its writer, never replaced by ours"
    );
    assert_eq!(bob.get("cost-center").map(String::as_str), Some("42"));
    assert_eq!(
        labels.get(konduktor::LABEL_OWNER).map(String::as_str),
        Some(ME)
    );
    let (konduktor_made, _) = annotations_sent("konduktor-made");
    assert_eq!(
        konduktor_made
            .get(konduktor::ANNOTATION_CREATED_BY)
            .map(String::as_str),
        Some("alice@example.com")
    );
    assert_eq!(
        konduktor_made
            .get(konduktor::ANNOTATION_CREATED_BY_USER_ID)
            .map(String::as_str),
        Some("alice-7994"),
        "added with created-by"
    );
}

#[tokio::test]
async fn access_is_asked_once_per_verb_and_a_denial_names_it() {
    let (p, existing) = mixed();
    let store = FakeStore::new(existing.clone()).denying("delete");
    let err = check_access(&store, &p)
        .await
        .err()
        .unwrap_or_else(|| panic!("delete was denied"));
    assert_eq!(err.kind, ErrorKind::Forbidden);
    assert!(
        err.message().contains(&format!(
            "`delete` the secrets \"{}\", \"{}\" in namespace \"fake-ns\"",
            obj("absent"),
            obj("stale")
        )) && err.message().contains("nothing was changed"),
        "{}",
        err.message()
    );
    // Denied without a name: the rules are asked (this server has none to
    // give), then each object by name, as RBAC may allow it by name.
    let named = |n: &str| Call::MayNamed("delete".into(), obj(n));
    assert_eq!(
        store.calls(),
        [
            Call::May("create".into()),
            Call::May("patch".into()),
            Call::May("delete".into()),
            Call::Rules,
            named("absent"),
            named("stale"),
        ]
    );
    // `create` cannot be limited by name: denied outright.
    let (p, existing) = mixed();
    let store = FakeStore::new(existing.clone()).denying("create");
    let err = check_access(&store, &p)
        .await
        .err()
        .unwrap_or_else(|| panic!("create was denied"));
    assert!(
        err.message()
            .contains("`create` secrets in namespace \"fake-ns\""),
        "{}",
        err.message()
    );
    assert!(!store.calls().contains(&Call::Rules));
    let store = FakeStore::new(existing);
    check_access(&store, &p)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

fn review_calls(store: &FakeStore) -> Vec<Call> {
    store
        .calls()
        .into_iter()
        .filter(|c| matches!(c, Call::May(_) | Call::MayNamed(..) | Call::Rules))
        .collect()
}

#[tokio::test]
async fn a_role_that_lists_the_plans_names_lets_patch_and_delete_go_on() {
    let (p, existing) = mixed();
    // RBAC grants patch and delete by resourceNames only: the name-less
    // reviews say no, the rules (read once) say yes for each object.
    let store = FakeStore::new(existing)
        .allowing_only("patch", &[&obj("merged")])
        .allowing_only("delete", &[&obj("absent"), &obj("stale")]);
    check_access(&store, &p)
        .await
        .unwrap_or_else(|e| panic!("every write is allowed by name: {e}"));
    assert_eq!(
        review_calls(&store),
        [
            Call::May("create".into()),
            Call::May("patch".into()),
            Call::Rules,
            Call::May("delete".into()),
        ],
        "one rules review, no review per object"
    );
}

#[tokio::test]
async fn an_object_the_role_does_not_list_is_named_in_the_denial() {
    let (p, existing) = mixed();
    let store = FakeStore::new(existing).allowing_only("delete", &[&obj("absent")]);
    let err = check_access(&store, &p)
        .await
        .err()
        .unwrap_or_else(|| panic!("stale may not be deleted"));
    assert_eq!(err.kind, ErrorKind::Forbidden);
    let message = err.message();
    assert!(
        message.contains(&format!("`delete` the secret \"{}\"", obj("stale")))
            && !message.contains(&obj("absent"))
            && message.contains("nothing was changed"),
        "{message}"
    );
    assert!(
        err.hint().unwrap_or_default().contains(&format!(
            "kubectl auth can-i delete secrets/{} -n fake-ns",
            obj("stale")
        )),
        "{:?}",
        err.hint()
    );
}

/// A thousand merges and a thousand deletes, each allowed by name only.
fn thousand_by_name() -> (Plan, FakeStore) {
    let existing: Vec<_> = (0..2000)
        .map(|i| live(&format!("s{i:04}"), ME, "env", &[("K", "old")]))
        .collect();
    let desired: Vec<Desired> = (0..1000)
        .map(|i| want(&format!("s{i:04}"), SecretKind::Env, &[("K", "new")]))
        .collect();
    let p = plan(&desired, &existing, ME, true);
    let merged: Vec<String> = (0..1000).map(|i| obj(&format!("s{i:04}"))).collect();
    let deleted: Vec<String> = (1000..2000).map(|i| obj(&format!("s{i:04}"))).collect();
    fn names(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    let store = FakeStore::new(existing)
        .allowing_only("patch", &names(&merged))
        .allowing_only("delete", &names(&deleted));
    (p, store)
}

#[tokio::test]
async fn a_thousand_objects_cost_no_more_reviews_than_one() {
    let (p, store) = thousand_by_name();
    check_access(&store, &p)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(review_calls(&store).len(), 3, "{:?}", review_calls(&store));
}

#[tokio::test]
async fn incomplete_rules_are_completed_by_a_few_named_reviews_at_most() {
    let (p, mut store) = thousand_by_name();
    if let Some(rules) = store.rules.as_mut() {
        // Another authorizer (a webhook) may allow what RBAC's rules do not
        // show: here the rules show nothing by name.
        rules.incomplete = true;
        rules.rules.truncate(1);
    }
    check_access(&store, &p)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let named = review_calls(&store)
        .into_iter()
        .filter(|c| matches!(c, Call::MayNamed(..)))
        .count();
    assert_eq!(named, MAX_NAMED_REVIEWS);
    // One that a named review refuses stops the apply, named.
    let (p, mut store) = thousand_by_name();
    if let Some(rules) = store.rules.as_mut() {
        rules.incomplete = true;
        rules.rules.truncate(1);
    }
    store.allowed_names.retain(|(_, n)| *n != obj("s0001"));
    let err = check_access(&store, &p)
        .await
        .err()
        .unwrap_or_else(|| panic!("s0001 may not be patched"));
    assert!(
        err.message()
            .contains(&format!("`patch` the secret \"{}\"", obj("s0001"))),
        "{}",
        err.message()
    );
}

fn creates(n: usize) -> Plan {
    let desired: Vec<Desired> = (0..n)
        .map(|i| want(&format!("s{i:02}"), SecretKind::Env, &[("K", "v")]))
        .collect();
    plan(&desired, &[], ME, false)
}

#[tokio::test]
async fn parallel_sets_how_many_writes_run_at_once() {
    for parallel in [1, 2, 7] {
        let p = creates(20);
        let store = FakeStore::new(Vec::new());
        let done = execute_with(
            &store,
            &p,
            &WriteMeta::default(),
            &Progress::default(),
            parallel,
        )
        .await;
        assert_eq!(done.outcomes.len(), 20);
        assert_eq!(store.max_in_flight(), parallel);
    }
}

/// Issue 12 point 7: once a write finds the server unreachable, no write
/// starts after it; the rest are listed as not attempted, deletions too.
#[tokio::test]
async fn an_unreachable_server_stops_every_write_not_yet_started() {
    let (mut p, existing) = mixed();
    p.secrets.extend(creates(10).secrets);
    let store = FakeStore::new(existing).failing(&obj("s03"), ErrorKind::Unreachable);
    let done = execute_with(&store, &p, &WriteMeta::default(), &Progress::default(), 1).await;
    let stopped = done
        .unreachable
        .unwrap_or_else(|| panic!("the stop is reported"));
    assert_eq!(stopped.kind, ErrorKind::Unreachable);
    // One at a time: merged, created, s00..s03 sent, s03 as often as a
    // read is tried; nothing after s03.
    let calls = store.calls();
    assert_eq!(
        calls.len(),
        5 + crate::cluster::READ_ATTEMPTS as usize,
        "{calls:#?}"
    );
    assert!(
        calls[5..].iter().all(|c| c == &Call::Create(obj("s03"))),
        "{calls:#?}"
    );
    assert!(!calls.iter().any(Call::is_delete), "{calls:#?}");
    let count = |f: fn(&Status) -> bool| done.outcomes.iter().filter(|o| f(&o.status)).count();
    assert_eq!(count(|s| matches!(s, Status::Done)), 5);
    assert_eq!(count(|s| matches!(s, Status::Failed { .. })), 1);
    assert_eq!(count(|s| matches!(s, Status::Skipped { .. })), 8);
    let rendered = render_outcomes(&done.outcomes);
    assert!(
        rendered.contains("5 done, 1 failed, 8 not attempted"),
        "{rendered}"
    );
    assert!(
        rendered.contains("secret \"stale\" not deleted: not attempted"),
        "{rendered}"
    );
}

/// Issue 12 point 4: a create retried after its answer was lost finds the
/// name taken by what it sent: done. The same name holding other values
/// still fails.
#[tokio::test]
async fn a_create_that_finds_its_own_identical_object_counts_as_done() {
    let p = plan(
        &[
            want("landed", SecretKind::Env, &[("K", "v")]),
            want("other", SecretKind::Env, &[("K", "v")]),
        ],
        &[],
        ME,
        false,
    );
    let store = FakeStore::new(vec![
        live("landed", ME, "env", &[("K", "v")]),
        live("other", ME, "env", &[("K", "v"), ("X", "x")]),
    ])
    .failing(&obj("landed"), ErrorKind::Conflict)
    .failing(&obj("other"), ErrorKind::Conflict);
    let outcomes = run(&store, &p).await;
    assert_eq!(outcomes[0].status, Status::Done, "{outcomes:#?}");
    assert!(outcomes[1].failed(), "{outcomes:#?}");
    assert!(store.calls().contains(&Call::Get(obj("landed"))));
}

/// Issue 12 point 4: a merge whose precondition failed (a retry after its
/// answer was lost) re-reads, and is done only if the object already holds
/// what was meant: the changed keys' new values, the removed keys gone.
#[tokio::test]
async fn a_merge_whose_precondition_failed_is_done_only_if_the_object_holds_what_was_meant() {
    let before = live(
        "m",
        ME,
        "env",
        &[("A", "old"), ("GONE", "x"), ("SAME", "s")],
    );
    let p = plan(
        &[want("m", SecretKind::Env, &[("A", "new"), ("SAME", "s")])],
        std::slice::from_ref(&before),
        ME,
        true,
    );
    let landed = live("m", ME, "env", &[("A", "new"), ("SAME", "s")]);
    let store = FakeStore::new(vec![landed]).failing(&obj("m"), ErrorKind::Conflict);
    let outcomes = run(&store, &p).await;
    assert_eq!(outcomes[0].status, Status::Done, "{outcomes:#?}");
    assert!(store.calls().contains(&Call::Get(obj("m"))));

    for moved in [
        live("m", ME, "env", &[("A", "theirs"), ("SAME", "s")]),
        live(
            "m",
            ME,
            "env",
            &[("A", "new"), ("GONE", "x"), ("SAME", "s")],
        ),
    ] {
        let store = FakeStore::new(vec![moved]).failing(&obj("m"), ErrorKind::Conflict);
        let outcomes = run(&store, &p).await;
        assert!(
            matches!(&outcomes[0].status, Status::Failed { message, .. } if message.contains("run apply again")),
            "{outcomes:#?}"
        );
    }
}

/// Issue 12 points 4 and 7: a write that lost its connection is sent again
/// (as often as a read is tried); a create that had landed meanwhile finds
/// its own object and is done, a merge that had landed finds its values.
#[tokio::test]
async fn a_write_that_lost_its_connection_is_retried_and_finds_its_own_result() {
    let before = live("m", ME, "env", &[("A", "old")]);
    let p = plan(
        &[
            want("c", SecretKind::Env, &[("K", "v")]),
            want("m", SecretKind::Env, &[("A", "new")]),
        ],
        std::slice::from_ref(&before),
        ME,
        false,
    );
    let store = FakeStore::new(vec![
        live("c", ME, "env", &[("K", "v")]),
        live("m", ME, "env", &[("A", "new")]),
    ])
    .failing_next(&obj("c"), &[ErrorKind::Unreachable, ErrorKind::Conflict])
    .failing_next(
        &obj("m"),
        &[
            ErrorKind::Unreachable,
            ErrorKind::Unreachable,
            ErrorKind::Conflict,
        ],
    );
    let done = execute_with(&store, &p, &WriteMeta::default(), &Progress::default(), 1).await;
    assert!(done.unreachable.is_none());
    assert_eq!(
        statuses(&done.outcomes),
        [
            ("c", Action::Create, &Status::Done),
            ("m", Action::Merge, &Status::Done),
        ]
    );
    let calls = store.calls();
    let count = |f: &dyn Fn(&Call) -> bool| calls.iter().filter(|c| f(c)).count();
    assert_eq!(count(&|c| c == &Call::Create(obj("c"))), 2, "{calls:#?}");
    assert_eq!(count(&|c| matches!(c, Call::Merge { .. })), 3, "{calls:#?}");
}

/// Issue 14 point 6: once interrupted, no write starts (deletions
/// included); every one is listed as not attempted, and why.
#[tokio::test]
async fn an_interrupted_apply_starts_no_write() {
    let (mut p, existing) = mixed();
    p.secrets.extend(creates(4).secrets);
    let store = FakeStore::new(existing);
    let progress = Progress::default();
    progress.interrupt();
    let done = execute_with(&store, &p, &WriteMeta::default(), &progress, 2).await;
    assert!(done.interrupted);
    assert!(done.unreachable.is_none());
    assert_eq!(store.calls(), [], "no write");
    assert!(!done.outcomes.is_empty());
    for o in &done.outcomes {
        assert_eq!(
            o.status,
            Status::Skipped {
                message: "not attempted: apply was interrupted".into()
            },
            "{o:?}"
        );
    }
}
