use super::*;

const KUBECONFIG: &str = r#"apiVersion: v1
kind: Config
# a comment that stays
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443"}
users:
- name: bob
  user:
    auth-provider:
      name: oidc
      config: {id-token: bob-id, refresh-token: bob-refresh}
- name: alice
  user:
    auth-provider:
      name: oidc
      config:
        client-id: konduktor   # trailing comment
        id-token: 'old.id.token'
        refresh-token: "old-refresh"
        idp-issuer-url: https://issuer.example
current-context: x
"#;

#[test]
fn only_the_users_two_tokens_change() {
    let out = with_tokens(KUBECONFIG, "alice", "new.id.token", "new-refresh")
        .unwrap_or_else(|e| panic!("{e}"));
    let expected = KUBECONFIG
        .replace("'old.id.token'", "\"new.id.token\"")
        .replace("\"old-refresh\"", "\"new-refresh\"");
    assert_eq!(out, expected);
    // Bob's flow-style entry too.
    let out = with_tokens(KUBECONFIG, "bob", "b2", "r\"2").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out,
        KUBECONFIG.replace(
            "{id-token: bob-id, refresh-token: bob-refresh}",
            "{id-token: \"b2\", refresh-token: \"r\\\"2\"}"
        )
    );
    let reread =
        crate::cluster::kubeconfig::parse_kubeconfig(&out).unwrap_or_else(|e| panic!("{e}"));
    let bob = reread
        .auth_infos
        .iter()
        .find(|u| u.name == "bob")
        .and_then(|u| u.auth_info.clone());
    let config = bob
        .and_then(|b| b.auth_provider)
        .map(|p| p.config)
        .unwrap_or_default();
    assert_eq!(
        config.get("refresh-token").map(String::as_str),
        Some("r\"2")
    );
}

#[test]
fn a_user_or_token_not_found_is_an_error_not_a_guess() {
    assert!(with_tokens(KUBECONFIG, "carol", "a", "b").is_err());
    let aliased = KUBECONFIG.replace("'old.id.token'", "&t 'old.id.token'");
    assert!(with_tokens(&aliased, "alice", "a", "b").is_err());
    assert!(with_tokens("users: [", "alice", "a", "b").is_err());
}

#[test]
fn expiry_is_read_from_the_jwt() {
    use base64::Engine as _;
    let jwt = |claims: &str| {
        format!(
            "e30.{}.sig",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims)
        )
    };
    assert!(expired(&jwt(r#"{"exp":1000}"#), 2000));
    assert!(expired(&jwt(r#"{"exp":1995}"#), 1990));
    assert!(!expired(&jwt(r#"{"exp":5000}"#), 2000));
    assert!(expired(&jwt(r#"{"exp":1000.5}"#), 2000));
    // Unreadable: left to kube, which says so.
    assert!(!expired("not-a-jwt", 2000));
    assert!(!expired(&jwt("{}"), 2000));
}

#[test]
fn the_form_is_encoded_as_go_encodes_it() {
    assert_eq!(
        form_encoded(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "a b&c=d/é")
        ]),
        "grant_type=refresh_token&refresh_token=a+b%26c%3Dd%2F%C3%A9"
    );
}
