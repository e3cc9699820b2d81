//! A user's other owner hashes (docs/konduktor-compat.md §2.4): the same person on
//! another workstation gets another hash, but the cluster knows who they
//! are, and every secret this tool writes says so (`created-by`). The owner
//! hashes whose secrets the caller's cluster user wrote are the candidates
//! for `identity adopt`.
//!
//! A pure function of a metadata-only list: nothing here sees a value or
//! a key of anyone's secret.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::konduktor::SecretMetadata;
use crate::konduktor::identity::{is_owner_hash, login_of_user_id};

/// More owner hashes than this under one cluster user, and the user is
/// shared (an admin kubeconfig passed around), even where no login was
/// recorded to tell its people apart.
pub const MAX_OWNERS_OF_ONE_PERSON: usize = 3;
/// The most distinct writers kept per owner hash to show (a co-tenant may
/// write any number of secrets under any hash). It bounds what is shown,
/// never what the suggestion is decided on: every secret counts.
pub const MAX_WRITERS_KEPT: usize = 16;
/// The most hashes a hint names.
const MAX_HASHES_IN_HINT: usize = 5;

/// Who wrote a secret, as the secret says (`created-by` and the workstation
/// login beside it): a hint, not proof.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Writer {
    pub cluster_user: String,
    /// `<login>-<4 hex of md5(hostname)>`; `None` where none was recorded
    /// (written before this tool recorded it).
    pub user_id: Option<String>,
}

impl Writer {
    /// `alice-7994 as "admin"`, escaped and cut short, for a message.
    pub fn shown(&self) -> String {
        match &self.user_id {
            Some(id) => format!(
                "{} as \"{}\"",
                shown_user(id),
                shown_user(&self.cluster_user)
            ),
            None => format!("\"{}\" (no login recorded)", shown_user(&self.cluster_user)),
        }
    }
}

/// Why an owner hash is not suggested for `identity adopt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", content = "detail", rename_all = "camelCase")]
pub enum NotSuggested {
    /// Some of its secrets were written from another workstation login.
    OtherLogin(String),
    /// Some of its secrets were written by another cluster user.
    OtherClusterUser(String),
    /// This many of its secrets record no writer at all (as Konduktor's
    /// CLI writes them): someone unknown, maybe another person.
    Unrecorded(usize),
    /// Some of its secrets carry no workstation login.
    NoLogin,
    /// This workstation's login is unknown: nothing can match it.
    LoginUnknown,
}

impl std::fmt::Display for NotSuggested {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotSuggested::OtherLogin(id) => {
                write!(f, "written from another login ({})", shown_user(id))
            }
            NotSuggested::OtherClusterUser(user) => {
                write!(
                    f,
                    "also written by the cluster user \"{}\"",
                    shown_user(user)
                )
            }
            NotSuggested::Unrecorded(n) => write!(
                f,
                "{} with no record of who wrote {}",
                plural(*n, "secret"),
                if *n == 1 { "it" } else { "them" }
            ),
            NotSuggested::NoLogin => f.write_str("no workstation login recorded"),
            NotSuggested::LoginUnknown => f.write_str("this workstation's login is unknown"),
        }
    }
}

/// One owner hash whose secrets the cluster user wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    pub hash: String,
    /// The caller's own hash (shown, never suggested).
    pub current: bool,
    /// Its secrets the cluster user wrote.
    pub secrets: usize,
    /// Secrets per namespace.
    pub namespaces: BTreeMap<String, usize>,
    pub newest_write: Option<jiff::Timestamp>,
    /// Writers recorded on its secrets (whatever the cluster user), at
    /// most [`MAX_WRITERS_KEPT`] of them: a sample to show.
    pub writers: Vec<Writer>,
    /// More writers were recorded than `writers` holds.
    pub writers_cut: bool,
    /// Its secrets that record no writer at all (by anyone).
    pub unrecorded: usize,
    /// Offered to `identity adopt`: every one of its secrets records a
    /// writer, and every writer is the caller's cluster user, from the
    /// caller's login.
    pub suggested: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_suggested: Option<NotSuggested>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidates {
    pub cluster_user: String,
    /// Newest write first.
    pub candidates: Vec<Candidate>,
    /// Several people seem to share the cluster user: its secrets were
    /// written from more than one login, or under more than
    /// [`MAX_OWNERS_OF_ONE_PERSON`] hashes.
    pub shared: bool,
    /// How many workstation logins the cluster user's secrets name.
    pub logins: usize,
}

