//! A user's other owner hashes (docs/konduktor-compat.md §2.4): the same person on
//! another workstation gets another hash, but the cluster knows who they
//! are, and every secret this tool writes says so (`created-by`). The owner
//! hashes whose secrets the caller's cluster user wrote are the candidates
//! for `identity adopt`.
//!
//! A pure function of a metadata-only list: nothing here sees a value or
//! a key of anyone's secret.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::konduktor::SecretMetadata;
use crate::konduktor::identity::is_owner_hash;

/// More owner hashes than this under one cluster user, and the user is
/// shared (an admin kubeconfig passed around): `created-by` then
/// identifies nobody, and no hash is suggested.
pub const MAX_OWNERS_OF_ONE_PERSON: usize = 3;

/// One owner hash whose secrets the cluster user wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    pub hash: String,
    /// The caller's own hash (shown, never suggested).
    pub current: bool,
    pub secrets: usize,
    /// Secrets per namespace.
    pub namespaces: BTreeMap<String, usize>,
    pub newest_write: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidates {
    pub cluster_user: String,
    /// Newest write first.
    pub candidates: Vec<Candidate>,
    /// More than [`MAX_OWNERS_OF_ONE_PERSON`] hashes: the user is shared.
    pub shared: bool,
}

/// The owner hashes whose secrets `cluster_user` wrote, among `secrets`.
pub fn find(secrets: &[SecretMetadata], cluster_user: &str, current_hash: &str) -> Candidates {
    let mut by_hash: BTreeMap<&str, Candidate> = BTreeMap::new();
    if !cluster_user.is_empty() {
        let written_by_user = secrets
            .iter()
            .filter(|s| s.created_by.as_deref() == Some(cluster_user));
        for s in written_by_user {
            let Some(hash) = s.owner.as_deref().filter(|h| is_owner_hash(h)) else {
                continue;
            };
            let c = by_hash.entry(hash).or_insert_with(|| Candidate {
                hash: hash.to_string(),
                current: hash == current_hash,
                secrets: 0,
                namespaces: BTreeMap::new(),
                newest_write: None,
            });
            c.secrets += 1;
            *c.namespaces.entry(s.namespace.clone()).or_default() += 1;
            c.newest_write = c.newest_write.max(s.last_write);
        }
    }
    let shared = by_hash.len() > MAX_OWNERS_OF_ONE_PERSON;
    let mut candidates: Vec<Candidate> = by_hash.into_values().collect();
    candidates.sort_by(|a, b| {
        b.newest_write
            .cmp(&a.newest_write)
            .then_with(|| a.hash.cmp(&b.hash))
    });
    Candidates {
        cluster_user: cluster_user.to_string(),
        candidates,
        shared,
    }
}

impl Candidates {
    /// The hashes other than the caller's.
    pub fn others(&self) -> impl Iterator<Item = &Candidate> {
        self.candidates.iter().filter(|c| !c.current)
    }

    /// One or two lines for a person, or `None` when there is nothing to
    /// say. Names hashes and counts, never a secret.
    pub fn hint(&self) -> Option<String> {
        let user = shown_user(&self.cluster_user);
        if self.shared {
            return Some(format!(
                "hint: secrets under {} owner hashes were written by the cluster user \"{user}\", which several people seem to share: which of them are yours cannot be told from the cluster",
                self.candidates.len()
            ));
        }
        let others: Vec<&Candidate> = self.others().collect();
        let listed = others
            .iter()
            .map(|c| format!("{} ({})", c.hash, plural(c.secrets, "secret")))
            .collect::<Vec<_>>()
            .join(", ");
        match others.as_slice() {
            [] => None,
            [one] => Some(format!(
                "hint: your cluster user \"{user}\" wrote secrets under another owner hash: {listed}\n      to use them from this workstation: kubectl konduktor identity adopt {}",
                one.hash
            )),
            _ => Some(format!(
                "hint: your cluster user \"{user}\" wrote secrets under other owner hashes: {listed}\n      to use one from this workstation: kubectl konduktor identity adopt <hash> (see kubectl konduktor identity candidates)"
            )),
        }
    }
}

/// A cluster user name for a message: escaped, and cut short (a name is
/// whatever the cluster's authenticator says).
pub fn shown_user(user: &str) -> String {
    const MAX: usize = 128;
    let escaped = crate::escape::text(user);
    match escaped.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &escaped[..cut]),
        None => escaped.into_owned(),
    }
}

pub fn plural(n: usize, what: &str) -> String {
    crate::output::count(n, what, &format!("{what}s"))
}

#[cfg(test)]
#[path = "candidates_tests.rs"]
mod tests;
