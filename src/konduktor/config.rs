//! Konduktor's own configuration file (docs/konduktor-compat.md §5.4):
//! `KONDUKTOR_CONFIG`, else `~/.konduktor/config.yaml`. Only the keys that
//! decide where secrets go and what they carry are read:
//! `kubernetes.allowed_contexts` and `kubernetes.custom_metadata`'s
//! `labels` and `annotations`. Every other key (logs, pod config, ...) is
//! Konduktor's business and ignored here, never shown.
//!
//! Loading is a pure function of [`ConfigInputs`]; only
//! [`ConfigInputs::from_process`] looks at the environment.
//!
//! What this matches in Konduktor's CLI (`konduktor/config.py`,
//! `konduktor/utils/kubernetes_utils.py`, `konduktor/utils/schemas.py`):
//! - the path: `KONDUKTOR_CONFIG` with `~` expanded (`os.path.expanduser`),
//!   an error if that file does not exist (also when the variable is set but
//!   empty); else `~/.konduktor/config.yaml` if it exists; else no config.
//!   A file that exists applies even when empty (`loaded_config_path`).
//! - `custom_metadata`: its schema refuses `name` and `namespace`; its
//!   `labels` and `annotations` are merged into every secret's metadata
//!   (`set_secret`). Konduktor lets them override its own labels; here ours
//!   win ([`KonduktorConfig::overrides_ours`]).
//! - `allowed_contexts`: Konduktor's `get_current_kube_config_context_name`
//!   takes the first entry of any non-empty list. Issue 10 asks for the
//!   stricter rule: only a list of exactly one entry picks the context
//!   ([`KonduktorConfig::default_context`]); with more, it is ignored.
//!
//! Where this is stricter: Konduktor only logs a YAML error and goes on with
//! no config; here a broken file is an error with its line and column (the
//! file decides where secrets go, and guessing is worse than stopping).
//! Label and annotation keys and values are checked as the API server
//! checks them, so a bad one is refused before any request, not with a 422.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::input::file::{MAX_CONFIG_BYTES, ReadError, read_regular};
use crate::input::located::{Place, Reader, quote, read_document, utf8_text};
use crate::input::yaml::{Content, Node};
use crate::konduktor::{
    CustomMetadata, MAX_ANNOTATIONS_BYTES, RESERVED_ANNOTATIONS, RESERVED_LABELS,
};
use crate::kube_names::{annotation_key_problem, is_label_value, qualified_name_problem};

/// The variable that names Konduktor's config file.
pub const ENV_CONFIG: &str = "KONDUKTOR_CONFIG";
/// Where the config lives under HOME when the variable is not set.
pub const DEFAULT_RELATIVE_PATH: &str = ".konduktor/config.yaml";

/// The only keys ever shown in a snippet of the file.
const SHOWN_KEYS: &[&str] = &[
    "kubernetes",
    "allowed_contexts",
    "custom_metadata",
    "labels",
    "annotations",
];

/// A label or annotation of ours that the config tries to set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserved {
    Label(&'static str),
    Annotation(&'static str),
}

impl fmt::Display for Reserved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reserved::Label(k) => write!(f, "label `{k}`"),
            Reserved::Annotation(k) => write!(f, "annotation `{k}`"),
        }
    }
}

/// What Konduktor's config says about secrets and launches, and which
/// file said it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KonduktorConfig {
    pub path: PathBuf,
    /// `kubernetes.allowed_contexts`, in file order (empty when not given).
    pub allowed_contexts: Vec<String>,
    pub custom_metadata: CustomMetadata,
    pub launch: LaunchSettings,
}

/// What changes what `konduktor launch` submits (docs/konduktor-compat.md
/// §7.7). Values may be anything the user put there: never shown.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct LaunchSettings {
    /// `kubernetes.pod_config`, as PyYAML reads it: merged into the pod.
    pub pod_config: Option<serde_json::Value>,
    /// `kubernetes.jobset_config.metadata.labels` / `.annotations`.
    pub jobset_labels: BTreeMap<String, String>,
    pub jobset_annotations: BTreeMap<String, String>,
    /// `ssh.enable`.
    pub ssh: bool,
    /// `tailscale.secret_name`.
    pub tailscale_secret: Option<String>,
}

