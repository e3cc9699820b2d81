//! What every end-to-end test stands on: a fresh namespace on a Kubernetes
//! API server, a kubeconfig for it, a private HOME, and the real binary.
//!
//! By default the server is our in-process [`apiserver::ApiServer`]. With
//! `KONDUKTOR_E2E_KUBECONFIG` set, the same tests run against that cluster
//! instead: each test creates its own namespace with kubectl and deletes it
//! afterwards. Tests that need what only the fake can do (fault injection,
//! request counts, RBAC rules) ask [`TestEnv::fake`] and skip on a real cluster.
//!
//! Every command goes through [`TestEnv::run`], which checks that no canary
//! value planted with [`TestEnv::canary`] shows up in stdout or stderr, raw
//! or base64-encoded.
//!
//! The vocabulary tests are written in, so that a test shows what it
//! checks rather than how it gets there: [`cli`] (commands and their
//! checks), [`manifest`] (input files), [`contexts`] (kubeconfigs of
//! several contexts), [`objects`] (secrets in the
//! cluster), [`requests`] (what reached the test server).

#![allow(dead_code)]

pub mod apiserver;
pub mod cli;
pub mod contexts;
pub mod manifest;
pub mod objects;
pub mod proxy;
pub mod requests;
#[cfg(test)]
mod vocabulary_tests;
pub mod zip_bomb;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use base64::Engine;
use serde_json::{Value, json};

pub use apiserver::{ApiServer, Fault, FaultRule};
pub use cli::{arg, result_counts, send_signal, wait_until};
pub use contexts::kubeconfig;
pub use manifest::{SMALL_TASK, entry};
pub use objects::{b64, labels, mine, secret_object, tls_secret};

/// The owner hash the tests run as (alice on laptop, docs/konduktor-compat.md §2.2).
pub const OWNER: &str = "abba3a3e";
/// Another user.
pub const OTHER_OWNER: &str = "8417fdac";
/// The owner of the bystander secret every namespace starts with.
pub const BYSTANDER_OWNER: &str = "feedbeef";

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The `.yaml` files of a folder under the crate root, sorted: a corpus of inputs.
pub fn yaml_corpus(rel: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

/// A corpus file's name without its `.yaml`, for its snapshot.
pub fn corpus_name(file: &Path) -> String {
    file.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string()
}

pub fn fixture_json(rel: &str) -> Value {
    let path = fixtures().join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

enum Backend {
    Fake(ApiServer),
    Real { kubeconfig: PathBuf },
}

pub struct TestEnv {
    pub namespace: String,
    backend: Backend,
    /// HOME for the binary: the owner-hash cache lives there.
    pub home: tempfile::TempDir,
    /// Scratch space for input files.
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
    canaries: RefCell<Vec<String>>,
}

/// The result of one run of the binary.
#[derive(Debug, Default)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The command line, for the messages of failed checks (empty where
    /// the run was checked from its output alone).
    pub command: String,
}

impl Run {
    pub fn success(&self) -> &Self {
        assert_eq!(
            self.code,
            Some(0),
            "expected success: {}\nstdout:\n{}\nstderr:\n{}",
            self.command,
            self.stdout,
            self.stderr
        );
        self
    }
    pub fn failure(&self) -> &Self {
        assert!(
            self.code.is_some_and(|c| c != 0),
            "expected failure, got {:?}: {}\nstdout:\n{}\nstderr:\n{}",
            self.code,
            self.command,
            self.stdout,
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "panic:\n{}", self.stderr);
        assert_ne!(self.code, Some(101), "panic:\n{}", self.stderr);
        assert!(
            !self.stderr.contains("internal error"),
            "panic:\n{}",
            self.stderr
        );
        assert!(
            !self.stderr.contains("RUST_BACKTRACE"),
            "panic:\n{}",
            self.stderr
        );
        self
    }
    pub fn stdout_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}: {}\n{}\nstderr:\n{}",
            self.command,
            self.stdout,
            self.stderr
        );
        self
    }
    pub fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}: {}\n{}",
            self.command,
            self.stderr
        );
        self
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    format!(
        "{:x}{n}",
        (nanos as u64) ^ (std::process::id() as u64) << 20
    )
}

