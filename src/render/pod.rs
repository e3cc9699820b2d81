//! The pod every shape runs (JobSet workers, a plain Job, a Deployment):
//! what Konduktor's pod template puts in it (docs/konduktor-compat.md §7.3)
//! with the caller's secrets injected ([`crate::render::inject`]), and our
//! entry command in place of Konduktor's script. One code path for every
//! shape.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource,
    HTTPGetAction, ObjectFieldSelector, PodSpec, PodTemplateSpec, Probe, ResourceRequirements,
    SecurityContext, Toleration, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use serde_json::Value;

use crate::error::Error;
use crate::render::RenderOptions;
use crate::render::inject::{
    self, ByKind, CHECKSUM_ANNOTATION, DEFAULT_SECRETS_MOUNT, EXPANDED_MOUNT, EnvList,
    InjectedSecret, MAIN_CONTAINER, UNPACK_CONTAINER, UNPACK_SCRIPT, env_value, mount,
    secret_volume,
};
use crate::render::task::{Store, Task, workload_name};

pub const SHARED_MEMORY_VOLUME: &str = "shared-memory";
pub const OUTPUT_VOLUME: &str = "konduktor-output";
pub const OUTPUT_DIR: &str = "/konduktor/output";
/// Where Konduktor runs `run` from (`constants.KONDUKTOR_REMOTE_WORKDIR`).
pub const REMOTE_WORKDIR: &str = "~/konduktor_workdir";
pub const SSH_PORT: i32 = 2222;
const COMPLETION_INDEX: &str = "metadata.annotations['batch.kubernetes.io/job-completion-index']";
const RESTART_ATTEMPT: &str = "metadata.labels['jobset.sigs.k8s.io/restart-attempt']";

/// A pod template and what rendering it had to say.
#[derive(Debug, Clone)]
pub struct Pod {
    pub template: PodTemplateSpec,
    /// `<name>-<run id>`, the workload's name.
    pub name: String,
    pub warnings: Vec<String>,
}

/// Konduktor's ResourceFlavor discriminator: `h100-8`
/// (`pod_utils.accelerator_profile_name`).
pub fn accelerator_profile(kind: &str, count: u32) -> Option<String> {
    let mut out = String::new();
    for c in kind.trim().to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    (!out.is_empty() && count >= 1).then(|| format!("{out}-{count}"))
}

fn field_ref(name: &str, path: &str) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: path.to_string(),
                api_version: None,
            }),
            ..Default::default()
        }),
    }
}

fn secret_ref(name: &str, secret: &str, key: &str, optional: Option<bool>) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(k8s_openapi::api::core::v1::SecretKeySelector {
                name: secret.to_string(),
                key: key.to_string(),
                optional,
            }),
            ..Default::default()
        }),
    }
}

