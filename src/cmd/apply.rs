//! `apply -f secrets.yaml`: plan, show, confirm deletions, carry out.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use futures::StreamExt as _;
use serde::Serialize;

use crate::cluster::Cluster;
use crate::cmd::prelude::{Context, OutputArg};
use crate::cmd::targets::{self, TargetInfo, TargetPlan};
use crate::error::{Error, ErrorKind, Result};
use crate::konduktor::WriteMeta;
use crate::output::{Format, to_data};
use crate::secrets::execute::{self, Outcome};
use crate::secrets::plan::Plan;
use crate::secrets::plan::saved::{SavedPlan, SavedTargets, Target};
use crate::secrets::plan::view::{self as plan_view, ViewOptions};

pub const EXAMPLES: &str = "Examples:
  # Make the cluster match secrets.yaml (creates and merges; keys are never removed)
  kubectl konduktor apply -f secrets.yaml

  # Preview only
  kubectl konduktor apply -f secrets.yaml --dry-run

  # Also delete your secrets and keys not in the file, without asking
  kubectl konduktor apply -f secrets.yaml --prune --yes

  # Carry out exactly the plan reviewed with `diff --out plan.json`
  kubectl konduktor apply -f secrets.yaml --plan plan.json

  # The same secrets on two clusters: one plan, asked once
  kubectl konduktor apply -f secrets.yaml --context train,infer

Deletions (state: absent, --prune, a replaced git-ssh secret) are confirmed
on a terminal; elsewhere they need --yes. Running apply again converges.";

#[derive(Debug, Args)]
pub struct ApplyArgs {
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
    /// With several targets: go on without those that cannot be read (each named), instead of writing nothing
    #[arg(long)]
    pub skip_unreachable: bool,
    /// Do not ask before deleting
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Show the plan and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Show changed text values as a unified diff in the plan
    #[arg(long)]
    pub show_secrets: bool,
    /// Carry out the plan `diff --out FILE` saved, without asking, only if neither the sources nor the cluster changed since
    #[arg(long = "plan", value_name = "FILE")]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub wait: crate::cmd::prelude::WaitArgs,
    /// How many writes to send at once
    #[arg(
        long,
        value_name = "N",
        value_parser = clap::value_parser!(u8).range(1..=64),
        default_value_t = u8::try_from(execute::PARALLELISM).unwrap_or(64)
    )]
    pub parallel: u8,
    /// Output format (json/yaml: the plan and the result per secret)
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputArg::Text)]
    pub output: OutputArg,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    plan: &'a Plan,
    dry_run: bool,
    result: Vec<Outcome>,
    /// Why writing stopped part way (the server became unreachable, or
    /// the apply was interrupted).
    #[serde(skip_serializing_if = "Option::is_none")]
    stopped: Option<String>,
    /// Interrupted (SIGINT, SIGTERM): no write was started after that.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    interrupted: bool,
}

/// The exit status of an apply a signal stopped, as a shell reports a
/// command that signal ended: 128 + its number (130 for SIGINT, 143 for
/// SIGTERM, 129 for SIGHUP).
fn interrupted_status(signal: Signal) -> u8 {
    match signal {
        Signal::Int => 130,
        Signal::Term => 143,
        Signal::Hup => 129,
    }
}

/// The signals that stop an apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Int,
    Term,
    /// The terminal went away (a closed ssh session): stopped as SIGTERM
    /// is, so that the writes in flight are let finish and recorded.
    Hup,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
            Signal::Hup => "SIGHUP",
        }
    }
}

/// Where an apply is when a signal lands: it decides what stopping means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading, planning, asking: nothing is written yet, so a signal
    /// stops at once, with a record that says so.
    Planning = 0,
    /// Writes are being sent: a signal lets those in flight finish and
    /// starts no other (the summary then tells which were made).
    Writing = 1,
    /// Every write was sent; waiting for deletions a finalizer holds. A
    /// signal stops the waiting at once.
    Waiting = 2,
}

