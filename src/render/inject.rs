//! Injection of the caller's secrets into a task's workload (docs/konduktor-compat.md §4), as
//! Konduktor's launcher does it, plus the init container that expands the
//! default secrets. A pure function of the task and the secrets.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::{
    Container, EmptyDirVolumeSource, EnvVar, EnvVarSource, PodSpec, PodTemplateSpec,
    ResourceRequirements, SecretKeySelector, SecretVolumeSource, Toleration, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind};
use crate::konduktor::secret_value::SecretBytes;
use crate::konduktor::{self, SecretKind};
use crate::render::task::Task;

pub const DEFAULT_SECRETS_MOUNT: &str = "/konduktor/default-secrets";
pub const EXPANDED_MOUNT: &str = "/run/konduktor/expanded-default-secrets";
pub const EXPANDED_VOLUME: &str = "default-secrets-expanded";
pub const GIT_SSH_VOLUME: &str = "git-ssh-secret";
pub const GIT_SSH_MOUNT: &str = "/run/konduktor/git-ssh-secret";
pub const GIT_SSH_COMMAND: &str =
    "ssh -i /run/konduktor/git-ssh-secret/gitkey -o StrictHostKeyChecking=no";
pub const CHECKSUM_ANNOTATION: &str = "konduktor.trainy.ai/secrets-checksum";
pub const MAIN_CONTAINER: &str = "konduktor-container";
pub const UNPACK_CONTAINER: &str = "konduktor-unpack-default-secrets";
/// Has `sh` and an `unzip` applet.
pub const DEFAULT_UNPACK_IMAGE: &str = "busybox:1.36";

