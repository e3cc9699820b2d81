use super::*;

fn words(s: &[&str]) -> Vec<String> {
    s.iter().map(|w| w.to_string()).collect()
}

#[test]
fn completes_subcommands_flags_and_values() {
    let (c, d) = complete(&words(&[""]));
    for sub in [
        "whoami",
        "diff",
        "apply",
        "render-job",
        "secret",
        "completion",
    ] {
        assert!(c.contains(&sub.to_string()), "{sub} in {c:?}");
    }
    assert_eq!(d, DIRECTIVE_NO_FILES);
    assert_eq!(complete(&words(&["secret", "c"])).0, ["create"]);
    assert!(
        complete(&words(&["apply", "--p"]))
            .0
            .contains(&"--prune".to_string())
    );
    assert!(
        complete(&words(&["apply", "--"]))
            .0
            .contains(&"--namespace".to_string()),
        "global flags too"
    );
    assert_eq!(
        complete(&words(&["apply", "-f", ""])),
        (vec![], DIRECTIVE_FILES)
    );
    assert_eq!(
        complete(&words(&["secret", "create", "--kind", "g"])).0,
        ["git-ssh"]
    );
    assert_eq!(complete(&words(&["-n", "team", "sec"])).0, ["secret"]);
}
