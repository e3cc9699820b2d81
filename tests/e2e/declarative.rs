//! `diff` and `apply` with secrets.yaml (docs/konduktor-compat.md §5): plans, exit codes, one
//! LIST per plan, conditional writes, confirmations, convergence, and
//! interoperation with secrets Konduktor's own CLI wrote.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::support::requests::owner_selector;
use crate::support::{Fault, FaultRule, OTHER_OWNER, OWNER, TestEnv, b64, entry, fixtures, mine};

/// Reads only: the LIST with the owner selector first; then, when none of
/// the caller's secrets were found, who we are and a metadata-only list
/// (looking for the caller's other owner hashes, docs/konduktor-compat.md §2.4).
fn assert_reads_only(env: &TestEnv) {
    if let Some(server) = env.fake() {
        let reqs = server.requests();
        assert_eq!(reqs[0].label_selector(), Some(owner_selector(OWNER)));
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

#[test]
fn example_manifest_creates_then_converges() {
    let env = TestEnv::new();
    let examples = env.path("examples");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"),
        &examples,
    );
    let file = examples.join("secrets.yaml");
    let file = crate::support::arg(&file);
    let token = env.canary("hf");
    let with_token = |args: &[&str]| env.cmd(args).env("HF_TOKEN", &token).run();

    with_token(&["diff", "-f", file])
        .exits(1)
        .stdout_has("+ hf (env): create hf-abba3a3e")
        .stdout_has("    + HF_TOKEN")
        .stdout_has("    + WANDB_MODE")
        .stdout_has("+ cloud-creds (default)")
        .stdout_has("        + creds/config.toml")
        .stdout_has("Plan: 4 to create, 0 to merge, 0 to delete, 1 unchanged.");
    assert_reads_only(&env);

    with_token(&["apply", "-f", file])
        .success()
        .stdout_has("Apply complete: 4 done.");
    assert_eq!(env.my_data("hf")["HF_TOKEN"], token.as_bytes());
    assert_eq!(env.my_data("github").keys().collect::<Vec<_>>(), ["gitkey"]);
    assert_eq!(
        env.my_data("config").keys().collect::<Vec<_>>(),
        ["config.json", "settings.txt"]
    );

    env.clear_requests();
    with_token(&["apply", "-f", file])
        .success()
        .stdout_has("No changes");
    env.assert_only_the_owner_list();
    with_token(&["diff", "-f", file])
        .exits(0)
        .stdout_has("Plan: 0 to create, 0 to merge, 0 to delete, 5 unchanged.");

    // An unset fromEnv variable is an error at its line, before any request.
    env.clear_requests();
    env.cmd(&["diff", "-f", file])
        .env_remove("HF_TOKEN")
        .run()
        .exits(2)
        .stderr_has("secrets.yaml:11:")
        .stderr_has("`HF_TOKEN` is not set");
    env.assert_no_requests();
}

#[test]
fn merges_keep_keys_konduktor_wrote() {
    let env = TestEnv::new();
    env.seed_fixture(&mine("my-env"));
    let file = env.manifest(&[entry("my-env").kind("env").inline(&[("FOO", "bar")])]);
    env.diff(&file)
        .exits(0)
        .stdout_has("my-env (env): unchanged");

    let new = env.canary("new");
    let file = env.manifest(&[entry("my-env")
        .kind("env")
        .inline(&[("FOO", "changed"), ("NEW", &new)])]);
    env.diff(&file)
        .exits(1)
        .stdout_has("~ my-env (env): merge into my-env-abba3a3e")
        .stdout_has("    ~ FOO")
        .stdout_has("    + NEW")
        .stdout_has("      BAZ (kept: not in the manifest)")
        .stdout_has("Plan: 0 to create, 1 to merge, 0 to delete, 0 unchanged.");
    env.apply(&file).success();
    let data = env.my_data("my-env");
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
    let src = env.path("source");
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
    let file = env.manifest(&[
        entry("my-default-file").file("source/secret-file.txt"),
        entry("my-default-directory").directory("source/mycreds"),
        entry("my-default-inline").inline(&[("FOO", "bar")]),
        entry("my-env")
            .kind("env")
            .inline(&[("FOO", "bar"), ("BAZ", "qux")]),
        entry("my-ssh-2").kind("git-ssh").file("source/id_test"),
    ]);
    env.diff(&file)
        .exits(0)
        .stdout_has("Plan: 0 to create, 0 to merge, 0 to delete, 5 unchanged.");
    env.clear_requests();
    env.apply(&file).success().stdout_has("No changes");
    env.assert_only_the_owner_list();
}

#[test]
fn deletions_need_yes_without_a_terminal() {
    let env = TestEnv::new();
    let v = env.canary("old");
    env.create("old-token", &[("K", &v)]).success();
    env.create("keep-me", &[("A", "1"), ("B", "2")]).success();
    let file = env.manifest(&[
        entry("old-token").absent(),
        entry("keep-me").inline(&[("A", "1")]),
    ]);
    env.diff(&file)
        .exits(1)
        .stdout_has("- old-token (default): delete old-token-abba3a3e (state: absent)")
        .stdout_has("    - K")
        .stdout_has("keep-me (default): unchanged");
    env.clear_requests();
    env.apply(&file)
        .failure()
        .stderr_has("no terminal to confirm")
        .stderr_has("--yes");
    assert!(
        env.my_secret("old-token").is_some(),
        "refused before changing anything"
    );
    env.assert_only_the_owner_list();
    env.apply_with(&file, &["--yes"])
        .success()
        .stdout_has("secret \"old-token\" deleted");
    assert!(env.my_secret("old-token").is_none());
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
    env.create_env("listed", &[("A", "1"), ("EXTRA", &v)])
        .success();
    env.create("unlisted", &[("K", &v)]).success();
    env.as_owner(OTHER_OWNER)
        .create("theirs", &[("K", &v)])
        .success();
    let file = env.manifest(&[entry("listed").kind("env").inline(&[("A", "1")])]);
    // Without --prune nothing changes.
    env.diff(&file)
        .exits(0)
        .stdout_has("Not in the manifest, kept (--prune deletes them): unlisted");
    env.diff_with(&file, &["--prune"])
        .exits(1)
        .stdout_has("    - EXTRA")
        .stdout_has(
            "- unlisted (default): delete unlisted-abba3a3e (not in the manifest, --prune)",
        );
    env.apply_with(&file, &["--prune", "--yes"]).success();
    assert_eq!(env.my_data("listed").keys().collect::<Vec<_>>(), ["A"]);
    assert!(env.my_secret("unlisted").is_none());
    assert!(
        env.secret(&format!("theirs-{OTHER_OWNER}")).is_some(),
        "never another owner's"
    );
    assert!(env.secret("bystander-feedbeef").is_some());
    // The cluster now matches exactly.
    env.diff_with(&file, &["--prune"]).exits(0);
}

#[test]
fn a_new_git_ssh_secret_replaces_the_old_one() {
    let env = TestEnv::new();
    let key = env.canary("key");
    env.file("id_old", &key);
    env.file("id_new", format!("{key}-new"));
    env.create_git_ssh("old-key", "id_old").success();
    let file = env.manifest(&[entry("new-key").kind("git-ssh").file("id_new")]);
    env.diff(&file).stdout_has(
        "- old-key (git-ssh): delete old-key-abba3a3e (replaced by git-ssh secret \"new-key\")",
    );
    env.apply(&file).failure().stderr_has("--yes");
    env.apply_with(&file, &["-y"]).success();
    assert!(env.my_secret("old-key").is_none());
    assert!(env.my_secret("new-key").is_some());
}

#[test]
fn a_foreign_secret_with_our_name_is_a_conflict_and_apply_refuses() {
    let env = TestEnv::new();
    let theirs = env.canary("theirs");
    env.seed(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": mine("taken")}, "data": {"A": b64(&theirs)}}));
    let before = env.my_secret("taken");
    let file = env.manifest(&[
        entry("taken").inline(&[("A", "mine")]),
        entry("fine").inline(&[("B", "ok")]),
    ]);
    // The one LIST is by owner label, so the foreign object shows up when
    // apply tries to create it: that secret fails, the others go through.
    env.apply(&file)
        .failure()
        .stdout_has("secret \"taken\" NOT created: conflict")
        .stdout_has("secret \"fine\" created");
    assert_eq!(env.my_secret("taken"), before, "never touched");
}

#[test]
fn a_secret_changed_meanwhile_fails_alone_and_rerun_converges() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let v = env.canary("race");
    env.create_env("racy", &[("A", &v)]).success();
    let file = env.manifest(&[
        entry("racy")
            .kind("env")
            .inline(&[("A", "new"), ("B", "b")]),
        entry("calm").inline(&[("C", "c")]),
    ]);
    server.inject(
        FaultRule::new(Fault::Delay(Duration::from_millis(800)))
            .on("PATCH")
            .times(1),
    );
    let apply = env.cmd(&["apply", "-f", &file]).start();
    std::thread::sleep(Duration::from_millis(400));
    server.touch_secret(&env.namespace, &mine("racy"));
    apply
        .finish()
        .exits(1)
        .stdout_has("secret \"racy\" NOT merged")
        .stdout_has("run apply again")
        .stdout_has("secret \"calm\" created")
        .stdout_has("Apply incomplete: 1 done, 1 failed");
    assert_eq!(env.my_data("racy")["A"], v.as_bytes(), "not overwritten");
    env.apply(&file).success();
    env.apply(&file).success().stdout_has("No changes");
}

#[test]
fn a_failure_part_way_reports_what_was_done_and_rerun_converges() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let file = env.manifest(&[
        entry("one").inline(&[("A", "a")]),
        entry("two").inline(&[("B", "b")]),
    ]);
    server.inject(
        FaultRule::new(Fault::Status(500))
            .on("POST")
            .path("/secrets")
            .times(1),
    );
    env.apply(&file)
        .failure()
        .stdout_has("1 done, 1 failed")
        .stdout_has("NOT created")
        .stdout_has("Run apply again");
    env.apply(&file)
        .success()
        .stdout_has("Apply complete: 1 done.");
    assert!(env.my_secret("one").is_some() && env.my_secret("two").is_some());
}

