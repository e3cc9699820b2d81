//! Errors a person can act on: unreachable servers, timeouts, 401, 403,
//! server faults. Each is a diagnostic with a hint, never a panic or dump.

use std::time::Duration;

use crate::support::{Fault, FaultRule, TestEnv, entry, fake_kubeconfig, mine};

fn assert_diagnostic(stderr: &str) {
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Error {"), "debug dump: {stderr}");
    assert!(!stderr.contains("ApiError:"), "raw kube error: {stderr}");
    // kube's variant names are not for people.
    for internal in ["ServiceError", "HyperError", "auth error:", "Output {"] {
        assert!(!stderr.contains(internal), "{internal} in: {stderr}");
    }
    assert!(stderr.contains("help:"), "no hint: {stderr}");
}

#[test]
fn unreachable_server_names_the_url_and_gives_up() {
    let env = TestEnv::new();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
        l.local_addr().map(|a| a.port()).unwrap_or(1)
    };
    let kc = env.file(
        "dead",
        fake_kubeconfig(&format!("http://127.0.0.1:{port}"), "ns", "t"),
    );
    let run = env.with_kubeconfig(&kc, &["secret", "list"]).run();
    run.failure()
        .stderr_has(&format!("127.0.0.1:{port}"))
        .stderr_has("cannot reach");
    assert_diagnostic(&run.stderr);
}

#[test]
fn slow_server_hits_the_request_timeout() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    server.inject(FaultRule::new(Fault::Delay(Duration::from_secs(30))).path("/secrets"));
    let run = env.run(&["--request-timeout", "1s", "secret", "list"]);
    run.failure()
        .stderr_has("no answer")
        .stderr_has("within 1s")
        .stderr_has(&server.url())
        .stderr_has("--request-timeout");
    assert_diagnostic(&run.stderr);
}

#[test]
fn bad_credentials_are_a_401_diagnostic() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let kc = env.file(
        "badtoken",
        fake_kubeconfig(&server.url(), &env.namespace, "wrong-token"),
    );
    let run = env.with_kubeconfig(&kc, &["secret", "list"]).run();
    run.failure()
        .stderr_has("did not accept the credentials")
        .stderr_has("401");
    assert_diagnostic(&run.stderr);
}

#[test]
fn rbac_refusals_name_the_verb_and_resource() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    server.deny("alice", "list");
    let run = env.run(&["secret", "list"]);
    run.failure()
        .stderr_has("may not list secrets")
        .stderr_has("RBAC")
        .stderr_has(&format!(
            "kubectl auth can-i list secrets -n {}",
            env.namespace
        ));
    assert_diagnostic(&run.stderr);
    server.deny("alice", "create");
    let v = env.canary("rbac");
    env.create("x", &[("K", &v)])
        .failure()
        .stderr_has("may not create secrets")
        .stderr_has("RBAC");
}

#[test]
fn server_errors_are_retried_for_reads_then_reported() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    // One 503 and one dropped connection: the list still succeeds.
    server.inject(FaultRule::new(Fault::Status(503)).on("GET").times(1));
    server.inject(FaultRule::new(Fault::Drop).on("GET").times(1));
    env.run(&["secret", "list"]).success();
    // (Then, finding none, it looks for other owner hashes: not counted.)
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.method == "GET"
                && r.label_selector()
                    .is_some_and(|s| s.starts_with("trainy.ai/secret-owner=")))
            .count(),
        3
    );
    // A server that keeps failing is reported, with the status.
    server.clear_requests();
    server.inject(FaultRule::new(Fault::Status(500)).on("GET"));
    let run = env.run(&["secret", "list"]);
    run.failure().stderr_has("500").stderr_has("InternalError");
    assert_diagnostic(&run.stderr);
    assert_eq!(server.requests().len(), 3, "bounded retries");
}

#[test]
fn dropped_connections_on_writes_are_not_retried() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    server.inject(FaultRule::new(Fault::Drop).on("POST").path("/secrets"));
    let v = env.canary("drop");
    let run = env.create("dropped", &[("K", &v)]);
    run.failure().stderr_has("cannot reach");
    assert_diagnostic(&run.stderr);
    assert_eq!(server.count("POST", "/secrets"), 1);
}

/// A validating webhook that quotes the object it refused: the values we
/// sent (base64 as sent, and raw) are blanked out of the server's message.
#[test]
fn a_server_message_quoting_our_request_is_scrubbed_of_the_values() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };

    // create: secret create, then apply.
    server.inject(
        FaultRule::new(Fault::EchoBody(422))
            .on("POST")
            .path("/secrets"),
    );
    let v = env.canary("echo-create");
    let run = env.create("echoed", &[("K", &v)]);
    run.failure()
        .stderr_has("denied the request")
        .stderr_has("<redacted>");
    assert_diagnostic_no_help(&run.stderr);
    let v2 = env.canary("echo-apply");
    let manifest = env.manifest(&[entry("applied").kind("env").variables(&["TOKEN"])]);
    let run = env.cmd(&["apply", "-f", &manifest]).env("TOKEN", &v2).run();
    run.failure();
    let both = run.output();
    assert!(both.contains("NOT created"), "{both}");
    assert!(both.contains("<redacted>"), "{both}");

    // merge: the same two commands on a secret that exists.
    server.clear_requests();
    server.inject(FaultRule::new(Fault::EchoBody(422)).on("PATCH"));
    env.seed_fixture(&mine("my-env"));
    let v3 = env.canary("echo-merge");
    env.create_env("my-env", &[("NEW", &v3)])
        .failure()
        .stderr_has("denied the request")
        .stderr_has("<redacted>");
    let v4 = env.canary("echo-apply-merge");
    let manifest = env.manifest(&[entry("my-env").kind("env").variables(&["OTHER"])]);
    let run = env.cmd(&["apply", "-f", &manifest]).env("OTHER", &v4).run();
    run.failure();
    let both = run.output();
    assert!(both.contains("NOT merged"), "{both}");
    assert!(both.contains("<redacted>"), "{both}");
    assert!(server.sent("PATCH") > 0, "the merge reached the server");
}

fn assert_diagnostic_no_help(stderr: &str) {
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Error {"), "debug dump: {stderr}");
    assert!(!stderr.contains("ApiError"), "raw kube error: {stderr}");
}

/// Durations out of range are usage errors (exit 2) before anything runs,
/// never a panic; kubectl's forms still work.
#[test]
fn request_timeouts_out_of_range_are_usage_errors() {
    let env = TestEnv::new();
    for bad in [
        "99999999999999999999h",
        "99999999999999999999",
        "1e400s",
        "-5s",
        "-1",
        "NaN",
        "inf",
        "25h",
        "1.5.3s",
        "9223372036854775807ns5h",
        "",
    ] {
        env.run(&[&format!("--request-timeout={bad}"), "secret", "list"])
            .exits(2)
            .stderr_has("--request-timeout")
            .stderr_lacks("panicked");
    }
    env.run(&[
        "--request-timeout",
        "99999999999999999999h",
        "secret",
        "list",
    ])
    .stderr_has("at most 24h");
    env.assert_no_requests();
    for good in ["0", "30", "30s", "1m30s", "500ms", "24h", "1.5s"] {
        env.run(&["--request-timeout", good, "secret", "list"])
            .success();
    }
}
