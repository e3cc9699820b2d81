//! It works wherever kubectl works (issue 14, point 9): through the proxy
//! of `HTTPS_PROXY` / `HTTP_PROXY` unless `NO_PROXY` or a loopback server
//! says otherwise (Go's `ProxyFromEnvironment`, which kubectl uses), through
//! the kubeconfig's `proxy-url` (http and socks5), with an `oidc`
//! auth-provider, and in a pod from its service account.
//!
//! The server is the fake API server behind a TLS front, named
//! `apiserver.konduktor.test`: a name only the test proxy resolves, so a
//! request that reaches the server went through the proxy. These need the
//! in-process server.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::apiserver::ALICE_TOKEN;
use crate::support::proxy::{Protocol, Proxy, SERVER_NAME, TlsFront, ca_data};
use crate::support::{ApiServer, Run, TestEnv, run_unhung};

fn backend(server: &ApiServer) -> SocketAddr {
    let url = server.plain_url();
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|e| panic!("{url}: {e}"))
}

/// A kubeconfig for `server` (https ones trust the test CA), with
/// `cluster_extra` lines added to the cluster entry and `user` as the
/// user entry (a token by default).
fn kubeconfig_text(server: &str, namespace: &str, cluster_extra: &str, user: &str) -> String {
    let ca = if server.starts_with("https://") {
        format!("    certificate-authority-data: {}\n", ca_data())
    } else {
        String::new()
    };
    let user = if user.is_empty() {
        format!("    token: {ALICE_TOKEN}\n")
    } else {
        user.to_string()
    };
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: {server}
{ca}{cluster_extra}users:
- name: alice
  user:
{user}contexts:
- name: c
  context:
    cluster: c
    user: alice
    namespace: {namespace}
current-context: c
"
    )
}

/// The fake server over HTTPS, a proxy that knows it by name, and a
/// kubeconfig that names it so.
struct Behind {
    front: TlsFront,
    proxy: Proxy,
    kubeconfig: PathBuf,
}

impl Behind {
    fn new(env: &TestEnv, server: &ApiServer, protocol: Protocol, cluster_extra: &str) -> Self {
        let front = TlsFront::start(backend(server));
        let named = format!("{SERVER_NAME}:{}", front.port());
        let proxy = Proxy::start(protocol, &[(named.clone(), front.addr())]);
        let kubeconfig = env.file(
            "behind-proxy-kubeconfig",
            kubeconfig_text(
                &format!("https://{named}"),
                &env.namespace,
                &cluster_extra.replace("{proxy}", &proxy.url()),
                "",
            ),
        );
        Behind {
            front,
            proxy,
            kubeconfig,
        }
    }

    fn target(&self) -> String {
        format!("{SERVER_NAME}:{}", self.front.port())
    }
}

/// `args` with `kubeconfig` and the variables `vars` (the proxy's).
fn run(env: &TestEnv, kubeconfig: &Path, vars: &[(&str, &str)], args: &[&str]) -> Run {
    vars.iter()
        .fold(env.with_kubeconfig(kubeconfig, args), |cmd, (k, v)| {
            cmd.env(k, v)
        })
        .run_unhung()
}

/// A write and a read, with a value that must never show.
fn create_and_list(env: &TestEnv, kubeconfig: &Path, vars: &[(&str, &str)], name: &str) -> Run {
    let value = env.canary(name);
    run(
        env,
        kubeconfig,
        vars,
        &["secret", "create", "--inline", &format!("K={value}"), name],
    )
    .success();
    assert_eq!(
        env.my_data(name).get("K").map(Vec::as_slice),
        Some(value.as_bytes()),
        "the secret was written through the proxy"
    );
    let listed = run(env, kubeconfig, vars, &["secret", "list"]);
    listed.success().stdout_has(name);
    listed
}

/// Every tunnel the proxy was asked for went to `target`, and there was one.
fn assert_tunnelled(proxy: &Proxy, target: &str) {
    let seen = proxy.seen();
    assert!(!seen.is_empty(), "the proxy saw no tunnel");
    assert!(
        seen.iter().all(|s| s == target),
        "the proxy saw {seen:?}, expected only {target}"
    );
}

