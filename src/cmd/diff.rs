//! `diff -f secrets.yaml`: what apply would do. Exit status as `kubectl
//! diff`: 0 no changes, 1 changes, above 1 on error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::cmd::prelude::{self, Context, OutputArg};
use crate::cmd::targets;
use crate::error::Result;
use crate::output::{Format, to_data};
use crate::secrets::plan::saved::{SavedPlan, SavedTarget, SavedTargets, Target};
use crate::secrets::plan::view::{self as plan_view, ViewOptions};

pub const EXAMPLES: &str = "Examples:
  # What would change
  kubectl konduktor diff -f secrets.yaml

  # Also show changed text values as a unified diff (prints secrets!)
  kubectl konduktor diff -f secrets.yaml --show-secrets

  # Include deletions of your secrets and keys that are not in the file
  kubectl konduktor diff -f secrets.yaml --prune

  # Save the reviewed plan; apply carries out exactly it, or nothing
  kubectl konduktor diff -f secrets.yaml --out plan.json
  kubectl konduktor apply -f secrets.yaml --plan plan.json

  # One plan for two clusters (or every context of Konduktor's config)
  kubectl konduktor diff -f secrets.yaml --context train,infer
  kubectl konduktor diff -f secrets.yaml --all-contexts

  # Review both once, then carry out exactly that on both
  kubectl konduktor diff -f secrets.yaml --context train,infer --out plan.json
  kubectl konduktor apply -f secrets.yaml --context train,infer --plan plan.json

Exit status: 0 no changes, 1 changes, 2 or more on error (on any target).";

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The manifest (secrets.yaml)
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub file: PathBuf,
    /// Also delete your secrets and keys that the manifest does not list
    #[arg(long)]
    pub prune: bool,
    #[command(flatten)]
    pub commands: crate::cmd::prelude::CommandsArg,
    #[command(flatten)]
    pub targets: crate::cmd::targets::AllContextsArg,
    /// Show changed text values as a unified diff
    #[arg(long)]
    pub show_secrets: bool,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputArg::Text)]
    pub output: OutputArg,
    /// Save the plan to FILE (digests of values, never a value), for `apply --plan FILE`; `-`: the plan on standard output, the review on standard error
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Replace FILE if it exists
    #[arg(long, requires = "out")]
    pub force: bool,
}

