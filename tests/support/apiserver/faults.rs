//! Fault injection: a rule matches requests by method and path fragment and
//! answers them with a status code, a delay, a dropped connection or a
//! webhook-style denial that quotes the request body, or lets another
//! writer change the object first. The 500, 503 and 429 bodies follow the
//! `Status` shape of every recorded exchange in `tests/fixtures/apiserver/`
//! (a copy of the shared kube-apiserver v1.36.2 recordings); no fixture
//! records an outage itself.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use super::State;
use super::routing::{DropConnection, Resp};
use super::validation::status;

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
    /// [`Fault::Status`] with a `Retry-After` of this many seconds, as the
    /// API server sends with a 429 or 503 (the header, and
    /// `details.retryAfterSeconds` in the `Status`).
    StatusRetryAfter(u16, u64),
    /// [`Fault::EchoBody`] as an admission webhook written in Go writes it:
    /// the request body and each decoded value quoted with `json.Marshal`
    /// (`<`, `>`, `&`, U+2028 and U+2029 as `\u003c`...).
    GoEchoBody(u16),
    /// Answer with this status code and a `Status` whose message is this
    /// many bytes long (a server, or something in front of it, gone wrong).
    HugeMessage(u16, usize),
    /// Answer a LIST with a 200 `SecretList` of about this many bytes: Secrets
    /// of 1 MiB of values each (as large as Kubernetes allows), the page
    /// token `huge` (a hostile server, or one whose pages are as large
    /// as the client asks for). Only labelled `parent: konduktor`.
    HugePage(usize),
    /// Answer 200 with the object the request sent (a review, a Secret; a
    /// Secret `huge` for a GET) given an annotation of this many bytes: a
    /// well-formed answer as large as a hostile server makes it.
    HugeAnswer(usize),
    /// Answer a LIST with a 200 `SecretList` of this many empty items
    /// (`{}`) and no page token: a few bytes each, far more than asked for.
    TinyItems(usize),
    /// Answer a LIST with a 200 `SecretList` whose one value never ends:
    /// the body streams until the client stops reading.
    EndlessPage,
    /// Another writer changes the Secret this request names just before
    /// the request reaches it (its resourceVersion moves on, as after a
    /// `kubectl annotate`), then the request goes on: a write conditional
    /// on the resourceVersion it read meets the server's own 409.
    ChangedMeanwhile,
}

#[derive(Debug, Clone)]
pub struct FaultRule {
    pub method: Option<String>,
    pub path_contains: Option<String>,
    pub fault: Fault,
    /// How many matching requests it hits; `None` is every one.
    pub times: Option<usize>,
    /// How many matching requests it lets through before it hits (a server
    /// that goes away part way).
    pub after: usize,
}

