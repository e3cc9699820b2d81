//! `diff -f secrets.yaml`: what apply would do. Exit status as `kubectl
//! diff`: 0 no changes, 1 changes, above 1 on error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::cmd::prelude::{self, Context, OutputArg};
use crate::error::Result;
use crate::output::{Format, to_data};
use crate::secrets::view::{self as plan_view, ViewOptions};

pub const EXAMPLES: &str = "Examples:
  # What would change
  kubectl konduktor diff -f secrets.yaml

  # Also show changed text values as a unified diff (prints secrets!)
  kubectl konduktor diff -f secrets.yaml --show-secrets

  # Include deletions of your secrets and keys that are not in the file
  kubectl konduktor diff -f secrets.yaml --prune

Exit status: 0 no changes, 1 changes, 2 or more on error.";

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The manifest (secrets.yaml)
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub file: PathBuf,
    /// Also delete your secrets and keys that the manifest does not list
    #[arg(long)]
    pub prune: bool,
    #[command(flatten)]
    pub commands: crate::cmd::prelude::CommandsArg,
    /// Show changed text values as a unified diff
    #[arg(long)]
    pub show_secrets: bool,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputArg::Text)]
    pub output: OutputArg,
}

pub async fn run(ctx: &Context, args: &DiffArgs) -> Result<ExitCode> {
    let (plan, cluster) =
        crate::cmd::prelude::plan_manifest(ctx, &args.file, args.prune, args.commands).await?;
    match Format::from(args.output) {
        Format::Text => {
            print!(
                "{}",
                plan_view::render(
                    &plan,
                    ViewOptions {
                        show_secrets: args.show_secrets
                    }
                )
            );
            // A second workstation's first diff: say where the secrets are.
            if plan.found_none_of_yours() {
                let found = prelude::other_identities(&cluster, &plan.owner, None).await;
                prelude::hint_other_identities(found.as_ref());
            }
        }
        format => print!("{}", to_data(&plan, format)?),
    }
    Ok(if plan.has_changes() || plan.has_conflicts() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
