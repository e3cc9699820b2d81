//! Turning sources (files, a directory, inline pairs) into Secret data, the
//! way Konduktor's CLI does (docs/konduktor-compat.md §1.2, §1.5), with bounded reads.
//!
//! Nothing here reads a file whole before its size is known: every read is
//! capped at the bytes still allowed under the 1 MiB Secret limit.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::input::file::{self as input_file, ReadError};

use crate::konduktor::secret_value::SecretBytes;
use crate::konduktor::{
    self, GIT_SSH_KEY, MAX_SECRET_BYTES, PAYLOAD_ZIP_KEY, RuleError, SecretKind, SourceShape,
};

/// One secret's source, as given on the command line or in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Files(Vec<PathBuf>),
    Directory(PathBuf),
    Inline(Vec<(String, SecretBytes)>),
    /// What programs printed (`fromCommand` alone), by key.
    Commands(Vec<(String, SecretBytes)>),
}

impl Source {
    pub fn shape(&self) -> SourceShape {
        match self {
            Source::Files(f) => SourceShape::Files(f.len()),
            Source::Directory(_) => SourceShape::Directory,
            Source::Inline(_) => SourceShape::Pairs,
            Source::Commands(c) => SourceShape::Commands(c.len()),
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Source::Files(_) => "a file",
            Source::Directory(_) => "a directory",
            Source::Inline(_) => "inline pairs",
            Source::Commands(_) => "command output",
        }
    }
}

/// How deep a directory secret may nest folders (the root is level 0).
pub const MAX_WALK_DEPTH: usize = 64;
/// How many files and folders a directory secret's walk looks at, at most.
pub const MAX_WALK_ENTRIES: usize = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error(
        "an --inline argument of {chars} characters is not a KEY=VALUE pair (not shown: it may be a value)"
    )]
    InlineWithoutEquals { chars: usize },
    #[error("{kind} secrets take {accepts}, not {given}")]
    KindSource {
        kind: SecretKind,
        accepts: &'static str,
        given: &'static str,
    },
    #[error("cannot read `{}`: {source}", crate::escape::path(path))]
    Io { path: PathBuf, source: io::Error },
    #[error("`{}` is not a regular file", crate::escape::path(path))]
    NotAFile { path: PathBuf },
    /// A FIFO, socket or device: reading it would block or never end.
    #[error("`{}` is {kind}, not a regular file", crate::escape::path(path))]
    Special { path: PathBuf, kind: &'static str },
    #[error("`{}` is not a directory", crate::escape::path(path))]
    NotADirectory { path: PathBuf },
    #[error("`{}` has no name to use as a data key", crate::escape::path(path))]
    NoFileName { path: PathBuf },
    #[error("the directory `{}` holds no file", crate::escape::path(path))]
    EmptyDirectory { path: PathBuf },
    #[error(
        "symlink loop: `{}` leads back to `{}`",
        crate::escape::path(path),
        crate::escape::path(ancestor)
    )]
    SymlinkLoop { path: PathBuf, ancestor: PathBuf },
    /// One folder reached through two paths (links): refused rather than
    /// archived twice (Konduktor would) or once under one of its names.
    #[error(
        "the folder `{}` is reached twice: `{}` is the same folder (through a symlink)",
        crate::escape::path(first),
        crate::escape::path(path)
    )]
    Revisited { path: PathBuf, first: PathBuf },
    #[error(
        "`{}` is nested more than {MAX_WALK_DEPTH} folders deep",
        crate::escape::path(path)
    )]
    TooDeep { path: PathBuf },
    #[error(
        "the directory `{}` holds more than {MAX_WALK_ENTRIES} files and folders",
        crate::escape::path(path)
    )]
    TooManyEntries { path: PathBuf },
    #[error("the key `{key}` is given twice")]
    DuplicateKey { key: String },
    /// The secret as a whole is over the limit; `detail` says by how much.
    #[error(
        "{} would hold more than 1 MiB ({MAX_SECRET_BYTES} bytes), the most a Secret may hold: {detail}",
        match secret { Some(name) => format!("the secret `{name}`"), None => "the secret".to_string() }
    )]
    TooLarge {
        secret: Option<String>,
        detail: String,
    },
    #[error(transparent)]
    Rule(#[from] RuleError),
    #[error(
        "cannot build the zip archive of `{}`: {message}",
        crate::escape::path(path)
    )]
    Zip { path: PathBuf, message: String },
}

impl SourceError {
    /// The same error, naming the secret it is about (for size errors).
    pub fn named(self, name: &str) -> Self {
        match self {
            SourceError::TooLarge { detail, .. } => SourceError::TooLarge {
                secret: Some(name.to_string()),
                detail,
            },
            other => other,
        }
    }