impl FaultRule {
    pub fn new(fault: Fault) -> Self {
        FaultRule {
            method: None,
            path_contains: None,
            fault,
            times: None,
            after: 0,
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
    /// Let the first `n` matching requests through, then hit.
    pub fn after(mut self, n: usize) -> Self {
        self.after = n;
        self
    }
}

impl super::ApiServer {
    /// Remove every fault rule (the server is back).
    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }
}

/// The fault of the first rule matching this request, if any; a rule with a
/// count is used up by it; one still letting requests through (`after`)
/// counts this one off and lets it go. Faults are checked first: a real outage hits
/// before authentication.
pub(super) fn take(st: &mut State, method: &str, path: &str) -> Option<Fault> {
    let hit = st.faults.iter().position(|r| {
        r.method.as_deref().is_none_or(|m| m == method)
            && r.path_contains.as_deref().is_none_or(|p| path.contains(p))
    });
    let i = hit?;
    if st.faults[i].after > 0 {
        st.faults[i].after -= 1;
        return None;
    }
    let fault = st.faults[i].fault.clone();
    match &mut st.faults[i].times {
        Some(1) => {
            st.faults.remove(i);
        }
        Some(n) => *n -= 1,
        None => {}
    }
    if let Fault::ChangedMeanwhile = fault {
        change_meanwhile(st, path);
        return None;
    }
    Some(fault)
}

/// [`Fault::ChangedMeanwhile`]: move on the resourceVersion of the Secret
/// at `path` (`/api/v1/namespaces/<ns>/secrets/<name>`), if it is there.
fn change_meanwhile(st: &mut State, path: &str) {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    if let ["api", "v1", "namespaces", ns, "secrets", name] = segments.as_slice()
        && let Some(obj) = st.secrets.get_mut(&(ns.to_string(), name.to_string()))
    {
        obj["metadata"]["resourceVersion"] = json!(super::store::next_rv());
    }
}

/// Apply a fault: `Err` drops the connection, `Ok(Some)` is the answer,
/// `Ok(None)` lets the request go on (after a delay, if that was the fault).
pub(super) async fn apply(
    fault: Option<Fault>,
    body: &[u8],
) -> Result<Option<Resp>, DropConnection> {
    match fault {
        Some(Fault::Drop) => Err(DropConnection),
        Some(Fault::Status(code)) => Ok(Some(status_fault(code, None))),
        Some(Fault::HugeAnswer(bytes)) => Ok(Some(huge_answer(body, bytes))),
        Some(Fault::StatusRetryAfter(code, seconds)) => {
            let mut resp = status_fault(code, Some(json!({"retryAfterSeconds": seconds})));
            if let Ok(value) = hyper::header::HeaderValue::from_str(&seconds.to_string()) {
                resp.headers_mut().insert(hyper::header::RETRY_AFTER, value);
            }
            Ok(Some(resp))
        }
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            Ok(None)
        }
        Some(Fault::EchoBody(code)) => {
            let quoted = String::from_utf8_lossy(body).into_owned();
            // Some webhooks decode the data and quote the values, too.
            let sent: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
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
            Ok(Some(status(
                code,
                "Invalid",
                &format!(
                    "admission webhook \"validate.example.com\" denied the request: {quoted} (values: {})",
                    decoded.join(", ")
                ),
                Some(
                    json!({"causes": [{"reason": "FieldValueInvalid", "message": format!("object {quoted} is invalid"), "field": "data"}]}),
                ),
            )))
        }
        Some(Fault::GoEchoBody(code)) => {
            let quoted = go_quote(&String::from_utf8_lossy(body));
            let sent: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let mut values: Vec<String> = Vec::new();
            for field in ["data", "stringData"] {
                let Some(map) = sent[field].as_object() else {
                    continue;
                };
                for (k, v) in map {
                    let Some(v) = v.as_str() else { continue };
                    let raw = match field {
                        "data" => B64
                            .decode(v)
                            .map(|b| String::from_utf8_lossy(&b).into_owned()),
                        _ => Ok(v.to_string()),
                    };
                    if let Ok(raw) = raw {
                        values.push(format!("{k}={}", go_quote(&raw)));
                    }
                }
            }
            Ok(Some(status(
                code,
                "Invalid",
                &format!(
                    "admission webhook \"validate.example.com\" denied the request: request {quoted} has invalid values: {}",
                    values.join(", ")
                ),
                Some(
                    json!({"causes": [{"reason": "FieldValueInvalid", "message": format!("values {}", values.join(" ")), "field": "data"}]}),
                ),
            )))
        }
        Some(Fault::HugePage(bytes)) => Ok(Some(huge_page(bytes))),
        Some(Fault::TinyItems(count)) => Ok(Some(tiny_items(count))),
        Some(Fault::EndlessPage) => {
            let mut resp = json_response(String::new());
            resp.extensions_mut().insert(Streamed::EndlessPage);
            Ok(Some(resp))
        }
        Some(Fault::HugeMessage(code, bytes)) => Ok(Some(status(
            code,
            "Forbidden",
            &"é".repeat(bytes / 2),
            None,
        ))),
        // Done when the rule was taken (see [`take`]).
        Some(Fault::ChangedMeanwhile) | None => Ok(None),
    }
}

