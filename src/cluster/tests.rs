use std::path::Path;

use super::duration::MAX_REQUEST_TIMEOUT;
use super::errors::REDACTED;
use super::kubeconfig::{kubeconfig_text, parse_kubeconfig, resolve_relative_paths};
use super::text::base64;
use super::*;

#[test]
fn timeouts_parse_like_kubectl() {
    assert_eq!(parse_timeout("0"), Ok(None));
    assert_eq!(parse_timeout("5"), Ok(Some(Duration::from_secs(5))));
    assert_eq!(parse_timeout("30s"), Ok(Some(Duration::from_secs(30))));
    assert_eq!(parse_timeout("500ms"), Ok(Some(Duration::from_millis(500))));
    assert_eq!(parse_timeout("1m30s"), Ok(Some(Duration::from_secs(90))));
    assert_eq!(parse_timeout("0s"), Ok(None));
    for bad in ["", "abc", "5x", "s"] {
        assert!(parse_timeout(bad).is_err(), "{bad}");
    }
}

#[test]
fn humanized() {
    assert_eq!(humanize(Duration::from_millis(300)), "300ms");
    assert_eq!(humanize(Duration::from_secs(90)), "1m30s");
    assert_eq!(humanize(Duration::from_secs(3600)), "1h");
}

#[test]
fn namespaces() {
    assert!(validate_namespace("team-a").is_ok());
    for bad in ["", "Team", "a_b", "-a", &"a".repeat(64)] {
        assert!(validate_namespace(bad).is_err(), "{bad}");
    }
}

#[test]
fn timeouts_out_of_range_or_malformed_are_refused() {
    assert_eq!(parse_timeout("24h"), Ok(Some(MAX_REQUEST_TIMEOUT)));
    assert_eq!(parse_timeout("1.5s"), Ok(Some(Duration::from_millis(1500))));
    assert_eq!(parse_timeout("1h0.5m"), Ok(Some(Duration::from_secs(3630))));
    assert_eq!(parse_timeout("250us"), Ok(Some(Duration::from_micros(250))));
    assert_eq!(parse_timeout("+2s"), Ok(Some(Duration::from_secs(2))));
    assert_eq!(parse_timeout(".5s"), Ok(Some(Duration::from_millis(500))));
    for bad in [
        "99999999999999999999h",
        "99999999999999999999",
        "340282366920938463463374607431768211456",
        "86401",
        "24h1ns",
        "-1",
        "-0.5s",
        "NaN",
        "inf",
        "1e400s",
        "1.5",
        "1.5.3s",
        ".s",
        "+",
        "5 s",
        "1h-1m",
    ] {
        assert!(parse_timeout(bad).is_err(), "{bad}");
    }
    let message = parse_timeout("99999999999999999999h")
        .err()
        .unwrap_or_default();
    assert!(message.contains("at most 24h"), "{message}");
}

/// A small deterministic PRNG: the same cases on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap_or(1)).unwrap_or(0)
    }
}

/// Whatever the text, parse_timeout returns (no panic, no overflow), and a
/// duration it accepts is never above the cap.
#[test]
fn parse_timeout_never_panics_and_stays_under_the_cap() {
    const PIECES: &[&str] = &[
        "0",
        "1",
        "9",
        "99999999999999999999",
        "18446744073709551615",
        "3",
        ".",
        "..",
        "5.",
        ".25",
        "ns",
        "us",
        "\u{b5}s",
        "\u{3bc}s",
        "ms",
        "s",
        "m",
        "h",
        "d",
        "-",
        "+",
        "e",
        "E10",
        "NaN",
        "inf",
        " ",
        "\u{e9}",
        "\u{1F600}",
        "x",
        "0000000000000000000000000000001",
    ];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut accepted = 0;
    for _ in 0..20_000 {
        let mut text = String::new();
        for _ in 0..rng.below(7) {
            let piece = PIECES.get(rng.below(PIECES.len())).copied().unwrap_or("");
            text.push_str(piece);
        }
        // Runs of digits of any length, too.
        if rng.below(4) == 0 {
            let digits = rng.below(60);
            for _ in 0..digits {
                text.push(char::from(b'0' + u8::try_from(rng.below(10)).unwrap_or(0)));
            }
            text.push_str(["h", "s", "ms", "", "m"][rng.below(5)]);
        }
        match parse_timeout(&text) {
            Ok(Some(d)) => {
                accepted += 1;
                assert!(d <= MAX_REQUEST_TIMEOUT, "{text:?} gave {d:?}");
                assert!(!d.is_zero(), "{text:?}");
            }
            Ok(None) => {}
            Err(message) => assert!(!message.is_empty(), "{text:?}"),
        }
    }
    assert!(
        accepted > 100,
        "the generator should make some valid durations too"
    );
}

