//! One face for every command (issue 14, points 7 and 8): usage errors exit
//! 2 from every subcommand, JSON keys are camelCase everywhere, a refusal
//! for want of a terminal still shows the plan, `secret list` never shows
//! two rows alike without saying why, counts read as English, and
//! render-job refuses a task Konduktor's launcher would refuse.

use crate::support::TestEnv;
use clap::CommandFactory;

const HEAD: &str = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n";
const TASK: &str =
    "name: demo\nresources:\n  image_id: ubuntu:22.04\n  cpus: 4\n  memory: 16\nrun: echo hi\n";

/// Every leaf subcommand of clap's command tree, as its words
/// (`["secret", "create"]`), with the arguments it requires.
fn leaves() -> Vec<(Vec<String>, Vec<clap::Arg>)> {
    fn walk(cmd: &clap::Command, path: &[String], out: &mut Vec<(Vec<String>, Vec<clap::Arg>)>) {
        for sub in cmd.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let mut words = path.to_vec();
            words.push(sub.get_name().to_string());
            if sub.has_subcommands() {
                walk(sub, &words, out);
            } else {
                let required = sub
                    .get_arguments()
                    .filter(|a| a.is_required_set())
                    .cloned()
                    .collect();
                out.push((words, required));
            }
        }
    }
    let mut out = Vec::new();
    walk(&konduktor::cli::Cli::command(), &[], &mut out);
    out
}

/// Good values for a subcommand's required arguments, so that only the
/// bad flag is wrong: `-f` gets the file the command reads (a task for
/// render-job, a manifest holding a canary for diff and apply).
fn required_args(env: &TestEnv, words: &[String], required: &[clap::Arg]) -> Vec<String> {
    let file = match words.first().map(String::as_str) {
        Some("render-job") => env.dir.path().join("task.yaml"),
        _ => env.dir.path().join("secrets.yaml"),
    };
    let mut args = Vec::new();
    for arg in required {
        let value = match arg.get_id().as_str() {
            "file" => file.display().to_string(),
            "name" => "app".to_string(),
            "hash" => "0123abcd".to_string(),
            "shell" => "bash".to_string(),
            other => panic!("no test value for the required argument `{other}` of {words:?}"),
        };
        match (arg.get_short(), arg.get_long()) {
            (Some(short), _) => args.push(format!("-{short}")),
            (None, Some(long)) => args.push(format!("--{long}")),
            (None, None) => {}
        }
        args.push(value);
    }
    args
}

/// A bad global flag is a usage error (exit 2, naming the flag) from every
/// subcommand, before or after the subcommand's name, before anything is
/// sent (today `-n Bad_NS` exits 1, or 0 from whoami).
#[test]
fn a_bad_global_flag_exits_2_from_every_subcommand() {
    let env = TestEnv::new();
    let canary = env.canary("usage");
    let bad_flags: [(&[&str], &str); 6] = [
        (&["-n", "Bad_NS"], "-n"),
        (&["--namespace=team_a"], "--namespace"),
        (&["--namespace="], "--namespace"),
        (&["--request-timeout", "soon"], "--request-timeout"),
        (&["--request-timeout=-5s"], "--request-timeout"),
        (&["--color=sometimes"], "--color"),
    ];
    env.file("task.yaml", TASK);
    env.file(
        "secrets.yaml",
        format!("{HEAD}  - name: app\n    kind: env\n    inline: {{TOKEN: {canary}}}\n"),
    );
    let leaves = leaves();
    assert!(
        leaves.len() >= 12,
        "{:?}",
        leaves.iter().map(|l| &l.0).collect::<Vec<_>>()
    );
    if let Some(server) = env.fake() {
        server.clear_requests();
    }
    for (words, required) in &leaves {
        let args = required_args(&env, words, required);
        for (flag, named) in bad_flags {
            for before in [true, false] {
                let mut cmd = env.command();
                if before {
                    cmd.args(flag).args(words).args(&args);
                } else {
                    cmd.args(words).args(&args).args(flag);
                }
                let run = env.run_command(cmd);
                assert_eq!(
                    run.code,
                    Some(2),
                    "{words:?} {args:?} with {flag:?} (before: {before}):\nstdout:\n{}\nstderr:\n{}",
                    run.stdout,
                    run.stderr
                );
                run.stderr_has(named);
                assert!(run.stdout.is_empty(), "{words:?} {flag:?}: {}", run.stdout);
            }
        }
    }
    env.assert_no_requests();
}

/// What clap lets through but a later check refuses is a usage error too:
/// exit 2, nothing sent.
#[test]
fn arguments_checked_after_parsing_are_usage_errors() {
    let env = TestEnv::new();
    let canary = env.canary("typed");
    env.file("token.txt", &canary);
    let pair = format!("TOKEN={canary}");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["secret", "create", "--inline", &pair, "Bad_Name"],
            "Bad_Name",
        ),
        (
            vec!["secret", "create", "--inline", &pair, &pair],
            "KEY=VALUE",
        ),
        (vec!["secret", "create", "app"], "no source"),
        (
            vec![
                "secret",
                "create",
                "--inline",
                &pair,
                "--from-file",
                "token.txt",
                "app",
            ],
            "several sources",
        ),
        (
            vec![
                "secret",
                "create",
                "--kind",
                "env",
                "--from-file",
                "token.txt",
                "app",
            ],
            "env",
        ),
        (
            vec![
                "secret", "create", "--kind", "env", "--inline", "1BAD=x", "app",
            ],
            "1BAD",
        ),
        (vec!["secret", "create", "--inline", "NOEQUALS", "app"], "="),
        (vec!["secret", "delete", "Bad_Name"], "Bad_Name"),
        (
            vec!["render-job", "-f", "task.yaml", "--unpack-image", ""],
            "--unpack-image",
        ),
    ];
    env.file("task.yaml", TASK);
    if let Some(server) = env.fake() {
        server.clear_requests();
    }
    for (args, says) in cases {
        let run = env.run(&args);
        assert_eq!(
            run.code,
            Some(2),
            "{args:?}:\nstdout:\n{}\nstderr:\n{}",
            run.stdout,
            run.stderr
        );
        run.stderr_has(says);
    }
    env.assert_no_requests();
}
