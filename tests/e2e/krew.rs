//! The krew manifest obeys the rules krew's own validator enforces
//! (sigs.k8s.io/krew pkg/index/validation) and the index's review rules:
//! supported apiVersion and kind, a safe name matching the file, a semver
//! `v` version, a one-line short description, platforms with valid sha256,
//! bin, files (with a LICENSE) and os/arch selectors that do not overlap.

use std::path::Path;

use serde_json::Value;

const API_VERSION: &str = "krew.googlecontainertools.github.com/v1alpha2";
const WINDOWS_FORBIDDEN: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

fn is_semver_v(v: &str) -> bool {
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
fn selects(selector: &Value, os: &str, arch: &str) -> bool {
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
fn problems(file_stem: &str, m: &Value) -> Vec<String> {
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
    }
    // Each supported os/arch is matched by exactly one platform.
    for os in ["linux", "darwin"] {
        for arch in ["amd64", "arm64"] {
            let n = platforms
                .iter()
                .filter(|p| selects(&p["selector"], os, arch))
                .count();
            check(
                n == 1,
                format!("{os}/{arch} is matched by {n} platforms; exactly one is needed"),
            );
        }
    }
    out
}

fn manifest() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("plugin-index/plugins/konduktor.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_manifest_is_valid_for_krew() {
    let m = manifest();
    assert_eq!(problems("konduktor", &m), Vec::<String>::new());
    assert_eq!(
        m["spec"]["version"],
        format!("v{}", env!("CARGO_PKG_VERSION")),
        "the manifest version follows Cargo.toml"
    );
}

#[test]
fn the_validator_catches_what_krew_rejects() {
    let good = manifest();
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
    assert!(is_semver_v("v1.2.3-rc.1+build") && !is_semver_v("v1.2") && !is_semver_v("v01.2.3"));
}
