use super::*;

#[test]
fn debug_and_display_never_show_the_value() {
    let value = SecretBytes::new(b"hunter2-canary".to_vec());
    let debug = format!("{value:?} {value:#?}");
    let display = format!("{value}");
    assert!(!debug.contains("hunter2"), "{debug}");
    assert!(!display.contains("hunter2"), "{display}");
    assert!(!debug.contains("14"), "{debug}");
}

#[test]
fn redaction_holds_inside_containers() {
    let map = std::collections::BTreeMap::from([(
        "k".to_string(),
        SecretBytes::from(b"canary-in-map".to_vec()),
    )]);
    assert!(!format!("{map:?}").contains("canary-in-map"));
}
