//! `export`: a manifest that reproduces the caller's live secrets, so that
//! `diff` of it right after reports no changes (docs/konduktor-compat.md
//! §5.2 for the manifest, §1 for the objects it stands for).
//!
//! Three steps:
//! 1. [`plan`]: decide, from the live objects alone, how each secret is
//!    written (`fromEnvFile` and an env file, `fromFile`, or `fromDirectory`
//!    and an unpacked archive), or why it cannot be (left out, with the
//!    reason);
//! 2. [`ValuesDir`]: write the values under a folder the user named, each
//!    file created new (`O_EXCL`, never through a link) with mode 0600 (an
//!    unpacked folder's files get the archive's modes before any byte is
//!    written), and check that each unpacked folder archives back to the
//!    same content. It replaces or removes only what an earlier export
//!    listed in the folder's [`RECORD_FILE`], and refuses, naming it,
//!    anything else in its way; a secret whose names the file system
//!    refuses is left out, the others written;
//! 3. [`render`]: the manifest text, paths double-quoted so that any folder
//!    name reads back as written.
//!
//! Values go only into the files of step 2: no message, comment or log line
//! holds one. Env files are read by this tool (`fromEnvFile`, the format of
//! [`crate::secrets::env_file`]), never sourced: a key such as
//! `HTTPS_PROXY` a secret holds changes nothing outside the job.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind};
use crate::konduktor::secret_value::SecretBytes;
use crate::konduktor::{
    self, GIT_SSH_KEY, LiveSecret, MAX_SECRET_BYTES, PARENT_VALUE, PAYLOAD_ZIP_KEY, SecretKind,
};
use crate::secrets::env_file;
use crate::secrets::manifest::sources::{self, MAX_WALK_DEPTH};
use crate::secrets::manifest::{API_VERSION, KIND};
use crate::secrets::plan::{MAX_ZIP_ENTRIES, ZipRead, read_zip};

// ------------------------------------------------------------------ plan

/// What export does with one secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretExport {
    pub name: String,
    /// The object it is read from (`<name>-<hash>`).
    pub object: String,
    pub kind: SecretKind,
    /// The data keys, sorted.
    pub keys: Vec<String>,
    pub source: ExportSource,
}

/// Where a secret's values go; `None` values: placeholders only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportSource {
    /// `fromEnvFile`, the values in `<DIR>/<name>.env`.
    Env { file: Option<SecretBytes> },
    /// `fromFile`, one file per key under `<DIR>/<name>/`.
    Files { values: Option<Vec<SecretBytes>> },
    /// `fromDirectory`, `payload.zip` unpacked under `<DIR>/<name>/`.
    Directory { unpacked: Option<Unpacked> },
}

/// A `payload.zip`, unpacked in memory: its one top folder, and its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpacked {
    pub root: String,
    pub files: Vec<UnpackedFile>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackedFile {
    /// Below the root, `/`-separated, every part a plain name.
    pub path: String,
    /// Permission bits (`0o777` at most).
    pub mode: u32,
    pub bytes: SecretBytes,
}

/// A secret export cannot write faithfully, and why (names and keys only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// The object's name: the one thing no co-tenant can share with it.
    pub object: String,
    /// Its basename label, when that differs from the object's name.
    pub basename: Option<String>,
    pub reason: String,
}

impl LeftOut {
    fn new(l: &LiveSecret, reason: String) -> Self {
        LeftOut {
            object: l.name.clone(),
            basename: l.basename().filter(|b| *b != l.name).map(str::to_string),
            reason,
        }
    }

