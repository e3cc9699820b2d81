//! `render-job`: the workload with the caller's secrets injected as
//! Konduktor's launcher does (docs/konduktor-compat.md §4), from the cluster or offline from a
//! manifest; the unpack step run for real; pre-flight; rotation checksum.

use std::path::{Path, PathBuf};
use std::process::Command;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::PodSpec;
use serde_json::{Value, json};

use crate::support::{
    OTHER_OWNER, OWNER, Run, TestEnv, entry, fixture_json, fixtures, mine, secret_object,
};

const TASK: &str = "name: demo\nnum_nodes: 2\nresources:\n  image_id: ubuntu:22.04\n  cpus: 4\n  memory: 16\n  accelerators: H100:1\nenvs:\n  DEMO_TASK_ENV: from-task-yaml\nrun: |\n  echo hi\n";

fn set_mode(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

/// Files for offline manifests, with fixed modes so zips are the same everywhere.
fn sources(env: &TestEnv) {
    for (rel, content) in [
        ("creds/a.txt", "alpha"),
        ("creds/sub/b.json", "{}"),
        ("token.txt", "tok"),
        ("id_key", "KEY"),
    ] {
        let p = env.file(rel, content);
        set_mode(&p, 0o644);
    }
}

/// `render-job` of `task`, offline from a manifest of `secrets` (its
/// entries) if given, else from the cluster.
fn render(env: &TestEnv, task: &str, secrets: Option<&str>, extra: &[&str]) -> Run {
    let task = env.task(task);
    let mut render = env.cmd(&["render-job", "-f", &task]);
    if let Some(entries) = secrets {
        render = render.args(&["--secrets", &env.manifest_yaml(entries)]);
    }
    // A fixed run id: the printed names are the same on every run.
    render.args(&["--run-id", "0000"]).args(extra).run()
}

/// The printed JobSet, as JSON.
fn jobset_of(run: &Run) -> Value {
    run.success();
    let v: Value = serde_saphyr::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not YAML: {e}\n{}", run.stdout));
    assert_eq!(v["kind"], "JobSet", "{}", run.stdout);
    v
}

#[test]
fn snapshots_of_each_kind_alone_and_together() {
    let env = TestEnv::new();
    sources(&env);
    let cases = [
        (
            "default-file",
            "  - name: hf-token\n    fromFile: token.txt\n",
        ),
        (
            "default-directory",
            "  - name: cloud-creds\n    fromDirectory: creds\n",
        ),
        (
            "env",
            "  - name: app-env\n    kind: env\n    inline: {DEMO_API_KEY: k, DEMO_DB_PASSWORD: p}\n",
        ),
        (
            "git-ssh",
            "  - name: git-key\n    kind: git-ssh\n    fromFile: id_key\n",
        ),
        ("none", "  []\n"),
    ];
    for (name, body) in cases {
        let run = render(&env, TASK, Some(body), &[]);
        let jobset = jobset_of(&run);
        assert!(jobset["spec"]["replicatedJobs"][0].is_object());
        insta::assert_snapshot!(format!("render-{name}"), run.stdout);
    }
    let all: String = cases
        .iter()
        .filter(|(n, _)| *n != "none")
        .map(|(_, b)| *b)
        .collect();
    let run = render(&env, TASK, Some(&all), &[]);
    jobset_of(&run);
    insta::assert_snapshot!("render-all", run.stdout);
}

#[test]
fn pod_spec_and_json_deserialize_into_the_api_types() {
    let env = TestEnv::new();
    sources(&env);
    let body = "  - name: hf-token\n    fromFile: token.txt\n";
    let run = render(&env, TASK, Some(body), &["--pod-spec", "-o", "json"]);
    run.success();
    let spec: PodSpec = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.containers[0].name, "konduktor-container");
    let run = render(&env, TASK, Some(body), &["-o", "json", "--workload", "job"]);
    let job: Job = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}"));
    let spec = job.spec.unwrap_or_default();
    assert_eq!((spec.completions, spec.parallelism), (Some(2), Some(2)));
    assert_eq!(spec.completion_mode.as_deref(), Some("Indexed"));
    assert_eq!(job.metadata.name.as_deref(), Some("demo-0000"));
}

