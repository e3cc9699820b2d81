//! `apply -f secrets.yaml`: plan, show, confirm deletions, carry out.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use crate::cmd::prelude::{Context, OutputArg};
use crate::error::{Error, ErrorKind, Result};
use crate::output::{Format, to_data};
use crate::secrets::execute::{self, Outcome, Status};
use crate::secrets::plan::{Action, Plan};
use crate::secrets::view::{self as plan_view, ViewOptions};

pub const EXAMPLES: &str = "Examples:
  # Make the cluster match secrets.yaml (creates and merges; keys are never removed)
  kubectl konduktor apply -f secrets.yaml

  # Preview only
  kubectl konduktor apply -f secrets.yaml --dry-run

  # Also delete your secrets and keys not in the file, without asking
  kubectl konduktor apply -f secrets.yaml --prune --yes

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
    /// Do not ask before deleting
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Show the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Show changed text values as a unified diff in the plan
    #[arg(long)]
    pub show_secrets: bool,
    /// Output format (json/yaml: the plan and the result per secret)
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputArg::Text)]
    pub output: OutputArg,
}

#[derive(Debug, Serialize)]
struct Report<'a> {
    plan: &'a Plan,
    dry_run: bool,
    result: Vec<Outcome>,
}

pub async fn run(ctx: &Context, args: &ApplyArgs) -> Result<ExitCode> {
    let (plan, cluster) = crate::cmd::prelude::plan_manifest(ctx, &args.file, args.prune).await?;
    let format = Format::from(args.output);
    let text = format == Format::Text;
    if text {
        print!(
            "{}",
            plan_view::render(
                &plan,
                ViewOptions {
                    show_secrets: args.show_secrets
                }
            )
        );
    }
    let report = |result: Vec<Outcome>, code: ExitCode| -> Result<ExitCode> {
        if !text {
            print!(
                "{}",
                to_data(
                    &Report {
                        plan: &plan,
                        dry_run: args.dry_run,
                        result
                    },
                    format
                )?
            );
        }
        Ok(code)
    };
    if plan.has_conflicts() {
        return Err(Error::new(
            ErrorKind::Foreign,
            "apply refused: secrets with your names exist that are not yours; nothing was changed",
        )
        .with_help("rename those secrets in the manifest; the existing ones are never touched"));
    }
    if !plan.has_changes() {
        if text {
            println!("No changes: the cluster matches the manifest.");
        }
        return report(Vec::new(), ExitCode::SUCCESS);
    }
    if args.dry_run {
        if text {
            println!("Dry run: nothing was changed.");
        }
        return report(Vec::new(), ExitCode::SUCCESS);
    }
    if plan.has_deletions() && !args.yes {
        confirm_deletions(&plan)?;
    }
    let progress = std::sync::Arc::new(execute::Progress::default());
    let ticker = (text && std::io::stderr().is_terminal())
        .then(|| tokio::spawn(show_progress(progress.clone(), execute::steps(&plan))));
    let outcomes = execute::execute(&cluster, &plan, &progress).await;
    if let Some(t) = ticker {
        t.abort();
        // Clear the progress line.
        eprint!("\r\x1b[2K");
    }
    let failed = outcomes.iter().filter(|o| o.failed()).count();
    if text {
        print!("{}", render_outcomes(&outcomes));
    }
    report(
        outcomes,
        if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
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
    let secrets = plan
        .secrets
        .iter()
        .filter(|s| s.action == Action::Delete)
        .count();
    let keyed = plan
        .secrets
        .iter()
        .filter(|s| s.action == Action::Merge && s.deletes())
        .count();
    let what = format!("{secrets} secret(s) and keys of {keyed} secret(s)");
    if !std::io::stdin().is_terminal() {
        return Err(Error::new(ErrorKind::Refused, format!("apply would delete {what}, and there is no terminal to confirm it; nothing was changed"))
            .with_help("review the plan above, then run again with --yes"));
    }
    eprint!("Apply will delete {what}. Type 'yes' to go on: ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Error::new(ErrorKind::Refused, format!("cannot read the answer: {e}")))?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Refused,
            "apply cancelled; nothing was changed",
        ))
    }
}

fn render_outcomes(outcomes: &[Outcome]) -> String {
    use crate::escape::text as esc;
    let mut out = String::new();
    let (mut done, mut failed, mut skipped) = (0, 0, 0);
    for o in outcomes {
        let verb = match o.action {
            Action::Create => "created",
            Action::Merge => "merged",
            Action::Delete => "deleted",
            _ => "unchanged",
        };
        match &o.status {
            Status::Done => {
                done += 1;
                out.push_str(&format!(
                    "secret \"{}\" {verb} ({})\n",
                    esc(&o.name),
                    esc(&o.secret_name)
                ));
            }
            Status::Failed { message } => {
                failed += 1;
                out.push_str(&format!(
                    "secret \"{}\" NOT {verb}: {}\n",
                    esc(&o.name),
                    esc(message)
                ));
            }
            Status::Skipped { message } => {
                skipped += 1;
                out.push_str(&format!(
                    "secret \"{}\" not {verb}: {}\n",
                    esc(&o.name),
                    esc(message)
                ));
            }
        }
    }
    if failed + skipped == 0 {
        out.push_str(&format!("Apply complete: {done} done.\n"));
    } else {
        out.push_str(&format!("Apply incomplete: {done} done, {failed} failed, {skipped} not attempted. Run apply again to converge.\n"));
    }
    out
}
