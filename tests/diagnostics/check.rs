//! Run an input through the parsers and every way an error reaches a person
//! (the rendered diagnostic, the message, each related problem, the help,
//! the labels, the Debug text), and look for canaries there: raw, base64 at
//! each alignment, or a 10-character piece of one.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use base64::Engine;
use konduktor::manifest::{self, EntrySource, EntryState};
use konduktor::{Error, HashSource, Owner};
use miette::Diagnostic;

use super::generate::{Canary, Kind};

/// Every text a person (or a log) may see for one input, by channel.
pub type Outputs = Vec<(String, String)>;

#[derive(Debug, Clone)]
pub enum Failure {
    Panic(String),
    Leak {
        channel: String,
        canary: String,
        how: String,
        output: String,
    },
}

impl Failure {
    pub fn same_kind(&self, other: &Failure) -> bool {
        matches!(
            (self, other),
            (Failure::Panic(_), Failure::Panic(_)) | (Failure::Leak { .. }, Failure::Leak { .. })
        )
    }

    pub fn channel(&self) -> &str {
        match self {
            Failure::Panic(_) => "panic",
            Failure::Leak { channel, .. } => channel,
        }
    }
}

pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(no message)".to_string())
}

fn collect(err: &Error, step: &str, out: &mut Outputs) {
    out.push((
        format!("{step}: rendered diagnostic"),
        konduktor::diagnostic(err, false),
    ));
    out.push((format!("{step}: message"), err.to_string()));
    out.push((format!("{step}: Debug of the error"), format!("{err:?}")));
    walk(err, step, 0, out);
}

fn walk(d: &dyn Diagnostic, step: &str, depth: usize, out: &mut Outputs) {
    if let Some(help) = d.help() {
        out.push((format!("{step}: help (depth {depth})"), help.to_string()));
    }
    for label in d.labels().into_iter().flatten() {
        if let Some(text) = label.label() {
            out.push((format!("{step}: label (depth {depth})"), text.to_string()));
        }
    }
    for related in d.related().into_iter().flatten() {
        out.push((
            format!("{step}: related message (depth {})", depth + 1),
            related.to_string(),
        ));
        walk(related, step, depth + 1, out);
    }
}

/// Whether every path the manifest names lies under `dir` (so that loading
/// it reads nothing outside the test's scratch folder).
fn paths_inside(m: &manifest::Manifest, dir: &Path) -> bool {
    m.entries.iter().all(|e| match &e.state {
        EntryState::Present {
            source: EntrySource::Files(files),
            ..
        } => files.iter().all(|(p, _)| p.starts_with(dir)),
        EntryState::Present {
            source: EntrySource::Directory(p, _),
            ..
        } => p.starts_with(dir),
        EntryState::Present {
            source:
                EntrySource::Pairs {
                    from_env_file: Some((p, _)),
                    ..
                },
            ..
        } => p.starts_with(dir),
        _ => true,
    })
}

/// An owner no generated manifest names.
fn someone_else() -> Owner {
    Owner {
        hash: "8417fdac".to_string(),
        source: HashSource::UserIdEnv,
        username: "bob".to_string(),
    }
}

/// Parse (and, for a valid manifest, check its owner against someone
/// else's and load it with no environment variable set); every text shown
/// for it.
pub fn outputs(kind: Kind, text: &str, dir: &Path) -> Result<Outputs, Failure> {
    catch_unwind(AssertUnwindSafe(|| {
        let mut out = Vec::new();
        match kind {
            Kind::Manifest => {
                let path = dir.join("secrets.yaml");
                match manifest::parse(&path, text) {
                    Err(e) => collect(&e, "parse", &mut out),
                    Ok(m) => {
                        out.push(("Debug of the parsed manifest".to_string(), format!("{m:?}")));
                        // Its `owner:` against someone else's hash.
                        if let Err(e) = m.check_owner(&someone_else()) {
                            collect(&e, "owner check", &mut out);
                        }
                        if paths_inside(&m, dir) {
                            match manifest::load(&m, &|_| None) {
                                Err(e) => collect(&e, "load", &mut out),
                                Ok(d) => out.push((
                                    "Debug of the loaded secrets".to_string(),
                                    format!("{d:?}"),
                                )),
                            }
                        }
                    }
                }
            }
            Kind::Task => {
                let path = dir.join("task.yaml");
                if let Err(e) = konduktor::task::parse(&path, text) {
                    collect(&e, "parse", &mut out);
                }
            }
        }
        out
    }))
    .map_err(|p| Failure::Panic(panic_text(p.as_ref())))
}

