//! Konduktor's Secret layout (docs/konduktor-compat.md §1): names, labels, kinds, and the
//! validations every secret must pass before it is sent.
//!
//! This module is the compatibility surface: what it builds must be read by
//! Konduktor's own CLI and launcher, and what they write must parse here.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::error::Error;
use crate::konduktor::digest_key::DigestKey;
use crate::konduktor::secret_value::SecretBytes;
use crate::kube_names::{has_key_chars, has_label_shape};

pub const LABEL_PARENT: &str = "parent";
pub const PARENT_VALUE: &str = "konduktor";
pub const LABEL_OWNER: &str = "trainy.ai/secret-owner";
pub const LABEL_BASENAME: &str = "trainy.ai/secret-basename";
pub const LABEL_KIND: &str = "trainy.ai/secret-kind";
/// Who the cluster says wrote a secret (docs/konduktor-compat.md §5.1): a
/// hint for finding one's secrets from another workstation, not proof.
pub const ANNOTATION_CREATED_BY: &str = "konduktor.trainy.ai/created-by";
/// Which workstation login wrote a secret first, beside `created-by`
/// (docs/konduktor-compat.md §5.1): `<login>-<4 hex of md5(hostname)>`, as
/// Konduktor's own `trainy.ai/user-id`. Written with `created-by` and only
/// then, so the two always describe the same write.
pub const ANNOTATION_CREATED_BY_USER_ID: &str = "konduktor.trainy.ai/created-by-user-id";
/// Per-key digests of what `apply` wrote last (docs/konduktor-compat.md §5.1).
pub const ANNOTATION_APPLIED: &str = "konduktor.trainy.ai/applied";
/// The labels that make a secret Konduktor's and this owner's: nothing
/// else (Konduktor's `custom_metadata`) may set them.
pub const RESERVED_LABELS: [&str; 4] = [LABEL_PARENT, LABEL_OWNER, LABEL_KIND, LABEL_BASENAME];
/// The annotations this tool writes: nothing else may set them (a config
/// must not forge who wrote a secret).
pub const RESERVED_ANNOTATIONS: [&str; 3] = [
    ANNOTATION_CREATED_BY,
    ANNOTATION_CREATED_BY_USER_ID,
    ANNOTATION_APPLIED,
];
/// The API server refuses an object whose annotations (keys and values)
/// total more than this (apimachinery `TotalAnnotationSizeLimitB`).
pub const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;

/// The API server rejects a Secret whose decoded values total more than this.
pub const MAX_SECRET_BYTES: usize = 1_048_576;
/// The most keys one secret may hold here. Kubernetes sets no count, but
/// each key is sent and stored: a real secret has a few, an env file a
/// few hundred; 600,000 empty keys pass the value check and are refused
/// by the server (413) after costing every step on the way.
pub const MAX_SECRET_KEYS: usize = 10_000;
/// The most bytes a secret's `data` may take as sent (key names, base64
/// values, JSON quoting): etcd's default limit on one request (1.5 MiB).
/// 1 MiB of values in base64 is 1.4 MiB, so the value limit stays the one
/// a person meets first; many keys meet this one.
pub const MAX_SECRET_DATA_ENCODED_BYTES: usize = 1_572_864;
/// A basename is a label value: at most 63 characters.
pub const MAX_NAME_LEN: usize = 63;
/// `default` secrets become the volume `default-secret-<NAME>`; volume names
/// stop at 63 characters, leaving 48 for the name.
pub const MAX_DEFAULT_NAME_LEN: usize = 63 - "default-secret-".len();
/// The single data key of a `git-ssh` secret.
pub const GIT_SSH_KEY: &str = "gitkey";
/// The single data key of a directory secret.
pub const PAYLOAD_ZIP_KEY: &str = "payload.zip";

/// The three kinds Konduktor knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum SecretKind {
    #[default]
    Default,
    Env,
    GitSsh,
}

impl SecretKind {
    pub const ALL: [SecretKind; 3] = [SecretKind::Default, SecretKind::Env, SecretKind::GitSsh];

    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::Default => "default",
            SecretKind::Env => "env",
            SecretKind::GitSsh => "git-ssh",
        }
    }
}

impl fmt::Display for SecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SecretKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SecretKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!("unknown secret kind `{s}`; expected one of: default, env, git-ssh")
            })
    }
}

