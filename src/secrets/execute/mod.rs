//! Carrying out a plan against the cluster: creates and merges first, with
//! bounded parallelism, then deletions. Every write is conditional on what
//! the plan saw; a secret changed meanwhile fails alone, never overwritten.
//!
//! After it: [`wait`] for deletions a finalizer holds, and [`view`], what
//! was done, for people.

pub mod view;
pub mod wait;

use std::collections::BTreeMap;
use std::future::Future;

use futures::StreamExt;
use serde::Serialize;

use crate::cluster::FailureClass;
use crate::error::{Error, ErrorKind};
use crate::konduktor::secret_value::SecretBytes;
use crate::konduktor::{self, DesiredSecret, LiveSecret, SecretKind, WriteMeta};
use crate::secrets::plan::{Action, Change, DeleteReason, LiveRef, Plan, SecretPlan, Step};
use crate::secrets::store::{Deleted, PatchMeta, SecretStore};

/// How many writes run at once, unless `--parallel` says otherwise.
/// Measured creating 1,000 secrets against the test API server 50 ms away
/// (benches/apiserver.rs): 4 at once 13.1 s, 8: 6.7 s, 16: 3.5 s, 32:
/// 1.9 s. 16 is under 5 s with margin, at half the burst of 32.
pub const PARALLELISM: usize = 16;

/// Attempts for a write that finds the server unreachable, first one
/// included: as many as a read gets before it is given up.
const UNREACHABLE_ATTEMPTS: u32 = crate::cluster::READ_ATTEMPTS;

