//! docs/manifest.md, run as written: the first `diff` and `apply` of the
//! manifest it shows, saved plans, several clusters, where a change came
//! from, and `export`.

use serde_json::Value;

use super::{DocScript, Shell, TwoClusters, assert_printed, assert_shows, read, text_block_after};
use crate::support::{OWNER, TestEnv, entry, mine};

const DOC: &str = "docs/manifest.md";

#[test]
fn the_manifest_doc_runs_as_written() {
    if TestEnv::new().is_real() {
        return;
    }
    let mut doc = DocScript::new(DOC);
    the_first_diff_and_apply(&mut doc);
    saved_plans(&mut doc);
    several_clusters(&mut doc);
    where_a_change_came_from(&mut doc);
    export(&mut doc);
    doc.finish();
}

/// The first yaml block of the document: the manifest everything starts from.
fn first_manifest() -> String {
    read(DOC)
        .split("```yaml\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap_or_else(|| panic!("{DOC}: no yaml block"))
        .to_string()
}

/// The manifest at the top, with the files it names, against a cluster
/// that already holds `creds` (another `a.txt`, and a key `EXTRA` only
/// there), `config` as the files are, and `old-token`.
fn the_first_diff_and_apply(doc: &mut DocScript) {
    let env = TestEnv::new();
    env.file("secrets.yaml", first_manifest());
    env.home_file(".ssh/id_ed25519", env.canary("ssh-key"));
    let a_txt = env.file("creds/a.txt", env.canary("creds-before"));
    let a_json = env.file_arg("a.json", env.canary("a-json"));
    let b_txt = env.file_arg("b.txt", env.canary("b-txt"));
    env.run(&[
        "secret",
        "create",
        "config",
        "--from-file",
        &a_json,
        "--from-file",
        &b_txt,
    ])
    .success();
    env.run(&["secret", "create", "creds", "--from-directory", "creds"])
        .success();
    env.create("creds", &[("EXTRA", &env.canary("extra"))])
        .success();
    env.create("old-token", &[("TOKEN", &env.canary("old-token"))])
        .success();
    std::fs::write(&a_txt, env.canary("creds-after")).unwrap_or_else(|e| panic!("{e}"));

    let shell = Shell::new(&env);
    let diff = doc.next("HF_TOKEN=... kubectl konduktor diff -f secrets.yaml");
    let run = shell.run(&diff, 1);
    assert_shows(&diff, &run, &[]);
    // It deletes `old-token`: asked on a terminal.
    let apply = doc.next("HF_TOKEN=... kubectl konduktor apply -f secrets.yaml");
    shell.on_terminal(&apply, "yes\n", 0);
    let names = env.secret_names();
    for name in ["hf", "github", "creds", "config"] {
        assert!(names.contains(&mine(name)), "{name}: {names:?}");
    }
    assert!(!names.contains(&mine("old-token")), "{names:?}");
    assert_eq!(env.my_data("hf")["HF_TOKEN"], b"...");
}

/// The resourceVersion of `secret` (an object as read back), or "".
fn resource_version(secret: Option<Value>) -> String {
    secret.unwrap_or_default()["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// `hf` (env, one key `TOKEN`) and `old`, to be deleted.
fn hf_and_old(env: &TestEnv, token: &str) {
    env.manifest(&[
        entry("hf").kind("env").inline(&[("TOKEN", token)]),
        entry("old").absent(),
    ]);
}

/// A fresh `plan.json` of `hf_and_old` with `old` back in the cluster.
fn plan_again(env: &TestEnv, token: &str) {
    env.create("old", &[("K", &env.canary("old"))]).success();
    hf_and_old(env, token);
    let _ = std::fs::remove_file(env.path("plan.json"));
    env.diff_with("secrets.yaml", &["--out", "plan.json"])
        .exits(1);
}

fn saved_plans(doc: &mut DocScript) {
    let env = TestEnv::new();
    let shell = Shell::new(&env);
    env.create("old", &[("K", &env.canary("old"))]).success();
    hf_and_old(&env, &env.canary("token-1"));
    shell.run(
        &doc.next("kubectl konduktor diff -f secrets.yaml --out plan.json"),
        1,
    );
    // The reviewed deletion of `old` is carried out without a question.
    shell.run(
        &doc.next("kubectl konduktor apply -f secrets.yaml --plan plan.json"),
        0,
    );
    assert!(env.my_secret("old").is_none());

    plan_again(&env, &env.canary("token-2"));
    shell.run(
        &doc.next(
            "KONDUKTOR_DIGEST_KEY=\"$(cat ~/.konduktor/digest-key)\" kubectl konduktor apply -f secrets.yaml --plan plan.json",
        ),
        0,
    );
    assert!(env.my_secret("old").is_none());

    // Without the key it was made with: another machine's HOME.
    plan_again(&env, &env.canary("token-3"));
    let plan: Value = serde_json::from_slice(
        &std::fs::read(env.path("plan.json")).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let key_id = plan["keyId"].as_str().unwrap_or_default().to_string();
    assert_eq!(key_id.len(), 8, "{plan}");
    let elsewhere = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let no_key = doc.next("kubectl konduktor apply -f secrets.yaml --plan plan.json");
    let run = Shell::new(&env)
        .var("HOME", elsewhere.path())
        .run(&no_key, 1);
    assert_shows(&no_key, &run, &[(&key_id, "5d0f2a91")]);

    // Out of date: `hf`'s value changed in the sources, `old` in the cluster.
    hf_and_old(&env, &env.canary("token-4"));
    let old = mine("old");
    let before = resource_version(env.secret(&old));
    if let Some(server) = env.fake() {
        server.touch_secret(&env.namespace, &old);
    }
    let after = resource_version(env.secret(&old));
    let moved = doc.next("kubectl konduktor apply -f secrets.yaml --plan plan.json");
    let run = shell.run(&moved, 1);
    let versions = format!("resourceVersion {before} -> {after}");
    assert_shows(&moved, &run, &[(&versions, "resourceVersion 7 -> 9")]);
    assert!(env.secret(&old).is_some(), "nothing was changed");
}

fn several_clusters(doc: &mut DocScript) {
    let Some(two) = TwoClusters::new() else {
        return;
    };
    let env = &two.env;
    let hf = |token: &str| env.manifest(&[entry("hf").kind("env").inline(&[("HF_TOKEN", token)])]);
    // On `train` already; `infer` is new.
    hf(&env.canary("token-1"));
    two.cmd(&["apply", "-f", "secrets.yaml", "--context", "train"])
        .run()
        .success();

    let shell = two.shell();
    shell
        .run(
            &doc.next("kubectl konduktor whoami --context train --context infer"),
            0,
        )
        .stdout_has(OWNER);
    let diff = shell.run(
        &doc.next("kubectl konduktor diff -f secrets.yaml --context train,infer"),
        1,
    );
    let train = env.fake().map(|s| s.url()).unwrap_or_default();
    let infer = two.infer.url();
    let as_shown = [
        (train.as_str(), "https://train.example:6443"),
        (infer.as_str(), "https://infer.example:6443"),
        (env.namespace.as_str(), "team"),
    ];
    assert_printed(
        &format!("{DOC}: the plan over two clusters"),
        &text_block_after(DOC, "The plan reads, for a token already on `train`"),
        &diff.stdout,
        &as_shown,
    );
    shell.run(
        &doc.next("kubectl konduktor diff -f secrets.yaml --context train,infer --out plan.json"),
        1,
    );
    shell.run(
        &doc.next("kubectl konduktor apply -f secrets.yaml --context train,infer --plan plan.json"),
        0,
    );

    // A rotation reviewed; then `hf` changes on `infer` before the apply.
    hf(&env.canary("token-2"));
    let _ = std::fs::remove_file(env.path("plan.json"));
    two.cmd(&["diff", "-f", "secrets.yaml", "--context", "train,infer"])
        .args(&["--out", "plan.json"])
        .run()
        .exits(1);
    let name = mine("hf");
    let before = resource_version(two.infer.secret(&env.namespace, &name));
    two.infer.touch_secret(&env.namespace, &name);
    let after = resource_version(two.infer.secret(&env.namespace, &name));
    let moved =
        doc.next("kubectl konduktor apply -f secrets.yaml --context train,infer --plan plan.json");
    let run = shell.run(&moved, 1);
    let versions = format!("resourceVersion {before} -> {after}");
    assert_shows(&moved, &run, &[(&versions, "resourceVersion 7 -> 9")]);
}

/// `TOKEN` changed in the manifest, `WANDB_MODE` by another writer.
fn where_a_change_came_from(doc: &mut DocScript) {
    let env = TestEnv::new();
    let manifest = |token: &str| {
        env.manifest(&[entry("hf")
            .kind("env")
            .inline(&[("TOKEN", token), ("WANDB_MODE", "online")])])
    };
    env.apply(&manifest(&env.canary("token-1"))).success();
    manifest(&env.canary("token-2"));
    // Someone's `kubectl edit`: the value changes, the record stays.
    let mut live = env.my_secret("hf").unwrap_or_default();
    live["data"]["WANDB_MODE"] = Value::String("b2ZmbGluZQ==".to_string());
    env.replace(live);
    let diff = doc.next("kubectl konduktor diff -f secrets.yaml");
    let run = Shell::new(&env).run(&diff, 1);
    assert_shows(&diff, &run, &[]);
}

/// From the secrets of the README's walk-through to a manifest that
/// reproduces them.
fn export(doc: &mut DocScript) {
    let env = TestEnv::new();
    let settings = env.file_arg("settings.txt", env.canary("settings"));
    env.create_file("settings", &settings).success();
    env.create_env("wandb", &[("WANDB_API_KEY", &env.canary("wandb"))])
        .success();
    let shell = Shell::new(&env);
    shell
        .run(&doc.next("kubectl konduktor export"), 0)
        .stdout_has(&format!("owner: {OWNER}"))
        .stdout_has("name: \"settings\"");
    shell.run(
        &doc.next("kubectl konduktor export --values-dir ./values --out secrets.yaml"),
        0,
    );
    shell
        .run(&doc.next("kubectl konduktor diff -f secrets.yaml"), 0)
        .stdout_has("unchanged");
}