/// kubectl with `kubeconfig`, `stdin` fed in; its output, whatever the exit.
pub fn kubectl(kubeconfig: &Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    use std::io::Write;
    let mut child = StdCommand::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("kubectl: {e}"));
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())
            .unwrap_or_else(|e| panic!("kubectl stdin: {e}"));
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("kubectl: {e}"))
}

impl TestEnv {
    /// A fresh namespace holding one bystander secret (another user's, with a
    /// canary value), so that every test has a value that must never leak.
    pub fn new() -> Self {
        let env = Self::empty();
        let canary = env.canary("bystander");
        env.seed(
            secret_object("bystander")
                .owner(BYSTANDER_OWNER)
                .value("TOKEN", &canary),
        );
        env
    }

    fn empty() -> Self {
        let home = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let namespace = format!("konduktor-e2e-{}", unique_suffix());
        let namespace: String = namespace.chars().take(63).collect();
        match std::env::var_os("KONDUKTOR_E2E_KUBECONFIG").filter(|v| !v.is_empty()) {
            Some(path) => {
                let kubeconfig = PathBuf::from(path);
                let out = kubectl(&kubeconfig, &["create", "namespace", &namespace], None);
                assert!(
                    out.status.success(),
                    "kubectl create namespace: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                TestEnv {
                    namespace,
                    backend: Backend::Real {
                        kubeconfig: kubeconfig.clone(),
                    },
                    home,
                    dir,
                    kubeconfig,
                    canaries: RefCell::default(),
                }
            }
            None => {
                let server = ApiServer::start();
                server.create_namespace(&namespace);
                let kubeconfig = dir.path().join("kubeconfig");
                std::fs::write(
                    &kubeconfig,
                    fake_kubeconfig(&server.url(), &namespace, apiserver::ALICE_TOKEN),
                )
                .unwrap_or_else(|e| panic!("{e}"));
                TestEnv {
                    namespace,
                    backend: Backend::Fake(server),
                    home,
                    dir,
                    kubeconfig,
                    canaries: RefCell::default(),
                }
            }
        }
    }

    /// The in-process server, or `None` on a real cluster.
    pub fn fake(&self) -> Option<&ApiServer> {
        match &self.backend {
            Backend::Fake(s) => Some(s),
            Backend::Real { .. } => None,
        }
    }

    pub fn is_real(&self) -> bool {
        self.fake().is_none()
    }

    /// A secret value to plant; `run` fails the test if it ever shows up.
    pub fn canary(&self, label: &str) -> String {
        let value = format!("canary-{label}-{}", unique_suffix());
        self.canaries.borrow_mut().push(value.clone());
        value
    }

    /// Write a scratch file and return its path.
    pub fn file(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(&path, content).unwrap_or_else(|e| panic!("{e}"));
        path
    }

    /// The binary, with a private HOME, the test kubeconfig, and our owner hash.
    pub fn command(&self) -> StdCommand {
        let mut cmd = StdCommand::new(assert_cmd::cargo::cargo_bin!("kubectl-konduktor"));
        cmd.env_remove("KUBECONFIG")
            .env_remove("KONDUKTOR_USER_ID")
            .env_remove("KONDUKTOR_CONFIG")
            .env_remove("KONDUKTOR_DIGEST_KEY")
            .env_remove("NO_COLOR")
            // Nothing of the machine's own way to its clusters: no proxy, no
            // pod's service account (tests/e2e/proxies.rs sets them).
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("KUBERNETES_SERVICE_PORT")
            .env_remove("POD_NAMESPACE")
            .env("HOME", self.home.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .env("KONDUKTOR_TEST_USER_HASH", OWNER)
            // A fixed login name, so rendered labels do not depend on who runs the tests.
            .env("USER", "alice")
            .env("LOGNAME", "alice")
            .current_dir(self.dir.path());
        cmd
    }

    /// Run with `-n <namespace>` first, and check for leaks.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut cmd = self.command();
        cmd.arg("-n").arg(&self.namespace).args(args);
        self.run_command(cmd)
    }

