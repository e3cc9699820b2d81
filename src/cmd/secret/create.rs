//! `secret create`: write one secret exactly as Konduktor's CLI does, merging
//! into the caller's existing one of the same name, and keeping at most one
//! `git-ssh` secret per owner.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::cluster::Cluster;
use crate::cmd::prelude::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::konduktor::{self, DesiredSecret, LiveSecret, SecretKind};
use crate::secrets::execute;
use crate::secrets::manifest::Desired;
use crate::secrets::plan::{self, Action, Change};
use crate::secrets::sources::{self, Source};

pub const EXAMPLES: &str = "Examples:
  # A file as a secret; in a job it appears as $KONDUKTOR_DEFAULT_SECRETS/hf-token/token.txt
  kubectl konduktor secret create --from-file ./token.txt hf-token

  # A whole folder (zipped into one key, unpacked in the job)
  kubectl konduktor secret create --from-directory ./creds cloud-creds

  # Environment variables for every job
  kubectl konduktor secret create --kind env --inline WANDB_API_KEY=... --inline WANDB_MODE=online wandb

  # See what would be written, without a cluster (values are never shown)
  kubectl konduktor secret create --dry-run --from-directory ./creds cloud-creds

  # The SSH key jobs use for git (replaces your previous git-ssh secret)
  kubectl konduktor secret create --kind git-ssh --from-file ~/.ssh/id_ed25519 github";

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// What the secret is for: `default` (files in the job), `env` (environment variables), `git-ssh` (an SSH key for git)
    #[arg(long, default_value = "default", value_parser = kind_parser())]
    pub kind: SecretKind,
    /// A file; its base name becomes the key (repeat for several files; `gitkey` for git-ssh)
    #[arg(long = "from-file", value_name = "FILE")]
    pub from_file: Vec<PathBuf>,
    /// A directory, zipped into the single key `payload.zip`
    #[arg(long = "from-directory", value_name = "DIR")]
    pub from_directory: Vec<PathBuf>,
    /// A KEY=VALUE pair (repeat for several keys)
    #[arg(long, value_name = "KEY=VALUE")]
    pub inline: Vec<String>,
    /// Print the Secret that would be written (values redacted) without contacting the cluster
    #[arg(long)]
    pub dry_run: bool,
    /// The secret's name: lowercase letters, digits and `-`
    pub name: String,
}

/// The kinds, listed for `--help` and shell completion.
fn kind_parser() -> impl clap::builder::TypedValueParser<Value = SecretKind> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(SecretKind::ALL.map(SecretKind::as_str))
        .try_map(|s: String| s.parse::<SecretKind>())
}

impl CreateArgs {
    /// Exactly one kind of source, with every input rule checked before any
    /// file is read.
    fn source(&self) -> Result<Source> {
        let mut given = Vec::new();
        if !self.from_file.is_empty() {
            given.push("--from-file");
        }
        if !self.from_directory.is_empty() {
            given.push("--from-directory");
        }
        if !self.inline.is_empty() {
            given.push("--inline");
        }
        match given.as_slice() {
            [] => Err(Error::input("no source given for the secret")
                .with_help("give exactly one of --from-file, --from-directory or --inline")),
            [_] if self.from_directory.len() > 1 => {
                Err(Error::input("--from-directory is given more than once")
                    .with_help("a secret holds one directory; create one secret per directory"))
            }
            [_] if !self.from_file.is_empty() => Ok(Source::Files(self.from_file.clone())),
            [_] if !self.from_directory.is_empty() => {
                Ok(Source::Directory(self.from_directory[0].clone()))
            }
            [_] => {
                let pairs = self
                    .inline
                    .iter()
                    .map(|raw| sources::parse_inline(raw))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Source::Inline(pairs))
            }
            several => Err(Error::input(format!(
                "several sources given: {}",
                several.join(" and ")
            ))
            .with_help("give exactly one of --from-file, --from-directory or --inline")),
        }
    }
}

/// What happened to the secret, for the report line.
enum Outcome {
    Created,
    Merged {
        added: Vec<String>,
        updated: Vec<String>,
        kept: Vec<String>,
        relabelled: bool,
    },
    Unchanged,
}