/// What the signal watcher and the apply share.
#[derive(Default)]
struct Interruption {
    phase: std::sync::atomic::AtomicU8,
    /// The first signal: 0 none, else its number.
    signal: std::sync::atomic::AtomicU8,
}

impl Interruption {
    fn set_phase(&self, phase: Phase) {
        self.phase
            .store(phase as u8, std::sync::atomic::Ordering::SeqCst);
    }

    fn phase(&self) -> Phase {
        match self.phase.load(std::sync::atomic::Ordering::SeqCst) {
            1 => Phase::Writing,
            2 => Phase::Waiting,
            _ => Phase::Planning,
        }
    }

    fn signal(&self) -> Option<Signal> {
        match self.signal.load(std::sync::atomic::Ordering::SeqCst) {
            2 => Some(Signal::Int),
            15 => Some(Signal::Term),
            1 => Some(Signal::Hup),
            _ => None,
        }
    }

    fn record(&self, signal: Signal) {
        let number = match signal {
            Signal::Int => 2,
            Signal::Term => 15,
            Signal::Hup => 1,
        };
        let _ = self.signal.compare_exchange(
            0,
            number,
            std::sync::atomic::Ordering::SeqCst,
            std::sync::atomic::Ordering::SeqCst,
        );
    }
}

/// The record `-o json`/`yaml` prints when a signal stops an apply before
/// or after its writes (during them, the full report is printed).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct StoppedReport {
    /// One target's results (none), as its report has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<Vec<Outcome>>,
    /// Several targets' entries (none), as their report has them.
    #[serde(skip_serializing_if = "Option::is_none")]
    targets: Option<Vec<TargetReport<'static>>>,
    stopped: String,
    interrupted: bool,
    signal: &'static str,
}

/// What the summary says when the apply was interrupted.
const INTERRUPTED_NOTE: &str = "interrupted: no write was started after the signal, and the writes in flight were let finish; running apply again converges";

pub async fn run(ctx: &Context, args: &ApplyArgs) -> Result<ExitCode> {
    if let Some(contexts) = targets::contexts(ctx, args.targets)? {
        return run_targets(ctx, &contexts, args).await;
    }
    let ctx = &targets::single(ctx, args.targets)?;
    // A signal may land anywhere from here on: while planning (nothing is
    // written: stop at once, with a record), while writing (stop in
    // order), while waiting on finalizers (stop at once). The handlers are
    // in place before the first request.
    let progress = std::sync::Arc::new(execute::Progress::default());
    let interruption = std::sync::Arc::new(Interruption::default());
    let watcher = tokio::spawn(watch_interrupts(
        Interrupts::new(),
        vec![progress.clone()],
        interruption.clone(),
        Format::from(args.output),
    ));
    let result = match crate::output::refuse_if_closed() {
        Ok(()) => run_watched(ctx, args, &progress, &interruption).await,
        Err(e) => Err(e),
    };
    watcher.abort();
    result
}

