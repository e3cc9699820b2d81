use std::collections::HashMap;

use super::*;

fn uri(s: &str) -> http::Uri {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

fn chosen(server: &str, proxy_url: Option<&str>, vars: &[(&str, &str)]) -> Option<String> {
    choose(&uri(server), proxy_url, "cluster `c`", &env_of(vars))
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|p| p.url.to_string())
}

#[test]
fn the_variable_follows_the_server_scheme_upper_case_first() {
    let both = [
        ("HTTPS_PROXY", "http://s:1"),
        ("https_proxy", "http://lower-s:1"),
        ("HTTP_PROXY", "http://p:2"),
        ("http_proxy", "http://lower-p:2"),
    ];
    assert_eq!(
        chosen("https://k:6443", None, &both).as_deref(),
        Some("http://s:1/")
    );
    assert_eq!(
        chosen("http://k:8080", None, &both).as_deref(),
        Some("http://p:2/")
    );
    // An empty upper-case value gives way to the lower-case one.
    let lower = [("HTTPS_PROXY", ""), ("https_proxy", "http://lower-s:1")];
    assert_eq!(
        chosen("https://k", None, &lower).as_deref(),
        Some("http://lower-s:1/")
    );
    // HTTPS_PROXY is not for http servers, nor HTTP_PROXY for https ones.
    assert_eq!(
        chosen("http://k", None, &[("HTTPS_PROXY", "http://s:1")]),
        None
    );
    assert_eq!(
        chosen("https://k", None, &[("HTTP_PROXY", "http://p:1")]),
        None
    );
    assert_eq!(chosen("https://k", None, &[]), None);
}

#[test]
fn a_bare_host_port_is_an_http_proxy_and_socks5h_is_socks5() {
    let got = |v: &str| chosen("https://k", None, &[("HTTPS_PROXY", v)]);
    assert_eq!(
        got("proxy.corp:3128").as_deref(),
        Some("http://proxy.corp:3128/")
    );
    assert_eq!(got("socks5h://s:1080").as_deref(), Some("socks5://s:1080/"));
    assert_eq!(
        got("https://u:p@s:443").as_deref(),
        Some("https://u:p@s:443/")
    );
}

