//! The owner identity (docs/konduktor-compat.md §2): which 8-hex-digit hash labels "my" secrets.
//!
//! Resolution is a pure function of [`IdentityInputs`], so the order and the
//! test vectors are unit-tested without touching the real environment; only
//! [`IdentityInputs::from_process`] and the cache write do I/O.

use std::fmt;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use serde::Serialize;

use crate::error::{Error, ErrorKind};

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
            HashSource::CacheFile { path } => write!(f, "file {}", crate::escape::path(path)),
            HashSource::Computed {
                path: Some(path),
                seed,
            } => {
                write!(
                    f,
                    "computed from \"{}\" (user-hostname), saved to {}",
                    crate::escape::text(seed),
                    crate::escape::path(path)
                )
            }
            HashSource::Computed { path: None, seed } => {
                write!(
                    f,
                    "computed from \"{}\" (user-hostname), not saved",
                    crate::escape::text(seed)
                )
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
    #[error("an owner hash is exactly 8 lowercase hex characters (0-9, a-f), e.g. `0123abcd`")]
    NotAHash,
    #[error("cannot tell the login name or hostname of this machine: {0}")]
    NoSystemIdentity(String),
    #[error(
        "`{}` holds `{hash}`, which Konduktor takes as an owner hash but which cannot be a Kubernetes label value",
        crate::escape::path(path)
    )]
    HashNotLabel { path: PathBuf, hash: String },
    #[error(
        "the owner hash `{hash}` ({from}) cannot be part of a Secret name, which takes lowercase letters, digits and `-` only"
    )]
    HashNotInNames { hash: String, from: String },
}

impl IdentityError {
    pub fn help(&self) -> &'static str {
        match self {
            IdentityError::BadOverride { .. } => {
                "an owner hash is exactly 8 lowercase hex characters, e.g. `abba3a3e`; unset the variable to use your own"
            }
            IdentityError::NotAHash => {
                "`kubectl konduktor whoami` on the machine that made your secrets shows its owner hash"
            }
            IdentityError::NoSystemIdentity(_) => {
                "set KONDUKTOR_USER_ID to your 8-hex owner hash (see `~/.konduktor/user_hash` on the machine that made your secrets)"
            }
            IdentityError::HashNotLabel { .. } => {
                "write your 8 lowercase hex owner hash into the file (or delete it to have one computed), or set KONDUKTOR_USER_ID"
            }
            IdentityError::HashNotInNames { .. } => {
                "Konduktor cannot create secrets with it either: write the hash in lowercase into ~/.konduktor/user_hash, or set KONDUKTOR_USER_ID"
            }
        }
    }
}

