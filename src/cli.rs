//! Command-line parsing and dispatch. Flags follow kubectl: `--kubeconfig`,
//! `--context`, `-n/--namespace` and `--request-timeout` work before or after
//! the subcommand (kubectl passes everything after the plugin name through).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::cluster::ConnectOptions;
use crate::cmd;
use crate::cmd::prelude::Context;
use crate::error::{Error, Result};
use crate::output::ColorChoice;

#[derive(Debug, Parser)]
#[command(
    name = "kubectl-konduktor",
    bin_name = "kubectl konduktor",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("KONDUKTOR_GIT_COMMIT"), ")"),
    about = "Manage your Konduktor secrets in Kubernetes",
    long_about = "Manage your Konduktor secrets in Kubernetes.\n\nSecrets are per user: each is labelled with your owner hash \
                  (see `kubectl konduktor whoami`) and only ever changed by you. They are the same objects Konduktor's own CLI \
                  writes, so both tools can be used on one cluster.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file to use (else KUBECONFIG, else ~/.kube/config)
    #[arg(long, global = true, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (empty: the current context, as in kubectl); diff and apply take several (repeated, or `a,b`; a comma in a name: `\,`)
    #[arg(
        long,
        global = true,
        value_name = "NAME",
        action = clap::ArgAction::Append
    )]
    pub context: Vec<String>,
    /// The namespace (default: the context's, else `default`)
    #[arg(short = 'n', long, global = true, value_name = "NAME", value_parser = namespace_arg)]
    pub namespace: Option<String>,
    /// How long to wait for each request to the server (e.g. 10s, 1m; at most 24h); 0 waits forever
    #[arg(
        long,
        global = true,
        value_name = "DURATION",
        default_value = "30s",
        value_parser = request_timeout_arg
    )]
    pub request_timeout: RequestTimeout,
    /// When to use colours
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto)]
    pub color: ColorArg,
    /// Log what is done to stderr (-v requests, -vv also configuration); values are never logged
    #[arg(short = 'v', long = "verbose", global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// `--request-timeout`, checked by clap: a bad value is a usage error
/// (exit 2) before anything runs. `None` is no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTimeout(pub Option<std::time::Duration>);

fn request_timeout_arg(text: &str) -> std::result::Result<RequestTimeout, String> {
    crate::cluster::parse_timeout(text).map(RequestTimeout)
}

/// `-n`, checked by clap: a namespace is a DNS-1123 label, so a typo is a
/// usage error (exit 2) from every command, before anything runs.
fn namespace_arg(text: &str) -> std::result::Result<String, String> {
    if crate::kube_names::is_dns1123_label(text) {
        Ok(text.to_string())
    } else {
        Err(
            "not a namespace name: namespaces are DNS-1123 labels (at most 63 lowercase letters, digits and `-`, starting and ending with a letter or digit)"
                .to_string(),
        )
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

impl From<ColorArg> for ColorChoice {
    fn from(c: ColorArg) -> Self {
        match c {
            ColorArg::Auto => ColorChoice::Auto,
            ColorArg::Always => ColorChoice::Always,
            ColorArg::Never => ColorChoice::Never,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show your owner hash and where it came from, your context and namespace
    #[command(
        after_help = "Examples:\n  kubectl konduktor whoami\n  kubectl konduktor whoami -o json"
    )]
    Whoami(cmd::whoami::WhoamiArgs),
    /// Show what `apply` would change for a secrets.yaml manifest
    #[command(after_help = cmd::diff::EXAMPLES)]
    Diff(cmd::diff::DiffArgs),
    /// Make your secrets match a secrets.yaml manifest
    #[command(after_help = cmd::apply::EXAMPLES)]
    Apply(cmd::apply::ApplyArgs),
    /// Write a secrets.yaml that reproduces your current secrets
    #[command(after_help = cmd::export::EXAMPLES)]
    Export(cmd::export::ExportArgs),
    /// Print the Job a Konduktor task runs as, with your secrets injected
    #[command(after_help = cmd::render_job::EXAMPLES)]
    RenderJob(Box<cmd::render_job::RenderJobArgs>),
    /// Print a shell completion script
    #[command(after_help = cmd::completion::EXAMPLES)]
    Completion(cmd::completion::CompletionArgs),
    /// Your owner hash on this and other workstations: show, find, adopt, export
    #[command(
        subcommand,
        after_help = "Examples:\n  kubectl konduktor identity show\n  kubectl konduktor identity candidates\n  kubectl konduktor identity adopt 0123abcd\n  kubectl konduktor identity export >> ~/.bashrc"
    )]
    Identity(IdentityCommand),
    /// Create, list and delete your secrets one at a time (as Konduktor's `secret` commands)
    #[command(
        subcommand,
        after_help = "Examples:\n  kubectl konduktor secret create --kind env --inline HF_TOKEN=... hf\n  kubectl konduktor secret list\n  kubectl konduktor secret delete hf"
    )]
    Secret(SecretCommand),
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Create a secret, or merge new keys into yours of the same name
    #[command(after_help = cmd::secret::create::EXAMPLES)]
    Create(cmd::secret::create::CreateArgs),
    /// List your secrets (or, with -u, every Secret in the namespace); values are never shown
    #[command(after_help = cmd::secret::list::EXAMPLES)]
    List(cmd::secret::list::ListArgs),
    /// Delete one of your secrets
    #[command(after_help = cmd::secret::delete::EXAMPLES)]
    Delete(cmd::secret::delete::DeleteArgs),
}