/// One write, sent again (after a short backoff) while the server is
/// unreachable, up to [`UNREACHABLE_ATTEMPTS`]. The write may have landed
/// before the connection was lost: the callers count a retried write that
/// finds its own result (a create's object, a merge's values) as done.
async fn retrying<T, F, Fut>(mut attempt: F) -> crate::error::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = crate::error::Result<T>>,
{
    let mut delay = std::time::Duration::from_millis(200);
    let mut n = 1;
    loop {
        match attempt().await {
            Err(e) if e.kind == ErrorKind::Unreachable && n < UNREACHABLE_ATTEMPTS => {
                crate::cluster::pause_before_attempt(delay, n + 1, UNREACHABLE_ATTEMPTS).await;
                delay *= 2;
                n += 1;
            }
            other => return other,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum Status {
    Done,
    Failed {
        message: String,
        /// What kind of failure (permission, quota, conflict, invalid,
        /// gone, unreachable, ...): whether running again can help.
        class: FailureClass,
        /// What to do about it, when there is more to say than the class.
        #[serde(skip_serializing_if = "Option::is_none")]
        help: Option<String>,
    },
    /// Not attempted, and why.
    Skipped {
        message: String,
    },
    /// Deleted, but a finalizer holds it: still there, Terminating
    /// (`deletion pending on <finalizer>`); see [`crate::secrets::execute::wait`].
    Pending {
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

/// How far an apply has got, for a progress line; and whether it was
/// asked to stop (an interrupt): then no new write starts.
#[derive(Debug, Default)]
pub struct Progress {
    pub done: std::sync::atomic::AtomicUsize,
    interrupted: std::sync::atomic::AtomicBool,
}

impl Progress {
    fn tick(&self) {
        self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Start no new write; those in flight finish.
    pub fn interrupt(&self) {
        self.interrupted
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn interrupted(&self) -> bool {
        self.interrupted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The number of requests `execute` will make for `plan` (at most).
pub fn steps(plan: &Plan) -> usize {
    plan.secrets
        .iter()
        .filter(|s| matches!(s.action(), Action::Create | Action::Merge | Action::Delete))
        .count()
}

/// The verbs on secrets the plan's writes need, each once, in the order
/// create, patch, delete.
pub fn verbs(plan: &Plan) -> Vec<&'static str> {
    let needs = |action: Action| plan.secrets.iter().any(|s| s.action() == action);
    [
        (Action::Create, "create"),
        (Action::Merge, "patch"),
        (Action::Delete, "delete"),
    ]
    .into_iter()
    .filter(|(action, _)| needs(*action))
    .map(|(_, verb)| verb)
    .collect()
}

/// Named access reviews sent at most by one [`check_access`], where the
/// rules review cannot tell: the cost stays bounded for any plan size.
pub const MAX_NAMED_REVIEWS: usize = 8;
/// Object names a denial lists before "and N more".
const MAX_NAMES_SHOWN: usize = 5;

/// The object names the plan's writes of `verb` touch.
fn names_for<'a>(plan: &'a Plan, verb: &str) -> Vec<&'a str> {
    let action = match verb {
        "patch" => Action::Merge,
        "delete" => Action::Delete,
        _ => return Vec::new(),
    };
    plan.secrets
        .iter()
        .filter(|s| s.action() == action)
        .map(|s| s.secret_name.as_str())
        .collect()
}

/// What the access check found the plan may not do.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Denied<'a> {
    /// The verb on secrets at all (a name-less review said no, and no
    /// name can change that: `create` cannot be limited by name).
    Verb(&'static str),
    /// The verb on these objects (RBAC's rules or a named review said no).
    Objects(&'static str, Vec<&'a str>),
}

/// Before the first write: ask the server, once per verb the plan needs,
/// whether we may; any denial stops here, before anything is written.
/// Where a name-less review says no to `patch` or `delete`, a Role may
/// still allow them by name (`resourceNames`): the rules are read once (a
/// SelfSubjectRulesReview) and every object the plan touches is checked
/// against them; only where the server says its rules are incomplete are
/// objects asked about by name, at most [`MAX_NAMED_REVIEWS`] in all, the
/// rest left to the server write by write. A server that cannot say (no
/// review API, or reviews refused to us) is taken at its word later.
pub async fn check_access(store: &impl SecretStore, plan: &Plan) -> crate::error::Result<()> {
    let mut denied = Vec::new();
    let mut rules = None;
    let mut named_reviews = 0;
    for verb in verbs(plan) {
        if store.may(verb).await? != Some(false) {
            continue;
        }
        let names = names_for(plan, verb);
        if names.is_empty() {
            denied.push(Denied::Verb(verb));
            continue;
        }
        if rules.is_none() {
            rules = Some(store.secret_rules().await?);
        }
        let known = rules.as_ref().and_then(Option::as_ref);
        let uncovered: Vec<&str> = names
            .into_iter()
            .filter(|n| !known.is_some_and(|r| r.allows(verb, n)))
            .collect();
        if uncovered.is_empty() {
            continue;
        }
        if known.is_some_and(|r| !r.incomplete) {
            denied.push(Denied::Objects(verb, uncovered));
            continue;
        }
        let mut refused = Vec::new();
        let mut unasked = 0;
        for name in uncovered {
            if named_reviews == MAX_NAMED_REVIEWS {
                unasked += 1;
                continue;
            }
            named_reviews += 1;
            if store.may_named(verb, name).await? == Some(false) {
                refused.push(name);
            }
        }
        if !refused.is_empty() {
            denied.push(Denied::Objects(verb, refused));
        } else if unasked > 0 {
            crate::log::log(1, || {
                format!(
                    "{unasked} secrets to {verb} were not checked before writing (the server's rules are incomplete): the server decides write by write"
                )
            });
        }
    }
    match denied.as_slice() {
        [] => Ok(()),
        _ => Err(access_denied(store.namespace(), &denied)),
    }
}

/// The error for what [`check_access`] found denied.
fn access_denied(ns: &str, denied: &[Denied]) -> Error {
    let or = |items: Vec<String>| match items.as_slice() {
        [init @ .., last] if !init.is_empty() => format!("{} or {last}", init.join(", ")),
        _ => items.concat(),
    };
    let whole: Option<Vec<&str>> = denied
        .iter()
        .map(|d| match d {
            Denied::Verb(v) => Some(*v),
            Denied::Objects(..) => None,
        })
        .collect();
    let (what, how) = match whole {
        Some(verbs) => (
            format!(
                "{} secrets",
                or(verbs.iter().map(|v| format!("`{v}`")).collect())
            ),
            "the API server's access review says so".to_string(),
        ),
        None => (
            or(denied
                .iter()
                .map(|d| match d {
                    Denied::Verb(v) => format!("`{v}` secrets"),
                    Denied::Objects(v, names) => format!("`{v}` {}", shown_names(names)),
                })
                .collect()),
            "the API server's access reviews and your RBAC rules say so".to_string(),
        ),
    };
    let (first, example) = match denied.first() {
        Some(Denied::Objects(v, names)) => (
            *v,
            format!("secrets/{}", names.first().copied().unwrap_or_default()),
        ),
        Some(Denied::Verb(v)) => (*v, "secrets".to_string()),
        None => ("create", "secrets".to_string()),
    };
    Error::new(
        ErrorKind::Forbidden,
        format!(
            "forbidden: you may not {what} in namespace \"{ns}\", which this plan needs ({how}); nothing was changed"
        ),
    )
    .with_help(format!(
        "access is decided by the cluster's RBAC: ask an administrator for a Role that allows it on `secrets` in namespace `{ns}` (a Role may list your secrets' names in `resourceNames` for patch and delete); check with `kubectl auth can-i {first} {example} -n {ns}`"
    ))
}

/// `the secret "a"`, `the secrets "a", "b" and 3 more`.
fn shown_names(names: &[&str]) -> String {
    let shown: Vec<String> = names
        .iter()
        .take(MAX_NAMES_SHOWN)
        .map(|n| format!("\"{n}\""))
        .collect();
    let more = names.len().saturating_sub(MAX_NAMES_SHOWN);
    match (names.len(), more) {
        (1, _) => format!("the secret {}", shown.concat()),
        (_, 0) => format!("the secrets {}", shown.join(", ")),
        (_, more) => format!("the secrets {} and {more} more", shown.join(", ")),
    }
}

/// A planned delete: the secret, the live object it is conditional on, why.
type PlannedDelete<'a> = (&'a SecretPlan, &'a LiveRef, DeleteReason);

/// What [`execute_with`] did.
#[derive(Debug)]
pub struct Executed {
    /// One per write planned, in plan order.
    pub outcomes: Vec<Outcome>,
    /// Set when a write found the server unreachable (after its retries):
    /// no write was started after it, and the rest are [`Status::Skipped`].
    pub unreachable: Option<Error>,
    /// Set when the apply was interrupted ([`Progress::interrupt`]): no
    /// write was started after that, and the rest are [`Status::Skipped`].
    pub interrupted: bool,
}

/// Once a write finds the server unreachable, or the apply is
/// interrupted, no new write starts.
struct Stop<'a> {
    unreachable: std::sync::Mutex<Option<Error>>,
    progress: &'a Progress,
}

impl<'a> Stop<'a> {
    fn new(progress: &'a Progress) -> Self {
        Stop {
            unreachable: std::sync::Mutex::new(None),
            progress,
        }
    }

    fn stopped(&self) -> bool {
        self.progress.interrupted() || self.unreachable.lock().map_or(true, |s| s.is_some())
    }

    /// Note a failed write; an unreachable server stops the rest.
    fn note(&self, e: &Error) {
        if e.kind == ErrorKind::Unreachable
            && let Ok(mut first) = self.unreachable.lock()
            && first.is_none()
        {
            *first = Some(e.clone());
        }
    }

    /// What a write not started is listed with.
    fn not_attempted(&self) -> Status {
        let message = if self.progress.interrupted() {
            "not attempted: apply was interrupted"
        } else {
            "not attempted"
        };
        Status::Skipped {
            message: message.into(),
        }
    }

    fn into_error(self) -> Option<Error> {
        self.unreachable.into_inner().ok().flatten()
    }
}

/// The store apply writes through: each write sent again while the
/// server is unreachable ([`retrying`]); reads as they are (the store
/// retries those itself).
struct Retrying<'a, S>(&'a S);

impl<S: SecretStore> SecretStore for Retrying<'_, S> {
    fn namespace(&self) -> &str {
        self.0.namespace()
    }

    async fn list(&self, selector: Option<&str>) -> crate::error::Result<Vec<LiveSecret>> {
        self.0.list(selector).await
    }

    async fn get(&self, name: &str) -> crate::error::Result<Option<LiveSecret>> {
        self.0.get(name).await
    }

    async fn create(
        &self,
        secret: &k8s_openapi::api::core::v1::Secret,
    ) -> crate::error::Result<()> {
        retrying(|| self.0.create(secret)).await
    }

    async fn merge(
        &self,
        name: &str,
        resource_version: &str,
        metadata: &PatchMeta,
        data: &BTreeMap<String, Option<SecretBytes>>,
    ) -> crate::error::Result<()> {
        retrying(|| self.0.merge(name, resource_version, metadata, data)).await
    }

    async fn may(&self, verb: &'static str) -> crate::error::Result<Option<bool>> {
        self.0.may(verb).await
    }

    async fn may_named(
        &self,
        verb: &'static str,
        name: &str,
    ) -> crate::error::Result<Option<bool>> {
        self.0.may_named(verb, name).await
    }

    async fn secret_rules(
        &self,
    ) -> crate::error::Result<Option<crate::cluster::access::SecretRules>> {
        self.0.secret_rules().await
    }

    async fn delete(
        &self,
        name: &str,
        uid: Option<String>,
        resource_version: Option<String>,
    ) -> crate::error::Result<Deleted> {
        retrying(|| self.0.delete(name, uid.clone(), resource_version.clone())).await
    }
}

/// Carry out the plan: creates and merges first, `parallel` at once (at
/// least one; [`PARALLELISM`] unless told); then the deletions (the old
/// git-ssh secret only once the new one is in place); outcomes in plan
/// order.
pub async fn execute_with(
    store: &impl SecretStore,
    plan: &Plan,
    meta: &WriteMeta,
    progress: &Progress,
    parallel: usize,
) -> Executed {
    let parallel = parallel.max(1);
    let store = &Retrying(store);
    let stop = Stop::new(progress);
    let writes = plan
        .secrets
        .iter()
        .filter_map(|s| write(store, s, &plan.owner, meta, &stop));
    let mut outcomes: Vec<Outcome> = futures::stream::iter(writes)
        .buffer_unordered(parallel)
        .inspect(|_| progress.tick())
        .collect()
        .await;
    let keep_old_git_ssh = git_ssh_write_failed(plan, &outcomes);
    let mut deletes = Vec::new();
    for (s, live, reason) in plan.secrets.iter().filter_map(planned_delete) {
        if keep_old_git_ssh && reason == DeleteReason::ReplacedGitSsh {
            outcomes.push(outcome(
                s,
                Status::Skipped {
                    message: "kept because the new git-ssh secret was not written".into(),
                },
            ));
        } else {
            deletes.push(delete(store, s, live, &stop));
        }
    }
    outcomes.extend(
        futures::stream::iter(deletes)
            .buffer_unordered(parallel)
            .inspect(|_| progress.tick())
            .collect::<Vec<_>>()
            .await,
    );
    in_plan_order(plan, &mut outcomes);
    Executed {
        outcomes,
        unreachable: stop.into_error(),
        interrupted: progress.interrupted(),
    }
}

fn planned_delete(s: &SecretPlan) -> Option<PlannedDelete<'_>> {
    match &s.step {
        Step::Delete { live, reason } => Some((s, live, *reason)),
        _ => None,
    }
}

/// Did the write of a git-ssh secret fail? Then the one it replaces stays.
fn git_ssh_write_failed(plan: &Plan, outcomes: &[Outcome]) -> bool {
    outcomes.iter().any(|o| {
        o.failed()
            && plan
                .secrets
                .iter()
                .any(|s| s.name == o.name && s.known_kind() == Some(SecretKind::GitSsh))
    })
}

fn in_plan_order(plan: &Plan, outcomes: &mut [Outcome]) {
    let order: BTreeMap<&str, usize> = plan
        .secrets
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    outcomes.sort_by_key(|o| order.get(o.name.as_str()).copied().unwrap_or(usize::MAX));
}

fn outcome(s: &SecretPlan, status: Status) -> Outcome {
    Outcome {
        name: s.name.clone(),
        secret_name: s.secret_name.clone(),
        action: s.action(),
        status,
    }
}

fn failed(e: &Error) -> Status {
    let class = FailureClass::of(e);
    if e.kind == ErrorKind::Unreachable {
        // Said once, for the whole apply (see [`Executed::unreachable`]).
        return Status::Failed {
            message: "the API server became unreachable; whether it was written is not known: run apply again".into(),
            class,
            help: None,
        };
    }
    let mut message = e.message().to_string();
    if matches!(e.kind, ErrorKind::Conflict | ErrorKind::NotFound) {
        message.push_str("; it changed since the plan was made: run apply again");
    }
    Status::Failed {
        message,
        class,
        help: e.hint().map(str::to_string),
    }
}

/// A failure found by reading back, not said by the server.
fn failed_as(class: FailureClass, message: String) -> Status {
    Status::Failed {
        message,
        class,
        help: None,
    }
}

/// The write a create or merge step makes; `None` for any other step.
fn write<'a>(
    store: &'a impl SecretStore,
    s: &'a SecretPlan,
    owner: &'a str,
    meta: &'a WriteMeta,
    stop: &'a Stop<'a>,
) -> Option<impl Future<Output = Outcome> + 'a> {
    let (live, desired) = match &s.step {
        Step::Create { desired } => (None, desired),
        Step::Merge { live, desired, .. } => (Some(live), desired),
        _ => return None,
    };
    Some(async move {
        if stop.stopped() {
            return outcome(s, stop.not_attempted());
        }
        let status = match live {
            None => match store.create(&desired.to_written_object(owner, meta)).await {
                Ok(()) => Status::Done,
                Err(e) if e.kind == ErrorKind::Conflict => {
                    already_exists(store, s, desired, owner, meta).await
                }
                Err(e) => {
                    stop.note(&e);
                    failed(&e)
                }
            },
            Some(live) => {
                match retrying(|| merge_one(store, s, live, desired, owner, meta)).await {
                    Ok(()) => Status::Done,
                    Err(e) if e.kind == ErrorKind::Conflict => {
                        merge_conflict(store, s, desired, owner, meta, &e).await
                    }
                    Err(e) => {
                        stop.note(&e);
                        failed(&e)
                    }
                }
            }
        };
        outcome(s, status)
    })
}

