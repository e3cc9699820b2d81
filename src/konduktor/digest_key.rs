//! The digest key (docs/konduktor-compat.md §5.1, docs/manifest.md, "Saved plans"):
//! 32 random bytes that key every digest this tool writes beside values
//! (a saved plan's, the `applied` annotation's), so that whoever holds the
//! digests but not the key cannot test guesses of the values, however short
//! they are. Kept in `~/.konduktor/digest-key` (64 hex digits, mode 0600,
//! made on first use), or given in `KONDUKTOR_DIGEST_KEY` (a CI job that
//! applies a plan saved elsewhere). Never in a file this tool writes beside
//! the digests.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The environment variable that gives the key (it wins over the file).
pub const ENV_DIGEST_KEY: &str = "KONDUKTOR_DIGEST_KEY";
/// The key file, under HOME.
pub const RELATIVE_PATH: &str = ".konduktor/digest-key";
/// The key, in bytes.
pub const KEY_BYTES: usize = 32;
/// How the key is written: `openssl rand -hex 32` makes one.
const KEY_HEX_DIGITS: usize = 2 * KEY_BYTES;

/// Where the key came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Env,
    File(PathBuf),
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Env => write!(f, "{ENV_DIGEST_KEY}"),
            KeySource::File(p) => write!(f, "`{}`", crate::escape::path(p)),
        }
    }
}

/// A digest key. Its `Debug` shows its id, never its bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct DigestKey {
    bytes: [u8; KEY_BYTES],
    /// [`DigestKey::id`], made once (every recorded entry names it).
    id: String,
    pub source: KeySource,
}

impl fmt::Debug for DigestKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DigestKey(id {}, from {})", self.id(), self.source)
    }
}

/// HMAC-SHA256 (RFC 2104) of the concatenated `parts`, with a key of at
/// most one block (64 bytes; ours are 32).
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut ipad = [0x36u8; BLOCK];
    let mut opad = [0x5cu8; BLOCK];
    for (i, b) in key.iter().enumerate() {
        if let (Some(x), Some(y)) = (ipad.get_mut(i), opad.get_mut(i)) {
            *x ^= b;
            *y ^= b;
        }
    }
    let mut inner = Sha256::new();
    inner.update(ipad);
    for part in parts {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(opad);
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of `text` as hex digits (either case), if it is exactly that.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect()
}

impl DigestKey {
    pub fn from_bytes(bytes: [u8; KEY_BYTES], source: KeySource) -> Self {
        let mac = hmac_sha256(&bytes, &[b"kubectl-konduktor digest key id"]);
        let id = hex(mac.get(..4).unwrap_or_default());
        DigestKey { bytes, id, source }
    }

    /// A key as written in the file or the variable: 64 hex digits,
    /// surrounding whitespace ignored.
    fn parse(text: &[u8], source: KeySource) -> Option<Self> {
        let text = std::str::from_utf8(text).ok()?.trim();
        if text.len() != KEY_HEX_DIGITS || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let bytes: [u8; KEY_BYTES] = unhex(text)?.try_into().ok()?;
        Some(DigestKey::from_bytes(bytes, source))
    }

    /// A name for the key, safe to write anywhere: 8 hex digits of a MAC
    /// of a fixed text, so a plan or a record can say which key made it
    /// (one in 4 billion keys share an id; that only makes a mismatch
    /// read as a change).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The MAC of `value`, bound to a purpose (`domain`) and to `names`
    /// (each length-prefixed, so a byte moved from one name to the next is
    /// another input).
    pub fn mac(&self, domain: &str, names: &[&[u8]], value: &[u8]) -> [u8; 32] {
        let mut parts: Vec<&[u8]> = Vec::with_capacity(2 + 2 * names.len());
        let lengths: Vec<[u8; 8]> = names
            .iter()
            .map(|n| u64::try_from(n.len()).unwrap_or(u64::MAX).to_be_bytes())
            .collect();
        parts.push(domain.as_bytes());
        parts.push(&[0]);
        for (name, len) in names.iter().zip(&lengths) {
            parts.push(len);
            parts.push(name);
        }
        parts.push(value);
        hmac_sha256(&self.bytes, &parts)
    }
}

/// What the key is looked up from.
#[derive(Debug, Clone, Default)]
pub struct KeyInputs {
    /// `KONDUKTOR_DIGEST_KEY`, if set.
    pub env: Option<OsString>,
    pub home: Option<PathBuf>,
}

impl KeyInputs {
    pub fn from_process() -> Self {
        KeyInputs {
            env: std::env::var_os(ENV_DIGEST_KEY),
            home: std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from),
        }
    }

    pub fn file(&self) -> Option<PathBuf> {
        self.home.as_ref().map(|h| h.join(RELATIVE_PATH))
    }
}

/// Why there is no usable key. Messages never show a key's bytes.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{ENV_DIGEST_KEY} is set but is not 64 hex digits")]
    EnvMalformed,
    #[error("`{}` is not a usable digest key: {why}", crate::escape::path(path))]
    Unusable { path: PathBuf, why: String },
    #[error(
        "`{}` can be read by others (mode {mode:04o}): a digest key must be yours alone",
        crate::escape::path(path)
    )]
    Exposed { path: PathBuf, mode: u32 },
    #[error("HOME is not set, so there is no `~/{RELATIVE_PATH}` for the digest key")]
    NoHome,
    #[error("cannot make the digest key `{}`: {why}", crate::escape::path(path))]
    Write { path: PathBuf, why: String },
}