impl fmt::Debug for LaunchSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LaunchSettings")
            .field(
                "pod_config",
                &self.pod_config.as_ref().map(|_| "<not shown>"),
            )
            .field(
                "jobset_labels",
                &self.jobset_labels.keys().collect::<Vec<_>>(),
            )
            .field(
                "jobset_annotations",
                &self.jobset_annotations.keys().collect::<Vec<_>>(),
            )
            .field("ssh", &self.ssh)
            .field("tailscale_secret", &self.tailscale_secret)
            .finish()
    }
}

impl KonduktorConfig {
    /// The context to use when none is given on the command line: the one
    /// entry of `allowed_contexts`. With none or several, `None` (the
    /// kubeconfig's current context applies).
    pub fn default_context(&self) -> Option<&str> {
        match self.allowed_contexts.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// Our labels and annotations that `custom_metadata` tries to set, in
    /// the order of [`RESERVED_LABELS`] then [`RESERVED_ANNOTATIONS`]. Ours
    /// win: these are never written from the config.
    pub fn overrides_ours(&self) -> Vec<Reserved> {
        let labels = RESERVED_LABELS
            .iter()
            .filter(|k| self.custom_metadata.labels.contains_key(**k))
            .map(|k| Reserved::Label(k));
        let annotations = RESERVED_ANNOTATIONS
            .iter()
            .filter(|k| self.custom_metadata.annotations.contains_key(**k))
            .map(|k| Reserved::Annotation(k));
        labels.chain(annotations).collect()
    }
}

/// Everything loading looks at, gathered once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigInputs {
    /// `KONDUKTOR_CONFIG`, if set (even empty).
    pub env_path: Option<OsString>,
    pub home: Option<PathBuf>,
}

/// The file that would apply, and whether `KONDUKTOR_CONFIG` named it (then
/// it must exist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub path: PathBuf,
    pub from_env: bool,
}

impl ConfigInputs {
    pub fn from_process() -> Self {
        ConfigInputs {
            env_path: std::env::var_os(ENV_CONFIG),
            home: std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from),
        }
    }

    /// `~` and `~/...` under HOME, as Python's `os.path.expanduser`.
    fn expand(&self, path: PathBuf) -> PathBuf {
        let Some(home) = &self.home else { return path };
        if path.as_os_str() == "~" {
            return home.clone();
        }
        match path.strip_prefix("~") {
            Ok(rest) => home.join(rest),
            Err(_) => path,
        }
    }

    /// The file that applies if it exists: the variable's, else the default
    /// under HOME (none without a HOME).
    pub fn candidate(&self) -> Option<Candidate> {
        match &self.env_path {
            Some(p) => Some(Candidate {
                path: self.expand(PathBuf::from(p)),
                from_env: true,
            }),
            None => self.home.as_ref().map(|h| Candidate {
                path: h.join(DEFAULT_RELATIVE_PATH),
                from_env: false,
            }),
        }
    }
}

