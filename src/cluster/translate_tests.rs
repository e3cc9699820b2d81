use super::*;
use crate::cluster::tests::recorded;

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