async fn run_watched(
    ctx: &Context,
    args: &ApplyArgs,
    progress: &std::sync::Arc<execute::Progress>,
    interruption: &Interruption,
) -> Result<ExitCode> {
    // --plan: the reviewed plan decides --prune, and is carried out only
    // if planning again gives it back (sources and cluster as reviewed).
    let saved = args.plan.as_deref().map(SavedPlan::read).transpose()?;
    // The plan's digests are checked with its key: without it, refused
    // before any source is read or program run.
    let plan_key = match (&saved, &args.plan) {
        (Some(saved), Some(path)) => {
            let key = crate::cmd::prelude::digest_key_existing()?;
            saved.check_key(key.as_ref(), path)?;
            key
        }
        _ => None,
    };
    let prune = match (&saved, &args.plan) {
        (Some(saved), Some(path)) => saved.prune_for(args.prune, path)?,
        _ => args.prune,
    };
    let (plan, cluster) =
        crate::cmd::prelude::plan_manifest(ctx, &args.file, prune, args.commands).await?;
    if let (Some(saved), Some(path)) = (&saved, &args.plan) {
        saved.verify(&plan, &Target::of(&plan, &cluster), plan_key.as_ref(), path)?;
    }
    // Deletions in a saved plan were reviewed: not asked again.
    let yes = args.yes || saved.is_some();
    let format = Format::from(args.output);
    let text = format == Format::Text;
    if text {
        let opts = ViewOptions {
            show_secrets: args.show_secrets,
        };
        // Shown before anything is written: a plan that cannot be shown
        // is not carried out.
        crate::output::print(&plan_view::render(&plan, opts))?;
    }
    plan.refuse_conflicts()?;
    let mut stopped = None;
    let mut interrupted = false;
    let result = match nothing_to_do(&plan, args.dry_run) {
        Some(note) => {
            if text {
                crate::output::println(note)?;
            }
            Vec::new()
        }
        None => {
            if plan.has_deletions()
                && !yes
                && let Err(refused) = confirm_deletions(&plan, text)
            {
                // Refused: the plan is still what -o asked for.
                if !text {
                    print_report(&plan, args.dry_run, Vec::new(), None, false, format)?;
                }
                return Err(refused);
            }
            // Before the first write: may we make every kind of write the
            // plan needs? (After the confirmation, so that a refusal for
            // want of a terminal sends nothing.)
            execute::check_access(&cluster, &plan).await?;
            crate::output::quit_if_reader_gone();
            let mut executed = carry_out(
                &cluster,
                &plan,
                text,
                args.parallel.into(),
                progress,
                interruption,
            )
            .await?;
            interruption.set_phase(Phase::Waiting);
            // Deletions a finalizer holds: waited for, as `kubectl delete` does.
            crate::secrets::execute::wait::settle(
                &cluster,
                &plan,
                &mut executed.outcomes,
                args.wait.wait(),
            )
            .await?;
            if text {
                let mut summary = execute::view::render_outcomes(&executed.outcomes);
                if let Some(e) = &executed.unreachable {
                    summary.push_str(&stopped_note(e));
                }
                if executed.interrupted {
                    summary.push_str(&format!("Apply {INTERRUPTED_NOTE}.\n"));
                }
                crate::output::print(&summary)
                    .map_err(crate::cmd::prelude::output_failed_after_writing)?;
            }
            interrupted = executed.interrupted;
            stopped = match executed.unreachable {
                Some(e) => Some(e.message().to_string()),
                None => interrupted.then(|| INTERRUPTED_NOTE.to_string()),
            };
            executed.outcomes
        }
    };
    let failed = result.iter().any(Outcome::failed);
    if !text {
        let wrote = !result.is_empty();
        print_report(&plan, args.dry_run, result, stopped, interrupted, format).map_err(|e| {
            match wrote {
                true => crate::cmd::prelude::output_failed_after_writing(e),
                false => e,
            }
        })?;
    }
    Ok(if interrupted {
        ExitCode::from(interrupted_status(
            interruption.signal().unwrap_or(Signal::Int),
        ))
    } else if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The plan and the result per secret, as `-o json` or `-o yaml`.
fn print_report(
    plan: &Plan,
    dry_run: bool,
    result: Vec<Outcome>,
    stopped: Option<String>,
    interrupted: bool,
    format: Format,
) -> Result<()> {
    let report = Report {
        plan,
        dry_run,
        result,
        stopped,
        interrupted,
    };
    crate::output::print(&to_data(&report, format)?)?;
    Ok(())
}

/// Why nothing is to be carried out, if so.
fn nothing_to_do(plan: &Plan, dry_run: bool) -> Option<&'static str> {
    if !plan.has_changes() {
        Some("No changes: the cluster matches the manifest.")
    } else if dry_run {
        Some("Dry run: nothing was changed.")
    } else {
        None
    }
}

/// Said once when the server went away part way: why writing stopped,
/// and what to do.
fn stopped_note(e: &Error) -> String {
    let mut note = format!("Stopped sending: {}.\n", e.message());
    if let Some(help) = e.hint() {
        note.push_str(&format!("  help: {help}; then run apply again\n"));
    }
    note
}

/// Execute the plan, `parallel` writes at once, with a progress line on a
/// terminal.
async fn carry_out(
    cluster: &Cluster,
    plan: &Plan,
    text: bool,
    parallel: usize,
    progress: &std::sync::Arc<execute::Progress>,
    interruption: &Interruption,
) -> Result<execute::Executed> {
    let ticker = start_progress(
        text,
        vec![ProgressPart {
            target: None,
            progress: progress.clone(),
            total: execute::steps(plan),
        }],
    );
    // Only a run that writes asks who we are: a no-op stays one request.
    let meta = if plan.secrets.iter().any(|s| s.writes_object()) {
        crate::cmd::prelude::write_meta(cluster).await?
    } else {
        WriteMeta::default()
    };
    // From here on a Ctrl-C (or SIGTERM) stops the apply in order: no new
    // write, those in flight finish, the summary is printed. One that came
    // while planning has already ended the run.
    interruption.set_phase(Phase::Writing);
    let executed = execute::execute_with(cluster, plan, &meta, progress, parallel).await;
    stop_progress(ticker);
    Ok(executed)
}

/// On the first SIGINT or SIGTERM: while writing, stop starting writes
/// and say so (the apply then prints its summary and exits 128 + the
/// signal's number); before or after the writes, print a record and exit
/// at once. On the second: one line, and exit at once, as kubectl does.
async fn watch_interrupts(
    mut signals: Interrupts,
    progresses: Vec<std::sync::Arc<execute::Progress>>,
    interruption: std::sync::Arc<Interruption>,
    format: Format,
) {
    loop {
        let Some(signal) = signals.next().await else {
            return;
        };
        let name = signal.name();
        if progresses.iter().any(|p| p.interrupted()) {
            eprintln!(
                "\n{name} again: stopping at once; the writes in flight may or may not have been made: run apply again"
            );
            std::process::exit(i32::from(interrupted_status(signal)));
        }
        interruption.record(signal);
        let stopped = match interruption.phase() {
            Phase::Writing => {
                for p in &progresses {
                    p.interrupt();
                }
                eprintln!(
                    "\n{name}: stopping; no new write starts, waiting for those in flight (press Ctrl-C again to stop at once)"
                );
                continue;
            }
            Phase::Planning => {
                format!("interrupted by {name} before any write: nothing was written")
            }
            Phase::Waiting => format!(
                "interrupted by {name} while waiting for deletions a finalizer holds: every write was made; run apply again to see where they stand"
            ),
        };
        eprintln!("\n{name}: stopped; {stopped}");
        if format != Format::Text {
            let several = progresses.len() > 1;
            let report = StoppedReport {
                result: (!several).then(Vec::new),
                targets: several.then(Vec::new),
                stopped,
                interrupted: true,
                signal: name,
            };
            if let Ok(data) = to_data(&report, format) {
                print!("{data}");
            }
        }
        let _ = std::io::stdout().flush();
        std::process::exit(i32::from(interrupted_status(signal)));
    }
}

/// SIGINT, SIGTERM and SIGHUP, as they come.
struct Interrupts {
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    hup: Option<tokio::signal::unix::Signal>,
}

impl Interrupts {
    #[cfg(unix)]
    fn new() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        Interrupts {
            int: signal(SignalKind::interrupt()).ok(),
            term: signal(SignalKind::terminate()).ok(),
            hup: match ignored_hangup() {
                true => None,
                false => signal(SignalKind::hangup()).ok(),
            },
        }
    }

    #[cfg(not(unix))]
    fn new() -> Self {
        Interrupts {}
    }

    /// The next signal; `None` if none can come.
    #[cfg(unix)]
    async fn next(&mut self) -> Option<Signal> {
        async fn recv(s: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
            match s {
                Some(s) => s.recv().await,
                None => std::future::pending().await,
            }
        }
        if self.int.is_none() && self.term.is_none() && self.hup.is_none() {
            return None;
        }
        tokio::select! {
            Some(()) = recv(&mut self.int) => Some(Signal::Int),
            Some(()) = recv(&mut self.term) => Some(Signal::Term),
            Some(()) = recv(&mut self.hup) => Some(Signal::Hup),
            else => None,
        }
    }

    #[cfg(not(unix))]
    async fn next(&mut self) -> Option<Signal> {
        tokio::signal::ctrl_c().await.ok().map(|()| Signal::Int)
    }
}

