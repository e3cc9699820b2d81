use super::*;

fn inputs(login: &str, host: &str) -> IdentityInputs {
    IdentityInputs {
        login: Some(login.into()),
        hostname: Some(host.into()),
        home: Some("/home/x".into()),
        ..IdentityInputs::default()
    }
}

#[test]
fn spec_test_vectors() {
    assert_eq!(hash_seed("alice", "laptop"), "alice-7994");
    assert_eq!(compute_hash("alice", "laptop"), "abba3a3e");
    assert_eq!(hash_seed("bob", "gpu-box-01.example.com"), "bob-3f50");
    assert_eq!(compute_hash("bob", "gpu-box-01.example.com"), "8417fdac");
}

#[test]
fn computed_when_nothing_else_applies_and_cached() {
    let r = resolve(&inputs("alice", "laptop"), &Cached::Missing).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.owner.hash, "abba3a3e");
    assert_eq!(
        r.write_cache,
        Some(PathBuf::from("/home/x/.konduktor/user_hash"))
    );
    assert!(matches!(r.owner.source, HashSource::Computed { .. }));
}

#[test]
fn order_is_override_then_user_id_then_file_then_computed() {
    let mut i = inputs("alice", "laptop");
    i.test_user_hash = Some("11111111".into());
    i.user_id = Some("22222222".into());
    let pick = |i: &IdentityInputs, cached: Option<&str>| {
        let cached = cached.map_or(Cached::Missing, |t| Cached::Text(t.into()));
        resolve(i, &cached).map(|r| (r.owner.hash, r.write_cache.is_some()))
    };
    assert_eq!(pick(&i, Some("33333333")), Ok(("11111111".into(), false)));
    i.test_user_hash = None;
    assert_eq!(pick(&i, Some("33333333")), Ok(("22222222".into(), false)));
    i.user_id = Some("not-a-hash".into());
    assert_eq!(
        pick(&i, Some(" 33333333\n")),
        Ok(("33333333".into(), false))
    );
    assert_eq!(pick(&i, Some("garbage")), Ok(("abba3a3e".into(), true)));
    assert_eq!(pick(&i, None), Ok(("abba3a3e".into(), true)));
}

