use super::*;
use crate::secrets::manifest::command::CommandError;

fn ok(text: &str) -> Manifest {
    parse(Path::new("/m/secrets.yaml"), text).unwrap_or_else(|e| panic!("{e:?}"))
}

fn err(text: &str) -> String {
    match parse(Path::new("/m/secrets.yaml"), text) {
        Ok(m) => panic!("accepted: {m:?}"),
        Err(e) => format!("{e} {}", crate::output::diagnostic(&e, false)),
    }
}

const HEAD: &str = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\n";

#[test]
fn parses_every_source() {
    let m = ok(&format!(
        "{HEAD}secrets:\n  - name: hf\n    kind: env\n    fromEnv: [HF_TOKEN]\n    inline: {{WANDB_MODE: online}}\n  - name: github\n    kind: git-ssh\n    fromFile: ~/.ssh/id\n  - name: creds\n    fromDirectory: ./creds\n  - name: config\n    fromFile: [./a.json, b.txt]\n  - name: old\n    state: absent\n"
    ));
    assert_eq!(m.entries.len(), 5);
    match &m.entries[3].state {
        EntryState::Present {
            source: EntrySource::Files(f),
            ..
        } => {
            assert_eq!(f[0].0, PathBuf::from("/m/./a.json"));
            assert_eq!(f[1].0, PathBuf::from("/m/b.txt"));
            assert_eq!(f[1].1.line, 14);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(m.entries[4].state, EntryState::Absent);
}

#[test]
fn typos_get_a_suggestion() {
    let e = err(&format!("{HEAD}secrets:\n  - name: a\n    fromFil: x\n"));
    assert!(e.contains("did you mean `fromFile`"), "{e}");
    assert!(e.contains("secrets.yaml:5:5"), "{e}");
    let e = err(&format!(
        "{HEAD}secrets:\n  - name: a\n    kind: gitssh\n    fromFile: x\n"
    ));
    assert!(e.contains("did you mean `git-ssh`"), "{e}");
}

#[test]
fn several_problems_are_all_reported() {
    let e = err(&format!(
        "{HEAD}secrets:\n  - name: Bad\n    inline: {{a: b}}\n  - name: x\n"
    ));
    assert!(e.contains("2 problems"), "{e}");
    assert!(e.contains("DNS-1123") && e.contains("no source"), "{e}");
}

// ------------------------------------------------------------ owner:

use crate::konduktor::identity::{HashSource, Owner};

fn with_owner(owner: &str) -> String {
    format!("{HEAD}owner: {owner}\nsecrets:\n  - name: a\n    inline: {{A: cnryOwnerValue0123}}\n")
}

fn me(hash: &str, source: HashSource) -> Owner {
    Owner {
        hash: hash.to_string(),
        source,
        username: "alice".to_string(),
    }
}

fn mismatch(m: &Manifest, owner: &Owner) -> String {
    match m.check_owner(owner) {
        Ok(()) => panic!("{} accepted for {}", m.path.display(), owner.hash),
        Err(e) => crate::output::diagnostic(&e, false),
    }
}

#[test]
fn a_manifest_may_name_its_owner() {
    let m = ok(&with_owner("abba3a3e"));
    let owner = m.owner.as_ref().unwrap_or_else(|| panic!("no owner"));
    assert_eq!(owner.hash, "abba3a3e");
    assert_eq!((owner.place.line, owner.place.column), (3, 8));
    assert_eq!(m.entries.len(), 1);
    // Quoted, it is still written out on its line.
    let m = ok(&with_owner("\"abba3a3e\""));
    assert_eq!(m.owner.map(|o| o.hash).as_deref(), Some("abba3a3e"));
    // Without it, nothing is asked of the owner.
    let m = ok(&format!("{HEAD}secrets: []\n"));
    assert!(m.owner.is_none());
    assert!(
        m.check_owner(&me("8417fdac", HashSource::UserIdEnv))
            .is_ok()
    );
}

#[test]
fn owner_must_be_an_owner_hash() {
    for (given, what) in [
        (
            "ABBA3A3E",
            "`owner` is `ABBA3A3E`, which is not an owner hash",
        ),
        (
            "abba3a3",
            "`owner` is `abba3a3`, which is not an owner hash",
        ),
        (
            "abba3a3e0",
            "`owner` is `abba3a3e0`, which is not an owner hash",
        ),
        ("\"\"", "`owner` is empty"),
        ("", "`owner` has no value"),
        ("[abba3a3e]", "`owner` should be a single value, not a list"),
        (
            "{hash: abba3a3e}",
            "`owner` should be a single value, not a mapping",
        ),
    ] {
        let e = err(&with_owner(given));
        assert!(e.contains("secrets.yaml:3:"), "{given}: {e}");
        assert!(e.contains(what), "{given}: {e}");
        assert!(e.contains("8 lowercase hex characters"), "{given}: {e}");
        assert!(e.contains("kubectl konduktor whoami"), "{given}: {e}");
        assert!(!e.contains("cnryOwnerValue0123"), "{given}: {e}");
    }
    // A typo is a near miss of `owner`.
    let e = err(&format!("{HEAD}ownr: abba3a3e\nsecrets: []\n"));
    assert!(e.contains("did you mean `owner`"), "{e}");
}

#[test]
fn an_owner_that_could_be_a_value_is_never_quoted() {
    // Through an alias of an inline value, with an anchor or a tag, or
    // over several lines, the reader does not vouch for it: not shown.
    let canary = "cnryQ3mN8rT5yU2wE6aZ";
    for text in [
        format!("{HEAD}secrets:\n  - name: a\n    inline: {{A: &v {canary}}}\nowner: *v\n"),
        format!("{HEAD}owner: &o {canary}\nsecrets: []\n"),
        format!("{HEAD}owner: !!str {canary}\nsecrets: []\n"),
        format!("{HEAD}owner: \"{canary}\n  x\"\nsecrets: []\n"),
        format!("{HEAD}owner: |\n  {canary}\nsecrets: []\n"),
    ] {
        let e = err(&text);
        assert!(e.contains("`owner`"), "{text}: {e}");
        assert!(!e.contains(&canary[10..]), "{text}: {e}");
    }
    // Written out on its line, it is shown only if it could be a mistyped
    // hash: a pasted token never is.
    for pasted in [
        canary.to_string(),
        "HF_TOKEN=hf_SECRETVALUE123".to_string(),
        format!("\"{canary}\""),
        "hf_abc".to_string(),
    ] {
        let e = err(&with_owner(&pasted));
        assert!(
            e.contains("`owner` is not an owner hash (not shown"),
            "{pasted}: {e}"
        );
        assert!(
            !e.contains("SECRETVALUE") && !e.contains(&canary[10..]),
            "{pasted}: {e}"
        );
    }
}

#[test]
fn a_different_owner_stops_with_both_hashes_and_the_fix() {
    let m = ok(&with_owner("abba3a3e"));
    let same = me("abba3a3e", HashSource::UserIdEnv);
    assert!(m.check_owner(&same).is_ok());

    let file = HashSource::CacheFile {
        path: "/home/alice/.konduktor/user_hash".into(),
    };
    let computed = HashSource::Computed {
        path: Some("/home/alice/.konduktor/user_hash".into()),
        seed: "alice-4d3e".into(),
    };
    for source in [file, computed] {
        let e = mismatch(&m, &me("8417fdac", source.clone()));
        assert!(e.contains("/m/secrets.yaml:3:8"), "{e}");
        assert!(e.contains("`abba3a3e`") && e.contains("`8417fdac`"), "{e}");
        assert!(e.contains(&source.to_string()), "{e}");
        assert!(
            e.contains("kubectl konduktor identity adopt abba3a3e"),
            "{e}"
        );
        assert!(e.contains("`owner:`"), "{e}");
        assert!(!e.contains("cnryOwnerValue0123"), "{e}");
    }
    for (source, var) in [
        (HashSource::UserIdEnv, "KONDUKTOR_USER_ID"),
        (HashSource::TestOverride, "KONDUKTOR_TEST_USER_HASH"),
    ] {
        let e = mismatch(&m, &me("8417fdac", source));
        assert!(e.contains(&format!("(env {var})")), "{e}");
        assert!(e.contains(&format!("set {var} to `abba3a3e`")), "{e}");
        assert!(e.contains(&format!("unset {var}")), "{e}");
        assert!(!e.contains("identity adopt abba3a3e"), "{e}");
        assert!(e.contains("`owner:`"), "{e}");
    }
}

#[test]
fn the_owner_mismatch_reads_well() {
    let m = ok(&with_owner("abba3a3e"));
    let file = HashSource::CacheFile {
        path: "/home/alice/.konduktor/user_hash".into(),
    };
    insta::assert_snapshot!("owner_mismatch_file", mismatch(&m, &me("8417fdac", file)));
    insta::assert_snapshot!(
        "owner_mismatch_env",
        mismatch(&m, &me("8417fdac", HashSource::UserIdEnv))
    );
    insta::assert_snapshot!("owner_not_a_hash", err(&with_owner("ABBA3A3E")));
}

// ------------------------------------------------------------ fromCommand

fn commands_of(m: &Manifest) -> Vec<(String, CommandSpec)> {
    m.commands()
        .into_iter()
        .map(|(s, c)| (s.to_string(), c.clone()))
        .collect()
}

#[test]
fn from_command_entries_are_read_with_their_defaults() {
    let m = ok(&format!(
        "{HEAD}secrets:\n  - name: hf\n    kind: env\n    inline: {{WANDB_MODE: online}}\n    fromCommand:\n      - key: HF_TOKEN\n        command: [op, read, \"op://ml/huggingface/token\"]\n      - key: WANDB_API_KEY\n        command: [vault, kv, get, -field=key, secret/wandb]\n        timeout: 2m\n        trim: false\n  - name: github\n    kind: git-ssh\n    fromCommand:\n      - key: gitkey\n        command: [pass, show, ssh/github]\n  - name: creds\n    fromCommand:\n      - key: config.toml\n        command: [sops, -d, config.enc.toml]\n"
    ));
    let commands = commands_of(&m);
    type Row<'a> = (&'a str, &'a str, Vec<&'a str>, u64, bool, u32);
    let summary: Vec<Row> = commands
        .iter()
        .map(|(s, c)| {
            (
                s.as_str(),
                c.key.as_str(),
                c.argv.iter().map(String::as_str).collect(),
                c.timeout.as_secs(),
                c.trim,
                c.place.line,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "hf",
                "HF_TOKEN",
                vec!["op", "read", "op://ml/huggingface/token"],
                30,
                true,
                8
            ),
            (
                "hf",
                "WANDB_API_KEY",
                vec!["vault", "kv", "get", "-field=key", "secret/wandb"],
                120,
                false,
                10
            ),
            (
                "github",
                "gitkey",
                vec!["pass", "show", "ssh/github"],
                30,
                true,
                17
            ),
            (
                "creds",
                "config.toml",
                vec!["sops", "-d", "config.enc.toml"],
                30,
                true,
                21
            ),
        ]
    );
}

#[test]
fn from_command_mistakes_are_located() {
    let cases = [
        (
            "    fromCommand: op read x\n",
            "should be a list of entries",
        ),
        (
            "    fromCommand:\n      - key: A\n        command: op read x\n",
            "`command` should be a list",
        ),
        ("    fromCommand:\n      - command: [op]\n", "has no `key`"),
        ("    fromCommand:\n      - key: A\n", "has no `command`"),
        (
            "    fromCommand:\n      - key: A\n        command: []\n",
            "names no program",
        ),
        (
            "    fromCommand:\n      - key: A\n        command: [op]\n        timeout: soon\n",
            "is not a duration",
        ),
        (
            "    fromCommand:\n      - key: A\n        command: [op]\n        timeout: 0s\n",
            "must be at least 1ms",
        ),
        (
            "    fromCommand:\n      - key: A\n        command: [op]\n        trim: maybe\n",
            "`trim` should be true or false",
        ),
        (
            "    fromCommand:\n      - key: A\n        command: [op]\n        shell: true\n",
            "unknown field `shell`",
        ),
        (
            "    fromCommand:\n      - key: bad-name\n        command: [op]\n",
            "environment variable name",
        ),
        (
            "    inline: {A: x}\n    fromCommand:\n      - key: A\n        command: [op]\n",
            "given twice",
        ),
        (
            "    fromFile: x\n    fromCommand:\n      - key: A\n        command: [op]\n",
            "several sources",
        ),
    ];
    for (body, expected) in cases {
        let e = err(&format!(
            "{HEAD}secrets:\n  - name: s\n    kind: env\n{body}"
        ));
        assert!(e.contains(expected), "{body}: {e}");
        assert!(e.contains("secrets.yaml:"), "located: {e}");
    }
    let e = err(&format!(
        "{HEAD}secrets:\n  - name: github\n    kind: git-ssh\n    fromCommand:\n      - key: id_rsa\n        command: [pass, show, x]\n"
    ));
    assert!(e.contains("git-ssh secret's key is `gitkey`"), "{e}");
    let e = err(&format!(
        "{HEAD}secrets:\n  - name: github\n    kind: git-ssh\n    fromCommand:\n      - key: gitkey\n        command: [a]\n      - key: other\n        command: [b]\n"
    ));
    assert!(e.contains("cannot take `fromCommand`"), "{e}");
}

#[test]
fn a_command_argument_through_an_alias_is_refused_unshown() {
    let canary = "canary-arg-5521";
    let e = err(&format!(
        "{HEAD}x: &a {canary}\nsecrets:\n  - name: s\n    fromCommand:\n      - key: K\n        command: [op, *a]\n"
    ));
    assert!(e.contains("command argument"), "{e}");
    assert!(!e.contains(canary), "{e}");
}

/// A fake runner: each program prints what the map says, or fails.
fn load_running(
    m: &Manifest,
    outputs: &[(&str, Result<&str, CommandError>)],
) -> (Result<Vec<Desired>, Error>, Vec<String>) {
    let ran = std::cell::RefCell::new(Vec::new());
    let run = |spec: &CommandSpec, _dir: &Path| {
        ran.borrow_mut().push(spec.argv.join(" "));
        match outputs.iter().find(|(p, _)| *p == spec.argv[0]) {
            Some((_, Ok(v))) => Ok(SecretBytes::new(v.as_bytes().to_vec())),
            Some((_, Err(e))) => Err(e.clone()),
            None => Err(CommandError::NotFound {
                program: spec.argv[0].clone(),
            }),
        }
    };
    let result = load_with(m, &|_| None, Commands::Run(&run));
    (result, ran.into_inner())
}

#[test]
fn command_outputs_become_values_with_their_origin_and_mix_with_inline() {
    let m = ok(&format!(
        "{HEAD}secrets:\n  - name: hf\n    kind: env\n    inline: {{MODE: online}}\n    fromCommand:\n      - key: HF_TOKEN\n        command: [op, read, \"op://ml/hf token\"]\n"
    ));
    let (loaded, ran) = load_running(&m, &[("op", Ok("hf_canary_1"))]);
    let loaded = loaded.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ran, ["op read op://ml/hf token"]);
    let Desired::Present(s) = &loaded[0] else {
        panic!("{loaded:?}")
    };
    assert_eq!(s.data["HF_TOKEN"].expose(), b"hf_canary_1");
    assert_eq!(s.data["MODE"].expose(), b"online");
    assert_eq!(
        s.origins.get("HF_TOKEN").map(String::as_str),
        Some("command `op read 'op://ml/hf token'`")
    );
    assert!(!s.origins.contains_key("MODE"));
}