/// Whether SIGHUP is ignored (`nohup`): then it stays so, and must not
/// stop the apply.
#[cfg(unix)]
fn ignored_hangup() -> bool {
    // SAFETY: a zeroed sigaction is a valid value to be filled; a null
    // new action only reads the current one.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGHUP, std::ptr::null(), &mut current) == 0
            && current.sa_sigaction == libc::SIG_IGN
    }
}

/// One part of the progress line: a target's name (none for a single
/// target), its writes done and its writes in all.
struct ProgressPart {
    target: Option<String>,
    progress: std::sync::Arc<execute::Progress>,
    total: usize,
}

/// A progress line on stderr, once the apply takes more than a moment:
/// `Applying: 3/10 done`, or per target `Applying: `train` 3/10, `infer`
/// 1/10 done`.
async fn show_progress(parts: Vec<ProgressPart>) {
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    loop {
        let counts: Vec<String> = parts
            .iter()
            .map(|p| {
                let done = p.progress.done.load(std::sync::atomic::Ordering::Relaxed);
                match &p.target {
                    Some(t) => format!("`{}` {done}/{}", crate::escape::text(t), p.total),
                    None => format!("{done}/{}", p.total),
                }
            })
            .collect();
        eprint!("\r\x1b[2KApplying: {} done", counts.join(", "));
        let _ = std::io::stderr().flush();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// The progress line, on a terminal only; stop it with [`stop_progress`].
fn start_progress(text: bool, parts: Vec<ProgressPart>) -> Option<tokio::task::JoinHandle<()>> {
    (text && std::io::stderr().is_terminal()).then(|| tokio::spawn(show_progress(parts)))
}

/// Stop the progress line and clear it.
fn stop_progress(ticker: Option<tokio::task::JoinHandle<()>>) {
    if let Some(t) = ticker {
        t.abort();
        eprint!("\r\x1b[2K");
    }
}

/// On a terminal, ask; elsewhere, refuse before changing anything. The
/// plan is above (text) or on stdout (`-o json`/`yaml`, printed on refusal).
fn confirm_deletions(plan: &Plan, text: bool) -> Result<()> {
    let review = if text {
        "review the plan above, then run again with --yes"
    } else {
        "review the plan printed on standard output, then run again with --yes"
    };
    let what = plan_view::deletions(plan);
    crate::cmd::confirm::confirm(
        &format!("Apply will delete {what}."),
        Error::new(
            ErrorKind::Refused,
            format!("apply would delete {what}, and there is no terminal to confirm it; nothing was changed"),
        )
        .with_help(review),
        Error::new(ErrorKind::Refused, "apply cancelled; nothing was changed"),
    )
}

/// One target's part of `apply -o json` with several targets.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TargetReport<'a> {
    target: &'a TargetInfo,
    plan: &'a Plan,
    result: Vec<Outcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stopped: Option<String>,
}

/// `apply -o json` with several targets.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct TargetsReport<'a> {
    dry_run: bool,
    targets: Vec<TargetReport<'a>>,
    /// The targets `--skip-unreachable` left out: where, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    skipped: Vec<targets::TargetEntry<'a>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    interrupted: bool,
}

