//! The cluster access layer: kubeconfig loading as kubectl does it, and the
//! few Secret operations the commands need, each turned into an error a
//! person can act on.
//!
//! Reads (GET, LIST) are retried a few times on transient failures (429, 5xx,
//! dropped connections); writes are not, because a write the server may have
//! applied must not be repeated blindly. Every call is bounded by the
//! request timeout.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, Preconditions};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};
use crate::input::file as input_file;
use crate::konduktor::secret_value::SecretBytes;
use crate::konduktor::{self, LiveSecret};

/// Our field manager name, as recorded in `managedFields`.
pub const FIELD_MANAGER: &str = "kubectl-konduktor";
/// How long to wait for a TCP connection, at most.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts for a read, first one included.
const READ_ATTEMPTS: u32 = 3;

/// What `--kubeconfig`, `--context`, `-n` and `--request-timeout` said.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    /// `None` means no limit (kubectl's `--request-timeout=0`).
    pub request_timeout: Option<Duration>,
}

/// Where the kubeconfig came from, for messages.
#[derive(Debug, Clone)]
struct KubeconfigFiles(Vec<PathBuf>);

impl KubeconfigFiles {
    fn describe(&self) -> String {
        self.0
            .iter()
            .map(|p| format!("`{}`", p.display()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A connection to one namespace of one cluster.
#[derive(Clone)]
pub struct Cluster {
    client: kube::Client,
    pub namespace: String,
    pub context: String,
    pub server: String,
    timeout: Option<Duration>,
    /// The context's user, for messages about its credentials.
    user: UserRef,
}

/// The kubeconfig user of the context, as messages name it.
#[derive(Debug, Clone, Default)]
struct UserRef {
    name: String,
    /// The `exec` plugin's command, as the kubeconfig gives it.
    exec_command: Option<String>,
}

/// Who the API server says we are (`SelfSubjectReview`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ClusterUser {
    pub username: String,
    pub groups: Vec<String>,
}

const KUBECONFIG_HELP: &str = "check the file with `kubectl config view`, or point --kubeconfig / KUBECONFIG at a working one";

fn kubeconfig_error(files: &KubeconfigFiles, e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Kubeconfig,
        format!("cannot use the kubeconfig {}: {e}", files.describe()),
    )
    .with_help(KUBECONFIG_HELP)
}

/// One kubeconfig file, read as a regular file of at most
/// [`MAX_KUBECONFIG_BYTES`] (a FIFO or `/dev/zero` is refused, not read),
/// parsed, and its relative file references resolved against its folder as
/// kubectl does. Errors name the file and the place, never its content.
fn read_kubeconfig(path: &Path) -> Result<Kubeconfig> {
    let shown = crate::escape::path(path);
    let bytes = match input_file::read_regular(path, input_file::MAX_KUBECONFIG_BYTES) {
        Ok(bytes) => bytes,
        Err(e) if e.is_not_found() => {
            return Err(Error::new(
                ErrorKind::Kubeconfig,
                format!("the kubeconfig `{shown}` does not exist"),
            )
            .with_help("pass an existing file with --kubeconfig or KUBECONFIG"));
        }
        Err(e) => {
            return Err(Error::new(
                ErrorKind::Kubeconfig,
                format!("cannot use the kubeconfig: {e}"),
            )
            .with_help(e.help()));
        }
    };
    let text = kubeconfig_text(bytes).map_err(|why| {
        Error::new(
            ErrorKind::Kubeconfig,
            format!("the kubeconfig `{shown}` {why}"),
        )
        .with_help(KUBECONFIG_HELP)
    })?;
    let mut config = parse_kubeconfig(&text).map_err(|why| {
        Error::new(
            ErrorKind::Kubeconfig,
            format!("the kubeconfig `{shown}` {why}"),
        )
        .with_help("fix the file at that place (`kubectl config view` shows it with secrets hidden), or point --kubeconfig / KUBECONFIG at a working one")
    })?;
    if let Some(dir) = path.parent() {
        resolve_relative_paths(&mut config, dir);
    }
    Ok(config)
}

/// The text of a kubeconfig: UTF-8, or UTF-16 with a byte-order mark, as
/// kube and client-go accept.
fn kubeconfig_text(bytes: Vec<u8>) -> Result<String, &'static str> {
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        let chunks = rest.chunks_exact(2);
        if !chunks.remainder().is_empty() {
            return Err("is not valid UTF-16 text (an odd number of bytes)");
        }
        let units: Vec<u16> = chunks.map(|c| from([c[0], c[1]])).collect();
        String::from_utf16(&units).map_err(|_| "is not valid UTF-16 text")
    };
    match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        [0xEF, 0xBB, 0xBF, rest @ ..] => {
            String::from_utf8(rest.to_vec()).map_err(|_| "is not valid UTF-8 text")
        }
        _ => String::from_utf8(bytes).map_err(|_| "is not valid UTF-8 text"),
    }
}