    /// `` `object` ``, and `` (basename `b`) `` when it differs
    /// (unescaped: names come from the cluster).
    pub fn named(&self) -> String {
        match &self.basename {
            Some(b) => format!("`{}` (basename `{b}`)", self.object),
            None => format!("`{}`", self.object),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportPlan {
    pub secrets: Vec<SecretExport>,
    pub left_out: Vec<LeftOut>,
}

/// A key as a comment or message may show it: only with a key's
/// characters (anything else may be a value pasted in its place).
fn shown_key(key: &str) -> String {
    if crate::kube_names::has_key_chars(key) {
        format!("`{key}`")
    } else {
        "(not shown: it may hold a value)".to_string()
    }
}

/// Decide how each of `owner_hash`'s secrets in `live` is exported.
/// `with_values`: values are to be written (else placeholders, and no
/// value is looked at). Another owner's secret is never listed.
#[must_use]
pub fn plan(live: &[LiveSecret], owner_hash: &str, with_values: bool) -> ExportPlan {
    let mut mine: Vec<&LiveSecret> = live.iter().filter(|l| l.is_owned_by(owner_hash)).collect();
    mine.sort_by(|a, b| {
        a.display_name()
            .cmp(b.display_name())
            .then(a.name.cmp(&b.name))
    });
    let mut out = ExportPlan::default();
    // A manifest holds one git-ssh secret, and applying it deletes the
    // others: with several, none can be exported without a change. Only
    // those a manifest manages count (Opaque, not being deleted): one a
    // co-tenant planted with another type, or one going, hides nothing.
    let git_ssh = mine
        .iter()
        .filter(|l| {
            l.kind() == Some(SecretKind::GitSsh) && l.is_opaque() && l.terminating.is_none()
        })
        .count();
    for l in mine {
        let result = one_secret(l, owner_hash, with_values).and_then(|s| {
            if s.kind == SecretKind::GitSsh && git_ssh > 1 {
                return Err(format!(
                    "you have {git_ssh} git-ssh secrets; a manifest holds one, and applying it deletes the others: delete the ones you do not use, then export again"
                ));
            }
            Ok(s)
        });
        match result {
            Ok(s) => out.secrets.push(s),
            Err(reason) => out.left_out.push(LeftOut::new(l, reason)),
        }
    }
    out
}

/// One secret, checked rule by rule; the reason it cannot be exported.
fn one_secret(l: &LiveSecret, owner_hash: &str, with_values: bool) -> Result<SecretExport, String> {
    // docs/konduktor-compat.md §1.6: not the user's, and no manifest kind.
    if let Some(own) = l.konduktor_own() {
        return Err(match own.made_by() {
            Some(cmd) => format!(
                "it is Konduktor's own ({}): Konduktor makes it (`{cmd}`), and a manifest does not manage it",
                own.what()
            ),
            None => format!(
                "it is Konduktor's own ({}), and a manifest does not manage it",
                own.what()
            ),
        });
    }
    // Konduktor makes only Opaque Secrets: another type carrying our
    // labels was never written by it, and a manifest would conflict with it.
    if !l.is_opaque() {
        return Err(format!(
            "it is a Secret of type `{}`, not Opaque: Konduktor makes only Opaque ones, so it is not yours to export",
            l.type_name()
        ));
    }
    if let Some(t) = &l.terminating {
        return Err(format!(
            "it is being deleted ({}): a manifest would make it again once it is gone",
            t.pending()
        ));
    }
    if l.labels.get(konduktor::LABEL_PARENT).map(String::as_str) != Some(PARENT_VALUE) {
        return Err(format!(
            "it lacks the label `{}: {PARENT_VALUE}` that Konduktor's secrets carry",
            konduktor::LABEL_PARENT
        ));
    }
    let Some(name) = l.basename() else {
        return Err(format!("it has no `{}` label", konduktor::LABEL_BASENAME));
    };
    if konduktor::object_name(name, owner_hash) != l.name {
        return Err(format!(
            "its object is named `{}`, not `{}`: a manifest would make a new one",
            l.name,
            konduktor::object_name(name, owner_hash)
        ));
    }
    let kind = match l.kind_label() {
        None => return Err(format!("it has no `{}` label", konduktor::LABEL_KIND)),
        Some(k) => k
            .parse::<SecretKind>()
            .map_err(|_| format!("its kind `{k}` is not one of default, env, git-ssh"))?,
    };
    konduktor::validate_name(name, kind).map_err(|e| e.to_string())?;
    if l.data.is_empty() {
        return Err("it holds no keys, and a manifest entry needs at least one".to_string());
    }
    let keys: Vec<String> = l.data.keys().cloned().collect();
    for k in &keys {
        konduktor::validate_data_key(k).map_err(|e| e.to_string())?;
    }
    let value = |k: &str| l.data.get(k).cloned().unwrap_or_default();
    let source = match kind {
        SecretKind::Env => {
            for k in &keys {
                konduktor::validate_env_name(k).map_err(|e| e.to_string())?;
            }
            let file = if with_values {
                let pairs: Vec<(String, SecretBytes)> =
                    keys.iter().map(|k| (k.clone(), value(k))).collect();
                Some(env_file(name, &pairs)?)
            } else {
                None
            };
            ExportSource::Env { file }
        }
        SecretKind::GitSsh => {
            if keys != [GIT_SSH_KEY] {
                return Err(format!(
                    "a git-ssh secret holds the one key `{GIT_SSH_KEY}`; this one holds {}",
                    keys.iter()
                        .map(|k| shown_key(k))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            ExportSource::Files {
                values: with_values.then(|| vec![value(GIT_SSH_KEY)]),
            }
        }
        SecretKind::Default if keys == [PAYLOAD_ZIP_KEY] => {
            let unpacked = if with_values {
                Some(unpack_zip(value(PAYLOAD_ZIP_KEY).expose())?)
            } else {
                None
            };
            ExportSource::Directory { unpacked }
        }
        SecretKind::Default => ExportSource::Files {
            values: with_values.then(|| keys.iter().map(|k| value(k)).collect()),
        },
    };
    Ok(SecretExport {
        name: name.to_string(),
        object: l.name.clone(),
        kind,
        keys,
        source,
    })
}

// ------------------------------------------------------------ env files

/// The env file of secret `name` (the format of
/// [`crate::secrets::env_file`]), for `fromEnvFile`. A value no
/// environment variable can carry (a NUL byte, not UTF-8) is the reason
/// the secret is left out: an env secret's values become variables in the
/// job.
///
/// # Errors
///
/// A value cannot be carried by an environment variable.
pub fn env_file(name: &str, pairs: &[(String, SecretBytes)]) -> Result<SecretBytes, String> {
    for (key, value) in pairs {
        if let Some(why) = env_file::env_value_problem(value.expose()) {
            return Err(format!("the value of `{key}` {why}"));
        }
    }
    let header = format!(
        "The values of secret `{name}`, for `fromEnvFile`: KEY=VALUE lines that kubectl konduktor\nreads itself (see \"Env files\" in its docs/manifest.md). This is not a shell script: do not source it."
    );
    Ok(env_file::render(&header, pairs))
}

// ------------------------------------------------------------ zip

/// Unpack a `payload.zip` in memory, if `fromDirectory` of the result
/// gives the same archive back (by entry names, bytes and modes, as `diff`
/// compares them): one top folder, plain relative names, no links, no
/// duplicates, Unix modes the owner can read, at most 1 MiB of files (what
/// a folder may hold), within [`read_zip`]'s caps.
///
/// # Errors
///
/// Why it cannot be unpacked faithfully (entry names escaped, no bytes).
pub fn unpack_zip(bytes: &[u8]) -> Result<Unpacked, String> {
    use sha2::{Digest, Sha256};
    let expected = match read_zip(bytes) {
        ZipRead::Content(c) => c,
        ZipRead::NotZip => return Err("its `payload.zip` is not a readable zip archive".into()),
        ZipRead::OverCap => {
            return Err(format!(
                "its `payload.zip` inflates past the limits (at most {MAX_ZIP_ENTRIES} entries)"
            ));
        }
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|_| "its `payload.zip` is not a readable zip archive".to_string())?;
    // The reader keeps one of two entries with the same name; an unzip
    // in the pod would see both.
    if central_directory_entries(bytes) != Some(archive.len()) {
        return Err(
            "its `payload.zip` holds an entry name twice (or says it holds more entries than it does)"
                .into(),
        );
    }
    let mut root: Option<String> = None;
    let mut files: Vec<UnpackedFile> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut remaining = u64::try_from(MAX_SECRET_BYTES).unwrap_or(u64::MAX);
    for i in 0..archive.len() {
        let file = archive
            .by_index(i)
            .map_err(|_| "an entry of its `payload.zip` cannot be read".to_string())?;
        let name = file
            .name()
            .map(|n| n.into_owned())
            .map_err(|_| "an entry name in its `payload.zip` is not UTF-8 text".to_string())?;
        let shown = crate::escape::text(&name).into_owned();
        if file.is_symlink() {
            return Err(format!(
                "its `payload.zip` holds a symbolic link (`{shown}`)"
            ));
        }
        let is_dir = file.is_dir();
        let (top, rest) = entry_parts(name.trim_end_matches('/'), is_dir)
            .map_err(|why| format!("the entry `{shown}` of its `payload.zip` {why}"))?;
        match &root {
            Some(r) if *r != top => {
                return Err(format!(
                    "its `payload.zip` has more than one top folder (`{}`, `{}`); a folder archives under its own name only",
                    crate::escape::text(r),
                    crate::escape::text(&top)
                ));
            }
            Some(_) => {}
            None => root = Some(top),
        }
        if is_dir {
            continue;
        }
        let Some(mode) = file.unix_mode() else {
            return Err(format!(
                "the entry `{shown}` of its `payload.zip` has no Unix permissions to give back"
            ));
        };
        let mode = mode & 0o777;
        if mode & 0o400 == 0 {
            return Err(format!(
                "the entry `{shown}` of its `payload.zip` is not readable by its owner (mode {mode:o}), so it could not be archived again"
            ));
        }
        if rest.rsplit('/').next() == Some(".DS_Store") {
            return Err(format!(
                "its `payload.zip` holds `{shown}`, which `fromDirectory` leaves out"
            ));
        }
        if !seen.insert(rest.clone()) {
            return Err(format!("its `payload.zip` holds `{shown}` twice"));
        }
        let mut data = Vec::new();
        file.take(remaining.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(|_| format!("the entry `{shown}` of its `payload.zip` cannot be read"))?;
        let n = u64::try_from(data.len()).unwrap_or(u64::MAX);
        remaining = remaining.checked_sub(n).ok_or_else(|| {
            format!(
                "its `payload.zip` unpacks to more than 1 MiB ({MAX_SECRET_BYTES} bytes), more than a folder for `fromDirectory` may hold"
            )
        })?;
        files.push(UnpackedFile {
            path: rest,
            mode,
            bytes: SecretBytes::new(data),
        });
    }
    let Some(root) = root.filter(|_| !files.is_empty()) else {
        return Err("its `payload.zip` holds no file".into());
    };
    // A file where another needs a folder ("a" and "a/b") cannot be made.
    for f in &files {
        let below = format!("{}/", f.path);
        if seen
            .range(below.clone()..)
            .next()
            .is_some_and(|p| p.starts_with(&below))
        {
            return Err(format!(
                "its `payload.zip` holds `{}` both as a file and as a folder",
                crate::escape::text(&format!("{root}/{}", f.path))
            ));
        }
    }
    // What the folder archives back to, compared as `diff` compares.
    let again: BTreeMap<String, (Option<u32>, [u8; 32])> = files
        .iter()
        .map(|f| {
            (
                format!("{root}/{}", f.path),
                (Some(f.mode), Sha256::digest(f.bytes.expose()).into()),
            )
        })
        .collect();
    if again != expected {
        return Err("its `payload.zip` would not archive back to the same files".into());
    }
    Ok(Unpacked { root, files })
}

/// How many entries the end-of-central-directory record of `bytes` says
/// there are (`None`: no record, or a ZIP64 count, which is past
/// [`MAX_ZIP_ENTRIES`] anyway).
fn central_directory_entries(bytes: &[u8]) -> Option<usize> {
    const EOCD: &[u8] = b"PK\x05\x06";
    // The record is 22 bytes and a comment of at most 65535.
    let from = bytes.len().saturating_sub(22 + 65_535);
    let tail = bytes.get(from..)?;
    let at = tail.windows(EOCD.len()).rposition(|w| w == EOCD)?;
    let count = tail.get(at + 10..at + 12)?;
    let count = u16::from_le_bytes([*count.first()?, *count.get(1)?]);
    (count != u16::MAX).then_some(usize::from(count))
}

/// An entry name as `<top>/<rest>`: relative, plain parts only (no empty,
/// `.` or `..` part, no `\`, no NUL), a file below the top folder, at most
/// as deep as a folder walk goes.
fn entry_parts(name: &str, is_dir: bool) -> Result<(String, String), &'static str> {
    if name.starts_with('/') {
        return Err("is an absolute path");
    }
    if name.contains('\\') || name.contains('\0') {
        return Err("holds `\\` or a NUL character");
    }
    let parts: Vec<&str> = name.split('/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        return Err("is not a plain relative path (an empty, `.` or `..` part)");
    }
    let Some((top, rest)) = parts.split_first() else {
        return Err("has no name");
    };
    if rest.is_empty() && !is_dir {
        return Err("is a file outside the archive's top folder");
    }
    if rest.len() > MAX_WALK_DEPTH + 1 {
        return Err("is nested deeper than `fromDirectory` walks");
    }
    Ok(((*top).to_string(), rest.join("/")))
}

// ------------------------------------------------------------ writing

/// The folder `--values-dir` names, checked and made ready.
#[derive(Debug, Clone)]
pub struct ValuesDir {
    /// Canonical and absolute.
    pub path: PathBuf,
    /// The path as UTF-8 text (the manifest is text).
    pub text: String,
    /// What an earlier export recorded it wrote here ([`RECORD_FILE`]).
    earlier: Record,
    /// What is in the folder now (links never followed), relative paths.
    found: BTreeMap<String, Found>,
}

/// The file in a values folder that lists what export wrote there, so that
/// `--force` replaces (or removes, once stale) only that: never a file of
/// the user's, never a link or anything planted in its place.
pub const RECORD_FILE: &str = ".konduktor-export.json";

/// What export wrote in a values folder: relative paths, `/`-separated.
/// Names and paths only, never a value.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Record {
    written_by: String,
    /// Each file with what was written to it: what proves, on a later
    /// `--force`, that it is still export's (docs/konduktor-compat.md §5.2).
    files: BTreeMap<String, WrittenFile>,
    folders: BTreeSet<String>,
}

/// What export wrote to one file: a plain SHA-256 of its bytes (the
/// values folder holds the bytes themselves, so the digest tells a reader
/// nothing more), its size and its mode.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WrittenFile {
    sha256: String,
    size: u64,
    mode: u32,
}

impl WrittenFile {
    fn of(bytes: &[u8], mode: u32) -> Self {
        use sha2::{Digest, Sha256};
        WrittenFile {
            sha256: crate::konduktor::digest_key::hex(&Sha256::digest(bytes)),
            size: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
            mode: mode & 0o777,
        }
    }

    /// Is the file at `at` (a regular file, links never followed) still
    /// byte for byte what was written? Read at most its recorded size.
    fn matches(&self, at: &Path) -> bool {
        use std::io::Read as _;
        #[cfg(unix)]
        use std::os::unix::fs::PermissionsExt;
        let Ok(meta) = std::fs::symlink_metadata(at) else {
            return false;
        };
        #[cfg(unix)]
        if meta.permissions().mode() & 0o777 != self.mode {
            return false;
        }
        if !meta.is_file() || meta.len() != self.size || self.size > MAX_WRITTEN_FILE_BYTES {
            return false;
        }
        let Ok(file) = std::fs::File::open(at) else {
            return false;
        };
        let mut bytes = Vec::new();
        if file
            .take(self.size.saturating_add(1))
            .read_to_end(&mut bytes)
            .is_err()
        {
            return false;
        }
        *self == WrittenFile::of(&bytes, self.mode)
    }
}

/// A file export writes is a value or an unpacked archive's file: never
/// larger than this (a record saying more is not believed).
const MAX_WRITTEN_FILE_BYTES: u64 = 64 << 20;

const RECORD_WRITER: &str = "kubectl konduktor export";

/// What is at a path in the values folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    File,
    Folder,
    /// Anything else (a link, a FIFO, ...), or a name that is not UTF-8:
    /// never export's.
    Other,
}

/// At most this many entries in a values folder are looked at.
const MAX_VALUES_ENTRIES: usize = 100_000;

fn values_error(path: &Path, what: &str) -> Error {
    Error::new(
        ErrorKind::Input,
        format!(
            "cannot use `{}` for values: {what}",
            crate::escape::path(path)
        ),
    )
}

/// Check `dir` before anything is asked of the cluster: a folder that does
/// not exist yet, or an empty one (a non-empty one only with `force`),
/// that no one else may write to.
///
/// # Errors
///
/// It is a file, not empty without `force`, writable by others, or unreadable.
pub fn check_values_dir(dir: &Path, force: bool) -> Result<(), Error> {
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(_) if std::fs::symlink_metadata(dir).is_ok() => {
            return Err(values_error(dir, "it is a link to nothing")
                .with_help("name a folder to create, or an empty one"));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // It is made below its parent, which must be there now, not
            // found missing once values are read.
            return match crate::input::file::folder_of(dir).map(std::fs::metadata) {
                Some(Ok(m)) if m.is_dir() => Ok(()),
                _ => Err(values_error(dir, "its parent folder does not exist")
                    .with_help("create the parent folder first, or name another")),
            };
        }
        Err(e) => return Err(values_error(dir, &e.to_string())),
    };
    if !meta.is_dir() {
        return Err(values_error(dir, "it is not a folder")
            .with_help("name a folder to create, or an empty one"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me || meta.permissions().mode() & 0o022 != 0 {
            return Err(values_error(
                dir,
                "someone else owns it or may write to it, and could plant links where values are written",
            )
            .with_help("use a folder of yours that only you can write to (export creates a new one with mode 0700)"));
        }
    }
    let mut entries = std::fs::read_dir(dir).map_err(|e| values_error(dir, &e.to_string()))?;
    if entries.next().is_some() && !force {
        return Err(Error::new(
            ErrorKind::Refused,
            format!(
                "`{}` is not empty; nothing was exported",
                crate::escape::path(dir)
            ),
        )
        .with_help("name a new or empty folder, or pass --force to write into it (replacing only what an earlier export wrote there)"));
    }
    Ok(())
}

impl ValuesDir {
    /// Create `dir` (mode 0700; its parents as usual) unless it exists, as
    /// [`check_values_dir`] allows; read what an earlier export recorded it
    /// wrote there, and what is there now.
    ///
    /// # Errors
    ///
    /// As [`check_values_dir`]; it cannot be created or read; its path is
    /// not UTF-8; its record is not one export wrote.
    pub fn prepare(dir: &Path, force: bool) -> Result<Self, Error> {
        check_values_dir(dir, force)?;
        let mut created = false;
        if !dir.exists() {
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent).map_err(|e| values_error(dir, &e.to_string()))?;
            }
            new_dir(dir).map_err(|e| values_error(dir, &e.to_string()))?;
            created = true;
        }
        let path = std::fs::canonicalize(dir).map_err(|e| values_error(dir, &e.to_string()))?;
        let Some(text) = path.to_str().map(str::to_string) else {
            if created {
                let _ = std::fs::remove_dir(&path);
            }
            return Err(values_error(
                dir,
                "its path is not UTF-8 text, which a manifest cannot hold",
            )
            .with_help("choose a folder whose path is UTF-8"));
        };
        let found = if created {
            BTreeMap::new()
        } else {
            look_around(&path)?
        };
        let earlier = match found.get(RECORD_FILE) {
            None => Record::default(),
            Some(Found::File) => read_record(&path.join(RECORD_FILE))?,
            Some(_) => {
                return Err(in_the_way(&path, &[RECORD_FILE.to_string()]));
            }
        };
        Ok(ValuesDir {
            path,
            text,
            earlier,
            found,
        })
    }

    /// Write every value of `plan` under this folder, replacing only what
    /// an earlier export wrote (and removing what it wrote for secrets no
    /// longer exported). A secret whose files cannot be made (a name the
    /// file system refuses), or whose folder does not archive back to the
    /// same content, is left out with the reason; the others are written.
    ///
    /// # Errors
    ///
    /// Something export did not write is where it would write (nothing is
    /// written then); a file or folder cannot be written for another reason
    /// than its name (named, with the system's reason).
    pub fn write(&self, plan: &mut ExportPlan) -> Result<(), Error> {
        let layouts: Vec<Layout> = plan.secrets.iter().map(layout).collect();
        let blocking = self.in_the_way(&layouts);
        if !blocking.is_empty() {
            return Err(in_the_way(&self.path, &blocking));
        }
        // Recorded before anything is written: a run stopped half-way still
        // leaves a record of all it may have written.
        let mut ours = self.earlier.clone();
        for l in &layouts {
            ours.files
                .extend(l.files.iter().cloned().zip(l.written.iter().cloned()));
            ours.folders.extend(l.folders.iter().cloned());
        }
        self.write_record(&ours)?;
        let mut now = Record::default();
        let mut kept = Vec::new();
        for (s, l) in std::mem::take(&mut plan.secrets).into_iter().zip(&layouts) {
            match self.write_secret(&s, l)? {
                None => {
                    now.files
                        .extend(l.files.iter().cloned().zip(l.written.iter().cloned()));
                    now.folders.extend(l.folders.iter().cloned());
                    kept.push(s);
                }
                Some(reason) => plan.left_out.push(LeftOut {
                    basename: (s.name != s.object).then(|| s.name.clone()),
                    object: s.object.clone(),
                    reason,
                }),
            }
        }
        plan.secrets = kept;
        plan.left_out.sort_by(|a, b| a.object.cmp(&b.object));
        let left = self.remove_stale(&now);
        now.files.extend(left.files);
        now.folders.extend(left.folders);
        self.write_record(&now)
    }

    /// What is where `layouts` would write, that export did not write (or
    /// that is no longer what it wrote: a link where it made a file).
    fn in_the_way(&self, layouts: &[Layout]) -> Vec<String> {
        let ours = |p: &str, want: Found| {
            let recorded = match want {
                Found::File => self.is_as_written(p),
                Found::Folder => self.earlier.folders.contains(p),
                Found::Other => false,
            };
            recorded && self.found.get(p) == Some(&want)
        };
        // A recorded file no longer as export wrote it (the user edited
        // it) is the user's now: never replaced, nor removed once stale.
        let mut blocking: BTreeSet<String> = self
            .earlier
            .files
            .keys()
            .filter(|p| self.found.get(*p) == Some(&Found::File) && !self.is_as_written(p))
            .cloned()
            .collect();
        for l in layouts {
            let planned = l
                .folders
                .iter()
                .map(|p| (p, Found::Folder))
                .chain(l.files.iter().map(|p| (p, Found::File)));
            for (p, want) in planned {
                if self.found.contains_key(p) && !ours(p, want) {
                    blocking.insert(p.clone());
                }
            }
            // A folder unpacked from an archive is archived again whole:
            // whatever else is in it would be too.
            if let Some(root) = &l.unpacked_root {
                let below = format!("{root}/");
                for (p, found) in self.found.range(below.clone()..) {
                    if !p.starts_with(&below) {
                        break;
                    }
                    let want = if *found == Found::Folder {
                        Found::Folder
                    } else {
                        Found::File
                    };
                    if !ours(p, want) {
                        blocking.insert(p.clone());
                    }
                }
            }
        }
        blocking.into_iter().collect()
    }

    /// `Some(reason)`: not written (what it wrote is removed again).
    fn write_secret(&self, s: &SecretExport, l: &Layout) -> Result<Option<String>, Error> {
        // What is there is export's own (checked): replaced.
        if let Some(root) = &l.unpacked_root {
            self.remove_below(root)?;
        }
        for f in &l.files {
            if self.found.get(f) == Some(&Found::File) {
                let at = self.path.join(f);
                match std::fs::remove_file(&at) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(write_error(&at, &e));
                    }
                    _ => {}
                }
            }
        }
        let mut made: Vec<PathBuf> = Vec::new();
        let outcome = self.write_values(s, l, &mut made);
        let reason = match outcome {
            Ok(()) => match (&s.source, &l.unpacked_root) {
                (
                    ExportSource::Directory {
                        unpacked: Some(unpacked),
                    },
                    Some(root),
                ) => archives_back(&self.path.join(root), unpacked),
                _ => None,
            },
            Err((at, e)) if refused_name(&e) => Some(format!(
                "the file system refuses the name `{}`: {e}",
                crate::escape::path(at.strip_prefix(&self.path).unwrap_or(&at))
            )),
            Err((at, e)) => return Err(write_error(&at, &e)),
        };
        if reason.is_some() {
            // Deepest first: files, then the folders this run made.
            for p in made.iter().rev() {
                let _ = std::fs::remove_file(p).or_else(|_| std::fs::remove_dir(p));
            }
        }
        Ok(reason)
    }

