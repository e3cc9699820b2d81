//! `render-job` prints what `konduktor launch` submits: for every task of
//! the recorded corpus (tests/fixtures/konduktor-launch, made by Konduktor's
//! own launcher code), our JobSet equals Konduktor's, for the same task,
//! owner, run id, hostname and secrets, but for the differences that are by
//! design (docs/konduktor-compat.md §7.5), which this test knows exactly.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::support::{Run, TestEnv, fixtures};

const LAUNCH: &str = "konduktor-launch";
/// The login the corpus was recorded as.
const LOGIN: &str = "root";

/// Recorded JobSets not compared yet, each with why.
const PENDING: &[(&str, &str)] = &[
    (
        "name-underscore",
        "Konduktor takes `_` in a name, which no Kubernetes object takes (its JobSet gets a 422): refused",
    ),
    (
        "labels-odd",
        "Konduktor passes label values unchecked, which the API server refuses (a 422 even corrected): refused",
    ),
    (
        "long-name",
        "a 58-character name makes a 63-character JobSet, whose workers' Job and pod hostnames pass 63: refused (docs/konduktor-compat.md §7.2)",
    ),
];

/// What the recording's `.args` say: launch flags and the namespace whose
/// secrets were present.
struct Case {
    name: String,
    task: PathBuf,
    flags: Vec<String>,
    secrets: &'static str,
    /// Konduktor's config it was recorded with.
    config: Option<PathBuf>,
}

fn case(name: &str) -> Case {
    let dir = fixtures().join(LAUNCH);
    let args = std::fs::read_to_string(dir.join(format!("{name}.args")))
        .unwrap_or_else(|e| panic!("{name}.args: {e}"));
    let mut flags = Vec::new();
    let mut secrets = "secrets.json";
    let mut config = None;
    for line in args.lines() {
        if let Some(env) = line.strip_prefix("--env ") {
            flags.extend(["--env".to_string(), env.to_string()]);
        } else if let Some(file) = line.strip_prefix("config: ") {
            config = Some(dir.join(file));
        } else if let Some(ns) = line.strip_prefix("namespace: ") {
            secrets = match ns {
                "ref-launch-nosecrets" => "secrets-nosecrets.json",
                "ref-launch-ssh" => "secrets-ssh.json",
                _ => "secrets.json",
            };
        }
    }
    Case {
        name: name.to_string(),
        task: dir.join("tasks").join(format!("{name}.yaml")),
        flags,
        secrets,
        config,
    }
}

/// The names of the recorded fixtures whose file ends with `suffix`, sorted.
fn recorded(suffix: &str) -> Vec<String> {
    let dir = fixtures().join(LAUNCH);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(suffix))
                .map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

/// Every recorded JobSet's name.
fn recorded_jobsets() -> Vec<String> {
    recorded(".jobset.json")
}

/// Seed the secrets that were present when `case` was recorded.
fn seed(env: &TestEnv, file: &str) {
    let list = crate::support::fixture_json(&format!("{LAUNCH}/{file}"));
    for item in list["items"].as_array().into_iter().flatten() {
        env.seed(item.clone());
    }
}

fn render(env: &TestEnv, c: &Case, extra: &[&str]) -> Run {
    let flags: Vec<&str> = c.flags.iter().map(String::as_str).collect();
    let render = env
        .cmd(&["render-job", "-f", crate::support::arg(&c.task)])
        .args(&["--run-id", "0000", "-o", "json"])
        .args(&flags)
        .args(extra)
        .env("USER", LOGIN)
        .env("LOGNAME", LOGIN);
    match &c.config {
        Some(config) => render.env("KONDUKTOR_CONFIG", config),
        None => render,
    }
    .run()
}

/// A quantity as a number of base units: `96.0`, `"96"`, `"1024.0Gi"` and
/// `"1024Gi"` are the same request.
fn quantity(v: &Value) -> Option<f64> {
    let text = match v {
        Value::Number(n) => return n.as_f64(),
        Value::String(s) => s.as_str(),
        _ => return None,
    };
    let (number, factor) = [
        ("Gi", 1024f64.powi(3)),
        ("Mi", 1024f64.powi(2)),
        ("m", 0.001),
    ]
    .iter()
    .find_map(|(suffix, f)| text.strip_suffix(suffix).map(|n| (n, *f)))
    .unwrap_or((text, 1.0));
    number.parse::<f64>().ok().map(|n| n * factor)
}

