use super::*;
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
