//! plugin-index/release.sh: packs each platform's archive the same way,
//! checks that a built binary prints the tag, and the archive for this
//! machine installs the way krew installs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::krew::{ok, pack_all, problems, read_manifest, release_sh, selects, sha256_hex};

/// This machine's os/arch in krew's words (as Go's GOOS/GOARCH).
fn host() -> (&'static str, &'static str) {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    (os, arch)
}

fn debug_bin() -> PathBuf {
    PathBuf::from(assert_cmd::cargo::cargo_bin!("kubectl-konduktor"))
}

/// The names in an archive, in order.
fn entries(archive: &Path) -> Vec<String> {
    let name = archive.to_string_lossy();
    let list = if name.ends_with(".zip") {
        Command::new("unzip").arg("-Z1").arg(archive).output()
    } else {
        Command::new("tar").arg("-tzf").arg(archive).output()
    }
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(list.status.success(), "{name}");
    String::from_utf8_lossy(&list.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn every_platform_is_packed_the_same_way_and_reproducibly() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let bin = dir.path().join("stand-in");
    std::fs::write(&bin, "#!/bin/sh\necho stand-in\n").unwrap_or_else(|e| panic!("{e}"));
    let first = pack_all(&bin, &dir.path().join("a"));
    let second = pack_all(&bin, &dir.path().join("b"));
    assert_eq!(first.len(), 5, "{first:?}");
    for (a, b) in first.iter().zip(&second) {
        let name = a
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let exe = if name.contains("_windows_") {
            assert!(
                name.ends_with(".zip"),
                "{name}: krew wants a zip on windows"
            );
            ".exe"
        } else {
            assert!(name.ends_with(".tar.gz"), "{name}");
            ""
        };
        // The binary, its completion, the license, and the README with
        // every document it links to (tar sorts by name; zip as given).
        let mut docs: Vec<String> =
            std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs"))
                .unwrap_or_else(|e| panic!("{e}"))
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".md"))
                .map(|n| format!("docs/{n}"))
                .collect();
        docs.sort();
        assert!(docs.len() > 5, "{docs:?}");
        let mut expected = vec![
            format!("kubectl-konduktor{exe}"),
            "kubectl_complete-konduktor".to_string(),
            "LICENSE".to_string(),
            "README.md".to_string(),
        ];
        expected.extend(docs);
        let mut packed = entries(a);
        if !name.ends_with(".zip") {
            expected.sort();
            packed.sort();
        }
        assert_eq!(packed, expected, "{name}");
        let bytes = std::fs::read(a).unwrap_or_else(|e| panic!("{e}"));
        let again = std::fs::read(b).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            sha256_hex(&bytes),
            sha256_hex(&again),
            "{name} is reproducible"
        );
    }
}

#[test]
fn check_version_fails_unless_the_binary_prints_the_tag() {
    let bin = debug_bin();
    let bin_arg = bin.display().to_string();
    let tag = format!("v{}", env!("CARGO_PKG_VERSION"));
    ok(&release_sh(&["check-version", &tag, &bin_arg], &[]));
    for wrong in ["v9.9.9", env!("CARGO_PKG_VERSION"), "v0.1", ""] {
        let run = release_sh(&["check-version", wrong, &bin_arg], &[]);
        assert!(!run.status.success(), "`{wrong}` must not pass");
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(stderr.contains("release.sh:"), "{stderr}");
    }
    // A program that prints nothing like a version.
    let run = release_sh(&["check-version", &tag, "/bin/true"], &[]);
    assert!(!run.status.success());
}

#[test]
fn this_machines_archive_installs_the_way_krew_installs_it() {
    let (os, arch) = host();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let archives = dir.path().join("archives");
    // Every platform from a stand-in, then this machine's from the real binary.
    let stand_in = dir.path().join("stand-in");
    std::fs::write(&stand_in, "#!/bin/sh\nexit 1\n").unwrap_or_else(|e| panic!("{e}"));
    pack_all(&stand_in, &archives);
    let packed = ok(&release_sh(
        &["pack", &archives.display().to_string()],
        &[("BIN", &debug_bin())],
    ));
    let archive = PathBuf::from(packed.lines().next().unwrap_or_default());
    let printed = packed
        .lines()
        .nth(1)
        .and_then(|l| l.strip_prefix("sha256: "))
        .unwrap_or_default()
        .to_string();
    let bytes = std::fs::read(&archive).unwrap_or_else(|e| panic!("{}: {e}", archive.display()));
    assert_eq!(
        printed,
        sha256_hex(&bytes),
        "the printed sha256 is the archive's"
    );

    let manifest_path = dir.path().join("konduktor.yaml");
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    ok(&release_sh(
        &[
            "manifest",
            &version,
            &archives.display().to_string(),
            &manifest_path.display().to_string(),
        ],
        &[],
    ));
    let m = read_manifest(&manifest_path);
    assert_eq!(problems("konduktor", &m), Vec::<String>::new());
    let name = m["metadata"]["name"].as_str().unwrap_or_default();
    let platform = m["spec"]["platforms"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| selects(&p["selector"], os, arch))
        .unwrap_or_else(|| panic!("no platform for {os}/{arch}"))
        .clone();

    // krew: download the uri (here: the archive), check its sha256.
    let uri = platform["uri"].as_str().unwrap_or_default();
    assert!(
        uri.ends_with(&format!(
            "/{}",
            archive.file_name().unwrap_or_default().to_string_lossy()
        )),
        "{uri}"
    );
    assert_eq!(platform["sha256"], sha256_hex(&bytes).as_str());

    // Unpack into a staging folder, copy the declared files into the
    // install folder, link `bin` into krew's bin folder as kubectl-<name>.
    let staging = dir.path().join("staging");
    let install = dir.path().join("store").join(name).join(&version);
    let bin_dir = dir.path().join("krew-bin");
    for d in [&staging, &install, &bin_dir] {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{e}"));
    }
    let untar = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&staging)
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(untar.success());
    let files = platform["files"].as_array().cloned().unwrap_or_default();
    assert!(!files.is_empty());
    for f in &files {
        let from = staging.join(f["from"].as_str().unwrap_or_default());
        let to_dir = install.join(f["to"].as_str().unwrap_or("."));
        let to = to_dir.join(from.file_name().unwrap_or_default());
        std::fs::copy(&from, &to)
            .unwrap_or_else(|e| panic!("{} -> {}: {e}", from.display(), to.display()));
    }
    let bin = install.join(platform["bin"].as_str().unwrap_or_default());
    let link = bin_dir.join(format!("kubectl-{name}"));
    std::os::unix::fs::symlink(&bin, &link).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !install.join("README.md").exists(),
        "only the declared files are installed"
    );

    let system_path = std::env::var_os("PATH").unwrap_or_default();
    let kubectl_dir = std::env::split_paths(&system_path)
        .find(|p| p.join("kubectl").exists())
        .unwrap_or_default();
    let path = std::env::join_paths([bin_dir.clone(), kubectl_dir]).unwrap_or_default();
    let list = Command::new("kubectl")
        .args(["plugin", "list"])
        .env("PATH", &path)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let listed = String::from_utf8_lossy(&list.stdout);
    assert!(listed.contains(&link.display().to_string()), "{listed}");
    let run = Command::new("kubectl")
        .args(["konduktor", "--version"])
        .env("PATH", &path)
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let printed = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        printed.starts_with(&format!(
            "kubectl-konduktor {} (commit ",
            env!("CARGO_PKG_VERSION")
        )),
        "{printed}"
    );
}
