//! `identity adopt HASH`: make HASH this machine's owner hash, for this tool
//! and Konduktor's CLI, by writing `~/.konduktor/user_hash`
//! (docs/konduktor-compat.md §2.3). Local: no cluster, no request.

use std::process::ExitCode;

use clap::Args;

use crate::cmd::prelude::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::konduktor::identity::{self, AdoptError, IdentityInputs};

pub const EXAMPLES: &str = "Examples:
  # Use the owner hash of your secrets made on another workstation
  kubectl konduktor identity adopt 0123abcd

  # The same, without asking (no terminal, e.g. in a script)
  kubectl konduktor identity adopt 0123abcd --yes

The hash is written to ~/.konduktor/user_hash, which Konduktor's CLI reads
too; the previous file is kept as user_hash.bak-<UTC time> beside it.
`kubectl konduktor identity candidates` lists the hashes your cluster user
wrote secrets under.";

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// The owner hash to use from now on (8 lowercase hex characters)
    #[arg(value_name = "HASH", value_parser = identity::parse_owner_hash)]
    pub hash: String,
    /// Do not ask before replacing the file
    #[arg(short = 'y', long)]
    pub yes: bool,
}

pub async fn run(_ctx: &Context, args: &AdoptArgs) -> Result<ExitCode> {
    let plan = identity::prepare_adopt(&IdentityInputs::from_process(), &args.hash)
        .map_err(adopt_error)?;
    for w in &plan.warnings {
        eprintln!("warning: {}", crate::escape::text(w));
    }
    let path = crate::escape::path(&plan.path);
    if plan.unchanged {
        crate::output::println(&format!(
            "{path} already holds {}: nothing to change.",
            plan.hash
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    if !args.yes {
        let kept = match plan.file {
            identity::HashFile::Missing => "",
            identity::HashFile::Regular { .. } => " (the current file is kept as a backup)",
        };
        crate::cmd::confirm::confirm(
            &format!(
                "Your owner hash is {}.\nAdopt {} by writing it to {path}{kept}?",
                crate::escape::text(&plan.before),
                plan.hash
            ),
            Error::new(
                ErrorKind::Refused,
                format!(
                    "adopting {} would replace {path}, and there is no terminal to confirm it; nothing was changed",
                    plan.hash
                ),
            )
            .with_help(format!(
                "run `kubectl konduktor identity adopt {} --yes`",
                plan.hash
            )),
            Error::new(ErrorKind::Refused, "adopt cancelled; nothing was changed"),
        )?;
    }
    let done = identity::adopt(&plan, jiff::Timestamp::now()).map_err(adopt_error)?;
    let backup = match &done.backup {
        Some(b) => crate::escape::path(b),
        None => "none (there was no file)".to_string(),
    };
    crate::output::print(&format!(
        "Adopted owner hash {hash}.\n  before:  {}\n  now:     {hash} (file {path})\n  backup:  {backup}\nKonduktor's CLI reads the same file, so it uses {hash} from now on too.\n",
        crate::escape::text(&plan.before),
        hash = plan.hash
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn adopt_error(e: AdoptError) -> Error {
    let kind = match &e {
        AdoptError::NotAHash(_) | AdoptError::Unusable { .. } => ErrorKind::Input,
        AdoptError::Overridden { .. } | AdoptError::Changed { .. } => ErrorKind::Refused,
        AdoptError::NoHome | AdoptError::Write { .. } => ErrorKind::Identity,
    };
    Error::new(kind, e.to_string()).with_help(e.help())
}
