//! An in-process Kubernetes API server for end-to-end tests: just the parts
//! kubectl-konduktor uses, answering as a real kube-apiserver does.
//!
//! Ground truth is `../shared/fixtures/apiserver/` (recorded from a
//! kube-apiserver v1.36); each handler names the fixture it follows. Where no
//! fixture covers a case, the comment says what the real code does
//! (k8s.io/apiserver, k8s.io/apimachinery).
//!
//! It serves plain HTTP on 127.0.0.1, authenticates bearer tokens, applies
//! per-user deny rules (RBAC in miniature), counts every request, and can
//! inject faults: a status code, a delay, or a dropped connection.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use super::selector;

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: Option<String>,
    pub user: Option<String>,
    pub body: String,
}

impl Recorded {
    pub fn is(&self, method: &str, path_suffix: &str) -> bool {
        self.method == method && self.path.ends_with(path_suffix)
    }
    /// The decoded `labelSelector`, if any.
    pub fn label_selector(&self) -> Option<String> {
        query_params(&self.query).remove("labelSelector")
    }
}

/// What a fault does to a matching request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status code and a `Status` body, as the real server
    /// does for 500 (InternalError) and 503 (ServiceUnavailable).
    Status(u16),
    /// Wait, then answer normally.
    Delay(Duration),
    /// Close the connection without any response.
    Drop,
    /// Answer with this status code (422 as a rule) and a `Status` whose
    /// message and `details.causes` quote the request body, as a validating
    /// admission webhook may: `admission webhook "..." denied the request: <object>`.
    EchoBody(u16),
}

#[derive(Debug, Clone)]
pub struct FaultRule {
    pub method: Option<String>,
    pub path_contains: Option<String>,
    pub fault: Fault,
    /// How many matching requests it hits; `None` is every one.
    pub times: Option<usize>,
}

impl FaultRule {
    pub fn new(fault: Fault) -> Self {
        FaultRule {
            method: None,
            path_contains: None,
            fault,
            times: None,
        }
    }
    pub fn on(mut self, method: &str) -> Self {
        self.method = Some(method.to_string());
        self
    }
    pub fn path(mut self, fragment: &str) -> Self {
        self.path_contains = Some(fragment.to_string());
        self
    }
    pub fn times(mut self, n: usize) -> Self {
        self.times = Some(n);
        self
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
    /// (username, verb) pairs RBAC refuses.
    denied: BTreeSet<(String, String)>,
}

pub struct ApiServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The token the test kubeconfig carries, and who it is.
pub const ALICE_TOKEN: &str = "alice-token";
pub const ALICE: &str = "alice";

static RESOURCE_VERSION: AtomicU64 = AtomicU64::new(10_000);
static UID_COUNTER: AtomicU64 = AtomicU64::new(1);

fn next_rv() -> String {
    RESOURCE_VERSION.fetch_add(1, Ordering::SeqCst).to_string()
}

fn current_rv() -> String {
    RESOURCE_VERSION.load(Ordering::SeqCst).to_string()
}

fn new_uid() -> String {
    let n = UID_COUNTER.fetch_add(1, Ordering::SeqCst);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0) as u64;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        t as u32,
        (t >> 32) as u16,
        n & 0xfff,
        (n >> 12) & 0xfff,
        t.wrapping_mul(n) & 0xffff_ffff_ffff
    )
}

fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map(|t| t.to_string())
        .unwrap_or_default()
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
            runtime.block_on(serve(listener, shared, rx));
        });
        ApiServer {
            addr,
            state,
            shutdown: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn create_namespace(&self, ns: &str) {
        self.lock().namespaces.insert(ns.to_string());
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

    /// RBAC refuses `verb` (get, list, create, patch, update, delete) to `user`.
    pub fn deny(&self, user: &str, verb: &str) {
        self.lock()
            .denied
            .insert((user.to_string(), verb.to_string()));
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

/// Returned from the service to make hyper close the connection unanswered.
#[derive(Debug)]
struct DropConnection;
impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}
impl std::error::Error for DropConnection {}

async fn serve(
    listener: std::net::TcpListener,
    state: Arc<Mutex<State>>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => panic!("listener: {e}"),
    };
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let state = state.clone();
                tokio::spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(stream);
                    let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        }
    }
}