/// The owner hashes whose secrets `cluster_user` wrote, among `secrets`;
/// suggested only where every secret under the hash records a writer and
/// every writer is `cluster_user` from the login `my_login`
/// (docs/konduktor-compat.md §2.4).
pub fn find(
    secrets: &[SecretMetadata],
    cluster_user: &str,
    current_hash: &str,
    my_login: Option<&str>,
) -> Candidates {
    let mut by_hash: BTreeMap<&str, Candidate> = BTreeMap::new();
    let mut logins: BTreeSet<Option<&str>> = BTreeSet::new();
    if !cluster_user.is_empty() {
        let written_by_user = secrets
            .iter()
            .filter(|s| s.created_by.as_deref() == Some(cluster_user));
        for s in written_by_user {
            let Some(hash) = s.owner.as_deref().filter(|h| is_owner_hash(h)) else {
                continue;
            };
            if let Some(id) = &s.created_by_user_id {
                logins.insert(login_of_user_id(id));
            }
            let c = by_hash.entry(hash).or_insert_with(|| Candidate {
                hash: hash.to_string(),
                current: hash == current_hash,
                secrets: 0,
                namespaces: BTreeMap::new(),
                newest_write: None,
                writers: Vec::new(),
                writers_cut: false,
                unrecorded: 0,
                suggested: false,
                not_suggested: None,
            });
            c.secrets += 1;
            *c.namespaces.entry(s.namespace.clone()).or_default() += 1;
            c.newest_write = c.newest_write.max(s.last_write);
        }
    }
    let mut tallies = tally_by_hash(secrets, &by_hash, cluster_user, my_login);
    let shared = logins.len() > 1 || by_hash.len() > MAX_OWNERS_OF_ONE_PERSON;
    let mut candidates: Vec<Candidate> = by_hash
        .into_values()
        .map(|mut c| {
            let tally = tallies.remove(c.hash.as_str()).unwrap_or_default();
            if !c.current {
                c.not_suggested = tally.why_not(my_login);
                c.suggested = c.not_suggested.is_none();
            }
            c.writers = tally.kept.into_iter().collect();
            c.writers_cut = tally.cut;
            c.unrecorded = tally.unrecorded;
            c
        })
        .collect();
    candidates.sort_by(|a, b| {
        b.newest_write
            .cmp(&a.newest_write)
            .then_with(|| a.hash.cmp(&b.hash))
    });
    Candidates {
        cluster_user: cluster_user.to_string(),
        candidates,
        shared,
        logins: logins.len(),
    }
}

/// What the secrets under one owner hash say about who wrote them, all of
/// them counted; only the sample of writers to show is bounded.
#[derive(Default)]
struct Tally {
    /// Distinct writers to show, at most [`MAX_WRITERS_KEPT`].
    kept: BTreeSet<Writer>,
    /// A writer was left out of `kept`.
    cut: bool,
    /// Secrets that record no writer.
    unrecorded: usize,
    /// The least user id (for a stable message) from another login.
    other_login: Option<String>,
    /// The least cluster user other than the caller's.
    other_user: Option<String>,
    /// A secret records a writer but no login.
    no_login: bool,
}

impl Tally {
    fn count(&mut self, s: &SecretMetadata, cluster_user: &str, my_login: Option<&str>) {
        let Some(user) = &s.created_by else {
            self.unrecorded += 1;
            return;
        };
        match &s.created_by_user_id {
            Some(id) if login_of_user_id(id) != my_login => {
                if self.other_login.as_ref().is_none_or(|least| id < least) {
                    self.other_login = Some(id.clone());
                }
            }
            Some(_) => {}
            None => self.no_login = true,
        }
        if user != cluster_user && self.other_user.as_ref().is_none_or(|least| user < least) {
            self.other_user = Some(user.clone());
        }
        let writer = Writer {
            cluster_user: user.clone(),
            user_id: s.created_by_user_id.clone(),
        };
        if self.kept.len() < MAX_WRITERS_KEPT || self.kept.contains(&writer) {
            self.kept.insert(writer);
        } else {
            self.cut = true;
        }
    }