const CANARY: &str = "canary-kubeconfig-7f3a9c1e";

fn kubeconfig_with(user: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://example.com\nusers:\n- name: u\n  user:\n{user}contexts:\n- name: c\n  context: {{cluster: c, user: u}}\ncurrent-context: c\n"
    )
}

/// Broken kubeconfigs: a place and a sentence of ours, never their text.
#[test]
fn kubeconfig_errors_say_where_but_never_quote_the_file() {
    let c = CANARY;
    let cases: Vec<(String, &str, &str)> = vec![
        (
            kubeconfig_with(&format!("    token: {c}\n     bad: indent\n")),
            "not valid YAML at line 11 column",
            "indentation",
        ),
        (
            kubeconfig_with(&format!("    token: \"{c}\n")),
            "not valid YAML at line 10 column",
            "quote",
        ),
        (
            kubeconfig_with(&format!("    token: {c}\n    token: {c}2\n")),
            "not valid YAML at line 11 column 5",
            "twice",
        ),
        (
            kubeconfig_with(&format!("    token: {c}\n\tfoo: 1\n")),
            "not valid YAML at line",
            "tab",
        ),
        (
            format!("- {c}\n- b\n"),
            "not a valid kubeconfig at line 1 column 1",
            "mapping",
        ),
        (
            kubeconfig_with(&format!("    token: [{c}]\n")),
            "not a valid kubeconfig at line 10 column 12",
            "a string",
        ),
        (
            format!("apiVersion: v1\nclusters: {c}\n"),
            "not a valid kubeconfig at line 2 column 11",
            "a list",
        ),
        (
            format!("apiVersion: v1\nclusters:\n- cluster: {{server: {c}}}\n"),
            "not a valid kubeconfig at line",
            "name",
        ),
        (
            format!("apiVersion: v1\npreferences: {{colors: {c}}}\n"),
            "not a valid kubeconfig at line",
            "",
        ),
        (
            format!("apiVersion: v1\nusers: [{{name: {c}, user: {{token: {c}"),
            "not valid YAML at line",
            "",
        ),
    ];
    for (text, says, reason) in cases {
        let message = match parse_kubeconfig(&text) {
            Ok(_) => panic!("parsed:\n{text}"),
            Err(m) => m,
        };
        assert!(message.contains(says), "{message:?} lacks {says:?}\n{text}");
        assert!(
            message.contains(reason),
            "{message:?} lacks {reason:?}\n{text}"
        );
        assert!(!message.contains("canary"), "{message:?} quotes the file");
        assert!(!message.contains("token"), "{message:?} quotes the file");
        assert!(!message.contains('\n'), "{message:?}");
    }
    // Documents that cannot be merged are named as such.
    let two = "kind: Config\n---\nkind: Other\n";
    assert_eq!(
        parse_kubeconfig(two).err().as_deref(),
        Some("has YAML documents of different kinds, which cannot be merged")
    );
}

#[test]
fn kubeconfig_text_accepts_boms_and_refuses_bad_encodings() {
    assert_eq!(
        kubeconfig_text(b"\xEF\xBB\xBFa: 1".to_vec())
            .ok()
            .as_deref(),
        Some("a: 1")
    );
    assert_eq!(
        kubeconfig_text(b"\xFF\xFEa\0".to_vec()).ok().as_deref(),
        Some("a")
    );
    assert_eq!(
        kubeconfig_text(b"\xFE\xFF\0a".to_vec()).ok().as_deref(),
        Some("a")
    );
    // An odd number of UTF-16 bytes is an error, not a panic.
    assert!(kubeconfig_text(b"\xFF\xFEa".to_vec()).is_err());
    assert!(kubeconfig_text(b"\xFFa".to_vec()).is_err());
}

#[test]
fn relative_file_references_follow_the_kubeconfig() {
    let text = "users:\n- name: u\n  user:\n    tokenFile: t\n    client-key: /abs/k\n    exec: {command: bin/plugin}\n- name: v\n  user:\n    exec: {command: aws}\nclusters:\n- name: c\n  cluster: {server: https://x, certificate-authority: ca.crt}\n";
    let mut config = parse_kubeconfig(text).unwrap_or_else(|e| panic!("{e}"));
    resolve_relative_paths(&mut config, Path::new("/home/me/.kube"));
    let user = |i: usize| {
        config
            .auth_infos
            .get(i)
            .and_then(|u| u.auth_info.clone())
            .unwrap_or_default()
    };
    assert_eq!(user(0).token_file.as_deref(), Some("/home/me/.kube/t"));
    assert_eq!(user(0).client_key.as_deref(), Some("/abs/k"));
    assert_eq!(
        user(0).exec.and_then(|e| e.command).as_deref(),
        Some("/home/me/.kube/bin/plugin")
    );
    assert_eq!(user(1).exec.and_then(|e| e.command).as_deref(), Some("aws"));
    let ca = config
        .clusters
        .first()
        .and_then(|c| c.cluster.clone())
        .and_then(|c| c.certificate_authority);
    assert_eq!(ca.as_deref(), Some("/home/me/.kube/ca.crt"));
}

