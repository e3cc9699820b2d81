//! The forge's workflows (issue 13): `release.yml` builds every platform
//! the manifest names on a version tag, `ci.yml` runs `.ci/run` on pushes.
//! Both validate against the workflow schema (check-jsonschema) and pass
//! zizmor offline with no medium or high finding; the tools come from the
//! Python registry through `tests/needs.sh python`.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::krew::{PUBLISHED, release_platforms, root};

const WORKFLOWS: [&str; 2] = [".github/workflows/release.yml", ".github/workflows/ci.yml"];

fn workflow(rel: &str) -> Value {
    serde_saphyr::from_str(&text(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn text(rel: &str) -> String {
    let path = root().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A tool from the Python registry, as `tests/needs.sh python` finds it
/// (installing it when missing). Only when the registry cannot be reached
/// (exit 3) is the test skipped, saying so.
fn python_tool(name: &str) -> Option<PathBuf> {
    let run = Command::new("bash")
        .arg(root().join("tests/needs.sh"))
        .arg("python")
        .output()
        .unwrap_or_else(|e| panic!("tests/needs.sh: {e}"));
    let stderr = String::from_utf8_lossy(&run.stderr);
    if run.status.code() == Some(3) {
        eprintln!("SKIPPED: {name} could not be installed, the registry is unreachable:\n{stderr}");
        return None;
    }
    assert!(run.status.success(), "tests/needs.sh python: {stderr}");
    let found = String::from_utf8_lossy(&run.stdout)
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")).map(PathBuf::from))
        .unwrap_or_else(|| panic!("tests/needs.sh python does not say where {name} is"));
    assert!(found.is_file(), "{}", found.display());
    Some(found)
}

/// `tool ARGS WORKFLOWS...` from the root: whether it succeeded, and
/// what it printed (stdout, then stderr).
fn on_the_workflows(tool: &std::path::Path, args: &[&str]) -> (bool, String) {
    let run = Command::new(tool)
        .args(args)
        .args(WORKFLOWS)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", tool.display()));
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    (run.status.success(), out)
}

#[test]
fn the_workflows_validate_against_the_workflow_schema() {
    let Some(tool) = python_tool("check-jsonschema") else {
        return;
    };
    let (ok, out) = on_the_workflows(&tool, &["--builtin-schema", "vendor.github-workflows"]);
    assert!(ok, "{out}");
}

#[test]
fn the_workflows_have_no_medium_or_high_zizmor_finding() {
    let Some(tool) = python_tool("zizmor") else {
        return;
    };
    let (ok, out) = on_the_workflows(
        &tool,
        &["--offline", "--no-progress", "--min-severity", "medium"],
    );
    assert!(ok, "{out}");
    assert!(out.contains("No findings"), "{out}");
}

/// What zizmor checks, said here too so a reader sees the rules: every
/// action pinned by a full commit with its version beside it, read-only by
/// default, `contents: write` only where the release is uploaded, no
/// credentials left in the checkout.
#[test]
fn actions_are_pinned_and_permissions_are_least() {
    for rel in WORKFLOWS {
        let src = text(rel);
        for line in src.lines().filter(|l| {
            l.trim_start().starts_with("- uses:") || l.trim_start().starts_with("uses:")
        }) {
            let spec = line.split("uses:").nth(1).unwrap_or_default().trim();
            let (action, rest) = spec
                .split_once('@')
                .unwrap_or_else(|| panic!("{rel}: {line}"));
            let (sha, comment) = rest.split_once(" # ").unwrap_or((rest, ""));
            assert!(
                !action.is_empty()
                    && sha.len() == 40
                    && sha
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
                "{rel}: `{line}` is not pinned by a full commit"
            );
            assert!(
                comment.trim().starts_with('v'),
                "{rel}: `{line}` says no version"
            );
        }
        let w = workflow(rel);
        assert_eq!(
            w["permissions"],
            serde_json::json!({"contents": "read"}),
            "{rel}: read-only by default"
        );
        for (name, job) in w["jobs"].as_object().into_iter().flatten() {
            let steps = job["steps"].as_array().cloned().unwrap_or_default();
            let uploads = steps
                .iter()
                .any(|s| s["run"].as_str().is_some_and(|r| r.contains("gh release")));
            let perms = &job["permissions"];
            if uploads {
                assert_eq!(
                    perms,
                    &serde_json::json!({"contents": "write"}),
                    "{rel}: {name}"
                );
            } else {
                assert!(
                    perms.is_null(),
                    "{rel}: {name} needs no more than the default"
                );
            }
            for s in &steps {
                if s["uses"]
                    .as_str()
                    .is_some_and(|u| u.starts_with("actions/checkout@"))
                {
                    assert_eq!(
                        s["with"]["persist-credentials"], false,
                        "{rel}: {name}: checkout must not keep the token"
                    );
                }
            }
        }
    }
}

/// The `build` job's matrix: (os, arch) of each entry.
fn matrix() -> Vec<Value> {
    workflow(".github/workflows/release.yml")["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn the_release_matrix_is_the_manifests_platforms() {
    let built: BTreeSet<(String, String)> = matrix()
        .iter()
        .map(|e| {
            (
                e["os"].as_str().unwrap_or_default().to_string(),
                e["arch"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(built.len(), matrix().len(), "no platform is built twice");
    let packed: BTreeSet<(String, String)> = release_platforms().into_iter().collect();
    assert_eq!(built, packed, "the workflow builds what release.sh packs");
    let published: BTreeSet<(String, String)> = PUBLISHED
        .iter()
        .map(|(o, a)| ((*o).to_string(), (*a).to_string()))
        .collect();
    assert_eq!(
        built, published,
        "the workflow builds what the manifest names"
    );

    for e in matrix() {
        let target = e["target"].as_str().unwrap_or_default();
        let expected = match (e["os"].as_str(), e["arch"].as_str()) {
            (Some("linux"), Some("amd64")) => "x86_64-unknown-linux-musl",
            (Some("linux"), Some("arm64")) => "aarch64-unknown-linux-musl",
            (Some("darwin"), Some("amd64")) => "x86_64-apple-darwin",
            (Some("darwin"), Some("arm64")) => "aarch64-apple-darwin",
            (Some("windows"), Some("amd64")) => "x86_64-pc-windows-msvc",
            other => panic!("unexpected platform {other:?}"),
        };
        assert_eq!(target, expected, "linux builds are static (musl)");
    }
}

#[test]
fn the_release_runs_on_a_version_tag_checks_every_binary_and_publishes_the_manifest() {
    let w = workflow(".github/workflows/release.yml");
    let tags = w["on"]["push"]["tags"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        tags.iter()
            .any(|t| t.as_str().is_some_and(|t| t.starts_with('v'))),
        "{w}"
    );
    assert!(w["on"]["push"]["branches"].is_null(), "tags only");
    let runs = |job: &str| -> String {
        w["jobs"][job]["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["run"].as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let build = runs("build");
    assert!(
        build.contains("cargo build --release --locked --target"),
        "{build}"
    );
    assert!(
        build.contains("plugin-index/release.sh check-version"),
        "{build}"
    );
    assert!(
        build.contains("statically linked"),
        "linux binaries are checked static"
    );
    let publish = runs("publish");
    for step in [
        "plugin-index/release.sh platforms",
        "plugin-index/release.sh pack",
        "plugin-index/release.sh manifest",
        "gh release",
    ] {
        assert!(
            publish.contains(step),
            "publish must run `{step}`:\n{publish}"
        );
    }
    assert_eq!(
        w["jobs"]["publish"]["needs"], "build",
        "publishes only when every platform built and printed the tag"
    );
}

#[test]
fn ci_runs_ci_run_on_every_push() {
    let w = workflow(".github/workflows/ci.yml");
    assert!(w["on"].get("push").is_some(), "runs on pushes: {}", w["on"]);
    assert!(w["on"]["push"]["branches"].is_null(), "on every branch");
    let runs: Vec<String> = w["jobs"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(_, j)| j["steps"].as_array().cloned().unwrap_or_default())
        .filter_map(|s| s["run"].as_str().map(str::to_string))
        .collect();
    assert!(runs.iter().any(|r| r.trim() == ".ci/run"), "{runs:?}");
}

/// README, Install: the platforms published and how to install them;
/// docs/releasing.md: how a release is cut (tag, workflow, index update);
/// the CHANGELOG holds a release entry template.
#[test]
fn the_docs_say_what_is_published_and_how_a_release_is_cut() {
    let readme = text("README.md");
    let install = readme
        .split("\n## Install\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap_or_else(|| panic!("README has no Install section"));
    for (os, arch) in PUBLISHED {
        assert!(
            install.contains(&format!("{os}/{arch}")),
            "{os}/{arch} is not named"
        );
    }
    for needed in ["--manifest-url=", "static (musl)", "docs/releasing.md"] {
        assert!(
            install.contains(needed),
            "the README's Install section must say `{needed}`"
        );
    }
    let releasing = text("docs/releasing.md");
    for needed in [
        "git tag v",
        ".github/workflows/release.yml",
        "plugin-index/release.sh manifest",
        "plugins/konduktor.yaml",
        "konduktor.template.yaml",
    ] {
        assert!(
            releasing.contains(needed),
            "docs/releasing.md must say `{needed}`"
        );
    }
    let version = format!("/download/v{}/", env!("CARGO_PKG_VERSION"));
    for doc in [install, releasing.as_str()] {
        for (i, _) in doc.match_indices("/download/") {
            assert!(
                doc[i..].starts_with(&version),
                "release URLs name the current version ({version})"
            );
        }
    }
    for line in install
        .lines()
        .chain(releasing.lines())
        .filter(|l| l.starts_with("plugin-index/release.sh "))
    {
        let sub = line.split_whitespace().nth(1).unwrap_or_default();
        assert!(
            ["platforms", "pack", "check-version", "manifest"].contains(&sub),
            "`{line}`: release.sh has no `{sub}`"
        );
    }

    let changelog = text("CHANGELOG.md");
    assert!(
        changelog.contains("## [X.Y.Z] - YYYY-MM-DD")
            && changelog.contains("vX.Y.Z/konduktor.yaml"),
        "CHANGELOG.md has a release entry template"
    );
}