/// The differences by design, undone (docs/konduktor-compat.md §7.5):
/// - the entry command is ours (`args`), and so is the unpack init container;
/// - Konduktor's bookkeeping variables (`KONDUKTOR_ENV_*_HOPEFULLY_NO_NAME_COLLISION`)
///   and its `sync` volume serve its own script: not emitted;
/// - our `podFailurePolicy` rule carries `status: "True"`, which the JobSet
///   v0.9.1 CRD requires;
/// - the pod template carries our secrets-checksum annotation;
/// - quantities are written as Kubernetes writes them (`96`, not `96.0`).
fn normalize(mut v: Value, ours: bool, user_id: &str) -> Value {
    if !ours {
        v["metadata"]["labels"]["trainy.ai/user-id"] = json!(user_id);
        if let Some(cond) = v["spec"]["replicatedJobs"][0]["template"]["spec"]["podFailurePolicy"]
            ["rules"][0]["onPodConditions"][0]
            .as_object_mut()
        {
            cond.insert("status".into(), json!("True"));
        }
    }
    normalize_pod(
        &mut v["spec"]["replicatedJobs"][0]["template"]["spec"]["template"],
        ours,
    );
    v
}

/// The pod template's differences by design, undone (the list above).
fn normalize_pod(template: &mut Value, ours: bool) {
    if let Some(meta) = template["metadata"].as_object_mut() {
        let annotations = meta.get_mut("annotations").and_then(Value::as_object_mut);
        // Konduktor writes `annotations: {}` for a Deployment's pod: no
        // annotation, as none.
        let empty = annotations.is_none_or(|a| {
            if ours {
                a.remove("konduktor.trainy.ai/secrets-checksum");
            }
            a.is_empty()
        });
        if empty {
            meta.remove("annotations");
        }
    }
    let spec = &mut template["spec"];
    if let Some(s) = spec.as_object_mut() {
        s.remove("initContainers");
    }
    for list in ["volumes"] {
        if let Some(items) = spec[list].as_array_mut() {
            items.retain(|i| i["name"] != "sync");
        }
    }
    let container = &mut spec["containers"][0];
    if let Some(c) = container.as_object_mut() {
        c.remove("args");
    }
    if let Some(mounts) = container["volumeMounts"].as_array_mut() {
        mounts.retain(|i| i["name"] != "sync");
    }
    if let Some(env) = container["env"].as_array_mut() {
        env.retain(|e| {
            !e["name"]
                .as_str()
                .is_some_and(|n| n.ends_with("_HOPEFULLY_NO_NAME_COLLISION"))
        });
    }
    for side in ["limits", "requests"] {
        if let Some(res) = container["resources"][side].as_object_mut() {
            for q in res.values_mut() {
                if let Some(n) = quantity(q) {
                    *q = json!(n);
                }
            }
        }
    }
}

/// The first path at which `ours` and `theirs` differ, with both values.
fn first_difference(ours: &Value, theirs: &Value, path: &str) -> Option<String> {
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let p = format!("{path}/{k}");
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => first_difference(x, y, &p),
                    (Some(x), None) => Some(format!("{p}: only ours has it: {x}")),
                    (None, Some(y)) => Some(format!("{p}: only Konduktor's has it: {y}")),
                    (None, None) => None,
                }
            })
        }
        (Value::Array(a), Value::Array(b)) => {
            let named = |v: &Vec<Value>| -> Vec<String> {
                v.iter()
                    .map(|i| i["name"].as_str().unwrap_or("?").to_string())
                    .collect()
            };
            a.iter()
                .zip(b)
                .enumerate()
                .find_map(|(i, (x, y))| first_difference(x, y, &format!("{path}[{i}]")))
                .or_else(|| {
                    (a.len() != b.len()).then(|| {
                        format!(
                            "{path}: {} items here, {} in Konduktor's ({:?} / {:?})",
                            a.len(),
                            b.len(),
                            named(a),
                            named(b)
                        )
                    })
                })
        }
        _ if ours == theirs => None,
        _ => Some(format!("{path}: ours {ours}, Konduktor's {theirs}")),
    }
}

fn compare(name: &str, ours: &Value, theirs: &Value) -> Option<String> {
    first_difference(ours, theirs, "").map(|d| format!("{name}: {d}"))
}

fn machine_user_id() -> String {
    let host = whoami::hostname().unwrap_or_default();
    konduktor::hash_seed(LOGIN, &host)
}

#[test]
fn every_recorded_jobset_is_what_konduktor_launch_submits() {
    let recorded = recorded_jobsets();
    assert!(recorded.len() >= 15, "{recorded:?}");
    for (pending, _) in PENDING {
        assert!(
            recorded.iter().any(|r| r == pending),
            "{pending} is no recorded case"
        );
    }
    let user_id = machine_user_id();
    let mut differences = Vec::new();
    for name in recorded
        .iter()
        .filter(|n| !PENDING.iter().any(|(p, _)| p == n))
    {
        let c = case(name);
        let env = TestEnv::new();
        seed(&env, c.secrets);
        let run = render(&env, &c, &[]);
        if run.code != Some(0) {
            differences.push(format!("{}: refused: {}", c.name, run.stderr));
            continue;
        }
        let ours: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", c.name, run.stdout));
        let theirs = crate::support::fixture_json(&format!("{LAUNCH}/{name}.jobset.json"));
        if let Some(d) = compare(
            &c.name,
            &normalize(ours, true, &user_id),
            &normalize(theirs, false, &user_id),
        ) {
            differences.push(d);
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} differ:\n{}",
        differences.len(),
        recorded.len() - PENDING.len(),
        differences.join("\n")
    );
}

