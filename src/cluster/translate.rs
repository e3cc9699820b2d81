//! A failed request in this cluster's words: kube's error or the server's
//! answer, read ([`super::errors::refusal`]) and worded with the server,
//! context and user it concerns, and any proxy in between.

use std::time::Duration;

use super::errors::{FailureClass, Operation, OverCap, Refusal, Sent, auth_error, refusal};
use super::text::{bounded, kube_error_text};
use super::{CONNECT_TIMEOUT, Cluster, humanize};
use crate::error::{Error, ErrorKind};

impl Cluster {
    pub(super) fn timeout_error(&self, op: &Operation, limit: Duration) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!("no answer from the API server at {} within {} (trying to {})", self.server, humanize(limit), op.describe()),
        )
        .with_help("check that the cluster is reachable (VPN, context), or allow more time with --request-timeout")
    }

    pub(super) fn translate(&self, op: &Operation, sent: &Sent, e: kube::Error) -> Error {
        if let Some(cap) = OverCap::of(&e) {
            return self.over_cap(op, cap);
        }
        match e {
            kube::Error::Api(status) => self.status_error(op, &scrubbed(sent, &status)),
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
                // kube's connector stops a connection not made (TCP, the
                // proxy's CONNECT, TLS) within its connect timeout with
                // tokio's "deadline has elapsed".
                if let Some(tunnel) = &self.tunnel
                    && chain.contains("(Connect)")
                    && ["timed out", "timeout", "deadline has elapsed"]
                        .iter()
                        .any(|t| lower.contains(t))
                {
                    let connect_limit = self
                        .timeout
                        .map_or(CONNECT_TIMEOUT, |t| t.min(CONNECT_TIMEOUT));
                    return self.tunnel_timeout(tunnel, connect_limit);
                }
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

    /// An answer this tool stopped reading (over a cap, or a page of more
    /// items than asked for): said as such, and never asked for again.
    fn over_cap(&self, op: &Operation, cap: &OverCap) -> Error {
        let e = Error::new(
            ErrorKind::Server,
            format!("could not {} on {}: {cap}", op.describe(), self.server),
        )
        .final_answer();
        match cap {
            OverCap::Page(_) => e.with_help(format!(
                "a real API server's pages fit: {} Secrets of the 1 MiB Kubernetes allows each are under {} MiB; check that context `{}` points at the cluster's API server, not at something in front of it",
                super::pages::SMALL_PAGE,
                super::pages::MAX_PAGE_BYTES >> 20,
                self.context
            )),
            OverCap::TooMany(_) => e.with_help(format!(
                "check that context `{}` points at the cluster's API server, not at something in front of it",
                self.context
            )),
            OverCap::Answer(_) => e,
        }
    }

    /// The proxy took no tunnel to the server within `limit`: it did not
    /// answer our `CONNECT` (or let the connection stall), which is the
    /// proxy's doing, not the API server's.
    fn tunnel_timeout(&self, tunnel: &super::proxy::Tunnel, limit: Duration) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!(
                "{} did not open a tunnel to the API server at {} ({}) within {}",
                tunnel.named,
                self.server,
                tunnel.target,
                humanize(limit)
            ),
        )
        .with_help("the proxy took the connection but did not answer the CONNECT: check that it is the right proxy and that it is up (`curl -v -x PROXY URL` shows its answer), or allow more time with --request-timeout")
    }

    /// The proxy refused the tunnel: its status (asked again where kube's
    /// connector does not keep it) and what that means.
    pub(super) async fn tunnel_refused(
        &self,
        tunnel: &super::proxy::Tunnel,
        refusal: super::proxy::TunnelRefusal,
    ) -> Error {
        use super::proxy::TunnelRefusal;
        let status = match refusal {
            TunnelRefusal::AuthRequired => Some(407),
            TunnelRefusal::Refused => {
                tunnel
                    .status(self.timeout.unwrap_or(CONNECT_TIMEOUT).min(CONNECT_TIMEOUT))
                    .await
            }
        };
        let head = format!(
            "{} refused to open a tunnel to the API server at {}",
            tunnel.named, self.server
        );
        match status {
            Some(407) => Error::new(
                ErrorKind::Unauthorized,
                format!("{head} (407 Proxy Authentication Required): the proxy wants credentials"),
            )
            .with_help("give the proxy's user and password in its URL, http://USER:PASSWORD@HOST:PORT (percent-encode `@`, `:` and `%` in them), or check the ones given"),
            Some(403) => Error::new(
                ErrorKind::Forbidden,
                format!("{head} (403 Forbidden): the proxy refused to open a tunnel to {}", tunnel.target),
            )
            .with_help("the proxy does not allow this host or port: ask its administrators, or, if the cluster is reachable without it, add the host to NO_PROXY"),
            Some(code) => Error::new(
                ErrorKind::Unreachable,
                format!("{head} ({code}): the proxy refused to open a tunnel to {}", tunnel.target),
            )
            .with_help("the status is the proxy's: check that it can reach the cluster (a 502 or 504 says it could not)"),
            None => Error::new(
                ErrorKind::Unreachable,
                format!("{head}: the proxy refused to open a tunnel to {} (its status could not be read)", tunnel.target),
            )
            .with_help("check the proxy's logs, or `curl -v -x PROXY URL` to see its answer"),
        }
    }

    /// A 401 or 403 to a request sent without the user's credentials,
    /// which were withheld because the server is plain http
    /// (`kubeconfig::withhold_credentials_over_http`): that is the cause
    /// to name, not the user's RBAC or login.
    fn refused_without_credentials(&self, status: &kube::core::Status) -> Error {
        let held = self.user.withheld.as_deref().unwrap_or("credentials");
        let kind = if status.code == 401 {
            ErrorKind::Unauthorized
        } else {
            ErrorKind::Forbidden
        };
        Error::new(
            kind,
            format!(
                "the API server at {} refused a request sent without credentials ({} {}): the credentials of user `{}` of context `{}` ({held}) are not sent over plain http",
                self.server, status.code, status.reason, self.user.name, self.context
            ),
        )
        .with_help("credentials go only over TLS, as with kubectl: write the cluster's https:// address as its `server:` in the kubeconfig")
    }

    fn unreachable(&self, _op: &Operation, sent: &Sent, why: &str) -> Error {
        Error::new(
            ErrorKind::Unreachable,
            format!(
                "cannot reach the API server at {}{}: {}",
                self.server,
                self.via.as_ref().map(|v| format!(" {v}")).unwrap_or_default(),
                sent.scrub(why)
            ),
        )
        .with_help(format!(
            "check that context `{}` points at a running cluster and that you can reach it (network, VPN, proxy)",
            self.context
        ))
    }

    /// A failure answer, read ([`refusal`]) and worded for its class.
    fn status_error(&self, op: &Operation, status: &kube::core::Status) -> Error {
        let read = refusal(status);
        let class = read.class();
        let e = self.refusal_error(op, &bounded_status(status), read);
        debug_assert_eq!(FailureClass::of(&e), class);
        e
    }

    fn refusal_error(&self, op: &Operation, status: &kube::core::Status, read: Refusal) -> Error {
        let what = op.describe();
        let (code, reason, message) =
            (status.code, status.reason.as_str(), status.message.as_str());
        let ns = op.namespace.as_deref().unwrap_or("default");
        match read {
            Refusal::Unauthorized | Refusal::Permission if self.user.withheld.is_some() => {
                self.refused_without_credentials(status)
            }
            Refusal::Unauthorized => Error::new(
                ErrorKind::Unauthorized,
                format!("the API server at {} did not accept the credentials of context `{}` (401 Unauthorized)", self.server, self.context),
            )
            .with_help("log in again or refresh the credentials of this context's user in your kubeconfig"),
            Refusal::Quota(q) => {
                // A message without the quota's name still says which resource.
                let (quota, named) = if q.quota.is_empty() {
                    ("a ResourceQuota".to_string(), String::new())
                } else {
                    (format!("the ResourceQuota \"{}\"", q.quota), format!("{} ", q.quota))
                };
                Error::new(
                    ErrorKind::Quota,
                    format!(
                        "{quota} of namespace \"{ns}\" is used up: {}; could not {what}",
                        q.describe()
                    ),
                )
                .with_help(format!(
                    "running again will not help until there is room: delete secrets you no longer need, or ask an administrator to raise the quota (see `kubectl describe resourcequota {named}-n {ns}`)"
                ))
            }
            Refusal::NamespaceMissing { namespace } => {
                let namespace = namespace.unwrap_or_else(|| ns.to_string());
                Error::new(
                    ErrorKind::Gone,
                    format!("namespace \"{namespace}\" does not exist (trying to {what})"),
                )
                .with_help(format!(
                    "check the namespace (-n) and the context (--context) of context `{}`: `kubectl get namespaces` lists those there are; running again will not help until the namespace exists",
                    self.context
                ))
            }
            Refusal::NamespaceTerminating { namespace } => {
                let namespace = namespace.unwrap_or_else(|| ns.to_string());
                Error::new(
                    ErrorKind::Gone,
                    format!("namespace \"{namespace}\" is being deleted (Terminating): nothing new can be created in it (trying to {what})"),
                )
                .with_help("use another namespace (-n); running again will not help: once the namespace is gone, an administrator may create it again")
            }
            Refusal::Permission if op.namespace.is_none() => Error::new(ErrorKind::Forbidden, format!("forbidden: you may not {what} in all namespaces (403: {message})")).with_help(format!(
                "access is decided by the cluster's RBAC: this needs a ClusterRole that allows `{verb}` on `{res}` in every namespace; check with `kubectl auth can-i {verb} {res} -A`, or ask about one namespace with -n",
                verb = op.verb,
                res = op.resource
            )),
            Refusal::Permission => Error::new(ErrorKind::Forbidden, format!("forbidden: you may not {what} (403: {message})")).with_help(format!(
                "access is decided by the cluster's RBAC: ask an administrator for a Role that allows `{verb}` on `{res}` in namespace `{ns}`; check with `kubectl auth can-i {verb} {res} -n {ns}`",
                verb = op.verb,
                res = op.resource
            )),
            Refusal::NotFound => Error::new(ErrorKind::NotFound, format!("not found: {message} (trying to {what})"))
                .with_help("check the namespace (-n) and the context (--context)"),
            Refusal::AlreadyExists => Error::new(ErrorKind::Conflict, format!("{message} (trying to {what})")),
            Refusal::Conflict => Error::new(ErrorKind::Conflict, format!("conflict: {message} (trying to {what})"))
                .with_help("someone changed it since it was read; run the command again"),
            Refusal::Immutable => {
                let name = op.name.as_deref().unwrap_or("the secret");
                Error::new(
                    ErrorKind::Invalid,
                    format!("secret \"{name}\" is immutable (`immutable: true`): its data cannot change (trying to {what}; {code} {reason})"),
                )
                .with_help(format!(
                    "running again will not help: an immutable Secret can only be deleted and written anew (`kubectl delete secret {name} -n {ns}`, then write it again), or use another name"
                ))
            }
            Refusal::Invalid => Error::new(ErrorKind::Invalid, format!("the API server refused to {what}: {message} ({code} {reason})")),
            Refusal::TooLarge => Error::new(
                ErrorKind::TooLarge,
                format!("the API server at {} refused to {what}: the request is larger than it accepts ({message}; {code} {reason})", self.server),
            )
            .with_help("running again will not help: the object is too large for this server; make the secret smaller (fewer keys or smaller values: its data, key names included, must stay under 1 MiB), or split it into several secrets"),
            Refusal::Server => Error::new(ErrorKind::Server, format!("the API server failed to {what}: {message} ({code} {reason})"))
                .with_help("this is the server's side; try again in a moment"),
        }
    }
}

