use super::*;

fn unhex_str(text: &str) -> Vec<u8> {
    unhex(text).unwrap_or_else(|| panic!("not hex: {text}"))
}

#[test]
fn hmac_matches_rfc_4231() {
    // Test cases 1 and 2 of RFC 4231.
    assert_eq!(
        hex(&hmac_sha256(&[0x0b; 20], &[b"Hi ", b"There"])),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
    assert_eq!(
        hex(&hmac_sha256(b"Jefe", &[b"what do ya want for nothing?"])),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn macs_are_bound_to_key_purpose_and_names() {
    let a = DigestKey::from_bytes([1; KEY_BYTES], KeySource::Env);
    let b = DigestKey::from_bytes([2; KEY_BYTES], KeySource::Env);
    let m = |k: &DigestKey, d: &str, n: &[&[u8]]| k.mac(d, n, b"v");
    assert_ne!(m(&a, "x", &[b"s", b"k"]), m(&b, "x", &[b"s", b"k"]));
    assert_ne!(m(&a, "x", &[b"s", b"k"]), m(&a, "y", &[b"s", b"k"]));
    assert_ne!(m(&a, "x", &[b"ab", b"c"]), m(&a, "x", &[b"a", b"bc"]));
    assert_ne!(a.id(), b.id());
    assert_eq!(a.id().len(), 8);
    // Debug names the key by its id, never its bytes.
    let shown = format!("{a:?}");
    assert!(shown.contains(a.id()) && !shown.contains("0101"), "{shown}");
}

fn inputs(home: &Path, env: Option<&str>) -> KeyInputs {
    KeyInputs {
        env: env.map(OsString::from),
        home: Some(home.to_path_buf()),
    }
}

#[test]
fn a_key_is_made_once_0600_and_read_back() {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let i = inputs(home.path(), None);
    assert!(matches!(load(&i), Ok(None)));
    let made = load_or_create(&i).unwrap_or_else(|e| panic!("{e}"));
    let again = load_or_create(&i).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(made, again);
    let path = home.path().join(RELATIVE_PATH);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(text.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| {
            std::fs::metadata(p)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or_default()
        };
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&home.path().join(".konduktor")), 0o700);
    }
    // The variable gives the same key elsewhere, and wins over a file.
    let elsewhere = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let from_env = load(&inputs(elsewhere.path(), Some(text.trim())))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no key"));
    assert_eq!(from_env.id(), made.id());
    assert_eq!(from_env.source, KeySource::Env);
    let other = "ab".repeat(32);
    let env_wins = load(&inputs(home.path(), Some(&other)))
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("no key"));
    assert_ne!(env_wins.id(), made.id());
}

#[test]
fn a_malformed_variable_is_refused_without_showing_it() {
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for bad in [
        "",
        "123456",
        &"g".repeat(64),
        &"a".repeat(63),
        &"a".repeat(66),
    ] {
        let e = load(&inputs(home.path(), Some(bad)))
            .err()
            .unwrap_or_else(|| panic!("{bad} taken"));
        let text = format!("{e} {}", e.help());
        assert!(text.contains(ENV_DIGEST_KEY), "{text}");
        assert!(bad.len() < 6 || !text.contains(bad), "{text}");
        // Never falls back to making a key.
        assert!(load_or_create(&inputs(home.path(), Some(bad))).is_err());
    }
    assert!(!home.path().join(RELATIVE_PATH).exists());
}

#[cfg(unix)]
#[test]
fn a_key_file_others_can_read_or_not_a_key_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let i = inputs(home.path(), None);
    let made = load_or_create(&i).unwrap_or_else(|e| panic!("{e}"));
    let path = home.path().join(RELATIVE_PATH);
    let chmod = |mode| {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("{e}"))
    };
    chmod(0o644);
    let e = load(&i).err().unwrap_or_else(|| panic!("0644 key taken"));
    assert!(e.to_string().contains("mode 0644"), "{e}");
    assert!(e.help().contains("chmod 600"), "{}", e.help());
    assert!(load_or_create(&i).is_err(), "never replaced");
    chmod(0o600);
    assert_eq!(load(&i).ok().flatten(), Some(made));
    // Not a key: refused, never replaced; its content is not shown.
    std::fs::write(&path, "not-a-key-canary\n").unwrap_or_else(|e| panic!("{e}"));
    let e = load(&i).err().unwrap_or_else(|| panic!("bad key taken"));
    assert!(!e.to_string().contains("canary"), "{e}");
    assert!(load_or_create(&i).is_err());
    // A folder, a FIFO, a dangling link: refused, never waited on.
    std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(load(&i).is_err() && load_or_create(&i).is_err());
    std::fs::remove_dir(&path).unwrap_or_else(|e| panic!("{e}"));
    let c =
        std::ffi::CString::new(path.to_string_lossy().as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    assert!(load(&i).is_err());
    std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink(home.path().join("nowhere"), &path)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(load(&i).is_err() && load_or_create(&i).is_err());
    assert!(!home.path().join("nowhere").exists());
}

#[test]
fn without_home_there_is_no_file() {
    let i = KeyInputs::default();
    assert!(matches!(load(&i), Ok(None)));
    assert!(matches!(load_or_create(&i), Err(KeyError::NoHome)));
}

#[test]
fn a_key_parses_from_either_case_with_whitespace() {
    let lower = "0a".repeat(32);
    let upper = lower.to_uppercase();
    let a = DigestKey::parse(format!(" {lower}\n").as_bytes(), KeySource::Env);
    let b = DigestKey::parse(upper.as_bytes(), KeySource::Env);
    assert!(a.is_some() && a == b);
    assert_eq!(unhex_str(&lower), vec![0x0a; 32]);
}