/// Parse a kubeconfig (several YAML documents are merged, as kube does).
/// The error is the end of a sentence that starts with the file's name:
/// where and what kind of problem, in our words only. The parser's own
/// message is never used as is: it quotes the file (snippets, scalar
/// values), and a kubeconfig holds tokens and keys.
pub(crate) fn parse_kubeconfig(text: &str) -> Result<Kubeconfig, String> {
    match Kubeconfig::from_yaml(text) {
        Ok(config) => Ok(config),
        Err(kube::config::KubeconfigError::Parse(e)) => Err(describe_yaml_error(text, &e)),
        Err(kube::config::KubeconfigError::KindMismatch) => {
            Err("has YAML documents of different kinds, which cannot be merged".into())
        }
        Err(kube::config::KubeconfigError::ApiVersionMismatch) => {
            Err("has YAML documents of different apiVersions, which cannot be merged".into())
        }
        Err(_) => Err("cannot be read as a kubeconfig".into()),
    }
}

fn at_place(e: &serde_saphyr::Error) -> String {
    e.location()
        .map(|l| format!(" at line {} column {}", l.line(), l.column()))
        .unwrap_or_default()
}

fn describe_yaml_error(text: &str, e: &serde_saphyr::Error) -> String {
    // Syntax first: is it YAML at all? Only then is it the wrong shape.
    if let Err(syntax) = serde_saphyr::from_multiple::<serde::de::IgnoredAny>(text) {
        let what = syntax.without_snippet().to_string();
        let reason = [
            (
                "duplicate mapping key",
                "a key appears twice in one mapping",
            ),
            ("tab", "a tab where YAML allows only spaces"),
            ("unclosed quote", "a quote is not closed"),
            ("quoted scalar", "a quote is not closed"),
            (
                "mapping values are not allowed",
                "a `key: value` where none can be; check the indentation",
            ),
            (
                "did not find expected",
                "a bracket, brace or indentation does not match",
            ),
        ]
        .iter()
        .find(|(needle, _)| what.contains(needle))
        .map_or(String::new(), |(_, reason)| format!(": {reason}"));
        return format!("is not valid YAML{}{reason}", at_place(&syntax));
    }
    // Only phrases of the parser and of kube's types are kept, in our
    // words: serde's "invalid type: <the value>, expected <a type>" quotes
    // the file, so only what follows "expected" is used.
    let what = e.without_snippet().to_string();
    let what = what.split(" at line ").next().unwrap_or_default();
    let expected = |phrase: &str| match phrase {
        "mapping start" => "a mapping of `key: value` lines".to_string(),
        "sequence start" => "a list of `- ` items".to_string(),
        "string scalar" => "a string".to_string(),
        other if other.len() <= 40 && !other.contains(['"', '\'', '`']) => other.to_string(),
        _ => "another kind of value".to_string(),
    };
    let reason = if let Some(phrase) = what.strip_prefix("expected ") {
        format!(": expected {} there", expected(phrase))
    } else if let Some((_, phrase)) = what
        .split_once("invalid type: ")
        .and_then(|(_, rest)| rest.rsplit_once(", expected "))
    {
        format!(": expected {} there", expected(phrase))
    } else if what.starts_with("invalid boolean") {
        ": expected true or false there".to_string()
    } else if let Some(field) = what
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        format!(": the field `{field}` is missing")
    } else {
        String::new()
    };
    format!("is not a valid kubeconfig{}{reason}", at_place(e))
}

/// What kube's `Kubeconfig::read_from` does after parsing: file references
/// relative to the kubeconfig's folder; an exec command only when it has a
/// path separator (a bare name is looked up in PATH), as client-go does.
fn resolve_relative_paths(config: &mut Kubeconfig, dir: &Path) {
    let absolute = |p: &mut Option<String>| {
        if let Some(path) = p.as_deref()
            && Path::new(path).is_relative()
            && let Some(joined) = dir.join(path).to_str()
        {
            *p = Some(joined.to_string());
        }
    };
    for named in &mut config.clusters {
        if let Some(cluster) = &mut named.cluster {
            absolute(&mut cluster.certificate_authority);
        }
    }
    for named in &mut config.auth_infos {
        if let Some(user) = &mut named.auth_info {
            absolute(&mut user.client_certificate);
            absolute(&mut user.client_key);
            absolute(&mut user.token_file);
            if let Some(exec) = &mut user.exec
                && exec
                    .command
                    .as_deref()
                    .is_some_and(|c| c.contains(std::path::MAIN_SEPARATOR))
            {
                absolute(&mut exec.command);
            }
        }
    }
}

