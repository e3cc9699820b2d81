use crate::cmd::completion::{DIRECTIVE_FILES, DIRECTIVE_NO_FILES, complete};

fn cli() -> clap::Command {
    <super::Cli as clap::CommandFactory>::command()
}

fn words(s: &[&str]) -> Vec<String> {
    s.iter().map(|w| w.to_string()).collect()
}

#[test]
fn completes_subcommands_flags_and_values() {
    let (c, d) = complete(cli(), &words(&[""]));
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
    assert_eq!(complete(cli(), &words(&["secret", "c"])).0, ["create"]);
    assert!(
        complete(cli(), &words(&["apply", "--p"]))
            .0
            .contains(&"--prune".to_string())
    );
    assert!(
        complete(cli(), &words(&["apply", "--"]))
            .0
            .contains(&"--namespace".to_string()),
        "global flags too"
    );
    assert_eq!(
        complete(cli(), &words(&["apply", "-f", ""])),
        (vec![], DIRECTIVE_FILES)
    );
    assert_eq!(
        complete(cli(), &words(&["secret", "create", "--kind", "g"])).0,
        ["git-ssh"]
    );
    assert_eq!(
        complete(cli(), &words(&["-n", "team", "sec"])).0,
        ["secret"]
    );
}
