//! Authentication and authorization in miniature: bearer tokens mapped to
//! users, per-user deny rules standing in for RBAC, the SelfSubjectReview
//! that says who the caller is, and the SelfSubjectAccessReview that asks
//! those same deny rules (and the rules review that lists them). Matches
//! `unauthorized-bad-token`, `forbidden-list`, `selfsubjectreview`,
//! `selfsubjectaccessreview-*` and `selfsubjectrulesreview-*` in
//! `tests/fixtures/apiserver/`
//! (a copy of the shared kube-apiserver v1.36.2 recordings).

use serde_json::{Value, json};

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

impl Ctx<'_> {
    /// POST selfsubjectreviews: used by the binary (`whoami`, `created-by`,
    /// `identity candidates`); fixture: selfsubjectreview. Every
    /// authenticated user may by default (the `system:basic-user`
    /// ClusterRole); a cluster can take that away, and then the answer is
    /// RBAC's 403 at the cluster scope (k8s.io/apiserver's forbidden message
    /// for a non-namespaced resource of the group authentication.k8s.io).
    pub(super) fn self_subject_review(&self, groups: &[String]) -> Resp {
        if self.user == "system:anonymous" || self.lock().review_denied.contains(self.user) {
            let message = format!(
                "selfsubjectreviews.authentication.k8s.io is forbidden: User \"{}\" cannot create resource \"selfsubjectreviews\" in API group \"authentication.k8s.io\" at the cluster scope",
                self.user
            );
            return status(
                403,
                "Forbidden",
                &message,
                Some(json!({"group": "authentication.k8s.io", "kind": "selfsubjectreviews"})),
            );
        }
        review(self.user, groups)
    }
}

impl Ctx<'_> {
    /// POST selfsubjectaccessreviews: may the caller do this? Answered from
    /// the deny rules RBAC enforces here, so a review and the request it asks
    /// about never disagree. Fixtures: selfsubjectaccessreview-allowed,
    /// -denied (201 either way, `status.allowed`; the spec echoed without
    /// the empty `group`). `system:basic-user` grants reviews along with
    /// SelfSubjectReview, so [`super::ApiServer::deny_review`] takes both
    /// away (RBAC's 403 at the cluster scope).
    pub(super) fn self_subject_access_review(&self, body: &[u8]) -> Resp {
        if self.user == "system:anonymous" || self.lock().review_denied.contains(self.user) {
            let message = format!(
                "selfsubjectaccessreviews.authorization.k8s.io is forbidden: User \"{}\" cannot create resource \"selfsubjectaccessreviews\" in API group \"authorization.k8s.io\" at the cluster scope",
                self.user
            );
            return status(
                403,
                "Forbidden",
                &message,
                Some(json!({"group": "authorization.k8s.io", "kind": "selfsubjectaccessreviews"})),
            );
        }
        let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let attrs = &request["spec"]["resourceAttributes"];
        let verb = attrs["verb"].as_str().unwrap_or_default();
        let ns = attrs["namespace"].as_str().filter(|n| !n.is_empty());
        let name = attrs["name"].as_str().filter(|n| !n.is_empty());
        let allowed = match (
            attrs["group"].as_str().unwrap_or_default(),
            attrs["resource"].as_str(),
        ) {
            ("", Some("secrets")) => self.authorize_in(verb, ns, name).is_none(),
            _ => self.user != "system:anonymous",
        };
        let mut echoed = serde_json::Map::new();
        for field in ["namespace", "verb", "group", "resource", "name"] {
            if let Some(v) = attrs[field].as_str().filter(|v| !v.is_empty()) {
                echoed.insert(field.to_string(), json!(v));
            }
        }
        respond(
            201,
            &json!({
                "kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                "metadata": {},
                "spec": {"resourceAttributes": echoed},
                "status": {"allowed": allowed},
            }),
        )
    }
}

