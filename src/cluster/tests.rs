use super::*;

#[test]
fn timeouts_parse_like_kubectl() {
    assert_eq!(parse_timeout("0"), Ok(None));
    assert_eq!(parse_timeout("5"), Ok(Some(Duration::from_secs(5))));
    assert_eq!(parse_timeout("30s"), Ok(Some(Duration::from_secs(30))));
    assert_eq!(parse_timeout("500ms"), Ok(Some(Duration::from_millis(500))));
    assert_eq!(parse_timeout("1m30s"), Ok(Some(Duration::from_secs(90))));
    assert_eq!(parse_timeout("0s"), Ok(None));
    for bad in ["", "abc", "5x", "s"] {
        assert!(parse_timeout(bad).is_err(), "{bad}");
    }
}

#[test]
fn humanized() {
    assert_eq!(humanize(Duration::from_millis(300)), "300ms");
    assert_eq!(humanize(Duration::from_secs(90)), "1m30s");
    assert_eq!(humanize(Duration::from_secs(3600)), "1h");
}

#[test]
fn namespaces() {
    assert!(validate_namespace("team-a").is_ok());
    for bad in ["", "Team", "a_b", "-a", &"a".repeat(64)] {
        assert!(validate_namespace(bad).is_err(), "{bad}");
    }
}