/// Read the config that applies; `Ok(None)` when there is none.
///
/// # Errors
///
/// `KONDUKTOR_CONFIG` names no file; the file cannot be read (not a regular
/// file, larger than [`MAX_CONFIG_BYTES`], not UTF-8); or it has problems
/// (every one, located, values masked).
pub fn load(inputs: &ConfigInputs) -> Result<Option<KonduktorConfig>, Error> {
    let Some(Candidate { path, from_env }) = inputs.candidate() else {
        return Ok(None);
    };
    if path.as_os_str().is_empty() {
        return Err(
            Error::input(format!("{ENV_CONFIG} is set but empty")).with_help(format!(
                "set it to the path of Konduktor's config file, or unset it to use ~/{DEFAULT_RELATIVE_PATH}: `unset {ENV_CONFIG}`"
            )),
        );
    }
    let bytes = match read_regular(&path, MAX_CONFIG_BYTES) {
        Ok(bytes) => bytes,
        Err(e) if is_absent(&e) && !from_env => return Ok(None),
        Err(e) if is_absent(&e) => {
            return Err(Error::input(format!(
                "{ENV_CONFIG} names `{}`, which does not exist",
                crate::escape::path(&path)
            ))
            .with_help(format!(
                "check the path, or unset the variable to use ~/{DEFAULT_RELATIVE_PATH}: `unset {ENV_CONFIG}`"
            )));
        }
        Err(e) => {
            return Err(
                Error::input(format!("cannot read Konduktor's config file: {e}"))
                    .with_help(e.help()),
            );
        }
    };
    let text = utf8_text(&path, bytes)?;
    parse(&path, &text).map(Some)
}

/// No file there (Python's `os.path.exists` is false): a missing file or
/// folder on the way, or a dangling link.
fn is_absent(e: &ReadError) -> bool {
    matches!(e, ReadError::Io { source, .. }
        if matches!(source.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory))
}

/// Parse a config file's `text` (as read from `path`).
///
/// # Errors
///
/// Every problem of the keys read, located, values masked.
pub fn parse(path: &Path, text: &str) -> Result<KonduktorConfig, Error> {
    let mut r = read_document(path, text, SHOWN_KEYS)?;
    let mut config = KonduktorConfig {
        path: path.to_path_buf(),
        allowed_contexts: Vec::new(),
        custom_metadata: CustomMetadata::default(),
        launch: LaunchSettings::default(),
    };
    if let Some(root) = r.parsed.root.clone() {
        read_root(&mut r, &root, &mut config);
    }
    let masked = r.parsed.masked(text);
    r.problems.finish(&masked)?;
    Ok(config)
}

