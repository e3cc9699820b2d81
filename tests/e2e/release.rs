//! plugin-index/release.sh: builds the host platform's archive, prints its
//! sha256 and records it in the manifest; the unpacked archive works as a
//! kubectl plugin.

use std::path::Path;
use std::process::Command;

use sha2::Digest;

use crate::support::TestEnv;

#[test]
fn the_release_archive_installs_as_a_plugin() {
    let env = TestEnv::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = env.dir.path().join("archives");
    let manifest = env.dir.path().join("konduktor.yaml");
    std::fs::copy(root.join("plugin-index/plugins/konduktor.yaml"), &manifest)
        .unwrap_or_else(|e| panic!("{e}"));
    let before = std::fs::read_to_string(&manifest).unwrap_or_default();
    let bin = assert_cmd::cargo::cargo_bin!("kubectl-konduktor");

    let run = Command::new("bash")
        .arg(root.join("plugin-index/release.sh"))
        .arg(&out)
        .env("BIN", bin)
        .env("MANIFEST", &manifest)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut lines = stdout.lines();
    let archive = lines.next().unwrap_or_default().to_string();
    let printed = lines
        .next()
        .and_then(|l| l.strip_prefix("sha256: "))
        .unwrap_or_default()
        .to_string();
    let bytes = std::fs::read(&archive).unwrap_or_else(|e| panic!("{archive}: {e}"));
    let actual: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(printed, actual, "the printed sha256 is the archive's");

    let after = std::fs::read_to_string(&manifest).unwrap_or_default();
    assert!(
        after.contains(&format!("sha256: \"{actual}\"")),
        "the manifest records it"
    );
    assert_eq!(
        after
            .lines()
            .filter(|l| l.contains("sha256: ") && !before.contains(*l))
            .count(),
        1,
        "only this platform's entry changes"
    );

    // Unpack into an empty folder, put it on PATH, and let kubectl find it.
    let installed = env.dir.path().join("installed");
    std::fs::create_dir_all(&installed).unwrap_or_else(|e| panic!("{e}"));
    let untar = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&installed)
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(untar.success());
    for f in [
        "kubectl-konduktor",
        "kubectl_complete-konduktor",
        "LICENSE",
        "README.md",
    ] {
        assert!(installed.join(f).exists(), "{f} is in the archive");
    }
    let system_path = std::env::var_os("PATH").unwrap_or_default();
    let kubectl_dir = std::env::split_paths(&system_path)
        .find(|p| p.join("kubectl").exists())
        .unwrap_or_default();
    let path = std::env::join_paths([installed.clone(), kubectl_dir]).unwrap_or_default();
    let list = Command::new("kubectl")
        .args(["plugin", "list"])
        .env("PATH", &path)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(
        listed.contains(&installed.join("kubectl-konduktor").display().to_string()),
        "{listed}"
    );
    let version = Command::new("kubectl")
        .args(["konduktor", "--version"])
        .env("PATH", &path)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(
        version.contains(env!("CARGO_PKG_VERSION")) && version.contains("commit"),
        "{version}"
    );
}
