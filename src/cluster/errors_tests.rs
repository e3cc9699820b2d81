use super::*;

/// The response body of a recorded exchange (tests/fixtures/apiserver),
/// as kube reads it.
fn recorded(name: &str) -> kube::core::Status {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/apiserver")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_value(value["response"]["body"].clone())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn cluster(namespace: &str) -> Cluster {
    crate::cluster::tests::offline(namespace)
}

fn op(verb: &'static str, name: &str, namespace: &str) -> Operation {
    Operation {
        verb,
        resource: "secrets",
        name: Some(name.to_string()),
        namespace: Some(namespace.to_string()),
    }
}

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

/// F9: a 413 is the object's size, not a passing fault of the server:
/// its own class, and running again does not help.
#[tokio::test]
async fn a_request_too_large_is_its_own_class_and_not_worth_running_again() {
    let status = kube::core::Status {
        code: 413,
        reason: "RequestEntityTooLarge".into(),
        message: "Request entity too large: limit is 3145728".into(),
        ..kube::core::Status::default()
    };
    assert_eq!(refusal(&status), Refusal::TooLarge);
    assert_eq!(refusal(&status).class(), FailureClass::TooLarge);
    assert!(!FailureClass::TooLarge.rerun_helps());
    let e = cluster("ns").status_error(&op("create", "big", "ns"), &status);
    assert_eq!(FailureClass::of(&e), FailureClass::TooLarge);
    assert!(
        e.message().contains("larger than it accepts"),
        "{}",
        e.message()
    );
    let help = e.hint().unwrap_or_default();
    assert!(
        help.contains("will not help") && help.contains("smaller"),
        "{help}"
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

/// The message and help follow the class: a quota names itself, what is
/// used and the limit; a missing namespace says so (not "changed since");
/// none of them asks for a Role or to run again.
#[tokio::test]
async fn message_and_help_follow_the_class() {
    let cases = [
        (
            "create-quota-exceeded",
            "fixtures2",
            "create",
            "over-abba3a3e",
            ErrorKind::Quota,
            vec![
                "ResourceQuota \"q\"",
                "count/secrets: 9 used of 1 allowed",
                "namespace \"fixtures2\"",
            ],
        ),
        (
            "create-in-missing-namespace",
            "does-not-exist",
            "create",
            "x",
            ErrorKind::Gone,
            vec!["namespace \"does-not-exist\" does not exist"],
        ),
        (
            "create-in-terminating-namespace",
            "fixtures2-terminating",
            "create",
            "t-abba3a3e",
            ErrorKind::Gone,
            vec!["namespace \"fixtures2-terminating\" is being deleted"],
        ),
        (
            "merge-patch-immutable",
            "fixtures2",
            "patch",
            "frozen-abba3a3e",
            ErrorKind::Invalid,
            vec!["secret \"frozen-abba3a3e\" is immutable"],
        ),
    ];
    for (name, ns, verb, object, kind, wants) in cases {
        let c = cluster(ns);
        let e = c.status_error(&op(verb, object, ns), &recorded(name));
        assert_eq!(e.kind, kind, "{name}: {e}");
        for want in wants {
            assert!(e.message().contains(want), "{name}: {e}");
        }
        let help = e.hint().unwrap_or_default();
        assert!(help.contains("will not help"), "{name}: {help}");
        assert!(!help.contains("Role"), "{name}: {help}");
        assert!(!e.message().contains("changed since"), "{name}: {e}");
    }
    // RBAC's 403 still asks for a Role.
    let c = cluster("fixtures2");
    let e = c.status_error(&op("list", "x", "fixtures2"), &recorded("forbidden-list"));
    assert_eq!(e.kind, ErrorKind::Forbidden);
    assert!(e.hint().unwrap_or_default().contains("Role"), "{e}");
}

/// A quota refusal whose message names no quota still says which resource
/// is used up, and its help names no empty quota.
#[tokio::test]
async fn a_quota_refusal_without_a_name_is_still_a_quota() {
    let mut status = recorded("create-quota-exceeded");
    status.message = status
        .message
        .replacen("exceeded quota: q,", "exceeded quota: ,", 1);
    let c = cluster("fixtures2");
    let e = c.status_error(&op("create", "x", "fixtures2"), &status);
    assert_eq!(e.kind, ErrorKind::Quota, "{e}");
    assert!(e.message().contains("a ResourceQuota of namespace"), "{e}");
    assert!(
        e.message().contains("count/secrets: 9 used of 1 allowed"),
        "{e}"
    );
    let help = e.hint().unwrap_or_default();
    assert!(
        help.contains("`kubectl describe resourcequota -n fixtures2`"),
        "{help}"
    );
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

/// Issue 8 (security test F6): each text from the server is cut to
/// 1,000 chars, never inside a char, saying how many bytes were left out.
#[tokio::test]
async fn server_texts_are_bounded() {
    let long = "é".repeat(3_000);
    let cut = bounded(&long);
    assert_eq!(cut, format!("{}… (4000 more bytes)", "é".repeat(1_000)));
    assert_eq!(bounded("short"), "short");
    assert_eq!(bounded(&"x".repeat(1_000)), "x".repeat(1_000));

    let c = cluster("ns");
    let huge = "q".repeat(5 << 20);
    let quota = kube::core::Status::failure(
        &format!("exceeded quota: {huge}, requested: count/secrets=1, used: count/secrets={huge}, limited: count/secrets=1"),
        "Forbidden",
    )
    .with_code(403);
    let e = c.status_error(&op("create", "x", "ns"), &quota);
    assert_eq!(e.kind, ErrorKind::Quota, "{e}");
    let help = e.hint().unwrap_or_default();
    assert!(
        e.message().len() + help.len() < 16 * 1024,
        "{} + {}",
        e.message().len(),
        help.len()
    );
    assert!(e.message().contains("more bytes)"), "{e}");

    let mut invalid = kube::core::Status::failure(&huge, &huge).with_code(422);
    invalid.details = Some(kube::core::response::StatusDetails {
        name: huge.clone(),
        causes: vec![kube::core::response::StatusCause {
            reason: huge.clone(),
            message: huge.clone(),
            field: huge.clone(),
        }],
        group: String::new(),
        kind: "secrets".to_string(),
        uid: String::new(),
        retry_after_seconds: 0,
    });
    for status in [
        invalid,
        kube::core::Status::failure(&huge, "Forbidden").with_code(403),
    ] {
        let e = c.status_error(&op("create", "x", "ns"), &status);
        let help = e.hint().unwrap_or_default();
        assert!(
            e.message().len() + help.len() < 16 * 1024,
            "{} + {}",
            e.message().len(),
            help.len()
        );
    }
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
