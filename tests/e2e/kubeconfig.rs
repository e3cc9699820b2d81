//! kubectl's kubeconfig conventions: --kubeconfig, KUBECONFIG path lists,
//! --context, namespace from the context else `default`, and clear errors
//! naming the file. These need a kubeconfig of our own, so they use the
//! in-process server only.

use crate::support::{OWNER, TestEnv, fake_kubeconfig};

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    l.local_addr().map(|a| a.port()).unwrap_or(1)
}

#[test]
fn namespace_comes_from_the_context_then_default() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let v = env.canary("ns");
    let mut cmd = env.command();
    cmd.args([
        "secret",
        "create",
        "--inline",
        &format!("K={v}"),
        "in-context-ns",
    ]);
    env.run_command(cmd).success();
    assert!(
        env.secret(&format!("in-context-ns-{OWNER}")).is_some(),
        "the context's namespace is used without -n"
    );
    // A context without a namespace means `default`.
    let plain = env.file(
        "plain-kubeconfig",
        fake_kubeconfig(&server.url(), "", "alice-token").replace("    namespace: \n", ""),
    );
    let mut cmd = env.command();
    cmd.env("KUBECONFIG", &plain).args(["whoami", "-o", "json"]);
    assert_eq!(env.run_command(cmd).json()["namespace"], "default");
    // -n wins, before or after the subcommand.
    let mut cmd = env.command();
    cmd.args(["whoami", "-o", "json", "--namespace", "elsewhere"]);
    assert_eq!(env.run_command(cmd).json()["namespace"], "elsewhere");
}

#[test]
fn kubeconfig_flag_env_list_and_context() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let dead = format!("http://127.0.0.1:{}", closed_port());
    // Two files: the first has only a dead cluster as current context, the
    // second adds the live one. KUBECONFIG merges them; first file wins.
    let first = env.file(
        "first",
        fake_kubeconfig(&dead, "x", "t")
            .replace("name: fake", "name: dead")
            .replace("cluster: fake", "cluster: dead")
            .replace("current-context: fake", "current-context: dead")
            .replace("alice", "dead-user"),
    );
    let second = env.file(
        "second",
        fake_kubeconfig(&server.url(), &env.namespace, "alice-token"),
    );
    let missing = env.dir.path().join("does-not-exist");
    let list = std::env::join_paths([&missing, &first, &second]).unwrap_or_else(|e| panic!("{e}"));

    let mut cmd = env.command();
    cmd.env("KUBECONFIG", &list)
        .args(["whoami", "-o", "json", "--request-timeout", "5s"]);
    let run = env.run_command(cmd);
    run.success();
    assert_eq!(
        run.json()["context"],
        "dead",
        "current-context comes from the first file"
    );
    assert!(
        run.json()["clusterUserError"]
            .as_str()
            .is_some_and(|e| e.contains("127.0.0.1"))
    );

    let mut cmd = env.command();
    cmd.env("KUBECONFIG", &list)
        .args(["--context", "fake", "secret", "list"]);
    env.run_command(cmd).success();

    // --kubeconfig overrides KUBECONFIG.
    let mut cmd = env.command();
    cmd.env("KUBECONFIG", &first)
        .args(["--kubeconfig"])
        .arg(&second)
        .args(["whoami", "-o", "json"]);
    assert_eq!(env.run_command(cmd).json()["context"], "fake");
}

#[test]
fn broken_or_missing_kubeconfig_names_the_file() {
    let env = TestEnv::new();
    let broken = env.file("broken", "apiVersion: v1\nclusters: [ {{{\n");
    let missing = env.dir.path().join("nope");
    let mut cmd = env.command();
    cmd.env("KUBECONFIG", &broken).args(["secret", "list"]);
    env.run_command(cmd)
        .failure()
        .stderr_has("broken")
        .stderr_has("kubeconfig");
    let mut cmd = env.command();
    cmd.args(["--kubeconfig"])
        .arg(&missing)
        .args(["secret", "list"]);
    env.run_command(cmd)
        .failure()
        .stderr_has("does not exist")
        .stderr_has("nope");
    let mut cmd = env.command();
    cmd.env("KUBECONFIG", &missing).args(["secret", "list"]);
    env.run_command(cmd)
        .failure()
        .stderr_has("none of the files in KUBECONFIG exists");
    let mut cmd = env.command();
    cmd.env_remove("KUBECONFIG").args(["secret", "list"]);
    env.run_command(cmd).failure().stderr_has(".kube/config");
    let mut cmd = env.command();
    cmd.args(["--context", "no-such-context", "secret", "list"]);
    let run = env.run_command(cmd);
    run.failure()
        .stderr_has("no-such-context")
        .stderr_has("known contexts: ");
    if env.fake().is_some() {
        run.stderr_has("known contexts: fake");
    }
    let mut cmd = env.command();
    cmd.args(["-n", "Bad_NS", "secret", "list"]);
    env.run_command(cmd)
        .failure()
        .stderr_has("not a valid namespace");
}
