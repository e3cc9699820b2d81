//! `whoami`: the owner hash and where it came from, the cleaned username,
//! context, namespace, and who the API server says we are.

use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use crate::cli::{Context, OutputArg};
use crate::cluster::ClusterUser;
use crate::error::Result;
use crate::identity::HashSource;
use crate::output::{Format, to_data};

#[derive(Debug, Args)]
pub struct WhoamiArgs {
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputArg::Text)]
    pub output: OutputArg,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct WhoamiReport {
    owner_hash: String,
    owner_hash_source: HashSource,
    username: String,
    context: String,
    namespace: String,
    server: String,
    /// `None` when the server could not tell (old server, RBAC, unreachable).
    cluster_user: Option<ClusterUser>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_user_error: Option<String>,
}

pub async fn run(ctx: &Context, args: &WhoamiArgs) -> Result<ExitCode> {
    let owner = super::owner()?;
    let cluster = super::connect(ctx).await?;
    // The owner hash is local; not knowing the cluster user is not fatal.
    let (cluster_user, cluster_user_error) = match cluster.whoami().await {
        Ok(user) => (Some(user), None),
        Err(e) => (None, Some(e.message().to_string())),
    };
    let report = WhoamiReport {
        owner_hash: owner.hash,
        owner_hash_source: owner.source,
        username: owner.username,
        context: cluster.context.clone(),
        namespace: cluster.namespace.clone(),
        server: cluster.server.clone(),
        cluster_user,
        cluster_user_error,
    };
    match Format::from(args.output) {
        Format::Text => print!("{}", text(&report)),
        format => print!("{}", to_data(&report, format)?),
    }
    Ok(ExitCode::SUCCESS)
}

fn text(r: &WhoamiReport) -> String {
    let cluster_user = match (&r.cluster_user, &r.cluster_user_error) {
        (Some(u), _) if u.groups.is_empty() => u.username.clone(),
        (Some(u), _) => format!("{} (groups: {})", u.username, u.groups.join(", ")),
        (None, Some(e)) => format!("unknown ({e})"),
        (None, None) => "unknown".into(),
    };
    format!(
        "Owner hash:    {}\n  from:        {}\nUsername:      {}\nContext:       {}\nNamespace:     {}\nServer:        {}\nCluster user:  {}\n",
        r.owner_hash,
        r.owner_hash_source,
        if r.username.is_empty() {
            "(unknown)"
        } else {
            &r.username
        },
        r.context,
        r.namespace,
        r.server,
        cluster_user
    )
}