/// kubectl's rules: `--kubeconfig` alone if given; else every existing file
/// in `KUBECONFIG` (a path list), merged, first wins; else `~/.kube/config`.
fn load_kubeconfig(explicit: Option<&Path>) -> Result<(Kubeconfig, KubeconfigFiles)> {
    if let Some(path) = explicit {
        return Ok((
            read_kubeconfig(path)?,
            KubeconfigFiles(vec![path.to_path_buf()]),
        ));
    }
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let named: Vec<PathBuf> = std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        let existing: Vec<PathBuf> = named.iter().filter(|p| p.exists()).cloned().collect();
        if existing.is_empty() {
            let files = KubeconfigFiles(named);
            return Err(Error::new(
                ErrorKind::Kubeconfig,
                format!(
                    "none of the files in KUBECONFIG exists: {}",
                    files.describe()
                ),
            )
            .with_help("fix KUBECONFIG, or pass --kubeconfig"));
        }
        let mut merged: Option<Kubeconfig> = None;
        for path in &existing {
            let next = read_kubeconfig(path)?;
            merged = Some(match merged {
                None => next,
                Some(acc) => acc.merge(next).map_err(|e| {
                    kubeconfig_error(&KubeconfigFiles(existing.clone()), error_chain(&e))
                })?,
            });
        }
        let merged =
            merged.ok_or_else(|| Error::new(ErrorKind::Kubeconfig, "KUBECONFIG names no file"))?;
        return Ok((merged, KubeconfigFiles(existing)));
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let default = home.join(".kube").join("config");
    if !default.exists() {
        return Err(Error::new(
            ErrorKind::Kubeconfig,
            format!("no kubeconfig: --kubeconfig is not given, KUBECONFIG is not set, and `{}` does not exist", default.display()),
        )
        .with_help("point --kubeconfig or KUBECONFIG at the kubeconfig of your cluster"));
    }
    Ok((read_kubeconfig(&default)?, KubeconfigFiles(vec![default])))
}

/// Standard base64, as Kubernetes writes `*-data` fields.
fn base64(bytes: Vec<u8>) -> String {
    match serde_json::to_value(k8s_openapi::ByteString(bytes)) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The files the selected context's cluster and user name
/// (`certificate-authority`, `client-certificate`, `client-key`,
/// `tokenFile`), read by us as regular files of at most
/// [`input_file::MAX_CREDENTIAL_FILE_BYTES`] and put inline, so kube never
/// reads a path itself (it would block on a FIFO, or read `/dev/zero`
/// forever). An inline value, where kube would prefer it, leaves the file
/// unread, as kube does.
fn inline_credential_files(
    mut config: Kubeconfig,
    context: &str,
    files: &KubeconfigFiles,
) -> Result<(Kubeconfig, UserRef)> {
    let Some(ctx) = config
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.clone())
    else {
        return Ok((config, UserRef::default()));
    };
    let read = |path: &str, field: &str, owner: String| -> Result<Vec<u8>> {
        input_file::read_regular(Path::new(path), input_file::MAX_CREDENTIAL_FILE_BYTES).map_err(
            |e| {
                Error::new(
                    ErrorKind::Kubeconfig,
                    format!(
                        "cannot use the {field} of {owner} in the kubeconfig {}: {e}",
                        files.describe()
                    ),
                )
                .with_help(e.help())
            },
        )
    };
    if let Some(cluster) = config
        .clusters
        .iter_mut()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.cluster.as_mut())
        && let Some(path) = cluster.certificate_authority.take()
        && cluster.certificate_authority_data.is_none()
    {
        let owner = format!("cluster `{}`", ctx.cluster);
        cluster.certificate_authority_data =
            Some(base64(read(&path, "certificate-authority", owner)?));
    }
    let mut user = UserRef {
        name: ctx.user.clone().unwrap_or_default(),
        exec_command: None,
    };
    if let Some(name) = &ctx.user
        && let Some(info) = config
            .auth_infos
            .iter_mut()
            .find(|u| &u.name == name)
            .and_then(|u| u.auth_info.as_mut())
    {
        let owner = || format!("user `{name}`");
        if let Some(path) = info.client_certificate.take()
            && info.client_certificate_data.is_none()
        {
            info.client_certificate_data =
                Some(base64(read(&path, "client-certificate", owner())?));
        }
        if let Some(path) = info.client_key.take()
            && info.client_key_data.is_none()
        {
            info.client_key_data = Some(base64(read(&path, "client-key", owner())?).into());
        }
        if let Some(path) = info.token_file.take()
            && info.token.is_none()
        {
            let bytes = read(&path, "tokenFile", owner())?;
            // client-go trims the file's whitespace (a final newline).
            let token = String::from_utf8(bytes).map_err(|_| {
                Error::new(
                    ErrorKind::Kubeconfig,
                    format!(
                        "the tokenFile of user `{name}` in the kubeconfig {} is not text",
                        files.describe()
                    ),
                )
                .with_help("a token file holds one token as text")
            })?;
            info.token = Some(token.trim().to_string().into());
        }
        user.exec_command = info.exec.as_ref().and_then(|e| e.command.clone());
    }
    Ok((config, user))
}

/// A kube configuration error in our words: kube's own text for file
/// errors shows paths as Rust debug strings, and a base64 error quotes a
/// byte of the value.
fn config_error_text(e: &kube::config::KubeconfigError) -> String {
    use kube::config::{KubeconfigError as K, LoadDataError as L};
    let data = |what: &str, e: &L| match e {
        L::DecodeBase64(_) => format!("the {what} data is not valid base64"),
        L::ReadFile(source, path) => format!(
            "cannot read the {what} file `{}`: {source}",
            crate::escape::path(path)
        ),
        L::NoBase64DataOrFile => format!("the {what} is missing"),
    };
    match e {
        K::LoadCertificateAuthority(e) => data("certificate-authority", e),
        K::LoadClientCertificate(e) => data("client-certificate", e),
        K::LoadClientKey(e) => data("client-key", e),
        K::ParseCertificates(_) => "its certificates are not valid PEM".to_string(),
        K::ParseClusterUrl(_) => "the server URL of its cluster is not a valid URL".to_string(),
        K::ParseProxyUrl(_) => "the proxy-url of its cluster is not a valid URL".to_string(),
        K::ReadConfig(source, path) => {
            format!("cannot read `{}`: {source}", crate::escape::path(path))
        }
        K::Parse(_) => "it is not valid YAML".to_string(),
        other => other.to_string(),
    }
}