    pub fn help(&self) -> String {
        match self {
            SourceError::InlineWithoutEquals { .. } => "write it as KEY=VALUE, e.g. --inline HF_TOKEN=...".into(),
            SourceError::KindSource { .. } => SecretKind::ALL
                .iter()
                .map(|k| format!("`{k}` takes {}", k.accepted_sources()))
                .collect::<Vec<_>>()
                .join("; "),
            SourceError::Io { .. } | SourceError::NotAFile { .. } | SourceError::NotADirectory { .. } | SourceError::NoFileName { .. } => {
                "check the path and its permissions".into()
            }
            SourceError::Special { .. } => {
                "a secret holds regular files only: remove it, or save its content to a regular file first".into()
            }
            SourceError::EmptyDirectory { .. } => "a directory secret needs at least one file (empty folders and .DS_Store are left out)".into(),
            SourceError::SymlinkLoop { .. } => "remove the link that points back to a parent folder".into(),
            SourceError::Revisited { .. } => {
                "each folder is archived once: remove one of the links, or copy the folder".into()
            }
            SourceError::TooDeep { .. } => format!(
                "a directory secret nests at most {MAX_WALK_DEPTH} folders; check for a link that leads somewhere unintended"
            ),
            SourceError::TooManyEntries { .. } => format!(
                "a directory secret looks at most at {MAX_WALK_ENTRIES} files and folders; point it at a smaller folder"
            ),
            SourceError::DuplicateKey { .. } => "give each key once; two files with the same base name make the same key".into(),
            SourceError::TooLarge { .. } => "split the data over several secrets, or leave large files out (a directory's files count before compression)".into(),
            SourceError::Rule(rule) => rule.help(),
            SourceError::Zip { .. } => "check that the files are readable".into(),
        }
    }
}

impl From<SourceError> for Error {
    fn from(e: SourceError) -> Self {
        let help = e.help();
        Error::input(e.to_string()).with_help(help)
    }
}

/// Split `KEY=VALUE` at the first `=`. Without one the argument may be a
/// pasted token: the error shows none of it, only its length.
pub fn parse_inline(raw: &str) -> Result<(String, SecretBytes), SourceError> {
    match raw.split_once('=') {
        Some((key, value)) => Ok((key.to_string(), SecretBytes::new(value.as_bytes().to_vec()))),
        None => Err(SourceError::InlineWithoutEquals {
            chars: raw.chars().count(),
        }),
    }
}

