//! What `secret list` shows: the caller's secrets (selected by the server
//! on the owner label) or every Secret in the namespace, as rows of key
//! names, never values. The caller's secrets are read as listings (names,
//! labels, key names and sizes), each value dropped as its page arrives.
//! Everyone else's are read as metadata only: their key names are not
//! shown, and not a byte of their values is fetched, so `--all-users` over
//! a namespace of other people's large secrets costs what kubectl's
//! listing costs (see docs/performance.md).

use std::collections::BTreeMap;
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

    /// Every Secret in the namespace, as metadata only: no key names.
    fn list_metadata(&self) -> impl Future<Output = Result<Vec<SecretListing>>>;
}

impl SecretLister for Cluster {
    async fn list_listings(&self, selector: Option<&str>) -> Result<Vec<SecretListing>> {
        self.list_secret_listings(selector).await
    }

    async fn list_metadata(&self) -> Result<Vec<SecretListing>> {
        self.list_secret_metadata().await
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
    /// Key names: the caller's secrets only (`None` for anyone else's,
    /// read as metadata only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
    pub created: Option<String>,
    /// Set while it is being deleted: a finalizer holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub terminating: Option<ListedTerminating>,
    /// The type of one of the caller's secrets that is not `Opaque`
    /// (`kubernetes.io/tls`, say): it carries our labels, but Konduktor
    /// never made it, and it is never written or deleted
    /// (docs/konduktor-compat.md, "Konduktor's own secrets"). Unset where
    /// the type is Opaque or was not read (others' secrets, metadata only).
    #[serde(skip_serializing_if = "Option::is_none", rename = "notOpaqueType")]
    pub not_opaque_type: Option<String>,
    /// Konduktor's own (docs/konduktor-compat.md §1.6): what it is. `null`
    /// for a secret a manifest can manage (or not Konduktor's at all).
    pub konduktor_own: Option<ListedOwn>,
}

/// One of Konduktor's own secrets: what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedOwn {
    /// A stable word: `storageCredentials`, `sshKeys`, `noKind`, `otherKind`.
    pub what: &'static str,
    /// What it is and who makes it, for people.
    pub description: String,
}

/// A secret being deleted: since when, and the finalizers holding it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedTerminating {
    pub since: Option<String>,
    pub finalizers: Vec<String>,
}

impl ListedSecret {
    /// A row; `keys_read` when the listing came with its key names.
    pub fn from_listing(s: &SecretListing, keys_read: bool) -> Self {
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
            keys: keys_read.then(|| s.keys().into_iter().map(str::to_string).collect()),
            created: s.created.map(|t| t.to_string()),
            terminating: s.terminating.as_ref().map(|t| ListedTerminating {
                since: t.since.map(|t| t.to_string()),
                finalizers: t.finalizers.clone(),
            }),
            // By the owner label alone, as the plan classifies it.
            konduktor_own: s.konduktor_own().map(|own| ListedOwn {
                what: own.id(),
                description: own.describe(),
            }),
            not_opaque_type: s
                .secret_type
                .as_deref()
                .filter(|t| *t != crate::konduktor::OPAQUE)
                .map(str::to_string),
        }
    }
}

/// The caller's secrets, or with `all_users` every Secret in the namespace,
/// sorted by the name shown, then the object name. With `all_users`, one
/// metadata-only LIST gives every Secret and a second, on the owner
/// label, the caller's key names; a secret of the caller's made between
/// the two is shown too.
pub async fn list(
    store: &impl SecretLister,
    owner_hash: &str,
    all_users: bool,
) -> Result<Vec<ListedSecret>> {
    let selector = owner_selector(owner_hash);
    let mut rows: BTreeMap<String, ListedSecret> = BTreeMap::new();
    if all_users {
        for s in store.list_metadata().await? {
            rows.insert(s.name.clone(), ListedSecret::from_listing(&s, false));
        }
    }
    // The caller's, checked: a server that ignores the selector must not
    // make another user's secret (and its key names) look like ours.
    for s in store
        .list_listings(Some(&selector))
        .await?
        .into_iter()
        .filter(|s| s.owner() == Some(owner_hash))
    {
        rows.insert(s.name.clone(), ListedSecret::from_listing(&s, true));
    }
    let mut rows: Vec<ListedSecret> = rows.into_values().collect();
    rows.sort_by(|a, b| (&a.name, &a.secret_name).cmp(&(&b.name, &b.secret_name)));
    Ok(rows)
}

#[cfg(test)]
#[path = "list_tests.rs"]
mod tests;
