//! Manifests and task files with a canary in every value position: inline
//! values and task envs in every scalar style, values under misspelled keys,
//! `inline:` given a scalar or a list, `fromEnv` given `K=V` or a map,
//! anchored values used through aliases in structural fields, tags,
//! comments, multi-line flow maps, JSON, several documents, CR and CRLF line
//! endings; `fromCommand` entries (alone, with `inline`, with `fromEnv`);
//! `fromEnvFile` (alone, beside `inline`, given a list or a map of values).
//! Structural fields (apiVersion, kind, owner, name, state, paths, a
//! command's program and arguments, its `key`, `timeout` and `trim`) hold no
//! canary unless it arrives through an alias; an `owner` or `key` key inside
//! `inline:` holds one like any other key there.

use super::rng::Rng;
use super::yaml::{DocStyle, Item, Layout, Node, Scalar, Style, emit};

/// A value planted in the input; it must never appear in a diagnostic.
#[derive(Debug, Clone)]
pub struct Canary {
    pub text: String,
    /// Anchored: it may reach a structural field through an alias, where it
    /// must not be shown either.
    pub aliased: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Manifest,
    Task,
}

/// A generated input: its text and every canary in it.
#[derive(Debug, Clone)]
pub struct Case {
    pub text: String,
    pub canaries: Vec<Canary>,
    /// How it was built, to tell failures apart (`json`, `alias`, ...).
    pub features: Vec<String>,
}

struct Cx<'r> {
    rng: &'r mut Rng,
    canaries: Vec<Canary>,
    scalar_anchors: Vec<String>,
    map_anchors: Vec<String>,
    anchors: usize,
    features: Vec<String>,
}

impl Cx<'_> {
    fn feature(&mut self, f: &str) {
        if !self.features.iter().any(|x| x == f) {
            self.features.push(f.to_string());
        }
    }

    fn canary(&mut self) -> String {
        let text = format!("cnry{}", self.rng.alnum(16));
        self.canaries.push(Canary {
            text: text.clone(),
            aliased: false,
        });
        text
    }

    fn new_anchor(&mut self) -> String {
        self.anchors += 1;
        format!("a{}", self.anchors)
    }

    /// Mark the canaries planted since `from` as reachable through an alias.
    fn aliased_since(&mut self, from: usize) {
        for c in self.canaries.iter_mut().skip(from) {
            c.aliased = true;
        }
    }

    fn layout(&mut self) -> Layout {
        match self.rng.below(10) {
            0..=5 => Layout::Block,
            6..=7 => Layout::Line,
            _ => Layout::Lines,
        }
    }

    /// A structural value: plain, sometimes quoted.
    fn structural(&mut self, text: &str) -> Node {
        let mut s = Scalar::plain(text);
        s.style = match self.rng.below(20) {
            0..=2 => Style::Double,
            3 => Style::Single,
            _ => Style::Plain,
        };
        s.bare_in_json = text.parse::<f64>().is_ok();
        Node::Scalar(s)
    }

    /// A structural field's value, or an alias to an anchored canary.
    fn structural_or_alias(&mut self, text: &str) -> Node {
        if !self.scalar_anchors.is_empty() && self.rng.percent(15) {
            self.feature("alias-in-structural-field");
            let name = self.rng.pick(&self.scalar_anchors).clone();
            return Node::Alias {
                name,
                fallback: text.to_string(),
            };
        }
        self.structural(text)
    }

    fn comment(&mut self) -> Option<String> {
        self.rng.percent(8).then(|| {
            self.feature("comment");
            let c = self.canary();
            format!("{} {c}", self.rng.pick(&["token", "old value:", "was"]))
        })
    }

    /// A value holding one or two canaries, in any scalar style.
    fn secret(&mut self) -> Node {
        let from = self.canaries.len();
        let c = self.canary();
        let text = match self.rng.below(8) {
            0 => {
                let d = self.canary();
                format!("{c} {d}")
            }
            1 => format!("Bearer {c}"),
            2 => format!("{c}-x"),
            3 => format!("{c} and {}", self.canary()),
            _ => c,
        };
        let style = match self.rng.below(20) {
            0..=7 => Style::Plain,
            8..=11 => Style::Double,
            12..=14 => Style::Single,
            15..=17 => Style::Literal,
            _ => Style::Folded,
        };
        let mut s = Scalar::plain(text);
        s.style = style;
        s.multiline = self.rng.percent(25);
        if self.rng.percent(10) {
            self.feature("tag");
            s.tag = Some(*self.rng.pick(&[
                "!!str",
                "!custom",
                "!<tag:yaml.org,2002:str>",
                "!",
                "!!binary",
            ]));
        }
        if self.rng.percent(15) {
            self.feature("anchor");
            let a = self.new_anchor();
            self.aliased_since(from);
            self.scalar_anchors.push(a.clone());
            s.anchor = Some(a);
        }
        s.comment = self.comment();
        Node::Scalar(s)
    }

    /// A value like [`Cx::secret`], always anchored.
    fn anchored_secret(&mut self) -> Node {
        let from = self.canaries.len();
        let mut value = self.secret();
        if let Node::Scalar(s) = &mut value
            && s.anchor.is_none()
        {
            self.feature("anchor");
            let a = self.new_anchor();
            self.aliased_since(from);
            self.scalar_anchors.push(a.clone());
            s.anchor = Some(a);
        }
        value
    }

    fn secret_map(&mut self, keys: &[&str]) -> Node {
        let n = self.rng.range(1, 3);
        let mut items = Vec::new();
        for j in 0..n {
            let key = format!("{}{j}", self.rng.pick(keys));
            let value = self.secret();
            let mut item = Node::item(&key, value);
            item.comment = self.comment();
            if self.rng.percent(8) {
                self.feature("quoted-key");
                item.key_style = *self.rng.pick(&[Style::Double, Style::Single]);
            }
            items.push(item);
        }
        let layout = self.layout();
        if layout == Layout::Lines {
            self.feature("multi-line-flow");
        }
        Node::map(items, layout)
    }

    fn item(&mut self, key: &str, value: Node) -> Item {
        let mut item = Node::item(key, value);
        if self.rng.percent(4) {
            self.feature("quoted-key");
            item.key_style = Style::Double;
        }
        item
    }
}