/// Every recorded `.serving.json`'s name.
fn recorded_servings() -> Vec<String> {
    recorded(".serving.json")
}

/// The public host Konduktor's launcher wrote into every recorded Ingress
/// (its lookup failed on the recording cluster); render-job takes it as
/// `--ingress-host`.
const RECORDED_INGRESS_HOST: &str = "defa2.trainy.us";
/// The namespace the serving objects were recorded in.
const RECORDED_NAMESPACE: &str = "ref-launch";

/// Konduktor's serving objects as they would be in `namespace`, each pod
/// with the differences by design undone (docs/konduktor-compat.md §7.5);
/// ours the same.
fn normalize_serving(mut items: Value, ours: bool, namespace: &str) -> Value {
    for item in items.as_array_mut().into_iter().flatten() {
        if !ours {
            if item["metadata"]["namespace"] == RECORDED_NAMESPACE {
                item["metadata"]["namespace"] = json!(namespace);
            }
            if let Some(source) = item
                .pointer_mut("/spec/metricsSources/0")
                .and_then(Value::as_object_mut)
            {
                let path = source["path"].as_str().unwrap_or_default().replacen(
                    &format!("/{RECORDED_NAMESPACE}/"),
                    &format!("/{namespace}/"),
                    1,
                );
                source.insert("path".into(), json!(path));
            }
        }
        if item["kind"] == "Deployment" {
            normalize_pod(&mut item["spec"]["template"], ours);
        }
    }
    items
}

#[test]
fn every_recorded_serving_task_is_what_konduktor_serve_launch_submits() {
    let recorded = recorded_servings();
    assert!(recorded.len() >= 8, "{recorded:?}");
    let mut differences = Vec::new();
    for name in &recorded {
        let c = case(name);
        let env = TestEnv::new();
        seed(&env, c.secrets);
        let run = render(&env, &c, &["--ingress-host", RECORDED_INGRESS_HOST]);
        if run.code != Some(0) {
            differences.push(format!("{}: refused: {}", c.name, run.stderr));
            continue;
        }
        let ours: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{}: {e}\n{}", c.name, run.stdout));
        assert_eq!(
            (&ours["apiVersion"], &ours["kind"]),
            (&json!("v1"), &json!("List")),
            "{name}"
        );
        let theirs = crate::support::fixture_json(&format!("{LAUNCH}/{name}.serving.json"));
        if let Some(d) = compare(
            &c.name,
            &normalize_serving(ours["items"].clone(), true, &env.namespace),
            &normalize_serving(theirs, false, &env.namespace),
        ) {
            differences.push(d);
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} differ:\n{}",
        differences.len(),
        recorded.len(),
        differences.join("\n")
    );
}

/// `konduktor serve launch`'s flags replace the task's `serving` fields:
/// the recorded `flags/serve` (the real CLI, `--min-replicas 1
/// --max-replicas 3 --ports 9090 --probe /ready` over
/// `tasks/serve-general-fixed.yaml`) is what render-job prints with them.
#[test]
fn serve_launchs_flags_override_serving_as_konduktor_does() {
    let env = TestEnv::new();
    seed(&env, "secrets.json");
    let mut c = case("serve-general-fixed");
    c.flags = [
        "--min-replicas",
        "1",
        "--max-replicas",
        "3",
        "--ports",
        "9090",
        "--probe",
        "/ready",
    ]
    .map(String::from)
    .to_vec();
    let run = render(&env, &c, &["--ingress-host", RECORDED_INGRESS_HOST]);
    run.success();
    let ours: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}"));
    let theirs = crate::support::fixture_json(&format!("{LAUNCH}/flags/serve.serving.json"));
    assert_eq!(
        compare(
            "flags/serve",
            &normalize_serving(ours["items"].clone(), true, &env.namespace),
            &normalize_serving(theirs, false, &env.namespace),
        ),
        None
    );
    // The flags are checked together with the task's values, as Konduktor
    // checks them: min 3 over the task's max 2 is refused.
    c.flags = ["--min-replicas", "3"].map(String::from).to_vec();
    render(&env, &c, &[])
        .failure()
        .stderr_has("max_replicas (2) is less than min_replicas (3)");
}

