//! `identity adopt HASH` and `identity export [HASH]`: the local half of
//! adopting an owner hash. Both work on `~/.konduktor/user_hash` and the
//! shell; adopt only reads the cluster (who we are, and a metadata-only
//! list of the secrets it would take over), never writes to it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::cli::TestCommand;
use crate::support::{OWNER, Run, TestEnv};

/// The binary with no owner override, so the file decides.
fn local<'e>(env: &'e TestEnv, args: &[&str]) -> TestCommand<'e> {
    env.cmd(args).owner_unset()
}

fn run_local(env: &TestEnv, args: &[&str]) -> Run {
    local(env, args).run()
}

fn hash_file(env: &TestEnv) -> PathBuf {
    env.home_path(".konduktor/user_hash")
}

fn plant(env: &TestEnv, content: &str) {
    env.home_file(".konduktor/user_hash", content);
}

/// Every entry under `dir` with its bytes: equal before and after shows
/// that nothing was changed on disk.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap_or_else(|e| panic!("{e}"));
            if meta.is_dir() {
                todo.push(p.clone());
                out.push((p, b"<dir>".to_vec()));
            } else if meta.is_file() {
                out.push((p.clone(), std::fs::read(&p).unwrap_or_default()));
            } else {
                out.push((p, b"<other>".to_vec()));
            }
        }
    }
    out.sort();
    out
}

/// The backups beside the file, oldest content first, as (path, content).
fn backups(env: &TestEnv) -> Vec<(PathBuf, String)> {
    let dir = env.home.path().join(".konduktor");
    let mut out: Vec<(PathBuf, String)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("user_hash.bak-"))
        })
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            (p, text)
        })
        .collect();
    out.sort();
    out
}

/// Adopt read the cluster to show what it takes over, and wrote nothing
/// there: a SelfSubjectReview and GETs only.
fn assert_only_reads(env: &TestEnv) {
    if let Some(server) = env.fake() {
        for r in server.requests() {
            assert!(
                r.method == "GET" || r.is("POST", "/selfsubjectreviews"),
                "adopt may only read the cluster: {r:?}"
            );
        }
    }
}

fn file_text(env: &TestEnv) -> String {
    std::fs::read_to_string(hash_file(env)).unwrap_or_default()
}

#[test]
fn adopt_writes_the_file_with_a_backup_and_every_command_then_uses_it() {
    let env = TestEnv::new();
    plant(&env, "8417fdac");
    let run = run_local(&env, &["identity", "adopt", "0123abcd", "--yes"]);
    run.success()
        .stdout_has("Adopted owner hash 0123abcd")
        .stdout_has("before:  8417fdac (file ")
        .stdout_has("now:     0123abcd (file ")
        .stdout_has("Konduktor's CLI reads the same file, so it uses 0123abcd");
    // Bare, as Konduktor writes it.
    assert_eq!(file_text(&env), "0123abcd");
    let kept = backups(&env);
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].1, "8417fdac");
    run.stdout_has(&format!("backup:  {}", kept[0].0.display()));
    let export = run_export(&env, &[]);
    assert_eq!(export.stdout, "export KONDUKTOR_USER_ID=0123abcd\n");
    export.stderr_has("# owner hash 0123abcd: file ");
    assert_only_reads(&env);
    let who = run_local(&env, &["whoami", "-o", "json"]).json();
    assert_eq!(who["ownerHash"], "0123abcd");
    assert_eq!(who["ownerHashSource"]["type"], "cacheFile");

    // Again: the first backup stays, a second one is added.
    run_local(&env, &["identity", "adopt", "feedbeef", "--yes"]).success();
    assert_eq!(file_text(&env), "feedbeef");
    let contents: Vec<String> = backups(&env).into_iter().map(|(_, t)| t).collect();
    assert_eq!(contents.len(), 2, "{contents:?}");
    assert!(contents.contains(&"8417fdac".to_string()), "{contents:?}");
    assert!(contents.contains(&"0123abcd".to_string()), "{contents:?}");
}

#[test]
fn adopt_with_no_file_yet_makes_it_and_needs_no_backup() {
    let env = TestEnv::new();
    run_local(&env, &["identity", "adopt", "0123abcd", "-y"])
        .success()
        .stdout_has("before:  ")
        .stdout_has("not saved yet")
        .stdout_has("backup:  none (there was no file)");
    assert_eq!(file_text(&env), "0123abcd");
    assert!(backups(&env).is_empty());
    assert_only_reads(&env);
}

