//! Turning sources (files, a directory, inline pairs) into Secret data, the
//! way Konduktor's CLI does (SPEC 1.1), with bounded reads.
//!
//! Nothing here reads a file whole before its size is known: every read is
//! capped at the bytes still allowed under the 1 MiB Secret limit.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::konduktor::{
    self, GIT_SSH_KEY, MAX_SECRET_BYTES, PAYLOAD_ZIP_KEY, RuleError, SecretKind,
};
use crate::secret_value::SecretBytes;

/// One secret's source, as given on the command line or in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Files(Vec<PathBuf>),
    Directory(PathBuf),
    Inline(Vec<(String, SecretBytes)>),
}

impl Source {
    pub fn describe(&self) -> &'static str {
        match self {
            Source::Files(_) => "a file",
            Source::Directory(_) => "a directory",
            Source::Inline(_) => "inline pairs",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("`{raw_key}` is not a KEY=VALUE pair")]
    InlineWithoutEquals { raw_key: String },
    #[error("{kind} secrets take {accepts}, not {given}")]
    KindSource {
        kind: SecretKind,
        accepts: &'static str,
        given: &'static str,
    },
    #[error("cannot read `{path}`: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("`{path}` is not a regular file")]
    NotAFile { path: PathBuf },
    #[error("`{path}` is not a directory")]
    NotADirectory { path: PathBuf },
    #[error("`{path}` has no name to use as a data key")]
    NoFileName { path: PathBuf },
    #[error("the directory `{path}` holds no file")]
    EmptyDirectory { path: PathBuf },
    #[error("symlink loop: `{path}` leads back to `{ancestor}`")]
    SymlinkLoop { path: PathBuf, ancestor: PathBuf },
    #[error("the key `{key}` is given twice")]
    DuplicateKey { key: String },
    #[error("{what} is larger than the 1 MiB ({MAX_SECRET_BYTES} bytes) a Secret may hold")]
    TooLarge { what: String },
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error("cannot build the zip archive of `{path}`: {message}")]
    Zip { path: PathBuf, message: String },
}

impl SourceError {
    pub fn help(&self) -> String {
        match self {
            SourceError::InlineWithoutEquals { .. } => "write it as KEY=VALUE, e.g. --inline HF_TOKEN=...".into(),
            SourceError::KindSource { .. } => {
                "`default` takes one source of any type; `env` takes inline pairs only; `git-ssh` takes exactly one file".into()
            }
            SourceError::Io { .. } | SourceError::NotAFile { .. } | SourceError::NotADirectory { .. } | SourceError::NoFileName { .. } => {
                "check the path and its permissions".into()
            }
            SourceError::EmptyDirectory { .. } => "a directory secret needs at least one file (empty folders and .DS_Store are left out)".into(),
            SourceError::SymlinkLoop { .. } => "remove the link that points back to a parent folder".into(),
            SourceError::DuplicateKey { .. } => "give each key once; two files with the same base name make the same key".into(),
            SourceError::TooLarge { .. } => "split the data over several secrets, or leave large files out".into(),
            SourceError::Rule(rule) => rule.help(),
            SourceError::Zip { .. } => "check that the files are readable".into(),
        }
    }
}

/// Split `KEY=VALUE` at the first `=`. The error names only the key part, so a
/// pasted token without `=` is never echoed whole.
pub fn parse_inline(raw: &str) -> Result<(String, SecretBytes), SourceError> {
    match raw.split_once('=') {
        Some((key, value)) => Ok((key.to_string(), SecretBytes::new(value.as_bytes().to_vec()))),
        None => Err(SourceError::InlineWithoutEquals {
            raw_key: redacted_prefix(raw),
        }),
    }
}

/// Without an `=` we cannot tell a key from a pasted value: show only a hint of it.
fn redacted_prefix(raw: &str) -> String {
    let shown: String = raw.chars().take(3).collect();
    if raw.chars().count() > 3 {
        format!("{shown}…")
    } else {
        shown
    }
}

