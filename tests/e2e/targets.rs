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

use serde_json::{Value, json};

use crate::support::apiserver::ALICE_TOKEN;
use crate::support::cli::TestCommand;
use crate::support::manifest::{Entry, runs};
use crate::support::requests::owner_selector;
use crate::support::{
    ApiServer, BYSTANDER_OWNER, Fault, FaultRule, OTHER_OWNER, OWNER, Run, TestEnv, entry,
    kubeconfig, kubectl, mine, result_counts, secret_object, send_signal, wait_until,
};

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
    users: RefCell<Vec<Option<Value>>>,
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

impl Real {
    /// `kubectl ARGS` as the caller, `stdin` fed in; it must succeed: its output.
    fn kubectl(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = kubectl(&self.admin, args, stdin);
        assert!(out.status.success(), "kubectl {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
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
            real.kubectl(&["create", "namespace", &ns], None);
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
        let kubeconfig = env.path("multi-kubeconfig");
        let c = Clusters {
            env,
            others,
            real,
            namespaces,
            users: RefCell::new(vec![None; NAMES.len()]),
            kubeconfig,
        };
        // Every target holds another user's secret with a value that must
        // never show (the env put one on `train`).
        for i in 1..NAMES.len() {
            let value = c.env.canary("bystander");
            let bystander = secret_object("bystander").owner(BYSTANDER_OWNER);
            c.put(i, "create", bystander.value("TOKEN", value).json());
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
        let users = self.users.borrow();
        let mut config = kubeconfig();
        for (i, name) in NAMES.iter().enumerate() {
            let namespace = &self.namespaces[i];
            config = match (&self.real, &users[i]) {
                (Some(real), Some(user)) => {
                    config.context(name, real.cluster.clone(), user.clone(), namespace)
                }
                (Some(real), None) => {
                    config.context(name, real.cluster.clone(), real.user.clone(), namespace)
                }
                (None, Some(user)) => config.context(
                    name,
                    json!({"server": self.server_url(i), "certificate-authority-data": crate::support::proxy::ca_data()}),
                    user.clone(),
                    namespace,
                ),
                (None, None) => config.fake(name, &self.server_url(i), namespace),
            };
        }
        std::fs::write(&self.kubeconfig, config.text()).unwrap_or_else(|e| panic!("{e}"));
    }

    /// Target `i`'s credentials come from the credential plugin `plugin`
    /// from now on (as an SSO login's do).
    fn use_plugin(&self, i: usize, plugin: &Path) {
        self.users.borrow_mut()[i] = Some(json!({"exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": plugin.to_string_lossy(),
            "interactiveMode": "Never"}}));
        self.write_kubeconfig();
    }

    /// Put `obj` on target `i` as another writer would: on the real server
    /// with `kubectl VERB` (`create`, or `apply` to replace).
    fn put(&self, i: usize, verb: &str, obj: Value) {
        let ns = &self.namespaces[i];
        match &self.real {
            Some(real) => {
                real.kubectl(&[verb, "-n", ns, "-f", "-"], Some(&obj.to_string()));
            }
            None => {
                self.servers()[i].put_secret(ns, obj);
            }
        }
    }

    /// Our env secret `name` on target `i`, holding `TOKEN: value`, as if
    /// another of our writers had put it there (created, or replaced).
    fn put_ours(&self, i: usize, name: &str, value: &str) {
        self.put(i, "apply", secret_object(name).value("TOKEN", value).json());
    }

    /// Our secrets target `i` holds.
    fn ours(&self, i: usize) -> Vec<Value> {
        let ns = &self.namespaces[i];
        let all = match &self.real {
            Some(real) => {
                let selector = owner_selector(OWNER);
                let out = real.kubectl(
                    &["get", "secrets", "-n", ns, "-l", &selector, "-o", "json"],
                    None,
                );
                let list: Value = serde_json::from_str(&out).unwrap_or_default();
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
        let secret_name = mine(name);
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
        let admin = |args: &[&str]| real.kubectl(&[args, &["-n", ns]].concat(), None);
        admin(&["create", "serviceaccount", sa]);
        if !verbs.is_empty() {
            let verbs = format!("--verb={}", verbs.join(","));
            admin(&["create", "role", sa, &verbs, "--resource=secrets"]);
            let subject = format!("--serviceaccount={ns}:{sa}");
            admin(&["create", "rolebinding", sa, "--role", sa, &subject]);
        }
        let token = admin(&["create", "token", sa]);
        self.users.borrow_mut()[i] = Some(json!({ "token": token }));
        self.write_kubeconfig();
        format!("system:serviceaccount:{ns}:{sa}")
    }

    /// The user the targets know us as, unless told otherwise.
    fn user(&self) -> String {
        match &self.real {
            Some(real) => {
                let out = real.kubectl(&["auth", "whoami", "-o", "json"], None);
                let review: Value = serde_json::from_str(&out).unwrap_or_default();
                review["status"]["userInfo"]["username"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            }
            None => crate::support::apiserver::ALICE.to_string(),
        }
    }

    /// `args` with the targets' kubeconfig (each target in its context's
    /// namespace: no `-n`).
    fn cmd(&self, args: &[&str]) -> TestCommand<'_> {
        self.env.with_kubeconfig(&self.kubeconfig, args)
    }

    fn run(&self, args: &[&str]) -> Run {
        self.cmd(args).run()
    }

    /// `diff -f FILE --context CONTEXTS`
    fn diff(&self, file: &str, contexts: &str) -> Run {
        self.diff_with(file, contexts, &[])
    }

    /// `diff -f FILE --context CONTEXTS EXTRA...`
    fn diff_with(&self, file: &str, contexts: &str, extra: &[&str]) -> Run {
        self.on("diff", file, contexts, extra).run()
    }

    /// `apply -f FILE --context CONTEXTS`
    fn apply(&self, file: &str, contexts: &str) -> Run {
        self.apply_with(file, contexts, &[])
    }

    /// `apply -f FILE --context CONTEXTS EXTRA...`
    fn apply_with(&self, file: &str, contexts: &str, extra: &[&str]) -> Run {
        self.on("apply", file, contexts, extra).run()
    }

    /// `VERB -f FILE --context CONTEXTS EXTRA...`, to adjust before it runs.
    fn on(&self, verb: &str, file: &str, contexts: &str, extra: &[&str]) -> TestCommand<'_> {
        self.cmd(&[verb, "-f", file, "--context", contexts])
            .args(extra)
    }

    /// `secrets.yaml` holding `entries`.
    fn manifest(&self, entries: &[Entry]) -> String {
        self.env.manifest(entries)
    }

    /// `secrets.yaml` holding [`hf`] with a canary.
    fn hf_manifest(&self) -> String {
        self.manifest(&[hf(&self.env.canary("token"))])
    }

    fn clear(&self) {
        for s in self.servers() {
            s.clear_requests();
        }
    }

    /// Each server's count of `method` on paths ending in `suffix`, in the
    /// order of [`NAMES`].
    fn per_server(&self, method: &str, suffix: &str) -> Vec<usize> {
        self.servers()
            .iter()
            .map(|s| s.count(method, suffix))
            .collect()
    }

    /// The LISTs of secrets each server saw, in the order of [`NAMES`].
    fn lists(&self) -> Vec<usize> {
        self.per_server("GET", "/secrets")
    }

    /// The creates each server has seen, in the order of [`NAMES`].
    fn creates(&self) -> Vec<usize> {
        self.per_server("POST", "/secrets")
    }

    /// On the fake: the LISTs of secrets each server saw are `expected`.
    fn assert_lists(&self, expected: [usize; 3]) {
        if self.is_fake() {
            assert_eq!(self.lists(), expected, "LISTs of secrets");
        }
    }

    /// On the fake: the writes (requests other than reads and reviews)
    /// each server saw are `expected`.
    fn assert_writes(&self, expected: [usize; 3]) {
        if self.is_fake() {
            let writes: Vec<usize> = self.servers().iter().map(|s| s.writes().len()).collect();
            assert_eq!(writes, expected, "writes");
        }
    }

    /// No target holds a secret of ours, and (on the fake) none was sent a
    /// write.
    fn assert_nothing_written(&self) {
        self.assert_writes([0, 0, 0]);
        assert_eq!(self.held(), [0, 0, 0], "secrets of ours held");
    }

    /// On the fake: no server was sent anything.
    fn assert_no_requests(&self) {
        for s in self.servers() {
            assert!(s.requests().is_empty(), "{:#?}", s.requests());
        }
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

/// The env secret `hf` holding `HF_TOKEN: value`.
fn hf(value: &str) -> Entry {
    entry("hf").kind("env").inline(&[("HF_TOKEN", value)])
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

/// The contexts of [`results_by_target`], in order.
fn target_names(results: &[(String, String)]) -> Vec<&str> {
    results.iter().map(|(name, _)| name.as_str()).collect()
}

/// The entries of `apply -o json`'s `targets`, which must name every
/// context of [`NAMES`], in order.
fn json_targets(json: &Value) -> Vec<Value> {
    let targets = json["targets"].as_array().cloned().unwrap_or_default();
    let contexts: Vec<&str> = targets
        .iter()
        .filter_map(|t| t["target"]["context"].as_str())
        .collect();
    assert_eq!(contexts, NAMES, "{json:#}");
    targets
}

#[test]
fn diff_plans_every_target_grouped_with_one_list_each() {
    let c = Clusters::any();
    let file = c.hf_manifest();
    // Already on `train`; not yet on the others.
    c.run(&["--context", "train", "apply", "-f", &file])
        .success();
    for s in c.servers() {
        s.set_latency(Duration::from_millis(50));
    }
    c.clear();
    let run = c.run(&[
        "diff",
        "-f",
        &file,
        "--context",
        "train",
        "--context",
        "infer,stage",
    ]);
    run.exits(1);
    for (i, name) in NAMES.iter().enumerate() {
        run.stdout_has(&format!(
            "Target: context `{name}`, namespace `{}`, server {}",
            c.namespaces[i],
            c.server_url(i)
        ));
    }
    // Each target's own summary, in the order given, then the total.
    assert_eq!(
        plan_lines(&run.stdout),
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
    c.assert_lists([1, 1, 1]);
    for s in c.servers() {
        assert_eq!(s.requests().len(), 1, "{:#?}", s.requests());
    }
}

#[test]
fn diff_json_gives_one_entry_per_target() {
    let c = Clusters::any();
    let file = c.hf_manifest();
    let run = c.diff_with(&file, "stage,train", &["-o", "json"]);
    run.exits(1);
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
    let file = c.hf_manifest();
    for name in NAMES {
        c.run(&["--context", name, "apply", "-f", &file]).success();
    }
    c.diff(&file, "train,infer,stage")
        .success()
        .stdout_has("Total over 3 targets: 0 to create, 0 to merge, 0 to delete, 3 unchanged.");
}

#[test]
fn diff_exits_above_1_when_a_target_cannot_be_read_and_shows_the_others() {
    let c = Clusters::any();
    let file = c.hf_manifest();
    c.refuse_reading(1);
    c.diff(&file, "train,infer")
        .exits(2)
        .stdout_has("Target: context `train`")
        .stdout_has("Target: context `infer`")
        .stdout_has("Not read: ")
        .stdout_has("Total over 2 targets: 1 to create, 0 to merge, 0 to delete, 0 unchanged; 1 target not read.")
        .stderr_has("target: context `infer`");
    let json = c.diff_with(&file, "train,infer", &["-o", "json"]);
    let json = json.exits(2).json();
    assert!(json["targets"][0]["plan"].is_object(), "{json:#}");
    assert!(json["targets"][1]["error"].is_string(), "{json:#}");
}

#[test]
fn all_contexts_takes_konduktors_allowed_contexts() {
    let c = Clusters::any();
    let file = c.hf_manifest();
    let config = c.env.file(
        "konduktor.yaml",
        "kubernetes:\n  allowed_contexts: [infer, stage]\n",
    );
    let all_contexts = |extra: &[&str]| {
        c.cmd(&["diff", "-f", &file, "--all-contexts"])
            .args(extra)
            .env("KONDUKTOR_CONFIG", &config)
            .run()
    };
    all_contexts(&[])
        .exits(1)
        .stdout_has("Target: context `infer`")
        .stdout_has("Target: context `stage`")
        .stdout_has("Total over 2 targets")
        .stdout_lacks("context `train`");
    c.assert_lists([0, 1, 1]);
    // Without a config listing contexts: said, and nothing sent.
    c.clear();
    c.run(&["diff", "-f", &file, "--all-contexts"])
        .failure()
        .stderr_has("allowed_contexts");
    c.assert_lists([0, 0, 0]);
    // Not with --context as well.
    all_contexts(&["--context", "train"])
        .failure()
        .stderr_has("--all-contexts and --context");
}

#[test]
fn one_context_named_twice_is_the_single_target_of_today() {
    let c = Clusters::any();
    let file = c.hf_manifest();
    c.diff(&file, "infer,infer")
        .exits(1)
        .stdout_lacks("Target:")
        .stdout_has("Plan: 1 to create");
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
        c.run(args)
            .exits(2)
            .stderr_has("only `diff`, `apply` and `whoami` take several");
    }
    c.assert_no_requests();
}

#[test]
fn an_owner_mismatch_stops_every_target_before_any_request() {
    let c = Clusters::any();
    let token = c.env.canary("token");
    let file = c.env.file_arg(
        "secrets.yaml",
        format!(
            "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nowner: {OTHER_OWNER}\nsecrets:\n  - name: hf\n    kind: env\n    inline: {{HF_TOKEN: {token}}}\n"
        ),
    );
    c.diff(&file, "train,infer,stage")
        .failure()
        .stderr_has("owner");
    c.assert_no_requests();
}

#[test]
fn an_unusable_kubeconfig_entry_stops_every_target_before_any_request() {
    let c = Clusters::any();
    let file = c.hf_manifest();
    c.diff(&file, "train,nowhere")
        .failure()
        .stderr_has("nowhere")
        .stderr_has("nothing was read on any target");
    c.assert_no_requests();
}

#[test]
fn apply_writes_every_target_and_a_rerun_converges() {
    let c = Clusters::any();
    let token = c.env.canary("token");
    let file = c.manifest(&[hf(&token)]);
    c.run(&["--context", "train", "apply", "-f", &file])
        .success();
    for s in c.servers() {
        s.set_latency(Duration::from_millis(20));
    }
    c.clear();
    let run = c.apply(&file, "train,infer,stage");
    run.success()
        .stdout_has("Total over 3 targets: 2 to create, 0 to merge, 0 to delete, 1 unchanged.");
    // Each target's result under its header.
    let results = results_by_target(&run.stdout);
    assert_eq!(target_names(&results), NAMES, "{}", run.stdout);
    for (name, part) in &results[1..] {
        assert!(
            part.contains(&format!("secret \"hf\" created (hf-{OWNER})")),
            "{name}: {part}"
        );
    }
    c.assert_writes([0, 1, 1]);
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
    c.apply(&file, "train,infer,stage")
        .success()
        .stdout_has("No changes: every target matches the manifest.");
    c.assert_writes([0, 0, 0]);
}

#[test]
fn apply_writes_nothing_anywhere_when_one_target_cannot_be_read() {
    let c = Clusters::any();
    let file = c.hf_manifest();
    c.refuse_reading(2);
    c.apply(&file, "train,infer,stage")
        .failure()
        .stderr_has("nothing was written on any target")
        .stderr_has("`stage`");
    c.assert_nothing_written();
}

#[test]
fn apply_writes_nothing_anywhere_when_one_target_denies_a_write() {
    let c = Clusters::any();
    let file = c.hf_manifest();
    c.refuse_writing(1);
    c.apply(&file, "train,infer,stage")
        .failure()
        .stderr_has("nothing was written on any target")
        .stderr_has("target: context `infer`")
        // The plan was read everywhere, the denied target included.
        .stdout_has("Total over 3 targets: 3 to create");
    c.assert_nothing_written();
}

#[test]
fn apply_over_several_targets_asks_once_and_refuses_without_a_terminal() {
    let c = Clusters::any();
    let file = c.hf_manifest();
    for name in NAMES {
        c.run(&["--context", name, "apply", "-f", &file]).success();
    }
    let gone = c.manifest(&[entry("hf").absent()]);
    c.clear();
    c.apply(&gone, "train,infer")
        .failure()
        .stderr_has("1 secret on `train`, 1 secret on `infer`")
        .stderr_has("nothing was changed on any target");
    c.assert_writes([0, 0, 0]);
    assert_eq!(c.held(), [1, 1, 1]);
}

#[test]
fn a_saved_plan_records_every_target_and_is_carried_out_only_for_the_same_set() {
    let c = Clusters::any();
    let token = c.env.canary("token");
    let path = c.manifest(&[hf(&token)]);
    let out = c.env.path("plan.json");
    let out = out.to_str().unwrap_or_default();
    c.diff_with(&path, "train,infer", &["--out", out])
        .exits(1)
        .stderr_has("Plan for 2 targets saved to")
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
        c.apply_with(&path, contexts, &["--plan", out])
            .failure()
            .stderr_has("is a plan for")
            .stderr_has("nothing was changed");
    }
    c.assert_lists([0, 0, 0]);
    assert_eq!(c.held(), [0, 0, 0]);
    // The same set, in any order: carried out without asking.
    c.apply_with(&path, "infer,train", &["--plan", out])
        .success();
    c.assert_writes([1, 1, 0]);
    assert_eq!(c.held(), [1, 1, 0]);
    for i in 0..2 {
        assert_eq!(c.data(i, "hf")["HF_TOKEN"], token.as_bytes());
    }
    // Carried out once: the cluster moved since, so it is out of date.
    c.apply_with(&path, "train,infer", &["--plan", out])
        .failure()
        .stderr_has("out of date");
}

#[test]
fn a_saved_plan_is_not_carried_out_anywhere_when_one_target_moved_since_review() {
    let c = Clusters::any();
    let token = c.env.canary("token");
    c.put_ours(0, "hf", "old");
    c.put_ours(1, "hf", "old");
    let path = c.manifest(&[hf(&token)]);
    let out = c.env.path("plan.json");
    let out = out.to_str().unwrap_or_default();
    c.diff_with(&path, "train,infer", &["--out", out]).exits(1);
    // Someone else writes `infer`'s secret after the review.
    c.put_ours(1, "hf", &c.env.canary("theirs"));
    c.clear();
    c.apply_with(&path, "train,infer", &["--plan", out])
        .failure()
        .stderr_has("is out of date on one target: on `infer`")
        .stderr_has("changed in the cluster")
        .stderr_has("nothing was written on any target")
        .stderr_lacks("on `train`");
    c.assert_writes([0, 0, 0]);
    assert_eq!(c.data(0, "hf")["TOKEN"], b"old");
    // A value moved in the sources: out of date on both, said for each.
    c.diff_with(&path, "train,infer", &["--out", out, "--force"])
        .exits(1);
    let path = c.manifest(&[hf(&c.env.canary("rotated"))]);
    c.apply_with(&path, "train,infer", &["--plan", out])
        .failure()
        .stderr_has("is out of date on 2 targets: on `train`, \"hf\" changed in the sources")
        .stderr_has("on `infer`, \"hf\" changed in the sources");
    c.assert_writes([0, 0, 0]);
    assert_eq!(c.data(0, "hf")["TOKEN"], b"old");
    assert!(!c.data(0, "hf").contains_key("HF_TOKEN"));
}

#[test]
fn a_slow_apply_over_several_targets_shows_each_targets_progress_on_a_terminal() {
    let Some(c) = Clusters::new() else { return };
    for s in &c.servers()[..2] {
        s.inject(
            FaultRule::new(Fault::Delay(Duration::from_millis(1500)))
                .on("POST")
                .path("/secrets"),
        );
    }
    let file = c.hf_manifest();
    c.on("apply", &file, "train,infer", &[])
        .on_terminal("")
        .exits(0)
        .stdout_has("Applying: `train` 0/1, `infer` 0/1 done")
        .stdout_has("Apply complete: 1 done.");
}

#[test]
fn a_plan_is_not_saved_when_a_target_cannot_be_read() {
    let c = Clusters::any();
    let file = c.hf_manifest();
    c.refuse_reading(1);
    let out = c.env.path("plan.json");
    c.diff_with(
        &file,
        "train,infer",
        &["--out", out.to_str().unwrap_or_default()],
    )
    .exits(2)
    .stdout_has("Target: context `train`")
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
    let file = c.hf_manifest();
    c.apply(&file, "train,infer").success();
    for server in c.servers().into_iter().take(2) {
        // Any method: a review asked twice, however, is one too many.
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
    let file = c.hf_manifest();
    c.refuse_reading(2);
    let skipping = |extra: &[&str]| {
        c.on("apply", &file, "train,infer,stage", &["--skip-unreachable"])
            .args(extra)
            .run()
    };
    // Not every target converged: the status says so.
    skipping(&[])
        .exits(1)
        .stderr_has("skipping the target `stage`")
        .stdout_has("Skipped: it could not be read; nothing was written there.");
    c.assert_writes([1, 1, 0]);
    assert_eq!(c.held(), [1, 1, 0]);
    // The targets written have converged.
    c.apply(&file, "train,infer")
        .success()
        .stdout_has("No changes: every target matches the manifest.");
    // With the skipped one named, nothing to do is not "every target".
    skipping(&[])
        .exits(1)
        .stdout_has("No changes on the targets that were read (the others were skipped).")
        .stdout_lacks("every target matches");
    // -o json names the skipped target and why.
    let json = skipping(&["-o", "json"]).json();
    assert_eq!(
        json["targets"].as_array().map(Vec::len),
        Some(2),
        "{json:#}"
    );
    assert_eq!(json["skipped"][0]["target"]["context"], "stage", "{json:#}");
    assert!(json["skipped"][0]["error"].is_string(), "{json:#}");
}

#[test]
fn values_are_read_once_for_every_target_and_not_before_every_target_is_usable() {
    let c = Clusters::any();
    let token = c.env.canary("from-op");
    let op = c.env.counting_script("op", &format!("printf %s '{token}'"));
    let path = c.env.manifest_yaml(
        "  - name: hf\n    kind: env\n    fromCommand:\n      - key: HF_TOKEN\n        command: [./op]\n",
    );
    // A context the kubeconfig does not have: nothing is run, nothing sent.
    c.apply_with(&path, "train,nowhere", &["--allow-commands"])
        .failure()
        .stderr_has("nowhere");
    assert_eq!(runs(&op), 0);
    c.assert_lists([0, 0, 0]);
    c.apply_with(&path, "train,infer,stage", &["--allow-commands"])
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

/// Each target's plan summary line, in order.
fn plan_lines(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| l.starts_with("Plan: ")).collect()
}

/// `hf` and `wandb` on every target, then a manifest changing both (its
/// path and the new `hf` value): on `infer` another writer changes `hf`
/// between the plan and its merge; the other servers answer 200 ms late,
/// so that `infer` has failed while they are still being written.
fn conflict_on_infer(c: &Clusters) -> (String, String) {
    let hf_and_wandb = |hf_value: &str, wandb_value: &str| {
        c.manifest(&[
            hf(hf_value),
            entry("wandb")
                .kind("env")
                .inline(&[("WANDB_API_KEY", wandb_value)]),
        ])
    };
    let old = hf_and_wandb(&c.env.canary("old-hf"), &c.env.canary("old-wandb"));
    c.apply(&old, "train,infer,stage").success();
    let new_hf = c.env.canary("new-hf");
    let new = hf_and_wandb(&new_hf, &c.env.canary("new-wandb"));
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
    (new, new_hf)
}

#[test]
fn a_conflict_on_one_target_fails_there_alone_and_a_rerun_converges() {
    let Some(c) = Clusters::new() else { return };
    let (file, new_hf) = conflict_on_infer(&c);
    let old_hf = c.data(1, "hf")["HF_TOKEN"].clone();
    let run = c.apply(&file, "train,infer,stage");
    run.exits(1);
    let results = results_by_target(&run.stdout);
    assert_eq!(target_names(&results), NAMES, "{}", run.stdout);
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

    assert_rerun_converges(
        &c,
        &file,
        &[
            "Plan: 0 to create, 0 to merge, 0 to delete, 2 unchanged.",
            "Plan: 0 to create, 1 to merge, 0 to delete, 1 unchanged.",
            "Plan: 0 to create, 0 to merge, 0 to delete, 2 unchanged.",
        ],
    );
    assert_eq!(c.data(1, "hf")["HF_TOKEN"], new_hf.as_bytes());
}

#[test]
fn a_conflict_on_one_target_is_that_targets_result_in_json() {
    let Some(c) = Clusters::new() else { return };
    let (file, _) = conflict_on_infer(&c);
    let json = c
        .apply_with(&file, "train,infer,stage", &["-o", "json"])
        .exits(1)
        .json();
    let targets = json_targets(&json);
    for t in [&targets[0], &targets[2]] {
        assert_eq!(result_counts(t), (2, 0, 0), "{t:#}");
        assert!(t.get("stopped").is_none(), "{t:#}");
    }
    let infer = &targets[1];
    assert_eq!(result_counts(infer), (1, 1, 0), "{infer:#}");
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
    let file = numbered_secrets(c, "four", 4);
    let servers = c.servers();
    servers[0].set_latency(Duration::from_millis(300));
    servers[2].set_latency(Duration::from_millis(300));
    servers[1].inject(
        FaultRule::new(Fault::Drop)
            .on("POST")
            .path("/secrets")
            .after(1),
    );
    file
}

/// A manifest of `n` default secrets `s0`, `s1`, ... (`s000`, ... from
/// 10 on), each holding `K`: a canary labelled `label`, and its number.
fn numbered_secrets(c: &Clusters, label: &str, n: usize) -> String {
    let canary = c.env.canary(label);
    let width = if n > 9 { 3 } else { 1 };
    let entries: Vec<Entry> = (0..n)
        .map(|i| entry(&format!("s{i:0width$}")).inline(&[("K", &format!("{canary}-{i}"))]))
        .collect();
    c.manifest(&entries)
}

#[test]
fn a_server_lost_part_way_stops_its_target_alone_and_a_rerun_converges() {
    let Some(c) = Clusters::new() else { return };
    let file = infer_lost_after_one_create(&c);
    let run = c.apply_with(&file, "train,infer,stage", &["--parallel", "1"]);
    run.exits(1);
    let results = results_by_target(&run.stdout);
    assert_eq!(target_names(&results), NAMES, "{}", run.stdout);
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
    assert_rerun_converges(
        &c,
        &file,
        &[
            "Plan: 0 to create, 0 to merge, 0 to delete, 4 unchanged.",
            "Plan: 3 to create, 0 to merge, 0 to delete, 1 unchanged.",
            "Plan: 0 to create, 0 to merge, 0 to delete, 4 unchanged.",
        ],
    );
    assert_eq!(c.held(), [4, 4, 4]);
}

#[test]
fn a_server_lost_part_way_is_that_targets_stopped_in_json() {
    let Some(c) = Clusters::new() else { return };
    let file = infer_lost_after_one_create(&c);
    let json = c
        .apply_with(
            &file,
            "train,infer,stage",
            &["--parallel", "1", "-o", "json"],
        )
        .exits(1)
        .json();
    let targets = json_targets(&json);
    for t in [&targets[0], &targets[2]] {
        assert_eq!(result_counts(t), (4, 0, 0), "{t:#}");
        assert!(t.get("stopped").is_none(), "{t:#}");
    }
    let infer = &targets[1];
    assert_eq!(result_counts(infer), (1, 1, 2), "{infer:#}");
    let stopped = infer["stopped"].as_str().unwrap_or_default();
    assert!(stopped.contains("cannot reach the API server"), "{infer:#}");
    assert_eq!(c.held(), [4, 1, 4]);
}

// Issue 22: an interrupt during the writes starts no new write on any
// target, lets those in flight finish, prints each target's result and
// exits 128 + the signal's number; a re-run converges.

/// How many secrets each target gets in the interrupted applies below.
const MANY: usize = 40;

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
    let mut child = c
        .on(
            "apply",
            file,
            "train,infer,stage",
            &["--parallel", &parallel],
        )
        .args(args)
        .spawn();
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
    wait_until("apply sent no creates to some target", || {
        c.creates().iter().all(|&n| n >= 4)
    });
    send_signal(signal, &child);
    let told = said.recv_timeout(Duration::from_secs(60));
    let at_stopping = c.creates();
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
    let after = c.creates();
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

/// A re-run of `apply -f file` over every target succeeds with the plan
/// lines `expected` (each target's own, in order), and a second finds
/// nothing to do.
fn assert_rerun_converges<S: AsRef<str>>(c: &Clusters, file: &str, expected: &[S]) {
    let rerun = c.apply(file, "train,infer,stage");
    rerun.success();
    let expected: Vec<&str> = expected.iter().map(AsRef::as_ref).collect();
    assert_eq!(plan_lines(&rerun.stdout), expected, "{}", rerun.stdout);
    c.apply(file, "train,infer,stage")
        .success()
        .stdout_has("No changes: every target matches the manifest.");
}

/// After an interrupt, a re-run writes what was not (`done` was), and a
/// second finds nothing to do.
fn assert_rerun_completes(c: &Clusters, file: &str, done: &[usize]) {
    let expected: Vec<String> = done
        .iter()
        .map(|d| {
            format!(
                "Plan: {} to create, 0 to merge, 0 to delete, {d} unchanged.",
                MANY - d
            )
        })
        .collect();
    assert_rerun_converges(c, file, &expected);
    assert_eq!(c.held(), [MANY; 3]);
}

#[test]
fn sigint_while_writing_every_target_stops_them_in_order_and_exits_130() {
    let Some(c) = Clusters::new() else { return };
    let file = numbered_secrets(&c, "many", MANY);
    let (run, at_stopping) = interrupted_on_every_target(&c, &file, "INT", &[]);
    run.exits(130)
        .stderr_has("SIGINT: stopping")
        .stdout_has("Apply interrupted");
    let results = results_by_target(&run.stdout);
    assert_eq!(target_names(&results), NAMES, "{}", run.stdout);
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
    assert_rerun_completes(&c, &file, &done);
}

#[test]
fn sigterm_while_writing_every_target_leaves_a_json_record_and_exits_143() {
    let Some(c) = Clusters::new() else { return };
    let file = numbered_secrets(&c, "many", MANY);
    let (run, at_stopping) = interrupted_on_every_target(&c, &file, "TERM", &["-o", "json"]);
    run.exits(143).stderr_has("SIGTERM: stopping");
    let json = run.json();
    assert_eq!(json["interrupted"], true, "{json:#}");
    let targets = json_targets(&json);
    let mut done = Vec::new();
    for t in &targets {
        let (made, failed, skipped) = result_counts(t);
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
    assert_rerun_completes(&c, &file, &done);
}

/// A signal while the targets are being read (one target's LIST held by
/// its server) stops at once, as with one target: a record that nothing
/// was written, exit 128 + the signal's number, no write anywhere.
#[test]
fn a_signal_while_reading_the_targets_stops_at_once_with_nothing_written() {
    let Some(c) = Clusters::new() else { return };
    let file = c.hf_manifest();
    for (signal, code, args) in [("INT", 130, &[][..]), ("TERM", 143, &["-o", "json"][..])] {
        c.clear();
        c.servers()[2].inject(
            FaultRule::new(Fault::Delay(Duration::from_secs(600)))
                .on("GET")
                .path("/secrets"),
        );
        let child = c.on("apply", &file, "train,infer,stage", args).spawn();
        wait_until("stage was never read", || c.lists()[2] > 0);
        send_signal(signal, &child);
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("wait: {e}"));
        c.servers()[2].clear_faults();
        let run = c.env.checked(out);
        run.exits(code)
            .stderr_has(&format!("SIG{signal}: stopped"))
            .stderr_has("nothing was written");
        if !args.is_empty() {
            let record = run.json();
            assert_eq!(record["interrupted"], true, "{record:#}");
            assert_eq!(record["signal"], format!("SIG{signal}"));
            // The shape of a report over several targets.
            assert_eq!(record["targets"], json!([]), "{record:#}");
            assert!(record.get("result").is_none(), "{record:#}");
        }
        c.assert_nothing_written();
    }
}

/// Where a change came from is told per target, as for one: a value
/// rotated in the manifest after an apply changed in the sources.
#[test]
fn diff_over_several_targets_tells_where_each_change_came_from() {
    let c = Clusters::any();
    let file = c.manifest(&[hf(&c.env.canary("before"))]);
    c.apply(&file, "train,infer").success();
    let file = c.manifest(&[hf(&c.env.canary("after"))]);
    let run = c.diff(&file, "train,infer");
    run.exits(1).stdout_lacks("origin unknown");
    assert_eq!(
        run.stdout
            .matches("~ HF_TOKEN (changed in the sources since the last apply)")
            .count(),
        2,
        "{}",
        run.stdout
    );
}

/// A signal while waiting for deletions a finalizer holds, on several
/// targets, stops the waiting at once, as with one target.
#[test]
fn a_signal_while_waiting_for_deletions_on_several_targets_stops_at_once() {
    let Some(c) = Clusters::new() else { return };
    for i in 0..2 {
        c.put_ours(i, "gone", "x");
        c.servers()[i].add_finalizer(&c.namespaces[i], &mine("gone"), "example.com/hold");
    }
    let file = c.manifest(&[entry("gone").absent()]);
    let child = c
        .on(
            "apply",
            &file,
            "train,infer",
            &["--yes", "--timeout", "600s"],
        )
        .spawn();
    wait_until("no deletion sent", || {
        c.per_server("DELETE", "")[..2].iter().all(|&n| n > 0)
    });
    // Both deletions sent; now in the wait.
    std::thread::sleep(Duration::from_millis(300));
    send_signal("INT", &child);
    let stopped_at = std::time::Instant::now();
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait: {e}"));
    c.env
        .checked(out)
        .exits(130)
        .stderr_has("interrupted by SIGINT while waiting for deletions");
    assert!(
        stopped_at.elapsed() < Duration::from_secs(60),
        "the wait went on after the signal"
    );
}

/// A kubeconfig whose contexts, named `names`, all reach the env's server
/// as alice, in its namespace (None on a real cluster).
fn one_server_contexts(env: &TestEnv, names: &[&str]) -> Option<String> {
    let server = env.fake()?;
    let url = server.url();
    // The first in the env's namespace, each other in one of its own: two
    // contexts on one namespace are one target named twice.
    let mut config = kubeconfig();
    for (i, name) in names.iter().enumerate() {
        let namespace = match i {
            0 => env.namespace.clone(),
            i => format!("{}-{i}", env.namespace),
        };
        server.create_namespace(&namespace);
        config = config.fake(name, &url, &namespace);
    }
    Some(crate::support::arg(&env.kubeconfig_file("named-contexts", &config)).to_string())
}

/// A context name with terminal controls is escaped in the question
/// before deletions, as everywhere else.
#[test]
fn a_context_name_is_escaped_in_the_question_before_deletions() {
    let env = TestEnv::new();
    let named = "in\u{1b}[31mfer\u{9b}2J";
    // The deletion is on the named context's namespace (the env's).
    let Some(kubeconfig) = one_server_contexts(&env, &[named, "train"]) else {
        return;
    };
    env.create("gone", &[("K", "v")]).success();
    let file = env.manifest(&[entry("gone").absent()]);
    let flag = format!("train,{named}");
    env.with_kubeconfig(&kubeconfig, &["apply", "-f", &file, "--context", &flag])
        .on_terminal("no\n")
        .exits(1)
        .stdout_has("Apply will delete")
        .stdout_lacks(named)
        .stdout_lacks("\u{9b}")
        .stdout_has("1 secret on `in\\u{1b}[31mfer\\u{9b}2J`. Type 'yes'");
    assert!(env.my_secret("gone").is_some(), "cancelled: kept");
}

/// A context whose name holds a comma is named with `\,`, by any
/// command, alone or among others; a saved plan's hint writes it so.
#[test]
fn a_context_with_a_comma_in_its_name_is_named_with_an_escaped_comma() {
    let env = TestEnv::new();
    let Some(kubeconfig) = one_server_contexts(&env, &["train", "x,y"]) else {
        return;
    };
    let run = |args: &[&str]| env.with_kubeconfig(&kubeconfig, args).run();
    run(&["secret", "list", "--context", "x\\,y"]).success();
    run(&["secret", "list", "--context", "x,y"])
        .failure()
        .stderr_has("--context names 2 contexts");
    let file = env.manifest(&[hf(&env.canary("token"))]);
    run(&[
        "diff",
        "-f",
        &file,
        "--context",
        "train,x\\,y",
        "--out",
        "plan.json",
    ])
    .exits(1)
    .stdout_has("Target: context `x,y`")
    .stderr_has("--context 'train,x\\,y' --plan");
    run(&[
        "apply",
        "-f",
        &file,
        "--context",
        "train,x\\,y",
        "--plan",
        "plan.json",
    ])
    .success();
}

/// Two contexts that reach one namespace of one server are refused before
/// anything is read: the plan would count, ask and write it twice.
#[test]
fn two_contexts_on_one_namespace_are_refused_as_one_target_named_twice() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let url = server.url();
    let config =
        kubeconfig()
            .fake("train", &url, &env.namespace)
            .fake("alias", &url, &env.namespace);
    let config = env.kubeconfig_file("aliases", &config);
    let config = crate::support::arg(&config).to_string();
    let file = env.manifest(&[hf(&env.canary("token"))]);
    env.clear_requests();
    for verb in ["diff", "apply"] {
        env.with_kubeconfig(&config, &[verb, "-f", &file, "--context", "train,alias"])
            .run()
            .failure()
            .stderr_has("the contexts `train` and `alias` reach the same namespace")
            .stderr_has("nothing was read");
    }
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.method != "GET" || !r.path.ends_with("/secrets"))
    );
    assert!(env.my_secret("hf").is_none());
}

/// A target whose credential plugin fails (an expired login) is a target
/// that cannot be read, as one whose server does not answer: diff shows the
/// others and exits 2; apply stops every target unless --skip-unreachable.
#[test]
fn a_target_whose_credential_plugin_fails_is_one_that_cannot_be_read() {
    let c = Clusters::any();
    let plugin = c.env.file(
        "expired-login",
        "#!/bin/sh\necho 'login expired: run sso login' >&2\nexit 1\n",
    );
    let made = Command::new("chmod").arg("700").arg(&plugin).status();
    assert!(made.is_ok_and(|s| s.success()));
    c.use_plugin(2, &plugin);
    let file = c.hf_manifest();
    let run = c.diff(&file, "train,infer,stage");
    run.exits(2)
        .stdout_has("Target: context `stage` (not connected)")
        .stdout_has("Target: context `infer`")
        .stderr_has("the credential plugin")
        .stderr_has("failed with exit status 1");
    c.apply_with(&file, "train,infer,stage", &[])
        .exits(1)
        .stderr_has("nothing was written on any target");
    c.assert_nothing_written();
    c.apply_with(&file, "train,infer,stage", &["--skip-unreachable"])
        .exits(1)
        .stderr_has("skipping the target `stage`");
    assert_eq!(c.held(), [1, 1, 0]);
}

/// With -v over several targets, each request's line names its context:
/// two targets may share a namespace's name on different servers.
#[test]
fn verbose_request_lines_name_their_target() {
    let c = Clusters::any();
    let file = c.hf_manifest();
    let run = c.diff_with(&file, "train,infer", &["-v"]);
    run.exits(1);
    for name in ["train", "infer"] {
        assert!(
            run.stderr
                .lines()
                .any(|l| l.contains(&format!("context `{name}`: ")) && l.contains(" -> ok in ")),
            "{name}:\n{}",
            run.stderr
        );
    }
}
