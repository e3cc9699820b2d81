//! The layer order of `src/` holds (DEVELOPMENT.md, "The layers"): every
//! path a file names (`use crate::...`, `super::...`, a `crate::` path in
//! code, a child module's path) leads to a file of its own row of the table
//! or of a row below, and no files import one another in a circle. The
//! rows are read from DEVELOPMENT.md itself, so the table and the code
//! cannot disagree.
//!
//! The reader is small and knows this crate's style: comments and literals
//! are blanked, `mod` declarations (with `#[path]`) give each file its
//! module, and a path to an item re-exported with `pub use` leads to the
//! file that defines it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[test]
fn every_import_follows_the_layer_table_and_none_goes_round() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("DEVELOPMENT.md"))
        .unwrap_or_else(|e| panic!("DEVELOPMENT.md: {e}"));
    let layers = Layers::read(&doc).unwrap_or_else(|e| panic!("DEVELOPMENT.md: {e}"));
    let sources = read_tree(&root.join("src"));
    let graph = Graph::of(&sources);
    // A reader that found nothing would pass anything: the tree has
    // hundreds of imports, and these few must be among them.
    assert!(graph.edges.len() > 300, "{} edges", graph.edges.len());
    for (from, to) in [
        ("cmd/apply.rs", "secrets/execute/mod.rs"),
        ("secrets/plan/mod.rs", "secrets/manifest/mod.rs"),
        ("cluster/exec_plugin.rs", "process/mod.rs"),
        ("secrets/manifest/sources.rs", "konduktor/layout.rs"),
    ] {
        assert!(
            graph.edges.iter().any(|e| e.from == from && e.to == to),
            "the reader missed src/{from} -> src/{to}"
        );
    }
    let problems = problems(&graph, &layers, &sources);
    assert!(
        problems.is_empty(),
        "the layers of DEVELOPMENT.md (\"The layers\") do not hold:\n{}",
        problems.join("\n")
    );
}

/// The check itself can fail: a file that imports from a row above its
/// own, and two that import each other, are named with their lines.
#[test]
fn an_import_against_the_table_and_a_circle_are_named_with_their_lines() {
    let doc = "# Doc\n\n## The layers\n\n| layer | where | knows |\n| --- | --- | --- |\n\
               | top | `src/lib.rs`, `src/high/` | all |\n\
               | bottom | `src/low.rs`, `src/other.rs` | nothing above |\n\n## Next\n";
    let layers = Layers::read(doc).unwrap_or_else(|e| panic!("{e}"));
    let sources: BTreeMap<String, String> = [
        ("lib.rs", "mod high;\nmod low;\nmod other;\n"),
        ("high/mod.rs", "pub struct Top;\n"),
        (
            "low.rs",
            "// use crate::high::Top; in a comment is no import\nuse crate::other::B;\npub struct A;\nfn f() -> crate::high::Top { todo!() }\n",
        ),
        ("other.rs", "use super::low::A;\npub struct B;\n"),
    ]
    .into_iter()
    .map(|(p, t)| (p.to_string(), t.to_string()))
    .collect();
    let graph = Graph::of(&sources);
    let problems = problems(&graph, &layers, &sources).join("\n");
    assert!(
        problems.contains("src/low.rs:4: `fn f() -> crate::high::Top { todo!() }` reaches up"),
        "{problems}"
    );
    assert!(!problems.contains("src/low.rs:1"), "{problems}");
    assert!(
        problems.contains("src/low.rs:2 -> src/other.rs:1 -> src/low.rs"),
        "{problems}"
    );
}

/// The rows of the table under "## The layers", top row first: the
/// top-level modules each names (`src/x.rs`, `src/x/`; `src/lib.rs` and
/// `src/main.rs` as themselves).
struct Layers {
    /// Module key (`cmd`, `lib.rs`) -> (rank, the row's name); a higher
    /// rank is a higher row.
    rank: BTreeMap<String, (usize, String)>,
}

