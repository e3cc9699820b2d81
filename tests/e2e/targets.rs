//! One manifest, several clusters (issue 22): `diff` and `apply` over
//! `--context a --context b`, `--context a,b` or `--all-contexts`. Each
//! target is an in-process API server of its own, reached through its own
//! context of one kubeconfig, with latency injected; requests are counted
//! per server. One target behaves as before (the rest of the suite).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::support::apiserver::ALICE_TOKEN;
use crate::support::{ApiServer, OTHER_OWNER, Run, TestEnv, proxy};

const HEAD: &str = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n";

/// The test's own server as context `train`, two more as `infer` and
/// `stage`, each holding the test's namespace.
struct Clusters {
    env: TestEnv,
    others: Vec<ApiServer>,
    kubeconfig: PathBuf,
}

const NAMES: [&str; 3] = ["train", "infer", "stage"];

impl Clusters {
    /// `None` on a real cluster (one server only).
    fn new() -> Option<Self> {
        let env = TestEnv::new();
        env.fake()?;
        let others: Vec<ApiServer> = (0..2).map(|_| ApiServer::start()).collect();
        for s in &others {
            s.create_namespace(&env.namespace);
        }
        let mut clusters = Clusters {
            env,
            others,
            kubeconfig: PathBuf::new(),
        };
        let urls: Vec<String> = clusters.servers().iter().map(|s| s.url()).collect();
        let text = kubeconfig(&urls, &clusters.env.namespace);
        clusters.kubeconfig = clusters.env.file("multi-kubeconfig", text);
        Some(clusters)
    }

    /// The servers, in the order of [`NAMES`].
    fn servers(&self) -> Vec<&ApiServer> {
        let mut all: Vec<&ApiServer> = self.env.fake().into_iter().collect();
        all.extend(self.others.iter());
        all
    }

    fn command(&self) -> Command {
        let mut cmd = self.env.command();
        cmd.env("KUBECONFIG", &self.kubeconfig);
        cmd
    }

    /// Run with `-n <namespace>` (every target's) and check for leaks.
    fn run(&self, args: &[&str]) -> Run {
        let mut cmd = self.command();
        cmd.arg("-n").arg(&self.env.namespace).args(args);
        self.env.run_command(cmd)
    }

    fn manifest(&self, body: &str) -> PathBuf {
        self.env.file("secrets.yaml", format!("{HEAD}{body}"))
    }

    fn clear(&self) {
        for s in self.servers() {
            s.clear_requests();
        }
    }

    /// The LISTs of secrets each server saw, in the order of [`NAMES`].
    fn lists(&self) -> Vec<usize> {
        self.servers()
            .iter()
            .map(|s| {
                s.requests()
                    .iter()
                    .filter(|r| r.method == "GET" && r.path.ends_with("/secrets"))
                    .count()
            })
            .collect()
    }

    /// Requests of each server other than reads.
    fn writes(&self) -> Vec<usize> {
        self.servers()
            .iter()
            .map(|s| {
                s.requests()
                    .iter()
                    .filter(|r| matches!(r.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE"))
                    .filter(|r| !r.path.ends_with("/selfsubjectreviews"))
                    .filter(|r| !r.path.ends_with("/selfsubjectaccessreviews"))
                    .count()
            })
            .collect()
    }
}

/// A kubeconfig with one context per server, named as [`NAMES`].
fn kubeconfig(urls: &[String], namespace: &str) -> String {
    let mut clusters = String::new();
    let mut contexts = String::new();
    for (name, url) in NAMES.iter().zip(urls) {
        let ca = if url.starts_with("https://") {
            format!("    certificate-authority-data: {}\n", proxy::ca_data())
        } else {
            String::new()
        };
        clusters.push_str(&format!(
            "- name: {name}\n  cluster:\n    server: {url}\n{ca}"
        ));
        contexts.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: {name}\n    user: alice\n    namespace: {namespace}\n"
        ));
    }
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n{clusters}users:\n- name: alice\n  user:\n    token: {ALICE_TOKEN}\ncontexts:\n{contexts}current-context: train\n"
    )
}

