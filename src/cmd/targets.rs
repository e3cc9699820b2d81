//! Several targets for `diff` and `apply`: `--context a --context b`,
//! `--context a,b`, or `--all-contexts` (every context of Konduktor's
//! `kubernetes.allowed_contexts`, docs/konduktor-compat.md §5.4). A target
//! is a context and its namespace (`-n` applies to every target). One
//! target takes the single-cluster path, unchanged.
//!
//! The manifest is read, the owner checked and the values loaded once; the
//! targets' secrets are then read concurrently (one LIST each, plus its
//! pages), and each is planned on its own.

use std::path::Path;

use serde::Serialize;

use crate::cluster::Cluster;
use crate::cmd::prelude::{self, CommandsArg, Context};
use crate::error::{Error, ErrorKind, Result};
use crate::secrets::plan::view::{self as plan_view, ViewOptions};
use crate::secrets::plan::{Plan, Summary};

/// How many targets are read at once: three clusters cost one round trip,
/// a hundred a few, and never a descriptor per target.
pub const READS_AT_ONCE: usize = 16;

/// `--all-contexts`, for the commands that take several targets.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct AllContextsArg {
    /// Every context of `kubernetes.allowed_contexts` in Konduktor's config, each a target
    #[arg(long)]
    pub all_contexts: bool,
}

/// The contexts this run works on: `None` for the single target of today
/// (no context, or one), else two or more, in the order given.
///
/// # Errors
///
/// `--all-contexts` with `--context`, or without a Konduktor config
/// listing contexts.
pub fn contexts(ctx: &Context, all: AllContextsArg) -> Result<Option<Vec<String>>> {
    let named = if all.all_contexts {
        if !ctx.contexts.is_empty() {
            return Err(Error::new(
                ErrorKind::Usage,
                "--all-contexts and --context both name the targets",
            )
            .with_help("give one of them"));
        }
        let config = prelude::konduktor_config()?;
        let listed = config
            .map(|c| c.allowed_contexts.clone())
            .unwrap_or_default();
        if listed.is_empty() {
            let help = match config {
                Some(c) => format!(
                    "list them under `kubernetes.allowed_contexts` in {}, or name them with --context a,b",
                    crate::escape::path(&c.path)
                ),
                None => "list them under `kubernetes.allowed_contexts` in Konduktor's config (~/.konduktor/config.yaml), or name them with --context a,b".to_string(),
            };
            return Err(Error::new(
                ErrorKind::Usage,
                "--all-contexts: Konduktor's config lists no `kubernetes.allowed_contexts`",
            )
            .with_help(help));
        }
        let mut unique: Vec<String> = Vec::new();
        for c in listed {
            if !unique.contains(&c) {
                unique.push(c);
            }
        }
        unique
    } else {
        ctx.contexts.clone()
    };
    Ok((named.len() > 1).then_some(named))
}

/// The context for a single target: the one `--all-contexts` found, if so.
pub fn single(ctx: &Context, all: AllContextsArg) -> Result<Context> {
    let mut one = ctx.clone();
    if all.all_contexts {
        // `contexts` said there is exactly one.
        let config = prelude::konduktor_config()?;
        one.connect.context = config.and_then(|c| c.allowed_contexts.first().cloned());
    }
    Ok(one)
}

/// Where a target is: its context, namespace and server.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TargetInfo {
    pub context: String,
    pub namespace: String,
    pub server: String,
}

impl TargetInfo {
    fn of(cluster: &Cluster) -> Self {
        TargetInfo {
            context: cluster.context.clone(),
            namespace: cluster.namespace.clone(),
            server: cluster.server.clone(),
        }
    }

    /// A target whose credentials could not be had (a credential plugin
    /// that failed, an expired login): its context alone is known.
    fn unconnected(context: &str) -> Self {
        TargetInfo {
            context: context.to_string(),
            namespace: String::new(),
            server: String::new(),
        }
    }

    /// `e`, its hint saying which target it is about.
    pub fn name_in(&self, e: Error) -> Error {
        let note = format!("target: context `{}`", self.context);
        let help = match e.hint() {
            Some(h) => format!("{h} ({note})"),
            None => note,
        };
        e.with_help(help)
    }

