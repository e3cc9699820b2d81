//! The binary against the test API server (tests/support/apiserver) with a
//! fixed latency per request, as a real cluster 50 ms away: creating 1,000
//! secrets, a no-op apply of the same 1,000, and `secret list -u` over
//! 3,000 secrets of 50 KB of other users' values, and a plan (`diff`) over a
//! hostile 300 MB LIST page. Request counts and the child's peak memory are
//! printed after each run; nothing here is asserted (request counts and the
//! page cap are, in tests/e2e).
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

use apiserver::{ALICE_TOKEN, ApiServer, Fault, FaultRule};

const OWNER: &str = "abba3a3e";
const OTHER: &str = "8417fdac";

fn main() {
    if std::env::var_os(MEASURE).is_some() {
        measure_child();
    }
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
    // The server is https behind the test CA: credentials go only over TLS.
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\n    certificate-authority-data: {}\nusers:\n- name: alice\n  user:\n    token: {ALICE_TOKEN}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: alice\n    namespace: {name}\ncurrent-context: fake\n",
        world.server.url(),
        apiserver::tls::ca_data()
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

/// Set in the copy of this bench that measures one run (see [`run`]).
const MEASURE: &str = "KONDUKTOR_BENCH_MEASURE";

/// What one run of the child took.
struct Usage {
    peak_kib: u64,
    cpu_ms: u64,
}

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "peak RSS {} MiB, CPU {}.{:02} s",
            self.peak_kib / 1024,
            self.cpu_ms / 1000,
            self.cpu_ms % 1000 / 10
        )
    }
}

/// Run to the end; the child's peak resident memory and CPU time.
///
/// The child is started by a fresh copy of this bench, which waits for it
/// with wait4 and prints its rusage: started from here, the child's
/// `ru_maxrss` would count this process's own peak (Linux keeps the larger
/// of the old and new image's peak across fork and exec), and this process
/// holds the test API server with every secret of every bench.
fn run(cmd: Command) -> Usage {
    let (usage, ok) = run_to_end(&cmd);
    assert!(ok, "{cmd:?} failed");
    usage
}

/// [`run`] for a command that may fail: its usage, and whether it succeeded.
fn run_to_end(cmd: &Command) -> (Usage, bool) {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
    let mut measured = Command::new(exe);
    measured
        .env(MEASURE, "1")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => measured.env(key, value),
            None => measured.env_remove(key),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        measured.current_dir(dir);
    }
    let out = measured
        .stderr(std::process::Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut numbers = text.split_whitespace().map(|n| {
        n.parse::<u64>()
            .unwrap_or_else(|e| panic!("usage {text:?}: {e}"))
    });
    let usage = Usage {
        peak_kib: numbers.next().unwrap_or(0),
        cpu_ms: numbers.next().unwrap_or(0),
    };
    (usage, out.status.success())
}

