use super::*;
use crate::cluster::tests::recorded;

#[test]
fn each_recorded_failure_is_classed() {
    let cases = [
        ("create-quota-exceeded", FailureClass::Quota),
        ("create-in-missing-namespace", FailureClass::Gone),
        ("create-in-terminating-namespace", FailureClass::Gone),
        ("merge-patch-immutable", FailureClass::Invalid),
        ("forbidden-list", FailureClass::Permission),
        ("unauthorized-bad-token", FailureClass::Unauthorized),
        ("create-secret-already-exists", FailureClass::Conflict),
        ("merge-patch-stale-resourceversion", FailureClass::Conflict),
        ("delete-precondition-stale-rv", FailureClass::Conflict),
        ("get-secret-not-found", FailureClass::Conflict),
        ("create-too-large", FailureClass::Invalid),
        ("create-invalid-key", FailureClass::Invalid),
        ("list-bad-selector", FailureClass::Invalid),
    ];
    for (name, class) in cases {
        assert_eq!(refusal(&recorded(name)).class(), class, "{name}");
    }
}

#[test]
fn a_quota_refusal_is_told_from_rbac_by_its_message_and_read() {
    let status = recorded("create-quota-exceeded");
    assert_eq!(status.code, 403);
    assert_eq!(status.reason, recorded("forbidden-list").reason);
    let Refusal::Quota(q) = refusal(&status) else {
        panic!("not a quota refusal: {:?}", refusal(&status))
    };
    assert_eq!(q.quota, "q");
    assert_eq!(q.used, "count/secrets=9");
    assert_eq!(q.limited, "count/secrets=1");
    assert_eq!(q.requested, "count/secrets=1");
    assert_eq!(
        q.describe(),
        "count/secrets: 9 used of 1 allowed, 1 more requested"
    );
}

#[test]
fn the_namespace_of_a_gone_namespace_is_read_from_the_answer() {
    assert_eq!(
        refusal(&recorded("create-in-missing-namespace")),
        Refusal::NamespaceMissing {
            namespace: Some("does-not-exist".into())
        }
    );
    assert_eq!(
        refusal(&recorded("create-in-terminating-namespace")),
        Refusal::NamespaceTerminating {
            namespace: Some("fixtures2-terminating".into())
        }
    );
    assert_eq!(
        refusal(&recorded("merge-patch-immutable")),
        Refusal::Immutable
    );
}

#[test]
fn only_what_passes_is_worth_running_again() {
    for class in [
        FailureClass::TooLarge,
        FailureClass::Permission,
        FailureClass::Quota,
        FailureClass::Invalid,
        FailureClass::Gone,
        FailureClass::Unauthorized,
        FailureClass::Foreign,
    ] {
        assert!(!class.rerun_helps(), "{class:?}");
    }
    for class in [
        FailureClass::Conflict,
        FailureClass::Unreachable,
        FailureClass::Timeout,
        FailureClass::Server,
    ] {
        assert!(class.rerun_helps(), "{class:?}");
    }
}

/// Values to scrub: with and without `<>&`, quotes, backslashes, control
/// characters, non-ASCII text, U+2028/9, and many made up from those.
fn scrub_values() -> Vec<String> {
    let mut values: Vec<String> = [
        "CANARY<s3cr3t>&zz9",
        "p@ss\"w\\ord",
        "tab\there\nnl\r",
        "ctl\u{1}\u{8}\u{c}\u{1b}\u{7f}x",
        "uni-é日本\u{2028}\u{2029}🙂",
        "<>&<>&",
        "abcd",
        "four",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let pool: Vec<char> = "ab0Z<>&\"\\\n\t\u{1}\u{1f}é日🙂\u{2028}\u{2029}=+/-_ "
        .chars()
        .collect();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(seed >> 33).unwrap_or(0)
    };
    for _ in 0..300 {
        let len = 4 + next() % 40;
        values.push((0..len).map(|_| pool[next() % pool.len()]).collect());
    }
    values
}

