//! What a kubeconfig's user entry points at: credential (exec) plugins and
//! certificate, key and token files. A plugin's output is never echoed, and
//! a file that is a FIFO is refused by name instead of hanging the tool.

use std::path::{Path, PathBuf};

use crate::support::{Run, TestEnv, fake_kubeconfig, mkfifo};

/// A shell script plugin in the scratch folder.
fn plugin(env: &TestEnv, name: &str, body: &str) -> PathBuf {
    let path = env.file(name, format!("#!/bin/sh\n{body}\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    path
}

/// A kubeconfig whose user gets its token from `command`.
fn exec_kubeconfig(
    env: &TestEnv,
    server: &str,
    command: &Path,
    interactive: Option<&str>,
) -> PathBuf {
    let mode = interactive.map_or(String::new(), |m| format!("      interactiveMode: {m}\n"));
    let text = fake_kubeconfig(server, &env.namespace, "unused").replace(
        "    token: unused\n",
        &format!(
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n{mode}",
            command.display()
        ),
    );
    env.file("exec-kubeconfig", text)
}

/// `secret list` with a token from the plugin at `command` (run in the
/// `interactive` mode): it fails, and shows nothing of kube's internals.
fn list_failing_with_plugin(
    env: &TestEnv,
    server: &str,
    command: &Path,
    interactive: Option<&str>,
) -> Run {
    let kc = exec_kubeconfig(env, server, command, interactive);
    let run = env.with_kubeconfig(&kc, &["secret", "list"]).run_unhung();
    run.failure();
    assert_no_internals(&run.stderr);
    run
}

fn server_url(env: &TestEnv) -> String {
    env.fake()
        .map_or("https://127.0.0.1:1".to_string(), |s| s.url())
}

fn assert_no_internals(stderr: &str) {
    for internal in [
        "Output {",
        "ExitStatus",
        "Error {",
        "ApiError",
        "auth exec",
        "stdout:",
        "stderr:",
        "KUBERNETES_EXEC_INFO",
    ] {
        assert!(!stderr.contains(internal), "{internal:?} in:\n{stderr}");
    }
}

#[cfg(unix)]
#[test]
fn a_working_exec_plugin_still_works() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let cmd_path = plugin(
        &env,
        "good-plugin",
        r#"echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"alice-token"}}'"#,
    );
    let kc = exec_kubeconfig(&env, &server.url(), &cmd_path, None);
    env.with_kubeconfig(&kc, &["secret", "list"])
        .run_unhung()
        .success();
}

/// Output that is not an ExecCredential: never shown, whatever its shape.
#[cfg(unix)]
#[test]
fn exec_plugin_output_that_does_not_parse_is_never_echoed() {
    let env = TestEnv::new();
    let server = server_url(&env);
    let shapes = [
        ("not-json", "echo \"your token is {C}\""),
        (
            "prose-then-json",
            "echo \"token={C}\"; echo '{\"kind\":\"ExecCredential\"}'",
        ),
        (
            "wrong-shape",
            r#"echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":["{C}"]}}'"#,
        ),
        (
            "status-is-a-string",
            r#"echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":"{C}"}'"#,
        ),
        ("yaml-error", "printf 'status:\\n  token: \"{C}\\n'"),
    ];
    for (name, body) in shapes {
        let canary = env.canary(name);
        let cmd_path = plugin(
            &env,
            &format!("plugin-{name}"),
            &body.replace("{C}", &canary),
        );
        list_failing_with_plugin(&env, &server, &cmd_path, Some("Never"))
            .stderr_has(&format!("plugin-{name}"))
            .stderr_has("not a valid ExecCredential")
            .stderr_has("help:")
            .stderr_has("by hand");
    }
}

/// A plugin that fails: its exit status is told; what it printed to stdout
/// (captured) and its stderr when kube captures it are not.
#[cfg(unix)]
#[test]
fn failing_exec_plugin_reports_its_exit_status_only() {
    let env = TestEnv::new();
    let server = server_url(&env);
    let canary = env.canary("exit");
    let cmd_path = plugin(
        &env,
        "failing-plugin",
        &format!("echo \"out {canary}\"; echo \"err {canary}\" >&2; exit 3"),
    );
    list_failing_with_plugin(&env, &server, &cmd_path, Some("Never"))
        .stderr_has("failing-plugin")
        .stderr_has("exit status 3")
        .stderr_has("help:")
        .stderr_has("by hand");

    // Interactive (the default): kube lets the plugin talk to the user on
    // stderr, as kubectl does; its stdout is still never echoed.
    let stdout_canary = env.canary("exit-stdout");
    let cmd_path = plugin(
        &env,
        "chatty-plugin",
        &format!("echo \"out {stdout_canary}\"; echo 'please log in first' >&2; exit 1"),
    );
    list_failing_with_plugin(&env, &server, &cmd_path, None)
        .stderr_has("please log in first")
        .stderr_has("chatty-plugin")
        .stderr_has("exit status 1");

    // A plugin that is not there.
    let missing = env.path("no-such-plugin");
    list_failing_with_plugin(&env, &server, &missing, Some("Never"))
        .stderr_has("no-such-plugin")
        .stderr_has("cannot run");
}

/// A plugin that prints without end is stopped once it has printed 1 MiB
/// (kube read it until memory ran out), and one that never exits is
/// stopped at the plugin timeout (kube and kubectl wait forever). Either
/// way the error names the plugin, and nothing it printed, on stdout or
/// on a stderr that is not the user's terminal, is shown.
#[cfg(unix)]
#[test]
fn exec_plugins_that_print_without_end_or_never_exit_are_stopped() {
    let env = TestEnv::new();
    let server = server_url(&env);
    let endless = env.canary("endless");
    let cmd_path = plugin(
        &env,
        "endless-plugin",
        &format!("echo \"err {endless}\" >&2; exec yes '{endless}'"),
    );
    list_failing_with_plugin(&env, &server, &cmd_path, Some("Never"))
        .stderr_has("endless-plugin")
        .stderr_has("more than 1048576 bytes")
        .stderr_has("by hand");

    let stuck = env.canary("stuck");
    let never = plugin(
        &env,
        "stuck-plugin",
        &format!("echo \"out {stuck}\"; echo \"err {stuck}\" >&2; exec sleep 600"),
    );
    // Interactive by default: its stderr is the user's, as in kubectl, so
    // this one says nothing there.
    let default_mode = plugin(&env, "stuck-quiet-plugin", "exec sleep 600");
    for (cmd_path, mode) in [(never, Some("Never")), (default_mode, None)] {
        let kc = exec_kubeconfig(&env, &server, &cmd_path, mode);
        let run = env
            .with_kubeconfig(&kc, &["secret", "list"])
            .env("KONDUKTOR_EXEC_PLUGIN_TIMEOUT", "1s")
            .run_unhung();
        run.failure()
            .stderr_has("stuck")
            .stderr_has("did not finish within 1s")
            .stderr_has("was stopped");
        assert_no_internals(&run.stderr);
    }
}

/// certificate-authority and tokenFile that are FIFOs: refused by name,
/// at once (kube itself would block reading them).
#[cfg(unix)]
#[test]
fn credential_files_that_are_fifos_are_refused_by_name() {
    let env = TestEnv::new();
    let server = server_url(&env);
    let ca = env.path("ca-fifo");
    mkfifo(&ca);
    let text = fake_kubeconfig(&server, &env.namespace, "alice-token").replace(
        &format!("    server: {server}\n"),
        &format!(
            "    server: {server}\n    certificate-authority: {}\n",
            ca.display()
        ),
    );
    // Only the file: the CA data fake_kubeconfig adds would win over it.
    let text: String = text
        .lines()
        .filter(|l| !l.contains("certificate-authority-data"))
        .map(|l| format!("{l}\n"))
        .collect();
    let kc = env.file("ca-kubeconfig", text);
    env.with_kubeconfig(&kc, &["secret", "list"])
        .run_unhung()
        .failure()
        .stderr_has("ca-fifo")
        .stderr_has("FIFO")
        .stderr_has("certificate-authority")
        .stderr_has("help:");

    let token = env.path("token-fifo");
    mkfifo(&token);
    let text = fake_kubeconfig(&server, &env.namespace, "unused").replace(
        "    token: unused\n",
        &format!("    tokenFile: {}\n", token.display()),
    );
    let kc = env.file("token-kubeconfig", text);
    env.with_kubeconfig(&kc, &["secret", "list"])
        .run_unhung()
        .failure()
        .stderr_has("token-fifo")
        .stderr_has("FIFO")
        .stderr_has("tokenFile");

    // A client certificate that is a FIFO: refused too.
    let cert = env.path("cert-fifo");
    mkfifo(&cert);
    let key = env.file("client.key", "not a key");
    let text = fake_kubeconfig(&server, &env.namespace, "unused").replace(
        "    token: unused\n",
        &format!(
            "    client-certificate: {}\n    client-key: {}\n",
            cert.display(),
            key.display()
        ),
    );
    let kc = env.file("cert-kubeconfig", text);
    env.with_kubeconfig(&kc, &["secret", "list"])
        .run_unhung()
        .failure()
        .stderr_has("cert-fifo")
        .stderr_has("FIFO")
        .stderr_has("client-certificate");
    env.assert_no_requests();
}

/// A token that cannot go into an HTTP header (a line break, a control
/// character), from the kubeconfig, a tokenFile or a plugin: a clear
/// error, never a panic, never the token.
#[cfg(unix)]
#[test]
fn tokens_that_are_no_header_value_are_refused_not_panicked_on() {
    let env = TestEnv::new();
    let server = server_url(&env);
    let token = env.canary("header");
    let kc_inline = env.file(
        "kc-inline",
        fake_kubeconfig(&server, &env.namespace, "unused").replace(
            "token: unused",
            &format!("token: \"{token}\\r\\nX-Evil: 1\""),
        ),
    );
    let token_file = env.file("token.pem", format!("{token}\nsecond line\n"));
    let kc_file = env.file(
        "kc-file",
        fake_kubeconfig(&server, &env.namespace, "unused").replace(
            "token: unused",
            &format!("tokenFile: {}", token_file.display()),
        ),
    );
    let plugin_path = plugin(
        &env,
        "crlf-plugin",
        &format!(
            r#"printf '{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{{"token":"{token}\\r\\nX: y"}}}}'"#
        ),
    );
    let kc_exec = exec_kubeconfig(&env, &server, &plugin_path, Some("Never"));
    for kc in [kc_inline, kc_file, kc_exec] {
        env.with_kubeconfig(&kc, &["secret", "list"])
            .run_unhung()
            .failure()
            .stderr_has("line break or a control character")
            .stderr_has("help:");
    }
}

/// Credentials in a server URL are not shown in messages or in whoami.
#[test]
fn credentials_in_the_server_url_are_not_shown() {
    let env = TestEnv::new();
    let user = env.canary("urluser");
    let query = env.canary("urlquery");
    let kc = env.file(
        "kc-url",
        fake_kubeconfig(
            &format!("http://u:{user}@127.0.0.1:1/?t={query}"),
            &env.namespace,
            "t",
        ),
    );
    for args in [&["whoami"][..], &["secret", "list"], &["-v", "whoami"]] {
        // TestEnv checks every run for the canaries.
        let run = env.with_kubeconfig(&kc, args).run_unhung();
        assert!(
            run.stdout.contains("***@127.0.0.1") || run.stderr.contains("***@127.0.0.1"),
            "{run:?}"
        );
    }
}

/// A context name with control characters is shown escaped, in whoami's
/// text and in the -vv log.
#[test]
fn a_context_name_with_control_characters_is_escaped() {
    let env = TestEnv::new();
    let server = server_url(&env);
    let kc = env.file(
        "kc-esc",
        fake_kubeconfig(&server, &env.namespace, "t")
            .replace(
                "- name: fake\n  context:",
                "- name: \"x\\e[2J\\u202e\"\n  context:",
            )
            .replace(
                "current-context: fake",
                "current-context: \"x\\e[2J\\u202e\"",
            ),
    );
    env.with_kubeconfig(&kc, &["-vv", "whoami"])
        .run_unhung()
        .stdout_lacks("\u{1b}")
        .stdout_lacks("\u{202e}")
        .stderr_lacks("\u{1b}")
        .stderr_lacks("\u{202e}");
}

/// A server URL without a scheme (kube would stop on it) is refused, and
/// not shown: credentials in it could not be told apart.
#[test]
fn a_server_url_without_a_scheme_is_refused_unshown() {
    let env = TestEnv::new();
    let secret = env.canary("noscheme");
    for server in [
        format!("u:{secret}@127.0.0.1:1"),
        format!("//u:{secret}@127.0.0.1:1"),
        "127.0.0.1:1".to_string(),
    ] {
        let kc = env.file("kc-noscheme", fake_kubeconfig(&server, &env.namespace, "t"));
        env.with_kubeconfig(&kc, &["secret", "list"])
            .run_unhung()
            .failure()
            .stderr_has("is not an http(s) URL (not shown");
    }
}

/// A kubeconfig for the test server's plain http address whose user
/// entry is `user` (YAML lines under `user:`).
fn plain_http_kubeconfig(env: &TestEnv, name: &str, server: &str, user: &str) -> PathBuf {
    let text =
        fake_kubeconfig(server, &env.namespace, "unused").replace("    token: unused\n", user);
    env.file(name, text)
}

/// As client-go (`clientcmd`: "only try to read the auth information if we
/// are secure"): over plain http no token, basic auth or exec-plugin token
/// is sent, the plugin is not even run, and a refusal says why rather than
/// blaming the credentials or RBAC.
#[cfg(unix)]
#[test]
fn credentials_are_never_sent_over_plain_http() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let token = env.canary("http-token");
    let password = env.canary("http-password");
    let plugin_token = env.canary("http-plugin-token");
    let ran = env.path("plugin-ran");
    let cmd_path = plugin(
        &env,
        "http-plugin",
        &format!(
            r#"touch {}; echo '{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{{"token":"{plugin_token}"}}}}'"#,
            ran.display()
        ),
    );
    server.add_token(&token, "alice", &["system:authenticated"]);
    server.add_token(&plugin_token, "alice", &["system:authenticated"]);
    let token_file = env.file("http-token-file", format!("{token}\n"));
    let users = [
        ("a token", format!("    token: {token}\n")),
        (
            "a token",
            format!("    tokenFile: {}\n", token_file.display()),
        ),
        (
            "basic auth",
            format!("    username: alice\n    password: {password}\n"),
        ),
        (
            "an exec credential plugin",
            format!(
                "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n",
                cmd_path.display()
            ),
        ),
    ];
    for (what, user) in users {
        let kc = plain_http_kubeconfig(&env, "http-kubeconfig", &server.plain_url(), &user);
        server.clear_requests();
        let run = env
            .with_kubeconfig(&kc, &["-v", "secret", "list"])
            .run_unhung();
        run.failure()
            .stderr_has("sent without credentials")
            .stderr_has(&format!("({what})"))
            .stderr_has("not sent over plain http")
            .stderr_has("https://")
            // Said at -v before the request.
            .stderr_has("not sending the credentials of user `alice`");
        let requests = server.requests();
        assert!(!requests.is_empty(), "{what}: the request was made");
        for r in &requests {
            assert_eq!(r.auth_scheme, None, "{what}: {r:?}");
            assert_eq!(r.user.as_deref(), Some("system:anonymous"), "{what}: {r:?}");
        }
    }
    assert!(
        !ran.exists(),
        "the exec plugin is not run for an http server"
    );
}