#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Show your owner hash and where it came from (as `whoami`)
    #[command(
        after_help = "Examples:\n  kubectl konduktor identity show\n  kubectl konduktor identity show -o json"
    )]
    Show(cmd::whoami::WhoamiArgs),
    /// List owner hashes whose secrets your cluster user wrote
    #[command(after_help = cmd::identity::candidates::EXAMPLES)]
    Candidates(cmd::identity::candidates::CandidatesArgs),
    /// Use another owner hash from now on, here and in Konduktor's CLI
    #[command(after_help = cmd::identity::adopt::EXAMPLES)]
    Adopt(cmd::identity::adopt::AdoptArgs),
    /// Print your owner hash as a line for a shell profile
    #[command(after_help = cmd::identity::export::EXAMPLES)]
    Export(cmd::identity::export::ExportArgs),
}

impl GlobalArgs {
    /// The plain settings the commands get (clap stops here).
    fn context(&self) -> Result<Context> {
        let global = self;
        // `--context=` is kubectl's "no context given": the current one
        // (or Konduktor's config's) applies. A context named twice is one
        // target.
        let mut contexts: Vec<String> = Vec::new();
        for c in global
            .context
            .iter()
            .flat_map(|v| split_contexts(v))
            .filter(|c| !c.is_empty())
        {
            if !contexts.contains(&c) {
                contexts.push(c);
            }
        }
        Ok(Context {
            connect: ConnectOptions {
                kubeconfig: global.kubeconfig.clone(),
                context: match contexts.as_slice() {
                    [one] => Some(one.clone()),
                    _ => None,
                },
                namespace: global.namespace.clone(),
                request_timeout: global.request_timeout.0,
            },
            contexts,
        })
    }
}

/// `--context a,b`: the names a value holds, split at commas; `\,` is a
/// comma inside a name (kubeconfig context names may hold one).
pub fn split_contexts(value: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut name = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&',') => {
                chars.next();
                name.push(',');
            }
            ',' => names.push(std::mem::take(&mut name)),
            c => name.push(c),
        }
    }
    names.push(name);
    names
}

async fn dispatch(ctx: &Context, command: Command) -> Result<ExitCode> {
    // Several targets: only the commands that plan over them take them.
    if ctx.contexts.len() > 1
        && !matches!(
            command,
            Command::Diff(_)
                | Command::Apply(_)
                | Command::Whoami(_)
                | Command::Identity(IdentityCommand::Show(_))
        )
    {
        return Err(Error::new(
            crate::error::ErrorKind::Usage,
            format!(
                "--context names {} contexts, and this command works on one",
                ctx.contexts.len()
            ),
        )
        .with_help("name one context; only `diff`, `apply` and `whoami` take several"));
    }
    match command {
        Command::Whoami(args) => cmd::whoami::run(ctx, &args).await,
        Command::Diff(args) => cmd::diff::run(ctx, &args).await,
        Command::Apply(args) => cmd::apply::run(ctx, &args).await,
        Command::RenderJob(args) => cmd::render_job::run(ctx, &args).await,
        Command::Export(args) => cmd::export::run(ctx, &args).await,
        Command::Completion(args) => cmd::completion::run(Cli::command(), &args),
        Command::Identity(IdentityCommand::Show(args)) => cmd::whoami::run(ctx, &args).await,
        Command::Identity(IdentityCommand::Candidates(args)) => {
            cmd::identity::candidates::run(ctx, &args).await
        }
        Command::Identity(IdentityCommand::Adopt(args)) => {
            cmd::identity::adopt::run(ctx, &args).await
        }
        Command::Identity(IdentityCommand::Export(args)) => {
            cmd::identity::export::run(ctx, &args).await
        }
        Command::Secret(SecretCommand::Create(args)) => cmd::secret::create::run(ctx, &args).await,
        Command::Secret(SecretCommand::List(args)) => cmd::secret::list::run(ctx, &args).await,
        Command::Secret(SecretCommand::Delete(args)) => cmd::secret::delete::run(ctx, &args).await,
    }
}