impl Layers {
    fn read(doc: &str) -> Result<Self, String> {
        let section = doc
            .split("\n## ")
            .find(|s| s.starts_with("The layers"))
            .ok_or("no section \"## The layers\"")?;
        let rows: Vec<&str> = section
            .lines()
            .skip_while(|l| !l.starts_with('|'))
            .take_while(|l| l.starts_with('|'))
            .skip(2)
            .collect();
        if rows.is_empty() {
            return Err("no table of layers under \"## The layers\"".into());
        }
        let mut rank = BTreeMap::new();
        for (i, row) in rows.iter().enumerate() {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let (Some(name), Some(place)) = (cells.get(1), cells.get(2)) else {
                return Err(format!("a row without a `where` column: {row}"));
            };
            let keys: Vec<String> = place
                .split('`')
                .skip(1)
                .step_by(2)
                .filter_map(|p| p.strip_prefix("src/"))
                .map(|p| match p {
                    "lib.rs" | "main.rs" => p.to_string(),
                    _ => p.trim_end_matches('/').trim_end_matches(".rs").to_string(),
                })
                .collect();
            if keys.is_empty() {
                return Err(format!("row `{name}` names no `src/` path"));
            }
            for key in keys {
                if rank
                    .insert(key.clone(), (rows.len() - i, name.to_string()))
                    .is_some()
                {
                    return Err(format!("src/{key} is in two rows"));
                }
            }
        }
        Ok(Layers { rank })
    }

    /// The row of a file, by its top-level module (`cli_tests.rs` is
    /// `cli::tests`, in `cli`'s row); a file no `mod` reaches, by its path.
    fn of(&self, file: &str, modules: &BTreeMap<String, Vec<String>>) -> Option<&(usize, String)> {
        let key = match modules.get(file).and_then(|m| m.first()) {
            Some(top) => top.as_str(),
            None => match file.split_once('/') {
                Some((dir, _)) => dir,
                None if file == "lib.rs" || file == "main.rs" => file,
                None => file.trim_end_matches(".rs"),
            },
        };
        self.rank.get(key)
    }
}

/// Every `.rs` file under `dir`, by its path under it (`/`-separated).
fn read_tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut pending: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        for entry in entries {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let rel = path
                    .strip_prefix(dir)
                    .unwrap_or_else(|e| panic!("{e}"))
                    .to_string_lossy()
                    .replace('\\', "/");
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                out.insert(rel, text);
            }
        }
    }
    out
}

/// What is wrong with `graph` against `layers`: files in no row, files no
/// `mod` reaches, imports from a higher row, and circles.
fn problems(graph: &Graph, layers: &Layers, sources: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for file in sources.keys() {
        if layers.of(file, &graph.modules).is_none() {
            out.push(format!(
                "src/{file} is in no row of the table: add its path to the row it belongs to"
            ));
        }
        if file != "main.rs" && !graph.modules.contains_key(file) {
            out.push(format!(
                "src/{file} is no module of the crate: no `mod` names it"
            ));
        }
    }
    for key in layers.rank.keys() {
        let exists = sources
            .keys()
            .any(|f| f == key || f.starts_with(&format!("{key}/")) || *f == format!("{key}.rs"));
        if !exists {
            out.push(format!("the table names src/{key}, which does not exist"));
        }
    }
    for edge in &graph.edges {
        let (Some((from_rank, from_row)), Some((to_rank, to_row))) = (
            layers.of(&edge.from, &graph.modules),
            layers.of(&edge.to, &graph.modules),
        ) else {
            continue;
        };
        if to_rank > from_rank {
            out.push(format!(
                "src/{}:{}: `{}` reaches up from `{from_row}` to src/{} in `{to_row}`: a file may import only from its own row or a row below; move what it needs down, or the code up",
                edge.from, edge.line, edge.text, edge.to
            ));
        }
    }
    for circle in graph.circles() {
        out.push(format!(
            "import circle: {}: break it by moving what they share into a file below them",
            circle
        ));
    }
    out
}

/// One path a file names, and the file that defines what it names.
#[derive(Debug, Clone)]
struct Edge {
    from: String,
    to: String,
    line: usize,
    text: String,
}

