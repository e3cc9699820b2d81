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
    let r = resolve(&inputs("alice", "laptop"), None).unwrap_or_else(|e| panic!("{e}"));
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
    let pick = |i: &IdentityInputs, cached| {
        resolve(i, cached).map(|r| (r.owner.hash, r.write_cache.is_some()))
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
            matches!(resolve(&i, None), Err(IdentityError::BadOverride { .. })),
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