/// A secret Konduktor keeps for itself under the user's owner label
/// (docs/konduktor-compat.md §1.6): any kind a manifest cannot declare, or
/// none. Never the user's to plan: never pruned, merged into or written by
/// a manifest; shown as kept. The one place that says which secrets are
/// Konduktor's own and what they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KonduktorOwn {
    /// Kind `S3`: `konduktor check s3`'s zip of `~/.aws`.
    S3Credentials,
    /// Kind `GCS`: `konduktor check gs`'s credentials.
    GcsCredentials,
    /// No kind label, named `konduktor-ssh-keys-...`: the keys `konduktor
    /// launch` makes for SSH access (and tailscale).
    SshKeys,
    /// No kind label, and not the SSH keys.
    NoKind,
    /// A kind this version does not know (a newer Konduktor's, or a label
    /// set by hand), as written.
    OtherKind(String),
}

/// The object-name prefix of the SSH keys `konduktor launch` writes
/// (`konduktor-ssh-keys-<owner hash>`).
pub const SSH_KEYS_PREFIX: &str = "konduktor-ssh-keys-";

impl KonduktorOwn {
    /// Is a secret with this kind label (`None`: none) and object name
    /// Konduktor's own? `None` when its kind is one a manifest declares.
    pub fn classify(kind_label: Option<&str>, object_name: &str) -> Option<Self> {
        match kind_label {
            Some(k) if k.parse::<SecretKind>().is_ok() => None,
            Some("S3") => Some(KonduktorOwn::S3Credentials),
            Some("GCS") => Some(KonduktorOwn::GcsCredentials),
            Some(other) => Some(KonduktorOwn::OtherKind(other.to_string())),
            None if object_name.starts_with(SSH_KEYS_PREFIX) => Some(KonduktorOwn::SshKeys),
            None => Some(KonduktorOwn::NoKind),
        }
    }

    /// A stable word for data output (`-o json`).
    pub fn id(&self) -> &'static str {
        match self {
            KonduktorOwn::S3Credentials | KonduktorOwn::GcsCredentials => "storageCredentials",
            KonduktorOwn::SshKeys => "sshKeys",
            KonduktorOwn::NoKind => "noKind",
            KonduktorOwn::OtherKind(_) => "otherKind",
        }
    }

    /// What it is, for people (a kind label from the cluster is quoted:
    /// escape it before a terminal).
    pub fn what(&self) -> String {
        match self {
            KonduktorOwn::S3Credentials => "storage credentials (S3)".to_string(),
            KonduktorOwn::GcsCredentials => "storage credentials (GCS)".to_string(),
            KonduktorOwn::SshKeys => "SSH keys".to_string(),
            KonduktorOwn::NoKind => "a secret with no kind label".to_string(),
            KonduktorOwn::OtherKind(k) => {
                format!("a secret of kind `{k}`, which no manifest can declare")
            }
        }
    }

    /// The Konduktor command that writes it, where known.
    pub fn made_by(&self) -> Option<&'static str> {
        match self {
            KonduktorOwn::S3Credentials => Some("konduktor check s3"),
            KonduktorOwn::GcsCredentials => Some("konduktor check gs"),
            KonduktorOwn::SshKeys => Some("konduktor launch"),
            KonduktorOwn::NoKind | KonduktorOwn::OtherKind(_) => None,
        }
    }

    /// What it is and who makes it, in one phrase: "storage credentials
    /// (S3), made by `konduktor check s3`".
    pub fn describe(&self) -> String {
        match self.made_by() {
            Some(cmd) => format!("{}, made by `{cmd}`", self.what()),
            None => self.what(),
        }
    }
}

/// A key as a message may quote it: only with a key's characters. Anything
/// else (`HF_TOKEN hf_...`, `K=V`) may be a value pasted in its place.
fn shown_key(what: &str, key: &str) -> String {
    if has_key_chars(key) {
        format!("{what} `{key}`")
    } else {
        format!(
            "a {} (not shown: it may hold a value)",
            what.trim_start_matches("the ")
        )
    }
}

/// Why a name, key or size is not acceptable. Messages never contain values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("secret name `{name}` is not a valid DNS-1123 label")]
    NameNotDns1123 { name: String },
    #[error("secret name `{name}` is {len} characters long; at most {max} are allowed{why}")]
    NameTooLong {
        name: String,
        len: usize,
        max: usize,
        why: &'static str,
    },
    #[error("{} is not a valid Secret key", shown_key("data key", key))]
    InvalidDataKey { key: String },
    #[error(
        "{} is not a valid environment variable name",
        shown_key("the key", key)
    )]
    InvalidEnvName { key: String },
    #[error(
        "the secret `{name}` holds {total} bytes; the API server accepts at most {MAX_SECRET_BYTES} (1 MiB)"
    )]
    TooLarge { name: String, total: usize },
    #[error("the secret `{name}` has {count} keys; at most {MAX_SECRET_KEYS} are accepted here")]
    TooManyKeys { name: String, count: usize },
    #[error(
        "the secret `{name}` takes {total} bytes as sent (key names and base64 values); the API server's store accepts at most {MAX_SECRET_DATA_ENCODED_BYTES} (1.5 MiB)"
    )]
    EncodedTooLarge { name: String, total: usize },
    /// An env secret's value becomes an environment variable: text.
    #[error(
        "the value of {} {why}, which an environment variable cannot hold",
        shown_key("the key", key)
    )]
    EnvValueNotText { key: String, why: &'static str },
}

