//! The test API server answers as the real one did: every recorded exchange
//! in tests/fixtures/apiserver (kube-apiserver v1.36.2) is replayed against
//! it and the status code, reason, message and details compared. UIDs and
//! resourceVersions are the server's own, so the fixture's are mapped to ours.

use std::io::{Read, Write};

use serde_json::{Value, json};

use crate::support::{ApiServer, fixture_json};

struct Reply {
    code: u16,
    body: Value,
}

fn send(
    server: &ApiServer,
    token: Option<&str>,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    accept: Option<&str>,
    body: &Value,
) -> Reply {
    let addr = server.plain_url().trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap_or_else(|e| panic!("{e}"));
    let payload = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        payload.len()
    );
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    if let Some(accept) = accept {
        head.push_str(&format!("Accept: {accept}\r\n"));
    }
    stream
        .write_all(format!("{head}\r\n{payload}").as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("bad response: {text}"));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Reply {
        code,
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
}

/// Replay fixture `name`, with `map` applied to its request and expected
/// response text (fixture value -> ours).
fn replay(server: &ApiServer, name: &str, map: &[(&str, &str)]) -> (Reply, Value) {
    let fx = fixture_json(&format!("apiserver/{name}.json"));
    let sub = |v: &Value| {
        let mut text = v.to_string();
        for (from, to) in map {
            text = text.replace(from, to);
        }
        serde_json::from_str::<Value>(&text).unwrap_or(Value::Null)
    };
    let mut req = sub(&fx["request"]);
    // The recording abbreviates the 1 MiB body as `<base64 of N zero bytes>`.
    if let Some(data) = req["body"]
        .as_object_mut()
        .and_then(|b| b.get_mut("data"))
        .and_then(Value::as_object_mut)
    {
        for value in data.values_mut() {
            let n = value
                .as_str()
                .and_then(|s| s.strip_prefix("<base64 of "))
                .and_then(|s| s.strip_suffix(" zero bytes>"))
                .and_then(|n| n.parse::<usize>().ok());
            if let Some(n) = n {
                *value = json!(base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    vec![0u8; n]
                ));
            }
        }
    }
    let token = if name == "unauthorized-bad-token" {
        Some("bad-token")
    } else {
        Some(crate::support::apiserver::ALICE_TOKEN)
    };
    let reply = send(
        server,
        token,
        req["method"].as_str().unwrap_or_default(),
        req["path"].as_str().unwrap_or_default(),
        req["contentType"].as_str(),
        req["accept"].as_str(),
        &req["body"],
    );
    let expected = sub(&fx["response"]);
    assert_eq!(
        reply.code as u64,
        expected["status"].as_u64().unwrap_or(0),
        "{name}: status code; body {}",
        reply.body
    );
    (reply, expected["body"].clone())
}

/// For failures the whole `Status` body must match.
pub(crate) fn replay_status(server: &ApiServer, name: &str, map: &[(&str, &str)]) {
    let (reply, expected) = replay(server, name, map);
    assert_eq!(reply.body, expected, "{name}");
}

/// `got` and the recorded `want` agree on each of `fields`.
fn assert_same_fields(what: &str, got: &Value, want: &Value, fields: &[&str]) {
    for field in fields {
        assert_eq!(got[field], want[field], "{what} {field}");
    }
}

