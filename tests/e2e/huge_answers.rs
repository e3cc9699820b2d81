//! Attack F6: every answer parsed from the server is read to a cap (a
//! review's to 4 MiB, one Secret's to 8 MiB; LIST pages to 64 MiB, see
//! paged_lists): past it, an error that names the server and what was too
//! large, and no retry of an answer that would be as large again.

use crate::support::apiserver::ALICE;
use crate::support::{Fault, FaultRule, TestEnv, entry};

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
    assert_eq!(server.count("POST", "/selfsubjectreviews"), 1);
}

/// The SelfSubjectRulesReview apply reads when a verb is denied, answered
/// with 16 MiB: apply stops before any write, once, naming the server.
#[test]
fn a_rules_review_over_the_cap_stops_apply_before_any_write() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    env.create("old", &[("A", "a")]).success();
    server.deny(ALICE, "delete");
    server.inject(
        FaultRule::new(Fault::HugeAnswer(16 << 20))
            .on("POST")
            .path("/selfsubjectrulesreviews"),
    );
    let file = env.manifest(&[entry("old").absent()]);
    server.clear_requests();
    env.apply_with(&file, &["--yes"])
        .failure()
        .stderr_has(&server.url())
        .stderr_has("a rules review's answer over 4 MiB");
    assert_eq!(
        server.count("POST", "/selfsubjectrulesreviews"),
        1,
        "not asked again"
    );
    assert!(env.my_secret("old").is_some());
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
    let file = env.manifest(&[entry("new").inline(&[("B", "b")])]);
    env.apply_with(&file, &["--yes"])
        .failure()
        .stderr_has(&server.url())
        .stderr_has("an access review's answer over 4 MiB");
    assert!(env.my_secret("new").is_none());
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
    let file = env.manifest(&[entry("new").inline(&[("B", &value)])]);
    env.apply_with(&file, &["--yes"])
        .failure()
        .stdout_has(&server.url())
        .stdout_has("over 8 MiB");
}
