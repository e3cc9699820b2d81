use std::path::Path;

use serde_json::json;

use super::*;
use crate::render::LaunchConfig;

fn task(yaml: &str) -> Task {
    crate::render::task::parse(Path::new("/t/task.yaml"), yaml).unwrap_or_else(|e| panic!("{e}"))
}

fn opts() -> RenderOptions {
    RenderOptions {
        unpack_image: "busybox:1.36".into(),
        owner_hash: "0123abcd".into(),
        username: "alice".into(),
        user_id: "alice-7994".into(),
        run_id: "0000".into(),
        debug: false,
        launch: LaunchConfig::default(),
        present_secrets: None,
    }
}

#[test]
fn accelerator_profiles_are_konduktors() {
    assert_eq!(accelerator_profile("H100", 8).as_deref(), Some("h100-8"));
    assert_eq!(
        accelerator_profile("A100-80GB", 2).as_deref(),
        Some("a100-80gb-2")
    );
    assert_eq!(
        accelerator_profile("RTX PRO_6000", 1).as_deref(),
        Some("rtx-pro-6000-1")
    );
    assert_eq!(accelerator_profile("T4", 0), None);
    assert_eq!(accelerator_profile("--", 1), None);
}

#[test]
fn the_entry_command_runs_setup_then_run_from_konduktors_folder() {
    let t = task(
        "name: t\nresources: {image_id: u, cpus: 1, memory: 1}\nfile_mounts:\n  /data/a b.csv: s3://b/a.csv\n  ~/v/x.txt: gs://m/x.txt\nsetup: pip install x\nrun: python train.py\n",
    );
    let script = entry_script(&t, true);
    let lines: Vec<&str> = script.lines().collect();
    assert_eq!(
        lines,
        [
            "set -e",
            "export KONDUKTOR_DEFAULT_SECRETS=\"${KONDUKTOR_DEFAULT_SECRETS_EXPANDED}\"",
            "mkdir -p ~/.aws && unzip -oq /run/konduktor/s3-secret/awscredentials -d ~/.aws",
            "mkdir -p ~/.config/gcloud && unzip -oq /run/konduktor/gs-secret/gcpcredentials -d ~/.config/gcloud",
            "mkdir -p ~/konduktor_workdir && cd ~/konduktor_workdir",
            "mkdir -p '/data' && aws s3 cp 's3://b/a.csv' '/data/a b.csv'",
            "mkdir -p ~/'v' && gsutil -m cp 'gs://m/x.txt' ~/'v/x.txt'",
            "pip install x",
            "python train.py",
        ]
    );
    // Without default secrets nothing is re-exported; a setup without a
    // final newline still ends its line.
    let t = task("name: t\nresources: {image_id: u, cpus: 1, memory: 1}\nsetup: a\nrun: b\n");
    assert_eq!(
        entry_script(&t, false),
        "set -e\nmkdir -p ~/konduktor_workdir && cd ~/konduktor_workdir\na\nb"
    );
}

#[test]
fn a_gpu_task_gets_konduktors_labels_tolerations_and_resources() {
    let t = task(
        "name: t\nnum_nodes: 2\nresources: {image_id: u, cpus: 4, memory: 16, accelerators: MI300X:4}\nrun: r\n",
    );
    let pod = pod_template(&t, &[], &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(pod.name, "t-0000");
    let labels = pod
        .template
        .metadata
        .and_then(|m| m.labels)
        .unwrap_or_default();
    assert_eq!(
        labels
            .get("trainy.ai/accelerator-profile")
            .map(String::as_str),
        Some("mi300x-4")
    );
    let spec = pod.template.spec.unwrap_or_default();
    let keys: Vec<Option<String>> = spec
        .tolerations
        .unwrap_or_default()
        .into_iter()
        .map(|t| t.key)
        .collect();
    assert_eq!(
        keys,
        [
            Some("amd.com/gpu".to_string()),
            Some("trainy.ai/accelerator-profile".to_string())
        ]
    );
    let c = &spec.containers[0];
    let limits = c
        .resources
        .as_ref()
        .and_then(|r| r.limits.clone())
        .unwrap_or_default();
    assert_eq!(
        limits.get("amd.com/gpu"),
        Some(&Quantity("4".into())),
        "AMD GPUs are amd.com/gpu"
    );
    let env: Vec<(String, Option<String>)> = c
        .env
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.name, e.value))
        .collect();
    let value = |n: &str| {
        env.iter()
            .find(|(k, _)| k == n)
            .and_then(|(_, v)| v.clone())
    };
    assert_eq!(
        value("NODE_HOST_IPS").as_deref(),
        Some("t-0000-workers-0-0.t-0000,t-0000-workers-0-1.t-0000")
    );
    assert_eq!(
        value("MASTER_ADDR").as_deref(),
        Some("t-0000-workers-0-0.t-0000")
    );
    assert_eq!(value("NUM_GPUS_PER_NODE").as_deref(), Some("4"));
}

