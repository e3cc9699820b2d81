//! What RBAC lets the caller do to Secrets in a namespace, as a
//! SelfSubjectRulesReview lists it (fixture selfsubjectrulesreview-resourcenames):
//! read once, then asked about any number of object names without another
//! request. A Role that grants `patch` and `delete` only on the caller's own
//! Secret names (`resourceNames`) is allowed here name by name, where a
//! name-less access review says no (docs/konduktor-compat.md §5.3).

use k8s_openapi::api::authorization::v1::{ResourceRule, SubjectRulesReviewStatus};

/// The most rules kept from one review: a hostile server cannot make the
/// check grow without bound (each rule is matched against every name).
pub const MAX_RULES: usize = 1000;
/// The most names kept from one rule.
pub const MAX_NAMES_PER_RULE: usize = 10_000;

/// One rule on core-group `secrets`: its verbs, and the names it is
/// limited to (empty: every name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretRule {
    pub verbs: Vec<String>,
    pub names: Vec<String>,
}

/// The caller's rules on Secrets in one namespace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecretRules {
    pub rules: Vec<SecretRule>,
    /// The server said the list may be missing rules (`incomplete`, or an
    /// `evaluationError`: another authorizer, a rule it could not read), or
    /// it was cut at [`MAX_RULES`] or a rule's names at
    /// [`MAX_NAMES_PER_RULE`]: a name the rules do not cover may
    /// still be allowed.
    pub incomplete: bool,
}

impl SecretRules {
    /// The rules that apply to core-group `secrets` (no subresource), from
    /// a review's status.
    pub fn from_status(status: SubjectRulesReviewStatus) -> Self {
        let total = status.resource_rules.len();
        // A rule whose names were cut may name the object past the cut:
        // what is kept is then not the whole answer.
        let mut names_cut = false;
        let rules: Vec<SecretRule> = status
            .resource_rules
            .into_iter()
            .filter(covers_secrets)
            .take(MAX_RULES)
            .map(|r| {
                let names = r.resource_names.unwrap_or_default();
                names_cut |= names.len() > MAX_NAMES_PER_RULE;
                SecretRule {
                    verbs: r.verbs,
                    names: names.into_iter().take(MAX_NAMES_PER_RULE).collect(),
                }
            })
            .collect();
        SecretRules {
            incomplete: status.incomplete
                || status.evaluation_error.is_some_and(|e| !e.is_empty())
                || total > MAX_RULES
                || names_cut,
            rules,
        }
    }

    /// Do the rules allow `verb` on the Secret `name`? As RBAC matches a
    /// rule (k8s.io/kubernetes plugin/pkg/auth/authorizer/rbac
    /// `RuleAllows`): the verb or `*`, and no names or this name.
    pub fn allows(&self, verb: &str, name: &str) -> bool {
        self.rules.iter().any(|r| {
            r.verbs.iter().any(|v| v == "*" || v == verb)
                && (r.names.is_empty() || r.names.iter().any(|n| n == name))
        })
    }
}

/// A rule for core-group `secrets` itself: API group `""` or `*`, resource
/// `secrets` or `*` (a `secrets/...` subresource is another resource).
fn covers_secrets(rule: &ResourceRule) -> bool {
    let group = rule
        .api_groups
        .as_ref()
        .is_some_and(|g| g.iter().any(|g| g.is_empty() || g == "*"));
    let resource = rule
        .resources
        .as_ref()
        .is_some_and(|r| r.iter().any(|r| r == "secrets" || r == "*"));
    group && resource
}

#[cfg(test)]
#[path = "access_tests.rs"]
mod tests;