fn meta(v: &Value, field: &str) -> String {
    v["metadata"][field]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn replays_every_recorded_exchange() {
    let server = ApiServer::start();
    server.create_namespace("fixtures");
    let fx_uid = "b9162b8b-f71e-48bb-9411-754ab7f37dfa";

    let (created, expected) = replay(&server, "create-secret", &[]);
    assert_same_fields("create-secret", &created.body, &expected, &["data", "type"]);
    assert_eq!(
        created.body["metadata"]["labels"],
        expected["metadata"]["labels"]
    );
    assert_eq!(created.body["metadata"]["namespace"], "fixtures");
    let uid = meta(&created.body, "uid");
    let rv0 = meta(&created.body, "resourceVersion");
    assert!(!uid.is_empty() && !rv0.is_empty());
    assert!(created.body["metadata"]["creationTimestamp"].is_string());

    replay_status(&server, "create-secret-already-exists", &[]);
    let (got, expected) = replay(&server, "get-secret", &[]);
    assert_eq!(got.body["data"], expected["data"]);
    replay_status(&server, "get-secret-not-found", &[]);
    for list in ["list-by-owner-label", "list-by-set-selector"] {
        let (got, expected) = replay(&server, list, &[]);
        assert_eq!(got.body["kind"], "SecretList");
        let names = |v: &Value| {
            v["items"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|i| meta(i, "name"))
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&got.body), names(&expected), "{list}");
        assert!(
            got.body["items"][0].get("kind").is_none(),
            "list items carry no kind"
        );
    }
    replay_status(&server, "list-bad-selector", &[]);
    let (got, _) = replay(&server, "list-namespace-missing", &[]);
    assert_eq!(got.body["items"], json!([]));
    replay_status(&server, "create-in-missing-namespace", &[]);
    for invalid in [
        "create-invalid-name",
        "create-invalid-key",
        "create-invalid-label-value",
    ] {
        replay_status(&server, invalid, &[]);
    }
    replay_status(&server, "create-too-large", &[]);
    let (dry, _) = replay(&server, "create-dry-run", &[]);
    assert_eq!(dry.body["metadata"]["name"], "dry");
    assert!(
        server.secret("fixtures", "dry").is_none(),
        "dry run stores nothing"
    );

    // Conditional merge patch: the recorded rv 10533 is our first rv.
    let (patched, _) = replay(&server, "merge-patch-add-key", &[("10533", &rv0)]);
    assert_eq!(patched.body["data"]["OTHER"], "bzE=");
    let rv1 = meta(&patched.body, "resourceVersion");
    assert_ne!(rv1, rv0);
    replay_status(
        &server,
        "merge-patch-stale-resourceversion",
        &[("10533", &rv0)],
    );
    let (removed, _) = replay(&server, "merge-patch-remove-key", &[]);
    assert!(removed.body["data"].get("OTHER").is_none());
    let (smp, _) = replay(&server, "strategic-merge-patch", &[]);
    assert_eq!(smp.body["data"]["SMP"], "cw==");
    let current = meta(&smp.body, "resourceVersion");

    replay_status(
        &server,
        "put-stale-resourceversion",
        &[("10533", &rv0), (fx_uid, &uid)],
    );
    replay_status(&server, "json-patch-test-fails", &[]);
    replay_status(&server, "delete-precondition-wrong-uid", &[(fx_uid, &uid)]);
    replay_status(
        &server,
        "delete-precondition-stale-rv",
        &[(fx_uid, &uid), ("10533", &rv0), ("10536", &current)],
    );
    replay_status(
        &server,
        "delete-with-preconditions",
        &[(fx_uid, &uid), ("10536", &current)],
    );
    replay_status(&server, "delete-not-found", &[]);

    // The labels and annotation the recorded exchanges below act on.
    server.create_namespace("fixtures2");
    server.put_secret(
        "fixtures2",
        json!({"metadata": {"name": "ann-abba3a3e", "labels": {
            "parent": "konduktor", "trainy.ai/secret-basename": "ann",
            "trainy.ai/secret-kind": "env", "trainy.ai/secret-owner": "abba3a3e"}},
            "type": "Opaque", "data": {"A": "MQ=="}}),
    );
    let (annotated, expected) = replay(&server, "merge-patch-add-annotation", &[]);
    assert_same_fields(
        "merge-patch-add-annotation",
        &annotated.body,
        &expected,
        &["data", "type"],
    );
    assert_eq!(
        annotated.body["metadata"]["annotations"],
        expected["metadata"]["annotations"]
    );
    // Metadata only: items of kind PartialObjectMetadata, without data.
    let (listed, expected) = replay(&server, "list-metadata-only", &[("&limit=2", "")]);
    let kinds = ["kind", "apiVersion"];
    assert_same_fields("list-metadata-only", &listed.body, &expected, &kinds);
    let item = &listed.body["items"][0];
    assert_same_fields(
        "list-metadata-only item",
        item,
        &expected["items"][0],
        &kinds,
    );
    assert!(
        item.get("data").is_none() && item.get("type").is_none(),
        "{item}"
    );
    assert_eq!(
        item["metadata"]["annotations"],
        expected["items"][0]["metadata"]["annotations"]
    );

    replay_status(&server, "unauthorized-bad-token", &[]);
    server.deny("alice", "list");
    replay_status(&server, "forbidden-list", &[]);

    let (review, expected) = replay(&server, "selfsubjectreview", &[]);
    assert_eq!(review.body["kind"], expected["kind"]);
    assert_eq!(review.body["apiVersion"], expected["apiVersion"]);
    assert_eq!(review.body["status"]["userInfo"]["username"], "alice");

    // Access reviews answer from the same deny rules: alice may create
    // secrets in fixtures2, and once RBAC refuses her delete, the review
    // says so too.
    let (allowed, expected) = replay(&server, "selfsubjectaccessreview-allowed", &[]);
    server.deny("alice", "delete");
    let (denied, expected_denied) = replay(&server, "selfsubjectaccessreview-denied", &[]);
    for (name, got, want) in [
        ("allowed", &allowed.body, &expected),
        ("denied", &denied.body, &expected_denied),
    ] {
        assert_same_fields(
            &format!("selfsubjectaccessreview-{name}"),
            got,
            want,
            &["kind", "apiVersion", "spec", "status"],
        );
    }
}

