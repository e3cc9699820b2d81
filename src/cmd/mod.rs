//! One module per subcommand. Each parses nothing itself: it gets its clap
//! arguments and the shared [`crate::cli::Context`], and drives the core.

pub mod apply;
pub mod completion;
pub mod diff;
pub mod render_job;
pub mod secret;
pub mod whoami;

use crate::cli::Context;
use crate::cluster::Cluster;
use crate::error::Result;
use crate::konduktor::identity::{IdentityInputs, Owner, resolve_owner};

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
) -> Result<(crate::secrets::plan::Plan, Cluster)> {
    let manifest = crate::secrets::manifest::read(file)?;
    let desired =
        crate::secrets::manifest::load(&manifest, &crate::secrets::manifest::process_env)?;
    crate::log::log(1, || {
        format!("{}: {} secret(s) declared", file.display(), desired.len())
    });
    let owner = owner()?;
    crate::konduktor::identity::fits_object_names(&owner)?;
    let cluster = connect(ctx).await?;
    let live = cluster
        .list_secrets(Some(&Cluster::owner_selector(&owner.hash)))
        .await?;
    let plan = crate::secrets::plan::plan(&desired, &live, &owner.hash, prune);
    refuse_oversized(&plan)?;
    Ok((plan, cluster))
}

/// The API server would refuse a Secret over 1 MiB: say so before sending.
pub fn refuse_oversized(plan: &crate::secrets::plan::Plan) -> Result<()> {
    match plan.oversized() {
        None => Ok(()),
        Some((s, size)) => Err(crate::error::Error::input(format!(
            "secret \"{}\" would hold {size} bytes after this change; a Secret holds at most {} (1 MiB)",
            s.name,
            crate::konduktor::MAX_SECRET_BYTES
        ))
        .with_help("keys in the cluster are kept unless removed: use --prune (apply) or delete the secret first, or split the data over several secrets")),
    }
}
