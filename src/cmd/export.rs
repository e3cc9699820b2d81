//! `export`: a secrets.yaml that reproduces your current secrets. Glue over
//! [`crate::secrets::export`]: flags, the one LIST, where the text goes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::cluster::Cluster;
use crate::cmd::prelude::{self, Context};
use crate::error::Result;
use crate::secrets::export::{self, RenderContext, ValuesDir};

pub const EXAMPLES: &str = "Examples:
  # A manifest and the values it reads, so that `diff` right after shows no change
  kubectl konduktor export --values-dir ./values --out secrets.yaml
  kubectl konduktor diff -f secrets.yaml     # env secrets read ./values/NAME.env (fromEnvFile)

  # A skeleton to complete by hand: no value is written anywhere
  kubectl konduktor export > secrets.yaml";

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write each value under DIR (created with mode 0700, files 0600); without it the manifest holds placeholders to complete
    #[arg(long = "values-dir", value_name = "DIR")]
    pub values_dir: Option<PathBuf>,
    /// Write the manifest to FILE instead of standard output (`-`: standard output; never over anything but a regular file)
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Overwrite FILE (a regular file), and write into a non-empty DIR (replacing only what an earlier export wrote there)
    #[arg(long)]
    pub force: bool,
}

pub async fn run(ctx: &Context, args: &ExportArgs) -> Result<ExitCode> {
    let owner = prelude::owner()?;
    crate::konduktor::identity::fits_object_names(&owner)?;
    // Refusals first: nothing is asked of the cluster, nothing written.
    if let Some(out) = &args.out {
        // A manifest holds no value: 0644 when written.
        crate::input::file::check_out_file(
            out,
            args.force,
            "manifest file",
            "nothing was exported",
        )?;
    }
    if let Some(dir) = &args.values_dir {
        export::check_values_dir(dir, args.force)?;
    }
    let cluster = prelude::connect(ctx).await?;
    let live = cluster
        .list_secrets(Some(&Cluster::owner_selector(&owner.hash)))
        .await?;
    let mut plan = export::plan(&live, &owner.hash, args.values_dir.is_some());
    let values = match &args.values_dir {
        Some(dir) => {
            let values = ValuesDir::prepare(dir, args.force)?;
            values.write(&mut plan)?;
            Some(values)
        }
        None => None,
    };
    // `--out -` is standard output, as no `--out`.
    let out_file = args
        .out
        .as_deref()
        .filter(|o| !crate::input::file::is_stdout(o));
    let manifest_dir = out_file
        .map(|o| {
            o.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
        })
        .and_then(|d| std::fs::canonicalize(d).ok());
    let prefix = values
        .as_ref()
        .map(|v| export::values_prefix(v, manifest_dir.as_deref()));
    let text = export::render(
        &plan,
        &RenderContext {
            owner_hash: &owner.hash,
            namespace: &cluster.namespace,
            values: prefix.as_deref(),
        },
    );
    match out_file {
        Some(out) => crate::input::file::write_out_file(out, 0o644, text.as_bytes(), args.force)?,
        None => crate::output::print(&text)?,
    }
    crate::log::log(1, || {
        format!(
            "export: {} written, {} left out",
            secrets(plan.secrets.len()),
            plan.left_out.len()
        )
    });
    report(&plan, values.as_ref(), out_file);
    Ok(ExitCode::SUCCESS)
}

/// `n` secrets, in English.
fn secrets(n: usize) -> String {
    crate::output::count(n, "secret", "secrets")
}

/// What was done, on stderr: counts, where things went, what to do next,
/// and each secret left out with its reason.
fn report(plan: &export::ExportPlan, values: Option<&ValuesDir>, out: Option<&Path>) {
    let to = out.map_or_else(
        || "standard output".to_string(),
        |o| format!("`{}`", crate::escape::path(o)),
    );
    match values {
        Some(v) => {
            eprintln!(
                "Exported {} to {to}; their values are in `{}`.",
                secrets(plan.secrets.len()),
                crate::escape::path(&v.path)
            );
        }
        None => {
            eprintln!(
                "warning: exported {} to {to} without --values-dir: the manifest holds no values and must be completed before use (see its first lines), or export again with --values-dir DIR.",
                secrets(plan.secrets.len())
            );
        }
    }
    for l in &plan.left_out {
        eprintln!(
            "warning: left out secret {}: {}",
            crate::escape::text(&l.named()),
            crate::escape::text(&l.reason)
        );
    }
}