/// RBAC by `resourceNames` (a Role that grants patch and delete on two
/// Secret names only, get, list and create on all): named access reviews
/// and the rules review answer as the real server did.
#[test]
fn replays_reviews_of_a_role_limited_to_names() {
    let server = ApiServer::start();
    server.create_namespace("fixtures-rbac-names");
    for verb in ["watch", "update", "deletecollection"] {
        server.deny("alice", verb);
    }
    for verb in ["patch", "delete"] {
        server.allow_only_names("alice", verb, &["mine-abba3a3e", "other-abba3a3e"]);
    }
    for (name, allowed) in [
        ("selfsubjectaccessreview-named-allowed", true),
        ("selfsubjectaccessreview-named-denied", false),
        (
            "selfsubjectaccessreview-nameless-denied-by-resourcenames",
            false,
        ),
    ] {
        let (got, expected) = replay(&server, name, &[]);
        assert_eq!(got.body["spec"], expected["spec"], "{name} spec");
        assert_eq!(got.body["status"]["allowed"], expected["status"]["allowed"]);
        assert_eq!(got.body["status"]["allowed"], allowed, "{name}");
    }
    let (got, expected) = replay(&server, "selfsubjectrulesreview-resourcenames", &[]);
    assert_same_fields(
        "rules review",
        &got.body,
        &expected,
        &["kind", "apiVersion", "spec", "status"],
    );
    replay_status(&server, "selfsubjectrulesreview-no-namespace", &[]);
}

