//! One identity on every workstation (docs/konduktor-compat.md §2.4, §5.1): who wrote each
//! secret (`created-by`), finding the caller's other owner hashes, and
//! `identity candidates`. The second workstation is played by running as
//! another owner hash with the same cluster credentials.

use serde_json::{Value, json};

use crate::support::{
    Fault, FaultRule, OWNER, TestEnv, entry, fake_kubeconfig, fixture_json, labels, mine,
    secret_object,
};

const CREATED_BY: &str = "konduktor.trainy.ai/created-by";
/// This workstation's hash in the tests that play the second workstation.
const SECOND: &str = "5ec0d0d5";

/// The username the cluster authenticates for the test credentials.
fn cluster_user(env: &TestEnv) -> String {
    let json = env.run(&["whoami", "-o", "json"]).json();
    let user = json["clusterUser"]["username"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(!user.is_empty(), "the server names the user: {json}");
    user
}

fn created_by(env: &TestEnv, name: &str) -> Option<String> {
    let secret = env
        .secret(name)
        .unwrap_or_else(|| panic!("{name} is missing"));
    secret["metadata"]["annotations"][CREATED_BY]
        .as_str()
        .map(str::to_string)
}

const CREATED_BY_USER_ID: &str = "konduktor.trainy.ai/created-by-user-id";
/// The tests' login (`alice`) on another workstation.
const ALICE_ELSEWHERE: &str = "alice-0a0a";

/// A secret as another workstation of `user` (owner `hash`, from the
/// login `alice` on another host) left it.
fn seed_written_by(env: &TestEnv, basename: &str, hash: &str, user: &str, key: &str) {
    seed_written_from(env, basename, hash, user, Some(ALICE_ELSEWHERE), key);
}

/// A secret that `user` wrote from the workstation login `user_id`
/// (`None`: before logins were recorded).
fn seed_written_from(
    env: &TestEnv,
    basename: &str,
    hash: &str,
    user: &str,
    user_id: Option<&str>,
    key: &str,
) {
    let value = env.canary(&format!("{basename}-value"));
    let written = secret_object(basename)
        .owner(hash)
        .annotation(CREATED_BY, user)
        .value(key, value);
    env.seed(match user_id {
        Some(id) => written.annotation(CREATED_BY_USER_ID, id),
        None => written,
    });
}

fn user_id_of(env: &TestEnv, name: &str) -> Option<String> {
    let secret = env
        .secret(name)
        .unwrap_or_else(|| panic!("{name} is missing"));
    secret["metadata"]["annotations"][CREATED_BY_USER_ID]
        .as_str()
        .map(str::to_string)
}

/// SelfSubjectReviews (who am I) the test server answered.
fn reviews(server: &crate::support::ApiServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/selfsubjectreviews"))
        .count()
}

/// The second workstation: the same cluster credentials, another owner hash.
fn second(env: &TestEnv) -> crate::support::cli::Caller<'_> {
    env.as_owner(SECOND)
}

#[test]
fn created_by_is_set_on_create_kept_on_merge_and_added_where_missing() {
    let env = TestEnv::new();
    let user = cluster_user(&env);
    // Konduktor's CLI wrote my-env without the annotation; someone else
    // (another tool run by another cluster user) wrote `theirs` for us.
    env.seed_fixture(&mine("my-env"));
    env.seed(
        secret_object("theirs")
            .annotation(CREATED_BY, "someone-else")
            .value("OLD", "1"),
    );
    let value = env.canary("created-by");
    let manifest = env.manifest(&[
        entry("fresh").kind("env").inline(&[("TOKEN", &value)]),
        entry("my-env")
            .kind("env")
            .inline(&[("FOO", "bar"), ("NEW", "x")]),
        entry("theirs").kind("env").inline(&[("NEW", "y")]),
    ]);
    env.clear_requests();
    env.apply(&manifest).success();
    assert_eq!(
        created_by(&env, &mine("fresh")),
        Some(user.clone()),
        "set on create"
    );
    assert_eq!(
        created_by(&env, &mine("my-env")),
        Some(user.clone()),
        "added on merge where missing"
    );
    assert_eq!(
        created_by(&env, &mine("theirs")).as_deref(),
        Some("someone-else"),
        "kept on merge"
    );
    // The workstation login goes with created-by: `<login>-<4 hex>`, set
    // on create, added with created-by, never added beside another writer.
    let fresh_id = user_id_of(&env, &mine("fresh")).unwrap_or_default();
    let (login, host) = fresh_id.rsplit_once('-').unwrap_or_default();
    assert_eq!(login, "alice", "{fresh_id}");
    assert!(
        host.len() == 4 && host.bytes().all(|b| b.is_ascii_hexdigit()),
        "{fresh_id}"
    );
    assert_eq!(user_id_of(&env, &mine("my-env")), Some(fresh_id.clone()));
    assert_eq!(user_id_of(&env, &mine("theirs")), None);
    if let Some(server) = env.fake() {
        assert_eq!(reviews(server), 1, "one review for the whole run");
    }
    // `secret create` writes it too, with one review.
    env.clear_requests();
    env.create_env("imperative", &[("A", "1")]).success();
    assert_eq!(created_by(&env, &mine("imperative")), Some(user));
    assert_eq!(user_id_of(&env, &mine("imperative")), Some(fresh_id));
    if let Some(server) = env.fake() {
        assert_eq!(reviews(server), 1);
    }
}

