use std::time::Duration;

use super::*;
use crate::konduktor::WriteMeta;
use crate::secrets::execute::{PARALLELISM, Progress, execute_with};
use crate::secrets::manifest::Desired;
use crate::secrets::plan::plan;
use crate::secrets::plan::tests::{ME, live};
use crate::secrets::store::fake::{Call, FakeStore};

fn absent(name: &str) -> Desired {
    Desired::Absent {
        basename: name.into(),
    }
}

fn held(name: &str) -> (String, Vec<String>) {
    (format!("{name}-{ME}"), vec!["example.com/hold".into()])
}

async fn apply(store: &FakeStore, p: &Plan, wait: Wait) -> Vec<Outcome> {
    let meta = WriteMeta::default();
    let mut outcomes = execute_with(store, p, &meta, &Progress::default(), PARALLELISM)
        .await
        .outcomes;
    settle(store, p, &mut outcomes, wait)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    outcomes
}

#[tokio::test]
async fn a_delete_a_finalizer_holds_is_pending_not_done() {
    let lives = vec![live("old", ME, "env", &[("A", "1")])];
    let p = plan(&[absent("old")], &lives, ME, false);
    let mut store = FakeStore::new(lives);
    store.held.extend([held("old")]);
    let outcomes = apply(&store, &p, Wait::No).await;
    assert_eq!(
        outcomes[0].status,
        Status::Pending {
            message: "deletion pending on example.com/hold".into()
        }
    );
    // Waited on, and still there at the end: failed, saying what holds it.
    let mut store = FakeStore::new(vec![live("old", ME, "env", &[("A", "1")])]);
    store.held.extend([held("old")]);
    let outcomes = apply(&store, &p, Wait::Upto(Some(Duration::ZERO))).await;
    match &outcomes[0].status {
        Status::Failed { message, class, .. } => {
            assert!(
                message.starts_with("deletion pending on example.com/hold: still there"),
                "{message}"
            );
            // A re-run cannot help: the finalizer's owner must finish.
            assert_eq!(*class, crate::cluster::FailureClass::Held);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn one_already_being_deleted_is_waited_on_and_done_once_gone() {
    let mut going = live("old", ME, "env", &[("A", "1")]);
    going.terminating = Some(crate::konduktor::Terminating {
        since: None,
        finalizers: vec!["example.com/hold".into()],
    });
    let p = plan(&[absent("old")], std::slice::from_ref(&going), ME, false);
    // By the time apply looks, it has gone.
    let store = FakeStore::new(Vec::new());
    let outcomes = apply(&store, &p, Wait::Upto(None)).await;
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].action, Action::Terminating);
    assert_eq!(outcomes[0].status, Status::Done);
    assert!(
        !store.calls().iter().any(Call::is_delete),
        "never deleted again"
    );
}