/// `limit`/`continue` as the real server pages a list: the first page, the
/// page its token leads to, and a token it cannot read (400).
#[test]
fn replays_paginated_lists() {
    let server = ApiServer::start();
    server.create_namespace("fixtures2");
    let first = fixture_json("apiserver/list-paginated-first.json");
    let next = fixture_json("apiserver/list-paginated-next.json");
    // The recorded namespace held eight secrets: the four the two pages
    // show, and four after them in name order.
    let shown = [&first, &next].into_iter().flat_map(|fx| {
        fx["response"]["body"]["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    });
    for item in shown {
        server.put_secret("fixtures2", item);
    }
    for name in ["q1", "q2", "q3", "q4"] {
        server.put_secret(
            "fixtures2",
            json!({"metadata": {"name": name}, "type": "Opaque", "data": {}}),
        );
    }
    let names = |v: &Value| {
        v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| meta(i, "name"))
            .collect::<Vec<_>>()
    };
    for (name, fx) in [
        ("list-paginated-first", &first),
        ("list-paginated-next", &next),
    ] {
        let (got, expected) = replay(&server, name, &[]);
        assert_eq!(names(&got.body), names(&expected), "{name}");
        assert_eq!(
            got.body["metadata"]["remainingItemCount"], expected["metadata"]["remainingItemCount"],
            "{name}"
        );
        assert!(
            got.body["metadata"]["continue"].is_string(),
            "{name}: {}",
            got.body
        );
        assert_eq!(fx["response"]["body"]["kind"], got.body["kind"]);
    }
    // The token a page gives leads to the next page; the last page has none.
    let (page, _) = replay(&server, "list-paginated-next", &[]);
    let token = page.body["metadata"]["continue"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let reply = send(
        &server,
        Some(crate::support::apiserver::ALICE_TOKEN),
        "GET",
        &format!("/api/v1/namespaces/fixtures2/secrets?limit=4&continue={token}"),
        None,
        None,
        &Value::Null,
    );
    assert_eq!(names(&reply.body), ["q1", "q2", "q3", "q4"]);
    assert!(
        reply.body["metadata"].get("continue").is_none(),
        "{}",
        reply.body
    );
    assert!(reply.body["metadata"].get("remainingItemCount").is_none());
    replay_status(&server, "list-paginated-bad-continue", &[]);
}

/// Finalizers as the real server keeps them (fixtures delete-with-finalizer
/// to get-after-finalizer-removed): a held DELETE answers with the object,
/// marked for deletion; it is still read, listed and written; a create of
/// its name is 409; removing the finalizer makes it go. And a Secret's type
/// cannot change, nor a TLS Secret lose a key it must hold.
#[test]
fn replays_finalizer_and_type_exchanges() {
    let server = ApiServer::start();
    server.create_namespace("fixtures2");
    let fx = fixture_json("apiserver/get-terminating.json");
    let mut obj = fx["response"]["body"].clone();
    if let Some(m) = obj["metadata"].as_object_mut() {
        m.remove("deletionTimestamp");
        m.remove("deletionGracePeriodSeconds");
        m.remove("finalizers");
    }
    let fx_uid = meta(&obj, "uid");
    let stored = server.put_secret("fixtures2", obj);
    let uid = meta(&stored, "uid");
    server.add_finalizer("fixtures2", "held-abba3a3e", "example.com/hold");
    let map = [(fx_uid.as_str(), uid.as_str())];
    let (deleted, expected) = replay(&server, "delete-with-finalizer", &map);
    for body in [&deleted.body, &expected] {
        assert!(body["metadata"]["deletionTimestamp"].is_string(), "{body}");
    }
    assert_eq!(
        deleted.body["metadata"]["finalizers"],
        expected["metadata"]["finalizers"]
    );
    assert_eq!(
        deleted.body["metadata"]["deletionGracePeriodSeconds"],
        expected["metadata"]["deletionGracePeriodSeconds"]
    );
    assert_eq!(deleted.body["kind"], expected["kind"]);
    let (got, expected) = replay(&server, "get-terminating", &map);
    assert_eq!(
        got.body["metadata"]["finalizers"],
        expected["metadata"]["finalizers"]
    );
    assert!(got.body["metadata"]["deletionTimestamp"].is_string());
    let (listed, expected) = replay(&server, "list-includes-terminating", &map);
    assert_eq!(
        listed.body["items"][0]["metadata"]["finalizers"],
        expected["items"][0]["metadata"]["finalizers"]
    );
    assert!(listed.body["items"][0]["metadata"]["deletionTimestamp"].is_string());
    let (patched, expected) = replay(&server, "merge-patch-terminating", &map);
    assert_eq!(patched.body["data"], expected["data"]);
    assert!(patched.body["metadata"]["deletionTimestamp"].is_string());
    replay_status(&server, "create-while-terminating-same-name", &map);
    let (released, expected) = replay(&server, "remove-finalizer", &map);
    assert_eq!(released.body["data"], expected["data"]);
    assert!(released.body["metadata"].get("finalizers").is_none());
    replay_status(&server, "get-after-finalizer-removed", &map);

    server.put_secret(
        "fixtures2",
        json!({"metadata": {"name": "cert-abba3a3e", "labels": {
            "parent": "konduktor", "trainy.ai/secret-owner": "abba3a3e"}},
            "type": "kubernetes.io/tls", "data": {"tls.crt": "Yw==", "tls.key": "aw=="}}),
    );
    replay_status(&server, "merge-patch-type-change", &[]);
    replay_status(&server, "merge-patch-tls-remove-required-key", &[]);
}
