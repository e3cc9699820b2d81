//! `identity adopt HASH`: make HASH this machine's owner hash, for this tool
//! and Konduktor's CLI, by writing `~/.konduktor/user_hash`
//! (docs/konduktor-compat.md §2.3, §2.4). Before it asks, it shows the
//! secrets under HASH in the namespace (names, writers, times: one
//! SelfSubjectReview and one metadata-only LIST, no value fetched); a
//! cluster that cannot be reached is said, and the file is still local.

use std::process::ExitCode;

use clap::Args;

use crate::cmd::prelude::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::konduktor::candidates;
use crate::konduktor::identity::{self, AdoptError, IdentityInputs};
use crate::output;

pub const EXAMPLES: &str = "Examples:
  # Use the owner hash of your secrets made on another workstation
  kubectl konduktor identity adopt 0123abcd

  # The same, without asking (no terminal, e.g. in a script)
  kubectl konduktor identity adopt 0123abcd --yes

The hash is written to ~/.konduktor/user_hash, which Konduktor's CLI reads
too; the previous file is kept as user_hash.bak-<UTC time> beside it.
First it lists the secrets under HASH in the namespace, with who wrote
them and when: adopting a hash lets this workstation change and delete them.
`kubectl konduktor identity candidates` lists the hashes your cluster user
wrote secrets under.";

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// The owner hash to use from now on (8 lowercase hex characters)
    #[arg(value_name = "HASH", value_parser = identity::parse_owner_hash)]
    pub hash: String,
    /// Do not ask before replacing the file
    #[arg(short = 'y', long)]
    pub yes: bool,
}