/// The text of a kube error without kube's variant prefixes
/// (`HyperError: `, `ServiceError: `).
fn kube_error_text(e: &kube::Error) -> String {
    match e {
        kube::Error::HyperError(inner) => error_chain(inner),
        kube::Error::Service(inner) => error_chain(inner.as_ref()),
        // serde's messages quote the value they choke on: the place is enough.
        kube::Error::SerdeError(inner) => format!(
            "its answer is not the JSON expected (line {} column {})",
            inner.line(),
            inner.column()
        ),
        kube::Error::Auth(_) => "cannot get credentials".to_string(),
        other => error_chain(other),
    }
}

/// A credential failure, for a person: which plugin or setting, what went
/// wrong, what to try. Never the plugin's output, its captured stderr, or
/// kube's debug dump of them (`Output { status: ..., stdout: [...] }`),
/// nor the plugin's command line as kube prints it (with its environment).
fn auth_error(e: &kube::client::AuthError, context: &str, user: &UserRef) -> Error {
    use kube::client::AuthError as A;
    let who = format!("user `{}` of context `{context}`", user.name);
    let plugin = match &user.exec_command {
        Some(cmd) => format!("the credential plugin `{cmd}` of {who}"),
        None => format!("the auth-provider command of {who}"),
    };
    let by_hand = format!(
        "run the plugin by hand, with the command, args and env of the `exec` entry of user `{}` in your kubeconfig, to see its output and messages; then log in again or fix that entry",
        user.name
    );
    let kind = ErrorKind::Unauthorized;
    match e {
        A::AuthExecStart(source) => {
            Error::new(kind, format!("cannot run {plugin}: {source}")).with_help(format!(
                "install the plugin, or fix `command` in the `exec` entry of user `{}` in your kubeconfig",
                user.name
            ))
        }
        A::AuthExecRun { out, .. } => {
            let how = match out.status.code() {
                Some(code) => format!("failed with exit status {code}"),
                None => exit_signal(&out.status)
                    .map_or("was stopped".to_string(), |s| format!("was stopped by signal {s}")),
            };
            Error::new(kind, format!("{plugin} {how}")).with_help(by_hand)
        }
        A::AuthExecParse(_) | A::ExecPluginFailed => Error::new(
            kind,
            format!("the output of {plugin} is not a valid ExecCredential"),
        )
        .with_help(by_hand),
        A::MalformedTokenExpirationDate(_) => Error::new(
            kind,
            format!("{plugin} gave an ExecCredential whose expirationTimestamp is not a valid time"),
        )
        .with_help(by_hand),
        A::AuthExecSerialize(_) | A::AuthExec(_) => {
            Error::new(kind, format!("cannot run {plugin}")).with_help(by_hand)
        }
        A::MissingCommand => Error::new(
            ErrorKind::Kubeconfig,
            format!("the `exec` entry of {who} has no `command`"),
        )
        .with_help("name the credential plugin to run in `command`"),
        A::ExecMissingClusterInfo => Error::new(
            ErrorKind::Kubeconfig,
            format!("the `exec` entry of {who} sets provideClusterInfo, but its cluster has no usable entry"),
        )
        .with_help("fix the cluster of this context in your kubeconfig"),
        A::InvalidBasicAuth(_) => Error::new(
            ErrorKind::Kubeconfig,
            format!("the username or password of {who} cannot be sent in an HTTP header"),
        )
        .with_help("a line break or another control character is not allowed there"),
        A::InvalidBearerToken(_) => Error::new(
            ErrorKind::Kubeconfig,
            format!("the token of {who} cannot be sent in an HTTP header"),
        )
        .with_help("a token may not hold a line break or another control character; check the token (or tokenFile, or the plugin's output)"),
        A::UnrefreshableTokenResponse => Error::new(
            kind,
            format!("{plugin} gave a token that cannot be refreshed"),
        )
        .with_help(by_hand),
        A::ReadTokenFile(source, path) => Error::new(
            ErrorKind::Kubeconfig,
            format!(
                "cannot read the tokenFile `{}` of {who}: {source}",
                crate::escape::path(path)
            ),
        )
        .with_help("check the path and its permissions"),
        A::ParseTokenKey(_) => Error::new(
            kind,
            format!("the output of {plugin} is not the JSON expected"),
        )
        .with_help("run the command of the auth-provider entry by hand to see its output"),
        A::NoValidNativeRootCA(source) => Error::new(
            ErrorKind::Kubeconfig,
            format!("no usable root certificate on this system: {source}"),
        )
        .with_help("give the cluster's certificate-authority in the kubeconfig"),
        #[allow(unreachable_patterns)]
        _ => Error::new(kind, format!("cannot get credentials for {who}"))
            .with_help("log in again, or fix the user entry of this context in your kubeconfig"),
    }
}

