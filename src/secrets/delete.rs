//! `secret delete`: the caller's secret with a basename, and only theirs,
//! each deleted on its UID and resourceVersion so a replaced object is
//! never deleted.

use crate::error::{Error, ErrorKind, Result};
use crate::konduktor::identity::Owner;
use crate::konduktor::{self, SecretKind};
use crate::secrets::store::{SecretStore, owner_selector};

/// What `delete_mine` did, for the command to print.
#[derive(Debug)]
pub struct DeleteReport {
    pub name: String,
    /// The object names deleted, in turn.
    pub deleted: Vec<String>,
    /// The delete that failed, after those in `deleted`.
    pub failed: Option<Error>,
}

impl DeleteReport {
    pub fn render(&self) -> String {
        self.deleted
            .iter()
            .map(|object| format!("secret \"{}\" deleted ({object})\n", self.name))
            .collect()
    }
}

/// Delete the caller's secrets named `name`; none is an error that says
/// whether the name is someone else's (never acted on).
pub async fn delete_mine(
    store: &impl SecretStore,
    name: &str,
    owner: &Owner,
) -> Result<DeleteReport> {
    // Any kind allows up to 63 characters; this also keeps the selector sound.
    konduktor::validate_name(name, SecretKind::Env)?;
    let selector = format!(
        "{},{}={name}",
        owner_selector(&owner.hash),
        konduktor::LABEL_BASENAME
    );
    let mine = store.list(Some(&selector)).await?;
    if mine.is_empty() {
        return Err(not_yours(store, name, owner).await?);
    }
    let mut report = DeleteReport {
        name: name.to_string(),
        deleted: Vec::new(),
        failed: None,
    };
    for secret in &mine {
        let deleted = store
            .delete(
                &secret.name,
                secret.uid.clone(),
                secret.resource_version.clone(),
            )
            .await;
        if let Err(e) = deleted {
            report.failed = Some(e);
            break;
        }
        report.deleted.push(secret.name.clone());
    }
    Ok(report)
}

/// Only on this error path: is the name someone else's? Say so, never act.
async fn not_yours(store: &impl SecretStore, name: &str, owner: &Owner) -> Result<Error> {
    let others = store
        .list(Some(&format!("{}={name}", konduktor::LABEL_BASENAME)))
        .await?;
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
