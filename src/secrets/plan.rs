//! The plan (docs/konduktor-compat.md §5.3; the README's "What the plan does"): a pure function of what the manifest wants and what
//! the caller's live secrets are. No I/O; unit-tested without a server.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use serde::Serialize;

use crate::konduktor::secret_value::SecretBytes;
use crate::konduktor::{self, DesiredSecret, LiveSecret, PAYLOAD_ZIP_KEY, SecretKind};
use crate::secrets::manifest::Desired;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    Create,
    Merge,
    Unchanged,
    Delete,
    /// A secret with our name that is not ours: never touched.
    Conflict,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DeleteReason {
    /// `state: absent` in the manifest.
    Absent,
    /// The previous git-ssh secret, replaced by one with another name.
    ReplacedGitSsh,
    /// Owned by the caller but not in the manifest, with `--prune`.
    Pruned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    Added,
    Changed,
    Removed,
    /// In the cluster, not in the manifest: kept (Konduktor's merge).
    Kept,
    Unchanged,
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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretPlan {
    pub name: String,
    pub secret_name: String,
    pub kind: Option<String>,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<DeleteReason>,
    /// The kind label before, when a merge relabels it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relabel_from: Option<String>,
    pub keys: Vec<KeyChange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflict: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveRef>,
    /// What to write, for create and merge; never serialized.
    #[serde(skip)]
    pub desired: Option<DesiredSecret>,
}

impl SecretPlan {
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

    /// Does carrying this out delete anything (a secret or a key)?
    pub fn deletes(&self) -> bool {
        self.action == Action::Delete
            || (self.action == Action::Merge
                && self.keys.iter().any(|k| k.change == Change::Removed))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Summary {
    pub create: usize,
    pub merge: usize,
    pub delete: usize,
    pub unchanged: usize,
    pub conflict: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub owner: String,
    pub prune: bool,
    pub secrets: Vec<SecretPlan>,
    /// The caller's secrets that the manifest does not mention (kept without --prune).
    pub unmanaged: Vec<String>,
    pub summary: Summary,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        self.secrets
            .iter()
            .any(|s| matches!(s.action, Action::Create | Action::Merge | Action::Delete))
    }

    pub fn has_deletions(&self) -> bool {
        self.secrets.iter().any(SecretPlan::deletes)
    }

    pub fn has_conflicts(&self) -> bool {
        self.summary.conflict > 0
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
            .filter(|s| matches!(s.action, Action::Create | Action::Merge))
            .map(|s| (s, s.size_after()))
            .find(|(_, size)| *size > konduktor::MAX_SECRET_BYTES)
    }
}

/// Compute the plan. `live` is what the one LIST returned (normally only the
/// caller's secrets; anything else holding one of our names is a conflict).
pub fn plan(desired: &[Desired], live: &[LiveSecret], owner_hash: &str, prune: bool) -> Plan {
    let by_name: BTreeMap<&str, &LiveSecret> = live.iter().map(|s| (s.name.as_str(), s)).collect();
    let mentioned: BTreeSet<&str> = desired.iter().map(Desired::basename).collect();
    let wanted_git_ssh = desired.iter().find_map(|d| match d {
        Desired::Present(s) if s.kind == SecretKind::GitSsh => Some(s.basename.as_str()),
        _ => None,
    });
    let mut secrets = Vec::new();
    for d in desired {
        let object = konduktor::object_name(d.basename(), owner_hash);
        let current = by_name.get(object.as_str()).copied();
        secrets.push(match (d, current) {
            (_, Some(l)) if !l.is_owned_by(owner_hash) => conflict(d, l, owner_hash),
            (Desired::Present(s), None) => create(s, object),
            (Desired::Present(s), Some(l)) => merge(s, l, prune),
            (Desired::Absent { basename }, Some(l)) => delete(basename, l, DeleteReason::Absent),
            (Desired::Absent { basename }, None) => SecretPlan {
                name: basename.clone(),
                secret_name: object,
                kind: None,
                action: Action::Unchanged,
                reason: Some(DeleteReason::Absent),
                relabel_from: None,
                keys: Vec::new(),
                conflict: None,
                live: None,
                desired: None,
            },
        });
    }
    let mut unmanaged = Vec::new();
    for l in live.iter().filter(|l| l.is_owned_by(owner_hash)) {
        let basename = l.basename().unwrap_or(&l.name);
        if mentioned.contains(basename) && konduktor::object_name(basename, owner_hash) == l.name {
            continue;
        }
        let replaced_git_ssh =
            wanted_git_ssh.is_some_and(|w| w != basename) && l.kind() == Some(SecretKind::GitSsh);
        if replaced_git_ssh {
            secrets.push(delete(basename, l, DeleteReason::ReplacedGitSsh));
        } else if prune {
            secrets.push(delete(basename, l, DeleteReason::Pruned));
        } else {
            unmanaged.push(basename.to_string());
        }
    }
    let mut summary = Summary::default();
    for s in &secrets {
        match s.action {
            Action::Create => summary.create += 1,
            Action::Merge => summary.merge += 1,
            Action::Delete => summary.delete += 1,
            Action::Unchanged => summary.unchanged += 1,
            Action::Conflict => summary.conflict += 1,
        }
    }
    Plan {
        owner: owner_hash.to_string(),
        prune,
        secrets,
        unmanaged,
        summary,
    }
}

fn live_ref(l: &LiveSecret) -> Option<LiveRef> {
    Some(LiveRef {
        uid: l.uid.clone(),
        resource_version: l.resource_version.clone(),
    })
}

fn conflict(d: &Desired, l: &LiveSecret, owner_hash: &str) -> SecretPlan {
    let holder = match l.owner() {
        Some(o) => format!("it belongs to owner {o}"),
        None => "it was not made by Konduktor".to_string(),
    };
    SecretPlan {
        name: d.basename().to_string(),
        secret_name: l.name.clone(),
        kind: l.kind_label().map(str::to_string),
        action: Action::Conflict,
        reason: None,
        relabel_from: None,
        keys: Vec::new(),
        conflict: Some(format!(
            "a Secret named {} exists and {holder}, not to you ({owner_hash}); it is never touched",
            l.name
        )),
        live: None,
        desired: None,
    }
}

fn create(s: &DesiredSecret, object: String) -> SecretPlan {
    SecretPlan {
        name: s.basename.clone(),
        secret_name: object,
        kind: Some(s.kind.to_string()),
        action: Action::Create,
        reason: None,
        relabel_from: None,
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
                    old: None,
                    new: Some(v.clone()),
                }
            })
            .collect(),
        conflict: None,
        live: None,
        desired: Some(s.clone()),
    }
}

