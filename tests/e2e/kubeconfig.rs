//! kubectl's kubeconfig conventions: --kubeconfig, KUBECONFIG path lists,
//! --context, namespace from the context else `default`, and clear errors
//! naming the file. These need a kubeconfig of our own, so they use the
//! in-process server only.

use crate::support::cli::TestCommand;
use crate::support::{TestEnv, fake_kubeconfig, mkfifo};

/// `args` without `-n`: the namespace comes from the kubeconfig.
fn no_ns<'e>(env: &'e TestEnv, args: &[&str]) -> TestCommand<'e> {
    env.cmd(args).no_namespace()
}

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
    no_ns(
        &env,
        &[
            "secret",
            "create",
            "--inline",
            &format!("K={v}"),
            "in-context-ns",
        ],
    )
    .run()
    .success();
    assert!(
        env.my_secret("in-context-ns").is_some(),
        "the context's namespace is used without -n"
    );
    // A context without a namespace means `default`.
    let plain = env.file(
        "plain-kubeconfig",
        fake_kubeconfig(&server.url(), "", "alice-token").replace("    namespace: \n", ""),
    );
    let whoami = no_ns(&env, &["whoami", "-o", "json"]);
    assert_eq!(
        whoami.kubeconfig(&plain).run().json()["namespace"],
        "default"
    );
    // -n wins, before or after the subcommand.
    let whoami = no_ns(&env, &["whoami", "-o", "json", "--namespace", "elsewhere"]);
    assert_eq!(whoami.run().json()["namespace"], "elsewhere");
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
    let missing = env.path("does-not-exist");
    let list = std::env::join_paths([&missing, &first, &second]).unwrap_or_else(|e| panic!("{e}"));

    let run = no_ns(&env, &["whoami", "-o", "json", "--request-timeout", "5s"])
        .kubeconfig(&list)
        .run();
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

    no_ns(&env, &["--context", "fake", "secret", "list"])
        .kubeconfig(&list)
        .run()
        .success();

    // --kubeconfig overrides KUBECONFIG.
    let whoami = no_ns(&env, &["--kubeconfig"])
        .arg(&second)
        .args(&["whoami", "-o", "json"])
        .kubeconfig(&first);
    assert_eq!(whoami.run().json()["context"], "fake");
}

#[test]
fn broken_or_missing_kubeconfig_names_the_file() {
    let env = TestEnv::new();
    let broken = env.file("broken", "apiVersion: v1\nclusters: [ {{{\n");
    let missing = env.path("nope");
    let list = || no_ns(&env, &["secret", "list"]);
    list()
        .kubeconfig(&broken)
        .run()
        .failure()
        .stderr_has("broken")
        .stderr_has("kubeconfig");
    no_ns(&env, &["--kubeconfig"])
        .arg(&missing)
        .args(&["secret", "list"])
        .run()
        .failure()
        .stderr_has("does not exist")
        .stderr_has("nope");
    list()
        .kubeconfig(&missing)
        .run()
        .failure()
        .stderr_has("none of the files in KUBECONFIG exists");
    list()
        .env_remove("KUBECONFIG")
        .run()
        .failure()
        .stderr_has(".kube/config");
    let run = no_ns(&env, &["--context", "no-such-context", "secret", "list"]).run();
    run.failure()
        .stderr_has("no-such-context")
        .stderr_has("known contexts: ");
    if env.fake().is_some() {
        run.stderr_has("known contexts: fake");
    }
    // A usage error.
    no_ns(&env, &["-n", "Bad_NS", "secret", "list"])
        .run()
        .exits(2)
        .stderr_has("not a namespace name");
}