type Resp = Response<Full<Bytes>>;

fn respond(code: u16, body: &Value) -> Resp {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

/// A `Status` failure body, in the shape every fixture shows.
fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Resp {
    let mut body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code,
    });
    if let Some(d) = details {
        body["details"] = d;
    }
    respond(code, &body)
}

fn not_found(name: &str) -> Resp {
    // fixture: get-secret-not-found, delete-not-found
    status(
        404,
        "NotFound",
        &format!("secrets \"{name}\" not found"),
        Some(json!({"name": name, "kind": "secrets"})),
    )
}

fn conflict_modified(name: &str) -> Resp {
    // fixture: merge-patch-stale-resourceversion, put-stale-resourceversion
    status(
        409,
        "Conflict",
        &format!(
            "Operation cannot be fulfilled on secrets \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
        ),
        Some(json!({"name": name, "kind": "secrets"})),
    )
}

fn query_params(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn handle(state: Arc<Mutex<State>>, req: Request<Incoming>) -> Result<Resp, DropConnection> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let token = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);

    // Faults are checked first: a real outage hits before authentication.
    let fault = {
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        let hit = st.faults.iter().position(|r| {
            r.method.as_deref().is_none_or(|m| m == method.as_str())
                && r.path_contains.as_deref().is_none_or(|p| path.contains(p))
        });
        hit.map(|i| {
            let fault = st.faults[i].fault.clone();
            match &mut st.faults[i].times {
                Some(1) => {
                    st.faults.remove(i);
                }
                Some(n) => *n -= 1,
                None => {}
            }
            fault
        })
    };
    let user = {
        let st = state.lock().unwrap_or_else(|p| p.into_inner());
        match &token {
            Some(t) => st.tokens.get(t).cloned().map(Ok).unwrap_or(Err(())),
            // Anonymous requests are allowed in but RBAC refuses them everything.
            None => Ok((
                "system:anonymous".to_string(),
                vec!["system:unauthenticated".to_string()],
            )),
        }
    };
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(DropConnection),
    };
    {
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        st.log.push(Recorded {
            body: String::from_utf8_lossy(&body).into_owned(),
            method: method.to_string(),
            path: path.clone(),
            query: query.clone(),
            content_type: content_type.clone(),
            user: user.as_ref().ok().map(|u| u.0.clone()),
        });
    }
    match fault {
        Some(Fault::Drop) => return Err(DropConnection),
        Some(Fault::Status(code)) => {
            // 500 InternalError / 503 ServiceUnavailable, as the apiserver writes them.
            let (reason, message) = match code {
                503 => (
                    "ServiceUnavailable",
                    "the server is currently unable to handle the request",
                ),
                429 => (
                    "TooManyRequests",
                    "the server has received too many requests and has asked us to try again later",
                ),
                _ => ("InternalError", "Internal error occurred: injected fault"),
            };
            return Ok(status(code, reason, message, None));
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::EchoBody(code)) => {
            let quoted = String::from_utf8_lossy(&body).into_owned();
            // Some webhooks decode the data and quote the values, too.
            let sent: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let decoded: Vec<String> = sent["data"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| {
                            let raw = B64.decode(v.as_str()?).ok()?;
                            Some(format!("{k}={}", String::from_utf8_lossy(&raw)))
                        })
                        .collect()
                })
                .unwrap_or_default();
            return Ok(status(
                code,
                "Invalid",
                &format!(
                    "admission webhook \"validate.example.com\" denied the request: {quoted} (values: {})",
                    decoded.join(", ")
                ),
                Some(
                    json!({"causes": [{"reason": "FieldValueInvalid", "message": format!("object {quoted} is invalid"), "field": "data"}]}),
                ),
            ));
        }
        None => {}
    }
    // fixture: unauthorized-bad-token
    let Ok((username, groups)) = user else {
        return Ok(status(401, "Unauthorized", "Unauthorized", None));
    };

    let params = query_params(&query);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let ctx = Ctx {
        state: &state,
        user: &username,
        params: &params,
    };
    let resp = match (&method, segments.as_slice()) {
        (&Method::POST, ["apis", "authentication.k8s.io", "v1", "selfsubjectreviews"]) => {
            self_subject_review(&username, &groups)
        }
        (&Method::GET, ["api", "v1", "namespaces", ns, "secrets"]) => ctx.list(ns),
        (&Method::POST, ["api", "v1", "namespaces", ns, "secrets"]) => ctx.create(ns, &body),
        (&Method::GET, ["api", "v1", "namespaces", ns, "secrets", name]) => ctx.get(ns, name),
        (&Method::PUT, ["api", "v1", "namespaces", ns, "secrets", name]) => {
            ctx.replace(ns, name, &body)
        }
        (&Method::PATCH, ["api", "v1", "namespaces", ns, "secrets", name]) => {
            ctx.patch(ns, name, content_type.as_deref(), &body)
        }
        (&Method::DELETE, ["api", "v1", "namespaces", ns, "secrets", name]) => {
            ctx.delete(ns, name, &body)
        }
        // What the real server says for a path it does not serve.
        _ => status(
            404,
            "NotFound",
            "the server could not find the requested resource",
            Some(json!({})),
        ),
    };
    Ok(resp)
}