/// The files of the crate, each with its module path, and the edges
/// between them (one per pair of files, at its first line).
struct Graph {
    /// File -> module path (`secrets::plan`); the crate root is empty.
    modules: BTreeMap<String, Vec<String>>,
    edges: Vec<Edge>,
}

/// A file, read: its text with comments and literals blanked, and what
/// `pub use` re-exports.
struct Parsed {
    code: String,
    defined: BTreeSet<String>,
    /// What the module re-exports (`pub use`): the name bound (its last
    /// segment, its `as`, `*` for a glob) and the path as written.
    reexports: Vec<(String, Vec<String>)>,
}

impl Graph {
    fn of(sources: &BTreeMap<String, String>) -> Self {
        let parsed: BTreeMap<&str, Parsed> = sources
            .iter()
            .map(|(f, text)| (f.as_str(), Parsed::new(text)))
            .collect();
        let mut modules = BTreeMap::new();
        if sources.contains_key("lib.rs") {
            walk_modules("lib.rs", Vec::new(), sources, &mut modules);
        }
        let files: BTreeMap<Vec<String>, String> = modules
            .iter()
            .map(|(f, m): (&String, &Vec<String>)| (m.clone(), f.clone()))
            .collect();
        let mut graph = Graph {
            modules: modules.clone(),
            edges: Vec::new(),
        };
        // Paths resolve against the module tree, through re-exports.
        let world = World {
            files: &files,
            parsed: &parsed,
        };
        let mut seen = BTreeSet::new();
        for (file, module) in &modules {
            let Some(p) = parsed.get(file.as_str()) else {
                continue;
            };
            let Some(text) = sources.get(file) else {
                continue;
            };
            let lines: Vec<&str> = text.lines().collect();
            for (at, segments) in paths_named(&p.code, module, &world) {
                let Some(to) = world.file_of(&segments, 0) else {
                    continue;
                };
                if &to == file || !seen.insert((file.clone(), to.clone())) {
                    continue;
                }
                let line = p.code[..at].matches('\n').count() + 1;
                graph.edges.push(Edge {
                    from: file.clone(),
                    to,
                    line,
                    text: lines.get(line - 1).map_or("", |l| l.trim()).to_string(),
                });
            }
        }
        graph
    }

    /// One circle for each set of files that import one another round
    /// (a strongly connected part of the graph): its shortest chain of
    /// `file:line` back to its start, and the whole set when it is larger.
    fn circles(&self) -> Vec<String> {
        let from: BTreeMap<&str, Vec<&Edge>> =
            self.edges.iter().fold(BTreeMap::new(), |mut m, e| {
                m.entry(e.from.as_str()).or_default().push(e);
                m
            });
        let mut out = Vec::new();
        for part in strongly_connected(&from) {
            let Some(start) = part.first().copied() else {
                continue;
            };
            // The shortest way from `start` back to itself, within the part.
            let mut came: BTreeMap<&str, &Edge> = BTreeMap::new();
            let mut queue = std::collections::VecDeque::from([start]);
            let mut back: Option<&Edge> = None;
            'search: while let Some(at) = queue.pop_front() {
                for e in from.get(at).into_iter().flatten() {
                    if e.to == start {
                        back = Some(e);
                        break 'search;
                    }
                    if part.contains(&e.to.as_str()) && !came.contains_key(e.to.as_str()) {
                        came.insert(e.to.as_str(), e);
                        queue.push_back(e.to.as_str());
                    }
                }
            }
            let Some(last) = back else {
                continue;
            };
            let mut chain = vec![last];
            let mut at = last.from.as_str();
            while at != start {
                let Some(e) = came.get(at) else {
                    break;
                };
                chain.push(e);
                at = e.from.as_str();
            }
            chain.reverse();
            let mut text: String = chain
                .iter()
                .map(|e| format!("src/{}:{} -> ", e.from, e.line))
                .collect();
            text.push_str(&format!("src/{start}"));
            if part.len() > chain.len() {
                let all: Vec<String> = part.iter().map(|f| format!("src/{f}")).collect();
                text.push_str(&format!(" (one of the circles among {})", all.join(", ")));
            }
            out.push(text);
        }
        out
    }
}