fn delete(basename: &str, l: &LiveSecret, reason: DeleteReason) -> SecretPlan {
    SecretPlan {
        name: basename.to_string(),
        secret_name: l.name.clone(),
        kind: l.kind_label().map(str::to_string),
        action: Action::Delete,
        reason: Some(reason),
        relabel_from: None,
        keys: l
            .data
            .iter()
            .map(|(k, v)| KeyChange {
                key: k.clone(),
                change: Change::Removed,
                files: Vec::new(),
                note: None,
                old: Some(v.clone()),
                new: None,
            })
            .collect(),
        conflict: None,
        live: live_ref(l),
        desired: None,
    }
}

fn merge(s: &DesiredSecret, l: &LiveSecret, prune: bool) -> SecretPlan {
    let mut keys = Vec::new();
    for (k, new) in &s.data {
        let (change, files, note) = match l.data.get(k) {
            None => {
                let (files, note) = zip_files_added(k, new);
                (Change::Added, files, note)
            }
            Some(old) => compare_values(k, old, new),
        };
        keys.push(KeyChange {
            key: k.clone(),
            change,
            files,
            note,
            old: l.data.get(k).cloned(),
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
            old: Some(old.clone()),
            new: None,
        });
    }
    keys.sort_by(|a, b| a.key.cmp(&b.key));
    let labels = konduktor::labels(&s.basename, s.kind, l.owner().unwrap_or_default());
    let relabel = labels.iter().any(|(k, v)| l.labels.get(k) != Some(v));
    let changed = relabel
        || keys
            .iter()
            .any(|k| matches!(k.change, Change::Added | Change::Changed | Change::Removed));
    SecretPlan {
        name: s.basename.clone(),
        secret_name: l.name.clone(),
        kind: Some(s.kind.to_string()),
        action: if changed {
            Action::Merge
        } else {
            Action::Unchanged
        },
        reason: None,
        relabel_from: if l.kind_label() != Some(s.kind.as_str()) {
            Some(l.kind_label().unwrap_or("<none>").to_string())
        } else {
            None
        },
        keys,
        conflict: None,
        live: live_ref(l),
        desired: Some(s.clone()),
    }
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
#[path = "plan_tests.rs"]
pub(crate) mod tests;