/// The pods' hostnames: `<name>-workers-0-<index>.<name>`, as JobSet names
/// them.
fn node_hostnames(name: &str, nodes: u32) -> String {
    (0..nodes)
        .map(|i| format!("{name}-workers-0-{i}.{name}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The variables Konduktor's pod template sets, in its order, with the
/// injection's own between them where Konduktor puts them.
fn launcher_env(task: &Task, name: &str, by_kind: ByKind<'_>, opts: &RenderOptions) -> Vec<EnvVar> {
    let gpus = task.accelerators().map_or(0, |a| a.count).to_string();
    let nodes = task.num_nodes.to_string();
    let hostnames = node_hostnames(name, task.num_nodes);
    let master = format!("{name}-workers-0-0.{name}");
    let mut env = vec![
        env_value("PYTHONUNBUFFERED", "0"),
        field_ref("KONDUKTOR_NODENAME", "spec.nodeName"),
        env_value("KONDUKTOR_JOB_NAME", name),
        env_value("NODE_HOST_IPS", &hostnames),
        env_value("MASTER_ADDR", &master),
        field_ref("RANK", COMPLETION_INDEX),
        field_ref("LOCAL_ADDR", "status.podIP"),
        env_value("NUM_NODES", &nodes),
        env_value("NUM_GPUS_PER_NODE", &gpus),
    ];
    if let Some(a) = task.accelerators() {
        env.push(env_value("KONDUKTOR_ACCELERATOR_TYPE", &a.kind));
    }
    env.push(field_ref("KONDUKTOR_NAMESPACE", "metadata.namespace"));
    env.push(env_value("KONDUKTOR_OUTPUT_DIR", OUTPUT_DIR));
    if !task.envs.iter().any(|(k, _)| k == "PLUTO_RUN_ID") {
        env.push(env_value("PLUTO_RUN_ID", name));
    }
    if let Some(ts) = &opts.launch.tailscale_secret {
        env.push(env_value("TS_USERSPACE", "true"));
        env.push(secret_ref("TS_AUTHKEY", ts, "TS_AUTHKEY", Some(true)));
        env.push(field_ref("POD_NAME", "metadata.name"));
        env.push(field_ref("POD_UID", "metadata.uid"));
    }
    if opts.launch.ssh_enabled() {
        let keys = opts.ssh_secret_name();
        env.push(secret_ref("KONDUKTOR_SSHPUB", &keys, "PUBKEY", None));
        env.push(secret_ref("KONDUKTOR_SSHPRIV", &keys, "PRIVKEY", None));
        env.push(env_value("KONDUKTOR_SSH_PORT", &SSH_PORT.to_string()));
    }
    env.extend(inject::reserved_env(by_kind));
    env.extend([
        env_value("SKYPILOT_NODE_IPS", &hostnames),
        field_ref("SKYPILOT_NODE_RANK", COMPLETION_INDEX),
        env_value("SKYPILOT_NUM_NODES", &nodes),
        env_value("SKYPILOT_NUM_GPUS_PER_NODE", &gpus),
        field_ref("RESTART_ATTEMPT", RESTART_ATTEMPT),
    ]);
    env
}

/// The stores `file_mounts` use, each once, in first-use order.
fn stores(task: &Task) -> Vec<Store> {
    let mut out: Vec<Store> = Vec::new();
    for m in &task.file_mounts {
        if !out.contains(&m.store) {
            out.push(m.store);
        }
    }
    out
}

fn store_volume(store: Store) -> String {
    format!("{}-secret", store.scheme())
}

fn store_mount_path(store: Store) -> String {
    format!("/run/konduktor/{}-secret", store.scheme())
}

/// Volumes and mounts in Konduktor's order: shared memory, the output
/// folder, the stores' credentials, then the injected secrets.
fn volumes_and_mounts(
    task: &Task,
    opts: &RenderOptions,
    injected: inject::Mounts,
) -> inject::Mounts {
    let empty_dir = |name: &str, medium: Option<&str>, limit: Option<&str>| Volume {
        name: name.to_string(),
        empty_dir: Some(EmptyDirVolumeSource {
            medium: medium.map(str::to_string),
            size_limit: limit.map(|l| Quantity(l.to_string())),
        }),
        ..Default::default()
    };
    let mut m = inject::Mounts {
        volumes: vec![empty_dir(SHARED_MEMORY_VOLUME, Some("Memory"), Some("4Gi"))],
        main: vec![mount(SHARED_MEMORY_VOLUME, "/dev/shm", false)],
        unpack: injected.unpack,
    };
    if opts.launch.tailscale_secret.is_some() {
        m.volumes.push(empty_dir("tailscale-state", None, None));
    }
    m.volumes.push(empty_dir(OUTPUT_VOLUME, None, None));
    m.main.push(mount(OUTPUT_VOLUME, OUTPUT_DIR, false));
    for store in stores(task) {
        let name = store_volume(store);
        m.volumes.push(secret_volume(
            name.clone(),
            &store.secret_name(&opts.user_id),
            None,
        ));
        m.main.push(mount(&name, &store_mount_path(store), false));
    }
    m.volumes.extend(injected.volumes);
    m.main.extend(injected.main);
    if opts.launch.tailscale_secret.is_some() {
        m.main
            .push(mount("tailscale-state", "/var/lib/tailscale", false));
    }
    m
}

/// A path for bash: single-quoted, a leading `~/` left to expand.
fn shell_path(path: &str) -> String {
    let quoted = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    match path.strip_prefix("~/") {
        Some(rest) => format!("~/{}", quoted(rest)),
        None => quoted(path),
    }
}

/// Our entry command (docs/konduktor-compat.md §7.4): what Konduktor's
/// script does that the workload sees (the expanded default secrets, the
/// stores' credentials and downloads, the working folder), then `setup`,
/// then `run`.
pub fn entry_script(task: &Task, has_defaults: bool) -> String {
    let mut script = String::from("set -e\n");
    if has_defaults {
        script.push_str(
            "export KONDUKTOR_DEFAULT_SECRETS=\"${KONDUKTOR_DEFAULT_SECRETS_EXPANDED}\"\n",
        );
    }
    for store in stores(task) {
        let (dir, key) = match store {
            Store::S3 => ("~/.aws", "awscredentials"),
            Store::Gcs => ("~/.config/gcloud", "gcpcredentials"),
        };
        script.push_str(&format!(
            "mkdir -p {dir} && unzip -oq {}/{key} -d {dir}\n",
            store_mount_path(store)
        ));
    }
    script.push_str(&format!(
        "mkdir -p {REMOTE_WORKDIR} && cd {REMOTE_WORKDIR}\n"
    ));
    for m in &task.file_mounts {
        let parent = std::path::Path::new(&m.destination)
            .parent()
            .map(|p| p.display().to_string())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| ".".into());
        let copy = match m.store {
            Store::S3 => "aws s3 cp",
            Store::Gcs => "gsutil -m cp",
        };
        script.push_str(&format!(
            "mkdir -p {} && {copy} {} {}\n",
            shell_path(&parent),
            shell_path(&m.source),
            shell_path(&m.destination)
        ));
    }
    if let Some(setup) = &task.setup {
        script.push_str(setup);
        if !setup.ends_with('\n') {
            script.push('\n');
        }
    }
    script.push_str(&task.run);
    script
}

/// CPU, memory and GPUs, as both requests and limits.
fn resources(task: &Task) -> ResourceRequirements {
    let mut resources: BTreeMap<String, Quantity> = BTreeMap::new();
    resources.insert("cpu".into(), Quantity(task.resources.cpus.clone()));
    resources.insert(
        "memory".into(),
        Quantity(format!("{}Gi", task.resources.memory_gib)),
    );
    if let Some(a) = task.accelerators().filter(|a| a.count > 0) {
        resources.insert(a.resource_key().into(), Quantity(a.count.to_string()));
    }
    ResourceRequirements {
        limits: Some(resources.clone()),
        requests: Some(resources),
        ..Default::default()
    }
}

fn http_probe(path: &str, port: u16, delay: Option<i32>, failures: i32, period: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_string()),
            port: IntOrString::Int(i32::from(port)),
            scheme: Some("HTTP".into()),
            ..Default::default()
        }),
        initial_delay_seconds: delay,
        failure_threshold: Some(failures),
        period_seconds: Some(period),
        success_threshold: Some(1),
        timeout_seconds: Some(1),
        ..Default::default()
    }
}