/// The strongly connected parts of more than one file (Tarjan), each
/// sorted.
fn strongly_connected<'a>(from: &BTreeMap<&'a str, Vec<&'a Edge>>) -> Vec<Vec<&'a str>> {
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        parts: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(v: &'a str, from: &BTreeMap<&'a str, Vec<&'a Edge>>, s: &mut State<'a>) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for e in from.get(v).into_iter().flatten() {
            let w = e.to.as_str();
            if !s.index.contains_key(w) {
                visit(w, from, s);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut part = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                part.push(w);
                if w == v {
                    break;
                }
            }
            if part.len() > 1 {
                part.sort_unstable();
                s.parts.push(part);
            }
        }
    }
    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        parts: Vec::new(),
    };
    for v in from.keys() {
        if !s.index.contains_key(v) {
            visit(v, from, &mut s);
        }
    }
    s.parts
}

/// What resolving a path needs.
struct World<'a> {
    files: &'a BTreeMap<Vec<String>, String>,
    parsed: &'a BTreeMap<&'a str, Parsed>,
}

impl World<'_> {
    /// The file that defines what the absolute path `segments` names: the
    /// deepest module file on it, or, when that only re-exports the item,
    /// the file it comes from.
    fn file_of(&self, segments: &[String], depth: usize) -> Option<String> {
        let (module_len, file) = (0..=segments.len())
            .rev()
            .find_map(|n| self.files.get(&segments[..n]).map(|f| (n, f.clone())))?;
        let Some(name) = segments.get(module_len) else {
            return Some(file);
        };
        let Some(p) = self.parsed.get(file.as_str()) else {
            return Some(file);
        };
        if p.defined.contains(name) || depth > 8 {
            return Some(file);
        }
        let rest = &segments[module_len + 1..];
        let here = &segments[..module_len];
        for (bound, written) in &p.reexports {
            let Some(target) = absolute(written, here, self.files) else {
                continue;
            };
            let mut path = if bound == "*" {
                let mut glob = target.clone();
                glob.push(name.clone());
                glob
            } else if bound == name {
                target.clone()
            } else {
                continue;
            };
            path.extend(rest.iter().cloned());
            if let Some(found) = self.file_of(&path, depth + 1)
                && found != file
            {
                return Some(found);
            }
        }
        Some(file)
    }
}

/// Walk the `mod` declarations from `file` (module `module`), recording
/// each file's module path.
fn walk_modules(
    file: &str,
    module: Vec<String>,
    sources: &BTreeMap<String, String>,
    out: &mut BTreeMap<String, Vec<String>>,
) {
    let Some(text) = sources.get(file) else {
        return;
    };
    out.insert(file.to_string(), module.clone());
    let code = blank(text);
    let original: Vec<&str> = text.lines().collect();
    let (dir, stem) = match file.rsplit_once('/') {
        Some((d, f)) => (d.to_string(), f.trim_end_matches(".rs").to_string()),
        None => (String::new(), file.trim_end_matches(".rs").to_string()),
    };
    let owns_dir = matches!(stem.as_str(), "mod" | "lib" | "main");
    let join = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_string()
        } else {
            format!("{a}/{b}")
        }
    };
    let code_lines: Vec<&str> = code.lines().collect();
    for (i, line) in code_lines.iter().enumerate() {
        let Some(name) = declared_module(line) else {
            continue;
        };
        // `#[path = "..."]` on the attribute lines just above.
        let mut path_attr = None;
        for j in (0..i).rev() {
            let attr = code_lines.get(j).map_or("", |l| l.trim());
            if !attr.starts_with("#[") {
                break;
            }
            if attr.starts_with("#[path") {
                path_attr = original
                    .get(j)
                    .and_then(|l| l.split('"').nth(1))
                    .map(str::to_string);
            }
        }
        let child_dir = if owns_dir {
            dir.clone()
        } else {
            join(&dir, &stem)
        };
        let child = match path_attr {
            Some(p) => normalize(&join(&dir, &p)),
            None => {
                let flat = join(&child_dir, &format!("{name}.rs"));
                if sources.contains_key(&flat) {
                    Some(flat)
                } else {
                    Some(join(&child_dir, &format!("{name}/mod.rs")))
                }
            }
        };
        // A path outside src/ (a test helper under tests/) is not ours.
        let Some(child) = child else {
            continue;
        };
        let mut child_module = module.clone();
        child_module.push(name);
        walk_modules(&child, child_module, sources, out);
    }
}

