//! `render-job -f task.yaml`: the Job a Konduktor task runs as, with the
//! caller's secrets injected as Konduktor's launcher injects them.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::cmd::prelude::Context;
use crate::error::Result;
use crate::output::{Format, to_data};
use crate::render::{self, inject, inject::DEFAULT_UNPACK_IMAGE, inject::RenderOptions};

pub const EXAMPLES: &str = "Examples:
  # The Job for task.yaml with your secrets from the cluster
  kubectl konduktor render-job -f task.yaml

  # Without any cluster: the secrets come from a manifest
  kubectl konduktor render-job -f examples/job.yaml --secrets examples/secrets.yaml

  # The pod spec alone, as JSON
  kubectl konduktor render-job -f task.yaml --pod-spec -o json

  # Review, then create it
  kubectl konduktor render-job -f task.yaml | kubectl create -f -";

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum RenderFormat {
    #[default]
    Yaml,
    Json,
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
    /// Print only the pod spec, not the whole Job
    #[arg(long)]
    pub pod_spec: bool,
    /// The image of the init container that unpacks default secrets (needs sh and unzip)
    #[arg(long, value_name = "IMAGE", default_value = DEFAULT_UNPACK_IMAGE, value_parser = image_arg)]
    pub unpack_image: String,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = RenderFormat::Yaml)]
    pub output: RenderFormat,
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

/// Each warning on its own line, made safe for a terminal.
fn warn(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {}", crate::escape::text(w));
    }
}

pub async fn run(ctx: &Context, args: &RenderJobArgs) -> Result<ExitCode> {
    let task = crate::render::task::read(&args.file)?;
    let owner = crate::cmd::prelude::owner()?;
    let gathered = match &args.secrets {
        Some(path) => render::secrets_from_manifest(path, &owner, args.commands.allowed())?,
        None => {
            let cluster = crate::cmd::prelude::connect(ctx).await?;
            render::secrets_from_cluster(&cluster, &owner.hash).await?
        }
    };
    warn(&gathered.warnings);
    let opts = RenderOptions {
        unpack_image: args.unpack_image.clone(),
        owner_hash: owner.hash.clone(),
        username: owner.username.clone(),
    };
    let rendered = inject::render(&task, &gathered.secrets, &opts)?;
    warn(&rendered.warnings);
    let format = match args.output {
        RenderFormat::Yaml => Format::Yaml,
        RenderFormat::Json => Format::Json,
    };
    let text = if args.pod_spec {
        to_data(&rendered.pod_spec(), format)?
    } else {
        to_data(&rendered.job, format)?
    };
    crate::output::print(&text)?;
    Ok(ExitCode::SUCCESS)
}
