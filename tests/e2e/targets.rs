//! One manifest, several clusters (issue 22): `diff` and `apply` over
//! `--context a --context b`, `--context a,b` or `--all-contexts`. A
//! target is a context of one kubeconfig and the namespace it names (no
//! `-n`, which would apply to every target). One target behaves as before
//! (the rest of the suite).
//!
//! On the in-process server each target is a server of its own, so that
//! requests can be counted, and latency and faults injected, per target.
//! With `KONDUKTOR_E2E_KUBECONFIG` set, the tests made with
//! [`Clusters::any`] run against the real server too: there the targets
//! are three namespaces of it, each reached through its own context, and a
//! target refused something uses a service account of its own whose Role
//! grants only what the test allows. What only the fake can show (request
//! counts, faults, latency) is checked on the fake alone.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::support::apiserver::ALICE_TOKEN;
use crate::support::{
    ApiServer, BYSTANDER_OWNER, Fault, FaultRule, OTHER_OWNER, OWNER, Run, TestEnv, kubectl, proxy,
};

const HEAD: &str = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n";

const NAMES: [&str; 3] = ["train", "infer", "stage"];

/// Three targets named as [`NAMES`]: the test's own server as `train` and
/// two more (the fake), or three namespaces of the real server.
struct Clusters {
    env: TestEnv,
    /// `infer`'s and `stage`'s servers (the fake; `train` is the env's).
    others: Vec<ApiServer>,
    /// The real server, when the tests run against one.
    real: Option<Real>,
    /// Each target's namespace, in the order of [`NAMES`]: the test's on
    /// every fake server; one each on the real server.
    namespaces: Vec<String>,
    /// A bearer token replacing a target's usual user (the real server:
    /// see [`Clusters::as_service_account`]).
    tokens: RefCell<Vec<Option<String>>>,
    kubeconfig: PathBuf,
}

/// What the targets share on the real server: its cluster entry and the
/// caller's user, from `KONDUKTOR_E2E_KUBECONFIG`.
struct Real {
    /// The caller's kubeconfig, for kubectl.
    admin: PathBuf,
    cluster: Value,
    user: Value,
}

impl Clusters {
    /// On the fake only: `None` on a real cluster (for tests that need
    /// faults, latency or request counts).
    fn new() -> Option<Self> {
        let env = TestEnv::new();
        env.fake()?;
        let others: Vec<ApiServer> = (0..2).map(|_| ApiServer::start()).collect();
        for s in &others {
            s.create_namespace(&env.namespace);
        }
        let namespaces = vec![env.namespace.clone(); NAMES.len()];
        Some(Clusters::made(env, others, None, namespaces))
    }

    /// On the fake, or on the real server when the tests run against one.
    fn any() -> Self {
        if let Some(c) = Self::new() {
            return c;
        }
        let env = TestEnv::new();
        let admin = env.kubeconfig.clone();
        let out = kubectl(
            &admin,
            &[
                "config",
                "view",
                "--raw",
                "--minify",
                "--flatten",
                "-o",
                "json",
            ],
            None,
        );
        assert!(out.status.success(), "kubectl config view: {out:?}");
        let own: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
        let real = Real {
            admin,
            cluster: own["clusters"][0]["cluster"].clone(),
            user: own["users"][0]["user"].clone(),
        };
        let mut namespaces = vec![env.namespace.clone()];
        for name in &NAMES[1..] {
            let ns = format!("{}-{name}", env.namespace);
            let made = kubectl(&real.admin, &["create", "namespace", &ns], None);
            assert!(made.status.success(), "kubectl create namespace: {made:?}");
            namespaces.push(ns);
        }
        Clusters::made(env, Vec::new(), Some(real), namespaces)
    }

    fn made(
        env: TestEnv,
        others: Vec<ApiServer>,
        real: Option<Real>,
        namespaces: Vec<String>,
    ) -> Self {
        let kubeconfig = env.dir.path().join("multi-kubeconfig");
        let c = Clusters {
            env,
            others,
            real,
            namespaces,
            tokens: RefCell::new(vec![None; NAMES.len()]),
            kubeconfig,
        };
        // Every target holds another user's secret with a value that must
        // never show (the env put one on `train`).
        for i in 1..NAMES.len() {
            c.seed_bystander(i);
        }
        c.write_kubeconfig();
        c
    }

    fn is_fake(&self) -> bool {
        self.real.is_none()
    }

    /// The servers, in the order of [`NAMES`] (none on the real server).
    fn servers(&self) -> Vec<&ApiServer> {
        let mut all: Vec<&ApiServer> = self.env.fake().into_iter().collect();
        all.extend(self.others.iter());
        all
    }

