//! `export` (issue 11, point 4 and its share of point 5): a manifest that
//! reproduces your secrets, `diff` of it right after reporting no changes;
//! values only in files under `--values-dir`, never in any output.

use std::path::Path;

use crate::support::cli::TestCommand;
use crate::support::requests::owner_selector;
use crate::support::{
    OTHER_OWNER, OWNER, Run, TestEnv, arg, entry, mine, secret_object, tls_secret,
};

/// `diff -f manifest` as a user runs it after export: nothing sourced,
/// no variable of the secrets set (env files are read by `fromEnvFile`).
fn plain_diff(env: &TestEnv, manifest: &Path, extra: &[&str]) -> Run {
    env.cmd(extra).args(&["diff", "-f", arg(manifest)]).run()
}

/// `export --values-dir VALUES --out OUT`, after `flags` (`-v`).
fn export_into<'e>(env: &'e TestEnv, flags: &[&str], values: &Path, out: &Path) -> TestCommand<'e> {
    env.cmd(flags)
        .args(&["export", "--values-dir", arg(values), "--out", arg(out)])
}

/// The list export keeps of what it wrote in a values folder.
const RECORD: &str = ".konduktor-export.json";

/// Files (not folders) under `dir`, relative, sorted; export's record of
/// them left out.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(
                    p.strip_prefix(root)
                        .map(|r| r.display().to_string())
                        .unwrap_or_default(),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.retain(|f| f != RECORD);
    out.sort();
    out
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(p)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or(0)
}

/// Secrets made by `secret create` (file, directory, inline, env,
/// git-ssh) and by `apply`, exported with their values into a folder
/// whose name YAML must quote: `diff` of the exported manifest, nothing
/// sourced, exits 0. Nothing of any value in any output, with -v and -vv
/// too.
#[test]
fn created_and_applied_secrets_round_trip_through_export_and_diff() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let file_value = env.canary("file");
    let f = env.file("src/token.txt", &file_value);
    let dir = env.path("src/mycreds");
    env.file("src/mycreds/a.txt", env.canary("dir-a"));
    env.file("src/mycreds/sub/run.sh", env.canary("dir-b"));
    std::fs::set_permissions(dir.join("a.txt"), std::fs::Permissions::from_mode(0o600))
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(
        dir.join("sub/run.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let key = env.file("src/id_test", env.canary("gitkey"));
    let quote_value = format!("it's \"{}\" $HOME `x`", env.canary("env-quote"));
    env.create_file("c-file", arg(&f)).success();
    env.run(&["secret", "create", "--from-directory", arg(&dir), "c-dir"])
        .success();
    env.create("c-inline", &[("K1", &env.canary("inline"))])
        .success();
    env.create_env("c-env", &[("TOKEN", &quote_value), ("EMPTY", "")])
        .success();
    env.create_git_ssh("c-ssh", arg(&key)).success();
    let applied = env.manifest_file(
        "applied.yaml",
        &format!(
            "  - name: a-env\n    kind: env\n    inline:\n      MULTI: \"line one\\nline 'two' {}\\n\"\n  - name: a-files\n    fromFile: [src/token.txt]\n",
            env.canary("applied")
        ),
    );
    env.apply(&applied).success();

    // A folder name YAML and sh must both quote, next to the manifest.
    let values = env.path("va'l\"s #: x\ny");
    let out = env.path("exported.yaml");
    let run = export_into(&env, &["-vv"], &values, &out).run();
    run.success()
        .stderr_has("Exported 7 secrets")
        .stderr_lacks("subshell");
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    let text = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{e}"));
    env.assert_no_leak(&text);
    assert!(text.contains("owner: abba3a3e\n"), "{text}");
    assert!(!text.contains("INCOMPLETE"), "{text}");
    assert_eq!(mode(&values), 0o700);
    for f in files_under(&values) {
        let m = mode(&values.join(&f));
        let want = match f.as_str() {
            "c-dir/mycreds/sub/run.sh" => 0o755,
            _ => 0o600,
        };
        assert_eq!(m, want, "{f}");
    }
    assert_eq!(
        files_under(&values),
        vec![
            "a-env.env",
            "a-files/token.txt",
            "c-dir/mycreds/a.txt",
            "c-dir/mycreds/sub/run.sh",
            "c-env.env",
            "c-file/token.txt",
            "c-inline/K1",
            "c-ssh/gitkey",
        ]
    );
    assert_eq!(
        std::fs::read(values.join("c-file/token.txt")).unwrap_or_default(),
        file_value.as_bytes()
    );
    plain_diff(&env, &out, &["-v"]).success();

    // To standard output, absolute paths; -v too.
    let values2 = env.path("v2");
    let run = env.run(&["-v", "export", "--values-dir", arg(&values2)]);
    run.success();
    let out2 = env.file("stdout.yaml", &run.stdout);
    assert!(
        run.stdout
            .contains(&format!("\"{}/c-file/token.txt\"", values2.display())),
        "{}",
        run.stdout
    );
    plain_diff(&env, &out2, &["-vv"]).success();
}

/// The recorded objects Konduktor's own CLI made round-trip too: the
/// directory secret unpacks with the archive's own folder and modes.
#[test]
fn konduktor_made_secrets_round_trip_through_export_and_diff() {
    let env = TestEnv::new();
    env.seed_konduktor_made();
    let values = env.path("values");
    let out = env.path("secrets.yaml");
    export_into(&env, &[], &values, &out)
        .run()
        .success()
        .stderr_has("Exported 5 secrets");
    let text = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        text.contains("fromDirectory: \"./values/my-default-directory/mycreds\""),
        "{text}"
    );
    assert!(text.contains("    kind: git-ssh\n"), "{text}");
    assert!(
        text.contains("    fromEnvFile: \"./values/my-env.env\"\n"),
        "{text}"
    );
    assert_eq!(
        mode(&values.join("my-default-directory/mycreds/a.txt")),
        0o600
    );
    assert_eq!(
        mode(&values.join("my-default-directory/mycreds/sub/b.json")),
        0o644
    );
    assert_eq!(
        std::fs::read(values.join("my-default-directory/mycreds/sub/b.json")).unwrap_or_default(),
        std::fs::read(crate::support::fixtures().join("konduktor-made/source/mycreds/sub/b.json"))
            .unwrap_or_default()
    );
    plain_diff(&env, &out, &[]).success();
}

