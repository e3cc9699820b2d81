//! The plan (docs/konduktor-compat.md §5.3; docs/manifest.md, "What the plan does"): a pure function of what the manifest wants and what
//! the caller's live secrets are. No I/O; unit-tested without a server.
//!
//! Its views: [`view`] shows it to people, [`saved`] writes it down for
//! `apply --plan` and checks that nothing moved since.

pub mod saved;
pub mod view;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::konduktor::digest_key::DigestKey;
use crate::konduktor::secret_value::SecretBytes;
use crate::konduktor::{
    self, DesiredSecret, KonduktorOwn, LiveSecret, PAYLOAD_ZIP_KEY, SecretKind, Terminating,
};
use crate::secrets::manifest::Desired;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    Create,
    Merge,
    Unchanged,
    Delete,
    /// A secret with our name that is not ours: never touched.
    Conflict,
    /// Ours, already being deleted (a finalizer holds it): never written,
    /// never deleted again; apply waits for it to go.
    Terminating,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeleteReason {
    /// `state: absent` in the manifest.
    Absent,
    /// The previous git-ssh secret, replaced by one with another name.
    ReplacedGitSsh,
    /// Owned by the caller but not in the manifest, with `--prune`.
    Pruned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    Added,
    Changed,
    Removed,
    /// In the cluster, not in the manifest: kept (Konduktor's merge).
    Kept,
    Unchanged,
}

/// Where a changed key's change came from, by the `applied` record the
/// last write through this tool left (docs/konduktor-compat.md §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Origin {
    /// The manifest's value is not what was applied; the cluster still
    /// holds what was.
    Sources,
    /// The cluster no longer holds what was applied (something else wrote
    /// it); the manifest still wants what was.
    Cluster,
    /// Both moved since the last apply.
    Both,
    /// No record to tell by: written before the record existed, or by
    /// another tool.
    Unknown,
}

/// A file inside a directory secret's archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    pub path: String,
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyChange {
    pub key: String,
    pub change: Change,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileChange>,
    /// How the key was compared, when not as usual (e.g. [`NOTE_ZIP_BY_BYTES`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Where the desired value comes from, when worth saying (a command):
    /// never the value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// For a key a merge adds, changes or removes: where the change came
    /// from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// Values, for `--show-secrets` only; never serialized.
    #[serde(skip)]
    pub old: Option<SecretBytes>,
    #[serde(skip)]
    pub new: Option<SecretBytes>,
}

/// The live object a write is conditional on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveRef {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
    /// Its `created-by` annotation, kept by a merge (docs/konduktor-compat.md §5.1).
    #[serde(skip)]
    pub created_by: Option<String>,
    /// Its `applied` record, if readable: what the last write through this
    /// tool applied, key -> digest.
    #[serde(skip)]
    pub applied: Option<BTreeMap<String, String>>,
}

/// A secret's kind as the plan shows it: one this version knows, or a live
/// label it does not (a newer Konduktor's kind, or a hand-edited label),
/// kept as written so the plan's JSON shows it unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KindLabel {
    Known(SecretKind),
    Unknown(String),
}

impl KindLabel {
    /// The kind label of a live secret, if it has one.
    pub fn of_live(l: &LiveSecret) -> Option<Self> {
        l.kind_label().map(|raw| match raw.parse() {
            Ok(kind) => KindLabel::Known(kind),
            Err(_) => KindLabel::Unknown(raw.to_string()),
        })
    }

    pub fn known(&self) -> Option<SecretKind> {
        match self {
            KindLabel::Known(kind) => Some(*kind),
            KindLabel::Unknown(_) => None,
        }
    }

    /// The label as written.
    pub fn as_str(&self) -> &str {
        match self {
            KindLabel::Known(kind) => kind.as_str(),
            KindLabel::Unknown(raw) => raw,
        }
    }
}

impl Serialize for KindLabel {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// What the plan does with one secret, each step carrying what carrying it
/// out needs and nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Not in the cluster: write `desired`.
    Create { desired: DesiredSecret },
    /// Ours in the cluster and different: patch it, conditional on `live`.
    Merge {
        live: LiveRef,
        desired: DesiredSecret,
        /// The kind label before (`<none>` when there was none), when the
        /// merge relabels it.
        relabel_from: Option<String>,
    },
    /// Ours in the cluster and already as the manifest wants it.
    Unchanged { live: LiveRef },
    /// `state: absent`, and there is nothing to delete.
    AlreadyAbsent,
    /// Ours in the cluster and to go, conditional on `live`.
    Delete { live: LiveRef, reason: DeleteReason },
    /// A secret with our name that is not ours (or not one we may write):
    /// never touched.
    Conflict {
        cause: ConflictCause,
        /// The caller's owner hash, for the message.
        caller: String,
        /// Does the manifest name it? Only then does it stop an apply; one
        /// it does not name is only reported (it is never deleted).
        named: bool,
    },
    /// Ours, and already being deleted: a finalizer holds it. Never
    /// deleted again; `reason` is why the plan would have deleted it (then
    /// apply waits for it to go), `None` when it would not have.
    Terminating {
        live: LiveRef,
        terminating: Terminating,
        reason: Option<DeleteReason>,
    },
}

