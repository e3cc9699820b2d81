//! A kubeconfig user's credential (`exec`) plugin, run by us as client-go
//! runs it (`KUBERNETES_EXEC_INFO`, the entry's args and env), but bounded:
//! its output read up to [`MAX_PLUGIN_OUTPUT`] and the plugin stopped after
//! [`PLUGIN_TIMEOUT`] ([`INTERACTIVE_PLUGIN_TIMEOUT`] when it may be talking
//! to the user). kube would run it itself with no bound at all (and twice).
//! What it prints is never shown: a failure names the plugin and how it
//! ended.

use std::io::IsTerminal as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use kube::config::{ExecConfig, ExecInteractiveMode};

use crate::error::{Error, ErrorKind, Result};
use crate::process::{self, RunError};

/// The most a plugin may print: an ExecCredential is a token or a
/// certificate and key, a few KiB; 1 MiB, as much as a `fromCommand` value.
pub(super) const MAX_PLUGIN_OUTPUT: usize = 1 << 20;
/// How long a plugin that cannot ask the user anything may run.
pub(super) const PLUGIN_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a plugin that has the terminal may run: a browser or device
/// login waits for a person (kubelogin gives up after 3 minutes).
pub(super) const INTERACTIVE_PLUGIN_TIMEOUT: Duration = Duration::from_secs(300);
/// Overrides both timeouts (a duration, as `--request-timeout` takes).
pub const ENV_PLUGIN_TIMEOUT: &str = "KONDUKTOR_EXEC_PLUGIN_TIMEOUT";

/// What the plugin gave.
pub(super) enum Credential {
    Token(String),
    /// PEM text of the client certificate and its key.
    Certificate {
        certificate: String,
        key: String,
    },
    /// A status with neither: nothing is sent, as kube and client-go do.
    Nothing,
}

#[derive(serde::Deserialize)]
struct ExecCredential {
    status: Option<ExecCredentialStatus>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredentialStatus {
    token: Option<String>,
    client_certificate_data: Option<String>,
    client_key_data: Option<String>,
    expiration_timestamp: Option<String>,
}

/// Who the plugin works for, for messages.
pub(super) struct PluginOwner<'a> {
    pub user: &'a str,
    pub context: &'a str,
}

