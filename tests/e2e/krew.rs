//! The krew manifest obeys the rules krew's own validator enforces
//! (sigs.k8s.io/krew pkg/index/validation) and the index's review rules:
//! supported apiVersion and kind, a safe name matching the file, a semver
//! `v` version, a one-line short description, platforms with valid sha256,
//! bin, files (with a LICENSE) and os/arch selectors that do not overlap.
//! The manifest is generated from the release archives by
//! `plugin-index/release.sh manifest`; no committed manifest holds
//! placeholder sums unless it is named as the template.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use sha2::Digest;

const API_VERSION: &str = "krew.googlecontainertools.github.com/v1alpha2";
/// The platforms a release publishes (issue 13): what krew users can install.
pub(crate) const PUBLISHED: [(&str, &str); 5] = [
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
    ("windows", "amd64"),
];
const WINDOWS_FORBIDDEN: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

pub(crate) fn is_semver_v(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let core = rest.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
}

/// Does a krew platform selector (a LabelSelector) match this os/arch?
pub(crate) fn selects(selector: &Value, os: &str, arch: &str) -> bool {
    let label = |k: &str| match k {
        "os" => Some(os),
        "arch" => Some(arch),
        _ => None,
    };
    let labels_ok = selector["matchLabels"]
        .as_object()
        .is_none_or(|m| m.iter().all(|(k, v)| label(k) == v.as_str()));
    let exprs_ok = selector["matchExpressions"].as_array().is_none_or(|exprs| {
        exprs.iter().all(|e| {
            let value = label(e["key"].as_str().unwrap_or_default());
            let values: Vec<&str> = e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            match e["operator"].as_str().unwrap_or_default() {
                "In" => value.is_some_and(|v| values.contains(&v)),
                "NotIn" => value.is_none_or(|v| !values.contains(&v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                _ => false,
            }
        })
    });
    labels_ok && exprs_ok
}

/// Every rule, as a list of what is wrong (empty when valid).
pub(crate) fn problems(file_stem: &str, m: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            out.push(what);
        }
    };
    check(
        m["apiVersion"] == API_VERSION,
        format!("apiVersion must be {API_VERSION}"),
    );
    check(m["kind"] == "Plugin", "kind must be Plugin".into());
    let name = m["metadata"]["name"].as_str().unwrap_or_default();
    let safe = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !WINDOWS_FORBIDDEN.contains(&name.to_lowercase().as_str());
    check(safe, format!("name `{name}` is not a safe plugin name"));
    check(
        name == file_stem,
        format!("name `{name}` must match the file name `{file_stem}`"),
    );
    let spec = &m["spec"];
    let version = spec["version"].as_str().unwrap_or_default();
    check(
        is_semver_v(version),
        format!("version `{version}` is not a semver starting with v"),
    );
    let short = spec["shortDescription"].as_str().unwrap_or_default();
    check(
        !short.trim().is_empty() && !short.contains('\n') && short.len() <= 60,
        "shortDescription must be one short line".into(),
    );
    check(
        spec["description"]
            .as_str()
            .is_some_and(|d| !d.trim().is_empty()),
        "description is missing".into(),
    );
    check(
        spec["homepage"]
            .as_str()
            .is_some_and(|h| h.starts_with("https://")),
        "homepage must be an https URL".into(),
    );
    let platforms = spec["platforms"].as_array().cloned().unwrap_or_default();
    check(!platforms.is_empty(), "no platforms".into());
    for (i, p) in platforms.iter().enumerate() {
        let uri = p["uri"].as_str().unwrap_or_default();
        check(
            uri.starts_with("https://") && (uri.ends_with(".tar.gz") || uri.ends_with(".zip")),
            format!("platform {i}: uri must be an https archive"),
        );
        let sha = p["sha256"].as_str().unwrap_or_default();
        check(
            sha.len() == 64
                && sha
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            format!("platform {i}: sha256 must be 64 lowercase hex"),
        );
        check(
            p["bin"].as_str().is_some_and(|b| !b.is_empty()),
            format!("platform {i}: bin is missing"),
        );
        let files = p["files"].as_array().cloned().unwrap_or_default();
        check(!files.is_empty(), format!("platform {i}: no files"));
        check(
            files.iter().any(|f| {
                f["from"]
                    .as_str()
                    .is_some_and(|from| from.contains("LICENSE"))
            }),
            format!("platform {i}: files must include a LICENSE"),
        );
        let bin = p["bin"].as_str().unwrap_or_default();
        check(
            files
                .iter()
                .any(|f| f["from"].as_str().is_some_and(|from| from.ends_with(bin))),
            format!("platform {i}: bin `{bin}` is not among the files"),
        );
        let sel = &p["selector"];
        let labels = sel["matchLabels"].as_object();
        let exprs = sel["matchExpressions"].as_array();
        check(
            labels.is_some_and(|l| !l.is_empty()) || exprs.is_some_and(|e| !e.is_empty()),
            format!("platform {i}: empty selector"),
        );
        let keys = labels.into_iter().flat_map(|l| l.keys().cloned()).chain(
            exprs
                .into_iter()
                .flatten()
                .filter_map(|e| e["key"].as_str().map(str::to_string)),
        );
        for key in keys {
            check(
                key == "os" || key == "arch",
                format!("platform {i}: selector key `{key}` is not os or arch"),
            );
        }
        let is_windows = selects(sel, "windows", "amd64") || selects(sel, "windows", "arm64");
        check(
            !is_windows || (uri.ends_with(".zip") && bin.ends_with(".exe")),
            format!("platform {i}: windows wants a .zip archive and an .exe bin"),
        );
    }
    // Each published os/arch is matched by exactly one platform.
    for (os, arch) in PUBLISHED {
        let n = platforms
            .iter()
            .filter(|p| selects(&p["selector"], os, arch))
            .count();
        check(
            n == 1,
            format!("{os}/{arch} is matched by {n} platforms; exactly one is needed"),
        );
    }
    out
}

