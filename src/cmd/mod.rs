//! One module per subcommand. Each parses nothing itself: it gets its clap
//! arguments and the shared [`crate::cli::Context`], and drives the core.

pub mod secret;
pub mod whoami;

use crate::cli::Context;
use crate::cluster::Cluster;
use crate::error::Result;
use crate::identity::{IdentityInputs, Owner, resolve_owner};

/// The caller's owner identity, from this process's environment.
pub fn owner() -> Result<Owner> {
    Ok(resolve_owner(&IdentityInputs::from_process())?)
}

pub async fn connect(ctx: &Context) -> Result<Cluster> {
    Cluster::connect(&ctx.connect).await
}