/// Run the plugin of `exec` and read its ExecCredential.
pub(super) fn run(exec: &ExecConfig, owner: &PluginOwner<'_>) -> Result<Credential> {
    let who = format!("user `{}` of context `{}`", owner.user, owner.context);
    let Some(command) = exec.command.as_deref().filter(|c| !c.is_empty()) else {
        return Err(Error::new(
            ErrorKind::Kubeconfig,
            format!("the `exec` entry of {who} has no `command`"),
        )
        .with_help("name the credential plugin to run in `command`"));
    };
    let plugin = format!("the credential plugin `{command}` of {who}");
    let by_hand = format!(
        "run the plugin by hand, with the command, args and env of the `exec` entry of user `{}` in your kubeconfig, to see its output and messages; then log in again or fix that entry",
        owner.user
    );
    // client-go: the plugin gets the terminal only where its mode allows
    // and standard input is one. Its standard error goes to ours unless it
    // is never interactive (then nothing it says is shown: it may hold a
    // token).
    let mode = exec.interactive_mode.as_ref();
    let interactive = mode != Some(&ExecInteractiveMode::Never) && std::io::stdin().is_terminal();
    let timeout = timeout(interactive)?;
    let mut cmd = Command::new(command);
    cmd.args(exec.args.iter().flatten());
    for pair in exec.env.iter().flatten() {
        if let (Some(name), Some(value)) = (pair.get("name"), pair.get("value")) {
            cmd.env(name, value);
        }
    }
    for name in exec.drop_env.iter().flatten() {
        cmd.env_remove(name);
    }
    cmd.env("KUBERNETES_EXEC_INFO", exec_info(exec, interactive, &who)?);
    cmd.stdin(if interactive {
        Stdio::inherit()
    } else {
        Stdio::null()
    });
    cmd.stderr(if mode == Some(&ExecInteractiveMode::Never) {
        Stdio::null()
    } else {
        Stdio::inherit()
    });
    crate::log::log(1, || {
        format!(
            "running the credential plugin `{command}` (at most {}, {} bytes of output)",
            super::humanize(timeout),
            MAX_PLUGIN_OUTPUT
        )
    });
    let output = process::run_bounded(cmd, command, timeout, MAX_PLUGIN_OUTPUT).map_err(|e| {
        let (what, help) = match e {
            RunError::NotFound { .. } => (
                format!("cannot run {plugin}: it was not found"),
                format!(
                    "install the plugin, or fix `command` in the `exec` entry of user `{}` in your kubeconfig",
                    owner.user
                ),
            ),
            RunError::CannotStart { reason, .. } => (
                format!("cannot run {plugin}: {reason}"),
                format!(
                    "check that the plugin is executable, or fix `command` in the `exec` entry of user `{}` in your kubeconfig",
                    owner.user
                ),
            ),
            RunError::Failed { status } => (
                format!("{plugin} failed with exit {status}"),
                by_hand.clone(),
            ),
            RunError::TimedOut(limit) => (
                format!(
                    "{plugin} did not finish within {} and was stopped",
                    super::humanize(limit)
                ),
                format!(
                    "{by_hand} (a plugin that waits for a login needs a terminal and an `interactiveMode` other than Never)"
                ),
            ),
            RunError::OutputHeldOpen(limit) => (
                format!(
                    "{plugin} ended, but a program it started kept its output open past {}",
                    super::humanize(limit)
                ),
                by_hand.clone(),
            ),
            RunError::TooLarge => (
                format!(
                    "{plugin} printed more than {MAX_PLUGIN_OUTPUT} bytes, more than an ExecCredential holds (its output is not shown); it was stopped"
                ),
                by_hand.clone(),
            ),
            RunError::Unreadable(reason) => (
                format!("cannot read the output of {plugin}: {reason}"),
                by_hand.clone(),
            ),
        };
        Error::new(ErrorKind::Unauthorized, what).with_help(help)
    })?;
    let not_valid = || {
        Error::new(
            ErrorKind::Unauthorized,
            format!("the output of {plugin} is not a valid ExecCredential"),
        )
        .with_help(by_hand.clone())
    };
    // client-go decodes it with a YAML-tolerant codec; YAML holds JSON.
    let credential: ExecCredential =
        serde_saphyr::from_slice(output.expose()).map_err(|_| not_valid())?;
    let status = credential.status.ok_or_else(not_valid)?;
    if let Some(when) = &status.expiration_timestamp
        && when.parse::<jiff::Timestamp>().is_err()
    {
        return Err(Error::new(
            ErrorKind::Unauthorized,
            format!(
                "{plugin} gave an ExecCredential whose expirationTimestamp is not a valid time"
            ),
        )
        .with_help(by_hand));
    }
    Ok(
        match (
            status.client_certificate_data,
            status.client_key_data,
            status.token,
        ) {
            (Some(certificate), Some(key), _) => Credential::Certificate { certificate, key },
            (_, _, Some(token)) => Credential::Token(token),
            _ => Credential::Nothing,
        },
    )
}

/// The plugin's time limit: [`ENV_PLUGIN_TIMEOUT`] if set, else by mode.
fn timeout(interactive: bool) -> Result<Duration> {
    let default = if interactive {
        INTERACTIVE_PLUGIN_TIMEOUT
    } else {
        PLUGIN_TIMEOUT
    };
    let Some(text) = std::env::var(ENV_PLUGIN_TIMEOUT)
        .ok()
        .filter(|t| !t.is_empty())
    else {
        return Ok(default);
    };
    match super::parse_timeout(&text) {
        Ok(Some(limit)) => Ok(limit),
        // `0`: no limit of ours, as `--request-timeout=0`.
        Ok(None) => Ok(Duration::from_secs(24 * 60 * 60)),
        Err(why) => Err(
            Error::input(format!("{ENV_PLUGIN_TIMEOUT} is not a duration: {why}"))
                .with_help("give a duration such as 30s or 2m"),
        ),
    }
}

/// `KUBERNETES_EXEC_INFO`: the ExecCredential request client-go hands a
/// plugin (its cluster only where `provideClusterInfo` asks for it).
fn exec_info(exec: &ExecConfig, interactive: bool, who: &str) -> Result<String> {
    let mut spec = serde_json::json!({ "interactive": interactive });
    if exec.provide_cluster_info {
        let cluster = exec.cluster.as_ref().ok_or_else(|| {
            Error::new(
                ErrorKind::Kubeconfig,
                format!("the `exec` entry of {who} sets provideClusterInfo, but its cluster has no usable entry"),
            )
            .with_help("fix the cluster of this context in your kubeconfig")
        })?;
        spec["cluster"] = serde_json::to_value(cluster).unwrap_or_default();
    }
    let info = serde_json::json!({
        "apiVersion": exec.api_version,
        "kind": "ExecCredential",
        "spec": spec,
    });
    Ok(info.to_string())
}