#[test]
fn invalid_override_is_an_error() {
    let mut i = inputs("alice", "laptop");
    for bad in ["ABBA3A3E", "abba3a3", "abba3a3e0", "zzzzzzzz", ""] {
        i.test_user_hash = Some(bad.into());
        assert!(
            matches!(
                resolve(&i, &Cached::Missing),
                Err(IdentityError::BadOverride { .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn cleaned_username() {
    assert_eq!(clean_username("Alice.Smith"), "alicesmith");
    assert_eq!(clean_username("42-bob-"), "bob");
    assert_eq!(clean_username("--9carol--"), "carol-");
    assert_eq!(clean_username("dave_x"), "dave_x");
    assert_eq!(clean_username(&"e".repeat(70)).len(), 63);
}

#[test]
fn cache_is_written_as_konduktor_writes_it() {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut i = inputs("alice", "laptop");
    i.home = Some(home.path().to_path_buf());
    let owner = resolve_owner(&i).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(owner.hash, "abba3a3e");
    let written =
        std::fs::read_to_string(home.path().join(".konduktor/user_hash")).unwrap_or_default();
    assert_eq!(written, "abba3a3e");
    // A second run reads it back from the file.
    let again = resolve_owner(&i).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(again.source, HashSource::CacheFile { .. }));
}

/// Each case checked with python3: `int(x, 16)` and `len(x) == 8`.
#[test]
fn the_file_is_read_as_konduktor_reads_it() {
    for ok in [
        "abba3a3e",
        "ABBA3A3E",
        "+1234567",
        "-1234567",
        "0x123456",
        "0X123456",
        "1_234567",
        "1_2_3_45",
        "0x_12345",
        "+0x12345",
        "\u{ff10}\u{ff11}\u{ff12}\u{ff13}\u{ff14}\u{ff15}\u{ff16}\u{ff17}",
        "\u{661}\u{662}\u{663}\u{664}\u{665}\u{666}\u{667}\u{668}",
    ] {
        assert!(konduktor_accepts(ok), "{ok}");
    }
    for bad in [
        "_1234567",
        "1234567_",
        "12__3456",
        "+_123456",
        "1234 567",
        "abba3a3",
        "abba3a3e0",
        "zzzzzzzz",
        "",
        "0x",
        "+0x_____",
    ] {
        assert!(!konduktor_accepts(bad), "{bad}");
    }
}

fn from_file(text: &str) -> Result<Resolution, IdentityError> {
    resolve(&inputs("alice", "laptop"), &Cached::Text(text.into()))
}

#[test]
fn a_hash_konduktor_accepts_is_used_as_is_and_never_replaced() {
    for (content, hash) in [
        ("ABBA3A3E\n", "ABBA3A3E"),
        ("0x123456", "0x123456"),
        (" 1_234567 ", "1_234567"),
    ] {
        let r = from_file(content).unwrap_or_else(|e| panic!("{content}: {e}"));
        assert_eq!(r.owner.hash, hash);
        assert!(matches!(r.owner.source, HashSource::CacheFile { .. }));
        assert_eq!((r.write_cache, r.warning), (None, None), "{content}");
    }
}

#[test]
fn a_hash_konduktor_accepts_but_no_label_can_hold_is_refused() {
    for content in [
        "+1234567",
        "-1234567",
        "\u{661}\u{662}\u{663}\u{664}\u{665}\u{666}\u{667}\u{668}",
    ] {
        let err = from_file(content)
            .err()
            .unwrap_or_else(|| panic!("{content} accepted"));
        assert!(
            matches!(err, IdentityError::HashNotLabel { .. }),
            "{content}: {err}"
        );
        assert!(err.to_string().contains("user_hash"), "{err}");
    }
}

#[test]
fn content_konduktor_rejects_is_replaced_with_a_warning() {
    let r = from_file("not a hash").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.owner.hash, "abba3a3e");
    assert!(r.write_cache.is_some());
    let w = r.warning.unwrap_or_default();
    assert!(w.contains("/home/x/.konduktor/user_hash"), "{w}");
    assert!(w.contains("does not hold an owner hash"), "{w}");
    assert!(
        w.contains("replaced with the computed hash abba3a3e"),
        "{w}"
    );
}

#[test]
fn an_unusable_file_is_left_alone_and_the_computed_hash_used() {
    let r = resolve(
        &inputs("alice", "laptop"),
        &Cached::Unusable(
            "`/home/x/.konduktor/user_hash` is a FIFO (named pipe), not a regular file".into(),
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(r.owner.hash, "abba3a3e");
    assert_eq!(r.write_cache, None, "never overwritten");
    assert!(r.warning.unwrap_or_default().contains("left as it is"));
}

#[cfg(unix)]
#[test]
fn a_fifo_or_device_as_the_file_neither_blocks_nor_is_overwritten() {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = home.path().join(".konduktor");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let fifo = dir.join("user_hash");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let mut i = inputs("alice", "laptop");
    i.home = Some(home.path().to_path_buf());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(resolve_owner(&i).map(|o| o.hash));
    });
    let got = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("reading a FIFO as the hash file hangs"));
    assert_eq!(got, Ok("abba3a3e".to_string()));
    let still_fifo = std::fs::symlink_metadata(&fifo)
        .map(|m| std::os::unix::fs::FileTypeExt::is_fifo(&m.file_type()))
        .unwrap_or(false);
    assert!(still_fifo, "the FIFO was replaced");
    assert!(matches!(
        read_cache(Path::new("/dev/zero")),
        Cached::Unusable(_)
    ));
}

// ---- identity adopt -----------------------------------------------------

fn in_home(home: &Path) -> IdentityInputs {
    let mut i = inputs("alice", "laptop");
    i.home = Some(home.to_path_buf());
    i
}

fn hash_file(home: &Path) -> PathBuf {
    home.join(".konduktor").join("user_hash")
}

/// Every file under `dir`, with its bytes (to show that nothing changed).
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap_or_else(|e| panic!("{e}"));
            if meta.is_dir() {
                todo.push(p.clone());
                out.push((p, b"<dir>".to_vec()));
            } else if meta.is_file() {
                let bytes = std::fs::read(&p).unwrap_or_default();
                out.push((p, bytes));
            } else {
                out.push((p, b"<other>".to_vec()));
            }
        }
    }
    out.sort();
    out
}

