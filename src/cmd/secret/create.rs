//! `secret create`: write one secret exactly as Konduktor's CLI does, merging
//! into the caller's existing one of the same name, and keeping at most one
//! `git-ssh` secret per owner.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::cmd::prelude::Context;
use crate::error::{Error, Result};
use crate::konduktor::{self, DesiredSecret, SecretKind, WriteMeta};
use crate::secrets::imperative::create;
use crate::secrets::manifest::sources::{self, Source};

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
    /// The secret to write, read and checked before anything reaches the
    /// cluster: name, source, kind against source, keys, the 1 MiB limit.
    /// What was typed (name, sources, kind against source, inline keys)
    /// fails as a usage error (exit 2); a file that cannot be read, as input.
    fn desired(&self) -> Result<DesiredSecret> {
        if self.name.contains('=') {
            // Most likely a KEY=VALUE pair that lost its --inline: never echo it.
            return Err(Error::usage(
                "the secret name looks like a KEY=VALUE pair (not shown, it may hold a value)",
            )
            .with_help("put --inline before each KEY=VALUE pair, and the secret's name last"));
        }
        konduktor::validate_name(&self.name, self.kind).map_err(|e| Error::from(e).as_usage())?;
        let source = self.source().map_err(Error::as_usage)?;
        sources::check_kind_source(self.kind, &source)
            .map_err(|e| Error::from(e.named(&self.name)).as_usage())?;
        let typed = matches!(source, Source::Inline(_));
        let data = sources::collect(self.kind, &source).map_err(|e| {
            let e = Error::from(e.named(&self.name));
            if typed { e.as_usage() } else { e }
        })?;
        konduktor::validate_size(&self.name, &data)?;
        Ok(DesiredSecret {
            origins: Default::default(),
            basename: self.name.clone(),
            kind: self.kind,
            data,
        })
    }

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

pub async fn run(ctx: &Context, args: &CreateArgs) -> Result<ExitCode> {
    let desired = args.desired()?;
    let owner = crate::cmd::prelude::owner()?;
    crate::konduktor::identity::fits_object_names(&owner)?;
    if args.dry_run {
        let meta = WriteMeta {
            custom: crate::cmd::prelude::custom_metadata()?,
            // A preview shows no digest of a value.
            digest_key: None,
            ..WriteMeta::default()
        };
        crate::output::print(&create::dry_run_preview(&desired, &owner.hash, &meta)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    crate::output::refuse_if_closed()?;
    let cluster = crate::cmd::prelude::connect(ctx).await?;
    let meta = crate::cmd::prelude::write_meta(&cluster).await?;
    let report = create::create_or_merge(&cluster, &desired, &owner.hash, &meta).await?;
    crate::output::print(&report.render())
        .map_err(crate::cmd::prelude::output_failed_after_writing)?;
    match report.removal_failed {
        Some(e) => Err(e),
        None => Ok(ExitCode::SUCCESS),
    }
}