#[test]
fn https_proxy_carries_every_request_to_a_server_known_by_name() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let behind = Behind::new(&env, server, Protocol::Connect, "");
    // Lower case works as well as upper case; upper case wins.
    for var in ["HTTPS_PROXY", "https_proxy"] {
        create_and_list(
            &env,
            &behind.kubeconfig,
            &[
                (var, &behind.proxy.url()),
                ("NO_PROXY", "other.test,10.0.0.0/8"),
            ],
            &format!("via-{}", var.to_ascii_lowercase().replace('_', "-")),
        );
    }
    assert_tunnelled(&behind.proxy, &behind.target());
    // HTTP_PROXY is for http:// servers: an https one ignores it, as Go does.
    let before = behind.proxy.seen().len();
    let run = run(
        &env,
        &behind.kubeconfig,
        &[
            ("HTTP_PROXY", &behind.proxy.url()),
            ("HTTPS_PROXY", ""),
            ("https_proxy", ""),
        ],
        &["secret", "list"],
    );
    run.failure().stderr_has(SERVER_NAME);
    assert_eq!(
        behind.proxy.seen().len(),
        before,
        "HTTP_PROXY is not used for https"
    );
}

#[test]
fn http_proxy_carries_requests_to_an_http_server() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    // No credentials go over plain http (as with kubectl): the requests
    // are anonymous, which this server lets through.
    server.allow_anonymous();
    let port = backend(server).port();
    let target = format!("{SERVER_NAME}:{port}");
    let proxy = Proxy::start(Protocol::Connect, &[(target.clone(), backend(server))]);
    let kubeconfig = env.file(
        "http-kubeconfig",
        kubeconfig_text(&format!("http://{target}"), &env.namespace, "", ""),
    );
    create_and_list(
        &env,
        &kubeconfig,
        &[("http_proxy", &proxy.url())],
        "plain-http",
    );
    assert_tunnelled(&proxy, &target);
}

#[test]
fn a_loopback_server_is_reached_directly_whatever_the_proxy() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let proxy = Proxy::start(Protocol::Connect, &[]);
    let everywhere = [
        ("HTTPS_PROXY", proxy.url()),
        ("HTTP_PROXY", proxy.url()),
        ("NO_PROXY", "example.com".to_string()),
    ];
    let vars: Vec<(&str, &str)> = everywhere.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The test server is https://127.0.0.1:PORT.
    let kubeconfig = env.file(
        "loopback-kubeconfig",
        kubeconfig_text(&server.url(), &env.namespace, "", ""),
    );
    create_and_list(&env, &kubeconfig, &vars, "on-loopback");
    // And `localhost`, over https.
    let front = TlsFront::start(backend(server));
    let localhost = env.file(
        "localhost-kubeconfig",
        kubeconfig_text(
            &format!("https://localhost:{}", front.port()),
            &env.namespace,
            "",
            "",
        ),
    );
    create_and_list(&env, &localhost, &vars, "on-localhost");
    assert_eq!(
        proxy.seen(),
        Vec::<String>::new(),
        "loopback bypasses the proxy"
    );
}

#[test]
fn no_proxy_sends_a_matching_server_around_the_proxy() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let behind = Behind::new(&env, server, Protocol::Connect, "");
    let port = behind.front.port().to_string();
    let proxy = behind.proxy.url();
    // Each of Go's forms: a domain and its subdomains, with a leading dot
    // or `*.`, the host with its port, several entries, `*`; the server
    // name resolves nowhere but through the proxy, so a direct attempt
    // fails on the name.
    for no_proxy in [
        "konduktor.test".to_string(),
        ".konduktor.test".to_string(),
        "*.konduktor.test".to_string(),
        format!("example.com, APISERVER.konduktor.test:{port}"),
        "*".to_string(),
    ] {
        for var in ["NO_PROXY", "no_proxy"] {
            let run = run(
                &env,
                &behind.kubeconfig,
                &[("HTTPS_PROXY", &proxy), (var, &no_proxy)],
                &["secret", "list"],
            );
            run.failure().stderr_has(SERVER_NAME);
            assert_eq!(
                behind.proxy.seen(),
                Vec::<String>::new(),
                "{var}={no_proxy} bypasses the proxy"
            );
        }
    }
    // Entries that do not match leave the proxy in place: another port, a
    // name that only ends like ours, an address range.
    let no_proxy = "apiserver.konduktor.test:1,server.konduktor.test,ktor.test,10.0.0.0/8";
    create_and_list(
        &env,
        &behind.kubeconfig,
        &[("HTTPS_PROXY", &proxy), ("NO_PROXY", no_proxy)],
        "not-excluded",
    );
    assert_tunnelled(&behind.proxy, &behind.target());
}

