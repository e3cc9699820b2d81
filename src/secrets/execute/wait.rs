//! Waiting for a deleted secret to go, as `kubectl delete` does: a
//! finalizer may hold a Secret after its DELETE (it stays, Terminating,
//! with a `deletionTimestamp`) until whoever set the finalizer removes it.
//! A delete is reported done only once the object is gone; until then it is
//! "deletion pending on <finalizer>".

use std::time::Duration;

use crate::cluster::FailureClass;
use crate::error::Result;
use crate::konduktor::Terminating;
use crate::secrets::execute::{Outcome, Status};
use crate::secrets::plan::{Action, Plan, Step};
use crate::secrets::store::SecretStore;

/// The default of `--timeout`: how long to wait for a deleted secret to go.
pub const DEFAULT_TIMEOUT: &str = "60s";

/// Whether, and how long, to wait for a deletion a finalizer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// `--wait=false`: report it pending and return.
    No,
    /// Up to this long (`None`: no limit, `--timeout 0`).
    Upto(Option<Duration>),
}

/// One object being deleted, as last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Awaited {
    pub secret_name: String,
    /// The object that was deleted: one of that name made since is not it.
    pub uid: Option<String>,
    pub terminating: Terminating,
}

/// The first pause between two looks; each pause doubles, up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(100);
const MAX_PAUSE: Duration = Duration::from_secs(2);

/// Look at each awaited object until it is gone (not found, or another
/// object by that name) or `timeout` passes. Returns those still there,
/// with the finalizers that hold them now.
pub async fn until_gone(
    store: &impl SecretStore,
    mut awaited: Vec<Awaited>,
    timeout: Option<Duration>,
) -> Result<Vec<Awaited>> {
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let mut pause = FIRST_PAUSE;
    loop {
        let mut still = Vec::new();
        for a in awaited {
            match store.get(&a.secret_name).await? {
                // The same object, still there (a uid names one object).
                Some(live) if a.uid.is_none() || live.uid == a.uid => {
                    let terminating = live.terminating.unwrap_or(a.terminating);
                    still.push(Awaited { terminating, ..a });
                }
                // Not found, or another object of that name: it went.
                _ => {}
            }
        }
        awaited = still;
        if awaited.is_empty() {
            return Ok(awaited);
        }
        let now = tokio::time::Instant::now();
        let nap = match deadline {
            Some(d) if now >= d => return Ok(awaited),
            Some(d) => pause.min(d - now),
            None => pause,
        };
        tokio::time::sleep(nap).await;
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// After an apply's writes: the deletions a finalizer holds (those the
/// apply sent, now [`Status::Pending`], and the secrets the plan found
/// already being deleted that it would delete) are waited on as `wait`
/// says. Each becomes done once gone; still there at the timeout, failed;
/// with `--wait=false`, pending. The plan's own waits are added to
/// `outcomes`.
pub async fn settle(
    store: &impl SecretStore,
    plan: &Plan,
    outcomes: &mut Vec<Outcome>,
    wait: Wait,
) -> Result<()> {
    for s in &plan.secrets {
        if let Step::Terminating {
            terminating,
            reason: Some(_),
            ..
        } = &s.step
        {
            outcomes.push(Outcome {
                name: s.name.clone(),
                secret_name: s.secret_name.clone(),
                action: Action::Terminating,
                status: Status::Pending {
                    message: format!("already being deleted: {}", terminating.pending()),
                },
            });
        }
    }
    let awaited: Vec<Awaited> = outcomes
        .iter()
        .filter(|o| matches!(o.status, Status::Pending { .. }))
        .filter_map(|o| {
            let live = plan
                .secrets
                .iter()
                .find(|s| s.secret_name == o.secret_name)
                .and_then(|s| match &s.step {
                    Step::Delete { live, .. } | Step::Terminating { live, .. } => Some(live),
                    _ => None,
                })?;
            Some(Awaited {
                secret_name: o.secret_name.clone(),
                uid: live.uid.clone(),
                terminating: Terminating::default(),
            })
        })
        .collect();
    let Wait::Upto(timeout) = wait else {
        return Ok(());
    };
    if awaited.is_empty() {
        return Ok(());
    }
    let still = until_gone(store, awaited, timeout).await?;
    for o in outcomes
        .iter_mut()
        .filter(|o| matches!(o.status, Status::Pending { .. }))
    {
        let before = match &o.status {
            Status::Pending { message } => message.clone(),
            _ => String::new(),
        };
        o.status = match still.iter().find(|a| a.secret_name == o.secret_name) {
            None => Status::Done,
            // What holds it now, or (if the server no longer says) what held it.
            Some(a) if a.terminating.finalizers.is_empty() => Status::Failed {
                message: format!("{before}: {}", still_there(timeout)),
                class: FailureClass::Held,
                help: None,
            },
            Some(a) => Status::Failed {
                message: timed_out(&a.terminating, timeout),
                class: FailureClass::Held,
                help: None,
            },
        };
    }
    Ok(())
}

/// The message for a deletion still held when the wait ended.
pub fn timed_out(t: &Terminating, timeout: Option<Duration>) -> String {
    format!("{}: {}", t.pending(), still_there(timeout))
}

fn still_there(timeout: Option<Duration>) -> String {
    let after = timeout.map_or(String::new(), |t| {
        format!(" after waiting {}", crate::cluster::humanize(t))
    });
    format!("still there{after} (Terminating until the finalizer is removed by whatever set it)")
}

#[cfg(test)]
#[path = "wait_tests.rs"]
mod tests;