fn hf(value: &str) -> String {
    format!("  - name: hf\n    kind: env\n    inline:\n      HF_TOKEN: {value}\n")
}

#[test]
fn diff_plans_every_target_grouped_with_one_list_each() {
    let Some(c) = Clusters::new() else { return };
    let token = c.env.canary("token");
    let file = c.manifest(&hf(&token));
    // Already on `train`; not yet on the others.
    c.run(&[
        "--context",
        "train",
        "apply",
        "-f",
        file.to_str().unwrap_or_default(),
    ])
    .success();
    for s in c.servers() {
        s.set_latency(Duration::from_millis(50));
    }
    c.clear();
    let run = c.run(&[
        "diff",
        "-f",
        file.to_str().unwrap_or_default(),
        "--context",
        "train",
        "--context",
        "infer,stage",
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let server = |i: usize| c.servers()[i].url();
    for (i, name) in NAMES.iter().enumerate() {
        run.stdout_has(&format!(
            "Target: context `{name}`, namespace `{}`, server {}",
            c.env.namespace,
            server(i)
        ));
    }
    // Each target's own summary, in the order given, then the total.
    let summaries: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("Plan: "))
        .collect();
    assert_eq!(
        summaries,
        [
            "Plan: 0 to create, 0 to merge, 0 to delete, 1 unchanged.",
            "Plan: 1 to create, 0 to merge, 0 to delete, 0 unchanged.",
            "Plan: 1 to create, 0 to merge, 0 to delete, 0 unchanged.",
        ],
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .trim_end()
            .ends_with("Total over 3 targets: 2 to create, 0 to merge, 0 to delete, 1 unchanged."),
        "{}",
        run.stdout
    );
    // One LIST per target, nothing else: no hint look-ups, no writes.
    assert_eq!(c.lists(), [1, 1, 1]);
    for s in c.servers() {
        assert_eq!(s.requests().len(), 1, "{:#?}", s.requests());
    }
}

#[test]
fn diff_json_gives_one_entry_per_target() {
    let Some(c) = Clusters::new() else { return };
    let file = c.manifest(&hf(&c.env.canary("token")));
    let run = c.run(&[
        "diff",
        "-f",
        file.to_str().unwrap_or_default(),
        "--context",
        "stage,train",
        "-o",
        "json",
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let json = run.json();
    let targets = json["targets"].as_array().cloned().unwrap_or_default();
    assert_eq!(targets.len(), 2, "{json:#}");
    assert_eq!(targets[0]["target"]["context"], "stage");
    assert_eq!(targets[1]["target"]["context"], "train");
    for t in &targets {
        assert_eq!(t["target"]["namespace"], c.env.namespace.as_str());
        assert_eq!(t["plan"]["summary"]["create"], 1, "{t:#}");
        assert!(t.get("error").is_none(), "{t:#}");
    }
    assert_eq!(json["total"]["create"], 2, "{json:#}");
}

#[test]
fn diff_exits_0_when_no_target_changes() {
    let Some(c) = Clusters::new() else { return };
    let file = c.manifest(&hf(&c.env.canary("token")));
    for name in NAMES {
        c.run(&[
            "--context",
            name,
            "apply",
            "-f",
            file.to_str().unwrap_or_default(),
        ])
        .success();
    }
    c.run(&[
        "diff",
        "-f",
        file.to_str().unwrap_or_default(),
        "--context",
        "train,infer,stage",
    ])
    .success()
    .stdout_has("Total over 3 targets: 0 to create, 0 to merge, 0 to delete, 3 unchanged.");
}

#[test]
fn diff_exits_above_1_when_a_target_cannot_be_read_and_shows_the_others() {
    let Some(c) = Clusters::new() else { return };
    let file = c.manifest(&hf(&c.env.canary("token")));
    c.servers()[1].deny("alice", "list");
    let run = c.run(&[
        "diff",
        "-f",
        file.to_str().unwrap_or_default(),
        "--context",
        "train,infer",
    ]);
    assert_eq!(run.code, Some(2), "{run:?}");
    run.stdout_has("Target: context `train`")
        .stdout_has("Target: context `infer`")
        .stdout_has("Not read: ")
        .stdout_has("Total over 2 targets: 1 to create, 0 to merge, 0 to delete, 0 unchanged; 1 target not read.")
        .stderr_has("target: context `infer`");
    let json = c.run(&[
        "diff",
        "-f",
        file.to_str().unwrap_or_default(),
        "--context",
        "train,infer",
        "-o",
        "json",
    ]);
    assert_eq!(json.code, Some(2), "{json:?}");
    let json = json.json();
    assert!(json["targets"][0]["plan"].is_object(), "{json:#}");
    assert!(json["targets"][1]["error"].is_string(), "{json:#}");
}

#[test]
fn all_contexts_takes_konduktors_allowed_contexts() {
    let Some(c) = Clusters::new() else { return };
    let file = c.manifest(&hf(&c.env.canary("token")));
    let config = c.env.file(
        "konduktor.yaml",
        "kubernetes:\n  allowed_contexts: [infer, stage]\n",
    );
    let mut cmd = c.command();
    cmd.env("KONDUKTOR_CONFIG", &config).args([
        "-n",
        &c.env.namespace,
        "diff",
        "-f",
        file.to_str().unwrap_or_default(),
        "--all-contexts",
    ]);
    let run = c.env.run_command(cmd);
    assert_eq!(run.code, Some(1), "{run:?}");
    run.stdout_has("Target: context `infer`")
        .stdout_has("Target: context `stage`")
        .stdout_has("Total over 2 targets");
    assert!(!run.stdout.contains("context `train`"), "{}", run.stdout);
    assert_eq!(c.lists(), [0, 1, 1]);
    // Without a config listing contexts: said, and nothing sent.
    c.clear();
    c.run(&[
        "diff",
        "-f",
        file.to_str().unwrap_or_default(),
        "--all-contexts",
    ])
    .failure()
    .stderr_has("allowed_contexts");
    assert_eq!(c.lists(), [0, 0, 0]);
    // Not with --context as well.
    let mut cmd = c.command();
    cmd.env("KONDUKTOR_CONFIG", &config).args([
        "diff",
        "-f",
        file.to_str().unwrap_or_default(),
        "--all-contexts",
        "--context",
        "train",
    ]);
    c.env
        .run_command(cmd)
        .failure()
        .stderr_has("--all-contexts and --context");
}

#[test]
fn one_context_named_twice_is_the_single_target_of_today() {
    let Some(c) = Clusters::new() else { return };
    let file = c.manifest(&hf(&c.env.canary("token")));
    let run = c.run(&[
        "diff",
        "-f",
        file.to_str().unwrap_or_default(),
        "--context",
        "infer,infer",
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(!run.stdout.contains("Target:"), "{}", run.stdout);
    run.stdout_has("Plan: 1 to create");
    // Only `infer` was asked (today's hint looks there for other hashes too).
    let lists = c.lists();
    assert!(lists[0] == 0 && lists[1] > 0 && lists[2] == 0, "{lists:?}");
}

#[test]
fn commands_of_one_target_refuse_several_contexts() {
    let Some(c) = Clusters::new() else { return };
    for args in [
        &["secret", "list", "--context", "train,infer"][..],
        &["--context", "train", "--context", "infer", "export"][..],
    ] {
        let run = c.run(args);
        assert_eq!(run.code, Some(2), "{run:?}");
        run.stderr_has("only `diff`, `apply` and `whoami` take several");
    }
    for s in c.servers() {
        assert!(s.requests().is_empty(), "{:#?}", s.requests());
    }
}

#[test]
fn an_owner_mismatch_stops_every_target_before_any_request() {
    let Some(c) = Clusters::new() else { return };
    let token = c.env.canary("token");
    let file = c.env.file(
        "secrets.yaml",
        format!(
            "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nowner: {OTHER_OWNER}\nsecrets:\n{}",
            hf(&token)
        ),
    );
    c.run(&[
        "diff",
        "-f",
        file.to_str().unwrap_or_default(),
        "--context",
        "train,infer,stage",
    ])
    .failure()
    .stderr_has("owner");
    for s in c.servers() {
        assert!(s.requests().is_empty(), "{:#?}", s.requests());
    }
}

#[test]
fn an_unusable_kubeconfig_entry_stops_every_target_before_any_request() {
    let Some(c) = Clusters::new() else { return };
    let file = c.manifest(&hf(&c.env.canary("token")));
    c.run(&[
        "diff",
        "-f",
        file.to_str().unwrap_or_default(),
        "--context",
        "train,nowhere",
    ])
    .failure()
    .stderr_has("nowhere")
    .stderr_has("nothing was read on any target");
    for s in c.servers() {
        assert!(s.requests().is_empty(), "{:#?}", s.requests());
    }
}

#[test]
fn apply_writes_every_target_and_a_rerun_converges() {
    let Some(c) = Clusters::new() else { return };
    let token = c.env.canary("token");
    let file = c.manifest(&hf(&token));
    let path = file.to_str().unwrap_or_default();
    c.run(&["--context", "train", "apply", "-f", path])
        .success();
    for s in c.servers() {
        s.set_latency(Duration::from_millis(20));
    }
    c.clear();
    let run = c.run(&["apply", "-f", path, "--context", "train,infer,stage"]);
    run.success()
        .stdout_has("Total over 3 targets: 2 to create, 0 to merge, 0 to delete, 1 unchanged.");
    // Each target's result under its header.
    assert_eq!(
        run.stdout.matches("Target: context `infer`").count(),
        2,
        "{}",
        run.stdout
    );
    assert_eq!(c.writes(), [0, 1, 1]);
    for s in c.servers() {
        let ours: Vec<_> = s
            .secrets(&c.env.namespace)
            .into_iter()
            .filter(|o| o["metadata"]["labels"]["trainy.ai/secret-owner"] == crate::support::OWNER)
            .collect();
        assert_eq!(ours.len(), 1, "{ours:#?}");
        // created-by from each cluster's own answer.
        assert_eq!(
            ours[0]["metadata"]["annotations"]["konduktor.trainy.ai/created-by"], "alice",
            "{:#}",
            ours[0]
        );
    }
    c.clear();
    c.run(&["apply", "-f", path, "--context", "train,infer,stage"])
        .success()
        .stdout_has("No changes: every target matches the manifest.");
    assert_eq!(c.writes(), [0, 0, 0]);
}

#[test]
fn apply_writes_nothing_anywhere_when_one_target_cannot_be_read() {
    let Some(c) = Clusters::new() else { return };
    let file = c.manifest(&hf(&c.env.canary("token")));
    c.servers()[2].deny("alice", "list");
    let run = c.run(&[
        "apply",
        "-f",
        file.to_str().unwrap_or_default(),
        "--context",
        "train,infer,stage",
    ]);
    run.failure()
        .stderr_has("nothing was written on any target")
        .stderr_has("`stage`");
    assert_eq!(c.writes(), [0, 0, 0]);
}

#[test]
fn apply_writes_nothing_anywhere_when_one_target_denies_a_write() {
    let Some(c) = Clusters::new() else { return };
    let file = c.manifest(&hf(&c.env.canary("token")));
    c.servers()[1].deny("alice", "create");
    let run = c.run(&[
        "apply",
        "-f",
        file.to_str().unwrap_or_default(),
        "--context",
        "train,infer,stage",
    ]);
    run.failure()
        .stderr_has("nothing was written on any target")
        .stderr_has("target: context `infer`");
    assert_eq!(c.writes(), [0, 0, 0]);
}

#[test]
fn apply_over_several_targets_asks_once_and_refuses_without_a_terminal() {
    let Some(c) = Clusters::new() else { return };
    let file = c.manifest(&hf(&c.env.canary("token")));
    let path = file.to_str().unwrap_or_default();
    for name in NAMES {
        c.run(&["--context", name, "apply", "-f", path]).success();
    }
    let gone = c.manifest("  - name: hf\n    state: absent\n");
    c.clear();
    let run = c.run(&[
        "apply",
        "-f",
        gone.to_str().unwrap_or_default(),
        "--context",
        "train,infer",
    ]);
    run.failure()
        .stderr_has("1 secret on `train`, 1 secret on `infer`")
        .stderr_has("nothing was changed on any target");
    assert_eq!(c.writes(), [0, 0, 0]);
}

/// One of our `hf` secrets on `server`, as the plan will see it.
fn seed_hf(c: &Clusters, server: usize, value: &str) {
    use base64::Engine as _;
    let data = base64::engine::general_purpose::STANDARD.encode(value);
    c.servers()[server].put_secret(
        &c.env.namespace,
        serde_json::json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": format!("hf-{}", crate::support::OWNER), "labels": {
                "parent": "konduktor", "trainy.ai/secret-owner": crate::support::OWNER,
                "trainy.ai/secret-basename": "hf", "trainy.ai/secret-kind": "env"}},
            "data": {"TOKEN": data}
        }),
    );
}

#[test]
fn a_saved_plan_records_every_target_and_is_carried_out_only_for_the_same_set() {
    let Some(c) = Clusters::new() else { return };
    let token = c.env.canary("token");
    let file = c.manifest(&hf(&token));
    let path = file.to_str().unwrap_or_default();
    let out = c.env.dir.path().join("plan.json");
    let out = out.to_str().unwrap_or_default();
    let diff = c.run(&["diff", "-f", path, "--context", "train,infer", "--out", out]);
    assert_eq!(diff.code, Some(1), "{diff:?}");
    diff.stderr_has("Plan for 2 targets saved to")
        .stderr_has("--context train,infer --plan");
    let text = std::fs::read_to_string(out).unwrap_or_else(|e| panic!("{e}"));
    c.env.assert_no_leak(&text);
    let saved: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(saved["targets"][0]["context"], "train");
    assert_eq!(saved["targets"][1]["context"], "infer");
    assert_eq!(saved["targets"][1]["plan"]["server"], c.servers()[1].url());
    assert_eq!(
        saved["targets"][1]["plan"]["secrets"][0]["action"],
        "create"
    );
    c.clear();
    // Another set of targets, or one: refused before anything is read.
    for contexts in ["train", "train,stage", "train,infer,stage"] {
        c.run(&["apply", "-f", path, "--context", contexts, "--plan", out])
            .failure()
            .stderr_has("is a plan for")
            .stderr_has("nothing was changed");
    }
    assert_eq!(c.lists(), [0, 0, 0]);
    // The same set, in any order: carried out without asking.
    let run = c.run(&[
        "apply",
        "-f",
        path,
        "--context",
        "infer,train",
        "--plan",
        out,
    ]);
    run.success();
    assert_eq!(c.writes(), [1, 1, 0]);
    for s in &c.servers()[..2] {
        assert!(
            s.secret(&c.env.namespace, &format!("hf-{}", crate::support::OWNER))
                .is_some()
        );
    }
    // Carried out once: the cluster moved since, so it is out of date.
    c.run(&[
        "apply",
        "-f",
        path,
        "--context",
        "train,infer",
        "--plan",
        out,
    ])
    .failure()
    .stderr_has("out of date");
}

#[test]
fn a_saved_plan_is_not_carried_out_anywhere_when_one_target_moved_since_review() {
    let Some(c) = Clusters::new() else { return };
    let token = c.env.canary("token");
    seed_hf(&c, 0, "old");
    seed_hf(&c, 1, "old");
    let file = c.manifest(&hf(&token));
    let path = file.to_str().unwrap_or_default();
    let out = c.env.dir.path().join("plan.json");
    let out = out.to_str().unwrap_or_default();
    let diff = c.run(&["diff", "-f", path, "--context", "train,infer", "--out", out]);
    assert_eq!(diff.code, Some(1), "{diff:?}");
    // Someone else writes `infer`'s secret after the review.
    seed_hf(&c, 1, &c.env.canary("theirs"));
    c.clear();
    let run = c.run(&[
        "apply",
        "-f",
        path,
        "--context",
        "train,infer",
        "--plan",
        out,
    ]);
    run.failure()
        .stderr_has("is out of date on one target: on `infer`")
        .stderr_has("changed in the cluster")
        .stderr_has("nothing was written on any target");
    assert!(!run.stderr.contains("on `train`"), "{}", run.stderr);
    assert_eq!(c.writes(), [0, 0, 0]);
    // A value moved in the sources: out of date on both, said for each.
    let diff = c.run(&[
        "diff",
        "-f",
        path,
        "--context",
        "train,infer",
        "--out",
        out,
        "--force",
    ]);
    assert_eq!(diff.code, Some(1), "{diff:?}");
    let file = c.manifest(&hf(&c.env.canary("rotated")));
    let path = file.to_str().unwrap_or_default();
    c.run(&[
        "apply",
        "-f",
        path,
        "--context",
        "train,infer",
        "--plan",
        out,
    ])
    .failure()
    .stderr_has("is out of date on 2 targets: on `train`, \"hf\" changed in the sources")
    .stderr_has("on `infer`, \"hf\" changed in the sources");
    assert_eq!(c.writes(), [0, 0, 0]);
}

#[test]
fn a_slow_apply_over_several_targets_shows_each_targets_progress_on_a_terminal() {
    let Some(c) = Clusters::new() else { return };
    for s in &c.servers()[..2] {
        s.inject(
            crate::support::FaultRule::new(crate::support::Fault::Delay(Duration::from_millis(
                1500,
            )))
            .on("POST")
            .path("/secrets"),
        );
    }
    let file = c.manifest(&hf(&c.env.canary("token")));
    let (code, out) = crate::terminal::on_terminal_with(
        &c.env,
        &c.command(),
        &[
            "apply",
            "-f",
            file.to_str().unwrap_or_default(),
            "--context",
            "train,infer",
        ],
        "",
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("Applying: `train` 0/1, `infer` 0/1 done"),
        "{out:?}"
    );
    assert!(out.contains("Apply complete: 1 done."), "{out}");
}

#[test]
fn a_plan_is_not_saved_when_a_target_cannot_be_read() {
    let Some(c) = Clusters::new() else { return };
    let file = c.manifest(&hf(&c.env.canary("token")));
    c.servers()[1].deny("alice", "list");
    let out = c.env.dir.path().join("plan.json");
    let run = c.run(&[
        "diff",
        "-f",
        file.to_str().unwrap_or_default(),
        "--context",
        "train,infer",
        "--out",
        out.to_str().unwrap_or_default(),
    ]);
    assert_eq!(run.code, Some(2), "{run:?}");
    run.stdout_has("Target: context `train`")
        .stderr_has("No plan was saved to")
        .stderr_has("a saved plan covers every target");
    assert!(!out.exists());
}

#[test]
fn whoami_shows_each_clusters_user_under_one_owner_hash() {
    let Some(c) = Clusters::new() else { return };
    // `infer` knows alice's token as another user.
    c.servers()[1].add_token(ALICE_TOKEN, "alice@infer", &["ml"]);
    let run = c.run(&["whoami", "--context", "train,infer"]);
    run.success();
    assert_eq!(
        run.stdout.matches("Owner hash:").count(),
        1,
        "{}",
        run.stdout
    );
    run.stdout_has("Context:       train")
        .stdout_has("Context:       infer")
        .stdout_has("Cluster user:  alice (groups: system:authenticated)")
        .stdout_has("Cluster user:  alice@infer (groups: ml");
    let json = c
        .run(&["whoami", "--context", "train,infer", "-o", "json"])
        .json();
    assert_eq!(json["ownerHash"], crate::support::OWNER);
    assert_eq!(json["targets"][0]["context"], "train");
    assert_eq!(json["targets"][0]["clusterUser"]["username"], "alice");
    assert_eq!(json["targets"][1]["context"], "infer");
    assert_eq!(json["targets"][1]["clusterUser"]["username"], "alice@infer");
}

#[test]
fn apply_asks_each_cluster_who_we_are_once_for_created_by() {
    let Some(c) = Clusters::new() else { return };
    c.servers()[1].add_token(ALICE_TOKEN, "alice@infer", &[]);
    let file = c.manifest(&hf(&c.env.canary("token")));
    c.run(&[
        "apply",
        "-f",
        file.to_str().unwrap_or_default(),
        "--context",
        "train,infer",
    ])
    .success();
    for (i, user) in [(0, "alice"), (1, "alice@infer")] {
        let server = c.servers()[i];
        let reviews = server
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/selfsubjectreviews"))
            .count();
        assert_eq!(reviews, 1, "{:#?}", server.requests());
        let name = format!("hf-{}", crate::support::OWNER);
        let obj = server.secret(&c.env.namespace, &name).unwrap_or_default();
        assert_eq!(
            obj["metadata"]["annotations"]["konduktor.trainy.ai/created-by"], user,
            "{obj:#}"
        );
    }
}

#[test]
fn skip_unreachable_writes_the_other_targets_and_names_the_skipped_one() {
    let Some(c) = Clusters::new() else { return };
    let file = c.manifest(&hf(&c.env.canary("token")));
    c.servers()[2].deny("alice", "list");
    let run = c.run(&[
        "apply",
        "-f",
        file.to_str().unwrap_or_default(),
        "--context",
        "train,infer,stage",
        "--skip-unreachable",
    ]);
    // Not every target converged: the status says so.
    assert_eq!(run.code, Some(1), "{run:?}");
    run.stderr_has("skipping the target `stage`")
        .stdout_has("Skipped: it could not be read; nothing was written there.");
    assert_eq!(c.writes(), [1, 1, 0]);
    // The targets written have converged.
    c.run(&[
        "apply",
        "-f",
        file.to_str().unwrap_or_default(),
        "--context",
        "train,infer",
    ])
    .success()
    .stdout_has("No changes: every target matches the manifest.");
}

/// An executable script `name` in the test folder that counts its runs in
/// `<name>.runs` (written by another process, as in from_command.rs).
fn counting_script(env: &TestEnv, name: &str, body: &str) -> PathBuf {
    let path = env.dir.path().join(name);
    let text = format!("#!/bin/sh\necho run >> '{}.runs'\n{body}\n", path.display());
    let made = Command::new("sh")
        .args([
            "-c",
            "printf '%s' \"$2\" > \"$1\" && chmod 700 \"$1\"",
            "sh",
        ])
        .arg(&path)
        .arg(&text)
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(made.success());
    path
}

fn runs(path: &std::path::Path) -> usize {
    std::fs::read_to_string(format!("{}.runs", path.display()))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn values_are_read_once_for_every_target_and_not_before_every_target_is_usable() {
    let Some(c) = Clusters::new() else { return };
    let token = c.env.canary("from-op");
    let op = counting_script(&c.env, "op", &format!("printf %s '{token}'"));
    let file = c.manifest(
        "  - name: hf\n    kind: env\n    fromCommand:\n      - key: HF_TOKEN\n        command: [./op]\n",
    );
    let path = file.to_str().unwrap_or_default();
    // A context the kubeconfig does not have: nothing is run, nothing sent.
    c.run(&[
        "apply",
        "-f",
        path,
        "--allow-commands",
        "--context",
        "train,nowhere",
    ])
    .failure()
    .stderr_has("nowhere");
    assert_eq!(runs(&op), 0);
    assert_eq!(c.lists(), [0, 0, 0]);
    c.run(&[
        "apply",
        "-f",
        path,
        "--allow-commands",
        "--context",
        "train,infer,stage",
    ])
    .success();
    assert_eq!(runs(&op), 1, "one run for three targets");
    for s in c.servers() {
        let obj = s
            .secret(&c.env.namespace, &format!("hf-{}", crate::support::OWNER))
            .unwrap_or_default();
        assert!(obj["data"]["HF_TOKEN"].is_string(), "{obj:#}");
    }
}