pub(crate) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `plugin-index/release.sh ARGS` with `envs`, from the repository root.
pub(crate) fn release_sh(args: &[&str], envs: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(root().join("plugin-index/release.sh"))
        .args(args)
        .current_dir(root());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap_or_else(|e| panic!("release.sh: {e}"))
}

pub(crate) fn ok(run: &Output) -> String {
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(
        run.status.success(),
        "release.sh failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    stdout
}

/// The platforms `release.sh platforms` names, as (os, arch).
pub(crate) fn release_platforms() -> Vec<(String, String)> {
    ok(&release_sh(&["platforms"], &[]))
        .lines()
        .filter_map(|l| l.split_once('/'))
        .map(|(os, arch)| (os.to_string(), arch.to_string()))
        .collect()
}

/// Packs an archive for every platform release.sh publishes into `out`, each
/// holding `bin` (a stand-in binary is enough for the manifest's sums).
pub(crate) fn pack_all(bin: &Path, out: &Path) -> Vec<PathBuf> {
    release_platforms()
        .iter()
        .map(|(os, arch)| {
            let stdout = ok(&release_sh(
                &["pack", &out.display().to_string()],
                &[
                    ("BIN", bin),
                    ("OS", Path::new(os)),
                    ("ARCH", Path::new(arch)),
                ],
            ));
            PathBuf::from(stdout.lines().next().unwrap_or_default())
        })
        .collect()
}

pub(crate) fn read_manifest(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A manifest generated from archives of a stand-in binary, in `dir`.
fn generated(dir: &Path) -> (Value, Vec<PathBuf>) {
    let bin = dir.join("stand-in");
    std::fs::write(&bin, "#!/bin/sh\necho stand-in\n").unwrap_or_else(|e| panic!("{e}"));
    let archives = dir.join("archives");
    let packed = pack_all(&bin, &archives);
    let out = dir.join("konduktor.yaml");
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    ok(&release_sh(
        &[
            "manifest",
            &version,
            &archives.display().to_string(),
            &out.display().to_string(),
        ],
        &[],
    ));
    (read_manifest(&out), packed)
}

#[test]
fn the_manifest_is_generated_from_the_archives_and_valid_for_krew() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (m, packed) = generated(dir.path());
    assert_eq!(problems("konduktor", &m), Vec::<String>::new());
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(m["spec"]["version"], version.as_str());
    let platforms = m["spec"]["platforms"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(platforms.len(), PUBLISHED.len());
    assert_eq!(packed.len(), PUBLISHED.len());
    for (os, arch) in PUBLISHED {
        let p = platforms
            .iter()
            .find(|p| selects(&p["selector"], os, arch))
            .unwrap_or_else(|| panic!("{os}/{arch} is not in the manifest"));
        let ext = if os == "windows" { "zip" } else { "tar.gz" };
        let name = format!("kubectl-konduktor_{version}_{os}_{arch}.{ext}");
        assert_eq!(
            p["uri"],
            format!(
                "https://github.com/trainy-ai/kubectl-konduktor/releases/download/{version}/{name}"
            )
            .as_str()
        );
        let archive = packed
            .iter()
            .find(|a| a.file_name().is_some_and(|f| f.to_string_lossy() == name))
            .unwrap_or_else(|| panic!("{name} was not packed: {packed:?}"));
        let bytes = std::fs::read(archive).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p["sha256"], sha256_hex(&bytes).as_str(), "{name}");
        let exe = if os == "windows" { ".exe" } else { "" };
        assert_eq!(p["bin"], format!("kubectl-konduktor{exe}").as_str());
    }
}

#[test]
fn the_generator_refuses_what_would_not_install() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (_, packed) = generated(dir.path());
    let archives = dir.path().join("archives").display().to_string();
    let out = dir.path().join("out.yaml").display().to_string();
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));

    let no_v = release_sh(
        &["manifest", env!("CARGO_PKG_VERSION"), &archives, &out],
        &[],
    );
    assert!(!no_v.status.success());
    assert!(String::from_utf8_lossy(&no_v.stderr).contains("semver"));

    let other = release_sh(&["manifest", "v9.9.9", &archives, &out], &[]);
    assert!(!other.status.success(), "no archive of that version");

    let gone = packed
        .iter()
        .find(|a| a.to_string_lossy().contains("darwin_arm64"))
        .unwrap_or_else(|| panic!("{packed:?}"));
    std::fs::remove_file(gone).unwrap_or_else(|e| panic!("{e}"));
    let missing = release_sh(&["manifest", &version, &archives, &out], &[]);
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("darwin_arm64"),
        "names the missing archive: {}",
        String::from_utf8_lossy(&missing.stderr)
    );
    assert!(!Path::new(&out).exists(), "nothing written on failure");

    // --partial leaves the missing platform out (a local install).
    let partial = release_sh(&["manifest", "--partial", &version, &archives, &out], &[]);
    ok(&partial);
    let m = read_manifest(Path::new(&out));
    let platforms = m["spec"]["platforms"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(platforms.len(), PUBLISHED.len() - 1);
    assert!(
        !platforms
            .iter()
            .any(|p| selects(&p["selector"], "darwin", "arm64"))
    );
}