#[cfg(unix)]
fn exit_signal(status: &std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

#[cfg(not(unix))]
fn exit_signal(_: &std::process::ExitStatus) -> Option<i32> {
    None
}

/// A namespace must be a DNS-1123 label; checked here so a typo is an input
/// error, not a confusing 404 from a URL path.
fn validate_namespace(ns: &str) -> Result<()> {
    let ok = !ns.is_empty()
        && ns.len() <= 63
        && ns
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !ns.starts_with('-')
        && !ns.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(
            Error::input(format!("`{ns}` is not a valid namespace name"))
                .with_help("namespaces are DNS-1123 labels: lowercase letters, digits and `-`"),
        )
    }
}

/// The full `source()` chain of an error, joined: "connection refused" sits
/// several levels down in hyper's errors.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(inner) = cur {
        let text = inner.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = inner.source();
    }
    parts.join(": ")
}

/// One request, named for messages: `list secrets in namespace x`.
#[derive(Debug, Clone)]
pub struct Operation {
    pub verb: &'static str,
    pub resource: &'static str,
    pub name: Option<String>,
    pub namespace: Option<String>,
}

impl Operation {
    fn describe(&self) -> String {
        let mut s = format!("{} {}", self.verb, self.resource);
        if let Some(name) = &self.name {
            s.push_str(&format!(" \"{name}\""));
        }
        if let Some(ns) = &self.namespace {
            s.push_str(&format!(" in namespace \"{ns}\""));
        }
        s
    }
}

