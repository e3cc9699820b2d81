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