pub async fn run(ctx: &Context, args: &CreateArgs) -> Result<ExitCode> {
    // Everything local first: nothing reaches the cluster unless it is valid.
    if args.name.contains('=') {
        // Most likely a KEY=VALUE pair that lost its --inline: never echo it.
        return Err(Error::input(
            "the secret name looks like a KEY=VALUE pair (not shown, it may hold a value)",
        )
        .with_help("put --inline before each KEY=VALUE pair, and the secret's name last"));
    }
    konduktor::validate_name(&args.name, args.kind)?;
    let source = args.source()?;
    // Checks kind against source, keys, and the 1 MiB limit as it reads.
    let data = sources::collect(args.kind, &source).map_err(|e| e.named(&args.name))?;
    konduktor::validate_size(&args.name, &data)?;
    let owner = crate::cmd::prelude::owner()?;
    crate::konduktor::identity::fits_object_names(&owner)?;
    let desired = DesiredSecret {
        basename: args.name.clone(),
        kind: args.kind,
        data,
    };

    if args.dry_run {
        print!("{}", dry_run_preview(&desired, &owner.hash)?);
        return Ok(ExitCode::SUCCESS);
    }

    let cluster = crate::cmd::prelude::connect(ctx).await?;
    let previous_git_ssh = if desired.kind == SecretKind::GitSsh {
        let selector = format!(
            "{},{}={}",
            Cluster::owner_selector(&owner.hash),
            konduktor::LABEL_KIND,
            SecretKind::GitSsh
        );
        cluster.list_secrets(Some(&selector)).await?
    } else {
        Vec::new()
    };

    let object_name = konduktor::object_name(&desired.basename, &owner.hash);
    let outcome = write(&cluster, &desired, &owner.hash).await?;
    let keys = desired.data.keys().cloned().collect::<Vec<_>>().join(", ");
    match outcome {
        Outcome::Created => println!(
            "secret \"{}\" created ({object_name}, kind {}, keys: {keys})",
            desired.basename, desired.kind
        ),
        Outcome::Unchanged => println!("secret \"{}\" unchanged ({object_name})", desired.basename),
        Outcome::Merged {
            added,
            updated,
            kept,
            relabelled,
        } => {
            let mut parts = Vec::new();
            for (label, list) in [("added", added), ("updated", updated), ("kept", kept)] {
                if !list.is_empty() {
                    parts.push(format!("{label}: {}", list.join(", ")));
                }
            }
            if relabelled {
                parts.push(format!("kind now {}", desired.kind));
            }
            println!(
                "secret \"{}\" merged into {object_name} ({})",
                desired.basename,
                parts.join("; ")
            );
        }
    }

    // One git-ssh secret per owner: the old one goes once the new one is in.
    for old in previous_git_ssh.iter().filter(|s| s.name != object_name) {
        cluster.delete_secret(&old.name, old.uid.clone(), old.resource_version.clone()).await.map_err(|e| {
            Error::new(e.kind, format!("the new git-ssh secret is in place, but the previous one ({}) was not removed: {e}", old.name))
                .with_help("run the command again, or delete it with `kubectl konduktor secret delete`")
        })?;
        println!(
            "removed the previous git-ssh secret \"{}\" ({})",
            old.display_name(),
            old.name
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The object as YAML, each value replaced by its size. Client-side only: it
/// cannot tell whether the write would create or merge.
fn dry_run_preview(desired: &DesiredSecret, owner_hash: &str) -> Result<String> {
    let mut object = serde_json::to_value(desired.to_object(owner_hash))
        .map_err(|e| Error::new(ErrorKind::Server, format!("cannot render the object: {e}")))?;
    object["data"] = desired
        .data
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                serde_json::Value::String(format!("<redacted, {} bytes>", v.len())),
            )
        })
        .collect::<serde_json::Map<_, _>>()
        .into();
    let yaml = crate::output::to_data(&object, crate::output::Format::Yaml)?;
    Ok(format!(
        "# Client-side dry run: the cluster was not contacted. If {} exists, the keys are merged into it.\n{yaml}",
        konduktor::object_name(&desired.basename, owner_hash)
    ))
}

/// Create, or on AlreadyExists merge into the existing object, if it is ours.
async fn write(cluster: &Cluster, desired: &DesiredSecret, owner_hash: &str) -> Result<Outcome> {
    let object = desired.to_object(owner_hash);
    match cluster.create_secret(&object).await {
        Ok(_) => return Ok(Outcome::Created),
        Err(e) if e.kind == ErrorKind::Conflict => {}
        Err(e) => return Err(e),
    }
    let name = konduktor::object_name(&desired.basename, owner_hash);
    // It existed a moment ago; if it is gone now, someone deleted it meanwhile.
    let live = cluster.get_secret(&name).await?.ok_or_else(|| {
        Error::new(
            ErrorKind::Conflict,
            format!("secret {name} changed while it was being written"),
        )
        .with_help("run the command again")
    })?;
    if !live.is_owned_by(owner_hash) {
        return Err(foreign(&live, owner_hash, &cluster.namespace));
    }
    merge(cluster, desired, &live, owner_hash).await
}

fn foreign(live: &LiveSecret, owner_hash: &str, namespace: &str) -> Error {
    let holder = match live.owner() {
        Some(other) => format!("owned by {other}"),
        None => "not made by Konduktor".to_string(),
    };
    Error::new(
        ErrorKind::Foreign,
        format!("a Secret named {} already exists in namespace {namespace} and is {holder}, not by you ({owner_hash}); it is left untouched", live.name),
    )
    .with_help("choose another name for your secret")
}

/// Konduktor's merge: keys added or overwritten, none removed, kind
/// relabelled. Planned exactly as `apply` plans it (so a re-zipped folder
/// with the same content is unchanged), then written the same way.
async fn merge(
    cluster: &Cluster,
    desired: &DesiredSecret,
    live: &LiveSecret,
    owner_hash: &str,
) -> Result<Outcome> {
    let plan = plan::plan(
        &[Desired::Present(desired.clone())],
        std::slice::from_ref(live),
        owner_hash,
        false,
    );
    plan.refuse_oversized()?;
    let Some(s) = plan.secrets.first().filter(|s| s.action == Action::Merge) else {
        return Ok(Outcome::Unchanged);
    };
    execute::merge_one(cluster, s, desired, owner_hash).await?;
    let keys = |change: Change| {
        s.keys
            .iter()
            .filter(|k| k.change == change)
            .map(|k| k.key.clone())
            .collect::<Vec<_>>()
    };
    Ok(Outcome::Merged {
        added: keys(Change::Added),
        updated: keys(Change::Changed),
        kept: keys(Change::Kept),
        relabelled: s.relabel_from.is_some(),
    })
}
