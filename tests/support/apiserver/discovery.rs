//! Discovery, as far as kubectl needs it to find `secrets` (the list
//! benchmark runs `kubectl get secrets` beside the binary, which never asks
//! for discovery). The shapes are the legacy discovery documents of
//! https://kubernetes.io/docs/reference/using-api/api-concepts/ ("Discovery
//! API"): a client that asks for aggregated discovery and gets these
//! (`application/json`, kind `APIVersions`) falls back to them, as kubectl
//! does with servers before v1.26. No API group is offered: a group listed
//! here would have to answer its own resource list.

use serde_json::json;

use super::routing::{Resp, respond};

/// `GET /api`
pub(super) fn core_versions() -> Resp {
    respond(
        200,
        &json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
        }),
    )
}

/// `GET /apis`
pub(super) fn groups() -> Resp {
    respond(
        200,
        &json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []}),
    )
}

/// `GET /api/v1`: the two resources this server keeps.
pub(super) fn core_v1_resources() -> Resp {
    respond(
        200,
        &json!({
            "kind": "APIResourceList",
            "groupVersion": "v1",
            "resources": [
                {"name": "namespaces", "singularName": "namespace", "namespaced": false,
                 "kind": "Namespace", "shortNames": ["ns"],
                 "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]},
                {"name": "secrets", "singularName": "secret", "namespaced": true,
                 "kind": "Secret",
                 "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]},
            ],
        }),
    )
}