#[test]
fn a_run_that_changes_nothing_asks_nobody_who_we_are() {
    let env = TestEnv::new();
    let path = env.manifest(&[entry("calm").kind("env").inline(&[("A", "1")])]);
    env.apply(&path).success();
    let Some(server) = env.fake() else { return };
    for args in [["diff", "-f", &path], ["apply", "-f", &path]] {
        server.clear_requests();
        env.run(&args).success();
        let requests = server.requests();
        assert_eq!(requests.len(), 1, "{args:?}: only the LIST: {requests:#?}");
    }
}

#[test]
fn without_an_answer_from_the_review_api_secrets_are_written_unattributed() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    // An old server (no SelfSubjectReview before 1.28): 404.
    server.inject(
        FaultRule::new(Fault::Status(404))
            .on("POST")
            .path("selfsubjectreviews"),
    );
    let value = env.canary("unattributed");
    let manifest = env.manifest(&[entry("old-server").kind("env").inline(&[("T", &value)])]);
    env.run(&["-v", "apply", "-f", &manifest])
        .success()
        .stderr_has("without a created-by annotation");
    assert_eq!(created_by(&env, &mine("old-server")), None);
    // RBAC that refuses the review: the same.
    server.deny_review("alice");
    env.run(&[
        "-v", "secret", "create", "--kind", "env", "--inline", "A=1", "denied",
    ])
    .success()
    .stderr_has("without a created-by annotation");
    assert_eq!(created_by(&env, &mine("denied")), None);
}

/// The recorded object after Konduktor's CLI merged into a secret that
/// carried our annotations: its patch sends labels and data only, so both
/// stay. We read it as ours, attribute it, and keep its writer on our merge.
#[test]
fn konduktor_cli_keeps_created_by_when_it_merges_and_so_do_we() {
    let recorded = fixture_json(&format!(
        "konduktor-made/my-env-annotated-merged-{OWNER}.json"
    ));
    let annotations = &recorded["metadata"]["annotations"];
    assert_eq!(
        annotations[CREATED_BY], "admin",
        "kept by Konduktor's merge"
    );
    assert!(annotations["konduktor.trainy.ai/applied"].is_string());
    assert!(
        recorded["data"]["BAZ"].is_string(),
        "Konduktor's merge added BAZ"
    );
    assert!(recorded["data"]["FOO"].is_string(), "and kept FOO");

    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    env.seed(recorded);
    // From a second workstation, as the cluster user who wrote it.
    server.add_token(
        "admin-token",
        "admin",
        &["system:masters", "system:authenticated"],
    );
    let admin = env.file(
        "admin.kubeconfig",
        fake_kubeconfig(&server.url(), &env.namespace, "admin-token"),
    );
    let json = second(&env)
        .cmd(&["identity", "candidates", "-o", "json"])
        .kubeconfig(&admin)
        .run()
        .json();
    assert_eq!(json["clusterUser"], "admin");
    assert_eq!(json["candidates"][0]["hash"], OWNER);
    assert_eq!(json["candidates"][0]["secrets"], 1);
    // Our merge (by alice) keeps admin as the writer, and Konduktor's keys.
    let manifest = env.manifest(&[entry("my-env-ann").kind("env").inline(&[("QUX", "1")])]);
    env.apply(&manifest).success();
    let merged = env.my_secret("my-env-ann").unwrap_or_default();
    assert_eq!(merged["metadata"]["annotations"][CREATED_BY], "admin");
    let keys: Vec<&String> = merged["data"]
        .as_object()
        .map(|d| d.keys().collect())
        .unwrap_or_default();
    assert_eq!(keys, ["BAZ", "FOO", "QUX"]);
}

