//! One face for every command (issue 14, points 7 and 8): usage errors exit
//! 2 from every subcommand, JSON keys are camelCase everywhere, a refusal
//! for want of a terminal still shows the plan, `secret list` never shows
//! two rows alike without saying why, counts read as English, and
//! render-job refuses a task Konduktor's launcher would refuse.

use clap::CommandFactory;
use serde_json::{Value, json};

use crate::support::{OTHER_OWNER, Run, TestEnv, entry, mine, secret_object};

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
        Some("render-job") => env.path("task.yaml"),
        _ => env.path("secrets.yaml"),
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
    // `--context=` is no bad flag: it means the current context, as in
    // kubectl (tests/e2e/kubeconfig.rs).
    let bad_flags: [(&[&str], &str); 7] = [
        (&["--kubeconfig="], "--kubeconfig"),
        (&["-n", "Bad_NS"], "-n"),
        (&["--namespace=team_a"], "--namespace"),
        (&["--namespace="], "--namespace"),
        (&["--request-timeout", "soon"], "--request-timeout"),
        (&["--request-timeout=-5s"], "--request-timeout"),
        (&["--color=sometimes"], "--color"),
    ];
    env.task(TASK);
    env.manifest(&[entry("app").kind("env").inline(&[("TOKEN", &canary)])]);
    let leaves = leaves();
    assert!(
        leaves.len() >= 12,
        "{:?}",
        leaves.iter().map(|l| &l.0).collect::<Vec<_>>()
    );
    env.clear_requests();
    for (words, required) in &leaves {
        let args = required_args(&env, words, required);
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        for (flag, named) in bad_flags {
            for before in [true, false] {
                let run = if before {
                    env.cmd(flag).args(&words).args(&args)
                } else {
                    env.cmd(&words).args(&args).args(flag)
                }
                .no_namespace()
                .run();
                run.exits(2).stderr_has(named);
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
    env.task(TASK);
    env.clear_requests();
    for (args, says) in cases {
        env.run(&args).exits(2).stderr_has(says);
    }
    env.assert_no_requests();
}

/// Is `key` camelCase (Kubernetes' style): a lowercase first letter, then
/// letters and digits, no `_` or `-`?
fn camel(key: &str) -> bool {
    key.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && key.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Maps whose keys are names (label keys, data keys, env var names,
/// resource names), not the output's own schema.
const NAME_MAPS: [&str; 8] = [
    "labels",
    "namespaces",
    "annotations",
    "data",
    "stringData",
    "nodeSelector",
    "limits",
    "requests",
];

/// Every key of `value` that is not camelCase, as a path.
fn bad_keys(value: &Value, at: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            let names = NAME_MAPS.iter().any(|m| at.ends_with(&format!(".{m}")));
            for (k, v) in map {
                if !names && !camel(k) {
                    out.push(format!("{at}.{k}"));
                }
                bad_keys(v, &format!("{at}.{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                bad_keys(v, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Every JSON output of a scenario that goes through each command, and the
/// saved plan file: one key style, camelCase (today apply's report says
/// `dry_run` beside `secretName`).
#[test]
fn every_json_output_uses_camel_case_keys() {
    let env = TestEnv::new();
    let canary = env.canary("json");
    env.file("token.txt", &canary);
    env.create_file("old-file", "token.txt").success();
    env.create_env("app", &[("OLD_KEY", &canary)]).success();
    let manifest = env.manifest(&[
        entry("app").kind("env").inline(&[("NEW_KEY", &canary)]),
        entry("fresh").file("token.txt"),
        entry("old-file").absent(),
    ]);
    env.task(TASK);
    let mut outputs: Vec<(String, Value)> = Vec::new();
    let json = |outputs: &mut Vec<(String, Value)>, what: &str, run: Run| {
        assert!(
            matches!(run.code, Some(0 | 1)),
            "{what}: {:?}\n{}",
            run.code,
            run.stderr
        );
        outputs.push((what.to_string(), run.json()));
    };
    json(&mut outputs, "whoami", env.run(&["whoami", "-o", "json"]));
    json(
        &mut outputs,
        "identity show",
        env.run(&["identity", "show", "-o", "json"]),
    );
    json(
        &mut outputs,
        "identity candidates",
        env.run(&["identity", "candidates", "-o", "json"]),
    );
    json(
        &mut outputs,
        "secret list",
        env.run(&["secret", "list", "-o", "json"]),
    );
    json(
        &mut outputs,
        "secret list -u",
        env.run(&["secret", "list", "-u", "-o", "json"]),
    );
    json(
        &mut outputs,
        "diff",
        env.run(&["diff", "-f", &manifest, "--prune", "-o", "json"]),
    );
    env.run(&["diff", "-f", &manifest, "--out", "plan.json"]);
    let saved =
        std::fs::read_to_string(env.path("plan.json")).unwrap_or_else(|e| panic!("plan.json: {e}"));
    outputs.push((
        "saved plan".into(),
        serde_json::from_str(&saved).unwrap_or_else(|e| panic!("{e}")),
    ));
    json(
        &mut outputs,
        "apply --dry-run",
        env.run(&["apply", "-f", &manifest, "--dry-run", "-o", "json"]),
    );
    json(
        &mut outputs,
        "apply",
        env.run(&["apply", "-f", &manifest, "--yes", "-o", "json"]),
    );
    json(
        &mut outputs,
        "apply, nothing to do",
        env.run(&["apply", "-f", &manifest, "-o", "json"]),
    );
    json(
        &mut outputs,
        "render-job",
        env.run(&["render-job", "-f", "task.yaml", "-o", "json"]),
    );
    json(
        &mut outputs,
        "render-job --pod-spec",
        env.run(&["render-job", "-f", "task.yaml", "--pod-spec", "-o", "json"]),
    );
    let preview = env.run(&[
        "secret",
        "create",
        "--dry-run",
        "--from-file",
        "token.txt",
        "preview",
    ]);
    preview.success();
    outputs.push((
        "secret create --dry-run".into(),
        serde_saphyr::from_str(&preview.stdout)
            .unwrap_or_else(|e| panic!("{e}\n{}", preview.stdout)),
    ));
    let export = env.run(&["export", "--values-dir", "values"]);
    export.success();
    outputs.push((
        "export".into(),
        serde_saphyr::from_str(&export.stdout).unwrap_or_else(|e| panic!("{e}\n{}", export.stdout)),
    ));
    let mut bad = Vec::new();
    for (what, value) in &outputs {
        bad_keys(value, what, &mut bad);
    }
    assert!(bad.is_empty(), "keys not in camelCase: {bad:#?}");
    // The apply report's own keys, to be sure the walk saw it.
    let apply = &outputs
        .iter()
        .find(|(w, _)| w == "apply --dry-run")
        .map(|(_, v)| v);
    assert_eq!(apply.and_then(|v| v.get("dryRun")), Some(&json!(true)));
}

/// `apply -o json` refused for want of a terminal (deletions, no --yes)
/// prints the plan it would carry out on stdout, as JSON, and says where it
/// is; nothing is changed.
#[test]
fn apply_json_refused_without_a_terminal_still_prints_the_plan() {
    let env = TestEnv::new();
    let canary = env.canary("refused");
    env.create_env("gone", &[("A", &canary)]).success();
    let manifest = env.manifest(&[entry("gone").absent()]);
    let run = env.apply_with(&manifest, &["-o", "json"]);
    run.failure()
        .stderr_has("apply would delete 1 secret, and there is no terminal")
        .stderr_has("--yes")
        // No plan is above on stderr.
        .stderr_lacks("plan above");
    let report = run.json();
    let secrets = report
        .pointer("/plan/secrets")
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no plan in {report}"));
    assert!(
        secrets
            .iter()
            .any(|s| s["name"] == "gone" && s["action"] == "delete"),
        "{report}"
    );
    assert_eq!(report["result"], json!([]), "{report}");
    assert!(env.my_secret("gone").is_some(), "nothing is deleted");
}

/// Two of my objects carry the basename `hf` (one of another kind, made by
/// some other tool): `secret list` shows which object each row is, and
/// says why two rows share a name.
#[test]
fn secret_list_never_shows_two_rows_alike_without_saying_why() {
    let env = TestEnv::new();
    let canary = env.canary("twin");
    env.create_env("hf", &[("TOKEN", &canary)]).success();
    env.seed(
        secret_object("hf")
            .named(&mine("hf-copy"))
            .kind("default")
            .value("token", &canary),
    );
    let run = env.run(&["secret", "list"]);
    run.success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(lines[0].contains("OBJECT"), "{}", run.stdout);
    for object in [mine("hf"), mine("hf-copy")] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("hf ") && l.contains(&object)),
            "{}",
            run.stdout
        );
    }
    run.stderr_has("hf").stderr_has("OBJECT");
    // Rows with names of their own stay as they were: no OBJECT column.
    let other = env.as_owner(OTHER_OWNER);
    other.create_env("solo", &[("A", "b")]).success();
    let solo = other.run(&["secret", "list"]);
    solo.success().stdout_lacks("OBJECT");
    assert!(solo.stderr.is_empty(), "{}", solo.stderr);
}

/// A task without `resources.cpus` or `resources.memory` is refused, as
/// Konduktor's launcher refuses it, with the place in the task file; a
/// task with both renders.
#[test]
fn render_job_refuses_a_task_without_cpus_or_memory() {
    let env = TestEnv::new();
    let canary = env.canary("task-env");
    let manifest = env.manifest(&[entry("e").kind("env").inline(&[("A", &canary)])]);
    let cases = [
        (
            "name: t\nresources:\n  image_id: ubuntu:22.04\n  memory: 16\n",
            vec!["task.yaml:2:1: `resources.cpus` is missing"],
        ),
        (
            "name: t\nresources:\n  image_id: ubuntu:22.04\n  cpus: 4\n",
            vec!["task.yaml:2:1: `resources.memory` is missing"],
        ),
        (
            "name: t\nenvs:\n  TOKEN: CANARY\nresources: {image_id: ubuntu:22.04}\nrun: echo hi\n",
            vec![
                "`resources.cpus` is missing",
                "`resources.memory` is missing",
                "4:",
            ],
        ),
    ];
    for (task, says) in cases {
        env.file("task.yaml", task.replace("CANARY", &canary));
        let run = env.run(&["render-job", "-f", "task.yaml", "--secrets", &manifest]);
        run.exits(1).stderr_has("Konduktor");
        for needle in says {
            run.stderr_has(needle);
        }
        assert!(run.stdout.is_empty(), "no Job: {}", run.stdout);
    }
    env.file("task.yaml", TASK);
    env.run(&["render-job", "-f", "task.yaml", "--secrets", &manifest])
        .success()
        .stdout_has("kind: Job");
}