impl RuleError {
    /// A short hint on how to fix it.
    pub fn help(&self) -> String {
        match self {
            RuleError::NameNotDns1123 { .. } => "use lowercase letters, digits and `-`, starting and ending with a letter or digit (e.g. `my-creds`)".into(),
            RuleError::NameTooLong { .. } => "choose a shorter name".into(),
            RuleError::InvalidDataKey { .. } => "keys may contain only letters, digits, `-`, `_` and `.` (at most 253 characters, not `.` and not starting with `..`); rename the file or key".into(),
            RuleError::InvalidEnvName { .. } => "environment variable names use letters, digits and `_`, and do not start with a digit (e.g. `HF_TOKEN`)"
                .into(),
            RuleError::TooLarge { .. } => "split the data over several secrets, or leave large files out".into(),
            RuleError::TooManyKeys { .. } | RuleError::EncodedTooLarge { .. } => "split the keys over several secrets, or shorten their names".into(),
            RuleError::EnvValueNotText { .. } => "an `env` secret's values become environment variables: UTF-8 text without NUL; keep binary data in a `default` secret (files keep every byte)".into(),
        }
    }
}

impl From<RuleError> for Error {
    fn from(e: RuleError) -> Self {
        let help = e.help();
        Error::input(e.to_string()).with_help(help)
    }
}

/// The shape of the source a secret is made from, for the kind rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceShape {
    /// `n` files.
    Files(usize),
    Directory,
    /// Inline pairs and environment variables (and commands with them).
    Pairs,
    /// `n` commands alone (`fromCommand`).
    Commands(usize),
}

impl SecretKind {
    /// docs/konduktor-compat.md §1.2: `default` takes any one source, `env`
    /// pairs only, `git-ssh` exactly one file (or, here, one command in its
    /// place). The one place this rule is written.
    pub fn accepts(self, source: SourceShape) -> bool {
        match (self, source) {
            (SecretKind::Default, _)
            | (SecretKind::Env, SourceShape::Pairs | SourceShape::Commands(_)) => true,
            (SecretKind::GitSsh, SourceShape::Files(n) | SourceShape::Commands(n)) => n == 1,
            _ => false,
        }
    }

    /// What [`SecretKind::accepts`], for messages.
    pub fn accepted_sources(self) -> &'static str {
        match self {
            SecretKind::Default => "one source of any type",
            SecretKind::Env => "inline KEY=VALUE pairs only",
            SecretKind::GitSsh => "exactly one file",
        }
    }
}

/// docs/konduktor-compat.md §1.3 (why: §6.3): the pattern Konduktor checks, and the lengths it forgets.
pub fn validate_name(name: &str, kind: SecretKind) -> Result<(), RuleError> {
    if !has_label_shape(name) {
        return Err(RuleError::NameNotDns1123 {
            name: name.to_string(),
        });
    }
    let (max, why) = match kind {
        SecretKind::Default => (
            MAX_DEFAULT_NAME_LEN,
            " for `default` secrets (the pod volume `default-secret-<NAME>` must fit in 63)",
        ),
        _ => (MAX_NAME_LEN, " (the name is a label value)"),
    };
    if name.len() > max {
        return Err(RuleError::NameTooLong {
            name: name.to_string(),
            len: name.len(),
            max,
            why,
        });
    }
    Ok(())
}

/// The API server's rule for Secret data keys (apimachinery
/// `IsConfigMapKey`): `[-._a-zA-Z0-9]+`, at most 253 characters, not `.`,
/// and not starting with `..` (the kubelet's own entries in a volume).
pub fn validate_data_key(key: &str) -> Result<(), RuleError> {
    if has_key_chars(key) && key != "." && !key.starts_with("..") {
        Ok(())
    } else {
        Err(RuleError::InvalidDataKey {
            key: key.to_string(),
        })
    }
}