pub async fn run(ctx: &Context, args: &AdoptArgs) -> Result<ExitCode> {
    let plan = identity::prepare_adopt(&IdentityInputs::from_process(), &args.hash)
        .map_err(adopt_error)?;
    for w in &plan.warnings {
        eprintln!("warning: {}", crate::escape::text(w));
    }
    let path = crate::escape::path(&plan.path);
    if plan.unchanged {
        crate::output::println(&format!(
            "{path} already holds {}: nothing to change.",
            plan.hash
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    let found = secrets_under(ctx, &plan.hash).await;
    let caution = match &found {
        Ok(takeover) => {
            crate::output::print(&takeover.text(jiff::Timestamp::now()))?;
            takeover.caution()
        }
        Err(why) => {
            eprintln!(
                "warning: cannot list the secrets under {} ({}): adopting it takes over whatever is there",
                plan.hash,
                crate::escape::text(why)
            );
            None
        }
    };
    if args.yes {
        if let Some(caution) = &caution {
            eprintln!("warning: {caution}");
        }
    } else {
        let caution = caution.map_or(String::new(), |c| format!("\n{c}"));
        let kept = match plan.file {
            identity::HashFile::Missing => "",
            identity::HashFile::Regular { .. } => " (the current file is kept as a backup)",
        };
        crate::cmd::confirm::confirm(
            format!(
                "{caution}\nYour owner hash is {}.\nAdopt {} by writing it to {path}{kept}?",
                crate::escape::text(&plan.before),
                plan.hash
            )
            .trim_start(),
            Error::new(
                ErrorKind::Refused,
                format!(
                    "adopting {} would replace {path}, and there is no terminal to confirm it; nothing was changed",
                    plan.hash
                ),
            )
            .with_help(format!(
                "run `kubectl konduktor identity adopt {} --yes`",
                plan.hash
            )),
            Error::new(ErrorKind::Refused, "adopt cancelled; nothing was changed"),
        )?;
    }
    let done = identity::adopt(&plan, jiff::Timestamp::now()).map_err(adopt_error)?;
    let backup = match &done.backup {
        Some(b) => crate::escape::path(b),
        None => "none (there was no file)".to_string(),
    };
    crate::output::print(&format!(
        "Adopted owner hash {hash}.\n  before:  {}\n  now:     {hash} (file {path})\n  backup:  {backup}\nKonduktor's CLI reads the same file, so it uses {hash} from now on too.\n",
        crate::escape::text(&plan.before),
        hash = plan.hash
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// The secrets under `hash` in the namespace, and who the caller is, or
/// why they cannot be told. Bounded in time: a slow cluster does not hold
/// up a local change.
async fn secrets_under(ctx: &Context, hash: &str) -> std::result::Result<Takeover, String> {
    const DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);
    let lookup = async {
        let cluster = crate::cmd::prelude::connect(ctx)
            .await
            .map_err(|e| e.message().to_string())?;
        let me = cluster.whoami().await.ok().map(|u| u.username);
        let secrets = cluster
            .list_konduktor_metadata(false)
            .await
            .map_err(|e| e.message().to_string())?;
        Ok(Takeover {
            hash: hash.to_string(),
            namespace: cluster.namespace.clone(),
            secrets: secrets
                .into_iter()
                .filter(|s| s.owner.as_deref() == Some(hash))
                .collect(),
            cluster_user: me.filter(|u| !u.is_empty()),
            login: IdentityInputs::from_process().login,
        })
    };
    tokio::time::timeout(DEADLINE, lookup)
        .await
        .unwrap_or_else(|_| Err("no answer within 10s".to_string()))
}

/// What adopting a hash takes over in this namespace.
struct Takeover {
    hash: String,
    namespace: String,
    secrets: Vec<crate::konduktor::SecretMetadata>,
    /// Who the cluster says we are, if it said.
    cluster_user: Option<String>,
    /// This workstation's login.
    login: Option<String>,
}

/// The most secrets listed by name.
const MAX_LISTED: usize = 50;

impl Takeover {
    /// Why these may be another person's secrets, if they may: some were
    /// written by another login or cluster user than ours, or record no
    /// writer at all (as Konduktor's CLI writes them), so nothing says
    /// they are ours (docs/konduktor-compat.md §2.4). Every secret counts,
    /// not only those listed.
    fn caution(&self) -> Option<String> {
        let others = self
            .secrets
            .iter()
            .filter(|s| {
                let other_user = matches!(
                    (&s.created_by, &self.cluster_user),
                    (Some(writer), Some(me)) if writer != me
                );
                let other_login = s
                    .created_by_user_id
                    .as_deref()
                    .is_some_and(|id| identity::login_of_user_id(id) != self.login.as_deref());
                other_user || other_login
            })
            .count();
        let unrecorded = self
            .secrets
            .iter()
            .filter(|s| s.created_by.is_none())
            .count();
        let mut lines = Vec::new();
        if others > 0 {
            lines.push(format!(
                "{} written by someone else (another login or cluster user): they may be another person's.",
                candidates::plural(others, "secret")
            ));
        }
        if unrecorded > 0 {
            lines.push(format!(
                "{} no record of who wrote {}: {} be another person's.",
                match unrecorded {
                    1 => "1 secret has".to_string(),
                    n => format!("{n} secrets have"),
                },
                if unrecorded == 1 { "it" } else { "them" },
                if unrecorded == 1 {
                    "it may"
                } else {
                    "they may"
                },
            ));
        }
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    fn text(&self, now: jiff::Timestamp) -> String {
        let ns = crate::escape::text(&self.namespace);
        if self.secrets.is_empty() {
            return format!(
                "No secrets under owner hash {} in namespace {ns}.\n",
                self.hash
            );
        }
        let rows: Vec<Vec<String>> = self
            .secrets
            .iter()
            .take(MAX_LISTED)
            .map(|s| {
                let writer = match (&s.created_by, &s.created_by_user_id) {
                    (Some(user), id) => candidates::Writer {
                        cluster_user: user.clone(),
                        user_id: id.clone(),
                    }
                    .shown(),
                    (None, _) => "<not recorded>".to_string(),
                };
                let written = s.last_write.map_or("<unknown>".to_string(), |t| {
                    format!("{} ago", output::age(now.as_second() - t.as_second()))
                });
                vec![crate::escape::text(&s.name).into_owned(), writer, written]
            })
            .collect();
        let mut out = format!(
            "Secrets under owner hash {} in namespace {ns} (adopting it lets this workstation change and delete them):\n\n{}",
            self.hash,
            output::table(&["NAME", "WRITTEN BY", "LAST WRITE"], &rows)
        );
        if self.secrets.len() > MAX_LISTED {
            out.push_str(&format!("and {} more\n", self.secrets.len() - MAX_LISTED));
        }
        out
    }
}

fn adopt_error(e: AdoptError) -> Error {
    let kind = match &e {
        AdoptError::NotAHash(_) | AdoptError::Unusable { .. } => ErrorKind::Input,
        AdoptError::Overridden { .. } | AdoptError::Changed { .. } => ErrorKind::Refused,
        AdoptError::NoHome | AdoptError::Write { .. } => ErrorKind::Identity,
    };
    Error::new(kind, e.to_string()).with_help(e.help())
}
