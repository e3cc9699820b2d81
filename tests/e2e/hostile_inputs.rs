//! What others can plant in the cluster: the tool's work on it stays
//! bounded, and nothing it cannot use is written into a workload.

use crate::support::{TestEnv, entry, secret_object};

#[test]
fn diff_against_a_planted_zip_bomb_compares_by_bytes() {
    let env = TestEnv::new();
    let bomb = crate::support::zip_bomb::zip_bomb("creds", 100);
    assert!(bomb.len() < 1 << 20);
    env.seed(
        secret_object("creds")
            .kind("default")
            .value("payload.zip", &bomb),
    );
    env.file("creds/a.txt", "a");
    let manifest = env.manifest(&[entry("creds").directory("creds")]);
    // Changes found.
    let run = env.diff_with(&manifest, &["-o", "json"]);
    run.exits(1);
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