/// Env secret keys become environment variables in the pod.
pub fn validate_env_name(key: &str) -> Result<(), RuleError> {
    let mut bytes = key.bytes();
    let ok = matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(RuleError::InvalidEnvName {
            key: key.to_string(),
        })
    }
}

/// Env secret values become environment variables in the pod: UTF-8 text
/// (as `fromEnv` reads it) without NUL (which ends a C string). The one
/// place this rule is written, for every source of an env value.
pub fn validate_env_value(key: &str, value: &[u8]) -> Result<(), RuleError> {
    let why = if value.contains(&0) {
        "holds a NUL byte"
    } else if std::str::from_utf8(value).is_err() {
        "is not UTF-8 text"
    } else {
        return Ok(());
    };
    Err(RuleError::EnvValueNotText {
        key: key.to_string(),
        why,
    })
}

/// Total decoded size, as the API server counts it (values only).
pub fn data_size<'a>(values: impl IntoIterator<Item = &'a SecretBytes>) -> usize {
    values.into_iter().map(SecretBytes::len).sum()
}

/// The size of `data` as the API server receives it: each key name and
/// its base64 value, quoted, with `:` and `,` (docs/konduktor-compat.md
/// §1.4).
pub fn encoded_data_size(data: &BTreeMap<String, SecretBytes>) -> usize {
    data.iter()
        .map(|(k, v)| {
            k.len()
                .saturating_add(v.len().div_ceil(3).saturating_mul(4))
                .saturating_add(6)
        })
        .fold(2, usize::saturating_add)
}

/// What the API server counts, checked before any request: the number of
/// keys, the values' decoded size, and the whole `data` as sent.
pub fn validate_size(name: &str, data: &BTreeMap<String, SecretBytes>) -> Result<(), RuleError> {
    if data.len() > MAX_SECRET_KEYS {
        return Err(RuleError::TooManyKeys {
            name: name.to_string(),
            count: data.len(),
        });
    }
    let total = data_size(data.values());
    if total > MAX_SECRET_BYTES {
        return Err(RuleError::TooLarge {
            name: name.to_string(),
            total,
        });
    }
    let encoded = encoded_data_size(data);
    if encoded > MAX_SECRET_DATA_ENCODED_BYTES {
        return Err(RuleError::EncodedTooLarge {
            name: name.to_string(),
            total: encoded,
        });
    }
    Ok(())
}

/// `<NAME>-<OWNER_HASH>`.
pub fn object_name(basename: &str, owner_hash: &str) -> String {
    format!("{basename}-{owner_hash}")
}

/// The labels Konduktor puts on every secret it writes.
pub fn labels(basename: &str, kind: SecretKind, owner_hash: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_PARENT.to_string(), PARENT_VALUE.to_string()),
        (LABEL_OWNER.to_string(), owner_hash.to_string()),
        (LABEL_BASENAME.to_string(), basename.to_string()),
        (LABEL_KIND.to_string(), kind.as_str().to_string()),
    ])
}

/// `kubernetes.custom_metadata`: merged into every secret written (our own
/// labels win).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomMetadata {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

