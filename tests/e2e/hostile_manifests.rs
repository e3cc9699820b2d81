//! Manifests and task files shaped the ways people and attackers shape
//! them, each holding canary values: every command that reads them fails
//! with a diagnostic that shows no value (TestEnv checks every run for the
//! canaries, raw and base64), and nothing is sent to the cluster.

use crate::support::{Run, TestEnv};

/// A manifest's first lines, without `secrets:` (the cases write their own).
const HEAD: &str = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\n";

/// `{C}` in a template is replaced by a fresh canary at each place.
fn plant(env: &TestEnv, template: &str) -> String {
    let mut out = String::new();
    let mut parts = template.split("{C}").peekable();
    while let Some(part) = parts.next() {
        out.push_str(part);
        if parts.peek().is_some() {
            out.push_str(&env.canary("v"));
        }
    }
    out
}

/// Bad manifests, each with canaries in value positions.
const MANIFESTS: &[(&str, &str)] = &[
    (
        "keys at the wrong indent under inline",
        "secrets:\n  - name: a\n    inline:\n      A: {C}\n     B: {C}\n",
    ),
    (
        "a misspelled inline",
        "secrets:\n  - name: a\n    inlien:\n      A: {C}\n      B: {C}\n",
    ),
    (
        "a flow map over several lines",
        "secrets:\n  - name: Bad_Name\n    inline: {A: {C},\n      B: {C},\n      C: {C}}\n",
    ),
    (
        "flow-style entries",
        "secrets:\n  - {name: x, inline: {A: {C}, B: \"{C}\"}, bogus: 1}\n  - {name: y, inline: {A: {C}}, kind: nope}\n",
    ),
    (
        "an anchor on a value used as a name",
        "secrets:\n  - name: a\n    inline: {A: &t {C}}\n  - name: *t\n    inline: {B: x}\n",
    ),
    (
        "an anchor on a value used as a kind",
        "secrets:\n  - name: a\n    kind: *t\n    inline: {A: &t {C}}\n",
    ),
    (
        "fromEnv given K=V",
        "secrets:\n  - name: a\n    kind: env\n    fromEnv: [K={C}]\n",
    ),
    (
        "fromEnv given a mapping",
        "secrets:\n  - name: a\n    kind: env\n    fromEnv: {K: {C}}\n",
    ),
    (
        "inline given a scalar",
        "secrets:\n  - name: a\n    inline: {C}\n",
    ),
    (
        "inline given a list",
        "secrets:\n  - name: a\n    inline: [{C}, {C}]\n",
    ),
    (
        "a KEY value pair without a colon in a flow map",
        "secrets:\n  - name: a\n    inline: {HF_TOKEN {C}}\n",
    ),
    (
        "a pasted token as a key with no value",
        "secrets:\n  - name: a\n    inline: {{C}, B: x}\n",
    ),
    (
        "an unclosed flow map after a value",
        "secrets:\n  - name: a\n    inline: {A: {C}, B: {C}\n  - name: b\n",
    ),
    (
        "an unterminated quote in a value",
        "secrets:\n  - name: a\n    inline:\n      A: \"{C}\n      B: {C}\n",
    ),
    (
        "a tab next to a value",
        "secrets:\n  - name: a\n    inline:\n\tA: {C}\n",
    ),
    (
        "a null value and a duplicate key",
        "secrets:\n  - name: a\n    inline:\n      A: {C}\n      B:\n      A: {C}\n",
    ),
    (
        "a value in a comment and a tag",
        "secrets:\n  - name: a # old token {C}\n    inline: {A: !!str {C}, B: !mine {C}}\n    bogus: 1\n",
    ),
    (
        "a block scalar value and a bad name",
        "secrets:\n  - name: Bad!\n    inline:\n      A: |\n        {C}\n        {C}\n",
    ),
    (
        "an anchored value used as a path",
        "secrets:\n  - name: a\n    inline:\n      A: &t |\n        {C}\n        {C}\n  - name: b\n    fromFile: *t\n  - name: c\n    fromFile: [*t]\n  - name: d\n    fromDirectory: *t\n",
    ),
    (
        "an anchored value that looks like a name",
        "secrets:\n  - {\n      fromEnv: &a \"{C}-x\"\n    }\n  - name: b\n    fromEnv: [&b {C}]\n    kind: env\n",
    ),
    (
        "a tagged value copied into a structural field",
        "kind: !custom \"{C}\"\nsecrets:\n  - name: !custom {C}\n    fromFile: !!str {C}\n",
    ),
    (
        "a value slid under a name",
        "secrets:\n  - name: hf\n      {C}\n    inline: {A: x}\n",
    ),
    (
        "several documents",
        "secrets:\n  - name: a\n    inline: {A: {C}}\n---\nsecrets:\n  - name: b\n    inline: {A: {C}}\n",
    ),
];