/// Without `--values-dir`: no file anywhere, every secret with its kind,
/// keys and placeholders, and both the text and stderr say to complete it.
#[test]
fn without_a_values_dir_nothing_is_written_and_the_manifest_says_to_complete_it() {
    let env = TestEnv::new();
    env.seed_konduktor_made();
    let before = files_under(env.dir.path());
    let home_before = files_under(env.home.path());
    for verbosity in [None, Some("-v"), Some("-vv")] {
        let mut args: Vec<&str> = verbosity.into_iter().collect();
        args.push("export");
        let run = env.run(&args);
        run.success().stderr_has("must be completed before use");
        assert!(run.stdout.starts_with("# INCOMPLETE"), "{}", run.stdout);
        for want in [
            "  - name: \"my-env\"\n    kind: env\n    # keys: BAZ, FOO\n    fromEnvFile: \"./values/my-env.env\" # TODO",
            "  - name: \"my-default-file\"\n    kind: default\n    # keys: secret-file.txt\n    fromFile:\n",
            "    fromDirectory: \"./values/my-default-directory/FOLDER\" # TODO",
            "  - name: \"my-ssh-2\"\n    kind: git-ssh\n",
        ] {
            run.stdout_has(want);
        }
        // The recorded values are short and known: none is in the text.
        for value in ["\"bar\"", "\"qux\""] {
            run.stdout_lacks(value);
        }
    }
    assert_eq!(files_under(env.dir.path()), before);
    // Only what any run leaves in HOME (the owner-hash cache), nothing new.
    assert!(
        files_under(env.home.path())
            .iter()
            .all(|f| home_before.contains(f) || f.contains("user_hash")),
        "{:?}",
        files_under(env.home.path())
    );
}

