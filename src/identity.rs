//! The owner identity (SPEC 1.2): which 8-hex-digit hash labels "my" secrets.
//!
//! Resolution is a pure function of [`IdentityInputs`], so the order and the
//! test vectors are unit-tested without touching the real environment; only
//! [`IdentityInputs::from_process`] and the cache write do I/O.

use std::fmt;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use serde::Serialize;

pub const ENV_TEST_USER_HASH: &str = "KONDUKTOR_TEST_USER_HASH";
pub const ENV_USER_ID: &str = "KONDUKTOR_USER_ID";

/// Where the owner hash came from, in resolution order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum HashSource {
    /// `KONDUKTOR_TEST_USER_HASH`.
    TestOverride,
    /// `KONDUKTOR_USER_ID`.
    UserIdEnv,
    /// `~/.konduktor/user_hash`.
    CacheFile { path: PathBuf },
    /// Computed from login name and hostname, then cached at `path`.
    Computed { path: Option<PathBuf>, seed: String },
}

impl fmt::Display for HashSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashSource::TestOverride => write!(f, "env {ENV_TEST_USER_HASH}"),
            HashSource::UserIdEnv => write!(f, "env {ENV_USER_ID}"),
            HashSource::CacheFile { path } => write!(f, "file {}", path.display()),
            HashSource::Computed {
                path: Some(path),
                seed,
            } => {
                write!(
                    f,
                    "computed from \"{seed}\" (user-hostname), saved to {}",
                    path.display()
                )
            }
            HashSource::Computed { path: None, seed } => {
                write!(f, "computed from \"{seed}\" (user-hostname), not saved")
            }
        }
    }
}

/// The caller's identity as Konduktor sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    pub hash: String,
    pub source: HashSource,
    /// The login name, cleaned as Konduktor cleans it (for messages and the pod label).
    pub username: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("{ENV_TEST_USER_HASH} is set to `{value}`, which is not an owner hash")]
    BadOverride { value: String },
    #[error("cannot tell the login name or hostname of this machine: {0}")]
    NoSystemIdentity(String),
}

impl IdentityError {
    pub fn help(&self) -> &'static str {
        match self {
            IdentityError::BadOverride { .. } => {
                "an owner hash is exactly 8 lowercase hex characters, e.g. `abba3a3e`; unset the variable to use your own"
            }
            IdentityError::NoSystemIdentity(_) => {
                "set KONDUKTOR_USER_ID to your 8-hex owner hash (see `~/.konduktor/user_hash` on the machine that made your secrets)"
            }
        }
    }
}

/// Everything resolution looks at, gathered once.
#[derive(Debug, Clone, Default)]
pub struct IdentityInputs {
    pub test_user_hash: Option<String>,
    pub user_id: Option<String>,
    pub home: Option<PathBuf>,
    pub login: Option<String>,
    pub hostname: Option<String>,
}

impl IdentityInputs {
    /// Read the process environment the way Konduktor's Python does:
    /// `getpass.getuser()` tries LOGNAME, USER, LNAME and USERNAME before the
    /// password database, and `socket.gethostname()` is the kernel's nodename.
    pub fn from_process() -> Self {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let login = ["LOGNAME", "USER", "LNAME", "USERNAME"]
            .iter()
            .find_map(|k| env(k))
            .or_else(|| whoami::username().ok());
        IdentityInputs {
            test_user_hash: std::env::var(ENV_TEST_USER_HASH).ok(),
            user_id: std::env::var(ENV_USER_ID).ok(),
            home: std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from),
            login,
            hostname: whoami::hostname().ok(),
        }
    }

    pub fn cache_path(&self) -> Option<PathBuf> {
        self.home
            .as_ref()
            .map(|h| h.join(".konduktor").join("user_hash"))
    }
}

pub fn is_owner_hash(s: &str) -> bool {
    s.len() == 8
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn md5_hex(input: &str) -> String {
    Md5::digest(input.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `<user>-<last 4 hex of md5(hostname)>`.
pub fn hash_seed(user: &str, hostname: &str) -> String {
    let host_hash = md5_hex(hostname);
    format!("{user}-{}", &host_hash[host_hash.len() - 4..])
}

/// First 8 hex of `md5(seed)`.
pub fn compute_hash(user: &str, hostname: &str) -> String {
    md5_hex(&hash_seed(user, hostname))[..8].to_string()
}

/// Konduktor's cleaned username: lowercase; drop `[^a-z0-9-_]`; drop leading
/// digits and dashes; drop one trailing dash; cut to 63.
pub fn clean_username(raw: &str) -> String {
    let lowered: String = raw
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '_')
        .collect();
    let trimmed = lowered.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-');
    let trimmed = trimmed.strip_suffix('-').unwrap_or(trimmed);
    trimmed.chars().take(63).collect()
}

/// What resolution decided, and whether the cache file must be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub owner: Owner,
    pub write_cache: Option<PathBuf>,
}

/// SPEC 1.2, first that applies wins. `cached` is the content of the cache
/// file, if one could be read.
pub fn resolve(inputs: &IdentityInputs, cached: Option<&str>) -> Result<Resolution, IdentityError> {
    let username = clean_username(inputs.login.as_deref().unwrap_or_default());
    let done = |hash: String, source: HashSource| Resolution {
        owner: Owner {
            hash,
            source,
            username: username.clone(),
        },
        write_cache: None,
    };
    if let Some(value) = &inputs.test_user_hash {
        // Upstream uses it as is; we insist on a real hash so labels stay valid.
        if !is_owner_hash(value) {
            return Err(IdentityError::BadOverride {
                value: value.clone(),
            });
        }
        return Ok(done(value.clone(), HashSource::TestOverride));
    }
    if let Some(value) = inputs.user_id.as_deref().filter(|v| is_owner_hash(v)) {
        return Ok(done(value.to_string(), HashSource::UserIdEnv));
    }
    if let (Some(text), Some(path)) = (cached, inputs.cache_path()) {
        let text = text.trim();
        if is_owner_hash(text) {
            return Ok(done(text.to_string(), HashSource::CacheFile { path }));
        }
    }
    let (Some(login), Some(hostname)) = (inputs.login.as_deref(), inputs.hostname.as_deref())
    else {
        return Err(IdentityError::NoSystemIdentity(
            "no login name or hostname".into(),
        ));
    };
    let seed = hash_seed(login, hostname);
    let path = inputs.cache_path();
    Ok(Resolution {
        owner: Owner {
            hash: compute_hash(login, hostname),
            source: HashSource::Computed {
                path: path.clone(),
                seed,
            },
            username,
        },
        write_cache: path,
    })
}

/// Resolve for this process: read the cache file, resolve, write the cache as
/// Konduktor does (the bare hash, no newline). A cache that cannot be written
/// is not fatal: the hash is still right for this run.
pub fn resolve_owner(inputs: &IdentityInputs) -> Result<Owner, IdentityError> {
    let cached = inputs
        .cache_path()
        .and_then(|p| std::fs::read_to_string(p).ok());
    let mut resolution = resolve(inputs, cached.as_deref())?;
    if let Some(path) = resolution.write_cache.take()
        && write_cache(&path, &resolution.owner.hash).is_err()
        && let HashSource::Computed { path, .. } = &mut resolution.owner.source
    {
        *path = None;
    }
    Ok(resolution.owner)
}

fn write_cache(path: &Path, hash: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, hash)
}

#[cfg(test)]
mod tests;
