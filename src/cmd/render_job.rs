//! `render-job -f task.yaml`: what `konduktor launch` submits for a task
//! (a JobSet), with the caller's secrets injected as Konduktor's launcher
//! injects them; `--workload job` a plain Job, `--pod-spec` the pod alone;
//! for a task with `serving:`, what `konduktor serve launch` submits.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::cmd::prelude::Context;
use crate::error::{Error, Result};
use crate::output::{Format, to_data};
use crate::render::serving::ServingOptions;
use crate::render::task::{self, Accelerators, Overrides};
use crate::render::{self, LaunchConfig, RenderOptions, Shape, inject::DEFAULT_UNPACK_IMAGE};

pub const EXAMPLES: &str = "Examples:
  # The JobSet `konduktor launch task.yaml` submits, with your secrets from the cluster
  kubectl konduktor render-job -f task.yaml

  # Without any cluster: the secrets come from a manifest
  kubectl konduktor render-job -f examples/job.yaml --secrets examples/secrets.yaml

  # With launch's flags, and a fixed run id (the 4 characters after the name)
  kubectl konduktor render-job -f task.yaml --num-nodes 2 --gpus H100:8 --env WANDB_MODE=offline --run-id 0000

  # A plain Job for a cluster without JobSet; the pod spec alone, as JSON
  kubectl konduktor render-job -f task.yaml --workload job
  kubectl konduktor render-job -f task.yaml --pod-spec -o json

  # Review, then create it
  kubectl konduktor render-job -f task.yaml | kubectl create -f -";

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum RenderFormat {
    #[default]
    Yaml,
    Json,
}

#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum WorkloadArg {
    /// The `jobset.x-k8s.io/v1alpha2` JobSet `konduktor launch` submits
    #[default]
    Jobset,
    /// A plain Indexed `batch/v1` Job with the same pod (no JobSet needed)
    Job,
}

#[derive(Debug, Args)]
pub struct RenderJobArgs {
    /// The Konduktor task file
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub file: PathBuf,
    /// Take the secrets from this manifest instead of the cluster (no request is made)
    #[arg(long, value_name = "SECRETS_YAML")]
    pub secrets: Option<PathBuf>,
    #[command(flatten)]
    pub commands: crate::cmd::prelude::CommandsArg,
    /// Print only the pod spec
    #[arg(long)]
    pub pod_spec: bool,
    /// What to print the task as
    #[arg(long, value_enum, default_value_t = WorkloadArg::Jobset)]
    pub workload: WorkloadArg,
    /// The image of the init container that unpacks default secrets (needs sh and unzip)
    #[arg(long, value_name = "IMAGE", default_value = DEFAULT_UNPACK_IMAGE, value_parser = image_arg)]
    pub unpack_image: String,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = RenderFormat::Yaml)]
    pub output: RenderFormat,
    /// Send what is printed to the cluster as a server-side dry run first, and report what it says (nothing is created)
    #[arg(long)]
    pub validate: bool,
    /// A serving task's public host, for the Ingress `konduktor serve launch` makes (it looks the host up on the cluster); without it the Ingress is not printed
    #[arg(long, value_name = "HOST", value_parser = host_arg)]
    pub ingress_host: Option<String>,
    #[command(flatten)]
    pub launch: LaunchArgs,
}