    /// Make `l`'s folders and files, each made pushed to `made`; the first
    /// failure, with its path.
    fn write_values(
        &self,
        s: &SecretExport,
        l: &Layout,
        made: &mut Vec<PathBuf>,
    ) -> Result<(), (PathBuf, std::io::Error)> {
        for folder in &l.folders {
            let at = self.path.join(folder);
            if self.found.get(folder) == Some(&Found::Folder) && !l.is_below_root(folder) {
                continue;
            }
            new_dir(&at).map_err(|e| (at.clone(), e))?;
            made.push(at);
        }
        let contents = contents(s);
        for (rel, (bytes, mode)) in l.files.iter().zip(contents) {
            let at = self.path.join(rel);
            crate::input::file::write_new_file(&at, mode, bytes.expose())
                .map_err(|e| (at.clone(), e))?;
            made.push(at);
        }
        Ok(())
    }

    /// Remove everything below (and with) `root`, all of it export's own
    /// (checked by [`ValuesDir::in_the_way`]): files, then folders,
    /// deepest first.
    fn remove_below(&self, root: &str) -> Result<(), Error> {
        let below = format!("{root}/");
        let mut entries: Vec<(&String, &Found)> = self
            .found
            .range(below.clone()..)
            .take_while(|(p, _)| p.starts_with(&below))
            .collect();
        if let Some(f) = self.found.get_key_value(root) {
            entries.push(f);
        }
        entries.sort_by_key(|(p, _)| std::cmp::Reverse(p.matches('/').count()));
        for (p, found) in entries {
            let at = self.path.join(p);
            let removed = match found {
                Found::Folder => std::fs::remove_dir(&at),
                _ => std::fs::remove_file(&at),
            };
            match removed {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(write_error(&at, &e));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Remove what an earlier export wrote that this one did not (secrets
    /// deleted or left out since), if it is still what was written: files,
    /// then folders that are empty. What stays is returned, to stay
    /// recorded.
    fn remove_stale(&self, now: &Record) -> Record {
        let stays = |removed: std::io::Result<()>| {
            removed.is_err_and(|e| e.kind() != std::io::ErrorKind::NotFound)
        };
        let mut left = Record::default();
        let stale = self
            .earlier
            .files
            .iter()
            .filter(|(f, _)| !now.files.contains_key(*f));
        for (f, written) in stale {
            // Checked by `in_the_way` before anything was written.
            if self.is_as_written(f) && stays(std::fs::remove_file(self.path.join(f))) {
                left.files.insert(f.clone(), written.clone());
            }
        }
        let mut folders: Vec<&String> = self.earlier.folders.difference(&now.folders).collect();
        folders.sort_by_key(|p| std::cmp::Reverse(p.matches('/').count()));
        for f in folders {
            if self.found.get(f) == Some(&Found::Folder)
                && stays(std::fs::remove_dir(self.path.join(f)))
            {
                left.folders.insert(f.clone());
            }
        }
        left
    }

    /// Is `p` a file the earlier record lists, still byte for byte (and
    /// mode) what export wrote there?
    fn is_as_written(&self, p: &str) -> bool {
        self.found.get(p) == Some(&Found::File)
            && self
                .earlier
                .files
                .get(p)
                .is_some_and(|w| w.matches(&self.path.join(p)))
    }

    fn write_record(&self, record: &Record) -> Result<(), Error> {
        let record = Record {
            written_by: RECORD_WRITER.to_string(),
            ..record.clone()
        };
        let at = self.path.join(RECORD_FILE);
        let mut text = serde_json::to_string_pretty(&record)
            .map_err(|e| values_error(&self.path, &e.to_string()))?;
        text.push('\n');
        crate::input::file::write_whole(&at, 0o600, text.as_bytes(), true)
            .map_err(|e| write_error(&at, &e))
    }
}

/// Where one secret's values go, relative to the values folder: folders
/// in the order they are made, files in the order of [`contents`].
#[derive(Debug, Clone, Default)]
struct Layout {
    folders: Vec<String>,
    files: Vec<String>,
    /// What is written to each of `files`, in its order.
    written: Vec<WrittenFile>,
    /// The folder a `payload.zip` unpacks into.
    unpacked_root: Option<String>,
}

impl Layout {
    fn is_below_root(&self, p: &str) -> bool {
        self.unpacked_root
            .as_ref()
            .is_some_and(|r| p == r || p.starts_with(&format!("{r}/")))
    }
}

fn layout(s: &SecretExport) -> Layout {
    let mut l = Layout::default();
    match &s.source {
        ExportSource::Env { file: Some(_) } => l.files.push(format!("{}.env", s.name)),
        ExportSource::Files {
            values: Some(values),
        } => {
            l.folders.push(s.name.clone());
            for key in s.keys.iter().take(values.len()) {
                l.files.push(format!("{}/{}", s.name, file_name(s, key)));
            }
        }
        ExportSource::Directory {
            unpacked: Some(unpacked),
        } => {
            let root = format!("{}/{}", s.name, unpacked.root);
            l.folders.push(s.name.clone());
            l.folders.push(root.clone());
            let mut folders = BTreeSet::new();
            for f in &unpacked.files {
                let mut at = root.clone();
                let mut parts = f.path.split('/').peekable();
                while let Some(part) = parts.next() {
                    at.push('/');
                    at.push_str(part);
                    if parts.peek().is_some() && folders.insert(at.clone()) {
                        l.folders.push(at.clone());
                    }
                }
                l.files.push(at);
            }
            l.unpacked_root = Some(root);
        }
        // Placeholders: nothing to write.
        _ => {}
    }
    l.written = contents(s)
        .into_iter()
        .map(|(bytes, mode)| WrittenFile::of(bytes.expose(), mode))
        .collect();
    l
}

/// The bytes and mode of each file of [`layout`], in its order.
fn contents(s: &SecretExport) -> Vec<(&SecretBytes, u32)> {
    match &s.source {
        ExportSource::Env { file: Some(file) } => vec![(file, 0o600)],
        ExportSource::Files {
            values: Some(values),
        } => values.iter().map(|v| (v, 0o600)).collect(),
        ExportSource::Directory {
            unpacked: Some(unpacked),
        } => unpacked.files.iter().map(|f| (&f.bytes, f.mode)).collect(),
        _ => Vec::new(),
    }
}

/// Did the file system refuse a name (too long, not in its encoding, or
/// the same as another once case or form is folded)? Then only that
/// secret is left out.
fn refused_name(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENAMETOOLONG | libc::EILSEQ | libc::EINVAL | libc::EEXIST)
    )
}

/// Refusal: `paths` (relative to `dir`) are where export would write, and
/// it did not write them.
fn in_the_way(dir: &Path, paths: &[String]) -> Error {
    const SHOWN: usize = 10;
    let mut list: Vec<String> = paths
        .iter()
        .take(SHOWN)
        .map(|p| format!("`{}`", crate::escape::text(p)))
        .collect();
    if paths.len() > SHOWN {
        list.push(format!("and {} more", paths.len() - SHOWN));
    }
    Error::new(
        ErrorKind::Refused,
        format!(
            "in `{}`, export would replace what it did not write: {}; nothing was exported",
            crate::escape::path(dir),
            list.join(", ")
        ),
    )
    .with_help(format!(
        "move them away, or export into a new folder (--force replaces only what an earlier export listed in `{RECORD_FILE}`)"
    ))
}

/// The record of an earlier export, every path in it relative and plain.
fn read_record(path: &Path) -> Result<Record, Error> {
    let not_ours = |why: &str| {
        Error::new(
            ErrorKind::Refused,
            format!(
                "`{}` is not a record export wrote ({why}); nothing was exported",
                crate::escape::path(path)
            ),
        )
        .with_help("export into a new folder, or remove that file if you know it is stale")
    };
    let bytes = crate::input::file::read_regular(path, crate::input::file::MAX_EXPORT_RECORD_BYTES)
        .map_err(|e| not_ours(&e.to_string()))?;
    let record: Record = match serde_json::from_slice(&bytes) {
        Ok(record) => record,
        // The earlier format listed paths alone: nothing proves those
        // files are still what export wrote.
        Err(_) if is_pathlist_record(&bytes) => {
            return Err(Error::new(
                ErrorKind::Refused,
                format!(
                    "`{}` was written by an earlier version of export that kept no digests: nothing proves the files it lists are still what export wrote; nothing was exported",
                    crate::escape::path(path)
                ),
            )
            .with_help("move the files it lists (and it) out of the folder, or export into a new folder"));
        }
        Err(_) => return Err(not_ours("not its JSON")),
    };
    let paths = record.files.keys().map(|p| (p, true));
    let folders = record.folders.iter().map(|p| (p, false));
    if record.written_by != RECORD_WRITER
        || !paths.chain(folders).all(|(p, file)| export_writes(p, file))
    {
        return Err(not_ours("a path in it is not one export writes"));
    }
    Ok(record)
}

/// Is `p` (relative, `/`-separated) a path export writes: `<name>.env`
/// (a file), or `<name>` (a folder) and what is below it, for a `<name>`
/// that is a valid secret name and parts that are plain names?
fn export_writes(p: &str, file: bool) -> bool {
    let valid = |name: &str| konduktor::validate_name(name, SecretKind::Env).is_ok();
    let plain = !p.contains('\0')
        && !p.contains('\\')
        && p.split('/').all(|part| !matches!(part, "" | "." | ".."));
    let shape = match p.split_once('/') {
        Some((name, _)) => valid(name),
        None if file => p.strip_suffix(".env").is_some_and(valid),
        None => valid(p),
    };
    plain && shape
}

/// The earlier record format: `files` a list of paths, no digests.
fn is_pathlist_record(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(bytes).is_ok_and(|v| {
        v.get("writtenBy").and_then(serde_json::Value::as_str) == Some(RECORD_WRITER)
            && v.get("files").is_some_and(serde_json::Value::is_array)
    })
}

/// What is in `dir` (links never followed), by relative path; at most
/// [`MAX_VALUES_ENTRIES`] entries, [`MAX_WALK_DEPTH`] + 3 levels.
fn look_around(dir: &Path) -> Result<BTreeMap<String, Found>, Error> {
    let mut found = BTreeMap::new();
    let mut folders: Vec<(PathBuf, String, usize)> = vec![(dir.to_path_buf(), String::new(), 0)];
    while let Some((at, rel, depth)) = folders.pop() {
        let entries = std::fs::read_dir(&at).map_err(|e| values_error(&at, &e.to_string()))?;
        for entry in entries {
            let entry = entry.map_err(|e| values_error(&at, &e.to_string()))?;
            let kind = entry
                .file_type()
                .map_err(|e| values_error(&entry.path(), &e.to_string()))?;
            let name = entry.file_name();
            let (name, utf8) = match name.to_str() {
                Some(n) => (n.to_string(), true),
                None => (name.to_string_lossy().into_owned(), false),
            };
            let path = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let what = match () {
                () if !utf8 => Found::Other,
                () if kind.is_dir() => Found::Folder,
                () if kind.is_file() => Found::File,
                () => Found::Other,
            };
            if what == Found::Folder {
                if depth > MAX_WALK_DEPTH + 3 {
                    return Err(
                        values_error(dir, "it nests folders deeper than export writes")
                            .with_help("export into a new folder"),
                    );
                }
                folders.push((entry.path(), path.clone(), depth + 1));
            }
            found.insert(path, what);
            if found.len() > MAX_VALUES_ENTRIES {
                return Err(values_error(
                    dir,
                    &format!("it holds more than {MAX_VALUES_ENTRIES} files and folders"),
                )
                .with_help("export into a new folder"));
            }
        }
    }
    Ok(found)
}

fn new_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path)
}

