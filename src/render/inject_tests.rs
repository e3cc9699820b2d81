use std::path::Path;

use k8s_openapi::api::core::v1::{Container, PodSpec};

use super::*;
use crate::render::{RenderOptions, Rendered};

const OWNER: &str = "0123abcd";

fn task(yaml: &str) -> Task {
    crate::render::task::parse(Path::new("/t/task.yaml"), yaml).unwrap_or_else(|e| panic!("{e}"))
}

const PLAIN: &str = "name: t\nresources: {image_id: ubuntu, cpus: 1, memory: 1}\nrun: echo\n";
/// Without `run`, for tests that give their own.
const NO_RUN: &str = "name: t\nresources: {image_id: ubuntu, cpus: 1, memory: 1}\n";

fn secret(basename: &str, kind: SecretKind, data: &[(&str, &str)]) -> InjectedSecret {
    InjectedSecret {
        basename: basename.to_string(),
        object_name: format!("{basename}-{OWNER}"),
        kind,
        data: data
            .iter()
            .map(|(k, v)| (k.to_string(), SecretBytes::new(v.as_bytes().to_vec())))
            .collect(),
    }
}

fn opts() -> RenderOptions {
    RenderOptions {
        unpack_image: "busybox:1.36".into(),
        owner_hash: OWNER.into(),
        username: "alice".into(),
        user_id: "alice-7994".into(),
        run_id: "0000".into(),
        debug: false,
        launch: crate::render::LaunchConfig::default(),
        present_secrets: None,
    }
}

fn render(
    task: &Task,
    secrets: &[InjectedSecret],
    opts: &RenderOptions,
) -> Result<Rendered, Error> {
    crate::render::render(
        task,
        secrets,
        opts,
        crate::render::Shape::Job,
        &crate::render::serving::ServingOptions::default(),
    )
}

fn rendered(task_yaml: &str, secrets: &[InjectedSecret]) -> Rendered {
    render(&task(task_yaml), secrets, &opts()).unwrap_or_else(|e| panic!("{e}"))
}

fn pod(r: &Rendered) -> &PodSpec {
    &r.pod_spec
}

/// What Konduktor's template puts in every pod, beside the injection.
fn launcher_part(name: &str) -> bool {
    ["shared-memory", "konduktor-output"].contains(&name)
}

fn main_container(r: &Rendered) -> &Container {
    pod(r)
        .containers
        .first()
        .unwrap_or_else(|| panic!("no container"))
}

fn env_of(r: &Rendered) -> Vec<EnvVar> {
    main_container(r).env.clone().unwrap_or_default()
}

/// The variables Konduktor's template sets in every pod (the launcher's),
/// left out where a test looks at injection alone.
const LAUNCHER_VARS: &[&str] = &[
    "PYTHONUNBUFFERED",
    "KONDUKTOR_NODENAME",
    "KONDUKTOR_JOB_NAME",
    "NODE_HOST_IPS",
    "MASTER_ADDR",
    "RANK",
    "LOCAL_ADDR",
    "NUM_NODES",
    "NUM_GPUS_PER_NODE",
    "KONDUKTOR_NAMESPACE",
    "KONDUKTOR_OUTPUT_DIR",
    "PLUTO_RUN_ID",
    "SKYPILOT_NODE_IPS",
    "SKYPILOT_NODE_RANK",
    "SKYPILOT_NUM_NODES",
    "SKYPILOT_NUM_GPUS_PER_NODE",
    "RESTART_ATTEMPT",
];

fn env_names(r: &Rendered) -> Vec<String> {
    env_of(r)
        .into_iter()
        .map(|e| e.name)
        .filter(|n| !LAUNCHER_VARS.contains(&n.as_str()))
        .collect()
}

fn secret_source(r: &Rendered, volume: &str) -> k8s_openapi::api::core::v1::SecretVolumeSource {
    pod(r)
        .volumes
        .clone()
        .unwrap_or_default()
        .into_iter()
        .find(|v| v.name == volume)
        .and_then(|v| v.secret)
        .unwrap_or_default()
}

/// The object a variable's `secretKeyRef` names, or its literal value.
fn env_source(r: &Rendered, name: &str) -> Option<String> {
    env_of(r).into_iter().find(|e| e.name == name).map(|e| {
        match e.value_from.and_then(|f| f.secret_key_ref) {
            Some(sel) => format!("ref:{}/{}", sel.name, sel.key),
            None => format!("value:{}", e.value.unwrap_or_default()),
        }
    })
}

