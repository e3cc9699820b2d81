//! `secret create`'s create-or-merge, as Konduktor's CLI does it: read,
//! then create the secret, or merge into the caller's existing one of that name (keys
//! added or overwritten, none removed, kind relabelled), never into someone
//! else's; a new git-ssh secret replaces the caller's previous one.

use crate::error::{Error, ErrorKind, Result};
use crate::konduktor::{self, DesiredSecret, LiveSecret, SecretKind, WriteMeta};
use crate::secrets::execute;
use crate::secrets::manifest::Desired;
use crate::secrets::plan::{self, Change, Step};
use crate::secrets::store::{SecretStore, owner_selector};

/// What the write did to the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Created,
    Merged {
        added: Vec<String>,
        updated: Vec<String>,
        kept: Vec<String>,
        relabelled: bool,
    },
    Unchanged,
}

/// A previous git-ssh secret, deleted once the new one was in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    /// The name a person gave it.
    pub name: String,
    /// The object name.
    pub secret_name: String,
    /// The finalizers that still hold it, when the server answered the
    /// delete with the object itself (it stays until they are removed);
    /// `None` when it is gone.
    pub held_by: Option<Vec<String>>,
}

/// What `create_or_merge` did, for the command to print.
#[derive(Debug)]
pub struct CreateReport {
    pub name: String,
    pub secret_name: String,
    pub kind: SecretKind,
    pub keys: Vec<String>,
    pub written: Written,
    pub removed: Vec<Removed>,
    /// The new secret is in place, but a previous git-ssh secret could not
    /// be removed (those before it in `removed` were).
    pub removal_failed: Option<Error>,
}

impl CreateReport {
    /// One line for the secret, then one per previous git-ssh secret removed.
    pub fn render(&self) -> String {
        let (name, object) = (&self.name, &self.secret_name);
        let mut out = match &self.written {
            Written::Created => format!(
                "secret \"{name}\" created ({object}, kind {}, keys: {})\n",
                self.kind,
                self.keys.join(", ")
            ),
            Written::Unchanged => format!("secret \"{name}\" unchanged ({object})\n"),
            Written::Merged {
                added,
                updated,
                kept,
                relabelled,
            } => {
                let mut parts = Vec::new();
                for (label, list) in [("added", added), ("updated", updated), ("kept", kept)] {
                    if !list.is_empty() {
                        parts.push(format!("{label}: {}", list.join(", ")));
                    }
                }
                if *relabelled {
                    parts.push(format!("kind now {}", self.kind));
                }
                format!(
                    "secret \"{name}\" merged into {object} ({})\n",
                    parts.join("; ")
                )
            }
        };
        for r in &self.removed {
            out.push_str(&match &r.held_by {
                None => format!(
                    "removed the previous git-ssh secret \"{}\" ({})\n",
                    r.name, r.secret_name
                ),
                Some(finalizers) if finalizers.is_empty() => format!(
                    "deleting the previous git-ssh secret \"{}\" ({}): the server has not removed it yet\n",
                    r.name, r.secret_name
                ),
                Some(finalizers) => format!(
                    "deleting the previous git-ssh secret \"{}\" ({}): it stays until its finalizers are removed ({})\n",
                    r.name,
                    r.secret_name,
                    finalizers.join(", ")
                ),
            });
        }
        out
    }
}

