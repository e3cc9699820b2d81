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
    let page: Page<Item> = parse_page(body.as_bytes(), 500).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.next.as_deref(), Some("abc"));
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
    let e = parse_page::<Item>(body.as_bytes(), 500).err();
    let e = e.unwrap_or_else(|| panic!("parsed"));
    let text = crate::cluster::text::kube_error_text(&kube::Error::SerdeError(e));
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
        let e = read_page(body.as_bytes(), 500).err();
        let e = e.unwrap_or_else(|| panic!("{field}: accepted"));
        let text = crate::cluster::text::kube_error_text(&kube::Error::SerdeError(e));
        assert!(text.contains(&format!("whose {field} is over")), "{text}");
        assert!(!text.contains("canary"), "{text}");
    }
    // A long value is what is expected, and is measured.
    let value = "YWJj".repeat(short_strings::LONG);
    let body = format!(r#"{{"items":[{{"metadata":{{"name":"a"}},"data":{{"K":"{value}"}}}}]}}"#);
    let page = read_page(body.as_bytes(), 500).unwrap_or_else(|e| panic!("{e}"));
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
    let read = |text: &str| -> Result<Page<k8s_openapi::api::core::v1::Secret>, serde_json::Error> {
        parse_page(Capped::new(text.as_bytes(), cap), 500)
    };
    let whole = read(&small).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(whole.items.len(), 3);
    let err = read(&page(4))
        .err()
        .unwrap_or_else(|| panic!("read past the cap"));
    assert!(err.is_io(), "{err}");
}

/// `n` items of `item` as a page's text.
fn page_of(n: usize, item: &str) -> String {
    format!(
        r#"{{"kind":"SecretList","metadata":{{}},"items":[{}]}}"#,
        vec![item; n].join(",")
    )
}

/// A page holds at most the items asked for (its `limit`): up to that it
/// reads whole, one more is an error saying so, whatever the items are
/// (`{}` costs 2 bytes sent and far more held). Checked for every reader
/// of pages, at generated sizes around the limit.
#[test]
fn a_page_of_more_items_than_asked_for_is_refused_as_it_is_read() {
    let mut rng = crate::test_rng::Rng(0x9e37_79b9_7f4a_7c15);
    for case in 0..40 {
        let asked = match case {
            0 => 0,
            1 => 500,
            _ => 1 + rng.index(600),
        };
        let item = [r#"{}"#, r#"{"metadata":{"name":"a"}}"#][rng.index(2)];
        for n in [
            asked.saturating_sub(1),
            asked,
            asked + 1,
            asked + 1 + rng.index(5_000),
        ] {
            let text = page_of(n, item);
            let listing = read_page(text.as_bytes(), asked).map(|p| p.items.len());
            let metadata =
                parse_page::<MetadataItem>(text.as_bytes(), asked).map(|p| p.items.len());
            let objects = parse_page::<k8s_openapi::api::core::v1::Secret>(text.as_bytes(), asked)
                .map(|p| p.items.len());
            for (reader, got) in [
                ("listing", listing),
                ("metadata", metadata),
                ("objects", objects),
            ] {
                if n <= asked {
                    assert_eq!(got.ok(), Some(n), "{reader}: {n} items, {asked} asked");
                } else {
                    let e = got
                        .err()
                        .unwrap_or_else(|| panic!("{reader}: {n} items, {asked} asked: read"));
                    let e = too_many_or_parse_error(e);
                    // Typed, so it is never asked for again.
                    assert!(
                        matches!(OverCap::of(&e), Some(OverCap::TooMany(_))),
                        "{reader}: {e}"
                    );
                    let text = crate::cluster::text::kube_error_text(&e);
                    assert!(
                        text.contains(&format!(
                            "{TOO_MANY} {asked} items, when this tool asked for {asked}"
                        )),
                        "{reader}: {text}"
                    );
                }
            }
        }
    }
}

/// A million `{}` (3 MB, far under the byte cap) stop at the first one past
/// the limit: the rest are never read.
#[test]
fn a_page_of_a_million_empty_items_stops_past_the_limit() {
    let text = page_of(1_000_000, "{}");
    let mut body = text.as_bytes();
    let e = parse_page::<MetadataItem>(&mut body, 500).err();
    assert!(e.is_some_and(|e| e.to_string().starts_with(TOO_MANY)));
    assert!(body.len() > 2_000_000, "{} bytes left unread", body.len());
}

/// The listings' reader is capped as the objects' is: a value that goes on
/// past MAX_PAGE_BYTES (an endless body) stops there with `PageTooLarge`,
/// though the values themselves are skipped, not held.
#[test]
fn a_listing_page_past_the_byte_cap_stops_there() {
    let head = br#"{"items":[{"metadata":{"name":"a"},"data":{"K":""#;
    let long = usize::try_from(MAX_PAGE_BYTES).unwrap_or(usize::MAX) + (1 << 20);
    let body = head
        .as_slice()
        .chain(std::io::repeat(b'Y').take(u64::try_from(long).unwrap_or(u64::MAX)))
        .chain(br#""}}]}"#.as_slice());
    let e = read_page(body, 500)
        .err()
        .unwrap_or_else(|| panic!("read past the cap"));
    assert!(e.is_io(), "{e}");
    let io = std::io::Error::from(e);
    assert!(io.get_ref().is_some_and(|e| e.is::<PageTooLarge>()), "{io}");
}