/// Why a secret with one of our names is never written or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConflictCause {
    /// Its owner label names someone else (`Some`), or it has none: not
    /// made by Konduktor (`None`).
    Foreign { owner: Option<String> },
    /// It carries our owner label, but Konduktor writes only Opaque
    /// Secrets: this one (e.g. `kubernetes.io/tls`) is not ours.
    NotOpaque { secret_type: String },
    /// Ours, but being deleted: it cannot be merged into, nor created anew
    /// until it is gone.
    Terminating(Terminating),
    /// Konduktor's own (docs/konduktor-compat.md §1.6): a kind no manifest
    /// declares, or none. Never written or deleted by a manifest.
    KonduktorOwn(KonduktorOwn),
}

/// One of Konduktor's own secrets under the caller's owner label
/// (docs/konduktor-compat.md §1.6): not planned, kept, shown once as such.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeptOwn {
    /// Its basename label (else the object name).
    pub name: String,
    pub secret_name: String,
    /// The kind label as written (`None`: it has none).
    pub kind: Option<String>,
    /// What it is, as a stable word: `storageCredentials`, `sshKeys`,
    /// `noKind` or `otherKind`.
    pub what: &'static str,
    /// What it is and who makes it, for people.
    pub description: String,
    #[serde(skip)]
    pub own: KonduktorOwn,
}

