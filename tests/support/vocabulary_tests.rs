//! The test vocabulary checks what it says it checks: each check fails
//! where it should, and what it writes is what the tests mean.

use serde_json::json;

use super::{OTHER_OWNER, OWNER, Run, TestEnv, entry, mine, secret_object};

fn run(code: i32, stdout: &str, stderr: &str) -> Run {
    Run {
        code: Some(code),
        stdout: stdout.to_string(),
        stderr: stderr.to_string(),
        command: "kubectl-konduktor test".to_string(),
    }
}

#[test]
#[should_panic(expected = "expected exit 1: kubectl-konduktor test")]
fn exits_fails_on_another_code() {
    run(2, "", "").exits(1);
}

#[test]
#[should_panic(expected = "panic")]
fn exits_fails_on_a_panic_even_with_the_code_asked_for() {
    run(101, "", "thread 'main' panicked at src/main.rs").exits(101);
}

#[test]
#[should_panic(expected = "stdout holds \"b\"")]
fn stdout_lacks_fails_when_it_holds_the_needle() {
    run(0, "abc", "").stdout_lacks("b");
}

#[test]
#[should_panic(expected = "stderr holds \"b\"")]
fn stderr_lacks_fails_when_it_holds_the_needle() {
    run(0, "", "abc").stderr_lacks("b");
}

#[test]
fn a_run_is_named_by_its_command_line() {
    let env = TestEnv::new();
    let run = env.cmd(&["whoami"]).owner("0123abcd").run();
    assert_eq!(
        run.command,
        format!("kubectl-konduktor -n {} whoami", env.namespace)
    );
    let run = env.cmd(&["whoami"]).no_namespace().start().finish();
    assert_eq!(run.command, "kubectl-konduktor whoami");
}

#[test]
fn run_checks_pass_on_what_they_describe() {
    run(1, "out", "err")
        .exits(1)
        .stdout_lacks("err")
        .stderr_lacks("out");
    assert_eq!(run(0, "out", "err").output(), "outerr");
}

#[test]
fn an_entry_is_written_one_field_a_line_with_quoted_values() {
    let env = TestEnv::new();
    let file = env.manifest(&[
        entry("hf")
            .kind("env")
            .inline(&[("TOKEN", "1"), ("MODE", "x y")]),
        entry("old").absent(),
        entry("key")
            .kind("git-ssh")
            .file("id_ed25519")
            .variables(&["A", "B"]),
        entry("dir").directory("creds"),
    ]);
    assert_eq!(
        std::fs::read_to_string(&file).unwrap_or_default(),
        "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n  - name: hf\n    kind: env\n    inline: {\"TOKEN\": \"1\", \"MODE\": \"x y\"}\n  - name: old\n    state: absent\n  - name: key\n    kind: git-ssh\n    fromFile: \"id_ed25519\"\n    fromEnv: [A, B]\n  - name: dir\n    fromDirectory: \"creds\"\n"
    );
    assert!(file.ends_with("/secrets.yaml"), "{file}");
    let none = env.manifest(&[]);
    assert_eq!(
        std::fs::read_to_string(&none).unwrap_or_default(),
        "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n  []\n"
    );
}

#[test]
fn a_secret_object_is_konduktors_layout_unless_told_otherwise() {
    assert_eq!(
        secret_object("hf").value("K", "v").json(),
        json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": mine("hf"), "labels": {"parent": "konduktor",
                "trainy.ai/secret-owner": OWNER, "trainy.ai/secret-basename": "hf",
                "trainy.ai/secret-kind": "env"}},
            "data": {"K": "dg=="}})
    );
    assert_eq!(
        secret_object("c")
            .owner(OTHER_OWNER)
            .kind("default")
            .of_type("kubernetes.io/tls")
            .annotation("a", "b")
            .immutable()
            .json(),
        json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "immutable": true,
            "metadata": {"name": format!("c-{OTHER_OWNER}"),
                "annotations": {"a": "b"},
                "labels": {"parent": "konduktor",
                "trainy.ai/secret-owner": OTHER_OWNER, "trainy.ai/secret-basename": "c",
                "trainy.ai/secret-kind": "default"}},
            "data": {}})
    );
    assert_eq!(
        secret_object("x").named("y").labels(json!({})).json()["metadata"],
        json!({"name": "y", "labels": {}})
    );
}

#[test]
fn writes_are_the_writes_and_not_the_reviews() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    env.create_env("w", &[("K", "v")]).success();
    env.run(&["whoami"]).success();
    assert!(server.count("POST", "/selfsubjectreviews") >= 1);
    assert_eq!(
        server.writes(),
        [format!("POST /api/v1/namespaces/{}/secrets", env.namespace)]
    );
    assert_eq!(server.count("POST", "/secrets"), 1);
    assert!(server.sent("POST") > 1, "the reviews are sent, not writes");
    env.clear_requests();
    assert_eq!(server.requests(), vec![]);
    env.assert_no_writes();
}

#[test]
#[should_panic(expected = "leaked")]
fn a_run_started_in_the_background_is_checked_for_canaries() {
    let env = TestEnv::new();
    let value = env.canary("shown");
    env.create("shown", &[("K", "old")]).success();
    let file = env.manifest(&[entry("shown").inline(&[("K", &value)])]);
    env.cmd(&["diff", "-f", &file, "--show-secrets"])
        .start()
        .finish();
}

