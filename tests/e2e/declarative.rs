//! `diff` and `apply` with secrets.yaml (docs/konduktor-compat.md §5): plans, exit codes, one
//! LIST per plan, conditional writes, confirmations, convergence, and
//! interoperation with secrets Konduktor's own CLI wrote.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use crate::support::{Fault, FaultRule, OTHER_OWNER, OWNER, Run, TestEnv, fixtures};

const HEAD: &str = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n";

fn manifest(env: &TestEnv, body: &str) -> PathBuf {
    env.file("secrets.yaml", format!("{HEAD}{body}"))
}

fn requests(env: &TestEnv) -> Option<Vec<(String, String)>> {
    env.fake().map(|s| {
        s.requests()
            .into_iter()
            .map(|r| (r.method, r.path))
            .collect()
    })
}

fn clear(env: &TestEnv) {
    if let Some(s) = env.fake() {
        s.clear_requests();
    }
}

/// Reads only: the LIST with the owner selector first; then, when none of
/// the caller's secrets were found, who we are and a metadata-only list
/// (looking for the caller's other owner hashes, docs/konduktor-compat.md §2.4).
fn assert_reads_only(env: &TestEnv) {
    if let Some(server) = env.fake() {
        let reqs = server.requests();
        assert_eq!(
            reqs[0].label_selector().as_deref(),
            Some(format!("trainy.ai/secret-owner={OWNER}").as_str())
        );
        for r in &reqs[1..] {
            let lookup = (r.method == "POST" && r.path.ends_with("/selfsubjectreviews"))
                || (r.method == "GET"
                    && r.accept
                        .as_deref()
                        .is_some_and(|a| a.contains("PartialObjectMetadataList")));
            assert!(lookup, "{reqs:#?}");
        }
    }
}