impl KeptOwn {
    fn of(l: &LiveSecret, own: KonduktorOwn) -> Self {
        KeptOwn {
            name: l.basename().unwrap_or(&l.name).to_string(),
            secret_name: l.name.clone(),
            kind: l.kind_label().map(str::to_string),
            what: own.id(),
            description: own.describe(),
            own,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretPlan {
    pub name: String,
    pub secret_name: String,
    /// The desired kind for a create, merge or unchanged secret; the live
    /// label for a delete or conflict; none for an absent one.
    pub kind: Option<KindLabel>,
    pub keys: Vec<KeyChange>,
    pub step: Step,
}

impl SecretPlan {
    pub fn action(&self) -> Action {
        match self.step {
            Step::Create { .. } => Action::Create,
            Step::Merge { .. } => Action::Merge,
            Step::Unchanged { .. } | Step::AlreadyAbsent => Action::Unchanged,
            Step::Delete { .. } => Action::Delete,
            Step::Conflict { .. } => Action::Conflict,
            Step::Terminating { .. } => Action::Terminating,
        }
    }

    /// Why the secret goes (or, for an absent one, would have gone).
    /// Does carrying it out create or merge an object (a delete does neither)?
    pub fn writes_object(&self) -> bool {
        matches!(self.step, Step::Create { .. } | Step::Merge { .. })
    }

    pub fn reason(&self) -> Option<DeleteReason> {
        match self.step {
            Step::Delete { reason, .. } => Some(reason),
            Step::Terminating { reason, .. } => reason,
            Step::AlreadyAbsent => Some(DeleteReason::Absent),
            _ => None,
        }
    }

    /// The kind this version knows the secret as, if any.
    pub fn known_kind(&self) -> Option<SecretKind> {
        self.kind.as_ref().and_then(KindLabel::known)
    }

    /// For a conflict, what is in the way, for people.
    pub fn conflict_message(&self) -> Option<String> {
        let Step::Conflict { cause, caller, .. } = &self.step else {
            return None;
        };
        let name = &self.secret_name;
        Some(match cause {
            ConflictCause::Foreign { owner } => {
                let holder = match owner {
                    Some(o) => format!("it belongs to owner {o}"),
                    None => "it was not made by Konduktor".to_string(),
                };
                format!(
                    "a Secret named {name} exists and {holder}, not to you ({caller}); it is never touched"
                )
            }
            ConflictCause::NotOpaque { secret_type } => format!(
                "a Secret named {name} carries your owner label but is of type {secret_type}, not Opaque: Konduktor never made it; it is never written or deleted"
            ),
            ConflictCause::Terminating(t) => format!(
                "your Secret {name} is being deleted ({}); it is not written until it is gone",
                t.pending()
            ),
            ConflictCause::KonduktorOwn(own) => format!(
                "the entry \"{}\" names the Secret {name}, which is Konduktor's own ({}), not a secret a manifest manages; it is never written or deleted by a manifest",
                self.name,
                own.describe()
            ),
        })
    }

    /// Does this conflict stop an apply (the manifest names the secret)?
    pub fn blocks(&self) -> bool {
        matches!(self.step, Step::Conflict { named: true, .. })
    }

    /// Decoded bytes the secret holds once this plan is carried out (keys
    /// that compare unchanged keep their live bytes; removed keys count 0).
    pub fn size_after(&self) -> usize {
        self.keys
            .iter()
            .map(|k| match k.change {
                Change::Added | Change::Changed => k.new.as_ref().map_or(0, SecretBytes::len),
                Change::Unchanged | Change::Kept => k
                    .old
                    .as_ref()
                    .or(k.new.as_ref())
                    .map_or(0, SecretBytes::len),
                Change::Removed => 0,
            })
            .sum()
    }

    /// The `applied` record a merge or create of this secret leaves
    /// (docs/konduktor-compat.md §5.1), keyed with `key` (none without
    /// it): the digest of each key the manifest sets; for a key kept
    /// without it (not written now), the old entry if the cluster still
    /// holds what it describes (made anew with `key`), none if another
    /// writer has changed the value since (the entry would describe a
    /// value that is gone), and another key's entry as it is (this run
    /// cannot tell, and without that key it reveals nothing). Removed keys
    /// leave no entry.
    pub fn applied_after(&self, key: Option<&DigestKey>) -> BTreeMap<String, String> {
        let old = match &self.step {
            Step::Merge { live, .. } => live.applied.as_ref(),
            _ => None,
        };
        let record = |name: &str, v: &SecretBytes| {
            key.map(|key| {
                (
                    name.to_string(),
                    konduktor::applied_digest(key, &self.secret_name, name, v.expose()),
                )
            })
        };
        self.keys
            .iter()
            .filter_map(|k| match k.change {
                Change::Added | Change::Changed | Change::Unchanged => {
                    k.new.as_ref().and_then(|v| record(&k.key, v))
                }
                Change::Kept => {
                    let entry = old?.get(&k.key)?;
                    let live = k.old.as_ref()?;
                    let name = &self.secret_name;
                    match konduktor::digest_matches(entry, key, name, &k.key, live.expose()) {
                        Some(true) => record(&k.key, live),
                        Some(false) => None,
                        None => Some((k.key.clone(), entry.clone())),
                    }
                }
                Change::Removed => None,
            })
            .collect()
    }

    /// Does carrying this out delete anything (a secret or a key)?
    pub fn deletes(&self) -> bool {
        match self.step {
            Step::Delete { .. } => true,
            Step::Merge { .. } => self.keys.iter().any(|k| k.change == Change::Removed),
            _ => false,
        }
    }
}

/// A plan's secret as `-o json` has always shown it: flat, with the fields
/// of other actions left out. (`kind` is the label as written, known or not.)
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecretPlanJson<'a> {
    name: &'a str,
    secret_name: &'a str,
    kind: Option<&'a KindLabel>,
    action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<DeleteReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    relabel_from: Option<&'a str>,
    keys: &'a [KeyChange],
    #[serde(skip_serializing_if = "Option::is_none")]
    conflict: Option<String>,
    /// For a conflict with one of Konduktor's own secrets: what it is
    /// (as [`KeptOwn::what`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    konduktor_own: Option<&'static str>,
    /// For a secret being deleted: the finalizers that hold it.
    #[serde(skip_serializing_if = "Option::is_none")]
    finalizers: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    live: Option<&'a LiveRef>,
}

impl Serialize for SecretPlan {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (live, relabel_from) = match &self.step {
            Step::Merge {
                live, relabel_from, ..
            } => (Some(live), relabel_from.as_deref()),
            Step::Unchanged { live }
            | Step::Delete { live, .. }
            | Step::Terminating { live, .. } => (Some(live), None),
            Step::Create { .. } | Step::AlreadyAbsent | Step::Conflict { .. } => (None, None),
        };
        let finalizers = match &self.step {
            Step::Terminating { terminating, .. }
            | Step::Conflict {
                cause: ConflictCause::Terminating(terminating),
                ..
            } => Some(terminating.finalizers.as_slice()),
            _ => None,
        };
        SecretPlanJson {
            name: &self.name,
            secret_name: &self.secret_name,
            kind: self.kind.as_ref(),
            action: self.action(),
            reason: self.reason(),
            relabel_from,
            keys: &self.keys,
            conflict: self.conflict_message(),
            konduktor_own: match &self.step {
                Step::Conflict {
                    cause: ConflictCause::KonduktorOwn(own),
                    ..
                } => Some(own.id()),
                _ => None,
            },
            finalizers,
            live,
        }
        .serialize(serializer)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    pub create: usize,
    pub merge: usize,
    pub delete: usize,
    pub unchanged: usize,
    pub conflict: usize,
    /// Ours and already being deleted (waited on, never deleted again).
    #[serde(skip_serializing_if = "is_zero")]
    pub terminating: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub owner: String,
    pub prune: bool,
    pub secrets: Vec<SecretPlan>,
    /// The caller's secrets that the manifest does not mention (kept without --prune).
    pub unmanaged: Vec<String>,
    /// Konduktor's own secrets under the caller's owner label that the
    /// manifest does not name: kept, whatever `--prune` says.
    pub konduktor_own: Vec<KeptOwn>,
    pub summary: Summary,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        self.secrets
            .iter()
            .any(|s| matches!(s.action(), Action::Create | Action::Merge | Action::Delete))
            || self.awaits_deletion()
    }

    /// Is a secret the plan would delete already being deleted? (Apply
    /// then waits for it to go, and never deletes it again.)
    pub fn awaits_deletion(&self) -> bool {
        self.secrets.iter().any(|s| {
            matches!(
                s.step,
                Step::Terminating {
                    reason: Some(_),
                    ..
                }
            )
        })
    }

    /// Did the cluster hold none of the caller's secrets? (Then they may
    /// be under another owner hash: docs/konduktor-compat.md §2.4.)
    pub fn found_none_of_yours(&self) -> bool {
        self.unmanaged.is_empty()
            && self.konduktor_own.is_empty()
            && self.secrets.iter().all(|s| {
                matches!(
                    s.step,
                    Step::Create { .. } | Step::AlreadyAbsent | Step::Conflict { .. }
                )
            })
    }

    pub fn has_deletions(&self) -> bool {
        self.secrets.iter().any(SecretPlan::deletes)
    }

    pub fn has_conflicts(&self) -> bool {
        self.summary.conflict > 0
    }

    /// The conflicts that stop an apply: those the manifest names.
    pub fn blocking_conflicts(&self) -> usize {
        self.secrets.iter().filter(|s| s.blocks()).count()
    }

    /// Apply refuses a plan with a conflict on a secret the manifest
    /// names, before anything is sent.
    pub fn refuse_conflicts(&self) -> Result<(), crate::error::Error> {
        if self.blocking_conflicts() == 0 {
            return Ok(());
        }
        Err(crate::error::Error::new(
            crate::error::ErrorKind::Foreign,
            "apply refused: secrets with your names exist that are not yours, not Opaque, Konduktor's own, or being deleted; nothing was changed",
        )
        .with_help("rename those secrets in the manifest (the existing ones are never touched), or run apply again once a secret being deleted is gone; Konduktor's own secrets are deleted only by name, with `kubectl konduktor secret delete NAME`"))
    }

    /// The API server would refuse a Secret over 1 MiB: say so before
    /// anything is sent.
    pub fn refuse_oversized(&self) -> Result<(), crate::error::Error> {
        match self.oversized() {
            None => Ok(()),
            Some((s, size)) => Err(crate::error::Error::input(format!(
                "secret \"{}\" would hold {size} bytes after this change; a Secret holds at most {} (1 MiB)",
                s.name,
                konduktor::MAX_SECRET_BYTES
            ))
            .with_help("keys in the cluster are kept unless removed: use --prune (apply) or delete the secret first, or split the data over several secrets")),
        }
    }

    /// The first secret a create or merge would take past the API server's
    /// 1 MiB limit, with its size: refused before anything is sent.
    pub fn oversized(&self) -> Option<(&SecretPlan, usize)> {
        self.secrets
            .iter()
            .filter(|s| matches!(s.action(), Action::Create | Action::Merge))
            .map(|s| (s, s.size_after()))
            .find(|(_, size)| *size > konduktor::MAX_SECRET_BYTES)
    }
}

/// Compute the plan. `live` is what the one LIST returned (normally only the
/// caller's secrets; anything else holding one of our names is a conflict).
/// Without a digest key: an `applied` entry keyed with one tells nothing.
pub fn plan(desired: &[Desired], live: &[LiveSecret], owner_hash: &str, prune: bool) -> Plan {
    plan_with_key(desired, live, owner_hash, prune, None)
}

/// [`plan`], with the digest key that checks the `applied` records.
pub fn plan_with_key(
    desired: &[Desired],
    live: &[LiveSecret],
    owner_hash: &str,
    prune: bool,
    key: Option<&DigestKey>,
) -> Plan {
    let mut secrets = plan_desired(desired, live, owner_hash, prune);
    let Unmentioned {
        steps,
        unmanaged,
        konduktor_own,
    } = plan_unmentioned(desired, live, owner_hash, prune);
    attribute(&mut secrets, key);
    secrets.extend(steps);
    let summary = summarize(&secrets);
    Plan {
        owner: owner_hash.to_string(),
        prune,
        secrets,
        unmanaged,
        konduktor_own,
        summary,
    }
}

/// One step per secret the manifest names, in manifest order.
fn plan_desired(
    desired: &[Desired],
    live: &[LiveSecret],
    owner_hash: &str,
    prune: bool,
) -> Vec<SecretPlan> {
    let by_name: BTreeMap<&str, &LiveSecret> = live.iter().map(|s| (s.name.as_str(), s)).collect();
    desired
        .iter()
        .map(|d| {
            let object = konduktor::object_name(d.basename(), owner_hash);
            let current = by_name.get(object.as_str()).copied();
            // Not ours to write: another owner's, none's, not Opaque, or
            // Konduktor's own; or ours, wanted, and being deleted.
            let blocked = current.and_then(|l| {
                not_ours(l, owner_hash).or_else(|| match (d, &l.terminating) {
                    (Desired::Present(_), Some(t)) => Some(ConflictCause::Terminating(t.clone())),
                    _ => None,
                })
            });
            match (d, current) {
                (_, Some(l)) if blocked.is_some() => conflict(
                    d.basename(),
                    l,
                    owner_hash,
                    blocked.unwrap_or(ConflictCause::Foreign { owner: None }),
                    true,
                ),
                (Desired::Absent { basename }, Some(l)) if l.terminating.is_some() => {
                    terminating(basename, l, Some(DeleteReason::Absent))
                }
                (Desired::Present(s), None) => create(s, object),
                (Desired::Present(s), Some(l)) => merge(s, l, prune),
                (Desired::Absent { basename }, Some(l)) => {
                    delete(basename, l, DeleteReason::Absent)
                }
                (Desired::Absent { basename }, None) => SecretPlan {
                    name: basename.clone(),
                    secret_name: object,
                    kind: None,
                    keys: Vec::new(),
                    step: Step::AlreadyAbsent,
                },
            }
        })
        .collect()
}

/// What the plan makes of the caller's secrets the manifest does not name.
struct Unmentioned {
    /// Deletions, waits on deletion, and conflicts only reported.
    steps: Vec<SecretPlan>,
    /// Kept: not in the manifest, no `--prune`.
    unmanaged: Vec<String>,
    /// Kept always: Konduktor's own.
    konduktor_own: Vec<KeptOwn>,
}

/// The caller's secrets the manifest does not name: deleted when a new
/// git-ssh secret replaces them or with `--prune`, else listed as kept;
/// Konduktor's own are kept either way.
fn plan_unmentioned(
    desired: &[Desired],
    live: &[LiveSecret],
    owner_hash: &str,
    prune: bool,
) -> Unmentioned {
    // Our secrets are known by object name and owner label: the object a
    // manifest entry names is that entry's alone, whatever its basename
    // label says (a wrong one is repaired by the merge), so it is never
    // also deleted as unmentioned.
    let mentioned: BTreeSet<String> = desired
        .iter()
        .map(|d| konduktor::object_name(d.basename(), owner_hash))
        .collect();
    let wanted_git_ssh = desired.iter().find_map(|d| match d {
        Desired::Present(s) if s.kind == SecretKind::GitSsh => Some(s.basename.as_str()),
        _ => None,
    });
    let mut deletes = Vec::new();
    let mut unmanaged = Vec::new();
    let mut konduktor_own = Vec::new();
    for l in live.iter().filter(|l| l.is_owned_by(owner_hash)) {
        let basename = l.basename().unwrap_or(&l.name);
        if mentioned.contains(&l.name) {
            continue;
        }
        match not_ours(l, owner_hash) {
            Some(ConflictCause::KonduktorOwn(own)) => {
                konduktor_own.push(KeptOwn::of(l, own));
                continue;
            }
            Some(cause) => {
                deletes.push(conflict(basename, l, owner_hash, cause, false));
                continue;
            }
            None => {}
        }
        let replaced_git_ssh =
            wanted_git_ssh.is_some_and(|w| w != basename) && l.kind() == Some(SecretKind::GitSsh);
        let reason = if replaced_git_ssh {
            Some(DeleteReason::ReplacedGitSsh)
        } else {
            prune.then_some(DeleteReason::Pruned)
        };
        if l.terminating.is_some() {
            deletes.push(terminating(basename, l, reason));
        } else if let Some(reason) = reason {
            deletes.push(delete(basename, l, reason));
        } else {
            unmanaged.push(basename.to_string());
        }
    }
    Unmentioned {
        steps: deletes,
        unmanaged,
        konduktor_own,
    }
}

/// Why `l`, which holds one of our names, is not ours to write or delete:
/// another owner, none, a type Konduktor never writes, or a kind no
/// manifest declares (Konduktor's own, docs/konduktor-compat.md §1.6).
fn not_ours(l: &LiveSecret, owner_hash: &str) -> Option<ConflictCause> {
    if !l.is_owned_by(owner_hash) {
        return Some(ConflictCause::Foreign {
            owner: l.owner().map(str::to_string),
        });
    }
    if !l.is_opaque() {
        return Some(ConflictCause::NotOpaque {
            secret_type: l.type_name().to_string(),
        });
    }
    l.konduktor_own().map(ConflictCause::KonduktorOwn)
}

fn summarize(secrets: &[SecretPlan]) -> Summary {
    let mut summary = Summary::default();
    for s in secrets {
        match s.action() {
            Action::Create => summary.create += 1,
            Action::Merge => summary.merge += 1,
            Action::Delete => summary.delete += 1,
            Action::Unchanged => summary.unchanged += 1,
            Action::Conflict => summary.conflict += 1,
            Action::Terminating => summary.terminating += 1,
        }
    }
    summary
}

fn live_ref(l: &LiveSecret) -> LiveRef {
    LiveRef {
        uid: l.uid.clone(),
        resource_version: l.resource_version.clone(),
        created_by: l.created_by().map(str::to_string),
        applied: l.applied(),
    }
}

fn conflict(
    basename: &str,
    l: &LiveSecret,
    owner_hash: &str,
    cause: ConflictCause,
    named: bool,
) -> SecretPlan {
    SecretPlan {
        name: basename.to_string(),
        secret_name: l.name.clone(),
        kind: KindLabel::of_live(l),
        keys: Vec::new(),
        step: Step::Conflict {
            cause,
            caller: owner_hash.to_string(),
            named,
        },
    }
}

/// Ours, already being deleted: waited on, never deleted again.
fn terminating(basename: &str, l: &LiveSecret, reason: Option<DeleteReason>) -> SecretPlan {
    SecretPlan {
        name: basename.to_string(),
        secret_name: l.name.clone(),
        kind: KindLabel::of_live(l),
        keys: Vec::new(),
        step: Step::Terminating {
            live: live_ref(l),
            terminating: l.terminating.clone().unwrap_or_default(),
            reason,
        },
    }
}

fn create(s: &DesiredSecret, object: String) -> SecretPlan {
    SecretPlan {
        name: s.basename.clone(),
        secret_name: object,
        kind: Some(KindLabel::Known(s.kind)),
        keys: s
            .data
            .iter()
            .map(|(k, v)| {
                let (files, note) = zip_files_added(k, v);
                KeyChange {
                    key: k.clone(),
                    change: Change::Added,
                    files,
                    note,
                    from: s.origins.get(k).cloned(),
                    origin: None,
                    old: None,
                    new: Some(v.clone()),
                }
            })
            .collect(),
        step: Step::Create { desired: s.clone() },
    }
}

fn delete(basename: &str, l: &LiveSecret, reason: DeleteReason) -> SecretPlan {
    SecretPlan {
        name: basename.to_string(),
        secret_name: l.name.clone(),
        kind: KindLabel::of_live(l),
        keys: l
            .data
            .iter()
            .map(|(k, v)| KeyChange {
                key: k.clone(),
                change: Change::Removed,
                files: Vec::new(),
                note: None,
                from: None,
                origin: None,
                old: Some(v.clone()),
                new: None,
            })
            .collect(),
        step: Step::Delete {
            live: live_ref(l),
            reason,
        },
    }
}

fn merge(s: &DesiredSecret, l: &LiveSecret, prune: bool) -> SecretPlan {
    let keys = merge_keys(s, l, prune);
    let labels = konduktor::labels(&s.basename, s.kind, l.owner().unwrap_or_default());
    let relabel = labels.iter().any(|(k, v)| l.labels.get(k) != Some(v));
    let changed = relabel
        || keys
            .iter()
            .any(|k| matches!(k.change, Change::Added | Change::Changed | Change::Removed));
    let step = if changed {
        Step::Merge {
            live: live_ref(l),
            desired: s.clone(),
            relabel_from: (l.kind_label() != Some(s.kind.as_str()))
                .then(|| l.kind_label().unwrap_or("<none>").to_string()),
        }
    } else {
        Step::Unchanged { live: live_ref(l) }
    };
    SecretPlan {
        name: s.basename.clone(),
        secret_name: l.name.clone(),
        kind: Some(KindLabel::Known(s.kind)),
        keys,
        step,
    }
}

/// Every key of the desired and the live secret, sorted: desired keys
/// added, changed or unchanged; live-only keys kept, or removed with prune.
fn merge_keys(s: &DesiredSecret, l: &LiveSecret, prune: bool) -> Vec<KeyChange> {
    let mut keys = Vec::new();
    for (k, new) in &s.data {
        let (change, files, note) = match l.data.get(k) {
            None => {
                let (files, note) = zip_files_added(k, new);
                (Change::Added, files, note)
            }
            Some(old) => compare_values(k, old, new),
        };
        let old = l.data.get(k);
        keys.push(KeyChange {
            key: k.clone(),
            change,
            files,
            note,
            from: s.origins.get(k).cloned(),
            origin: None,
            old: old.cloned(),
            new: Some(new.clone()),
        });
    }
    for (k, old) in l.data.iter().filter(|(k, _)| !s.data.contains_key(*k)) {
        let change = if prune { Change::Removed } else { Change::Kept };
        keys.push(KeyChange {
            key: k.clone(),
            change,
            files: Vec::new(),
            note: None,
            from: None,
            origin: None,
            old: Some(old.clone()),
            new: None,
        });
    }
    keys.sort_by(|a, b| a.key.cmp(&b.key));
    keys
}

/// Where each change a merge makes came from, by the live object's
/// `applied` record checked with `key` (docs/konduktor-compat.md §5.1).
fn attribute(secrets: &mut [SecretPlan], key: Option<&DigestKey>) {
    for s in secrets {
        let SecretPlan {
            secret_name,
            keys,
            step,
            ..
        } = s;
        let Step::Merge { live, .. } = step else {
            continue;
        };
        for k in keys.iter_mut() {
            let values = (k.new.as_ref(), k.old.as_ref());
            k.origin = origin(
                k.change,
                live.applied.as_ref(),
                key,
                secret_name,
                &k.key,
                values,
            );
        }
    }
}

/// Where a merge's change to key `k` of `secret_name` came from: the
/// desired and the live value (`None`: not there), each compared with the
/// `applied` record. `None` for a key the merge leaves alone.
fn origin(
    change: Change,
    applied: Option<&BTreeMap<String, String>>,
    key: Option<&DigestKey>,
    secret_name: &str,
    k: &str,
    (desired, live): (Option<&SecretBytes>, Option<&SecretBytes>),
) -> Option<Origin> {
    if !matches!(change, Change::Added | Change::Changed | Change::Removed) {
        return None;
    }
    let Some(applied) = applied else {
        return Some(Origin::Unknown);
    };
    // Does this side still hold what was applied? A key without a record
    // was not applied: it still "holds" it where it is absent. `None`: an
    // entry keyed with a key this run does not have.
    let as_applied = |v: Option<&SecretBytes>| match (applied.get(k), v) {
        (Some(d), Some(v)) => konduktor::digest_matches(d, key, secret_name, k, v.expose()),
        (None, None) => Some(true),
        _ => Some(false),
    };
    let origin = match (as_applied(desired), as_applied(live)) {
        (Some(false), Some(true)) => Origin::Sources,
        (Some(true), Some(false)) => Origin::Cluster,
        (Some(false), Some(false)) => Origin::Both,
        // Both as applied and yet different: a record that cannot tell.
        (Some(true), Some(true)) => Origin::Unknown,
        (None, _) | (_, None) => Origin::Unknown,
    };
    Some(origin)
}

/// A zip read from the cluster is inflated up to this many bytes in all:
/// anyone who can write the Secret can plant a small archive that inflates
/// to gigabytes. 64 times what a Secret may hold.
pub const MAX_ZIP_INFLATED_BYTES: u64 = 64 * konduktor::MAX_SECRET_BYTES as u64;
/// ... and up to this many entries.
pub const MAX_ZIP_ENTRIES: usize = 10_000;
/// The note on a `payload.zip` key compared by its bytes, not by file.
pub const NOTE_ZIP_BY_BYTES: &str = "archive too large to compare by file; compared by bytes";

/// A directory archive, by content: entry path -> (permission bits, SHA-256
/// of the bytes). Digests, not bytes, so comparing holds little memory.
type ZipContent = BTreeMap<String, (Option<u32>, [u8; 32])>;

/// What reading a `payload.zip` gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZipRead {
    Content(ZipContent),
    /// Not a zip, or a broken one.
    NotZip,
    /// Over [`MAX_ZIP_INFLATED_BYTES`] or [`MAX_ZIP_ENTRIES`]: not read further.
    OverCap,
}