#[test]
fn no_proxy_address_ranges_bypass_the_proxy() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    // 0.0.0.0 is no loopback address, so Go would proxy it; connecting to
    // it reaches this host. Over plain http the requests are anonymous.
    server.allow_anonymous();
    let port = backend(server).port();
    let target = format!("0.0.0.0:{port}");
    let proxy = Proxy::start(Protocol::Connect, &[(target.clone(), backend(server))]);
    let kubeconfig = env.file(
        "any-address-kubeconfig",
        kubeconfig_text(&format!("http://{target}"), &env.namespace, "", ""),
    );
    for no_proxy in ["0.0.0.0/8", "0.0.0.0", "example.com,0.0.0.0/0"] {
        create_and_list(
            &env,
            &kubeconfig,
            &[("HTTP_PROXY", &proxy.url()), ("NO_PROXY", no_proxy)],
            "by-range",
        );
        assert_eq!(proxy.seen(), Vec::<String>::new(), "NO_PROXY={no_proxy}");
    }
    create_and_list(
        &env,
        &kubeconfig,
        &[("HTTP_PROXY", &proxy.url())],
        "proxied",
    );
    assert_tunnelled(&proxy, &target);
}

#[test]
fn the_kubeconfig_proxy_url_is_used_and_no_proxy_does_not_override_it() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let behind = Behind::new(&env, server, Protocol::Connect, "    proxy-url: {proxy}\n");
    // As client-go: the cluster's proxy-url wins over the environment.
    create_and_list(
        &env,
        &behind.kubeconfig,
        &[("NO_PROXY", "*"), ("HTTPS_PROXY", "http://127.0.0.1:1")],
        "by-proxy-url",
    );
    assert_tunnelled(&behind.proxy, &behind.target());
}

#[test]
fn an_https_proxy_url_is_spoken_to_over_tls() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let behind = Behind::new(&env, server, Protocol::Connect, "");
    // The proxy behind TLS of its own, with a certificate the cluster's CA
    // signed (kube trusts the cluster's roots for the proxy too).
    let proxy_addr = behind
        .proxy
        .url()
        .trim_start_matches("http://")
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    let tls_proxy = TlsFront::start(proxy_addr);
    let kubeconfig = env.file(
        "https-proxy-kubeconfig",
        kubeconfig_text(
            &format!("https://{}", behind.target()),
            &env.namespace,
            &format!("    proxy-url: https://localhost:{}\n", tls_proxy.port()),
            "",
        ),
    );
    create_and_list(&env, &kubeconfig, &[], "by-https-proxy");
    assert_tunnelled(&behind.proxy, &behind.target());
}

#[test]
fn a_socks5_proxy_url_is_used() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let behind = Behind::new(&env, server, Protocol::Socks5, "    proxy-url: {proxy}\n");
    create_and_list(&env, &behind.kubeconfig, &[], "by-socks5");
    // The name goes to the proxy, which resolves it.
    assert_tunnelled(&behind.proxy, &behind.target());
}

#[test]
fn proxy_credentials_are_sent_and_never_shown() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let behind = Behind::new(&env, server, Protocol::Connect, "");
    let password = env.canary("proxy-password");
    let url = behind
        .proxy
        .url()
        .replace("http://", &format!("http://someone:{password}@"));
    let listed = run(
        &env,
        &behind.kubeconfig,
        &[("HTTPS_PROXY", &url)],
        &["-vvv", "secret", "list"],
    );
    listed.success();
    assert_tunnelled(&behind.proxy, &format!("{}+auth", behind.target()));
    // Said at -v, without the password.
    listed.stderr_has("proxy");
    // And on a failure.
    let dead = format!("http://someone:{password}@127.0.0.1:1");
    run(
        &env,
        &behind.kubeconfig,
        &[("HTTPS_PROXY", &dead)],
        &["-vvv", "secret", "list"],
    )
    .failure()
    .stderr_has("proxy");
}

