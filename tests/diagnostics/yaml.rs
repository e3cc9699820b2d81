//! A small YAML document model and its emitters: block style (with flow
//! collections inside), flow style on one line or over several lines, and
//! JSON on one line or pretty. Scalars carry their style, tag, anchor and a
//! trailing comment; collections carry an anchor and their style.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Double,
    Single,
    /// `|` (block context only; flow falls back to double quotes).
    Literal,
    /// `>` (block context only).
    Folded,
}

#[derive(Debug, Clone)]
pub struct Scalar {
    pub text: String,
    pub style: Style,
    /// Spread the words of the value over several lines.
    pub multiline: bool,
    pub tag: Option<&'static str>,
    pub anchor: Option<String>,
    /// A comment after the value (block context only).
    pub comment: Option<String>,
    /// Written without quotes in JSON (numbers).
    pub bare_in_json: bool,
}

impl Scalar {
    pub fn plain(text: impl Into<String>) -> Self {
        Scalar {
            text: text.into(),
            style: Style::Plain,
            multiline: false,
            tag: None,
            anchor: None,
            comment: None,
            bare_in_json: false,
        }
    }
}

/// How a collection is written when its parent is in block style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Block,
    /// `{a: b, c: d}` on one line.
    Line,
    /// A flow collection over several lines.
    Lines,
}

#[derive(Debug, Clone)]
pub struct Item {
    pub key: String,
    pub key_style: Style,
    pub value: Node,
    /// A comment line before this entry (block context only).
    pub comment: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Node {
    Scalar(Scalar),
    Map {
        items: Vec<Item>,
        anchor: Option<String>,
        layout: Layout,
    },
    Seq {
        items: Vec<Node>,
        anchor: Option<String>,
        layout: Layout,
    },
    /// `*name`; JSON has no aliases and writes `fallback` instead.
    Alias {
        name: String,
        fallback: String,
    },
}

impl Node {
    pub fn item(key: &str, value: Node) -> Item {
        Item {
            key: key.to_string(),
            key_style: Style::Plain,
            value,
            comment: None,
        }
    }

    pub fn map(items: Vec<Item>, layout: Layout) -> Node {
        Node::Map {
            items,
            anchor: None,
            layout,
        }
    }