fn decorate(cx: &mut Cx<'_>, node: &Node) -> String {
    let style = match cx.rng.below(20) {
        0..=11 => DocStyle::Block,
        12..=13 => DocStyle::Flow { lines: false },
        14..=15 => DocStyle::Flow { lines: true },
        16..=18 => DocStyle::Json { pretty: false },
        _ => DocStyle::Json { pretty: true },
    };
    cx.feature(match style {
        DocStyle::Block => "block",
        DocStyle::Flow { lines: false } => "flow-one-line",
        DocStyle::Flow { lines: true } => "flow-lines",
        DocStyle::Json { pretty: false } => "json-one-line",
        DocStyle::Json { pretty: true } => "json-pretty",
    });
    let mut text = emit(node, style);
    let json = matches!(style, DocStyle::Json { .. });
    if !json {
        match cx.rng.below(30) {
            0 => text = format!("%YAML 1.2\n---\n{text}"),
            1 => text = format!("---\n{text}..."),
            2 => {
                cx.feature("top-comment");
                let c = cx.canary();
                text = format!("# deploy key: {c}\n{text}");
            }
            3 => {
                cx.feature("second-document");
                let c = cx.canary();
                text = format!("{text}---\nTOKEN: {c}\n");
            }
            _ => {}
        }
    }
    match cx.rng.below(20) {
        0 => {
            cx.feature("crlf");
            text = text.replace('\n', "\r\n");
        }
        1 => {
            cx.feature("cr-only");
            text = text.replace('\n', "\r");
        }
        _ => {}
    }
    // JSON never carries anchors: aliases fall back to structural text.
    if json {
        for c in &mut cx.canaries {
            c.aliased = false;
        }
    }
    // Comments in flow style and JSON are dropped, with their canaries.
    cx.canaries.retain(|c| text.contains(&c.text));
    text
}