fn write_error(path: &Path, e: &std::io::Error) -> Error {
    Error::new(
        ErrorKind::Input,
        format!("cannot write `{}`: {e}", crate::escape::path(path)),
    )
    .with_help("check free space and permissions; the manifest was not written")
}

/// The file a key is written to: its name is the key (`gitkey` for git-ssh).
fn file_name(s: &SecretExport, key: &str) -> String {
    match s.kind {
        SecretKind::GitSsh => GIT_SSH_KEY.to_string(),
        _ => key.to_string(),
    }
}

/// Does `fromDirectory` of `root`, as written, give the archive's content
/// back? `Some(reason)` if not.
fn archives_back(root: &Path, unpacked: &Unpacked) -> Option<String> {
    use sha2::{Digest, Sha256};
    let zipped = match sources::zip_directory(root, MAX_SECRET_BYTES) {
        Ok(z) => z,
        Err(e) => return Some(format!("its unpacked folder cannot be archived again: {e}")),
    };
    let expected: BTreeMap<String, (Option<u32>, [u8; 32])> = unpacked
        .files
        .iter()
        .map(|f| {
            (
                format!("{}/{}", unpacked.root, f.path),
                (Some(f.mode), Sha256::digest(f.bytes.expose()).into()),
            )
        })
        .collect();
    match read_zip(zipped.expose()) {
        ZipRead::Content(c) if c == expected => None,
        _ => Some("its unpacked folder does not archive back to the same files".into()),
    }
}