/// Exactly one request, the LIST with the owner selector.
fn assert_only_the_list(env: &TestEnv) {
    if let Some(server) = env.fake() {
        let reqs = server.requests();
        assert_eq!(reqs.len(), 1, "{reqs:#?}");
        assert_eq!(reqs[0].method, "GET");
        assert_eq!(
            reqs[0].label_selector().as_deref(),
            Some(format!("trainy.ai/secret-owner={OWNER}").as_str())
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{e}"));
    for entry in std::fs::read_dir(from)
        .unwrap_or_else(|e| panic!("{e}"))
        .flatten()
    {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

fn with_env(env: &TestEnv, vars: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = env.command();
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.arg("-n").arg(&env.namespace).args(args);
    env.run_command(cmd)
}

#[test]
fn example_manifest_creates_then_converges() {
    let env = TestEnv::new();
    let examples = env.dir.path().join("examples");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"),
        &examples,
    );
    let file = examples.join("secrets.yaml");
    let file = file.to_str().unwrap_or_default();
    let token = env.canary("hf");
    let vars = [("HF_TOKEN", token.as_str())];

    let diff = with_env(&env, &vars, &["diff", "-f", file]);
    assert_eq!(diff.code, Some(1), "{diff:?}");
    diff.stdout_has("+ hf (env): create hf-abba3a3e")
        .stdout_has("    + HF_TOKEN")
        .stdout_has("    + WANDB_MODE")
        .stdout_has("+ cloud-creds (default)")
        .stdout_has("        + creds/config.toml")
        .stdout_has("Plan: 4 to create, 0 to merge, 0 to delete, 1 unchanged.");
    assert_reads_only(&env);

    with_env(&env, &vars, &["apply", "-f", file])
        .success()
        .stdout_has("Apply complete: 4 done.");
    assert_eq!(
        env.data(&format!("hf-{OWNER}"))["HF_TOKEN"],
        token.as_bytes()
    );
    assert_eq!(
        env.data(&format!("github-{OWNER}"))
            .keys()
            .collect::<Vec<_>>(),
        ["gitkey"]
    );
    assert_eq!(
        env.data(&format!("config-{OWNER}"))
            .keys()
            .collect::<Vec<_>>(),
        ["config.json", "settings.txt"]
    );

    clear(&env);
    with_env(&env, &vars, &["apply", "-f", file])
        .success()
        .stdout_has("No changes");
    assert_only_the_list(&env);
    let again = with_env(&env, &vars, &["diff", "-f", file]);
    assert_eq!(again.code, Some(0), "{again:?}");
    again.stdout_has("Plan: 0 to create, 0 to merge, 0 to delete, 5 unchanged.");

    // An unset fromEnv variable is an error at its line, before any request.
    clear(&env);
    let mut cmd = env.command();
    cmd.env_remove("HF_TOKEN")
        .args(["-n", &env.namespace, "diff", "-f", file]);
    let run = env.run_command(cmd);
    assert_eq!(run.code, Some(2));
    run.stderr_has("secrets.yaml:11:")
        .stderr_has("`HF_TOKEN` is not set");
    assert_eq!(requests(&env), env.fake().map(|_| vec![]));
}

#[test]
fn merges_keep_keys_konduktor_wrote() {
    let env = TestEnv::new();
    env.seed_fixture(&format!("my-env-{OWNER}"));
    let file = manifest(
        &env,
        "  - name: my-env\n    kind: env\n    inline: {FOO: bar}\n",
    );
    let same = env.run(&["diff", "-f", file.to_str().unwrap_or_default()]);
    assert_eq!(same.code, Some(0), "{same:?}");
    same.stdout_has("my-env (env): unchanged");

    let new = env.canary("new");
    let file = manifest(
        &env,
        &format!("  - name: my-env\n    kind: env\n    inline: {{FOO: changed, NEW: {new}}}\n"),
    );
    let diff = env.run(&["diff", "-f", file.to_str().unwrap_or_default()]);
    assert_eq!(diff.code, Some(1));
    diff.stdout_has("~ my-env (env): merge into my-env-abba3a3e")
        .stdout_has("    ~ FOO")
        .stdout_has("    + NEW")
        .stdout_has("      BAZ (kept: not in the manifest)")
        .stdout_has("Plan: 0 to create, 1 to merge, 0 to delete, 0 unchanged.");
    env.run(&["apply", "-f", file.to_str().unwrap_or_default()])
        .success();
    let data = env.data(&format!("my-env-{OWNER}"));
    assert_eq!(data.keys().collect::<Vec<_>>(), ["BAZ", "FOO", "NEW"]);
    assert_eq!(data["BAZ"], b"qux", "Konduktor's extra key survives");
    if let Some(server) = env.fake() {
        let body = server.first_body("PATCH");
        assert!(body["metadata"]["resourceVersion"].is_string(), "{body}");
        assert!(body["data"].get("BAZ").is_none(), "kept keys are not sent");
    }
}

#[test]
fn konduktor_made_secrets_plan_as_unchanged() {
    let env = TestEnv::new();
    env.seed_konduktor_made();
    // The same sources Konduktor used; a.txt was 0600 there (git drops it).
    let src = env.dir.path().join("source");
    copy_dir(&fixtures().join("konduktor-made/source"), &src);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for (rel, mode) in [
            ("mycreds/a.txt", 0o600),
            ("mycreds/.hidden", 0o644),
            ("mycreds/sub/b.json", 0o644),
            ("mycreds/sub/deeper/c", 0o644),
        ] {
            std::fs::set_permissions(src.join(rel), std::fs::Permissions::from_mode(mode))
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let file = manifest(
        &env,
        "  - name: my-default-file\n    fromFile: source/secret-file.txt\n  - name: my-default-directory\n    fromDirectory: source/mycreds\n  - name: my-default-inline\n    inline: {FOO: bar}\n  - name: my-env\n    kind: env\n    inline: {FOO: bar, BAZ: qux}\n  - name: my-ssh-2\n    kind: git-ssh\n    fromFile: source/id_test\n",
    );
    let run = env.run(&["diff", "-f", file.to_str().unwrap_or_default()]);
    assert_eq!(run.code, Some(0), "{run:?}");
    run.stdout_has("Plan: 0 to create, 0 to merge, 0 to delete, 5 unchanged.");
    clear(&env);
    env.run(&["apply", "-f", file.to_str().unwrap_or_default()])
        .success()
        .stdout_has("No changes");
    assert_only_the_list(&env);
}

#[test]
fn deletions_need_yes_without_a_terminal() {
    let env = TestEnv::new();
    let v = env.canary("old");
    env.run(&[
        "secret",
        "create",
        "--inline",
        &format!("K={v}"),
        "old-token",
    ])
    .success();
    env.run(&[
        "secret", "create", "--inline", "A=1", "--inline", "B=2", "keep-me",
    ])
    .success();
    let file = manifest(
        &env,
        "  - name: old-token\n    state: absent\n  - name: keep-me\n    inline: {A: \"1\"}\n",
    );
    let path = file.to_str().unwrap_or_default();
    let diff = env.run(&["diff", "-f", path]);
    assert_eq!(diff.code, Some(1));
    diff.stdout_has("- old-token (default): delete old-token-abba3a3e (state: absent)")
        .stdout_has("    - K")
        .stdout_has("keep-me (default): unchanged");
    clear(&env);
    env.run(&["apply", "-f", path])
        .failure()
        .stderr_has("no terminal to confirm")
        .stderr_has("--yes");
    assert!(
        env.secret(&format!("old-token-{OWNER}")).is_some(),
        "refused before changing anything"
    );
    assert_only_the_list(&env);
    env.run(&["apply", "-f", path, "--yes"])
        .success()
        .stdout_has("secret \"old-token\" deleted");
    assert!(env.secret(&format!("old-token-{OWNER}")).is_none());
    if let Some(server) = env.fake() {
        let body = server.first_body("DELETE");
        assert!(
            body["preconditions"]["uid"].is_string()
                && body["preconditions"]["resourceVersion"].is_string(),
            "{body}"
        );
    }
}

#[test]
fn prune_removes_unlisted_secrets_and_keys() {
    let env = TestEnv::new();
    let v = env.canary("prune");
    env.run(&[
        "secret",
        "create",
        "--kind",
        "env",
        "--inline",
        "A=1",
        "--inline",
        &format!("EXTRA={v}"),
        "listed",
    ])
    .success();
    env.run(&[
        "secret",
        "create",
        "--inline",
        &format!("K={v}"),
        "unlisted",
    ])
    .success();
    env.run_as(
        OTHER_OWNER,
        &["secret", "create", "--inline", &format!("K={v}"), "theirs"],
    )
    .success();
    let file = manifest(
        &env,
        "  - name: listed\n    kind: env\n    inline: {A: \"1\"}\n",
    );
    let path = file.to_str().unwrap_or_default();
    let plain = env.run(&["diff", "-f", path]);
    assert_eq!(
        plain.code,
        Some(0),
        "without --prune nothing changes: {plain:?}"
    );
    plain.stdout_has("Not in the manifest, kept (--prune deletes them): unlisted");
    let pruned = env.run(&["diff", "-f", path, "--prune"]);
    assert_eq!(pruned.code, Some(1));
    pruned.stdout_has("    - EXTRA").stdout_has(
        "- unlisted (default): delete unlisted-abba3a3e (not in the manifest, --prune)",
    );
    env.run(&["apply", "-f", path, "--prune", "--yes"])
        .success();
    assert_eq!(
        env.data(&format!("listed-{OWNER}"))
            .keys()
            .collect::<Vec<_>>(),
        ["A"]
    );
    assert!(env.secret(&format!("unlisted-{OWNER}")).is_none());
    assert!(
        env.secret(&format!("theirs-{OTHER_OWNER}")).is_some(),
        "never another owner's"
    );
    assert!(env.secret("bystander-feedbeef").is_some());
    let after = env.run(&["diff", "-f", path, "--prune"]);
    assert_eq!(
        after.code,
        Some(0),
        "the cluster now matches exactly: {after:?}"
    );
}

#[test]
fn a_new_git_ssh_secret_replaces_the_old_one() {
    let env = TestEnv::new();
    let key = env.canary("key");
    env.file("id_old", &key);
    env.file("id_new", format!("{key}-new"));
    env.run(&[
        "secret",
        "create",
        "--kind",
        "git-ssh",
        "--from-file",
        "id_old",
        "old-key",
    ])
    .success();
    let file = manifest(
        &env,
        "  - name: new-key\n    kind: git-ssh\n    fromFile: id_new\n",
    );
    let path = file.to_str().unwrap_or_default();
    env.run(&["diff", "-f", path]).stdout_has(
        "- old-key (git-ssh): delete old-key-abba3a3e (replaced by git-ssh secret \"new-key\")",
    );
    env.run(&["apply", "-f", path])
        .failure()
        .stderr_has("--yes");
    env.run(&["apply", "-f", path, "-y"]).success();
    assert!(env.secret(&format!("old-key-{OWNER}")).is_none());
    assert!(env.secret(&format!("new-key-{OWNER}")).is_some());
}

#[test]
fn a_foreign_secret_with_our_name_is_a_conflict_and_apply_refuses() {
    let env = TestEnv::new();
    let theirs = env.canary("theirs");
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &theirs);
    env.seed(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": format!("taken-{OWNER}")}, "data": {"A": b64}}));
    let before = env.secret(&format!("taken-{OWNER}"));
    let file = manifest(
        &env,
        "  - name: taken\n    inline: {A: mine}\n  - name: fine\n    inline: {B: ok}\n",
    );
    let path = file.to_str().unwrap_or_default();
    // The one LIST is by owner label, so the foreign object shows up when
    // apply tries to create it: that secret fails, the others go through.
    let run = env.run(&["apply", "-f", path]);
    run.failure()
        .stdout_has("secret \"taken\" NOT created: conflict")
        .stdout_has("secret \"fine\" created");
    assert_eq!(
        env.secret(&format!("taken-{OWNER}")),
        before,
        "never touched"
    );
}

#[test]
fn a_secret_changed_meanwhile_fails_alone_and_rerun_converges() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let v = env.canary("race");
    env.run(&[
        "secret",
        "create",
        "--kind",
        "env",
        "--inline",
        &format!("A={v}"),
        "racy",
    ])
    .success();
    let file = manifest(
        &env,
        "  - name: racy\n    kind: env\n    inline: {A: new, B: b}\n  - name: calm\n    inline: {C: c}\n",
    );
    let path = file.to_str().unwrap_or_default().to_string();
    server.inject(
        FaultRule::new(Fault::Delay(Duration::from_millis(800)))
            .on("PATCH")
            .times(1),
    );
    let mut cmd = env.command();
    cmd.args(["-n", &env.namespace, "apply", "-f", &path]);
    let handle = std::thread::spawn(move || cmd.output());
    std::thread::sleep(Duration::from_millis(400));
    server.touch_secret(&env.namespace, &format!("racy-{OWNER}"));
    let out = handle
        .join()
        .unwrap_or_else(|_| panic!("thread"))
        .unwrap_or_else(|e| panic!("{e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    env.assert_no_leak(&stdout);
    env.assert_no_leak(&String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("secret \"racy\" NOT merged") && stdout.contains("run apply again"),
        "{stdout}"
    );
    assert!(stdout.contains("secret \"calm\" created"), "{stdout}");
    assert!(
        stdout.contains("Apply incomplete: 1 done, 1 failed"),
        "{stdout}"
    );
    assert_eq!(
        env.data(&format!("racy-{OWNER}"))["A"],
        v.as_bytes(),
        "not overwritten"
    );
    env.run(&["apply", "-f", &path]).success();
    env.run(&["apply", "-f", &path])
        .success()
        .stdout_has("No changes");
}

#[test]
fn a_failure_part_way_reports_what_was_done_and_rerun_converges() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let file = manifest(
        &env,
        "  - name: one\n    inline: {A: a}\n  - name: two\n    inline: {B: b}\n",
    );
    let path = file.to_str().unwrap_or_default();
    server.inject(
        FaultRule::new(Fault::Status(500))
            .on("POST")
            .path("/secrets")
            .times(1),
    );
    let run = env.run(&["apply", "-f", path]);
    run.failure()
        .stdout_has("1 done, 1 failed")
        .stdout_has("NOT created")
        .stdout_has("Run apply again");
    env.run(&["apply", "-f", path])
        .success()
        .stdout_has("Apply complete: 1 done.");
    assert!(
        env.secret(&format!("one-{OWNER}")).is_some()
            && env.secret(&format!("two-{OWNER}")).is_some()
    );
}

#[test]
fn dry_run_changes_nothing() {
    let env = TestEnv::new();
    let v = env.canary("dry");
    let file = manifest(
        &env,
        &format!("  - name: dry\n    kind: env\n    inline: {{T: {v}}}\n"),
    );
    clear(&env);
    env.run(&[
        "apply",
        "-f",
        file.to_str().unwrap_or_default(),
        "--dry-run",
    ])
    .success()
    .stdout_has("Dry run: nothing was changed.");
    assert!(env.secret(&format!("dry-{OWNER}")).is_none());
    assert_only_the_list(&env);
}

#[test]
fn json_output_has_the_plan_and_results_without_values() {
    let env = TestEnv::new();
    let v = env.canary("json");
    let file = manifest(
        &env,
        &format!("  - name: j\n    kind: env\n    inline: {{T: {v}}}\n"),
    );
    let path = file.to_str().unwrap_or_default();
    let diff = env.run(&["diff", "-f", path, "-o", "json"]);
    assert_eq!(diff.code, Some(1));
    let plan = diff.json();
    assert_eq!(plan["secrets"][0]["action"], "create");
    assert_eq!(
        plan["secrets"][0]["keys"][0],
        json!({"key": "T", "change": "added"})
    );
    assert_eq!(plan["summary"]["create"], 1);
    let applied = env.run(&["apply", "-f", path, "-o", "json"]);
    applied.success();
    let report = applied.json();
    assert_eq!(
        report["result"][0],
        json!({"name": "j", "secretName": format!("j-{OWNER}"), "action": "create", "status": "done"})
    );
}

#[test]
fn show_secrets_prints_text_diffs_only_when_asked() {
    let env = TestEnv::new();
    // Not a canary: this test is about showing values on request.
    env.run(&["secret", "create", "--inline", "cfg=line1-old", "shown"])
        .success();
    let file = manifest(&env, "  - name: shown\n    inline: {cfg: line1-new}\n");
    let path = file.to_str().unwrap_or_default();
    let hidden = env.run(&["diff", "-f", path]);
    assert!(!hidden.stdout.contains("line1-"), "{}", hidden.stdout);
    let shown = env.run(&["diff", "-f", path, "--show-secrets"]);
    shown
        .stdout_has("-line1-old")
        .stdout_has("+line1-new")
        .stdout_has("--- cluster");
    // Binary values say only that they changed.
    env.file("blob.bin", [0u8, 159, 146, 150]);
    env.run(&["secret", "create", "--from-file", "blob.bin", "bin"])
        .success();
    env.file("new/blob.bin", [0u8, 1, 2]);
    let file = manifest(&env, "  - name: bin\n    fromFile: new/blob.bin\n");
    env.run(&[
        "diff",
        "-f",
        file.to_str().unwrap_or_default(),
        "--show-secrets",
    ])
    .stdout_has("(binary value: 4 bytes -> 3 bytes)");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let env = TestEnv::new();
    let file = manifest(&env, "  - name: c\n    inline: {A: a}\n");
    let path = file.to_str().unwrap_or_default();
    let plain = env.run(&["diff", "-f", path]);
    assert!(!plain.stdout.contains('\u{1b}'), "no colour off a terminal");
    let always = env.run(&["diff", "-f", path, "--color", "always"]);
    assert!(always.stdout.contains("\u{1b}["), "{:?}", always.stdout);
    let never = env.run(&["diff", "-f", path, "--color", "never"]);
    assert!(!never.stdout.contains('\u{1b}'));
}

#[test]
fn errors_exit_above_one_for_diff() {
    let env = TestEnv::new();
    let run = env.run(&["diff", "-f", "does-not-exist.yaml"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    run.stderr_has("does-not-exist.yaml");
}

#[test]
fn a_merge_past_one_mebibyte_is_refused_before_sending() {
    let env = TestEnv::new();
    env.file("half1.bin", vec![1u8; 600_000]);
    env.file("half2.bin", vec![2u8; 600_000]);
    env.run(&["secret", "create", "--from-file", "half1.bin", "big"])
        .success();
    let file = manifest(&env, "  - name: big\n    fromFile: half2.bin\n");
    clear(&env);
    let run = env.run(&["apply", "-f", file.to_str().unwrap_or_default()]);
    run.failure()
        .stderr_has("would hold 1200000 bytes")
        .stderr_has("--prune");
    assert_only_the_list(&env);
    assert_eq!(
        env.run(&["diff", "-f", file.to_str().unwrap_or_default()])
            .code,
        Some(2)
    );
    // With --prune the old key goes and it fits.
    env.run(&[
        "apply",
        "-f",
        file.to_str().unwrap_or_default(),
        "--prune",
        "--yes",
    ])
    .success();
    assert_eq!(
        env.data(&format!("big-{OWNER}")).keys().collect::<Vec<_>>(),
        ["half2.bin"]
    );
}
