//! Reading the files a user names (manifest, task, kubeconfig, the owner-hash
//! cache): regular files only, never more than a documented cap. And
//! writing files: new ones never through a link, `--out` files whole or not
//! at all, and only over a regular file (`-` is standard output).
//!
//! A FIFO, a socket or a device would block or never end (`-f /dev/zero`),
//! so the file is opened without blocking and checked from the open handle
//! (no window between a check and the open), then read up to cap + 1 bytes:
//! one byte more than allowed is enough to know it is too large.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// A `secrets.yaml` or a task file: far more than any real one needs.
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// A kubeconfig (merged configs of many clusters, inline certificates).
pub const MAX_KUBECONFIG_BYTES: u64 = 16 * 1024 * 1024;
/// A file a kubeconfig points at (certificate, key, token).
pub const MAX_CREDENTIAL_FILE_BYTES: u64 = 1024 * 1024;
/// `~/.konduktor/user_hash`: 8 characters, maybe with whitespace.
pub const MAX_USER_HASH_BYTES: u64 = 4096;
/// `~/.konduktor/digest-key`: 64 hex digits, maybe with whitespace.
pub const MAX_DIGEST_KEY_BYTES: u64 = 4096;
/// Konduktor's `~/.konduktor/config.yaml` (or `KONDUKTOR_CONFIG`): a few
/// settings, maybe a pod config; far less than this.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;
/// An env file (`fromEnvFile`): a Secret holds at most 1 MiB of values, and
/// an escape (`\xHH`) takes four bytes for one, so this holds any secret.
pub const MAX_ENV_FILE_BYTES: u64 = 5 * 1024 * 1024;
/// The list `export` keeps of what it wrote in a values folder
/// (`.konduktor-export.json`): paths only, far less than this.
pub const MAX_EXPORT_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// Why a file could not be read. Messages name the file, never its content.
#[derive(Debug)]
pub enum ReadError {
    /// Not a regular file: `kind` says what it is ("a FIFO", "a directory").
    NotRegular {
        path: PathBuf,
        kind: &'static str,
    },
    TooLarge {
        path: PathBuf,
        cap: u64,
    },
    Io {
        path: PathBuf,
        source: io::Error,
    },
}

impl ReadError {
    pub fn path(&self) -> &Path {
        match self {
            ReadError::NotRegular { path, .. }
            | ReadError::TooLarge { path, .. }
            | ReadError::Io { path, .. } => path,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }

    /// A short hint on what to do.
    pub fn help(&self) -> String {
        match self {
            ReadError::NotRegular { .. } => {
                "give the path of a regular file (save the content to a file first)".into()
            }
            ReadError::TooLarge { cap, .. } => format!(
                "this file may hold at most {} ({cap} bytes); check that it is the file you meant",
                human_size(*cap)
            ),
            ReadError::Io { .. } => "check the path and its permissions".into(),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = crate::escape::path(self.path());
        match self {
            ReadError::NotRegular { kind, .. } => {
                write!(f, "`{path}` is {kind}, not a regular file")
            }
            ReadError::TooLarge { cap, .. } => {
                write!(f, "`{path}` is larger than {}", human_size(*cap))
            }
            ReadError::Io { source, .. } => write!(f, "cannot read `{path}`: {source}"),
        }
    }
}

impl std::error::Error for ReadError {}

/// `4 MiB`, `512 KiB`, `100 bytes`.
pub fn human_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// What a non-regular file is, for messages.
pub fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// Open `path` for reading without ever blocking, following symlinks, and
/// return it only if it is a regular file.
pub fn open_regular(path: &Path) -> Result<(File, std::fs::Metadata), ReadError> {
    let io_err = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Opening a FIFO for reading blocks until a writer comes; with
        // O_NONBLOCK it returns at once, and the type check below refuses it.
        // Regular files ignore the flag.
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_path_buf(),
            kind: file_kind(&meta),
        });
    }
    Ok((file, meta))
}

/// Read at most `cap` bytes from `reader`; more is [`ReadError::TooLarge`].
pub fn read_capped(reader: impl Read, cap: u64, path: &Path) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|source| ReadError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            cap,
        });
    }
    Ok(bytes)
}

