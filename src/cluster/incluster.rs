//! In a pod without a kubeconfig, the pod's service account, as client-go's
//! `rest.InClusterConfig` (and so kubectl, and Konduktor's CLI) uses it:
//! the server `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`,
//! the token, CA and namespace from [`SERVICE_ACCOUNT_DIR`]. It is made
//! into a kubeconfig of one context, so everything after (the proxy, the
//! messages) is as for any other.
//!
//! The folder is a constant: no variable or flag moves it (it holds what
//! the tool trusts). Tests give these functions another folder
//! (`incluster_tests.rs`), and tests/e2e/proxies.rs runs the binary with a
//! private mount at the real place.

use std::path::Path;

use kube::config::{
    AuthInfo, Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};

use super::text::{base64, is_header_value};
use crate::error::{Error, ErrorKind, Result};
use crate::input::file as input_file;

/// Where Kubernetes mounts a pod's service account.
pub(super) const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// The names the made-up kubeconfig gives its context and user, as
/// messages show them.
pub(super) const CONTEXT: &str = "in-cluster";
pub(super) const USER: &str = "service account";

fn var(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.is_empty())
}

/// client-go's `Possible()`: both variables set and a token file there.
pub(super) fn possible(root: &Path, env: &dyn Fn(&str) -> Option<String>) -> bool {
    var(env, "KUBERNETES_SERVICE_HOST").is_some()
        && var(env, "KUBERNETES_SERVICE_PORT").is_some()
        && root.join("token").metadata().is_ok_and(|m| !m.is_dir())
}

fn service_account_error(what: String) -> Error {
    Error::new(ErrorKind::Kubeconfig, what).with_help(
        "in a pod, mount the service account token (automountServiceAccountToken); elsewhere, point --kubeconfig or KUBECONFIG at the kubeconfig of your cluster",
    )
}

/// The kubeconfig the service account in `root` makes. The token is read
/// once here, bounded, to check it, and left to kube as a `tokenFile`, which
/// kube reads again as the kubelet renews it (unless it must be trimmed); the CA is read here, bounded;
/// the namespace is `POD_NAMESPACE`, else the `namespace` file, else
/// `default`, as client-go's.
pub(super) fn kubeconfig(root: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Kubeconfig> {
    let (Some(host), Some(port)) = (
        var(env, "KUBERNETES_SERVICE_HOST"),
        var(env, "KUBERNETES_SERVICE_PORT"),
    ) else {
        return Err(service_account_error(
            "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not both set".into(),
        ));
    };
    // What Kubernetes sets is a port number and an address (or a name):
    // anything else would only fail later as a connection nobody made.
    if !port.parse::<u16>().is_ok_and(|p| p > 0) {
        return Err(service_account_error(format!(
            "KUBERNETES_SERVICE_PORT is `{}`, not a port number (1-65535)",
            crate::escape::text(&port)
        )));
    }
    if host.contains(['/', '@', '?', '#'])
        || host.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(service_account_error(format!(
            "KUBERNETES_SERVICE_HOST is `{}`, not a host name or address",
            crate::escape::text(&host)
        )));
    }
    // net.JoinHostPort: an IPv6 address goes in brackets.
    let server = if host.contains(':') && !host.starts_with('[') {
        format!("https://[{host}]:{port}")
    } else {
        format!("https://{host}:{port}")
    };
    let read = |name: &str, cap: u64| {
        input_file::read_regular(&root.join(name), cap).map_err(|e| {
            Error::new(
                ErrorKind::Kubeconfig,
                format!("cannot use the service account's {name}: {e}"),
            )
            .with_help(e.help())
        })
    };
    let token_path = root.join("token");
    let token = read("token", input_file::MAX_CREDENTIAL_FILE_BYTES)?;
    let text = std::str::from_utf8(&token).unwrap_or_default();
    let trimmed = text.trim();
    if trimmed.is_empty() || !is_header_value(trimmed) {
        return Err(service_account_error(format!(
            "the service account token `{}` is not one line of printable text (not shown)",
            crate::escape::path(&token_path)
        )));
    }
    let ca_path = root.join("ca.crt");
    let ca = if ca_path.exists() {
        Some(base64(read(
            "ca.crt",
            input_file::MAX_CREDENTIAL_FILE_BYTES,
        )?))
    } else {
        None
    };
    let namespace = match var(env, "POD_NAMESPACE") {
        Some(ns) => ns,
        None if root.join("namespace").exists() => {
            let bytes = read("namespace", input_file::MAX_USER_HASH_BYTES)?;
            String::from_utf8_lossy(&bytes).trim().to_string()
        }
        None => "default".to_string(),
    };
    // kube sends the file as it is: one with a line break around the
    // token (client-go trims it) is sent trimmed, and not read again.
    let path = token_path.to_str().filter(|_| text == trimmed);
    let auth_info = match path {
        Some(path) => AuthInfo {
            token_file: Some(path.to_string()),
            ..AuthInfo::default()
        },
        None => AuthInfo {
            token: Some(trimmed.to_string().into()),
            ..AuthInfo::default()
        },
    };
    Ok(Kubeconfig {
        clusters: vec![NamedCluster {
            name: CONTEXT.into(),
            cluster: Some(Cluster {
                server: Some(server),
                certificate_authority_data: ca,
                ..Cluster::default()
            }),
            other: Default::default(),
        }],
        auth_infos: vec![NamedAuthInfo {
            name: USER.into(),
            auth_info: Some(auth_info),
            other: Default::default(),
        }],
        contexts: vec![NamedContext {
            name: CONTEXT.into(),
            context: Some(Context {
                cluster: CONTEXT.into(),
                user: Some(USER.into()),
                namespace: Some(namespace).filter(|ns| !ns.is_empty()),
                ..Context::default()
            }),
            other: Default::default(),
        }],
        current_context: Some(CONTEXT.into()),
        ..Kubeconfig::default()
    })
}

#[cfg(test)]
#[path = "incluster_tests.rs"]
mod tests;
