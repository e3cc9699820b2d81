use super::*;

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
fn utf8_errors_name_the_line_not_the_bytes() {
    let e = utf8_text(Path::new("f.yaml"), b"a: 1\nb: \xff\xfe\n".to_vec());
    let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(msg, "f.yaml: line 2 is not UTF-8 text (byte 8)");
}