/// `--out` never replaces a file unasked, a non-empty DIR is refused; both
/// before any request. `--force` allows both.
#[test]
fn out_and_values_dir_are_refused_when_taken_unless_forced() {
    let env = TestEnv::new();
    let canary = env.canary("forced");
    env.create("one", &[("K", &canary)]).success();
    let out = env.file("secrets.yaml", "mine\n");
    env.clear_requests();
    env.run(&["export", "--out", arg(&out)])
        .failure()
        .stderr_has("exists already")
        .stderr_has("--force");
    assert_eq!(std::fs::read_to_string(&out).unwrap_or_default(), "mine\n");
    let taken = env.path("taken");
    env.file("taken/notes.txt", "keep");
    let taken_s = arg(&taken).to_string();
    env.run(&["export", "--values-dir", &taken_s])
        .failure()
        .stderr_has("is not empty")
        .stderr_has("--force");
    env.file("a-file", "x");
    env.run(&["export", "--values-dir", arg(&env.path("a-file"))])
        .failure()
        .stderr_has("not a folder");
    // A missing parent, or a link to nothing, is found before anything is
    // read or written (not once values are on disk).
    let fresh = env.path("fresh-values");
    env.run(&[
        "export",
        "--values-dir",
        arg(&fresh),
        "--out",
        arg(&env.path("no-such-folder/x.yaml")),
    ])
    .failure()
    .stderr_has("its folder does not exist");
    assert!(!fresh.exists(), "values written before the refusal");
    env.run(&["export", "--values-dir", arg(&env.path("nope/values"))])
        .failure()
        .stderr_has("its parent folder does not exist");
    let dangling = env.path("dangling");
    std::os::unix::fs::symlink(env.path("nowhere"), &dangling).unwrap_or_else(|e| panic!("{e}"));
    env.run(&["export", "--values-dir", arg(&dangling)])
        .failure()
        .stderr_has("a link to nothing");
    env.assert_no_requests();

    let forced = || {
        env.run(&[
            "export",
            "--out",
            arg(&out),
            "--force",
            "--values-dir",
            &taken_s,
        ])
    };
    forced().success();
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(text.contains("name: \"one\""), "{text}");
    assert_eq!(
        std::fs::read_to_string(taken.join("notes.txt")).unwrap_or_default(),
        "keep"
    );
    assert_eq!(
        std::fs::read_to_string(taken.join("one/K")).unwrap_or_default(),
        canary
    );
    // Again, over its own output.
    forced().success();
}

/// A secret a manifest cannot reproduce is listed, with the reason, on
/// stderr and in the manifest, and left out; the rest still diffs clean.
#[test]
fn unrepresentable_secrets_are_listed_and_left_out() {
    let env = TestEnv::new();
    let nul = format!("{}\0tail", env.canary("nul"));
    env.seed(secret_object("has-nul").value("TOKEN", &nul));
    env.seed(
        secret_object("odd-kind")
            .kind("kustom")
            .value("A", env.canary("odd")),
    );
    env.seed(
        secret_object("not-a-zip")
            .kind("default")
            .value("payload.zip", env.canary("zip")),
    );
    let fine = env.canary("fine");
    env.create_env("fine", &[("OK", &fine)]).success();
    let values = env.path("values");
    let out = env.path("secrets.yaml");
    let run = export_into(&env, &["-v"], &values, &out).run();
    run.success()
        .stderr_has("Exported 1 secret ")
        .stderr_has(&format!("left out secret `has-nul-{OWNER}` (basename `has-nul`): the value of `TOKEN` holds a NUL byte"))
        .stderr_has(&format!("left out secret `odd-kind-{OWNER}` (basename `odd-kind`): it is Konduktor's own (a secret of kind `kustom`"))
        .stderr_has(&format!("left out secret `not-a-zip-{OWNER}` (basename `not-a-zip`): its `payload.zip` is not a readable zip"));
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    env.assert_no_leak(&text);
    assert!(
        text.contains(&format!(
            "#   `has-nul-{OWNER}` (basename `has-nul`): the value of `TOKEN` holds a NUL byte"
        )),
        "{text}"
    );
    assert!(!text.contains("- name: \"has-nul\""), "{text}");
    assert_eq!(files_under(&values), vec!["fine.env"]);
    plain_diff(&env, &out, &[]).success();
    // Without values: the kind is still checked, the value never read.
    env.run(&["export"]).success().stderr_has(&format!(
        "left out secret `odd-kind-{OWNER}` (basename `odd-kind`)"
    ));
}

/// Only your own secrets: another user's (and the bystander every test
/// namespace holds) are never exported, listed or read into a file.
#[test]
fn another_users_secrets_are_never_exported() {
    let env = TestEnv::new();
    let theirs = env.canary("theirs");
    env.as_owner(OTHER_OWNER)
        .create_env("theirs", &[("THEIRS", &theirs)])
        .success();
    let value = env.canary("mine");
    env.create_env("mine", &[("MINE", &value)]).success();
    env.clear_requests();
    let values = env.path("values");
    let run = env.run(&["-vv", "export", "--values-dir", arg(&values)]);
    run.success().stdout_has("- name: \"mine\"");
    for other in ["theirs", "THEIRS", "bystander", OTHER_OWNER, "feedbeef"] {
        run.stdout_lacks(other).stderr_lacks(&format!("`{other}`"));
    }
    assert_eq!(files_under(&values), vec!["mine.env"]);
    if let Some(server) = env.fake() {
        let lists: Vec<_> = server
            .requests()
            .into_iter()
            .filter(|r| r.method == "GET")
            .collect();
        assert_eq!(lists.len(), 1, "{lists:#?}");
        assert_eq!(lists[0].label_selector(), Some(owner_selector(OWNER)));
    }
}

