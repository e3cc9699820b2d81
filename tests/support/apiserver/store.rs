//! The objects: Secrets by namespace and name, the namespaces that exist,
//! resourceVersion and uid generation, and the handlers that read and write
//! them (list with a label selector, get, create, PUT, delete with
//! preconditions). Matches `create-secret`, `create-secret-already-exists`,
//! `create-dry-run`, `create-in-missing-namespace`, `get-secret`,
//! `list-by-owner-label`, `list-by-set-selector`, `list-bad-selector`,
//! `list-namespace-missing`, `list-paginated-*`, `put-stale-resourceversion`,
//! `create-quota-exceeded`, `create-in-terminating-namespace`,
//! `merge-patch-immutable` and the `delete-*`
//! exchanges in `tests/fixtures/apiserver/` (a copy of the shared
//! kube-apiserver v1.36.2 recordings).
//!
//! Finalizers, as `delete-with-finalizer`, `get-terminating`,
//! `list-includes-terminating`, `merge-patch-terminating`,
//! `create-while-terminating-same-name`, `remove-finalizer` and
//! `get-after-finalizer-removed` show: a DELETE of an object with
//! finalizers sets its `deletionTimestamp` and answers 200 with it; it stays
//! (read, listed and written as before) until its last finalizer is
//! removed, and then it goes.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::State;
use super::routing::{Ctx, Resp, respond};
use super::selector;
use super::validation::{
    conflict_modified, decode_secret, not_found, status, validate, validate_update,
};

static RESOURCE_VERSION: AtomicU64 = AtomicU64::new(10_000);
static UID_COUNTER: AtomicU64 = AtomicU64::new(1);

pub(super) fn next_rv() -> String {
    RESOURCE_VERSION.fetch_add(1, Ordering::SeqCst).to_string()
}

pub(super) fn current_rv() -> String {
    RESOURCE_VERSION.load(Ordering::SeqCst).to_string()
}

pub(super) fn new_uid() -> String {
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

/// A continue token as the real server makes one: unpadded URL-safe base64
/// of `{"v":"meta.k8s.io/v1","rv":N,"start":"<last key>\0"}`
/// (k8s.io/apiserver storage/continue.go).
fn encode_continue(rv: &str, start: &str) -> String {
    let token =
        json!({"v": "meta.k8s.io/v1", "rv": rv.parse::<u64>().unwrap_or(0), "start": start});
    URL_SAFE_NO_PAD.encode(token.to_string())
}

/// The start key of a continue token, or the real server's message for a
/// token it cannot read (fixture list-paginated-bad-continue).
fn decode_continue(token: &str) -> Result<String, String> {
    let bad = |why: String| format!("invalid continue token: {why}");
    let raw = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| bad("illegal base64 data".into()))?;
    let value: Value = serde_json::from_slice(&raw).map_err(|_| {
        bad(format!(
            "continue key is not valid: {}",
            go_json_error(&raw)
        ))
    })?;
    match (value["v"].as_str(), value["start"].as_str()) {
        (Some("meta.k8s.io/v1"), Some(start)) => Ok(start.to_string()),
        (Some(_), _) => Err(bad("continue key is not valid: server does not recognize this encoded key".into())),
        _ => Err(bad("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)".into())),
    }
}

/// Go's encoding/json message for text that is not JSON, for the two
/// cases a mangled token gives: a word that starts like a literal, or a
/// character that starts nothing.
fn go_json_error(raw: &[u8]) -> String {
    let literal = match raw.first() {
        Some(b'n') => Some("null"),
        Some(b't') => Some("true"),
        Some(b'f') => Some("false"),
        _ => None,
    };
    if let Some(word) = literal {
        let bytes = word.as_bytes();
        for (i, c) in raw.iter().enumerate().skip(1) {
            match bytes.get(i) {
                Some(want) if want == c => continue,
                Some(want) => {
                    return format!(
                        "invalid character '{}' in literal {word} (expecting '{}')",
                        char::from(*c),
                        char::from(*want)
                    );
                }
                None => break,
            }
        }
    }
    match raw.first() {
        Some(c) => format!(
            "invalid character '{}' looking for beginning of value",
            char::from(*c)
        ),
        None => "unexpected end of JSON input".into(),
    }
}