/// `konduktor launch`'s flags, with its names and meanings: each overrides
/// the task file's field.
#[derive(Debug, Args, Default)]
pub struct LaunchArgs {
    /// Task name (overrides `name`)
    #[arg(long, value_name = "NAME", value_parser = name_arg)]
    pub name: Option<String>,
    /// Number of nodes (overrides `num_nodes`)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(task::MAX_NUM_NODES)))]
    pub num_nodes: Option<u32>,
    /// CPU cores per node, e.g. 4 or 0.5 (overrides `resources.cpus`)
    #[arg(long, value_name = "CORES", value_parser = task::cpus_of)]
    pub cpus: Option<String>,
    /// Memory per node in GiB, e.g. 16 (overrides `resources.memory`)
    #[arg(long, value_name = "GIB", value_parser = task::memory_of)]
    pub memory: Option<u64>,
    /// GPUs per node, TYPE[:COUNT], e.g. H100:8; `none` for none (overrides `resources.accelerators`)
    #[arg(long, value_name = "TYPE:COUNT", value_parser = gpus_arg)]
    pub gpus: Option<GpusArg>,
    /// Container image (overrides `resources.image_id`)
    #[arg(long, value_name = "IMAGE", value_parser = image_arg)]
    pub image_id: Option<String>,
    /// A variable for the job: KEY=VALUE, or KEY for its local value (repeatable; wins over --env-file and the task's `envs`)
    #[arg(long = "env", value_name = "KEY[=VALUE]")]
    pub env: Vec<String>,
    /// A dotenv file of KEY=VALUE lines for the job
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
    /// JobSet restarts allowed (overrides `resources.job_config.max_restarts`)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=i64::from(task::MAX_NUM_NODES)))]
    pub max_restarts: Option<u32>,
    /// Successful completions required (overrides `resources.job_config.completions`)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(task::MAX_NUM_NODES)))]
    pub completions: Option<u32>,
    /// Serving: the fewest replicas (overrides `serving.min_replicas`)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=i64::from(task::MAX_NUM_NODES)))]
    pub min_replicas: Option<u32>,
    /// Serving: the most replicas (overrides `serving.max_replicas`)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(task::MAX_NUM_NODES)))]
    pub max_replicas: Option<u32>,
    /// Serving: the port the server listens on (overrides `serving.ports`)
    #[arg(long, value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub ports: Option<u16>,
    /// Serving: the HTTP path of the health probes (overrides `serving.probe`)
    #[arg(long, value_name = "PATH", value_parser = probe_arg)]
    pub probe: Option<String>,
    /// The 4 characters Konduktor appends to the name (default: random, as Konduktor)
    #[arg(long, value_name = "ID", value_parser = task::run_id_of)]
    pub run_id: Option<String>,
}

/// `--gpus`: accelerators, or `none`.
#[derive(Debug, Clone)]
pub struct GpusArg(Option<Accelerators>);

fn gpus_arg(text: &str) -> std::result::Result<GpusArg, String> {
    if text.eq_ignore_ascii_case("none") {
        return Ok(GpusArg(None));
    }
    task::accelerators_of(text).map(|a| GpusArg(Some(a)))
}

fn name_arg(text: &str) -> std::result::Result<String, String> {
    if crate::kube_names::is_dns1123_label(text) {
        Ok(text.to_string())
    } else {
        Err(
            "use lowercase letters, digits and `-`, starting and ending with a letter or digit"
                .into(),
        )
    }
}

/// `--probe`: an HTTP path.
fn probe_arg(text: &str) -> std::result::Result<String, String> {
    if text.starts_with('/') && text.len() <= 1024 && text.chars().all(|c| c.is_ascii_graphic()) {
        Ok(text.to_string())
    } else {
        Err("not an HTTP path (starting with `/`, no blanks), e.g. /health".into())
    }
}

/// `--ingress-host`: a DNS name (an Ingress rule's host).
fn host_arg(text: &str) -> std::result::Result<String, String> {
    let labels_ok = text.split('.').all(crate::kube_names::is_dns1123_label);
    if labels_ok && text.len() <= 253 {
        Ok(text.to_string())
    } else {
        Err("not a host name (lowercase DNS labels joined by `.`, e.g. serve.example.com)".into())
    }
}

/// `--unpack-image`, checked by clap: an image reference is not empty and
/// holds no blank or control character (a usage error, exit 2).
fn image_arg(text: &str) -> std::result::Result<String, String> {
    if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err(
            "not an image reference (e.g. busybox:1.36 or registry.example/tools/unzip@sha256:...)"
                .to_string(),
        )
    } else {
        Ok(text.to_string())
    }
}