fn main_container(
    task: &Task,
    opts: &RenderOptions,
    env: Vec<EnvVar>,
    mounts: Vec<VolumeMount>,
    has_defaults: bool,
) -> Container {
    let mut ports = Vec::new();
    if opts.launch.ssh_enabled() {
        ports.push(ContainerPort {
            name: Some("ssh".into()),
            container_port: SSH_PORT,
            ..Default::default()
        });
    }
    if let Some(s) = &task.serving {
        ports.push(ContainerPort {
            name: Some("serving".into()),
            container_port: i32::from(s.port),
            ..Default::default()
        });
    }
    let probe = task
        .serving
        .as_ref()
        .and_then(|s| s.probe.as_ref().map(|p| (p.as_str(), s.port)));
    Container {
        name: MAIN_CONTAINER.into(),
        ports: (!ports.is_empty()).then_some(ports),
        liveness_probe: probe.map(|(p, port)| http_probe(p, port, Some(60), 3, 10)),
        readiness_probe: probe.map(|(p, port)| http_probe(p, port, Some(60), 10, 5)),
        startup_probe: probe.map(|(p, port)| http_probe(p, port, None, 60, 30)),
        image: Some(task.resources.image.clone()),
        env: (!env.is_empty()).then_some(env),
        termination_message_path: Some("/dev/termination-log".into()),
        termination_message_policy: Some("File".into()),
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        command: Some(vec!["bash".into(), "-c".into()]),
        args: Some(vec![entry_script(task, has_defaults)]),
        resources: Some(resources(task)),
        security_context: Some(SecurityContext {
            capabilities: Some(Capabilities {
                add: Some(vec!["IPC_LOCK".into()]),
                drop: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The init container that runs [`UNPACK_SCRIPT`].
fn unpack_container(image: &str, mounts: Vec<VolumeMount>) -> Container {
    Container {
        name: UNPACK_CONTAINER.into(),
        image: Some(image.to_string()),
        command: Some(vec![
            "sh".into(),
            "-c".into(),
            UNPACK_SCRIPT.into(),
            "unpack".into(),
            DEFAULT_SECRETS_MOUNT.into(),
            EXPANDED_MOUNT.into(),
        ]),
        volume_mounts: Some(mounts),
        ..Default::default()
    }
}

/// The pod's labels, as Konduktor's template sets them.
fn pod_labels(task: &Task, opts: &RenderOptions) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        ("parent".to_string(), "trainy".to_string()),
        ("trainy.ai/username".to_string(), opts.username.clone()),
    ]);
    if let Some(a) = task.accelerators() {
        labels.insert("trainy.ai/accelerator".into(), a.kind.clone());
        labels.insert("trainy.ai/num-accelerators".into(), a.count.to_string());
        // Konduktor's template writes Python's `None` when there is no profile.
        labels.insert(
            "trainy.ai/accelerator-profile".into(),
            accelerator_profile(&a.kind, a.count).unwrap_or_else(|| "None".into()),
        );
    }
    let flag = |on: bool| if on { "true" } else { "false" }.to_string();
    labels.insert("konduktor.ai/debug".into(), flag(opts.debug));
    labels.insert(
        "konduktor.ai/tailscale".into(),
        flag(opts.launch.tailscale_secret.is_some()),
    );
    labels
}

fn tolerations(task: &Task) -> Option<Vec<Toleration>> {
    let a = task.accelerators().filter(|a| a.count > 0)?;
    let mut out = vec![Toleration {
        key: Some(a.resource_key().into()),
        operator: Some("Exists".into()),
        ..Default::default()
    }];
    if let Some(p) = accelerator_profile(&a.kind, a.count) {
        out.push(Toleration {
            key: Some("trainy.ai/accelerator-profile".into()),
            operator: Some("Equal".into()),
            value: Some(p),
            effect: Some("NoSchedule".into()),
            ..Default::default()
        });
    }
    Some(out)
}

/// Konduktor's launcher refuses a bucket `file_mounts` entry whose store's
/// credentials secret (`konduktor check s3|gs` writes it) is missing: so
/// does this, when the cluster was read; offline, a warning says so.
fn check_store_secrets(
    task: &Task,
    opts: &RenderOptions,
    warnings: &mut Vec<String>,
) -> Result<(), Error> {
    for store in stores(task) {
        let name = store.secret_name(&opts.user_id);
        match &opts.present_secrets {
            Some(present) if !present.contains(&name) => {
                return Err(Error::input(format!(
                    "the task's file_mounts read from {}://, but the credentials secret {name} does not exist",
                    store.scheme()
                ))
                .with_help(format!(
                    "run `konduktor check {}` to create it, as `konduktor launch` asks",
                    store.scheme()
                )));
            }
            Some(_) => {}
            None => warnings.push(format!(
                "the pod mounts the credentials secret {name} for {}:// file_mounts; without the cluster it is not checked that it exists",
                store.scheme()
            )),
        }
    }
    Ok(())
}

/// The pod template `task` runs in, with `secrets` injected as Konduktor's
/// launcher injects them.
///
/// # Errors
///
/// A task that uses default secrets when there are none.
pub fn pod_template(
    task: &Task,
    secrets: &[InjectedSecret],
    opts: &RenderOptions,
) -> Result<Pod, Error> {
    let mut warnings = Vec::new();
    let name = workload_name(&task.name, &opts.run_id);
    let secrets = inject::injectable(secrets, &mut warnings);
    let by_kind = ByKind::of(&secrets);
    inject::require_default_secrets(task, by_kind, &opts.username, &opts.owner_hash)?;
    check_store_secrets(task, opts, &mut warnings)?;
    let mounts = volumes_and_mounts(task, opts, inject::volumes_and_mounts(by_kind));
    let mut env = EnvList::new(launcher_env(task, &name, by_kind, opts));
    let (config_env, pod_config) = split_config_env(opts.launch.pod_config.as_ref())?;
    for var in config_env {
        env.set(var);
    }
    let from_secret = inject::add_env_secrets(&mut env, by_kind, &mut warnings);
    inject::add_task_envs(&mut env, task, &from_secret, &mut warnings);
    let has_defaults = by_kind.has_defaults();
    let init = has_defaults.then(|| vec![unpack_container(&opts.unpack_image, mounts.unpack)]);
    let spec = PodSpec {
        restart_policy: Some("Never".into()),
        tolerations: tolerations(task),
        init_containers: init,
        containers: vec![main_container(
            task,
            opts,
            env.vars,
            mounts.main,
            has_defaults,
        )],
        volumes: Some(mounts.volumes),
        ..Default::default()
    };
    let template = PodTemplateSpec {
        metadata: Some(ObjectMeta {
            labels: Some(pod_labels(task, opts)),
            annotations: Some(BTreeMap::from([(
                CHECKSUM_ANNOTATION.to_string(),
                inject::checksum(&secrets),
            )])),
            ..Default::default()
        }),
        spec: Some(spec),
    };
    let template = match pod_config {
        Some(config) => merge_pod_config(template, &config)?,
        None => template,
    };
    Ok(Pod {
        template,
        name,
        warnings,
    })
}

fn pod_config_error(why: &str) -> Error {
    Error::input(format!("kubernetes.pod_config in Konduktor's config {why}"))
        .with_help("fix `kubernetes.pod_config` in ~/.konduktor/config.yaml (or KONDUKTOR_CONFIG): it is merged into the pod as Konduktor merges it")
}

/// The config's container variables, which Konduktor's launcher adds after
/// its own (a name given twice keeps its first place, the later value),
/// before the secrets' and the task's; and the rest of the config.
fn split_config_env(config: Option<&Value>) -> Result<(Vec<EnvVar>, Option<Value>), Error> {
    let Some(config) = config else {
        return Ok((Vec::new(), None));
    };
    let mut rest = config.clone();
    let env = match rest
        .pointer_mut("/spec/containers/0")
        .and_then(Value::as_object_mut)
        .and_then(|c| c.remove("env"))
    {
        Some(env) => serde_json::from_value::<Vec<EnvVar>>(env)
            .map_err(|_| pod_config_error("has container `env` entries that are no variables"))?,
        None => Vec::new(),
    };
    Ok((env, Some(rest)))
}

/// Konduktor's `merge_k8s_configs`: mappings merged key by key; the first
/// of `containers` and `imagePullSecrets` merged with the config's one;
/// `volumes` and `volumeMounts` merged by name (a config mount taking a
/// path over drops the mount that had it); other lists appended; the rest
/// replaced.
pub fn merge_k8s(base: &mut Value, over: &Value) -> Result<(), Error> {
    let (Some(base), Some(over)) = (base.as_object_mut(), over.as_object()) else {
        return Ok(());
    };
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(b @ Value::Object(_)), Value::Object(_)) => merge_k8s(b, value)?,
            (Some(Value::Array(items)), Value::Array(new)) => match key.as_str() {
                "containers" | "imagePullSecrets" => {
                    let ([first], Some(target)) = (new.as_slice(), items.first_mut()) else {
                        return Err(pod_config_error(&format!(
                            "should give exactly one item in `{key}`"
                        )));
                    };
                    merge_k8s(target, first)?;
                }
                "volumes" | "volumeMounts" => {
                    for item in new {
                        let name = item.get("name").cloned();
                        let at = items
                            .iter()
                            .position(|i| name.is_some() && i.get("name") == name.as_ref());
                        let winner = match at {
                            Some(i) => {
                                if let Some(target) = items.get_mut(i) {
                                    merge_k8s(target, item)?;
                                }
                                i
                            }
                            None => {
                                items.push(item.clone());
                                items.len() - 1
                            }
                        };
                        if key == "volumeMounts" {
                            drop_colliding_mounts(items, winner);
                        }
                    }
                }
                _ => items.extend(new.iter().cloned()),
            },
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(())
}

/// Mounts at the path of `items[winner]`, other than it, go.
fn drop_colliding_mounts(items: &mut Vec<Value>, winner: usize) {
    let Some(path) = items.get(winner).and_then(|w| w.get("mountPath")).cloned() else {
        return;
    };
    let mut i = 0;
    items.retain(|m| {
        let keep = i == winner || m.get("mountPath") != Some(&path);
        i += 1;
        keep
    });
}

fn merge_pod_config(template: PodTemplateSpec, config: &Value) -> Result<PodTemplateSpec, Error> {
    let mut value =
        serde_json::to_value(&template).map_err(|_| pod_config_error("cannot be merged"))?;
    merge_k8s(&mut value, config)?;
    serde_json::from_value(value).map_err(|_| {
        pod_config_error(
            "does not make a valid pod (a field of the wrong type, or an unknown shape)",
        )
    })
}

#[cfg(test)]
#[path = "pod_tests.rs"]
mod tests;