/// The secret-related parts of a pod spec, in order.
fn secret_parts(spec: &Value) -> (Vec<Value>, Vec<Value>, Vec<String>) {
    // The volumes (or mounts) of injected secrets.
    let injected = |list: &Value| -> Vec<Value> {
        list.as_array()
            .into_iter()
            .flatten()
            .filter(|v| {
                let name = v["name"].as_str().unwrap_or_default();
                name.starts_with("default-secret") || name == "git-ssh-secret"
            })
            .cloned()
            .collect()
    };
    let volumes = injected(&spec["volumes"]);
    let container = &spec["containers"][0];
    let mounts = injected(&container["volumeMounts"]);
    let env = container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["name"].as_str().map(str::to_string))
        .filter(|n| {
            n.starts_with("DEMO_")
                || n == "GIT_SSH_COMMAND"
                || n.starts_with("KONDUKTOR_DEFAULT_SECRETS")
        })
        .collect();
    (volumes, mounts, env)
}

#[test]
fn injection_matches_konduktors_launcher() {
    // The four secrets of fixtures/konduktor-podspec, as the cluster holds them.
    let env = TestEnv::new();
    let api_key = env.canary("api");
    let zip = crate::support::decode_data(&fixture_json(&format!(
        "konduktor-made/{}.json",
        mine("my-default-directory")
    )));
    env.seed(
        secret_object("cloud-creds")
            .kind("default")
            .value("payload.zip", &zip["payload.zip"]),
    );
    env.seed_mine("hf-token", "default", &[("hf-token.txt", "hf_x")]);
    env.seed_mine(
        "app-env",
        "env",
        &[("DEMO_API_KEY", &api_key), ("DEMO_DB_PASSWORD", "pw")],
    );
    env.seed_mine("git-key", "git-ssh", &[("gitkey", "KEY")]);
    let task = std::fs::read_to_string(fixtures().join("konduktor-podspec/task-example.yaml"))
        .unwrap_or_default();
    env.clear_requests();
    let run = render(&env, &task, None, &["--pod-spec", "-o", "json"]);
    run.success();
    env.assert_only_the_owner_list();
    let ours: Value = serde_json::from_str(&run.stdout).unwrap_or_default();
    let theirs = fixture_json("konduktor-podspec/podspec-example.json")["kubernetes"]["pod_config"]
        ["spec"]
        .clone();
    let (our_volumes, our_mounts, our_env) = secret_parts(&ours);
    let (their_volumes, their_mounts, their_env) = secret_parts(&theirs);
    assert_eq!(our_volumes, their_volumes, "volumes, in Konduktor's order");
    assert_eq!(our_mounts, their_mounts, "mounts, in Konduktor's order");
    assert_eq!(our_env, their_env, "env order");
    let env_of = |spec: &Value, name: &str| {
        spec["containers"][0]["env"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["name"] == name)
            .cloned()
            .unwrap_or_default()
    };
    for name in [
        "GIT_SSH_COMMAND",
        "KONDUKTOR_DEFAULT_SECRETS_EXPANDED",
        "DEMO_API_KEY",
        "DEMO_DB_PASSWORD",
        "DEMO_TASK_ENV",
    ] {
        assert_eq!(env_of(&ours, name), env_of(&theirs, name), "{name}");
    }
    // Konduktor's value; the entry command re-points it at the expanded
    // copy at run time, as Konduktor's script does (docs/konduktor-compat.md §4.3).
    assert_eq!(
        env_of(&ours, "KONDUKTOR_DEFAULT_SECRETS"),
        env_of(&theirs, "KONDUKTOR_DEFAULT_SECRETS")
    );
    let entry = ours["containers"][0]["args"][0]
        .as_str()
        .unwrap_or_default();
    assert!(
        entry
            .contains("export KONDUKTOR_DEFAULT_SECRETS=\"${KONDUKTOR_DEFAULT_SECRETS_EXPANDED}\""),
        "{entry}"
    );
    assert_eq!(ours["initContainers"][0]["image"], "busybox:1.36");
}

#[test]
fn task_envs_win_and_shadowing_is_a_warning() {
    let env = TestEnv::new();
    let body = "  - name: one\n    kind: env\n    inline: {SHARED: a, ONLY_ONE: b}\n  - name: two\n    kind: env\n    inline: {SHARED: c}\n";
    let task = "name: t\nresources: {image_id: ubuntu, cpus: 1, memory: 1}\nenvs:\n  ONLY_ONE: from-task\nrun: echo\n";
    let run = render(&env, task, Some(body), &["--pod-spec", "-o", "json"]);
    run.success()
        .stderr_has("warning: task env ONLY_ONE shadows the key ONLY_ONE of env secret \"one\"");
    let spec: Value = serde_json::from_str(&run.stdout).unwrap_or_default();
    let envs: Vec<Value> = spec["containers"][0]["env"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["name"] == "ONLY_ONE" || e["name"] == "SHARED")
        .cloned()
        .collect();
    assert_eq!(
        Value::from(envs),
        json!([
            {"name": "ONLY_ONE", "value": "from-task"},
            {"name": "SHARED", "valueFrom": {"secretKeyRef": {"name": mine("two"), "key": "SHARED"}}},
        ]),
        "the later env secret wins for SHARED, in its place; the task env takes ONLY_ONE's place"
    );
}