/// Write `desired` for `owner_hash`: create, or merge into the caller's
/// existing secret; for a git-ssh secret, then remove the caller's previous
/// git-ssh secrets (only once the new one is in place).
pub async fn create_or_merge(
    store: &impl SecretStore,
    desired: &DesiredSecret,
    owner_hash: &str,
    meta: &WriteMeta,
) -> Result<CreateReport> {
    let previous_git_ssh = if desired.kind == SecretKind::GitSsh {
        let selector = format!(
            "{},{}={}",
            owner_selector(owner_hash),
            konduktor::LABEL_KIND,
            SecretKind::GitSsh
        );
        // Checked, not trusted to the server's selecting: only the
        // caller's own git-ssh secrets are previous ones.
        store
            .list(Some(&selector))
            .await?
            .into_iter()
            .filter(|s| s.is_owned_by(owner_hash) && s.kind() == Some(SecretKind::GitSsh))
            .collect()
    } else {
        Vec::new()
    };
    let secret_name = konduktor::object_name(&desired.basename, owner_hash);
    let written = write(store, desired, owner_hash, meta).await?;
    // Not Opaque: not ours; being deleted: not deleted again.
    let stale = previous_git_ssh
        .iter()
        .filter(|s| s.name != secret_name && s.is_opaque() && s.terminating.is_none());
    let (removed, removal_failed) = remove_previous(store, stale).await;
    Ok(CreateReport {
        name: desired.basename.clone(),
        secret_name,
        kind: desired.kind,
        keys: desired.data.keys().cloned().collect(),
        written,
        removed,
        removal_failed,
    })
}

/// One git-ssh secret per owner: remove the previous ones, in turn,
/// stopping at the first that fails.
async fn remove_previous<'a>(
    store: &impl SecretStore,
    previous: impl Iterator<Item = &'a LiveSecret>,
) -> (Vec<Removed>, Option<Error>) {
    let mut removed = Vec::new();
    for old in previous {
        let deleted = store
            .delete(&old.name, old.uid.clone(), old.resource_version.clone())
            .await;
        let held_by = match deleted {
            Err(e) => {
                let err = Error::new(e.kind, format!("the new git-ssh secret is in place, but the previous one ({}) was not removed: {e}", old.name))
                    .with_help("run the command again, or delete it with `kubectl konduktor secret delete`");
                return (removed, Some(err));
            }
            Ok(crate::secrets::store::Deleted::Gone) => None,
            // A finalizer holds it: deleted, but not gone (fixture
            // delete-with-finalizer).
            Ok(crate::secrets::store::Deleted::Pending(t)) => Some(t.finalizers),
        };
        removed.push(Removed {
            name: old.display_name().to_string(),
            secret_name: old.name.clone(),
            held_by,
        });
    }
    (removed, None)
}

/// The object as YAML, each value replaced by its size. Client-side only: it
/// cannot tell whether the write would create or merge.
pub fn dry_run_preview(
    desired: &DesiredSecret,
    owner_hash: &str,
    meta: &WriteMeta,
) -> Result<String> {
    let mut object = serde_json::to_value(desired.to_object(owner_hash, meta))
        .map_err(|e| Error::new(ErrorKind::Server, format!("cannot render the object: {e}")))?;
    object["data"] = desired
        .data
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                serde_json::Value::String(format!(
                    "<redacted, {}>",
                    crate::output::count(v.len(), "byte", "bytes")
                )),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into();
    let yaml = crate::output::to_data(&object, crate::output::Format::Yaml)?;
    Ok(format!(
        "# Client-side dry run: the cluster was not contacted. If {} exists, the keys are merged into it.\n{yaml}",
        konduktor::object_name(&desired.basename, owner_hash)
    ))
}

/// Read first, then create or merge, as Konduktor's CLI and `apply` do:
/// merging into an existing secret needs `get` and `patch`, never
/// `create`. A create that finds the name taken (made meanwhile) reads
/// again and merges.
async fn write(
    store: &impl SecretStore,
    desired: &DesiredSecret,
    owner_hash: &str,
    meta: &WriteMeta,
) -> Result<Written> {
    let name = konduktor::object_name(&desired.basename, owner_hash);
    let live = match store.get(&name).await? {
        Some(live) => live,
        None => {
            let object = desired.to_written_object(owner_hash, meta);
            match store.create(&object).await {
                Ok(()) => return Ok(Written::Created),
                Err(e) if e.kind == ErrorKind::Conflict => {}
                Err(e) => return Err(e),
            }
            // Made meanwhile; if it is gone again, someone deleted it meanwhile.
            store.get(&name).await?.ok_or_else(|| {
                Error::new(
                    ErrorKind::Conflict,
                    format!("secret {name} changed while it was being written"),
                )
                .with_help("run the command again")
            })?
        }
    };
    if !live.is_owned_by(owner_hash) {
        return Err(foreign(&live, owner_hash, store.namespace()));
    }
    refuse_unwritable(&live, &desired.basename)?;
    merge(store, desired, &live, owner_hash, meta).await
}