/// The verbs a rules review lists on secrets, in this order.
const SECRET_VERBS: [&str; 8] = [
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

impl Ctx<'_> {
    /// POST selfsubjectrulesreviews: the caller's rules in a namespace, as
    /// RBAC lists them (fixture selfsubjectrulesreview-resourcenames): the
    /// default rules every authenticated user has, one rule for the verbs
    /// allowed on every Secret, one per set of `resourceNames`; without a
    /// namespace, 400 (fixture selfsubjectrulesreview-no-namespace).
    pub(super) fn self_subject_rules_review(&self, body: &[u8]) -> Resp {
        if self.user == "system:anonymous" || self.lock().review_denied.contains(self.user) {
            let message = format!(
                "selfsubjectrulesreviews.authorization.k8s.io is forbidden: User \"{}\" cannot create resource \"selfsubjectrulesreviews\" in API group \"authorization.k8s.io\" at the cluster scope",
                self.user
            );
            return status(
                403,
                "Forbidden",
                &message,
                Some(json!({"group": "authorization.k8s.io", "kind": "selfsubjectrulesreviews"})),
            );
        }
        let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        // The rules listed are the same in every namespace here.
        if request["spec"]["namespace"]
            .as_str()
            .is_none_or(str::is_empty)
        {
            return status(400, "BadRequest", "no namespace on request", None);
        }
        let mut everywhere = Vec::new();
        let mut by_names: std::collections::BTreeMap<Vec<String>, Vec<&str>> =
            std::collections::BTreeMap::new();
        {
            let st = self.lock();
            for verb in SECRET_VERBS {
                let key = (self.user.to_string(), verb.to_string());
                if st.denied.contains(&key) {
                    continue;
                }
                match st.only_names.get(&key) {
                    Some(names) => by_names
                        .entry(names.iter().cloned().collect())
                        .or_default()
                        .push(verb),
                    None => everywhere.push(verb),
                }
            }
        }
        let mut rules = vec![
            json!({"verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]}),
            json!({"verbs": ["create"], "apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"]}),
        ];
        if !everywhere.is_empty() {
            rules.push(json!({"verbs": everywhere, "apiGroups": [""], "resources": ["secrets"]}));
        }
        for (names, verbs) in by_names {
            rules.push(json!({"verbs": verbs, "apiGroups": [""], "resources": ["secrets"], "resourceNames": names}));
        }
        respond(
            201,
            &json!({
                "kind": "SelfSubjectRulesReview", "apiVersion": "authorization.k8s.io/v1",
                "metadata": {}, "spec": {},
                "status": {
                    "resourceRules": rules,
                    "nonResourceRules": [
                        {"verbs": ["get"], "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"]},
                        {"verbs": ["get"], "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"]},
                        {"verbs": ["get"], "nonResourceURLs": ["/.well-known", "/.well-known/*"]},
                    ],
                    "incomplete": false,
                },
            }),
        )
    }
}

fn review(username: &str, groups: &[String]) -> Resp {
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
    /// RBAC on secrets in a namespace, or (`ns` of `None`) in all of them:
    /// fixture forbidden-list; for named requests the real message carries
    /// the name: `secrets "x" is forbidden: User ...`; at the cluster scope
    /// it ends `at the cluster scope` (k8s.io/apiserver's forbidden message).
    pub(super) fn authorize_in(
        &self,
        verb: &str,
        ns: Option<&str>,
        name: Option<&str>,
    ) -> Option<Resp> {
        let key = (self.user.to_string(), verb.to_string());
        let denied = {
            let st = self.lock();
            // A rule with resourceNames matches a named request only.
            let not_named = st
                .only_names
                .get(&key)
                .is_some_and(|names| ns.is_none() || !name.is_some_and(|n| names.contains(n)));
            (self.user == "system:anonymous" && !st.anonymous_allowed)
                || st.denied.contains(&key)
                || (ns.is_none() && st.denied_cluster_wide.contains(&key))
                || not_named
        };
        if !denied {
            return None;
        }
        let Some(ns) = ns else {
            let message = format!(
                "secrets is forbidden: User \"{}\" cannot {verb} resource \"secrets\" in API group \"\" at the cluster scope",
                self.user
            );
            return Some(status(
                403,
                "Forbidden",
                &message,
                Some(json!({"kind": "secrets"})),
            ));
        };
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

    /// [`Self::authorize_in`] a namespace.
    pub(super) fn authorize(&self, verb: &str, ns: &str, name: Option<&str>) -> Option<Resp> {
        self.authorize_in(verb, Some(ns), name)
    }
}