#[test]
fn preflight_names_the_user_without_default_secrets() {
    let env = TestEnv::new();
    let task = "name: t\nresources: {image_id: ubuntu, cpus: 1, memory: 1}\nrun: cat $KONDUKTOR_DEFAULT_SECRETS/x/y\n";
    let task = env.task(task);
    let manifest = env.manifest(&[entry("e").kind("env").inline(&[("A", "b")])]);
    env.cmd(&["render-job", "-f", &task, "--secrets", &manifest])
        .no_namespace()
        .env("USER", "alice")
        .env("LOGNAME", "alice")
        .run()
        .failure()
        .stderr_has("uses KONDUKTOR_DEFAULT_SECRETS")
        .stderr_has("user alice")
        .stderr_has(OWNER);
    let task = "name: t\nresources: {image_id: ubuntu, cpus: 1, memory: 1}\nsetup: ls /konduktor/default-secrets/\nrun: echo\n";
    let run = render(&env, task, None, &[]);
    run.failure().stderr_has("has no default secret");
}

#[test]
fn offline_rendering_makes_no_request() {
    let env = TestEnv::new();
    sources(&env);
    let task = env.task(TASK);
    let manifest = env.manifest(&[entry("hf-token").file("token.txt")]);
    let closed = env.file(
        "closed",
        crate::support::fake_kubeconfig("http://127.0.0.1:9", "x", "t"),
    );
    env.with_kubeconfig(
        &closed,
        &["render-job", "-f", &task, "--secrets", &manifest],
    )
    .run()
    .success()
    .stdout_has("secretName: hf-token-abba3a3e");
    env.assert_no_requests();
}