    /// Run as another owner.
    pub fn run_as(&self, owner: &str, args: &[&str]) -> Run {
        let mut cmd = self.command();
        cmd.env("KONDUKTOR_TEST_USER_HASH", owner)
            .arg("-n")
            .arg(&self.namespace)
            .args(args);
        self.run_command(cmd)
    }

    /// Run a prepared command and check its output for canaries.
    pub fn run_command(&self, mut cmd: StdCommand) -> Run {
        let out = cmd.output().unwrap_or_else(|e| panic!("run: {e}"));
        self.checked(out).of(&cmd)
    }

    /// A finished run, checked for canaries in both outputs.
    pub fn checked(&self, out: std::process::Output) -> Run {
        let run = Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            command: String::new(),
        };
        self.assert_no_leak(&run.stdout);
        self.assert_no_leak(&run.stderr);
        run
    }

    /// Run a prepared command with `input` on its standard input.
    pub fn run_with_stdin(&self, mut cmd: StdCommand, input: &str) -> Run {
        use std::io::Write;
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("run: {e}"));
        if let Some(mut pipe) = child.stdin.take() {
            pipe.write_all(input.as_bytes())
                .unwrap_or_else(|e| panic!("stdin: {e}"));
        }
        let out = child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("run: {e}"));
        self.checked(out).of(&cmd)
    }

    pub fn assert_no_leak(&self, text: &str) {
        for canary in self.canaries.borrow().iter() {
            let b64 = base64::engine::general_purpose::STANDARD.encode(canary);
            assert!(
                !text.contains(canary.as_str()),
                "secret value {canary} leaked:\n{text}"
            );
            assert!(
                !text.contains(&b64),
                "secret value {canary} leaked base64-encoded:\n{text}"
            );
            // The first 12 characters of a canary are its label; the tail is unique.
            let tail = &canary[canary.len().saturating_sub(10)..];
            assert!(
                !text.contains(tail),
                "part of secret value {canary} leaked:\n{text}"
            );
        }
    }

    /// Put a Secret in the namespace as another tool would (e.g. Konduktor's CLI).
    pub fn seed(&self, obj: impl Into<Value>) {
        let mut obj = obj.into();
        if let Some(meta) = obj["metadata"].as_object_mut() {
            for k in [
                "namespace",
                "uid",
                "resourceVersion",
                "creationTimestamp",
                "managedFields",
            ] {
                meta.remove(k);
            }
        }
        self.put(obj, "create");
    }

    /// Replace a Secret as another writer would (`kubectl replace`): `obj`
    /// as read with [`TestEnv::secret`], changed.
    pub fn replace(&self, obj: Value) {
        self.put(obj, "replace");
    }

    /// Store `obj` on the test server, or with `kubectl VERB` on a real cluster.
    fn put(&self, obj: Value, verb: &str) {
        match &self.backend {
            Backend::Fake(server) => {
                server.put_secret(&self.namespace, obj);
            }
            Backend::Real { kubeconfig } => {
                let out = kubectl(
                    kubeconfig,
                    &[verb, "-n", &self.namespace, "-f", "-"],
                    Some(&obj.to_string()),
                );
                assert!(
                    out.status.success(),
                    "kubectl {verb}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
    }

    /// A Konduktor-made secret from the fixtures.
    pub fn seed_fixture(&self, name: &str) -> Value {
        let obj = fixture_json(&format!("konduktor-made/{name}.json"));
        self.seed(obj.clone());
        obj
    }

    /// Every object Konduktor's own CLI wrote in fixtures/konduktor-made.
    pub fn seed_konduktor_made(&self) {
        for name in [
            "my-default-directory",
            "my-default-file",
            "my-default-inline",
            "my-env",
            "my-ssh-2",
        ] {
            self.seed_fixture(&format!("{name}-{OWNER}"));
        }
    }

    /// On the test server: nothing was sent at all.
    pub fn assert_no_requests(&self) {
        if let Some(server) = self.fake() {
            assert_eq!(
                server.requests(),
                vec![],
                "no request may reach the cluster"
            );
        }
    }

    pub fn secret(&self, name: &str) -> Option<Value> {
        match &self.backend {
            Backend::Fake(server) => server.secret(&self.namespace, name),
            Backend::Real { kubeconfig } => {
                let out = kubectl(
                    kubeconfig,
                    &[
                        "get",
                        "secret",
                        "-n",
                        &self.namespace,
                        name,
                        "-o",
                        "json",
                        "--ignore-not-found",
                    ],
                    None,
                );
                let text = String::from_utf8_lossy(&out.stdout);
                if text.trim().is_empty() {
                    None
                } else {
                    serde_json::from_str(&text).ok()
                }
            }
        }
    }

    pub fn secret_names(&self) -> Vec<String> {
        let items = match &self.backend {
            Backend::Fake(server) => server.secrets(&self.namespace),
            Backend::Real { kubeconfig } => {
                let out = kubectl(
                    kubeconfig,
                    &["get", "secrets", "-n", &self.namespace, "-o", "json"],
                    None,
                );
                let list: Value =
                    serde_json::from_slice(&out.stdout).unwrap_or(json!({"items": []}));
                list["items"].as_array().cloned().unwrap_or_default()
            }
        };
        let mut names: Vec<String> = items
            .iter()
            .filter_map(|s| s["metadata"]["name"].as_str().map(str::to_string))
            // Real clusters may add their own (service-account tokens on old versions).
            .filter(|n| !n.starts_with("default-token-"))
            .collect();
        names.sort();
        names
    }

    /// Decoded data of a stored secret.
    pub fn data(&self, name: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
        let obj = self
            .secret(name)
            .unwrap_or_else(|| panic!("no secret {name}"));
        decode_data(&obj)
    }
}

pub fn decode_data(obj: &Value) -> std::collections::BTreeMap<String, Vec<u8>> {
    obj["data"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        base64::engine::general_purpose::STANDARD
                            .decode(v.as_str().unwrap_or_default())
                            .unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        if let Backend::Real { kubeconfig } = &self.backend {
            let _ = kubectl(
                kubeconfig,
                &["delete", "namespace", &self.namespace, "--wait=false"],
                None,
            );
        }
    }
}

/// A kubeconfig for `server` with the user `alice` holding `token`; an
/// https server is trusted through the test CA (the fake API server's TLS
/// front, `apiserver::tls`).
pub fn fake_kubeconfig(server: &str, namespace: &str, token: &str) -> String {
    let ca = if server.starts_with("https://") {
        format!("    certificate-authority-data: {}\n", proxy::ca_data())
    } else {
        String::new()
    };
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: {server}
{ca}users:
- name: alice
  user:
    token: {token}
contexts:
- name: fake
  context:
    cluster: fake
    user: alice
    namespace: {namespace}
current-context: fake
"
    )
}

/// Run, and fail (killing the child) if it has not finished after a
/// minute: only a hang catcher, not a timing assertion.
pub fn run_unhung(env: &TestEnv, mut cmd: std::process::Command) -> Run {
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn: {e}"));
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = match rx.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(out) => out.unwrap_or_else(|e| panic!("wait: {e}")),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
            panic!("the command hung");
        }
    };
    env.checked(out).of(&cmd)
}

pub fn mkfifo(path: &std::path::Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", path.display());
}
