use super::*;

const CANARY: &str = "hunter2-canary-value";

fn parsed(text: &str) -> KonduktorConfig {
    parse(Path::new("/h/.konduktor/config.yaml"), text)
        .unwrap_or_else(|e| panic!("{}", crate::output::diagnostic(&e, false)))
}

/// The whole rendered diagnostic: message, related problems, snippets.
fn problems(text: &str) -> String {
    match parse(Path::new("/h/.konduktor/config.yaml"), text) {
        Ok(c) => panic!("accepted: {c:?}"),
        Err(e) => {
            let shown = crate::output::diagnostic(&e, false);
            assert!(!shown.contains(CANARY), "a value is shown:\n{shown}");
            assert!(
                !shown.contains("hunter2"),
                "part of a value is shown:\n{shown}"
            );
            shown
        }
    }
}

fn inputs(env: Option<&str>, home: Option<&Path>) -> ConfigInputs {
    ConfigInputs {
        env_path: env.map(OsString::from),
        home: home.map(Path::to_path_buf),
    }
}

#[test]
fn the_variable_wins_over_the_default_and_tilde_is_home() {
    let home = Path::new("/home/alice");
    let default = inputs(None, Some(home)).candidate();
    assert_eq!(
        default,
        Some(Candidate {
            path: home.join(".konduktor/config.yaml"),
            from_env: false
        })
    );
    let named = inputs(Some("~/team/k.yaml"), Some(home)).candidate();
    assert_eq!(
        named,
        Some(Candidate {
            path: home.join("team/k.yaml"),
            from_env: true
        })
    );
    assert_eq!(
        inputs(Some("~"), Some(home)).candidate().map(|c| c.path),
        Some(home.to_path_buf())
    );
    // `~user` is not expanded (nor is anything without a HOME).
    assert_eq!(
        inputs(Some("~bob/k.yaml"), Some(home))
            .candidate()
            .map(|c| c.path),
        Some(PathBuf::from("~bob/k.yaml"))
    );
    assert_eq!(inputs(None, None).candidate(), None);
}

#[test]
fn no_file_is_no_config_but_a_named_missing_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(load(&inputs(None, Some(dir.path()))).ok(), Some(None));
    assert_eq!(load(&inputs(None, None)).ok(), Some(None));
    let missing = dir.path().join("nope.yaml");
    let missing_text = missing.to_string_lossy().into_owned();
    let err = load(&inputs(Some(&missing_text), Some(dir.path())))
        .err()
        .unwrap_or_else(|| panic!("a missing named file is accepted"));
    assert!(err.message().contains(ENV_CONFIG), "{err}");
    assert!(err.message().contains(&missing_text), "{err}");
    let empty = load(&inputs(Some(""), Some(dir.path())))
        .err()
        .unwrap_or_else(|| panic!("an empty variable is accepted"));
    assert!(empty.message().contains("empty"), "{empty}");
}

#[test]
fn an_existing_file_applies_even_empty_and_a_folder_is_an_error() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let konduktor = dir.path().join(".konduktor");
    std::fs::create_dir_all(&konduktor).unwrap_or_else(|e| panic!("{e}"));
    let path = konduktor.join("config.yaml");
    std::fs::write(&path, "").unwrap_or_else(|e| panic!("{e}"));
    let config = load(&inputs(None, Some(dir.path()))).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.map(|c| c.path), Some(path.clone()));
    std::fs::remove_file(&path).unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir(&path).unwrap_or_else(|e| panic!("{e}"));
    let err = load(&inputs(None, Some(dir.path())))
        .err()
        .unwrap_or_else(|| panic!("a folder is accepted"));
    assert!(err.message().contains("directory"), "{err}");
}

#[test]
fn a_file_over_the_cap_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("big.yaml");
    let big = usize::try_from(MAX_CONFIG_BYTES).unwrap_or(usize::MAX) + 1;
    std::fs::write(&path, "#".repeat(big)).unwrap_or_else(|e| panic!("{e}"));
    let named = path.to_string_lossy().into_owned();
    let err = load(&inputs(Some(&named), None))
        .err()
        .unwrap_or_else(|| panic!("a huge file is accepted"));
    assert!(err.message().contains("1 MiB"), "{err}");
}