#[test]
fn adopt_of_the_hash_the_file_holds_changes_nothing() {
    let env = TestEnv::new();
    plant(&env, "0123abcd\n");
    let before = snapshot(env.home.path());
    // Not even a terminal or --yes is needed for nothing.
    run_local(&env, &["identity", "adopt", "0123abcd"])
        .success()
        .stdout_has("already holds 0123abcd: nothing to change");
    assert_eq!(snapshot(env.home.path()), before);
    env.assert_no_requests();
}

#[test]
fn adopt_refuses_when_a_variable_would_win_over_the_file() {
    let env = TestEnv::new();
    plant(&env, "8417fdac");
    let before = snapshot(env.home.path());
    // TestEnv's own override.
    env.run(&["identity", "adopt", "0123abcd", "--yes"])
        .failure()
        .stderr_has(&format!("KONDUKTOR_TEST_USER_HASH is set to `{OWNER}`"))
        .stderr_has("nothing was changed")
        .stderr_has("unset KONDUKTOR_TEST_USER_HASH")
        .stderr_has("export KONDUKTOR_TEST_USER_HASH=0123abcd");
    // A KONDUKTOR_USER_ID that this tool, or only Konduktor's CLI, would use.
    for value in ["22222222", "ABBA3A3E"] {
        local(&env, &["identity", "adopt", "0123abcd", "--yes"])
            .env("KONDUKTOR_USER_ID", value)
            .run()
            .failure()
            .stderr_has(&format!("KONDUKTOR_USER_ID is set to `{value}`"))
            .stderr_has("unset KONDUKTOR_USER_ID")
            .stderr_has("export KONDUKTOR_USER_ID=0123abcd");
    }
    assert_eq!(snapshot(env.home.path()), before);
    // Refused before anything was asked of the cluster.
    env.assert_no_requests();
    // One both ignore: a warning, and the file is written.
    local(&env, &["identity", "adopt", "0123abcd", "--yes"])
        .env("KONDUKTOR_USER_ID", "not-a-hash")
        .run()
        .success()
        .stderr_has(
            "warning: KONDUKTOR_USER_ID is set to `not-a-hash`, which is not an owner hash",
        );
    assert_eq!(file_text(&env), "0123abcd");
    assert_only_reads(&env);
}

#[test]
fn adopt_without_a_terminal_needs_yes() {
    let env = TestEnv::new();
    plant(&env, "8417fdac");
    let before = snapshot(env.home.path());
    run_local(&env, &["identity", "adopt", "0123abcd"])
        .failure()
        .stderr_has("there is no terminal to confirm it; nothing was changed")
        .stderr_has("identity adopt 0123abcd --yes");
    assert_eq!(snapshot(env.home.path()), before);
    assert_only_reads(&env);
}

#[test]
fn a_bad_hash_is_a_usage_error() {
    let env = TestEnv::new();
    plant(&env, "8417fdac");
    let before = snapshot(env.home.path());
    for args in [
        &["identity", "adopt", "ABBA3A3E", "--yes"][..],
        &["identity", "adopt", "abba3a3", "--yes"],
        &["identity", "adopt", "0x123456", "--yes"],
        &["identity", "export", "zzzzzzzz"],
    ] {
        let run = run_local(&env, args);
        run.exits(2).stderr_has("8 lowercase hex characters");
        assert!(run.stdout.is_empty(), "{args:?}: {}", run.stdout);
    }
    assert_eq!(snapshot(env.home.path()), before);
    env.assert_no_requests();
}

#[test]
fn adopt_refuses_a_file_that_is_not_a_regular_file() {
    let env = TestEnv::new();
    let file = hash_file(&env);
    std::fs::create_dir_all(&file).unwrap_or_else(|e| panic!("{e}"));
    let before = snapshot(env.home.path());
    run_local(&env, &["identity", "adopt", "0123abcd", "--yes"])
        .failure()
        .stderr_has("is a directory, not a regular file; nothing was changed")
        .stderr_has("move this one out of the way");
    assert_eq!(snapshot(env.home.path()), before);
    std::fs::remove_dir(&file).unwrap_or_else(|e| panic!("{e}"));
    crate::support::mkfifo(&file);
    let before = snapshot(env.home.path());
    local(&env, &["identity", "adopt", "0123abcd", "--yes"])
        .run_unhung()
        .failure()
        .stderr_has("is a FIFO (named pipe), not a regular file");
    assert_eq!(snapshot(env.home.path()), before);
    env.assert_no_requests();
}

