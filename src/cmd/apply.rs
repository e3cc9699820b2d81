//! `apply -f secrets.yaml`: plan, show, confirm deletions, carry out.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use crate::cluster::Cluster;
use crate::cmd::prelude::{Context, OutputArg};
use crate::error::{Error, ErrorKind, Result};
use crate::konduktor::WriteMeta;
use crate::output::{Format, to_data};
use crate::secrets::execute::{self, Outcome};
use crate::secrets::plan::Plan;
use crate::secrets::saved_plan::{SavedPlan, Target};
use crate::secrets::view::{self as plan_view, ViewOptions};

pub const EXAMPLES: &str = "Examples:
  # Make the cluster match secrets.yaml (creates and merges; keys are never removed)
  kubectl konduktor apply -f secrets.yaml

  # Preview only
  kubectl konduktor apply -f secrets.yaml --dry-run

  # Also delete your secrets and keys not in the file, without asking
  kubectl konduktor apply -f secrets.yaml --prune --yes

  # Carry out exactly the plan reviewed with `diff --out plan.json`
  kubectl konduktor apply -f secrets.yaml --plan plan.json

Deletions (state: absent, --prune, a replaced git-ssh secret) are confirmed
on a terminal; elsewhere they need --yes. Running apply again converges.";

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The manifest (secrets.yaml)
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub file: PathBuf,
    /// Also delete your secrets and keys that the manifest does not list
    #[arg(long)]
    pub prune: bool,
    #[command(flatten)]
    pub commands: crate::cmd::prelude::CommandsArg,
    /// Do not ask before deleting
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Show the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Show changed text values as a unified diff in the plan
    #[arg(long)]
    pub show_secrets: bool,
    /// Carry out the plan `diff --out FILE` saved, without asking, only if neither the sources nor the cluster changed since
    #[arg(long = "plan", value_name = "FILE")]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub wait: crate::cmd::prelude::WaitArgs,
    /// How many writes to send at once
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u8).range(1..=64),
        default_value_t = u8::try_from(execute::PARALLELISM).unwrap_or(64)
    )]
    pub parallel: u8,
    /// Output format (json/yaml: the plan and the result per secret)
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputArg::Text)]
    pub output: OutputArg,
}

#[derive(Debug, Serialize)]
struct Report<'a> {
    plan: &'a Plan,
    dry_run: bool,
    result: Vec<Outcome>,
    /// Why writing stopped part way (the server became unreachable).
    #[serde(skip_serializing_if = "Option::is_none")]
    stopped: Option<String>,
}

pub async fn run(ctx: &Context, args: &ApplyArgs) -> Result<ExitCode> {
    // --plan: the reviewed plan decides --prune, and is carried out only
    // if planning again gives it back (sources and cluster as reviewed).
    let saved = args.plan.as_deref().map(SavedPlan::read).transpose()?;
    let prune = match (&saved, &args.plan) {
        (Some(saved), Some(path)) => saved.prune_for(args.prune, path)?,
        _ => args.prune,
    };
    let (plan, cluster) =
        crate::cmd::prelude::plan_manifest(ctx, &args.file, prune, args.commands).await?;
    if let (Some(saved), Some(path)) = (&saved, &args.plan) {
        let target = Target {
            server: cluster.server.clone(),
            namespace: cluster.namespace.clone(),
            owner: plan.owner.clone(),
        };
        saved.verify(&plan, &target, path)?;
    }
    // Deletions in a saved plan were reviewed: not asked again.
    let yes = args.yes || saved.is_some();
    let format = Format::from(args.output);
    let text = format == Format::Text;
    if text {
        let opts = ViewOptions {
            show_secrets: args.show_secrets,
        };
        print!("{}", plan_view::render(&plan, opts));
    }
    plan.refuse_conflicts()?;
    let mut stopped = None;
    let result = match nothing_to_do(&plan, args.dry_run) {
        Some(note) => {
            if text {
                println!("{note}");
            }
            Vec::new()
        }
        None => {
            if plan.has_deletions() && !yes {
                confirm_deletions(&plan)?;
            }
            // Before the first write: may we make every kind of write the
            // plan needs? (After the confirmation, so that a refusal for
            // want of a terminal sends nothing.)
            execute::check_access(&cluster, &plan).await?;
            let mut executed = carry_out(&cluster, &plan, text, args.parallel.into()).await?;
            // Deletions a finalizer holds: waited for, as `kubectl delete` does.
            crate::secrets::wait::settle(&cluster, &plan, &mut executed.outcomes, args.wait.wait())
                .await?;
            if text {
                print!("{}", plan_view::render_outcomes(&executed.outcomes));
                if let Some(e) = &executed.unreachable {
                    print!("{}", stopped_note(e));
                }
            }
            stopped = executed.unreachable.map(|e| e.message().to_string());
            executed.outcomes
        }
    };
    let failed = result.iter().any(Outcome::failed);
    if !text {
        let report = Report {
            plan: &plan,
            dry_run: args.dry_run,
            result,
            stopped,
        };
        print!("{}", to_data(&report, format)?);
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Why nothing is to be carried out, if so.
fn nothing_to_do(plan: &Plan, dry_run: bool) -> Option<&'static str> {
    if !plan.has_changes() {
        Some("No changes: the cluster matches the manifest.")
    } else if dry_run {
        Some("Dry run: nothing was changed.")
    } else {
        None
    }
}

/// Said once when the server went away part way: why writing stopped,
/// and what to do.
fn stopped_note(e: &Error) -> String {
    let mut note = format!("Stopped sending: {}.\n", e.message());
    if let Some(help) = e.hint() {
        note.push_str(&format!("  help: {help}; then run apply again\n"));
    }
    note
}

/// Execute the plan, `parallel` writes at once, with a progress line on a
/// terminal.
async fn carry_out(
    cluster: &Cluster,
    plan: &Plan,
    text: bool,
    parallel: usize,
) -> Result<execute::Executed> {
    let progress = std::sync::Arc::new(execute::Progress::default());
    let ticker = (text && std::io::stderr().is_terminal())
        .then(|| tokio::spawn(show_progress(progress.clone(), execute::steps(plan))));
    // Only a run that writes asks who we are: a no-op stays one request.
    let meta = if plan.secrets.iter().any(|s| s.writes_object()) {
        crate::cmd::prelude::write_meta(cluster).await?
    } else {
        WriteMeta::default()
    };
    let executed = execute::execute_with(cluster, plan, &meta, &progress, parallel).await;
    if let Some(t) = ticker {
        t.abort();
        // Clear the progress line.
        eprint!("\r\x1b[2K");
    }
    Ok(executed)
}

/// A progress line on stderr, once the apply takes more than a moment.
async fn show_progress(progress: std::sync::Arc<execute::Progress>, total: usize) {
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    loop {
        let done = progress.done.load(std::sync::atomic::Ordering::Relaxed);
        eprint!("\rApplying: {done}/{total} done");
        let _ = std::io::stderr().flush();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// On a terminal, ask; elsewhere, refuse before changing anything.
fn confirm_deletions(plan: &Plan) -> Result<()> {
    let what = plan_view::deletions(plan);
    crate::cmd::confirm::confirm(
        &format!("Apply will delete {what}."),
        Error::new(
            ErrorKind::Refused,
            format!("apply would delete {what}, and there is no terminal to confirm it; nothing was changed"),
        )
        .with_help("review the plan above, then run again with --yes"),
        Error::new(ErrorKind::Refused, "apply cancelled; nothing was changed"),
    )
}
