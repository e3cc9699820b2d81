use super::*;
use crate::konduktor::secret_value::SecretBytes;
use crate::konduktor::{DesiredSecret, SecretKind};
use crate::secrets::manifest::Desired;
use crate::secrets::plan::tests::every_action;
use crate::secrets::plan::{self, NOTE_ZIP_BY_BYTES};

const ME: &str = "abba3a3e";

/// The rendered text without colour codes.
fn shown(plan: &Plan, show_secrets: bool) -> String {
    console::strip_ansi_codes(&render(plan, ViewOptions { show_secrets })).into_owned()
}

fn want(name: &str, data: &[(&str, &str)]) -> Desired {
    Desired::Present(DesiredSecret {
        origins: Default::default(),
        basename: name.into(),
        kind: SecretKind::Default,
        data: data
            .iter()
            .map(|(k, v)| (k.to_string(), SecretBytes::new(v.as_bytes().to_vec())))
            .collect(),
    })
}

#[test]
fn every_action_has_its_line() {
    assert_eq!(
        shown(&every_action(), false),
        include_str!("view_tests_every_action.txt")
    );
}

#[test]
fn values_are_shown_only_when_asked() {
    let p = every_action();
    let hidden = shown(&p, false);
    let asked = shown(&p, true);
    assert_eq!(asked, include_str!("view_tests_every_action_shown.txt"));
    for line in ["+1", "-old", "+x", "+y", "-z", "-k"] {
        assert!(
            asked.lines().any(|l| l.trim() == line),
            "{line} missing:\n{asked}"
        );
        assert!(
            !hidden.lines().any(|l| l.trim() == line),
            "{line} shown unasked:\n{hidden}"
        );
    }
}

#[test]
fn a_value_never_appears_unasked() {
    const CANARY: &str = "canary-7c1f9e";
    let p = plan::plan(&[want("s", &[("k", CANARY)])], &[], ME, false);
    assert!(!shown(&p, false).contains(CANARY));
    assert!(shown(&p, true).contains(CANARY));
}

#[test]
fn names_keys_and_paths_are_escaped() {
    let mut p = plan::plan(
        &[want("evil\u{1b}[2J\u{202e}", &[("k\u{7}ey", "v")])],
        &[],
        ME,
        false,
    );
    if let Some(k) = p.secrets.first_mut().and_then(|s| s.keys.first_mut()) {
        k.files.push(plan::FileChange {
            path: "dir/\u{202e}txt.exe".into(),
            change: plan::Change::Added,
        });
    }
    let text = render(&p, ViewOptions::default());
    let plain = console::strip_ansi_codes(&text);
    for raw in ['\u{7}', '\u{202e}'] {
        assert!(!text.contains(raw), "{raw:?} reached the output: {text:?}");
    }
    assert!(!plain.contains("\u{1b}[2J"), "{plain:?}");
    assert!(plain.contains("+ evil"), "{plain}");
    assert!(plain.contains("        + dir/"), "{plain}");
}

#[test]
fn a_key_compared_by_bytes_says_so() {
    let mut p = plan::plan(&[want("z", &[("payload.zip", "x")])], &[], ME, false);
    if let Some(k) = p.secrets.first_mut().and_then(|s| s.keys.first_mut()) {
        k.note = Some(NOTE_ZIP_BY_BYTES.into());
    }
    assert!(
        shown(&p, false).contains(&format!("    + payload.zip ({NOTE_ZIP_BY_BYTES})\n")),
        "{}",
        shown(&p, false)
    );
}

#[test]
fn an_unchanged_key_is_shown_only_with_a_note() {
    let live = plan::tests::live("z", ME, "default", &[("payload.zip", "x"), ("b", "1")]);
    let mut p = plan::plan(
        &[want("z", &[("payload.zip", "x"), ("b", "2")])],
        std::slice::from_ref(&live),
        ME,
        false,
    );
    if let Some(k) = p
        .secrets
        .first_mut()
        .and_then(|s| s.keys.iter_mut().find(|k| k.key == "payload.zip"))
    {
        k.note = Some(NOTE_ZIP_BY_BYTES.into());
    }
    assert_eq!(
        shown(&p, false),
        format!(
            "~ z (default): merge into z-{ME}\n    ~ b (origin unknown)\n      payload.zip: unchanged ({NOTE_ZIP_BY_BYTES})\n\
             Plan: 0 to create, 1 to merge, 0 to delete, 0 unchanged.\n"
        )
    );
}

#[test]
fn deletions_count_secrets_and_secrets_losing_keys() {
    assert_eq!(deletions(&every_action()), "3 secrets and keys of 1 secret");
}

