//! Konduktor's own config file (docs/konduktor-compat.md §5.4):
//! `KONDUKTOR_CONFIG`, else `~/.konduktor/config.yaml`. Its
//! `kubernetes.allowed_contexts` picks the context when `--context` is not
//! given (exactly one entry), `whoami` names the file, and a broken file
//! stops every command that connects, located, before any request, showing
//! no value. These need kubeconfigs of our own: in-process server only.

use std::path::{Path, PathBuf};

use crate::support::apiserver::ALICE_TOKEN;
use crate::support::{ApiServer, OWNER, Run, TestEnv, entry, mine};

/// Write `~/.konduktor/config.yaml` in the test HOME.
fn write_config(env: &TestEnv, text: &str) -> PathBuf {
    env.home_file(".konduktor/config.yaml", text)
}

/// A kubeconfig whose current context `fake` is the test server and whose
/// context `other` is `second`; both in the test namespace.
fn two_contexts(env: &TestEnv, first: &ApiServer, second: &ApiServer) -> PathBuf {
    second.create_namespace(&env.namespace);
    let ns = &env.namespace;
    // Both servers are https behind the test CA.
    let ca = crate::support::proxy::ca_data();
    env.file(
        "two-contexts",
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster: {{server: {}, certificate-authority-data: {ca}}}
- name: other
  cluster: {{server: {}, certificate-authority-data: {ca}}}
users:
- name: alice
  user: {{token: {ALICE_TOKEN}}}
contexts:
- name: fake
  context: {{cluster: fake, user: alice, namespace: {ns}}}
- name: other
  context: {{cluster: other, user: alice, namespace: {ns}}}
current-context: fake
",
            first.url(),
            second.url()
        ),
    )
}

/// Run with this kubeconfig, in its context's namespace.
fn run_in(env: &TestEnv, kubeconfig: &Path, args: &[&str]) -> Run {
    env.with_kubeconfig(kubeconfig, args).run()
}

fn whoami_json(env: &TestEnv, kubeconfig: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["whoami", "-o", "json"];
    args.extend_from_slice(extra);
    let run = run_in(env, kubeconfig, &args);
    run.success();
    run.json()
}

#[test]
fn one_allowed_context_is_used_and_the_context_flag_still_wins() {
    let env = TestEnv::new();
    let Some(first) = env.fake() else { return };
    let second = ApiServer::start();
    let kubeconfig = two_contexts(&env, first, &second);
    write_config(
        &env,
        "logs:\n  backend: loki\nkubernetes:\n  provision_timeout: 300\n  allowed_contexts:\n    - other\n",
    );

    let json = whoami_json(&env, &kubeconfig, &[]);
    assert_eq!(json["context"], "other", "the config's one context is used");
    assert_eq!(json["server"], second.url().as_str());

    // A write goes there too, not to the kubeconfig's current context.
    let v = env.canary("routed");
    let run = run_in(
        &env,
        &kubeconfig,
        &[
            "secret",
            "create",
            "--inline",
            &format!("K={v}"),
            "routed",
            "-v",
        ],
    );
    run.success()
        .stderr_has("context `other` from `kubernetes.allowed_contexts`");
    let name = mine("routed");
    assert!(second.secret(&env.namespace, &name).is_some());
    assert!(first.secret(&env.namespace, &name).is_none());

    // --context wins over the config.
    let json = whoami_json(&env, &kubeconfig, &["--context", "fake"]);
    assert_eq!(json["context"], "fake");
    assert_eq!(json["server"], first.url().as_str());
}

#[test]
fn several_allowed_contexts_are_ignored_and_that_is_logged_at_v() {
    let env = TestEnv::new();
    let Some(first) = env.fake() else { return };
    let second = ApiServer::start();
    let kubeconfig = two_contexts(&env, first, &second);
    write_config(&env, "kubernetes:\n  allowed_contexts: [other, fake]\n");
    let run = run_in(&env, &kubeconfig, &["whoami", "-o", "json", "-v"]);
    run.success()
        .stderr_has("lists 2 contexts: ignored")
        .stderr_has("using the kubeconfig's current context");
    assert_eq!(run.json()["context"], "fake");
    // Not logged without -v.
    run_in(&env, &kubeconfig, &["whoami", "-o", "json"])
        .success()
        .stderr_lacks("allowed_contexts");
}

#[test]
fn an_allowed_context_missing_from_the_kubeconfig_says_where_it_came_from() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let path = write_config(&env, "kubernetes:\n  allowed_contexts: [nowhere]\n");
    let run = env.run(&["secret", "list"]);
    run.failure()
        .stderr_has("`nowhere`")
        .stderr_has("kubernetes.allowed_contexts")
        .stderr_has(&path.display().to_string());
    assert_eq!(server.requests(), vec![], "nothing is sent");
}

#[test]
fn a_missing_named_config_is_an_error_naming_it() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let missing = env.path("no-such-config.yaml");
    env.cmd(&["secret", "list"])
        .env("KONDUKTOR_CONFIG", &missing)
        .run()
        .exits(1)
        .stderr_has("KONDUKTOR_CONFIG")
        .stderr_has(&missing.display().to_string())
        .stderr_has("does not exist");
    assert_eq!(server.requests(), vec![], "nothing is sent");
    // whoami still answers, and says why.
    let json = env
        .cmd(&["whoami", "-o", "json"])
        .env("KONDUKTOR_CONFIG", &missing)
        .run()
        .success()
        .json();
    assert_eq!(json["ownerHash"], OWNER);
    assert_eq!(
        json["konduktorConfig"],
        missing.display().to_string().as_str()
    );
    assert!(
        json["konduktorConfigError"][0]
            .as_str()
            .is_some_and(|e| e.contains("does not exist")),
        "{json}"
    );
}