fn volume_names(r: &Rendered) -> Vec<String> {
    pod(r)
        .volumes
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.name)
        .filter(|n| !launcher_part(n))
        .collect()
}

fn mounts_of(c: &Container) -> Vec<(String, String, Option<bool>)> {
    c.volume_mounts
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|m| (m.name, m.mount_path, m.read_only))
        .filter(|(n, _, _)| !launcher_part(n))
        .collect()
}

fn job(r: &Rendered) -> &k8s_openapi::api::batch::v1::Job {
    match &r.workload {
        crate::render::Workload::Job(j) => j,
        _ => panic!("not a Job"),
    }
}

fn checksum_of(r: &Rendered) -> String {
    job(r)
        .spec
        .as_ref()
        .and_then(|s| s.template.metadata.as_ref())
        .and_then(|m| m.annotations.as_ref())
        .and_then(|a| a.get(CHECKSUM_ANNOTATION))
        .cloned()
        .unwrap_or_else(|| panic!("no checksum"))
}

#[test]
fn live_secrets_become_injected_secrets_and_unknown_kinds_are_named() {
    let live = |name: &str, labels: &[(&str, &str)]| LiveSecret {
        name: name.to_string(),
        uid: None,
        resource_version: None,
        created: None,
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        annotations: BTreeMap::new(),
        data: BTreeMap::from([("K".to_string(), SecretBytes::new(b"v".to_vec()))]),
        ..LiveSecret::default()
    };
    fn made<'a>(basename: &'a str, kind: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![
            (konduktor::LABEL_PARENT, konduktor::PARENT_VALUE),
            (konduktor::LABEL_OWNER, OWNER),
            (konduktor::LABEL_BASENAME, basename),
            (konduktor::LABEL_KIND, kind),
        ]
    }
    let ok = live("app-env-x", &made("app-env", "env"));
    let injected = InjectedSecret::from_live(ok.clone()).unwrap_or_else(|| panic!("dropped"));
    assert_eq!(injected.basename, "app-env");
    assert_eq!(injected.object_name, "app-env-x");
    assert_eq!(injected.kind, SecretKind::Env);
    assert_eq!(injected.data, ok.data);

    let strange = live("s-x", &made("s", "s\u{1b}[31mecret"));
    let foreign = live("f-x", &[(konduktor::LABEL_OWNER, OWNER)]);
    let nameless = live(
        "n-x",
        &[
            (konduktor::LABEL_PARENT, konduktor::PARENT_VALUE),
            (konduktor::LABEL_KIND, "env"),
        ],
    );
    let g = gather_live(vec![strange, ok, foreign, nameless]);
    assert_eq!(g.secrets, vec![injected]);
    // The foreign one (not Konduktor's) and the one without a basename are
    // dropped silently; the unknown kind is named (escaped when printed).
    assert_eq!(
        g.warnings,
        [
            "secret s-x has the kind `s\u{1b}[31mecret`, which this version does not know (a newer Konduktor's?); it is not injected"
        ]
    );
    // Konduktor's own storage credentials and SSH keys (as recorded in
    // tests/fixtures/konduktor-made/internal-*.json) are its launcher's
    // business: never injected, and no warning on every run.
    let s3 = live(
        "awscredentials-root-1a2b",
        &made("awscredentials-root-1a2b", "S3"),
    );
    let gcs = live(
        "gcpcredentials-root-1a2b",
        &made("gcpcredentials-root-1a2b", "GCS"),
    );
    let ssh_keys = live(
        "konduktor-ssh-keys-abba3a3e",
        &made("konduktor-ssh-keys-abba3a3e", "env")[..3],
    );
    let g = gather_live(vec![s3, gcs, ssh_keys]);
    assert!(g.secrets.is_empty(), "{:?}", g.secrets);
    assert!(g.warnings.is_empty(), "{:?}", g.warnings);
}

#[test]
fn declared_secrets_get_the_object_name_of_the_owner() {
    let d = DesiredSecret {
        origins: Default::default(),
        basename: "hf".into(),
        kind: SecretKind::Default,
        data: BTreeMap::from([("t".to_string(), SecretBytes::new(b"v".to_vec()))]),
    };
    let s = InjectedSecret::from_desired(d.clone(), OWNER);
    assert_eq!(s.object_name, konduktor::object_name("hf", OWNER));
    assert_eq!((s.basename, s.kind, s.data), (d.basename, d.kind, d.data));
}

