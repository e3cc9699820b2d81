use super::*;
use std::fs::File;
use std::io::Cursor;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
}

fn write(path: &Path, content: &[u8]) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(path, content).unwrap_or_else(|e| panic!("{e}"));
}

fn entries(zip: &SecretBytes) -> Vec<(String, Option<u32>, Vec<u8>)> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(zip.expose().to_vec())).unwrap_or_else(|e| panic!("{e}"));
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap_or_else(|e| panic!("{e}"));
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes).unwrap_or_else(|e| panic!("{e}"));
            (
                f.name().map(|n| n.to_string()).unwrap_or_default(),
                f.unix_mode(),
                bytes,
            )
        })
        .collect()
}

#[test]
fn inline_splits_at_first_equals_and_never_echoes_a_value() {
    let (k, v) = parse_inline("A=b=c").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((k.as_str(), v.expose()), ("A", &b"b=c"[..]));
    let (k, v) = parse_inline("EMPTY=").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((k.as_str(), v.len()), ("EMPTY", 0));
    let err = parse_inline("sk-canary-token-value")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(!err.contains("canary"), "{err}");
}

#[test]
fn kinds_accept_their_sources_only() {
    let file = Source::Files(vec!["a".into()]);
    let two = Source::Files(vec!["a".into(), "b".into()]);
    let dir = Source::Directory("d".into());
    let inline = Source::Inline(vec![]);
    for s in [&file, &two, &dir, &inline] {
        assert!(check_kind_source(SecretKind::Default, s).is_ok());
    }
    assert!(check_kind_source(SecretKind::Env, &inline).is_ok());
    for s in [&file, &dir] {
        assert!(check_kind_source(SecretKind::Env, s).is_err());
    }
    assert!(check_kind_source(SecretKind::GitSsh, &file).is_ok());
    for s in [&two, &dir, &inline] {
        assert!(check_kind_source(SecretKind::GitSsh, s).is_err());
    }
}

#[test]
fn files_become_keys_and_git_ssh_is_gitkey() {
    let d = tmp();
    write(&d.path().join("id_test"), b"key");
    let data = collect(
        SecretKind::Default,
        &Source::Files(vec![d.path().join("id_test")]),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(data.keys().collect::<Vec<_>>(), ["id_test"]);
    let data = collect(
        SecretKind::GitSsh,
        &Source::Files(vec![d.path().join("id_test")]),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(data.keys().collect::<Vec<_>>(), ["gitkey"]);
}

#[test]
fn env_keys_must_be_env_names() {
    let bad = Source::Inline(vec![("NOT-AN-ENV".into(), SecretBytes::default())]);
    assert!(matches!(
        collect(SecretKind::Env, &bad),
        Err(SourceError::Rule(RuleError::InvalidEnvName { .. }))
    ));
    // The same key is fine in a default secret (it is a file name there).
    assert!(collect(SecretKind::Default, &bad).is_ok());
}

#[test]
fn oversized_file_is_refused_from_its_size() {
    let d = tmp();
    let big = d.path().join("big");
    let f = File::create(&big).unwrap_or_else(|e| panic!("{e}"));
    // Sparse: 10 GiB that would be fatal to read whole.
    f.set_len(10 << 30).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        read_file_bounded(&big, MAX_SECRET_BYTES),
        Err(SourceError::TooLarge { .. })
    ));
    write(&d.path().join("exact"), &vec![7u8; MAX_SECRET_BYTES]);
    assert!(read_file_bounded(&d.path().join("exact"), MAX_SECRET_BYTES).is_ok());
}

