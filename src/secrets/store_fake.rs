//! An in-memory [`SecretStore`] for unit tests: it records every call,
//! answers reads from the secrets it is given, fails the writes it is told
//! to, and counts how many writes were in flight at once.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use k8s_openapi::api::core::v1::Secret;

use super::SecretStore;
use crate::error::{Error, ErrorKind, Result};
use crate::konduktor::LiveSecret;
use crate::konduktor::secret_value::SecretBytes;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    List(Option<String>),
    Get(String),
    /// An access review of this verb.
    May(String),
    /// An access review of this verb on this object.
    MayNamed(String, String),
    /// A rules review.
    Rules,
    Create(String),
    Merge {
        name: String,
        resource_version: String,
        /// Each key sent, and whether with a value (`false`: removed).
        keys: Vec<(String, bool)>,
        labels: BTreeMap<String, String>,
        annotations: BTreeMap<String, String>,
    },
    Delete {
        name: String,
        uid: Option<String>,
        resource_version: Option<String>,
    },
}

impl Call {
    pub fn is_delete(&self) -> bool {
        matches!(self, Call::Delete { .. })
    }
}

#[derive(Debug, Default)]
pub struct FakeStore {
    /// What reads see.
    pub secrets: Vec<LiveSecret>,
    /// Object name -> the error a write to it fails with.
    pub fail: BTreeMap<String, ErrorKind>,
    /// Object name -> the error only a create of it fails with.
    pub fail_create: BTreeMap<String, ErrorKind>,
    /// Verbs an access review denies.
    pub denied: Vec<&'static str>,
    /// (verb, object name) a named review allows though the verb is denied.
    pub allowed_names: Vec<(&'static str, String)>,
    /// What a rules review answers (`None`: the server cannot say).
    pub rules: Option<crate::cluster::access::SecretRules>,
    /// Object name -> the finalizers that hold it once deleted (a delete
    /// leaves it Terminating).
    pub held: BTreeMap<String, Vec<String>>,
    /// A server that ignores label selectors: every LIST answers all.
    pub ignore_selectors: bool,
    /// Object name -> the errors its next writes fail with, one each, before
    /// `fail` applies.
    fail_next: Mutex<BTreeMap<String, std::collections::VecDeque<ErrorKind>>>,
    calls: Mutex<Vec<Call>>,
    /// Every object a create sent.
    created: Mutex<Vec<Secret>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl FakeStore {
    pub fn new(secrets: Vec<LiveSecret>) -> Self {
        FakeStore {
            secrets,
            ..FakeStore::default()
        }
    }

    pub fn failing(mut self, name: &str, kind: ErrorKind) -> Self {
        self.fail.insert(name.to_string(), kind);
        self
    }

    /// The next writes to `name` fail with `kinds`, in order.
    pub fn failing_next(self, name: &str, kinds: &[ErrorKind]) -> Self {
        if let Ok(mut next) = self.fail_next.lock() {
            next.insert(name.to_string(), kinds.iter().copied().collect());
        }
        self
    }

    /// Every LIST answers every secret, whatever its selector.
    pub fn ignoring_selectors(mut self) -> Self {
        self.ignore_selectors = true;
        self
    }

    pub fn denying(mut self, verb: &'static str) -> Self {
        self.denied.push(verb);
        self
    }

    /// A Role that allows `verb` on these names only (`resourceNames`):
    /// the name-less review denies it, named reviews and the rules allow
    /// it for these names.
    pub fn allowing_only(mut self, verb: &'static str, names: &[&str]) -> Self {
        use crate::cluster::access::{SecretRule, SecretRules};
        self.denied.push(verb);
        self.allowed_names
            .extend(names.iter().map(|n| (verb, n.to_string())));
        let rules = self.rules.get_or_insert_with(|| SecretRules {
            rules: vec![SecretRule {
                verbs: ["get", "list", "create", "patch", "delete"]
                    .iter()
                    .filter(|v| !self.denied.contains(v))
                    .map(|v| v.to_string())
                    .collect(),
                names: Vec::new(),
            }],
            incomplete: false,
        });
        rules.rules.push(SecretRule {
            verbs: vec![verb.to_string()],
            names: names.iter().map(|n| n.to_string()).collect(),
        });
        self
    }

    pub fn failing_create(mut self, name: &str, kind: ErrorKind) -> Self {
        self.fail_create.insert(name.to_string(), kind);
        self
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// The objects creates sent, in order.
    pub fn created_objects(&self) -> Vec<Secret> {
        self.created.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// The most writes that were in flight at once.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }

    /// Record the call, hold it in flight across a few yields (so other
    /// writes can start), then answer as told.
    async fn write(&self, name: &str, call: Call) -> Result<()> {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(call);
        }
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        let next = self
            .fail_next
            .lock()
            .ok()
            .and_then(|mut n| n.get_mut(name).and_then(|kinds| kinds.pop_front()));
        if let Some(kind) = next {
            return Err(Error::new(kind, format!("the fake refused {name}")));
        }
        match self.fail.get(name) {
            Some(kind) => Err(Error::new(*kind, format!("the fake refused {name}"))),
            None => Ok(()),
        }
    }

    fn record(&self, call: Call) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(call);
        }
    }
}

/// Does `s` match a selector of `key=value` terms joined by commas?
fn selected(s: &LiveSecret, selector: Option<&str>) -> bool {
    selector.unwrap_or_default().split(',').all(|term| {
        term.is_empty()
            || term
                .split_once('=')
                .is_some_and(|(k, v)| s.labels.get(k).map(String::as_str) == Some(v))
    })
}

impl SecretStore for FakeStore {
    fn namespace(&self) -> &str {
        "fake-ns"
    }

