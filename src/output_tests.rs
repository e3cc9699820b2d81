use super::*;

#[test]
fn ages_like_kubectl() {
    assert_eq!(age(5), "5s");
    assert_eq!(age(119), "119s");
    assert_eq!(age(130), "2m10s");
    assert_eq!(age(600), "10m");
    assert_eq!(age(3 * 3600 + 5 * 60), "3h5m");
    assert_eq!(age(30 * 3600), "30h");
    assert_eq!(age(3 * 86400 + 4 * 3600), "3d4h");
    assert_eq!(age(400 * 86400), "400d");
    assert_eq!(age(-3), "0s");
}

#[test]
fn tables_align() {
    let t = table(
        &["NAME", "KIND"],
        &[
            vec!["a".into(), "env".into()],
            vec!["longer".into(), "default".into()],
        ],
    );
    assert_eq!(t, "NAME     KIND\na        env\nlonger   default\n");
}

/// `text` says `n` of a noun as English does: `1 secret`, `0 secrets`,
/// `2 secrets`, never `secret(s)`.
fn says_count(text: &str, n: usize, one: &str, many: &str) {
    assert!(!text.contains("(s)"), "{text}");
    if n == 1 {
        assert!(text.contains(&format!("1 {one}")), "{text}");
        assert!(!text.contains(&format!("1 {many}")), "{text}");
    } else {
        assert!(text.contains(&format!("{n} {many}")), "{text}");
    }
}

/// Every message with a count, generated over counts 0, 1, 2, ...: the
/// noun and the verb agree with the number.
#[test]
fn every_count_reads_as_english() {
    use crate::secrets::plan::view::{conflicts_line, deletions_text};
    for n in (0..=120).chain([999, 1000, 1001, 3000]) {
        says_count(&count(n, "secret", "secrets"), n, "secret", "secrets");
        says_count(
            &crate::konduktor::candidates::plural(n, "secret"),
            n,
            "secret",
            "secrets",
        );
        let conflicts = conflicts_line(n);
        says_count(&conflicts, n, "conflict", "conflicts");
        let agrees = if n == 1 {
            "until it is"
        } else {
            "until they are"
        };
        assert!(conflicts.contains(agrees), "{conflicts}");
        let others = crate::secrets::imperative::delete::others_help(n);
        says_count(&others, n, "other user", "other users");
        let agrees = if n == 1 { "user has" } else { "users have" };
        assert!(others.contains(agrees), "{others}");
        if n > 0 {
            let whole = deletions_text(n, 0);
            says_count(&whole, n, "secret", "secrets");
            assert!(!whole.contains("keys"), "{whole}");
            let keys = deletions_text(0, n);
            says_count(&keys, n, "secret", "secrets");
            assert!(keys.starts_with("keys of "), "{keys}");
            for m in [1, 2, 7] {
                let both = deletions_text(n, m);
                assert!(both.starts_with(&count(n, "secret", "secrets")), "{both}");
                assert!(
                    both.ends_with(&format!(" and keys of {}", count(m, "secret", "secrets"))),
                    "{both}"
                );
            }
        }
    }
}

#[test]
fn lists_join_as_english() {
    let list = |items: &[&str]| and_list(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(list(&[]), "");
    assert_eq!(list(&["a"]), "a");
    assert_eq!(list(&["a", "b"]), "a and b");
    assert_eq!(list(&["a", "b", "c"]), "a, b and c");
}

#[test]
fn an_os_error_reads_as_words_without_its_number() {
    let full = std::io::Error::from_raw_os_error(libc::ENOSPC);
    assert_eq!(io_reason(&full), "No space left on device");
    let closed = std::io::Error::from_raw_os_error(libc::EBADF);
    assert_eq!(io_reason(&closed), "Bad file descriptor");
    let plain = std::io::Error::other("no number here");
    assert_eq!(io_reason(&plain), "no number here");
}
