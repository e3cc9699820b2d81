//! PATCH of a Secret: JSON merge patch (what the binary sends), strategic
//! merge patch and JSON patch. Matches `merge-patch-add-key`,
//! `merge-patch-remove-key`, `merge-patch-stale-resourceversion`,
//! `strategic-merge-patch` and `json-patch-test-fails` in
//! `tests/fixtures/apiserver/` (a copy of the shared kube-apiserver v1.36.2
//! recordings).

use serde_json::{Value, json};

use super::routing::{Ctx, Resp};
use super::validation::{conflict_modified, normalize_secret, not_found, status};

impl Ctx<'_> {
    /// PATCH a secret. The binary sends only JSON merge patches (fixtures:
    /// merge-patch-add-key, merge-patch-remove-key,
    /// merge-patch-stale-resourceversion); strategic merge and JSON patch are
    /// kept because strategic-merge-patch and json-patch-test-fails are
    /// replayed.
    pub(super) fn patch(
        &self,
        ns: &str,
        name: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Resp {
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
