//! What `secret list` shows: the caller's secrets (selected by the server
//! on the owner label) or every Secret in the namespace, as rows of key
//! names, never values.

use serde::Serialize;

use crate::error::Result;
use crate::konduktor::LiveSecret;
use crate::secrets::store::{SecretStore, owner_selector};

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
}

impl ListedSecret {
    pub fn from_live(s: &LiveSecret) -> Self {
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
        }
    }
}

/// The caller's secrets, or with `all_users` every Secret in the namespace,
/// sorted by the name shown, then the object name.
pub async fn list(
    store: &impl SecretStore,
    owner_hash: &str,
    all_users: bool,
) -> Result<Vec<ListedSecret>> {
    let selector = (!all_users).then(|| owner_selector(owner_hash));
    let mut secrets = store.list(selector.as_deref()).await?;
    secrets.sort_by(|a, b| (a.display_name(), &a.name).cmp(&(b.display_name(), &b.name)));
    Ok(secrets.iter().map(ListedSecret::from_live).collect())
}

#[cfg(test)]
#[path = "list_tests.rs"]
mod tests;
