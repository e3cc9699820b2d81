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
pub(crate) fn says_count(text: &str, n: usize, one: &str, many: &str) {
    assert!(!text.contains("(s)"), "{text}");
    if n == 1 {
        assert!(text.contains(&format!("1 {one}")), "{text}");
        assert!(!text.contains(&format!("1 {many}")), "{text}");
    } else {
        assert!(text.contains(&format!("{n} {many}")), "{text}");
    }
}

/// The counts every message with a count is generated over: 0, 1, 2, ...
/// and some large ones.
pub(crate) fn counts() -> impl Iterator<Item = usize> {
    (0..=120).chain([999, 1000, 1001, 3000])
}

/// Every count reads as English: the noun agrees with the number. Each
/// message with a count is checked so beside its module.
#[test]
fn every_count_reads_as_english() {
    for n in counts() {
        says_count(&count(n, "secret", "secrets"), n, "secret", "secrets");
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
