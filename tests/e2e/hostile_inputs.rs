//! What others can plant in the cluster: the tool's work on it stays
//! bounded, and nothing it cannot use is written into a workload.

use std::io::Write;

use base64::Engine;
use serde_json::{Value, json};

use crate::support::{OWNER, TestEnv};

const HEAD: &str = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One entry of 1 MiB of zeros copied raw under `copies` names: about
/// 1 KiB each as stored, 1 MiB each inflated.
fn zip_bomb(copies: usize) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    w.start_file("creds/0", opts)
        .unwrap_or_else(|e| panic!("{e}"));
    w.write_all(&vec![0u8; 1 << 20])
        .unwrap_or_else(|e| panic!("{e}"));
    let one = w.finish().unwrap_or_else(|e| panic!("{e}"));
    let mut source = zip::ZipArchive::new(one).unwrap_or_else(|e| panic!("{e}"));
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..copies {
        let entry = source.by_index(0).unwrap_or_else(|e| panic!("{e}"));
        w.raw_copy_file_rename(entry, format!("creds/{i}"))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    w.finish().unwrap_or_else(|e| panic!("{e}")).into_inner()
}

fn labels(name: &str, kind: &str) -> Value {
    json!({"parent": "konduktor", "trainy.ai/secret-owner": OWNER,
        "trainy.ai/secret-basename": name, "trainy.ai/secret-kind": kind})
}

#[test]
fn diff_against_a_planted_zip_bomb_compares_by_bytes() {
    let env = TestEnv::new();
    let bomb = zip_bomb(100);
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