#[test]
fn only_the_two_keys_are_read_and_the_rest_is_ignored_unshown() {
    let config = parsed(&format!(
        "logs:\n  backend: {CANARY}\nadmin_policy: {CANARY}\nkubernetes:\n  pod_config: {{spec: {{x: {CANARY}}}}}\n  provision_timeout: 10\n  allowed_contexts: [prod]\n  custom_metadata:\n    labels: {{team: ml, example.com/tier: \"1\"}}\n    annotations: {{Example.com/Note: \"{CANARY} any text: at all\"}}\n    finalizers: [x]\n"
    ));
    assert_eq!(config.allowed_contexts, vec!["prod".to_string()]);
    assert_eq!(config.default_context(), Some("prod"));
    assert_eq!(
        config.custom_metadata.labels,
        BTreeMap::from([
            ("example.com/tier".to_string(), "1".to_string()),
            ("team".to_string(), "ml".to_string()),
        ])
    );
    assert_eq!(config.custom_metadata.annotations.len(), 1);
    assert!(config.overrides_ours().is_empty());
    // Nothing at all is fine too.
    assert_eq!(
        parsed("kubernetes:\n").allowed_contexts,
        Vec::<String>::new()
    );
    assert_eq!(parsed("# only a comment\n").default_context(), None);
}

#[test]
fn a_context_is_picked_only_from_exactly_one_entry() {
    assert_eq!(
        parsed("kubernetes:\n  allowed_contexts: [a, b]\n").default_context(),
        None
    );
    assert_eq!(
        parsed("kubernetes:\n  allowed_contexts: []\n").default_context(),
        None
    );
    assert_eq!(
        parsed("kubernetes:\n  allowed_contexts:\n    - only\n").default_context(),
        Some("only")
    );
}

#[test]
fn wrong_shapes_are_located_errors_that_show_no_value() {
    let shown = problems(&format!("kubernetes:\n  allowed_contexts: {CANARY}\n"));
    assert!(shown.contains("config.yaml:2:21"), "{shown}");
    assert!(
        shown.contains("should be a list of context names"),
        "{shown}"
    );

    let shown = problems(&format!(
        "kubernetes:\n  custom_metadata:\n    labels: [{CANARY}]\n    annotations:\n      a: {{b: {CANARY}}}\n"
    ));
    assert!(shown.contains("has 2 problems"), "{shown}");
    assert!(shown.contains("config.yaml:3:13"), "{shown}");
    assert!(shown.contains("config.yaml:5:10"), "{shown}");

    let shown = problems(&format!("- {CANARY}\n"));
    assert!(shown.contains("should be a mapping"), "{shown}");
    let shown = problems(&format!("kubernetes: {CANARY}\n"));
    assert!(shown.contains("config.yaml:1:13"), "{shown}");
    let shown = problems(&format!(
        "kubernetes:\n  allowed_contexts: [{{a: {CANARY}}}, \"\"]\n"
    ));
    assert!(shown.contains("has 2 problems"), "{shown}");
}

#[test]
fn broken_yaml_is_located_and_masked() {
    let shown = problems(&format!(
        "kubernetes:\n  allowed_contexts: [a\n  pod_config: \"{CANARY}\n"
    ));
    assert!(shown.contains("not valid YAML"), "{shown}");
    assert!(shown.contains("config.yaml:"), "{shown}");
}

#[test]
fn label_and_annotation_rules_are_the_api_servers() {
    let shown = problems(&format!(
        "kubernetes:\n  custom_metadata:\n    labels:\n      \"{CANARY} x\": a\n      Bad_Prefix/x: a\n      ok: \"{CANARY}!\"\n      team: a\n      team: b\n      empty:\n    annotations:\n      \"a/b/c\": x\n      UPPER.example.com/Fine: y\n"
    ));
    assert!(shown.contains("has 6 problems"), "{shown}");
    assert!(shown.contains("config.yaml:4:7"), "{shown}");
    assert!(shown.contains("a label key (not shown"), "{shown}");
    assert!(shown.contains("config.yaml:5:7"), "{shown}");
    assert!(shown.contains("prefix before `/`"), "{shown}");
    assert!(shown.contains("config.yaml:6:11"), "{shown}");
    assert!(shown.contains("not a valid label value"), "{shown}");
    assert!(shown.contains("label `team` is given twice"), "{shown}");
    assert!(shown.contains("label `empty` has no value"), "{shown}");
    assert!(shown.contains("more than one `/`"), "{shown}");
    assert!(shown.contains("an annotation key (not shown"), "{shown}");
}

