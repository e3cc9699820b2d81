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
    Cluster::offline(namespace)
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

#[test]
fn only_what_passes_is_worth_running_again() {
    for class in [
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
