//! Failures in the corners of a real cluster (issue 14 points 2, 3, 6):
//! merging without the create permission, advice that fits each server
//! failure (RBAC, quota, missing or terminating namespace, immutable
//! Secret), and an interrupted apply that still leaves a record.

use std::path::PathBuf;

use base64::Engine;
use serde_json::json;

use crate::support::apiserver::{ALICE, Recorded};
use crate::support::{OWNER, TestEnv};

#[allow(dead_code)]
const HEAD: &str = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n";

#[allow(dead_code)]
fn manifest(env: &TestEnv, body: &str) -> String {
    let path: PathBuf = env.file("secrets.yaml", format!("{HEAD}{body}"));
    path.to_str().unwrap_or_default().to_string()
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Requests on secrets among these, as `METHOD name-or-collection`.
fn secret_requests(reqs: &[Recorded]) -> Vec<String> {
    reqs.iter()
        .filter(|r| r.path.contains("/secrets"))
        .map(|r| {
            let last = r.path.rsplit('/').next().unwrap_or_default();
            format!("{} {last}", r.method)
        })
        .collect()
}

/// One of our secrets, as Konduktor's CLI writes it, holding `key`.
fn ours(env: &TestEnv, basename: &str, key: &str, value: &str) {
    env.seed(json!({
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": format!("{basename}-{OWNER}"), "labels": {
            "parent": "konduktor", "trainy.ai/secret-owner": OWNER,
            "trainy.ai/secret-basename": basename, "trainy.ai/secret-kind": "env"}},
        "data": {key: b64(value)}
    }));
}

/// Issue 14 point 2: a user allowed get and patch but not create merges
/// into their existing secret, as Konduktor's CLI does: read, then patch;
/// no create is sent.
#[test]
fn secret_create_merges_without_the_create_permission() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let old = env.canary("old");
    let new = env.canary("new");
    ours(&env, "app", "OLD", &old);
    server.deny(ALICE, "create");
    server.clear_requests();
    let pair = format!("NEW={new}");
    env.run(&[
        "secret", "create", "--kind", "env", "--inline", &pair, "app",
    ])
    .success()
    .stdout_has("merged into");
    let reqs = server.requests();
    let name = format!("app-{OWNER}");
    assert_eq!(
        secret_requests(&reqs),
        [format!("GET {name}"), format!("PATCH {name}")],
        "{reqs:#?}"
    );
    let stored = env.secret(&name).unwrap_or_default();
    assert_eq!(stored["data"]["OLD"], json!(b64(&old)));
    assert_eq!(stored["data"]["NEW"], json!(b64(&new)));
}