/// A kubeconfig the YAML parser refuses, with a token in it: the message
/// names the file, the line and column, and says what to do, and quotes
/// nothing of the file (no snippet).
#[test]
fn broken_kubeconfig_yaml_is_located_but_never_quoted() {
    let env = TestEnv::new();
    let server = env
        .fake()
        .map_or("http://127.0.0.1:1".to_string(), |s| s.url());
    let head = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {server}\ncontexts:\n- name: fake\n  context: {{cluster: fake, user: alice}}\ncurrent-context: fake\nusers:\n- name: alice\n  user:\n"
    );
    // Line 14 is the token line.
    let shapes: Vec<(&str, String, &str)> = vec![
        (
            "bad-indent",
            format!("{head}    token: {{C}}\n     bad: indent\n"),
            "line 15",
        ),
        (
            "unclosed-quote",
            format!("{head}    token: \"{{C}}\n"),
            "line 14",
        ),
        (
            "duplicate-key",
            format!("{head}    token: {{C}}\n    token: {{C}}x\n"),
            "line 15",
        ),
        (
            "tab",
            format!("{head}    token: {{C}}\n\tfoo: 1\n"),
            "line 14",
        ),
        ("a-list", "- {C}\n- other\n".to_string(), "line 1"),
        (
            "token-is-a-list",
            format!("{head}    token: [{{C}}]\n"),
            "line 14",
        ),
        (
            "clusters-is-a-string",
            "apiVersion: v1\nclusters: {C}\n".to_string(),
            "line 2",
        ),
        (
            "unclosed-flow",
            format!("{head}    token: {{C}}\n    x: [{{C}}, {{\n"),
            "line",
        ),
    ];
    for (name, text, line) in shapes {
        let canary = env.canary(name);
        let path = env.file(&format!("kc-{name}"), text.replace("{C}", &canary));
        no_ns(&env, &["--kubeconfig"])
            .arg(&path)
            .args(&["secret", "list"])
            .run()
            .failure()
            .stderr_has(&format!("kc-{name}"))
            .stderr_has(line)
            .stderr_has(" column ")
            .stderr_has("help:")
            // Neither a snippet nor the file's text.
            .stderr_lacks("-->")
            .stderr_lacks("token:");
    }
    env.assert_no_requests();
}

/// `--kubeconfig` or a KUBECONFIG entry that is a FIFO, a device, a
/// directory or a huge file is refused at once, by name.
#[cfg(unix)]
#[test]
fn kubeconfig_that_is_not_a_small_regular_file_is_refused_at_once() {
    let env = TestEnv::new();
    let fifo = env.path("kubeconfig-fifo");
    mkfifo(&fifo);
    let big = env.path("kubeconfig-huge");
    let file = std::fs::File::create(&big).unwrap_or_else(|e| panic!("{e}"));
    file.set_len(17 * 1024 * 1024)
        .unwrap_or_else(|e| panic!("{e}"));
    let cases = [
        (fifo.clone(), "FIFO"),
        (std::path::PathBuf::from("/dev/zero"), "character device"),
        (env.dir.path().to_path_buf(), "directory"),
        (big.clone(), "larger than 16 MiB"),
    ];
    for (path, what) in &cases {
        no_ns(&env, &["--kubeconfig"])
            .arg(path)
            .args(&["secret", "list"])
            .run_unhung()
            .failure()
            .stderr_has(&path.display().to_string())
            .stderr_has(what)
            .stderr_has("help:");
        no_ns(&env, &["secret", "list"])
            .kubeconfig(path)
            .run_unhung()
            .failure()
            .stderr_has(what);
    }
    env.assert_no_requests();
}

/// Files a kubeconfig names are resolved against the kubeconfig's folder,
/// as kubectl does (we read them ourselves now).
#[test]
fn relative_token_file_is_read_next_to_the_kubeconfig() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let text = fake_kubeconfig(&server.url(), &env.namespace, "unused")
        .replace("    token: unused\n", "    tokenFile: token.txt\n");
    env.file("sub/token.txt", "alice-token\n");
    let kc = env.file("sub/config", text);
    no_ns(&env, &["secret", "list"])
        .kubeconfig(&kc)
        .run()
        .success();
}

/// `--context=` (empty), before or after the subcommand, means the current
/// context, as in kubectl; and Konduktor's config may still pick one then.
#[test]
fn an_empty_context_flag_means_the_current_context() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let kc = env.file(
        "empty-context-kubeconfig",
        fake_kubeconfig(&server.url(), &env.namespace, "alice-token"),
    );
    for args in [
        &["--context=", "whoami", "-o", "json"][..],
        &["whoami", "-o", "json", "--context", ""],
    ] {
        let run = no_ns(&env, args).kubeconfig(&kc).run();
        run.success();
        assert_eq!(run.json()["context"], "fake", "{args:?}: {run:?}");
    }
    // Konduktor's one allowed context applies as when no --context is given.
    env.home_file(
        ".konduktor/config.yaml",
        "kubernetes:\n  allowed_contexts:\n    - elsewhere\n",
    );
    no_ns(&env, &["--context=", "secret", "list"])
        .kubeconfig(&kc)
        .run()
        .failure()
        .stderr_has("context `elsewhere` is not in the kubeconfig");
}