pub async fn run(ctx: &Context, args: &DiffArgs) -> Result<ExitCode> {
    if let Some(contexts) = targets::contexts(ctx, args.targets)? {
        return run_targets(ctx, &contexts, args).await;
    }
    let ctx = &targets::single(ctx, args.targets)?;
    // Refused before anything is read or asked; the digest key too (made
    // on first use), so that a plan is never left half-made.
    let key = match &args.out {
        Some(out) => {
            SavedPlan::check_out(out, args.force)?;
            Some(prelude::digest_key_or_create()?)
        }
        None => None,
    };
    let (plan, cluster) =
        crate::cmd::prelude::plan_manifest(ctx, &args.file, args.prune, args.commands).await?;
    if let (Some(out), Some(key)) = (&args.out, &key) {
        save(&plan, &cluster, &args.file, key, out, args.force)?;
    }
    // With `--out -` standard output holds the plan alone.
    let plan_on_stdout = args
        .out
        .as_deref()
        .is_some_and(crate::input::file::is_stdout);
    let show = |text: &str| -> Result<(), crate::error::Error> {
        if plan_on_stdout {
            eprint!("{text}");
            Ok(())
        } else {
            crate::output::print(text)
        }
    };
    match Format::from(args.output) {
        Format::Text => {
            show(&plan_view::render(
                &plan,
                ViewOptions {
                    show_secrets: args.show_secrets,
                },
            ))?;
            // A second workstation's first diff: say where the secrets are.
            if plan.found_none_of_yours() {
                let found = prelude::other_identities(&cluster, &plan.owner, None).await;
                prelude::hint_other_identities(found.as_ref());
            }
        }
        format => show(&to_data(&plan, format)?)?,
    }
    Ok(if plan.has_changes() || plan.has_conflicts() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Several targets: one plan, read at once, grouped by target. Exit 2 when
/// any target could not be read, else 1 when anything would change.
async fn run_targets(ctx: &Context, contexts: &[String], args: &DiffArgs) -> Result<ExitCode> {
    // As for one target: refused before anything is read or asked.
    let key = match &args.out {
        Some(out) => {
            SavedPlan::check_out(out, args.force)?;
            Some(prelude::digest_key_or_create()?)
        }
        None => None,
    };
    let plans =
        targets::plan_manifest(ctx, contexts, &args.file, args.prune, args.commands).await?;
    let failed = plans.iter().any(|p| p.plan.is_err());
    if let (Some(out), Some(key)) = (&args.out, &key) {
        // A plan covers every target or is not saved: `apply --plan`
        // refuses another set of targets.
        if !failed {
            save_targets(&plans, &args.file, key, out, args.force)?;
        }
    }
    let plan_on_stdout = args
        .out
        .as_deref()
        .is_some_and(crate::input::file::is_stdout);
    let shown = match Format::from(args.output) {
        Format::Text => targets::render(
            &plans,
            ViewOptions {
                show_secrets: args.show_secrets,
            },
        ),
        format => to_data(&targets::Plans::of(&plans), format)?,
    };
    if plan_on_stdout {
        eprint!("{shown}");
    } else {
        crate::output::print(&shown)?;
    }
    targets::report_failures(&plans);
    if let (Some(out), true) = (&args.out, failed) {
        eprintln!(
            "No plan was saved to `{}`: a saved plan covers every target, and not every target could be read.",
            crate::escape::path(out)
        );
    }
    let changes = plans
        .iter()
        .filter_map(|p| p.plan.as_ref().ok())
        .any(|p| p.has_changes() || p.has_conflicts());
    Ok(match (failed, changes) {
        (true, _) => ExitCode::from(2),
        (false, true) => ExitCode::from(1),
        (false, false) => ExitCode::SUCCESS,
    })
}

/// Save the reviewed plans of every target as one file for `apply
/// --plan`, and say how to apply it.
fn save_targets(
    plans: &[targets::TargetPlan],
    manifest: &Path,
    key: &crate::konduktor::digest_key::DigestKey,
    out: &Path,
    force: bool,
) -> Result<()> {
    let mut saved = Vec::with_capacity(plans.len());
    for p in plans {
        let Some((plan, cluster)) = p.ready() else {
            continue;
        };
        let salt = crate::secrets::plan::saved::new_salt()?;
        saved.push(SavedTarget {
            context: p.target.context.clone(),
            plan: SavedPlan::new(plan, &Target::of(plan, cluster), manifest, key, &salt),
        });
    }
    let saved = SavedTargets::new(saved);
    saved.write(out, force)?;
    say_saved(
        &format!(
            "Plan for {}",
            crate::output::count(plans.len(), "target", "targets")
        ),
        &format!(
            "kubectl konduktor apply -f {} --context {} --plan",
            crate::escape::path(manifest),
            saved.context_flag()
        ),
        out,
    );
    Ok(())
}

/// Say where `what` went and how to carry it out (`apply` then the file).
fn say_saved(what: &str, apply: &str, out: &Path) {
    if crate::input::file::is_stdout(out) {
        eprintln!(
            "{what} written to standard output; save it to a file, then carry it out with: {apply} FILE"
        );
    } else {
        let out = crate::escape::path(out);
        eprintln!("{what} saved to `{out}`; carry it out with: {apply} {out}");
    }
}

/// Save the reviewed plan for `apply --plan`, and say how to apply it.
fn save(
    plan: &crate::secrets::plan::Plan,
    cluster: &crate::cluster::Cluster,
    manifest: &Path,
    key: &crate::konduktor::digest_key::DigestKey,
    out: &Path,
    force: bool,
) -> Result<()> {
    let salt = crate::secrets::plan::saved::new_salt()?;
    SavedPlan::new(plan, &Target::of(plan, cluster), manifest, key, &salt).write(out, force)?;
    say_saved(
        "Plan",
        &format!(
            "kubectl konduktor apply -f {} --plan",
            crate::escape::path(manifest)
        ),
        out,
    );
    Ok(())
}