// ------------------------------------------------------------ manifest

/// A YAML double-quoted scalar that reads back as exactly `s`: `\` and
/// `"` escaped, and every character that is not printable (or that a
/// terminal would act on) as a `\u`/`\U` escape. One line, whatever `s`.
#[must_use]
pub fn yaml_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        let code = u32::from(c);
        let printable = matches!(code, 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..)
            && !crate::escape::is_unsafe(c);
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            _ if printable => out.push(c),
            _ if code <= 0xFFFF => {
                let _ = write!(out, "\\u{code:04X}");
            }
            _ => {
                let _ = write!(out, "\\U{code:08X}");
            }
        }
    }
    out.push('"');
    out
}

/// Text for a `#` comment: one line, nothing a terminal acts on.
fn comment(s: &str) -> String {
    crate::escape::text(s).into_owned()
}

/// Where the manifest is written from, for its header.
#[derive(Debug, Clone)]
pub struct RenderContext<'a> {
    pub owner_hash: &'a str,
    pub namespace: &'a str,
    /// The values folder as the manifest's paths start (absolute, or
    /// `./...` relative to the manifest's folder); `None`: placeholders.
    pub values: Option<&'a str>,
}

/// Placeholder paths start here, relative to the manifest's folder.
pub const PLACEHOLDER_DIR: &str = "./values";