/// `--env KEY=VALUE` or `--env KEY` (the local value). Checked here, not by
/// clap, whose error would repeat the value.
fn env_pair(text: &str) -> Result<(String, String)> {
    let (key, value) = match text.split_once('=') {
        Some((k, v)) => (k.to_string(), v.to_string()),
        None => {
            let value = std::env::var(text).map_err(|_| {
                Error::usage(format!(
                    "--env {}: not set in the local environment",
                    if crate::konduktor::validate_env_name(text).is_ok() {
                        text
                    } else {
                        "(name not shown)"
                    }
                ))
                .with_help("give the value: --env KEY=VALUE")
            })?;
            (text.to_string(), value)
        }
    };
    if crate::konduktor::validate_env_name(&key).is_err() {
        return Err(
            Error::usage("an --env name is not an environment variable name")
                .with_help("write --env KEY=VALUE; names use letters, digits and `_`"),
        );
    }
    Ok((key, value))
}

impl LaunchArgs {
    /// The flags as overrides: `--env-file` first, `--env` over it
    /// (Konduktor's `_merge_env_vars`).
    fn overrides(&self) -> Result<Overrides> {
        let mut envs = match &self.env_file {
            Some(p) => crate::render::dotenv::read(p)?,
            None => Vec::new(),
        };
        for text in &self.env {
            let (k, v) = env_pair(text)?;
            match envs.iter_mut().find(|(name, _)| *name == k) {
                Some(slot) => slot.1 = v,
                None => envs.push((k, v)),
            }
        }
        Ok(Overrides {
            name: self.name.clone(),
            num_nodes: self.num_nodes,
            cpus: self.cpus.clone(),
            memory_gib: self.memory,
            gpus: self.gpus.clone().map(|g| g.0),
            image_id: self.image_id.clone(),
            envs,
            max_restarts: self.max_restarts,
            completions: self.completions,
            serving: task::ServingOverrides {
                min_replicas: self.min_replicas,
                max_replicas: self.max_replicas,
                port: self.ports,
                probe: self.probe.clone(),
            },
        })
    }
}

/// A random run id, as Konduktor takes one from a random UUID: 4 hex.
fn random_run_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.write_u32(std::process::id());
    format!("{:04x}", h.finish() & 0xffff)
}

/// What Konduktor's config changes in the launch (none without a config).
fn launch_config() -> Result<LaunchConfig> {
    let Some(config) = crate::cmd::prelude::konduktor_config()? else {
        return Ok(LaunchConfig::default());
    };
    Ok(config.launch.clone())
}

/// Where each kind `render-job` prints is created: its API path and
/// resource, and what to say when the cluster does not serve it.
const KINDS: &[(&str, &str, &str, &str)] = &[
    (
        "JobSet",
        "/apis/jobset.x-k8s.io/v1alpha2",
        "jobsets",
        "is JobSet installed on this cluster (`kubectl get crd jobsets.jobset.x-k8s.io`)? Without it, print a plain Job: --workload job",
    ),
    ("Job", "/apis/batch/v1", "jobs", ""),
    ("Deployment", "/apis/apps/v1", "deployments", ""),
    ("Service", "/api/v1", "services", ""),
    ("Ingress", "/apis/networking.k8s.io/v1", "ingresses", ""),
    (
        "HTTPScaledObject",
        "/apis/http.keda.sh/v1alpha1",
        "httpscaledobjects",
        "is KEDA's HTTP add-on installed on this cluster (`kubectl get crd httpscaledobjects.http.keda.sh`)? `konduktor serve launch` needs it to autoscale; min_replicas = max_replicas needs no autoscaler",
    ),
    (
        "PodAutoscaler",
        "/apis/autoscaling.aibrix.ai/v1alpha1",
        "podautoscalers",
        "is Aibrix installed on this cluster (`kubectl get crd podautoscalers.autoscaling.aibrix.ai`)? `konduktor serve launch` needs it to autoscale a vLLM server; min_replicas = max_replicas needs no autoscaler",
    ),
];

