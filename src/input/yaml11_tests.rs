use super::*;

#[test]
fn resolves_as_pyyaml_does() {
    for (text, want) in [
        ("", Resolved::Null),
        ("~", Resolved::Null),
        ("yes", Resolved::Bool(true)),
        ("Off", Resolved::Bool(false)),
        ("y", Resolved::Str),
        ("0", Resolved::Int(Some(0))),
        ("010", Resolved::Int(Some(8))),
        ("0x1F", Resolved::Int(Some(31))),
        ("0b101", Resolved::Int(Some(5))),
        ("-1_000", Resolved::Int(Some(-1000))),
        ("1:30", Resolved::Int(Some(90))),
        ("43200", Resolved::Int(Some(43200))),
        ("1.5", Resolved::Float(1.5)),
        ("1.", Resolved::Float(1.0)),
        (".5", Resolved::Float(0.5)),
        ("1.0e+3", Resolved::Float(1000.0)),
        ("1e3", Resolved::Str),
        ("1.0e3", Resolved::Str),
        ("4+", Resolved::Str),
        ("500m", Resolved::Str),
        ("16Gi", Resolved::Str),
        ("H100:8", Resolved::Str),
        ("2024-01-02", Resolved::Timestamp),
        ("09", Resolved::Str),
    ] {
        assert_eq!(resolve(text), want, "{text:?}");
    }
    assert!(matches!(resolve(".inf"), Resolved::Float(f) if f.is_infinite()));
    assert!(matches!(resolve(".nan"), Resolved::Float(f) if f.is_nan()));
}

#[test]
fn str_is_pythons() {
    for (text, want) in [
        ("yes", Some("True")),
        ("false", Some("False")),
        ("010", Some("8")),
        ("1.5", Some("1.5")),
        ("1.0", Some("1.0")),
        ("96.", Some("96.0")),
        ("1.0e+20", Some("1e+20")),
        ("0.00001", Some("1e-05")),
        ("plain text", Some("plain text")),
        ("~", None),
    ] {
        assert_eq!(python_str(text).as_deref(), want, "{text:?}");
    }
}