/// The pairs of a mapping whose keys are among `wanted` (revealed), each
/// with its key's place; other keys are ignored and stay hidden. `None` (a
/// problem) when the node is no mapping; an empty list for `null`.
fn pick(
    r: &mut Reader<'_>,
    node: &Node,
    what: &str,
    wanted: &[&'static str],
) -> Option<Vec<(&'static str, Node, Place)>> {
    let pairs = match &*node.content {
        Content::Null => return Some(Vec::new()),
        Content::Map(pairs) => pairs,
        _ => {
            let at = r.place(node);
            r.add(
                at,
                format!("{what} should be a mapping, not {}", node.shape()),
                format!("the keys read here: {}", wanted.join(", ")),
            );
            return None;
        }
    };
    let mut out: Vec<(&'static str, Node, Place)> = Vec::new();
    for (key, value) in pairs {
        let Some(field) = key
            .as_scalar()
            .and_then(|k| wanted.iter().find(|w| **w == k))
        else {
            continue;
        };
        let at = r.place(key);
        if let Some((_, _, first)) = out.iter().find(|(f, _, _)| f == field) {
            let message = format!(
                "`{field}` is given twice in {what} (first at line {})",
                first.line
            );
            r.add(at, message, "keep one of them");
            continue;
        }
        r.parsed.reveal(key);
        out.push((field, value.clone(), at));
    }
    Some(out)
}

fn read_root(r: &mut Reader<'_>, root: &Node, config: &mut KonduktorConfig) {
    if !matches!(*root.content, Content::Map(_)) {
        let at = r.place(root);
        r.add(
            at,
            format!(
                "Konduktor's config should be a mapping of settings, not {}",
                root.shape()
            ),
            "start with `kubernetes:`; see https://konduktor.readthedocs.io/en/latest/reference/config.html",
        );
        return;
    }
    let Some(top) = pick(r, root, "the config", &["kubernetes", "ssh", "tailscale"]) else {
        return;
    };
    for (section, node, _) in top {
        match section {
            "ssh" => config.launch.ssh = read_ssh(r, &node),
            "tailscale" => config.launch.tailscale_secret = read_tailscale(r, &node),
            _ => read_kubernetes(r, &node, config),
        }
    }
}

fn read_kubernetes(r: &mut Reader<'_>, kubernetes: &Node, config: &mut KonduktorConfig) {
    let Some(fields) = pick(
        r,
        kubernetes,
        "`kubernetes`",
        &[
            "allowed_contexts",
            "custom_metadata",
            "pod_config",
            "jobset_config",
        ],
    ) else {
        return;
    };
    for (field, node, _) in fields {
        match field {
            "allowed_contexts" => config.allowed_contexts = read_contexts(r, &node),
            "pod_config" => config.launch.pod_config = read_pod_config(r, &node),
            "jobset_config" => read_jobset_config(r, &node, &mut config.launch),
            _ => config.custom_metadata = read_custom_metadata(r, &node),
        }
    }
}

/// `ssh.enable`: a boolean.
fn read_ssh(r: &mut Reader<'_>, node: &Node) -> bool {
    let Some(fields) = pick(r, node, "`ssh`", &["enable"]) else {
        return false;
    };
    fields.into_iter().any(|(_, v, _)| {
        let on = !v.quoted
            && v.as_scalar().is_some_and(|t| {
                crate::input::yaml11::resolve(t) == crate::input::yaml11::Resolved::Bool(true)
            });
        if !on
            && !v.as_scalar().is_some_and(|t| {
                !v.quoted
                    && crate::input::yaml11::resolve(t)
                        == crate::input::yaml11::Resolved::Bool(false)
            })
        {
            let at = r.place(&v);
            r.add(
                at,
                "`ssh.enable` should be true or false",
                "write `ssh: {enable: true}`",
            );
        }
        on
    })
}

/// `tailscale.secret_name`: the Secret holding the auth key.
fn read_tailscale(r: &mut Reader<'_>, node: &Node) -> Option<String> {
    let fields = pick(r, node, "`tailscale`", &["secret_name"])?;
    let (_, v, _) = fields.into_iter().next()?;
    match v.as_scalar() {
        Some(name) if crate::kube_names::is_dns1123_subdomain(name) => {
            r.parsed.reveal(&v);
            Some(name.to_string())
        }
        _ => {
            let at = r.place(&v);
            r.add(
                at,
                "`tailscale.secret_name` should name a Secret",
                "write the Secret's name: lowercase letters, digits, `-` and `.`",
            );
            None
        }
    }
}

/// `kubernetes.pod_config`: any pod fragment, as PyYAML types it.
fn read_pod_config(r: &mut Reader<'_>, node: &Node) -> Option<serde_json::Value> {
    match &*node.content {
        Content::Null => None,
        Content::Map(_) => Some(to_json(node)),
        _ => {
            let at = r.place(node);
            r.add(
                at,
                format!(
                    "`kubernetes.pod_config` should be a mapping, not {}",
                    node.shape()
                ),
                "write a pod fragment: `pod_config: {spec: {...}}`",
            );
            None
        }
    }
}

/// `kubernetes.jobset_config.metadata.{labels,annotations}`.
fn read_jobset_config(r: &mut Reader<'_>, node: &Node, launch: &mut LaunchSettings) {
    let Some(fields) = pick(r, node, "`kubernetes.jobset_config`", &["metadata"]) else {
        return;
    };
    for (_, metadata, _) in fields {
        let Some(parts) = pick(
            r,
            &metadata,
            "`jobset_config.metadata`",
            &["labels", "annotations"],
        ) else {
            continue;
        };
        for (part, map, _) in parts {
            match part {
                "labels" => launch.jobset_labels = read_map(r, &map, Kind::Label),
                _ => launch.jobset_annotations = read_map(r, &map, Kind::Annotation),
            }
        }
    }
}

/// A YAML tree as JSON, unquoted scalars typed as PyYAML types them.
pub fn to_json(node: &Node) -> serde_json::Value {
    use crate::input::yaml11::{Resolved, resolve};
    use serde_json::Value;
    match &*node.content {
        Content::Null => Value::Null,
        Content::Scalar(s) if node.quoted => Value::String(s.clone()),
        Content::Scalar(s) => match resolve(s) {
            Resolved::Null => Value::Null,
            Resolved::Bool(b) => Value::Bool(b),
            Resolved::Int(Some(i)) => i64::try_from(i)
                .map(Value::from)
                .unwrap_or_else(|_| Value::String(s.clone())),
            Resolved::Float(f) => serde_json::Number::from_f64(f)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(s.clone())),
            Resolved::Int(None) | Resolved::Str | Resolved::Timestamp => Value::String(s.clone()),
        },
        Content::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        Content::Map(pairs) => Value::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.as_scalar().unwrap_or_default().to_string(), to_json(v)))
                .collect(),
        ),
    }
}