/// Read a `payload.zip` into its content, inflating at most
/// [`MAX_ZIP_INFLATED_BYTES`] in all (whatever sizes the headers declare)
/// and at most [`MAX_ZIP_ENTRIES`] entries.
pub fn read_zip(bytes: &[u8]) -> ZipRead {
    use sha2::{Digest, Sha256};
    let Ok(mut archive) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return ZipRead::NotZip;
    };
    if archive.len() > MAX_ZIP_ENTRIES {
        return ZipRead::OverCap;
    }
    let mut remaining = MAX_ZIP_INFLATED_BYTES;
    let mut out = BTreeMap::new();
    let mut buf = vec![0u8; 64 * 1024];
    for i in 0..archive.len() {
        let Ok(file) = archive.by_index(i) else {
            return ZipRead::NotZip;
        };
        if file.is_dir() {
            continue;
        }
        let Ok(name) = file.name().map(|n| n.into_owned()) else {
            return ZipRead::NotZip;
        };
        let mode = file.unix_mode().map(|m| m & 0o777);
        let mut hasher = Sha256::new();
        let mut limited = file.take(remaining.saturating_add(1));
        loop {
            match limited.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let Some(chunk) = buf.get(..n) else {
                        return ZipRead::NotZip;
                    };
                    hasher.update(chunk);
                    let n = u64::try_from(n).unwrap_or(u64::MAX);
                    match remaining.checked_sub(n) {
                        Some(left) => remaining = left,
                        None => return ZipRead::OverCap,
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => return ZipRead::NotZip,
            }
        }
        out.insert(name, (mode, hasher.finalize().into()));
    }
    ZipRead::Content(out)
}