/// `status` with the values a write carried blanked out of its texts: the
/// ones that can quote a request. Not the details' kind or the causes'
/// reasons, which [`refusal`] reads to class the failure.
fn scrubbed(sent: &Sent, status: &kube::core::Status) -> kube::core::Status {
    let mut status = status.clone();
    status.message = sent.scrub(&status.message).into_owned();
    status.reason = sent.scrub(&status.reason).into_owned();
    if let Some(details) = status.details.as_mut() {
        for cause in &mut details.causes {
            cause.message = sent.scrub(&cause.message).into_owned();
        }
    }
    status
}

/// `status` with each of its texts [`bounded`].
fn bounded_status(status: &kube::core::Status) -> kube::core::Status {
    let cut = |t: &mut String| {
        if let std::borrow::Cow::Owned(b) = bounded(t) {
            *t = b;
        }
    };
    let mut status = status.clone();
    cut(&mut status.message);
    cut(&mut status.reason);
    if let Some(details) = status.details.as_mut() {
        cut(&mut details.name);
        cut(&mut details.kind);
        cut(&mut details.group);
        cut(&mut details.uid);
        for cause in &mut details.causes {
            cut(&mut cause.message);
            cut(&mut cause.reason);
            cut(&mut cause.field);
        }
    }
    status
}

#[cfg(test)]
#[path = "translate_tests.rs"]
mod tests;
