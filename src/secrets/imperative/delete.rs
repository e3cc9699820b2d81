//! `secret delete`: the caller's secret with a basename, and only theirs,
//! each deleted on its UID and resourceVersion so a replaced object is
//! never deleted. Only Opaque Secrets are ours: one of another type that
//! carries our labels is refused, never deleted. One a finalizer holds is
//! not "deleted": it is pending (and waited on: [`crate::secrets::execute::wait`]),
//! and one already being deleted is not deleted again. Konduktor's own
//! (docs/konduktor-compat.md §1.6), named by their basename alone, may be
//! deleted by that name, as Konduktor's CLI does: [`Found::notes`] says
//! what each is before it goes.

use crate::error::{Error, ErrorKind, Result};
use crate::konduktor::identity::Owner;
use crate::konduktor::{self, LiveSecret, SecretKind, Terminating};
use crate::secrets::execute::wait::Awaited;
use crate::secrets::store::{Deleted, SecretStore, owner_selector};

/// What `delete_mine` did, for the command to print.
#[derive(Debug)]
pub struct DeleteReport {
    pub name: String,
    /// The object names deleted, in turn.
    pub deleted: Vec<String>,
    /// Deleted (or already being deleted), but a finalizer holds them:
    /// still there, Terminating.
    pub pending: Vec<Awaited>,
    /// Carrying our labels but not Opaque (object name, type): not ours,
    /// never deleted.
    pub refused: Vec<(String, String)>,
    /// The delete that failed, after those in `deleted`.
    pub failed: Option<Error>,
}

impl DeleteReport {
    pub fn render(&self) -> String {
        let name = crate::escape::text(&self.name);
        let mut out: String = self
            .deleted
            .iter()
            .map(|object| {
                format!(
                    "secret \"{name}\" deleted ({})\n",
                    crate::escape::text(object)
                )
            })
            .collect();
        for p in &self.pending {
            out.push_str(&format!(
                "secret \"{name}\" not yet deleted ({}): {}\n",
                crate::escape::text(&p.secret_name),
                crate::escape::text(&p.terminating.pending())
            ));
        }
        out
    }

    /// The error for secrets refused because they are not Opaque, if any.
    pub fn refusal(&self) -> Option<Error> {
        let list: Vec<String> = self
            .refused
            .iter()
            .map(|(object, ty)| format!("{object} (type {ty})"))
            .collect();
        (!list.is_empty()).then(|| {
            Error::new(
                ErrorKind::Foreign,
                format!(
                    "not deleted: {} carries your owner label but is not an Opaque Secret, and Konduktor makes only Opaque ones: it is not yours",
                    list.join(", ")
                ),
            )
            .with_help("it is never deleted by this tool; if it is truly yours, delete it with kubectl, or remove the trainy.ai/secret-owner label from it")
        })
    }

    /// Once waited on: those gone are deleted, the rest stay pending.
    pub fn settle(&mut self, still: Vec<Awaited>) {
        for p in self.pending.drain(..) {
            if !still.iter().any(|s| s.secret_name == p.secret_name) {
                self.deleted.push(p.secret_name);
            }
        }
        self.pending = still;
    }
}

/// The caller's secrets named `name`, found and not yet deleted.
#[derive(Debug)]
pub struct Found {
    pub name: String,
    pub secrets: Vec<LiveSecret>,
    /// The caller's `<name>-<hash>`, kept because Konduktor's own object
    /// named `<name>` itself was the better match.
    pub kept: Option<String>,
}

impl Found {
    /// What each of Konduktor's own among them is, to say before it goes
    /// (names escaped: they come from the cluster).
    pub fn notes(&self) -> Vec<String> {
        self.secrets
            .iter()
            .filter(|s| s.is_opaque() && s.terminating.is_none())
            .filter_map(|s| {
                let own = s.konduktor_own()?;
                let again = own
                    .made_by()
                    .map(|cmd| format!("; `{cmd}` writes it again when it needs it"))
                    .unwrap_or_default();
                Some(crate::escape::text(&format!(
                    "secret \"{}\" ({}) is Konduktor's own: {}; deleting it by name, as asked{again}",
                    self.name,
                    s.name,
                    own.describe()
                ))
                .into_owned())
            })
            .collect()
    }

    /// Said when another of the caller's secrets answers to the same name
    /// and stays (escaped: names come from the cluster).
    pub fn kept_note(&self) -> Option<String> {
        let kept = self.kept.as_ref()?;
        Some(
            crate::escape::text(&format!(
                "your secret \"{name}\" ({kept}) also answers to \"{name}\" and is kept: only the object named \"{name}\" itself goes; run `kubectl konduktor secret delete {name}` again to delete {kept} too",
                name = self.name
            ))
            .into_owned(),
        )
    }
}