#[test]
fn unsupported_kubeconfig_features_are_named_not_blamed_on_the_file() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let behind = Behind::new(
        &env,
        server,
        Protocol::Connect,
        "    proxy-url: ftp://127.0.0.1:21\n",
    );
    // Names the feature, not the file.
    run(&env, &behind.kubeconfig, &[], &["secret", "list"])
        .failure()
        .stderr_has("proxy-url")
        .stderr_has("ftp")
        .stderr_lacks("check the file");
    let env_proxy = env.file(
        "env-proxy-kubeconfig",
        kubeconfig_text(
            &format!("https://{}", behind.target()),
            &env.namespace,
            "",
            "",
        ),
    );
    run(
        &env,
        &env_proxy,
        &[("HTTPS_PROXY", "socks4://127.0.0.1:1080")],
        &["secret", "list"],
    )
    .failure()
    .stderr_has("HTTPS_PROXY")
    .stderr_has("socks4");
    // An auth-provider client-go dropped.
    let azure = env.file(
        "azure-kubeconfig",
        kubeconfig_text(
            &server.url(),
            &env.namespace,
            "",
            "    auth-provider:\n      name: azure\n      config: {}\n",
        ),
    );
    run(&env, &azure, &[], &["secret", "list"])
        .failure()
        .stderr_has("auth-provider `azure`")
        .stderr_has("not supported")
        .stderr_has("kubelogin")
        .stderr_lacks("check the file");
}

/// An unsigned JWT whose `exp` is `exp` (seconds since the epoch).
fn jwt(exp: i64) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    format!(
        "{}.{}.c2ln",
        b64(r#"{"alg":"RS256","typ":"JWT"}"#),
        b64(&format!(
            r#"{{"iss":"https://issuer.konduktor.test","sub":"alice","exp":{exp}}}"#
        ))
    )
}

fn oidc_user(id_token: &str, extra: &str) -> String {
    format!(
        "    auth-provider:
      name: oidc
      config:
        client-id: konduktor
        idp-issuer-url: https://issuer.konduktor.test
        id-token: {id_token}
{extra}"
    )
}

#[test]
fn an_oidc_auth_provider_sends_its_id_token_and_refuses_an_expired_one() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let valid = jwt(4_102_444_800); // 2100-01-01
    server.add_token(&valid, "oidc-alice", &["system:authenticated"]);
    let kubeconfig = env.file(
        "oidc-kubeconfig",
        kubeconfig_text(&server.url(), &env.namespace, "", &oidc_user(&valid, "")),
    );
    let who = run(&env, &kubeconfig, &[], &["whoami", "-o", "json"]);
    assert_eq!(
        who.success().json()["clusterUser"]["username"],
        "oidc-alice",
        "{}",
        who.stdout
    );
    // An expired id-token is not sent (the server would refuse it): without
    // a refresh-token it cannot be renewed, and the message says so.
    let expired = jwt(1_000_000_000); // 2001
    server.add_token(&expired, "oidc-alice", &["system:authenticated"]);
    let kubeconfig = env.file(
        "oidc-expired-kubeconfig",
        kubeconfig_text(&server.url(), &env.namespace, "", &oidc_user(&expired, "")),
    );
    server.clear_requests();
    let run = run(&env, &kubeconfig, &[], &["secret", "list"]);
    // The token is never shown.
    run.failure()
        .stderr_has("oidc")
        .stderr_has("expired")
        .stderr_has("refresh-token")
        .stderr_lacks(&expired);
    assert!(
        server.requests().is_empty(),
        "an expired id-token is never sent: {:?}",
        server.requests()
    );
}

/// Run the binary where the service account's files are at their real
/// place, `/var/run/secrets/kubernetes.io/serviceaccount`, in a private
/// mount namespace (`unshare`), so nothing on this host is touched and the
/// binary has no override for the place. `None` where user namespaces are
/// not allowed (then the unit tests in src/cluster cover the reading).
fn in_a_pod(env: &TestEnv, sa: &Path, cmd: Command) -> Option<Run> {
    let probe = Command::new("unshare")
        .args(["-rm", "sh", "-c", "mount -t tmpfs tmpfs /run"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: no unshare with a private mount namespace here");
        return None;
    }
    let script = r#"mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && cp "$SA"/* /run/secrets/kubernetes.io/serviceaccount/ && exec "$@""#;
    let program = cmd.get_program().to_os_string();
    let args: Vec<_> = cmd.get_args().map(|a| a.to_os_string()).collect();
    let mut wrapped = Command::new("unshare");
    wrapped
        .args(["-rm", "sh", "-c", script, "sh"])
        .arg(program)
        .args(args)
        .env("SA", sa);
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        wrapped.current_dir(dir);
    }
    Some(run_unhung(env, wrapped))
}