/// `--validate`: a server-side dry run of each object in the namespace, in
/// order; what the cluster says, said. Nothing is created.
async fn validate(cluster: &crate::cluster::Cluster, workload: &render::Workload) -> Result<()> {
    for object in workload.items() {
        let kind = object["kind"].as_str().unwrap_or_default();
        let Some((kind, api, resource, help)) = KINDS.iter().find(|(k, ..)| *k == kind) else {
            return Err(Error::input(format!(
                "render-job cannot validate a {}",
                crate::escape::text(kind)
            )));
        };
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        cluster
            .dry_run_create(api, resource, &name, &object)
            .await
            .map_err(|e| {
                if !help.is_empty() && e.message().contains("not found") {
                    e.with_help(*help)
                } else {
                    e
                }
            })?;
        eprintln!(
            "validated: the cluster accepts {kind} {} in a server-side dry run (nothing was created)",
            crate::escape::text(&name)
        );
    }
    Ok(())
}

/// Each warning on its own line, made safe for a terminal.
fn warn(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {}", crate::escape::text(w));
    }
}

pub async fn run(ctx: &Context, args: &RenderJobArgs) -> Result<ExitCode> {
    let overrides = args.launch.overrides()?;
    let task = crate::render::task::read(&args.file, &overrides)?;
    for note in &task.notes {
        crate::log::log(1, || note.clone());
    }
    let owner = crate::cmd::prelude::owner()?;
    let user_id = crate::cmd::prelude::user_id()?;
    let mut cluster = None;
    let (gathered, present_secrets) = match &args.secrets {
        Some(path) => (
            render::secrets_from_manifest(path, &owner, args.commands.allowed())?,
            None,
        ),
        None => {
            let c = crate::cmd::prelude::connect(ctx).await?;
            let (gathered, names) = render::secrets_from_cluster(&c, &owner.hash).await?;
            cluster = Some(c);
            (gathered, Some(names))
        }
    };
    warn(&gathered.warnings);
    let opts = RenderOptions {
        unpack_image: args.unpack_image.clone(),
        owner_hash: owner.hash.clone(),
        username: owner.username.clone(),
        user_id,
        run_id: args.launch.run_id.clone().unwrap_or_else(random_run_id),
        debug: std::env::var_os("KONDUKTOR_DEBUG").is_some_and(|v| !v.is_empty()),
        launch: launch_config()?,
        present_secrets,
    };
    if opts.launch.ssh_enabled() {
        eprintln!(
            "note: `konduktor launch` would first write its SSH keys into the secret {}; render-job writes nothing, and the pod needs that secret",
            opts.ssh_secret_name()
        );
    }
    let shape = match args.launch_shape() {
        WorkloadArg::Jobset => Shape::JobSet,
        WorkloadArg::Job => Shape::Job,
    };
    let serving_opts = ServingOptions {
        namespace: cluster
            .as_ref()
            .map(|c| c.namespace.clone())
            .or_else(|| ctx.connect.namespace.clone()),
        ingress_host: args.ingress_host.clone(),
    };
    let rendered = render::render(&task, &gathered.secrets, &opts, shape, &serving_opts)?;
    if task.serving.is_some() && !task.is_vllm() && args.ingress_host.is_none() {
        eprintln!(
            "note: `konduktor serve launch` also makes an Ingress, for the host it looks up on the cluster; give it with --ingress-host HOST to print it"
        );
    }
    warn(&rendered.warnings);
    if args.validate {
        let cluster = match cluster {
            Some(c) => c,
            None => crate::cmd::prelude::connect(ctx).await?,
        };
        validate(&cluster, &rendered.workload).await?;
    }
    let format = match args.output {
        RenderFormat::Yaml => Format::Yaml,
        RenderFormat::Json => Format::Json,
    };
    let text = if args.pod_spec {
        to_data(&rendered.pod_spec, format)?
    } else {
        to_data(&rendered.workload, format)?
    };
    crate::output::print(&text)?;
    Ok(ExitCode::SUCCESS)
}

impl RenderJobArgs {
    fn launch_shape(&self) -> WorkloadArg {
        self.workload
    }
}