/// The text of a node is on one line of the file.
fn one_line(r: &Reader<'_>, node: &Node) -> bool {
    r.text
        .get(node.span.clone())
        .is_some_and(|t| !t.contains(['\n', '\r']))
}

fn read_contexts(r: &mut Reader<'_>, node: &Node) -> Vec<String> {
    const FIELD: &str = "`kubernetes.allowed_contexts`";
    const HELP: &str = "write the context names as a list: `allowed_contexts: [my-context]`";
    let items = match &*node.content {
        Content::Null => return Vec::new(),
        Content::Seq(items) => items,
        _ => {
            let at = r.place(node);
            r.add(
                at,
                format!(
                    "{FIELD} should be a list of context names, not {}",
                    node.shape()
                ),
                HELP,
            );
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for item in items {
        let at = r.place(item);
        match &*item.content {
            Content::Scalar(name) if !name.is_empty() => {
                // A context name is shown wherever a context is (whoami,
                // errors, -v): it must be written out, not reached through
                // an alias, anchor or tag, nor slid over several lines.
                if node.alias || !item.is_plain() || !one_line(r, item) {
                    r.add(
                        at,
                        format!("an item of {FIELD} is given through an alias, an anchor or a tag, or runs over several lines (not shown)"),
                        "write each context name itself in the list: `allowed_contexts: [my-context]`",
                    );
                    continue;
                }
                r.parsed.reveal(item);
                out.push(name.clone());
            }
            Content::Scalar(_) | Content::Null => {
                r.add(at, format!("an item of {FIELD} is empty"), HELP);
            }
            _ => r.add(
                at,
                format!(
                    "an item of {FIELD} should be a context name, not {}",
                    item.shape()
                ),
                HELP,
            ),
        }
    }
    out
}

fn read_custom_metadata(r: &mut Reader<'_>, node: &Node) -> CustomMetadata {
    let mut metadata = CustomMetadata::default();
    let Some(fields) = pick(
        r,
        node,
        "`kubernetes.custom_metadata`",
        &["labels", "annotations", "name", "namespace"],
    ) else {
        return metadata;
    };
    for (field, value, at) in fields {
        match field {
            "labels" => metadata.labels = read_map(r, &value, Kind::Label),
            "annotations" => {
                metadata.annotations = read_map(r, &value, Kind::Annotation);
                let total: usize = metadata
                    .annotations
                    .iter()
                    .map(|(k, v)| k.len().saturating_add(v.len()))
                    .fold(0, usize::saturating_add);
                if total > MAX_ANNOTATIONS_BYTES {
                    r.add(
                        at,
                        format!(
                            "the annotations in `kubernetes.custom_metadata` total {total} bytes; the API server accepts at most {MAX_ANNOTATIONS_BYTES} (256 KiB) on an object"
                        ),
                        "keep large data out of annotations",
                    );
                }
            }
            // Konduktor's schema refuses both: a secret's name and namespace
            // are not the config's to set.
            other => r.add(
                at,
                format!("`kubernetes.custom_metadata` may not set `{other}`"),
                format!("remove `{other}`: Konduktor refuses it too"),
            ),
        }
    }
    metadata
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Label,
    Annotation,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Label => "label",
            Kind::Annotation => "annotation",
        }
    }

    fn article(self) -> &'static str {
        match self {
            Kind::Label => "a label",
            Kind::Annotation => "an annotation",
        }
    }

    fn field(self) -> &'static str {
        match self {
            Kind::Label => "`kubernetes.custom_metadata.labels`",
            Kind::Annotation => "`kubernetes.custom_metadata.annotations`",
        }
    }

    fn key_problem(self, key: &str) -> Option<&'static str> {
        match self {
            Kind::Label => qualified_name_problem(key),
            Kind::Annotation => annotation_key_problem(key),
        }
    }
}