#[test]
fn the_comparison_names_the_first_differing_path() {
    let a = json!({"spec": {"x": [{"name": "a", "v": 1}], "y": 2}});
    let b = json!({"spec": {"x": [{"name": "a", "v": 2}], "y": 2}});
    assert_eq!(
        compare("t", &a, &b).as_deref(),
        Some("t: /spec/x[0]/v: ours 1, Konduktor's 2")
    );
    let c = json!({"spec": {"x": [{"name": "a", "v": 1}, {"name": "b"}], "y": 2}});
    assert!(
        compare("t", &a, &c).is_some_and(|d| d.contains("1 items here, 2 in Konduktor's")),
        "a missing item is a difference"
    );
    assert_eq!(compare("t", &a, &a), None);
    assert_eq!(quantity(&json!(96.0)), quantity(&json!("96")));
    assert_eq!(quantity(&json!("1024.0Gi")), quantity(&json!("1024Gi")));
    assert_ne!(quantity(&json!("1Gi")), quantity(&json!("1")));
}

/// Recorded refusals render-job does not share, each with why.
const NOT_REFUSED: &[(&str, &str)] = &[
    (
        "serve-without-serving",
        "a `konduktor serve launch` refusal of a training task, which render-job prints as the JobSet `konduktor launch` submits",
    ),
    (
        "config-unknown-key",
        "keys of Konduktor's config that render-job does not read are ignored, never checked (docs/konduktor-compat.md §5.4)",
    ),
    (
        "config-apt-skip-tailscale",
        "`apt.skip` is not read: our entry command installs nothing",
    ),
    (
        "config-tailscale-missing",
        "the tailscale auth-key Secret is not the user's (no owner label): the one LIST does not see it, so it is not checked",
    ),
];

