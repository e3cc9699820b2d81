//! HTTP: serving plain HTTP/1.1 on 127.0.0.1, recording every request, and
//! dispatching method and path to the handlers. The paths and the 404 for
//! anything else follow `tests/fixtures/apiserver/` (a copy of the shared
//! kube-apiserver v1.36.2 recordings); each route names the fixtures that
//! need it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Value, json};

use super::validation::status;
use super::{Recorded, State, auth, faults};

/// Returned from the service to make hyper close the connection unanswered.
#[derive(Debug)]
pub(super) struct DropConnection;
impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}
impl std::error::Error for DropConnection {}

pub(super) async fn serve(
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
                    let service = hyper::service::service_fn(move |req| served(state.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        }
    }
}

pub(super) type Resp = Response<Full<Bytes>>;

/// A response body as sent: whole, or (an endless page) a stream.
type SentBody = http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>;

/// [`handle`]'s answer, with the body of a fault that streams (marked
/// [`faults::Streamed`]) put in its place.
async fn served(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<SentBody>, DropConnection> {
    let mut resp = handle(state, req).await?;
    Ok(match resp.extensions_mut().remove::<faults::Streamed>() {
        Some(streamed) => resp.map(|_| streamed.body()),
        None => resp.map(BodyExt::boxed),
    })
}

pub(super) fn respond(code: u16, body: &Value) -> Resp {
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

pub(super) fn query_params(query: &str) -> HashMap<String, String> {
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
    let accept = req
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let authorization = req
        .headers()
        .get("authorization")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let auth_scheme = authorization
        .as_deref()
        .and_then(|v| v.split_whitespace().next())
        .map(str::to_string);
    let token = authorization
        .as_deref()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let fault = faults::take(&mut lock(&state), method.as_str(), &path);
    let user = auth::authenticate(&lock(&state), token.as_deref());
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(DropConnection),
    };
    lock(&state).log.push(Recorded {
        body: String::from_utf8_lossy(&body).into_owned(),
        method: method.to_string(),
        path: path.clone(),
        query: query.clone(),
        content_type: content_type.clone(),
        accept: accept.clone(),
        user: user.as_ref().ok().map(|u| u.0.clone()),
        auth_scheme,
    });
    let latency = lock(&state).latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(resp) = faults::apply(fault, &body).await? {
        return Ok(resp);
    }
    let Ok((username, groups)) = user else {
        return Ok(auth::unauthorized());
    };

    let params = query_params(&query);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let ctx = Ctx {
        state: &state,
        user: &username,
        params: &params,
    };
    // The binary calls list, get, create, merge PATCH and DELETE of secrets
    // and POST selfsubjectreviews (src/cluster.rs); PUT, strategic merge and
    // JSON patches are served only because recorded exchanges need them.
    let resp = match (&method, segments.as_slice()) {
        // Discovery, for kubectl beside the binary (the list benchmark).
        (&Method::GET, ["api"]) => super::discovery::core_versions(),
        (&Method::GET, ["apis"]) => super::discovery::groups(),
        (&Method::GET, ["api", "v1"]) => super::discovery::core_v1_resources(),
        // fixture: selfsubjectreview
        (&Method::POST, ["apis", "authentication.k8s.io", "v1", "selfsubjectreviews"]) => {
            ctx.self_subject_review(&groups)
        }
        // fixtures: selfsubjectaccessreview-allowed, -denied
        (
            &Method::POST,
            [
                "apis",
                "authorization.k8s.io",
                "v1",
                "selfsubjectaccessreviews",
            ],
        ) => ctx.self_subject_access_review(&body),
        // fixtures: selfsubjectrulesreview-resourcenames, -no-namespace
        (
            &Method::POST,
            [
                "apis",
                "authorization.k8s.io",
                "v1",
                "selfsubjectrulesreviews",
            ],
        ) => ctx.self_subject_rules_review(&body),
        // fixtures: list-by-owner-label, list-by-set-selector, list-bad-selector,
        // list-namespace-missing, forbidden-list, unauthorized-bad-token,
        // list-metadata-only (with its Accept header)
        (&Method::GET, ["api", "v1", "namespaces", ns, "secrets"]) => {
            ctx.list(Some(ns), accept.as_deref())
        }
        // Secrets in every namespace (`identity candidates -A`): the same
        // handler as the namespaced list, authorized at the cluster scope.
        (&Method::GET, ["api", "v1", "secrets"]) => ctx.list(None, accept.as_deref()),
        // fixtures: create-secret, create-secret-already-exists, create-dry-run,
        // create-in-missing-namespace, create-invalid-*, create-too-large
        (&Method::POST, ["api", "v1", "namespaces", ns, "secrets"]) => ctx.create(ns, &body),
        // fixtures: get-secret, get-secret-not-found
        (&Method::GET, ["api", "v1", "namespaces", ns, "secrets", name]) => ctx.get(ns, name),
        // Not used by the binary; fixture: put-stale-resourceversion.
        (&Method::PUT, ["api", "v1", "namespaces", ns, "secrets", name]) => {
            ctx.replace(ns, name, &body)
        }
        // fixtures: merge-patch-add-key, merge-patch-remove-key,
        // merge-patch-stale-resourceversion (the binary's merge patch), and
        // strategic-merge-patch, json-patch-test-fails (not used by the binary)
        (&Method::PATCH, ["api", "v1", "namespaces", ns, "secrets", name]) => {
            ctx.patch(ns, name, content_type.as_deref(), &body)
        }
        // fixtures: delete-with-preconditions, delete-precondition-wrong-uid,
        // delete-precondition-stale-rv, delete-not-found
        (&Method::DELETE, ["api", "v1", "namespaces", ns, "secrets", name]) => {
            ctx.delete(ns, name, &body)
        }
        // `render-job --validate`: server-side dry runs of its workloads
        // (fixture create-dry-run, for Secrets); nothing is ever created.
        (
            &Method::POST,
            [
                "apis",
                "jobset.x-k8s.io",
                "v1alpha2",
                "namespaces",
                ns,
                "jobsets",
            ],
        ) if lock(&state).jobset_crd => ctx.dry_run_workload(ns, &body),
        (&Method::POST, ["apis", "batch", "v1", "namespaces", ns, "jobs"])
        | (&Method::POST, ["apis", "apps", "v1", "namespaces", ns, "deployments"])
        | (&Method::POST, ["api", "v1", "namespaces", ns, "services"])
        | (
            &Method::POST,
            [
                "apis",
                "networking.k8s.io",
                "v1",
                "namespaces",
                ns,
                "ingresses",
            ],
        ) => ctx.dry_run_workload(ns, &body),
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

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// One request, authenticated, as the handlers see it.
pub(super) struct Ctx<'a> {
    pub(super) state: &'a Arc<Mutex<State>>,
    pub(super) user: &'a str,
    pub(super) params: &'a HashMap<String, String>,
}

impl Ctx<'_> {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        lock(self.state)
    }

    /// `?dryRun=All`: fixture create-dry-run.
    pub(super) fn dry_run(&self) -> bool {
        self.params.get("dryRun").is_some_and(|v| v == "All")
    }

    /// A dry-run create of a workload: the object back with what the
    /// server adds (fixture create-dry-run), never stored. Anything but a
    /// dry run is refused: the binary must never create a workload.
    pub(super) fn dry_run_workload(&self, ns: &str, body: &[u8]) -> Resp {
        if !self.dry_run() {
            return status(
                403,
                "Forbidden",
                "the test server creates no workloads",
                None,
            );
        }
        if !self.lock().namespaces.contains(ns) {
            return status(
                404,
                "NotFound",
                &format!("namespaces \"{ns}\" not found"),
                None,
            );
        }
        let Ok(mut obj) = serde_json::from_slice::<Value>(body) else {
            return status(400, "BadRequest", "the body is not JSON", None);
        };
        if let Some(meta) = obj["metadata"].as_object_mut() {
            meta.insert("namespace".into(), json!(ns));
            meta.insert("uid".into(), json!("1fb1a8c9-51bb-4dbe-a6aa-32b198156914"));
            meta.insert("creationTimestamp".into(), json!("2026-11-27T20:44:19Z"));
        }
        respond(201, &obj)
    }
}
