//! `secret delete NAME`: only the caller's secret with that basename, with UID
//! and resourceVersion preconditions so a replaced object is never deleted.

use std::process::ExitCode;

use clap::Args;

use crate::cmd::prelude::Context;
use crate::error::Result;
use crate::secrets::delete;

pub const EXAMPLES: &str = "Examples:
  # Delete your secret named hf-token (only yours: other users' are never touched)
  kubectl konduktor secret delete hf-token";

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The secret's name, as given to `secret create`
    pub name: String,
}

pub async fn run(ctx: &Context, args: &DeleteArgs) -> Result<ExitCode> {
    crate::konduktor::validate_name(&args.name, crate::konduktor::SecretKind::Env)
        .map_err(|e| crate::error::Error::from(e).as_usage())?;
    let owner = crate::cmd::prelude::owner()?;
    let cluster = crate::cmd::prelude::connect(ctx).await?;
    let report = delete::delete_mine(&cluster, &args.name, &owner).await?;
    print!("{}", report.render());
    match report.failed {
        Some(e) => Err(e),
        None => Ok(ExitCode::SUCCESS),
    }
}