const VALUE_KEYS: &[&str] = &["TOKEN_", "API_KEY_", "PASSWORD_", "key.", "Db_Pass_"];

pub fn manifest(rng: &mut Rng) -> Case {
    let mut cx = Cx {
        rng,
        canaries: Vec::new(),
        scalar_anchors: Vec::new(),
        map_anchors: Vec::new(),
        anchors: 0,
        features: Vec::new(),
    };
    let mut order = vec!["apiVersion", "kind", "secrets"];
    if cx.rng.percent(15) {
        cx.feature("metadata-with-values");
        order.push("metadata");
    }
    if cx.rng.percent(30) {
        cx.feature("owner");
        order.push("owner");
    }
    if cx.rng.percent(25) {
        cx.rng.shuffle(&mut order);
    }
    let mut items = Vec::new();
    for key in order {
        let value = match key {
            "apiVersion" => match cx.rng.below(20) {
                0 => continue,
                1 => cx.structural("v1"),
                _ => cx.structural_or_alias("konduktor.trainy.ai/v1alpha1"),
            },
            "kind" => match cx.rng.below(20) {
                0 => continue,
                1 => cx.structural("Secret"),
                _ => cx.structural_or_alias("SecretSet"),
            },
            "metadata" => cx.secret_map(VALUE_KEYS),
            "owner" => match cx.rng.below(10) {
                0 => {
                    let bad = bad_owner(cx.rng.below(3));
                    cx.structural(bad)
                }
                _ => cx.structural_or_alias("abba3a3e"),
            },
            _ => match cx.rng.below(40) {
                0 => {
                    cx.feature("secrets-not-a-list");
                    cx.secret_map(VALUE_KEYS)
                }
                1 => {
                    cx.feature("secrets-scalar");
                    cx.secret()
                }
                _ => {
                    let n = cx.rng.range(1, 4);
                    let entries = (0..n).map(|i| entry(&mut cx, i)).collect();
                    let layout = match cx.rng.below(10) {
                        0 => Layout::Line,
                        1 => Layout::Lines,
                        _ => Layout::Block,
                    };
                    Node::seq(entries, layout)
                }
            },
        };
        let item = cx.item(key, value);
        items.push(item);
    }
    let doc = Node::map(items, Layout::Block);
    let text = decorate(&mut cx, &doc);
    Case {
        text,
        canaries: cx.canaries,
        features: cx.features,
    }
}

