//! Kubeconfigs of several contexts, as a user who reaches several clusters
//! (or several namespaces of one) writes them: the one builder behind
//! tests/e2e/targets.rs's three targets, the documents' two clusters and
//! the contexts with awkward names.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{TestEnv, apiserver, proxy};

/// A kubeconfig, its contexts added one by one; the first is current.
pub fn kubeconfig() -> Kubeconfig {
    Kubeconfig {
        contexts: Vec::new(),
    }
}

pub struct Kubeconfig {
    contexts: Vec<Context>,
}

struct Context {
    name: String,
    cluster: Value,
    user: Value,
    namespace: String,
}

impl Kubeconfig {
    /// Context `name`: the test server at `url` (trusted through the test
    /// CA), as alice, in `namespace`.
    pub fn fake(self, name: &str, url: &str, namespace: &str) -> Self {
        self.context(
            name,
            json!({"server": url, "certificate-authority-data": proxy::ca_data()}),
            json!({"token": apiserver::ALICE_TOKEN}),
            namespace,
        )
    }

    /// Context `name` with its own cluster and user entries (both named
    /// `name`, as the context), in `namespace`.
    pub fn context(mut self, name: &str, cluster: Value, user: Value, namespace: &str) -> Self {
        self.contexts.push(Context {
            name: name.to_string(),
            cluster,
            user,
            namespace: namespace.to_string(),
        });
        self
    }

    /// The file's text: JSON, which is YAML (kube reads it as kubectl
    /// does), with a raw C1 control written escaped, as a user would (YAML
    /// takes none).
    pub fn text(&self) -> String {
        let entries = |part: fn(&Context) -> (&str, Value)| -> Vec<Value> {
            self.contexts
                .iter()
                .map(|c| {
                    let (key, value) = part(c);
                    json!({"name": c.name, key: value})
                })
                .collect()
        };
        let config = json!({"apiVersion": "v1", "kind": "Config",
            "clusters": entries(|c| ("cluster", c.cluster.clone())),
            "users": entries(|c| ("user", c.user.clone())),
            "contexts": entries(|c| ("context", json!({
                "cluster": c.name, "user": c.name, "namespace": c.namespace}))),
            "current-context": self.contexts.first().map(|c| c.name.as_str()).unwrap_or_default()});
        config.to_string().replace('\u{9b}', "\\u009b")
    }
}

impl TestEnv {
    /// Write `config` to `rel` in the scratch folder.
    pub fn kubeconfig_file(&self, rel: &str, config: &Kubeconfig) -> PathBuf {
        self.file(rel, config.text())
    }
}