impl CustomMetadata {
    /// The labels and annotations without those only this tool may set
    /// ([`RESERVED_LABELS`], [`RESERVED_ANNOTATIONS`]): what may be merged
    /// into a secret as it is.
    #[must_use]
    #[allow(
        dead_code,
        reason = "the secret writer merges with it (issue 10, point 6); drop this line once it does"
    )]
    pub fn without_reserved(&self) -> CustomMetadata {
        CustomMetadata {
            labels: self
                .labels
                .iter()
                .filter(|(k, _)| !is_reserved_label(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            annotations: self
                .annotations
                .iter()
                .filter(|(k, _)| !is_reserved_annotation(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        }
    }
}

pub fn is_reserved_label(key: &str) -> bool {
    RESERVED_LABELS.contains(&key)
}

pub fn is_reserved_annotation(key: &str) -> bool {
    RESERVED_ANNOTATIONS.contains(&key)
}

/// What every object this tool writes carries besides its data and our
/// labels: who wrote it, and the configuration's custom metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteMeta {
    /// The username the cluster authenticated; `None` when it could not say.
    pub created_by: Option<String>,
    /// This workstation's login (`<login>-<4 hex>`), written beside
    /// `created_by`; `None` when unknown.
    pub created_by_user_id: Option<String>,
    /// `kubernetes.custom_metadata` of Konduktor's configuration.
    pub custom: CustomMetadata,
    /// What the `applied` record's digests are keyed with; `None`: the
    /// write leaves no record (docs/konduktor-compat.md §5.1).
    pub digest_key: Option<DigestKey>,
}

impl WriteMeta {
    /// Labels for a write: the configuration's, then ours over them.
    pub fn labels(&self, ours: BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut labels = self.custom.labels.clone();
        labels.extend(ours);
        labels
    }

    /// Annotations for a write: the configuration's, and `created-by` with
    /// the workstation login beside it, unless the object already names its
    /// writer (both kept on merge: they say who wrote it first, and a
    /// merge by someone who adopted the hash must not make it theirs).
    pub fn annotations(&self, live_created_by: Option<&str>) -> BTreeMap<String, String> {
        let mut annotations = self.custom.annotations.clone();
        // Ours alone say who wrote a secret: a configuration cannot forge it.
        annotations.remove(ANNOTATION_CREATED_BY);
        annotations.remove(ANNOTATION_CREATED_BY_USER_ID);
        if let (None, Some(user)) = (live_created_by, &self.created_by) {
            annotations.insert(ANNOTATION_CREATED_BY.to_string(), user.clone());
            if let Some(id) = &self.created_by_user_id {
                annotations.insert(ANNOTATION_CREATED_BY_USER_ID.to_string(), id.clone());
            }
        }
        annotations
    }

    /// Annotations for a merge: as [`WriteMeta::annotations`], and the
    /// `applied` record of what the object holds of the manifest afterwards
    /// (replacing the old one; empty, read as no record, when too large).
    pub fn merge_annotations(
        &self,
        live_created_by: Option<&str>,
        applied: &BTreeMap<String, String>,
    ) -> BTreeMap<String, String> {
        let mut annotations = self.annotations(live_created_by);
        // Without a key nothing is recorded, and any old record (which
        // may describe values since rotated away) is replaced by none.
        let record = match &self.digest_key {
            Some(_) => applied_annotation(applied),
            None => String::new(),
        };
        annotations.insert(ANNOTATION_APPLIED.to_string(), record);
        annotations
    }
}

/// The `applied` record stops at this many bytes (a quarter of what all
/// annotations may hold): past it, an empty record is written, which reads
/// as "origin unknown".
pub const MAX_APPLIED_BYTES: usize = MAX_ANNOTATIONS_BYTES / 4;

/// What keys the `applied` digests apart from every other use of the key.
const APPLIED_DOMAIN: &str = "kubectl-konduktor applied v2";
/// The prefix of a keyed `applied` entry.
const APPLIED_KEYED: &str = "hmac-sha256:";

/// One key's entry in the `applied` annotation (docs/konduktor-compat.md
/// §5.1): `hmac-sha256:<key id>:<8 hex>`, the first 32 bits of an
/// HMAC-SHA256 under the digest key of the object's name, the key's name
/// and the value. Keyed because the entry outlives the value: once another
/// writer rotates the value, the entry still describes the old one until
/// our next write, and whoever reads the object then must not be able to
/// test guesses of that old value. 32 bits tell "same as applied" from
/// "changed" with a chance of 1 in 4 billion of taking a change for none.
pub fn applied_digest(key: &DigestKey, secret_name: &str, name: &str, value: &[u8]) -> String {
    let mac = key.mac(
        APPLIED_DOMAIN,
        &[secret_name.as_bytes(), name.as_bytes()],
        value,
    );
    format!(
        "{APPLIED_KEYED}{}:{}",
        key.id(),
        crate::konduktor::digest_key::hex(mac.get(..4).unwrap_or_default())
    )
}

/// A well-formed recorded entry, by construction.
enum Recorded<'a> {
    /// Written by the previous version: `sha256:` and 8 to 64 hex digits
    /// of the value's unkeyed SHA-256 (checked as before, replaced at the
    /// next write).
    Unkeyed(&'a str),
    /// `hmac-sha256:<key id>:<8 hex>`, by its key id.
    Keyed(&'a str),
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn recorded(entry: &str) -> Option<Recorded<'_>> {
    if let Some(hex) = entry.strip_prefix("sha256:") {
        return ((8..=64).contains(&hex.len()) && is_lower_hex(hex))
            .then_some(Recorded::Unkeyed(hex));
    }
    let (key_id, mac) = entry.strip_prefix(APPLIED_KEYED)?.split_once(':')?;
    let well_formed =
        key_id.len() == 8 && mac.len() == 8 && is_lower_hex(key_id) && is_lower_hex(mac);
    well_formed.then_some(Recorded::Keyed(key_id))
}

/// Does a recorded entry match `value` under `secret_name`/`name`?
/// `None` when it cannot tell: an entry keyed with a key this run does
/// not have (another workstation's), or a malformed one.
pub fn digest_matches(
    entry: &str,
    key: Option<&DigestKey>,
    secret_name: &str,
    name: &str,
    value: &[u8],
) -> Option<bool> {
    use sha2::{Digest, Sha256};
    match recorded(entry)? {
        Recorded::Unkeyed(hex) => {
            let full = crate::konduktor::digest_key::hex(&Sha256::digest(value));
            Some(full.starts_with(hex))
        }
        Recorded::Keyed(key_id) => {
            let key = key.filter(|k| k.id() == key_id)?;
            Some(applied_digest(key, secret_name, name, value) == entry)
        }
    }
}

/// The `applied` annotation's value: a JSON object of key -> digest; empty
/// (read as no record) when it would pass [`MAX_APPLIED_BYTES`].
pub fn applied_annotation(record: &BTreeMap<String, String>) -> String {
    let text = serde_json::to_string(record).unwrap_or_default();
    if text.len() > MAX_APPLIED_BYTES {
        String::new()
    } else {
        text
    }
}

/// Read an `applied` annotation: `None` unless it is a JSON object of
/// well-formed entries, keyed or of the previous version (an empty,
/// hand-edited or foreign one is no record, never an error).
pub fn parse_applied(raw: &str) -> Option<BTreeMap<String, String>> {
    let record: BTreeMap<String, String> = serde_json::from_str(raw).ok()?;
    record
        .values()
        .all(|d| recorded(d).is_some())
        .then_some(record)
}

/// The `applied` record of what `data` holds in object `secret_name`.
pub fn applied_record(
    key: &DigestKey,
    secret_name: &str,
    data: &BTreeMap<String, SecretBytes>,
) -> BTreeMap<String, String> {
    data.iter()
        .map(|(k, v)| (k.clone(), applied_digest(key, secret_name, k, v.expose())))
        .collect()
}

/// A secret as the user wants it written: basename, kind and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredSecret {
    pub basename: String,
    pub kind: SecretKind,
    pub data: BTreeMap<String, SecretBytes>,
    /// Where a key's value came from, where a plan should say so (a
    /// command: never the value itself).
    pub origins: BTreeMap<String, String>,
}

impl DesiredSecret {
    /// [`DesiredSecret::to_object`] as a write sends it: with the
    /// `applied` record of its data (docs/konduktor-compat.md §5.1) when
    /// there is a digest key, which a preview leaves out (it would print
    /// digests of values).
    pub fn to_written_object(&self, owner_hash: &str, meta: &WriteMeta) -> Secret {
        let mut object = self.to_object(owner_hash, meta);
        let Some(key) = &meta.digest_key else {
            return object;
        };
        let name = object_name(&self.basename, owner_hash);
        let record = applied_annotation(&applied_record(key, &name, &self.data));
        if !record.is_empty() {
            object
                .metadata
                .annotations
                .get_or_insert_with(BTreeMap::new)
                .insert(ANNOTATION_APPLIED.to_string(), record);
        }
        object
    }

    /// Konduktor's object (`type: Opaque`, only `data`, four labels), with
    /// what [`WriteMeta`] adds.
    pub fn to_object(&self, owner_hash: &str, meta: &WriteMeta) -> Secret {
        let annotations = meta.annotations(None);
        Secret {
            metadata: ObjectMeta {
                name: Some(object_name(&self.basename, owner_hash)),
                labels: Some(meta.labels(labels(&self.basename, self.kind, owner_hash))),
                annotations: (!annotations.is_empty()).then_some(annotations),
                ..ObjectMeta::default()
            },
            type_: Some("Opaque".to_string()),
            data: Some(
                self.data
                    .iter()
                    .map(|(k, v)| (k.clone(), ByteString(v.expose().to_vec())))
                    .collect(),
            ),
            ..Secret::default()
        }
    }
}

/// What a metadata-only list shows of a Konduktor secret, cut down to what
/// finding an owner's other identities needs: never a value, never a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretMetadata {
    pub namespace: String,
    /// The object's name.
    pub name: String,
    pub owner: Option<String>,
    pub created_by: Option<String>,
    /// The workstation login recorded beside `created_by`.
    pub created_by_user_id: Option<String>,
    /// The newest write the server recorded (managedFields), else its creation.
    pub last_write: Option<jiff::Timestamp>,
}

impl SecretMetadata {
    /// Its metadata if it is a Konduktor secret (`parent=konduktor`): what
    /// a LIST on that selector returns is checked, not trusted.
    pub fn from_konduktor_object_meta(meta: ObjectMeta) -> Option<Self> {
        let parent = meta.labels.as_ref().and_then(|l| l.get(LABEL_PARENT));
        (parent.map(String::as_str) == Some(PARENT_VALUE)).then(|| Self::from_object_meta(meta))
    }

    pub fn from_object_meta(meta: ObjectMeta) -> Self {
        let created = meta.creation_timestamp.map(|t| t.0);
        let last_write = meta
            .managed_fields
            .unwrap_or_default()
            .into_iter()
            .filter_map(|f| f.time.map(|t| t.0))
            .chain(created)
            .max();
        let mut labels = meta.labels.unwrap_or_default();
        let mut annotations = meta.annotations.unwrap_or_default();
        SecretMetadata {
            namespace: meta.namespace.unwrap_or_default(),
            name: meta.name.unwrap_or_default(),
            owner: labels.remove(LABEL_OWNER),
            created_by: annotations.remove(ANNOTATION_CREATED_BY),
            created_by_user_id: annotations.remove(ANNOTATION_CREATED_BY_USER_ID),
            last_write,
        }
    }
}

/// A Secret read from the cluster, with Konduktor's labels picked out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LiveSecret {
    pub name: String,
    pub uid: Option<String>,
    pub resource_version: Option<String>,
    pub created: Option<jiff::Timestamp>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub data: BTreeMap<String, SecretBytes>,
    /// Its `type` (`None` is read as Opaque, the server's default).
    pub secret_type: Option<String>,
    /// Set once it is being deleted (a `deletionTimestamp`): a finalizer
    /// holds it until whoever set the finalizer removes it.
    pub terminating: Option<Terminating>,
}

