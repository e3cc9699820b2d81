use super::*;

#[test]
fn label_and_annotation_keys_are_qualified_names() {
    for ok in [
        "team",
        "a",
        "example.com/team",
        "trainy.ai/secret-owner",
        "a.b_c-d",
        &format!("{}/{}", "p".repeat(253), "n".repeat(63)),
    ] {
        assert_eq!(qualified_name_problem(ok), None, "{ok}");
    }
    for bad in [
        "",
        "/x",
        "a/",
        "a/b/c",
        "Example.com/x",
        "-a",
        "a-",
        "a b",
        "é",
        &"n".repeat(64),
        &format!("{}/x", "p".repeat(254)),
        "exa_mple.com/x",
    ] {
        assert!(qualified_name_problem(bad).is_some(), "{bad}");
    }
    // The server lowercases annotation keys before the check.
    assert_eq!(annotation_key_problem("Example.COM/Note"), None);
    assert!(annotation_key_problem("a/b/c").is_some());
}