/// Parse, run, and turn any error into a diagnostic on stderr and exit 1
/// (2 for a usage error, see [`exit_status`]).
pub fn main() -> ExitCode {
    quiet_panics();
    quit_on_broken_pipe();
    // kubectl's plugin completion (via kubectl_complete-konduktor) asks here.
    // Arguments need not be UTF-8 (a pasted value may not be): never unwrap.
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if argv.get(1).map(String::as_str) == Some("__complete") {
        return cmd::completion::print_completions(
            Cli::command(),
            argv.get(2..).unwrap_or_default(),
        )
        .unwrap_or_else(|e| report(&e, ColorChoice::Auto, false));
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(&e),
    };
    let color: ColorChoice = cli.global.color.into();
    crate::log::set_verbosity(cli.global.verbose);
    // `diff` exits 1 for "changes", so its errors exit 2, as `kubectl diff`.
    let diff = matches!(cli.command, Command::Diff(_));
    color.apply();
    let result = cli.global.context().and_then(|ctx| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| {
                Error::new(
                    crate::error::ErrorKind::Server,
                    format!("cannot start the async runtime: {e}"),
                )
            })?;
        runtime.block_on(dispatch(&ctx, cli.command))
    });
    match result {
        Ok(code) => code,
        Err(err) => report(&err, color, diff),
    }
}

/// Show `err` as a diagnostic on stderr; its exit status.
fn report(err: &Error, color: ColorChoice, diff: bool) -> ExitCode {
    use std::io::IsTerminal;
    eprint!(
        "{}",
        crate::output::diagnostic(err, color.enabled_for(std::io::stderr().is_terminal()))
    );
    ExitCode::from(exit_status(err, diff))
}

/// The exit status of a failed run: 2 for a usage error (as clap's own,
/// from every command) and for any error of `diff`, else 1.
fn exit_status(err: &Error, diff: bool) -> u8 {
    if diff || err.kind == crate::error::ErrorKind::Usage {
        2
    } else {
        1
    }
}

/// Help and version go to stdout with 0; usage errors to stderr with 2.
/// clap quotes what was typed: a value with control characters (a pasted
/// secret, a forged line) is shown escaped, as everything else is.
fn usage_error(e: &clap::Error) -> ExitCode {
    let code = ExitCode::from(u8::try_from(e.exit_code().clamp(0, 255)).unwrap_or(2));
    let plain = e.render().to_string();
    let safe = plain
        .lines()
        .all(|l| !l.chars().any(crate::escape::is_unsafe));
    let escaped = || {
        let lines: Vec<String> = plain
            .lines()
            .map(|l| crate::escape::text(l).into_owned())
            .collect();
        lines.join("\n") + "\n"
    };
    if !e.use_stderr() {
        // Help and version: written as any output is, so that a full disk
        // is an error and not a silent success.
        use std::io::IsTerminal;
        let styled = ColorChoice::Auto.enabled_for(std::io::stdout().is_terminal());
        let text = match (safe, styled) {
            (true, true) => e.render().ansi().to_string(),
            (true, false) => plain,
            (false, _) => escaped(),
        };
        return match crate::output::print(&text) {
            Ok(()) => code,
            Err(err) => report(&err, ColorChoice::Auto, false),
        };
    }
    if safe {
        let _ = e.print();
    } else {
        eprint!("{}", escaped());
    }
    code
}

/// A panic is a bug, but its message may hold whatever the failing code
/// held (an argument, a token): print that it happened, never its payload.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: kubectl-konduktor stopped on an internal error{at} (a bug: please report it; its message is not shown, as it may hold a value)"
        );
    }));
}

/// `render-job ... | head` closes our output early: end quietly, as Unix
/// tools do, instead of failing to print (Rust ignores SIGPIPE by default).
fn quit_on_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists;
    // restoring the default action of a signal has no other effect.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

// With the completion of the real command tree: only `cli` may name the
// whole tree, so that test lives here, above `cmd`.
#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;
