//! Authentication and authorization in miniature: bearer tokens mapped to
//! users, per-user deny rules standing in for RBAC, and the SelfSubjectReview
//! that says who the caller is. Matches `unauthorized-bad-token`,
//! `forbidden-list` and `selfsubjectreview` in `tests/fixtures/apiserver/`
//! (a copy of the shared kube-apiserver v1.36.2 recordings).

use serde_json::json;

use super::State;
use super::routing::{Ctx, Resp, respond};
use super::store::now;
use super::validation::status;

/// The token the test kubeconfig carries, and who it is.
pub const ALICE_TOKEN: &str = "alice-token";
pub const ALICE: &str = "alice";

/// Who a request comes from: `Err` for an unknown token (a 401 follows).
/// Anonymous requests are let in, but RBAC refuses them everything.
pub(super) fn authenticate(st: &State, token: Option<&str>) -> Result<(String, Vec<String>), ()> {
    match token {
        Some(t) => st.tokens.get(t).cloned().ok_or(()),
        None => Ok((
            "system:anonymous".to_string(),
            vec!["system:unauthenticated".to_string()],
        )),
    }
}

/// fixture: unauthorized-bad-token
pub(super) fn unauthorized() -> Resp {
    status(401, "Unauthorized", "Unauthorized", None)
}

/// POST selfsubjectreviews: used by the binary (`whoami`, and to name the
/// user in messages); fixture: selfsubjectreview.
pub(super) fn self_subject_review(username: &str, groups: &[String]) -> Resp {
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

impl Ctx<'_> {
    /// RBAC: fixture forbidden-list; for named requests the real message
    /// carries the name: `secrets "x" is forbidden: User ...`.
    pub(super) fn authorize(&self, verb: &str, ns: &str, name: Option<&str>) -> Option<Resp> {
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
}