/// Carry out one planned merge: send the added and changed keys, null the
/// removed ones, set the labels (and the annotations [`WriteMeta`] adds),
/// all conditional on the resourceVersion the plan saw. Shared by `apply`
/// and `secret create`.
pub async fn merge_one(
    store: &impl SecretStore,
    s: &SecretPlan,
    live: &LiveRef,
    desired: &DesiredSecret,
    owner: &str,
    meta: &WriteMeta,
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
    let metadata = PatchMeta {
        labels: meta.labels(konduktor::labels(&desired.basename, desired.kind, owner)),
        annotations: meta.merge_annotations(
            live.created_by.as_deref(),
            &s.applied_after(meta.digest_key.as_ref()),
        ),
    };
    let rv = live.resource_version.clone().unwrap_or_default();
    store.merge(&s.secret_name, &rv, &metadata, &data).await
}

/// The labels a write of `desired` sets.
fn meant_labels(
    desired: &DesiredSecret,
    owner: &str,
    meta: &WriteMeta,
) -> BTreeMap<String, String> {
    meta.labels(konduktor::labels(&desired.basename, desired.kind, owner))
}

/// Does `live` carry every one of `labels`?
fn has_labels(live: &LiveSecret, labels: &BTreeMap<String, String>) -> bool {
    labels.iter().all(|(k, v)| live.labels.get(k) == Some(v))
}