/// Issue 19, point 2: a key a co-tenant's tooling or a past mistake put
/// in an env secret (`HTTPS_PROXY`, `SSL_CERT_FILE`) must change nothing
/// outside the job. Export writes it to the secret's env file, read by
/// `fromEnvFile`; nothing (manifest, stderr) asks anyone to source a file,
/// and `diff` right after, run as is, reaches the cluster directly and
/// finds nothing to change.
#[test]
fn planted_proxy_variables_go_to_an_env_file_no_shell_reads() {
    let env = TestEnv::new();
    let token = env.canary("planted");
    env.create_env(
        "planted",
        &[
            ("HTTPS_PROXY", "http://127.0.0.1:9"),
            ("SSL_CERT_FILE", "/tmp/not-your-ca.pem"),
            ("TOKEN", &token),
        ],
    )
    .success();
    let values = env.path("values");
    let out = env.path("secrets.yaml");
    let run = export_into(&env, &[], &values, &out).run();
    run.success().stderr_has("Exported 1 secret ");
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    env.assert_no_leak(&text);
    assert!(
        text.contains("    fromEnvFile: \"./values/planted.env\"\n"),
        "{text}"
    );
    for said in [text.as_str(), run.stderr.as_str()] {
        for hint in ["subshell", " . ", "fromEnv:"] {
            assert!(!said.contains(hint), "{hint:?} in:\n{said}");
        }
    }
    let file = std::fs::read_to_string(values.join("planted.env")).unwrap_or_default();
    assert!(file.contains("do not source it"), "{file}");
    assert!(!file.contains("export "), "{file}");
    assert!(
        file.contains("\nHTTPS_PROXY=http://127.0.0.1:9\n"),
        "{file}"
    );
    plain_diff(&env, &out, &[]).success();
}

/// `fromEnvFile` by hand: every byte an env value can hold, as docs/manifest.md
/// defines the format, reaches the secret exactly; a bad line is named by
/// its number and the manifest's line, its value never shown; `fromEnv`
/// still works beside it.
#[test]
fn from_env_file_reads_exact_values_and_names_a_bad_line() {
    let env = TestEnv::new();
    let canary = env.canary("envfile");
    env.file(
        "vals/hf.env",
        format!(
            "# written by hand\n\nTOKEN={canary}\nTRICKY= it's \"q\" = #x \\\\n\\n\\té☃\\x41\nEMPTY=\n"
        ),
    );
    // (Line 6 is `fromEnvFile`.)
    let manifest = env.manifest_yaml(
        "  - name: hf\n    kind: env\n    fromEnvFile: vals/hf.env\n    inline: {MODE: online}\n",
    );
    env.apply(&manifest).success();
    let data = env.my_data("hf");
    assert_eq!(
        data.get("TRICKY").map(Vec::as_slice),
        Some(" it's \"q\" = #x \\n\n\té☃A".as_bytes())
    );
    assert_eq!(data.get("TOKEN"), Some(&canary.clone().into_bytes()));
    assert_eq!(data.get("EMPTY"), Some(&Vec::new()));
    assert_eq!(data.get("MODE"), Some(&b"online".to_vec()));
    env.diff(&manifest).success();

    env.file("vals/hf.env", format!("TOKEN=x\n{canary}\n"));
    let run = env.diff(&manifest);
    run.failure()
        .stderr_has("line 2: has no `=`")
        .stderr_has("secrets.yaml:6");
    env.assert_no_leak(&run.stderr);
    env.file("vals/hf.env", format!("export TOKEN='{canary}'\n"));
    env.diff(&manifest)
        .failure()
        .stderr_has("line 1: starts with `export`");
}