/// The type of every Secret Konduktor writes; any other type is not ours.
pub const OPAQUE: &str = "Opaque";

/// A Secret that is being deleted but is still there: its
/// `deletionTimestamp` and the finalizers that hold it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Terminating {
    pub since: Option<jiff::Timestamp>,
    pub finalizers: Vec<String>,
}

impl Terminating {
    /// From an object's metadata: `Some` when it has a `deletionTimestamp`.
    pub fn of(deletion: Option<jiff::Timestamp>, finalizers: Option<Vec<String>>) -> Option<Self> {
        deletion.is_some().then(|| Terminating {
            since: deletion,
            finalizers: finalizers.unwrap_or_default(),
        })
    }

    /// What holds it, for people: `deletion pending on a, b`.
    pub fn pending(&self) -> String {
        if self.finalizers.is_empty() {
            "deletion pending".to_string()
        } else {
            format!("deletion pending on {}", self.finalizers.join(", "))
        }
    }
}

impl LiveSecret {
    pub fn from_object(secret: Secret) -> Self {
        let meta = secret.metadata;
        let mut data: BTreeMap<String, SecretBytes> = secret
            .data
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, SecretBytes::new(v.0)))
            .collect();
        // The server folds stringData into data; a client-side object may not have.
        for (k, v) in secret.string_data.unwrap_or_default() {
            data.insert(k, SecretBytes::new(v.into_bytes()));
        }
        LiveSecret {
            name: meta.name.unwrap_or_default(),
            uid: meta.uid,
            resource_version: meta.resource_version,
            created: meta.creation_timestamp.map(|t| t.0),
            labels: meta.labels.unwrap_or_default(),
            annotations: meta.annotations.unwrap_or_default(),
            data,
            secret_type: secret.type_,
            terminating: Terminating::of(meta.deletion_timestamp.map(|t| t.0), meta.finalizers),
        }
    }

    /// The type as the server reports it (Opaque when none is given).
    pub fn type_name(&self) -> &str {
        self.secret_type.as_deref().unwrap_or(OPAQUE)
    }

    /// Of the only type Konduktor writes (any other is never ours).
    pub fn is_opaque(&self) -> bool {
        self.type_name() == OPAQUE
    }

    /// The `created-by` annotation: who the cluster said wrote it.
    pub fn created_by(&self) -> Option<&str> {
        self.annotations
            .get(ANNOTATION_CREATED_BY)
            .map(String::as_str)
    }

    pub fn owner(&self) -> Option<&str> {
        self.labels.get(LABEL_OWNER).map(String::as_str)
    }

    pub fn basename(&self) -> Option<&str> {
        self.labels.get(LABEL_BASENAME).map(String::as_str)
    }

    /// The kind label as written (it may be a value this version does not know).
    pub fn kind_label(&self) -> Option<&str> {
        self.labels.get(LABEL_KIND).map(String::as_str)
    }

    pub fn kind(&self) -> Option<SecretKind> {
        self.kind_label().and_then(|k| k.parse().ok())
    }

    /// Konduktor's own (docs/konduktor-compat.md §1.6), if it is: a
    /// secret with an owner label whose kind no manifest can declare. The
    /// owner label alone counts (not `parent`): whatever a plan by owner
    /// label could touch is classified.
    pub fn konduktor_own(&self) -> Option<KonduktorOwn> {
        self.owner()?;
        KonduktorOwn::classify(self.kind_label(), &self.name)
    }

    /// The `applied` record of the last write through this tool, if it
    /// has a readable one.
    pub fn applied(&self) -> Option<BTreeMap<String, String>> {
        self.annotations
            .get(ANNOTATION_APPLIED)
            .and_then(|raw| parse_applied(raw))
    }

    /// Made by Konduktor (or by us): `parent=konduktor` and an owner label.
    pub fn is_konduktor(&self) -> bool {
        self.labels.get(LABEL_PARENT).map(String::as_str) == Some(PARENT_VALUE)
            && self.owner().is_some()
    }

    pub fn is_owned_by(&self, owner_hash: &str) -> bool {
        self.owner() == Some(owner_hash)
    }

    /// The name to show a person: the basename for Konduktor secrets, else the object name.
    pub fn display_name(&self) -> &str {
        match self.basename() {
            Some(b) if self.is_konduktor() => b,
            _ => &self.name,
        }
    }
}

