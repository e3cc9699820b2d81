//! What `secret list` shows: the caller's secrets (selected by the server
//! on the owner label) or every Secret in the namespace, as rows of key
//! names, never values. The list is read as listings (names, labels, key
//! names and sizes), each value dropped as its page arrives: memory follows
//! the number of secrets, not the size of other people's values.

use std::future::Future;

use serde::Serialize;

use crate::cluster::Cluster;
use crate::error::Result;
use crate::konduktor::SecretListing;
use crate::secrets::store::owner_selector;

/// Where listings come from: the cluster, or a fake in unit tests.
pub trait SecretLister {
    /// LIST as listings, with a server-side label selector.
    fn list_listings(
        &self,
        selector: Option<&str>,
    ) -> impl Future<Output = Result<Vec<SecretListing>>>;
}

impl SecretLister for Cluster {
    async fn list_listings(&self, selector: Option<&str>) -> Result<Vec<SecretListing>> {
        self.list_secret_listings(selector).await
    }
}

/// One row, as data: no values, only key names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedSecret {
    /// The name the user gave (the object name for non-Konduktor Secrets).
    pub name: String,
    /// The Kubernetes object name, `<name>-<owner>`.
    pub secret_name: String,
    /// `default`, `env`, `git-ssh`; `None` for Secrets Konduktor did not make.
    pub kind: Option<String>,
    pub owner: Option<String>,
    pub konduktor: bool,
    pub keys: Vec<String>,
    pub created: Option<String>,
    /// Set while it is being deleted: a finalizer holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminating: Option<ListedTerminating>,
}

/// A secret being deleted: since when, and the finalizers holding it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedTerminating {
    pub since: Option<String>,
    pub finalizers: Vec<String>,
}

impl ListedSecret {
    pub fn from_listing(s: &SecretListing) -> Self {
        let konduktor = s.is_konduktor();
        ListedSecret {
            name: s.display_name().to_string(),
            secret_name: s.name.clone(),
            kind: if konduktor {
                s.kind_label().map(str::to_string)
            } else {
                None
            },
            owner: if konduktor {
                s.owner().map(str::to_string)
            } else {
                None
            },
            konduktor,
            keys: s.keys().into_iter().map(str::to_string).collect(),
            created: s.created.map(|t| t.to_string()),
            terminating: s.terminating.as_ref().map(|t| ListedTerminating {
                since: t.since.map(|t| t.to_string()),
                finalizers: t.finalizers.clone(),
            }),
        }
    }
}

/// The caller's secrets, or with `all_users` every Secret in the namespace,
/// sorted by the name shown, then the object name.
pub async fn list(
    store: &impl SecretLister,
    owner_hash: &str,
    all_users: bool,
) -> Result<Vec<ListedSecret>> {
    let selector = (!all_users).then(|| owner_selector(owner_hash));
    let mut secrets = store.list_listings(selector.as_deref()).await?;
    secrets.sort_by(|a, b| (a.display_name(), &a.name).cmp(&(b.display_name(), &b.name)));
    Ok(secrets.iter().map(ListedSecret::from_listing).collect())
}

#[cfg(test)]
#[path = "list_tests.rs"]
mod tests;
