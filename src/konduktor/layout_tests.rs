use super::*;

#[test]
fn names_follow_dns1123_and_the_lengths_konduktor_forgets() {
    assert!(validate_name("creds", SecretKind::Default).is_ok());
    assert!(validate_name("a", SecretKind::Env).is_ok());
    assert!(validate_name("my-ssh-2", SecretKind::GitSsh).is_ok());
    for bad in ["", "Creds", "-a", "a-", "a_b", "a.b", "é"] {
        assert!(
            matches!(
                validate_name(bad, SecretKind::Env),
                Err(RuleError::NameNotDns1123 { .. })
            ),
            "{bad}"
        );
    }
    let n48 = "a".repeat(48);
    let n49 = "a".repeat(49);
    let n63 = "a".repeat(63);
    let n64 = "a".repeat(64);
    assert!(validate_name(&n48, SecretKind::Default).is_ok());
    assert!(matches!(
        validate_name(&n49, SecretKind::Default),
        Err(RuleError::NameTooLong { max: 48, .. })
    ));
    assert!(validate_name(&n63, SecretKind::Env).is_ok());
    assert!(matches!(
        validate_name(&n64, SecretKind::GitSsh),
        Err(RuleError::NameTooLong { max: 63, .. })
    ));
}

#[test]
fn data_keys_follow_the_api_server_rule() {
    for ok in ["a.txt", "KEY_NAME", "key-name", ".hidden", "payload.zip"] {
        assert!(validate_data_key(ok).is_ok(), "{ok}");
    }
    for bad in ["", ".", "..", "..data", "bad/key", "sp ace", "ü"] {
        assert!(validate_data_key(bad).is_err(), "{bad}");
    }
    assert!(validate_data_key(&"k".repeat(254)).is_err());
}

#[test]
fn env_names() {
    for ok in ["HF_TOKEN", "_x", "a1"] {
        assert!(validate_env_name(ok).is_ok(), "{ok}");
    }
    for bad in ["", "1A", "A-B", "A.B", "A B"] {
        assert!(validate_env_name(bad).is_err(), "{bad}");
    }
}

#[test]
fn size_limit_counts_decoded_values() {
    let mut data = BTreeMap::from([("a".to_string(), SecretBytes::new(vec![0; MAX_SECRET_BYTES]))]);
    assert!(validate_size("x", &data).is_ok());
    data.insert("b".into(), SecretBytes::new(vec![1]));
    assert!(
        matches!(validate_size("x", &data), Err(RuleError::TooLarge { total, .. }) if total == MAX_SECRET_BYTES + 1)
    );
}

#[test]
fn object_matches_konduktor_layout() {
    let desired = DesiredSecret {
        origins: Default::default(),
        basename: "hf".into(),
        kind: SecretKind::Env,
        data: BTreeMap::from([("TOKEN".into(), SecretBytes::new(b"t1".to_vec()))]),
    };
    let obj = serde_json::to_value(desired.to_object("abba3a3e", &WriteMeta::default()))
        .unwrap_or_default();
    // The body of the recorded `create-secret` request, as the real server took it.
    let expected = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "hf-abba3a3e", "labels": {
            "parent": "konduktor", "trainy.ai/secret-owner": "abba3a3e",
            "trainy.ai/secret-basename": "hf", "trainy.ai/secret-kind": "env"}},
        "type": "Opaque",
        "data": {"TOKEN": "dDE="}
    });
    assert_eq!(obj, expected);
}

#[test]
fn kinds_round_trip() {
    for k in SecretKind::ALL {
        assert_eq!(k.as_str().parse::<SecretKind>(), Ok(k));
    }
    assert!("ssh".parse::<SecretKind>().is_err());
}