#[test]
fn sent_values_are_scrubbed_from_server_messages() {
    let value = b"hunter2-secret\n\"quoted\"";
    let sent = Sent::of_values([value.as_slice(), b"ab".as_slice(), b"".as_slice()]);
    let b64 = base64(value.to_vec());
    let short_b64 = base64(b"ab".to_vec());
    let json = r#"hunter2-secret\n\"quoted\""#;
    let message = format!(
        "denied: {{\"data\":{{\"K\":\"{b64}\",\"S\":\"{short_b64}\"}}}} raw {} json {json} ab stays",
        String::from_utf8_lossy(value)
    );
    let scrubbed = sent.scrub(&message);
    assert!(!scrubbed.contains("hunter2"), "{scrubbed}");
    assert!(!scrubbed.contains(&b64), "{scrubbed}");
    assert!(!scrubbed.contains(&short_b64), "{scrubbed}");
    assert!(
        scrubbed.contains("ab stays"),
        "short raw values are left: {scrubbed}"
    );
    assert_eq!(scrubbed.matches(REDACTED).count(), 4, "{scrubbed}");
    assert!(!format!("{sent:?}").contains("hunter2"));
    // Nothing sent, nothing changed.
    assert!(matches!(
        Sent::default().scrub("x"),
        std::borrow::Cow::Borrowed("x")
    ));
}

#[test]
fn url_credentials_are_hidden_in_messages() {
    use super::text::without_url_secrets as w;
    assert_eq!(
        w("https://u:pw@h:6443/x?t=1 down"),
        "https://***@h:6443/x?*** down"
    );
    assert_eq!(
        w("proxy http://tok@p:9/ and https://plain/"),
        "proxy http://***@p:9/ and https://plain/"
    );
    assert_eq!(w("no url here"), "no url here");
    assert_eq!(w("`https://a@b`"), "`https://***@b`");
}

/// Issue 12 point 4: a write pushed back waits what `Retry-After` asks, in
/// seconds, at most ten; without one, its own backoff.
#[test]
fn a_pushed_back_write_waits_what_retry_after_asks_within_a_bound() {
    let header = |value: &str| {
        let mut headers = http::HeaderMap::new();
        if let Ok(v) = http::HeaderValue::from_str(value) {
            headers.insert(http::header::RETRY_AFTER, v);
        }
        super::errors::retry_after(&headers)
    };
    assert_eq!(header("3"), Some(Duration::from_secs(3)));
    assert_eq!(header(" 1 "), Some(Duration::from_secs(1)));
    // An HTTP date or nonsense: not understood, our backoff applies.
    assert_eq!(header("Wed, 21 Oct 2026 07:28:00 GMT"), None);
    assert_eq!(header("-1"), None);
    assert_eq!(super::errors::retry_after(&http::HeaderMap::new()), None);

    let backoff = Duration::from_millis(400);
    assert_eq!(wait_before_retry(None, backoff), backoff);
    assert_eq!(
        wait_before_retry(Some(Duration::from_secs(2)), backoff),
        Duration::from_secs(2)
    );
    assert_eq!(
        wait_before_retry(Some(Duration::from_secs(3600)), backoff),
        MAX_RETRY_AFTER
    );
    assert_eq!(MAX_RETRY_AFTER, Duration::from_secs(10));
}

/// A server that hands back the page token it was given would have the
/// list read forever: the second time the same token comes, it is an
/// error that says so, after exactly two requests.
#[tokio::test]
async fn a_server_that_repeats_its_page_token_is_an_error_not_a_loop() {
    let cluster = offline("team-a");
    let asked = std::sync::atomic::AtomicUsize::new(0);
    let op = cluster.op("list", None);
    let got = cluster
        .list_paged(&op, ListParams::default(), |params| {
            let n = asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async move {
                // Ends on its own after 10 pages, so that a missing guard
                // fails this test instead of hanging it.
                let next = (n < 10).then(|| "same-token".to_string());
                assert_eq!(params.limit, Some(LIST_PAGE));
                Ok((vec![n], next))
            }
        })
        .await;
    let e = got
        .err()
        .unwrap_or_else(|| panic!("the repeated token was accepted"));
    assert!(
        e.message()
            .contains("the server gave the same page token twice"),
        "{}",
        e.message()
    );
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 2);
}