impl Cluster {
    pub async fn connect(opts: &ConnectOptions) -> Result<Self> {
        let (kubeconfig, files) = load_kubeconfig(opts.kubeconfig.as_deref())?;
        let context = match opts
            .context
            .clone()
            .or_else(|| kubeconfig.current_context.clone())
        {
            Some(c) => c,
            None => {
                return Err(Error::new(
                    ErrorKind::Kubeconfig,
                    format!("the kubeconfig {} has no current context", files.describe()),
                )
                .with_help(
                    "pick one with --context, or set it with `kubectl config use-context NAME`",
                ));
            }
        };
        if !kubeconfig.contexts.iter().any(|c| c.name == context) {
            let known: Vec<&str> = kubeconfig
                .contexts
                .iter()
                .map(|c| c.name.as_str())
                .collect();
            return Err(Error::new(
                ErrorKind::Kubeconfig,
                format!(
                    "context `{context}` is not in the kubeconfig {}",
                    files.describe()
                ),
            )
            .with_help(format!(
                "known contexts: {}",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
        let (kubeconfig, user) = inline_credential_files(kubeconfig, &context, &files)?;
        let options = KubeConfigOptions {
            context: Some(context.clone()),
            cluster: None,
            user: None,
        };
        let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| kubeconfig_error(&files, config_error_text(&e)))?;
        // We retry reads ourselves, within the request timeout; kube's own
        // retry layer would also repeat writes and wait up to minutes.
        config.default_retry = false;
        config.connect_timeout = Some(
            opts.request_timeout
                .map_or(CONNECT_TIMEOUT, |t| t.min(CONNECT_TIMEOUT)),
        );
        config.read_timeout = opts.request_timeout;
        config.write_timeout = opts.request_timeout;
        let namespace = opts
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        validate_namespace(&namespace)?;
        let server = config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string();
        crate::log::log(2, || {
            format!(
                "kubeconfig {}, context {context}, server {server}, namespace {namespace}, request timeout {}",
                files.describe(),
                opts.request_timeout.map_or("none".to_string(), humanize)
            )
        });
        // Building the client runs a credential plugin, if the user has one.
        let client = kube::Client::try_from(config).map_err(|e| match &e {
            kube::Error::Auth(auth) => auth_error(auth, &context, &user),
            other => kubeconfig_error(&files, kube_error_text(other)),
        })?;
        Ok(Cluster {
            client,
            namespace,
            context,
            server,
            timeout: opts.request_timeout,
            user,
        })
    }

    fn secrets_api(&self) -> Api<Secret> {
        Api::namespaced(self.client.clone(), &self.namespace)
    }

    fn op(&self, verb: &'static str, name: Option<&str>) -> Operation {
        Operation {
            verb,
            resource: "secrets",
            name: name.map(str::to_string),
            namespace: Some(self.namespace.clone()),
        }
    }

    /// Run one request under the timeout and translate its error.
    async fn call<T, F>(&self, op: &Operation, fut: F) -> Result<T>
    where
        F: std::future::Future<Output = Result<T, kube::Error>>,
    {
        self.call_sending(op, &Sent::default(), fut).await
    }

    /// [`Self::call`] for a request that carries values (`sent`): they are
    /// blanked out of whatever the server says back.
    async fn call_sending<T, F>(&self, op: &Operation, sent: &Sent, fut: F) -> Result<T>
    where
        F: std::future::Future<Output = Result<T, kube::Error>>,
    {
        let started = std::time::Instant::now();
        crate::log::log(1, || format!("{} ...", op.describe()));
        let result = self.call_inner(op, sent, fut).await;
        crate::log::log(1, || {
            let outcome = match &result {
                Ok(_) => "ok".to_string(),
                Err(e) => format!("failed: {}", e.message()),
            };
            format!(
                "{} -> {outcome} in {}ms",
                op.describe(),
                started.elapsed().as_millis()
            )
        });
        result
    }

    async fn call_inner<T, F>(&self, op: &Operation, sent: &Sent, fut: F) -> Result<T>
    where
        F: std::future::Future<Output = Result<T, kube::Error>>,
    {
        let result = match self.timeout {
            Some(limit) => match tokio::time::timeout(limit, fut).await {
                Ok(r) => r,
                Err(_) => return Err(self.timeout_error(op, limit)),
            },
            None => fut.await,
        };
        result.map_err(|e| self.translate(op, sent, e))
    }

    /// A read, retried on transient failures with a short backoff.
    async fn read<T, F, Fut>(&self, op: &Operation, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, kube::Error>>,
    {
        let mut delay = Duration::from_millis(200);
        for n in 1..=READ_ATTEMPTS {
            match self.call(op, attempt()).await {
                Err(e) if n < READ_ATTEMPTS && is_transient(&e) => {
                    crate::log::log(1, || {
                        format!(
                            "retrying in {}ms (attempt {} of {READ_ATTEMPTS})",
                            delay.as_millis(),
                            n + 1
                        )
                    });
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                other => return other,
            }
        }
        Err(Error::new(
            ErrorKind::Server,
            format!("could not {}", op.describe()),
        ))
    }

    fn timeout_error(&self, op: &Operation, limit: Duration) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!("no answer from the API server at {} within {} (trying to {})", self.server, humanize(limit), op.describe()),
        )
        .with_help("check that the cluster is reachable (VPN, context), or allow more time with --request-timeout")
    }

    fn translate(&self, op: &Operation, sent: &Sent, e: kube::Error) -> Error {
        match e {
            kube::Error::Api(status) => self.status_error(
                op,
                status.code,
                &sent.scrub(&status.reason),
                &sent.scrub(&status.message),
            ),
            kube::Error::Auth(auth) => auth_error(&auth, &self.context, &self.user),
            // A credential plugin run again to refresh an expired token
            // fails inside kube's service stack.
            kube::Error::Service(inner) if inner.is::<kube::client::AuthError>() => {
                match inner.downcast_ref::<kube::client::AuthError>() {
                    Some(auth) => auth_error(auth, &self.context, &self.user),
                    None => self.unreachable(op, sent, "cannot get credentials"),
                }
            }
            kube::Error::HyperError(_) | kube::Error::Service(_) => {
                let chain = kube_error_text(&e);
                let lower = chain.to_lowercase();
                if lower.contains("timed out") || lower.contains("timeout") {
                    return self.timeout_error(op, self.timeout.unwrap_or(CONNECT_TIMEOUT));
                }
                self.unreachable(op, sent, &chain)
            }
            other => Error::new(
                ErrorKind::Server,
                format!(
                    "could not {} on {}: {}",
                    op.describe(),
                    self.server,
                    sent.scrub(&kube_error_text(&other))
                ),
            ),
        }
    }

    fn unreachable(&self, _op: &Operation, sent: &Sent, why: &str) -> Error {
        Error::new(
            ErrorKind::Unreachable,
            format!(
                "cannot reach the API server at {}: {}",
                self.server,
                sent.scrub(why)
            ),
        )
        .with_help(format!(
            "check that context `{}` points at a running cluster and that you can reach it (network, VPN, proxy)",
            self.context
        ))
    }

    fn status_error(&self, op: &Operation, code: u16, reason: &str, message: &str) -> Error {
        let what = op.describe();
        match code {
            401 => Error::new(
                ErrorKind::Unauthorized,
                format!("the API server at {} did not accept the credentials of context `{}` (401 Unauthorized)", self.server, self.context),
            )
            .with_help("log in again or refresh the credentials of this context's user in your kubeconfig"),
            403 => {
                let ns = op.namespace.as_deref().unwrap_or("default");
                Error::new(ErrorKind::Forbidden, format!("forbidden: you may not {what} (403: {message})")).with_help(format!(
                    "access is decided by the cluster's RBAC: ask an administrator for a Role that allows `{verb}` on `{res}` in namespace `{ns}`; check with `kubectl auth can-i {verb} {res} -n {ns}`",
                    verb = op.verb,
                    res = op.resource
                ))
            }
            404 => Error::new(ErrorKind::NotFound, format!("not found: {message} (trying to {what})"))
                .with_help("check the namespace (-n) and the context (--context)"),
            409 if reason == "AlreadyExists" => Error::new(ErrorKind::Conflict, format!("{message} (trying to {what})")),
            409 => Error::new(ErrorKind::Conflict, format!("conflict: {message} (trying to {what})"))
                .with_help("someone changed it since it was read; run the command again"),
            400 | 422 => Error::new(ErrorKind::Invalid, format!("the API server refused to {what}: {message} ({code} {reason})")),
            _ => Error::new(ErrorKind::Server, format!("the API server failed to {what}: {message} ({code} {reason})"))
                .with_help("this is the server's side; try again in a moment"),
        }
    }

    /// LIST secrets in the namespace, with a server-side label selector.
    pub async fn list_secrets(&self, selector: Option<&str>) -> Result<Vec<LiveSecret>> {
        let api = self.secrets_api();
        let params = match selector {
            Some(s) => ListParams::default().labels(s),
            None => ListParams::default(),
        };
        let op = self.op("list", None);
        crate::log::log(2, || {
            format!("label selector: {}", selector.unwrap_or("(none)"))
        });
        let list = self.read(&op, || api.list(&params)).await?;
        crate::log::log(1, || format!("listed {} secret(s)", list.items.len()));
        Ok(list
            .items
            .into_iter()
            .map(LiveSecret::from_object)
            .collect())
    }

    pub async fn get_secret(&self, name: &str) -> Result<Option<LiveSecret>> {
        let api = self.secrets_api();
        let op = self.op("get", Some(name));
        Ok(self
            .read(&op, || api.get_opt(name))
            .await?
            .map(LiveSecret::from_object))
    }

    pub async fn create_secret(&self, secret: &Secret) -> Result<LiveSecret> {
        let api = self.secrets_api();
        let name = secret.metadata.name.clone().unwrap_or_default();
        let op = self.op("create", Some(&name));
        let params = PostParams {
            field_manager: Some(FIELD_MANAGER.to_string()),
            ..PostParams::default()
        };
        let sent = Sent::of_secret(secret);
        Ok(LiveSecret::from_object(
            self.call_sending(&op, &sent, api.create(&params, secret))
                .await?,
        ))
    }

    /// A JSON merge patch of data and labels, conditional on `resource_version`
    /// (the server answers 409 Conflict if the object changed since). A `None`
    /// value removes that key.
    pub async fn merge_secret(
        &self,
        name: &str,
        resource_version: &str,
        labels: &BTreeMap<String, String>,
        data: &BTreeMap<String, Option<SecretBytes>>,
    ) -> Result<LiveSecret> {
        let api = self.secrets_api();
        let op = self.op("patch", Some(name));
        let sent = Sent::of_values(data.values().flatten().map(SecretBytes::expose));
        let data: serde_json::Map<String, serde_json::Value> = data
            .iter()
            .map(|(k, v)| {
                let value = v.as_ref().map_or(serde_json::Value::Null, |bytes| {
                    serde_json::to_value(k8s_openapi::ByteString(bytes.expose().to_vec()))
                        .unwrap_or(serde_json::Value::Null)
                });
                (k.clone(), value)
            })
            .collect();
        let patch = serde_json::json!({
            "metadata": {"resourceVersion": resource_version, "labels": labels},
            "data": data,
        });
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_string()),
            ..PatchParams::default()
        };
        Ok(LiveSecret::from_object(
            self.call_sending(&op, &sent, api.patch(name, &params, &Patch::Merge(&patch)))
                .await?,
        ))
    }

    /// DELETE with UID and resourceVersion preconditions: a secret replaced or
    /// changed since it was read is not deleted (409 Conflict).
    pub async fn delete_secret(
        &self,
        name: &str,
        uid: Option<String>,
        resource_version: Option<String>,
    ) -> Result<()> {
        let api = self.secrets_api();
        let op = self.op("delete", Some(name));
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                uid,
                resource_version,
            }),
            ..DeleteParams::default()
        };
        self.call(&op, api.delete(name, &params)).await.map(|_| ())
    }

    /// Who the server thinks we are. Old servers (before 1.28) lack the API.
    pub async fn whoami(&self) -> Result<ClusterUser> {
        let api: Api<SelfSubjectReview> = Api::all(self.client.clone());
        let op = Operation {
            verb: "create",
            resource: "selfsubjectreviews",
            name: None,
            namespace: None,
        };
        let review = self
            .call(
                &op,
                api.create(&PostParams::default(), &SelfSubjectReview::default()),
            )
            .await?;
        let info = review.status.and_then(|s| s.user_info).unwrap_or_default();
        Ok(ClusterUser {
            username: info.username.unwrap_or_default(),
            groups: info.groups.unwrap_or_default(),
        })
    }

    /// The label selector for the caller's own secrets.
    pub fn owner_selector(owner_hash: &str) -> String {
        format!("{}={owner_hash}", konduktor::LABEL_OWNER)
    }
}

