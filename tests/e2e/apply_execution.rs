//! Carrying out an apply against a server that says no, pushes back or goes
//! away: the permission pre-check (SelfSubjectAccessReview before the first
//! write), retries on 429/503, and stopping once the server is unreachable.

use crate::support::apiserver::{ALICE, Recorded};
use crate::support::{Fault, FaultRule, TestEnv, entry, mine, result_counts};

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
    env.create("old", &[("A", "a")]).success();
    server.deny(ALICE, "delete");
    let file = env.manifest(&[entry("new").inline(&[("B", "b")]), entry("old").absent()]);
    server.clear_requests();
    env.apply_with(&file, &["--yes"])
        .failure()
        .stderr_has("delete")
        .stderr_has("secrets")
        .stderr_has(&env.namespace)
        .stderr_has("nothing was changed");
    let reqs = server.requests();
    assert_eq!(server.writes(), Vec::<String>::new(), "{reqs:#?}");
    assert_eq!(reviewed_verbs(&reqs), ["create", "delete"], "{reqs:#?}");
    assert!(env.my_secret("new").is_none());
    assert!(env.my_secret("old").is_some());
}

/// Issue 12 point 1: one review per verb the plan needs, no more; with
/// every verb allowed, apply goes on.
#[test]
fn allowed_verbs_are_asked_once_each_and_apply_goes_on() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    env.create("kept", &[("A", "a")]).success();
    let file = env.manifest(&[
        entry("one").inline(&[("B", "b")]),
        entry("two").inline(&[("C", "c")]),
        entry("kept").inline(&[("A", "z")]),
    ]);
    server.clear_requests();
    env.apply(&file)
        .success()
        .stdout_has("Apply complete: 3 done.");
    assert_eq!(reviewed_verbs(&server.requests()), ["create", "patch"]);
    // A no-op asks nothing.
    server.clear_requests();
    env.apply(&file).success().stdout_has("No changes");
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
    let file = env.manifest(&[entry("one").inline(&[("B", "b")])]);
    env.run(&["-v", "apply", "-f", &file])
        .success()
        .stderr_has("cannot check permissions");
    assert!(env.my_secret("one").is_some());

    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    server.inject(FaultRule::new(Fault::Status(404)).path("selfsubjectaccessreviews"));
    let file = env.manifest(&[entry("one").inline(&[("B", "b")])]);
    env.run(&["-v", "apply", "-f", &file])
        .success()
        .stderr_has("cannot check permissions");
    assert!(env.my_secret("one").is_some());
}

/// Access and rules reviews among these requests.
fn reviews(reqs: &[Recorded]) -> usize {
    reqs.iter()
        .filter(|r| {
            r.is("POST", "/selfsubjectaccessreviews") || r.is("POST", "/selfsubjectrulesreviews")
        })
        .count()
}

/// Issue 19 point 6: a Role that grants patch and delete only on the
/// user's own Secret names (`resourceNames`) lets a thousand-object apply
/// go on, though the name-less reviews say no; and it costs a few reviews,
/// not one per object.
#[test]
fn a_role_that_names_your_secrets_lets_a_thousand_object_apply_go_on() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let names: Vec<String> = (0..1000).map(|i| format!("s{i:04}")).collect();
    for name in &names {
        env.seed_mine(name, "env", &[("K", "old")]);
    }
    let objects: Vec<String> = names.iter().map(|n| mine(n)).collect();
    let objects: Vec<&str> = objects.iter().map(String::as_str).collect();
    server.allow_only_names(ALICE, "patch", &objects);
    server.allow_only_names(ALICE, "delete", &objects);
    // The first half changed (patch), the second half pruned (delete).
    let body: String = names[..500]
        .iter()
        .map(|n| format!("  - name: {n}\n    kind: env\n    inline: {{K: new}}\n"))
        .collect();
    let file = env.manifest_yaml(&body);
    server.clear_requests();
    env.apply_with(&file, &["--prune", "--yes"])
        .success()
        .stdout_has("Apply complete: 1000 done.");
    let reqs = server.requests();
    assert!(
        reviews(&reqs) <= 3,
        "two name-less reviews and one rules review at most, not one per object: {}",
        reviews(&reqs)
    );
    assert!(env.my_secret("s0499").is_some());
    assert!(env.my_secret("s0500").is_none());
    assert_eq!(
        env.my_data("s0000").get("K").map(Vec::as_slice),
        Some(&b"new"[..])
    );
}

/// Issue 19 point 6: where the Role does not name one of the secrets the
/// plan deletes, apply stops before its first write and names it.
#[test]
fn a_secret_the_role_does_not_name_stops_apply_and_is_named() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    env.seed_mine("listed", "env", &[("K", "old")]);
    env.seed_mine("unlisted", "env", &[("K", "old")]);
    server.allow_only_names(ALICE, "delete", &[&mine("listed")]);
    let file = env.manifest(&[entry("fresh").inline(&[("B", "b")])]);
    server.clear_requests();
    env.apply_with(&file, &["--prune", "--yes"])
        .failure()
        .stderr_has(&format!("`delete` the secret \"{}\"", mine("unlisted")))
        .stderr_has("nothing was changed")
        .stderr_has(&format!(
            "kubectl auth can-i delete secrets/{}",
            mine("unlisted")
        ))
        .stderr_lacks(&format!("\"{}\"", mine("listed")));
    assert_eq!(server.writes(), Vec::<String>::new());
    assert!(env.my_secret("listed").is_some());
}