fn self_subject_review(username: &str, groups: &[String]) -> Resp {
    // fixture: selfsubjectreview (201, userInfo with username and groups)
    respond(
        201,
        &json!({
            "kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": now()},
            "status": {"userInfo": {"username": username, "uid": format!("{username}-uid"), "groups": groups}},
        }),
    )
}

struct Ctx<'a> {
    state: &'a Arc<Mutex<State>>,
    user: &'a str,
    params: &'a HashMap<String, String>,
}

impl Ctx<'_> {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// RBAC: fixture forbidden-list; for named requests the real message
    /// carries the name: `secrets "x" is forbidden: User ...`.
    fn authorize(&self, verb: &str, ns: &str, name: Option<&str>) -> Option<Resp> {
        let denied = self.user == "system:anonymous"
            || self
                .lock()
                .denied
                .contains(&(self.user.to_string(), verb.to_string()));
        if !denied {
            return None;
        }
        let subject = match name {
            Some(n) => format!("secrets \"{n}\""),
            None => "secrets".to_string(),
        };
        let message = format!(
            "{subject} is forbidden: User \"{}\" cannot {verb} resource \"secrets\" in API group \"\" in the namespace \"{ns}\"",
            self.user
        );
        let mut details = json!({"kind": "secrets"});
        if let Some(n) = name {
            details["name"] = json!(n);
        }
        Some(status(403, "Forbidden", &message, Some(details)))
    }

    fn dry_run(&self) -> bool {
        self.params.get("dryRun").is_some_and(|v| v == "All")
    }

    fn list(&self, ns: &str) -> Resp {
        if let Some(r) = self.authorize("list", ns, None) {
            return r;
        }
        // fixture: list-bad-selector (400 BadRequest, no details)
        let selector = match self.params.get("labelSelector").map(|s| selector::parse(s)) {
            Some(Err(message)) => return status(400, "BadRequest", &message, None),
            Some(Ok(s)) => s,
            None => selector::Selector::default(),
        };
        // fixture: list-namespace-missing (an empty list, not 404)
        let st = self.lock();
        let items: Vec<Value> = st
            .secrets
            .iter()
            .filter(|((n, _), _)| n == ns)
            .filter(|(_, obj)| selector.matches(&labels_of(obj)))
            .map(|(_, obj)| {
                // List items carry no kind/apiVersion (fixture: list-by-owner-label).
                let mut item = obj.clone();
                if let Some(map) = item.as_object_mut() {
                    map.remove("kind");
                    map.remove("apiVersion");
                }
                item
            })
            .collect();
        respond(
            200,
            &json!({"kind": "SecretList", "apiVersion": "v1", "metadata": {"resourceVersion": current_rv()}, "items": items}),
        )
    }

    fn get(&self, ns: &str, name: &str) -> Resp {
        if let Some(r) = self.authorize("get", ns, Some(name)) {
            return r;
        }
        match self.lock().secrets.get(&(ns.to_string(), name.to_string())) {
            Some(obj) => respond(200, obj),
            None => not_found(name),
        }
    }

    fn create(&self, ns: &str, body: &[u8]) -> Resp {
        let mut obj = match decode_secret(body) {
            Ok(o) => o,
            Err(r) => return r,
        };
        let name = obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if let Some(r) = self.authorize("create", ns, None) {
            return r;
        }
        if let Some(body_ns) = obj["metadata"]["namespace"].as_str()
            && body_ns != ns
        {
            return status(
                400,
                "BadRequest",
                "the namespace of the provided object does not match the namespace sent on the request",
                None,
            );
        }
        // fixture: create-in-missing-namespace
        if !self.lock().namespaces.contains(ns) {
            return status(
                404,
                "NotFound",
                &format!("namespaces \"{ns}\" not found"),
                Some(json!({"name": ns, "kind": "namespaces"})),
            );
        }
        // fixtures: create-invalid-name, create-invalid-key, create-invalid-label-value, create-too-large
        if let Some(r) = validate(&obj) {
            return r;
        }
        let meta = &mut obj["metadata"];
        meta["namespace"] = json!(ns);
        meta["uid"] = json!(new_uid());
        meta["creationTimestamp"] = json!(now());
        if let Some(map) = meta.as_object_mut() {
            // The server ignores these on create (they are server-owned).
            map.remove("deletionTimestamp");
            map.remove("generation");
        }
        let mut st = self.lock();
        let key = (ns.to_string(), name.clone());
        // fixture: create-secret-already-exists
        if st.secrets.contains_key(&key) {
            return status(
                409,
                "AlreadyExists",
                &format!("secrets \"{name}\" already exists"),
                Some(json!({"name": name, "kind": "secrets"})),
            );
        }
        // fixture: create-dry-run (201, no resourceVersion, nothing stored)
        if self.dry_run() {
            if let Some(map) = obj["metadata"].as_object_mut() {
                map.remove("resourceVersion");
            }
            return respond(201, &obj);
        }
        obj["metadata"]["resourceVersion"] = json!(next_rv());
        st.secrets.insert(key, obj.clone());
        // fixture: create-secret
        respond(201, &obj)
    }

    fn replace(&self, ns: &str, name: &str, body: &[u8]) -> Resp {
        let obj = match decode_secret(body) {
            Ok(o) => o,
            Err(r) => return r,
        };
        if let Some(r) = self.authorize("update", ns, Some(name)) {
            return r;
        }
        if obj["metadata"]["name"].as_str() != Some(name) {
            let given = obj["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            return status(
                400,
                "BadRequest",
                &format!(
                    "the name of the object ({given}) does not match the name on the URL ({name})"
                ),
                None,
            );
        }
        let mut st = self.lock();
        let key = (ns.to_string(), name.to_string());
        // Secrets are not created by PUT (AllowCreateOnUpdate is false).
        let Some(current) = st.secrets.get(&key).cloned() else {
            return not_found(name);
        };
        // fixture: put-stale-resourceversion. Without a resourceVersion the
        // update is unconditional (Secrets allow unconditional update).
        if let Some(rv) = obj["metadata"]["resourceVersion"].as_str()
            && rv
                != current["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap_or_default()
        {
            return conflict_modified(name);
        }
        self.store_update(&mut st, key, &current, obj)
    }

    /// The end of every update (PUT or PATCH): validate, keep the fields the
    /// client cannot change, and bump the resourceVersion only if something
    /// changed (a no-op update keeps it, as the real server does).
    fn store_update(
        &self,
        st: &mut State,
        key: (String, String),
        current: &Value,
        mut obj: Value,
    ) -> Resp {
        if let Some(r) = validate(&obj) {
            return r;
        }
        for field in ["uid", "creationTimestamp", "namespace"] {
            obj["metadata"][field] = current["metadata"][field].clone();
        }
        if self.dry_run() {
            return respond(200, &obj);
        }
        obj["metadata"]["resourceVersion"] = if same_content(&obj, current) {
            current["metadata"]["resourceVersion"].clone()
        } else {
            json!(next_rv())
        };
        st.secrets.insert(key, obj.clone());
        respond(200, &obj)
    }

    fn patch(&self, ns: &str, name: &str, content_type: Option<&str>, body: &[u8]) -> Resp {
        if let Some(r) = self.authorize("patch", ns, Some(name)) {
            return r;
        }
        let patch: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                return status(
                    400,
                    "BadRequest",
                    &format!("error decoding patch: {e}"),
                    None,
                );
            }
        };
        let mut st = self.lock();
        let key = (ns.to_string(), name.to_string());
        let Some(current) = st.secrets.get(&key).cloned() else {
            return not_found(name);
        };
        let media = content_type
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim();
        let patched = match media {
            // fixtures: merge-patch-add-key, merge-patch-remove-key, strategic-merge-patch.
            // For a Secret (maps and scalars only) a strategic merge patch
            // behaves as a JSON merge patch; `$patch` directives are not used.
            "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
                // fixture: merge-patch-stale-resourceversion: a resourceVersion
                // in the patch makes it conditional on it.
                if let Some(rv) = patch["metadata"]["resourceVersion"].as_str()
                    && rv
                        != current["metadata"]["resourceVersion"]
                            .as_str()
                            .unwrap_or_default()
                {
                    return conflict_modified(name);
                }
                let mut target = current.clone();
                merge_patch(&mut target, &patch);
                target
            }
            // fixture: json-patch-test-fails (a failed `test` is 422, not 409)
            "application/json-patch+json" => match json_patch(&current, &patch) {
                Ok(v) => v,
                Err(()) => {
                    return status(
                        422,
                        "Invalid",
                        "the server rejected our request due to an error in our request",
                        Some(json!({})),
                    );
                }
            },
            _ => {
                return status(
                    415,
                    "UnsupportedMediaType",
                    &format!(
                        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {media})"
                    ),
                    Some(json!({})),
                );
            }
        };
        if patched["metadata"]["name"] != current["metadata"]["name"] {
            return status(
                400,
                "BadRequest",
                "metadata.name: the name of the object may not be changed by a patch",
                None,
            );
        }
        match normalize_secret(patched) {
            Ok(patched) => self.store_update(&mut st, key, &current, patched),
            Err(r) => r,
        }
    }

    fn delete(&self, ns: &str, name: &str, body: &[u8]) -> Resp {
        if let Some(r) = self.authorize("delete", ns, Some(name)) {
            return r;
        }
        let options: Value = if body.is_empty() {
            json!({})
        } else {
            serde_json::from_slice(body).unwrap_or(json!({}))
        };
        let mut st = self.lock();
        let key = (ns.to_string(), name.to_string());
        let Some(current) = st.secrets.get(&key).cloned() else {
            return not_found(name);
        };
        let pre = &options["preconditions"];
        let uid = current["metadata"]["uid"].as_str().unwrap_or_default();
        let rv = current["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default();
        // fixtures: delete-precondition-wrong-uid, delete-precondition-stale-rv (UID first)
        if let Some(want) = pre["uid"].as_str()
            && want != uid
        {
            return status(
                409,
                "Conflict",
                &format!(
                    "Operation cannot be fulfilled on Secret \"{name}\": the UID in the precondition ({want}) does not match the UID in record ({uid}). The object might have been deleted and then recreated"
                ),
                Some(json!({"name": name, "kind": "Secret"})),
            );
        }
        if let Some(want) = pre["resourceVersion"].as_str()
            && want != rv
        {
            return status(
                409,
                "Conflict",
                &format!(
                    "Operation cannot be fulfilled on Secret \"{name}\": the ResourceVersion in the precondition ({want}) does not match the ResourceVersion in record ({rv}). The object might have been modified"
                ),
                Some(json!({"name": name, "kind": "Secret"})),
            );
        }
        let uid = uid.to_string();
        if !self.dry_run() {
            st.secrets.remove(&key);
        }
        // fixture: delete-with-preconditions
        respond(
            200,
            &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": {"name": name, "kind": "secrets", "uid": uid}}),
        )
    }
}