#[test]
fn the_first_failing_command_stops_the_rest_and_is_named_without_its_output() {
    let m = ok(&format!(
        "{HEAD}secrets:\n  - name: a\n    fromCommand:\n      - key: A\n        command: [first]\n      - key: B\n        command: [second, x]\n  - name: b\n    fromCommand:\n      - key: C\n        command: [third]\n"
    ));
    let failed = CommandError::Failed {
        status: "status 1".into(),
    };
    let (loaded, ran) = load_running(
        &m,
        &[
            ("first", Ok("1")),
            ("second", Err(failed)),
            ("third", Ok("3")),
        ],
    );
    assert_eq!(ran, ["first", "second x"], "nothing runs after a failure");
    let e = loaded
        .map(|_| ())
        .err()
        .map(|e| crate::output::diagnostic(&e, false))
        .unwrap_or_default();
    assert!(
        e.contains("the command for key `B` (`second x`) failed: it exited with status 1"),
        "{e}"
    );
    assert!(e.contains("secrets.yaml:8:9"), "{e}");
}

#[test]
fn without_permission_nothing_runs_and_every_command_is_listed() {
    let m = ok(&format!(
        "{HEAD}secrets:\n  - name: a\n    kind: env\n    fromCommand:\n      - key: A\n        command: [op, read, \"op://x/y\"]\n  - name: b\n    fromCommand:\n      - key: gitkey\n        command: [pass, show, z]\n"
    ));
    let e = load(&m, &|_| None)
        .map(|_| ())
        .err()
        .unwrap_or_else(|| panic!("loaded"));
    let shown = crate::output::diagnostic(&e, false);
    assert!(shown.contains("would run 2 commands"), "{shown}");
    assert!(
        shown.contains("`op read op://x/y` for its key `A`"),
        "{shown}"
    );
    assert!(
        shown.contains("`pass show z` for its key `gitkey`"),
        "{shown}"
    );
    assert!(shown.contains("--allow-commands"), "{shown}");
    // A manifest without commands loads as before.
    let plain = ok(&format!(
        "{HEAD}secrets:\n  - name: a\n    inline: {{A: x}}\n"
    ));
    assert!(load(&plain, &|_| None).is_ok());
}