/// `text` JSON-escaped: `<>&` and U+2028/9 as Go's json.Marshal does when
/// `html`, `\b` `\f` short when `short_bf`, every non-ASCII char escaped
/// when `ascii`, `\u` escapes in upper case when `upper`.
fn json_inner(text: &str, html: bool, short_bf: bool, ascii: bool, upper: bool) -> String {
    let esc = |u: u32| {
        if upper {
            format!("\\u{u:04X}")
        } else {
            format!("\\u{u:04x}")
        }
    };
    let mut out = String::new();
    for c in text.chars() {
        let u = u32::from(c);
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' if short_bf => out.push_str("\\b"),
            '\u{c}' if short_bf => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if html => out.push_str(&esc(u)),
            _ if u < 0x20 => out.push_str(&esc(u)),
            _ if ascii && !c.is_ascii() => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&esc(u32::from(*unit)));
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// Issue 8 (security test F3): a server may echo a value raw, JSON-escaped
/// as serde, Go (`\u003c`...), Python (ASCII only) or another encoder
/// writes it, quoted twice, as base64 (standard or url-safe, padded or
/// not, alone or inside the base64 of a longer text at any alignment) or
/// as hex: no form survives the scrub, and the words around it do.
#[test]
fn no_echoed_form_of_a_value_survives_the_scrub() {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let mut checked = 0usize;
    for value in scrub_values() {
        let sent = Sent::of_values([value.as_bytes()]);
        let mut forms = vec![value.clone()];
        for html in [false, true] {
            for short_bf in [false, true] {
                for ascii in [false, true] {
                    for upper in [false, true] {
                        let once = json_inner(&value, html, short_bf, ascii, upper);
                        forms.push(json_inner(&once, html, short_bf, ascii, upper));
                        forms.push(once);
                    }
                }
            }
        }
        let serde = serde_json::to_string(&value).unwrap_or_else(|e| panic!("{e}"));
        forms.push(serde.trim_matches('"').to_string());
        let twice = serde_json::to_string(&serde).unwrap_or_else(|e| panic!("{e}"));
        forms.push(twice.trim_matches('"').to_string());
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            forms.push(engine.encode(&value));
        }
        let hex: String = value.bytes().map(|b| format!("{b:02x}")).collect();
        forms.push(hex.to_uppercase());
        forms.push(hex);
        // Every char escaped, as JSON allows (`\u005f` for `_`).
        let mut units = [0u16; 2];
        let all: String = value
            .chars()
            .flat_map(|c| c.encode_utf16(&mut units).to_vec())
            .map(|u| format!("\\u{u:04x}"))
            .collect();
        forms.push(all);
        for form in &forms {
            let message = format!("admission webhook denied: data.K=\"{form}\" is invalid");
            let out = sent.scrub(&message);
            assert!(!out.contains(form.as_str()), "{value:?} as {form:?}: {out}");
            assert!(
                out.starts_with("admission webhook denied: data.K=\""),
                "{out}"
            );
            assert!(out.ends_with(" is invalid"), "{out}");
            checked += 1;
        }
        // A cut of its base64 (`[1:]`, `[..n-1]`): the quads inside, away
        // from both cuts, are blanked when they are long enough to mean it.
        let whole = STANDARD.encode(&value);
        let quads = value.len() / 3;
        if let Some(core) = whole
            .get(4..quads.saturating_sub(1) * 4)
            .filter(|c| c.len() >= 8)
        {
            for cut in [whole.get(1..), whole.get(..whole.len() - 1)]
                .into_iter()
                .flatten()
            {
                let message = format!("echo: {cut} end");
                let out = sent.scrub(&message);
                assert!(!out.contains(core), "{value:?} as {cut}: {out}");
                checked += 1;
            }
        }
        // Inside the base64 of a longer text: the quads that only the value
        // decides are blanked, whatever the bytes before and after.
        for prefix in ["", "x", "xy", "xyz"] {
            for suffix in ["", "s", "st", "stu"] {
                for engine in [&STANDARD, &URL_SAFE] {
                    let whole = engine.encode(format!("{prefix}{value}{suffix}"));
                    let head = engine.encode(format!("{prefix}{value}"));
                    let first = if prefix.len() % 3 == 0 {
                        prefix.len() / 3 * 4
                    } else {
                        prefix.len() / 3 * 4 + 4
                    };
                    let last = (prefix.len() + value.len()) / 3 * 4;
                    let Some(own) = head.get(first..last).filter(|m| !m.is_empty()) else {
                        continue;
                    };
                    let message = format!("object: {whole}");
                    let out = sent.scrub(&message);
                    assert!(!out.contains(own), "{value:?} in {whole}: {out}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 10_000, "{checked}");
}

/// A value too short to look for as text (`abc`) leaves the words of the
/// message alone; its base64, as sent, is still blanked.
#[test]
fn a_short_value_is_only_looked_for_as_sent() {
    let sent = Sent::of_values([b"abc".as_slice()]);
    assert_eq!(sent.scrub("abc 616263 YWJj"), "abc 616263 <redacted>");
}

/// An endless body, counting the bytes it hands out.
struct Endless {
    given: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

static CHUNK: [u8; 64 * 1024] = [b'x'; 64 * 1024];

impl http_body::Body for Endless {
    type Data = &'static [u8];
    type Error = std::convert::Infallible;
    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        self.given
            .fetch_add(CHUNK.len(), std::sync::atomic::Ordering::Relaxed);
        std::task::Poll::Ready(Some(Ok(http_body::Frame::data(&CHUNK[..]))))
    }
}

/// Issue 8 (security test F5): a failure's body is read up to the cap and
/// no further, however much the server sends.
#[tokio::test]
async fn a_failure_body_is_read_up_to_the_cap() {
    let given = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let body = Endless {
        given: given.clone(),
    };
    let (bytes, cut) = read_capped_body(body, MAX_ERROR_BODY_BYTES)
        .await
        .unwrap_or_else(|e| match e {});
    assert!(cut);
    assert_eq!(bytes.len(), MAX_ERROR_BODY_BYTES);
    let read = given.load(std::sync::atomic::Ordering::Relaxed);
    assert!(read <= MAX_ERROR_BODY_BYTES + CHUNK.len(), "{read}");

    let small = http_body_util::Full::new(&b"{\"kind\":\"Status\"}"[..]);
    let (bytes, cut) = read_capped_body(small, MAX_ERROR_BODY_BYTES)
        .await
        .unwrap_or_else(|e| match e {});
    assert!(!cut);
    assert_eq!(bytes, b"{\"kind\":\"Status\"}");
}
