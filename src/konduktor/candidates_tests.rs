use super::*;

const ME: &str = "abba3a3e";

fn at(seconds: i64) -> Option<jiff::Timestamp> {
    jiff::Timestamp::from_second(1_800_000_000 + seconds).ok()
}

fn meta(ns: &str, owner: &str, created_by: Option<&str>, seconds: i64) -> SecretMetadata {
    SecretMetadata {
        namespace: ns.into(),
        owner: Some(owner.into()),
        created_by: created_by.map(str::to_string),
        last_write: at(seconds),
    }
}

#[test]
fn hashes_written_by_the_user_are_counted_newest_first() {
    let secrets = [
        meta("ml", "0badf00d", Some("alice"), 10),
        meta("ml", "0badf00d", Some("alice"), 30),
        meta("dev", "0badf00d", Some("alice"), 5),
        meta("ml", "12345678", Some("alice"), 50),
        meta("ml", ME, Some("alice"), 60),
        // Not hers: another user, no annotation, no owner hash.
        meta("ml", "deadbeef", Some("bob"), 70),
        meta("ml", "cafecafe", None, 80),
        meta("ml", "NOTAHASH", Some("alice"), 90),
    ];
    let found = find(&secrets, "alice", ME);
    assert!(!found.shared);
    let rows: Vec<(&str, bool, usize, Option<jiff::Timestamp>)> = found
        .candidates
        .iter()
        .map(|c| (c.hash.as_str(), c.current, c.secrets, c.newest_write))
        .collect();
    assert_eq!(
        rows,
        [
            (ME, true, 1, at(60)),
            ("12345678", false, 1, at(50)),
            ("0badf00d", false, 3, at(30)),
        ]
    );
    assert_eq!(
        found.candidates[2].namespaces,
        BTreeMap::from([("dev".to_string(), 1), ("ml".to_string(), 2)])
    );
    let hint = found.hint().unwrap_or_default();
    assert!(
        hint.contains("12345678 (1 secret), 0badf00d (3 secrets)"),
        "{hint}"
    );
    assert!(hint.contains("identity adopt <hash>"), "{hint}");
    assert!(
        !hint.contains(ME),
        "the current hash is not suggested: {hint}"
    );
}

#[test]
fn one_other_hash_is_named_in_the_adopt_command() {
    let found = find(&[meta("ml", "0badf00d", Some("alice"), 1)], "alice", ME);
    let hint = found.hint().unwrap_or_default();
    assert!(
        hint.ends_with("kubectl konduktor identity adopt 0badf00d"),
        "{hint}"
    );
    assert_eq!(hint.lines().count(), 2, "{hint}");
}

#[test]
fn nothing_to_say_when_only_the_current_hash_or_nothing_is_found() {
    assert_eq!(find(&[], "alice", ME).hint(), None);
    assert_eq!(
        find(&[meta("ml", ME, Some("alice"), 1)], "alice", ME).hint(),
        None
    );
    // A server that named no user matches nothing, not every unannotated secret.
    let unnamed = SecretMetadata {
        created_by: Some(String::new()),
        ..meta("ml", "0badf00d", None, 1)
    };
    assert!(find(&[unnamed], "", ME).candidates.is_empty());
}

#[test]
fn more_than_a_few_hashes_under_one_user_is_a_shared_user_and_nothing_is_suggested() {
    let hashes = ["00000001", "00000002", "00000003", "00000004"];
    let few: Vec<SecretMetadata> = hashes[..MAX_OWNERS_OF_ONE_PERSON]
        .iter()
        .map(|h| meta("ml", h, Some("admin"), 1))
        .collect();
    assert!(!find(&few, "admin", ME).shared);
    let many: Vec<SecretMetadata> = hashes
        .iter()
        .map(|h| meta("ml", h, Some("admin"), 1))
        .collect();
    let found = find(&many, "admin", ME);
    assert!(found.shared);
    let hint = found.hint().unwrap_or_default();
    assert!(hint.contains("several people seem to share"), "{hint}");
    assert!(!hint.contains("adopt"), "{hint}");
    for h in hashes {
        assert!(!hint.contains(h), "no hash suggested: {hint}");
    }
}

#[test]
fn a_cluster_user_name_is_escaped_in_the_hint() {
    let user = "mallory\u{1b}[2J";
    let found = find(&[meta("ml", "0badf00d", Some(user), 1)], user, ME);
    let hint = found.hint().unwrap_or_default();
    assert!(!hint.contains('\u{1b}'), "{hint:?}");
}