#[test]
fn directory_layout_matches_konduktor() {
    let d = tmp();
    let root = d.path().join("mycreds");
    write(&root.join("a.txt"), b"alpha\n");
    write(&root.join(".hidden"), b"hidden");
    write(&root.join(".DS_Store"), b"junk");
    write(&root.join("sub/b.json"), b"{\"b\": 1}\n");
    write(&root.join("sub/deeper/c"), b"c");
    std::fs::create_dir_all(root.join("emptydir")).unwrap_or_else(|e| panic!("{e}"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(root.join("a.txt"), std::fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let zip = zip_directory(&root, MAX_SECRET_BYTES).unwrap_or_else(|e| panic!("{e}"));
    let got = entries(&zip);
    let names: Vec<&str> = got.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "mycreds/.hidden",
            "mycreds/a.txt",
            "mycreds/sub/b.json",
            "mycreds/sub/deeper/c"
        ]
    );
    #[cfg(unix)]
    assert_eq!(got[1].1.map(|m| m & 0o777), Some(0o600));
    assert_eq!(got[1].2, b"alpha\n");
    // Deterministic: same folder, same bytes.
    assert_eq!(
        zip,
        zip_directory(&root, MAX_SECRET_BYTES).unwrap_or_else(|e| panic!("{e}"))
    );
}

#[cfg(unix)]
#[test]
fn symlinks_are_followed_and_loops_are_errors() {
    let d = tmp();
    let root = d.path().join("creds");
    write(&d.path().join("outside.txt"), b"out");
    write(&root.join("in.txt"), b"in");
    std::os::unix::fs::symlink(d.path().join("outside.txt"), root.join("link.txt"))
        .unwrap_or_else(|e| panic!("{e}"));
    let zip = zip_directory(&root, MAX_SECRET_BYTES).unwrap_or_else(|e| panic!("{e}"));
    let got = entries(&zip);
    assert_eq!(
        got.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
        ["creds/in.txt", "creds/link.txt"]
    );
    assert_eq!(got[1].2, b"out");
    std::os::unix::fs::symlink(&root, root.join("loop")).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        zip_directory(&root, MAX_SECRET_BYTES),
        Err(SourceError::SymlinkLoop { .. })
    ));
}

#[test]
fn empty_directory_is_an_error() {
    let d = tmp();
    write(&d.path().join("only/.DS_Store"), b"x");
    std::fs::create_dir_all(d.path().join("only/empty")).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        zip_directory(&d.path().join("only"), MAX_SECRET_BYTES),
        Err(SourceError::EmptyDirectory { .. })
    ));
}

#[test]
fn archive_over_budget_stops() {
    let d = tmp();
    // Incompressible-ish bytes so the archive really outgrows the budget.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let noise: Vec<u8> = (0..200_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    write(&d.path().join("big/n"), &noise);
    let result = zip_directory(&d.path().join("big"), 10_000);
    assert!(
        matches!(result, Err(SourceError::TooLarge { .. })),
        "{result:?}"
    );
}

/// The archive bytes of a fixed folder, pinned: a change in how files are
/// read (chunking, order, options) must not change what is written.
#[cfg(unix)]
#[test]
fn archive_bytes_are_pinned() {
    use sha2::Digest;
    use std::os::unix::fs::PermissionsExt;
    let d = tmp();
    let root = d.path().join("pinned");
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let text: Vec<u8> = (0..300_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            b"abcdefghij \n"[(state % 12) as usize]
        })
        .collect();
    write(&root.join("big.txt"), &text);
    write(&root.join("z/small"), b"small\n");
    write(&root.join(".env"), b"A=1\n");
    for rel in ["big.txt", "z/small", ".env"] {
        std::fs::set_permissions(root.join(rel), std::fs::Permissions::from_mode(0o640))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let zip = zip_directory(&root, MAX_SECRET_BYTES).unwrap_or_else(|e| panic!("{e}"));
    let digest: String = sha2::Sha256::digest(zip.expose())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        digest,
        "834d96aedd80ad73b886e5eb5ac845921e77e8f32ce26af2f7e15ce407737967"
    );
}

/// Run `f` on a thread and fail (instead of hanging the suite) if it does not
/// finish in a generous time. A hang catcher only, not a timing assertion.
fn watchdog<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{what} did not finish: it hangs or its work is unbounded"))
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
}

