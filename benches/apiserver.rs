//! The binary against the test API server (tests/support/apiserver) with a
//! fixed latency per request, as a real cluster 50 ms away: creating 1,000
//! secrets, a no-op apply of the same 1,000, and `secret list -u` over
//! 3,000 secrets of 50 KB of other users' values. Request counts and the
//! child's peak memory are printed after each run; nothing here is asserted
//! (request counts are, in tests/e2e).
//!
//! `KONDUKTOR_BENCH_LATENCY_MS` changes the latency (default 50).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use divan::Bencher;
use serde_json::json;

#[allow(dead_code, unused_imports)]
#[path = "../tests/support/apiserver/mod.rs"]
mod apiserver;

use apiserver::{ALICE_TOKEN, ApiServer};

const OWNER: &str = "abba3a3e";
const OTHER: &str = "8417fdac";

fn main() {
    divan::main();
}

fn latency() -> Duration {
    let ms = std::env::var("KONDUKTOR_BENCH_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    Duration::from_millis(ms)
}

struct World {
    server: ApiServer,
    dir: tempfile::TempDir,
}

/// One server and scratch folder for every bench here.
fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let server = ApiServer::start();
        server.set_latency(latency());
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let body: String = (0..1_000)
            .map(|i| {
                format!(
                    "  - name: s{i:04}\n    kind: env\n    inline: {{TOKEN: t{i:04}, MODE: prod}}\n"
                )
            })
            .collect();
        let manifest =
            format!("apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n{body}");
        std::fs::write(dir.path().join("secrets.yaml"), manifest).unwrap_or_else(|e| panic!("{e}"));
        World { server, dir }
    })
}

/// A fresh namespace with its kubeconfig.
fn namespace(world: &World, name: &str) -> (String, PathBuf) {
    world.server.create_namespace(name);
    let kubeconfig = world.dir.path().join(format!("{name}.kubeconfig"));
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\nusers:\n- name: alice\n  user:\n    token: {ALICE_TOKEN}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: alice\n    namespace: {name}\ncurrent-context: fake\n",
        world.server.url()
    );
    std::fs::write(&kubeconfig, text).unwrap_or_else(|e| panic!("{e}"));
    (name.to_string(), kubeconfig)
}

fn binary(world: &World, kubeconfig: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-konduktor"));
    cmd.env_remove("KUBECONFIG")
        .env_remove("KONDUKTOR_USER_ID")
        .env_remove("KONDUKTOR_CONFIG")
        .env("HOME", world.dir.path())
        .env("KUBECONFIG", kubeconfig)
        .env("KONDUKTOR_TEST_USER_HASH", OWNER)
        .env("USER", "alice")
        .current_dir(world.dir.path())
        .args(args);
    cmd
}

/// Run to the end; the child's peak resident memory in KiB (wait4's rusage).
// The child is waited for with wait4, for its rusage.
#[allow(clippy::zombie_processes)]
fn run(mut cmd: Command) -> u64 {
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit());
    let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn: {e}"));
    let pid = libc::pid_t::try_from(child.id()).unwrap_or_else(|e| panic!("{e}"));
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, not yet waited for; the pointers are live.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed ({status})"
    );
    u64::try_from(usage.ru_maxrss).unwrap_or(0)
}

fn requests(world: &World, ns: &str) -> usize {
    world
        .server
        .requests()
        .iter()
        .filter(|r| r.path.contains(&format!("/namespaces/{ns}/")))
        .count()
}

fn apply_args(world: &World) -> Vec<String> {
    let manifest = world.dir.path().join("secrets.yaml");
    vec!["apply".into(), "-f".into(), manifest.display().to_string()]
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn create_1000(bencher: Bencher) {
    let world = world();
    let args = apply_args(world);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut round = 0;
    bencher
        .with_inputs(|| {
            round += 1;
            namespace(world, &format!("create-{round}"))
        })
        .bench_local_values(|(ns, kubeconfig)| {
            let rss = run(binary(world, &kubeconfig, &args));
            eprintln!(
                "create_1000: {} requests, peak RSS {} MiB",
                requests(world, &ns),
                rss / 1024
            );
        });
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn noop_1000(bencher: Bencher) {
    let world = world();
    let args = apply_args(world);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ns, kubeconfig) = namespace(world, "noop");
    run(binary(world, &kubeconfig, &args));
    world.server.clear_requests();
    bencher.bench_local(|| {
        run(binary(world, &kubeconfig, &args));
    });
    eprintln!(
        "noop_1000: {} requests over {} runs",
        requests(world, &ns),
        5
    );
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn list_all_users_3000_of_50kb(bencher: Bencher) {
    let world = world();
    let (ns, kubeconfig) = namespace(world, "list");
    let value = B64.encode(vec![b'v'; 50 * 1024]);
    for i in 0..3_000 {
        world.server.put_secret(
            &ns,
            json!({"metadata": {"name": format!("s{i:04}-{OTHER}"), "labels": {
                "parent": "konduktor", "trainy.ai/secret-owner": OTHER,
                "trainy.ai/secret-basename": format!("s{i:04}"), "trainy.ai/secret-kind": "env"}},
                "type": "Opaque", "data": {"TOKEN": value}}),
        );
    }
    bencher.bench_local(|| {
        world.server.clear_requests();
        let rss = run(binary(
            world,
            &kubeconfig,
            &["-n", &ns, "secret", "list", "-u"],
        ));
        eprintln!(
            "list_all_users_3000_of_50kb: {} requests, peak RSS {} MiB",
            requests(world, &ns),
            rss / 1024
        );
    });
}