#[test]
fn without_secrets_nothing_is_injected() {
    let r = rendered(PLAIN, &[]);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert!(volume_names(&r).is_empty(), "{:?}", volume_names(&r));
    assert_eq!(pod(&r).init_containers, None);
    assert!(env_names(&r).is_empty(), "{:?}", env_names(&r));
    assert!(mounts_of(main_container(&r)).is_empty());
    assert_eq!(pod(&r).restart_policy.as_deref(), Some("Never"));
}

#[test]
fn default_secrets_get_volumes_mounts_and_the_unpack_init_container() {
    let secrets = [
        secret("zeta", SecretKind::Default, &[("z.txt", "z")]),
        secret("alpha", SecretKind::Default, &[("a.txt", "a")]),
    ];
    let r = rendered(PLAIN, &secrets);
    assert_eq!(
        volume_names(&r),
        [
            "default-secret-alpha",
            "default-secret-zeta",
            EXPANDED_VOLUME
        ]
    );
    let alpha = format!("{DEFAULT_SECRETS_MOUNT}/alpha");
    let zeta = format!("{DEFAULT_SECRETS_MOUNT}/zeta");
    let main = mounts_of(main_container(&r));
    assert_eq!(
        main,
        [
            ("default-secret-alpha".into(), alpha.clone(), None),
            ("default-secret-zeta".into(), zeta.clone(), None),
            (EXPANDED_VOLUME.into(), EXPANDED_MOUNT.into(), None),
        ]
    );
    let init = pod(&r).init_containers.clone().unwrap_or_default();
    assert_eq!(init.len(), 1);
    let unpack = &init[0];
    assert_eq!(unpack.name, UNPACK_CONTAINER);
    assert_eq!(unpack.image.as_deref(), Some("busybox:1.36"));
    assert_eq!(
        unpack.command.clone().unwrap_or_default(),
        [
            "sh",
            "-c",
            UNPACK_SCRIPT,
            "unpack",
            DEFAULT_SECRETS_MOUNT,
            EXPANDED_MOUNT
        ]
    );
    assert_eq!(
        mounts_of(unpack),
        [
            ("default-secret-alpha".into(), alpha, Some(true)),
            ("default-secret-zeta".into(), zeta, Some(true)),
            (EXPANDED_VOLUME.into(), EXPANDED_MOUNT.into(), None),
        ]
    );
    let source = secret_source(&r, "default-secret-alpha");
    assert_eq!(source.secret_name, Some(format!("alpha-{OWNER}")));
    assert_eq!(source.default_mode, None);
    assert_eq!(
        env_source(&r, "KONDUKTOR_DEFAULT_SECRETS"),
        Some(format!("value:{DEFAULT_SECRETS_MOUNT}"))
    );
    assert_eq!(
        env_source(&r, "KONDUKTOR_DEFAULT_SECRETS_EXPANDED"),
        Some(format!("value:{EXPANDED_MOUNT}"))
    );
}

#[test]
fn the_unpack_image_is_the_callers() {
    let task = task(PLAIN);
    let mut o = opts();
    o.unpack_image = "registry.local/tools:1".into();
    let r = render(&task, &[secret("d", SecretKind::Default, &[])], &o)
        .unwrap_or_else(|e| panic!("{e}"));
    let init = pod(&r).init_containers.clone().unwrap_or_default();
    assert_eq!(init[0].image.as_deref(), Some("registry.local/tools:1"));
}

