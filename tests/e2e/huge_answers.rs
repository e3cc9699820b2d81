//! Attack F6: every answer parsed from the server is read to a cap (a
//! review's to 4 MiB, one Secret's to 8 MiB; LIST pages to 64 MiB, see
//! paged_lists): past it, an error that names the server and what was too
//! large, and no retry of an answer that would be as large again.

use std::path::PathBuf;

use crate::support::apiserver::{ALICE, Recorded};
use crate::support::{Fault, FaultRule, OWNER, TestEnv};

const HEAD: &str = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n";

fn manifest(env: &TestEnv, body: &str) -> String {
    let path: PathBuf = env.file("secrets.yaml", format!("{HEAD}{body}"));
    path.to_str().unwrap_or_default().to_string()
}

fn posts(reqs: &[Recorded], path: &str) -> usize {
    reqs.iter().filter(|r| r.is("POST", path)).count()
}

/// `whoami`'s SelfSubjectReview answered with 16 MiB: the cluster user is
/// unknown, and why names the server and what was too large.
#[test]
fn a_user_review_over_the_cap_is_an_error_naming_the_server() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    server.inject(
        FaultRule::new(Fault::HugeAnswer(16 << 20))
            .on("POST")
            .path("/selfsubjectreviews"),
    );
    server.clear_requests();
    env.run(&["whoami"])
        .success()
        .stdout_has("Cluster user:  unknown (")
        .stdout_has(&server.url())
        .stdout_has("a user review's answer over 4 MiB");
    assert_eq!(posts(&server.requests(), "/selfsubjectreviews"), 1);
}

/// The SelfSubjectRulesReview apply reads when a verb is denied, answered
/// with 16 MiB: apply stops before any write, once, naming the server.
#[test]
fn a_rules_review_over_the_cap_stops_apply_before_any_write() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    env.run(&["secret", "create", "--inline", "A=a", "old"])
        .success();
    server.deny(ALICE, "delete");
    server.inject(
        FaultRule::new(Fault::HugeAnswer(16 << 20))
            .on("POST")
            .path("/selfsubjectrulesreviews"),
    );
    let file = manifest(&env, "  - name: old\n    state: absent\n");
    server.clear_requests();
    env.run(&["apply", "-f", &file, "--yes"])
        .failure()
        .stderr_has(&server.url())
        .stderr_has("a rules review's answer over 4 MiB");
    let reqs = server.requests();
    assert_eq!(
        posts(&reqs, "/selfsubjectrulesreviews"),
        1,
        "not asked again"
    );
    assert!(env.secret(&format!("old-{OWNER}")).is_some());
}

/// The access review apply sends before its first write, answered with
/// 16 MiB: an error, not a silent "allowed" or "denied".
#[test]
fn an_access_review_over_the_cap_is_an_error() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    server.inject(
        FaultRule::new(Fault::HugeAnswer(16 << 20))
            .on("POST")
            .path("/selfsubjectaccessreviews"),
    );
    let file = manifest(&env, "  - name: new\n    inline: {B: b}\n");
    env.run(&["apply", "-f", &file, "--yes"])
        .failure()
        .stderr_has(&server.url())
        .stderr_has("an access review's answer over 4 MiB");
    assert!(env.secret(&format!("new-{OWNER}")).is_none());
}

/// A create answered with the Secret and 32 MiB of annotation: the write
/// is reported failed, naming the server and what was too large.
#[test]
fn a_write_answer_over_the_cap_is_an_error() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let value = env.canary("write");
    server.inject(
        FaultRule::new(Fault::HugeAnswer(32 << 20))
            .on("POST")
            .path("/secrets"),
    );
    let file = manifest(
        &env,
        &format!("  - name: new\n    inline: {{B: {value}}}\n"),
    );
    env.run(&["apply", "-f", &file, "--yes"])
        .failure()
        .stdout_has(&server.url())
        .stdout_has("over 8 MiB");
}
