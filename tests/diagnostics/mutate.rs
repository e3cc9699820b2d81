//! Random edits of a generated input, as a person (or a bad merge) makes
//! them: delete, duplicate, swap or join lines, re-indent, misspell a field,
//! insert, delete or swap characters, insert YAML tokens, change line
//! endings, truncate.

use super::rng::Rng;

/// Known fields and the typos a person makes in them.
const TYPOS: &[(&str, &[&str])] = &[
    (
        "inline",
        &["inlien", "Inline", "inline_", "inlines", "inlin"],
    ),
    ("envs", &["env", "Envs", "envs_", "envz"]),
    (
        "fromEnvFile",
        &[
            "fromEnvfile",
            "fromEnvFiles",
            "from_env_file",
            "fromFileEnv",
        ],
    ),
    ("fromEnv", &["fromenv", "fromEnvs", "from_env"]),
    ("fromFile", &["fromFil", "fromfile", "fromFiles"]),
    ("fromDirectory", &["fromDir", "fromDirectroy"]),
    (
        "fromCommand",
        &["fromcommand", "fromCommands", "from_command", "fromCmd"],
    ),
    ("command", &["comand", "commands", "cmd", "args"]),
    ("key", &["keys", "Key", "kye"]),
    ("timeout", &["timout", "Timeout", "time_out"]),
    ("trim", &["trimm", "Trim", "strip"]),
    ("name", &["nmae", "Name", "names"]),
    ("kind", &["kidn", "Kind"]),
    ("state", &["sate", "State"]),
    ("secrets", &["secret", "Secrets"]),
    ("apiVersion", &["apiversion", "apiVerison"]),
    ("owner", &["ownr", "Owner", "owners"]),
    ("resources", &["resource", "Resources"]),
    ("image_id", &["imageid", "image"]),
    ("num_nodes", &["numnodes", "nodes"]),
    ("run", &["runn", "command"]),
];

/// Characters and tokens that change how YAML reads a line.
const TOKENS: &[&str] = &[
    ":", ": ", " ", "  ", "\n", "\r", "\t", "#", " #", "-", "- ", "{", "}", "[", "]", ",", "\"",
    "'", "&x ", "*x", "*a1", "!!str ", "!t ", "|", ">", "? ", "---\n", "...\n", "x", "%", "@", "`",
    "\\", "\u{feff}", "\u{0}", "é",
];

/// Split after each `\n`, keeping the breaks.
fn lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_string).collect()
}

fn char_boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn random_boundary(rng: &mut Rng, text: &str) -> usize {
    let at = rng.below(text.len() + 1);
    char_boundary(text, at)
}

/// One random edit; returns its name (for the failure report).
pub fn mutate_once(rng: &mut Rng, text: &mut String) -> &'static str {
    let mut ls = lines(text);
    let n = ls.len();
    let op = rng.below(16);
    let name = match op {
        0 if n > 1 => {
            ls.remove(rng.below(n));
            "delete a line"
        }
        1 if n > 0 => {
            let i = rng.below(n);
            let mut line = ls[i].clone();
            if !line.ends_with('\n') {
                line.push('\n');
            }
            ls.insert(i, line);
            "duplicate a line"
        }
        2 if n > 1 => {
            let i = rng.below(n - 1);
            ls.swap(i, i + 1);
            "swap two lines"
        }
        3..=5 if n > 0 => {
            let i = rng.below(n);
            let body = ls[i].trim_start_matches(' ').to_string();
            let old = ls[i].len() - body.len();
            let new = match rng.below(4) {
                0 => old + 1,
                1 => old.saturating_sub(1),
                2 => old + 2,
                _ => rng.below(9),
            };
            ls[i] = format!("{}{body}", " ".repeat(new));
            "re-indent a line"
        }
        6 | 7 => {
            let found: Vec<(usize, &str, &[&str])> = TYPOS
                .iter()
                .flat_map(|(field, typos)| {
                    text.match_indices(field)
                        .filter(|(at, _)| {
                            let after = &text[at + field.len()..];
                            after.starts_with(':') || after.starts_with("\":")
                        })
                        .map(move |(at, _)| (at, *field, *typos))
                })
                .collect();
            if found.is_empty() {
                return "misspell a field (none found)";
            }
            let (at, field, typos) = found[rng.below(found.len())];
            let typo = rng.pick(typos);
            text.replace_range(at..at + field.len(), typo);
            return "misspell a field";
        }
        8 | 9 => {
            let at = random_boundary(rng, text);
            let token = rng.pick(TOKENS);
            text.insert_str(at, token);
            return "insert a token";
        }
        10 if !text.is_empty() => {
            let at = random_boundary(rng, text);
            let end = char_boundary(text, at + rng.range(1, 3));
            let end = if end == at {
                text[at..].chars().next().map_or(at, |c| at + c.len_utf8())
            } else {
                end
            };
            text.replace_range(at..end, "");
            return "delete characters";
        }
        11 if text.len() > 1 => {
            let at = random_boundary(rng, text);
            let mut chars = text[at..].chars();
            if let (Some(a), Some(b)) = (chars.next(), chars.next()) {
                let end = at + a.len_utf8() + b.len_utf8();
                text.replace_range(at..end, &format!("{b}{a}"));
            }
            return "swap two characters";
        }
        12 => {
            let (name, new) = match rng.below(4) {
                0 => ("line endings to CRLF", text.replace('\n', "\r\n")),
                1 => (
                    "line endings to CR",
                    text.replace("\r\n", "\r").replace('\n', "\r"),
                ),
                2 => (
                    "line endings to LF",
                    text.replace("\r\n", "\n").replace('\r', "\n"),
                ),
                _ => {
                    let breaks: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
                    if breaks.is_empty() {
                        return "one line ending to CR (none found)";
                    }
                    let at = breaks[rng.below(breaks.len())];
                    let mut t = text.clone();
                    t.replace_range(at..at + 1, "\r");
                    ("one line ending to CR", t)
                }
            };
            *text = new;
            return name;
        }
        13 if n > 1 => {
            let i = rng.below(n - 1);
            let joined = format!("{}{}", ls[i].trim_end_matches(['\n', '\r']), ls[i + 1]);
            ls[i] = joined;
            ls.remove(i + 1);
            "join two lines"
        }
        14 if !text.is_empty() => {
            let a = random_boundary(rng, text);
            let b = char_boundary(text, a + rng.range(1, 40));
            let chunk = text[a..b].to_string();
            let at = random_boundary(rng, text);
            text.insert_str(at, &chunk);
            return "duplicate a chunk";
        }
        15 if rng.percent(30) => {
            let at = random_boundary(rng, text);
            text.truncate(at);
            return "truncate";
        }
        _ => return "no-op",
    };
    *text = ls.concat();
    name
}
