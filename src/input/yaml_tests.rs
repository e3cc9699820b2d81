use super::*;

fn masked(text: &str) -> String {
    parse(text).masked(text).text
}

#[test]
fn everything_is_masked_unless_revealed() {
    let text = "a: \"q\\tx\" # secret comment\nb: &an |\n  blk one\n  two\nc: *an\nd: !!str  plain  words\ne: {x: 1, y: [2, 3]}\n";
    let m = masked(text);
    assert_eq!(
        m,
        "***: *** ***\n***: *** |\n  ***\n  ***\n***: ***\n***: ***  ***\n***: {***: ***, ***: [***, ***]}\n"
    );
}

#[test]
fn revealed_scalars_show_and_offsets_map() {
    let text = "name: ok\nvalue: a-very-long-secret\nnext: x\n";
    let mut p = parse(text);
    let Some(root) = p.root.clone() else {
        panic!("no root")
    };
    let Content::Map(pairs) = &*root.content else {
        panic!("not a map")
    };
    for (k, v) in pairs.iter() {
        p.reveal(k);
        if k.as_scalar() == Some("name") {
            p.reveal(v);
        }
    }
    let m = p.masked(text);
    assert_eq!(m.text, "name: ok\nvalue: ***\nnext: ***\n");
    // `next` sits later in the masked text than in the original.
    let next = text.find("next").unwrap_or(0);
    let range = m.map(next..next + 4);
    assert_eq!(&m.text[range.clone()], "next");
    assert_eq!(m.original(range.start), next);
    // A span inside a hidden value maps onto its `***`.
    let v = text.find("very").unwrap_or(0);
    assert_eq!(&m.text[m.map(v..v + 4)], "***");
}

#[test]
fn a_syntax_error_hides_everything_after_it_and_all_values_before() {
    let text = "apiVersion: v\nsecrets:\n  - name: x\n    inline: {A: tok1,\n  B: tok2\n";
    let mut p = parse(text);
    assert!(p.error.is_some());
    p.reveal_known_keys(&["apiVersion", "secrets", "name", "inline"]);
    let m = p.masked(text).text;
    assert!(!m.contains("tok") && !m.contains(": v"), "{m}");
    assert!(
        m.starts_with("apiVersion: ***\nsecrets:\n  - name: ***"),
        "{m}"
    );
}

#[test]
fn line_breaks_of_every_kind_are_kept() {
    for text in [
        "a: x\rb: y\r",
        "a: x\r\nb: y\r\n",
        "a: |\r  one\r  two\rb: y",
    ] {
        let m = masked(text);
        let breaks = |s: &str| s.chars().filter(|c| *c == '\n' || *c == '\r').count();
        assert_eq!(breaks(&m), breaks(text), "{text:?} -> {m:?}");
        assert!(!m.contains('x') && !m.contains("one"), "{m:?}");
    }
    assert_eq!(line_column("a\rb\r\nc\nd", 7), (4, 1));
    assert_eq!(line_column("ab\nçd", 6), (2, 3));
}

#[test]
fn aliases_share_and_are_marked() {
    let p = parse("a: &x [1, 2]\nb: *x\n");
    let Some(root) = p.root else {
        panic!("no root")
    };
    let Content::Map(pairs) = &*root.content else {
        panic!("not a map")
    };
    assert!(!pairs[0].1.alias && pairs[1].1.alias);
    assert!(Rc::ptr_eq(&pairs[0].1.content, &pairs[1].1.content));
}

#[test]
fn alias_bombs_are_refused_before_expansion() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    let p = parse(&text);
    let e = p.error.unwrap_or_else(|| panic!("accepted"));
    assert!(e.message.contains("through aliases"), "{e:?}");
}

#[test]
fn documents_nulls_and_debug() {
    assert!(
        parse("a: 1\n---\n").error.is_none(),
        "a lone trailing --- is fine"
    );
    let e = parse("a: 1\n---\nb: 2\n").error;
    assert!(e.is_some_and(|e| e.message.contains("more than one YAML document")));
    let p = parse("a:\nb: ~\nc: ''\n");
    let Some(root) = p.root else {
        panic!("no root")
    };
    let Content::Map(pairs) = &*root.content else {
        panic!("not a map")
    };
    let nulls: Vec<bool> = pairs.iter().map(|(_, v)| v.is_null()).collect();
    assert_eq!(nulls, vec![true, true, false]);
    // Debug never shows scalar text.
    let p = parse("token: hunter2-secret\n");
    assert!(!format!("{:?}", p.root).contains("hunter2"));
}

#[test]
fn the_line_index_agrees_with_counting_from_the_start() {
    let text = format!(
        "a: ü\r\nb: {}\rc: ç{}\n\nd",
        "é".repeat(700),
        "x".repeat(600)
    );
    let naive = |offset: usize| {
        let (mut line, mut column, mut prev_cr) = (1u32, 1u32, false);
        for (i, c) in text.char_indices() {
            if i >= offset {
                break;
            }
            match c {
                '\n' if prev_cr => {}
                '\n' | '\r' => {
                    line += 1;
                    column = 1;
                }
                _ => column += 1,
            }
            prev_cr = c == '\r';
        }
        (line, column)
    };
    let index = LineIndex::new(&text);
    for (offset, c) in text.char_indices() {
        // The LF of a CRLF ends the line; no span starts there.
        if c == '\n' && text[..offset].ends_with('\r') {
            continue;
        }
        assert_eq!(index.line_column(offset), naive(offset), "at {offset}");
    }
}