fn entry(cx: &mut Cx<'_>, i: usize) -> Node {
    let mut items = Vec::new();
    let name = match cx.rng.below(20) {
        0 => cx.structural(&format!("Bad_{i}")),
        _ => cx.structural_or_alias(&format!("s{i}")),
    };
    items.push(cx.item("name", name));
    if cx.rng.percent(40) {
        let kind = match cx.rng.below(20) {
            0 => "ssh",
            1..=3 => "git-ssh",
            4..=9 => "default",
            _ => "env",
        };
        let kind = cx.structural_or_alias(kind);
        items.push(cx.item("kind", kind));
    }
    if cx.rng.percent(8) {
        let state = *cx.rng.pick(&["present", "absent", "deleted"]);
        let state = cx.structural_or_alias(state);
        items.push(cx.item("state", state));
    }
    // An anchored inline map is there to be reused: often, so that merge
    // keys and aliased maps are common enough to be tested.
    let source = if !cx.map_anchors.is_empty() && cx.rng.percent(60) {
        18
    } else {
        cx.rng.below(32)
    };
    match source {
        0..=7 => {
            cx.feature("inline");
            let mut map = cx.secret_map(VALUE_KEYS);
            // A key named as a top-level field: its value is still a value.
            if cx.rng.percent(10)
                && let Node::Map { items: inner, .. } = &mut map
            {
                cx.feature("owner-key-in-inline");
                let value = cx.secret();
                inner.insert(0, Node::item("owner", value));
            }
            // Keys named as `fromCommand` fields: their values are values.
            if cx.rng.percent(10)
                && let Node::Map { items: inner, .. } = &mut map
            {
                cx.feature("command-field-key-in-inline");
                let key = *cx.rng.pick(&["key", "command", "timeout", "trim"]);
                let value = cx.secret();
                inner.insert(0, Node::item(key, value));
            }
            let map = anchor_map(cx, map);
            items.push(cx.item("inline", map));
        }
        8 | 9 => {
            let typo = *cx
                .rng
                .pick(&["inlien", "Inline", "inline_", "inlines", "inlnie", "values"]);
            cx.feature("misspelled-inline");
            let map = cx.secret_map(VALUE_KEYS);
            items.push(cx.item(typo, map));
        }
        10 => {
            cx.feature("inline-scalar");
            let v = cx.secret();
            items.push(cx.item("inline", v));
        }
        11 => {
            cx.feature("inline-list");
            let n = cx.rng.range(1, 3);
            let list = (0..n).map(|_| cx.secret()).collect();
            let layout = cx.layout();
            items.push(cx.item("inline", Node::seq(list, layout)));
        }
        12 | 13 => {
            cx.feature("fromEnv-K=V");
            let mut list = vec![cx.structural("HOME_DIR")];
            let key = cx.rng.pick(VALUE_KEYS).to_string();
            let c = cx.canary();
            list.push(Node::Scalar(Scalar {
                style: *cx.rng.pick(&[Style::Plain, Style::Double, Style::Single]),
                ..Scalar::plain(format!("{key}={c}"))
            }));
            cx.rng.shuffle(&mut list);
            let layout = cx.layout();
            items.push(cx.item("fromEnv", Node::seq(list, layout)));
        }
        14 => {
            cx.feature("fromEnv-map");
            let map = cx.secret_map(VALUE_KEYS);
            items.push(cx.item("fromEnv", map));
        }
        15 | 16 => {
            let path = cx.structural_or_alias("files/a.txt");
            let files = if cx.rng.percent(50) {
                path
            } else {
                let other = cx.structural("files/b.txt");
                let layout = cx.layout();
                Node::seq(vec![path, other], layout)
            };
            items.push(cx.item("fromFile", files));
        }
        17 => {
            let dir = cx.structural_or_alias("files/dir");
            items.push(cx.item("fromDirectory", dir));
        }
        18 | 19 if !cx.map_anchors.is_empty() => {
            let name = cx.rng.pick(&cx.map_anchors).clone();
            let alias = Node::Alias {
                name,
                fallback: "x".to_string(),
            };
            if cx.rng.percent(50) {
                cx.feature("alias-of-inline-map");
                items.push(cx.item("inline", alias));
            } else {
                cx.feature("merge-key");
                let mut map = cx.secret_map(VALUE_KEYS);
                if let Node::Map { items: inner, .. } = &mut map {
                    inner.insert(0, Node::item("<<", alias));
                }
                items.push(cx.item("inline", map));
            }
        }
        20 => {
            cx.feature("inline-and-fromEnv");
            let map = cx.secret_map(VALUE_KEYS);
            items.push(cx.item("inline", map));
            let env = cx.structural("HOME");
            items.push(cx.item("fromEnv", Node::seq(vec![env], Layout::Line)));
        }
        21 => {
            cx.feature("unknown-field-with-values");
            let field = *cx.rng.pick(&["data", "stringData", "env"]);
            let map = cx.secret_map(VALUE_KEYS);
            items.push(cx.item(field, map));
        }
        24 | 25 => {
            cx.feature("fromCommand");
            let commands = from_command(cx);
            items.push(cx.item("fromCommand", commands));
        }
        26 | 27 => {
            // Values next to the commands, one of them anchored, so that a
            // command argument can repeat it through an alias.
            cx.feature("fromCommand-and-inline");
            let mut map = cx.secret_map(VALUE_KEYS);
            if let Node::Map { items: inner, .. } = &mut map {
                let value = cx.anchored_secret();
                inner.push(Node::item("TOKEN_A", value));
            }
            items.push(cx.item("inline", map));
            let commands = from_command(cx);
            items.push(cx.item("fromCommand", commands));
        }
        28 => {
            cx.feature("fromCommand-and-fromEnv");
            let env = cx.structural("HOME");
            items.push(cx.item("fromEnv", Node::seq(vec![env], Layout::Line)));
            let commands = from_command(cx);
            items.push(cx.item("fromCommand", commands));
        }
        29 => {
            cx.feature("fromEnvFile");
            let path = cx.structural_or_alias("files/hf.env");
            items.push(cx.item("fromEnvFile", path));
        }
        30 => {
            cx.feature("fromEnvFile-and-inline");
            let map = cx.secret_map(VALUE_KEYS);
            items.push(cx.item("inline", map));
            let path = cx.structural("files/hf.env");
            items.push(cx.item("fromEnvFile", path));
        }
        31 => {
            // Values where a path belongs: a list or a map of them.
            if cx.rng.percent(50) {
                cx.feature("fromEnvFile-list");
                let n = cx.rng.range(1, 3);
                let list = (0..n).map(|_| cx.secret()).collect();
                let layout = cx.layout();
                items.push(cx.item("fromEnvFile", Node::seq(list, layout)));
            } else {
                cx.feature("fromEnvFile-map");
                let map = cx.secret_map(VALUE_KEYS);
                items.push(cx.item("fromEnvFile", map));
            }
        }
        _ => {
            cx.feature("inline");
            let map = cx.secret_map(&["TOKEN_", "A"]);
            items.push(cx.item("inline", map));
        }
    }
    if cx.rng.percent(20) {
        cx.feature("fields-reordered");
        cx.rng.shuffle(&mut items);
    }
    let layout = match cx.rng.below(10) {
        0 => {
            cx.feature("flow-entry");
            Layout::Line
        }
        1 => Layout::Lines,
        _ => Layout::Block,
    };
    Node::map(items, layout)
}