impl From<IdentityError> for Error {
    fn from(e: IdentityError) -> Self {
        Error::new(ErrorKind::Identity, e.to_string()).with_help(e.help())
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

/// Konduktor's `_is_valid_user_hash` on the stripped file content: 8
/// characters (code points) that Python's `int(x, 16)` parses. That takes
/// an optional sign, an optional `0x`/`0X` prefix, hex digits in either
/// case, single underscores between digits (and right after the prefix),
/// and any Unicode decimal digit. Non-ASCII numeric characters are taken as
/// accepted (the safe side: such a file is refused, never overwritten).
pub fn konduktor_accepts(s: &str) -> bool {
    s.chars().count() == 8 && python_hex_int(s)
}

/// Konduktor's `_is_valid_user_hash` on `KONDUKTOR_USER_ID`, which it does
/// not strip: 8 characters, and `int(x, 16)` ignores whitespace around the
/// digits (Unicode whitespace, but not U+001C..U+001F).
pub fn konduktor_accepts_env(s: &str) -> bool {
    s.chars().count() == 8 && python_hex_int(s.trim())
}

/// Does Python's `int(s, 16)` parse `s` (already stripped)?
fn python_hex_int(s: &str) -> bool {
    let mut rest = s.strip_prefix(['+', '-']).unwrap_or(s);
    let mut after_prefix = false;
    if let Some(r) = rest.strip_prefix("0x").or_else(|| rest.strip_prefix("0X")) {
        rest = r;
        after_prefix = true;
    }
    let is_digit = |c: char| c.is_ascii_hexdigit() || (!c.is_ascii() && c.is_numeric());
    let mut digits = 0;
    let mut prev_underscore = false;
    for (i, c) in rest.chars().enumerate() {
        if c == '_' {
            // Single, between digits, or right after the prefix.
            if prev_underscore || (i == 0 && !after_prefix) {
                return false;
            }
            prev_underscore = true;
        } else if is_digit(c) {
            digits += 1;
            prev_underscore = false;
        } else {
            return false;
        }
    }
    digits > 0 && !prev_underscore
}

/// A command-line owner hash: exactly 8 lowercase hex characters.
pub fn parse_owner_hash(text: &str) -> Result<String, IdentityError> {
    if is_owner_hash(text) {
        Ok(text.to_string())
    } else {
        Err(IdentityError::NotAHash)
    }
}

/// Can `hash` be part of a Secret name (`<name>-<hash>`)? Uppercase or `_`
/// cannot, though Konduktor reads such a file.
pub fn fits_object_names(owner: &Owner) -> Result<(), IdentityError> {
    if owner
        .hash
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return Ok(());
    }
    Err(IdentityError::HashNotInNames {
        hash: owner.hash.clone(),
        from: owner.source.to_string(),
    })
}

fn md5_hex(input: &str) -> String {
    crate::konduktor::digest_key::hex(&Md5::digest(input.as_bytes()))
}

/// `<user>-<last 4 hex of md5(hostname)>`.
pub fn hash_seed(user: &str, hostname: &str) -> String {
    let host_hash = md5_hex(hostname);
    format!("{user}-{}", &host_hash[host_hash.len() - 4..])
}

/// The longest workstation login recorded beside `created-by`
/// (`<login>-<4 hex>`): a login from the environment can be anything.
pub const MAX_USER_ID_LEN: usize = 253;

/// This workstation's login as Konduktor's `trainy.ai/user-id` names it,
/// `<login>-<last 4 hex of md5(hostname)>` (the seed of the computed hash,
/// docs/konduktor-compat.md §2.2), whatever the owner hash came from;
/// `None` when the login or hostname is unknown or the result too long.
pub fn user_id(inputs: &IdentityInputs) -> Option<String> {
    let (login, hostname) = (inputs.login.as_deref()?, inputs.hostname.as_deref()?);
    let id = hash_seed(login, hostname);
    (!login.is_empty() && id.len() <= MAX_USER_ID_LEN).then_some(id)
}

/// The login part of a `<login>-<4 hex>` user id; `None` for anything else.
pub fn login_of_user_id(user_id: &str) -> Option<&str> {
    let (login, host) = user_id.rsplit_once('-')?;
    let host_hash = host.len() == 4
        && host
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (host_hash && !login.is_empty()).then_some(login)
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

/// Python's `str.strip()`: Unicode whitespace at both ends, the
/// information separators U+001C..U+001F among them.
fn python_strip(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// What resolution decided, whether the cache file must be written, and
/// what to tell the user about the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub owner: Owner,
    pub write_cache: Option<PathBuf>,
    pub warning: Option<String>,
}

/// What reading `~/.konduktor/user_hash` gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cached {
    /// No such file (or no home): the computed hash is written there.
    Missing,
    /// The file's text.
    Text(String),
    /// A file that is there but cannot be used (a FIFO, a device, too
    /// large, unreadable, not UTF-8): never overwritten; why, for a warning.
    Unusable(String),
}

/// docs/konduktor-compat.md §2.1, first that applies wins (the file: §2.3). The cache file is read as Konduktor
/// reads it (stripped, then [`konduktor_accepts`]) and used as is; content
/// Konduktor would replace is replaced, with a warning.
pub fn resolve(inputs: &IdentityInputs, cached: &Cached) -> Result<Resolution, IdentityError> {
    let username = clean_username(inputs.login.as_deref().unwrap_or_default());
    let done = |hash: String, source: HashSource| Resolution {
        owner: Owner {
            hash,
            source,
            username: username.clone(),
        },
        write_cache: None,
        warning: None,
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
    let mut warning = None;
    let mut may_write = true;
    if let Some(path) = inputs.cache_path() {
        let shown = crate::escape::path(&path);
        match cached {
            Cached::Missing => {}
            Cached::Text(text) => {
                let text = python_strip(text);
                if konduktor_accepts(text) {
                    if !crate::kube_names::is_label_value(text) {
                        return Err(IdentityError::HashNotLabel {
                            path,
                            hash: crate::escape::text(text).into_owned(),
                        });
                    }
                    return Ok(done(text.to_string(), HashSource::CacheFile { path }));
                }
                warning = Some(format!(
                    "`{shown}` does not hold an owner hash; it was replaced with the computed hash"
                ));
            }
            Cached::Unusable(why) => {
                may_write = false;
                warning = Some(format!(
                    "{why}; it is left as it is, and the computed hash is used for this run"
                ));
            }
        }
    }
    let (Some(login), Some(hostname)) = (inputs.login.as_deref(), inputs.hostname.as_deref())
    else {
        return Err(IdentityError::NoSystemIdentity(
            "no login name or hostname".into(),
        ));
    };
    let seed = hash_seed(login, hostname);
    let path = inputs.cache_path().filter(|_| may_write);
    let hash = compute_hash(login, hostname);
    Ok(Resolution {
        warning: warning.map(|w| if may_write { format!("{w} {hash}") } else { w }),
        owner: Owner {
            hash,
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
    let cached = match inputs.cache_path() {
        None => Cached::Missing,
        Some(path) => read_cache(&path),
    };
    let mut resolution = resolve(inputs, &cached)?;
    if let Some(w) = &resolution.warning {
        eprintln!("warning: {}", crate::escape::text(w));
    }
    if let Some(path) = resolution.write_cache.take()
        && write_cache(&path, &resolution.owner.hash).is_err()
        && let HashSource::Computed { path, .. } = &mut resolution.owner.source
    {
        *path = None;
    }
    Ok(resolution.owner)
}

/// Read the cache file as a regular file of at most
/// [`crate::input::file::MAX_USER_HASH_BYTES`]: a FIFO or a device there
/// neither blocks nor grows memory.
pub fn read_cache(path: &Path) -> Cached {
    match crate::input::file::read_regular(path, crate::input::file::MAX_USER_HASH_BYTES) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Cached::Text(text),
            Err(_) => {
                Cached::Unusable(format!("`{}` is not UTF-8 text", crate::escape::path(path)))
            }
        },
        Err(e) if e.is_not_found() => Cached::Missing,
        Err(e) => Cached::Unusable(e.to_string()),
    }
}

/// Write the cache file as Konduktor does (the bare hash, no newline), but
/// atomically: a temporary file in the same directory (made if missing),
/// then renamed over the path, so a reader sees the old file or the new one.
fn write_cache(path: &Path, hash: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = write_new(
        dir,
        &format!(".{name}.tmp-{}", std::process::id()),
        hash.as_bytes(),
    )?;
    let renamed = std::fs::rename(&temp, path);
    if renamed.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    renamed?;
    // The rename is durable once the directory is; not every system can sync one.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Create `<dir>/<base>` (or `<base>.1`, `<base>.2`, ... if taken: never
/// over an existing file), write `bytes`, sync, and return its path.
fn write_new(dir: &Path, base: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
    for n in 0..MAX_NUMBERED {
        let path = match n {
            0 => dir.join(base),
            n => dir.join(format!("{base}.{n}")),
        };
        match crate::input::file::write_new_file(&path, 0o644, bytes) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
        return Ok(path);
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AlreadyExists,
        format!(
            "{} and {MAX_NUMBERED} numbered names after it are all taken",
            crate::escape::path(&dir.join(base))
        ),
    ))
}

/// How many numbered names [`write_new`] tries before giving up.
const MAX_NUMBERED: u32 = 1000;

// ---- `identity adopt`: make another owner hash this machine's -----------

/// Why `identity adopt` leaves the file as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdoptError {
    #[error("{0}")]
    NotAHash(IdentityError),
    #[error(
        "{var} is set{}, and {users} it instead of `~/.konduktor/user_hash`: adopting {hash} there would change nothing while it is set; nothing was changed",
        shown_value(value)
    )]
    Overridden {
        var: &'static str,
        value: String,
        hash: String,
        /// Who reads the variable before the file.
        users: &'static str,
    },
    #[error("HOME is not set, so there is no `~/.konduktor/user_hash` to write")]
    NoHome,
    #[error("{message}; nothing was changed")]
    Unusable { message: String },
    #[error(
        "`{}` changed while adopt was running; nothing was changed",
        crate::escape::path(path)
    )]
    Changed { path: PathBuf },
    #[error("cannot write `{}`: {why}", crate::escape::path(path))]
    Write { path: PathBuf, why: String },
}