/// A Secret as a listing shows it: its name, labels, creation time, and
/// the name and decoded size of each key. Its values were dropped as the
/// list was read (the `secret list` path never holds one), so a namespace
/// of other people's secrets costs names, not values.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecretListing {
    pub name: String,
    pub created: Option<jiff::Timestamp>,
    pub labels: BTreeMap<String, String>,
    /// Key name -> decoded size in bytes.
    pub key_sizes: BTreeMap<String, u64>,
    /// Its `type` (`None` is read as Opaque).
    pub secret_type: Option<String>,
    /// Set while it is being deleted.
    pub terminating: Option<Terminating>,
}

impl SecretListing {
    /// The listing of a secret read whole (the values are not kept).
    #[cfg(test)]
    pub fn from_live(s: &LiveSecret) -> Self {
        SecretListing {
            name: s.name.clone(),
            created: s.created,
            labels: s.labels.clone(),
            key_sizes: s
                .data
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        u64::try_from(v.expose().len()).unwrap_or(u64::MAX),
                    )
                })
                .collect(),
            secret_type: s.secret_type.clone(),
            terminating: s.terminating.clone(),
        }
    }

    /// The listing of a Secret read as metadata only: no key is known and
    /// its type is not given (`secret_type` is `None`).
    pub fn from_object_meta(meta: ObjectMeta) -> Self {
        SecretListing {
            name: meta.name.unwrap_or_default(),
            created: meta.creation_timestamp.map(|t| t.0),
            labels: meta.labels.unwrap_or_default(),
            key_sizes: BTreeMap::new(),
            secret_type: None,
            terminating: Terminating::of(meta.deletion_timestamp.map(|t| t.0), meta.finalizers),
        }
    }

    pub fn owner(&self) -> Option<&str> {
        self.labels.get(LABEL_OWNER).map(String::as_str)
    }

    /// The kind label as written (it may be a value this version does not know).
    pub fn kind_label(&self) -> Option<&str> {
        self.labels.get(LABEL_KIND).map(String::as_str)
    }

    /// Made by Konduktor (or by us): `parent=konduktor` and an owner label.
    pub fn is_konduktor(&self) -> bool {
        self.labels.get(LABEL_PARENT).map(String::as_str) == Some(PARENT_VALUE)
            && self.owner().is_some()
    }

    /// Konduktor's own (docs/konduktor-compat.md §1.6), if it is: as
    /// [`LiveSecret::konduktor_own`].
    pub fn konduktor_own(&self) -> Option<KonduktorOwn> {
        self.owner()?;
        KonduktorOwn::classify(self.kind_label(), &self.name)
    }

    /// The name to show a person: the basename for Konduktor secrets, else the object name.
    pub fn display_name(&self) -> &str {
        match self.labels.get(LABEL_BASENAME) {
            Some(b) if self.is_konduktor() => b,
            _ => &self.name,
        }
    }

    pub fn keys(&self) -> Vec<&str> {
        self.key_sizes.keys().map(String::as_str).collect()
    }
}

#[cfg(test)]
#[path = "layout_tests.rs"]
mod tests;
