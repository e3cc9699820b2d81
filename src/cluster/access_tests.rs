use k8s_openapi::api::authorization::v1::{ResourceRule, SelfSubjectRulesReview};

use super::*;

/// The status of the recorded review: alice's Role grants get, list and
/// create on every Secret, patch and delete on two names only.
fn recorded() -> SubjectRulesReviewStatus {
    let fixture: serde_json::Value = serde_json::from_str(include_str!(
        "../../tests/fixtures/apiserver/selfsubjectrulesreview-resourcenames.json"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let review: SelfSubjectRulesReview =
        serde_json::from_value(fixture["response"]["body"].clone())
            .unwrap_or_else(|e| panic!("{e}"));
    review.status.unwrap_or_else(|| panic!("no status"))
}

fn rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> ResourceRule {
    let strings = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    ResourceRule {
        verbs: strings(verbs),
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        resource_names: (!names.is_empty()).then(|| strings(names)),
    }
}

fn status(rules: Vec<ResourceRule>) -> SubjectRulesReviewStatus {
    SubjectRulesReviewStatus {
        resource_rules: rules,
        ..SubjectRulesReviewStatus::default()
    }
}

#[test]
fn the_recorded_role_allows_patch_and_delete_by_name_only() {
    let rules = SecretRules::from_status(recorded());
    assert!(!rules.incomplete);
    assert_eq!(rules.rules.len(), 2, "only the rules on secrets: {rules:?}");
    for verb in ["patch", "delete"] {
        assert!(rules.allows(verb, "mine-abba3a3e"));
        assert!(rules.allows(verb, "other-abba3a3e"));
        assert!(!rules.allows(verb, "theirs-0badf00d"));
        assert!(
            !rules.allows(verb, ""),
            "a name-less request matches no named rule"
        );
    }
    assert!(rules.allows("create", "anything"));
    assert!(!rules.allows("update", "mine-abba3a3e"));
}

#[test]
fn wildcards_and_other_resources_are_matched_as_rbac_matches_them() {
    let rules = SecretRules::from_status(status(vec![
        rule(&["*"], &["*"], &["*"], &["a"]),
        rule(&["delete"], &[""], &["secrets/status"], &[]),
        rule(&["delete"], &["apps"], &["secrets"], &[]),
        rule(&["delete"], &[""], &["configmaps"], &[]),
    ]));
    assert!(rules.allows("patch", "a"));
    assert!(rules.allows("delete", "a"));
    assert!(
        !rules.allows("delete", "b"),
        "a subresource, another group or another resource grants nothing on secrets"
    );
}

#[test]
fn an_incomplete_or_failed_review_says_so() {
    let mut s = status(vec![rule(&["patch"], &[""], &["secrets"], &[])]);
    s.incomplete = true;
    assert!(SecretRules::from_status(s).incomplete);
    let mut s = status(Vec::new());
    s.evaluation_error = Some("webhook: unknown".into());
    assert!(SecretRules::from_status(s).incomplete);
    let many = (0..MAX_RULES + 1)
        .map(|i| rule(&["patch"], &[""], &["secrets"], &[&format!("n{i}")]))
        .collect();
    let cut = SecretRules::from_status(status(many));
    assert!(cut.incomplete);
    assert_eq!(cut.rules.len(), MAX_RULES);
}

/// F7: a rule whose names were cut at MAX_NAMES_PER_RULE may name ours
/// past the cut: the rules are then incomplete, so the object is asked
/// about by name rather than refused from the rules.
#[test]
fn names_cut_at_the_cap_make_the_rules_incomplete() {
    let names: Vec<String> = (0..=MAX_NAMES_PER_RULE).map(|i| format!("n{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let ours = names.last().map(String::as_str).unwrap_or_default();
    let cut = SecretRules::from_status(status(vec![rule(&["patch"], &[""], &["secrets"], &refs)]));
    assert!(
        !cut.allows("patch", ours),
        "the name past the cap is not kept"
    );
    assert!(cut.incomplete, "a cut rule is not the whole answer");
    let kept = &refs[..MAX_NAMES_PER_RULE];
    let whole = SecretRules::from_status(status(vec![rule(&["patch"], &[""], &["secrets"], kept)]));
    assert!(!whole.incomplete, "exactly at the cap nothing was cut");
    // A cut rule on another resource changes nothing about secrets.
    let other = SecretRules::from_status(status(vec![rule(
        &["patch"],
        &[""],
        &["configmaps"],
        &refs,
    )]));
    assert!(!other.incomplete);
}
