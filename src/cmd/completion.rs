//! Shell completion: `completion bash|zsh|fish|powershell` for the
//! `kubectl-konduktor` binary, and the `__complete` protocol that kubectl's
//! own plugin completion uses through `kubectl_complete-konduktor` (cobra's
//! format: one candidate per line, then `:<directive>`).

use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::error::Result;

pub const EXAMPLES: &str = "Examples:
  # bash, for this shell session
  source <(kubectl-konduktor completion bash)

  # zsh, once
  kubectl-konduktor completion zsh > \"${fpath[1]}/_kubectl-konduktor\"

  # `kubectl konduktor <TAB>` through kubectl's own completion: put the
  # kubectl_complete-konduktor script (in the release archive) on your PATH.";

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to generate the completion script for
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Print the script. `cli` is the whole command tree, handed down by the
/// caller (this module does not reach back into `cli`).
pub fn run(mut cli: clap::Command, args: &CompletionArgs) -> Result<ExitCode> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cli, "kubectl-konduktor", &mut script);
    crate::output::print(&String::from_utf8_lossy(&script))?;
    Ok(ExitCode::SUCCESS)
}

/// Cobra's directives: let the shell complete file names, or not.
pub(crate) const DIRECTIVE_FILES: u8 = 0;
pub(crate) const DIRECTIVE_NO_FILES: u8 = 4;

/// Flags whose value is a path.
const PATH_FLAGS: &[&str] = &[
    "filename",
    "kubeconfig",
    "secrets",
    "from-file",
    "from-directory",
];

/// Candidates for the last word of `words` (the one being typed, maybe
/// empty), in the command tree `cli`.
pub fn complete(mut cli: clap::Command, words: &[String]) -> (Vec<String>, u8) {
    cli.build();
    let cmd = cli;
    let (current, before) = match words.split_last() {
        Some((last, rest)) => (last.as_str(), rest),
        None => ("", &[][..]),
    };
    let mut cmd = &cmd;
    let mut pending_value: Option<&clap::Arg> = None;
    for word in before {
        if pending_value.take().is_some() {
            continue;
        }
        if let Some(sub) = cmd.get_subcommands().find(|s| s.get_name() == word) {
            cmd = sub;
        } else if let Some(arg) = find_flag(cmd, word)
            && arg.get_action().takes_values()
            && !word.contains('=')
        {
            pending_value = Some(arg);
        }
    }
    if let Some(arg) = pending_value {
        let long = arg.get_long().unwrap_or_default();
        if PATH_FLAGS.contains(&long) {
            return (Vec::new(), DIRECTIVE_FILES);
        }
        let values = arg
            .get_possible_values()
            .iter()
            .map(|v| v.get_name().to_string())
            .filter(|v| v.starts_with(current))
            .collect();
        return (values, DIRECTIVE_NO_FILES);
    }
    if current.starts_with('-') {
        let flags = cmd
            .get_arguments()
            .filter(|a| !a.is_hide_set())
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .chain(["--help".to_string()])
            .filter(|f| f.starts_with(current))
            .collect();
        return (flags, DIRECTIVE_NO_FILES);
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .map(|s| s.get_name().to_string())
        .filter(|n| n.starts_with(current))
        .collect();
    if subs.is_empty() && cmd.get_positionals().next().is_some() {
        // A positional such as a secret name: let the shell do its default.
        return (Vec::new(), DIRECTIVE_FILES);
    }
    (subs, DIRECTIVE_NO_FILES)
}

fn find_flag<'a>(cmd: &'a clap::Command, word: &str) -> Option<&'a clap::Arg> {
    let name = word.split('=').next().unwrap_or(word);
    if let Some(long) = name.strip_prefix("--") {
        cmd.get_arguments().find(|a| a.get_long() == Some(long))
    } else if let Some(short) = name.strip_prefix('-').and_then(|s| s.chars().next()) {
        cmd.get_arguments().find(|a| a.get_short() == Some(short))
    } else {
        None
    }
}

/// Print completions for kubectl's plugin completion.
///
/// # Errors
///
/// Standard output cannot be written.
pub fn print_completions(cli: clap::Command, words: &[String]) -> Result<ExitCode> {
    let (candidates, directive) = complete(cli, words);
    let mut text: String = candidates.iter().map(|c| format!("{c}\n")).collect();
    text.push_str(&format!(":{directive}\n"));
    crate::output::print(&text)?;
    Ok(ExitCode::SUCCESS)
}
