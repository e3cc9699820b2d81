//! Carrying out an apply against a server that says no, pushes back or goes
//! away: the permission pre-check (SelfSubjectAccessReview before the first
//! write), retries on 429/503, and stopping once the server is unreachable.

use std::path::PathBuf;

use crate::support::apiserver::{ALICE, Recorded};
use crate::support::{OWNER, TestEnv};

const HEAD: &str = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n";

fn manifest(env: &TestEnv, body: &str) -> String {
    let path: PathBuf = env.file("secrets.yaml", format!("{HEAD}{body}"));
    path.to_str().unwrap_or_default().to_string()
}

/// Writes to secrets among these requests.
fn secret_writes(reqs: &[Recorded]) -> Vec<String> {
    reqs.iter()
        .filter(|r| {
            r.path.contains("/secrets")
                && matches!(r.method.as_str(), "POST" | "PATCH" | "DELETE" | "PUT")
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

/// The verbs asked about in access reviews, in order.
fn reviewed_verbs(reqs: &[Recorded]) -> Vec<String> {
    reqs.iter()
        .filter(|r| r.is("POST", "/selfsubjectaccessreviews"))
        .map(|r| {
            let body: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
            body["spec"]["resourceAttributes"]["verb"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// Issue 12 point 1: allowed to create but not to delete, apply stops
/// before its first write and names the verb, resource and namespace.
#[test]
fn a_denied_verb_stops_apply_before_any_write() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    env.run(&["secret", "create", "--inline", "A=a", "old"])
        .success();
    server.deny(ALICE, "delete");
    let file = manifest(
        &env,
        "  - name: new\n    inline: {B: b}\n  - name: old\n    state: absent\n",
    );
    server.clear_requests();
    let run = env.run(&["apply", "-f", &file, "--yes"]);
    run.failure()
        .stderr_has("delete")
        .stderr_has("secrets")
        .stderr_has(&env.namespace)
        .stderr_has("nothing was changed");
    let reqs = server.requests();
    assert_eq!(secret_writes(&reqs), Vec::<String>::new(), "{reqs:#?}");
    assert_eq!(reviewed_verbs(&reqs), ["create", "delete"], "{reqs:#?}");
    assert!(env.secret(&format!("new-{OWNER}")).is_none());
    assert!(env.secret(&format!("old-{OWNER}")).is_some());
}

/// Issue 12 point 1: one review per verb the plan needs, no more; with
/// every verb allowed, apply goes on.
#[test]
fn allowed_verbs_are_asked_once_each_and_apply_goes_on() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    env.run(&["secret", "create", "--inline", "A=a", "kept"])
        .success();
    let file = manifest(
        &env,
        "  - name: one\n    inline: {B: b}\n  - name: two\n    inline: {C: c}\n  - name: kept\n    inline: {A: z}\n",
    );
    server.clear_requests();
    env.run(&["apply", "-f", &file])
        .success()
        .stdout_has("Apply complete: 3 done.");
    assert_eq!(reviewed_verbs(&server.requests()), ["create", "patch"]);
    // A no-op asks nothing.
    server.clear_requests();
    env.run(&["apply", "-f", &file])
        .success()
        .stdout_has("No changes");
    assert_eq!(reviewed_verbs(&server.requests()), Vec::<String>::new());
}

/// Issue 12 point 1: a server that refuses the review itself (403, RBAC
/// without `system:basic-user`) or lacks the API (404): apply goes on,
/// and says so at -v.
#[test]
fn an_unavailable_review_api_is_logged_and_apply_goes_on() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    server.deny_review(ALICE);
    let file = manifest(&env, "  - name: one\n    inline: {B: b}\n");
    env.run(&["-v", "apply", "-f", &file])
        .success()
        .stderr_has("cannot check permissions");
    assert!(env.secret(&format!("one-{OWNER}")).is_some());

    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    server.inject(
        crate::support::FaultRule::new(crate::support::Fault::Status(404))
            .path("selfsubjectaccessreviews"),
    );
    let file = manifest(&env, "  - name: one\n    inline: {B: b}\n");
    env.run(&["-v", "apply", "-f", &file])
        .success()
        .stderr_has("cannot check permissions");
    assert!(env.secret(&format!("one-{OWNER}")).is_some());
}