/// The values a write carries, to blank out of what the server says back:
/// a validating webhook's 422 may quote the object it refused, data and
/// all. Each value is looked for as the base64 we sent, and, when it is
/// text of a few characters or more, as itself and JSON-escaped.
#[derive(Default)]
struct Sent {
    /// Longest first, so a value inside another is not left half-blanked.
    needles: Vec<String>,
}

/// Raw values shorter than this are not looked for: they would blank out
/// ordinary words of the message and say little about the value.
const MIN_SCRUBBED_CHARS: usize = 4;

const REDACTED: &str = "<redacted>";

impl std::fmt::Debug for Sent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sent({} needles)", self.needles.len())
    }
}

impl Sent {
    fn of_values<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut needles = Vec::new();
        for bytes in values {
            if bytes.is_empty() {
                continue;
            }
            needles.push(base64(bytes.to_vec()));
            if let Ok(text) = std::str::from_utf8(bytes)
                && text.chars().count() >= MIN_SCRUBBED_CHARS
            {
                needles.push(text.to_string());
                if let Ok(quoted) = serde_json::to_string(text)
                    && let Some(inner) = quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"'))
                    && inner != text
                {
                    needles.push(inner.to_string());
                }
            }
        }
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        needles.dedup();
        Sent { needles }
    }

    fn of_secret(secret: &Secret) -> Self {
        let data = secret.data.iter().flatten().map(|(_, v)| v.0.as_slice());
        let string_data = secret
            .string_data
            .iter()
            .flatten()
            .map(|(_, v)| v.as_bytes());
        Self::of_values(data.chain(string_data))
    }

    /// `text` with every value replaced by `<redacted>`.
    fn scrub<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        let mut out = std::borrow::Cow::Borrowed(text);
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = std::borrow::Cow::Owned(out.replace(needle.as_str(), REDACTED));
            }
        }
        out
    }
}

