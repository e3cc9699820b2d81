//! The calls the secret workflows make on the cluster, as a trait: the
//! real [`Cluster`], or an in-memory fake in unit tests. Every write is
//! conditional: a merge on a resourceVersion, a delete on a UID and a
//! resourceVersion.

use std::collections::BTreeMap;
use std::future::Future;

use k8s_openapi::api::core::v1::Secret;

use crate::cluster::Cluster;
use crate::cluster::access::SecretRules;
use crate::error::Result;
use crate::konduktor::LiveSecret;
use crate::konduktor::secret_value::SecretBytes;

// What a merge sets and what a delete left are the cluster's types (its
// requests take and return them); the workflows name them from here.
pub use crate::cluster::{Deleted, PatchMeta};

pub trait SecretStore {
    /// The namespace the secrets live in, for messages.
    fn namespace(&self) -> &str;

    /// LIST, with a server-side label selector.
    fn list(&self, selector: Option<&str>) -> impl Future<Output = Result<Vec<LiveSecret>>>;

    fn get(&self, name: &str) -> impl Future<Output = Result<Option<LiveSecret>>>;

    /// Create; a taken name fails with [`crate::error::ErrorKind::Conflict`].
    fn create(&self, secret: &Secret) -> impl Future<Output = Result<()>>;

    /// Patch data, labels and annotations, conditional on
    /// `resource_version`; a `None` value removes that key.
    fn merge(
        &self,
        name: &str,
        resource_version: &str,
        metadata: &PatchMeta,
        data: &BTreeMap<String, Option<SecretBytes>>,
    ) -> impl Future<Output = Result<()>>;

    /// May we `verb` (create, patch, delete) secrets in the namespace?
    /// `None` where the server cannot say.
    fn may(&self, verb: &'static str) -> impl Future<Output = Result<Option<bool>>>;

    /// May we `verb` the secret `name`? `None` where the server cannot say.
    fn may_named(
        &self,
        verb: &'static str,
        name: &str,
    ) -> impl Future<Output = Result<Option<bool>>>;

    /// The caller's RBAC rules on secrets in the namespace, read once;
    /// `None` where the server cannot say.
    fn secret_rules(&self) -> impl Future<Output = Result<Option<SecretRules>>>;

    /// Delete, conditional on `uid` and `resource_version`: gone, or still
    /// there because a finalizer holds it.
    fn delete(
        &self,
        name: &str,
        uid: Option<String>,
        resource_version: Option<String>,
    ) -> impl Future<Output = Result<Deleted>>;
}

impl SecretStore for Cluster {
    fn namespace(&self) -> &str {
        &self.namespace
    }

    async fn list(&self, selector: Option<&str>) -> Result<Vec<LiveSecret>> {
        self.list_secrets(selector).await
    }

    async fn get(&self, name: &str) -> Result<Option<LiveSecret>> {
        self.get_secret(name).await
    }

    async fn create(&self, secret: &Secret) -> Result<()> {
        self.create_secret(secret).await.map(|_| ())
    }

    async fn merge(
        &self,
        name: &str,
        resource_version: &str,
        metadata: &PatchMeta,
        data: &BTreeMap<String, Option<SecretBytes>>,
    ) -> Result<()> {
        self.merge_secret(name, resource_version, metadata, data)
            .await
            .map(|_| ())
    }

    async fn may(&self, verb: &'static str) -> Result<Option<bool>> {
        Cluster::may(self, verb).await
    }

    async fn may_named(&self, verb: &'static str, name: &str) -> Result<Option<bool>> {
        Cluster::may_named(self, verb, name).await
    }

    async fn secret_rules(&self) -> Result<Option<SecretRules>> {
        Cluster::secret_rules(self).await
    }

    async fn delete(
        &self,
        name: &str,
        uid: Option<String>,
        resource_version: Option<String>,
    ) -> Result<Deleted> {
        self.delete_secret(name, uid, resource_version).await
    }
}

/// The label selector for the caller's own secrets.
pub fn owner_selector(owner_hash: &str) -> String {
    Cluster::owner_selector(owner_hash)
}

#[cfg(test)]
#[path = "store_fake.rs"]
pub(crate) mod fake;
