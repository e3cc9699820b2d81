use super::*;

#[test]
fn decoded_sizes_padded_or_not() {
    for (text, size) in [
        ("", 0),
        ("MQ==", 1),
        ("MQ", 1),
        ("Mg=", 1),
        ("YWI=", 2),
        ("YWJj", 3),
    ] {
        assert_eq!(base64_decoded_len(text), size, "{text}");
    }
}

#[test]
fn a_page_keeps_names_labels_and_sizes_and_no_value() {
    let canary = "Y2FuYXJ5LTkwYWExYw==";
    let body = format!(
        r#"{{"kind":"SecretList","metadata":{{"continue":"abc","remainingItemCount":3}},
        "items":[{{"metadata":{{"name":"a-1","labels":{{"parent":"konduktor"}},
        "creationTimestamp":"2026-01-01T00:00:00Z","managedFields":[{{"manager":"x"}}]}},
        "data":{{"K":"{canary}","E":""}},"type":"Opaque"}},{{"metadata":{{"name":"b"}},"data":null}}]}}"#
    );
    let page: Page = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.metadata.next.as_deref(), Some("abc"));
    let sizes: Vec<Vec<(String, u64)>> = page
        .items
        .iter()
        .map(|i| i.data.0.clone().into_iter().collect())
        .collect();
    assert_eq!(sizes, [vec![("E".into(), 0), ("K".into(), 13)], vec![]]);
    let first = page.items.first().map(|i| &i.metadata);
    assert_eq!(first.and_then(|m| m.name.as_deref()), Some("a-1"));
    assert!(first.is_some_and(|m| m.creation_timestamp.is_some()));
}

#[test]
fn a_value_that_is_not_a_string_is_an_error_that_quotes_nothing() {
    let body = r#"{"items":[{"metadata":{"name":"a"},"data":{"K":12345678}}]}"#;
    let e = serde_json::from_str::<Page>(body).err();
    let e = e.unwrap_or_else(|| panic!("parsed"));
    let text = crate::cluster::errors::kube_error_text(&kube::Error::SerdeError(e));
    assert!(!text.contains("12345678"), "{text}");
}

/// A name, label, key name, type or finalizer over the long-string limit is
/// not something a real server sends: the page is refused, saying which
/// field, and quoting none of it (it could be anything).
#[test]
fn a_page_with_an_overlong_name_or_key_is_refused_naming_the_field() {
    let long = format!("canary{}", "x".repeat(short_strings::LONG));
    for (field, item) in [
        ("name", format!(r#"{{"metadata":{{"name":"{long}"}}}}"#)),
        (
            "label",
            format!(r#"{{"metadata":{{"name":"a","labels":{{"l":"{long}"}}}}}}"#),
        ),
        (
            "key name",
            format!(r#"{{"metadata":{{"name":"a"}},"data":{{"{long}":"YQ=="}}}}"#),
        ),
        (
            "type",
            format!(r#"{{"metadata":{{"name":"a"}},"type":"{long}"}}"#),
        ),
        (
            "finalizer",
            format!(r#"{{"metadata":{{"name":"a","finalizers":["{long}"]}}}}"#),
        ),
    ] {
        let body = format!(r#"{{"items":[{item}]}}"#);
        let e = read_page(body.as_bytes()).err();
        let e = e.unwrap_or_else(|| panic!("{field}: accepted"));
        let text = crate::cluster::errors::kube_error_text(&kube::Error::SerdeError(e));
        assert!(text.contains(&format!("whose {field} is over")), "{text}");
        assert!(!text.contains("canary"), "{text}");
    }
    // A long value is what is expected, and is measured.
    let value = "YWJj".repeat(short_strings::LONG);
    let body = format!(r#"{{"items":[{{"metadata":{{"name":"a"}},"data":{{"K":"{value}"}}}}]}}"#);
    let page = read_page(body.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let sizes: Vec<u64> = page
        .items
        .iter()
        .flat_map(|i| i.key_sizes.values().copied())
        .collect();
    assert_eq!(sizes, [base64_decoded_len(&value)]);
}