/// `a/b/../c` as `a/c`; `None` when it leaves the tree.
fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "." | "" => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// `name` of a `mod name;` line (any visibility), not of `mod name { .. }`.
fn declared_module(line: &str) -> Option<String> {
    let words = tokens(line);
    let at = words.iter().position(|t| t.text == "mod")?;
    let name = words.get(at + 1)?;
    (words.get(at + 2).map(|t| t.text.as_str()) == Some(";") && is_ident(&name.text))
        .then(|| name.text.clone())
}

/// Every path `code` names, absolute, with the byte where it is written:
/// the leaves of its `use` trees, and paths in code that start at `crate`,
/// `super`, `self`, a child module, or a module a `use` named.
fn paths_named(code: &str, module: &[String], world: &World<'_>) -> Vec<(usize, Vec<String>)> {
    let toks = tokens(code);
    let inline = inline_modules(&toks);
    let module_at = |at: usize| -> Vec<String> {
        let mut m = module.to_vec();
        m.extend(
            inline
                .iter()
                .filter(|(s, e, _)| *s <= at && at < *e)
                .map(|(_, _, n)| n.clone()),
        );
        m
    };
    let mut out = Vec::new();
    let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        if t.text == "use" && (i == 0 || toks[i - 1].text != "::") {
            let end = toks[i..]
                .iter()
                .position(|t| t.text == ";")
                .map_or(toks.len(), |n| i + n);
            let here = module_at(t.at);
            for leaf in use_leaves(&toks[i + 1..end]) {
                let Some(path) = absolute(&leaf.path, &here, world.files) else {
                    continue;
                };
                let is_self = leaf.path.last().map(String::as_str) == Some("self");
                let path: Vec<String> = if is_self {
                    path[..path.len().saturating_sub(1)].to_vec()
                } else {
                    path
                };
                if let Some(b) = leaf.bound.filter(|b| b != "*")
                    && world.files.contains_key(&path)
                {
                    aliases.insert(b, path.clone());
                }
                out.push((leaf.at, path));
            }
            i = end + 1;
            continue;
        }
        let starts_path = is_ident(&t.text)
            && toks.get(i + 1).is_some_and(|n| n.text == "::")
            && (i == 0 || toks[i - 1].text != "::");
        if starts_path {
            let mut segments = vec![t.text.clone()];
            let mut j = i + 1;
            while toks.get(j).is_some_and(|n| n.text == "::")
                && toks.get(j + 1).is_some_and(|n| is_ident(&n.text))
            {
                segments.push(toks[j + 1].text.clone());
                j += 2;
            }
            let here = module_at(t.at);
            let path = match segments[0].as_str() {
                "crate" | "super" | "self" => absolute(&segments, &here, world.files),
                first => match aliases.get(first) {
                    Some(m) => Some(m.iter().chain(&segments[1..]).cloned().collect()),
                    None => {
                        let mut child = here.clone();
                        child.push(first.to_string());
                        world
                            .files
                            .contains_key(&child)
                            .then(|| here.iter().chain(&segments).cloned().collect())
                    }
                },
            };
            if let Some(path) = path {
                out.push((t.at, path));
            }
            i = j;
            continue;
        }
        i += 1;
    }
    out
}