fn labels_of(obj: &Value) -> BTreeMap<String, String> {
    obj["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn same_content(a: &Value, b: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v["metadata"].as_object_mut() {
            m.remove("resourceVersion");
        }
        v
    };
    strip(a) == strip(b)
}

/// Decode a request body into a Secret as the server stores it.
#[allow(clippy::result_large_err)] // a test server: the error is the response itself
fn decode_secret(body: &[u8]) -> Result<Value, Resp> {
    let obj: Value = serde_json::from_slice(body).map_err(|e| {
        status(
            400,
            "BadRequest",
            &format!("error decoding request body: {e}"),
            None,
        )
    })?;
    if obj["kind"].as_str().is_some_and(|k| k != "Secret") {
        return Err(status(
            400,
            "BadRequest",
            &format!(
                "the kind of the provided object ({}) is not Secret",
                obj["kind"]
            ),
            None,
        ));
    }
    normalize_secret(obj)
}

/// What the server does to every Secret it stores: `stringData` folded into
/// `data`, `type` defaulted to Opaque, kind/apiVersion set, data checked to
/// be base64.
#[allow(clippy::result_large_err)]
fn normalize_secret(mut obj: Value) -> Result<Value, Resp> {
    if let Some(string_data) = obj.get("stringData").and_then(Value::as_object).cloned() {
        for (k, v) in string_data {
            obj["data"][k] = json!(B64.encode(v.as_str().unwrap_or_default()));
        }
        if let Some(m) = obj.as_object_mut() {
            m.remove("stringData");
        }
    }
    if let Some(data) = obj.get("data").and_then(Value::as_object) {
        for (k, v) in data {
            if v.as_str().is_none_or(|s| B64.decode(s).is_err()) {
                return Err(status(
                    400,
                    "BadRequest",
                    &format!(
                        "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data in data[{k}]"
                    ),
                    None,
                ));
            }
        }
    }
    if obj.get("type").is_none_or(Value::is_null) {
        obj["type"] = json!("Opaque");
    }
    obj["kind"] = json!("Secret");
    obj["apiVersion"] = json!("v1");
    Ok(obj)
}

fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !part.starts_with('-')
                && !part.ends_with('-')
        })
}

/// Secret validation (k8s.io/kubernetes pkg/apis/core/validation
/// ValidateSecret): name, label values, data keys, total size. The 422
/// message is `Secret "<name>" is invalid: <field>: <detail>`; several
/// causes are joined in brackets.
fn validate(obj: &Value) -> Option<Resp> {
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
    let mut causes: Vec<(String, String, String)> = Vec::new();
    if name.is_empty() {
        causes.push((
            "metadata.name".into(),
            "FieldValueRequired".into(),
            "Required value: name or generateName is required".into(),
        ));
    } else if !is_dns1123_subdomain(name) {
        causes.push((
            "metadata.name".into(),
            "FieldValueInvalid".into(),
            format!("Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
        ));
    }
    for (_, v) in labels_of(obj) {
        if v.len() > 63 {
            causes.push((
                "metadata.labels".into(),
                "FieldValueInvalid".into(),
                format!("Invalid value: \"{v}\": must be no more than 63 bytes"),
            ));
        } else if !selector::label_value_ok(&v) {
            causes.push((
                "metadata.labels".into(),
                "FieldValueInvalid".into(),
                format!("Invalid value: \"{v}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"),
            ));
        }
    }
    let mut total = 0usize;
    if let Some(data) = obj["data"].as_object() {
        for (k, v) in data {
            let key_ok = !k.is_empty()
                && k.len() <= 253
                && k != "."
                // IsConfigMapKey: not `.`, and no `..` prefix (kubelet's own entries).
                && !k.starts_with("..")
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !key_ok {
                causes.push((
                    format!("data[{k}]"),
                    "FieldValueInvalid".into(),
                    format!("Invalid value: \"{k}\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"),
                ));
            }
            total += v
                .as_str()
                .and_then(|s| B64.decode(s).ok())
                .map_or(0, |b| b.len());
        }
    }
    if total > 1_048_576 {
        causes.push((
            "data".into(),
            "FieldValueTooLong".into(),
            "Too long: may not be more than 1048576 bytes".into(),
        ));
    }
    if causes.is_empty() {
        return None;
    }
    let parts: Vec<String> = causes.iter().map(|(f, _, m)| format!("{f}: {m}")).collect();
    let joined = if parts.len() == 1 {
        parts[0].clone()
    } else {
        format!("[{}]", parts.join(", "))
    };
    let details = json!({
        "name": name, "kind": "Secret",
        "causes": causes.iter().map(|(f, r, m)| json!({"reason": r, "message": m, "field": f})).collect::<Vec<_>>(),
    });
    Some(status(
        422,
        "Invalid",
        &format!("Secret \"{name}\" is invalid: {joined}"),
        Some(details),
    ))
}

/// RFC 7386 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// RFC 6902 JSON patch: add, remove, replace, test, copy, move.
fn json_patch(doc: &Value, ops: &Value) -> Result<Value, ()> {
    let mut doc = doc.clone();
    for op in ops.as_array().ok_or(())? {
        let path = op["path"].as_str().ok_or(())?;
        match op["op"].as_str().ok_or(())? {
            "test" => {
                if doc.pointer(path) != Some(&op["value"]) {
                    return Err(());
                }
            }
            "remove" => {
                pointer_remove(&mut doc, path)?;
            }
            "add" => pointer_add(&mut doc, path, op["value"].clone())?,
            "replace" => {
                *doc.pointer_mut(path).ok_or(())? = op["value"].clone();
            }
            "copy" => {
                let v = doc
                    .pointer(op["from"].as_str().ok_or(())?)
                    .cloned()
                    .ok_or(())?;
                pointer_add(&mut doc, path, v)?;
            }
            "move" => {
                let v = pointer_remove(&mut doc, op["from"].as_str().ok_or(())?)?;
                pointer_add(&mut doc, path, v)?;
            }
            _ => return Err(()),
        }
    }
    Ok(doc)
}

fn split_pointer(path: &str) -> Result<(&str, String), ()> {
    let (parent, last) = path.rsplit_once('/').ok_or(())?;
    Ok((parent, last.replace("~1", "/").replace("~0", "~")))
}

fn pointer_add(doc: &mut Value, path: &str, value: Value) -> Result<(), ()> {
    let (parent, key) = split_pointer(path)?;
    match doc.pointer_mut(parent).ok_or(())? {
        Value::Object(m) => {
            m.insert(key, value);
            Ok(())
        }
        Value::Array(a) if key == "-" => {
            a.push(value);
            Ok(())
        }
        Value::Array(a) => {
            let i: usize = key.parse().map_err(|_| ())?;
            if i > a.len() {
                return Err(());
            }
            a.insert(i, value);
            Ok(())
        }
        _ => Err(()),
    }
}

fn pointer_remove(doc: &mut Value, path: &str) -> Result<Value, ()> {
    let (parent, key) = split_pointer(path)?;
    match doc.pointer_mut(parent).ok_or(())? {
        Value::Object(m) => m.remove(&key).ok_or(()),
        Value::Array(a) => {
            let i: usize = key.parse().map_err(|_| ())?;
            if i >= a.len() {
                return Err(());
            }
            Ok(a.remove(i))
        }
        _ => Err(()),
    }
}
