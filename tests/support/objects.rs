//! Secrets in the cluster as a test sets them up and reads them back:
//! objects another writer left (Konduktor's CLI, a co-tenant, a
//! controller) built in one expression, and our secrets read by basename.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Map, Value, json};

use super::{OWNER, TestEnv};

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The object name of the test owner's secret `basename`
/// (docs/konduktor-compat.md §1.1: `<basename>-<owner hash>`).
pub fn mine(basename: &str) -> String {
    format!("{basename}-{OWNER}")
}

/// Konduktor's four labels on a secret of `owner` (docs/konduktor-compat.md §1.1).
pub fn labels(owner: &str, basename: &str, kind: &str) -> Value {
    json!({"parent": "konduktor", "trainy.ai/secret-owner": owner,
        "trainy.ai/secret-basename": basename, "trainy.ai/secret-kind": kind})
}

/// A Secret to put in the namespace with [`TestEnv::seed`]: by default one
/// of the test owner's, kind `env`, Opaque, named `<basename>-<owner>`,
/// with Konduktor's labels and no data.
pub fn secret_object(basename: &str) -> SecretObject {
    SecretObject {
        basename: basename.to_string(),
        owner: OWNER.to_string(),
        kind: "env".to_string(),
        secret_type: "Opaque".to_string(),
        name: None,
        labels: None,
        annotations: Map::new(),
        data: Map::new(),
        immutable: false,
    }
}

/// A `kubernetes.io/tls` Secret carrying our labels (kind `default`), as
/// a certificate controller that copies labels leaves one: never ours.
pub fn tls_secret(basename: &str, crt: &str, key: &str) -> SecretObject {
    secret_object(basename)
        .kind("default")
        .of_type("kubernetes.io/tls")
        .value("tls.crt", crt)
        .value("tls.key", key)
}

pub struct SecretObject {
    basename: String,
    owner: String,
    kind: String,
    secret_type: String,
    name: Option<String>,
    labels: Option<Value>,
    annotations: Map<String, Value>,
    data: Map<String, Value>,
    immutable: bool,
}

impl SecretObject {
    /// Another owner's: its label and its name.
    pub fn owner(mut self, hash: &str) -> Self {
        self.owner = hash.to_string();
        self
    }

    pub fn kind(mut self, kind: &str) -> Self {
        self.kind = kind.to_string();
        self
    }

    /// A Secret `type` other than Opaque (`kubernetes.io/tls`, ...).
    pub fn of_type(mut self, secret_type: &str) -> Self {
        self.secret_type = secret_type.to_string();
        self
    }

    /// An object name other than `<basename>-<owner>`.
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// These labels instead of Konduktor's four.
    pub fn labels(mut self, labels: Value) -> Self {
        self.labels = Some(labels);
        self
    }

    pub fn annotation(mut self, key: &str, value: &str) -> Self {
        self.annotations.insert(key.to_string(), json!(value));
        self
    }

    /// `key` holding `value` (stored base64-encoded, as the API keeps it).
    pub fn value(mut self, key: &str, value: impl AsRef<[u8]>) -> Self {
        self.data.insert(key.to_string(), json!(b64(value)));
        self
    }

    pub fn values(self, pairs: &[(&str, &str)]) -> Self {
        pairs
            .iter()
            .fold(self, |object, (key, value)| object.value(key, value))
    }

    pub fn immutable(mut self) -> Self {
        self.immutable = true;
        self
    }

    pub fn json(self) -> Value {
        let name = self
            .name
            .unwrap_or_else(|| format!("{}-{}", self.basename, self.owner));
        let labels = self
            .labels
            .unwrap_or_else(|| labels(&self.owner, &self.basename, &self.kind));
        let mut metadata = json!({"name": name, "labels": labels});
        if !self.annotations.is_empty() {
            metadata["annotations"] = Value::Object(self.annotations);
        }
        let mut object = json!({"apiVersion": "v1", "kind": "Secret", "type": self.secret_type,
            "metadata": metadata, "data": self.data});
        if self.immutable {
            object["immutable"] = json!(true);
        }
        object
    }
}

impl From<SecretObject> for Value {
    fn from(object: SecretObject) -> Value {
        object.json()
    }
}

impl TestEnv {
    /// One of the test owner's secrets, as an earlier run or Konduktor's
    /// CLI left it: `basename` of `kind` holding `pairs`.
    pub fn seed_mine(&self, basename: &str, kind: &str, pairs: &[(&str, &str)]) {
        self.seed(secret_object(basename).kind(kind).values(pairs));
    }

    /// The test owner's secret `basename`, if the cluster holds it.
    pub fn my_secret(&self, basename: &str) -> Option<Value> {
        self.secret(&mine(basename))
    }

    /// Ask a real cluster whether it would create `objects` (YAML or JSON)
    /// in the test namespace: a server-side dry run; its refusal if not.
    pub fn dry_run_create(&self, objects: &str) -> Result<(), String> {
        let out = super::kubectl(
            &self.kubeconfig,
            &[
                "create",
                "--dry-run=server",
                "-n",
                &self.namespace,
                "-f",
                "-",
            ],
            Some(objects),
        );
        match out.status.success() {
            true => Ok(()),
            false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
        }
    }

    /// The decoded data of the test owner's secret `basename` (it must exist).
    pub fn my_data(&self, basename: &str) -> BTreeMap<String, Vec<u8>> {
        self.data(&mine(basename))
    }
}