/// The first line of a manifest written without values.
pub const INCOMPLETE: &str = "# INCOMPLETE: exported without --values-dir, so this file holds no values and names files that do not exist yet.";

/// The manifest text for `plan`.
#[must_use]
pub fn render(plan: &ExportPlan, ctx: &RenderContext<'_>) -> String {
    let mut out = String::new();
    let base = ctx.values.unwrap_or(PLACEHOLDER_DIR);
    if ctx.values.is_none() {
        out.push_str(INCOMPLETE);
        out.push('\n');
        out.push_str("# Complete it before use: put each value in the file its `fromFile` path names\n# (the folder a secret was made from at its `fromDirectory` path), and each env\n# secret's KEY=VALUE lines in its `fromEnvFile` file (see \"Env files\" in\n# kubectl-konduktor's docs/manifest.md); or export again with --values-dir DIR.\n");
    }
    let _ = writeln!(
        out,
        "# Written by `kubectl konduktor export` from your secrets in namespace `{}` (owner {}).",
        comment(ctx.namespace),
        ctx.owner_hash
    );
    if !plan.left_out.is_empty() {
        out.push_str("# Left out (a manifest cannot reproduce them):\n");
        for l in &plan.left_out {
            let _ = writeln!(out, "#   {}: {}", comment(&l.named()), comment(&l.reason));
        }
    }
    let _ = writeln!(
        out,
        "apiVersion: {API_VERSION}\nkind: {KIND}\nowner: {}",
        ctx.owner_hash
    );
    if plan.secrets.is_empty() {
        out.push_str("secrets: []\n");
        return out;
    }
    out.push_str("secrets:\n");
    for s in &plan.secrets {
        // Quoted: a name such as `null`, `true` or `123` reads back as text.
        let _ = writeln!(
            out,
            "  - name: {}\n    kind: {}",
            yaml_quote(&s.name),
            s.kind
        );
        let keys: Vec<String> = s.keys.iter().map(|k| comment(k)).collect();
        let _ = writeln!(out, "    # keys: {}", keys.join(", "));
        match &s.source {
            ExportSource::Env { file } => {
                let path = format!("{base}/{}.env", s.name);
                let todo = if file.is_none() {
                    " # TODO: a KEY=VALUE line for each key".to_string()
                } else {
                    String::new()
                };
                let _ = writeln!(out, "    fromEnvFile: {}{todo}", yaml_quote(&path));
            }
            ExportSource::Files { values } => {
                out.push_str("    fromFile:\n");
                for k in &s.keys {
                    let path = format!("{base}/{}/{}", s.name, file_name(s, k));
                    let todo = if values.is_none() {
                        format!(" # TODO: the value of key {}", comment(k))
                    } else {
                        String::new()
                    };
                    let _ = writeln!(out, "      - {}{todo}", yaml_quote(&path));
                }
            }
            ExportSource::Directory { unpacked } => {
                let (path, todo) = match unpacked {
                    Some(u) => (format!("{base}/{}/{}", s.name, u.root), String::new()),
                    None => (
                        format!("{base}/{}/FOLDER", s.name),
                        " # TODO: the folder this secret was made from (it is archived as payload.zip)".to_string(),
                    ),
                };
                let _ = writeln!(out, "    fromDirectory: {}{todo}", yaml_quote(&path));
            }
        }
    }
    out
}

/// How the manifest's paths name `values`: `./<relative>` when it lies
/// under `manifest_dir` (both canonical), else absolute.
#[must_use]
pub fn values_prefix(values: &ValuesDir, manifest_dir: Option<&Path>) -> String {
    let relative = manifest_dir
        .and_then(|d| values.path.strip_prefix(d).ok())
        .and_then(Path::to_str)
        .filter(|r| !r.is_empty());
    match relative {
        Some(r) => format!("./{r}"),
        None => values.text.clone(),
    }
}

#[cfg(test)]
#[path = "export_tests.rs"]
mod tests;
