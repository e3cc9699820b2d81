//! `secret delete NAME`: only the caller's secret with that basename, with UID
//! and resourceVersion preconditions so a replaced object is never deleted.

use std::process::ExitCode;

use clap::Args;

use crate::cmd::prelude::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::secrets::execute::wait::{self, Wait};
use crate::secrets::imperative::delete;

pub const EXAMPLES: &str = "Examples:
  # Delete your secret named hf-token (only yours: other users' are never touched)
  kubectl konduktor secret delete hf-token

  # Do not wait for a secret a finalizer holds to go
  kubectl konduktor secret delete hf-token --wait=false";

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The secret's name, as given to `secret create`
    pub name: String,
    #[command(flatten)]
    pub wait: crate::cmd::prelude::WaitArgs,
}

pub async fn run(ctx: &Context, args: &DeleteArgs) -> Result<ExitCode> {
    crate::output::refuse_if_closed()?;
    crate::konduktor::validate_name(&args.name, crate::konduktor::SecretKind::Env)
        .map_err(|e| crate::error::Error::from(e).as_usage())?;
    let owner = crate::cmd::prelude::owner()?;
    let cluster = crate::cmd::prelude::connect(ctx).await?;
    let found = delete::find_mine(&cluster, &args.name, &owner).await?;
    // Konduktor's own go only by name, and only once we have said what
    // they are (docs/konduktor-compat.md §1.6).
    for note in found.notes() {
        eprintln!("note: {note}");
    }
    if let Some(note) = found.kept_note() {
        eprintln!("note: {note}");
    }
    let mut report = delete::delete_found(&cluster, found).await;
    // As `kubectl delete`: a secret a finalizer holds is waited on until
    // it is gone, up to --timeout, unless --wait=false.
    let timeout = match args.wait.wait() {
        Wait::Upto(timeout) if !report.pending.is_empty() => {
            let still = wait::until_gone(&cluster, report.pending.clone(), timeout).await?;
            report.settle(still);
            Some(timeout)
        }
        _ => None,
    };
    crate::output::print(&report.render())
        .map_err(crate::cmd::prelude::output_failed_after_writing)?;
    if let Some(e) = report.failed {
        return Err(e);
    }
    if let Some(e) = report.refusal() {
        return Err(e);
    }
    match (report.pending.first(), timeout) {
        (Some(held), Some(timeout)) => Err(Error::new(
            ErrorKind::Timeout,
            format!(
                "secret \"{}\" ({}) was not deleted: {}",
                args.name,
                held.secret_name,
                wait::timed_out(&held.terminating, timeout)
            ),
        )
        .with_help("the finalizer's owner (a controller) removes it; see `kubectl get secret -o yaml` for who set it, wait longer with --timeout, or pass --wait=false to return at once")),
        _ => Ok(ExitCode::SUCCESS),
    }
}