    /// The server target `i` names, as its header shows it.
    fn server_url(&self, i: usize) -> String {
        match &self.real {
            Some(real) => real.cluster["server"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            None => self.servers()[i].url(),
        }
    }

    /// One context per target, named as [`NAMES`], each with its own
    /// namespace.
    fn write_kubeconfig(&self) {
        let tokens = self.tokens.borrow();
        let mut clusters = Vec::new();
        let mut users = Vec::new();
        let mut contexts = Vec::new();
        for (i, name) in NAMES.iter().enumerate() {
            let (cluster, user) = match &self.real {
                Some(real) => (real.cluster.clone(), real.user.clone()),
                None => (
                    json!({"server": self.server_url(i), "certificate-authority-data": proxy::ca_data()}),
                    json!({"token": ALICE_TOKEN}),
                ),
            };
            let user = match &tokens[i] {
                Some(token) => json!({ "token": token }),
                None => user,
            };
            clusters.push(json!({"name": name, "cluster": cluster}));
            users.push(json!({"name": name, "user": user}));
            contexts.push(json!({"name": name, "context": {
                "cluster": name, "user": name, "namespace": self.namespaces[i]}}));
        }
        // JSON is YAML: kube reads it as kubectl does.
        let config = json!({"apiVersion": "v1", "kind": "Config", "clusters": clusters,
            "users": users, "contexts": contexts, "current-context": NAMES[0]});
        std::fs::write(&self.kubeconfig, config.to_string()).unwrap_or_else(|e| panic!("{e}"));
    }

    fn seed_bystander(&self, i: usize) {
        let value = self.env.canary("bystander");
        let obj = json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": format!("bystander-{BYSTANDER_OWNER}"), "labels": {
                "parent": "konduktor", "trainy.ai/secret-owner": BYSTANDER_OWNER,
                "trainy.ai/secret-basename": "bystander", "trainy.ai/secret-kind": "env"}},
            "data": {"TOKEN": base64::engine::general_purpose::STANDARD.encode(value)}
        });
        match &self.real {
            Some(real) => {
                let ns = &self.namespaces[i];
                let out = kubectl(
                    &real.admin,
                    &["create", "-n", ns, "-f", "-"],
                    Some(&obj.to_string()),
                );
                assert!(out.status.success(), "kubectl create: {out:?}");
            }
            None => {
                self.servers()[i].put_secret(&self.namespaces[i], obj);
            }
        }
    }

    /// Our env secret `name` on target `i`, holding `TOKEN: value`, as if
    /// another of our writers had put it there (created, or replaced).
    fn put_ours(&self, i: usize, name: &str, value: &str) {
        let obj = json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": format!("{name}-{OWNER}"), "labels": {
                "parent": "konduktor", "trainy.ai/secret-owner": OWNER,
                "trainy.ai/secret-basename": name, "trainy.ai/secret-kind": "env"}},
            "data": {"TOKEN": base64::engine::general_purpose::STANDARD.encode(value)}
        });
        match &self.real {
            Some(real) => {
                let ns = &self.namespaces[i];
                let out = kubectl(
                    &real.admin,
                    &["apply", "-n", ns, "-f", "-"],
                    Some(&obj.to_string()),
                );
                assert!(out.status.success(), "kubectl apply: {out:?}");
            }
            None => {
                self.servers()[i].put_secret(&self.namespaces[i], obj);
            }
        }
    }

    /// Our secrets target `i` holds.
    fn ours(&self, i: usize) -> Vec<Value> {
        let ns = &self.namespaces[i];
        let all = match &self.real {
            Some(real) => {
                let selector = format!("trainy.ai/secret-owner={OWNER}");
                let out = kubectl(
                    &real.admin,
                    &["get", "secrets", "-n", ns, "-l", &selector, "-o", "json"],
                    None,
                );
                assert!(out.status.success(), "kubectl get: {out:?}");
                let list: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
                list["items"].as_array().cloned().unwrap_or_default()
            }
            None => self.servers()[i].secrets(ns),
        };
        all.into_iter()
            .filter(|o| o["metadata"]["labels"]["trainy.ai/secret-owner"] == OWNER)
            .collect()
    }

    /// How many of our secrets each target holds, in the order of [`NAMES`].
    fn held(&self) -> Vec<usize> {
        (0..NAMES.len()).map(|i| self.ours(i).len()).collect()
    }

    /// Our secret `name` on target `i`, decoded.
    fn data(&self, i: usize, name: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
        let secret_name = format!("{name}-{OWNER}");
        let obj = self
            .ours(i)
            .into_iter()
            .find(|o| o["metadata"]["name"] == secret_name.as_str())
            .unwrap_or_else(|| panic!("no {secret_name} on `{}`", NAMES[i]));
        crate::support::decode_data(&obj)
    }

    /// Target `i` may not read secrets: its LIST is refused (403).
    fn refuse_reading(&self, i: usize) {
        match &self.real {
            Some(_) => {
                self.as_service_account(i, &[]);
            }
            None => self.servers()[i].deny("alice", "list"),
        }
    }

    /// Target `i` may read secrets but not create them.
    fn refuse_writing(&self, i: usize) {
        match &self.real {
            Some(_) => {
                self.as_service_account(i, &["get", "list", "watch"]);
            }
            None => self.servers()[i].deny("alice", "create"),
        }
    }

    /// Target `i` knows us as another user, with every right on secrets:
    /// that user's name.
    fn as_other_user(&self, i: usize) -> String {
        match &self.real {
            Some(_) => self.as_service_account(
                i,
                &[
                    "get", "list", "watch", "create", "patch", "update", "delete",
                ],
            ),
            None => {
                let user = format!("alice@{}", NAMES[i]);
                self.servers()[i].add_token(ALICE_TOKEN, &user, &["ml"]);
                user
            }
        }
    }

    /// The real server: target `i`'s context from now on uses a service
    /// account of its namespace, whose Role grants `verbs` on secrets (none:
    /// no Role at all); its user name.
    fn as_service_account(&self, i: usize, verbs: &[&str]) -> String {
        let Some(real) = &self.real else {
            panic!("only on the real server")
        };
        let ns = self.namespaces[i].as_str();
        let sa = "konduktor-e2e";
        let admin = |args: &[&str]| {
            let out = kubectl(&real.admin, args, None);
            assert!(out.status.success(), "kubectl {args:?}: {out:?}");
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        };
        admin(&["create", "serviceaccount", sa, "-n", ns]);
        if !verbs.is_empty() {
            let verbs = format!("--verb={}", verbs.join(","));
            admin(&["create", "role", sa, &verbs, "--resource=secrets", "-n", ns]);
            let subject = format!("--serviceaccount={ns}:{sa}");
            admin(&[
                "create",
                "rolebinding",
                sa,
                "--role",
                sa,
                &subject,
                "-n",
                ns,
            ]);
        }
        let token = admin(&["create", "token", sa, "-n", ns]);
        self.tokens.borrow_mut()[i] = Some(token);
        self.write_kubeconfig();
        format!("system:serviceaccount:{ns}:{sa}")
    }

    /// The user the targets know us as, unless told otherwise.
    fn user(&self) -> String {
        match &self.real {
            Some(real) => {
                let out = kubectl(&real.admin, &["auth", "whoami", "-o", "json"], None);
                assert!(out.status.success(), "kubectl auth whoami: {out:?}");
                let review: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
                review["status"]["userInfo"]["username"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            }
            None => crate::support::apiserver::ALICE.to_string(),
        }
    }

    /// The binary with the targets' kubeconfig.
    fn command(&self) -> Command {
        let mut cmd = self.env.command();
        cmd.env("KUBECONFIG", &self.kubeconfig);
        cmd
    }

    /// Run (each target in its context's namespace) and check for leaks.
    fn run(&self, args: &[&str]) -> Run {
        let mut cmd = self.command();
        cmd.args(args);
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

impl Drop for Clusters {
    fn drop(&mut self) {
        // The env deletes its own namespace (`train`'s).
        if let Some(real) = &self.real {
            for ns in &self.namespaces[1..] {
                let _ = kubectl(
                    &real.admin,
                    &["delete", "namespace", ns, "--wait=false"],
                    None,
                );
            }
        }
    }
}

fn hf(value: &str) -> String {
    format!("  - name: hf\n    kind: env\n    inline:\n      HF_TOKEN: {value}\n")
}

/// The result part of an apply's text output (after the plan and its
/// total line), split by target: each target's context and its lines.
fn results_by_target(stdout: &str) -> Vec<(String, String)> {
    let (_, results) = stdout
        .split_once("\nTotal over ")
        .unwrap_or_else(|| panic!("no total line:\n{stdout}"));
    let mut parts: Vec<(String, String)> = Vec::new();
    for line in results.lines().skip(1) {
        match line.strip_prefix("Target: context `") {
            Some(rest) => {
                let name = rest.split('`').next().unwrap_or_default();
                parts.push((name.to_string(), String::new()));
            }
            None => {
                if let Some((_, text)) = parts.last_mut() {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    parts
}

#[test]
fn diff_plans_every_target_grouped_with_one_list_each() {
    let c = Clusters::any();
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
    for (i, name) in NAMES.iter().enumerate() {
        run.stdout_has(&format!(
            "Target: context `{name}`, namespace `{}`, server {}",
            c.namespaces[i],
            c.server_url(i)
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
    assert_eq!(c.held(), [1, 0, 0], "a diff writes nothing");
    // One LIST per target, nothing else: no hint look-ups, no writes.
    if c.is_fake() {
        assert_eq!(c.lists(), [1, 1, 1]);
        for s in c.servers() {
            assert_eq!(s.requests().len(), 1, "{:#?}", s.requests());
        }
    }
}

#[test]
fn diff_json_gives_one_entry_per_target() {
    let c = Clusters::any();
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
    assert_eq!(targets[0]["target"]["namespace"], c.namespaces[2].as_str());
    assert_eq!(targets[1]["target"]["context"], "train");
    assert_eq!(targets[1]["target"]["namespace"], c.namespaces[0].as_str());
    for t in &targets {
        assert_eq!(t["plan"]["summary"]["create"], 1, "{t:#}");
        assert!(t.get("error").is_none(), "{t:#}");
    }
    assert_eq!(json["total"]["create"], 2, "{json:#}");
}

#[test]
fn diff_exits_0_when_no_target_changes() {
    let c = Clusters::any();
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
    let c = Clusters::any();
    let file = c.manifest(&hf(&c.env.canary("token")));
    c.refuse_reading(1);
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
    let c = Clusters::any();
    let file = c.manifest(&hf(&c.env.canary("token")));
    let config = c.env.file(
        "konduktor.yaml",
        "kubernetes:\n  allowed_contexts: [infer, stage]\n",
    );
    let mut cmd = c.command();
    cmd.env("KONDUKTOR_CONFIG", &config).args([
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
    if c.is_fake() {
        assert_eq!(c.lists(), [0, 1, 1]);
    }
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
    if c.is_fake() {
        assert_eq!(c.lists(), [0, 0, 0]);
    }
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
    let c = Clusters::any();
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
    if c.is_fake() {
        let lists = c.lists();
        assert!(lists[0] == 0 && lists[1] > 0 && lists[2] == 0, "{lists:?}");
    }
}

#[test]
fn commands_of_one_target_refuse_several_contexts() {
    let c = Clusters::any();
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
    let c = Clusters::any();
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
    let c = Clusters::any();
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
    let c = Clusters::any();
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
    let results = results_by_target(&run.stdout);
    assert_eq!(
        results
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>(),
        NAMES,
        "{}",
        run.stdout
    );
    for (name, part) in &results[1..] {
        assert!(
            part.contains(&format!("secret \"hf\" created (hf-{OWNER})")),
            "{name}: {part}"
        );
    }
    if c.is_fake() {
        assert_eq!(c.writes(), [0, 1, 1]);
    }
    let user = c.user();
    for i in 0..NAMES.len() {
        let ours = c.ours(i);
        assert_eq!(ours.len(), 1, "{ours:#?}");
        assert_eq!(c.data(i, "hf")["HF_TOKEN"], token.as_bytes());
        // created-by from each cluster's own answer.
        assert_eq!(
            ours[0]["metadata"]["annotations"]["konduktor.trainy.ai/created-by"],
            user.as_str(),
            "{:#}",
            ours[0]
        );
    }
    c.clear();
    c.run(&["apply", "-f", path, "--context", "train,infer,stage"])
        .success()
        .stdout_has("No changes: every target matches the manifest.");
    if c.is_fake() {
        assert_eq!(c.writes(), [0, 0, 0]);
    }
}

#[test]
fn apply_writes_nothing_anywhere_when_one_target_cannot_be_read() {
    let c = Clusters::any();
    let file = c.manifest(&hf(&c.env.canary("token")));
    c.refuse_reading(2);
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
    if c.is_fake() {
        assert_eq!(c.writes(), [0, 0, 0]);
    }
    assert_eq!(c.held(), [0, 0, 0]);
}

#[test]
fn apply_writes_nothing_anywhere_when_one_target_denies_a_write() {
    let c = Clusters::any();
    let file = c.manifest(&hf(&c.env.canary("token")));
    c.refuse_writing(1);
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
    // The plan was read everywhere, the denied target included.
    run.stdout_has("Total over 3 targets: 3 to create");
    if c.is_fake() {
        assert_eq!(c.writes(), [0, 0, 0]);
    }
    assert_eq!(c.held(), [0, 0, 0]);
}

#[test]
fn apply_over_several_targets_asks_once_and_refuses_without_a_terminal() {
    let c = Clusters::any();
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
    if c.is_fake() {
        assert_eq!(c.writes(), [0, 0, 0]);
    }
    assert_eq!(c.held(), [1, 1, 1]);
}

#[test]
fn a_saved_plan_records_every_target_and_is_carried_out_only_for_the_same_set() {
    let c = Clusters::any();
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
    assert_eq!(saved["targets"][1]["plan"]["server"], c.server_url(1));
    assert_eq!(saved["targets"][1]["plan"]["namespace"], c.namespaces[1]);
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
    if c.is_fake() {
        assert_eq!(c.lists(), [0, 0, 0]);
    }
    assert_eq!(c.held(), [0, 0, 0]);
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
    if c.is_fake() {
        assert_eq!(c.writes(), [1, 1, 0]);
    }
    assert_eq!(c.held(), [1, 1, 0]);
    for i in 0..2 {
        assert_eq!(c.data(i, "hf")["HF_TOKEN"], token.as_bytes());
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
    let c = Clusters::any();
    let token = c.env.canary("token");
    c.put_ours(0, "hf", "old");
    c.put_ours(1, "hf", "old");
    let file = c.manifest(&hf(&token));
    let path = file.to_str().unwrap_or_default();
    let out = c.env.dir.path().join("plan.json");
    let out = out.to_str().unwrap_or_default();
    let diff = c.run(&["diff", "-f", path, "--context", "train,infer", "--out", out]);
    assert_eq!(diff.code, Some(1), "{diff:?}");
    // Someone else writes `infer`'s secret after the review.
    c.put_ours(1, "hf", &c.env.canary("theirs"));
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
    if c.is_fake() {
        assert_eq!(c.writes(), [0, 0, 0]);
    }
    assert_eq!(c.data(0, "hf")["TOKEN"], b"old");
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
    if c.is_fake() {
        assert_eq!(c.writes(), [0, 0, 0]);
    }
    assert_eq!(c.data(0, "hf")["TOKEN"], b"old");
    assert!(!c.data(0, "hf").contains_key("HF_TOKEN"));
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
    let c = Clusters::any();
    let file = c.manifest(&hf(&c.env.canary("token")));
    c.refuse_reading(1);
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
    let c = Clusters::any();
    let user = c.user();
    // `infer` knows us as another user.
    let other = c.as_other_user(1);
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
        .stdout_has(&format!("Namespace:     {}", c.namespaces[1]))
        .stdout_has(&format!("Cluster user:  {user} (groups: "))
        .stdout_has(&format!("Cluster user:  {other} (groups: "));
    if c.is_fake() {
        run.stdout_has("Cluster user:  alice (groups: system:authenticated)")
            .stdout_has("Cluster user:  alice@infer (groups: ml");
    }
    let json = c
        .run(&["whoami", "--context", "train,infer", "-o", "json"])
        .json();
    assert_eq!(json["ownerHash"], OWNER);
    assert_eq!(json["targets"][0]["context"], "train");
    assert_eq!(json["targets"][0]["clusterUser"]["username"], user.as_str());
    assert_eq!(json["targets"][1]["context"], "infer");
    assert_eq!(
        json["targets"][1]["clusterUser"]["username"],
        other.as_str()
    );
}

#[test]
fn apply_asks_each_cluster_who_we_are_once_for_created_by() {
    let c = Clusters::any();
    let user = c.user();
    let other = c.as_other_user(1);
    let file = c.manifest(&hf(&c.env.canary("token")));
    c.run(&[
        "apply",
        "-f",
        file.to_str().unwrap_or_default(),
        "--context",
        "train,infer",
    ])
    .success();
    for server in c.servers().into_iter().take(2) {
        let reviews = server
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/selfsubjectreviews"))
            .count();
        assert_eq!(reviews, 1, "{:#?}", server.requests());
    }
    for (i, user) in [(0, user), (1, other)] {
        let obj = c.ours(i).into_iter().next().unwrap_or_default();
        assert_eq!(
            obj["metadata"]["annotations"]["konduktor.trainy.ai/created-by"],
            user.as_str(),
            "{obj:#}"
        );
    }
}

#[test]
fn skip_unreachable_writes_the_other_targets_and_names_the_skipped_one() {
    let c = Clusters::any();
    let file = c.manifest(&hf(&c.env.canary("token")));
    c.refuse_reading(2);
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
    if c.is_fake() {
        assert_eq!(c.writes(), [1, 1, 0]);
    }
    assert_eq!(c.held(), [1, 1, 0]);
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
    // With the skipped one named, nothing to do is not "every target".
    let again = c.run(&[
        "apply",
        "-f",
        file.to_str().unwrap_or_default(),
        "--context",
        "train,infer,stage",
        "--skip-unreachable",
    ]);
    assert_eq!(again.code, Some(1), "{again:?}");
    again.stdout_has("No changes on the targets that were read (the others were skipped).");
    assert!(
        !again.stdout.contains("every target matches"),
        "{}",
        again.stdout
    );
    // -o json names the skipped target and why.
    let json = c
        .run(&[
            "apply",
            "-f",
            file.to_str().unwrap_or_default(),
            "--context",
            "train,infer,stage",
            "--skip-unreachable",
            "-o",
            "json",
        ])
        .json();
    assert_eq!(
        json["targets"].as_array().map(Vec::len),
        Some(2),
        "{json:#}"
    );
    assert_eq!(json["skipped"][0]["target"]["context"], "stage", "{json:#}");
    assert!(json["skipped"][0]["error"].is_string(), "{json:#}");
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

fn runs(path: &Path) -> usize {
    std::fs::read_to_string(format!("{}.runs", path.display()))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

#[test]
fn values_are_read_once_for_every_target_and_not_before_every_target_is_usable() {
    let c = Clusters::any();
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
    if c.is_fake() {
        assert_eq!(c.lists(), [0, 0, 0]);
    }
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
    for i in 0..NAMES.len() {
        assert_eq!(c.data(i, "hf")["HF_TOKEN"], token.as_bytes());
    }
}

// Issue 22: during the writes, a failure on one target does not stop the
// others; each target's result is listed, and a re-run converges.

/// `(done, failed, not attempted)` from a target's summary line.
fn counts(part: &str) -> (usize, usize, usize) {
    let line = part
        .lines()
        .find(|l| l.starts_with("Apply complete: ") || l.starts_with("Apply incomplete: "))
        .unwrap_or_else(|| panic!("no summary:\n{part}"));
    let numbers: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    match (line.starts_with("Apply complete: "), numbers.as_slice()) {
        (true, [done, ..]) => (*done, 0, 0),
        (false, [done, failed, skipped, ..]) => (*done, *failed, *skipped),
        _ => panic!("bad summary: {line}"),
    }
}

/// `(done, failed, skipped)` among one target's results in `apply -o json`.
fn statuses(target: &Value) -> (usize, usize, usize) {
    let count = |status: &str| {
        target["result"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["status"] == status)
            .count()
    };
    (count("done"), count("failed"), count("skipped"))
}

/// Each target's plan summary line, in order.
fn plan_lines(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| l.starts_with("Plan: ")).collect()
}

fn hf_and_wandb(hf_value: &str, wandb_value: &str) -> String {
    format!(
        "{}  - name: wandb\n    kind: env\n    inline:\n      WANDB_API_KEY: {wandb_value}\n",
        hf(hf_value)
    )
}

/// `hf` and `wandb` on every target, then a manifest changing both (its
/// path and the new `hf` value): on `infer` another writer changes `hf`
/// between the plan and its merge; the other servers answer 200 ms late,
/// so that `infer` has failed while they are still being written.
fn conflict_on_infer(c: &Clusters) -> (String, String) {
    let old = c.manifest(&hf_and_wandb(
        &c.env.canary("old-hf"),
        &c.env.canary("old-wandb"),
    ));
    c.run(&[
        "apply",
        "-f",
        old.to_str().unwrap_or_default(),
        "--context",
        "train,infer,stage",
    ])
    .success();
    let new_hf = c.env.canary("new-hf");
    let new = c.manifest(&hf_and_wandb(&new_hf, &c.env.canary("new-wandb")));
    let servers = c.servers();
    servers[0].set_latency(Duration::from_millis(200));
    servers[2].set_latency(Duration::from_millis(200));
    servers[1].inject(
        FaultRule::new(Fault::ChangedMeanwhile)
            .on("PATCH")
            .path(&format!("/secrets/hf-{OWNER}"))
            .times(1),
    );
    c.clear();
    (new.to_str().unwrap_or_default().to_string(), new_hf)
}

#[test]
fn a_conflict_on_one_target_fails_there_alone_and_a_rerun_converges() {
    let Some(c) = Clusters::new() else { return };
    let (file, new_hf) = conflict_on_infer(&c);
    let old_hf = c.data(1, "hf")["HF_TOKEN"].clone();
    let apply = ["apply", "-f", &file, "--context", "train,infer,stage"];
    let run = c.run(&apply);
    assert_eq!(run.code, Some(1), "{run:?}");
    let results = results_by_target(&run.stdout);
    let names: Vec<&str> = results.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, NAMES, "{}", run.stdout);
    for (name, part) in [&results[0], &results[2]] {
        assert!(
            part.contains(&format!("secret \"hf\" merged (hf-{OWNER})"))
                && part.contains(&format!("secret \"wandb\" merged (wandb-{OWNER})")),
            "{name}:\n{part}"
        );
        assert_eq!(counts(part), (2, 0, 0), "{name}:\n{part}");
    }
    let infer = &results[1].1;
    assert!(
        infer.contains("secret \"hf\" NOT merged: ")
            && infer.contains("it changed since the plan was made"),
        "{infer}"
    );
    assert!(infer.contains("secret \"wandb\" merged"), "{infer}");
    assert_eq!(counts(infer), (1, 1, 0), "{infer}");
    // Written where there was no conflict; on `infer` the other writer's
    // object was not overwritten.
    assert_eq!(c.data(0, "hf")["HF_TOKEN"], new_hf.as_bytes());
    assert_eq!(c.data(2, "hf")["HF_TOKEN"], new_hf.as_bytes());
    assert_eq!(c.data(1, "hf")["HF_TOKEN"], old_hf);

    let rerun = c.run(&apply);
    rerun.success();
    assert_eq!(
        plan_lines(&rerun.stdout),
        [
            "Plan: 0 to create, 0 to merge, 0 to delete, 2 unchanged.",
            "Plan: 0 to create, 1 to merge, 0 to delete, 1 unchanged.",
            "Plan: 0 to create, 0 to merge, 0 to delete, 2 unchanged.",
        ],
        "{}",
        rerun.stdout
    );
    assert_eq!(c.data(1, "hf")["HF_TOKEN"], new_hf.as_bytes());
    c.run(&apply)
        .success()
        .stdout_has("No changes: every target matches the manifest.");
}

#[test]
fn a_conflict_on_one_target_is_that_targets_result_in_json() {
    let Some(c) = Clusters::new() else { return };
    let (file, _) = conflict_on_infer(&c);
    let run = c.run(&[
        "apply",
        "-f",
        &file,
        "--context",
        "train,infer,stage",
        "-o",
        "json",
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let json = run.json();
    let targets = json["targets"].as_array().cloned().unwrap_or_default();
    let contexts: Vec<&str> = targets
        .iter()
        .filter_map(|t| t["target"]["context"].as_str())
        .collect();
    assert_eq!(contexts, NAMES, "{json:#}");
    for t in [&targets[0], &targets[2]] {
        assert_eq!(statuses(t), (2, 0, 0), "{t:#}");
        assert!(t.get("stopped").is_none(), "{t:#}");
    }
    let infer = &targets[1];
    assert_eq!(statuses(infer), (1, 1, 0), "{infer:#}");
    let failed = &infer["result"][0];
    assert_eq!(failed["name"], "hf", "{infer:#}");
    assert_eq!(failed["status"], "failed", "{infer:#}");
    assert_eq!(failed["class"], "conflict", "{infer:#}");
    // A conflict is the secret's own: it stops nothing.
    assert!(infer.get("stopped").is_none(), "{infer:#}");
    assert!(json.get("interrupted").is_none(), "{json:#}");
}

/// Four secrets for every target (the manifest's path): `infer`'s server
/// makes the first create, then is gone (it drops every connection a
/// create comes on, until its faults are cleared); the other servers
/// answer 300 ms late, so that `infer` is lost (after its retries) while
/// they are still being written.
fn infer_lost_after_one_create(c: &Clusters) -> String {
    let token = c.env.canary("four");
    let body: String = (0..4)
        .map(|i| format!("  - name: s{i}\n    inline: {{K: {token}-{i}}}\n"))
        .collect();
    let file = c.manifest(&body);
    let servers = c.servers();
    servers[0].set_latency(Duration::from_millis(300));
    servers[2].set_latency(Duration::from_millis(300));
    servers[1].inject(
        FaultRule::new(Fault::Drop)
            .on("POST")
            .path("/secrets")
            .after(1),
    );
    file.to_str().unwrap_or_default().to_string()
}

#[test]
fn a_server_lost_part_way_stops_its_target_alone_and_a_rerun_converges() {
    let Some(c) = Clusters::new() else { return };
    let file = infer_lost_after_one_create(&c);
    let apply = [
        "apply",
        "-f",
        &file,
        "--context",
        "train,infer,stage",
        "--parallel",
        "1",
    ];
    let run = c.run(&apply);
    assert_eq!(run.code, Some(1), "{run:?}");
    let results = results_by_target(&run.stdout);
    let names: Vec<&str> = results.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, NAMES, "{}", run.stdout);
    for (name, part) in [&results[0], &results[2]] {
        assert_eq!(counts(part), (4, 0, 0), "{name}:\n{part}");
        assert!(!part.contains("Stopped sending"), "{name}:\n{part}");
    }
    let infer = &results[1].1;
    assert_eq!(counts(infer), (1, 1, 2), "{infer}");
    assert!(
        infer.contains("Stopped sending: ") && infer.contains("cannot reach the API server"),
        "{infer}"
    );
    assert_eq!(c.held(), [4, 1, 4]);

    // The server is back.
    c.servers()[1].clear_faults();
    let rerun = c.run(&apply);
    rerun.success();
    assert_eq!(
        plan_lines(&rerun.stdout),
        [
            "Plan: 0 to create, 0 to merge, 0 to delete, 4 unchanged.",
            "Plan: 3 to create, 0 to merge, 0 to delete, 1 unchanged.",
            "Plan: 0 to create, 0 to merge, 0 to delete, 4 unchanged.",
        ],
        "{}",
        rerun.stdout
    );
    assert_eq!(c.held(), [4, 4, 4]);
    c.run(&apply)
        .success()
        .stdout_has("No changes: every target matches the manifest.");
}

#[test]
fn a_server_lost_part_way_is_that_targets_stopped_in_json() {
    let Some(c) = Clusters::new() else { return };
    let file = infer_lost_after_one_create(&c);
    let run = c.run(&[
        "apply",
        "-f",
        &file,
        "--context",
        "train,infer,stage",
        "--parallel",
        "1",
        "-o",
        "json",
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    let json = run.json();
    let targets = json["targets"].as_array().cloned().unwrap_or_default();
    assert_eq!(targets.len(), 3, "{json:#}");
    for t in [&targets[0], &targets[2]] {
        assert_eq!(statuses(t), (4, 0, 0), "{t:#}");
        assert!(t.get("stopped").is_none(), "{t:#}");
    }
    let infer = &targets[1];
    assert_eq!(infer["target"]["context"], "infer", "{infer:#}");
    assert_eq!(statuses(infer), (1, 1, 2), "{infer:#}");
    let stopped = infer["stopped"].as_str().unwrap_or_default();
    assert!(stopped.contains("cannot reach the API server"), "{infer:#}");
    assert_eq!(c.held(), [4, 1, 4]);
}

// Issue 22: an interrupt during the writes starts no new write on any
// target, lets those in flight finish, prints each target's result and
// exits 128 + the signal's number; a re-run converges.

/// How many secrets each target gets in the interrupted applies below.
const MANY: usize = 40;

/// A manifest of [`MANY`] secrets, a canary in each.
fn many(c: &Clusters) -> String {
    let canary = c.env.canary("many");
    let body: String = (0..MANY)
        .map(|i| format!("  - name: s{i:03}\n    inline: {{K: {canary}-{i}}}\n"))
        .collect();
    c.manifest(&body).to_str().unwrap_or_default().to_string()
}

/// The creates each server has seen, in the order of [`NAMES`].
fn creates(c: &Clusters) -> Vec<usize> {
    c.servers()
        .iter()
        .map(|s| {
            s.requests()
                .iter()
                .filter(|r| r.is("POST", "/secrets"))
                .count()
        })
        .collect()
}

/// How many writes `--parallel` lets each target have in flight below.
const IN_FLIGHT: usize = 2;

/// Start `apply -f file` over every target, each server 50 ms away, wait
/// until every server has seen some creates, send `signal`, and wait for
/// the end (piped output). Also the creates each server had seen when the
/// tool said it was stopping (from then on no write may start). Only
/// watchdogs bound the waits: they catch a hang.
fn interrupted_on_every_target(
    c: &Clusters,
    file: &str,
    signal: &str,
    args: &[&str],
) -> (Run, Vec<usize>) {
    for s in c.servers() {
        s.set_latency(Duration::from_millis(50));
    }
    let parallel = IN_FLIGHT.to_string();
    let mut cmd = c.command();
    cmd.args(["apply", "-f", file, "--context", "train,infer,stage"])
        .args(["--parallel", &parallel])
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn: {e}"));
    // Stderr read as it comes, to see when the tool says it is stopping.
    let stderr = child.stderr.take().unwrap_or_else(|| panic!("no stderr"));
    let (stopping, said) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut all = Vec::new();
        for line in std::io::BufReader::new(stderr)
            .split(b'\n')
            .map_while(Result::ok)
        {
            if String::from_utf8_lossy(&line).contains(": stopping") {
                let _ = stopping.send(());
            }
            all.extend(line);
            all.push(b'\n');
        }
        all
    });
    let watchdog = std::time::Instant::now();
    while creates(c).iter().any(|&n| n < 4) {
        assert!(
            watchdog.elapsed() < Duration::from_secs(120),
            "apply sent no creates to some target: {:?}",
            creates(c)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(sent.success());
    let told = said.recv_timeout(Duration::from_secs(60));
    let at_stopping = creates(c);
    let mut out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"));
    out.stderr = reader.join().unwrap_or_else(|_| panic!("stderr reader"));
    for s in c.servers() {
        s.set_latency(Duration::ZERO);
    }
    let run = c.env.checked(out);
    assert!(told.is_ok(), "the tool never said it was stopping: {run:?}");
    (run, at_stopping)
}

/// After an interrupt: on every target no write started once the tool
/// said it was stopping (only those already in flight, at most
/// `--parallel`, reached the server after), and every write sent was made
/// (those in flight finished).
fn assert_stopped_in_order(c: &Clusters, at_stopping: &[usize], done: &[usize]) {
    let after = creates(c);
    for (i, name) in NAMES.iter().enumerate() {
        assert!(
            after[i] - at_stopping[i] <= IN_FLIGHT,
            "{name}: {} creates sent after the tool said it was stopping",
            after[i] - at_stopping[i]
        );
        assert_eq!(after[i], done[i], "{name}: every create sent was made");
    }
    assert_eq!(c.held(), done, "what apply says it did is what each holds");
}

/// A re-run after an interrupt writes what was not, and a second finds
/// nothing to do.
fn assert_rerun_converges(c: &Clusters, file: &str, done: &[usize]) {
    let apply = ["apply", "-f", file, "--context", "train,infer,stage"];
    let rerun = c.run(&apply);
    rerun.success();
    let expected: Vec<String> = done
        .iter()
        .map(|d| {
            format!(
                "Plan: {} to create, 0 to merge, 0 to delete, {d} unchanged.",
                MANY - d
            )
        })
        .collect();
    assert_eq!(plan_lines(&rerun.stdout), expected, "{}", rerun.stdout);
    assert_eq!(c.held(), [MANY; 3]);
    c.run(&apply)
        .success()
        .stdout_has("No changes: every target matches the manifest.");
}

#[test]
fn sigint_while_writing_every_target_stops_them_in_order_and_exits_130() {
    let Some(c) = Clusters::new() else { return };
    let file = many(&c);
    let (run, at_stopping) = interrupted_on_every_target(&c, &file, "INT", &[]);
    assert_eq!(run.code, Some(130), "{run:?}");
    run.stderr_has("SIGINT: stopping")
        .stdout_has("Apply interrupted");
    let results = results_by_target(&run.stdout);
    let names: Vec<&str> = results.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, NAMES, "{}", run.stdout);
    let mut done = Vec::new();
    for (name, part) in &results {
        let (made, failed, skipped) = counts(part);
        assert_eq!((failed, made + skipped), (0, MANY), "{name}:\n{part}");
        assert!(skipped > 0, "{name} was stopped part way:\n{part}");
        assert!(
            part.contains("not attempted: apply was interrupted"),
            "{name}:\n{part}"
        );
        assert_eq!(
            part.matches(" created (").count(),
            made,
            "{name}: one line per secret created"
        );
        done.push(made);
    }
    assert_stopped_in_order(&c, &at_stopping, &done);
    assert_rerun_converges(&c, &file, &done);
}

#[test]
fn sigterm_while_writing_every_target_leaves_a_json_record_and_exits_143() {
    let Some(c) = Clusters::new() else { return };
    let file = many(&c);
    let (run, at_stopping) = interrupted_on_every_target(&c, &file, "TERM", &["-o", "json"]);
    assert_eq!(run.code, Some(143), "{run:?}");
    run.stderr_has("SIGTERM: stopping");
    let json = run.json();
    assert_eq!(json["interrupted"], true, "{json:#}");
    let targets = json["targets"].as_array().cloned().unwrap_or_default();
    let contexts: Vec<&str> = targets
        .iter()
        .filter_map(|t| t["target"]["context"].as_str())
        .collect();
    assert_eq!(contexts, NAMES, "{json:#}");
    let mut done = Vec::new();
    for t in &targets {
        let (made, failed, skipped) = statuses(t);
        assert_eq!((failed, made + skipped), (0, MANY), "{t:#}");
        assert!(skipped > 0, "stopped part way: {t:#}");
        // Each target says why it stopped, as one target's report does.
        assert!(
            t["stopped"]
                .as_str()
                .is_some_and(|s| s.starts_with("interrupted: no write was started")),
            "{t:#}"
        );
        done.push(made);
    }
    assert_stopped_in_order(&c, &at_stopping, &done);
    assert_rerun_converges(&c, &file, &done);
}

/// A signal while the targets are being read (one target's LIST held by
/// its server) stops at once, as with one target: a record that nothing
/// was written, exit 128 + the signal's number, no write anywhere.
#[test]
fn a_signal_while_reading_the_targets_stops_at_once_with_nothing_written() {
    let Some(c) = Clusters::new() else { return };
    let file = c.manifest(&hf(&c.env.canary("token")));
    for (signal, code, args) in [("INT", 130, &[][..]), ("TERM", 143, &["-o", "json"][..])] {
        c.clear();
        c.servers()[2].inject(
            FaultRule::new(Fault::Delay(Duration::from_secs(600)))
                .on("GET")
                .path("/secrets"),
        );
        let mut cmd = c.command();
        cmd.args(["apply", "-f", file.to_str().unwrap_or_default()])
            .args(["--context", "train,infer,stage"])
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn: {e}"));
        let watchdog = std::time::Instant::now();
        while c.lists()[2] == 0 {
            assert!(
                watchdog.elapsed() < Duration::from_secs(120),
                "stage was never read"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap_or_else(|e| panic!("kill: {e}"));
        assert!(sent.success());
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("wait: {e}"));
        c.servers()[2].clear_faults();
        let run = c.env.checked(out);
        assert_eq!(run.code, Some(code), "{run:?}");
        run.stderr_has(&format!("SIG{signal}: stopped"))
            .stderr_has("nothing was written");
        if !args.is_empty() {
            let record = run.json();
            assert_eq!(record["interrupted"], true, "{record:#}");
            assert_eq!(record["signal"], format!("SIG{signal}"));
            // The shape of a report over several targets.
            assert_eq!(record["targets"], json!([]), "{record:#}");
            assert!(record.get("result").is_none(), "{record:#}");
        }
        assert_eq!(c.writes(), [0, 0, 0]);
        assert_eq!(c.held(), [0, 0, 0]);
    }
}

/// Where a change came from is told per target, as for one: a value
/// rotated in the manifest after an apply changed in the sources.
#[test]
fn diff_over_several_targets_tells_where_each_change_came_from() {
    let c = Clusters::any();
    let file = c.manifest(&hf(&c.env.canary("before")));
    let path = file.to_str().unwrap_or_default();
    c.run(&["apply", "-f", path, "--context", "train,infer"])
        .success();
    let file = c.manifest(&hf(&c.env.canary("after")));
    let run = c.run(&[
        "diff",
        "-f",
        file.to_str().unwrap_or_default(),
        "--context",
        "train,infer",
    ]);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stdout
            .matches("~ HF_TOKEN (changed in the sources since the last apply)")
            .count(),
        2,
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("origin unknown"), "{}", run.stdout);
}

/// A signal while waiting for deletions a finalizer holds, on several
/// targets, stops the waiting at once, as with one target.
#[test]
fn a_signal_while_waiting_for_deletions_on_several_targets_stops_at_once() {
    let Some(c) = Clusters::new() else { return };
    for i in 0..2 {
        c.put_ours(i, "gone", "x");
        c.servers()[i].add_finalizer(
            &c.namespaces[i],
            &format!("gone-{OWNER}"),
            "example.com/hold",
        );
    }
    let file = c.manifest("  - name: gone\n    state: absent\n");
    let mut cmd = c.command();
    cmd.args(["apply", "-f", file.to_str().unwrap_or_default()])
        .args(["--context", "train,infer", "--yes", "--timeout", "600s"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn: {e}"));
    let deleted = |i: usize| {
        c.servers()[i]
            .requests()
            .iter()
            .any(|r| r.method == "DELETE")
    };
    let watchdog = std::time::Instant::now();
    while !(deleted(0) && deleted(1)) {
        assert!(
            watchdog.elapsed() < Duration::from_secs(120),
            "no deletion sent"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // Both deletions sent; now in the wait.
    std::thread::sleep(Duration::from_millis(300));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap_or_else(|e| panic!("kill: {e}"));
    assert!(sent.success());
    let stopped_at = std::time::Instant::now();
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"));
    let run = c.env.checked(out);
    assert_eq!(run.code, Some(130), "{run:?}");
    run.stderr_has("interrupted by SIGINT while waiting for deletions");
    assert!(
        stopped_at.elapsed() < Duration::from_secs(60),
        "the wait went on after the signal"
    );
}

/// A context name with terminal controls is escaped in the question
/// before deletions, as everywhere else.
#[test]
fn a_context_name_is_escaped_in_the_question_before_deletions() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let named = "in\u{1b}[31mfer\u{9b}2J";
    let kubeconfig = one_server_contexts(&env, server, &["train", named]);
    env.run(&["secret", "create", "--inline", "K=v", "gone"])
        .success();
    let file = env.file(
        "secrets.yaml",
        format!("{HEAD}  - name: gone\n    state: absent\n"),
    );
    let mut base = env.command();
    base.env("KUBECONFIG", &kubeconfig);
    let flag = format!("train,{named}");
    let (code, out) = crate::terminal::on_terminal_with(
        &env,
        &base,
        &[
            "apply",
            "-f",
            file.to_str().unwrap_or_default(),
            "--context",
            &flag,
        ],
        "no\n",
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("Apply will delete"), "{out:?}");
    assert!(!out.contains(named), "raw controls in: {out:?}");
    assert!(!out.contains('\u{9b}'), "raw C1 in: {out:?}");
    assert!(
        out.contains("1 secret on `in\\u{1b}[31mfer\\u{9b}2J`. Type 'yes'"),
        "{out:?}"
    );
    assert!(
        env.secret(&format!("gone-{OWNER}")).is_some(),
        "cancelled: kept"
    );
}

/// A kubeconfig whose contexts, named `names`, all reach `server` as
/// alice, in the env's namespace.
fn one_server_contexts(env: &TestEnv, server: &ApiServer, names: &[&str]) -> PathBuf {
    let contexts: Vec<Value> = names
        .iter()
        .map(|name| {
            json!({"name": name, "context": {"cluster": "one", "user": "alice", "namespace": env.namespace}})
        })
        .collect();
    // JSON is YAML: kube reads it as kubectl does.
    let config = json!({"apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "one", "cluster": {"server": server.url(), "certificate-authority-data": proxy::ca_data()}}],
        "users": [{"name": "alice", "user": {"token": ALICE_TOKEN}}],
        "contexts": contexts, "current-context": names.first().copied().unwrap_or_default()});
    // YAML takes no raw C1 character: escaped, as a user would write it.
    env.file(
        "named-contexts",
        config.to_string().replace('\u{9b}', "\\u009b"),
    )
}

/// A context whose name holds a comma is named with `\,`, by any
/// command, alone or among others; a saved plan's hint writes it so.
#[test]
fn a_context_with_a_comma_in_its_name_is_named_with_an_escaped_comma() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let kubeconfig = one_server_contexts(&env, server, &["train", "x,y"]);
    let run = |args: &[&str]| {
        let mut cmd = env.command();
        cmd.env("KUBECONFIG", &kubeconfig).args(args);
        env.run_command(cmd)
    };
    run(&["secret", "list", "--context", "x\\,y"]).success();
    run(&["secret", "list", "--context", "x,y"])
        .failure()
        .stderr_has("--context names 2 contexts");
    let file = env.file(
        "secrets.yaml",
        format!("{HEAD}{}", hf(&env.canary("token"))),
    );
    let file = file.to_str().unwrap_or_default();
    let diff = run(&[
        "diff",
        "-f",
        file,
        "--context",
        "train,x\\,y",
        "--out",
        "plan.json",
    ]);
    assert_eq!(diff.code, Some(1), "{diff:?}");
    diff.stdout_has("Target: context `x,y`")
        .stderr_has("--context 'train,x\\,y' --plan");
    run(&[
        "apply",
        "-f",
        file,
        "--context",
        "train,x\\,y",
        "--plan",
        "plan.json",
    ])
    .success();
}