#[cfg(unix)]
#[test]
fn a_fifo_or_a_device_named_as_a_file_is_an_error_naming_it() {
    let d = tmp();
    let fifo = d.path().join("pipe");
    mkfifo(&fifo);
    let link = d.path().join("zero-link");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap_or_else(|e| panic!("{e}"));
    for (path, kind) in [
        (fifo.clone(), "FIFO"),
        (PathBuf::from("/dev/zero"), "character device"),
        (link, "character device"),
    ] {
        let p = path.clone();
        let got = watchdog("reading a special file", move || {
            collect(SecretKind::Default, &Source::Files(vec![p]))
                .err()
                .map(|e| e.to_string())
        });
        let msg = got.unwrap_or_else(|| panic!("{} was accepted", path.display()));
        assert!(msg.contains(kind), "{msg}");
        assert!(msg.contains(&path.display().to_string()), "{msg}");
    }
}

#[test]
fn files_over_the_limit_name_the_secret_total_not_the_last_file() {
    let d = tmp();
    write(&d.path().join("one.bin"), &vec![1u8; 600_000]);
    write(&d.path().join("two.bin"), &vec![2u8; 600_000]);
    let err = collect(
        SecretKind::Default,
        &Source::Files(vec![d.path().join("one.bin"), d.path().join("two.bin")]),
    )
    .err()
    .unwrap_or_else(|| panic!("1.2 MB accepted"));
    let msg = err.named("big").to_string();
    assert!(
        msg.contains("the secret `big` would hold more than 1 MiB"),
        "{msg}"
    );
    assert!(msg.contains("at least 1200000 bytes"), "{msg}");
    assert!(!msg.contains("two.bin"), "{msg}");
}

