use super::*;

fn spec(argv: &[&str]) -> CommandSpec {
    CommandSpec {
        key: "K".into(),
        argv: argv.iter().map(|a| a.to_string()).collect(),
        timeout: Duration::from_secs(20),
        trim: true,
        place: Place::START,
    }
}

fn sh(script: &str) -> CommandSpec {
    spec(&["sh", "-c", script])
}

fn here() -> PathBuf {
    PathBuf::from(".")
}

#[test]
fn the_output_is_the_value_less_one_trailing_newline() {
    let out = run(&sh("printf 'hf_abc\\n\\n'"), &here()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.expose(), b"hf_abc\n");
}

#[test]
fn with_trim_false_every_byte_arrives_binary_included() {
    let mut s = sh("printf 'a\\000b\\377\\n'");
    s.trim = false;
    let out = run(&s, &here()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.expose(), b"a\0b\xff\n");
}

#[test]
fn a_program_runs_in_the_manifests_folder_and_a_relative_path_is_taken_from_there() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    // Written by another process: a file this (threaded) test process
    // held open for writing could be "busy" when executed.
    let made = std::process::Command::new("sh")
        .args([
            "-c",
            "printf '#!/bin/sh\\npwd -P\\n' > print-dir.sh && chmod 700 print-dir.sh",
        ])
        .current_dir(dir.path())
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(made.success());
    let out = run(&spec(&["./print-dir.sh"]), dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let real = std::fs::canonicalize(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.expose(), real.to_string_lossy().as_bytes());
}

/// A manifest named by a relative path: its folder is relative too, and
/// a program path is taken from it once, not twice.
#[test]
fn a_relative_folder_is_not_taken_twice() {
    // A folder below the working directory, so that its path can be relative;
    // `target` need not exist when CARGO_TARGET_DIR points elsewhere.
    std::fs::create_dir_all("target").unwrap_or_else(|e| panic!("{e}"));
    let dir = tempfile::Builder::new()
        .prefix("kk-command-")
        .tempdir_in("target")
        .unwrap_or_else(|e| panic!("{e}"));
    let relative = dir
        .path()
        .strip_prefix(std::env::current_dir().unwrap_or_default())
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| dir.path().to_path_buf());
    assert!(relative.is_relative(), "{relative:?}");
    let made = std::process::Command::new("sh")
        .args(["-c", "printf '#!/bin/sh\\nprintf right\\n' > ok.sh && chmod 700 ok.sh && mkdir -p \"$1\" && printf '#!/bin/sh\\nprintf wrong\\n' > \"$1/ok.sh\" && chmod 700 \"$1/ok.sh\"", "sh"])
        .arg(&relative)
        .current_dir(dir.path())
        .status()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(made.success());
    let out = run(&spec(&["./ok.sh"]), &relative).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.expose(), b"right");
}

#[test]
fn a_program_that_ends_but_leaves_its_output_open_is_told_apart() {
    let mut s = sh("sleep 30 & printf x");
    s.timeout = Duration::from_millis(500);
    assert_eq!(
        run(&s, &here()),
        Err(CommandError::OutputHeldOpen(s.timeout))
    );
}

#[test]
fn a_long_command_line_is_cut_when_shown() {
    let long = "a".repeat(10_000);
    let shown = spec(&["op", &long]).display();
    assert!(
        shown.len() < 300 && shown.ends_with("..."),
        "{}",
        shown.len()
    );
}

#[test]
fn failures_say_how_the_program_ended_never_what_it_printed() {
    let canary = "canary-command-output-4471";
    let failed = run(&sh(&format!("echo {canary}; exit 3")), &here());
    assert_eq!(
        failed,
        Err(CommandError::Failed {
            status: "status 3".into()
        })
    );
    let missing = run(&spec(&["no-such-program-kk-0b1"]), &here());
    assert!(
        matches!(missing, Err(CommandError::NotFound { .. })),
        "{missing:?}"
    );
    for e in [failed, missing].into_iter().filter_map(Result::err) {
        assert!(!e.to_string().contains(canary), "{e}");
    }
}

#[test]
fn a_program_past_its_timeout_is_stopped() {
    let mut s = sh("echo partial; sleep 30");
    s.timeout = Duration::from_millis(300);
    assert_eq!(run(&s, &here()), Err(CommandError::TimedOut(s.timeout)));
    // Silent until then, too.
    let mut quiet = sh("sleep 30");
    quiet.timeout = Duration::from_millis(300);
    assert_eq!(
        run(&quiet, &here()),
        Err(CommandError::TimedOut(quiet.timeout))
    );
}

#[test]
fn output_past_the_limit_is_refused_without_reading_it_all() {
    // An endless writer: only the limit and one byte are read.
    let result = run(&spec(&["sh", "-c", "yes 0123456789abcdef"]), &here());
    assert_eq!(result, Err(CommandError::TooLarge));
    let exactly = format!("head -c {MAX_OUTPUT_BYTES} /dev/zero");
    let mut s = sh(&exactly);
    s.trim = false;
    let out = run(&s, &here()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.len(), MAX_OUTPUT_BYTES);
}

#[test]
fn the_command_line_is_shown_as_typed_and_escaped() {
    let s = spec(&["op", "read", "op://ml/hf token", "it's", "\u{1b}[2J"]);
    assert_eq!(
        s.display(),
        r#"op read 'op://ml/hf token' 'it'\''s' '\u{1b}[2J'"#
    );
}