    async fn list(&self, selector: Option<&str>) -> Result<Vec<LiveSecret>> {
        self.record(Call::List(selector.map(str::to_string)));
        Ok(self
            .secrets
            .iter()
            .filter(|s| self.ignore_selectors || selected(s, selector))
            .cloned()
            .collect())
    }

    async fn get(&self, name: &str) -> Result<Option<LiveSecret>> {
        self.record(Call::Get(name.to_string()));
        Ok(self.secrets.iter().find(|s| s.name == name).cloned())
    }

    async fn create(&self, secret: &Secret) -> Result<()> {
        let name = secret.metadata.name.clone().unwrap_or_default();
        if let Ok(mut created) = self.created.lock() {
            created.push(secret.clone());
        }
        let written = self.write(&name, Call::Create(name.clone())).await;
        match self.fail_create.get(&name) {
            Some(kind) => Err(Error::new(*kind, format!("{name} already exists"))),
            None => written,
        }
    }

    async fn merge(
        &self,
        name: &str,
        resource_version: &str,
        metadata: &super::PatchMeta,
        data: &BTreeMap<String, Option<SecretBytes>>,
    ) -> Result<()> {
        let call = Call::Merge {
            name: name.to_string(),
            resource_version: resource_version.to_string(),
            keys: data.iter().map(|(k, v)| (k.clone(), v.is_some())).collect(),
            labels: metadata.labels.clone(),
            annotations: metadata.annotations.clone(),
        };
        self.write(name, call).await
    }

    async fn may(&self, verb: &'static str) -> Result<Option<bool>> {
        self.record(Call::May(verb.to_string()));
        Ok(Some(!self.denied.contains(&verb)))
    }

    async fn may_named(&self, verb: &'static str, name: &str) -> Result<Option<bool>> {
        self.record(Call::MayNamed(verb.to_string(), name.to_string()));
        Ok(Some(
            !self.denied.contains(&verb)
                || self
                    .allowed_names
                    .iter()
                    .any(|(v, n)| *v == verb && n == name),
        ))
    }

    async fn secret_rules(&self) -> Result<Option<crate::cluster::access::SecretRules>> {
        self.record(Call::Rules);
        Ok(self.rules.clone())
    }

    async fn delete(
        &self,
        name: &str,
        uid: Option<String>,
        resource_version: Option<String>,
    ) -> Result<super::Deleted> {
        let call = Call::Delete {
            name: name.to_string(),
            uid,
            resource_version,
        };
        self.write(name, call).await?;
        Ok(match self.held.get(name) {
            Some(finalizers) => super::Deleted::Pending(crate::konduktor::Terminating {
                since: None,
                finalizers: finalizers.clone(),
            }),
            None => super::Deleted::Gone,
        })
    }
}
