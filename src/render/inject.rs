//! Injection of the caller's secrets into a task's workload (docs/konduktor-compat.md §4), as
//! Konduktor's launcher does it, plus the init container that expands the
//! default secrets. A pure function of the task and the secrets.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    EmptyDirVolumeSource, EnvVar, EnvVarSource, SecretKeySelector, SecretVolumeSource, Volume,
    VolumeMount,
};
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind};
use crate::konduktor::secret_value::SecretBytes;
use crate::konduktor::{self, DesiredSecret, KonduktorOwn, LiveSecret, SecretKind};
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

impl InjectedSecret {
    /// A secret read from the cluster, if its labels name it and give a kind
    /// this version knows.
    pub fn from_live(s: LiveSecret) -> Option<Self> {
        let kind = s.kind()?;
        let basename = s.basename()?.to_string();
        Some(InjectedSecret {
            basename,
            object_name: s.name,
            kind,
            data: s.data,
        })
    }

    /// A secret as a manifest declares it, under the object name it would
    /// have for `owner_hash`.
    pub fn from_desired(s: DesiredSecret, owner_hash: &str) -> Self {
        InjectedSecret {
            object_name: konduktor::object_name(&s.basename, owner_hash),
            basename: s.basename,
            kind: s.kind,
            data: s.data,
        }
    }
}

/// The secrets a task receives, and a warning for each one left out.
#[derive(Debug, Clone, Default)]
pub struct Gathered {
    pub secrets: Vec<InjectedSecret>,
    pub warnings: Vec<String>,
}

/// The caller's live secrets as Konduktor injects them: those Konduktor
/// made, with a kind it knows; a secret of an unknown kind gets a warning.
pub fn gather_live(live: Vec<LiveSecret>) -> Gathered {
    let mut warnings = Vec::new();
    let secrets = live
        .into_iter()
        .filter(LiveSecret::is_konduktor)
        .filter_map(|s| {
            // Konduktor's launcher would mount a secret that is about to
            // go: the pod would fail to start once it is gone.
            if let Some(t) = &s.terminating {
                warnings.push(format!(
                    "secret {} is being deleted ({}); it is not injected",
                    s.name,
                    t.pending()
                ));
                return None;
            }
            if !s.is_opaque() {
                warnings.push(format!(
                    "secret {} carries Konduktor's labels but is of type {}, not Opaque; it is not injected",
                    s.name,
                    s.type_name()
                ));
                return None;
            }
            // Konduktor's own (docs/konduktor-compat.md §1.6): its storage
            // credentials and SSH keys are its launcher's to mount, not
            // secrets to inject, so leaving them out needs no word; a
            // kind this version does not know at all does.
            if let Some(KonduktorOwn::OtherKind(kind)) = s.konduktor_own() {
                warnings.push(format!(
                    "secret {} has the kind `{kind}`, which this version does not know (a newer Konduktor's?); it is not injected",
                    s.name
                ));
            }
            InjectedSecret::from_live(s)
        })
        .collect();
    Gathered { secrets, warnings }
}

/// Does the task's script expect default secrets?
pub fn uses_default_secrets(task: &Task) -> bool {
    [task.setup.as_ref(), Some(&task.run)]
        .into_iter()
        .flatten()
        .any(|s| {
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
        crate::konduktor::digest_key::hex(&h.finalize())
    )
}

pub fn env_value(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_string(),
        value: Some(value.to_string()),
        value_from: None,
    }
}