#[test]
fn no_command_runs_when_another_source_already_stops_the_run() {
    let m = ok(&format!(
        "{HEAD}secrets:\n  - name: a\n    fromCommand:\n      - key: A\n        command: [op]\n  - name: b\n    fromFile: /no/such/file-kk\n  - name: c\n    kind: env\n    fromEnv: [KK_UNSET_VARIABLE_0]\n"
    ));
    let (loaded, ran) = load_running(&m, &[("op", Ok("1"))]);
    assert!(ran.is_empty(), "ran {ran:?}");
    let e = loaded
        .map(|_| ())
        .err()
        .map(|e| crate::output::diagnostic(&e, false))
        .unwrap_or_default();
    assert!(
        e.contains("file-kk") && e.contains("KK_UNSET_VARIABLE_0"),
        "{e}"
    );
    // Without those, it runs, and the secrets keep their file order.
    let m = ok(&format!(
        "{HEAD}secrets:\n  - name: a\n    fromCommand:\n      - key: A\n        command: [op]\n  - name: b\n    inline: {{B: x}}\n"
    ));
    let (loaded, ran) = load_running(&m, &[("op", Ok("1"))]);
    assert_eq!(ran, ["op"]);
    let names: Vec<String> = loaded
        .unwrap_or_default()
        .iter()
        .map(|d| d.basename().to_string())
        .collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn near_misses_of_the_manifests_fields_are_suggested() {
    use crate::input::located::did_you_mean;
    assert_eq!(did_you_mean("fromDir", ENTRY_FIELDS), Some("fromDirectory"));
    assert_eq!(did_you_mean("fromfile", ENTRY_FIELDS), Some("fromFile"));
    assert_eq!(did_you_mean("secret", TOP_FIELDS), Some("secrets"));
    assert_eq!(did_you_mean("zzzzzz", TOP_FIELDS), None);
    assert_eq!(did_you_mean(&"x".repeat(10_000), TOP_FIELDS), None);
}

#[test]
fn the_snippet_header_counts_columns_of_the_file() {
    // `***` is shorter than the value before the error: the header must
    // still give the column in the file, as the message does.
    let text = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n  - {name: a, inline: {A: a-long-secret-value}, bogus: 1}\n";
    let err = match parse(Path::new("m.yaml"), text) {
        Err(e) => e,
        Ok(_) => panic!("accepted"),
    };
    let shown = crate::output::diagnostic(&err, false);
    assert!(
        shown.contains("m.yaml:4:49: unknown field `bogus`"),
        "{shown}"
    );
    assert!(shown.contains("[m.yaml:4:49]"), "{shown}");
    assert!(!shown.contains("a-long-secret-value"), "{shown}");
}