    /// Why a hash with this tally is not suggested; `None`: it is.
    fn why_not(&self, my_login: Option<&str>) -> Option<NotSuggested> {
        if my_login.is_none_or(str::is_empty) {
            return Some(NotSuggested::LoginUnknown);
        }
        if let Some(id) = &self.other_login {
            return Some(NotSuggested::OtherLogin(id.clone()));
        }
        if let Some(user) = &self.other_user {
            return Some(NotSuggested::OtherClusterUser(user.clone()));
        }
        if self.unrecorded > 0 {
            return Some(NotSuggested::Unrecorded(self.unrecorded));
        }
        if self.no_login || self.kept.is_empty() {
            return Some(NotSuggested::NoLogin);
        }
        None
    }
}

/// Every secret under each candidate hash, by anyone, tallied.
fn tally_by_hash<'a>(
    secrets: &[SecretMetadata],
    hashes: &BTreeMap<&'a str, Candidate>,
    cluster_user: &str,
    my_login: Option<&str>,
) -> BTreeMap<&'a str, Tally> {
    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    for s in secrets {
        let Some(owner) = s.owner.as_deref() else {
            continue;
        };
        let Some((hash, _)) = hashes.get_key_value(owner) else {
            continue;
        };
        tallies
            .entry(hash)
            .or_default()
            .count(s, cluster_user, my_login);
    }
    tallies
}

impl Candidates {
    /// The hashes other than the caller's.
    pub fn others(&self) -> impl Iterator<Item = &Candidate> {
        self.candidates.iter().filter(|c| !c.current)
    }

    /// The hashes `identity adopt` may be pointed at.
    pub fn suggested(&self) -> impl Iterator<Item = &Candidate> {
        self.candidates.iter().filter(|c| c.suggested)
    }

    /// One or two lines for a person, or `None` when there is nothing to
    /// say. Names hashes, counts and writers, never a secret; suggests a
    /// hash only where [`find`] found it the caller's.
    pub fn hint(&self) -> Option<String> {
        let user = shown_user(&self.cluster_user);
        let suggested: Vec<&Candidate> = self.suggested().collect();
        let listed = |cs: &[&Candidate], why: bool| {
            let mut items: Vec<String> = cs
                .iter()
                .take(MAX_HASHES_IN_HINT)
                .map(|c| match (&c.not_suggested, why) {
                    (Some(reason), true) => {
                        format!("{} ({}: {reason})", c.hash, plural(c.secrets, "secret"))
                    }
                    _ => format!("{} ({})", c.hash, plural(c.secrets, "secret")),
                })
                .collect();
            if cs.len() > MAX_HASHES_IN_HINT {
                items.push(format!("and {} more", cs.len() - MAX_HASHES_IN_HINT));
            }
            items.join(", ")
        };
        match suggested.as_slice() {
            [one] => {
                return Some(format!(
                    "hint: your cluster user \"{user}\" wrote secrets from your login under another owner hash: {}\n      to use them from this workstation: kubectl konduktor identity adopt {}",
                    listed(&suggested, false),
                    one.hash
                ));
            }
            [_, ..] => {
                return Some(format!(
                    "hint: your cluster user \"{user}\" wrote secrets from your login under other owner hashes: {}\n      to use one from this workstation: kubectl konduktor identity adopt <hash> (see kubectl konduktor identity candidates)",
                    listed(&suggested, false)
                ));
            }
            [] => {}
        }
        let others: Vec<&Candidate> = self.others().collect();
        if others.is_empty() {
            return None;
        }
        let shared = if self.shared {
            ", which several people seem to share,"
        } else {
            ""
        };
        Some(format!(
            "hint: the cluster user \"{user}\"{shared} wrote secrets under other owner hashes, none suggested: {}\n      a hash is suggested only where every secret under it was written by your cluster user from your workstation login; `kubectl konduktor identity candidates` shows who wrote each",
            listed(&others, true)
        ))
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