#[test]
fn dry_run_changes_nothing() {
    let env = TestEnv::new();
    let v = env.canary("dry");
    let file = env.manifest(&[entry("dry").kind("env").inline(&[("T", &v)])]);
    env.clear_requests();
    env.apply_with(&file, &["--dry-run"])
        .success()
        .stdout_has("Dry run: nothing was changed.");
    assert!(env.my_secret("dry").is_none());
    env.assert_only_the_owner_list();
}

#[test]
fn json_output_has_the_plan_and_results_without_values() {
    let env = TestEnv::new();
    let v = env.canary("json");
    let file = env.manifest(&[entry("j").kind("env").inline(&[("T", &v)])]);
    let diff = env.diff_with(&file, &["-o", "json"]);
    diff.exits(1);
    let plan = diff.json();
    assert_eq!(plan["secrets"][0]["action"], "create");
    assert_eq!(
        plan["secrets"][0]["keys"][0],
        json!({"key": "T", "change": "added"})
    );
    assert_eq!(plan["summary"]["create"], 1);
    let applied = env.apply_with(&file, &["-o", "json"]);
    applied.success();
    assert_eq!(
        applied.json()["result"][0],
        json!({"name": "j", "secretName": mine("j"), "action": "create", "status": "done"})
    );
}

#[test]
fn show_secrets_prints_text_diffs_only_when_asked() {
    let env = TestEnv::new();
    // Not a canary: this test is about showing values on request.
    env.create("shown", &[("cfg", "line1-old")]).success();
    let file = env.manifest(&[entry("shown").inline(&[("cfg", "line1-new")])]);
    env.diff(&file).stdout_lacks("line1-");
    env.diff_with(&file, &["--show-secrets"])
        .stdout_has("-line1-old")
        .stdout_has("+line1-new")
        .stdout_has("--- cluster");
    // Binary values say only that they changed.
    env.file("blob.bin", [0u8, 159, 146, 150]);
    env.create_file("bin", "blob.bin").success();
    env.file("new/blob.bin", [0u8, 1, 2]);
    let file = env.manifest(&[entry("bin").file("new/blob.bin")]);
    env.diff_with(&file, &["--show-secrets"])
        .stdout_has("(binary value: 4 bytes -> 3 bytes)");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let env = TestEnv::new();
    let file = env.manifest(&[entry("c").inline(&[("A", "a")])]);
    // No colour off a terminal.
    env.diff(&file).stdout_lacks("\u{1b}");
    env.diff_with(&file, &["--color", "always"])
        .stdout_has("\u{1b}[");
    env.diff_with(&file, &["--color", "never"])
        .stdout_lacks("\u{1b}");
}

#[test]
fn errors_exit_above_one_for_diff() {
    let env = TestEnv::new();
    env.diff("does-not-exist.yaml")
        .exits(2)
        .stderr_has("does-not-exist.yaml");
}

#[test]
fn a_merge_past_one_mebibyte_is_refused_before_sending() {
    let env = TestEnv::new();
    env.file("half1.bin", vec![1u8; 600_000]);
    env.file("half2.bin", vec![2u8; 600_000]);
    env.create_file("big", "half1.bin").success();
    let file = env.manifest(&[entry("big").file("half2.bin")]);
    env.clear_requests();
    env.apply(&file)
        .failure()
        .stderr_has("would hold 1200000 bytes")
        .stderr_has("--prune");
    env.assert_only_the_owner_list();
    env.diff(&file).exits(2);
    // With --prune the old key goes and it fits.
    env.apply_with(&file, &["--prune", "--yes"]).success();
    assert_eq!(env.my_data("big").keys().collect::<Vec<_>>(), ["half2.bin"]);
}