    /// The header line of this target's part of a plan.
    pub fn header(&self) -> String {
        if self.server.is_empty() {
            return format!(
                "Target: context `{}` (not connected)",
                crate::escape::text(&self.context)
            );
        }
        format!(
            "Target: context `{}`, namespace `{}`, server {}",
            crate::escape::text(&self.context),
            crate::escape::text(&self.namespace),
            crate::escape::text(&self.server)
        )
    }
}

/// One target, planned, or why it could not be read.
pub struct TargetPlan {
    pub target: TargetInfo,
    /// None when no credentials could be had for it (then `plan` is the
    /// error).
    pub cluster: Option<Cluster>,
    pub plan: std::result::Result<Plan, Error>,
}

impl TargetPlan {
    /// Its plan and cluster, when it was read.
    pub fn ready(&self) -> Option<(&Plan, &Cluster)> {
        Some((self.plan.as_ref().ok()?, self.cluster.as_ref()?))
    }
}

/// Read the manifest, check the owner and connect to every target (a
/// kubeconfig entry that is not usable stops the run: nothing read or
/// run), load the values once, then read every target's secrets at once
/// and plan each.
pub async fn plan_manifest(
    ctx: &Context,
    contexts: &[String],
    file: &Path,
    prune: bool,
    commands: CommandsArg,
) -> Result<Vec<TargetPlan>> {
    let manifest = crate::secrets::manifest::read(file)?;
    let owner = prelude::owner()?;
    crate::konduktor::identity::fits_object_names(&owner)?;
    // One owner everywhere: a mismatch stops every target.
    manifest.check_owner(&owner)?;
    // A kubeconfig entry that is not usable stops every target; one whose
    // credentials cannot be had (a credential plugin that fails or hangs,
    // an expired login) is a target that cannot be read, as one whose
    // server does not answer.
    let mut clusters: Vec<std::result::Result<Cluster, (String, Error)>> =
        Vec::with_capacity(contexts.len());
    for context in contexts {
        let mut one = ctx.clone();
        one.connect.context = Some(context.clone());
        one.contexts = vec![context.clone()];
        match prelude::connect(&one).await {
            Ok(mut cluster) => {
                cluster.name_context_in_logs();
                clusters.push(Ok(cluster));
            }
            Err(e) if unusable_entry(&e) => {
                let note = format!(
                    "the target `{}` cannot be reached from the kubeconfig: nothing was read on any target",
                    crate::escape::text(context)
                );
                return Err(e.with_help_note(&note));
            }
            Err(e) => clusters.push(Err((context.clone(), e))),
        }
    }
    refuse_one_namespace_twice(&clusters)?;
    // Programs run once, after every target's kubeconfig entry proved usable.
    let desired = crate::secrets::manifest::load_here(&manifest, commands.allowed())?;
    let selector = Cluster::owner_selector(&owner.hash);
    // At most READS_AT_ONCE targets read at a time, in order: a long
    // `allowed_contexts` must not run out of file descriptors (which
    // would read as a network failure).
    use futures::StreamExt as _;
    let reads = clusters.iter().map(|c| async {
        match c {
            Ok(c) => c.list_secrets(Some(&selector)).await,
            Err((_, e)) => Err(e.clone()),
        }
    });
    let lives: Vec<_> = futures::stream::iter(reads)
        .buffered(READS_AT_ONCE)
        .collect()
        .await;
    // The key that tells where a change came from, as for one target.
    let key = prelude::digest_key_for_origins();
    let mut planned = Vec::with_capacity(clusters.len());
    for (cluster, live) in clusters.into_iter().zip(lives) {
        let plan = live.and_then(|live| {
            let plan = crate::secrets::plan::plan_with_key(
                &desired,
                &live,
                &owner.hash,
                prune,
                key.as_ref(),
            );
            plan.refuse_oversized()?;
            Ok(plan)
        });
        planned.push(match cluster {
            Ok(cluster) => TargetPlan {
                target: TargetInfo::of(&cluster),
                cluster: Some(cluster),
                plan,
            },
            Err((context, _)) => TargetPlan {
                target: TargetInfo::unconnected(&context),
                cluster: None,
                plan,
            },
        });
    }
    Ok(planned)
}