/// One target's result.
struct Written {
    outcomes: Vec<Outcome>,
    stopped: Option<Error>,
}

/// Several targets: every plan read and shown, then asked once; before
/// the first write anywhere every target must have been read and allow the
/// writes its plan needs (else nothing is written on any); then the
/// targets are written at once, a failure on one not stopping the others.
async fn run_targets(ctx: &Context, contexts: &[String], args: &ApplyArgs) -> Result<ExitCode> {
    // As for one target, a signal is handled from the first request on:
    // while planning it stops at once with a record (nothing is written);
    // while writing, every target stops in order. One progress per
    // target, in the order of `contexts` (the order the plans come in).
    let progresses: Vec<std::sync::Arc<execute::Progress>> = contexts
        .iter()
        .map(|_| std::sync::Arc::new(execute::Progress::default()))
        .collect();
    let interruption = std::sync::Arc::new(Interruption::default());
    let watcher = tokio::spawn(watch_interrupts(
        Interrupts::new(),
        progresses.clone(),
        interruption.clone(),
        Format::from(args.output),
    ));
    let result = match crate::output::refuse_if_closed() {
        Ok(()) => run_targets_watched(ctx, contexts, args, &progresses, &interruption).await,
        Err(e) => Err(e),
    };
    watcher.abort();
    result
}