fn at(seconds: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(seconds).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn adopt_takes_only_an_owner_hash() {
    let i = inputs("alice", "laptop");
    for bad in [
        "ABBA3A3E",
        "abba3a3",
        "abba3a3e0",
        "0x123456",
        "zzzzzzzz",
        "",
    ] {
        let err = plan_adopt(&i, bad, HashFile::Missing)
            .err()
            .unwrap_or_else(|| panic!("{bad} accepted"));
        assert!(matches!(err, AdoptError::NotAHash(_)), "{bad}: {err}");
        assert!(err.to_string().contains("8 lowercase hex"), "{err}");
    }
    assert_eq!(parse_owner_hash("0123abcd"), Ok("0123abcd".to_string()));
}

#[test]
fn adopt_refuses_when_a_variable_would_win_over_the_file() {
    let mut i = inputs("alice", "laptop");
    i.test_user_hash = Some("11111111".into());
    let err = plan_adopt(&i, "0123abcd", HashFile::Missing)
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert!(err.to_string().contains(ENV_TEST_USER_HASH), "{err}");
    let help = err.help();
    assert!(
        help.contains("unset KONDUKTOR_TEST_USER_HASH") && help.contains("0123abcd"),
        "{help}"
    );
    i.test_user_hash = None;
    // Ours takes lowercase only; Konduktor's CLI takes any case, and
    // whitespace around the digits: either would win over the file.
    for value in ["22222222", "ABBA3A3E", " 1234567", "0x123456"] {
        i.user_id = Some(value.into());
        let err = plan_adopt(&i, "0123abcd", HashFile::Missing)
            .err()
            .unwrap_or_else(|| panic!("{value:?} accepted"));
        let text = err.to_string();
        assert!(text.contains(ENV_USER_ID) && text.contains(value), "{text}");
        assert!(text.contains("nothing was changed"), "{text}");
        let users = if is_owner_hash(value) {
            "this tool and Konduktor's CLI use it instead of"
        } else {
            "Konduktor's CLI uses it instead of"
        };
        assert!(text.contains(users), "{text}");
        assert!(
            err.help().contains("unset KONDUKTOR_USER_ID"),
            "{}",
            err.help()
        );
        assert!(
            err.help().contains("export KONDUKTOR_USER_ID=0123abcd"),
            "{}",
            err.help()
        );
    }
}

#[test]
fn adopt_goes_on_past_a_user_id_both_tools_ignore_with_a_warning() {
    let mut i = inputs("alice", "laptop");
    for value in ["not-a-hash", "", "abba3a3e0", "\u{1c}1234567"] {
        i.user_id = Some(value.into());
        let plan = plan_adopt(&i, "0123abcd", HashFile::Missing)
            .unwrap_or_else(|e| panic!("{value:?}: {e}"));
        assert_eq!(plan.warnings.len(), 1, "{value:?}");
        assert!(
            plan.warnings
                .iter()
                .any(|w| w.contains(ENV_USER_ID) && w.contains("ignore")),
            "{:?}",
            plan.warnings
        );
    }
    // Already the hash being adopted: the file is brought in line, no refusal.
    i.user_id = Some("0123abcd".into());
    let plan = plan_adopt(&i, "0123abcd", HashFile::Missing).unwrap_or_else(|e| panic!("{e}"));
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
}

#[test]
fn konduktor_reads_its_variable_unstripped_but_int_ignores_whitespace() {
    for ok in [
        "abba3a3e",
        "ABBA3A3E",
        " 1234567",
        "1234567\n",
        "\u{a0}1234567",
    ] {
        assert!(konduktor_accepts_env(ok), "{ok:?}");
    }
    for bad in [" abba3a3e", "abba3a3e\n", "\u{1c}1234567", "12 34567", ""] {
        assert!(!konduktor_accepts_env(bad), "{bad:?}");
    }
}

#[test]
fn adopt_without_home_is_a_clear_error() {
    let mut i = inputs("alice", "laptop");
    i.home = None;
    let err = plan_adopt(&i, "0123abcd", HashFile::Missing)
        .err()
        .unwrap_or_else(|| panic!("accepted"));
    assert_eq!(err, AdoptError::NoHome);
    assert!(err.to_string().contains("HOME is not set"), "{err}");
}

#[test]
fn adopt_says_what_the_hash_was() {
    let i = inputs("alice", "laptop");
    let before = |file| {
        plan_adopt(&i, "0123abcd", file)
            .unwrap_or_else(|e| panic!("{e}"))
            .before
    };
    let regular = |text: &str| HashFile::Regular {
        bytes: text.as_bytes().to_vec(),
        symlink: false,
    };
    assert_eq!(
        before(HashFile::Missing),
        "abba3a3e (computed from \"alice-7994\"; not saved yet)"
    );
    assert_eq!(
        before(regular("8417fdac")),
        "8417fdac (file /home/x/.konduktor/user_hash)"
    );
    assert_eq!(
        before(regular("junk")),
        "abba3a3e (computed: the file holds no owner hash)"
    );
    assert!(before(regular("+1234567")).starts_with("none ("));
}

#[test]
fn adopt_of_the_hash_the_file_holds_changes_nothing() {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = hash_file(home.path());
    std::fs::create_dir_all(file.parent().unwrap_or(home.path())).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&file, "0123abcd\n").unwrap_or_else(|e| panic!("{e}"));
    let before = snapshot(home.path());
    let plan = prepare_adopt(&in_home(home.path()), "0123abcd").unwrap_or_else(|e| panic!("{e}"));
    assert!(plan.unchanged);
    let done = adopt(&plan, at(0)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(done.backup, None);
    assert_eq!(snapshot(home.path()), before);
}

#[test]
fn adopt_writes_the_bare_hash_and_keeps_every_earlier_file() {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let i = in_home(home.path());
    let file = hash_file(home.path());
    // No directory, no file: made, and nothing to back up.
    let plan = prepare_adopt(&i, "8417fdac").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(plan.file, HashFile::Missing);
    let done = adopt(&plan, at(1_700_000_000)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(done.backup, None);
    assert_eq!(std::fs::read(&file).unwrap_or_default(), b"8417fdac");
    // Then twice within one second: two backups, neither overwritten.
    for hash in ["0123abcd", "feedbeef"] {
        let plan = prepare_adopt(&i, hash).unwrap_or_else(|e| panic!("{e}"));
        assert!(!plan.unchanged);
        adopt(&plan, at(1_700_000_000)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(std::fs::read(&file).unwrap_or_default(), hash.as_bytes());
    }
    let dir = home.path().join(".konduktor");
    let backup = dir.join("user_hash.bak-20231114T221320Z");
    assert_eq!(std::fs::read(&backup).unwrap_or_default(), b"8417fdac");
    let second = dir.join("user_hash.bak-20231114T221320Z.1");
    assert_eq!(std::fs::read(&second).unwrap_or_default(), b"0123abcd");
    // Nothing else left behind (no temporary file).
    let names: Vec<_> = snapshot(home.path()).into_iter().map(|(p, _)| p).collect();
    assert_eq!(names, vec![dir.clone(), file, backup, second]);
    // And resolution now reads it.
    let owner = resolve_owner(&i).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(owner.hash, "feedbeef");
    assert!(matches!(owner.source, HashSource::CacheFile { .. }));
}

#[test]
fn adopt_reports_the_backup_path() {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = hash_file(home.path());
    std::fs::create_dir_all(file.parent().unwrap_or(home.path())).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&file, "garbage that is no hash").unwrap_or_else(|e| panic!("{e}"));
    let plan = prepare_adopt(&in_home(home.path()), "0123abcd").unwrap_or_else(|e| panic!("{e}"));
    let done = adopt(&plan, at(86_400)).unwrap_or_else(|e| panic!("{e}"));
    let backup = done.backup.unwrap_or_default();
    assert_eq!(
        backup,
        home.path()
            .join(".konduktor/user_hash.bak-19700102T000000Z")
    );
    assert_eq!(
        std::fs::read(&backup).unwrap_or_default(),
        b"garbage that is no hash"
    );
}

#[cfg(unix)]
#[test]
fn adopt_refuses_anything_but_a_regular_file_and_changes_nothing() {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = home.path().join(".konduktor");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let file = dir.join("user_hash");
    let elsewhere = home.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap_or_else(|e| panic!("{e}"));
    let make: [(&str, &dyn Fn()); 5] = [
        ("a directory", &|| {
            std::fs::create_dir(&file).unwrap_or_else(|e| panic!("{e}"));
        }),
        ("a FIFO", &|| {
            let made = std::process::Command::new("mkfifo").arg(&file).status();
            assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        }),
        ("a directory", &|| {
            std::os::unix::fs::symlink(&elsewhere, &file).unwrap_or_else(|e| panic!("{e}"));
        }),
        ("does not exist", &|| {
            std::os::unix::fs::symlink(home.path().join("gone"), &file)
                .unwrap_or_else(|e| panic!("{e}"));
        }),
        ("larger than 4 KiB", &|| {
            std::fs::write(&file, vec![b' '; 5000]).unwrap_or_else(|e| panic!("{e}"));
        }),
    ];
    for (what, make) in make {
        make();
        let before = snapshot(home.path());
        let err = prepare_adopt(&in_home(home.path()), "0123abcd")
            .err()
            .unwrap_or_else(|| panic!("{what}: accepted"));
        let text = err.to_string();
        assert!(
            text.contains(what) && text.contains("user_hash"),
            "{what}: {text}"
        );
        assert!(text.contains("nothing was changed"), "{text}");
        assert!(err.help().contains("move"), "{}", err.help());
        assert_eq!(snapshot(home.path()), before, "{what}");
        if std::fs::symlink_metadata(&file).is_ok_and(|m| m.is_dir()) {
            std::fs::remove_dir(&file).unwrap_or_else(|e| panic!("{e}"));
        } else {
            std::fs::remove_file(&file).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[cfg(unix)]
#[test]
fn adopt_replaces_a_link_to_a_file_and_leaves_its_target_alone() {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = home.path().join(".konduktor");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let target = home.path().join("dotfiles-user_hash");
    std::fs::write(&target, "8417fdac").unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink(&target, dir.join("user_hash")).unwrap_or_else(|e| panic!("{e}"));
    let plan = prepare_adopt(&in_home(home.path()), "0123abcd").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        plan.file,
        HashFile::Regular {
            bytes: b"8417fdac".to_vec(),
            symlink: true
        }
    );
    let done = adopt(&plan, at(0)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        std::fs::read(dir.join("user_hash")).unwrap_or_default(),
        b"0123abcd"
    );
    assert_eq!(std::fs::read(&target).unwrap_or_default(), b"8417fdac");
    assert_eq!(
        std::fs::read(done.backup.unwrap_or_default()).unwrap_or_default(),
        b"8417fdac"
    );
}

#[test]
fn adopt_writes_nothing_if_the_file_changed_since_it_was_read() {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let i = in_home(home.path());
    let plan = prepare_adopt(&i, "0123abcd").unwrap_or_else(|e| panic!("{e}"));
    // Konduktor's CLI computed and saved a hash meanwhile.
    let file = hash_file(home.path());
    std::fs::create_dir_all(file.parent().unwrap_or(home.path())).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&file, "abba3a3e").unwrap_or_else(|e| panic!("{e}"));
    let before = snapshot(home.path());
    let err = adopt(&plan, at(0))
        .err()
        .unwrap_or_else(|| panic!("written"));
    assert!(matches!(err, AdoptError::Changed { .. }), "{err}");
    assert_eq!(snapshot(home.path()), before);
}

#[test]
fn the_user_id_is_konduktors_login_and_host_hash() {
    let inputs = IdentityInputs {
        login: Some("alice".into()),
        hostname: Some("laptop".into()),
        ..IdentityInputs::default()
    };
    assert_eq!(user_id(&inputs).as_deref(), Some("alice-7994"));
    assert_eq!(login_of_user_id("alice-7994"), Some("alice"));
    assert_eq!(login_of_user_id("first-last-3f50"), Some("first-last"));
    for not_one in [
        "alice",
        "alice-799",
        "alice-79945",
        "-7994",
        "alice-ABCD",
        "",
    ] {
        assert_eq!(login_of_user_id(not_one), None, "{not_one}");
    }
    let unknown = IdentityInputs {
        login: None,
        ..inputs.clone()
    };
    assert_eq!(user_id(&unknown), None);
    let huge = IdentityInputs {
        login: Some("x".repeat(MAX_USER_ID_LEN)),
        ..inputs
    };
    assert_eq!(user_id(&huge), None, "bounded");
}