#[test]
fn adopt_without_home_is_a_clear_error() {
    let env = TestEnv::new();
    local(&env, &["identity", "adopt", "0123abcd", "--yes"])
        .env_remove("HOME")
        .run()
        .failure()
        .stderr_has("HOME is not set");
    env.assert_no_requests();
}

#[test]
fn adopt_asks_on_a_terminal() {
    let env = TestEnv::new();
    plant(&env, "8417fdac");
    let before = snapshot(env.home.path());
    let adopt = || local(&env, &["identity", "adopt", "0123abcd"]);
    adopt()
        .on_terminal("no\n")
        .exits(1)
        .stdout_has("Your owner hash is 8417fdac")
        .stdout_has("Type 'yes' to go on")
        .stdout_has("adopt cancelled; nothing was changed");
    assert_eq!(snapshot(env.home.path()), before);
    adopt()
        .on_terminal("yes\n")
        .exits(0)
        .stdout_has("Adopted owner hash 0123abcd");
    assert_eq!(file_text(&env), "0123abcd");
    assert_eq!(backups(&env).len(), 1);
    assert_only_reads(&env);
}

fn run_export(env: &TestEnv, extra: &[&str]) -> Run {
    local(env, &["identity", "export"]).args(extra).run()
}

#[test]
fn export_prints_exactly_the_line_for_a_profile() {
    let env = TestEnv::new();
    // Nothing yet: computed for `alice` on this host, then saved, as whoami does.
    let run = run_export(&env, &[]);
    run.success().stderr_has("# owner hash ");
    let hash = file_text(&env);
    assert_eq!(hash.len(), 8);
    assert_eq!(run.stdout, format!("export KONDUKTOR_USER_ID={hash}\n"));
    // A hash given is printed as given.
    let run = run_export(&env, &["0123abcd"]);
    run.success();
    assert_eq!(run.stdout, "export KONDUKTOR_USER_ID=0123abcd\n");
    // The override wins, as everywhere.
    let run = env.run(&["identity", "export"]);
    run.success()
        .stderr_has("# owner hash abba3a3e: env KONDUKTOR_TEST_USER_HASH");
    assert_eq!(run.stdout, format!("export KONDUKTOR_USER_ID={OWNER}\n"));
    env.assert_no_requests();
}

#[test]
fn export_refuses_a_hash_the_variable_cannot_carry() {
    let env = TestEnv::new();
    // Konduktor (and so this tool) read it from the file; in the variable
    // this tool would ignore it.
    plant(&env, "ABBA3A3E");
    let run = run_export(&env, &[]);
    run.failure()
        .stderr_has("`ABBA3A3E`")
        .stderr_has("not 8 lowercase hex characters");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    env.assert_no_requests();
}

#[test]
fn the_exported_line_evaluated_in_sh_sets_the_owner() {
    let env = TestEnv::new();
    let bin = assert_cmd::cargo::cargo_bin!("kubectl-konduktor");
    for (given, want) in [(None, None), (Some("0123abcd"), Some("0123abcd"))] {
        let export = match given {
            Some(h) => format!("\"$BIN\" identity export {h}"),
            None => "\"$BIN\" identity export".to_string(),
        };
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!(
                "eval \"$({export})\" && \"$BIN\" -n \"$NS\" whoami -o json"
            ))
            .env("BIN", bin)
            .env("NS", &env.namespace);
        for (k, v) in local(&env, &[]).into_command().get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd.current_dir(env.dir.path());
        let run = env.run_command(cmd);
        run.success();
        let json = run.json();
        // With no hash given: this machine's, computed and saved by export.
        let expected = want.map_or_else(|| file_text(&env), str::to_string);
        assert_eq!(json["ownerHash"], expected.as_str(), "{given:?}");
        assert_eq!(json["ownerHashSource"]["type"], "userIdEnv", "{given:?}");
    }
}

/// Issue 19 point 5: adopt lists what it takes over when it can; without a
/// cluster it says it could not look, and the local change still works.
#[test]
fn adopt_without_a_reachable_cluster_says_it_could_not_look() {
    let env = TestEnv::new();
    local(&env, &["identity", "adopt", "0123abcd", "--yes"])
        .kubeconfig(env.path("no-such-kubeconfig"))
        .run()
        .success()
        .stderr_has("cannot list the secrets under 0123abcd")
        .stdout_has("Adopted owner hash 0123abcd");
    assert_eq!(file_text(&env), "0123abcd");
    env.assert_no_requests();
}