fn many(n: usize) -> String {
    (0..n)
        .map(|i| format!("  - name: s{i:02}\n    inline: {{K: v{i}}}\n"))
        .collect()
}

/// The names of the secrets the POSTs to secrets carried, in order.
fn posted_names(reqs: &[Recorded]) -> Vec<String> {
    reqs.iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/secrets"))
        .map(|r| {
            let body: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
            body["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// Issue 12 point 7: the server goes away after five creates. Apply stops
/// sending (the failed create is retried as a read is, nothing new is
/// started), says once that the server is unreachable, counts what was
/// done, lists the rest as not attempted; a re-run converges.
#[test]
fn losing_the_server_part_way_stops_sending_and_a_rerun_converges() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let file = env.manifest_yaml(&many(20));
    server.inject(
        FaultRule::new(Fault::Drop)
            .on("POST")
            .path("/secrets")
            .after(5),
    );
    let run = env.apply_with(&file, &["--parallel", "1"]);
    run.failure()
        .stdout_has("Apply incomplete: 5 done, 1 failed, 14 not attempted")
        .stdout_has("not attempted");
    let all = run.output();
    assert_eq!(
        all.matches("cannot reach the API server").count(),
        1,
        "one message about the server: {all}"
    );
    let posted = posted_names(&server.requests());
    let (first, retries) = posted.split_at(5.min(posted.len()));
    assert_eq!(first.len(), 5, "{posted:?}");
    assert!(
        !retries.is_empty() && retries.iter().all(|n| n == &retries[0]),
        "only the failed create was sent again: {posted:?}"
    );
    let names = env.secret_names();
    assert_eq!(
        names.iter().filter(|n| n.starts_with('s')).count(),
        5,
        "{names:?}"
    );

    server.clear_faults();
    env.apply(&file)
        .success()
        .stdout_has("Apply complete: 15 done.");
    for i in 0..20 {
        assert_eq!(
            env.my_data(&format!("s{i:02}"))["K"],
            format!("v{i}").as_bytes()
        );
    }
}

/// Issue 12 point 7, -o json: the results say done, failed and skipped
/// (not attempted), and one `stopped` message says why.
#[test]
fn losing_the_server_part_way_in_json() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let file = env.manifest_yaml(&many(8));
    server.inject(
        FaultRule::new(Fault::Drop)
            .on("POST")
            .path("/secrets")
            .after(3),
    );
    let run = env.apply_with(&file, &["--parallel", "1", "-o", "json"]);
    run.failure();
    let report = run.json();
    assert_eq!(result_counts(&report), (3, 1, 4), "{report}");
    let stopped = report["stopped"].as_str().unwrap_or_default();
    assert!(stopped.contains("cannot reach the API server"), "{report}");
    assert_eq!(
        run.stdout.matches("cannot reach the API server").count(),
        1,
        "{report}"
    );
}

/// Issue 12 point 4: `--parallel` takes 1 to 64.
#[test]
fn parallel_is_range_checked() {
    let env = TestEnv::new();
    let file = env.manifest_yaml(&many(1));
    for bad in ["0", "65", "many"] {
        env.apply_with(&file, &["--parallel", bad])
            .exits(2)
            .stderr_has("--parallel");
    }
    env.apply_with(&file, &["--parallel", "64"]).success();
}

/// Issue 12 point 4: a create refused twice with 429 (Retry-After: 1) and a
/// merge refused once with 503 wait and are sent again; the apply
/// completes, each write landed once.
#[test]
fn writes_wait_out_back_pressure_and_retry() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    env.create("kept", &[("A", "a")]).success();
    let file = env.manifest(&[
        entry("new").inline(&[("B", "b")]),
        entry("kept").inline(&[("A", "z")]),
    ]);
    server.inject(
        FaultRule::new(Fault::StatusRetryAfter(429, 1))
            .on("POST")
            .path("/secrets")
            .times(2),
    );
    server.inject(FaultRule::new(Fault::Status(503)).on("PATCH").times(1));
    server.clear_requests();
    env.run(&["-v", "apply", "-f", &file])
        .success()
        .stdout_has("Apply complete: 2 done.")
        .stderr_has("retrying in 1000ms");
    let reqs = server.requests();
    let count = |method: &str| {
        reqs.iter()
            .filter(|r| r.method == method && r.path.contains("/secrets"))
            .count()
    };
    assert_eq!((count("POST"), count("PATCH")), (3, 2), "{reqs:#?}");
    assert_eq!(env.my_data("new")["B"], b"b");
    assert_eq!(env.my_data("kept")["A"], b"z");
}

/// Attack F9: a 413 RequestEntityTooLarge is the object's size, not the
/// server's passing fault: apply says so, says what to do, and does not
/// advise running it again.
#[test]
fn a_write_too_large_for_the_server_is_not_worth_running_again() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let value = env.canary("big");
    let file = env.manifest(&[entry("big").inline(&[("B", &value)])]);
    server.inject(
        FaultRule::new(Fault::Status(413))
            .on("POST")
            .path("/secrets"),
    );
    env.apply_with(&file, &["--yes"])
        .failure()
        .stdout_has("larger than it accepts")
        .stdout_has("running again will not help")
        .stdout_has("Running apply again will not help");
    let text = env
        .apply_with(&file, &["--yes", "-o", "json"])
        .json()
        .to_string();
    assert!(text.contains("\"too_large\""), "{text}");
    assert!(!text.contains("Run apply again to converge"), "{text}");
    assert!(env.my_secret("big").is_none());
}