/// Whether a connection failed on the kubeconfig itself (a file, entry or
/// namespace that is not usable), which stops every target, rather than
/// on getting credentials from it.
fn unusable_entry(e: &Error) -> bool {
    matches!(
        e.kind,
        ErrorKind::Kubeconfig | ErrorKind::Usage | ErrorKind::Identity | ErrorKind::Input
    )
}

/// Two contexts that reach one namespace of one server are one target
/// twice: its plan would be counted, asked and carried out twice.
fn refuse_one_namespace_twice(
    clusters: &[std::result::Result<Cluster, (String, Error)>],
) -> Result<()> {
    let mut seen: std::collections::BTreeMap<(&str, &str), &str> =
        std::collections::BTreeMap::new();
    for c in clusters.iter().filter_map(|c| c.as_ref().ok()) {
        if let Some(first) = seen.insert((&c.server, &c.namespace), &c.context) {
            return Err(Error::new(
                ErrorKind::Usage,
                format!(
                    "the contexts `{first}` and `{}` reach the same namespace `{}` on {}: one target named twice; nothing was read",
                    c.context, c.namespace, c.server
                ),
            )
            .with_help("name one of them"));
        }
    }
    Ok(())
}

/// The sum of the targets' summaries (failed targets count for nothing).
pub fn total(plans: &[TargetPlan]) -> Summary {
    let mut total = Summary::default();
    for p in plans {
        if let Ok(plan) = &p.plan {
            let s = plan.summary;
            total.create += s.create;
            total.merge += s.merge;
            total.delete += s.delete;
            total.unchanged += s.unchanged;
            total.conflict += s.conflict;
            total.terminating += s.terminating;
        }
    }
    total
}

/// The text plan, grouped by target: each a header, its plan and summary
/// line; then a total line.
pub fn render(plans: &[TargetPlan], opts: ViewOptions) -> String {
    let mut out = String::new();
    for p in plans {
        out.push_str(&p.target.header());
        out.push('\n');
        match &p.plan {
            Ok(plan) => out.push_str(&plan_view::render(plan, opts)),
            Err(e) => out.push_str(&format!("Not read: {}\n", crate::escape::text(e.message()))),
        }
        out.push('\n');
    }
    out.push_str(&total_line(plans));
    out.push('\n');
    out
}

/// `Total over 3 targets: ...`, and how many could not be read.
pub fn total_line(plans: &[TargetPlan]) -> String {
    let t = total(plans);
    let waiting = if t.terminating > 0 {
        format!(", {} terminating", t.terminating)
    } else {
        String::new()
    };
    let failed = plans.iter().filter(|p| p.plan.is_err()).count();
    let failed = if failed > 0 {
        format!(
            "; {} not read",
            crate::output::count(failed, "target", "targets")
        )
    } else {
        String::new()
    };
    format!(
        "Total over {}: {} to create, {} to merge, {} to delete, {} unchanged{waiting}{failed}.",
        crate::output::count(plans.len(), "target", "targets"),
        t.create,
        t.merge,
        t.delete,
        t.unchanged
    )
}

/// One target in `-o json`/`yaml`: where, and its plan or its error.
#[derive(Debug, Serialize)]
pub struct TargetEntry<'a> {
    pub target: &'a TargetInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<&'a Plan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl<'a> TargetEntry<'a> {
    pub fn of(p: &'a TargetPlan) -> Self {
        TargetEntry {
            target: &p.target,
            plan: p.plan.as_ref().ok(),
            error: p.plan.as_ref().err().map(|e| e.message().to_string()),
        }
    }
}

/// The plans of every target, as `diff -o json` prints them.
#[derive(Debug, Serialize)]
pub struct Plans<'a> {
    pub targets: Vec<TargetEntry<'a>>,
    pub total: Summary,
}

impl<'a> Plans<'a> {
    pub fn of(plans: &'a [TargetPlan]) -> Self {
        Plans {
            targets: plans.iter().map(TargetEntry::of).collect(),
            total: total(plans),
        }
    }
}

/// A failed target's diagnostic on stderr, naming the target.
pub fn report_failures(plans: &[TargetPlan]) {
    // As `--color` decided for stderr (`cli` told `console`).
    let color = console::colors_enabled_stderr();
    for p in plans {
        if let Err(e) = &p.plan {
            let named = p.target.name_in(e.clone());
            eprint!("{}", crate::output::diagnostic(&named, color));
        }
    }
}
