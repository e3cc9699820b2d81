//! An in-process Kubernetes API server for end-to-end tests: just the parts
//! kubectl-konduktor uses, answering as a real kube-apiserver does.
//!
//! Ground truth is `tests/fixtures/apiserver/`, a copy of the shared
//! recordings from a kube-apiserver v1.36.2 (see `tests/fixtures/README.md`);
//! `tests/e2e/apiserver_conformance.rs` replays every one of them against
//! this server, and each handler names the fixtures it follows. Where no
//! fixture covers a case, the comment says what the real code does
//! (k8s.io/apiserver, k8s.io/apimachinery).
//!
//! It serves plain HTTP on 127.0.0.1, and HTTPS through a TLS front
//! ([`tls::TlsFront`]) which [`ApiServer::url`] names: the binary sends
//! credentials only over TLS, as kubectl does. It authenticates bearer tokens, applies
//! per-user deny rules (RBAC in miniature), counts every request, and can
//! inject faults: a status code, a delay, or a dropped connection; and it can
//! be made as far away as a real one ([`ApiServer::set_latency`]).
//!
//! This file holds the handle the tests use ([`ApiServer`]) and the state
//! shared by the parts: `routing` (HTTP and dispatch), `store` (objects,
//! resourceVersions, uids, the read and write handlers), `patch` (merge,
//! strategic-merge and JSON patches), `validation` (Secret validation and
//! the `Status` error bodies), `auth` (tokens, deny rules, SelfSubjectReview,
//! access and rules reviews),
//! `faults` (fault injection) and `selector` (label selectors).

mod auth;
mod discovery;
mod faults;
mod patch;
mod routing;
mod selector;
mod store;
pub mod tls;
mod validation;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};

pub use auth::{ALICE, ALICE_TOKEN};
pub use faults::{Fault, FaultRule};

use store::{new_uid, next_rv, now};

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: Option<String>,
    /// The Accept header (a metadata-only list asks for `as=PartialObjectMetadataList`).
    pub accept: Option<String>,
    pub user: Option<String>,
    /// The scheme of the Authorization header (`Bearer`, `Basic`), if one
    /// came: never its credentials.
    pub auth_scheme: Option<String>,
    pub body: String,
}

impl Recorded {
    pub fn is(&self, method: &str, path_suffix: &str) -> bool {
        self.method == method && self.path.ends_with(path_suffix)
    }
    /// The decoded `labelSelector`, if any.
    pub fn label_selector(&self) -> Option<String> {
        routing::query_params(&self.query).remove("labelSelector")
    }
}

#[derive(Default)]
struct State {
    namespaces: BTreeSet<String>,
    /// (namespace, name) -> the stored object, as the server would return it.
    secrets: BTreeMap<(String, String), Value>,
    log: Vec<Recorded>,
    faults: VecDeque<FaultRule>,
    /// bearer token -> (username, groups)
    tokens: HashMap<String, (String, Vec<String>)>,
    /// (username, verb) pairs RBAC refuses on secrets, everywhere.
    denied: BTreeSet<(String, String)>,
    /// (username, verb) pairs RBAC refuses on secrets at the cluster scope
    /// only (a RoleBinding in the namespace, no ClusterRoleBinding).
    denied_cluster_wide: BTreeSet<(String, String)>,
    /// (username, verb) -> the only Secret names RBAC allows it on (a
    /// Role rule with `resourceNames`): a request without a name, or at the
    /// cluster scope, is refused it.
    only_names: BTreeMap<(String, String), BTreeSet<String>>,
    /// Secrets are open to `system:anonymous` (see [`ApiServer::allow_anonymous`]).
    anonymous_allowed: bool,
    /// Users RBAC refuses a SelfSubjectReview.
    review_denied: BTreeSet<String>,
    /// Added to every request before it is answered: a server far away.
    latency: Duration,
    /// Namespaces being deleted: nothing new may be created in them.
    terminating: BTreeSet<String>,
    /// namespace -> (ResourceQuota name, its hard limit on `count/secrets`).
    secret_quotas: BTreeMap<String, (String, usize)>,
    /// (namespace, name) -> GETs of it still to answer before its
    /// finalizers are removed (a controller finishing its work).
    release_after_gets: BTreeMap<(String, String), usize>,
    /// LISTs answer every secret, whatever their label selector (see
    /// [`ApiServer::ignore_selectors`]).
    ignore_selectors: bool,
    /// The JobSet CRD is installed (see [`ApiServer::install_jobset_crd`]).
    jobset_crd: bool,
}