    pub fn seq(items: Vec<Node>, layout: Layout) -> Node {
        Node::Seq {
            items,
            anchor: None,
            layout,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocStyle {
    /// Block style; collections keep their own layout.
    Block,
    /// Everything in flow style, on one line or over several.
    Flow {
        lines: bool,
    },
    Json {
        pretty: bool,
    },
}

pub fn emit(node: &Node, style: DocStyle) -> String {
    let mut out = String::new();
    match style {
        DocStyle::Block => match node {
            Node::Map { items, .. } if !items.is_empty() => map_body(&mut out, items, 0, None),
            _ => {
                flow(&mut out, node, 0, false);
                out.push('\n');
            }
        },
        DocStyle::Flow { lines } => {
            flow(&mut out, node, 0, lines);
            out.push('\n');
        }
        DocStyle::Json { pretty } => {
            json(&mut out, node, 0, pretty);
            out.push('\n');
        }
    }
    out
}

fn spaces(n: usize) -> String {
    " ".repeat(n)
}

/// Safe as a plain scalar in block and flow context.
fn plain_safe(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " ._/=:-+".contains(c))
        && text.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '.' || c == '/')
        && !text.contains(": ")
        && !text.ends_with([':', ' '])
        && !text.contains("  ")
}

fn double_quoted(text: &str) -> String {
    let mut s = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

fn single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn key_text(item: &Item) -> String {
    match item.key_style {
        Style::Double => double_quoted(&item.key),
        Style::Single => single_quoted(&item.key),
        _ if item.key == "<<" || plain_safe(&item.key) => item.key.clone(),
        _ => double_quoted(&item.key),
    }
}

fn props(out: &mut String, anchor: Option<&String>, tag: Option<&str>) {
    if let Some(a) = anchor {
        out.push('&');
        out.push_str(a);
        out.push(' ');
    }
    if let Some(t) = tag {
        out.push_str(t);
        out.push(' ');
    }
}

/// A scalar in block context, after `key: ` or `- `; `indent` is the
/// column of the key or dash. Writes the final line break.
fn block_scalar(out: &mut String, s: &Scalar, indent: usize) {
    props(out, s.anchor.as_ref(), s.tag);
    let words: Vec<&str> = s.text.split(' ').collect();
    let inner = spaces(indent + 2);
    let comment = |out: &mut String| {
        if let Some(c) = &s.comment {
            out.push_str(" # ");
            out.push_str(c);
        }
    };
    match s.style {
        Style::Literal | Style::Folded => {
            out.push(if s.style == Style::Literal { '|' } else { '>' });
            if s.multiline {
                out.push('-');
            }
            comment(out);
            out.push('\n');
            if s.multiline {
                for w in &words {
                    out.push_str(&inner);
                    out.push_str(w);
                    out.push('\n');
                }
            } else {
                out.push_str(&inner);
                out.push_str(&s.text);
                out.push('\n');
            }
            return;
        }
        Style::Plain if !plain_safe(&s.text) => out.push_str(&double_quoted(&s.text)),
        Style::Plain if s.multiline && words.len() > 1 => {
            out.push_str(&words.join(&format!("\n{inner}")));
        }
        Style::Plain => out.push_str(&s.text),
        Style::Double if s.multiline && words.len() > 1 => {
            let quoted: Vec<String> = words
                .iter()
                .map(|w| w.replace('\\', "\\\\").replace('"', "\\\""))
                .collect();
            out.push('"');
            out.push_str(&quoted.join(&format!("\n{inner}")));
            out.push('"');
        }
        Style::Double => out.push_str(&double_quoted(&s.text)),
        Style::Single => out.push_str(&single_quoted(&s.text)),
    }
    comment(out);
    out.push('\n');
}

/// The value after `key:` (nothing written after the colon yet) in block
/// context; `indent` is the key's column.
fn block_value(out: &mut String, node: &Node, indent: usize) {
    match node {
        Node::Scalar(s) => {
            out.push(' ');
            block_scalar(out, s, indent);
        }
        Node::Alias { name, .. } => {
            out.push_str(" *");
            out.push_str(name);
            out.push('\n');
        }
        Node::Map {
            items,
            anchor,
            layout: Layout::Block,
        } if !items.is_empty() => {
            if let Some(a) = anchor {
                out.push_str(" &");
                out.push_str(a);
            }
            out.push('\n');
            map_body(out, items, indent + 2, None);
        }
        Node::Seq {
            items,
            anchor,
            layout: Layout::Block,
        } if !items.is_empty() => {
            if let Some(a) = anchor {
                out.push_str(" &");
                out.push_str(a);
            }
            out.push('\n');
            seq_body(out, items, indent + 2);
        }
        Node::Map { layout, .. } | Node::Seq { layout, .. } => {
            out.push(' ');
            flow(out, node, indent + 2, *layout == Layout::Lines);
            out.push('\n');
        }
    }
}

/// `key: value` lines at `indent`; the first line starts with
/// `first_prefix` (`  - `) instead of spaces when given.
fn map_body(out: &mut String, items: &[Item], indent: usize, first_prefix: Option<&str>) {
    for (i, item) in items.iter().enumerate() {
        let first = i == 0 && first_prefix.is_some();
        if let (Some(c), false) = (&item.comment, first) {
            out.push_str(&spaces(indent));
            out.push_str("# ");
            out.push_str(c);
            out.push('\n');
        }
        match (first, first_prefix) {
            (true, Some(p)) => out.push_str(p),
            _ => out.push_str(&spaces(indent)),
        }
        out.push_str(&key_text(item));
        out.push(':');
        block_value(out, &item.value, indent);
    }
}

fn seq_body(out: &mut String, items: &[Node], indent: usize) {
    for item in items {
        match item {
            Node::Map {
                items: inner,
                anchor: None,
                layout: Layout::Block,
            } if !inner.is_empty() => {
                let prefix = format!("{}- ", spaces(indent));
                map_body(out, inner, indent + 2, Some(&prefix));
            }
            _ => {
                out.push_str(&spaces(indent));
                out.push('-');
                block_value(out, item, indent);
            }
        }
    }
}

/// Flow style; `indent` is the column continuation lines start at.
fn flow(out: &mut String, node: &Node, indent: usize, lines: bool) {
    match node {
        Node::Scalar(s) => {
            props(out, s.anchor.as_ref(), s.tag);
            match s.style {
                Style::Plain if plain_safe(&s.text) => out.push_str(&s.text),
                Style::Single => out.push_str(&single_quoted(&s.text)),
                _ => out.push_str(&double_quoted(&s.text)),
            }
        }
        Node::Alias { name, .. } => {
            out.push('*');
            out.push_str(name);
        }
        Node::Map { items, anchor, .. } => {
            props(out, anchor.as_ref(), None);
            let parts: Vec<String> = items
                .iter()
                .map(|item| {
                    let mut s = key_text(item);
                    s.push_str(": ");
                    flow(&mut s, &item.value, indent + 2, lines);
                    s
                })
                .collect();
            join_flow(out, '{', '}', &parts, indent, lines);
        }
        Node::Seq { items, anchor, .. } => {
            props(out, anchor.as_ref(), None);
            let parts: Vec<String> = items
                .iter()
                .map(|item| {
                    let mut s = String::new();
                    flow(&mut s, item, indent + 2, lines);
                    s
                })
                .collect();
            join_flow(out, '[', ']', &parts, indent, lines);
        }
    }
}

fn join_flow(
    out: &mut String,
    open: char,
    close: char,
    parts: &[String],
    indent: usize,
    lines: bool,
) {
    out.push(open);
    if lines && !parts.is_empty() {
        out.push('\n');
        let inner = spaces(indent + 2);
        let body: Vec<String> = parts.iter().map(|p| format!("{inner}{p}")).collect();
        out.push_str(&body.join(",\n"));
        out.push('\n');
        out.push_str(&spaces(indent));
    } else {
        out.push_str(&parts.join(", "));
    }
    out.push(close);
}

fn json(out: &mut String, node: &Node, indent: usize, pretty: bool) {
    match node {
        Node::Scalar(s) if s.bare_in_json && s.text.parse::<f64>().is_ok() => out.push_str(&s.text),
        Node::Scalar(s) => out.push_str(&json_string(&s.text)),
        Node::Alias { fallback, .. } => out.push_str(&json_string(fallback)),
        Node::Map { items, .. } => {
            let parts: Vec<String> = items
                .iter()
                .map(|item| {
                    let mut s = json_string(&item.key);
                    s.push_str(": ");
                    json(&mut s, &item.value, indent + 2, pretty);
                    s
                })
                .collect();
            join_json(out, '{', '}', &parts, indent, pretty);
        }
        Node::Seq { items, .. } => {
            let parts: Vec<String> = items
                .iter()
                .map(|item| {
                    let mut s = String::new();
                    json(&mut s, item, indent + 2, pretty);
                    s
                })
                .collect();
            join_json(out, '[', ']', &parts, indent, pretty);
        }
    }
}

fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|e| panic!("{e}"))
}

fn join_json(
    out: &mut String,
    open: char,
    close: char,
    parts: &[String],
    indent: usize,
    pretty: bool,
) {
    if pretty {
        join_flow(out, open, close, parts, indent, true);
    } else {
        out.push(open);
        out.push_str(&parts.join(","));
        out.push(close);
    }
}