/// What the CLI does with an input file: parse it (and load a valid
/// manifest) and render the diagnostic it prints, if any.
pub fn parse_and_render(kind: Kind, text: &str, dir: &Path) -> Result<Option<String>, Failure> {
    catch_unwind(AssertUnwindSafe(|| {
        let err = match kind {
            Kind::Manifest => match manifest::parse(&dir.join("secrets.yaml"), text) {
                Err(e) => Some(e),
                Ok(m) if paths_inside(&m, dir) => manifest::load(&m, &|_| None).err(),
                Ok(_) => None,
            },
            Kind::Task => konduktor::task::parse(&dir.join("task.yaml"), text).err(),
        };
        err.map(|e| konduktor::diagnostic(&e, false))
    }))
    .map_err(|p| Failure::Panic(panic_text(p.as_ref())))
}

fn scalar_text(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Number(n) => vec![n.to_string()],
        serde_json::Value::Bool(b) => vec![b.to_string()],
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

fn keys(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                out.push(k.clone());
                keys(v, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| keys(i, out)),
        _ => {}
    }
}

fn env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The document as the manifest and task readers see it, if it is YAML: a
/// repeated field is reported and its first value kept, as they do.
fn document(text: &str) -> Option<serde_json::Value> {
    let mut options = serde_saphyr::Options::default();
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::FirstWins;
    serde_saphyr::from_str_with_options::<serde_json::Value>(text, options).ok()
}

