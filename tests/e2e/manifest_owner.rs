//! A manifest that names its owner (issue 10, point 5): `owner: <hash>`
//! next to `apiVersion`. When the owner resolved here is another one,
//! `diff`, `apply` and `render-job --secrets` stop before any request,
//! showing both hashes, where the resolved one came from, the line of
//! `owner:`, and the fix; when it is the same, nothing changes.

use crate::support::cli::TestCommand;
use crate::support::{OTHER_OWNER, OWNER, Run, TestEnv, mine};

const TASK: &str =
    "name: demo\nresources:\n  image_id: ubuntu:22.04\n  cpus: 1\n  memory: 1\nrun: echo hi\n";

/// A manifest for `owner` with a planted value in every secret.
fn manifest(env: &TestEnv, owner: &str) -> String {
    let token = env.canary("owner-token");
    let key = env.canary("owner-key");
    env.file_arg(
        "secrets.yaml",
        format!(
            "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nowner: {owner}\nsecrets:\n  - name: hf\n    kind: env\n    inline:\n      HF_TOKEN: {token}\n  - name: creds\n    inline: {{key.pem: \"{key}\"}}\n"
        ),
    )
}

/// How the owner is resolved in a run.
#[derive(Clone, Copy, Debug)]
enum Source {
    /// KONDUKTOR_TEST_USER_HASH (what every test env sets).
    TestOverride,
    /// KONDUKTOR_USER_ID.
    UserId,
    /// `~/.konduktor/user_hash` in the test HOME.
    File,
}

/// `args`, with the owner resolved from `source`.
fn command<'e>(env: &'e TestEnv, source: Source, resolved: &str, args: &[&str]) -> TestCommand<'e> {
    let cmd = env.cmd(args);
    match source {
        Source::TestOverride => cmd.owner(resolved),
        Source::UserId => cmd.owner_unset().env("KONDUKTOR_USER_ID", resolved),
        Source::File => cmd.owner_unset(),
    }
}

fn write_user_hash(env: &TestEnv, hash: &str) -> std::path::PathBuf {
    env.home_file(".konduktor/user_hash", hash)
}

/// diff, apply and render-job --secrets with `manifest`, resolved as
/// `source` says: (diff, apply, render-job) runs.
fn every_command(env: &TestEnv, source: Source, resolved: &str, file: &str) -> [Run; 3] {
    let task = env.task(TASK);
    let run = |args: &[&str]| command(env, source, resolved, args).run();
    [
        run(&["diff", "-f", file]),
        run(&["apply", "--yes", "-f", file]),
        run(&["render-job", "-f", &task, "--secrets", file]),
    ]
}

/// Every command stops with the located mismatch and `help`, sending nothing.
fn assert_stopped(env: &TestEnv, runs: &[Run; 3], from: &str, help: &[&str]) {
    let [diff, apply, render] = runs;
    diff.exits(2);
    apply.exits(1);
    render.exits(1);
    for (what, run) in [("diff", diff), ("apply", apply), ("render-job", render)] {
        assert!(run.stdout.is_empty(), "{what}: {}", run.stdout);
        for needle in [
            "secrets.yaml:3:8",
            &format!("`{OTHER_OWNER}`"),
            &format!("`{OWNER}`"),
            from,
            "`owner:`",
        ]
        .iter()
        .chain(help)
        {
            assert!(
                run.stderr.contains(needle),
                "{what}: no {needle:?} in\n{}",
                run.stderr
            );
        }
    }
    env.assert_no_requests();
    assert!(env.my_secret("hf").is_none());
}

#[test]
fn another_owner_from_the_environment_stops_everything_before_a_request() {
    for (source, var) in [
        (Source::TestOverride, "KONDUKTOR_TEST_USER_HASH"),
        (Source::UserId, "KONDUKTOR_USER_ID"),
    ] {
        let env = TestEnv::new();
        let file = manifest(&env, OTHER_OWNER);
        let runs = every_command(&env, source, OWNER, &file);
        let set = format!("set {var} to `{OTHER_OWNER}`");
        let unset = format!("unset {var}");
        assert_stopped(&env, &runs, &format!("(env {var})"), &[&set, &unset]);
        for run in &runs {
            // adopt refuses while the variable is set: not suggested.
            run.stderr_lacks(&format!("identity adopt {OTHER_OWNER}"));
        }
    }
}

#[test]
fn another_owner_from_the_user_hash_file_says_to_adopt() {
    let env = TestEnv::new();
    let path = write_user_hash(&env, OWNER);
    let file = manifest(&env, OTHER_OWNER);
    let runs = every_command(&env, Source::File, OWNER, &file);
    let adopt = format!("kubectl konduktor identity adopt {OTHER_OWNER}");
    assert_stopped(
        &env,
        &runs,
        &format!("(file {})", path.display()),
        &[&adopt],
    );
    // The file is left as it was.
    assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), OWNER);
}

#[test]
fn another_owner_than_the_computed_one_says_to_adopt() {
    let env = TestEnv::new();
    // No variable, no file: computed from alice and this host, then saved.
    let file = env.file_arg(
        "secrets.yaml",
        format!(
            "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nowner: {OTHER_OWNER}\nsecrets: []\n"
        ),
    );
    let run = command(&env, Source::File, "", &["diff", "-f", &file]).run();
    let saved = env.home_path(".konduktor/user_hash");
    let computed = std::fs::read_to_string(&saved).unwrap_or_else(|e| panic!("{e}: {run:?}"));
    assert_ne!(
        computed, OTHER_OWNER,
        "this host computes the test's other owner"
    );
    run.exits(2)
        .stderr_has(&format!("`{OTHER_OWNER}`"))
        .stderr_has(&format!("`{computed}`"))
        .stderr_has("computed from")
        .stderr_has(&format!("kubectl konduktor identity adopt {OTHER_OWNER}"));
    env.assert_no_requests();
}

#[test]
fn the_same_owner_applies_as_before() {
    for source in [Source::TestOverride, Source::UserId, Source::File] {
        let env = TestEnv::new();
        if matches!(source, Source::File) {
            write_user_hash(&env, OWNER);
        }
        let file = manifest(&env, OWNER);
        let [diff, apply, render] = every_command(&env, source, OWNER, &file);
        diff.exits(1).stdout_has(&mine("hf"));
        apply.success();
        render
            .success()
            .stdout_has(&format!("secretName: {}", mine("creds")));
        assert!(env.my_secret("hf").is_some(), "{source:?}");
        assert!(env.my_secret("creds").is_some(), "{source:?}");
        // Converged: the same manifest plans nothing.
        command(&env, source, OWNER, &["diff", "-f", &file])
            .run()
            .success();
    }
}

#[test]
fn a_bad_owner_is_a_located_error_before_any_request() {
    let env = TestEnv::new();
    let canary = env.canary("owner-field");
    for (owner, shown) in [
        ("ABBA3A3E", Some("`ABBA3A3E`")),
        ("abba3a3", Some("`abba3a3`")),
        ("[abba3a3e]", None),
        (&format!("!!str {canary}") as &str, None),
    ] {
        let file = manifest(&env, owner);
        let run = env.diff(&file);
        run.exits(2)
            .stderr_has("secrets.yaml:3:")
            .stderr_has("`owner`");
        if let Some(shown) = shown {
            run.stderr_has(shown)
                .stderr_has("8 lowercase hex characters");
        }
    }
    env.assert_no_requests();
}