/// Broken configs, each with a canary in an unrelated key and in a
/// malformed value, and where the problem is (line:column).
fn broken_configs(env: &TestEnv) -> Vec<(&'static str, String, &'static str)> {
    let unrelated = env.canary("unrelated");
    let malformed = env.canary("malformed");
    let key = env.canary("key");
    vec![
        (
            "bad YAML",
            format!(
                "logs:\n  token: {unrelated}\nkubernetes:\n  allowed_contexts: [other\n  pod_config: {{x: \"{malformed}\"}}\n"
            ),
            "config.yaml:5:",
        ),
        (
            "wrong shape",
            format!(
                "api_server:\n  token: {unrelated}\nkubernetes:\n  allowed_contexts: {malformed}\n"
            ),
            "config.yaml:4:21",
        ),
        (
            "bad label key",
            format!(
                "admin_policy: {unrelated}\nkubernetes:\n  custom_metadata:\n    labels:\n      \"{key} x\": ok\n      team: \"{malformed}!\"\n"
            ),
            "config.yaml:5:7",
        ),
    ]
}

#[test]
fn a_broken_config_is_a_located_error_and_nothing_is_sent() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let manifest = env.manifest(&[entry("a").inline(&[("K", "v")])]);
    for (what, text, place) in broken_configs(&env) {
        write_config(&env, &text);
        for args in [
            vec!["secret", "list"],
            vec!["secret", "create", "--inline", "K=v", "x"],
            vec!["apply", "-f", &manifest, "--yes"],
            vec!["-vv", "secret", "delete", "x"],
        ] {
            env.run(&args).exits(1).stderr_has(place);
            assert_eq!(
                server.requests(),
                vec![],
                "{what}: {args:?}: nothing is sent"
            );
        }
        // whoami shows the problem in its report instead, and connects nowhere.
        let run = env.run(&["whoami"]);
        run.success()
            .stdout_has("Konduktor config: ")
            .stdout_has("(broken)")
            .stdout_has(place);
        let json = env.run(&["whoami", "-o", "yaml"]);
        json.success().stdout_has("konduktorConfigError:");
        assert_eq!(server.requests(), vec![], "{what}: whoami sends nothing");
    }
}

#[test]
fn whoami_shows_which_config_applied() {
    let env = TestEnv::new();
    env.run(&["whoami"])
        .success()
        .stdout_has("Konduktor config: none");
    assert_eq!(
        env.run(&["whoami", "-o", "json"]).json()["konduktorConfig"],
        serde_json::Value::Null
    );
    let path = write_config(&env, "# nothing yet\n");
    env.run(&["whoami"])
        .success()
        .stdout_has(&format!("Konduktor config: {}", path.display()));
    let json = env.run(&["whoami", "-o", "json"]).json();
    assert_eq!(json["konduktorConfig"], path.display().to_string().as_str());
    assert!(json.get("konduktorConfigError").is_none(), "{json}");
    // KONDUKTOR_CONFIG wins over the default file, and -vv says which applied.
    let named = env.file("team-config.yaml", "kubernetes: {}\n");
    env.cmd(&["whoami", "-vv"])
        .env("KONDUKTOR_CONFIG", &named)
        .run()
        .success()
        .stdout_has(&format!("Konduktor config: {}", named.display()))
        .stderr_has(&format!("Konduktor config: {}", named.display()));
}

#[test]
fn a_config_setting_our_labels_is_warned_about() {
    let env = TestEnv::new();
    write_config(
        &env,
        "kubernetes:\n  custom_metadata:\n    labels:\n      trainy.ai/secret-owner: 0000abcd\n      team: ml\n    annotations:\n      konduktor.trainy.ai/created-by: mallory\n",
    );
    let run = env.run(&["secret", "list"]);
    run.success()
        .stderr_has("warning:")
        .stderr_has("label `trainy.ai/secret-owner`")
        .stderr_has("annotation `konduktor.trainy.ai/created-by`")
        .stderr_has("ours is written")
        .stderr_lacks("`team`")
        .stderr_lacks("mallory");
}

/// `kubernetes.custom_metadata` lands on every secret written, on create
/// and on merge, under our own labels; a forged `created-by` never does.
#[test]
fn custom_metadata_is_merged_into_every_secret_written_and_ours_win() {
    let env = TestEnv::new();
    write_config(
        &env,
        "kubernetes:\n  custom_metadata:\n    labels:\n      team: ml\n      trainy.ai/secret-owner: 0000abcd\n    annotations:\n      cost-center: \"42\"\n      konduktor.trainy.ai/created-by: mallory\n",
    );
    let value = env.canary("custom-metadata");
    let manifest = env.manifest(&[entry("tagged").kind("env").inline(&[("T", &value)])]);
    env.apply(&manifest).success();
    // Konduktor's CLI made this one without them; our merge adds them.
    env.seed_fixture(&mine("my-env"));
    env.create_env("my-env", &[("NEW", "1")]).success();
    let whoami = env.run(&["whoami", "-o", "json"]).json();
    let user = whoami["clusterUser"]["username"]
        .as_str()
        .unwrap_or_default();
    for name in ["tagged", "my-env"] {
        let secret = env
            .my_secret(name)
            .unwrap_or_else(|| panic!("{name} missing"));
        let meta = &secret["metadata"];
        assert_eq!(meta["labels"]["team"], "ml", "{name}: {meta}");
        assert_eq!(
            meta["labels"]["trainy.ai/secret-owner"], OWNER,
            "{name}: ours win"
        );
        assert_eq!(meta["annotations"]["cost-center"], "42", "{name}: {meta}");
        assert_eq!(
            meta["annotations"]["konduktor.trainy.ai/created-by"], user,
            "{name}: the cluster's word, never the config's"
        );
    }
}