#[test]
fn in_a_pod_without_a_kubeconfig_the_service_account_is_used() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let front = TlsFront::start(backend(server));
    let sa = env.file("sa/token", format!("{ALICE_TOKEN}\n"));
    let sa = sa.parent().map(Path::to_path_buf).unwrap_or_default();
    std::fs::copy(crate::support::proxy::tls_file("ca.crt"), sa.join("ca.crt"))
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(sa.join("namespace"), &env.namespace).unwrap_or_else(|e| panic!("{e}"));
    let value = env.canary("in-pod");
    // No kubeconfig, and the variables a pod has.
    let in_the_pod = |args: &[&str]| {
        env.cmd(args)
            .no_namespace()
            .env_remove("KUBECONFIG")
            .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
            .env("KUBERNETES_SERVICE_PORT", front.port().to_string())
            .into_command()
    };
    let create = in_the_pod(&[
        "secret",
        "create",
        "--inline",
        &format!("K={value}"),
        "from-pod",
    ]);
    let Some(run) = in_a_pod(&env, &sa, create) else {
        return;
    };
    run.success();
    assert!(
        env.my_secret("from-pod").is_some(),
        "written with the service account, in the namespace of the pod"
    );
    let Some(who) = in_a_pod(&env, &sa, in_the_pod(&["whoami", "-o", "json"])) else {
        return;
    };
    let json = who.success().json();
    assert_eq!(json["namespace"], env.namespace.as_str(), "{json}");
    assert_eq!(json["clusterUser"]["username"], "alice", "{json}");
}

#[test]
fn a_malformed_proxy_is_named_never_echoed() {
    let env = TestEnv::new();
    let Some(_server) = env.fake() else { return };
    let password = env.canary("malformed-proxy-password");
    let remote = kubeconfig_text("https://kube.example:443", &env.namespace, "", "");
    let plain = env.file("remote-kubeconfig", &remote);
    for value in [
        format!("http://u:{password}@[::1:1"),
        format!("http://u:{password}\u{202e}@h:1"),
        format!("http://http://u:{password}@h:1"),
        format!("http://u:{password}@"),
        format!("u:{password}@[::1:1"),
    ] {
        let run1 = run(
            &env,
            &plain,
            &[("HTTPS_PROXY", &value)],
            &["-v", "secret", "list"],
        );
        run1.failure()
            .stderr_has("HTTPS_PROXY")
            .stderr_has("not a URL");
        let with_url = env.file(
            "proxy-url-kubeconfig",
            kubeconfig_text(
                "https://kube.example:443",
                &env.namespace,
                &format!("    proxy-url: '{value}'\n"),
                "",
            ),
        );
        let run2 = run(&env, &with_url, &[], &["-v", "secret", "list"]);
        run2.failure()
            .stderr_has("proxy-url")
            .stderr_has("not a URL");
        for r in [&run1, &run2] {
            r.stderr_lacks(&password).stdout_lacks(&password);
        }
    }
}

/// A proxy that takes the connection and never answers the `CONNECT`: a
/// timeout after `--request-timeout`, named as the proxy's, not the API
/// server's.
#[test]
fn a_proxy_that_stalls_the_connect_is_a_timeout_named_as_the_proxys() {
    use crate::support::proxy::Answer;
    let env = TestEnv::new();
    let Some(_server) = env.fake() else { return };
    let proxy = Proxy::answering(Answer::Stall);
    let kubeconfig = env.file(
        "stalling-proxy-kubeconfig",
        kubeconfig_text("https://kube.example:443", &env.namespace, "", ""),
    );
    let run = run(
        &env,
        &kubeconfig,
        &[("HTTPS_PROXY", &proxy.url())],
        &["--request-timeout", "2s", "secret", "list"],
    );
    run.failure()
        .stderr_has(&format!("the proxy {}", proxy.url()))
        .stderr_has("HTTPS_PROXY")
        .stderr_has("within 2s")
        .stderr_has("kube.example")
        .stderr_lacks("no answer from the API server");
    assert_eq!(proxy.seen(), ["kube.example:443"]);
}

