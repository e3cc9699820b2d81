use super::*;

const ME: &str = "abba3a3e";

fn outcome(name: &str, action: Action, status: Status) -> Outcome {
    Outcome {
        name: name.into(),
        secret_name: format!("{name}-{ME}"),
        action,
        status,
    }
}

#[test]
fn outcome_lines_say_what_was_done() {
    let outcomes = [
        outcome("a", Action::Create, Status::Done),
        outcome("b", Action::Merge, Status::Done),
        outcome("c", Action::Delete, Status::Done),
    ];
    assert_eq!(
        render_outcomes(&outcomes),
        format!(
            "secret \"a\" created (a-{ME})\nsecret \"b\" merged (b-{ME})\nsecret \"c\" deleted (c-{ME})\n\
             Apply complete: 3 done.\n"
        )
    );
}

#[test]
fn outcome_lines_say_what_failed_and_what_was_not_attempted() {
    let outcomes = [
        outcome("a", Action::Create, Status::Done),
        outcome(
            "b\u{1b}[2J",
            Action::Merge,
            Status::Failed {
                message: "refused\u{7}".into(),
                class: crate::cluster::FailureClass::Server,
                help: None,
            },
        ),
        outcome(
            "c",
            Action::Delete,
            Status::Skipped {
                message: "kept".into(),
            },
        ),
    ];
    let text = render_outcomes(&outcomes);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines
            .get(1)
            .is_some_and(|l| l.starts_with("secret \"b") && l.contains("\" NOT merged: refused")),
        "{text}"
    );
    assert_eq!(lines.get(2), Some(&"secret \"c\" not deleted: kept"));
    assert_eq!(
        lines.get(3),
        Some(&"Apply incomplete: 1 done, 1 failed, 1 not attempted. Run apply again to converge.")
    );
}