fn manifest_cases(env: &TestEnv) -> Vec<(String, String)> {
    let mut cases: Vec<(String, String)> = MANIFESTS
        .iter()
        .map(|(name, body)| (name.to_string(), plant(env, &format!("{HEAD}{body}"))))
        .collect();
    // The same with old Mac (CR) and Windows (CRLF) line ends.
    for (name, body) in MANIFESTS.iter().take(4) {
        let text = plant(env, &format!("{HEAD}{body}"));
        cases.push((format!("{name}, CR"), text.replace('\n', "\r")));
        cases.push((format!("{name}, CRLF"), text.replace('\n', "\r\n")));
    }
    // One-line JSON.
    cases.push((
        "a one-line JSON manifest".into(),
        plant(
            env,
            r#"{"apiVersion": "konduktor.trainy.ai/v1alpha1", "kind": "SecretSet", "secrets": [{"name": "x", "inline": {"A": "{C}"}, "kind": "nope"}, {"name": "y", "inlien": {"B": "{C}"}}]}"#,
        ),
    ));
    cases
}

const TASK: &str =
    "name: t\nresources:\n  image_id: ubuntu:22.04\n  cpus: 1\n  memory: 1\nrun: echo hi\n";

#[test]
fn no_value_shows_in_any_diagnostic_of_a_bad_manifest() {
    let env = TestEnv::new();
    let task = env.task(TASK);
    for (i, (name, text)) in manifest_cases(&env).into_iter().enumerate() {
        let path = env.file_arg(&format!("m{i}.yaml"), &text);
        for args in [
            vec!["diff", "-f", &path],
            vec!["apply", "--yes", "-f", &path],
            vec!["render-job", "-f", &task, "--secrets", &path],
            // A manifest given where a task file belongs.
            vec!["render-job", "-f", &path, "--secrets", &path],
        ] {
            // `run` fails the test if any canary shows up.
            let run = env.run(&args);
            run.failure();
            assert!(
                run.stderr.contains(&format!("m{i}.yaml")),
                "{name} ({args:?}): the file is not named:\n{}",
                run.stderr
            );
        }
    }
    env.assert_no_requests();
}

#[test]
fn no_value_shows_in_any_diagnostic_of_a_bad_task() {
    let env = TestEnv::new();
    let secrets = env.manifest(&[]);
    let tasks = [
        "name: t\nresources:\n  image_id: x\n  cpus: 1\n  memory: 1\nenv:\n  HF_TOKEN: {C}\n  B: {C}\n",
        "name: t\nresources: {image_id: x, cpus: 1, memory: 1}\nenvs: {A: {C}, B: [{C}], C:}\n",
        "name: t\nresources: {image_id: x, cpus: 1, memory: 1}\nenvs:\n  A: &v {C}\nnum_nodes: *v\n",
        "name: t\nresources: {image_id: x, cpus: 1, memory: 1}\nenvs:\n  A: \"{C}\n",
        "name: Bad\nresources: {image_id: x, cpus: 1, memory: 1}\nrun: |\n  export TOKEN={C}\n  python train.py\n",
        "name: t\nresources: {image_id: x, cpus: 1, memory: 1}\nenvs: {C}\n",
        "name: t\nresources: {image_id: x, cpus: 1, memory: 1}\nenvs: {TOKEN {C}}\n",
        "name: t\nresources: {image_id: x, cpus: 1, memory: 1}\nnum_nodes: 2\n  export HF_TOKEN={C}\nrun: python train.py\n",
        "name: t\n  {C}\nresources: {image_id: x, cpus: 1, memory: 1}\n",
    ];
    for (i, template) in tasks.iter().enumerate() {
        let text = plant(&env, template);
        for text in [text.clone(), text.replace('\n', "\r")] {
            let path = env.file_arg(&format!("t{i}.yaml"), &text);
            env.run(&["render-job", "-f", &path, "--secrets", &secrets])
                .failure()
                .stderr_has(&format!("t{i}.yaml"));
        }
    }
    env.assert_no_requests();
}