/// A regular file's bytes, if it holds at most `cap` of them.
pub fn read_regular(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    let (file, meta) = open_regular(path)?;
    if meta.len() > cap {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            cap,
        });
    }
    // Capped anyway: the file may grow, and /proc files report size 0.
    read_capped(file, cap, path)
}

/// As an `--out` path, `-` means standard output.
pub fn is_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// The path `-` means standard input, as for kubectl's `-f -`.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// `-f` input: standard input for `-`, else a regular file; at most `cap` bytes.
pub fn read_input(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    if is_stdin(path) {
        read_capped(io::stdin().lock(), cap, path)
    } else {
        read_regular(path, cap)
    }
}

/// Create `path` new (never through a link, never over a file: `O_EXCL |
/// O_NOFOLLOW`), set exactly `mode` on the empty file before any byte is
/// written (so a value is never readable by others, and umask does not
/// change an archive's modes), write `bytes` and sync. On a failure the
/// file is removed. The one writer of new files.
///
/// # Errors
///
/// `AlreadyExists` if anything is at `path`; any other I/O error.
pub fn write_new_file(path: &Path, mode: u32, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(0o600 & mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC);
    }
    let mut file = options.open(path)?;
    let written = set_mode(&file, mode)
        .and_then(|()| file.write_all(bytes))
        .and_then(|()| file.sync_all());
    if let Err(e) = written {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(())
}

/// Write `out` whole or not at all: a new file beside it ([`write_new_file`]),
/// then renamed over it (`replace`) or linked to its name (otherwise: an
/// `out` that exists, or appeared meanwhile, is never replaced unasked and
/// fails with `AlreadyExists`).
///
/// # Errors
///
/// As [`write_new_file`], or the rename or link.
pub fn write_whole(out: &Path, mode: u32, bytes: &[u8], replace: bool) -> io::Result<()> {
    let dir = folder_of(out).unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.new-{}", std::process::id()));
    let placed = write_new_file(&temp, mode, bytes).and_then(|()| {
        if replace {
            std::fs::rename(&temp, out)
        } else {
            std::fs::hard_link(&temp, out)
        }
    });
    let _ = std::fs::remove_file(&temp);
    placed
}

/// The folder `path` is in (`.` for a bare name; `None` for a root).
pub fn folder_of(path: &Path) -> Option<&Path> {
    match path.parent() {
        Some(p) if p.as_os_str().is_empty() => Some(Path::new(".")),
        other => other,
    }
}

/// Check a file a command was asked to write (`--out`) before anything is
/// read or asked: `-` (standard output), or a path whose folder exists and
/// where nothing is, or (only with `force`) a regular file. Anything else
/// there (a folder, a link, a FIFO, a device such as `/dev/null`) is never
/// replaced. `what` names it ("plan file"); `nothing_done` says what a
/// refusal left undone ("no plan was saved").
///
/// # Errors
///
/// Any of those, said for a person.
pub fn check_out_file(
    out: &Path,
    force: bool,
    what: &str,
    nothing_done: &str,
) -> Result<(), crate::error::Error> {
    if is_stdout(out) {
        return Ok(());
    }
    let folder_ok = folder_of(out)
        .map(std::fs::metadata)
        .is_some_and(|m| m.is_ok_and(|m| m.is_dir()));
    if !folder_ok {
        return Err(out_error(out, "its folder does not exist")
            .with_help("create the folder first, or name a file in an existing one"));
    }
    match std::fs::symlink_metadata(out) {
        Err(_) => Ok(()),
        Ok(m) if !m.is_file() => Err(not_regular_error(out, &m, nothing_done).with_help(format!(
            "name a new or regular file for the {what}, or `-` for standard output"
        ))),
        Ok(_) if force => Ok(()),
        Ok(_) => Err(crate::error::Error::new(
            crate::error::ErrorKind::Refused,
            format!(
                "`{}` exists already; {nothing_done}",
                crate::escape::path(out)
            ),
        )
        .with_help("name a new file, or pass --force to replace it")),
    }
}