fn shown_value(value: &str) -> String {
    if value.is_empty() {
        " (to nothing)".into()
    } else {
        format!(" to `{}`", crate::escape::text(value))
    }
}

impl AdoptError {
    pub fn help(&self) -> String {
        match self {
            AdoptError::NotAHash(e) => e.help().into(),
            AdoptError::Overridden { var, hash, .. } => format!(
                "unset it (`unset {var}`) and run adopt again, or set it to {hash} instead (`export {var}={hash}`)"
            ),
            AdoptError::NoHome => {
                "set HOME, or set KONDUKTOR_USER_ID to the hash in your shell profile (`kubectl konduktor identity export HASH`)".into()
            }
            AdoptError::Unusable { .. } => {
                "adopt replaces only a regular file: move this one out of the way, then run adopt again".into()
            }
            AdoptError::Changed { .. } => "run adopt again".into(),
            AdoptError::Write { .. } => {
                "check that `~/.konduktor` is a directory you can write to".into()
            }
        }
    }
}

/// `~/.konduktor/user_hash` as adopt found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HashFile {
    Missing,
    /// A regular file, or a symbolic link to one (`symlink`), and its bytes.
    Regular {
        bytes: Vec<u8>,
        symlink: bool,
    },
}

/// Read the file adopt may replace: a regular file of at most
/// [`crate::input::file::MAX_USER_HASH_BYTES`], or nothing there at all.
/// Anything else (a directory, a FIFO, a link to one or to nothing, a file
/// too large) is refused, never replaced.
pub fn read_hash_file(path: &Path) -> Result<HashFile, AdoptError> {
    let symlink = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    match crate::input::file::read_regular(path, crate::input::file::MAX_USER_HASH_BYTES) {
        Ok(bytes) => Ok(HashFile::Regular { bytes, symlink }),
        Err(e) if e.is_not_found() && !symlink => Ok(HashFile::Missing),
        Err(e) if e.is_not_found() => Err(AdoptError::Unusable {
            message: format!(
                "`{}` is a symbolic link to a file that does not exist",
                crate::escape::path(path)
            ),
        }),
        Err(e) => Err(AdoptError::Unusable {
            message: e.to_string(),
        }),
    }
}