#[test]
fn an_unsupported_proxy_names_its_protocol_and_source_never_the_password() {
    let err = choose(
        &uri("https://k"),
        None,
        "cluster `c`",
        &env_of(&[("HTTPS_PROXY", "socks4://user:hunter2@s:1080")]),
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        err.contains("HTTPS_PROXY") && err.contains("socks4"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    let err = choose(
        &uri("https://k"),
        Some("ftp://s:21"),
        "cluster `prod`",
        &env_of(&[]),
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(
        err.contains("proxy-url of cluster `prod`") && err.contains("ftp"),
        "{err}"
    );
}

#[test]
fn the_kubeconfig_proxy_url_wins_and_ignores_no_proxy_and_loopback() {
    let vars = [("HTTPS_PROXY", "http://env:1"), ("NO_PROXY", "*")];
    assert_eq!(
        chosen("https://127.0.0.1:6443", Some("socks5://s:1080"), &vars).as_deref(),
        Some("socks5://s:1080/")
    );
    // An empty proxy-url is none.
    assert_eq!(
        chosen("https://k", Some(""), &[("HTTPS_PROXY", "http://env:1")]).as_deref(),
        Some("http://env:1/")
    );
}

#[test]
fn loopback_servers_never_use_the_environment_proxy() {
    for server in [
        "https://localhost:6443",
        "https://LOCALHOST",
        "https://127.0.0.1:6443",
        "https://127.1.2.3",
        "https://[::1]:6443",
    ] {
        assert!(!use_proxy(&uri(server), ""), "{server}");
    }
    for server in [
        "https://localhost.localdomain",
        "https://0.0.0.0",
        "https://10.0.0.1",
    ] {
        assert!(use_proxy(&uri(server), ""), "{server}");
    }
}

#[test]
fn no_proxy_matches_as_go_does() {
    let bypass = |server: &str, no_proxy: &str| !use_proxy(&uri(server), no_proxy);
    // `*` alone, or among others.
    assert!(bypass("https://k.example.com", "*"));
    assert!(bypass("https://k.example.com", "a.test, *"));
    // A domain matches itself and its subdomains; `.d` and `*.d` only its
    // subdomains; case and spaces do not matter; empty entries are skipped.
    assert!(bypass("https://example.com", "example.com"));
    assert!(bypass("https://k.example.com", ",, Example.COM ,"));
    assert!(bypass("https://k.example.com", ".example.com"));
    assert!(bypass("https://k.example.com", "*.example.com"));
    assert!(!bypass("https://example.com", ".example.com"));
    assert!(!bypass("https://example.com", "*.example.com"));
    assert!(!bypass("https://notexample.com", "example.com"));
    assert!(!bypass("https://example.com.evil", "example.com"));
    // With a port: only that port (the scheme's default when none is given).
    assert!(bypass("https://k.example.com:6443", "example.com:6443"));
    assert!(!bypass("https://k.example.com:6443", "example.com:443"));
    assert!(bypass("https://k.example.com", "example.com:443"));
    assert!(bypass("http://k.example.com", "k.example.com:80"));
    // Addresses and ranges.
    assert!(bypass("https://10.1.2.3:6443", "10.1.2.3"));
    assert!(bypass("https://10.1.2.3:6443", "10.1.2.3:6443"));
    assert!(!bypass("https://10.1.2.3:6443", "10.1.2.3:443"));
    assert!(bypass("https://10.1.2.3", "10.0.0.0/8"));
    assert!(!bypass("https://11.1.2.3", "10.0.0.0/8"));
    assert!(bypass("https://0.0.0.0", "0.0.0.0/0"));
    assert!(bypass("https://[fd00::5]:6443", "fd00::/8"));
    assert!(bypass("https://[fd00::5]:6443", "[fd00::5]:6443"));
    assert!(bypass("https://[fd00::5]", "fd00::5"));
    assert!(!bypass("https://[fd01::5]", "fd00::/16"));
    // A range never matches a name, nor a malformed entry anything.
    assert!(!bypass("https://k.example.com", "10.0.0.0/8"));
    assert!(!bypass("https://k.example.com", ":443,/8,[]"));
}

const CANARY: &str = "PROXYPASS-c4n4ry-91x";

/// Malformed (and some well-formed) proxy values, each holding the canary
/// where a password, or text taken for one, may sit: in the userinfo, with
/// brackets, bidi and control characters, percent-encoding, no host, two
/// schemes, in the path.
fn hostile_proxy_values() -> Vec<String> {
    let schemes = [
        "http://",
        "https://",
        "HTTP://",
        "socks5h://",
        "socks5://",
        "socks4://",
        "http://http://",
        "http://https://",
        "http:/",
        "http:",
        "//",
        "",
    ];
    let userinfo = [
        "u:{C}@",
        "{C}@",
        "u:{C}\u{202e}@",
        "u:{C}\u{202e}",
        "u:{C}\n@",
        "u:{C}%@",
        "u:{C}%zz@",
        "u:{C}%40@",
        "[u:{C}]@",
        "u:{C}@@",
        "u:{C}@x@",
        "u:[{C}@",
        "u:{C} @",
    ];
    let hosts = [
        "[::1:1",
        "",
        ":1",
        "h:1",
        "h:",
        "h:badport",
        "h:99999",
        "[::1]:1",
        "h:1/p?q#f",
        "h:1 x",
        "h:1/",
    ];
    let mut out = Vec::new();
    for s in schemes {
        for u in userinfo {
            for h in hosts {
                out.push(format!("{s}{}{h}", u.replace("{C}", CANARY)));
            }
        }
        // The canary where no userinfo is: in the path, query, fragment.
        for tail in ["h:1/{C}@x", "h:1/?{C}", "h:1#{C}@", "h:1/{C}://x@y"] {
            out.push(format!("{s}{}", tail.replace("{C}", CANARY)));
        }
    }
    out
}

#[test]
fn no_malformed_proxy_value_is_ever_echoed() {
    let values = hostile_proxy_values();
    assert!(values.len() > 500, "{}", values.len());
    let mut accepted = 0;
    for value in &values {
        for (proxy_url, vars) in [
            (None, vec![("HTTPS_PROXY", value.as_str())]),
            (Some(value.as_str()), vec![]),
        ] {
            let got = choose(
                &uri("https://kube.example:443"),
                proxy_url,
                "cluster `c`",
                &env_of(&vars),
            );
            let shown = match &got {
                Err(e) => format!("{e}\n{e:?}\n{}", e.hint().unwrap_or_default()),
                Ok(None) => panic!("{value:?}: no proxy chosen"),
                Ok(Some(p)) => {
                    accepted += 1;
                    // What kube is given has no path or query to carry it.
                    assert!(
                        matches!(p.url.path(), "" | "/") && p.url.query().is_none(),
                        "{value:?}: {}",
                        p.url.path()
                    );
                    format!("{p:?}\n{}\n{}", p.shown(), p.source.describe("cluster `c`"))
                }
            };
            assert!(
                !shown.contains(CANARY),
                "{value:?} shows its password:\n{shown}"
            );
            assert!(
                !shown.contains("c4n4ry"),
                "{value:?} shows part of it:\n{shown}"
            );
        }
    }
    // Some are URLs a proxy can be (their password hidden when shown).
    assert!(accepted > 0);
}

#[test]
fn only_text_without_a_scheme_is_taken_as_host_port() {
    let got = |v: &str| {
        choose(
            &uri("https://k"),
            None,
            "cluster `c`",
            &env_of(&[("HTTPS_PROXY", v)]),
        )
        .map(|p| p.map(|p| p.shown()))
    };
    // A URL that does not parse is not retried as `http://` + it.
    let err = got("http://u:pw@[::1:1")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("HTTPS_PROXY") && err.contains("not a URL"),
        "{err}"
    );
    assert!(got("http://http://u:pw@h:1").is_err());
    // A bare host:port still is one.
    assert_eq!(
        got("u:pw@proxy.corp:3128").ok().flatten().as_deref(),
        Some("http://***@proxy.corp:3128")
    );
    assert_eq!(
        got("https://u:pw@[::1]:3128/some/path")
            .ok()
            .flatten()
            .as_deref(),
        Some("https://***@[::1]:3128")
    );
}

/// `http://host:` (an empty port) is read as Go reads it: the scheme's
/// port (`canonicalAddr`), credentials kept; a second scheme after it
/// (`http://http://...`) is still no proxy address.
#[test]
fn an_empty_port_is_the_schemes_port_as_in_go() {
    let shown = |v: &str| {
        choose(
            &uri("https://k"),
            None,
            "cluster `c`",
            &env_of(&[("HTTPS_PROXY", v)]),
        )
        .map(|p| p.map(|p| p.shown()))
        .map_err(|e| e.to_string())
    };
    for (value, expected) in [
        ("http://proxy.corp:", "http://proxy.corp:80"),
        ("http://proxy.corp:/", "http://proxy.corp:80"),
        ("https://proxy.corp:", "https://proxy.corp:443"),
        ("socks5://proxy.corp:", "socks5://proxy.corp:1080"),
        ("socks5h://proxy.corp:", "socks5://proxy.corp:1080"),
        ("http://u:pw@proxy.corp:", "http://***@proxy.corp:80"),
        ("proxy.corp:", "http://proxy.corp:80"),
        ("http://[::1]:", "http://[::1]:80"),
    ] {
        assert_eq!(shown(value), Ok(Some(expected.to_string())), "{value}");
    }
    for value in ["http://http://u:pw@h:1", "http://h:/path", "http://h:?q"] {
        let err = shown(value).err().unwrap_or_default();
        assert!(err.contains("not a URL"), "{value}: {err}");
    }
}

/// What a refused tunnel is asked again with: the server's `host:port`
/// (the scheme's port when none is written), the proxy's address, and the
/// proxy's credentials as kube sends them (percent-decoded, basic auth).
#[test]
fn a_tunnel_knows_its_target_and_the_proxys_credentials() {
    let proxy = |url: &str| Proxy {
        url: uri(url),
        source: ProxySource::Kubeconfig,
    };
    let tunnel = Tunnel::of(
        &proxy("http://us%40er:p%3Aw@proxy.corp:3128/"),
        "the proxy".into(),
        &uri("https://kube.example"),
    )
    .unwrap_or_else(|| panic!("an http proxy tunnels"));
    assert_eq!(tunnel.target, "kube.example:443");
    assert_eq!(tunnel.address, "proxy.corp:3128");
    use base64::Engine as _;
    let expected = base64::engine::general_purpose::STANDARD.encode("us@er:p:w");
    assert_eq!(
        tunnel.authorization.as_deref(),
        Some(format!("Basic {expected}").as_str())
    );
    let plain = Tunnel::of(
        &proxy("http://proxy.corp:8080/"),
        "the proxy".into(),
        &uri("http://kube.example:6443"),
    );
    assert_eq!(
        plain.map(|t| (t.target, t.authorization)),
        Some(("kube.example:6443".to_string(), None))
    );
    // An https or socks5 proxy is not asked again.
    for url in ["https://proxy.corp:443/", "socks5://proxy.corp:1080/"] {
        assert!(
            Tunnel::of(&proxy(url), String::new(), &uri("https://k")).is_none(),
            "{url}"
        );
    }
}