/// Expands every mounted default secret into the emptyDir: keys as files, a
/// `payload.zip` unpacked in place (so a directory secret appears as
/// `<name>/<dirname>/...`). Called as `sh -c SCRIPT unpack SRC DST`. The
/// kubelet's `..data` and `..<timestamp>` entries are skipped; dotfile keys
/// are kept.
pub const UNPACK_SCRIPT: &str = r#"set -eu
src="$1"
dst="$2"
for dir in "$src"/*; do
  [ -d "$dir" ] || continue
  name="$(basename "$dir")"
  mkdir -p "$dst/$name"
  for f in "$dir"/* "$dir"/.[!.]*; do
    [ -e "$f" ] || continue
    key="$(basename "$f")"
    if [ "$key" = "payload.zip" ]; then
      unzip -oq "$f" -d "$dst/$name"
    else
      cp -L "$f" "$dst/$name/$key"
    fi
  done
done
"#;

/// One of the caller's secrets, as it will be injected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InjectedSecret {
    pub basename: String,
    pub object_name: String,
    pub kind: SecretKind,
    pub data: BTreeMap<String, SecretBytes>,
}

#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub unpack_image: String,
    pub owner_hash: String,
    pub username: String,
}

#[derive(Debug, Clone)]
pub struct Rendered {
    pub job: Job,
    pub warnings: Vec<String>,
}

impl Rendered {
    pub fn pod_spec(&self) -> Option<&PodSpec> {
        self.job
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
    }
}

/// Does the task's script expect default secrets?
pub fn uses_default_secrets(task: &Task) -> bool {
    [&task.setup, &task.run].into_iter().flatten().any(|s| {
        s.contains("KONDUKTOR_DEFAULT_SECRETS") || s.contains("/konduktor/default-secrets/")
    })
}

/// SHA-256 over every injected secret's name, kind, keys and values, in a
/// fixed order. It changes whenever any of them does; it cannot be turned
/// back into a value.
pub fn checksum(secrets: &[InjectedSecret]) -> String {
    let mut h = Sha256::new();
    for s in secrets {
        for part in [s.object_name.as_bytes(), s.kind.as_str().as_bytes()] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        for (k, v) in &s.data {
            h.update((k.len() as u64).to_be_bytes());
            h.update(k.as_bytes());
            h.update((v.len() as u64).to_be_bytes());
            h.update(v.expose());
        }
    }
    format!(
        "sha256:{}",
        h.finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

fn env_value(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: Some(value.to_string()),
        value_from: None,
    }
}

fn secret_volume(name: String, secret_name: &str, default_mode: Option<i32>) -> Volume {
    Volume {
        name,
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret_name.to_string()),
            default_mode,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
    VolumeMount {
        name: name.to_string(),
        mount_path: path.to_string(),
        read_only: read_only.then_some(true),
        ..Default::default()
    }
}

/// Why a secret from the cluster cannot be injected as it is, if it cannot:
/// anyone can label a Secret, and a name that makes an invalid volume would
/// make the whole Job invalid.
fn uninjectable(s: &InjectedSecret) -> Option<String> {
    if s.kind != SecretKind::Default {
        return None;
    }
    konduktor::validate_name(&s.basename, SecretKind::Default)
        .err()
        .map(|e| match e {
            konduktor::RuleError::NameTooLong { .. } => format!(
                "its volume name `default-secret-{}` would be longer than 63 characters",
                s.basename
            ),
            _ => "its name is not a DNS-1123 label, so it cannot name a volume".to_string(),
        })
}

pub fn render(
    task: &Task,
    secrets: &[InjectedSecret],
    opts: &RenderOptions,
) -> Result<Rendered, Error> {
    let mut warnings = Vec::new();
    let nodes = i32::try_from(task.num_nodes).map_err(|_| {
        Error::input(format!(
            "num_nodes {} is more than a Job can run ({})",
            task.num_nodes,
            i32::MAX
        ))
        .with_help("give a number of nodes the cluster can run, e.g. `num_nodes: 2`")
    })?;
    // Only what makes a valid pod spec is injected; the rest is named in a warning.
    let mut secrets: Vec<InjectedSecret> = secrets
        .iter()
        .filter(|s| match uninjectable(s) {
            Some(why) => {
                warnings.push(format!(
                    "secret \"{}\" ({}) is not injected: {why}",
                    s.basename, s.object_name
                ));
                false
            }
            None => true,
        })
        .cloned()
        .collect();
    // Konduktor injects in the order the API lists them: by object name.
    secrets.sort_by(|a, b| a.object_name.cmp(&b.object_name));
    let defaults: Vec<&InjectedSecret> = secrets
        .iter()
        .filter(|s| s.kind == SecretKind::Default)
        .collect();
    let git_ssh = secrets.iter().find(|s| s.kind == SecretKind::GitSsh);
    let env_secrets: Vec<&InjectedSecret> = secrets
        .iter()
        .filter(|s| s.kind == SecretKind::Env)
        .collect();

    if defaults.is_empty() && uses_default_secrets(task) {
        return Err(Error::new(
            ErrorKind::Input,
            format!(
                "the task uses KONDUKTOR_DEFAULT_SECRETS, but user {} (owner {}) has no default secret",
                if opts.username.is_empty() { "(unknown)" } else { &opts.username },
                opts.owner_hash
            ),
        )
        .with_help("create one first, e.g. `kubectl konduktor secret create --from-file ./token.txt my-secret`, or stop using it in run/setup"));
    }

    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    let mut unpack_mounts = Vec::new();
    for s in &defaults {
        let volume = format!("default-secret-{}", s.basename);
        volumes.push(secret_volume(volume.clone(), &s.object_name, None));
        let path = format!("{DEFAULT_SECRETS_MOUNT}/{}", s.basename);
        mounts.push(mount(&volume, &path, false));
        unpack_mounts.push(mount(&volume, &path, true));
    }
    if !defaults.is_empty() {
        volumes.push(Volume {
            name: EXPANDED_VOLUME.into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        });
        mounts.push(mount(EXPANDED_VOLUME, EXPANDED_MOUNT, false));
        unpack_mounts.push(mount(EXPANDED_VOLUME, EXPANDED_MOUNT, false));
    }
    if let Some(g) = git_ssh {
        volumes.push(secret_volume(
            GIT_SSH_VOLUME.into(),
            &g.object_name,
            Some(0o600),
        ));
        mounts.push(mount(GIT_SSH_VOLUME, GIT_SSH_MOUNT, false));
    }

    let mut env: Vec<EnvVar> = Vec::new();
    if git_ssh.is_some() {
        env.push(env_value("GIT_SSH_COMMAND", GIT_SSH_COMMAND));
    }
    if !defaults.is_empty() {
        // The expanded copy is what `$KONDUKTOR_DEFAULT_SECRETS/<name>/...` means.
        env.push(env_value("KONDUKTOR_DEFAULT_SECRETS", EXPANDED_MOUNT));
        env.push(env_value(
            "KONDUKTOR_DEFAULT_SECRETS_EXPANDED",
            EXPANDED_MOUNT,
        ));
    }
    let injected: Vec<String> = env.iter().map(|e| e.name.clone()).collect();
    let mut from_secret: BTreeMap<String, String> = BTreeMap::new();
    for s in &env_secrets {
        for key in s.data.keys() {
            if konduktor::validate_env_name(key).is_err() {
                warnings.push(format!(
                    "key \"{key}\" of env secret \"{}\" is not a valid environment variable name; it is not injected",
                    s.basename
                ));
                continue;
            }
            if injected.contains(key) {
                warnings.push(format!(
                    "key {key} of env secret \"{}\" would replace the {key} that injection sets; the injected value is kept",
                    s.basename
                ));
                continue;
            }
            let var = EnvVar {
                name: key.clone(),
                value: None,
                value_from: Some(EnvVarSource {
                    secret_key_ref: Some(SecretKeySelector {
                        name: s.object_name.clone(),
                        key: key.clone(),
                        optional: None,
                    }),
                    ..Default::default()
                }),
            };
            // A later env secret overrides an earlier one, in its place.
            match env.iter_mut().find(|e| e.name == *key) {
                Some(existing) => *existing = var,
                None => env.push(var),
            }
            from_secret.insert(key.clone(), s.basename.clone());
        }
    }
    for (name, value) in &task.envs {
        match env.iter_mut().find(|e| e.name == *name) {
            Some(existing) => {
                if let Some(secret) = from_secret.get(name) {
                    warnings.push(format!("task env {name} shadows the key {name} of env secret \"{secret}\"; the task's value is used"));
                }
                *existing = env_value(name, value);
            }
            None => env.push(env_value(name, value)),
        }
    }

    let mut resources: BTreeMap<String, Quantity> = BTreeMap::new();
    if let Some(c) = &task.cpus {
        resources.insert("cpu".into(), Quantity(c.clone()));
    }
    if let Some(m) = &task.memory {
        resources.insert("memory".into(), Quantity(m.clone()));
    }
    if let Some(a) = &task.accelerators {
        resources.insert("nvidia.com/gpu".into(), Quantity(a.count.to_string()));
    }
    let mut script = String::from("set -e\n");
    if let Some(setup) = &task.setup {
        script.push_str(setup);
        if !setup.ends_with('\n') {
            script.push('\n');
        }
    }
    if let Some(run) = &task.run {
        script.push_str(run);
    }
    let main = Container {
        name: MAIN_CONTAINER.into(),
        image: Some(task.image.clone()),
        command: Some(vec!["bash".into(), "-c".into()]),
        args: Some(vec![script]),
        env: (!env.is_empty()).then_some(env),
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        resources: (!resources.is_empty()).then(|| ResourceRequirements {
            limits: Some(resources.clone()),
            requests: Some(resources),
            ..Default::default()
        }),
        ..Default::default()
    };
    let init = (!defaults.is_empty()).then(|| {
        vec![Container {
            name: UNPACK_CONTAINER.into(),
            image: Some(opts.unpack_image.clone()),
            command: Some(vec![
                "sh".into(),
                "-c".into(),
                UNPACK_SCRIPT.into(),
                "unpack".into(),
                DEFAULT_SECRETS_MOUNT.into(),
                EXPANDED_MOUNT.into(),
            ]),
            volume_mounts: Some(unpack_mounts),
            ..Default::default()
        }]
    });
    let mut labels = BTreeMap::from([("parent".to_string(), "trainy".to_string())]);
    if !opts.username.is_empty() {
        labels.insert("trainy.ai/username".into(), opts.username.clone());
    }
    if let Some(a) = &task.accelerators {
        labels.insert("trainy.ai/accelerator".into(), a.kind.clone());
    }
    let pod = PodSpec {
        restart_policy: Some("Never".into()),
        init_containers: init,
        containers: vec![main],
        volumes: (!volumes.is_empty()).then_some(volumes),
        tolerations: task.accelerators.as_ref().map(|_| {
            vec![Toleration {
                key: Some("nvidia.com/gpu".into()),
                operator: Some("Exists".into()),
                ..Default::default()
            }]
        }),
        ..Default::default()
    };
    let job = Job {
        metadata: ObjectMeta {
            name: Some(task.name.clone()),
            labels: Some(labels.clone()),
            ..Default::default()
        },
        spec: Some(JobSpec {
            completions: Some(nodes),
            parallelism: Some(nodes),
            completion_mode: Some("Indexed".into()),
            backoff_limit: Some(0),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    annotations: Some(BTreeMap::from([(
                        CHECKSUM_ANNOTATION.to_string(),
                        checksum(&secrets),
                    )])),
                    ..Default::default()
                }),
                spec: Some(pod),
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    Ok(Rendered { job, warnings })
}