#[test]
fn a_task_that_uses_default_secrets_needs_one() {
    for script in [
        "run: ls $KONDUKTOR_DEFAULT_SECRETS\n",
        "setup: cat /konduktor/default-secrets/x/y\nrun: r\n",
    ] {
        let t = task(&format!("{NO_RUN}{script}"));
        let e = match render(&t, &[secret("e", SecretKind::Env, &[("A", "a")])], &opts()) {
            Ok(_) => panic!("rendered: {script}"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains("has no default secret"), "{e}");
        assert!(e.contains("user alice") && e.contains(OWNER), "{e}");
        assert!(uses_default_secrets(&t));
    }
    let mut o = opts();
    o.username.clear();
    let t = task(&format!("{NO_RUN}run: ls $KONDUKTOR_DEFAULT_SECRETS\n"));
    let e = render(&t, &[], &o).err().map(|e| e.to_string());
    assert!(
        e.as_deref().is_some_and(|e| e.contains("user (unknown)")),
        "{e:?}"
    );
    let ok = render(&t, &[secret("d", SecretKind::Default, &[])], &opts());
    assert!(ok.is_ok());
}

#[test]
fn env_secrets_are_key_refs_in_object_name_order_later_overriding_earlier() {
    // Given out of order: "a-env" is injected first, "b-env" overrides it.
    let secrets = [
        secret(
            "b-env",
            SecretKind::Env,
            &[("SHARED", "b"), ("ONLY_B", "b")],
        ),
        secret(
            "a-env",
            SecretKind::Env,
            &[("SHARED", "a"), ("ONLY_A", "a")],
        ),
    ];
    let r = rendered(PLAIN, &secrets);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(env_names(&r), ["ONLY_A", "SHARED", "ONLY_B"]);
    assert_eq!(
        env_source(&r, "SHARED"),
        Some(format!("ref:b-env-{OWNER}/SHARED"))
    );
    assert_eq!(
        env_source(&r, "ONLY_A"),
        Some(format!("ref:a-env-{OWNER}/ONLY_A"))
    );
    // No secret's value is ever written into the pod: each is a reference.
    assert!(
        env_of(&r)
            .iter()
            .filter(|e| ["ONLY_A", "SHARED", "ONLY_B"].contains(&e.name.as_str()))
            .all(|e| e.value.is_none())
    );
}

#[test]
fn git_ssh_gets_a_private_volume_and_git_ssh_command() {
    let secrets = [
        secret("key-b", SecretKind::GitSsh, &[("gitkey", "B")]),
        secret("key-a", SecretKind::GitSsh, &[("gitkey", "A")]),
    ];
    let r = rendered(PLAIN, &secrets);
    assert_eq!(volume_names(&r), [GIT_SSH_VOLUME]);
    let source = secret_source(&r, GIT_SSH_VOLUME);
    // The first by object name; one key per pod.
    assert_eq!(source.secret_name, Some(format!("key-a-{OWNER}")));
    assert_eq!(source.default_mode, Some(0o600));
    assert_eq!(
        mounts_of(main_container(&r)),
        [(GIT_SSH_VOLUME.into(), GIT_SSH_MOUNT.into(), None)]
    );
    assert_eq!(env_names(&r), ["GIT_SSH_COMMAND"]);
    assert_eq!(
        env_source(&r, "GIT_SSH_COMMAND"),
        Some(format!("value:{GIT_SSH_COMMAND}"))
    );
    assert_eq!(pod(&r).init_containers, None);
}

#[test]
fn env_keys_that_would_replace_reserved_variables_are_kept_out_with_a_warning() {
    let secrets = [
        secret("d", SecretKind::Default, &[("f", "f")]),
        secret("g", SecretKind::GitSsh, &[("gitkey", "K")]),
        secret(
            "app-env",
            SecretKind::Env,
            &[
                ("GIT_SSH_COMMAND", "ssh -o ProxyCommand=evil"),
                ("KONDUKTOR_DEFAULT_SECRETS", "/tmp"),
                ("GOOD", "g"),
            ],
        ),
    ];
    let r = rendered(PLAIN, &secrets);
    assert_eq!(
        env_names(&r),
        [
            "GIT_SSH_COMMAND",
            "KONDUKTOR_DEFAULT_SECRETS",
            "KONDUKTOR_DEFAULT_SECRETS_EXPANDED",
            "GOOD"
        ]
    );
    assert_eq!(
        env_source(&r, "GIT_SSH_COMMAND"),
        Some(format!("value:{GIT_SSH_COMMAND}"))
    );
    assert_eq!(
        r.warnings,
        [
            "key GIT_SSH_COMMAND of env secret \"app-env\" would replace the GIT_SSH_COMMAND that injection sets; the injected value is kept",
            "key KONDUKTOR_DEFAULT_SECRETS of env secret \"app-env\" would replace the KONDUKTOR_DEFAULT_SECRETS that injection sets; the injected value is kept",
        ]
    );
}

#[test]
fn secrets_that_cannot_be_injected_are_skipped_with_a_warning() {
    let long = "a".repeat(49);
    let secrets = [
        secret("ok", SecretKind::Default, &[("f", "f")]),
        secret(&long, SecretKind::Default, &[("f", "f")]),
        secret("Bad_Name", SecretKind::Default, &[("f", "f")]),
        secret("e", SecretKind::Env, &[("NOT-AN-ENV", "x"), ("GOOD", "g")]),
    ];
    let r = rendered(PLAIN, &secrets);
    assert_eq!(volume_names(&r), ["default-secret-ok", EXPANDED_VOLUME]);
    assert_eq!(
        r.warnings,
        [
            format!(
                "secret \"{long}\" ({long}-{OWNER}) is not injected: its volume name `default-secret-{long}` would be longer than 63 characters"
            ),
            format!(
                "secret \"Bad_Name\" (Bad_Name-{OWNER}) is not injected: its name is not a DNS-1123 label, so it cannot name a volume"
            ),
            "key \"NOT-AN-ENV\" of env secret \"e\" is not a valid environment variable name; it is not injected".to_string(),
        ]
    );
    assert!(!env_names(&r).contains(&"NOT-AN-ENV".to_string()));
    // Env and git-ssh secrets are not volumes: their names need not be labels.
    let mut kept = Vec::new();
    let odd = [secret("Odd_Env", SecretKind::Env, &[])];
    assert_eq!(injectable(&odd, &mut kept).len(), 1);
    assert!(kept.is_empty());
}

#[test]
fn task_envs_win_and_shadowing_a_secret_key_is_a_warning() {
    let secrets = [secret(
        "one",
        SecretKind::Env,
        &[("SHARED", "a"), ("ONLY", "b")],
    )];
    let r = rendered(
        &format!("{PLAIN}envs:\n  SHARED: from-task\n  NEW: n\n"),
        &secrets,
    );
    assert_eq!(env_names(&r), ["ONLY", "SHARED", "NEW"]);
    assert_eq!(
        env_source(&r, "SHARED"),
        Some("value:from-task".to_string())
    );
    assert_eq!(
        r.warnings,
        ["task env SHARED shadows the key SHARED of env secret \"one\"; the task's value is used"]
    );
    // A task env over a reserved variable replaces it, without a warning.
    let r = rendered(
        &format!("{PLAIN}envs:\n  GIT_SSH_COMMAND: ssh\n"),
        &[secret("g", SecretKind::GitSsh, &[])],
    );
    assert_eq!(env_source(&r, "GIT_SSH_COMMAND"), Some("value:ssh".into()));
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn the_checksum_changes_with_any_name_kind_key_or_value() {
    let base = secret("s", SecretKind::Env, &[("K", "v")]);
    let sum = |s: &InjectedSecret| checksum(std::slice::from_ref(s));
    let mut variants = vec![base.clone()];
    let mut v = base.clone();
    v.object_name = "t-x".into();
    variants.push(v);
    let mut v = base.clone();
    v.kind = SecretKind::Default;
    variants.push(v);
    variants.push(secret("s", SecretKind::Env, &[("L", "v")]));
    variants.push(secret("s", SecretKind::Env, &[("K", "w")]));
    variants.push(secret("s", SecretKind::Env, &[("K", "v"), ("L", "")]));
    // Lengths are hashed too: moving a byte from key to value changes it.
    variants.push(secret("s", SecretKind::Env, &[("Kv", "")]));
    let sums: std::collections::BTreeSet<String> = variants.iter().map(sum).collect();
    assert_eq!(sums.len(), variants.len());
    assert!(
        sums.iter()
            .all(|s| s.starts_with("sha256:") && s.len() == 71)
    );
    // It is the annotation, and the basename alone does not change it.
    let r = rendered(PLAIN, std::slice::from_ref(&base));
    assert_eq!(checksum_of(&r), sum(&base));
    let mut renamed = base.clone();
    renamed.basename = "other".into();
    assert_eq!(sum(&renamed), sum(&base));
    // Nor does the order the secrets are given in.
    let two = [base.clone(), secret("r", SecretKind::Env, &[("K", "v")])];
    let swapped = [two[1].clone(), two[0].clone()];
    assert_eq!(
        checksum_of(&rendered(PLAIN, &two)),
        checksum_of(&rendered(PLAIN, &swapped))
    );
}
