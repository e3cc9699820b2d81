//! `render-job`'s core: a Konduktor task file ([`task`]) and the Job it
//! runs as, with the caller's secrets injected ([`inject`]). The caller's
//! secrets come from a manifest ([`secrets_from_manifest`], no request) or
//! from the cluster ([`secrets_from_cluster`], one LIST).

pub mod inject;
pub mod task;

use std::path::Path;

use crate::cluster::Cluster;
use crate::error::Error;
use crate::konduktor::identity::Owner;
use crate::render::inject::{Gathered, InjectedSecret};
use crate::secrets::manifest::{self, Desired};

/// The secrets a manifest declares present, as they would be injected for
/// `owner`. Reads the files it names once the manifest's `owner:`, if any,
/// is `owner` ([`manifest::Manifest::check_owner`]); sends nothing.
pub fn secrets_from_manifest(
    path: &Path,
    owner: &Owner,
    allow_commands: bool,
) -> Result<Gathered, Error> {
    let manifest = manifest::read(path)?;
    manifest.check_owner(owner)?;
    let secrets = manifest::load_here(&manifest, allow_commands)?
        .into_iter()
        .filter_map(|d| match d {
            Desired::Present(s) => Some(InjectedSecret::from_desired(s, &owner.hash)),
            Desired::Absent { .. } => None,
        })
        .collect();
    Ok(Gathered {
        secrets,
        warnings: Vec::new(),
    })
}

/// The secrets of `owner_hash` on the cluster, as Konduktor injects them.
pub async fn secrets_from_cluster(cluster: &Cluster, owner_hash: &str) -> Result<Gathered, Error> {
    // Checked, not trusted to the server's selecting: only the caller's
    // secrets are injected.
    let live = cluster
        .list_secrets(Some(&Cluster::owner_selector(owner_hash)))
        .await?
        .into_iter()
        .filter(|s| s.is_owned_by(owner_hash))
        .collect();
    Ok(inject::gather_live(live))
}
