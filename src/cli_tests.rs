use super::split_contexts;
use crate::cmd::completion::{DIRECTIVE_FILES, DIRECTIVE_NO_FILES, complete};

#[test]
fn context_values_split_at_commas_unless_escaped() {
    assert_eq!(split_contexts("train"), ["train"]);
    assert_eq!(split_contexts("train,infer"), ["train", "infer"]);
    assert_eq!(split_contexts("x\\,y"), ["x,y"]);
    assert_eq!(split_contexts("a,x\\,y,b"), ["a", "x,y", "b"]);
    // A backslash before anything else is part of the name.
    assert_eq!(split_contexts("a\\b"), ["a\\b"]);
    assert_eq!(split_contexts(""), [""]);
    assert_eq!(split_contexts("a,"), ["a", ""]);
}

#[test]
fn every_name_with_commas_and_backslashes_round_trips_through_its_escape() {
    let mut rng = crate::test_rng::Rng(22);
    for _ in 0..2_000 {
        let names: Vec<String> = (0..rng.index(4) + 1)
            .map(|_| {
                (0..rng.index(6) + 1)
                    .map(|_| ['a', ',', '\\', 'z', '-'][rng.index(5)])
                    .collect::<String>()
            })
            // A backslash ending a name before the joining comma would
            // escape it: such names are written with a comma after, as a
            // user would have to; leave them out here.
            .filter(|n: &String| !n.ends_with('\\'))
            .collect();
        if names.is_empty() {
            continue;
        }
        let flag: Vec<String> = names.iter().map(|n| n.replace(',', "\\,")).collect();
        assert_eq!(split_contexts(&flag.join(",")), names, "{flag:?}");
    }
}

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
