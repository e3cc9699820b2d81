//! Carrying out a plan against the cluster: creates and merges first, with
//! bounded parallelism, then deletions. Every write is conditional on what
//! the plan saw; a secret changed meanwhile fails alone, never overwritten.

use std::collections::BTreeMap;

use futures::StreamExt;
use serde::Serialize;

use crate::cluster::Cluster;
use crate::error::{Error, ErrorKind};
use crate::konduktor::secret_value::SecretBytes;
use crate::konduktor::{self, DesiredSecret};
use crate::secrets::plan::{Action, Change, DeleteReason, Plan, SecretPlan};

/// How many requests run at once.
pub const PARALLELISM: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum Status {
    Done,
    Failed {
        message: String,
    },
    /// Not attempted, and why.
    Skipped {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub name: String,
    pub secret_name: String,
    pub action: Action,
    #[serde(flatten)]
    pub status: Status,
}

impl Outcome {
    pub fn failed(&self) -> bool {
        matches!(self.status, Status::Failed { .. })
    }
}

/// How far an apply has got, for a progress line.
#[derive(Debug, Default)]
pub struct Progress {
    pub done: std::sync::atomic::AtomicUsize,
}

impl Progress {
    fn tick(&self) {
        self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The number of requests `execute` will make for `plan` (at most).
pub fn steps(plan: &Plan) -> usize {
    plan.secrets
        .iter()
        .filter(|s| matches!(s.action, Action::Create | Action::Merge | Action::Delete))
        .count()
}

pub async fn execute(cluster: &Cluster, plan: &Plan, progress: &Progress) -> Vec<Outcome> {
    let writes: Vec<&SecretPlan> = plan
        .secrets
        .iter()
        .filter(|s| matches!(s.action, Action::Create | Action::Merge))
        .collect();
    let mut outcomes: Vec<Outcome> =
        futures::stream::iter(writes.into_iter().map(|s| write(cluster, s, &plan.owner)))
            .buffer_unordered(PARALLELISM)
            .inspect(|_| progress.tick())
            .collect()
            .await;
    // The old git-ssh key goes only once the new one is in place.
    let git_ssh_failed = outcomes.iter().any(|o| {
        o.failed()
            && plan
                .secrets
                .iter()
                .any(|s| s.name == o.name && s.kind.as_deref() == Some("git-ssh"))
    });
    let deletes = plan.secrets.iter().filter(|s| s.action == Action::Delete);
    let mut delete_futures = Vec::new();
    for s in deletes {
        if git_ssh_failed && s.reason == Some(DeleteReason::ReplacedGitSsh) {
            outcomes.push(outcome(
                s,
                Status::Skipped {
                    message: "kept because the new git-ssh secret was not written".into(),
                },
            ));
        } else {
            delete_futures.push(delete(cluster, s));
        }
    }
    outcomes.extend(
        futures::stream::iter(delete_futures)
            .buffer_unordered(PARALLELISM)
            .inspect(|_| progress.tick())
            .collect::<Vec<_>>()
            .await,
    );
    // Report in plan order.
    let order: BTreeMap<&str, usize> = plan
        .secrets
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    outcomes.sort_by_key(|o| order.get(o.name.as_str()).copied().unwrap_or(usize::MAX));
    outcomes
}

fn outcome(s: &SecretPlan, status: Status) -> Outcome {
    Outcome {
        name: s.name.clone(),
        secret_name: s.secret_name.clone(),
        action: s.action,
        status,
    }
}

fn failed(e: &Error) -> Status {
    let mut message = e.message().to_string();
    if matches!(e.kind, ErrorKind::Conflict | ErrorKind::NotFound) {
        message.push_str("; it changed since the plan was made: run apply again");
    }
    Status::Failed { message }
}

async fn write(cluster: &Cluster, s: &SecretPlan, owner: &str) -> Outcome {
    let Some(desired) = &s.desired else {
        return outcome(
            s,
            Status::Skipped {
                message: "nothing to write".into(),
            },
        );
    };
    let status = match s.action {
        Action::Create => match cluster.create_secret(&desired.to_object(owner)).await {
            Ok(_) => Status::Done,
            Err(e) if e.kind == ErrorKind::Conflict => already_exists(cluster, s, owner).await,
            Err(e) => failed(&e),
        },
        Action::Merge => match merge_one(cluster, s, desired, owner).await {
            Ok(()) => Status::Done,
            Err(e) => failed(&e),
        },
        _ => Status::Skipped {
            message: "not a write".into(),
        },
    };
    outcome(s, status)
}

/// Carry out one planned merge: send the added and changed keys, null the
/// removed ones, set the labels, all conditional on the resourceVersion
/// the plan saw. Shared by `apply` and `secret create`.
pub async fn merge_one(
    cluster: &Cluster,
    s: &SecretPlan,
    desired: &DesiredSecret,
    owner: &str,
) -> crate::error::Result<()> {
    let data: BTreeMap<String, Option<SecretBytes>> = s
        .keys
        .iter()
        .filter_map(|k| match k.change {
            Change::Added | Change::Changed => Some((k.key.clone(), k.new.clone())),
            Change::Removed => Some((k.key.clone(), None)),
            Change::Kept | Change::Unchanged => None,
        })
        .collect();
    let labels = konduktor::labels(&desired.basename, desired.kind, owner);
    let rv = s
        .live
        .as_ref()
        .and_then(|l| l.resource_version.clone())
        .unwrap_or_default();
    cluster
        .merge_secret(&s.secret_name, &rv, &labels, &data)
        .await
        .map(|_| ())
}

/// A create that found the name taken: someone else's (never touched), or
/// ours made meanwhile (run again).
async fn already_exists(cluster: &Cluster, s: &SecretPlan, owner: &str) -> Status {
    match cluster.get_secret(&s.secret_name).await {
        Ok(Some(live)) if !live.is_owned_by(owner) => Status::Failed {
            message: format!(
                "conflict: a Secret named {} exists and is not yours; it was not touched",
                s.secret_name
            ),
        },
        Ok(_) => Status::Failed {
            message: format!(
                "{} was created by someone else since the plan was made; run apply again",
                s.secret_name
            ),
        },
        Err(e) => failed(&e),
    }
}

async fn delete(cluster: &Cluster, s: &SecretPlan) -> Outcome {
    let Some(live) = &s.live else {
        return outcome(
            s,
            Status::Skipped {
                message: "no live object".into(),
            },
        );
    };
    let status = match cluster
        .delete_secret(
            &s.secret_name,
            live.uid.clone(),
            live.resource_version.clone(),
        )
        .await
    {
        Ok(()) => Status::Done,
        // Already gone: what we wanted.
        Err(e) if e.kind == ErrorKind::NotFound => Status::Done,
        Err(e) => failed(&e),
    };
    outcome(s, status)
}