async fn run_targets_watched(
    ctx: &Context,
    contexts: &[String],
    args: &ApplyArgs,
    progresses: &[std::sync::Arc<execute::Progress>],
    interruption: &Interruption,
) -> Result<ExitCode> {
    // --plan: a plan for these targets (the same set), with its key, is
    // checked before any source is read or program run.
    let saved = match &args.plan {
        Some(path) => {
            let saved = SavedTargets::read(path, contexts)?;
            let key = crate::cmd::prelude::digest_key_existing()?;
            saved.check_key(key.as_ref(), path)?;
            Some((saved, key, path))
        }
        None => None,
    };
    let prune = match &saved {
        Some((saved, _, path)) => saved.prune_for(args.prune, path)?,
        None => args.prune,
    };
    let planned = targets::plan_manifest(ctx, contexts, &args.file, prune, args.commands).await?;
    if let Some((saved, key, path)) = &saved {
        let fresh: Vec<(&str, &Plan, Target)> = planned
            .iter()
            .filter_map(|p| {
                let (plan, cluster) = p.ready()?;
                Some((p.target.context.as_str(), plan, Target::of(plan, cluster)))
            })
            .collect();
        saved.verify(&fresh, key.as_ref(), path)?;
    }
    // Deletions in a saved plan were reviewed: not asked again.
    let yes = args.yes || saved.is_some();
    let format = Format::from(args.output);
    let text = format == Format::Text;
    if text {
        let opts = ViewOptions {
            show_secrets: args.show_secrets,
        };
        crate::output::print(&targets::render(&planned, opts))?;
    }
    // All or nothing at the start: a target that could not be read stops
    // every target.
    let unread: Vec<&TargetPlan> = planned.iter().filter(|p| p.plan.is_err()).collect();
    let skipped = args.skip_unreachable && unread.len() < planned.len();
    if skipped {
        targets::report_failures(&planned);
        for p in &unread {
            eprintln!(
                "warning: skipping the target `{}` (--skip-unreachable): it could not be read, and nothing is written there",
                crate::escape::text(&p.target.context)
            );
        }
    }
    if !unread.is_empty() && !skipped {
        if !text {
            crate::output::print(&to_data(&targets::Plans::of(&planned), format)?)?;
        }
        targets::report_failures(&planned);
        let names: Vec<String> = unread
            .iter()
            .map(|p| format!("`{}`", p.target.context))
            .collect();
        return Err(Error::new(
            ErrorKind::Unreachable,
            format!(
                "apply stopped: {} could not be read ({}); nothing was written on any target",
                crate::output::count(unread.len(), "target", "targets"),
                names.join(", ")
            ),
        )
        .with_help(
            "fix or leave out that context (name the others with --context), then run apply again",
        ));
    }
    let ready: Vec<(&TargetPlan, &Plan, &Cluster)> = planned
        .iter()
        .filter_map(|p| p.ready().map(|(plan, cluster)| (p, plan, cluster)))
        .collect();
    for (p, plan, _) in &ready {
        plan.refuse_conflicts().map_err(|e| p.target.name_in(e))?;
    }
    // A target left out is not converged: the run says so in its status.
    let incomplete = !unread.is_empty();
    let changes = ready.iter().any(|(_, plan, _)| plan.has_changes());
    let note = if !changes && incomplete {
        Some("No changes on the targets that were read (the others were skipped).")
    } else if !changes {
        Some("No changes: every target matches the manifest.")
    } else if args.dry_run {
        Some("Dry run: nothing was changed.")
    } else {
        None
    };
    if let Some(note) = note {
        if text {
            crate::output::println(note)?;
        } else {
            print_targets_report(&ready, &unread, Vec::new(), args.dry_run, false, format)?;
        }
        return Ok(match incomplete {
            true => ExitCode::FAILURE,
            false => ExitCode::SUCCESS,
        });
    }
    let deleting: Vec<String> = ready
        .iter()
        .filter(|(_, plan, _)| plan.has_deletions())
        .map(|(p, plan, _)| {
            format!(
                "{} on `{}`",
                plan_view::deletions(plan),
                crate::escape::text(&p.target.context)
            )
        })
        .collect();
    if !deleting.is_empty()
        && !yes
        && let Err(refused) = confirm_target_deletions(&deleting.join(", "), text)
    {
        if !text {
            print_targets_report(&ready, &unread, Vec::new(), args.dry_run, false, format)?;
        }
        return Err(refused);
    }
    // Before the first write anywhere: may we write on every target?
    let checks = ready
        .iter()
        .map(|(_, plan, cluster)| execute::check_access(*cluster, plan));
    let checked: Vec<_> = futures::stream::iter(checks)
        .buffered(targets::READS_AT_ONCE)
        .collect()
        .await;
    for ((p, _, _), checked) in ready.iter().zip(checked) {
        checked.map_err(|e| {
            p.target
                .name_in(e)
                .with_help_note("nothing was written on any target")
        })?;
    }
    // Each read target's progress (the plans and progresses are in the
    // order of the contexts).
    let progresses: Vec<&std::sync::Arc<execute::Progress>> = planned
        .iter()
        .zip(progresses)
        .filter(|(p, _)| p.ready().is_some())
        .map(|(_, progress)| progress)
        .collect();
    interruption.set_phase(Phase::Writing);
    let writes = ready
        .iter()
        .zip(&progresses)
        .map(|((_, plan, cluster), progress)| {
            write_target(cluster, plan, progress, args.parallel.into())
        });
    let ticker = start_progress(
        text,
        ready
            .iter()
            .zip(&progresses)
            .map(|((p, plan, _), progress)| ProgressPart {
                target: Some(p.target.context.clone()),
                progress: std::sync::Arc::clone(progress),
                total: execute::steps(plan),
            })
            .collect(),
    );
    // Targets at once as they are read: each sends `--parallel` writes.
    let mut written: Vec<Written> = futures::stream::iter(writes)
        .buffered(targets::READS_AT_ONCE)
        .collect()
        .await;
    stop_progress(ticker);
    // Every write sent: now the waits for deletions a finalizer holds,
    // which a signal stops at once (as with one target).
    interruption.set_phase(Phase::Waiting);
    let waits = ready
        .iter()
        .zip(written.iter_mut())
        .map(|((_, plan, cluster), w)| async move {
            let settled = crate::secrets::execute::wait::settle(
                *cluster,
                plan,
                &mut w.outcomes,
                args.wait.wait(),
            )
            .await;
            if w.stopped.is_none() {
                w.stopped = settled.err();
            }
        });
    futures::stream::iter(waits)
        .buffered(targets::READS_AT_ONCE)
        .collect::<Vec<()>>()
        .await;
    let interrupted = progresses.iter().any(|p| p.interrupted());
    let failed = incomplete
        || written
            .iter()
            .any(|w| w.stopped.is_some() || w.outcomes.iter().any(Outcome::failed));
    if text {
        let mut summary = String::new();
        for ((p, _, _), w) in ready.iter().zip(&written) {
            summary.push_str(&p.target.header());
            summary.push('\n');
            summary.push_str(&execute::view::render_outcomes(&w.outcomes));
            if let Some(e) = &w.stopped {
                summary.push_str(&stopped_note(e));
            }
        }
        for p in &unread {
            summary.push_str(&p.target.header());
            summary.push_str("\nSkipped: it could not be read; nothing was written there.\n");
        }
        if interrupted {
            summary.push_str(&format!("Apply {INTERRUPTED_NOTE}.\n"));
        }
        crate::output::print(&summary).map_err(crate::cmd::prelude::output_failed_after_writing)?;
    } else {
        print_targets_report(&ready, &unread, written, args.dry_run, interrupted, format)
            .map_err(crate::cmd::prelude::output_failed_after_writing)?;
    }
    Ok(if interrupted {
        ExitCode::from(interrupted_status(
            interruption.signal().unwrap_or(Signal::Int),
        ))
    } else if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Write one target's plan: who we are there (asked once per target, as
/// clusters authenticate differently), then the writes. Its failure is its
/// own: the other targets go on.
async fn write_target(
    cluster: &Cluster,
    plan: &Plan,
    progress: &execute::Progress,
    parallel: usize,
) -> Written {
    let meta = if plan.secrets.iter().any(|s| s.writes_object()) {
        match crate::cmd::prelude::write_meta(cluster).await {
            Ok(meta) => meta,
            Err(e) => {
                return Written {
                    outcomes: Vec::new(),
                    stopped: Some(e),
                };
            }
        }
    } else {
        WriteMeta::default()
    };
    let executed = execute::execute_with(cluster, plan, &meta, progress, parallel).await;
    Written {
        outcomes: executed.outcomes,
        stopped: executed.unreachable,
    }
}

fn print_targets_report(
    ready: &[(&TargetPlan, &Plan, &Cluster)],
    unread: &[&TargetPlan],
    written: Vec<Written>,
    dry_run: bool,
    interrupted: bool,
    format: Format,
) -> Result<()> {
    let mut written = written.into_iter();
    let targets = ready
        .iter()
        .map(|(p, plan, _)| {
            let w = written.next();
            TargetReport {
                target: &p.target,
                plan,
                // Its own reason (a lost server), else the interrupt's,
                // as one target's report says it.
                stopped: match w.as_ref().and_then(|w| w.stopped.as_ref()) {
                    Some(e) => Some(e.message().to_string()),
                    None => (interrupted && w.is_some()).then(|| INTERRUPTED_NOTE.to_string()),
                },
                result: w.map(|w| w.outcomes).unwrap_or_default(),
            }
        })
        .collect();
    let skipped = unread.iter().map(|p| targets::TargetEntry::of(p)).collect();
    let report = TargetsReport {
        dry_run,
        targets,
        skipped,
        interrupted,
    };
    crate::output::print(&to_data(&report, format)?)
}

/// Deletions on several targets, asked once.
fn confirm_target_deletions(what: &str, text: bool) -> Result<()> {
    let review = if text {
        "review the plan above, then run again with --yes"
    } else {
        "review the plan printed on standard output, then run again with --yes"
    };
    crate::cmd::confirm::confirm(
        &format!("Apply will delete {what}."),
        Error::new(
            ErrorKind::Refused,
            format!("apply would delete {what}, and there is no terminal to confirm it; nothing was changed on any target"),
        )
        .with_help(review),
        Error::new(ErrorKind::Refused, "apply cancelled; nothing was changed on any target"),
    )
}