/// Issue 19, point 3: `--out` (export's manifest, diff's saved plan)
/// replaces only a regular file. A link (to a file of the user's, or
/// `/dev/stdout`), a FIFO, `/dev/null`, a folder: refused, named, even with
/// `--force`, before any request; the thing is left as it was.
#[test]
fn out_never_replaces_anything_but_a_regular_file_even_with_force() {
    let env = TestEnv::new();
    env.create("one", &[("K", "v")]).success();
    let manifest = env.manifest(&[entry("one").inline(&[("K", "v")])]);
    let target = env.file("precious.txt", "keep\n");
    let link = env.path("link.yaml");
    std::os::unix::fs::symlink(&target, &link).unwrap_or_else(|e| panic!("{e}"));
    let fifo = env.path("fifo");
    crate::support::mkfifo(&fifo);
    let folder = env.path("folder");
    std::fs::create_dir(&folder).unwrap_or_else(|e| panic!("{e}"));
    let cases: [(&Path, &str); 5] = [
        (&link, "a symbolic link"),
        (Path::new("/dev/stdout"), "a symbolic link"),
        (&fifo, "a FIFO"),
        (Path::new("/dev/null"), "a character device"),
        (&folder, "a directory"),
    ];
    env.clear_requests();
    for (out, kind) in cases {
        for force in [false, true] {
            let mut export = vec!["export", "--out", arg(out)];
            let mut diff = vec!["diff", "-f", &manifest, "--out", arg(out)];
            if force {
                export.push("--force");
                diff.push("--force");
            }
            for args in [export, diff] {
                env.cmd(&args)
                    .no_namespace()
                    .run_unhung()
                    .failure()
                    .stderr_has(kind)
                    .stderr_has("never replaced");
            }
        }
    }
    env.assert_no_requests();
    assert_eq!(
        std::fs::read_to_string(&target).unwrap_or_default(),
        "keep\n"
    );
    assert!(std::fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink()));
    {
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::symlink_metadata(&fifo).is_ok_and(|m| m.file_type().is_fifo()));
        assert!(
            std::fs::symlink_metadata("/dev/null").is_ok_and(|m| m.file_type().is_char_device())
        );
    }
}

/// `--out -` is standard output: export's manifest, diff's plan (the
/// review goes to standard error then); no file named `-` is made.
#[test]
fn out_dash_is_standard_output() {
    let env = TestEnv::new();
    let canary = env.canary("dash");
    env.create("one", &[("K", &canary)]).success();
    env.run(&["export", "--out", "-"])
        .success()
        .stdout_has("- name: \"one\"")
        .stderr_has("to standard output");
    let manifest = env.manifest(&[entry("one").inline(&[("K", "changed")])]);
    let run = env.diff_with(&manifest, &["--out", "-"]);
    run.exits(1);
    let plan: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.stdout));
    assert_eq!(plan["formatVersion"], 2);
    run.stderr_has("~ K").stderr_has("standard output");
    assert!(!env.path("-").exists());
    assert!(!std::path::Path::new("-").exists());
}

/// `--values-dir DIR --force` over its own earlier output: what it wrote is
/// replaced, what it wrote for a secret since deleted is removed, the
/// user's own file beside them is kept; a file of the user's where it
/// would write is in its way: refused, named, nothing changed.
#[test]
fn force_replaces_only_what_export_wrote_itself() {
    let env = TestEnv::new();
    for name in ["one", "two"] {
        let v = env.canary(name);
        env.create_env(name, &[("K", &v)]).success();
    }
    let values = env.path("values");
    let out = env.path("secrets.yaml");
    export_into(&env, &[], &values, &out).run().success();
    let record = std::fs::read_to_string(values.join(RECORD)).unwrap_or_default();
    env.assert_no_leak(&record);
    assert!(record.contains("\"one.env\""), "{record}");
    assert_eq!(mode(&values.join(RECORD)), 0o600);
    env.file("values/notes.txt", "mine");
    env.run(&["secret", "delete", "two"]).success();
    export_into(&env, &[], &values, &out)
        .arg("--force")
        .run()
        .success();
    assert_eq!(files_under(&values), vec!["notes.txt", "one.env"]);
    plain_diff(&env, &out, &[]).success();

    // The user's file where export writes, unknown to the record.
    env.create_env("three", &[("K", "x")]).success();
    env.file("values/three.env", "K=the user's own\n");
    let run = export_into(&env, &[], &values, &out).arg("--force").run();
    run.failure()
        .stderr_has("`three.env`")
        .stderr_has("did not write");
    assert_eq!(
        std::fs::read_to_string(values.join("three.env")).unwrap_or_default(),
        "K=the user's own\n"
    );
    assert_eq!(
        files_under(&values),
        vec!["notes.txt", "one.env", "three.env"]
    );
}