/// A proxy that refuses the `CONNECT`: its status, and what it means (407:
/// it wants credentials; 403: it will not go to this host).
#[test]
fn a_refused_connect_names_the_proxys_status() {
    use crate::support::proxy::Answer;
    let env = TestEnv::new();
    let Some(_server) = env.fake() else { return };
    let kubeconfig = env.file(
        "refusing-proxy-kubeconfig",
        kubeconfig_text("https://kube.example:443", &env.namespace, "", ""),
    );
    for (code, meaning) in [
        (407, "wants credentials"),
        (403, "refused to open a tunnel to kube.example:443"),
        (502, "refused to open a tunnel"),
    ] {
        let proxy = Proxy::answering(Answer::Status(code));
        let run = run(
            &env,
            &kubeconfig,
            &[("HTTPS_PROXY", &proxy.url())],
            &["secret", "list"],
        );
        run.failure()
            .stderr_has(&format!("the proxy {}", proxy.url()))
            .stderr_has(&format!("({code}"))
            .stderr_has(meaning);
    }
}

/// How the test OIDC issuer answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IssuerMode {
    /// Discovery, then the refresh grant for `old-refresh` only.
    Refreshes,
    /// Accepts the connection, reads, never answers.
    Hangs,
    /// 500 to everything.
    Fails,
}

/// A plain-HTTP OIDC issuer behind the TLS front (so it is reached as
/// `https://127.0.0.1:PORT`, trusted through the test CA). A refresh with
/// `old-refresh` gives `id_token` and the rotated refresh token
/// `new-refresh`. Returns the front and the count of token requests.
fn start_issuer(
    mode: IssuerMode,
    id_token: String,
) -> (TlsFront, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{Read, Write};
    use std::sync::atomic::Ordering;
    let refreshes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = refreshes.clone();
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
    let backend = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("addr: {e}"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let id_token = id_token.clone();
            let counted = counted.clone();
            std::thread::spawn(move || {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Headers, then as much body as Content-Length says.
                loop {
                    let Ok(n) = stream.read(&mut buf) else { return };
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            break;
                        }
                    }
                }
                let text = String::from_utf8_lossy(&request).to_string();
                let (status, body) = match mode {
                    IssuerMode::Hangs => {
                        // Until the client goes away.
                        let _ = std::io::copy(&mut stream, &mut std::io::sink());
                        return;
                    }
                    IssuerMode::Fails => ("500 Internal Server Error", "{}".to_string()),
                    IssuerMode::Refreshes
                        if text.starts_with("GET /.well-known/openid-configuration") =>
                    {
                        let host = text
                            .lines()
                            .find_map(|l| {
                                l.strip_prefix("host: ")
                                    .or_else(|| l.strip_prefix("Host: "))
                            })
                            .unwrap_or_default()
                            .trim()
                            .to_string();
                        (
                            "200 OK",
                            format!(
                                r#"{{"issuer":"https://{host}","token_endpoint":"https://{host}/token"}}"#
                            ),
                        )
                    }
                    IssuerMode::Refreshes if text.starts_with("POST /token") => {
                        counted.fetch_add(1, Ordering::SeqCst);
                        if text.contains("grant_type=refresh_token")
                            && text.contains("refresh_token=old-refresh")
                        {
                            (
                                "200 OK",
                                format!(
                                    r#"{{"access_token":"a","token_type":"Bearer","id_token":"{id_token}","refresh_token":"new-refresh"}}"#
                                ),
                            )
                        } else {
                            (
                                "400 Bad Request",
                                r#"{"error":"invalid_grant"}"#.to_string(),
                            )
                        }
                    }
                    IssuerMode::Refreshes => ("404 Not Found", "{}".to_string()),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    (TlsFront::start(backend), refreshes)
}

/// The oidc user entry of a refreshable login at `issuer`.
fn refreshable_oidc_user(issuer: &str, id_token: &str) -> String {
    format!(
        "    auth-provider:
      name: oidc
      config:
        # the user's login, kept as written
        client-id: konduktor
        client-secret: konduktor-secret
        idp-certificate-authority-data: {}
        idp-issuer-url: {issuer}
        id-token: {id_token}
        refresh-token: old-refresh
",
        ca_data()
    )
}

/// An expired id-token is refreshed at the issuer with the refresh-token,
/// and both new tokens are written back to the kubeconfig file the user
/// entry came from (the second of KUBECONFIG here), as client-go's
/// persister does: the file replaced whole, its mode kept, every other
/// byte as it was, and the other file untouched. The next run uses the
/// stored token without asking the issuer again.
#[cfg(unix)]
#[test]
fn an_oidc_refresh_is_written_back_to_the_kubeconfig_it_came_from() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let fresh = jwt(4_102_444_800);
    server.add_token(&fresh, "oidc-alice", &["system:authenticated"]);
    let (issuer, refreshes) = start_issuer(IssuerMode::Refreshes, fresh.clone());
    let expired = jwt(1_000_000_000);
    let issuer_url = format!("https://127.0.0.1:{}", issuer.port());
    let first_text = "apiVersion: v1\nkind: Config\nusers:\n- name: bystander\n  user:\n    token: bystander-token\n";
    let first = env.file("first-kubeconfig", first_text);
    let second_text = kubeconfig_text(
        &server.url(),
        &env.namespace,
        "",
        &refreshable_oidc_user(&issuer_url, &expired),
    );
    let second = env.file("second-kubeconfig", &second_text);
    std::fs::set_permissions(&second, std::fs::Permissions::from_mode(0o640))
        .unwrap_or_else(|e| panic!("{e}"));
    let list = std::env::join_paths([&first, &second]).unwrap_or_else(|e| panic!("{e}"));
    let list = list.to_string_lossy().to_string();
    let who = run(
        &env,
        &second,
        &[("KUBECONFIG", &list)],
        &["whoami", "-o", "json"],
    );
    assert_eq!(
        who.success().json()["clusterUser"]["username"],
        "oidc-alice",
        "{}",
        who.stderr
    );
    let written = std::fs::read_to_string(&second).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        written,
        second_text
            .replace(&expired, &format!("\"{fresh}\""))
            .replace(
                "refresh-token: old-refresh",
                "refresh-token: \"new-refresh\""
            ),
        "only the two tokens change"
    );
    let mode = std::fs::metadata(&second)
        .unwrap_or_else(|e| panic!("{e}"))
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o640, "the mode is kept");
    assert_eq!(
        std::fs::read_to_string(&first).unwrap_or_else(|e| panic!("{e}")),
        first_text
    );
    assert_eq!(refreshes.load(std::sync::atomic::Ordering::SeqCst), 1);
    // The stored token is used as it is: the issuer is not asked again
    // (with the old refresh token it would refuse).
    run(&env, &second, &[("KUBECONFIG", &list)], &["secret", "list"]).success();
    assert_eq!(refreshes.load(std::sync::atomic::Ordering::SeqCst), 1);
    drop(issuer);
}