#[test]
fn applied_records_of_the_previous_version_are_still_read() {
    // tests/fixtures/konduktor-made/my-env-annotated-merged-abba3a3e.json:
    // FOO=bar, recorded by the previous version (unkeyed), which Konduktor keeps.
    let recorded = parse_applied(r#"{"FOO":"sha256:fcde2b2e"}"#)
        .unwrap_or_else(|| panic!("the fixture's annotation parses"));
    let foo = recorded.get("FOO").map(String::as_str).unwrap_or_default();
    let matches =
        |entry: &str, value: &[u8]| digest_matches(entry, None, "my-env-abba3a3e", "FOO", value);
    assert_eq!(matches(foo, b"bar"), Some(true));
    assert_eq!(matches(foo, b"baz"), Some(false));
    // A longer prefix (or the whole digest) is compared as far as it goes.
    let full = "sha256:fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9";
    assert_eq!(matches(full, b"bar"), Some(true));
    // Anything else is not a digest: never matches, never an error.
    for bad in [
        "",
        "sha256:",
        "sha256:fcde",
        "md5:fcde2b2e",
        "sha256:FCDE2B2E",
        "sha256:zzzzzzzz",
        "hmac-sha256:1234abcd",
        "hmac-sha256:1234abcd:zzzzzzzz",
        "hmac-sha256:1234abc:12345678",
        "hmac-sha256:1234abcd:12345678:",
    ] {
        assert_eq!(matches(bad, b"bar"), None, "{bad}");
        assert_eq!(
            parse_applied(&format!(r#"{{"FOO":"{bad}"}}"#)),
            None,
            "{bad}"
        );
    }
    for bad in ["", "not json", "[1]", r#"{"FOO":1}"#] {
        assert_eq!(parse_applied(bad), None, "{bad}");
    }
}

#[test]
fn applied_entries_are_keyed_and_bound_to_object_and_key() {
    let key = crate::konduktor::digest_key::test_key(7);
    let other = crate::konduktor::digest_key::test_key(8);
    let entry = applied_digest(&key, "s-abba3a3e", "PIN", b"123456");
    assert_eq!(entry.len(), "hmac-sha256:".len() + 8 + 1 + 8, "{entry}");
    assert!(
        entry.starts_with(&format!("hmac-sha256:{}:", key.id())),
        "{entry}"
    );
    assert!(parse_applied(&format!(r#"{{"PIN":"{entry}"}}"#)).is_some());
    let matches = |k: Option<&crate::konduktor::digest_key::DigestKey>,
                   s: &str,
                   n: &str,
                   v: &[u8]| { digest_matches(&entry, k, s, n, v) };
    assert_eq!(
        matches(Some(&key), "s-abba3a3e", "PIN", b"123456"),
        Some(true)
    );
    assert_eq!(
        matches(Some(&key), "s-abba3a3e", "PIN", b"123457"),
        Some(false)
    );
    // The same value under another key name or object digests differently.
    assert_eq!(
        matches(Some(&key), "s-abba3a3e", "PIN2", b"123456"),
        Some(false)
    );
    assert_eq!(
        matches(Some(&key), "t-abba3a3e", "PIN", b"123456"),
        Some(false)
    );
    // Without the key, or with another, it cannot tell (never "changed").
    assert_eq!(matches(None, "s-abba3a3e", "PIN", b"123456"), None);
    assert_eq!(matches(Some(&other), "s-abba3a3e", "PIN", b"123456"), None);
}

/// A dictionary attack on an `applied` entry that outlived its value
/// (another writer rotated it): every 6-digit PIN, tried as whoever reads
/// the object can (the entry's text and the names, not the key). The
/// previous version's entry gives the PIN away; a keyed one gives nothing.
#[test]
fn a_stale_applied_entry_does_not_give_a_short_value_away() {
    use sha2::{Digest, Sha256};
    let secret = "bank-abba3a3e";
    let pin = b"493817";
    let crack = |entry: &str| -> Vec<u32> {
        // The entry's last 8 hex digits, as bytes.
        let tail = entry
            .get(entry.len().saturating_sub(8)..)
            .unwrap_or_default();
        let wanted: Vec<u8> = (0..4)
            .filter_map(|i| {
                tail.get(2 * i..2 * i + 2)
                    .and_then(|b| u8::from_str_radix(b, 16).ok())
            })
            .collect();
        (0..1_000_000u32)
            .filter(|n| {
                let mut guess = [b'0'; 6];
                let mut rest = *n;
                for d in guess.iter_mut().rev() {
                    *d = b'0' + u8::try_from(rest % 10).unwrap_or_default();
                    rest /= 10;
                }
                // The previous construction: all a reader can compute
                // (the key is not on the object).
                Sha256::digest(guess).get(..4) == Some(wanted.as_slice())
            })
            .collect()
    };
    let old_entry = format!(
        "sha256:{}",
        crate::konduktor::digest_key::hex(Sha256::digest(pin).get(..4).unwrap_or_default())
    );
    assert!(
        crack(&old_entry).contains(&493_817),
        "the attack works on the old entry"
    );
    let key = crate::konduktor::digest_key::test_key(7);
    let keyed = applied_digest(&key, secret, "PIN", pin);
    assert_eq!(crack(&keyed), Vec::<u32>::new());
}

#[test]
fn a_written_object_records_what_it_applied_and_a_preview_does_not() {
    let desired = DesiredSecret {
        basename: "my-env".into(),
        kind: SecretKind::Env,
        data: BTreeMap::from([("FOO".to_string(), SecretBytes::new(b"bar".to_vec()))]),
        origins: BTreeMap::new(),
    };
    let key = crate::konduktor::digest_key::test_key(7);
    let meta = WriteMeta {
        digest_key: Some(key.clone()),
        ..WriteMeta::default()
    };
    let written = desired.to_written_object("abba3a3e", &meta);
    let annotations = written.metadata.annotations.unwrap_or_default();
    let entry = applied_digest(&key, "my-env-abba3a3e", "FOO", b"bar");
    assert_eq!(
        annotations.get(ANNOTATION_APPLIED).map(String::as_str),
        Some(format!(r#"{{"FOO":"{entry}"}}"#).as_str())
    );
    // Without a key, no record.
    let unkeyed = desired.to_written_object("abba3a3e", &WriteMeta::default());
    assert!(
        !unkeyed
            .metadata
            .annotations
            .unwrap_or_default()
            .contains_key(ANNOTATION_APPLIED)
    );
    let preview = desired.to_object("abba3a3e", &meta);
    assert!(
        !preview
            .metadata
            .annotations
            .unwrap_or_default()
            .contains_key(ANNOTATION_APPLIED)
    );
}

#[test]
fn too_many_keys_to_record_leave_an_empty_record() {
    let data: BTreeMap<String, String> = (0..10_000)
        .map(|i| {
            let key = crate::konduktor::digest_key::test_key(7);
            (
                format!("{}{i}", "K".repeat(200)),
                applied_digest(&key, "s", "k", b"v"),
            )
        })
        .collect();
    assert_eq!(applied_annotation(&data), "");
    assert_eq!(parse_applied(""), None);
}

/// The metadata of a Konduktor secret (parent=konduktor), checked rather
/// than trusted to the LIST's selector: anything else is not one.
#[test]
fn only_konduktor_objects_give_identity_metadata() {
    let meta = |labels: &[(&str, &str)]| ObjectMeta {
        namespace: Some("ns".into()),
        labels: Some(
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
        annotations: Some(BTreeMap::from([(
            ANNOTATION_CREATED_BY.to_string(),
            "alice".to_string(),
        )])),
        ..ObjectMeta::default()
    };
    let got = SecretMetadata::from_konduktor_object_meta(meta(&[
        (LABEL_PARENT, PARENT_VALUE),
        (LABEL_OWNER, "abba3a3e"),
    ]));
    assert_eq!(got.and_then(|m| m.owner).as_deref(), Some("abba3a3e"));
    for labels in [
        &[(LABEL_OWNER, "abba3a3e")][..],
        &[(LABEL_PARENT, "someone-else"), (LABEL_OWNER, "abba3a3e")][..],
        &[][..],
    ] {
        assert_eq!(
            SecretMetadata::from_konduktor_object_meta(meta(labels)),
            None
        );
    }
}

#[test]
fn only_kinds_a_manifest_declares_are_the_users_the_rest_are_konduktors_own() {
    use KonduktorOwn::*;
    for kind in SecretKind::ALL {
        assert_eq!(
            KonduktorOwn::classify(Some(kind.as_str()), "x-abba3a3e"),
            None
        );
    }
    let cases: [(Option<&str>, &str, KonduktorOwn); 7] = [
        (Some("S3"), "awscredentials-root-1a2b", S3Credentials),
        (Some("GCS"), "gcpcredentials-root-1a2b", GcsCredentials),
        (None, "konduktor-ssh-keys-abba3a3e", SshKeys),
        (None, "hf-abba3a3e", NoKind),
        (Some("Default"), "hf-abba3a3e", OtherKind("Default".into())),
        (Some(""), "hf-abba3a3e", OtherKind(String::new())),
        (Some("s3"), "hf-abba3a3e", OtherKind("s3".into())),
    ];
    for (label, name, want) in cases {
        assert_eq!(KonduktorOwn::classify(label, name), Some(want), "{label:?}");
    }
    assert_eq!(S3Credentials.made_by(), Some("konduktor check s3"));
    assert_eq!(SshKeys.describe(), "SSH keys, made by `konduktor launch`");
    assert_eq!(NoKind.made_by(), None);
}

#[test]
fn the_recorded_objects_konduktor_keeps_for_itself_are_classified() {
    use k8s_openapi::api::core::v1::Secret;
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/konduktor-made");
    let read = |name: &str| {
        let text =
            std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let secret: Secret = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        LiveSecret::from_object(secret)
    };
    let aws = read("internal-awscredentials-root-1a2b.json");
    assert_eq!(aws.konduktor_own(), Some(KonduktorOwn::S3Credentials));
    let keys = read("internal-konduktor-ssh-keys-abba3a3e.json");
    assert_eq!(keys.konduktor_own(), Some(KonduktorOwn::SshKeys));
    // Every user secret Konduktor's CLI wrote is the user's.
    for name in [
        "my-default-directory",
        "my-default-file",
        "my-default-inline",
        "my-env",
        "my-ssh-2",
    ] {
        assert_eq!(
            read(&format!("{name}-abba3a3e.json")).konduktor_own(),
            None,
            "{name}"
        );
    }
    // Without an owner label it is nobody's: not Konduktor's own either.
    let mut nobodys = keys.clone();
    nobodys.labels.remove(LABEL_OWNER);
    assert_eq!(nobodys.konduktor_own(), None);
}

/// Attack F9: many keys of empty values pass the values' limit but not the
/// server (413): the count and the whole `data` as sent are checked too.
#[test]
fn size_limit_counts_keys_and_their_names() {
    let empty = |n: usize, width: usize| -> BTreeMap<String, SecretBytes> {
        (0..n)
            .map(|i| (format!("K{i:0width$}"), SecretBytes::new(Vec::new())))
            .collect()
    };
    assert!(validate_size("x", &empty(MAX_SECRET_KEYS, 1)).is_ok());
    assert!(matches!(
        validate_size("x", &empty(MAX_SECRET_KEYS + 1, 1)),
        Err(RuleError::TooManyKeys { count, .. }) if count == MAX_SECRET_KEYS + 1
    ));
    // Under the count, but names of 200 characters: 10,000 * 206 bytes.
    let long = empty(MAX_SECRET_KEYS, 199);
    assert!(matches!(
        validate_size("x", &long),
        Err(RuleError::EncodedTooLarge { total, .. }) if total > MAX_SECRET_DATA_ENCODED_BYTES
    ));
    // The encoded size is what JSON sends: `{"K0":"","K1":"YQ=="}`.
    let data = BTreeMap::from([
        ("K0".to_string(), SecretBytes::new(Vec::new())),
        ("K1".to_string(), SecretBytes::new(b"a".to_vec())),
    ]);
    let sent = serde_json::json!({"K0": "", "K1": "YQ=="}).to_string();
    assert!(encoded_data_size(&data) >= sent.len());
    let err = validate_size("many", &long)
        .err()
        .map(|e| (e.to_string(), e.help()));
    let (message, help) = err.unwrap_or_default();
    assert!(
        message.contains("`many`") && message.contains("1.5 MiB"),
        "{message}"
    );
    assert!(help.contains("split"), "{help}");
}