const KEY_HELP: &str = "a key is an optional DNS prefix and `/`, then a name of at most 63 letters, digits, `-`, `_` and `.` that starts and ends with a letter or digit (e.g. `team` or `example.com/team`)";

/// `labels` or `annotations`: a mapping of keys to single values. Keys are
/// checked and shown only when valid; values are checked and never shown.
fn read_map(r: &mut Reader<'_>, node: &Node, kind: Kind) -> BTreeMap<String, String> {
    let (word, field) = (kind.word(), kind.field());
    let pairs = match &*node.content {
        Content::Null => return BTreeMap::new(),
        Content::Map(pairs) => pairs,
        _ => {
            let at = r.place(node);
            r.add(
                at,
                format!(
                    "{field} should be a mapping of key: value, not {}",
                    node.shape()
                ),
                format!("write each {word} on its own line, as `key: value`"),
            );
            return BTreeMap::new();
        }
    };
    let mut out = BTreeMap::new();
    let mut seen: Vec<(String, Place)> = Vec::new();
    for (key, value) in pairs {
        let at = r.place(key);
        let Some(k) = key.as_scalar() else {
            r.add(
                at,
                format!("a key in {field} is not a {word} key"),
                format!("write each {word} as `key: value`"),
            );
            continue;
        };
        let problem = kind.key_problem(k);
        // A valid key holds only a key's characters: shown, as the API
        // server would show it. Anything else may be a pasted value.
        let shown = problem.is_none() && key.is_plain() && !node.alias && one_line(r, key);
        if shown {
            r.parsed.reveal(key);
        }
        let name = if shown {
            format!("{word} {}", quote(k))
        } else {
            format!("{} key (not shown: it may hold a value)", kind.article())
        };
        if let Some(why) = problem {
            r.add(
                at,
                format!("{name} in {field} is not valid: {why}"),
                KEY_HELP,
            );
        }
        if let Some((_, first)) = seen.iter().find(|(s, _)| s == k) {
            let message = format!(
                "{name} is given twice in {field} (first at line {})",
                first.line
            );
            r.add(at, message, "keep one of them");
            continue;
        }
        seen.push((k.to_string(), at));
        let v = match &*value.content {
            Content::Scalar(v) => v.clone(),
            Content::Null => {
                r.add(
                    at,
                    format!("{name} has no value"),
                    format!("write `key: \"\"` for an empty {word} value"),
                );
                continue;
            }
            _ => {
                let value_at = r.place(value);
                r.add(
                    value_at,
                    format!(
                        "the value of {name} should be a single value, not {}",
                        value.shape()
                    ),
                    "quote the value if it holds `:`, `[` or `{`: `key: \"...\"`",
                );
                continue;
            }
        };
        if kind == Kind::Label && !is_label_value(&v) {
            let value_at = r.place(value);
            r.add(
                value_at,
                format!("the value of {name} is not a valid label value (not shown)"),
                "a label value is empty, or at most 63 letters, digits, `-`, `_` and `.` that starts and ends with a letter or digit",
            );
        }
        if problem.is_none() {
            out.insert(k.to_string(), v);
        }
    }
    out
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