/// A `fromCommand:` list: entries of `key`, `command` (a program and its
/// arguments), `timeout` and `trim`, written out (shown by design) or, in
/// any position, through an alias (often of an anchored value: a canary
/// that must not be shown), anchored, tagged or over several lines; now and
/// then a field missing, misspelled or of the wrong shape, or a field of
/// the same name under `inline:` holding a value.
fn from_command(cx: &mut Cx<'_>) -> Node {
    let n = if cx.rng.percent(75) { 1 } else { 2 };
    let mut entries = Vec::new();
    for j in 0..n {
        let mut items = Vec::new();
        if cx.rng.percent(95) {
            let key = match cx.rng.below(20) {
                0 => command_scalar(cx, "gitkey"),
                1 => command_scalar(cx, "Bad Key"),
                _ => {
                    let key = format!("{}C{j}", cx.rng.pick(VALUE_KEYS));
                    command_scalar(cx, &key)
                }
            };
            items.push(cx.item("key", key));
        }
        match cx.rng.below(40) {
            0 => {}
            1 => {
                cx.feature("command-not-a-list");
                let line = cx.structural("op read op://vault/item/field");
                items.push(cx.item("command", line));
            }
            2 => items.push(cx.item("command", Node::seq(Vec::new(), Layout::Line))),
            3 if !cx.map_anchors.is_empty() => {
                cx.feature("alias-of-inline-map-as-command");
                let name = cx.rng.pick(&cx.map_anchors).clone();
                let alias = Node::Alias {
                    name,
                    fallback: "op".to_string(),
                };
                items.push(cx.item("command", alias));
            }
            _ => {
                let (program, args) = *cx.rng.pick(&[
                    ("op", &["read", "op://vault/my item/field"][..]),
                    ("vault", &["kv", "get", "-field=password", "secret/app"][..]),
                    ("/usr/bin/pass", &["show", "team/db password"][..]),
                    ("gcloud", &["secrets", "versions", "access", "latest"][..]),
                    ("./get-token.sh", &[][..]),
                ]);
                let mut argv = vec![command_scalar(cx, program)];
                for arg in args {
                    argv.push(command_scalar(cx, arg));
                }
                if cx.rng.percent(10) {
                    cx.feature("command-argument-map");
                    let map = cx.secret_map(VALUE_KEYS);
                    argv.push(map);
                }
                let layout = cx.layout();
                items.push(cx.item("command", Node::seq(argv, layout)));
            }
        }
        if cx.rng.percent(40) {
            let t = *cx
                .rng
                .pick(&["30s", "2m", "1h", "90", "0s", "soon", "25h", "-1s"]);
            let t = command_scalar(cx, t);
            items.push(cx.item("timeout", t));
        }
        if cx.rng.percent(30) {
            let t = *cx.rng.pick(&["true", "false", "false", "yes", "1"]);
            let t = command_scalar(cx, t);
            items.push(cx.item("trim", t));
        }
        if cx.rng.percent(4) {
            cx.feature("misspelled-command-field");
            let (typo, value) = *cx.rng.pick(&[
                ("comand", "op"),
                ("args", "read"),
                ("timout", "5s"),
                ("keys", "TOKEN"),
            ]);
            let value = cx.structural(value);
            items.push(cx.item(typo, value));
        }
        if cx.rng.percent(10) {
            cx.rng.shuffle(&mut items);
        }
        let layout = cx.layout();
        entries.push(Node::map(items, layout));
    }
    let layout = match cx.rng.below(10) {
        0 => Layout::Line,
        1 => Layout::Lines,
        _ => Layout::Block,
    };
    Node::seq(entries, layout)
}