pub struct ApiServer {
    addr: SocketAddr,
    /// HTTPS in front of `addr`: what [`ApiServer::url`] names.
    front: tls::TlsFront,
    state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ApiServer {
    pub fn start() -> Self {
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("nonblocking: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("addr: {e}"));
        let mut state = State::default();
        state.namespaces.insert("default".into());
        state.tokens.insert(
            ALICE_TOKEN.into(),
            (ALICE.into(), vec!["system:authenticated".into()]),
        );
        let state = Arc::new(Mutex::new(state));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let shared = state.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("runtime: {e}"));
            runtime.block_on(routing::serve(listener, shared, rx));
        });
        let front = tls::TlsFront::start(addr);
        ApiServer {
            addr,
            front,
            state,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    /// The server's HTTPS address (its TLS front, with the test
    /// certificate: [`tls::ca_data`] is its CA).
    pub fn url(&self) -> String {
        format!("https://{}", self.front.addr())
    }

    /// The server's plain HTTP address, to which the binary sends no
    /// credentials (and kubectl none either).
    pub fn plain_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn create_namespace(&self, ns: &str) {
        self.lock().namespaces.insert(ns.to_string());
    }

    /// Delete a namespace, as `kubectl delete namespace` with a finalizer
    /// still holding it: it stays, Terminating, with what it holds, and
    /// refuses anything new (fixture create-in-terminating-namespace).
    pub fn terminate_namespace(&self, ns: &str) {
        self.lock().terminating.insert(ns.to_string());
    }

    /// Remove a namespace and everything in it (fixture
    /// create-in-missing-namespace answers a create there).
    pub fn remove_namespace(&self, ns: &str) {
        let mut st = self.lock();
        st.namespaces.remove(ns);
        st.terminating.remove(ns);
        st.secrets.retain(|(n, _), _| n != ns);
    }

    /// A ResourceQuota `name` in `ns` with `hard: {count/secrets: limit}`:
    /// a create that would make more secrets than that is refused
    /// (fixture create-quota-exceeded). What is used is what is stored,
    /// as the quota controller would count it.
    pub fn set_secret_quota(&self, ns: &str, name: &str, limit: usize) {
        self.lock()
            .secret_quotas
            .insert(ns.to_string(), (name.to_string(), limit));
    }

    /// Store an object as is (e.g. a Konduktor-made fixture), filling in what
    /// the server would: namespace, uid, resourceVersion, creationTimestamp.
    pub fn put_secret(&self, ns: &str, mut obj: Value) -> Value {
        let name = obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let meta = &mut obj["metadata"];
        meta["namespace"] = json!(ns);
        if meta.get("uid").is_none() {
            meta["uid"] = json!(new_uid());
        }
        meta["resourceVersion"] = json!(next_rv());
        if meta.get("creationTimestamp").is_none() {
            meta["creationTimestamp"] = json!(now());
        }
        obj["kind"] = json!("Secret");
        obj["apiVersion"] = json!("v1");
        self.lock()
            .secrets
            .insert((ns.to_string(), name), obj.clone());
        obj
    }

    pub fn secret(&self, ns: &str, name: &str) -> Option<Value> {
        self.lock()
            .secrets
            .get(&(ns.to_string(), name.to_string()))
            .cloned()
    }

    pub fn secrets(&self, ns: &str) -> Vec<Value> {
        self.lock()
            .secrets
            .iter()
            .filter(|((n, _), _)| n == ns)
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.lock().log.clone()
    }

    /// The JSON body of the first request with this method (e.g. the
    /// DeleteOptions of a DELETE, the patch of a PATCH).
    pub fn first_body(&self, method: &str) -> Value {
        let request = self.requests().into_iter().find(|r| r.method == method);
        let request = request.unwrap_or_else(|| panic!("no {method} request was made"));
        serde_json::from_str(&request.body).unwrap_or(Value::Null)
    }

    pub fn clear_requests(&self) {
        self.lock().log.clear();
    }

    pub fn inject(&self, rule: FaultRule) {
        self.lock().faults.push_back(rule);
    }

    /// Every request from now on waits `latency` before it is answered, as
    /// over a link that far away (requests in flight wait side by side).
    /// From now on, a LIST ignores its label selector (a server or proxy
    /// that drops it): what the client lists must be checked, not trusted.
    pub fn ignore_selectors(&self) {
        self.lock().ignore_selectors = true;
    }

    /// From now on the server serves `jobset.x-k8s.io/v1alpha2` JobSets
    /// (dry runs only); before, their path is a 404, as on a cluster
    /// without JobSet.
    pub fn install_jobset_crd(&self) {
        self.lock().jobset_crd = true;
    }

    pub fn set_latency(&self, latency: Duration) {
        self.lock().latency = latency;
    }

    /// RBAC refuses `verb` (get, list, create, patch, update, delete) to `user`.
    pub fn deny(&self, user: &str, verb: &str) {
        self.lock()
            .denied
            .insert((user.to_string(), verb.to_string()));
    }

    /// RBAC allows `verb` to `user` on these Secret names only, as a Role
    /// rule with `resourceNames` does (fixtures
    /// selfsubjectaccessreview-named-*, selfsubjectrulesreview-resourcenames).
    pub fn allow_only_names(&self, user: &str, verb: &str, names: &[&str]) {
        self.lock().only_names.insert(
            (user.to_string(), verb.to_string()),
            names.iter().map(|n| n.to_string()).collect(),
        );
    }

    /// Another user, authenticated by `token` (e.g. a shared `admin`).
    pub fn add_token(&self, token: &str, user: &str, groups: &[&str]) {
        self.lock().tokens.insert(
            token.to_string(),
            (
                user.to_string(),
                groups.iter().map(|g| g.to_string()).collect(),
            ),
        );
    }

    /// RBAC refuses `verb` on secrets in all namespaces at once (`-A`)
    /// to `user`, who may still do it in a namespace.
    pub fn deny_cluster_wide(&self, user: &str, verb: &str) {
        self.lock()
            .denied_cluster_wide
            .insert((user.to_string(), verb.to_string()));
    }

    /// RBAC lets `system:anonymous` do anything to secrets, as a binding to
    /// that user would: for requests to [`ApiServer::plain_url`], which
    /// carry no credentials (the binary, like client-go, sends none over
    /// plain http).
    pub fn allow_anonymous(&self) {
        self.lock().anonymous_allowed = true;
    }

    /// RBAC refuses `user` a SelfSubjectReview (a cluster that removed
    /// the default `system:basic-user` binding).
    pub fn deny_review(&self, user: &str) {
        self.lock().review_denied.insert(user.to_string());
    }

    /// Put a finalizer on an object (as a controller would): a DELETE then
    /// leaves it Terminating until the finalizer is removed.
    pub fn add_finalizer(&self, ns: &str, name: &str, finalizer: &str) {
        let mut st = self.lock();
        if let Some(obj) = st.secrets.get_mut(&(ns.to_string(), name.to_string())) {
            let meta = &mut obj["metadata"];
            match meta["finalizers"].as_array_mut() {
                Some(list) => list.push(json!(finalizer)),
                None => meta["finalizers"] = json!([finalizer]),
            }
            meta["resourceVersion"] = json!(next_rv());
        }
    }

    /// Delete an object as someone else would (`kubectl delete` with
    /// `--wait=false`): one a finalizer holds stays, Terminating.
    pub fn delete_secret_elsewhere(&self, ns: &str, name: &str) {
        let mut st = self.lock();
        let key = (ns.to_string(), name.to_string());
        let Some(obj) = st.secrets.get_mut(&key) else {
            return;
        };
        if store::finalizers_of(obj).is_empty() {
            st.secrets.remove(&key);
        } else if !store::is_terminating(obj) {
            obj["metadata"]["deletionTimestamp"] = json!(now());
            obj["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            obj["metadata"]["resourceVersion"] = json!(next_rv());
        }
    }

    /// Remove an object's finalizers (the controller is done): one being
    /// deleted goes.
    pub fn remove_finalizers(&self, ns: &str, name: &str) {
        store::release_finalizers(&mut self.lock(), &(ns.to_string(), name.to_string()));
    }

    /// Remove an object's finalizers once it has been read (GET) `gets`
    /// more times: a controller finishing while a client waits on it.
    pub fn remove_finalizers_after_gets(&self, ns: &str, name: &str, gets: usize) {
        self.lock()
            .release_after_gets
            .insert((ns.to_string(), name.to_string()), gets);
    }

    /// Change an object behind the client's back (a concurrent writer).
    pub fn touch_secret(&self, ns: &str, name: &str) {
        if let Some(obj) = self
            .lock()
            .secrets
            .get_mut(&(ns.to_string(), name.to_string()))
        {
            obj["metadata"]["resourceVersion"] = json!(next_rv());
        }
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