/// An issuer that never answers is named as the issuer (not the API
/// server) once the request timeout passes; one that fails says its
/// status. Neither changes the kubeconfig, and no token is shown.
#[test]
fn an_oidc_issuer_that_hangs_or_fails_is_named_as_the_issuer() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let expired = jwt(1_000_000_000);
    for (mode, expect) in [
        (IssuerMode::Hangs, "did not answer within 1s"),
        (IssuerMode::Fails, "answered 500 Internal Server Error"),
    ] {
        let (issuer, _) = start_issuer(mode, jwt(4_102_444_800));
        let issuer_url = format!("https://127.0.0.1:{}", issuer.port());
        let text = kubeconfig_text(
            &server.url(),
            &env.namespace,
            "",
            &refreshable_oidc_user(&issuer_url, &expired),
        );
        let kubeconfig = env.file("issuer-kubeconfig", &text);
        server.clear_requests();
        let run = run(
            &env,
            &kubeconfig,
            &[],
            &["secret", "list", "--request-timeout", "1s"],
        );
        // The token is never shown.
        run.failure()
            .stderr_has("issuer")
            .stderr_has(&issuer_url)
            .stderr_has(expect)
            .stderr_lacks("API server")
            .stderr_lacks(&expired)
            .stderr_lacks("old-refresh");
        assert!(server.requests().is_empty(), "{:?}", server.requests());
        assert_eq!(
            std::fs::read_to_string(&kubeconfig).unwrap_or_else(|e| panic!("{e}")),
            text
        );
        drop(issuer);
    }
}