#[test]
fn checksum_follows_secret_contents_only() {
    let env = TestEnv::new();
    let one = env.canary("one");
    let two = env.canary("two");
    let annotation = |run: &Run| {
        jobset_of(run)["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]["metadata"]
            ["annotations"]["konduktor.trainy.ai/secrets-checksum"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let body = |v: &str| format!("  - name: e\n    kind: env\n    inline: {{A: {v}}}\n");
    let first = annotation(&render(&env, TASK, Some(&body(&one)), &[]));
    let again = annotation(&render(&env, TASK, Some(&body(&one)), &[]));
    let changed = annotation(&render(&env, TASK, Some(&body(&two)), &[]));
    assert!(first.starts_with("sha256:") && first.len() == 71, "{first}");
    assert_eq!(first, again, "same secrets, same pod template");
    assert_ne!(first, changed, "a changed secret changes the pod template");
}

#[test]
fn bad_tasks_have_located_diagnostics() {
    let env = TestEnv::new();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tasks/bad");
    let files = crate::support::yaml_corpus("tests/tasks/bad");
    assert!(files.len() >= 8);
    let manifest = env.manifest(&[entry("e").kind("env").inline(&[("A", "b")])]);
    for file in files {
        let name = crate::support::corpus_name(&file);
        // Task env values are masked.
        let run = env
            .cmd(&["render-job", "-f", crate::support::arg(&file)])
            .args(&["--secrets", &manifest])
            .no_namespace()
            .run();
        run.failure().stderr_lacks("secret-ish-value");
        let stderr = run.stderr.replace(&dir.display().to_string(), "[TASKS]");
        insta::assert_snapshot!(format!("task-{name}"), stderr);
    }
}

/// Lay out a secret volume as the kubelet does: the keys live in a
/// timestamped folder, `..data` links to it, and each key is a link
/// through `..data`.
#[cfg(unix)]
fn kubelet_volume(root: &Path, name: &str, keys: &[(&str, &[u8])]) {
    let vol = root.join(name);
    let ts = vol.join("..2026_11_27_20_44_33.123456789");
    std::fs::create_dir_all(&ts).unwrap_or_else(|e| panic!("{e}"));
    for (k, v) in keys {
        std::fs::write(ts.join(k), v).unwrap_or_else(|e| panic!("{e}"));
        set_mode(&ts.join(k), 0o644);
        std::os::unix::fs::symlink(format!("..data/{k}"), vol.join(k))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    std::os::unix::fs::symlink("..2026_11_27_20_44_33.123456789", vol.join("..data"))
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Run the unpack script with the `sh`, `unzip`, `cp`, ... found on `path`,
/// over a kubelet-style volume, and check the expanded tree.
#[cfg(unix)]
fn check_unpack_with(path: &std::ffi::OsStr) {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let src = tmp.path().join("default-secrets");
    let dst = tmp.path().join("expanded");
    std::fs::create_dir_all(&dst).unwrap_or_else(|e| panic!("{e}"));
    // A directory secret exactly as Konduktor's CLI zipped it.
    let zip = crate::support::decode_data(&fixture_json(&format!(
        "konduktor-made/my-default-directory-{OWNER}.json"
    )));
    kubelet_volume(&src, "cloud-creds", &[("payload.zip", &zip["payload.zip"])]);
    kubelet_volume(
        &src,
        "hf-token",
        &[("hf-token.txt", b"hf_x\n"), (".hidden-key", b"dot")],
    );

    let out = Command::new("sh")
        .env("PATH", path)
        .args(["-c", konduktor::UNPACK_SCRIPT, "unpack"])
        .arg(&src)
        .arg(&dst)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let read = |rel: &str| std::fs::read(dst.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    assert_eq!(read("hf-token/hf-token.txt"), b"hf_x\n");
    assert_eq!(read("hf-token/.hidden-key"), b"dot");
    assert!(
        !dst.join("hf-token/..data").exists(),
        "kubelet internals are not copied"
    );
    assert!(
        !std::fs::symlink_metadata(dst.join("hf-token/hf-token.txt"))
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(true),
        "a real file"
    );
    let source = fixtures().join("konduktor-made/source/mycreds");
    for rel in ["a.txt", ".hidden", "sub/b.json", "sub/deeper/c"] {
        assert_eq!(
            read(&format!("cloud-creds/mycreds/{rel}")),
            std::fs::read(source.join(rel)).unwrap_or_default(),
            "{rel}"
        );
    }
    assert!(!dst.join("cloud-creds/mycreds/.DS_Store").exists());
    let mode = |rel: &str| {
        std::fs::metadata(dst.join(rel))
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    };
    assert_eq!(
        mode("cloud-creds/mycreds/a.txt"),
        0o600,
        "zip modes are kept"
    );
    assert_eq!(mode("cloud-creds/mycreds/sub/b.json"), 0o644);
}

#[cfg(unix)]
fn tool_on_path(tool: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(tool))
        .find(|p| p.exists())
}

#[cfg(unix)]
#[test]
fn the_unpack_script_expands_a_kubelet_secret_volume() {
    assert!(
        tool_on_path("unzip").is_some(),
        "this test needs unzip on PATH (apt-get install unzip)"
    );
    check_unpack_with(&std::env::var_os("PATH").unwrap_or_default());
}

/// The default unpack image is busybox: the script must work with its
/// applets alone (its `unzip` restores modes too).
#[cfg(unix)]
#[test]
fn the_unpack_script_works_with_busybox_alone() {
    let busybox = tool_on_path("busybox")
        .unwrap_or_else(|| panic!("this test needs busybox on PATH (apt-get install busybox)"));
    let bin = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for applet in ["sh", "unzip", "cp", "mkdir", "basename"] {
        std::os::unix::fs::symlink(&busybox, bin.path().join(applet))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    check_unpack_with(bin.path().as_os_str());
}

#[test]
fn the_rendered_job_is_accepted_by_a_real_api_server() {
    let env = TestEnv::new();
    if !env.is_real() {
        return;
    }
    sources(&env);
    let body = "  - name: hf-token\n    fromFile: token.txt\n  - name: app-env\n    kind: env\n    inline: {A: b}\n  - name: git-key\n    kind: git-ssh\n    fromFile: id_key\n";
    let run = render(&env, TASK, Some(body), &[]);
    run.success();
    if let Err(why) = env.dry_run_create(&run.stdout) {
        panic!("{why}");
    }
}

#[test]
fn secrets_that_cannot_be_injected_are_skipped_with_a_warning() {
    let env = TestEnv::new();
    let long = "a".repeat(49);
    let mut seeds = vec![
        ("ok", "ok", "default", vec![("f.txt", "f")]),
        (&long, &long, "default", vec![("f.txt", "f")]),
        ("bad-name", "Bad_Name", "default", vec![("f.txt", "f")]),
        ("git-key", "git-key", "git-ssh", vec![("gitkey", "KEY")]),
        (
            "app-env",
            "app-env",
            "env",
            vec![
                ("GOOD", "g"),
                ("NOT-AN-ENV", "x"),
                ("GIT_SSH_COMMAND", "ssh -o ProxyCommand=evil"),
                ("KONDUKTOR_DEFAULT_SECRETS", "/tmp/elsewhere"),
                ("KONDUKTOR_DEFAULT_SECRETS_EXPANDED", "/tmp/elsewhere"),
            ],
        ),
    ];
    // A label value no real API server takes: only on the test server.
    if env.fake().is_some() {
        seeds.push(("esc", "e\u{1b}[31mx", "default", vec![("f.txt", "f")]));
    }
    for (object, basename, kind, data) in seeds {
        env.seed(
            secret_object(basename)
                .named(&mine(object))
                .kind(kind)
                .values(&data),
        );
    }
    let task = "name: t\nresources: {image_id: ubuntu, cpus: 1, memory: 1}\nrun: ls $KONDUKTOR_DEFAULT_SECRETS\n";
    let run = render(&env, task, None, &["-o", "json", "--workload", "job"]);
    run.success()
        .stderr_has(&format!("secret \"{long}\""))
        .stderr_has("volume name `default-secret-")
        .stderr_has("secret \"Bad_Name\"")
        .stderr_has(
            "key \"NOT-AN-ENV\" of env secret \"app-env\" is not a valid environment variable name",
        )
        .stderr_has("key GIT_SSH_COMMAND of env secret \"app-env\" would replace")
        .stderr_has("key KONDUKTOR_DEFAULT_SECRETS of env secret")
        .stderr_has("key KONDUKTOR_DEFAULT_SECRETS_EXPANDED of env secret");
    if env.fake().is_some() {
        run.stderr_has("secret \"e\\u{1b}[31mx\"")
            .stderr_lacks("\u{1b}");
    }
    let job: Job = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}"));
    let spec = job
        .spec
        .and_then(|s| s.template.spec)
        .unwrap_or_else(|| panic!("no pod spec"));
    let volumes: Vec<String> = spec
        .volumes
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(
        volumes,
        [
            "shared-memory",
            "konduktor-output",
            "default-secret-ok",
            "default-secrets-expanded",
            "git-ssh-secret"
        ]
    );
    let env_vars = spec.containers[0].env.clone().unwrap_or_default();
    let value = |name: &str| {
        env_vars
            .iter()
            .find(|e| e.name == name)
            .map(|e| (e.value.clone(), e.value_from.is_some()))
    };
    assert_eq!(
        value("GIT_SSH_COMMAND"),
        Some((Some(konduktor::GIT_SSH_COMMAND.to_string()), false))
    );
    assert_eq!(
        value("KONDUKTOR_DEFAULT_SECRETS"),
        Some((Some("/konduktor/default-secrets".to_string()), false))
    );
    assert_eq!(
        value("KONDUKTOR_DEFAULT_SECRETS_EXPANDED"),
        Some((Some(konduktor::EXPANDED_MOUNT.to_string()), false))
    );
    assert_eq!(value("GOOD"), Some((None, true)));
    assert_eq!(value("NOT-AN-ENV"), None);
    assert_eq!(
        env_vars
            .iter()
            .filter(|e| e.name == "GIT_SSH_COMMAND")
            .count(),
        1
    );
}

#[test]
fn a_node_count_a_job_cannot_hold_is_an_error() {
    let env = TestEnv::new();
    let task = "name: t\nnum_nodes: 3000000000\nresources: {image_id: ubuntu, cpus: 1, memory: 1}\nrun: echo\n";
    let body = "  - name: e\n    kind: env\n    inline: {A: b}\n";
    render(&env, task, Some(body), &[])
        .failure()
        .stderr_has("num_nodes")
        .stdout_lacks("completions");
}

/// A server that ignores the owner selector: another user's secret is
/// never injected (what the LIST returns is checked, not trusted).
#[test]
fn another_users_secret_is_never_injected_whatever_the_list_returns() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    env.create("mine-env", &[("A", "1")]).success();
    env.as_owner(OTHER_OWNER)
        .create("their-env", &[("B", "2")])
        .success();
    server.ignore_selectors();
    let task = "name: t\nresources: {image_id: ubuntu, cpus: 1, memory: 1}\nrun: echo\n";
    render(&env, task, None, &["--pod-spec", "-o", "json"])
        .success()
        .stdout_has(&mine("mine-env"))
        .stdout_lacks("their-env")
        .stderr_lacks("their-env");
}
