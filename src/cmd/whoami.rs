//! `whoami`: the owner hash and where it came from, the cleaned username,
//! context, namespace, and who the API server says we are.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use crate::cluster::ClusterUser;
use crate::cmd::prelude::{self, Context, OutputArg};
use crate::error::{Error, Result};
use crate::konduktor::candidates::Candidates;
use crate::konduktor::config::ConfigInputs;
use crate::konduktor::identity::HashSource;
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
    /// The Konduktor config file that applied (or that is broken); `None`
    /// when there is none.
    konduktor_config: Option<PathBuf>,
    /// Why that file cannot be used: its problems, located. Commands that
    /// connect or write stop on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    konduktor_config_error: Option<Vec<String>>,
    /// `None` when no kubeconfig could be used (see `cluster_error`).
    context: Option<String>,
    namespace: Option<String>,
    server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_error: Option<String>,
    /// `None` when the server could not tell (old server, RBAC, unreachable).
    cluster_user: Option<ClusterUser>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_user_error: Option<String>,
    /// Owner hashes whose secrets in this namespace the cluster user wrote
    /// (docs/konduktor-compat.md §2.4); `None` when that could not be looked up.
    #[serde(skip_serializing_if = "Option::is_none")]
    owner_candidates: Option<Candidates>,
}

/// One target's part of `whoami` with several contexts: the owner hash is
/// the same everywhere, the cluster user is each cluster's own.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TargetIdentity {
    context: Option<String>,
    namespace: Option<String>,
    server: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_error: Option<String>,
    cluster_user: Option<ClusterUser>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_user_error: Option<String>,
}

/// `whoami` with several contexts, as `-o json` prints it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TargetsReport {
    owner_hash: String,
    owner_hash_source: HashSource,
    username: String,
    konduktor_config: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    konduktor_config_error: Option<Vec<String>>,
    targets: Vec<TargetIdentity>,
}