#[test]
fn a_second_workstation_is_told_where_its_secrets_are() {
    let env = TestEnv::new();
    let user = cluster_user(&env);
    // The first workstation's secrets (owner OWNER), and another user's,
    // whose key name is itself a canary: never shown.
    seed_written_by(&env, "hf", OWNER, &user, "HF_TOKEN");
    seed_written_by(&env, "wandb", OWNER, &user, "WANDB_API_KEY");
    let foreign_key = env.canary("foreign-key").replace('-', "_");
    seed_written_by(&env, "other", "0badf00d", "bob", &foreign_key);
    let adopt = format!("kubectl konduktor identity adopt {OWNER}");

    let list = second(&env).run(&["secret", "list"]);
    list.success()
        .stderr_has("No secrets owned by you")
        .stderr_has(&format!("{OWNER} (2 secrets)"))
        .stderr_has(&adopt);
    let manifest = env.manifest(&[entry("hf").kind("env").inline(&[("HF_TOKEN", "x")])]);
    let diff = second(&env).diff(&manifest);
    diff.exits(1).stderr_has(&adopt);
    let whoami = second(&env).run(&["whoami"]);
    whoami.success().stdout_has(&adopt);
    let json = second(&env).run(&["whoami", "-o", "json"]).json();
    assert_eq!(json["ownerCandidates"]["candidates"][0]["hash"], OWNER);
    assert_eq!(json["ownerCandidates"]["candidates"][0]["secrets"], 2);
    for out in [&list.stdout, &list.stderr, &diff.stderr, &whoami.stdout] {
        for key in ["HF_TOKEN", "WANDB_API_KEY", "0badf00d", "bob"] {
            assert!(!out.contains(key), "{key} shown:\n{out}");
        }
    }
    // The lookup fetched no values: a metadata-only list.
    if let Some(server) = env.fake() {
        let lists: Vec<_> = server
            .requests()
            .into_iter()
            .filter(|r| {
                r.method == "GET" && r.label_selector().as_deref() == Some("parent=konduktor")
            })
            .collect();
        assert!(!lists.is_empty());
        for r in lists {
            let accept = r.accept.unwrap_or_default();
            assert!(accept.contains("as=PartialObjectMetadataList"), "{accept}");
        }
    }
    // Where the secrets are yours, list says nothing more.
    env.run(&["secret", "list"]).success().stderr_lacks("hint");
}

#[test]
fn a_shared_cluster_user_gets_no_suggestion() {
    let env = TestEnv::new();
    let user = cluster_user(&env);
    // Written before logins were recorded: nothing tells whose they are.
    for hash in ["00000001", "00000002", "00000003", "00000004"] {
        seed_written_from(&env, "shared", hash, &user, None, "K");
    }
    second(&env)
        .run(&["secret", "list"])
        .success()
        .stderr_has("several people seem to share")
        .stderr_has("none suggested")
        .stderr_has("no workstation login recorded")
        .stderr_lacks("identity adopt");
    // An explicit adoption still works: candidates lists them all.
    let json = second(&env)
        .run(&["identity", "candidates", "-o", "json"])
        .json();
    assert_eq!(json["shared"], true);
    assert_eq!(json["candidates"].as_array().map(Vec::len), Some(4));
}

#[test]
fn candidates_in_this_namespace_and_in_all() {
    let env = TestEnv::new();
    let user = cluster_user(&env);
    seed_written_by(&env, "a", "0badf00d", &user, "K");
    seed_written_by(&env, "b", "0badf00d", &user, "K");
    seed_written_by(&env, "c", "12345678", &user, "K");
    second(&env)
        .run(&["identity", "candidates"])
        .success()
        .stdout_has("OWNER HASH")
        .stdout_has("0badf00d")
        .stdout_has("12345678")
        .stdout_has("identity adopt <hash>");
    let json = second(&env)
        .run(&["identity", "candidates", "-o", "json"])
        .json();
    let hashes: Vec<(&str, u64)> = json["candidates"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["hash"].as_str().unwrap_or_default(),
                c["secrets"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert!(
        hashes.contains(&("0badf00d", 2)) && hashes.contains(&("12345678", 1)),
        "{hashes:?}"
    );
    let Some(server) = env.fake() else { return };
    // Another namespace, seen with -A only.
    server.create_namespace("elsewhere");
    server.put_secret(
        "elsewhere",
        json!({"metadata": {"name": "d-0badf00d", "labels": labels("0badf00d", "d", "env"),
            "annotations": {CREATED_BY: user}},
            "type": "Opaque", "data": {"K": "MQ=="}}),
    );
    let all = second(&env)
        .run(&["identity", "candidates", "-A", "-o", "json"])
        .json();
    let first: &Value = &all["candidates"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["hash"] == "0badf00d")
        .cloned()
        .unwrap_or_default();
    assert_eq!(first["secrets"], 3);
    assert_eq!(first["namespaces"]["elsewhere"], 1);
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.method == "GET" && r.path == "/api/v1/secrets"),
        "one cluster-wide list"
    );
    second(&env)
        .run(&["identity", "candidates", "-A"])
        .success()
        .stdout_has("NAMESPACES")
        .stdout_has("elsewhere(1)");
    // RBAC that allows a namespace but not all of them: a clear error.
    server.deny_cluster_wide("alice", "list");
    second(&env)
        .run(&["identity", "candidates", "-A"])
        .failure()
        .stderr_has("all namespaces")
        .stderr_has("ClusterRole")
        .stderr_has("-n");
    second(&env).run(&["identity", "candidates"]).success();
    // No review, no candidates: said plainly.
    server.deny_review("alice");
    second(&env)
        .run(&["identity", "candidates"])
        .failure()
        .stderr_has("cannot tell which cluster user you are");
    // And the hints go quiet rather than fail.
    second(&env).run(&["secret", "list"]).success();
    second(&env).run(&["whoami"]).success();
}