/// Does `kind` take `source` ([`SecretKind::accepts`])?
pub fn check_kind_source(kind: SecretKind, source: &Source) -> Result<(), SourceError> {
    if kind.accepts(source.shape()) {
        return Ok(());
    }
    let given = match source {
        Source::Files(f) if f.len() > 1 => "several files",
        other => other.describe(),
    };
    Err(SourceError::KindSource {
        kind,
        accepts: kind.accepted_sources(),
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
        Source::Inline(pairs) | Source::Commands(pairs) => {
            let total: u64 = pairs.iter().map(|(_, v)| len_u64(v.len())).sum();
            if total > MAX_SECRET_LIMIT {
                let what = match source {
                    Source::Commands(_) => "values from commands",
                    _ => "inline values",
                };
                return Err(too_large(format!("its {what} total {total} bytes")));
            }
            for (key, value) in pairs {
                insert(&mut data, key.clone(), value.clone())?;
            }
        }
        Source::Files(paths) => {
            let mut used = 0u64;
            for path in paths {
                let value = read_file_counted(path, MAX_SECRET_LIMIT - used, used)?;
                used += len_u64(value.len());
                let key = if kind == SecretKind::GitSsh {
                    GIT_SSH_KEY.to_string()
                } else {
                    file_key(path)?
                };
                insert(&mut data, key, value)?;
            }
        }
        Source::Directory(dir) => {
            let zip = zip_directory(dir, MAX_SECRET_BYTES)?;
            insert(&mut data, PAYLOAD_ZIP_KEY.to_string(), zip)?;
        }
    }
    Ok(data)
}

const MAX_SECRET_LIMIT: u64 = MAX_SECRET_BYTES as u64;

fn len_u64(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

fn too_large(detail: String) -> SourceError {
    SourceError::TooLarge {
        secret: None,
        detail,
    }
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

fn read_error(e: ReadError) -> SourceError {
    match e {
        ReadError::NotRegular {
            path,
            kind: "a directory",
        } => SourceError::NotAFile { path },
        ReadError::NotRegular { path, kind } => SourceError::Special { path, kind },
        ReadError::Io { path, source } => SourceError::Io { path, source },
        // `open_regular` does not size-check; kept for completeness.
        ReadError::TooLarge { path, .. } => too_large(format!(
            "`{}` alone is larger than what is left",
            crate::escape::path(&path)
        )),
    }
}

/// Open `path` as a regular file (never blocking on a FIFO, refusing
/// devices and sockets), then read at most `budget` bytes of it. More than
/// that is a size error about the secret's total: `before` bytes are
/// already taken by other files of the same secret.
fn read_file_counted(path: &Path, budget: u64, before: u64) -> Result<SecretBytes, SourceError> {
    read_file_stats(path, budget, before, &mut WalkStats::default())
}

fn read_file_stats(
    path: &Path,
    budget: u64,
    before: u64,
    stats: &mut WalkStats,
) -> Result<SecretBytes, SourceError> {
    let (file, meta) = input_file::open_regular(path).map_err(read_error)?;
    let over = |at_least: u64| {
        too_large(format!(
            "its files total at least {} bytes",
            before.saturating_add(at_least)
        ))
    };
    if meta.len() > budget {
        return Err(over(meta.len()));
    }
    // Capped anyway: the file may grow, and /proc files report size 0.
    let mut bytes = Vec::new();
    let read = file
        .take(budget.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_err(path));
    stats.bytes_read = stats.bytes_read.saturating_add(len_u64(bytes.len()));
    read?;
    if len_u64(bytes.len()) > budget {
        return Err(over(len_u64(bytes.len()).max(meta.len())));
    }
    Ok(SecretBytes::new(bytes))
}

/// Read a regular file (following symlinks) if it fits in `budget` bytes,
/// reading never more than `budget + 1` of them.
#[cfg(test)]
pub fn read_file_bounded(path: &Path, budget: usize) -> Result<SecretBytes, SourceError> {
    read_file_counted(path, len_u64(budget), 0)
}

/// One file to put in a directory archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntryFile {
    /// Entry path inside the archive, `<dirname>/<relative path>`.
    pub entry: String,
    pub path: PathBuf,
    pub mode: u32,
}

/// What a walk and an archive did, counted: the bound on work is shown by
/// these numbers, not by time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WalkStats {
    /// Folders listed (each real folder at most once).
    pub dirs_visited: usize,
    /// Entries looked at in those folders.
    pub entries_seen: usize,
    /// Bytes read from files.
    pub bytes_read: u64,
}

/// Walk `dir` as Konduktor does: symlinks followed, `.DS_Store` skipped,
/// hidden files kept, no entries for directories. Order is that of
/// Python's `os.walk` over sorted names: a folder's files, then its
/// subfolders, which keeps the archive deterministic.
///
/// Bounded where Konduktor is not: each real folder is listed once (one
/// reached again through another link is an error naming both paths), at
/// most [`MAX_WALK_DEPTH`] levels and [`MAX_WALK_ENTRIES`] entries, and a
/// FIFO, socket or device (also through a link) is an error naming it.
/// The work done is counted in `stats`.
pub fn walk_directory_stats(
    dir: &Path,
    stats: &mut WalkStats,
) -> Result<Vec<DirEntryFile>, SourceError> {
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
    let mut walk = Walk {
        files: Vec::new(),
        ancestors: Vec::new(),
        visited: HashMap::new(),
        stats,
    };
    walk.enter(dir, &meta, &root_name, 0)?;
    let files = walk.files;
    if files.is_empty() {
        return Err(SourceError::EmptyDirectory {
            path: dir.to_path_buf(),
        });
    }
    Ok(files)
}

/// A folder's identity: (device, inode) where there are such.
type DirId = (u64, u64);

#[cfg(unix)]
fn dir_id(meta: &std::fs::Metadata, _path: &Path) -> DirId {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn dir_id(_meta: &std::fs::Metadata, path: &Path) -> DirId {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .hash(&mut h);
    (0, h.finish())
}

struct Walk<'a> {
    files: Vec<DirEntryFile>,
    /// The folders from the root down to the current one.
    ancestors: Vec<(DirId, PathBuf)>,
    /// Every folder listed so far, with the path it was first reached by.
    visited: HashMap<DirId, PathBuf>,
    stats: &'a mut WalkStats,
}

impl Walk<'_> {
    fn enter(
        &mut self,
        dir: &Path,
        meta: &std::fs::Metadata,
        prefix: &str,
        depth: usize,
    ) -> Result<(), SourceError> {
        let id = dir_id(meta, dir);
        if let Some((_, ancestor)) = self.ancestors.iter().find(|(a, _)| *a == id) {
            return Err(SourceError::SymlinkLoop {
                path: dir.to_path_buf(),
                ancestor: ancestor.clone(),
            });
        }
        if let Some(first) = self.visited.get(&id) {
            return Err(SourceError::Revisited {
                path: dir.to_path_buf(),
                first: first.clone(),
            });
        }
        if depth > MAX_WALK_DEPTH {
            return Err(SourceError::TooDeep {
                path: dir.to_path_buf(),
            });
        }
        self.visited.insert(id, dir.to_path_buf());
        self.ancestors.push((id, dir.to_path_buf()));
        self.stats.dirs_visited += 1;
        let mut entries: Vec<(String, PathBuf)> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io_err(dir))? {
            self.stats.entries_seen += 1;
            if self.stats.entries_seen > MAX_WALK_ENTRIES {
                return Err(SourceError::TooManyEntries {
                    path: self
                        .ancestors
                        .first()
                        .map_or_else(|| dir.to_path_buf(), |(_, p)| p.clone()),
                });
            }
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
                subdirs.push((name, path, meta));
            } else if meta.is_file() {
                if name == ".DS_Store" {
                    continue;
                }
                self.files.push(DirEntryFile {
                    entry: format!("{prefix}/{name}"),
                    path,
                    mode: file_mode(&meta),
                });
            } else {
                return Err(SourceError::Special {
                    path,
                    kind: input_file::file_kind(&meta),
                });
            }
        }
        for (name, path, meta) in subdirs {
            self.enter(&path, &meta, &format!("{prefix}/{name}"), depth + 1)?;
        }
        self.ancestors.pop();
        Ok(())
    }
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

