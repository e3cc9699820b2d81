//! What every command shares, as cargo's `command_prelude`: the context
//! built from the global flags, `-o`, and the first steps most commands
//! take. A leaf of the command layer: it imports the core, never `cli` or
//! another command, so dependencies run one way (`cli` -> `cmd` -> core).

use clap::ValueEnum;

use crate::cluster::{Cluster, ConnectOptions};
use crate::error::Result;
use crate::konduktor::identity::{IdentityInputs, Owner, resolve_owner};
use crate::output::Format;
use crate::secrets::plan::Plan;

/// How to reach the cluster, from the global flags. (Colour is decided
/// once for the process, in `cli`.)
#[derive(Debug, Clone)]
pub struct Context {
    pub connect: ConnectOptions,
}

/// `-o` for commands that print data.
#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum OutputArg {
    #[default]
    Text,
    Json,
    Yaml,
}

impl From<OutputArg> for Format {
    fn from(o: OutputArg) -> Self {
        match o {
            OutputArg::Text => Format::Text,
            OutputArg::Json => Format::Json,
            OutputArg::Yaml => Format::Yaml,
        }
    }
}

/// The caller's owner identity, from this process's environment.
pub fn owner() -> Result<Owner> {
    let owner = resolve_owner(&IdentityInputs::from_process())?;
    crate::log::log(2, || {
        format!(
            "owner hash {} ({}), user {}",
            owner.hash, owner.source, owner.username
        )
    });
    Ok(owner)
}

pub async fn connect(ctx: &Context) -> Result<Cluster> {
    Cluster::connect(&ctx.connect).await
}

/// Parse, validate and load a manifest (nothing sent), then read the
/// caller's live secrets with one LIST and plan. Shared by diff and apply.
pub async fn plan_manifest(
    ctx: &Context,
    file: &std::path::Path,
    prune: bool,
) -> Result<(Plan, Cluster)> {
    let manifest = crate::secrets::manifest::read(file)?;
    let owner = owner()?;
    crate::konduktor::identity::fits_object_names(&owner)?;
    manifest.check_owner(&owner)?;
    let desired = crate::secrets::manifest::load_here(&manifest)?;
    let cluster = connect(ctx).await?;
    let live = cluster
        .list_secrets(Some(&Cluster::owner_selector(&owner.hash)))
        .await?;
    let plan = crate::secrets::plan::plan(&desired, &live, &owner.hash, prune);
    plan.refuse_oversized()?;
    Ok((plan, cluster))
}