#[test]
fn the_secret_create_verbs_write_the_command_lines_they_name() {
    let env = TestEnv::new();
    env.file("f.txt", "f");
    let ns = &env.namespace;
    let cases = [
        (
            env.create_env("e", &[("A", "1"), ("B", "")]),
            "secret create --kind env --inline A=1 --inline B= e",
        ),
        (
            env.create("d", &[("A", "1")]),
            "secret create --inline A=1 d",
        ),
        (
            env.create_file("f", "f.txt"),
            "secret create --from-file f.txt f",
        ),
        (
            env.create_git_ssh("g", "f.txt"),
            "secret create --kind git-ssh --from-file f.txt g",
        ),
        (
            env.as_owner(OTHER_OWNER).create("o", &[("A", "1")]),
            "secret create --inline A=1 o",
        ),
    ];
    for (run, args) in cases {
        run.success();
        assert_eq!(run.command, format!("kubectl-konduktor -n {ns} {args}"));
    }
    assert!(env.my_secret("e").is_some() && env.my_secret("o").is_none());
    assert!(env.secret(&format!("o-{OTHER_OWNER}")).is_some());
    assert_eq!(env.my_data("e")["B"], b"");
}

#[test]
fn owner_unset_leaves_the_owner_to_the_binary() {
    let env = TestEnv::new();
    env.home_file(".konduktor/user_hash", "0123abcd");
    let json = env
        .cmd(&["whoami", "-o", "json"])
        .owner_unset()
        .run()
        .json();
    assert_eq!(json["ownerHash"], "0123abcd");
    assert_eq!(json["ownerHashSource"]["type"], "cacheFile");
    let json = env.cmd(&["whoami", "-o", "json"]).run().json();
    assert_eq!(json["ownerHash"], OWNER);
}

#[test]
fn with_kubeconfig_runs_in_that_kubeconfigs_namespace() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    server.create_namespace("elsewhere");
    let kubeconfig = env.file(
        "elsewhere-kubeconfig",
        super::fake_kubeconfig(&server.url(), "elsewhere", super::apiserver::ALICE_TOKEN),
    );
    let json = env
        .with_kubeconfig(&kubeconfig, &["whoami", "-o", "json"])
        .run()
        .json();
    assert_eq!(json["namespace"], "elsewhere");
}

/// Whether `check` fails (panics).
fn fails(check: impl FnOnce()) -> bool {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).is_err()
}

#[test]
fn the_request_checks_fail_after_a_write() {
    let env = TestEnv::new();
    // On a real cluster they check nothing: nothing is recorded there.
    if env.fake().is_none() {
        return;
    }
    env.create("v", &[("K", "v")]).success();
    // (With a secret of ours, a list looks for no other owner hash.)
    env.clear_requests();
    env.run(&["secret", "list"]).success();
    assert!(!fails(|| env.assert_only_the_owner_list()));
    assert!(!fails(|| env.assert_no_writes()));
    env.create("w", &[("K", "v")]).success();
    assert!(fails(|| env.assert_no_writes()));
    assert!(fails(|| env.assert_only_the_owner_list()));
}

#[test]
fn a_kubeconfig_of_contexts_reaches_each_in_its_namespace() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    server.create_namespace("elsewhere");
    let config = super::kubeconfig()
        .fake("here", &server.url(), &env.namespace)
        .fake("there\u{9b}", &server.url(), "elsewhere");
    let text = config.text();
    assert!(
        !text.contains('\u{9b}') && text.contains("there\\u009b"),
        "{text}"
    );
    let file = env.kubeconfig_file("contexts", &config);
    let whoami = |context: &str| {
        env.with_kubeconfig(&file, &["whoami", "-o", "json", "--context", context])
            .run()
            .json()
    };
    // The first context is the current one.
    let json = env
        .with_kubeconfig(&file, &["whoami", "-o", "json"])
        .run()
        .json();
    assert_eq!(json["namespace"], env.namespace.as_str(), "{json:#}");
    assert_eq!(whoami("there\u{9b}")["namespace"], "elsewhere");
    assert_eq!(
        whoami("here")["clusterUser"]["username"],
        super::apiserver::ALICE
    );
}

#[test]
fn a_spawned_command_is_signalled_and_waited_for() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    // A LIST held long enough to be interrupted.
    server.inject(
        super::FaultRule::new(super::Fault::Delay(std::time::Duration::from_secs(600)))
            .on("GET")
            .path("/secrets"),
    );
    let child = env.cmd(&["secret", "list"]).spawn();
    super::wait_until("the list was never sent", || {
        server.count("GET", "/secrets") > 0
    });
    super::send_signal("TERM", &child);
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(out.status.code(), Some(0), "{out:?}");
}

#[test]
fn in_repo_runs_from_the_repository_root() {
    let env = TestEnv::new();
    let render = || {
        env.cmd(&["render-job", "-f", "examples/job.yaml"])
            .args(&["--secrets", "examples/secrets.yaml"])
            .env("HF_TOKEN", "hf_demo")
    };
    render().in_repo().run().success();
    render().run().failure().stderr_has("examples/job.yaml");
}