#[test]
fn the_messages_people_read_name_the_problem_plainly() {
    let env = TestEnv::new();
    let cases = [
        (
            "secrets:\n  - name: a\n    inline:\n      A: x\n      B:\n",
            "has no value",
        ),
        (
            "secrets:\n  - name: a\n    inline: {A: x}\n    name: b\n",
            "`name` is given twice in this secret (first at line 4)",
        ),
        (
            "secrets: []\n---\nsecrets: []\n",
            "more than one YAML document",
        ),
        (
            "secrets:\n  - name: a\n    inline: {}\n",
            "`inline` of secret `a` is empty",
        ),
        (
            "secrets:\n  - name: a\n    kind: env\n    fromEnv: []\n",
            "`fromEnv` of secret `a` is empty",
        ),
    ];
    for (body, want) in cases {
        let path = env.file_arg("m.yaml", format!("{HEAD}{body}"));
        let run = env.diff(&path);
        run.failure().stderr_has(want);
        for internal in [
            "Option<",
            "DuplicateKeyPolicy",
            "from_str_multiple",
            "budget",
        ] {
            run.stderr_lacks(internal);
        }
    }
    // A lone `---` at the end is fine.
    let path = env.file_arg("m.yaml", format!("{HEAD}secrets: []\n---\n"));
    env.diff(&path).success();
}

#[test]
fn a_manifest_can_come_from_standard_input() {
    let env = TestEnv::new();
    let canary = env.canary("stdin");
    let text = format!("{HEAD}secrets:\n  - name: from-stdin\n    inline: {{A: {canary}}}\n");
    env.cmd(&["apply", "-f", "-"])
        .stdin(&text)
        .run()
        .success()
        .stdout_has("from-stdin");
    assert_eq!(
        env.my_data("from-stdin").get("A").map(Vec::as_slice),
        Some(canary.as_bytes())
    );
    // Diagnostics name it as such.
    env.cmd(&["diff", "-f", "-"])
        .stdin(&format!("{HEAD}secrets: [{{name: Bad}}]\n"))
        .run()
        .failure()
        .stderr_has("<stdin>:3:18");
}

#[test]
fn control_characters_in_file_names_are_escaped_on_the_terminal() {
    let env = TestEnv::new();
    let dir = env.path("creds");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("a\u{1b}[2Jb\u{202e}c"), "x").unwrap_or_else(|e| panic!("{e}"));
    let path = env.file(
        "m.yaml",
        format!(
            "{HEAD}secrets:\n  - name: dir\n    fromDirectory: ./creds\n  - name: file\n    fromFile: \"missing\\u001b]0;title\\u0007\\nforged line\"\n"
        ),
    );
    env.run(&["diff", "-f", &path.to_string_lossy()])
        .failure()
        .stderr_lacks("\u{1b}")
        .stderr_lacks("\u{7}")
        .stderr_has("missing\\u{1b}]0;title\\u{7}\\nforged line");
    // Without the broken entry, the plan lists the archive's files, escaped.
    let path = env.file(
        "m.yaml",
        format!("{HEAD}secrets:\n  - name: dir\n    fromDirectory: ./creds\n"),
    );
    env.run(&["diff", "-f", &path.to_string_lossy()])
        .exits(1)
        .stdout_lacks("\u{1b}")
        .stdout_lacks("\u{202e}")
        .stdout_has("creds/a\\u{1b}[2Jb\\u{202e}c");
}

/// The binary with `args`, under the suite's hang catcher.
fn run_or_hang(env: &TestEnv, args: &[&str]) -> Run {
    env.cmd(args).run_unhung()
}

#[test]
fn input_files_are_regular_and_bounded() {
    let env = TestEnv::new();
    let fifo = env.path("fifo");
    crate::support::mkfifo(&fifo);
    let fifo = fifo.to_string_lossy().to_string();
    let task = env.task(TASK);
    let secrets = env.manifest(&[]);
    let big = env.file_arg(
        "big.yaml",
        format!("{HEAD}secrets: []\n# {}\n", "x".repeat(5 << 20)),
    );
    let cases: [(&[&str], &str); 7] = [
        (&["diff", "-f", &fifo], "is a FIFO"),
        (&["apply", "-f", &fifo], "is a FIFO"),
        (
            &["render-job", "-f", &fifo, "--secrets", &secrets],
            "is a FIFO",
        ),
        (
            &["render-job", "-f", &task, "--secrets", &fifo],
            "is a FIFO",
        ),
        (&["diff", "-f", "/dev/zero"], "is a character device"),
        (&["render-job", "-f", "/dev/zero"], "is a character device"),
        (&["diff", "-f", &big], "is larger than 4 MiB"),
    ];
    for (args, want) in cases {
        let run = run_or_hang(&env, args);
        run.failure().stderr_has(want).stderr_has("help:");
    }
    env.assert_no_requests();
}