pub fn secret_volume(name: String, secret_name: &str, default_mode: Option<i32>) -> Volume {
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

pub fn mount(name: &str, path: &str, read_only: bool) -> VolumeMount {
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

/// The caller's secrets that make a valid pod spec, in the order Konduktor
/// injects them: by object name, as the API lists them. Each secret left
/// out is named in a warning.
pub fn injectable(secrets: &[InjectedSecret], warnings: &mut Vec<String>) -> Vec<InjectedSecret> {
    let mut kept: Vec<InjectedSecret> = secrets
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
    kept.sort_by(|a, b| a.object_name.cmp(&b.object_name));
    kept
}

/// Injectable secrets split by how each kind is injected, in order.
#[derive(Debug, Clone, Copy)]
pub struct ByKind<'a> {
    all: &'a [InjectedSecret],
    /// The first git-ssh secret: a pod has one key.
    git_ssh: Option<&'a InjectedSecret>,
}

impl<'a> ByKind<'a> {
    pub fn of(all: &'a [InjectedSecret]) -> Self {
        ByKind {
            all,
            git_ssh: all.iter().find(|s| s.kind == SecretKind::GitSsh),
        }
    }

    pub fn kind(&self, kind: SecretKind) -> impl Iterator<Item = &'a InjectedSecret> + use<'a> {
        self.all.iter().filter(move |s| s.kind == kind)
    }

    pub fn has_defaults(&self) -> bool {
        self.kind(SecretKind::Default).next().is_some()
    }
}

/// `num_nodes` as the Job's int32 counts.
pub fn node_count(task: &Task) -> Result<i32, Error> {
    i32::try_from(task.num_nodes).map_err(|_| {
        Error::input(format!(
            "num_nodes {} is more than a Job can run ({})",
            task.num_nodes,
            i32::MAX
        ))
        .with_help("give a number of nodes the cluster can run, e.g. `num_nodes: 2`")
    })
}

/// A task that expects default secrets needs at least one.
///
/// # Errors
///
/// The task uses them and `by_kind` has none: the message names the
/// cleaned `username` and the `owner_hash`.
pub fn require_default_secrets(
    task: &Task,
    by_kind: ByKind<'_>,
    username: &str,
    owner_hash: &str,
) -> Result<(), Error> {
    if by_kind.has_defaults() || !uses_default_secrets(task) {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Input,
        format!(
            "the task uses KONDUKTOR_DEFAULT_SECRETS, but user {} (owner {}) has no default secret",
            if username.is_empty() { "(unknown)" } else { username },
            owner_hash
        ),
    )
    .with_help("create one first, e.g. `kubectl konduktor secret create --from-file ./token.txt my-secret`, or stop using it in run/setup"))
}

/// The pod's volumes, the main container's mounts and the unpack
/// container's mounts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mounts {
    pub volumes: Vec<Volume>,
    pub main: Vec<VolumeMount>,
    pub unpack: Vec<VolumeMount>,
}

/// A volume per default secret (mounted read-only for the unpacker), the
/// emptyDir they expand into, and the git-ssh key with mode 0600.
pub fn volumes_and_mounts(by_kind: ByKind<'_>) -> Mounts {
    let mut m = Mounts::default();
    for s in by_kind.kind(SecretKind::Default) {
        let volume = format!("default-secret-{}", s.basename);
        m.volumes
            .push(secret_volume(volume.clone(), &s.object_name, None));
        let path = format!("{DEFAULT_SECRETS_MOUNT}/{}", s.basename);
        m.main.push(mount(&volume, &path, false));
        m.unpack.push(mount(&volume, &path, true));
    }
    if by_kind.has_defaults() {
        m.volumes.push(Volume {
            name: EXPANDED_VOLUME.into(),
            empty_dir: Some(EmptyDirVolumeSource::default()),
            ..Default::default()
        });
        m.main.push(mount(EXPANDED_VOLUME, EXPANDED_MOUNT, false));
        m.unpack.push(mount(EXPANDED_VOLUME, EXPANDED_MOUNT, false));
    }
    if let Some(g) = by_kind.git_ssh {
        m.volumes.push(secret_volume(
            GIT_SSH_VOLUME.into(),
            &g.object_name,
            Some(0o600),
        ));
        m.main.push(mount(GIT_SSH_VOLUME, GIT_SSH_MOUNT, false));
    }
    m
}