/// A value in a `fromCommand` entry: written out; or through an alias (of
/// an anchored canary, when there is one); or anchored, tagged or over
/// several lines (refused, never shown).
fn command_scalar(cx: &mut Cx<'_>, text: &str) -> Node {
    if !cx.scalar_anchors.is_empty() && cx.rng.percent(20) {
        cx.feature("alias-in-command");
        let name = cx.rng.pick(&cx.scalar_anchors).clone();
        return Node::Alias {
            name,
            fallback: text.to_string(),
        };
    }
    let mut node = cx.structural(text);
    if let Node::Scalar(s) = &mut node {
        match cx.rng.below(25) {
            0 => {
                cx.feature("command-value-tag");
                s.tag = Some(*cx.rng.pick(&["!!str", "!custom", "!"]));
            }
            1 => {
                cx.feature("command-value-anchor");
                s.anchor = Some(cx.new_anchor());
            }
            _ if text.contains(' ') && cx.rng.percent(40) => {
                cx.feature("command-value-multi-line");
                s.multiline = true;
            }
            _ => {}
        }
    }
    node
}

/// An `owner:` that is no owner hash (uppercase, short, long).
fn bad_owner(i: usize) -> &'static str {
    ["ABBA3A3E", "abba3a3", "abba3a3e0"][i % 3]
}

/// Sometimes anchor an inline map, for later `inline: *m` or `<<: *m`.
fn anchor_map(cx: &mut Cx<'_>, mut map: Node) -> Node {
    if cx.rng.percent(15)
        && let Node::Map { anchor, .. } = &mut map
    {
        let a = cx.new_anchor();
        cx.map_anchors.push(a.clone());
        *anchor = Some(a);
        // Every canary planted so far may now be repeated elsewhere.
        for c in &mut cx.canaries {
            c.aliased = true;
        }
    }
    map
}