/// `text` as Go's `json.Marshal` writes a string (quotes included).
fn go_quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)))
            }
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// 500 InternalError, 503 ServiceUnavailable or 429 TooManyRequests, as the
/// apiserver writes them.
fn status_fault(code: u16, details: Option<Value>) -> Resp {
    let (reason, message) = match code {
        503 => (
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        ),
        429 => (
            "TooManyRequests",
            "the server has received too many requests and has asked us to try again later",
        ),
        // kube-apiserver's own answer to a body over its limit.
        413 => (
            "RequestEntityTooLarge",
            "Request entity too large: limit is 3145728",
        ),
        _ => ("InternalError", "Internal error occurred: injected fault"),
    };
    status(code, reason, message, details)
}

/// The object `sent` (or a Secret `huge`) with an annotation of `bytes`
/// bytes (see [`Fault::HugeAnswer`]).
fn huge_answer(sent: &[u8], bytes: usize) -> Resp {
    let mut object: Value = serde_json::from_slice(sent).unwrap_or_else(
        |_| json!({"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "huge"}}),
    );
    object["metadata"]["annotations"] = json!({"huge": "a".repeat(bytes)});
    super::routing::respond(200, &object)
}

/// A `SecretList` of about `bytes` bytes (see [`Fault::HugePage`]), built
/// as text: one value is shared by every item.
fn huge_page(bytes: usize) -> Resp {
    let value = B64.encode(vec![b'v'; 1 << 20]);
    let count = bytes.div_ceil(value.len()).max(1);
    let mut body = String::with_capacity(bytes + count * 200);
    body.push_str(r#"{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"1","continue":"huge"},"items":["#);
    for i in 0..count {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&format!(
            r#"{{"metadata":{{"name":"huge-{i}","labels":{{"parent":"konduktor"}}}},"type":"Opaque","data":{{"K":"{value}"}}}}"#
        ));
    }
    body.push_str("]}");
    json_response(body)
}

/// A 200 of `body`, as JSON.
fn json_response(body: String) -> Resp {
    let mut resp = hyper::Response::new(http_body_util::Full::new(hyper::body::Bytes::from(body)));
    resp.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

/// A `SecretList` of `count` items `{}` (see [`Fault::TinyItems`]).
fn tiny_items(count: usize) -> Resp {
    let mut body = String::with_capacity(count * 3 + 100);
    body.push_str(
        r#"{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":["#,
    );
    for i in 0..count {
        if i > 0 {
            body.push(',');
        }
        body.push_str("{}");
    }
    body.push_str("]}");
    json_response(body)
}

/// A body sent as a stream, in place of the one of its response (whose
/// headers are kept): see [`Fault::EndlessPage`].
#[derive(Clone, Copy)]
pub(super) enum Streamed {
    EndlessPage,
}

impl Streamed {
    pub(super) fn body(
        self,
    ) -> http_body_util::combinators::BoxBody<hyper::body::Bytes, std::convert::Infallible> {
        use futures::StreamExt;
        use http_body_util::BodyExt;
        use hyper::body::{Bytes, Frame};
        const HEAD: &[u8] = br#"{"kind":"SecretList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[{"metadata":{"name":"endless","labels":{"parent":"konduktor"}},"type":"Opaque","data":{"K":""#;
        let chunk = Bytes::from(B64.encode(vec![b'v'; 48 << 10]));
        let head = futures::stream::once(async { Bytes::from_static(HEAD) });
        let rest = futures::stream::repeat(chunk);
        let frames = head
            .chain(rest)
            .map(|bytes| Ok::<_, std::convert::Infallible>(Frame::data(bytes)));
        BodyExt::boxed(http_body_util::StreamBody::new(frames))
    }
}