/// The measuring copy: run argv[1..] with its output dropped, and print
/// its peak resident memory in KiB and its CPU time (user and system) in
/// milliseconds (wait4's rusage).
// The child is waited for with wait4, for its rusage.
#[allow(clippy::zombie_processes)]
fn measure_child() -> ! {
    let mut args = std::env::args_os().skip(1);
    let program = args
        .next()
        .unwrap_or_else(|| panic!("no program to measure"));
    let child = Command::new(program)
        .args(args)
        .env_remove(MEASURE)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn: {e}"));
    let pid = libc::pid_t::try_from(child.id()).unwrap_or_else(|e| panic!("{e}"));
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, not yet waited for; the pointers are live.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4");
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    let ms = |t: libc::timeval| {
        u64::try_from(t.tv_sec).unwrap_or(0) * 1000 + u64::try_from(t.tv_usec).unwrap_or(0) / 1000
    };
    println!(
        "{} {}",
        u64::try_from(usage.ru_maxrss).unwrap_or(0),
        ms(usage.ru_utime) + ms(usage.ru_stime)
    );
    std::process::exit(if ok { 0 } else { 1 })
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
            let usage = run(binary(world, &kubeconfig, &args));
            eprintln!("create_1000: {} requests, {}", requests(world, &ns), usage);
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

/// A plan (`diff`) whose LIST of the caller's secrets is answered with a
/// 300 MB page (Secrets of 1 MiB values, whatever the selector): the read
/// stops at the page cap (64 MiB, asked once more in a page of 32), so the
/// peak stays near that however large the page; it took 614 MB when the
/// page was read whole. The run fails, as it should.
#[divan::bench(sample_count = 3, sample_size = 1)]
fn diff_over_a_hostile_300mb_page(bencher: Bencher) {
    let world = world();
    let (ns, kubeconfig) = namespace(world, "hostile");
    world.server.inject(
        FaultRule::new(Fault::HugePage(300 << 20))
            .on("GET")
            .path(&format!("/namespaces/{ns}/secrets")),
    );
    let manifest = world.dir.path().join("one.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n  - name: one\n    kind: env\n    inline: {TOKEN: t}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let manifest = manifest.display().to_string();
    bencher.bench_local(|| {
        world.server.clear_requests();
        let (usage, ok) = run_to_end(&binary(world, &kubeconfig, &["diff", "-f", &manifest]));
        eprintln!(
            "diff_over_a_hostile_300mb_page: {} requests, {}, {}",
            requests(world, &ns),
            if ok { "succeeded" } else { "refused" },
            usage
        );
    });
}

/// `diff` and `secret list` whose LIST is answered with one 12 MB page of
/// 4,000,000 empty items (`{}`): each costs far more held than sent, so
/// the read stops at the first item past the 500 asked for and the peak
/// stays that of a small page (14 MiB here); read whole, it took 2.7 GB (`diff`) and
/// 1.37 GB (`secret list`). The runs fail, as they should.
#[divan::bench(sample_count = 3, sample_size = 1)]
fn lists_over_a_page_of_4m_empty_items(bencher: Bencher) {
    let world = world();
    let (ns, kubeconfig) = namespace(world, "tiny-items");
    world.server.inject(
        FaultRule::new(Fault::TinyItems(4_000_000))
            .on("GET")
            .path(&format!("/namespaces/{ns}/secrets")),
    );
    let manifest = world.dir.path().join("one-tiny.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n  - name: one\n    kind: env\n    inline: {TOKEN: t}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let manifest = manifest.display().to_string();
    bencher.bench_local(|| {
        for args in [&["diff", "-f", &manifest][..], &["secret", "list"][..]] {
            world.server.clear_requests();
            let (usage, ok) = run_to_end(&binary(world, &kubeconfig, args));
            eprintln!(
                "lists_over_a_page_of_4m_empty_items ({}): {} requests, {}, {}",
                args.first().copied().unwrap_or_default(),
                requests(world, &ns),
                if ok { "succeeded" } else { "refused" },
                usage
            );
        }
    });
}

/// The namespace of 3,000 secrets of 50 KB of another user's values, made
/// once for the list benches.
fn crowded_namespace() -> &'static (String, PathBuf) {
    static CROWDED: OnceLock<(String, PathBuf)> = OnceLock::new();
    CROWDED.get_or_init(|| {
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
        (ns, kubeconfig)
    })
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn list_all_users_3000_of_50kb(bencher: Bencher) {
    let world = world();
    let (ns, kubeconfig) = crowded_namespace();
    bencher.bench_local(|| {
        world.server.clear_requests();
        let usage = run(binary(
            world,
            kubeconfig,
            &["-n", ns, "secret", "list", "-u"],
        ));
        eprintln!(
            "list_all_users_3000_of_50kb: {} requests, {}",
            requests(world, ns),
            usage
        );
    });
}

/// The same listing by `kubectl get secrets` (pages of 500, its default
/// `--chunk-size`), for comparison; skipped where kubectl is not installed.
/// The test API server answers its request for a `Table` with the full
/// list, so kubectl reads the values here, as it would not from a real
/// server (which sends table rows).
#[divan::bench(sample_count = 3, sample_size = 1)]
fn kubectl_get_secrets_3000_of_50kb(bencher: Bencher) {
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        eprintln!("kubectl_get_secrets_3000_of_50kb: kubectl not found, skipped");
        return;
    }
    let world = world();
    let (ns, kubeconfig) = crowded_namespace();
    bencher.bench_local(|| {
        world.server.clear_requests();
        let mut cmd = Command::new("kubectl");
        cmd.env("KUBECONFIG", kubeconfig)
            .env("HOME", world.dir.path())
            .args(["get", "secrets", "-n", ns]);
        let usage = run(cmd);
        eprintln!(
            "kubectl_get_secrets_3000_of_50kb: {} requests, {}",
            requests(world, ns),
            usage
        );
    });
}

/// Three clusters 50 ms away (three servers, one context each) holding the
/// same 20 secrets, for the no-op plan over several targets (issue 22).
struct Fleet {
    servers: Vec<ApiServer>,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    manifest: PathBuf,
}

const FLEET: [&str; 3] = ["train", "infer", "stage"];

fn fleet() -> &'static Fleet {
    static FLEET_WORLD: OnceLock<Fleet> = OnceLock::new();
    FLEET_WORLD.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let servers: Vec<ApiServer> = FLEET.iter().map(|_| ApiServer::start()).collect();
        let (mut clusters, mut contexts) = (String::new(), String::new());
        for (name, server) in FLEET.iter().zip(&servers) {
            server.create_namespace("fleet");
            clusters.push_str(&format!(
                "- name: {name}\n  cluster:\n    server: {}\n    certificate-authority-data: {}\n",
                server.url(),
                apiserver::tls::ca_data()
            ));
            contexts.push_str(&format!(
                "- name: {name}\n  context:\n    cluster: {name}\n    user: alice\n    namespace: fleet\n"
            ));
        }
        let kubeconfig = dir.path().join("fleet.kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n{clusters}users:\n- name: alice\n  user:\n    token: {ALICE_TOKEN}\ncontexts:\n{contexts}current-context: train\n"
            ),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let body: String = (0..20)
            .map(|i| format!("  - name: s{i:02}\n    kind: env\n    inline: {{TOKEN: t{i:02}}}\n"))
            .collect();
        let manifest = dir.path().join("fleet.yaml");
        std::fs::write(
            &manifest,
            format!("apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n{body}"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let fleet = Fleet {
            servers,
            dir,
            kubeconfig,
            manifest,
        };
        // Written once, without latency; every bench run is then a no-op.
        let apply = fleet_command(&fleet, "apply", &FLEET);
        run(apply);
        for s in &fleet.servers {
            s.set_latency(latency());
        }
        fleet
    })
}

fn fleet_command(fleet: &Fleet, verb: &str, contexts: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-konduktor"));
    cmd.env_remove("KUBECONFIG")
        .env_remove("KONDUKTOR_USER_ID")
        .env_remove("KONDUKTOR_CONFIG")
        .env("HOME", fleet.dir.path())
        .env("KUBECONFIG", &fleet.kubeconfig)
        .env("KONDUKTOR_TEST_USER_HASH", OWNER)
        .env("USER", "alice")
        .current_dir(fleet.dir.path())
        .args([verb, "-f"])
        .arg(&fleet.manifest)
        .arg("--context")
        .arg(contexts.join(","));
    cmd
}

/// A no-op `diff` over one cluster 50 ms away: the baseline for
/// [`noop_diff_three_clusters`].
#[divan::bench(sample_count = 5, sample_size = 1)]
fn noop_diff_one_cluster(bencher: Bencher) {
    let fleet = fleet();
    bencher.bench_local(|| {
        run(fleet_command(fleet, "diff", &FLEET[..1]));
    });
}

/// A no-op `diff` over three clusters 50 ms away: the targets are read at
/// once, so it takes about as long as one (one LIST each, printed).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn noop_diff_three_clusters(bencher: Bencher) {
    let fleet = fleet();
    for s in &fleet.servers {
        s.clear_requests();
    }
    bencher.bench_local(|| {
        run(fleet_command(fleet, "diff", &FLEET));
    });
    let counts: Vec<usize> = fleet.servers.iter().map(|s| s.requests().len()).collect();
    eprintln!("noop_diff_three_clusters: requests per cluster over 5 runs: {counts:?}");
}