impl KeyError {
    pub fn help(&self) -> String {
        match self {
            KeyError::EnvMalformed => format!(
                "set {ENV_DIGEST_KEY} to the contents of ~/{RELATIVE_PATH} on the machine that saved the plan (or to a new key: `openssl rand -hex 32`), or unset it to use ~/{RELATIVE_PATH}"
            ),
            KeyError::Unusable { .. } => format!(
                "it must be a regular file holding 64 hex digits: move it out of the way and a new key is made on the next write (digests made with the old one can no longer be checked), or set {ENV_DIGEST_KEY}"
            ),
            KeyError::Exposed { path, .. } => format!(
                "chmod 600 {}, and make a new key if others may have read it (move the file away)",
                crate::escape::path(path)
            ),
            KeyError::NoHome => format!("set HOME, or set {ENV_DIGEST_KEY}"),
            KeyError::Write { .. } => format!(
                "check that ~/.konduktor is a directory you can write to, or set {ENV_DIGEST_KEY}"
            ),
        }
    }
}

impl From<KeyError> for crate::error::Error {
    fn from(e: KeyError) -> Self {
        let help = e.help();
        crate::error::Error::input(e.to_string()).with_help(help)
    }
}

/// The key a run has: the variable's, else the file's; `None` when
/// neither is there. A variable or file that is there but unusable is an
/// error, never passed over.
pub fn load(inputs: &KeyInputs) -> Result<Option<DigestKey>, KeyError> {
    if let Some(env) = &inputs.env {
        return DigestKey::parse(env.as_encoded_bytes(), KeySource::Env)
            .map(Some)
            .ok_or(KeyError::EnvMalformed);
    }
    match inputs.file() {
        Some(path) => read_file(&path),
        None => Ok(None),
    }
}

/// As [`load`], and when there is none, a new key in the file.
pub fn load_or_create(inputs: &KeyInputs) -> Result<DigestKey, KeyError> {
    if let Some(key) = load(inputs)? {
        return Ok(key);
    }
    let path = inputs.file().ok_or(KeyError::NoHome)?;
    let write_error = |e: std::io::Error| KeyError::Write {
        path: path.clone(),
        why: e.to_string(),
    };
    if let Some(dir) = path.parent() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(dir).map_err(write_error)?;
    }
    let bytes = random_bytes().map_err(write_error)?;
    let key = DigestKey::from_bytes(bytes, KeySource::File(path.clone()));
    let text = format!("{}\n", hex(&key.bytes));
    // Whole or not at all (a new file linked into place), and never over
    // one another run made meanwhile.
    match crate::input::file::write_whole(&path, 0o600, text.as_bytes(), false) {
        Ok(()) => Ok(key),
        // Another run made it meanwhile: theirs is the key.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            read_file(&path)?.ok_or(KeyError::Write {
                path,
                why: "it vanished while being made".into(),
            })
        }
        Err(e) => Err(write_error(e)),
    }
}

/// The key file: a regular file (a link to one is followed), ours, read by
/// no one else, of at most [`crate::input::file::MAX_DIGEST_KEY_BYTES`].
fn read_file(path: &Path) -> Result<Option<DigestKey>, KeyError> {
    use crate::input::file::{MAX_DIGEST_KEY_BYTES, open_regular, read_capped};
    let unusable = |why: String| KeyError::Unusable {
        path: path.to_path_buf(),
        why,
    };
    let (file, meta) = match open_regular(path) {
        Ok(opened) => opened,
        Err(e) if e.is_not_found() => {
            // A dangling link is not "no key": making one through it is refused.
            let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
            return match link {
                true => Err(unusable("a symbolic link to nothing".into())),
                false => Ok(None),
            };
        }
        Err(e) => return Err(unusable(e.to_string())),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mode = meta.mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Exposed {
                path: path.to_path_buf(),
                mode,
            });
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(unusable(format!(
                "it belongs to user id {}, not to you",
                meta.uid()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = &meta;
    let bytes =
        read_capped(file, MAX_DIGEST_KEY_BYTES, path).map_err(|e| unusable(e.to_string()))?;
    DigestKey::parse(&bytes, KeySource::File(path.to_path_buf()))
        .map(Some)
        .ok_or_else(|| unusable("it does not hold 64 hex digits".into()))
}

/// Bytes from the system's random source.
///
/// # Errors
///
/// The random source cannot be read.
pub fn random_bytes<const N: usize>() -> std::io::Result<[u8; N]> {
    use std::io::Read;
    let mut bytes = [0u8; N];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes))?;
    Ok(bytes)
}

/// A fixed key for tests: `byte` 32 times.
#[cfg(test)]
pub fn test_key(byte: u8) -> DigestKey {
    DigestKey::from_bytes([byte; KEY_BYTES], KeySource::Env)
}

#[cfg(test)]
#[path = "digest_key_tests.rs"]
mod tests;