#[test]
fn each_changed_key_says_where_its_change_came_from() {
    let key = plan::tests::key();
    let digest = |k: &str, v: &str| {
        crate::konduktor::applied_digest(&key, &format!("rec-{ME}"), k, v.as_bytes())
    };
    let record: std::collections::BTreeMap<String, String> = [("A", "1"), ("B", "1"), ("C", "1")]
        .iter()
        .map(|(k, v)| (k.to_string(), digest(k, v)))
        .collect();
    let mut recorded =
        plan::tests::live("rec", ME, "default", &[("A", "1"), ("B", "2"), ("C", "2")]);
    recorded.annotations.insert(
        crate::konduktor::ANNOTATION_APPLIED.into(),
        crate::konduktor::applied_annotation(&record),
    );
    let unrecorded = plan::tests::live("old", ME, "default", &[("A", "1")]);
    let p = plan::plan_with_key(
        &[
            want("rec", &[("A", "2"), ("B", "1"), ("C", "3")]),
            want("old", &[("A", "2")]),
        ],
        &[recorded, unrecorded],
        ME,
        false,
        Some(&key),
    );
    let text = shown(&p, false);
    for line in [
        "    ~ A (changed in the sources since the last apply)",
        "    ~ B (changed in the cluster since the last apply)",
        "    ~ C (changed in the sources and in the cluster since the last apply)",
        "    ~ A (origin unknown)",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }
}

/// `--show-secrets` shows values on purpose, yet a value from the cluster
/// must not drive the terminal: controls come out escaped, text as it is.
#[test]
fn shown_values_cannot_drive_the_terminal() {
    let hostile = "pw\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\u{202e}x\rover\u{7f}";
    let live = plan::tests::live("s", ME, "default", &[("k", hostile)]);
    let p = plan::plan(
        &[want("s", &[("k", "plain text\twith tab\u{1b}[1m")])],
        std::slice::from_ref(&live),
        ME,
        false,
    );
    let text = render(&p, ViewOptions { show_secrets: true });
    for raw in [
        "\u{1b}]",
        "\u{1b}[2J",
        "\u{1b}[1m",
        "\u{7}",
        "\u{9b}",
        "\u{202e}",
        "\r",
        "\u{7f}",
    ] {
        assert!(!text.contains(raw), "{raw:?} reached the output: {text:?}");
    }
    let plain = console::strip_ansi_codes(&text);
    assert!(
        plain.contains("-pw\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{9b}31m\\u{202e}x\\rover\\u{7f}\n"),
        "{plain}"
    );
    assert!(
        plain.contains("+plain text\\twith tab\\u{1b}[1m"),
        "{plain}"
    );
    // Mutated: any control character anywhere in a shown value comes out escaped.
    let mut rng = crate::test_rng::Rng(0xf3);
    for _ in 0..200 {
        let value: String = (0..rng.below(12))
            .map(|_| {
                u32::try_from(rng.below(0xa0))
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('?')
            })
            .collect();
        let live = plan::tests::live("s", ME, "default", &[("k", &value)]);
        let p = plan::plan(&[want("s", &[("k", "v")])], &[live], ME, false);
        let text = render(&p, ViewOptions { show_secrets: true });
        // (ESC itself may start this tool's own colours.)
        assert!(
            !text
                .chars()
                .any(|c| !matches!(c, '\n' | '\u{1b}') && crate::escape::is_unsafe(c)),
            "{value:?} -> {text:?}"
        );
        let plain = console::strip_ansi_codes(&text);
        assert!(
            !plain
                .chars()
                .any(|c| c != '\n' && crate::escape::is_unsafe(c)),
            "{value:?} -> {plain:?}"
        );
    }
}

#[test]
fn conflicts_and_deletions_agree_with_every_count() {
    use crate::output::count;
    use crate::output::tests::{counts, says_count};
    for n in counts() {
        let conflicts = conflicts_line(n);
        says_count(&conflicts, n, "conflict", "conflicts");
        let agrees = if n == 1 {
            "until it is"
        } else {
            "until they are"
        };
        assert!(conflicts.contains(agrees), "{conflicts}");
        if n > 0 {
            let whole = deletions_text(n, 0);
            says_count(&whole, n, "secret", "secrets");
            assert!(!whole.contains("keys"), "{whole}");
            let keys = deletions_text(0, n);
            says_count(&keys, n, "secret", "secrets");
            assert!(keys.starts_with("keys of "), "{keys}");
            for m in [1, 2, 7] {
                let both = deletions_text(n, m);
                assert!(both.starts_with(&count(n, "secret", "secrets")), "{both}");
                assert!(
                    both.ends_with(&format!(" and keys of {}", count(m, "secret", "secrets"))),
                    "{both}"
                );
            }
        }
    }
}