#[test]
fn arguments_and_keys_that_may_be_values_are_never_echoed() {
    let env = TestEnv::new();
    let value = env.canary("arg");
    // Not UTF-8: clap refuses it without a panic and without the value.
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let mut raw = b"A=\xff".to_vec();
        raw.extend_from_slice(value.as_bytes());
        env.cmd(&["secret", "create", "x", "--dry-run", "--inline"])
            .arg(std::ffi::OsStr::from_bytes(&raw))
            .no_namespace()
            .run()
            .exits(2);
    }
    // A key with a space is probably `KEY value` pasted: not quoted.
    let run = env.run(&[
        "secret",
        "create",
        "x",
        "--dry-run",
        "--inline",
        &format!("HF_TOKEN {value}=x"),
    ]);
    run.failure().stderr_has("not shown");
    // A usage error quoting a value with a CR or a bidi override escapes it.
    env.run(&["--color", "x\rforged\u{202e}", "whoami"])
        .failure()
        .stderr_lacks("\r")
        .stderr_lacks("\u{202e}")
        .stderr_has("x\\rforged\\u{202e}");
}

#[test]
fn render_job_output_holds_no_raw_control_characters() {
    let env = TestEnv::new();
    let task = env.task(
        "name: t\nresources: {image_id: ubuntu, cpus: 1, memory: 1}\nenvs: {A: \"x\\e[31my\\u202ez\\u0085\\u2028\"}\nrun: \"echo \\u202e hi\"\n",
    );
    let secrets = env.manifest(&[]);
    for format in ["yaml", "json"] {
        let run = env.run(&[
            "render-job",
            "-f",
            &task,
            "--secrets",
            &secrets,
            "-o",
            format,
        ]);
        run.success();
        assert!(
            !run.stdout
                .chars()
                .any(|c| c.is_control() && c != '\n' || matches!(c, '\u{202e}' | '\u{2028}')),
            "{format}: {}",
            run.stdout
        );
        // Still the same JobSet, with the same values.
        let job: serde_json::Value = if format == "json" {
            run.json()
        } else {
            serde_saphyr::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}"))
        };
        let env_value =
            job["spec"]["replicatedJobs"][0]["template"]["spec"]["template"]["spec"]["containers"]
                [0]["env"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|e| e["name"] == "A")
                .map(|e| e["value"].clone())
                .unwrap_or_default();
        assert_eq!(env_value, "x\u{1b}[31my\u{202e}z\u{85}\u{2028}");
    }
}

#[test]
fn thousands_of_problems_are_counted_and_the_first_shown() {
    let env = TestEnv::new();
    let names: Vec<String> = (0..10_000).map(|i| format!("K{i}")).collect();
    let path = env.file(
        "many.yaml",
        format!(
            "{HEAD}secrets:\n  - name: a\n    kind: env\n    fromEnv: [{}]\n",
            names.join(", ")
        ),
    );
    let run = run_or_hang(&env, &["diff", "-f", &path.to_string_lossy()]);
    run.failure()
        .stderr_has("has 10000 problems (the first 50 are shown)");
    assert!(run.stderr.len() < 1 << 20, "{} bytes", run.stderr.len());
}

/// `render-job ... | head -1`: the reader goes away early; the tool ends
/// quietly (SIGPIPE, as Unix tools do), with no internal error.
#[cfg(unix)]
#[test]
fn a_closed_output_pipe_ends_the_tool_quietly() {
    use std::io::Read;
    let env = TestEnv::new();
    let task = env.task(TASK);
    let keys: Vec<String> = (0..5_000).map(|i| format!("K{i}: v")).collect();
    let secrets = env.file(
        "secrets.yaml",
        format!(
            "{HEAD}secrets:\n  - name: many\n    kind: env\n    inline:\n      {}\n",
            keys.join("\n      ")
        ),
    );
    let mut child = env
        .cmd(&["render-job", "-f", &task, "--secrets"])
        .arg(&secrets)
        .no_namespace()
        .into_command()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    // Read one byte, then close our end.
    if let Some(mut out) = child.stdout.take() {
        let mut first = [0u8; 1];
        let _ = out.read(&mut first);
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("internal error"), "{stderr}");
    assert_ne!(out.status.code(), Some(101), "{stderr}");
}
