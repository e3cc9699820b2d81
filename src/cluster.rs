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
use crate::konduktor::{self, LiveSecret};
use crate::secret_value::SecretBytes;

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
}

/// Who the API server says we are (`SelfSubjectReview`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ClusterUser {
    pub username: String,
    pub groups: Vec<String>,
}

fn kubeconfig_error(files: &KubeconfigFiles, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Kubeconfig, format!("cannot use the kubeconfig {}: {e}", files.describe()))
        .with_help("check the file with `kubectl config view`, or point --kubeconfig / KUBECONFIG at a working one")
}

fn read_kubeconfig(path: &Path) -> Result<Kubeconfig> {
    let files = KubeconfigFiles(vec![path.to_path_buf()]);
    if !path.exists() {
        return Err(Error::new(
            ErrorKind::Kubeconfig,
            format!("the kubeconfig `{}` does not exist", path.display()),
        )
        .with_help("pass an existing file with --kubeconfig or KUBECONFIG"));
    }
    Kubeconfig::read_from(path).map_err(|e| kubeconfig_error(&files, error_chain(&e)))
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
        let options = KubeConfigOptions {
            context: Some(context.clone()),
            cluster: None,
            user: None,
        };
        let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|e| kubeconfig_error(&files, error_chain(&e)))?;
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
        let client = kube::Client::try_from(config)
            .map_err(|e| kubeconfig_error(&files, error_chain(&e)))?;
        Ok(Cluster {
            client,
            namespace,
            context,
            server,
            timeout: opts.request_timeout,
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
        let started = std::time::Instant::now();
        crate::log::log(1, || format!("{} ...", op.describe()));
        let result = self.call_inner(op, fut).await;
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

    async fn call_inner<T, F>(&self, op: &Operation, fut: F) -> Result<T>
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
        result.map_err(|e| self.translate(op, e))
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

    fn translate(&self, op: &Operation, e: kube::Error) -> Error {
        match e {
            kube::Error::Api(status) => {
                self.status_error(op, status.code, &status.reason, &status.message)
            }
            kube::Error::HyperError(_) | kube::Error::Service(_) => {
                let chain = error_chain(&e);
                if chain.to_lowercase().contains("timed out")
                    || chain.to_lowercase().contains("timeout")
                {
                    return self.timeout_error(op, self.timeout.unwrap_or(CONNECT_TIMEOUT));
                }
                Error::new(ErrorKind::Unreachable, format!("cannot reach the API server at {}: {chain}", self.server)).with_help(format!(
                    "check that context `{}` points at a running cluster and that you can reach it (network, VPN, proxy)",
                    self.context
                ))
            }
            kube::Error::Auth(_) => Error::new(
                ErrorKind::Unauthorized,
                format!(
                    "cannot get credentials for context `{}`: {}",
                    self.context,
                    error_chain(&e)
                ),
            )
            .with_help("log in again, or fix the user entry of this context in your kubeconfig"),
            other => Error::new(
                ErrorKind::Server,
                format!(
                    "could not {} on {}: {}",
                    op.describe(),
                    self.server,
                    error_chain(&other)
                ),
            ),
        }
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
        Ok(LiveSecret::from_object(
            self.call(&op, api.create(&params, secret)).await?,
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
            self.call(&op, api.patch(name, &params, &Patch::Merge(&patch)))
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

/// kubectl's `--request-timeout`: a bare number of seconds, or a duration with
/// units (`500ms`, `30s`, `1m`, `1h30m`). Zero means no limit.
pub fn parse_timeout(text: &str) -> Result<Option<Duration>, String> {
    let bad = || format!("`{text}` is not a duration; use e.g. 30s, 1m or 0 (no limit)");
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Ok((secs > 0).then(|| Duration::from_secs(secs)));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(bad)?;
        let number: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += Duration::from_secs_f64(number * scale);
        rest = &rest[unit_len..];
    }
    if text.is_empty() {
        return Err(bad());
    }
    Ok((!total.is_zero()).then_some(total))
}

#[cfg(test)]
mod tests;