fn zip_files_added(key: &str, value: &SecretBytes) -> (Vec<FileChange>, Option<String>) {
    if key != PAYLOAD_ZIP_KEY {
        return (Vec::new(), None);
    }
    match read_zip(value.expose()) {
        ZipRead::Content(c) => (
            c.into_keys()
                .map(|path| FileChange {
                    path,
                    change: Change::Added,
                })
                .collect(),
            None,
        ),
        ZipRead::NotZip => (Vec::new(), None),
        ZipRead::OverCap => (Vec::new(), Some(NOTE_ZIP_BY_BYTES.to_string())),
    }
}

/// Compare two values of one key. Directory archives compare by entries,
/// bytes and modes, so timestamps and entry order do not count; one over
/// the caps compares by its bytes, with a note saying so (equal bytes are
/// unchanged without reading either archive).
fn compare_values(
    key: &str,
    old: &SecretBytes,
    new: &SecretBytes,
) -> (Change, Vec<FileChange>, Option<String>) {
    if old == new {
        return (Change::Unchanged, Vec::new(), None);
    }
    if key != PAYLOAD_ZIP_KEY {
        return (Change::Changed, Vec::new(), None);
    }
    let (a, b) = match (read_zip(old.expose()), read_zip(new.expose())) {
        (ZipRead::Content(a), ZipRead::Content(b)) => (a, b),
        (ZipRead::OverCap, _) | (_, ZipRead::OverCap) => {
            return (
                Change::Changed,
                Vec::new(),
                Some(NOTE_ZIP_BY_BYTES.to_string()),
            );
        }
        _ => return (Change::Changed, Vec::new(), None),
    };
    let mut files = Vec::new();
    for (path, entry) in &b {
        match a.get(path) {
            None => files.push(FileChange {
                path: path.clone(),
                change: Change::Added,
            }),
            Some(old_entry) if old_entry != entry => files.push(FileChange {
                path: path.clone(),
                change: Change::Changed,
            }),
            Some(_) => {}
        }
    }
    for path in a.keys().filter(|p| !b.contains_key(*p)) {
        files.push(FileChange {
            path: path.clone(),
            change: Change::Removed,
        });
    }
    files.sort_by(|x, y| x.path.cmp(&y.path));
    if files.is_empty() {
        (Change::Unchanged, files, None)
    } else {
        (Change::Changed, files, None)
    }
}

#[cfg(test)]
pub(crate) mod tests;