/// A create that found the name taken: someone else's (never touched);
/// ours holding exactly what was meant (our own create, retried after its
/// answer was lost, or the same change made meanwhile): done; ours holding
/// something else, made meanwhile: run again.
async fn already_exists(
    store: &impl SecretStore,
    s: &SecretPlan,
    desired: &DesiredSecret,
    owner: &str,
    meta: &WriteMeta,
) -> Status {
    match store.get(&s.secret_name).await {
        Ok(Some(live)) if !live.is_owned_by(owner) => failed_as(
            FailureClass::Foreign,
            format!(
                "conflict: a Secret named {} exists and is not yours; it was not touched",
                s.secret_name
            ),
        ),
        Ok(Some(live))
            if live.data == desired.data
                && has_labels(&live, &meant_labels(desired, owner, meta)) =>
        {
            Status::Done
        }
        Ok(_) => failed_as(
            FailureClass::Conflict,
            format!(
                "{} was created by someone else since the plan was made; run apply again",
                s.secret_name
            ),
        ),
        Err(e) => failed(&e),
    }
}

/// A merge whose precondition failed: the object changed since the plan
/// saw it. Read again: if it already holds what was meant (our own merge,
/// retried after its answer was lost, or the same change made meanwhile),
/// done; otherwise it failed, and nothing was overwritten.
async fn merge_conflict(
    store: &impl SecretStore,
    s: &SecretPlan,
    desired: &DesiredSecret,
    owner: &str,
    meta: &WriteMeta,
    e: &Error,
) -> Status {
    match store.get(&s.secret_name).await {
        Ok(Some(live))
            if holds_merge(&live, s) && has_labels(&live, &meant_labels(desired, owner, meta)) =>
        {
            Status::Done
        }
        _ => failed(e),
    }
}