/// The variables injection itself sets: `GIT_SSH_COMMAND` with a git-ssh
/// secret, where the default secrets are with default secrets. The pod
/// carries Konduktor's values; the entry command re-points
/// `KONDUKTOR_DEFAULT_SECRETS` at the expanded copy, as Konduktor's script
/// does (docs/konduktor-compat.md §4.3).
pub fn reserved_env(by_kind: ByKind<'_>) -> Vec<EnvVar> {
    let mut env = Vec::new();
    if by_kind.git_ssh.is_some() {
        env.push(env_value("GIT_SSH_COMMAND", GIT_SSH_COMMAND));
    }
    if by_kind.has_defaults() {
        env.push(env_value(
            "KONDUKTOR_DEFAULT_SECRETS",
            DEFAULT_SECRETS_MOUNT,
        ));
        env.push(env_value(
            "KONDUKTOR_DEFAULT_SECRETS_EXPANDED",
            EXPANDED_MOUNT,
        ));
    }
    env
}

fn secret_key_ref(s: &InjectedSecret, key: &str) -> EnvVar {
    EnvVar {
        name: key.to_string(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(SecretKeySelector {
                name: s.object_name.clone(),
                key: key.to_string(),
                optional: None,
            }),
            ..Default::default()
        }),
    }
}

/// Each key of each env secret as a `secretKeyRef`, a later secret
/// overriding an earlier one (or a launcher variable) in its place. Keys
/// that are not variable names, or that would replace a variable injection
/// sets ([`reserved_env`]), are left out with a warning. Returns which
/// secret each variable came from.
pub fn add_env_secrets(
    env: &mut EnvList,
    by_kind: ByKind<'_>,
    warnings: &mut Vec<String>,
) -> BTreeMap<String, String> {
    let reserved: Vec<String> = reserved_env(by_kind).into_iter().map(|e| e.name).collect();
    let mut from_secret: BTreeMap<String, String> = BTreeMap::new();
    for s in by_kind.kind(SecretKind::Env) {
        for key in s.data.keys() {
            if konduktor::validate_env_name(key).is_err() {
                warnings.push(format!(
                    "key \"{key}\" of env secret \"{}\" is not a valid environment variable name; it is not injected",
                    s.basename
                ));
                continue;
            }
            if reserved.contains(key) {
                warnings.push(format!(
                    "key {key} of env secret \"{}\" would replace the {key} that injection sets; the injected value is kept",
                    s.basename
                ));
                continue;
            }
            env.set(secret_key_ref(s, key));
            from_secret.insert(key.clone(), s.basename.clone());
        }
    }
    from_secret
}

/// Variables in order, indexed by name, so that setting one does not walk
/// the list (a secret may hold thousands of keys).
pub struct EnvList {
    pub vars: Vec<EnvVar>,
    at: std::collections::HashMap<String, usize>,
}

impl EnvList {
    pub fn new(vars: Vec<EnvVar>) -> Self {
        let at = vars
            .iter()
            .enumerate()
            .map(|(i, v)| (v.name.clone(), i))
            .collect();
        EnvList { vars, at }
    }

    /// Set a variable: in its place if it is there, else at the end.
    pub fn set(&mut self, var: EnvVar) {
        match self.at.get(&var.name).and_then(|i| self.vars.get_mut(*i)) {
            Some(existing) => *existing = var,
            None => {
                self.at.insert(var.name.clone(), self.vars.len());
                self.vars.push(var);
            }
        }
    }
}

/// The task's own `envs` win over everything; shadowing an env secret's
/// key is a warning.
pub fn add_task_envs(
    env: &mut EnvList,
    task: &Task,
    from_secret: &BTreeMap<String, String>,
    warnings: &mut Vec<String>,
) {
    for (name, value) in &task.envs {
        if let Some(secret) = from_secret.get(name) {
            warnings.push(format!("task env {name} shadows the key {name} of env secret \"{secret}\"; the task's value is used"));
        }
        env.set(env_value(name, value));
    }
}

#[cfg(test)]
#[path = "inject_tests.rs"]
mod tests;