#[test]
fn every_task_konduktor_refuses_is_refused_with_a_located_reason() {
    let dir = fixtures().join(LAUNCH).join("bad");
    let tasks = crate::support::yaml_corpus(&format!("tests/fixtures/{LAUNCH}/bad"));
    assert!(tasks.len() >= 40, "{}", tasks.len());
    let mut wrong = Vec::new();
    for task in tasks {
        let name = crate::support::corpus_name(&task);
        if NOT_REFUSED.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let header = std::fs::read_to_string(dir.join(format!("{name}.refusal.txt")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let first = header.lines().next().unwrap_or_default();
        let secrets = if first.contains("nosecrets") {
            "secrets-nosecrets.json"
        } else {
            "secrets.json"
        };
        // `# bad/<task>.yaml, namespace <ns>, config <file>: what ...`
        let config = first
            .split(", config ")
            .nth(1)
            .and_then(|rest| rest.split(':').next())
            .map(|file| fixtures().join(LAUNCH).join("config").join(file.trim()));
        let env = TestEnv::new();
        seed(&env, secrets);
        let c = Case {
            name: name.clone(),
            task: task.clone(),
            flags: Vec::new(),
            secrets,
            config,
        };
        let run = render(&env, &c, &[]);
        if run.code != Some(1) || !run.stdout.is_empty() {
            wrong.push(format!(
                "{}: exit {:?}, stdout {} bytes\n{}",
                c.name,
                run.code,
                run.stdout.len(),
                run.stderr
            ));
        } else if !run.stderr.contains("help:") {
            wrong.push(format!("{}: no help in\n{}", c.name, run.stderr));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

const FLAGS_TASK: &str = "name: t\nresources:\n  image_id: u:1\n  cpus: 1\n  memory: 1\n  labels: {kueue.x-k8s.io/queue-name: q}\nenvs:\n  FROM_TASK: task\n  FROM_FLAG: task-loses\n  UNSET_IN_FILE:\nrun: echo\n";

/// `render-job` of `task` with no secrets (offline, an empty manifest).
fn render_task(env: &TestEnv, task: &str, args: &[&str]) -> Run {
    let task = env.task(task);
    let manifest = env.manifest(&[]);
    env.cmd(&["render-job", "-f", &task, "--secrets", &manifest])
        .args(args)
        .no_namespace()
        .env("LOCAL_ONLY_VALUE", "from-local-env")
        .run()
}

fn container_env(jobset: &Value) -> Vec<(String, String)> {
    jobset["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]["spec"]["containers"][0]
        ["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| Some((e["name"].as_str()?.to_string(), e["value"].as_str()?.to_string())))
        .collect()
}

#[test]
fn launchs_flags_override_the_task_with_its_names_and_meanings() {
    let env = TestEnv::new();
    let env_file = env.file(".env", "# dotenv\nFROM_FILE=file\nFROM_FLAG=file-loses\n");
    let run = render_task(
        &env,
        FLAGS_TASK,
        &[
            "--name",
            "other",
            "--num-nodes",
            "3",
            "--cpus",
            "8",
            "--memory",
            "32",
            "--gpus",
            "a100:2",
            "--image-id",
            "img:2",
            "--max-restarts",
            "2",
            "--completions",
            "6",
            "--env-file",
            &env_file.to_string_lossy(),
            "--env",
            "FROM_FLAG=flag",
            "--env",
            "UNSET_IN_FILE=given",
            "--env",
            "LOCAL_ONLY_VALUE",
            "--run-id",
            "ab12",
            "-o",
            "json",
        ],
    );
    run.success();
    let js: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(js["metadata"]["name"], "other-ab12");
    assert_eq!(js["metadata"]["labels"]["kueue.x-k8s.io/queue-name"], "q");
    assert_eq!(js["spec"]["failurePolicy"]["maxRestarts"], 2);
    let workers = &js["spec"]["replicatedJobs"][0]["template"]["spec"];
    assert_eq!(
        (
            workers["parallelism"].clone(),
            workers["completions"].clone()
        ),
        (json!(3), json!(6))
    );
    let c = &workers["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "img:2");
    assert_eq!(
        c["resources"]["limits"],
        json!({"cpu": "8", "memory": "32Gi", "nvidia.com/gpu": "2"})
    );
    let vars = container_env(&js);
    let get = |n: &str| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    assert_eq!(get("NUM_NODES"), Some("3"));
    assert_eq!(get("KONDUKTOR_ACCELERATOR_TYPE"), Some("A100"));
    assert_eq!(get("FROM_TASK"), Some("task"));
    assert_eq!(
        get("FROM_FLAG"),
        Some("flag"),
        "--env wins over --env-file and the task"
    );
    assert_eq!(get("FROM_FILE"), Some("file"));
    assert_eq!(get("UNSET_IN_FILE"), Some("given"));
    assert_eq!(
        get("LOCAL_ONLY_VALUE"),
        Some("from-local-env"),
        "--env KEY takes the local value"
    );
    // The task's order, the flags' new variables after it (Konduktor's dict update).
    let order: Vec<&str> = vars
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| k.starts_with("FROM_") || *k == "UNSET_IN_FILE" || *k == "LOCAL_ONLY_VALUE")
        .collect();
    assert_eq!(
        order,
        [
            "FROM_TASK",
            "FROM_FLAG",
            "UNSET_IN_FILE",
            "FROM_FILE",
            "LOCAL_ONLY_VALUE"
        ]
    );
    // Without --run-id: 4 random hex characters, as Konduktor.
    let run = render_task(
        &env,
        FLAGS_TASK,
        &["--env", "UNSET_IN_FILE=x", "-o", "json"],
    );
    let js: Value = serde_json::from_str(&run.success().stdout).unwrap_or_default();
    let name = js["metadata"]["name"].as_str().unwrap_or_default();
    let suffix = name.strip_prefix("t-").unwrap_or_default();
    assert!(
        suffix.len() == 4 && suffix.chars().all(|c| c.is_ascii_hexdigit()),
        "{name}"
    );
}

#[test]
fn bad_flag_values_are_usage_errors_that_never_show_a_value() {
    let env = TestEnv::new();
    let secret = env.canary("flag-value");
    for (args, needle) in [
        (
            vec!["--env".to_string(), format!("1BAD={secret}")],
            "not an environment variable name",
        ),
        (
            vec!["--env".into(), "SURELY_NOT_SET_ANYWHERE_X".into()],
            "SURELY_NOT_SET_ANYWHERE_X: not set in the local environment",
        ),
        (vec!["--run-id".into(), "ABCD".into()], "run id"),
        (vec!["--cpus".into(), "500m".into()], "plain number"),
        (
            vec!["--memory".into(), "16Gi".into()],
            "plain number of GiB",
        ),
        (
            vec!["--gpus".into(), "V100:8".into()],
            "Konduktor does not know",
        ),
        (vec!["--num-nodes".into(), "0".into()], "--num-nodes"),
    ] {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = render_task(&env, FLAGS_TASK, &refs);
        run.exits(2).stderr_has(needle);
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
    // An env file's bad line is named by its number, its text never shown.
    let bad = env.file("bad.env", format!("OK=1\n{secret}\n"));
    let run = render_task(&env, FLAGS_TASK, &["--env-file", &bad.to_string_lossy()]);
    run.failure().stderr_has("line 2");
    // A null env without --env: located in the task, Konduktor's fix offered.
    let run = render_task(&env, FLAGS_TASK, &[]);
    run.failure()
        .stderr_has("has no value (Konduktor needs one)")
        .stderr_has("--env NAME=...");
}

#[test]
fn a_plain_job_has_the_same_pod_and_the_tasks_labels() {
    let env = TestEnv::new();
    let args = ["--env", "UNSET_IN_FILE=x", "--run-id", "0000", "-o", "json"];
    let jobset: Value =
        serde_json::from_str(&render_task(&env, FLAGS_TASK, &args).success().stdout)
            .unwrap_or_default();
    let mut job_args = args.to_vec();
    job_args.extend(["--workload", "job"]);
    let job: Value =
        serde_json::from_str(&render_task(&env, FLAGS_TASK, &job_args).success().stdout)
            .unwrap_or_default();
    assert_eq!(
        (job["apiVersion"].clone(), job["kind"].clone()),
        (json!("batch/v1"), json!("Job"))
    );
    assert_eq!(job["metadata"]["name"], "t-0000");
    assert_eq!(job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"], "q");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(
        job["spec"]["template"],
        jobset["spec"]["replicatedJobs"][0]["template"]["spec"]["template"],
        "one pod for every shape"
    );
    let yaml = render_task(
        &env,
        FLAGS_TASK,
        &[
            "--env",
            "UNSET_IN_FILE=x",
            "--run-id",
            "0000",
            "--workload",
            "job",
        ],
    );
    let from_yaml: Value = serde_saphyr::from_str(&yaml.success().stdout).unwrap_or_default();
    assert_eq!(from_yaml, job, "-o yaml and -o json print the same object");
}

/// On a real API server with the JobSet CRD (v0.9.1) installed: every
/// JobSet and Job printed for the corpus's tasks passes a server-side dry
/// run (`kubectl create --dry-run=server`), which Konduktor's own JobSets
/// fail (a 422 on the pod failure policy, recorded in `validate/`). So does
/// every serving task's Deployment, Service and Ingress.
#[test]
fn every_rendered_object_is_accepted_by_a_real_api_server() {
    let env = TestEnv::new();
    if !env.is_real() {
        return;
    }
    seed(&env, "secrets.json");
    let mut refused = Vec::new();
    for name in recorded_jobsets()
        .iter()
        .filter(|n| !PENDING.iter().any(|(p, _)| p == n))
    {
        let c = case(name);
        for workload in ["jobset", "job"] {
            let run = render(&env, &c, &["--workload", workload]);
            run.success();
            if let Err(why) = env.dry_run_create(&run.stdout) {
                refused.push(format!("{name} ({workload}): {why}"));
            }
        }
    }
    // Serving: the Deployment, Service and Ingress (the autoscalers' CRDs,
    // KEDA's and Aibrix's, are not installed there).
    for name in recorded_servings() {
        let c = case(&name);
        let run = render(&env, &c, &["--ingress-host", RECORDED_INGRESS_HOST]);
        run.success();
        let mut list: Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}\n{}", run.stdout));
        if let Some(items) = list["items"].as_array_mut() {
            items.retain(|i| {
                ["Deployment", "Service", "Ingress"]
                    .contains(&i["kind"].as_str().unwrap_or_default())
            });
            assert!(items.len() >= 2, "{name}: {items:?}");
        }
        if let Err(why) = env.dry_run_create(&list.to_string()) {
            refused.push(format!("{name} (serving): {why}"));
        }
    }
    assert!(
        refused.is_empty(),
        "refused (is the JobSet CRD installed? kubectl apply --server-side -f ../shared/crds/):\n{}",
        refused.join("\n")
    );
}

/// Where `value` breaks the structural schema `schema` (a CRD's
/// `openAPIV3Schema`): types, int-or-string, `anyOf`, `enum`, `required`,
/// unknown fields (the API server's strict field validation), lengths,
/// minimums. Not checked: `pattern` and CEL rules (the real-server test
/// covers them).
fn schema_problems(value: &Value, schema: &Value, path: &str, out: &mut Vec<String>) {
    if let Some(alternatives) = schema["anyOf"].as_array() {
        let fits = alternatives.iter().any(|alt| {
            let mut p = Vec::new();
            schema_problems(value, alt, path, &mut p);
            p.is_empty()
        });
        if !fits && schema["x-kubernetes-int-or-string"] != true {
            out.push(format!("{path}: matches no `anyOf` alternative: {value}"));
        }
    }
    if schema["x-kubernetes-int-or-string"] == true {
        if !(value.is_i64() || value.is_u64() || value.is_string()) {
            out.push(format!(
                "{path}: must be an integer or a string, not {value}"
            ));
        }
        return;
    }
    let type_ok = match schema["type"].as_str() {
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        _ => true,
    };
    if !type_ok {
        out.push(format!(
            "{path}: must be of type {}, not {value}",
            schema["type"]
        ));
        return;
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        out.push(format!("{path}: {value} is not one of {options:?}"));
    }
    if let Some(max) = schema["maxLength"].as_u64()
        && value
            .as_str()
            .is_some_and(|s| s.chars().count() as u64 > max)
    {
        out.push(format!("{path}: longer than {max}"));
    }
    if let Some(min) = schema["minimum"].as_f64()
        && value.as_f64().is_some_and(|v| v < min)
    {
        out.push(format!("{path}: less than {min}"));
    }
    if let (Some(max), Some(items)) = (schema["maxItems"].as_u64(), value.as_array())
        && items.len() as u64 > max
    {
        out.push(format!("{path}: more than {max} items"));
    }
    if let Some(items) = value.as_array() {
        for (i, item) in items.iter().enumerate() {
            schema_problems(item, &schema["items"], &format!("{path}[{i}]"), out);
        }
    }
    let Some(fields) = value.as_object() else {
        return;
    };
    for required in schema["required"].as_array().into_iter().flatten() {
        if let Some(r) = required.as_str()
            && !fields.contains_key(r)
        {
            out.push(format!("{path}/{r}: required"));
        }
    }
    for (k, v) in fields {
        let p = format!("{path}/{k}");
        match (&schema["properties"][k], &schema["additionalProperties"]) {
            (Value::Null, Value::Null) if schema["properties"].is_object() => {
                out.push(format!("{p}: unknown field"));
            }
            (Value::Null, Value::Object(_)) => {
                schema_problems(v, &schema["additionalProperties"], &p, out);
            }
            (Value::Null, _) => {}
            (field, _) => schema_problems(v, field, &p, out),
        }
    }
}

fn jobset_schema() -> Value {
    crate::support::fixture_json("crds/jobset-v0.9.1-v1alpha2.schema.json")["openAPIV3Schema"]
        .clone()
}

/// In CI, without any cluster: every JobSet render-job prints for the
/// corpus fits the JobSet v0.9.1 CRD's `openAPIV3Schema`
/// (tests/fixtures/crds/, from ../shared/crds/), where Konduktor's own do
/// not (the pod failure policy's `status`; a fractional CPU as a float).
#[test]
fn every_rendered_jobset_fits_the_jobset_crds_schema() {
    let schema = jobset_schema();
    assert!(
        schema["properties"]["spec"].is_object(),
        "the schema fixture"
    );
    let mut problems = Vec::new();
    for name in recorded_jobsets()
        .iter()
        .filter(|n| !PENDING.iter().any(|(p, _)| p == n))
    {
        let c = case(name);
        let env = TestEnv::new();
        seed(&env, c.secrets);
        let run = render(&env, &c, &[]);
        let ours: Value = serde_json::from_str(&run.success().stdout).unwrap_or_default();
        let mut p = Vec::new();
        schema_problems(&ours, &schema, "", &mut p);
        problems.extend(p.into_iter().map(|p| format!("{name}: {p}")));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The check can fail: Konduktor's recorded JobSets break the schema where
    // the API server refused them (validate/SUMMARY.txt).
    let problems_of = |recorded: &str| {
        let mut found = Vec::new();
        schema_problems(
            &crate::support::fixture_json(&format!("{LAUNCH}/{recorded}.jobset.json")),
            &schema,
            "",
            &mut found,
        );
        found
    };
    let theirs = problems_of("gpu-queue");
    assert!(
        theirs
            .iter()
            .any(|p| p.ends_with("podFailurePolicy/rules[0]/onPodConditions[0]/status: required")),
        "{theirs:?}"
    );
    let cpu = problems_of("cpu-only");
    assert!(
        cpu.iter()
            .any(|p| p.contains("limits/cpu: must be an integer or a string")),
        "{cpu:?}"
    );
}

/// `--validate`: what is printed is first sent as a server-side dry run
/// (`?dryRun=All`, as fixture create-dry-run) to the user's namespace; the
/// cluster's answer is reported, and nothing is ever created.
#[test]
fn validate_sends_a_dry_run_and_reports_what_the_cluster_says() {
    let env = TestEnv::new();
    let args = ["--env", "UNSET_IN_FILE=x", "--run-id", "0000", "--validate"];
    if let Some(server) = env.fake() {
        // A cluster without JobSet: said, with the way out.
        let task = env.task(FLAGS_TASK);
        let run = env.cmd(&["render-job", "-f", &task]).args(&args).run();
        run.failure()
            .stderr_has("dry-run create jobsets \"t-0000\"")
            .stderr_has("is JobSet installed on this cluster");
        assert!(run.stdout.is_empty(), "nothing printed: {}", run.stdout);
        server.install_jobset_crd();
        server.clear_requests();
    }
    for (workload, kind, path) in [("jobset", "JobSet", "/jobsets"), ("job", "Job", "/jobs")] {
        let task = env.task(FLAGS_TASK);
        env.cmd(&["render-job", "-f", &task])
            .args(&args)
            .args(&["--workload", workload])
            .run()
            .success()
            .stderr_has(&format!(
                "validated: the cluster accepts {kind} t-0000 in a server-side dry run (nothing was created)"
            ))
            .stdout_has(&format!("kind: {kind}"));
        if let Some(server) = env.fake() {
            let posts: Vec<_> = server
                .requests()
                .into_iter()
                .filter(|r| r.method == "POST")
                .collect();
            assert_eq!(posts.len(), 1, "{posts:?}");
            assert!(posts[0].path.ends_with(path), "{posts:?}");
            assert!(posts[0].query.contains("dryRun=All"), "{posts:?}");
            server.clear_requests();
        }
    }
}

/// A serving task's `--validate` dry-runs each object in Konduktor's order
/// (Deployment, Service, then the autoscaler and the Ingress); a cluster
/// without KEDA's HTTP add-on is said, with the way out, and nothing is
/// printed. An env secret's value never shows.
#[test]
fn validate_dry_runs_every_serving_object_in_order() {
    let env = TestEnv::new();
    let canary = env.canary("serving-secret");
    let mut secret = crate::support::fixture_json(&format!("{LAUNCH}/secrets.json"))["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|i| i["metadata"]["name"] == "app-env-abba3a3e")
                .cloned()
        })
        .unwrap_or_else(|| panic!("secrets.json has app-env-abba3a3e"));
    secret["data"] = json!({"DB_PASSWORD": crate::support::b64(&canary)});
    env.seed(secret);
    let task = |serving: &str| {
        env.task(&format!(
            "name: web\nresources: {{image_id: u:1, cpus: 1, memory: 1}}\nserving: {serving}\nrun: serve\n"
        ))
    };
    let run_with = |task: &str| {
        env.cmd(&["render-job", "-f", task])
            .args(&["--run-id", "0000", "--validate"])
            .args(&["--ingress-host", "serve.example.com"])
            .env("USER", LOGIN)
            .run()
    };
    let fixed = run_with(&task("{min_replicas: 2, max_replicas: 2}"));
    fixed
        .success()
        .stderr_has("validated: the cluster accepts Deployment web-0000")
        .stderr_has("validated: the cluster accepts Service web-0000")
        .stderr_has("validated: the cluster accepts Ingress web-0000-ingress")
        .stdout_has("kind: List");
    if let Some(server) = env.fake() {
        let posts: Vec<_> = server
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .collect();
        let paths: Vec<_> = posts
            .iter()
            .map(|p| p.path.rsplit('/').next().unwrap_or_default().to_string())
            .collect();
        assert_eq!(paths, ["deployments", "services", "ingresses"], "{posts:?}");
        assert!(
            posts.iter().all(|p| p.query.contains("dryRun=All")),
            "{posts:?}"
        );
        server.clear_requests();
    }
    let autoscaled = run_with(&task("{min_replicas: 1, max_replicas: 3}"));
    autoscaled
        .failure()
        .stderr_has("validated: the cluster accepts Service web-0000")
        .stderr_has("dry-run create httpscaledobjects \"web-0000-httpscaledobject\"")
        .stderr_has("is KEDA's HTTP add-on installed on this cluster");
    assert!(
        autoscaled.stdout.is_empty(),
        "nothing printed: {}",
        autoscaled.stdout
    );
}

/// Konduktor looks the Ingress's host up on the cluster: without
/// `--ingress-host` the Ingress is left out and stderr says so (a vLLM
/// server has none to leave out); a serving task is no Job.
#[test]
fn without_an_ingress_host_the_ingress_is_left_out_and_said() {
    let env = TestEnv::new();
    let general = "name: web\nresources: {image_id: u:1, cpus: 1, memory: 1}\nserving: {max_replicas: 2}\nrun: serve\n";
    render_task(&env, general, &[])
        .success()
        .stderr_has("give it with --ingress-host HOST to print it")
        .stdout_has("kind: Service")
        .stdout_lacks("kind: Ingress");
    let vllm = general.replace(
        "run: serve",
        "run: python -m vllm.entrypoints.openai.api_server --model m",
    );
    // Konduktor's flags are in the entry command.
    render_task(&env, &vllm, &[])
        .success()
        .stderr_lacks("--ingress-host")
        .stdout_has("--served-model-name web-");
    let run = render_task(&env, general, &["--workload", "job"]);
    run.failure().stderr_has("the task has `serving`");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
}

/// What changes nothing is said at `-v`; with SSH on, stderr says the key
/// secret `konduktor launch` would write first (render-job writes none).
#[test]
fn disk_size_is_said_at_v_and_ssh_names_the_secret_launch_would_write() {
    let env = TestEnv::new();
    let task = FLAGS_TASK.replace("  memory: 1\n", "  memory: 1\n  disk_size: 512\n");
    render_task(&env, &task, &["-v", "--env", "UNSET_IN_FILE=x"])
        .success()
        .stderr_has("resources.disk_size 512 changes nothing")
        .stderr_lacks("konduktor-ssh-keys");
    let config = env.file("config.yaml", "ssh:\n  enable: true\n");
    let task = env.task(FLAGS_TASK);
    env.cmd(&["render-job", "-f", &task])
        .args(&["--env", "UNSET_IN_FILE=x", "-o", "json"])
        .env("KONDUKTOR_CONFIG", &config)
        .run()
        .success()
        .stderr_has(&format!(
            "`konduktor launch` would first write its SSH keys into the secret {}",
            crate::support::mine("konduktor-ssh-keys")
        ));
    if let Some(server) = env.fake() {
        assert!(
            server.requests().iter().all(|r| r.method == "GET"),
            "render-job only reads: {:?}",
            server.requests()
        );
    }
}
