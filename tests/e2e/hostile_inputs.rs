//! What others can plant in the cluster: the tool's work on it stays
//! bounded, and nothing it cannot use is written into a workload.

use base64::Engine;
use serde_json::{Value, json};

use crate::support::{OWNER, TestEnv};

const HEAD: &str = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn labels(name: &str, kind: &str) -> Value {
    json!({"parent": "konduktor", "trainy.ai/secret-owner": OWNER,
        "trainy.ai/secret-basename": name, "trainy.ai/secret-kind": kind})
}

#[test]
fn diff_against_a_planted_zip_bomb_compares_by_bytes() {
    let env = TestEnv::new();
    let bomb = crate::support::zip_bomb::zip_bomb("creds", 100);
    assert!(bomb.len() < 1 << 20);
    env.seed(
        json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": format!("creds-{OWNER}"), "labels": labels("creds", "default")},
        "data": {"payload.zip": b64(&bomb)}}),
    );
    env.file("creds/a.txt", "a");
    let manifest = env.file(
        "secrets.yaml",
        format!("{HEAD}  - name: creds\n    fromDirectory: creds\n"),
    );
    let run = env.run(&[
        "diff",
        "-f",
        manifest.to_str().unwrap_or_default(),
        "-o",
        "json",
    ]);
    assert_eq!(run.code, Some(1), "changes found: {}", run.stderr);
    let plan = run.json();
    let key = &plan["secrets"][0]["keys"][0];
    assert_eq!(key["key"], "payload.zip");
    assert_eq!(key["change"], "changed");
    assert_eq!(
        key["note"],
        "archive too large to compare by file; compared by bytes"
    );
    assert!(key.get("files").is_none(), "{key}");
}