pub async fn run(ctx: &Context, args: &WhoamiArgs) -> Result<ExitCode> {
    let owner = prelude::owner()?;
    let mut report = WhoamiReport {
        owner_hash: owner.hash,
        owner_hash_source: owner.source,
        username: owner.username,
        konduktor_config: None,
        konduktor_config_error: None,
        context: None,
        namespace: None,
        server: None,
        cluster_error: None,
        cluster_user: None,
        cluster_user_error: None,
        owner_candidates: None,
    };
    // A broken config is shown here, not fatal: whoami is where one looks
    // when something is wrong. Without it, which context applies is not
    // known, so nothing is sent.
    let config = prelude::konduktor_config();
    match &config {
        Ok(c) => report.konduktor_config = c.map(|c| c.path.clone()),
        Err(e) => {
            report.konduktor_config = ConfigInputs::from_process()
                .candidate()
                .map(|c| c.path)
                .filter(|p| !p.as_os_str().is_empty());
            report.konduktor_config_error = Some(problems(e));
        }
    }
    if ctx.contexts.len() > 1 {
        return run_targets(ctx, report, config.is_ok(), args).await;
    }
    // The owner hash is local: show it even without a usable kubeconfig or
    // a reachable server, and say why the rest is unknown.
    match connect_unless_config_broke(ctx, config.is_ok()).await {
        Err(e) => report.cluster_error = Some(e.message().to_string()),
        Ok(cluster) => {
            report.context = Some(cluster.context.clone());
            report.namespace = Some(cluster.namespace.clone());
            report.server = Some(cluster.server.clone());
            match cluster.whoami().await {
                Ok(user) => {
                    report.owner_candidates =
                        prelude::other_identities(&cluster, &report.owner_hash, Some(&user)).await;
                    report.cluster_user = Some(user);
                }
                Err(e) => report.cluster_user_error = Some(e.message().to_string()),
            }
        }
    }
    match Format::from(args.output) {
        Format::Text => crate::output::print(&text(&report))?,
        format => crate::output::print(&to_data(&report, format)?)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The cluster of `ctx`; nothing is sent when Konduktor's config file has
/// a problem (the report says so instead).
async fn connect_unless_config_broke(
    ctx: &Context,
    config_ok: bool,
) -> Result<crate::cluster::Cluster> {
    if !config_ok {
        return Err(Error::input(
            "not connected: Konduktor's config file has a problem",
        ));
    }
    prelude::connect(ctx).await
}

/// An error's message and those of the problems found with it: each a
/// line that names the file, line and column.
fn problems(e: &Error) -> Vec<String> {
    match e.related() {
        [] => vec![e.message().to_string()],
        related => related.iter().map(|r| r.message().to_string()).collect(),
    }
}

/// The owner part of the report: the same on every cluster.
fn owner_text(r: &WhoamiReport) -> String {
    // Each value escaped where it is placed: a line break inside a user
    // name from the cluster must not start a line of its own.
    let esc = |s: &str| crate::escape::text(s).into_owned();
    let username = if r.username.is_empty() {
        "(unknown)".to_string()
    } else {
        esc(&r.username)
    };
    let mut out = format!(
        "Owner hash:    {}\n  from:        {}\nUsername:      {username}\n",
        esc(&r.owner_hash),
        r.owner_hash_source
    );
    let config = r
        .konduktor_config
        .as_ref()
        .map_or_else(|| "none".to_string(), |p| crate::escape::path(p));
    match &r.konduktor_config_error {
        None => out.push_str(&format!("Konduktor config: {config}\n")),
        Some(problems) => {
            out.push_str(&format!("Konduktor config: {config} (broken)\n"));
            for p in problems {
                out.push_str(&format!("  error: {}\n", esc(p)));
            }
        }
    }
    out
}

/// The report for a terminal: every value escaped (a context, server or
/// user name comes from a kubeconfig or the cluster).
fn text(r: &WhoamiReport) -> String {
    let mut out = owner_text(r);
    out.push_str(&cluster_text(r));
    out
}

/// The cluster part of the report: where, and who the server says we are.
fn cluster_text(r: &WhoamiReport) -> String {
    let mut out = String::new();
    let esc = |s: &str| crate::escape::text(s).into_owned();
    let unknown = |v: &Option<String>| match (v, &r.cluster_error) {
        (Some(v), _) => esc(v),
        (None, Some(e)) => format!("unknown ({})", esc(e)),
        (None, None) => "unknown".into(),
    };
    let cluster_user = match (&r.cluster_user, &r.cluster_user_error) {
        (Some(u), _) if u.groups.is_empty() => esc(&u.username),
        (Some(u), _) => format!(
            "{} (groups: {})",
            esc(&u.username),
            esc(&u.groups.join(", "))
        ),
        (None, Some(e)) => format!("unknown ({})", esc(e)),
        (None, None) => "unknown".into(),
    };
    if r.cluster_error.is_some() {
        out.push_str(&format!("Cluster:       {}\n", unknown(&None)));
        return out;
    }
    out.push_str(&format!(
        "Context:       {}\nNamespace:     {}\nServer:        {}\nCluster user:  {cluster_user}\n",
        unknown(&r.context),
        unknown(&r.namespace),
        unknown(&r.server)
    ));
    if let Some(hint) = r.owner_candidates.as_ref().and_then(Candidates::hint) {
        out.push_str(&hint);
        out.push('\n');
    }
    out
}

/// `whoami --context a --context b`: the owner once, then who each
/// cluster says we are (asked at once).
async fn run_targets(
    ctx: &Context,
    report: WhoamiReport,
    config_ok: bool,
    args: &WhoamiArgs,
) -> Result<ExitCode> {
    let ask = ctx.contexts.iter().map(|context| async move {
        let mut one = ctx.clone();
        one.connect.context = Some(context.clone());
        one.contexts = vec![context.clone()];
        let mut t = TargetIdentity {
            context: Some(context.clone()),
            namespace: None,
            server: None,
            cluster_error: None,
            cluster_user: None,
            cluster_user_error: None,
        };
        match connect_unless_config_broke(&one, config_ok).await {
            Err(e) => t.cluster_error = Some(e.message().to_string()),
            Ok(cluster) => {
                t.context = Some(cluster.context.clone());
                t.namespace = Some(cluster.namespace.clone());
                t.server = Some(cluster.server.clone());
                match cluster.whoami().await {
                    Ok(user) => t.cluster_user = Some(user),
                    Err(e) => t.cluster_user_error = Some(e.message().to_string()),
                }
            }
        }
        t
    });
    let targets = futures::future::join_all(ask).await;
    match Format::from(args.output) {
        Format::Text => {
            let mut out = owner_text(&report);
            for t in &targets {
                let part = WhoamiReport {
                    context: t.context.clone(),
                    namespace: t.namespace.clone(),
                    server: t.server.clone(),
                    cluster_error: t.cluster_error.clone(),
                    cluster_user: t.cluster_user.clone(),
                    cluster_user_error: t.cluster_user_error.clone(),
                    owner_candidates: None,
                    owner_hash: String::new(),
                    owner_hash_source: report.owner_hash_source.clone(),
                    username: String::new(),
                    konduktor_config: None,
                    konduktor_config_error: None,
                };
                if part.cluster_error.is_some() {
                    out.push_str(&format!(
                        "Context:       {}\n",
                        crate::escape::text(&ctx_name(t))
                    ));
                }
                out.push_str(&cluster_text(&part));
            }
            crate::output::print(&out)?;
        }
        format => {
            let all = TargetsReport {
                owner_hash: report.owner_hash,
                owner_hash_source: report.owner_hash_source,
                username: report.username,
                konduktor_config: report.konduktor_config,
                konduktor_config_error: report.konduktor_config_error,
                targets,
            };
            crate::output::print(&to_data(&all, format)?)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn ctx_name(t: &TargetIdentity) -> String {
    t.context.clone().unwrap_or_default()
}
