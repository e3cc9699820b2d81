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

/// The cap: up to it a body reads to its end; one byte past it is
/// `PageTooLarge`, never a silent end (which would parse as a cut page).
#[test]
fn a_capped_reader_stops_with_an_error_one_byte_past_its_cap() {
    for (len, cap) in [(0usize, 0u64), (10, 10), (10, 11), (100_000, 100_000)] {
        let mut out = Vec::new();
        let read = Capped::new(vec![b'x'; len].as_slice(), cap).read_to_end(&mut out);
        assert_eq!(read.ok(), Some(len), "{len} bytes under a cap of {cap}");
    }
    for (len, cap) in [(1usize, 0u64), (11, 10), (100_001, 100_000)] {
        let mut out = Vec::new();
        let err = Capped::new(vec![b'x'; len].as_slice(), cap)
            .read_to_end(&mut out)
            .err()
            .unwrap_or_else(|| panic!("{len} bytes under a cap of {cap} read to the end"));
        assert!(
            err.get_ref().is_some_and(|e| e.is::<PageTooLarge>()),
            "{err}"
        );
        assert!(out.len() as u64 <= cap);
    }
}

/// A page of objects read through the cap: whole when under it, and an
/// error past it, with serde_json's parse stopping there.
#[test]
fn an_object_page_over_the_cap_stops_the_parse() {
    let page = |n: usize| {
        let items: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"metadata":{{"name":"s{i}"}},"data":{{"K":"{}"}}}}"#,
                    "QUJD".repeat(1000)
                )
            })
            .collect();
        format!(
            r#"{{"metadata":{{"continue":"t"}},"items":[{}]}}"#,
            items.join(",")
        )
    };
    let small = page(3);
    let cap = u64::try_from(small.len()).unwrap_or(0);
    let read =
        |text: &str| -> Result<ObjectPage<k8s_openapi::api::core::v1::Secret>, serde_json::Error> {
            serde_json::from_reader(Capped::new(text.as_bytes(), cap))
        };
    let whole = read(&small).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(whole.items.map(|i| i.len()), Some(3));
    let err = read(&page(4))
        .err()
        .unwrap_or_else(|| panic!("read past the cap"));
    assert!(err.is_io(), "{err}");
}