/// SPEC 1.1: which sources each kind accepts.
pub fn check_kind_source(kind: SecretKind, source: &Source) -> Result<(), SourceError> {
    let ok = match (kind, source) {
        (SecretKind::Default, _) => true,
        (SecretKind::Env, Source::Inline(_)) => true,
        (SecretKind::GitSsh, Source::Files(files)) => files.len() == 1,
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let (accepts, given) = match (kind, source) {
        (SecretKind::GitSsh, Source::Files(_)) => ("exactly one file", "several files"),
        (SecretKind::Env, _) => ("inline KEY=VALUE pairs only", source.describe()),
        _ => ("exactly one file", source.describe()),
    };
    Err(SourceError::KindSource {
        kind,
        accepts,
        given,
    })
}

/// Read the sources into Secret data: keys checked, the kind's rules applied,
/// the total held under 1 MiB without ever reading past it.
pub fn collect(
    kind: SecretKind,
    source: &Source,
) -> Result<BTreeMap<String, SecretBytes>, SourceError> {
    check_kind_source(kind, source)?;
    let mut data = BTreeMap::new();
    let mut budget = MAX_SECRET_BYTES;
    let insert = |data: &mut BTreeMap<String, SecretBytes>, key: String, value: SecretBytes| {
        konduktor::validate_data_key(&key)?;
        if kind == SecretKind::Env {
            konduktor::validate_env_name(&key)?;
        }
        if data.contains_key(&key) {
            return Err(SourceError::DuplicateKey { key });
        }
        data.insert(key, value);
        Ok(())
    };
    match source {
        Source::Inline(pairs) => {
            for (key, value) in pairs {
                budget = spend(budget, value.len(), || "the inline values".to_string())?;
                insert(&mut data, key.clone(), value.clone())?;
            }
        }
        Source::Files(paths) => {
            for path in paths {
                let value = read_file_bounded(path, budget)?;
                budget -= value.len();
                let key = if kind == SecretKind::GitSsh {
                    GIT_SSH_KEY.to_string()
                } else {
                    file_key(path)?
                };
                insert(&mut data, key, value)?;
            }
        }
        Source::Directory(dir) => {
            let zip = zip_directory(dir, budget)?;
            insert(&mut data, PAYLOAD_ZIP_KEY.to_string(), zip)?;
        }
    }
    Ok(data)
}

fn spend(budget: usize, len: usize, what: impl FnOnce() -> String) -> Result<usize, SourceError> {
    budget
        .checked_sub(len)
        .ok_or_else(|| SourceError::TooLarge { what: what() })
}

fn file_key(path: &Path) -> Result<String, SourceError> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| SourceError::NoFileName {
            path: path.to_path_buf(),
        })
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SourceError + '_ {
    move |source| SourceError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Read a regular file (following symlinks) if it fits in `budget` bytes.