/// Every manifest under plugin-index/ that krew could read: the template
/// is exempt by its name; anything else must be a real release's.
#[test]
fn no_committed_manifest_holds_placeholder_sums() {
    let index = root().join("plugin-index");
    let mut stack = vec![index.clone()];
    let mut manifests = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{e}"))
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                manifests.push(path);
            }
        }
    }
    assert!(
        manifests
            .iter()
            .any(|p| p.ends_with("plugin-index/konduktor.template.yaml")),
        "the template the generator fills: {manifests:?}"
    );
    for path in manifests {
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if name.ends_with(".template.yaml") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(
                !text.contains("sha256:"),
                "{}: the template names no sums; the generator writes them",
                path.display()
            );
            continue;
        }
        let m = read_manifest(&path);
        let stem = path.file_stem().unwrap_or_default().to_string_lossy();
        assert_eq!(
            problems(&stem, &m),
            Vec::<String>::new(),
            "{}",
            path.display()
        );
        for p in m["spec"]["platforms"].as_array().into_iter().flatten() {
            let sha = p["sha256"].as_str().unwrap_or_default();
            assert!(
                sha.bytes().collect::<std::collections::BTreeSet<_>>().len() > 1,
                "{}: sha256 {sha} is a placeholder; generate the manifest with \
                 `plugin-index/release.sh manifest VERSION DIR` or name the file *.template.yaml",
                path.display()
            );
        }
    }
}

#[test]
fn the_validator_catches_what_krew_rejects() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let (good, _) = generated(dir.path());
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut m = good.clone();
        f(&mut m);
        problems("konduktor", &m)
    };
    assert!(
        !broken(&|m| m["apiVersion"] = "krew.googlecontainertools.github.com/v1alpha1".into())
            .is_empty()
    );
    assert!(!broken(&|m| m["metadata"]["name"] = "other".into()).is_empty());
    assert!(!broken(&|m| m["spec"]["version"] = "0.1.0".into()).is_empty());
    assert!(!broken(&|m| m["spec"]["shortDescription"] = "two\nlines".into()).is_empty());
    assert!(!broken(&|m| m["spec"]["platforms"][0]["sha256"] = "ABC".into()).is_empty());
    assert!(
        !broken(&|m| m["spec"]["platforms"][0]["files"] =
            serde_json::json!([{"from": "kubectl-konduktor", "to": "."}]))
        .is_empty()
    );
    assert!(
        !broken(&|m| m["spec"]["platforms"][1]["selector"]["matchLabels"] =
            serde_json::json!({"os": "linux", "arch": "amd64"}))
        .is_empty(),
        "overlap"
    );
    assert!(
        !broken(
            &|m| m["spec"]["platforms"][0]["selector"]["matchLabels"]["distro"] = "debian".into()
        )
        .is_empty()
    );
    assert!(!broken(&|m| m["spec"]["platforms"][0]["selector"] = serde_json::json!({})).is_empty());
    let windows = good["spec"]["platforms"]
        .as_array()
        .into_iter()
        .flatten()
        .position(|p| selects(&p["selector"], "windows", "amd64"))
        .unwrap_or_else(|| panic!("no windows platform"));
    assert!(
        !broken(&|m| m["spec"]["platforms"][windows]["bin"] = "kubectl-konduktor".into())
            .is_empty()
    );
    assert!(
        !broken(&|m| m["spec"]["platforms"]
            .as_array_mut()
            .into_iter()
            .for_each(|p| p.truncate(PUBLISHED.len() - 1)))
        .is_empty(),
        "a published platform is missing"
    );
    assert!(is_semver_v("v1.2.3-rc.1+build") && !is_semver_v("v1.2") && !is_semver_v("v01.2.3"));
}