/// Pages whose tokens go round in a circle (A, B, A, ...), a server that
/// hands out a new token forever, and pages of more than was asked for:
/// each ends in an error, after a bounded number of requests and items.
#[tokio::test]
async fn a_list_that_never_ends_is_cut_off() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let cluster = offline("team-a");
    let op = cluster.op("list", None);
    /// A case: its name, the n-th page (items, next token), and how many
    /// requests it may take.
    type Case = (&'static str, fn(usize) -> (usize, Option<String>), usize);
    let cases: [Case; 3] = [
        ("a circle", |n| (1, Some(["A", "B"][n % 2].to_string())), 3),
        (
            "new tokens",
            |n| (0, Some(format!("t{n}"))),
            usize::try_from(MAX_LIST_PAGES).unwrap_or(0),
        ),
        (
            "big pages",
            |n| (10_000, Some(format!("t{n}"))),
            MAX_LIST_ITEMS / 10_000 + 1,
        ),
    ];
    for (case, page, most) in cases {
        let asked = AtomicUsize::new(0);
        let got = cluster
            .list_paged(&op, ListParams::default(), |_| {
                let n = asked.fetch_add(1, Ordering::SeqCst);
                let (items, next) = page(n);
                // Ends on its own, so that a missing bound fails the test
                // instead of hanging it.
                let next = next.filter(|_| n < 5 * most);
                async move { Ok((vec![0u8; items], next)) }
            })
            .await;
        assert!(got.is_err(), "{case}: read to the end");
        assert_eq!(asked.load(Ordering::SeqCst), most, "{case}: requests");
    }
}

/// Over plain http the user's entry is emptied before anything of it is
/// read, and what it held is named; over https it is left alone.
#[test]
fn credentials_are_withheld_from_plain_http_servers() {
    let user = "    token: t\n    username: u\n    password: p\n    client-certificate: /no/c\n    exec: {command: plugin}\n";
    let text = kubeconfig_with(user);
    for (server, withheld) in [
        ("https://example.com", None),
        ("HTTPS://example.com", None),
        (
            "http://example.com",
            Some("a token, basic auth, a client certificate, an exec credential plugin"),
        ),
        (
            "HTTP://example.com:8080/",
            Some("a token, basic auth, a client certificate, an exec credential plugin"),
        ),
    ] {
        let mut config = kubeconfig::parse_kubeconfig(&text.replace("https://example.com", server))
            .unwrap_or_else(|e| panic!("{e}"));
        let got = kubeconfig::withhold_credentials_over_http(&mut config, "c");
        assert_eq!(got.as_deref(), withheld, "{server}");
        let info = config.auth_infos[0].auth_info.clone().unwrap_or_default();
        assert_eq!(
            info.token.is_none() && info.exec.is_none() && info.client_certificate.is_none(),
            withheld.is_some(),
            "{server}"
        );
    }
    // Nothing to withhold: no message.
    let mut config = kubeconfig::parse_kubeconfig(
        &kubeconfig_with("    {}\n").replace("https://example.com", "http://example.com"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        kubeconfig::withhold_credentials_over_http(&mut config, "c"),
        None
    );
}

/// A cluster that is never contacted: for tests of its messages and of
/// what it does with what a page-reading closure hands it (here and in
/// `translate_tests.rs`).
pub(super) fn offline(namespace: &str) -> Cluster {
    let url = http::Uri::from_static("http://127.0.0.1:1");
    let client = kube::Client::try_from(kube::Config::new(url)).unwrap_or_else(|e| panic!("{e}"));
    Cluster {
        client,
        namespace: namespace.to_string(),
        context: "ctx".to_string(),
        server: "http://127.0.0.1:1".to_string(),
        timeout: None,
        user: UserRef::default(),
        via: None,
        tunnel: None,
        context_in_logs: false,
    }
}

/// The response body of a recorded exchange (tests/fixtures/apiserver),
/// as kube reads it.
pub(super) fn recorded(name: &str) -> kube::core::Status {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/apiserver")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_value(value["response"]["body"].clone())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// An answer over a cap is a final answer, told by its type whatever its
/// words: never read again; a server fault or a lost connection is.
#[test]
fn over_cap_answers_are_final_and_other_server_faults_are_retried() {
    let server = Error::new(ErrorKind::Server, "the server said 500");
    assert!(is_transient(&server));
    assert!(is_transient(&Error::new(
        ErrorKind::Unreachable,
        "connection reset"
    )));
    assert!(!is_transient(&Error::new(ErrorKind::Timeout, "no answer")));
    assert!(!is_transient(&server.clone().final_answer()));
    for cap in [
        errors::OverCap::Answer("an answer".into()),
        errors::OverCap::Page("a page".into()),
        errors::OverCap::TooMany("too many".into()),
    ] {
        let e = cap.into_kube();
        assert!(errors::OverCap::of(&e).is_some(), "{e}");
    }
    // The words alone make nothing final.
    let worded = Error::new(ErrorKind::Server, format!("proxy: {}", errors::OVER_CAP));
    assert!(is_transient(&worded));
}