/// The size is checked from metadata first, and the read is capped anyway in
/// case the file grows meanwhile.
pub fn read_file_bounded(path: &Path, budget: usize) -> Result<SecretBytes, SourceError> {
    let meta = std::fs::metadata(path).map_err(io_err(path))?;
    if !meta.is_file() {
        return Err(SourceError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let too_large = || SourceError::TooLarge {
        what: format!("`{}`", path.display()),
    };
    if meta.len() > budget as u64 {
        return Err(too_large());
    }
    let file = File::open(path).map_err(io_err(path))?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(budget as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err(path))?;
    if bytes.len() > budget {
        return Err(too_large());
    }
    Ok(SecretBytes::new(bytes))
}

/// One file to put in a directory archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntryFile {
    /// Entry path inside the archive, `<dirname>/<relative path>`.
    pub entry: String,
    pub path: PathBuf,
    pub mode: u32,
}

/// Walk `dir` as Konduktor does: symlinks followed, `.DS_Store` skipped,
/// hidden files kept, no entries for directories. Order is that of
/// Python's `os.walk` over sorted names: a folder's files, then its
/// subfolders, which keeps the archive deterministic.
pub fn walk_directory(dir: &Path) -> Result<Vec<DirEntryFile>, SourceError> {
    let meta = std::fs::metadata(dir).map_err(io_err(dir))?;
    if !meta.is_dir() {
        return Err(SourceError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let root_name = std::fs::canonicalize(dir)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
        .ok_or_else(|| SourceError::NoFileName {
            path: dir.to_path_buf(),
        })?;
    let mut files = Vec::new();
    let mut ancestors = Vec::new();
    walk_into(dir, &root_name, &mut ancestors, &mut files)?;
    if files.is_empty() {
        return Err(SourceError::EmptyDirectory {
            path: dir.to_path_buf(),
        });
    }
    Ok(files)
}

fn walk_into(
    dir: &Path,
    prefix: &str,
    ancestors: &mut Vec<PathBuf>,
    out: &mut Vec<DirEntryFile>,
) -> Result<(), SourceError> {
    let canonical = std::fs::canonicalize(dir).map_err(io_err(dir))?;
    if let Some(ancestor) = ancestors.iter().find(|a| **a == canonical) {
        return Err(SourceError::SymlinkLoop {
            path: dir.to_path_buf(),
            ancestor: ancestor.clone(),
        });
    }
    ancestors.push(canonical);
    let mut entries: Vec<(String, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        entries.push((name, entry.path()));
    }
    entries.sort();
    let mut subdirs = Vec::new();
    for (name, path) in entries {
        // `metadata` follows symlinks: a link to a file is that file.
        let meta = std::fs::metadata(&path).map_err(io_err(&path))?;
        if meta.is_dir() {
            subdirs.push((name, path));
        } else if meta.is_file() {
            if name == ".DS_Store" {
                continue;
            }
            out.push(DirEntryFile {
                entry: format!("{prefix}/{name}"),
                path,
                mode: file_mode(&meta),
            });
        }
    }
    for (name, path) in subdirs {
        walk_into(&path, &format!("{prefix}/{name}"), ancestors, out)?;
    }
    ancestors.pop();
    Ok(())
}

#[cfg(unix)]
fn file_mode(meta: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn file_mode(_meta: &std::fs::Metadata) -> u32 {
    0o644
}

/// A writer that fails once more than `limit` bytes went through it, so a
/// huge folder stops as soon as its archive outgrows the Secret.
struct LimitedWriter {
    inner: io::Cursor<Vec<u8>>,
    limit: usize,
}

impl Write for LimitedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.inner.position() as usize + buf.len() > self.limit {
            return Err(io::Error::other(ArchiveTooLarge));
        }
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl io::Seek for LimitedWriter {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

#[derive(Debug)]
struct ArchiveTooLarge;
impl std::fmt::Display for ArchiveTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("archive too large")
    }
}
impl std::error::Error for ArchiveTooLarge {}

fn is_too_large(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|e| e.is::<ArchiveTooLarge>())
}

/// Zip `dir` into `payload.zip` bytes, deterministically: sorted walk order,
/// fixed timestamps (1980-01-01), deflate, unix mode bits kept.
pub fn zip_directory(dir: &Path, budget: usize) -> Result<SecretBytes, SourceError> {
    use zip::write::SimpleFileOptions;
    let files = walk_directory(dir)?;
    let too_large = || SourceError::TooLarge {
        what: format!("the archive of `{}`", dir.display()),
    };
    let zip_err = |e: zip::result::ZipError| match e {
        zip::result::ZipError::Io(io) if is_too_large(&io) => too_large(),
        other => SourceError::Zip {
            path: dir.to_path_buf(),
            message: other.to_string(),
        },
    };
    let mut writer = zip::ZipWriter::new(LimitedWriter {
        inner: io::Cursor::new(Vec::new()),
        limit: budget,
    });
    for file in &files {
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(file.mode);
        writer
            .start_file(file.entry.as_str(), options)
            .map_err(zip_err)?;
        let mut input = File::open(&file.path).map_err(io_err(&file.path))?;
        io::copy(&mut input, &mut writer).map_err(|e| {
            if is_too_large(&e) {
                too_large()
            } else {
                io_err(&file.path)(e)
            }
        })?;
    }
    let out = writer.finish().map_err(zip_err)?;
    Ok(SecretBytes::new(out.inner.into_inner()))
}

#[cfg(test)]
mod tests;