pub(super) fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

impl Ctx<'_> {
    /// GET secrets (the binary lists by owner label). Fixtures: list-by-owner-label,
    /// list-by-set-selector, list-bad-selector, list-namespace-missing, forbidden-list.
    /// LIST in namespace `ns`, or in all (`None`); metadata only when the
    /// Accept header asks for `PartialObjectMetadataList` (fixture
    /// list-metadata-only: items of kind PartialObjectMetadata, no data).
    pub(super) fn list(&self, ns: Option<&str>, accept: Option<&str>) -> Resp {
        if let Some(r) = self.authorize_in("list", ns, None) {
            return r;
        }
        let metadata_only = accept.is_some_and(|a| a.contains("as=PartialObjectMetadataList"));
        // kubectl get asks for a Table first (`as=Table;v=v1;g=meta.k8s.io`).
        let table = !metadata_only && accept.is_some_and(|a| a.contains("as=Table"));
        // fixture: list-bad-selector (400 BadRequest, no details)
        let selector = match self.params.get("labelSelector").map(|s| selector::parse(s)) {
            Some(Err(message)) => return status(400, "BadRequest", &message, None),
            Some(Ok(s)) => s,
            None => selector::Selector::default(),
        };
        // fixtures: list-paginated-first, list-paginated-next: `limit` cuts
        // the list, `metadata.continue` names where the next page starts.
        let limit = self
            .params
            .get("limit")
            .and_then(|l| l.parse::<usize>().ok())
            .filter(|l| *l > 0);
        // fixture: list-paginated-bad-continue (400 BadRequest)
        let start = match self.params.get("continue").map(|t| decode_continue(t)) {
            Some(Err(message)) => return status(400, "BadRequest", &message, None),
            Some(Ok(start)) => Some(start),
            None => None,
        };
        // fixture: list-namespace-missing (an empty list, not 404)
        let st = self.lock();
        let key = |n: &str, name: &str| match ns {
            Some(_) => format!("{name}\u{0}"),
            None => format!("{n}/{name}\u{0}"),
        };
        let mut matching = st
            .secrets
            .iter()
            .filter(|((n, _), _)| ns.is_none_or(|ns| n == ns))
            // The real server reads the snapshot at the token's
            // resourceVersion; this one reads what is there now, past the
            // token's start key (in key order, as etcd does).
            .filter(|((n, name), _)| start.as_ref().is_none_or(|s| key(n, name) > *s))
            .filter(|(_, obj)| st.ignore_selectors || selector.matches(&labels_of(obj)));
        let page: Vec<(&(String, String), &Value)> = match limit {
            Some(l) => matching.by_ref().take(l).collect(),
            None => matching.by_ref().collect(),
        };
        let remaining = matching.count();
        let items: Vec<Value> = page
            .iter()
            .map(|(_, obj)| {
                if metadata_only {
                    return json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]});
                }
                // List items carry no kind/apiVersion (fixture: list-by-owner-label).
                let mut item = (*obj).clone();
                if let Some(map) = item.as_object_mut() {
                    map.remove("kind");
                    map.remove("apiVersion");
                }
                item
            })
            .collect();
        let (kind, api_version) = if metadata_only {
            ("PartialObjectMetadataList", "meta.k8s.io/v1")
        } else {
            ("SecretList", "v1")
        };
        let rv = current_rv();
        let mut metadata = json!({"resourceVersion": rv});
        if let (true, Some(((n, name), _))) = (remaining > 0, page.last()) {
            metadata["continue"] = json!(encode_continue(&rv, &key(n, name)));
            // The real server counts what is left only when no selector
            // filters the list (k8s.io/apiserver storage/etcd3 store.go).
            if !self.params.contains_key("labelSelector") {
                metadata["remainingItemCount"] = json!(remaining);
            }
        }
        if table {
            let rows: Vec<Value> = page.iter().map(|(_, obj)| table_row(obj)).collect();
            return respond(
                200,
                &json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
                    "columnDefinitions": SECRET_COLUMNS.iter().map(|(name, format, description)| json!({
                        "name": name, "type": "string",
                        "format": format, "description": description, "priority": 0})).collect::<Vec<_>>(),
                    "rows": rows}),
            );
        }
        respond(
            200,
            &json!({"kind": kind, "apiVersion": api_version, "metadata": metadata, "items": items}),
        )
    }

    /// GET one secret (the binary's `get_opt`). Fixtures: get-secret, get-secret-not-found.
    pub(super) fn get(&self, ns: &str, name: &str) -> Resp {
        if let Some(r) = self.authorize("get", ns, Some(name)) {
            return r;
        }
        let mut st = self.lock();
        let key = (ns.to_string(), name.to_string());
        // A test's stand-in for a controller: it removes the finalizers
        // after the object was read this many times.
        if let Some(left) = st.release_after_gets.get_mut(&key) {
            if *left == 0 {
                st.release_after_gets.remove(&key);
                release_finalizers(&mut st, &key);
            } else {
                *left -= 1;
            }
        }
        match st.secrets.get(&key) {
            Some(obj) => respond(200, obj),
            None => not_found(name),
        }
    }

    /// POST a secret (used by the binary). Fixtures: create-secret,
    /// create-secret-already-exists, create-dry-run, create-in-missing-namespace,
    /// create-invalid-name, create-invalid-key, create-invalid-label-value,
    /// create-too-large.
    pub(super) fn create(&self, ns: &str, body: &[u8]) -> Resp {
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
        // fixture: create-in-terminating-namespace (the NamespaceLifecycle
        // admission plugin's 403)
        if self.lock().terminating.contains(ns) {
            return status(
                403,
                "Forbidden",
                &format!(
                    "secrets \"{name}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated"
                ),
                Some(json!({"name": name, "kind": "secrets", "causes": [{
                    "reason": "NamespaceTerminating",
                    "message": format!("namespace {ns} is being terminated"),
                    "field": "metadata.namespace"}]})),
            );
        }
        // fixtures: create-invalid-name, create-invalid-key, create-invalid-label-value, create-too-large
        if let Some(r) = validate(&obj) {
            return r;
        }
        // fixture: create-quota-exceeded (the ResourceQuota admission
        // plugin's 403: used is what the namespace holds)
        if let Some(r) = self.quota_refusal(ns, &name) {
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
        // fixture: create-while-terminating-same-name
        if st.secrets.get(&key).is_some_and(is_terminating) {
            return status(
                409,
                "AlreadyExists",
                &format!("object is being deleted: secrets \"{name}\" already exists"),
                Some(json!({"name": name, "kind": "secrets"})),
            );
        }
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

    /// A create in `ns` that its `count/secrets` quota has no room for.
    fn quota_refusal(&self, ns: &str, name: &str) -> Option<Resp> {
        let st = self.lock();
        let (quota, limit) = st.secret_quotas.get(ns)?;
        let used = st.secrets.keys().filter(|(n, _)| n == ns).count();
        if used < *limit {
            return None;
        }
        Some(status(
            403,
            "Forbidden",
            &format!(
                "secrets \"{name}\" is forbidden: exceeded quota: {quota}, requested: count/secrets=1, used: count/secrets={used}, limited: count/secrets={limit}"
            ),
            Some(json!({"name": name, "kind": "secrets"})),
        ))
    }

    /// PUT a secret. The binary never sends one; kept because the
    /// put-stale-resourceversion exchange is replayed.
    pub(super) fn replace(&self, ns: &str, name: &str, body: &[u8]) -> Resp {
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
    pub(super) fn store_update(
        &self,
        st: &mut State,
        key: (String, String),
        current: &Value,
        mut obj: Value,
    ) -> Resp {
        // fixtures: merge-patch-type-change, merge-patch-tls-remove-required-key
        if let Some(r) = validate_update(&obj, current) {
            return r;
        }
        // fixture: merge-patch-immutable (ValidateSecretUpdate: the data of
        // an `immutable: true` Secret, and that flag, never change)
        if current["immutable"] == json!(true) {
            let name = key.1.as_str();
            for field in ["data", "immutable"] {
                if obj[field] != current[field] {
                    return status(
                        422,
                        "Invalid",
                        &format!(
                            "Secret \"{name}\" is invalid: {field}: Forbidden: field is immutable when `immutable` is set"
                        ),
                        Some(json!({"name": name, "kind": "Secret", "causes": [{
                            "reason": "FieldValueForbidden",
                            "message": "Forbidden: field is immutable when `immutable` is set",
                            "field": field}]})),
                    );
                }
            }
        }
        for field in [
            "uid",
            "creationTimestamp",
            "namespace",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            match current["metadata"].get(field) {
                Some(v) => obj["metadata"][field] = v.clone(),
                None => {
                    if let Some(m) = obj["metadata"].as_object_mut() {
                        m.remove(field);
                    }
                }
            }
        }
        if self.dry_run() {
            return respond(200, &obj);
        }
        // fixture: remove-finalizer: the last finalizer of an object being
        // deleted removed, it goes (get-after-finalizer-removed: 404).
        if is_terminating(&obj) && finalizers_of(&obj).is_empty() {
            if let Some(m) = obj["metadata"].as_object_mut() {
                m.remove("finalizers");
            }
            st.secrets.remove(&key);
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

    /// DELETE a secret with preconditions (used by the binary). Fixtures:
    /// delete-with-preconditions, delete-precondition-wrong-uid,
    /// delete-precondition-stale-rv, delete-not-found.
    pub(super) fn delete(&self, ns: &str, name: &str, body: &[u8]) -> Resp {
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
        // fixture: delete-with-finalizer: held, it stays, marked for
        // deletion, and the answer is the object (a second DELETE finds
        // it marked already and changes nothing).
        if !finalizers_of(&current).is_empty() {
            if is_terminating(&current) || self.dry_run() {
                return respond(200, &current);
            }
            let mut held = current.clone();
            held["metadata"]["deletionTimestamp"] = json!(now());
            held["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            held["metadata"]["resourceVersion"] = json!(next_rv());
            st.secrets.insert(key, held.clone());
            return respond(200, &held);
        }
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

/// Is it being deleted (a `deletionTimestamp`)?
pub(super) fn is_terminating(obj: &Value) -> bool {
    obj["metadata"]
        .get("deletionTimestamp")
        .is_some_and(|t| !t.is_null())
}

pub(super) fn finalizers_of(obj: &Value) -> Vec<String> {
    obj["metadata"]["finalizers"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// What a controller does once it has done its part: remove its
/// finalizers (fixture remove-finalizer). An object being deleted then goes.
pub(super) fn release_finalizers(st: &mut State, key: &(String, String)) {
    let Some(obj) = st.secrets.get_mut(key) else {
        return;
    };
    if let Some(m) = obj["metadata"].as_object_mut() {
        m.remove("finalizers");
    }
    if is_terminating(obj) {
        st.secrets.remove(key);
    } else {
        obj["metadata"]["resourceVersion"] = json!(next_rv());
    }
}

pub(super) fn labels_of(obj: &Value) -> BTreeMap<String, String> {
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

/// The columns the real server prints a Secret with (kubernetes
/// pkg/printers/internalversion/printers.go, `secretColumnDefinitions`):
/// name, format, description (shortened here); every column's type is
/// `string`, though the Data cell is a number.
const SECRET_COLUMNS: [(&str, &str, &str); 4] = [
    ("Name", "name", "Name must be unique within a namespace."),
    (
        "Type",
        "",
        "Used to facilitate programmatic handling of secret data.",
    ),
    ("Data", "", "Data contains the secret data."),
    (
        "Age",
        "",
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
    ),
];

/// One Secret as a Table row (printSecret: name, type, number of keys,
/// age), with the object as metadata only (`includeObject=Metadata`, the
/// default): a Table carries no value.
fn table_row(obj: &Value) -> Value {
    let keys = obj["data"].as_object().map_or(0, |d| d.len());
    let age = obj["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .map_or_else(
            || "<unknown>".to_string(),
            |t| human_age(jiff::Timestamp::now().as_second() - t.as_second()),
        );
    json!({
        "cells": [obj["metadata"]["name"], obj["type"].as_str().unwrap_or("Opaque"), keys, age],
        "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]},
    })
}

/// An age as the server prints one, roughly (apimachinery's
/// `duration.HumanDuration`: seconds, then minutes, hours, days).
fn human_age(seconds: i64) -> String {
    match seconds.max(0) {
        s if s < 120 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}