/// What `identity adopt HASH` will do, decided before anything is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdoptPlan {
    pub hash: String,
    pub path: PathBuf,
    /// The file as it was read: it is written only if it is still so.
    pub file: HashFile,
    /// The owner hash so far and where it came from, for messages.
    pub before: String,
    /// The file already holds `hash`, as Konduktor reads it: nothing to do.
    pub unchanged: bool,
    pub warnings: Vec<String>,
}

/// What adopt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adopted {
    /// Where the previous file was copied (none when there was no file).
    pub backup: Option<PathBuf>,
}

const BOTH_USE: &str = "this tool and Konduktor's CLI use";

/// The checks that need no file: the hash, the variables that would win
/// over the file (for this tool or for Konduktor's CLI), and HOME. Returns
/// the file's path and warnings.
pub fn adopt_target(
    inputs: &IdentityInputs,
    hash: &str,
) -> Result<(PathBuf, Vec<String>), AdoptError> {
    let hash = parse_owner_hash(hash).map_err(AdoptError::NotAHash)?;
    if let Some(value) = &inputs.test_user_hash {
        return Err(AdoptError::Overridden {
            var: ENV_TEST_USER_HASH,
            value: value.clone(),
            hash,
            users: BOTH_USE,
        });
    }
    let mut warnings = Vec::new();
    if let Some(value) = &inputs.user_id {
        // A value either tool takes wins over the file; one both ignore is harmless.
        if is_owner_hash(value) || konduktor_accepts_env(value) {
            if *value != hash {
                return Err(AdoptError::Overridden {
                    var: ENV_USER_ID,
                    value: value.clone(),
                    hash,
                    users: if is_owner_hash(value) {
                        BOTH_USE
                    } else {
                        "Konduktor's CLI uses"
                    },
                });
            }
        } else {
            warnings.push(format!(
                "{ENV_USER_ID} is set{}, which is not an owner hash: this tool and Konduktor's CLI ignore it and use the file",
                shown_value(value)
            ));
        }
    }
    let path = inputs.cache_path().ok_or(AdoptError::NoHome)?;
    Ok((path, warnings))
}