/// `std::io::copy`'s buffer size.
const COPY_CHUNK: usize = 8 * 1024;

/// An in-memory writer that never fails and tells its size as it grows.
struct SizedSink {
    inner: io::Cursor<Vec<u8>>,
    size: std::rc::Rc<std::cell::Cell<usize>>,
}

impl Write for SizedSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.size.set(self.inner.get_ref().len());
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl io::Seek for SizedSink {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Zip `dir` into `payload.zip` bytes, deterministically: sorted walk order,
/// fixed timestamps (1980-01-01), deflate, unix mode bits kept.
///
/// The files may total at most `budget` bytes before compression, and the
/// archive at most `budget` bytes: reading stops one byte past the limit,
/// and a file whose size alone is over it is never read.
pub fn zip_directory(dir: &Path, budget: usize) -> Result<SecretBytes, SourceError> {
    zip_directory_stats(dir, budget, &mut WalkStats::default())
}

/// [`zip_directory`], counting its work in `stats`.
pub fn zip_directory_stats(
    dir: &Path,
    budget: usize,
    stats: &mut WalkStats,
) -> Result<SecretBytes, SourceError> {
    use zip::write::SimpleFileOptions;
    let files = walk_directory_stats(dir, stats)?;
    let limit = len_u64(budget);
    let zip_err = |e: zip::result::ZipError| SourceError::Zip {
        path: dir.to_path_buf(),
        message: match e {
            zip::result::ZipError::Io(io) => io.to_string(),
            _ => "the zip library refused an entry".to_string(),
        },
    };
    let archive_too_large = |size: usize| {
        too_large(format!(
            "the archive of `{}` is at least {size} bytes",
            crate::escape::path(dir)
        ))
    };
    // An in-memory writer never fails, so the zip writer never has an
    // error to report on its own (it prints one when dropped unfinished).
    // What it holds stays bounded: the files read are at most `budget`
    // bytes, and the archive is checked after each file.
    let size = std::rc::Rc::new(std::cell::Cell::new(0usize));
    let mut writer = zip::ZipWriter::new(SizedSink {
        inner: io::Cursor::new(Vec::new()),
        size: size.clone(),
    });
    let mut used = 0u64;
    for file in &files {
        let value = read_file_stats(&file.path, limit - used, used, stats)?;
        used += len_u64(value.len());
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(file.mode);
        writer
            .start_file(file.entry.as_str(), options)
            .map_err(zip_err)?;
        // In the chunks `io::copy` wrote before: deflate's output depends on
        // them, and the archive bytes stay what they were.
        for chunk in value.expose().chunks(COPY_CHUNK) {
            writer.write_all(chunk).map_err(io_err(&file.path))?;
        }
        if size.get() > budget {
            return Err(archive_too_large(size.get()));
        }
    }
    let out = writer.finish().map_err(zip_err)?.inner.into_inner();
    if out.len() > budget {
        return Err(archive_too_large(out.len()));
    }
    Ok(SecretBytes::new(out))
}

#[cfg(test)]
#[path = "sources_tests.rs"]
mod tests;
