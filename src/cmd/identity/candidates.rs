//! `identity candidates [-A]`: the owner hashes whose secrets your cluster
//! user wrote (docs/konduktor-compat.md §2.4), to pick one for `identity adopt`.

use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use crate::cmd::prelude::{self, Context, OutputArg};
use crate::error::{Error, ErrorKind, Result};
use crate::konduktor::candidates::{self, Candidates};
use crate::output::{self, Format};

pub const EXAMPLES: &str = "Examples:
  # Owner hashes with secrets your cluster user wrote, in this namespace
  kubectl konduktor identity candidates

  # In every namespace you may list
  kubectl konduktor identity candidates -A

  # Then use one of them from this workstation
  kubectl konduktor identity adopt 0123abcd";

#[derive(Debug, Args)]
pub struct CandidatesArgs {
    /// Look in every namespace (needs permission to list secrets cluster-wide)
    #[arg(short = 'A', long = "all-namespaces")]
    pub all_namespaces: bool,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputArg::Text)]
    pub output: OutputArg,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CandidatesReport {
    /// `None` with `-A`.
    namespace: Option<String>,
    owner_hash: String,
    #[serde(flatten)]
    found: Candidates,
}

pub async fn run(ctx: &Context, args: &CandidatesArgs) -> Result<ExitCode> {
    let owner = prelude::owner()?;
    let cluster = prelude::connect(ctx).await?;
    let user = cluster.whoami().await.map_err(|e| {
        Error::new(
            e.kind,
            format!(
                "cannot tell which cluster user you are: {}",
                e.message()
            ),
        )
        .with_help("finding your owner hashes needs the SelfSubjectReview API (Kubernetes 1.28 or newer) and permission to use it, which every authenticated user has by default")
    })?;
    if user.username.is_empty() {
        return Err(Error::new(
            ErrorKind::Server,
            "the API server did not say which user you are",
        ));
    }
    let secrets = cluster.list_konduktor_metadata(args.all_namespaces).await?;
    let login = crate::konduktor::identity::IdentityInputs::from_process().login;
    let found = candidates::find(&secrets, &user.username, &owner.hash, login.as_deref());
    let namespace = (!args.all_namespaces).then(|| cluster.namespace.clone());
    match Format::from(args.output) {
        Format::Text => output::print(&text(
            &found,
            &owner.hash,
            namespace.as_deref(),
            jiff::Timestamp::now(),
        ))?,
        format => {
            let report = CandidatesReport {
                namespace,
                owner_hash: owner.hash,
                found,
            };
            output::print(&output::to_data(&report, format)?)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn text(
    found: &Candidates,
    current: &str,
    namespace: Option<&str>,
    now: jiff::Timestamp,
) -> String {
    let user = candidates::shown_user(&found.cluster_user);
    let place = match namespace {
        Some(ns) => format!("namespace {}", crate::escape::text(ns)),
        None => "any namespace you may list".to_string(),
    };
    if found.candidates.is_empty() {
        return format!(
            "No secrets written by the cluster user \"{user}\" in {place} (secrets made before kubectl-konduktor recorded their writer, or by Konduktor's CLI, cannot be attributed).\nYour owner hash here is {current}.\n"
        );
    }
    let mut headers = vec![
        "OWNER HASH",
        "SECRETS",
        "LAST WRITE",
        "WRITTEN FROM",
        "ADOPT",
    ];
    if namespace.is_none() {
        headers.push("NAMESPACES");
    }
    let rows: Vec<Vec<String>> = found
        .candidates
        .iter()
        .map(|c| {
            let hash = if c.current {
                format!("{} (current)", c.hash)
            } else {
                c.hash.clone()
            };
            let written = c.newest_write.map_or("<unknown>".to_string(), |t| {
                format!("{} ago", output::age(now.as_second() - t.as_second()))
            });
            let adopt = match (&c.not_suggested, c.current) {
                (_, true) => "-".to_string(),
                (None, false) => "suggested".to_string(),
                (Some(why), false) => format!("not suggested: {why}"),
            };
            let mut row = vec![hash, c.secrets.to_string(), written, written_from(c), adopt];
            if namespace.is_none() {
                let namespaces: Vec<String> = c
                    .namespaces
                    .iter()
                    .map(|(ns, n)| format!("{}({n})", crate::escape::text(ns)))
                    .collect();
                row.push(namespaces.join(","));
            }
            row
        })
        .collect();
    let mut out = format!(
        "Owner hashes with secrets written by the cluster user \"{user}\" in {place}:\n\n{}",
        output::table(&headers, &rows)
    );
    if found.shared {
        let spread = if found.logins > 1 {
            format!("from {} workstation logins", found.logins)
        } else {
            format!("under {} owner hashes", found.candidates.len())
        };
        out.push_str(&format!(
            "\nThe cluster user \"{user}\" wrote secrets {spread}: several people seem to share it.\n"
        ));
    }
    if found.suggested().next().is_some() {
        out.push_str(
            "\nTo use a suggested one from this workstation (and in Konduktor's CLI): kubectl konduktor identity adopt <hash>\n",
        );
    } else if found.others().next().is_some() {
        out.push_str(
            "\nNone is suggested: a hash is suggested only where every secret under it was written by your cluster user from your workstation login. `identity adopt HASH` shows whose secrets it would take over before it asks.\n",
        );
    }
    out
}

/// The logins recorded as writers, for a table cell (at most three named),
/// and how many secrets record no writer at all.
fn written_from(c: &candidates::Candidate) -> String {
    const SHOWN: usize = 3;
    let mut ids: Vec<String> = c
        .writers
        .iter()
        .take(SHOWN)
        .map(|w| match &w.user_id {
            Some(id) => candidates::shown_user(id),
            None => "<not recorded>".to_string(),
        })
        .collect();
    ids.dedup();
    let hidden = c.writers.len().saturating_sub(SHOWN);
    if c.writers_cut {
        ids.push(format!("+{hidden} and more"));
    } else if hidden > 0 {
        ids.push(format!("+{hidden}"));
    }
    if c.unrecorded > 0 {
        ids.push(format!("{} with no writer", c.unrecorded));
    }
    ids.join(",")
}