/// `segments` from module `here` as an absolute path (`crate`, `super`,
/// `self`, a child module, or at the root a top-level module); `None` for
/// another crate's path.
fn absolute(
    segments: &[String],
    here: &[String],
    files: &BTreeMap<Vec<String>, String>,
) -> Option<Vec<String>> {
    let first = segments.first()?;
    match first.as_str() {
        "crate" => Some(segments[1..].to_vec()),
        "self" => Some(here.iter().chain(&segments[1..]).cloned().collect()),
        "super" => {
            let ups = segments.iter().take_while(|s| *s == "super").count();
            let base = here.get(..here.len().checked_sub(ups)?)?;
            Some(base.iter().chain(&segments[ups..]).cloned().collect())
        }
        _ => {
            let mut child = here.to_vec();
            child.push(first.clone());
            files
                .contains_key(&child)
                .then(|| here.iter().chain(segments).cloned().collect())
        }
    }
}

/// One path a `use` names: its segments as written, the byte of its last
/// one, and the name it binds (its last segment, its `as`, `*` for a glob).
struct UseLeaf {
    path: Vec<String>,
    at: usize,
    bound: Option<String>,
}

/// The leaves of a `use` tree (the tokens between `use` and `;`): each
/// path with the byte of its last segment, and the name it binds (`*` for
/// a glob).
fn use_leaves(toks: &[Token]) -> Vec<UseLeaf> {
    fn walk(toks: &[Token], i: &mut usize, prefix: &[String], out: &mut Vec<UseLeaf>) {
        let mut path = prefix.to_vec();
        let mut at = toks.get(*i).map_or(0, |t| t.at);
        while let Some(t) = toks.get(*i) {
            match t.text.as_str() {
                "::" => *i += 1,
                "{" => {
                    *i += 1;
                    loop {
                        walk(toks, i, &path, out);
                        match toks.get(*i).map(|t| t.text.as_str()) {
                            Some(",") => *i += 1,
                            Some("}") => {
                                *i += 1;
                                break;
                            }
                            _ => break,
                        }
                        if toks.get(*i).is_some_and(|t| t.text == "}") {
                            *i += 1;
                            break;
                        }
                    }
                    return;
                }
                "*" => {
                    out.push(UseLeaf {
                        path: path.clone(),
                        at: t.at,
                        bound: Some("*".into()),
                    });
                    *i += 1;
                    return;
                }
                "as" => {
                    let bound = toks.get(*i + 1).map(|t| t.text.clone());
                    *i += 2;
                    out.push(UseLeaf { path, at, bound });
                    return;
                }
                "," | "}" => break,
                word => {
                    path.push(word.to_string());
                    at = t.at;
                    *i += 1;
                }
            }
        }
        if path.len() > prefix.len() {
            let bound = match path.last().map(String::as_str) {
                Some("self") => path.get(path.len().wrapping_sub(2)).cloned(),
                other => other.map(str::to_string),
            };
            out.push(UseLeaf { path, at, bound });
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    walk(toks, &mut i, &[], &mut out);
    out
}

/// The inline `mod name { .. }` blocks: (first byte, end byte, name).
fn inline_modules(toks: &[Token]) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if t.text != "mod" {
            continue;
        }
        let (Some(name), Some(open)) = (toks.get(i + 1), toks.get(i + 2)) else {
            continue;
        };
        if open.text != "{" {
            continue;
        }
        let mut depth = 0usize;
        let mut end = usize::MAX;
        for u in &toks[i + 2..] {
            match u.text.as_str() {
                "{" => depth += 1,
                "}" => {
                    depth -= 1;
                    if depth == 0 {
                        end = u.at;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push((open.at, end, name.text.clone()));
    }
    out
}

impl Parsed {
    fn new(text: &str) -> Self {
        let code = blank(text);
        let toks = tokens(&code);
        let mut defined = BTreeSet::new();
        for pair in toks.windows(2) {
            let kinds = [
                "fn", "struct", "enum", "trait", "type", "const", "static", "mod", "union",
            ];
            if kinds.contains(&pair[0].text.as_str()) && is_ident(&pair[1].text) {
                defined.insert(pair[1].text.clone());
            }
        }
        // Re-exports: `pub use` (any `pub(..)`), as written.
        let mut reexports = Vec::new();
        for (i, t) in toks.iter().enumerate() {
            if t.text != "use" || i == 0 {
                continue;
            }
            let public = toks[..i].iter().rev().take(4).any(|p| p.text == "pub");
            let right_before = toks[i - 1].text.as_str();
            if !public || !(right_before == "pub" || right_before == ")") {
                continue;
            }
            let end = toks[i..]
                .iter()
                .position(|t| t.text == ";")
                .map_or(toks.len(), |n| i + n);
            for leaf in use_leaves(&toks[i + 1..end]) {
                if let Some(bound) = leaf.bound {
                    reexports.push((bound, leaf.path));
                }
            }
        }
        Parsed {
            code,
            defined,
            reexports,
        }
    }
}

#[derive(Debug, Clone)]
struct Token {
    text: String,
    /// Byte offset in the blanked code.
    at: usize,
}

fn is_ident(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}

/// Identifiers, `::` and single punctuation, with their byte offsets.
fn tokens(code: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = code[i..].chars().next().unwrap_or(' ');
        if c.is_alphabetic() || c == '_' {
            let len = code[i..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(code.len() - i);
            out.push(Token {
                text: code[i..i + len].to_string(),
                at: i,
            });
            i += len;
        } else if code[i..].starts_with("::") {
            out.push(Token {
                text: "::".into(),
                at: i,
            });
            i += 2;
        } else if c.is_whitespace() || c.is_ascii_digit() {
            i += c.len_utf8();
        } else {
            out.push(Token {
                text: c.to_string(),
                at: i,
            });
            i += c.len_utf8();
        }
    }
    out
}

/// `text` with comments, strings and character literals blanked (line
/// breaks kept, so lines still count), lifetimes left as they are.
fn blank(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank_to = |out: &mut String, from: usize, to: usize| {
        for c in &chars[from..to.min(chars.len())] {
            out.push(if *c == '\n' { '\n' } else { ' ' });
        }
    };
    let at = |k: usize| chars.get(k).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        let ident_before = i > 0 && (at(i - 1).is_alphanumeric() || at(i - 1) == '_');
        if c == '/' && at(i + 1) == '/' {
            let end = (i..chars.len())
                .find(|&k| chars[k] == '\n')
                .unwrap_or(chars.len());
            blank_to(&mut out, i, end);
            i = end;
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            let mut k = i;
            while k < chars.len() {
                if at(k) == '/' && at(k + 1) == '*' {
                    depth += 1;
                    k += 2;
                } else if at(k) == '*' && at(k + 1) == '/' {
                    depth -= 1;
                    k += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    k += 1;
                }
            }
            blank_to(&mut out, i, k);
            i = k;
        } else if !ident_before && (c == 'r' || (c == 'b' && at(i + 1) == 'r')) && {
            let mut k = i + if c == 'b' { 2 } else { 1 };
            while at(k) == '#' {
                k += 1;
            }
            at(k) == '"'
        } {
            let start = i;
            let mut k = i + if c == 'b' { 2 } else { 1 };
            let mut hashes = 0;
            while at(k) == '#' {
                hashes += 1;
                k += 1;
            }
            k += 1;
            while k < chars.len() {
                if chars[k] == '"' && (1..=hashes).all(|h| at(k + h) == '#') {
                    k += 1 + hashes;
                    break;
                }
                k += 1;
            }
            blank_to(&mut out, start, k);
            i = k;
        } else if c == '"' || (c == 'b' && at(i + 1) == '"' && !ident_before) {
            let start = i;
            let mut k = i + if c == 'b' { 2 } else { 1 };
            while k < chars.len() && chars[k] != '"' {
                k += if chars[k] == '\\' { 2 } else { 1 };
            }
            blank_to(&mut out, start, k + 1);
            i = k + 1;
        } else if c == '\'' {
            // A character literal: `'x'`, `'\n'`, `'\u{..}'`; else a lifetime.
            let end = if at(i + 1) == '\\' {
                (i + 2..chars.len())
                    .find(|&k| chars[k] == '\'')
                    .map(|k| k + 1)
            } else if at(i + 2) == '\'' {
                Some(i + 3)
            } else {
                None
            };
            match end {
                Some(end) => {
                    blank_to(&mut out, i, end);
                    i = end;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}