#[cfg(unix)]
#[test]
fn special_files_in_a_directory_are_errors_naming_them() {
    let d = tmp();
    let cases: [(&str, &str); 3] = [
        ("fifo", "FIFO"),
        ("zero", "character device"),
        ("sock", "socket"),
    ];
    for (name, kind) in cases {
        let root = d.path().join(format!("with-{name}"));
        write(&root.join("ok.txt"), b"fine");
        let special = root.join("sub").join(name);
        std::fs::create_dir_all(root.join("sub")).unwrap_or_else(|e| panic!("{e}"));
        let _listener;
        match name {
            "fifo" => mkfifo(&special),
            "zero" => {
                std::os::unix::fs::symlink("/dev/zero", &special).unwrap_or_else(|e| panic!("{e}"))
            }
            _ => {
                _listener = std::os::unix::net::UnixListener::bind(&special)
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        }
        let r = root.clone();
        let msg = watchdog("zipping a folder with a special file", move || {
            zip_directory(&r, MAX_SECRET_BYTES)
                .err()
                .map(|e| e.to_string())
        })
        .unwrap_or_else(|| panic!("{name} was dropped silently"));
        assert!(msg.contains(kind), "{msg}");
        assert!(msg.contains(&special.display().to_string()), "{msg}");
    }
}

/// Each level holds two links to the next: 2^30 paths, 31 folders.
#[cfg(unix)]
#[test]
fn a_dag_of_links_is_walked_once_per_folder() {
    let d = tmp();
    let level = |i: usize| d.path().join(format!("l{i}"));
    for i in 0..=30 {
        std::fs::create_dir_all(level(i)).unwrap_or_else(|e| panic!("{e}"));
        if i > 0 {
            for link in ["a", "b"] {
                std::os::unix::fs::symlink(level(i), level(i - 1).join(link))
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        }
    }
    write(&level(30).join("leaf.txt"), b"leaf");
    let root = level(0);
    let (result, stats) = watchdog("walking a DAG of links", move || {
        let mut stats = WalkStats::default();
        let result = walk_directory_stats(&root, &mut stats).map(|f| f.len());
        (result.map_err(|e| e.to_string()), stats)
    });
    let msg = result.err().unwrap_or_else(|| panic!("accepted"));
    assert!(msg.contains("reached twice"), "{msg}");
    // Both paths are named: the first way in, and the second.
    assert!(msg.contains("/a/a` is reached twice"), "{msg}");
    assert!(msg.contains("/a/b` is the same folder"), "{msg}");
    assert_eq!(stats.dirs_visited, 31, "each folder once");
}

#[test]
fn deep_nesting_is_refused_at_the_depth_limit() {
    let d = tmp();
    let mut deepest = d.path().join("deep");
    for _ in 0..1000 {
        deepest.push("d");
    }
    std::fs::create_dir_all(&deepest).unwrap_or_else(|e| panic!("{e}"));
    write(&deepest.join("f"), b"x");
    let root = d.path().join("deep");
    let (result, stats) = watchdog("walking 1000 levels", move || {
        let mut stats = WalkStats::default();
        let r = walk_directory_stats(&root, &mut stats).map(|f| f.len());
        (r.map_err(|e| e.to_string()), stats)
    });
    let msg = result.err().unwrap_or_else(|| panic!("accepted"));
    assert!(
        msg.contains(&format!("more than {MAX_WALK_DEPTH} folders deep")),
        "{msg}"
    );
    assert_eq!(stats.dirs_visited, MAX_WALK_DEPTH + 1);
}

#[test]
fn too_many_entries_are_refused() {
    let d = tmp();
    let root = d.path().join("many");
    std::fs::create_dir_all(root.join("sub")).unwrap_or_else(|e| panic!("{e}"));
    for i in 0..MAX_WALK_ENTRIES {
        std::fs::write(root.join("sub").join(format!("f{i}")), b"")
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let mut stats = WalkStats::default();
    let msg = walk_directory_stats(&root, &mut stats)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_else(|| panic!("accepted"));
    assert!(
        msg.contains(&format!("more than {MAX_WALK_ENTRIES} files and folders")),
        "{msg}"
    );
    assert!(stats.entries_seen <= MAX_WALK_ENTRIES + 1);
}

#[test]
fn reading_stops_once_the_files_pass_the_limit() {
    let d = tmp();
    // Zeros compress to almost nothing: only counting raw bytes stops this.
    for name in ["a.bin", "b.bin", "c.bin"] {
        write(&d.path().join("zeros").join(name), &vec![0u8; 700_000]);
    }
    let mut stats = WalkStats::default();
    let err = zip_directory_stats(&d.path().join("zeros"), MAX_SECRET_BYTES, &mut stats)
        .err()
        .unwrap_or_else(|| panic!("2.1 MB of files accepted"));
    let msg = err.named("z").to_string();
    assert!(
        msg.contains("the secret `z` would hold more than 1 MiB"),
        "{msg}"
    );
    assert!(msg.contains("at least 1400000 bytes"), "{msg}");
    assert!(
        stats.bytes_read <= MAX_SECRET_BYTES as u64 + 1,
        "read {} bytes",
        stats.bytes_read
    );
    // A sparse 10 GiB file is refused from its size, before any read.
    let big = d.path().join("sparse/huge");
    write(&big, b"");
    File::options()
        .write(true)
        .open(&big)
        .and_then(|f| f.set_len(10 << 30))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut stats = WalkStats::default();
    let r = zip_directory_stats(&d.path().join("sparse"), MAX_SECRET_BYTES, &mut stats);
    assert!(matches!(r, Err(SourceError::TooLarge { .. })), "{r:?}");
    assert_eq!(stats.bytes_read, 0);
}

/// /proc files say they are empty: the read itself must stop at the limit.
#[cfg(target_os = "linux")]
#[test]
fn a_link_to_a_proc_file_is_read_only_up_to_the_limit() {
    let d = tmp();
    let root = d.path().join("proc");
    std::fs::create_dir_all(&root).unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink("/proc/self/maps", root.join("maps"))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut stats = WalkStats::default();
    let r = zip_directory_stats(&root, 64, &mut stats);
    assert!(matches!(r, Err(SourceError::TooLarge { .. })), "{r:?}");
    assert_eq!(stats.bytes_read, 65);
}
