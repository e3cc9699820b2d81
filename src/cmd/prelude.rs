//! What every command shares, as cargo's `command_prelude`: the context
//! built from the global flags, `-o`, and the first steps most commands
//! take. A leaf of the command layer: it imports the core, never `cli` or
//! another command, so dependencies run one way (`cli` -> `cmd` -> core).

use clap::ValueEnum;

use crate::cluster::{Cluster, ClusterUser, ConnectOptions};
use crate::error::Result;
use crate::konduktor::WriteMeta;
use crate::konduktor::candidates::{self, Candidates};
use crate::konduktor::config::CustomMetadata;
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

/// The caller's other owner hashes (docs/konduktor-compat.md §2.4), for a hint: who the
/// server says we are (unless `user` is known already), then one
/// metadata-only LIST of Konduktor secrets. `None` when either fails (a
/// hint is not worth an error; logged at -v).
pub async fn other_identities(
    cluster: &Cluster,
    owner_hash: &str,
    user: Option<&ClusterUser>,
) -> Option<Candidates> {
    let asked;
    let user = match user {
        Some(u) => u,
        None => match cluster.whoami().await {
            Ok(u) => {
                asked = u;
                &asked
            }
            Err(e) => {
                crate::log::log(1, || {
                    format!("cannot look for your other owner hashes: {}", e.message())
                });
                return None;
            }
        },
    };
    if user.username.is_empty() {
        return None;
    }
    match cluster.list_konduktor_metadata(false).await {
        Ok(secrets) => Some(candidates::find(&secrets, &user.username, owner_hash)),
        Err(e) => {
            crate::log::log(1, || {
                format!("cannot look for your other owner hashes: {}", e.message())
            });
            None
        }
    }
}

/// Print the hint about the caller's other owner hashes, if there is one.
pub fn hint_other_identities(found: Option<&Candidates>) {
    if let Some(hint) = found.and_then(Candidates::hint) {
        eprintln!("{hint}");
    }
}

/// What the writes of this run add to each object (docs/konduktor-compat.md
/// §5.1): who the cluster says we are, asked once (a SelfSubjectReview),
/// and the configuration's custom metadata. A server that cannot say (no
/// review API before 1.28, or RBAC) leaves `created-by` out: the writes go on.
pub async fn write_meta(cluster: &Cluster, custom: CustomMetadata) -> WriteMeta {
    let created_by = match cluster.whoami().await {
        Ok(user) if !user.username.is_empty() => Some(user.username),
        Ok(_) => {
            crate::log::log(1, || {
                "the server named no user: secrets are written without a created-by annotation"
                    .to_string()
            });
            None
        }
        Err(e) => {
            crate::log::log(1, || {
                format!(
                    "cannot ask the server who we are ({}): secrets are written without a created-by annotation",
                    e.message()
                )
            });
            None
        }
    };
    WriteMeta { created_by, custom }
}

/// Parse, validate and load a manifest (nothing sent), then read the
/// caller's live secrets with one LIST and plan. Shared by diff and apply.
pub async fn plan_manifest(
    ctx: &Context,
    file: &std::path::Path,
    prune: bool,
) -> Result<(Plan, Cluster)> {
    let desired = crate::secrets::manifest::read_and_load(file)?;
    let owner = owner()?;
    crate::konduktor::identity::fits_object_names(&owner)?;
    let cluster = connect(ctx).await?;
    let live = cluster
        .list_secrets(Some(&Cluster::owner_selector(&owner.hash)))
        .await?;
    let plan = crate::secrets::plan::plan(&desired, &live, &owner.hash, prune);
    plan.refuse_oversized()?;
    Ok((plan, cluster))
}
