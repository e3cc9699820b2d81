use std::collections::HashMap;
use std::path::Path;

use secrecy::ExposeSecret;

use super::*;

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

fn service_account(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for (name, content) in files {
        std::fs::write(dir.path().join(name), content).unwrap_or_else(|e| panic!("{e}"));
    }
    dir
}

const POD: [(&str, &str); 2] = [
    ("KUBERNETES_SERVICE_HOST", "10.96.0.1"),
    ("KUBERNETES_SERVICE_PORT", "443"),
];

fn made(root: &Path, vars: &[(&str, &str)]) -> Kubeconfig {
    kubeconfig(root, &env_of(vars)).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn possible_only_with_both_variables_and_a_token() {
    let sa = service_account(&[("token", "t\n")]);
    assert!(possible(sa.path(), &env_of(&POD)));
    assert!(!possible(sa.path(), &env_of(&POD[..1])));
    assert!(!possible(
        sa.path(),
        &env_of(&[("KUBERNETES_SERVICE_HOST", ""), POD[1]])
    ));
    let empty = service_account(&[]);
    assert!(!possible(empty.path(), &env_of(&POD)));
}

#[test]
fn the_service_account_makes_a_kubeconfig_of_one_context() {
    let sa = service_account(&[
        ("token", "header.payload.sig"),
        ("ca.crt", "-----BEGIN CERTIFICATE-----\n"),
        ("namespace", "ci-runners\n"),
    ]);
    let config = made(sa.path(), &POD);
    assert_eq!(config.current_context.as_deref(), Some(CONTEXT));
    let cluster = config.clusters[0].cluster.clone().unwrap_or_default();
    assert_eq!(cluster.server.as_deref(), Some("https://10.96.0.1:443"));
    assert_eq!(
        cluster.certificate_authority_data,
        Some(base64(b"-----BEGIN CERTIFICATE-----\n".to_vec()))
    );
    let ctx = config.contexts[0].context.clone().unwrap_or_default();
    assert_eq!(ctx.namespace.as_deref(), Some("ci-runners"));
    // The token stays a file, which kube reads again as it is renewed.
    let user = config.auth_infos[0].auth_info.clone().unwrap_or_default();
    assert_eq!(user.token_file.as_deref(), sa.path().join("token").to_str());
    assert!(user.token.is_none());
    // A line break around it is trimmed, as client-go does.
    let sa = service_account(&[("token", "header.payload.sig\n")]);
    let config = made(sa.path(), &POD);
    let user = config.auth_infos[0].auth_info.clone().unwrap_or_default();
    assert!(user.token_file.is_none());
    assert_eq!(
        user.token.as_ref().map(|t| t.expose_secret().to_string()),
        Some("header.payload.sig".to_string())
    );
}

#[test]
fn pod_namespace_wins_then_the_file_then_default_and_ipv6_is_bracketed() {
    let sa = service_account(&[("token", "t"), ("namespace", "from-file")]);
    let mut vars = POD.to_vec();
    vars.push(("POD_NAMESPACE", "from-env"));
    let ns = |c: &Kubeconfig| c.contexts[0].context.clone().unwrap_or_default().namespace;
    assert_eq!(ns(&made(sa.path(), &vars)).as_deref(), Some("from-env"));
    assert_eq!(ns(&made(sa.path(), &POD)).as_deref(), Some("from-file"));
    let bare = service_account(&[("token", "t")]);
    assert_eq!(ns(&made(bare.path(), &POD)).as_deref(), Some("default"));
    let v6 = made(
        bare.path(),
        &[
            ("KUBERNETES_SERVICE_HOST", "fd00::1"),
            ("KUBERNETES_SERVICE_PORT", "6443"),
        ],
    );
    let server = v6.clusters[0].cluster.clone().unwrap_or_default().server;
    assert_eq!(server.as_deref(), Some("https://[fd00::1]:6443"));
    // No CA file: the system's roots, as client-go.
    let cluster = v6.clusters[0].cluster.clone().unwrap_or_default();
    assert!(cluster.certificate_authority_data.is_none());
}

#[test]
fn a_token_that_cannot_be_sent_is_refused_without_being_shown() {
    let sa = service_account(&[("token", "secret-one\nsecret-two")]);
    let err = kubeconfig(sa.path(), &env_of(&POD))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("not one line of printable text"), "{err}");
    assert!(!err.contains("secret-one"), "{err}");
    let dir = service_account(&[]);
    std::fs::create_dir(dir.path().join("token")).unwrap_or_else(|e| panic!("{e}"));
    assert!(kubeconfig(dir.path(), &env_of(&POD)).is_err());
}

/// A port that is no port, or a host that is no host, is named as the
/// variable that holds it, not met later as a refused connection.
#[test]
fn service_variables_that_are_not_a_host_and_port_are_named() {
    let sa = service_account(&[("token", "t")]);
    for (host, port, named) in [
        ("10.96.0.1", "abc", "KUBERNETES_SERVICE_PORT"),
        ("10.96.0.1", "-1", "KUBERNETES_SERVICE_PORT"),
        ("10.96.0.1", "0", "KUBERNETES_SERVICE_PORT"),
        ("10.96.0.1", "99999", "KUBERNETES_SERVICE_PORT"),
        ("10.96.0.1", "443\u{1b}[2J", "KUBERNETES_SERVICE_PORT"),
        ("evil.example/x", "443", "KUBERNETES_SERVICE_HOST"),
        ("user@10.96.0.1", "443", "KUBERNETES_SERVICE_HOST"),
        ("10.96.0.1 443", "443", "KUBERNETES_SERVICE_HOST"),
        ("\u{1b}]0;x\u{7}", "443", "KUBERNETES_SERVICE_HOST"),
    ] {
        let vars = [
            ("KUBERNETES_SERVICE_HOST", host),
            ("KUBERNETES_SERVICE_PORT", port),
        ];
        let e = kubeconfig(sa.path(), &env_of(&vars)).err();
        let e = e.unwrap_or_else(|| panic!("{host:?}:{port:?} accepted"));
        let text = e.to_string();
        assert!(text.contains(named), "{host:?} {port:?}: {text}");
        assert!(!text.contains('\u{1b}'), "{text:?}");
    }
    for (host, port) in [
        ("10.96.0.1", "443"),
        ("fd00::1", "6443"),
        ("kubernetes.default.svc", "1"),
    ] {
        let vars = [
            ("KUBERNETES_SERVICE_HOST", host),
            ("KUBERNETES_SERVICE_PORT", port),
        ];
        assert!(
            kubeconfig(sa.path(), &env_of(&vars)).is_ok(),
            "{host} {port}"
        );
    }
}