/// A user name from the cluster is escaped where it is placed: a line break
/// in it cannot forge a line of whoami's report.
#[test]
fn a_cluster_user_name_cannot_forge_lines() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let forged = "alice\nhint: kubectl konduktor identity adopt deadbeef";
    server.add_token(
        crate::support::apiserver::ALICE_TOKEN,
        forged,
        &["system:authenticated"],
    );
    let run = env.run(&["whoami"]);
    run.success().stdout_has("alice\\nhint");
    assert!(
        !run.stdout.lines().any(|l| l.starts_with("hint:")),
        "{}",
        run.stdout
    );
}

/// The hint is looked for within a short while: a server that stalls on
/// it does not hold up a command that has done its work.
#[test]
fn a_stalled_lookup_does_not_hold_up_the_command() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    // The owner LIST answers; the metadata LIST behind the hint stalls.
    server.inject(
        FaultRule::new(Fault::Delay(std::time::Duration::from_millis(1)))
            .on("GET")
            .path("/secrets")
            .times(1),
    );
    server.inject(
        FaultRule::new(Fault::Delay(std::time::Duration::from_secs(300)))
            .on("GET")
            .path("/secrets"),
    );
    second(&env)
        .cmd(&["--request-timeout", "0", "secret", "list"])
        .run_unhung()
        .success()
        .stderr_has("No secrets owned by you");
}

/// Issue 19 point 5: an admin kubeconfig shared by bob and alice. Bob's
/// secrets, written by the same cluster user from his login, are listed
/// with why they are not suggested; only alice's own other workstation is
/// suggested, in whoami, in a command's hint and in `identity candidates`.
#[test]
fn a_shared_cluster_user_is_pointed_only_at_its_callers_own_hash() {
    let env = TestEnv::new();
    let user = cluster_user(&env);
    seed_written_from(&env, "hf", "0badf00d", &user, Some("bob-3f50"), "HF_TOKEN");
    seed_written_from(&env, "wandb", "0badf00d", &user, Some("bob-3f50"), "K");
    second(&env)
        .run(&["whoami"])
        .success()
        .stdout_has("0badf00d (2 secrets: written from another login (bob-3f50))")
        .stdout_has("none suggested")
        .stdout_lacks("identity adopt");
    let json = second(&env).run(&["whoami", "-o", "json"]).json();
    let bob = &json["ownerCandidates"]["candidates"][0];
    assert_eq!(bob["hash"], "0badf00d");
    assert_eq!(bob["suggested"], false);
    assert_eq!(bob["notSuggested"]["reason"], "otherLogin");
    assert_eq!(bob["writers"][0]["userId"], "bob-3f50");

    // Alice's own secrets from her other workstation: hers alone suggested.
    seed_written_by(&env, "mine", "12345678", &user, "K");
    let adopt = "kubectl konduktor identity adopt 12345678";
    second(&env).run(&["whoami"]).success().stdout_has(adopt);
    second(&env)
        .run(&["secret", "list"])
        .success()
        .stderr_has(adopt)
        .stderr_lacks("0badf00d");
    second(&env)
        .run(&["identity", "candidates"])
        .success()
        .stdout_has("WRITTEN FROM")
        .stdout_has("bob-3f50")
        .stdout_has("not suggested: written from another login (bob-3f50)")
        .stdout_has("suggested");
}

