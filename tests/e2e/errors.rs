//! Errors a person can act on: unreachable servers, timeouts, 401, 403,
//! server faults. Each is a diagnostic with a hint, never a panic or dump.

use std::time::Duration;

use crate::support::{Fault, FaultRule, TestEnv, fake_kubeconfig};

fn assert_diagnostic(stderr: &str) {
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("Error {"), "debug dump: {stderr}");
    assert!(!stderr.contains("ApiError:"), "raw kube error: {stderr}");
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
    let mut cmd = env.command();
    cmd.env("KUBECONFIG", &kc).args(["secret", "list"]);
    let run = env.run_command(cmd);
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
    let mut cmd = env.command();
    cmd.env("KUBECONFIG", &kc).args(["secret", "list"]);
    let run = env.run_command(cmd);
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
    let run = env.run(&["secret", "create", "--inline", &format!("K={v}"), "x"]);
    run.failure()
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
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.method == "GET")
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
    server.inject(FaultRule::new(Fault::Drop).on("POST"));
    let v = env.canary("drop");
    let run = env.run(&["secret", "create", "--inline", &format!("K={v}"), "dropped"]);
    run.failure().stderr_has("cannot reach");
    assert_diagnostic(&run.stderr);
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.method == "POST")
            .count(),
        1
    );
}
