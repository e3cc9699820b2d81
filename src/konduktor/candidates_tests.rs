use super::*;

const ME: &str = "abba3a3e";

fn at(seconds: i64) -> Option<jiff::Timestamp> {
    jiff::Timestamp::from_second(1_800_000_000 + seconds).ok()
}

/// This workstation's login in these tests.
const LOGIN: Option<&str> = Some("alice");
/// Alice's login on another workstation.
const ALICE_ELSEWHERE: &str = "alice-1111";

/// A secret written by `created_by` from `ALICE_ELSEWHERE`.
fn meta(ns: &str, owner: &str, created_by: Option<&str>, seconds: i64) -> SecretMetadata {
    written(ns, owner, created_by, Some(ALICE_ELSEWHERE), seconds)
}

fn written(
    ns: &str,
    owner: &str,
    created_by: Option<&str>,
    user_id: Option<&str>,
    seconds: i64,
) -> SecretMetadata {
    SecretMetadata {
        namespace: ns.into(),
        name: format!("s{seconds}-{owner}"),
        owner: Some(owner.into()),
        created_by: created_by.map(str::to_string),
        created_by_user_id: created_by.and(user_id).map(str::to_string),
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
    let found = find(&secrets, "alice", ME, LOGIN);
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
    let found = find(
        &[meta("ml", "0badf00d", Some("alice"), 1)],
        "alice",
        ME,
        LOGIN,
    );
    let hint = found.hint().unwrap_or_default();
    assert!(
        hint.ends_with("kubectl konduktor identity adopt 0badf00d"),
        "{hint}"
    );
    assert_eq!(hint.lines().count(), 2, "{hint}");
}

#[test]
fn nothing_to_say_when_only_the_current_hash_or_nothing_is_found() {
    assert_eq!(find(&[], "alice", ME, LOGIN).hint(), None);
    assert_eq!(
        find(&[meta("ml", ME, Some("alice"), 1)], "alice", ME, LOGIN).hint(),
        None
    );
    // A server that named no user matches nothing, not every unannotated secret.
    let unnamed = SecretMetadata {
        created_by: Some(String::new()),
        ..meta("ml", "0badf00d", None, 1)
    };
    assert!(find(&[unnamed], "", ME, LOGIN).candidates.is_empty());
}

#[test]
fn more_than_a_few_hashes_under_one_user_is_a_shared_user_and_nothing_is_suggested() {
    let hashes = ["00000001", "00000002", "00000003", "00000004"];
    let few: Vec<SecretMetadata> = hashes[..MAX_OWNERS_OF_ONE_PERSON]
        .iter()
        .map(|h| meta("ml", h, Some("admin"), 1))
        .collect();
    assert!(!find(&few, "admin", ME, LOGIN).shared);
    let many: Vec<SecretMetadata> = hashes
        .iter()
        .map(|h| written("ml", h, Some("admin"), None, 1))
        .collect();
    let found = find(&many, "admin", ME, LOGIN);
    assert!(found.shared);
    let hint = found.hint().unwrap_or_default();
    assert!(hint.contains("several people seem to share"), "{hint}");
    assert!(!hint.contains("identity adopt"), "{hint}");
    assert!(hint.contains("none suggested"), "{hint}");
    assert!(hint.contains("no workstation login recorded"), "{hint}");
}

/// Issue 19 point 5: an admin kubeconfig shared by alice and bob. Bob's
/// hash is never suggested to alice, though the same cluster user wrote
/// it; alice's own hash from another workstation is.
#[test]
fn a_hash_written_from_another_login_is_listed_but_never_suggested() {
    let bobs = [written(
        "ml",
        "0badf00d",
        Some("admin"),
        Some("bob-3f50"),
        5,
    )];
    let found = find(&bobs, "admin", ME, LOGIN);
    assert_eq!(found.suggested().count(), 0);
    let [bob] = found.candidates.as_slice() else {
        panic!("{found:?}")
    };
    assert_eq!(
        bob.not_suggested,
        Some(NotSuggested::OtherLogin("bob-3f50".into()))
    );
    let hint = found.hint().unwrap_or_default();
    assert!(!hint.contains("identity adopt"), "{hint}");
    assert!(
        hint.contains("0badf00d (1 secret: written from another login (bob-3f50))"),
        "what was found, and why it is not suggested: {hint}"
    );
    // With alice's other workstation beside it: hers alone is suggested.
    let mut both = bobs.to_vec();
    both.push(written(
        "ml",
        "12345678",
        Some("admin"),
        Some("alice-1111"),
        3,
    ));
    let found = find(&both, "admin", ME, LOGIN);
    assert!(found.shared, "two logins under one cluster user");
    let hint = found.hint().unwrap_or_default();
    assert!(
        hint.ends_with("kubectl konduktor identity adopt 12345678"),
        "{hint}"
    );
    assert!(!hint.contains("0badf00d"), "{hint}");
}

#[test]
fn a_hash_is_suggested_only_if_every_recorded_writer_is_me_from_my_login() {
    let cases: [(Vec<SecretMetadata>, Option<NotSuggested>); 5] = [
        (
            vec![written(
                "ml",
                "0badf00d",
                Some("admin"),
                Some("alice-1111"),
                1,
            )],
            None,
        ),
        // Bob merged into it (after adopting it): written from his login too.
        (
            vec![
                written("ml", "0badf00d", Some("admin"), Some("alice-1111"), 1),
                written("ml", "0badf00d", Some("admin"), Some("bob-3f50"), 2),
            ],
            Some(NotSuggested::OtherLogin("bob-3f50".into())),
        ),
        // Another cluster user wrote under it too.
        (
            vec![
                written("ml", "0badf00d", Some("admin"), Some("alice-1111"), 1),
                written("ml", "0badf00d", Some("carol"), Some("alice-2222"), 2),
            ],
            Some(NotSuggested::OtherClusterUser("carol".into())),
        ),
        // Written before logins were recorded.
        (
            vec![written("ml", "0badf00d", Some("admin"), None, 1)],
            Some(NotSuggested::NoLogin),
        ),
        // A login that only looks like mine: `alice-x-1234` is `alice-x`.
        (
            vec![written(
                "ml",
                "0badf00d",
                Some("admin"),
                Some("alice-x-1234"),
                1,
            )],
            Some(NotSuggested::OtherLogin("alice-x-1234".into())),
        ),
    ];
    for (secrets, expected) in cases {
        let found = find(&secrets, "admin", ME, LOGIN);
        let c = found
            .candidates
            .first()
            .unwrap_or_else(|| panic!("{found:?}"));
        assert_eq!(c.not_suggested, expected, "{secrets:?}");
        assert_eq!(c.suggested, expected.is_none());
    }
    // Without a login of my own, nothing can be mine.
    let found = find(
        &[written(
            "ml",
            "0badf00d",
            Some("admin"),
            Some("alice-1111"),
            1,
        )],
        "admin",
        ME,
        None,
    );
    assert_eq!(
        found.candidates[0].not_suggested,
        Some(NotSuggested::LoginUnknown)
    );
}

/// Generated writers: whatever the mix (unrecorded secrets, more distinct
/// writers than are kept to show, in any order), a hash is suggested
/// exactly when every secret under it was written by the cluster user
/// from the caller's login.
#[test]
fn generated_writer_mixes_never_suggest_another_persons_hash() {
    let mut rng = crate::test_rng::Rng(19);
    let users = [
        Some("admin"),
        Some("admin"),
        Some("admin"),
        Some("carol"),
        None,
    ];
    for round in 0..500 {
        // Some rounds write more distinct writers than are kept.
        let n = 1 + rng.index(if round % 2 == 0 {
            4
        } else {
            3 * MAX_WRITERS_KEPT
        });
        let secrets: Vec<SecretMetadata> = (0..n)
            .map(|i| {
                let user = users[rng.index(users.len())];
                let id = match rng.index(12) {
                    0 => None,
                    1 => Some("bob-3f50".to_string()),
                    2 => Some("alice".to_string()),
                    3 => Some("alice-x-1234".to_string()),
                    k => Some(format!("alice-{:04x}", k * 97 + rng.index(40))),
                };
                let hash = ["0badf00d", "12345678"][rng.index(2)];
                let seconds = i64::try_from(i).unwrap_or(0);
                written("ml", hash, user, id.as_deref(), seconds)
            })
            .collect();
        let found = find(&secrets, "admin", ME, LOGIN);
        for c in &found.candidates {
            let all_mine = secrets
                .iter()
                .filter(|s| s.owner.as_deref() == Some(c.hash.as_str()))
                .all(|s| {
                    s.created_by.as_deref() == Some("admin")
                        && s.created_by_user_id
                            .as_deref()
                            .is_some_and(|id| id.starts_with("alice-") && id.len() == 10)
                });
            assert_eq!(c.suggested, all_mine, "{} from {secrets:?}", c.hash);
            assert!(c.writers.len() <= MAX_WRITERS_KEPT);
        }
        if let Some(hint) = found.hint()
            && hint.contains("identity adopt")
        {
            assert!(found.suggested().next().is_some(), "{hint}");
        }
    }
}

/// Attack 1 F1: Bob's hash holds secrets Konduktor's CLI wrote (no
/// writer recorded); a co-tenant adds one under it as the caller's
/// cluster user and login. Nothing says the others are the caller's: not
/// suggested, and the hint says why.
#[test]
fn a_hash_with_secrets_that_record_no_writer_is_not_suggested() {
    let mut secrets: Vec<SecretMetadata> = (0..3)
        .map(|i| written("ml", "cccc3333", None, None, i))
        .collect();
    secrets.push(written(
        "ml",
        "cccc3333",
        Some("admin"),
        Some("alice-1234"),
        9,
    ));
    let found = find(&secrets, "admin", ME, LOGIN);
    let [c] = found.candidates.as_slice() else {
        panic!("{found:?}")
    };
    assert!(!c.suggested, "{c:?}");
    let why = c.not_suggested.as_ref().map(ToString::to_string);
    assert_eq!(
        why.as_deref(),
        Some("3 secrets with no record of who wrote them")
    );
    let hint = found.hint().unwrap_or_default();
    assert!(!hint.contains("identity adopt"), "{hint}");
    assert!(hint.contains("none suggested"), "{hint}");
    assert!(
        hint.contains("cccc3333 (1 secret: 3 secrets with no record of who wrote them)"),
        "{hint}"
    );
    // Wherever the unrecorded one sits in the list, and however few.
    for at in 0..secrets.len() {
        let mut one = vec![written("ml", "cccc3333", Some("admin"), Some("alice-1234"), 1); 3];
        one.insert(at, written("ml", "cccc3333", None, None, 2));
        let found = find(&one, "admin", ME, LOGIN);
        assert_eq!(found.suggested().count(), 0, "{one:?}");
        assert_eq!(found.candidates[0].unrecorded, 1);
    }
}

/// Attack 1 F2: more distinct writers than are kept to show hide one from
/// another login or cluster user. The cap bounds what is shown; every
/// secret counts in the decision.
#[test]
fn the_writer_cap_limits_what_is_shown_not_what_is_decided() {
    let mine: Vec<SecretMetadata> = (0..MAX_WRITERS_KEPT)
        .map(|i| {
            let id = format!("alice-{i:04x}");
            let seconds = i64::try_from(i).unwrap_or(0);
            written("ml", "dddd4444", Some("admin"), Some(&id), seconds)
        })
        .collect();
    let control = find(&mine, "admin", ME, LOGIN);
    assert_eq!(control.suggested().count(), 1, "all mine: {control:?}");
    assert!(!control.candidates[0].writers_cut);
    let intruders = [
        (
            written("ml", "dddd4444", Some("admin"), Some("bob-9999"), 99),
            NotSuggested::OtherLogin("bob-9999".into()),
        ),
        (
            written("ml", "dddd4444", Some("zed"), Some("alice-9999"), 99),
            NotSuggested::OtherClusterUser("zed".into()),
        ),
        (
            written("ml", "dddd4444", Some("admin"), None, 99),
            NotSuggested::NoLogin,
        ),
    ];
    for (intruder, why) in intruders {
        // First, last and in between: the kept sample fills up either way.
        for at in [0, MAX_WRITERS_KEPT / 2, MAX_WRITERS_KEPT] {
            let mut secrets = mine.clone();
            secrets.insert(at, intruder.clone());
            let found = find(&secrets, "admin", ME, LOGIN);
            let [c] = found.candidates.as_slice() else {
                panic!("{found:?}")
            };
            assert!(!c.suggested, "{intruder:?} at {at}");
            assert_eq!(c.not_suggested.as_ref(), Some(&why), "{intruder:?} at {at}");
            assert_eq!(c.writers.len(), MAX_WRITERS_KEPT);
            assert!(c.writers_cut);
            let hint = found.hint().unwrap_or_default();
            assert!(!hint.contains("identity adopt"), "{hint}");
        }
    }
}

#[test]
fn a_cluster_user_name_is_escaped_in_the_hint() {
    let user = "mallory\u{1b}[2J";
    let found = find(&[meta("ml", "0badf00d", Some(user), 1)], user, ME, LOGIN);
    let hint = found.hint().unwrap_or_default();
    assert!(!hint.contains('\u{1b}'), "{hint:?}");
}

#[test]
fn the_plural_agrees_with_every_count() {
    use crate::output::tests::{counts, says_count};
    for n in counts() {
        says_count(&plural(n, "secret"), n, "secret", "secrets");
    }
}
