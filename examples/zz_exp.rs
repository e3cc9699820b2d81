fn main() {
    let text = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    let opts = granit_parser::options! { emit_anchor_events: true };
    for ev in granit_parser::Parser::new_from_str_with_options(&text, opts) {
        match ev {
            Ok((e, span)) => {
                let s = span.start.byte_offset().unwrap_or(9999);
                let en = span.end.byte_offset().unwrap_or(9999);
                println!(
                    "{:?} [{}..{}] {:?} tag={:?} l{}c{}",
                    e,
                    s,
                    en,
                    text.get(s..en),
                    span.tag_span()
                        .map(|t| (t.start.byte_offset(), t.end.byte_offset())),
                    span.start.line(),
                    span.start.col()
                );
            }
            Err(e) => {
                println!(
                    "ERR {} kind={} at {:?} l{} c{}",
                    e,
                    e.kind(),
                    e.marker().byte_offset(),
                    e.marker().line(),
                    e.marker().col()
                );
                break;
            }
        }
    }
}