/// Worth another try: a server fault or a refused/dropped connection. A
/// timeout is not: the time allowed is already spent.
fn is_transient(e: &Error) -> bool {
    matches!(e.kind, ErrorKind::Server | ErrorKind::Unreachable)
}

/// `1m30s`-style text for a duration.
pub fn humanize(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// The longest `--request-timeout` allowed (0 still means no limit).
pub const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// kubectl's `--request-timeout`: a bare number of seconds, or a Go
/// duration (`500ms`, `30s`, `1m30s`, `1.5h`; units ns, us, µs, ms, s, m,
/// h). Zero means no limit. Negative values, values over
/// [`MAX_REQUEST_TIMEOUT`] and anything else are refused; the message does
/// not repeat the text (clap shows it).
pub fn parse_timeout(text: &str) -> Result<Option<Duration>, String> {
    const EXAMPLES: &str = "use e.g. 30s, 1m30s, 500ms, or 0 for no limit";
    let max_nanos = MAX_REQUEST_TIMEOUT.as_nanos();
    let too_long = || {
        format!(
            "at most {} is allowed (0 means no limit)",
            humanize(MAX_REQUEST_TIMEOUT)
        )
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("a duration is needed; {EXAMPLES}"));
    }
    if text.starts_with('-') {
        return Err(format!("a duration cannot be negative; {EXAMPLES}"));
    }
    let nanos: u128 = if text.bytes().all(|b| b.is_ascii_digit()) {
        saturating_digits(text).saturating_mul(1_000_000_000)
    } else {
        let mut total: u128 = 0;
        let mut rest = text.strip_prefix('+').unwrap_or(text);
        if rest.is_empty() {
            return Err(format!("not a duration; {EXAMPLES}"));
        }
        while !rest.is_empty() {
            let (whole, after) = rest.split_at(rest.bytes().take_while(u8::is_ascii_digit).count());
            let (fraction, after) = match after.strip_prefix('.') {
                Some(a) => a.split_at(a.bytes().take_while(u8::is_ascii_digit).count()),
                None => ("", after),
            };
            if whole.is_empty() && fraction.is_empty() {
                return Err(format!("not a duration; {EXAMPLES}"));
            }
            // Up to the next digit or dot: both ASCII, so a char boundary.
            let (unit, after) = after.split_at(
                after
                    .bytes()
                    .take_while(|b| !b.is_ascii_digit() && *b != b'.')
                    .count(),
            );
            let scale: u128 = match unit {
                "ns" => 1,
                "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
                "ms" => 1_000_000,
                "s" => 1_000_000_000,
                "m" => 60_000_000_000,
                "h" => 3_600_000_000_000,
                "" => return Err(format!("a number needs a unit after it; {EXAMPLES}")),
                _ => return Err(format!("unknown unit; {EXAMPLES}")),
            };
            // At most 19 fraction digits count (below a nanosecond for any
            // unit); 10^19 * scale stays far below u128::MAX.
            let digits = fraction.get(..19).unwrap_or(fraction);
            let fraction_nanos = u32::try_from(digits.len())
                .ok()
                .and_then(|n| 10u128.checked_pow(n))
                .map_or(0, |denominator| {
                    saturating_digits(digits).saturating_mul(scale) / denominator
                });
            total = total
                .saturating_add(saturating_digits(whole).saturating_mul(scale))
                .saturating_add(fraction_nanos);
            rest = after;
        }
        total
    };
    if nanos > max_nanos {
        return Err(too_long());
    }
    if nanos == 0 {
        return Ok(None);
    }
    u64::try_from(nanos)
        .map(|n| Some(Duration::from_nanos(n)))
        .map_err(|_| too_long())
}

/// A run of ASCII digits as a number, saturating instead of overflowing.
fn saturating_digits(digits: &str) -> u128 {
    digits.bytes().fold(0u128, |n, b| {
        n.saturating_mul(10)
            .saturating_add(u128::from(b.wrapping_sub(b'0')))
    })
}

#[cfg(test)]
mod tests;