/// Does `live` hold what the merge of `s` meant: every added or changed
/// key's new value, no removed key?
fn holds_merge(live: &LiveSecret, s: &SecretPlan) -> bool {
    s.keys.iter().all(|k| match k.change {
        Change::Added | Change::Changed => k
            .new
            .as_ref()
            .is_some_and(|v| live.data.get(&k.key) == Some(v)),
        Change::Removed => !live.data.contains_key(&k.key),
        Change::Kept | Change::Unchanged => true,
    })
}

async fn delete(
    store: &impl SecretStore,
    s: &SecretPlan,
    live: &LiveRef,
    stop: &Stop<'_>,
) -> Outcome {
    if stop.stopped() {
        return outcome(s, stop.not_attempted());
    }
    let status = match store
        .delete(
            &s.secret_name,
            live.uid.clone(),
            live.resource_version.clone(),
        )
        .await
    {
        Ok(Deleted::Gone) => Status::Done,
        Ok(Deleted::Pending(held)) => Status::Pending {
            message: held.pending(),
        },
        // Already gone: what we wanted.
        Err(e) if e.kind == ErrorKind::NotFound => Status::Done,
        Err(e) => {
            stop.note(&e);
            failed(&e)
        }
    };
    outcome(s, status)
}

#[cfg(test)]
mod tests;