/// Where the http server lets anonymous requests in, the command works as
/// kubectl's would (anonymously), and `-v` says the credentials stayed home.
#[test]
fn an_http_server_open_to_anonymous_works_without_credentials() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    server.allow_anonymous();
    let token = env.canary("anon-token");
    let kc = plain_http_kubeconfig(
        &env,
        "anon-kubeconfig",
        &server.plain_url(),
        &format!("    token: {token}\n"),
    );
    env.with_kubeconfig(&kc, &["-v", "secret", "list"])
        .run_unhung()
        .success()
        .stderr_has("not sending the credentials of user `alice` (a token)");
    assert!(
        server.requests().iter().all(|r| r.auth_scheme.is_none()),
        "{:?}",
        server.requests()
    );
}

/// A client certificate is TLS's: over plain http its files are not even
/// read (client-go reads none of the user's entry), so a broken one does
/// not stop a command that needs none.
#[test]
fn a_client_certificate_is_not_used_over_plain_http() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let cert = env.file("http-client.crt", "not a certificate");
    let missing_key = env.path("no-such-client.key");
    let user = format!(
        "    client-certificate: {}\n    client-key: {}\n",
        cert.display(),
        missing_key.display()
    );
    let kc = plain_http_kubeconfig(&env, "cert-kubeconfig", &server.plain_url(), &user);
    let run = env.with_kubeconfig(&kc, &["secret", "list"]).run_unhung();
    run.failure()
        .stderr_has("sent without credentials")
        .stderr_has("(a client certificate)");
    run.stderr_lacks("no-such-client.key");
    // Over https the same entry is read, and its missing key named.
    let kc = plain_http_kubeconfig(&env, "cert-kubeconfig-tls", &server.url(), &user);
    env.with_kubeconfig(&kc, &["secret", "list"])
        .run_unhung()
        .failure()
        .stderr_has("no-such-client.key");
}