#[test]
fn annotations_may_total_256_kib() {
    let fits = "x".repeat(MAX_ANNOTATIONS_BYTES - 1);
    let config = parsed(&format!(
        "kubernetes:\n  custom_metadata:\n    annotations:\n      a: {fits}\n"
    ));
    assert_eq!(config.custom_metadata.annotations.len(), 1);
    let shown = problems(&format!(
        "kubernetes:\n  custom_metadata:\n    annotations:\n      a: {fits}\n      b: c\n"
    ));
    assert!(shown.contains("config.yaml:3:5"), "{shown}");
    assert!(shown.contains("262146 bytes"), "{shown}");
}

#[test]
fn name_and_namespace_are_refused_as_konduktor_refuses_them() {
    let shown = problems("kubernetes:\n  custom_metadata:\n    name: x\n    namespace: y\n");
    assert!(shown.contains("may not set `name`"), "{shown}");
    assert!(shown.contains("may not set `namespace`"), "{shown}");
}

#[test]
fn our_labels_and_annotations_are_listed_and_left_out() {
    let config = parsed(
        "kubernetes:\n  custom_metadata:\n    labels:\n      parent: other\n      trainy.ai/secret-owner: 0000abcd\n      trainy.ai/secret-kind: env\n      trainy.ai/secret-basename: x\n      team: ml\n    annotations:\n      konduktor.trainy.ai/created-by: mallory\n      konduktor.trainy.ai/applied: x\n      note: y\n",
    );
    assert_eq!(
        config.overrides_ours(),
        vec![
            Reserved::Label("parent"),
            Reserved::Label("trainy.ai/secret-owner"),
            Reserved::Label("trainy.ai/secret-kind"),
            Reserved::Label("trainy.ai/secret-basename"),
            Reserved::Annotation("konduktor.trainy.ai/created-by"),
            Reserved::Annotation("konduktor.trainy.ai/applied"),
        ]
    );
    assert_eq!(
        Reserved::Annotation("konduktor.trainy.ai/created-by").to_string(),
        "annotation `konduktor.trainy.ai/created-by`"
    );
    let kept = config.custom_metadata.without_reserved();
    assert_eq!(
        kept.labels,
        BTreeMap::from([("team".to_string(), "ml".to_string())])
    );
    assert_eq!(
        kept.annotations,
        BTreeMap::from([("note".to_string(), "y".to_string())])
    );
}

#[test]
fn a_repeated_key_we_read_is_an_error_an_unrelated_one_is_not() {
    let shown = problems("kubernetes:\n  allowed_contexts: [a]\n  allowed_contexts: [b]\n");
    assert!(shown.contains("config.yaml:3:3"), "{shown}");
    assert!(shown.contains("given twice"), "{shown}");
    parsed("logs: 1\nlogs: 2\nkubernetes: {}\n");
}

/// A context name is shown wherever a context is (whoami, errors, -v), so
/// one reached through an alias, an anchor, a tag or over several lines is
/// refused rather than used and shown later.
#[test]
fn a_context_not_written_out_is_refused_unshown() {
    for text in [
        format!("x: &v {CANARY}\nkubernetes:\n  allowed_contexts: [*v]\n"),
        format!("kubernetes:\n  allowed_contexts:\n    - &v {CANARY}\n"),
        format!("kubernetes:\n  allowed_contexts:\n    - !!str {CANARY}\n"),
        format!("kubernetes:\n  allowed_contexts:\n    - {CANARY}\n      more\n"),
        format!("kubernetes:\n  allowed_contexts:\n    - |\n      {CANARY}\n"),
    ] {
        let shown = problems(&text);
        assert!(shown.contains("allowed_contexts"), "{text}: {shown}");
    }
}
