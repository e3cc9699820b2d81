//! What the server refuses, and how it says so: the `Status` failure body,
//! the 404/409 answers shared by several handlers, decoding a request body
//! into a Secret, and Secret validation (422 with `details.causes`). Matches
//! `get-secret-not-found`, `delete-not-found`, `merge-patch-stale-resourceversion`,
//! `put-stale-resourceversion`, `create-invalid-name`, `create-invalid-key`,
//! `create-invalid-label-value` and `create-too-large` in
//! `tests/fixtures/apiserver/` (a copy of the shared kube-apiserver v1.36.2
//! recordings).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use super::routing::{Resp, respond};
use super::selector;
use super::store::labels_of;

/// A `Status` failure body, in the shape every fixture shows.
pub(super) fn status(code: u16, reason: &str, message: &str, details: Option<Value>) -> Resp {
    let mut body = json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": "Failure", "message": message, "reason": reason, "code": code,
    });
    if let Some(d) = details {
        body["details"] = d;
    }
    respond(code, &body)
}

pub(super) fn not_found(name: &str) -> Resp {
    // fixture: get-secret-not-found, delete-not-found
    status(
        404,
        "NotFound",
        &format!("secrets \"{name}\" not found"),
        Some(json!({"name": name, "kind": "secrets"})),
    )
}

pub(super) fn conflict_modified(name: &str) -> Resp {
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

/// Decode a request body into a Secret as the server stores it.
#[allow(clippy::result_large_err)] // a test server: the error is the response itself
pub(super) fn decode_secret(body: &[u8]) -> Result<Value, Resp> {
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
pub(super) fn normalize_secret(mut obj: Value) -> Result<Value, Resp> {
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
pub(super) fn validate(obj: &Value) -> Option<Resp> {
    invalid(obj, secret_causes(obj))
}

/// An update (PUT or PATCH) as ValidateSecretUpdate checks it: the type
/// cannot change (fixture merge-patch-type-change), then the Secret as a
/// new one would be checked (fixture merge-patch-tls-remove-required-key).
pub(super) fn validate_update(obj: &Value, current: &Value) -> Option<Resp> {
    let mut causes = Vec::new();
    let (new_type, old_type) = (
        obj["type"].as_str().unwrap_or("Opaque"),
        current["type"].as_str().unwrap_or("Opaque"),
    );
    if new_type != old_type {
        causes.push((
            "type".to_string(),
            "FieldValueInvalid".to_string(),
            format!("Invalid value: \"{new_type}\": field is immutable"),
        ));
    }
    causes.extend(secret_causes(obj));
    invalid(obj, causes)
}

/// What ValidateSecret finds wrong: (field, reason, message) each.
fn secret_causes(obj: &Value) -> Vec<(String, String, String)> {
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
    // A kubernetes.io/tls Secret must hold tls.crt and tls.key (fixture
    // merge-patch-tls-remove-required-key).
    if obj["type"].as_str() == Some("kubernetes.io/tls") {
        for key in ["tls.crt", "tls.key"] {
            if obj["data"].get(key).is_none_or(Value::is_null) {
                causes.push((
                    format!("data[{key}]"),
                    "FieldValueRequired".into(),
                    "Required value".into(),
                ));
            }
        }
    }
    causes
}

/// The 422 for `causes`, if any: `Secret "<name>" is invalid: ...`.
fn invalid(obj: &Value, causes: Vec<(String, String, String)>) -> Option<Resp> {
    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
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