/// Delete the caller's secrets named `name`; none is an error that says
/// whether the name is someone else's (never acted on). (The command
/// splits it, to say what Konduktor's own are before they go.)
#[cfg(test)]
pub async fn delete_mine(
    store: &impl SecretStore,
    name: &str,
    owner: &Owner,
) -> Result<DeleteReport> {
    let found = find_mine(store, name, owner).await?;
    Ok(delete_found(store, found).await)
}

/// The caller's secret named `name`: exactly one object, the caller's
/// `<name>-<hash>` with basename `name`, or one of Konduktor's own under
/// the caller's owner label named `name` itself (as Konduktor names them,
/// with or without a basename label: docs/konduktor-compat.md §1.6). When
/// both exist the whole object name is the better match: that one goes,
/// and [`Found::kept`] says the other stays and how to delete it. None is
/// an error that says whether the name is someone else's (never acted on).
pub async fn find_mine(store: &impl SecretStore, name: &str, owner: &Owner) -> Result<Found> {
    // Any kind allows up to 63 characters; this also keeps the selector sound.
    konduktor::validate_name(name, SecretKind::Env)?;
    // No basename in the selector: Konduktor's own may lack that label.
    // The selector is a request, not a guarantee: a server may ignore it
    // (or a proxy rewrite it), so each object is checked here again.
    let object = konduktor::object_name(name, &owner.hash);
    let live = store.list(Some(&owner_selector(&owner.hash))).await?;
    let mine = |s: &&LiveSecret| s.is_owned_by(&owner.hash);
    let whole_name = live
        .iter()
        .filter(mine)
        .find(|s| s.name == name && s.konduktor_own().is_some());
    let by_basename = live
        .iter()
        .filter(mine)
        .find(|s| s.name == object && s.basename() == Some(name));
    let (chosen, kept) = match (whole_name, by_basename) {
        (Some(own), Some(other)) if own.name != other.name => (own, Some(other.name.clone())),
        (Some(one), _) | (None, Some(one)) => (one, None),
        (None, None) => return Err(not_yours(store, name, owner).await?),
    };
    Ok(Found {
        name: name.to_string(),
        secrets: vec![chosen.clone()],
        kept,
    })
}

/// Delete what [`find_mine`] found, in turn, stopping at the first
/// failure.
pub async fn delete_found(store: &impl SecretStore, found: Found) -> DeleteReport {
    let Found {
        name,
        secrets: mine,
        ..
    } = found;
    let mut report = DeleteReport {
        name,
        deleted: Vec::new(),
        pending: Vec::new(),
        refused: Vec::new(),
        failed: None,
    };
    for secret in &mine {
        if !secret.is_opaque() {
            report
                .refused
                .push((secret.name.clone(), secret.type_name().to_string()));
            continue;
        }
        let awaited = |terminating: Terminating| Awaited {
            secret_name: secret.name.clone(),
            uid: secret.uid.clone(),
            terminating,
        };
        // Already being deleted: waited on, not deleted again.
        if let Some(t) = &secret.terminating {
            report.pending.push(awaited(t.clone()));
            continue;
        }
        let deleted = store
            .delete(
                &secret.name,
                secret.uid.clone(),
                secret.resource_version.clone(),
            )
            .await;
        match deleted {
            Ok(Deleted::Gone) => report.deleted.push(secret.name.clone()),
            Ok(Deleted::Pending(t)) => report.pending.push(awaited(t)),
            Err(e) => {
                report.failed = Some(e);
                break;
            }
        }
    }
    report
}

/// Only on this error path: is the name someone else's? Say so, never act.
async fn not_yours(store: &impl SecretStore, name: &str, owner: &Owner) -> Result<Error> {
    let others: Vec<_> = store
        .list(Some(&format!("{}={name}", konduktor::LABEL_BASENAME)))
        .await?
        .into_iter()
        .filter(|s| s.basename() == Some(name) && !s.is_owned_by(&owner.hash))
        .collect();
    let err = Error::new(
        ErrorKind::NotFound,
        format!(
            "you own no secret named \"{name}\" in namespace {} (owner {}, user {})",
            store.namespace(),
            owner.hash,
            owner.username
        ),
    );
    Ok(if others.is_empty() {
        err.with_help("see your secrets with `kubectl konduktor secret list`")
    } else {
        err.with_help(others_help(others.len()))
    })
}

/// The hint when other users hold a secret of the name given.
pub(crate) fn others_help(n: usize) -> String {
    let have = if n == 1 { "has" } else { "have" };
    format!(
        "{} {have} a secret with that name; only its owner can delete it (see `kubectl konduktor secret list -u`)",
        crate::output::count(n, "other user", "other users")
    )
}

#[cfg(test)]
#[path = "delete_tests.rs"]
mod tests;