#[test]
fn config_merges_as_konduktors_merge_k8s_configs() {
    let mut base = json!({
        "spec": {
            "containers": [{"name": "c", "volumeMounts": [
                {"name": "shared-memory", "mountPath": "/dev/shm"},
                {"name": "out", "mountPath": "/out"}
            ]}],
            "volumes": [{"name": "shared-memory", "emptyDir": {"medium": "Memory", "sizeLimit": "4Gi"}}],
            "tolerations": [{"key": "a"}]
        }
    });
    let over = json!({
        "spec": {
            "containers": [{"volumeMounts": [{"name": "dshm", "mountPath": "/dev/shm"}]}],
            "volumes": [{"name": "shared-memory", "emptyDir": {"sizeLimit": "16Gi"}}, {"name": "dshm", "emptyDir": {}}],
            "tolerations": [{"key": "b"}],
            "priorityClassName": "high"
        }
    });
    merge_k8s(&mut base, &over).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        base["spec"]["containers"][0]["volumeMounts"],
        json!([{"name": "out", "mountPath": "/out"}, {"name": "dshm", "mountPath": "/dev/shm"}]),
        "a config mount taking /dev/shm over drops the one that had it"
    );
    assert_eq!(
        base["spec"]["volumes"][0]["emptyDir"],
        json!({"medium": "Memory", "sizeLimit": "16Gi"}),
        "volumes merge by name"
    );
    assert_eq!(base["spec"]["volumes"][1]["name"], "dshm");
    assert_eq!(
        base["spec"]["tolerations"],
        json!([{"key": "a"}, {"key": "b"}]),
        "other lists are appended"
    );
    assert_eq!(base["spec"]["priorityClassName"], "high");
    // Two containers in the config: Konduktor asserts one; so do we.
    let two = json!({"spec": {"containers": [{}, {}]}});
    assert!(merge_k8s(&mut base, &two).is_err());
}

#[test]
fn config_env_comes_before_the_secrets_and_the_task() {
    let mut o = opts();
    o.launch.pod_config = Some(json!({"spec": {"containers": [{"env": [
        {"name": "FROM_CONFIG", "value": "c"},
        {"name": "SHARED", "value": "config-loses"},
        {"name": "RANK", "value": "config-wins-over-the-template"}
    ]}]}}));
    let t = task(
        "name: t\nresources: {image_id: u, cpus: 1, memory: 1}\nenvs: {SHARED: task}\nrun: r\n",
    );
    let pod = pod_template(&t, &[], &o).unwrap_or_else(|e| panic!("{e}"));
    let env = pod.template.spec.unwrap_or_default().containers[0]
        .env
        .clone()
        .unwrap_or_default();
    let names: Vec<&str> = env.iter().map(|e| e.name.as_str()).collect();
    let at = |n: &str| names.iter().position(|k| *k == n);
    assert!(
        at("RANK") < at("RESTART_ATTEMPT"),
        "in the template's place"
    );
    assert!(at("RESTART_ATTEMPT") < at("FROM_CONFIG"));
    let value = |n: &str| {
        env.iter()
            .find(|e| e.name == n)
            .and_then(|e| e.value.clone())
    };
    assert_eq!(value("SHARED").as_deref(), Some("task"));
    assert_eq!(
        value("RANK").as_deref(),
        Some("config-wins-over-the-template")
    );
    // A config that makes no pod: said, never shown.
    o.launch.pod_config = Some(json!({"spec": {"containers": [{"env": "secret-ish-value"}]}}));
    let e = pod_template(&t, &[], &o)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("kubernetes.pod_config") && !e.contains("secret-ish-value"),
        "{e}"
    );
}