/// [`write_whole`] for a file checked with [`check_out_file`], its
/// failures said for a person.
///
/// # Errors
///
/// The file appeared meanwhile (without `force`), or could not be written.
pub fn write_out_file(
    out: &Path,
    mode: u32,
    bytes: &[u8],
    force: bool,
) -> Result<(), crate::error::Error> {
    if is_stdout(out) {
        return crate::output::print_bytes(bytes);
    }
    // Checked again at the last moment: what appeared since the check is
    // never replaced either.
    if let Ok(m) = std::fs::symlink_metadata(out)
        && !m.is_file()
    {
        return Err(not_regular_error(out, &m, "it was left as it is")
            .with_help("name a new or regular file, or `-` for standard output"));
    }
    write_whole(out, mode, bytes, force).map_err(|e| match e.kind() {
        io::ErrorKind::AlreadyExists => crate::error::Error::new(
            crate::error::ErrorKind::Refused,
            format!(
                "`{}` appeared meanwhile; it was left as it is",
                crate::escape::path(out)
            ),
        )
        .with_help("pass --force to replace it"),
        _ => out_error(out, &e.to_string()).with_help("check free space and permissions"),
    })
}

/// `out` is a link, a folder, a FIFO, a device or a socket: refused, even
/// with `--force` (replacing it would break what it stands for).
fn not_regular_error(
    out: &Path,
    meta: &std::fs::Metadata,
    nothing_done: &str,
) -> crate::error::Error {
    let kind = if meta.file_type().is_symlink() {
        "a symbolic link"
    } else {
        file_kind(meta)
    };
    crate::error::Error::new(
        crate::error::ErrorKind::Refused,
        format!(
            "`{}` is {kind}, not a regular file, and is never replaced (not even with --force); {nothing_done}",
            crate::escape::path(out)
        ),
    )
}

fn out_error(out: &Path, what: &str) -> crate::error::Error {
    crate::error::Error::input(format!(
        "cannot write `{}`: {what}",
        crate::escape::path(out)
    ))
}

#[cfg(unix)]
fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &File, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_read_up_to_its_cap() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("f");
        std::fs::write(&path, b"12345").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read_regular(&path, 5).ok(), Some(b"12345".to_vec()));
        assert!(matches!(
            read_regular(&path, 4),
            Err(ReadError::TooLarge { cap: 4, .. })
        ));
    }

    #[test]
    fn a_stream_is_cut_one_byte_past_the_cap() {
        // An endless reader: the read must stop on its own.
        let endless = std::io::repeat(b'x');
        let err = read_capped(endless, 1000, Path::new("zero"));
        assert!(matches!(err, Err(ReadError::TooLarge { cap: 1000, .. })));
    }

    #[cfg(unix)]
    #[test]
    fn devices_directories_and_fifos_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        for (path, kind) in [
            (fifo.as_path(), "FIFO"),
            (Path::new("/dev/zero"), "character device"),
            (dir.path(), "directory"),
        ] {
            match read_regular(path, 10) {
                Err(e @ ReadError::NotRegular { .. }) => {
                    assert!(e.to_string().contains(kind), "{e}")
                }
                other => panic!("{}: {other:?}", path.display()),
            }
        }
    }

    /// `--out` replaces a regular file (with `force`) and nothing else:
    /// not a link (whatever it points at), a FIFO, a device or a folder.
    #[cfg(unix)]
    #[test]
    fn out_files_are_regular_files_or_standard_output() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("plan.json");
        std::fs::write(&file, b"old").unwrap_or_else(|e| panic!("{e}"));
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap_or_else(|e| panic!("{e}"));
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        let check = |p: &Path| check_out_file(p, true, "plan file", "no plan was saved");
        assert!(check(&file).is_ok());
        assert!(check(Path::new("-")).is_ok());
        for (p, kind) in [
            (link.as_path(), "a symbolic link"),
            (fifo.as_path(), "a FIFO"),
            (Path::new("/dev/null"), "a character device"),
            (Path::new("/dev/stdout"), "a symbolic link"),
            (dir.path(), "a directory"),
        ] {
            let e = check(p).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains(kind) && e.contains("never replaced"), "{e}");
            let e = write_out_file(p, 0o600, b"new", true)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains("never replaced"), "{e}");
        }
        assert_eq!(std::fs::read(&file).unwrap_or_default(), b"old");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(MAX_MANIFEST_BYTES), "4 MiB");
        assert_eq!(human_size(4096), "4 KiB");
        assert_eq!(human_size(1000), "1000 bytes");
    }
}