/// Decide what adopt does, from the inputs and the file as read (pure).
pub fn plan_adopt(
    inputs: &IdentityInputs,
    hash: &str,
    file: HashFile,
) -> Result<AdoptPlan, AdoptError> {
    let (path, warnings) = adopt_target(inputs, hash)?;
    let text = match &file {
        HashFile::Missing => None,
        HashFile::Regular { bytes, .. } => Some(String::from_utf8_lossy(bytes).into_owned()),
    };
    let unchanged = text.as_deref().map(python_strip) == Some(hash);
    let cached = text.map_or(Cached::Missing, Cached::Text);
    // The file's hash as both tools read it (KONDUKTOR_USER_ID, if set, is
    // the hash itself or ignored by both; see adopt_target).
    let without_env = IdentityInputs {
        user_id: None,
        ..inputs.clone()
    };
    let before = match resolve(&without_env, &cached) {
        Ok(r) => match r.owner.source {
            HashSource::Computed { seed, .. } if file == HashFile::Missing => format!(
                "{} (computed from \"{}\"; not saved yet)",
                r.owner.hash,
                crate::escape::text(&seed)
            ),
            HashSource::Computed { .. } => {
                format!("{} (computed: the file holds no owner hash)", r.owner.hash)
            }
            source => format!("{} ({source})", r.owner.hash),
        },
        Err(e) => format!("none ({e})"),
    };
    Ok(AdoptPlan {
        hash: hash.to_string(),
        path,
        file,
        before,
        unchanged,
        warnings,
    })
}

/// Read the file and plan (see [`plan_adopt`]).
pub fn prepare_adopt(inputs: &IdentityInputs, hash: &str) -> Result<AdoptPlan, AdoptError> {
    let (path, _) = adopt_target(inputs, hash)?;
    let file = read_hash_file(&path)?;
    plan_adopt(inputs, hash, file)
}

/// Carry out a plan: if the file is still as planned, copy it to
/// `user_hash.bak-<UTC time>` (numbered if taken: no backup is ever
/// overwritten), then write the hash as the cache is written.
pub fn adopt(plan: &AdoptPlan, now: jiff::Timestamp) -> Result<Adopted, AdoptError> {
    if plan.unchanged {
        return Ok(Adopted { backup: None });
    }
    if read_hash_file(&plan.path)? != plan.file {
        return Err(AdoptError::Changed {
            path: plan.path.clone(),
        });
    }
    let failed = |e: std::io::Error| AdoptError::Write {
        path: plan.path.clone(),
        why: e.to_string(),
    };
    let backup = match &plan.file {
        HashFile::Missing => None,
        HashFile::Regular { bytes, .. } => {
            let dir = plan.path.parent().unwrap_or(Path::new("."));
            let name = plan
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let stamp = now
                .to_zoned(jiff::tz::TimeZone::UTC)
                .strftime("%Y%m%dT%H%M%SZ");
            Some(write_new(dir, &format!("{name}.bak-{stamp}"), bytes).map_err(failed)?)
        }
    };
    write_cache(&plan.path, &plan.hash).map_err(failed)?;
    Ok(Adopted { backup })
}

#[cfg(test)]
#[path = "identity_tests.rs"]
mod tests;