fn foreign(live: &LiveSecret, owner_hash: &str, namespace: &str) -> Error {
    let holder = match live.owner() {
        Some(other) => format!("owned by {other}"),
        None => "not made by Konduktor".to_string(),
    };
    Error::new(
        ErrorKind::Foreign,
        format!("a Secret named {} already exists in namespace {namespace} and is {holder}, not by you ({owner_hash}); it is left untouched", live.name),
    )
    .with_help("choose another name for your secret")
}

/// Ours by its owner label, yet never merged into: a Secret being deleted
/// (a finalizer holds it; the server would take the write, and the secret
/// would still go), one that is not Opaque (Konduktor never made it), or
/// Konduktor's own (docs/konduktor-compat.md §1.6).
fn refuse_unwritable(live: &LiveSecret, name: &str) -> Result<()> {
    if let Some(t) = &live.terminating {
        return Err(Error::new(
            ErrorKind::Conflict,
            format!(
                "your secret {} is being deleted ({}); it is not merged into, and a new one cannot be created until it is gone",
                live.name,
                t.pending()
            ),
        )
        .with_help("run the command again once it is gone (`kubectl konduktor secret list` shows it as Terminating), or choose another name"));
    }
    if !live.is_opaque() {
        return Err(Error::new(
            ErrorKind::Foreign,
            format!(
                "a Secret named {} carries your owner label but is of type {}, not Opaque: Konduktor never made it, and it is left untouched",
                live.name,
                live.type_name()
            ),
        )
        .with_help("choose another name for your secret"));
    }
    if let Some(own) = live.konduktor_own() {
        return Err(Error::new(
            ErrorKind::Foreign,
            format!(
                "the secret \"{name}\" would be written into the Secret {}, which is Konduktor's own ({}), not a secret you manage: it is left untouched",
                live.name,
                own.describe()
            ),
        )
        .with_help("choose another name for your secret; Konduktor's own are deleted only by name (`kubectl konduktor secret delete NAME`)"));
    }
    Ok(())
}

/// Konduktor's merge: keys added or overwritten, none removed, kind
/// relabelled. Planned exactly as `apply` plans it (so a re-zipped folder
/// with the same content is unchanged), then written the same way.
async fn merge(
    store: &impl SecretStore,
    desired: &DesiredSecret,
    live: &LiveSecret,
    owner_hash: &str,
    meta: &WriteMeta,
) -> Result<Written> {
    let plan = plan::plan(
        &[Desired::Present(desired.clone())],
        std::slice::from_ref(live),
        owner_hash,
        false,
    );
    plan.refuse_oversized()?;
    let Some((s, live_ref, relabel_from)) = plan.secrets.first().and_then(|s| match &s.step {
        Step::Merge {
            live, relabel_from, ..
        } => Some((s, live, relabel_from)),
        _ => None,
    }) else {
        return Ok(Written::Unchanged);
    };
    execute::merge_one(store, s, live_ref, desired, owner_hash, meta).await?;
    let keys = |change: Change| {
        s.keys
            .iter()
            .filter(|k| k.change == change)
            .map(|k| k.key.clone())
            .collect::<Vec<_>>()
    };
    Ok(Written::Merged {
        added: keys(Change::Added),
        updated: keys(Change::Changed),
        kept: keys(Change::Kept),
        relabelled: relabel_from.is_some(),
    })
}

#[cfg(test)]
#[path = "create_tests.rs"]
mod tests;
