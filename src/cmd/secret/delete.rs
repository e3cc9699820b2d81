//! `secret delete NAME`: only the caller's secret with that basename, with UID
//! and resourceVersion preconditions so a replaced object is never deleted.

use std::process::ExitCode;

use clap::Args;

use crate::cluster::Cluster;
use crate::cmd::prelude::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::konduktor::{self, SecretKind};

pub const EXAMPLES: &str = "Examples:
  # Delete your secret named hf-token (only yours: other users' are never touched)
  kubectl konduktor secret delete hf-token";

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The secret's name, as given to `secret create`
    pub name: String,
}

pub async fn run(ctx: &Context, args: &DeleteArgs) -> Result<ExitCode> {
    // Any kind allows up to 63 characters; this also keeps the selector sound.
    konduktor::validate_name(&args.name, SecretKind::Env)?;
    let owner = crate::cmd::prelude::owner()?;
    let cluster = crate::cmd::prelude::connect(ctx).await?;
    let selector = format!(
        "{},{}={}",
        Cluster::owner_selector(&owner.hash),
        konduktor::LABEL_BASENAME,
        args.name
    );
    let mine = cluster.list_secrets(Some(&selector)).await?;
    if mine.is_empty() {
        // Only on this error path: is the name someone else's? Say so, never act.
        let others = cluster
            .list_secrets(Some(&format!(
                "{}={}",
                konduktor::LABEL_BASENAME,
                args.name
            )))
            .await?;
        let mut err = Error::new(
            ErrorKind::NotFound,
            format!(
                "you own no secret named \"{}\" in namespace {} (owner {}, user {})",
                args.name, cluster.namespace, owner.hash, owner.username
            ),
        );
        err = if others.is_empty() {
            err.with_help("see your secrets with `kubectl konduktor secret list`")
        } else {
            err.with_help(format!(
                "{} other user(s) have a secret with that name; only its owner can delete it (see `kubectl konduktor secret list -u`)",
                others.len()
            ))
        };
        return Err(err);
    }
    for secret in &mine {
        cluster
            .delete_secret(
                &secret.name,
                secret.uid.clone(),
                secret.resource_version.clone(),
            )
            .await?;
        println!("secret \"{}\" deleted ({})", args.name, secret.name);
    }
    Ok(ExitCode::SUCCESS)
}