/// A secret export cannot write (an archive entry name over 255 bytes),
/// one a finalizer holds, and names YAML would misread (`null`, `true`,
/// `123`): the first two are left out with the reason, the rest exported,
/// and `diff` of the result is clean.
#[test]
fn what_cannot_be_written_is_left_out_and_odd_names_read_back() {
    use std::io::Write as _;
    let env = TestEnv::new();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().unix_permissions(0o600);
    w.start_file(format!("creds/{}", "n".repeat(300)), options)
        .unwrap_or_else(|e| panic!("{e}"));
    w.write_all(env.canary("long").as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let zip = w.finish().unwrap_or_else(|e| panic!("{e}")).into_inner();
    env.seed(
        secret_object("long")
            .kind("default")
            .value("payload.zip", &zip),
    );
    for name in ["null", "true", "123"] {
        env.seed(secret_object(name).value("K", env.canary(name)));
    }
    let held = env.fake().map(|server| {
        env.create("going", &[("K", "v")]).success();
        server.add_finalizer(&env.namespace, &mine("going"), "example.com/hold");
        server.delete_secret_elsewhere(&env.namespace, &mine("going"));
    });
    let values = env.path("values");
    let out = env.path("secrets.yaml");
    let run = export_into(&env, &[], &values, &out).run();
    run.success()
        .stderr_has("Exported 3 secrets")
        .stderr_has(&format!(
            "left out secret `long-{OWNER}` (basename `long`): the file system refuses the name"
        ));
    if held.is_some() {
        run.stderr_has(&format!(
            "left out secret `going-{OWNER}` (basename `going`): it is being deleted"
        ));
    }
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    for name in ["null", "true", "123"] {
        assert!(text.contains(&format!("- name: \"{name}\"\n")), "{text}");
    }
    assert_eq!(
        files_under(&values),
        vec!["123.env", "null.env", "true.env"]
    );
    plain_diff(&env, &out, &[]).success();
}

/// Only Opaque Secrets are Konduktor's: a `kubernetes.io/tls` one with our
/// labels is left out (its key never written), a planted
/// `kubernetes.io/ssh-auth` one labelled git-ssh hides nothing, and a
/// planted object naming one of our basenames is named by its object.
#[test]
fn only_opaque_secrets_are_exported_and_left_outs_name_their_object() {
    let env = TestEnv::new();
    let tls_key = env.canary("tls-key");
    env.seed(tls_secret("tls", "c", &tls_key));
    env.seed(
        secret_object("planted")
            .kind("git-ssh")
            .of_type("kubernetes.io/ssh-auth")
            .value("ssh-privatekey", env.canary("planted"))
            .value("gitkey", env.canary("planted-gitkey")),
    );
    env.seed(
        secret_object("mine")
            .kind("weird")
            .named("plantbase-aaaa1111")
            .value("A", env.canary("plant")),
    );
    let key = env.canary("gitkey");
    let key_file = env.file_arg("id", format!("-----BEGIN KEY-----\n{key}\n"));
    env.create_git_ssh("ssh", &key_file).success();
    env.create("mine", &[("A", "b")]).success();
    let values = env.path("values");
    let out = env.path("secrets.yaml");
    let run = export_into(&env, &[], &values, &out).run();
    run.success()
        .stderr_has("Exported 2 secrets")
        .stderr_has(&format!("left out secret `tls-{OWNER}` (basename `tls`): it is a Secret of type `kubernetes.io/tls`, not Opaque"))
        .stderr_has(&format!("left out secret `planted-{OWNER}` (basename `planted`): it is a Secret of type `kubernetes.io/ssh-auth`, not Opaque"))
        .stderr_has("left out secret `plantbase-aaaa1111` (basename `mine`): it is Konduktor's own")
        .stderr_lacks("git-ssh secrets");
    assert_eq!(files_under(&values), vec!["mine/A", "ssh/gitkey"]);
    // What was exported is unchanged; the planted objects stay conflicts
    // diff names (never written), not changes the manifest brings.
    let diff = plain_diff(&env, &out, &[]);
    diff.stdout_has("  mine (default): unchanged")
        .stdout_has("  ssh (git-ssh): unchanged")
        .stdout_has("Plan: 0 to create, 0 to merge, 0 to delete, 2 unchanged.");
}
