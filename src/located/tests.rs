use super::*;

const TOP: &[&str] = &["apiVersion", "kind", "secrets"];
const ENTRY: &[&str] = &[
    "name",
    "kind",
    "state",
    "fromFile",
    "fromDirectory",
    "inline",
    "fromEnv",
];

#[test]
fn distance_and_suggestions() {
    assert_eq!(did_you_mean("fromDir", ENTRY), Some("fromDirectory"));
    assert_eq!(did_you_mean("fromfile", ENTRY), Some("fromFile"));
    assert_eq!(did_you_mean("secret", TOP), Some("secrets"));
    assert_eq!(did_you_mean("zzzzzz", TOP), None);
}

#[test]
fn inline_values_are_masked_in_snippets() {
    let text = "secrets:\n  - name: a\n    inline:\n      KEY: sk-canary-1\n      OTHER: |\n        multi canary\n    fromFile: x\n  - inline: {A: canary2, B: \"c3\"}\n";
    let masked = mask_values(text, &["inline"]);
    assert_eq!(masked.len(), text.len());
    assert!(
        !masked.contains("canary") && !masked.contains("c3"),
        "{masked}"
    );
    assert!(
        masked.contains("KEY:") && masked.contains("fromFile: x") && masked.contains("{A: "),
        "{masked}"
    );
}

#[test]
fn unknown_field_suggestions_come_from_the_parser_list() {
    let help = unknown_field_help("unknown field `fromFil`, expected one of name, kind, fromFile");
    assert_eq!(
        help.as_deref(),
        Some("did you mean `fromFile`? Known: name, kind, fromFile")
    );
}