/// Issue 19 point 5: `identity adopt` shows the secrets it would take over
/// (names, writers, times) before it asks; without a terminal it needs
/// --yes, and says so after the list.
#[test]
fn adopt_shows_whose_secrets_it_takes_over_and_asks() {
    let env = TestEnv::new();
    let user = cluster_user(&env);
    seed_written_from(&env, "hf", "0badf00d", &user, Some("bob-3f50"), "HF_TOKEN");
    let adopt = || env.cmd(&["identity", "adopt", "0badf00d"]).owner_unset();
    adopt()
        .run()
        .failure()
        .stdout_has("Secrets under owner hash 0badf00d")
        .stdout_has("hf-0badf00d")
        .stdout_has(&format!("bob-3f50 as \"{user}\""))
        .stdout_has("ago")
        .stderr_has("no terminal");
    assert!(
        !env.home_path(".konduktor/user_hash").exists(),
        "nothing written"
    );
    adopt()
        .on_terminal("no\n")
        .exits(1)
        .stdout_has("hf-0badf00d")
        .stdout_has("written by someone else")
        .stdout_has("Type 'yes' to go on");
    adopt()
        .arg("--yes")
        .run()
        .success()
        .stdout_has("hf-0badf00d")
        .stdout_has("Adopted owner hash 0badf00d");
}

/// A secret under `hash` as Konduktor's CLI writes it: no writer recorded.
fn seed_unrecorded(env: &TestEnv, basename: &str, hash: &str) {
    let value = env.canary(&format!("{basename}-value"));
    env.seed(secret_object(basename).owner(hash).value("K", value));
}

/// Attack 1 F1: Bob's hash holds secrets Konduktor's CLI wrote (no writer
/// recorded); a co-tenant adds one under it as the caller's cluster user
/// and login. It is not suggested (and the hint says why), and `identity
/// adopt` cautions that the unrecorded ones may be another person's.
#[test]
fn a_hash_with_unrecorded_secrets_is_not_suggested_and_adopt_cautions() {
    let env = TestEnv::new();
    let user = cluster_user(&env);
    for basename in ["hf", "wandb", "aws"] {
        seed_unrecorded(&env, basename, "cccc3333");
    }
    seed_written_by(&env, "bait", "cccc3333", &user, "K");
    second(&env)
        .run(&["whoami"])
        .success()
        .stdout_has("none suggested")
        .stdout_has("cccc3333 (1 secret: 3 secrets with no record of who wrote them)")
        .stdout_lacks("identity adopt");
    second(&env)
        .run(&["secret", "list"])
        .success()
        .stderr_lacks("identity adopt");
    let json = second(&env)
        .run(&["identity", "candidates", "-o", "json"])
        .json();
    let c = &json["candidates"][0];
    assert_eq!(c["hash"], "cccc3333");
    assert_eq!(c["suggested"], false);
    assert_eq!(c["notSuggested"]["reason"], "unrecorded");
    assert_eq!(c["unrecorded"], 3);

    let adopt = || env.cmd(&["identity", "adopt", "cccc3333"]).owner_unset();
    adopt()
        .on_terminal("no\n")
        .exits(1)
        .stdout_has("hf-cccc3333")
        .stdout_has("3 secrets have no record of who wrote them: they may be another person's");
    assert!(!env.home_path(".konduktor/user_hash").exists());
    // With --yes there is no question, but the caution is still said.
    adopt()
        .arg("--yes")
        .run()
        .success()
        .stderr_has("warning: 3 secrets have no record of who wrote them")
        .stdout_has("Adopted owner hash cccc3333");
}

/// Attack 1 F2: more distinct writers under a hash than are kept to show
/// hide one from another login; every secret counts in the decision.
#[test]
fn a_writer_beyond_the_shown_ones_still_blocks_the_suggestion() {
    let env = TestEnv::new();
    let user = cluster_user(&env);
    for i in 0..16 {
        let id = format!("alice-{i:04x}");
        seed_written_from(&env, &format!("a{i:02}"), "dddd4444", &user, Some(&id), "K");
    }
    seed_written_from(&env, "zreal", "dddd4444", &user, Some("bob-9999"), "K");
    let json = second(&env)
        .run(&["identity", "candidates", "-o", "json"])
        .json();
    let c = &json["candidates"][0];
    assert_eq!(c["hash"], "dddd4444");
    assert_eq!(c["suggested"], false, "{c}");
    assert_eq!(c["notSuggested"]["reason"], "otherLogin");
    assert_eq!(c["notSuggested"]["detail"], "bob-9999");
    assert_eq!(c["writersCut"], true);
    second(&env)
        .run(&["whoami"])
        .success()
        .stdout_has("written from another login (bob-9999)")
        .stdout_lacks("identity adopt");
}
