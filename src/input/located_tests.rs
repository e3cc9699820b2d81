use super::*;

use crate::secrets::manifest::{ENTRY_FIELDS as ENTRY, TOP_FIELDS as TOP};

#[test]
fn distance_and_suggestions() {
    assert_eq!(did_you_mean("fromDir", ENTRY), Some("fromDirectory"));
    assert_eq!(did_you_mean("fromfile", ENTRY), Some("fromFile"));
    assert_eq!(did_you_mean("secret", TOP), Some("secrets"));
    assert_eq!(did_you_mean("zzzzzz", TOP), None);
    assert_eq!(did_you_mean(&"x".repeat(10_000), TOP), None);
}

#[test]
fn keys_that_could_be_values_are_not_showable() {
    let text = "{A: 1, HF_TOKEN hf_abc: 2, hf_abcdef, B: }";
    let parsed = crate::input::yaml::parse(text);
    let Some(root) = parsed.root else {
        panic!("no root")
    };
    let crate::input::yaml::Content::Map(pairs) = &*root.content else {
        panic!("not a map")
    };
    let shown: Vec<bool> = pairs
        .iter()
        .map(|(k, v)| key_is_showable(k.as_scalar().unwrap_or_default(), v))
        .collect();
    assert_eq!(shown, vec![true, false, false, false]);
}

#[test]
fn the_snippet_header_counts_columns_of_the_file() {
    // `***` is shorter than the value before the error: the header must
    // still give the column in the file, as the message does.
    let text = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n  - {name: a, inline: {A: a-long-secret-value}, bogus: 1}\n";
    let err = match crate::secrets::manifest::parse(Path::new("m.yaml"), text) {
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

#[test]
fn utf8_errors_name_the_line_not_the_bytes() {
    let e = utf8_text(Path::new("f.yaml"), b"a: 1\nb: \xff\xfe\n".to_vec());
    let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(msg, "f.yaml: line 2 is not UTF-8 text (byte 8)");
}
