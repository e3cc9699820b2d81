//! `identity export [HASH]`: the shell line that pins an owner hash in a
//! profile, `export KONDUKTOR_USER_ID=<hash>` (docs/konduktor-compat.md
//! §2.1). Local: no cluster, no request.

use std::process::ExitCode;

use clap::Args;

use crate::cmd::prelude::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::konduktor::identity::{self, ENV_USER_ID};

pub const EXAMPLES: &str = "Examples:
  # Pin this machine's owner hash in your shell profile
  kubectl konduktor identity export >> ~/.bashrc

  # Pin another one (e.g. from `kubectl konduktor identity candidates`)
  kubectl konduktor identity export 0123abcd >> ~/.bashrc

  # Use it in this shell now
  eval \"$(kubectl konduktor identity export)\"

Only the line goes to stdout; where the hash came from goes to stderr as a
comment. KONDUKTOR_USER_ID wins over ~/.konduktor/user_hash, for this tool
and for Konduktor's CLI.";

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Print this owner hash (8 lowercase hex characters) instead of yours
    #[arg(value_name = "HASH", value_parser = identity::parse_owner_hash)]
    pub hash: Option<String>,
}

pub async fn run(_ctx: &Context, args: &ExportArgs) -> Result<ExitCode> {
    let (hash, from) = match &args.hash {
        Some(hash) => (hash.clone(), "given on the command line".to_string()),
        None => {
            let owner = crate::cmd::prelude::owner()?;
            (owner.hash, owner.source.to_string())
        }
    };
    // Konduktor's CLI would take `ABBA3A3E` from the variable; this tool
    // would not, and the two would part ways.
    if !identity::is_owner_hash(&hash) {
        return Err(Error::new(
            ErrorKind::Identity,
            format!("your owner hash `{hash}` ({from}) is not 8 lowercase hex characters, so {ENV_USER_ID} cannot carry it"),
        )
        .with_help("adopt the lowercase form on every machine (`kubectl konduktor identity adopt HASH`), or export it here (`kubectl konduktor identity export HASH`)"));
    }
    eprintln!("# owner hash {hash}: {}", crate::escape::text(&from));
    crate::output::println(&format!("export {ENV_USER_ID}={hash}"))?;
    Ok(ExitCode::SUCCESS)
}