/// A name the readers show as a key (`has_key_chars`): anything else could
/// be a pasted value.
fn key_chars(s: &str) -> bool {
    (1..=253).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// What may be shown: the values of known structural fields in their known
/// places (valid variable names in fromEnv; in each `fromCommand` entry the
/// command's program and arguments, a `key` that could not be a value,
/// `timeout` and `trim`), and mapping keys, as the document (mutated or
/// not) says. Nothing when it is not YAML at all.
pub fn allowed(kind: Kind, text: &str) -> Vec<String> {
    let Some(doc) = document(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    keys(&doc, &mut out);
    let field = |v: &serde_json::Value, name: &str, out: &mut Vec<String>| {
        if let Some(x) = v.get(name) {
            out.extend(scalar_text(x));
        }
    };
    match kind {
        Kind::Manifest => {
            field(&doc, "apiVersion", &mut out);
            field(&doc, "kind", &mut out);
            // A hash, not a secret: shown in every owner message.
            field(&doc, "owner", &mut out);
            for entry in doc
                .get("secrets")
                .and_then(|s| s.as_array())
                .into_iter()
                .flatten()
            {
                for f in ["name", "kind", "state", "fromDirectory", "fromFile"] {
                    field(entry, f, &mut out);
                }
                // A valid variable name in fromEnv is a name (`export X`);
                // anything else there (`K=V`) is a value.
                if let Some(names) = entry.get("fromEnv") {
                    out.extend(scalar_text(names).into_iter().filter(|n| env_name(n)));
                }
                // A command is shown as paths are; its `key` as an inline
                // key is (only when it could not be a pasted value).
                for command in entry
                    .get("fromCommand")
                    .and_then(|c| c.as_array())
                    .into_iter()
                    .flatten()
                {
                    if let Some(argv) = command.get("command").and_then(|a| a.as_array()) {
                        out.extend(argv.iter().filter(|a| !a.is_array()).flat_map(scalar_text));
                    }
                    if let Some(key) = command.get("key") {
                        out.extend(scalar_text(key).into_iter().filter(|k| key_chars(k)));
                    }
                    for f in ["timeout", "trim"] {
                        if let Some(v) = command.get(f).filter(|v| !v.is_array()) {
                            out.extend(scalar_text(v));
                        }
                    }
                }
            }
        }
        Kind::Task => {
            for f in ["name", "num_nodes", "setup", "run"] {
                field(&doc, f, &mut out);
            }
            if let Some(r) = doc.get("resources") {
                for f in ["image_id", "cpus", "memory", "accelerators"] {
                    field(r, f, &mut out);
                }
            }
        }
    }
    out
}

/// The forms of a canary to look for: (how, pattern).
fn patterns(canary: &str) -> Vec<(String, String)> {
    let mut out = vec![("raw".to_string(), canary.to_string())];
    let tail = &canary[canary.len().saturating_sub(16)..];
    for i in 0..=tail.len().saturating_sub(10) {
        out.push((
            "a 10-character piece".to_string(),
            tail[i..i + 10].to_string(),
        ));
    }
    let bytes = canary.as_bytes();
    for skip in 0..3 {
        let rest = &bytes[skip.min(bytes.len())..];
        let whole = rest.len() / 3 * 3;
        for (name, engine) in [
            ("base64", &base64::engine::general_purpose::STANDARD),
            ("base64url", &base64::engine::general_purpose::URL_SAFE),
        ] {
            out.push((
                format!("{name} (alignment {skip})"),
                engine.encode(&rest[..whole]),
            ));
        }
    }
    out
}

/// Whether `piece` is written in a mapping key somewhere in `text`
/// (`piece:`, `"piece":`, or inside a longer key that a mutation pasted it
/// into), as a mutation can make it: keys are names, and a message may quote
/// an unknown one even when the file is not YAML.
fn written_as_key(text: &str, piece: &str) -> bool {
    let key_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    text.match_indices(piece).any(|(at, m)| {
        let after = &text[at + m.len()..];
        let after = after.trim_start_matches(key_char);
        let after = after.trim_start_matches(['"', '\'']);
        after.strip_prefix(':').is_some_and(|rest| {
            rest.is_empty() || rest.starts_with(|c: char| c.is_whitespace() || ",}]".contains(c))
        })
    })
}

/// Fields whose value, written on the field's own line, the readers show;
/// `true` for a list (`fromFile: [a, b]`).
const STRUCTURAL: &[(&str, bool)] = &[
    ("apiVersion", false),
    ("kind", false),
    ("name", false),
    ("state", false),
    ("fromDirectory", false),
    ("fromFile", true),
    ("num_nodes", false),
    ("image_id", false),
    ("cpus", false),
    ("memory", false),
    ("accelerators", false),
];

/// The fields of a `fromCommand` entry the manifest reader shows. Read line
/// by line only when the document is not YAML as a whole: a line alone
/// cannot tell them from keys of the same name under `inline:`, which hold
/// values; a YAML document says where they stand ([`allowed`]).
const COMMAND_FIELDS: &[(&str, bool)] = &[
    ("command", true),
    ("key", false),
    ("timeout", false),
    ("trim", false),
];

/// Top-level fields whose value the manifest reader shows: written at the
/// start of a line, or at the top of a document in flow style. Indented, or
/// in a nested flow mapping, the same key is in a deeper mapping (an
/// `owner` key under `inline:` holds a value).
const TOP_LEVEL: &[&str] = &["owner"];

/// Whether `piece` stands in the value of a structural field, on that
/// field's own line (`apiVersion: x<piece>y`, `- {name: x<piece>y, ...}`,
/// `{apiVersion: v, kind: x<piece>y, ...}`): what the document says even
/// where a YAML library refuses it as a whole (a bad `!!binary` elsewhere).
/// Only in that field's own value: not after an anchor, alias, tag or
/// comment, nor in a later field of the same flow mapping
/// (`{name: a, inline: {K: <piece>}}`), nor after a list closed. `yaml`
/// says whether the document is YAML as a whole.
fn written_in_structural_line(text: &str, piece: &str, yaml: bool) -> bool {
    // The field starts the line's content or follows `{`, `,` or `- `.
    let field_starts = |before: &str| {
        let b = before.trim_end_matches(' ');
        b.is_empty() || b.ends_with(['{', ',', '-', '['])
    };
    // Inside a quoted scalar still open (`"a: b<piece>`), anything goes.
    let own_value = |value: &str, list: bool| {
        let trimmed = value.trim_start();
        if let Some(quote) = trimmed.chars().next().filter(|q| matches!(q, '"' | '\''))
            && !trimmed[1..].contains(quote)
        {
            return true;
        }
        !value.contains(['#', '&', '*', '!', '{', '}', ']'])
            && !value.contains(": ")
            && (list || !value.contains([',', '[']))
    };
    // `field:` in `line` (the text before the piece on its line), with
    // the piece in its own value; `top` asks for a top-level field.
    let in_field = |line_at: usize, line: &str, field: &str, list: bool, top: bool| {
        let key = format!("{field}:");
        line.match_indices(&key).any(|(at, _)| {
            let before = &line[..at];
            let top_ok = !top
                || before.trim_start_matches('{').is_empty()
                || (text.trim_start().starts_with('{') && {
                    let upto = &text[..line_at + at];
                    let count = |c: char| upto.matches(c).count();
                    count('{') == count('}') + 1 && count('[') == count(']')
                });
            field_starts(before) && top_ok && own_value(&line[at + key.len()..], list)
        })
    };
    let command_fields = if yaml { &[][..] } else { COMMAND_FIELDS };
    text.match_indices(piece).any(|(at, _)| {
        let line_start = text[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1);
        let line = &text[line_start..at];
        STRUCTURAL
            .iter()
            .chain(command_fields)
            .any(|&(field, list)| in_field(line_start, line, field, list, false))
            || TOP_LEVEL
                .iter()
                .any(|field| in_field(line_start, line, field, false, true))
    })
}

/// The first canary shown where it may not be. `text` is the input.
pub fn find_leak(
    outputs: &Outputs,
    canaries: &[Canary],
    allowed: &[String],
    text: &str,
) -> Option<Failure> {
    // A structural value may show what it holds. For a canary that has an
    // anchor, only where the value is written out after its key (a mutation
    // can copy text into a name): through an alias it may never show.
    // After its key, or as an item of a list (a command argument, a
    // `fromEnv` name).
    let written_out = |a: &str| {
        [": ", ":", "[", ", ", ",", "- "].iter().any(|lead| {
            ["", "\"", "'"]
                .iter()
                .any(|quote| text.contains(&format!("{lead}{quote}{a}")))
        })
    };
    let allows = |c: &Canary, piece: &str| {
        allowed
            .iter()
            .any(|a| a.contains(piece) && (!c.aliased || written_out(a)))
    };
    let yaml = document(text).is_some();
    // Outputs are searched without their non-ASCII characters (a mutation
    // may have put one inside a canary): the input is read the same way.
    let ascii: String = text.chars().filter(char::is_ascii).collect();
    let written_here = |piece: &str| {
        [text, ascii.as_str()]
            .iter()
            .any(|t| written_as_key(t, piece) || written_in_structural_line(t, piece, yaml))
    };
    for c in canaries {
        // A key is written out where it stands (an alias key would read `*a:`).
        if allows(c, &c.text) || written_here(&c.text) {
            continue;
        }
        for (how, pattern) in patterns(&c.text) {
            if allows(c, &pattern) || written_here(&pattern) {
                continue;
            }
            for (channel, text) in outputs {
                // A terminal may wrap a long line: look across breaks too.
                let squashed: String = text
                    .chars()
                    .filter(|ch| ch.is_ascii() && !ch.is_ascii_whitespace())
                    .collect();
                if text.contains(&pattern) || squashed.contains(&pattern) {
                    return Some(Failure::Leak {
                        channel: channel.clone(),
                        canary: c.text.clone(),
                        how,
                        output: text.clone(),
                    });
                }
            }
        }
    }
    None
}

/// Run one input; a panic or a shown canary is a failure.
pub fn check(kind: Kind, text: &str, canaries: &[Canary], dir: &Path) -> Result<(), Failure> {
    let outputs = outputs(kind, text, dir)?;
    if outputs.is_empty() {
        return Ok(());
    }
    let allowed = allowed(kind, text);
    match find_leak(&outputs, canaries, &allowed, text) {
        Some(f) => Err(f),
        None => Ok(()),
    }
}

/// The canary a failure shows, if it is a leak.
fn leaked(f: &Failure) -> Option<&str> {
    match f {
        Failure::Leak { canary, .. } => Some(canary),
        Failure::Panic(_) => None,
    }
}

/// The smallest input found by deleting whole lines (so that what is left
/// is still built the same way) that still fails the same way: the same
/// canary shown, or a panic.
pub fn minimize(
    kind: Kind,
    text: &str,
    canaries: &[Canary],
    dir: &Path,
    failure: &Failure,
) -> String {
    let mut budget = 4000usize;
    let mut fails = |t: &str| {
        budget = budget.saturating_sub(1);
        budget > 0
            && check(kind, t, canaries, dir)
                .is_err_and(|f| f.same_kind(failure) && leaked(&f) == leaked(failure))
    };
    let mut best = text.to_string();
    // Lines.
    let mut i = 0;
    loop {
        let lines: Vec<&str> = best.split_inclusive('\n').collect();
        if i >= lines.len() || lines.len() < 2 {
            break;
        }
        let candidate: String = lines
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, l)| *l)
            .collect();
        if fails(&candidate) {
            best = candidate;
        } else {
            i += 1;
        }
    }
    best
}