pub fn task(rng: &mut Rng) -> Case {
    let mut cx = Cx {
        rng,
        canaries: Vec::new(),
        scalar_anchors: Vec::new(),
        map_anchors: Vec::new(),
        anchors: 0,
        features: Vec::new(),
    };
    let mut order = vec!["envs", "name", "num_nodes", "resources", "setup", "run"];
    if cx.rng.percent(50) {
        // Envs last half the time (first, structural fields can alias them).
        order.rotate_left(1);
    }
    if cx.rng.percent(20) {
        cx.rng.shuffle(&mut order);
    }
    let mut items = Vec::new();
    for key in order {
        let item = match key {
            "envs" => {
                let (key, value) = match cx.rng.below(12) {
                    0 | 1 => {
                        cx.feature("misspelled-envs");
                        let typo = *cx
                            .rng
                            .pick(&["env", "Envs", "envs_", "envz", "environment"]);
                        (typo, cx.secret_map(VALUE_KEYS))
                    }
                    2 => {
                        cx.feature("envs-list");
                        let k = cx.rng.pick(VALUE_KEYS).to_string();
                        let c = cx.canary();
                        let v = Node::Scalar(Scalar::plain(format!("{k}={c}")));
                        let layout = cx.layout();
                        ("envs", Node::seq(vec![v], layout))
                    }
                    3 => {
                        cx.feature("envs-scalar");
                        ("envs", cx.secret())
                    }
                    4 => {
                        cx.feature("bad-env-name");
                        ("envs", cx.secret_map(&["BAD-NAME-", "1X"]))
                    }
                    _ => {
                        cx.feature("envs");
                        let map = cx.secret_map(VALUE_KEYS);
                        ("envs", anchor_map(&mut cx, map))
                    }
                };
                cx.item(key, value)
            }
            "name" => {
                let name = match cx.rng.below(15) {
                    0 => cx.structural("My_Job"),
                    _ => cx.structural_or_alias("train-job"),
                };
                cx.item("name", name)
            }
            "num_nodes" if cx.rng.percent(50) => {
                let n = match cx.rng.below(10) {
                    0 => cx.structural("zero"),
                    _ => cx.structural_or_alias("2"),
                };
                cx.item("num_nodes", n)
            }
            "resources" if cx.rng.percent(95) => {
                let mut res = Vec::new();
                if cx.rng.percent(92) {
                    let image = cx.structural_or_alias("ubuntu:22.04");
                    res.push(cx.item("image_id", image));
                }
                if cx.rng.percent(40) {
                    let cpus = match cx.rng.below(10) {
                        0 => cx.structural("-1"),
                        _ => cx.structural_or_alias("4"),
                    };
                    res.push(cx.item("cpus", cpus));
                }
                if cx.rng.percent(30) {
                    let m = cx.structural_or_alias("16");
                    res.push(cx.item("memory", m));
                }
                if cx.rng.percent(30) {
                    let a = match cx.rng.below(8) {
                        0 => cx.structural("H100:many"),
                        _ => cx.structural_or_alias("H100:1"),
                    };
                    res.push(cx.item("accelerators", a));
                }
                if cx.rng.percent(20) {
                    // Label values may be pasted tokens: never shown.
                    cx.feature("labels");
                    let labels = cx.secret_map(VALUE_KEYS);
                    res.push(cx.item("labels", labels));
                }
                if cx.rng.percent(5) {
                    cx.feature("misspelled-resource-field");
                    let a = cx.structural("H100:1");
                    res.push(cx.item("accelerator", a));
                }
                let layout = cx.layout();
                cx.item("resources", Node::map(res, layout))
            }
            "setup" if cx.rng.percent(30) => {
                let s = cx.structural_or_alias("pip install -r requirements.txt");
                cx.item("setup", s)
            }
            "run" if cx.rng.percent(60) => {
                let s = cx.structural_or_alias("python train.py");
                cx.item("run", s)
            }
            _ => continue,
        };
        items.push(item);
    }
    if cx.rng.percent(5) {
        cx.feature("unknown-field");
        let s = cx.structural("echo hi");
        items.push(cx.item("runn", s));
    }
    if cx.rng.percent(10) {
        // A source that is no bucket URL (a pasted value, say): refused
        // as local, never shown.
        cx.feature("file-mounts");
        let mounts = cx.secret_map(&["/data/in", "/mnt/x"]);
        items.push(cx.item("file_mounts", mounts));
    }
    let doc = Node::map(items, Layout::Block);
    let text = decorate(&mut cx, &doc);
    Case {
        text,
        canaries: cx.canaries,
        features: cx.features,
    }
}
