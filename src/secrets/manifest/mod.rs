//! `secrets.yaml` (docs/konduktor-compat.md §5.2): parsing, validation and loading.
//!
//! Three steps, each reporting every problem it finds with the line and
//! column in the manifest:
//! 1. [`parse`]: YAML into the raw model through [`crate::input::located::Reader`]
//!    (unknown fields are errors, with a "did you mean" when a known field
//!    is close; every value the schema does not vouch for stays masked);
//! 2. [`validate`]: the per-entry rules of docs/konduktor-compat.md §1 and the file-level ones,
//!    with no I/O;
//! 3. [`load`]: read files, directories and environment variables into data.
//!
//! Nothing here talks to a cluster. No snippet shows an inline value, and no
//! message quotes one, whatever the shape of the file.
//!
//! The sources an entry names are read beside it: [`sources`] (files,
//! folders, inline pairs into data), [`command`] (`fromCommand`); and
//! `fromEnvFile` through [`crate::secrets::env_file`], the format `export`
//! writes too.

pub mod command;
pub mod sources;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::input::located::{Place, Problems, Reader, Text, key_is_showable, quote, suggestion};
use crate::input::yaml::{Content, Masked, Node};
use crate::konduktor::identity::{self, HashSource, Owner};
use crate::konduktor::secret_value::SecretBytes;
use crate::konduktor::{self, DesiredSecret, SecretKind, SourceShape};
use command::CommandSpec;
use sources::Source;

pub const API_VERSION: &str = "konduktor.trainy.ai/v1alpha1";
pub const KIND: &str = "SecretSet";

pub(crate) const TOP_FIELDS: &[&str] = &["apiVersion", "kind", "owner", "secrets"];
pub(crate) const ENTRY_FIELDS: &[&str] = &[
    "name",
    "kind",
    "state",
    "fromFile",
    "fromDirectory",
    "inline",
    "fromEnv",
    "fromEnvFile",
    "fromCommand",
];
/// The fields of one `fromCommand` entry.
pub(crate) const COMMAND_FIELDS: &[&str] = &["key", "command", "timeout", "trim"];

// ---------------------------------------------------------------- raw model

/// Each field: `None` when missing; `Some(None)` when given but unusable
/// (already reported).
struct RawManifest {
    api_version: Option<Option<Text>>,
    kind: Option<Option<Text>>,
    owner: Option<Option<Text>>,
    secrets: Option<Option<Vec<RawEntry>>>,
}

/// An inline pair: the key (hidden when it could be a value), the value,
/// and where the value was written.
type RawPair = (Text, SecretBytes, Place);

struct RawEntry {
    place: Place,
    name: Option<Text>,
    kind: Option<Text>,
    state: Option<Text>,
    from_file: Option<(Place, Vec<Text>)>,
    from_directory: Option<Text>,
    inline: Option<(Place, Vec<RawPair>)>,
    from_env: Option<(Place, Vec<Text>)>,
    from_env_file: Option<Text>,
    from_command: Option<(Place, Vec<RawCommand>)>,
    /// A field had the wrong shape (reported): skip the entry's rules.
    broken: bool,
}

/// One `fromCommand` entry as written (its shape checked).
struct RawCommand {
    place: Place,
    key: Option<Text>,
    argv: Option<Vec<Text>>,
    timeout: Option<Text>,
    trim: Option<Text>,
}

fn read_manifest(r: &mut Reader<'_>) -> Option<RawManifest> {
    let Some(root) = r.parsed.root.clone() else {
        r.add(
            Place::START,
            "the manifest is empty",
            format!("start with `apiVersion: {API_VERSION}`, `kind: {KIND}` and `secrets:`"),
        );
        return None;
    };
    let fields = r.fields(&root, "the manifest", TOP_FIELDS)?;
    // A misspelled field is reported already: not as missing too.
    let field = |r: &mut Reader<'_>, name: &str| match fields.get(name) {
        Some((n, _)) => Some(r.scalar(n, name)),
        None if fields.misspelled(name) => Some(None),
        None => None,
    };
    let api_version = field(r, "apiVersion");
    let kind = field(r, "kind");
    let owner = fields.get("owner").map(|(node, _)| read_owner(r, node));
    let secrets = fields
        .get("secrets")
        .map(|(node, at)| match &*node.content {
            Content::Seq(items) => Some(items.iter().filter_map(|i| read_entry(r, i)).collect()),
            Content::Null => {
                r.add(
                    at,
                    "`secrets` has no value",
                    "list your secrets under `secrets:` (an empty list `secrets: []` is allowed)",
                );
                None
            }
            _ => {
                let at = r.place(node);
                r.add(
                    at,
                    format!("`secrets` should be a list, not {}", node.shape()),
                    "list each secret under `secrets:` as `- name: ...`",
                );
                None
            }
        })
        .or_else(|| fields.misspelled("secrets").then_some(None));
    Some(RawManifest {
        api_version,
        kind,
        owner,
        secrets,
    })
}

/// How to write `owner:`, for every problem with it.
const OWNER_HELP: &str = "an owner hash is exactly 8 lowercase hex characters, e.g. `owner: abba3a3e`; `kubectl konduktor whoami` shows yours (or remove `owner:`)";

/// Could `s` be a mistyped owner hash, and so be quoted? Short letters and
/// digits only: a pasted token (`HF_TOKEN=hf_...`) never is.
fn could_be_a_hash(s: &str) -> bool {
    s.len() <= 12 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `owner:`, a single value (checked to be a hash in [`validate`]). Only a
/// value that could be a mistyped hash is ever shown.
fn read_owner(r: &mut Reader<'_>, node: &Node) -> Option<Text> {
    let what = match &*node.content {
        Content::Scalar(s) if !could_be_a_hash(s) => {
            return Some(Text {
                value: s.clone(),
                place: r.place(node),
                hidden: true,
            });
        }
        Content::Scalar(_) => return r.scalar(node, "owner"),
        Content::Null => "`owner` has no value".to_string(),
        _ => format!("`owner` should be a single value, not {}", node.shape()),
    };
    let at = r.place(node);
    r.add(at, what, OWNER_HELP);
    None
}

fn read_entry(r: &mut Reader<'_>, node: &Node) -> Option<RawEntry> {
    // What is missing from an entry is shown at its first character.
    let place = Place {
        len: 1,
        ..r.place(node)
    };
    let fields = r.fields(node, "this secret", ENTRY_FIELDS)?;
    // A misspelled name or source is reported already: no "no source" too.
    let mut broken = [
        "name",
        "fromFile",
        "fromDirectory",
        "inline",
        "fromEnv",
        "fromEnvFile",
        "fromCommand",
    ]
    .iter()
    .any(|f| fields.misspelled(f) && !fields.has(f));
    let mut scalar = |r: &mut Reader<'_>, field: &str| {
        let (n, _) = fields.get(field)?;
        let text = r.scalar(n, field);
        broken |= text.is_none();
        text
    };
    let name = scalar(r, "name");
    let kind = scalar(r, "kind");
    let state = scalar(r, "state");
    let from_directory = scalar(r, "fromDirectory");
    let from_env_file = scalar(r, "fromEnvFile");
    let mut list = |r: &mut Reader<'_>, field: &str, showable: &dyn Fn(&str) -> bool| {
        let (n, at) = fields.get(field)?;
        let items = r.scalar_list(n, field, showable);
        broken |= items.is_none();
        items.map(|items| (at, items))
    };
    let from_file = list(r, "fromFile", &|_| true);
    let from_env = list(r, "fromEnv", &crate::kube_names::has_key_chars);
    let inline = fields.get("inline").and_then(|(n, at)| {
        let pairs = read_pairs(r, n);
        broken |= pairs.is_none();
        pairs.map(|p| (at, p))
    });
    let from_command = fields.get("fromCommand").and_then(|(n, at)| {
        let commands = read_commands(r, n);
        broken |= commands.is_none();
        commands.map(|c| (at, c))
    });
    Some(RawEntry {
        place,
        name,
        kind,
        state,
        from_file,
        from_directory,
        inline,
        from_env,
        from_env_file,
        from_command,
        broken,
    })
}

/// `fromCommand:`'s entries, each a mapping of `key`, `command` (a list:
/// a program and its arguments, never a shell line), `timeout`, `trim`.
/// The command is shown in messages and plans, as paths are.
fn read_commands(r: &mut Reader<'_>, node: &Node) -> Option<Vec<RawCommand>> {
    let Content::Seq(items) = &*node.content else {
        let at = r.place(node);
        r.add(
            at,
            format!(
                "`fromCommand` should be a list of entries, not {}",
                node.shape()
            ),
            "write each entry as `- key: KEY` with `command: [program, arg, ...]`",
        );
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for item in items {
        let place = Place {
            len: 1,
            ..r.place(item)
        };
        let Some(fields) = r.fields(item, "this `fromCommand` entry", COMMAND_FIELDS) else {
            ok = false;
            continue;
        };
        let key = match fields.get("key") {
            Some((n, _)) => r
                .scalar_list(n, "key", &crate::kube_names::has_key_chars)
                .and_then(|keys| match <[Text; 1]>::try_from(keys) {
                    Ok([key]) => Some(key),
                    Err(_) => {
                        r.add(
                            place,
                            "`key` of a `fromCommand` entry should be a single name",
                            "write `key: NAME`",
                        );
                        None
                    }
                }),
            None => None,
        };
        let argv = match fields.get("command") {
            Some((n, _)) if !matches!(&*n.content, Content::Seq(_)) => {
                let at = r.place(n);
                r.add(
                    at,
                    "`command` should be a list: the program, then each argument",
                    "write `command: [op, read, \"op://vault/item/field\"]`; it is run directly, never by a shell",
                );
                None
            }
            Some((n, _)) => r.scalar_list(n, "command", &|_| true),
            None => None,
        };
        let scalar = |r: &mut Reader<'_>, field: &str| {
            let (n, _) = fields.get(field)?;
            r.scalar(n, field)
        };
        let timeout = scalar(r, "timeout");
        let trim = scalar(r, "trim");
        ok &= (key.is_some() || !fields.has("key")) && (argv.is_some() || !fields.has("command"));
        ok &= fields.has("timeout") == timeout.is_some() && fields.has("trim") == trim.is_some();
        out.push(RawCommand {
            place,
            key,
            argv,
            timeout,
            trim,
        });
    }
    ok.then_some(out)
}

/// `inline:`'s pairs. Values are never revealed; a key is shown only when
/// it could not be a pasted value ([`key_is_showable`]).
fn read_pairs(r: &mut Reader<'_>, node: &Node) -> Option<Vec<RawPair>> {
    let Content::Map(pairs) = &*node.content else {
        let at = r.place(node);
        r.add(
            at,
            format!(
                "`inline` should be a mapping of KEY: value, not {}",
                node.shape()
            ),
            "write each pair on its own line under `inline:`, as `KEY: value`",
        );
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for (key, value) in pairs {
        let at = r.place(key);
        let Some(k) = key.as_scalar() else {
            r.add(
                at,
                "a key in `inline` is not a name",
                "write each pair as `KEY: value`",
            );
            ok = false;
            continue;
        };
        let hidden = !key.is_plain() || node.alias || !key_is_showable(k, value);
        if !hidden {
            r.parsed.reveal(key);
        }
        let shown = if hidden {
            "a key in `inline` (not shown: it may hold a value)".to_string()
        } else {
            format!("the key {} in `inline`", quote(k))
        };
        let text = Text {
            value: k.to_string(),
            place: at,
            hidden,
        };
        match r.pair_value(at, &shown, value, "KEY") {
            Some(v) => out.push((text, SecretBytes::new(v.into_bytes()), r.place(value))),
            None => ok = false,
        }
    }
    ok.then_some(out)
}

// ------------------------------------------------------------ valid model

/// Where a secret's data comes from, as the manifest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntrySource {
    Files(Vec<(PathBuf, Place)>),
    Directory(PathBuf, Place),
    /// Inline pairs, `fromEnv` names, the pairs of a `fromEnvFile` file
    /// and `fromCommand` entries, merged into one map of keys.
    Pairs {
        inline: Vec<(String, SecretBytes, Place)>,
        from_env: Vec<(String, Place)>,
        from_env_file: Option<(PathBuf, Place)>,
        from_command: Vec<CommandSpec>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryState {
    Present {
        kind: SecretKind,
        source: EntrySource,
    },
    Absent,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub state: EntryState,
    pub place: Place,
}

/// The owner a manifest names (`owner:`): an owner hash, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestOwner {
    pub hash: String,
    pub place: Place,
}

/// A manifest that passed every rule that needs no I/O.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub path: PathBuf,
    /// The text as snippets may show it (see [`crate::input::yaml`]).
    pub masked: Masked,
    /// Whose secrets these are, if the manifest says.
    pub owner: Option<ManifestOwner>,
    pub entries: Vec<Entry>,
}

impl Manifest {
    /// The manifest names another owner than `owner` (the one resolved
    /// here): an error at the line of `owner:` with both hashes, where
    /// `owner` came from, and how to make them agree. Nothing is planned or
    /// sent for a manifest written for someone else, or from another
    /// identity of the same person (docs/konduktor-compat.md §5.2).
    ///
    /// # Errors
    ///
    /// The hashes differ.
    pub fn check_owner(&self, owner: &Owner) -> Result<(), Error> {
        let Some(wanted) = &self.owner else {
            return Ok(());
        };
        if wanted.hash == owner.hash {
            return Ok(());
        }
        let (theirs, mine) = (&wanted.hash, &owner.hash);
        let fix = match &owner.source {
            HashSource::UserIdEnv | HashSource::TestOverride => {
                let var = match owner.source {
                    HashSource::UserIdEnv => identity::ENV_USER_ID,
                    _ => identity::ENV_TEST_USER_HASH,
                };
                format!(
                    "{var} sets your owner hash (`kubectl konduktor identity adopt` refuses while it is set): \
                     set {var} to `{theirs}`, or unset {var} to use ~/.konduktor/user_hash"
                )
            }
            HashSource::CacheFile { .. } | HashSource::Computed { .. } => format!(
                "run `kubectl konduktor identity adopt {theirs}` to use that owner hash here \
                 (Konduktor's CLI too)"
            ),
        };
        let mut problems = Problems::new(&self.path);
        problems.add(
            Some(wanted.place),
            format!(
                "this manifest is for owner `{theirs}`, but your owner hash here is `{mine}` ({})",
                owner.source
            ),
            format!(
                "{fix}; if the manifest is the one that is wrong, change its `owner:` to `{mine}`"
            ),
        );
        problems.finish(&self.masked)
    }
}

/// A secret the manifest wants, with its data read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Desired {
    Present(DesiredSecret),
    Absent { basename: String },
}

impl Desired {
    #[must_use]
    pub fn basename(&self) -> &str {
        match self {
            Desired::Present(d) => &d.basename,
            Desired::Absent { basename } => basename,
        }
    }
}

// ------------------------------------------------------------ parse + validate

/// Read and parse a manifest file (`-` is standard input), capped at
/// [`crate::input::file::MAX_MANIFEST_BYTES`].
///
/// # Errors
///
/// The file cannot be read, or has problems (every one, located).
pub fn read(path: &Path) -> Result<Manifest, Error> {
    let text = crate::input::located::read_yaml_file(path, "manifest")?;
    parse(path, &text)
}

/// Parse and validate manifest `text` (as read from `path`).
///
/// # Errors
///
/// Every problem of the file, located, values masked.
pub fn parse(path: &Path, text: &str) -> Result<Manifest, Error> {
    let mut reader = crate::input::located::read_document(path, text, &all_fields())?;
    let raw = read_manifest(&mut reader);
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let (owner, entries) = match &raw {
        Some(raw) => (
            raw.owner
                .as_ref()
                .and_then(|o| manifest_owner(o, &mut reader)),
            validate(raw, &base, &mut reader),
        ),
        None => (None, Vec::new()),
    };
    let masked = reader.parsed.masked(text);
    reader.problems.finish(&masked)?;
    Ok(Manifest {
        path: path.to_path_buf(),
        masked,
        owner,
        entries,
    })
}

fn all_fields() -> Vec<&'static str> {
    TOP_FIELDS.iter().chain(ENTRY_FIELDS).copied().collect()
}

/// A top field that must say exactly `expected` (reported once if it was
/// unusable already).
fn expect_constant(r: &mut Reader<'_>, given: &Option<Option<Text>>, field: &str, expected: &str) {
    match given {
        None => r.add(
            Place::START,
            format!("`{field}` is missing"),
            format!("start the file with `{field}: {expected}`"),
        ),
        Some(Some(v)) if v.value != expected => r.add(
            v.place,
            format!("unsupported {field} {}", v.quoted()),
            format!("use `{field}: {expected}`"),
        ),
        _ => {}
    }
}

/// `owner:` as given: an owner hash written out on its line.
fn manifest_owner(given: &Option<Text>, r: &mut Reader<'_>) -> Option<ManifestOwner> {
    let owner = given.as_ref()?;
    if owner.hidden && !owner.value.is_empty() && !identity::is_owner_hash(&owner.value) {
        r.add(
            owner.place,
            "`owner` is not an owner hash (not shown: it may hold a value)",
            OWNER_HELP,
        );
        return None;
    }
    if owner.hidden {
        r.add(
            owner.place,
            "`owner` is given through an alias, an anchor or a tag, or runs over several lines (not shown)",
            "write the owner hash itself on the line of `owner:`, e.g. `owner: abba3a3e`",
        );
        return None;
    }
    if owner.value.is_empty() {
        r.add(owner.place, "`owner` is empty", OWNER_HELP);
        return None;
    }
    if !identity::is_owner_hash(&owner.value) {
        r.add(
            owner.place,
            format!("`owner` is {}, which is not an owner hash", owner.quoted()),
            OWNER_HELP,
        );
        return None;
    }
    Some(ManifestOwner {
        hash: owner.value.clone(),
        place: owner.place,
    })
}

fn validate(raw: &RawManifest, base: &Path, r: &mut Reader<'_>) -> Vec<Entry> {
    expect_constant(r, &raw.api_version, "apiVersion", API_VERSION);
    expect_constant(r, &raw.kind, "kind", KIND);
    let secrets = match &raw.secrets {
        None => {
            r.add(
                Place::START,
                "`secrets` is missing",
                "list your secrets under `secrets:` (an empty list `secrets: []` is allowed)",
            );
            return Vec::new();
        }
        Some(None) => return Vec::new(),
        Some(Some(secrets)) => secrets,
    };
    let mut entries = Vec::new();
    let mut seen: BTreeMap<String, Place> = BTreeMap::new();
    let mut git_ssh: Option<(String, Place)> = None;
    for raw_entry in secrets.iter().filter(|e| !e.broken) {
        let Some(entry) = validate_entry(raw_entry, base, r) else {
            continue;
        };
        if let Some(first) = seen.get(&entry.name) {
            r.add(
                entry.place,
                format!(
                    "secret `{}` is listed twice (first at line {})",
                    entry.name, first.line
                ),
                "give each secret one entry",
            );
            continue;
        }
        seen.insert(entry.name.clone(), entry.place);
        if let EntryState::Present {
            kind: SecretKind::GitSsh,
            ..
        } = entry.state
        {
            if let Some((first, at)) = &git_ssh {
                r.add(
                    entry.place,
                    format!(
                        "a second git-ssh secret `{}` (the first is `{first}`, line {})",
                        entry.name, at.line
                    ),
                    "a user has at most one git-ssh secret; keep one",
                );
                continue;
            }
            git_ssh = Some((entry.name.clone(), entry.place));
        }
        entries.push(entry);
    }
    entries
}

fn expand_path(raw: &str, base: &Path) -> PathBuf {
    let home = || {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default()
    };
    let path = if raw == "~" {
        home()
    } else if let Some(rest) = raw.strip_prefix("~/") {
        home().join(rest)
    } else {
        PathBuf::from(raw)
    };
    if path.is_absolute() {
        path
    } else {
        base.join(path)
    }
}

/// One entry, checked step by step; every problem is reported at its place.
fn validate_entry(raw: &RawEntry, base: &Path, r: &mut Reader<'_>) -> Option<Entry> {
    let name = entry_name(raw, r)?;
    let absent = entry_state(raw, r)?;
    let kind = entry_kind(raw, r)?;
    // An absent secret is named as an env secret, whose names may be longer.
    if let Err(rule) =
        konduktor::validate_name(&name.value, if absent { SecretKind::Env } else { kind })
    {
        r.add(name.place, rule.to_string(), rule.help());
        return None;
    }
    let given = sources_given(raw);
    if absent {
        return absent_entry(name, &given, r);
    }
    let first = one_kind_of_source(raw, name, &given, r)?;
    check_kind_fits(raw, name, kind, first, r)?;
    check_not_empty(raw, name, first, r)?;
    check_paths_written_here(raw, name, r)?;
    let source = entry_source(raw, base, name, kind, r)?;
    Some(Entry {
        name: name.value.clone(),
        state: EntryState::Present { kind, source },
        place: name.place,
    })
}

/// The name, written out on its line (it is shown in plans and messages).
fn entry_name<'e>(raw: &'e RawEntry, r: &mut Reader<'_>) -> Option<&'e Text> {
    let Some(name) = &raw.name else {
        r.add(
            raw.place,
            "this secret has no `name`",
            "add `name: <lowercase-name>`",
        );
        return None;
    };
    if name.hidden {
        r.add(
            name.place,
            "the secret's `name` is given through an alias, an anchor or a tag, or runs over several lines (not shown)",
            "write the name itself on the line of `name:`, e.g. `name: my-creds`",
        );
        return None;
    }
    Some(name)
}

/// `state:`, as "is it absent?".
fn entry_state(raw: &RawEntry, r: &mut Reader<'_>) -> Option<bool> {
    match &raw.state {
        None => Some(false),
        Some(s) if s.value == "present" => Some(false),
        Some(s) if s.value == "absent" => Some(true),
        Some(s) => {
            r.add(
                s.place,
                format!("unknown state {}", s.quoted()),
                suggestion(&s.value, &["present", "absent"]),
            );
            None
        }
    }
}

fn entry_kind(raw: &RawEntry, r: &mut Reader<'_>) -> Option<SecretKind> {
    let Some(k) = &raw.kind else {
        return Some(SecretKind::Default);
    };
    match k.value.parse::<SecretKind>() {
        Ok(kind) => Some(kind),
        Err(_) => {
            r.add(
                k.place,
                format!("unknown kind {}", k.quoted()),
                suggestion(&k.value, &["default", "env", "git-ssh"]),
            );
            None
        }
    }
}

/// The source fields given, in file order of the schema.
fn sources_given(raw: &RawEntry) -> Vec<(&'static str, Place)> {
    let mut given = Vec::new();
    if let Some((at, _)) = &raw.from_file {
        given.push(("fromFile", *at));
    }
    if let Some(d) = &raw.from_directory {
        given.push(("fromDirectory", d.place));
    }
    if let Some((at, _)) = &raw.inline {
        given.push(("inline", *at));
    }
    if let Some((at, _)) = &raw.from_env {
        given.push(("fromEnv", *at));
    }
    if let Some(f) = &raw.from_env_file {
        given.push(("fromEnvFile", f.place));
    }
    if let Some((at, _)) = &raw.from_command {
        given.push(("fromCommand", *at));
    }
    given
}

fn absent_entry(name: &Text, given: &[(&str, Place)], r: &mut Reader<'_>) -> Option<Entry> {
    if let Some((field, at)) = given.first() {
        r.add(
            *at,
            format!(
                "secret `{}` has `state: absent` and a source (`{field}`)",
                name.value
            ),
            "an absent secret is deleted; remove its sources",
        );
        return None;
    }
    Some(Entry {
        name: name.value.clone(),
        state: EntryState::Absent,
        place: name.place,
    })
}

/// Exactly one kind of source (inline and fromEnv together count as one):
/// the first field given, for later messages.
fn one_kind_of_source(
    raw: &RawEntry,
    name: &Text,
    given: &[(&'static str, Place)],
    r: &mut Reader<'_>,
) -> Option<(&'static str, Place)> {
    let pairs = raw.inline.is_some()
        || raw.from_env.is_some()
        || raw.from_env_file.is_some()
        || raw.from_command.is_some();
    let kinds_given = usize::from(raw.from_file.is_some())
        + usize::from(raw.from_directory.is_some())
        + usize::from(pairs);
    let Some(first) = given.first().copied() else {
        r.add(
            name.place,
            format!("secret `{}` has no source", name.value),
            "give one of fromFile, fromDirectory, inline/fromEnv/fromEnvFile/fromCommand, or `state: absent`",
        );
        return None;
    };
    if kinds_given > 1 {
        let fields: Vec<&str> = given.iter().map(|(f, _)| *f).collect();
        let at = given.get(1).map_or(first.1, |(_, at)| *at);
        r.add(
            at,
            format!(
                "secret `{}` has several sources: {}",
                name.value,
                fields.join(", ")
            ),
            "give exactly one kind of source (inline, fromEnv, fromEnvFile and fromCommand together count as one)",
        );
        return None;
    }
    Some(first)
}

/// Kind and source must fit (docs/konduktor-compat.md §1.2).
fn check_kind_fits(
    raw: &RawEntry,
    name: &Text,
    kind: SecretKind,
    (first_field, first_at): (&str, Place),
    r: &mut Reader<'_>,
) -> Option<()> {
    let shape = match (&raw.from_file, &raw.from_directory, &raw.from_command) {
        (Some((_, files)), _, _) => SourceShape::Files(files.len()),
        (None, Some(_), _) => SourceShape::Directory,
        (None, None, Some((_, commands)))
            if raw.inline.is_none() && raw.from_env.is_none() && raw.from_env_file.is_none() =>
        {
            SourceShape::Commands(commands.len())
        }
        (None, None, _) => SourceShape::Pairs,
    };
    if kind.accepts(shape) {
        return Some(());
    }
    let fields = match kind {
        SecretKind::Env => " (`inline`, `fromEnv`, `fromEnvFile`, `fromCommand`)",
        SecretKind::GitSsh => " (`fromFile: PATH`, or one `fromCommand` entry with `key: gitkey`)",
        SecretKind::Default => "",
    };
    r.add(
        first_at,
        format!(
            "{kind} secret `{}` cannot take `{first_field}` here",
            name.value
        ),
        format!("{kind} secrets take {}{fields}", kind.accepted_sources()),
    );
    None
}

/// Every kind of source needs something in it, alike.
fn check_not_empty(
    raw: &RawEntry,
    name: &Text,
    (first_field, first_at): (&str, Place),
    r: &mut Reader<'_>,
) -> Option<()> {
    let empty = match (
        &raw.from_file,
        &raw.inline,
        &raw.from_env,
        &raw.from_command,
    ) {
        (Some((_, files)), _, _, _) => files.is_empty(),
        _ if raw.from_env_file.is_some() => false,
        (None, None, None, None) => false,
        (None, inline, env, commands) => {
            inline.as_ref().is_none_or(|(_, p)| p.is_empty())
                && env.as_ref().is_none_or(|(_, e)| e.is_empty())
                && commands.as_ref().is_none_or(|(_, c)| c.is_empty())
        }
    };
    if !empty {
        return Some(());
    }
    let what = if raw.from_file.is_some() {
        "name at least one file"
    } else {
        "give at least one key (`inline`), variable name (`fromEnv`) or command (`fromCommand`)"
    };
    r.add(
        first_at,
        format!("`{first_field}` of secret `{}` is empty", name.value),
        format!("{what}, or remove the secret with `state: absent`"),
    );
    None
}

/// A path is quoted in every message about it: it must be written here.
fn check_paths_written_here(raw: &RawEntry, name: &Text, r: &mut Reader<'_>) -> Option<()> {
    let hidden = raw
        .from_file
        .iter()
        .flat_map(|(_, files)| files.iter())
        .chain(raw.from_directory.iter())
        .chain(raw.from_env_file.iter())
        .find(|p| p.hidden);
    if let Some(p) = hidden {
        r.add(
            p.place,
            format!(
                "a path of secret `{}` is given through an alias, an anchor or a tag, or runs over several lines (not shown)",
                name.value
            ),
            "write the path itself on the line of its field, e.g. `fromFile: ./token.txt`",
        );
        return None;
    }
    let hidden_arg = raw
        .from_command
        .iter()
        .flat_map(|(_, commands)| commands.iter())
        .flat_map(|c| c.argv.iter().flatten())
        .find(|a| a.hidden);
    if let Some(a) = hidden_arg {
        r.add(
            a.place,
            format!(
                "a command argument of secret `{}` is given through an alias, an anchor or a tag, or runs over several lines (not shown)",
                name.value
            ),
            "write each argument itself in the list, e.g. `command: [op, read, \"op://vault/item/field\"]`",
        );
        return None;
    }
    Some(())
}

/// The checked source: paths resolved, pair keys checked.
fn entry_source(
    raw: &RawEntry,
    base: &Path,
    name: &Text,
    kind: SecretKind,
    r: &mut Reader<'_>,
) -> Option<EntrySource> {
    if let Some((_, files)) = &raw.from_file {
        return Some(EntrySource::Files(
            files
                .iter()
                .map(|f| (expand_path(&f.value, base), f.place))
                .collect(),
        ));
    }
    if let Some(dir) = &raw.from_directory {
        return Some(EntrySource::Directory(
            expand_path(&dir.value, base),
            dir.place,
        ));
    }
    let inline = raw.inline.as_ref().map_or(&[][..], |(_, p)| p.as_slice());
    let from_env = raw.from_env.as_ref().map_or(&[][..], |(_, e)| e.as_slice());
    let raw_commands = raw
        .from_command
        .as_ref()
        .map_or(&[][..], |(_, c)| c.as_slice());
    let commands = command_specs(raw_commands, kind, r)?;
    let command_keys: Vec<&Text> = raw_commands.iter().filter_map(|c| c.key.as_ref()).collect();
    if !pair_keys_ok(&name.value, kind, inline, from_env, &command_keys, r) {
        return None;
    }
    Some(EntrySource::Pairs {
        inline: inline
            .iter()
            .map(|(k, v, at)| (k.value.clone(), v.clone(), *at))
            .collect(),
        from_env: from_env
            .iter()
            .map(|n| (n.value.clone(), n.place))
            .collect(),
        from_env_file: raw
            .from_env_file
            .as_ref()
            .map(|f| (expand_path(&f.value, base), f.place)),
        from_command: commands,
    })
}

/// Each `fromCommand` entry checked: a key, a program, a timeout within
/// bounds, `trim` true or false; a git-ssh secret's one key is `gitkey`.
fn command_specs(
    raw: &[RawCommand],
    kind: SecretKind,
    r: &mut Reader<'_>,
) -> Option<Vec<CommandSpec>> {
    let mut out = Vec::new();
    let mut ok = true;
    for c in raw {
        let Some(key) = &c.key else {
            r.add(
                c.place,
                "this `fromCommand` entry has no `key`",
                "add `key: NAME`: the data key its output becomes",
            );
            ok = false;
            continue;
        };
        if kind == SecretKind::GitSsh && !key.hidden && key.value != konduktor::GIT_SSH_KEY {
            r.add(
                key.place,
                format!(
                    "a git-ssh secret's key is `{}`, not {}",
                    konduktor::GIT_SSH_KEY,
                    key.quoted()
                ),
                format!("write `key: {}`", konduktor::GIT_SSH_KEY),
            );
            ok = false;
        }
        let argv: Vec<String> = match &c.argv {
            Some(args) if args.iter().any(|a| a.value.contains('\0')) => {
                r.add(
                    c.place,
                    "an argument of this `fromCommand` entry holds a NUL character, which no program can be given",
                    "remove the `\\0` from the argument",
                );
                ok = false;
                continue;
            }
            Some(args) if !args.is_empty() && !args[0].value.is_empty() => {
                args.iter().map(|a| a.value.clone()).collect()
            }
            Some(_) => {
                r.add(
                    c.place,
                    "the `command` of this `fromCommand` entry names no program",
                    "write `command: [program, arg, ...]`",
                );
                ok = false;
                continue;
            }
            None => {
                r.add(
                    c.place,
                    "this `fromCommand` entry has no `command`",
                    "add `command: [program, arg, ...]`: the program whose output is the value",
                );
                ok = false;
                continue;
            }
        };
        const TIMEOUT_HELP: &str = "give a duration from 1ms to 24h, such as `10s` or `2m` (a program that never ends would stop the run)";
        let timeout = match &c.timeout {
            None => command::DEFAULT_TIMEOUT,
            Some(t) => match crate::cluster::parse_timeout(&t.value) {
                Ok(Some(d)) if d >= std::time::Duration::from_millis(1) => d,
                Ok(_) => {
                    r.add(
                        t.place,
                        format!(
                            "a command's `timeout` must be at least 1ms, not {}",
                            t.quoted()
                        ),
                        TIMEOUT_HELP,
                    );
                    ok = false;
                    continue;
                }
                Err(_) => {
                    r.add(
                        t.place,
                        format!("`timeout` {} is not a duration from 1ms to 24h", t.quoted()),
                        TIMEOUT_HELP,
                    );
                    ok = false;
                    continue;
                }
            },
        };
        let trim = match c.trim.as_ref().map(|t| (t, t.value.as_str())) {
            None | Some((_, "true")) => true,
            Some((_, "false")) => false,
            Some((t, _)) => {
                r.add(
                    t.place,
                    format!("`trim` should be true or false, not {}", t.quoted()),
                    "`trim: false` keeps the output's trailing newline",
                );
                ok = false;
                continue;
            }
        };
        out.push(CommandSpec {
            key: key.value.clone(),
            argv,
            timeout,
            trim,
            place: c.place,
        });
    }
    ok.then_some(out)
}

/// Key rules that need no I/O, for inline keys and `fromEnv` names. A key
/// that could be a value is never quoted.
fn pair_keys_ok(
    secret: &str,
    kind: SecretKind,
    inline: &[RawPair],
    from_env: &[Text],
    from_command: &[&Text],
    r: &mut Reader<'_>,
) -> bool {
    let mut ok = true;
    let mut keys = BTreeSet::new();
    #[derive(PartialEq)]
    enum From {
        Inline,
        Env,
        Command,
    }
    let all = inline
        .iter()
        .map(|(k, _, _)| (k, From::Inline))
        .chain(from_env.iter().map(|n| (n, From::Env)))
        .chain(from_command.iter().map(|k| (*k, From::Command)));
    for (key, from) in all {
        let is_env = from == From::Env;
        if key.hidden {
            let (what, help) = match from {
                From::Env => (
                    "an entry of `fromEnv` is not a variable name (not shown: it may hold a value)",
                    "`fromEnv` lists names of environment variables, e.g. `fromEnv: [HF_TOKEN]`; put KEY: value pairs under `inline`",
                ),
                From::Inline => (
                    "a key in `inline` is not a valid Secret key (not shown: it may hold a value)",
                    "write each pair as `KEY: value`; keys use letters, digits, `-`, `_` and `.`",
                ),
                From::Command => (
                    "the `key` of a `fromCommand` entry is not a valid Secret key (not shown: it may hold a value)",
                    "write `key: NAME`; keys use letters, digits, `-`, `_` and `.`",
                ),
            };
            r.add(key.place, what, help);
            ok = false;
            continue;
        }
        let rule = konduktor::validate_data_key(&key.value).and_then(|()| {
            if kind == SecretKind::Env || is_env {
                konduktor::validate_env_name(&key.value)
            } else {
                Ok(())
            }
        });
        if let Err(rule) = rule {
            r.add(key.place, rule.to_string(), rule.help());
            ok = false;
        } else if !keys.insert(key.value.clone()) {
            r.add(
                key.place,
                format!(
                    "the key {} is given twice in secret `{secret}`",
                    quote(&key.value)
                ),
                "give each key once",
            );
            ok = false;
        }
    }
    ok
}

// ------------------------------------------------------------ load

/// Load a manifest read with [`read`] in this process's environment, once
/// its owner is checked ([`Manifest::check_owner`]): the desired secrets,
/// or every problem found.
///
/// # Errors
///
/// As [`load`].
pub fn load_here(manifest: &Manifest, allow_commands: bool) -> Result<Vec<Desired>, Error> {
    let run = |spec: &CommandSpec, dir: &Path| command::run(spec, dir);
    let commands = if allow_commands {
        Commands::Run(&run)
    } else {
        Commands::Refused
    };
    let desired = load_with(manifest, &process_env, commands)?;
    crate::log::log(1, || {
        format!(
            "{}: {} declared",
            crate::input::located::display_path(&manifest.path),
            crate::output::count(desired.len(), "secret", "secrets")
        )
    });
    Ok(desired)
}

/// `fromEnv` lookups in this process's environment.
#[must_use]
pub fn process_env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// How loading treats `fromCommand` entries.
pub enum Commands<'a> {
    /// Run none: a manifest with commands is refused, every command listed
    /// (a shared file must not run programs on someone's machine unasked).
    Refused,
    /// Run each, one at a time in file order, with this runner (the real
    /// one is [`command::run`]).
    Run(&'a dyn Fn(&CommandSpec, &Path) -> Result<SecretBytes, command::CommandError>),
}

impl Manifest {
    /// Every `fromCommand` entry, in file order, with its secret's name.
    pub fn commands(&self) -> Vec<(&str, &CommandSpec)> {
        self.entries
            .iter()
            .filter_map(|e| match &e.state {
                EntryState::Present {
                    source: EntrySource::Pairs { from_command, .. },
                    ..
                } => Some((e.name.as_str(), from_command)),
                _ => None,
            })
            .flat_map(|(name, commands)| commands.iter().map(move |c| (name, c)))
            .collect()
    }

    /// The refusal to run this manifest's commands, if it has any: each
    /// command shown where it is written.
    ///
    /// # Errors
    ///
    /// The manifest has `fromCommand` entries.
    pub fn refuse_commands(&self) -> Result<(), Error> {
        let commands = self.commands();
        if commands.is_empty() {
            return Ok(());
        }
        const HELP: &str = "read them, then run again with --allow-commands (or KONDUKTOR_ALLOW_COMMANDS=1) to run them";
        let mut listed = Problems::new(&self.path);
        for (secret, c) in &commands {
            listed.add(
                Some(c.place),
                format!(
                    "secret `{secret}` would run `{}` for its key `{}`",
                    c.display(),
                    c.key
                ),
                HELP,
            );
        }
        // Every command, whole: none may hide past a limit of shown items.
        let related = listed.all(&self.masked);
        Err(Error::input(format!(
            "{} would run {} to read values, and running programs was not allowed; nothing was run",
            crate::input::located::display_path(&self.path),
            candidates_plural(commands.len())
        ))
        .with_help(HELP)
        .with_related(related))
    }
}

fn candidates_plural(n: usize) -> String {
    crate::output::count(n, "command", "commands")
}

/// Read every source, running no command ([`Commands::Refused`]).
///
/// # Errors
///
/// As [`load_with`].
pub fn load(
    manifest: &Manifest,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Vec<Desired>, Error> {
    load_with(manifest, env, Commands::Refused)
}

/// Read every source. `env` looks up `fromEnv` names ([`process_env`] in
/// the CLI); `commands` says whether and how `fromCommand` programs run.
/// Every unreadable path, unset or non-UTF-8 variable is reported at its
/// line; the first command that fails stops the others from running.
///
/// # Errors
///
/// Every source that cannot be read, located in the manifest; or the
/// refusal to run commands, before anything is read.
pub fn load_with(
    manifest: &Manifest,
    env: &dyn Fn(&str) -> Option<OsString>,
    commands: Commands<'_>,
) -> Result<Vec<Desired>, Error> {
    if matches!(commands, Commands::Refused) {
        manifest.refuse_commands()?;
    }
    let dir = manifest.path.parent().unwrap_or(Path::new(""));
    let mut runner = CommandRunner {
        commands,
        dir,
        failed: false,
    };
    let mut problems = Problems::new(&manifest.path);
    let mut slots: Vec<Option<Desired>> = vec![None; manifest.entries.len()];
    // Every other source first: no password manager asks for a value of a
    // run that a missing file or variable stops anyway.
    for pass_runs_commands in [false, true] {
        if pass_runs_commands && !problems.is_empty() {
            break;
        }
        for (entry, slot) in manifest.entries.iter().zip(slots.iter_mut()) {
            if runs_commands(entry) == pass_runs_commands {
                *slot = load_entry(entry, env, &mut runner, &mut problems);
            }
        }
    }
    problems.finish(&manifest.masked)?;
    Ok(slots.into_iter().flatten().collect())
}

fn runs_commands(entry: &Entry) -> bool {
    matches!(&entry.state, EntryState::Present { source: EntrySource::Pairs { from_command, .. }, .. } if !from_command.is_empty())
}

/// One entry loaded and size-checked, or `None` with its problems reported.
fn load_entry(
    entry: &Entry,
    env: &dyn Fn(&str) -> Option<OsString>,
    runner: &mut CommandRunner<'_>,
    problems: &mut Problems<'_>,
) -> Option<Desired> {
    let (kind, source) = match &entry.state {
        EntryState::Absent => {
            return Some(Desired::Absent {
                basename: entry.name.clone(),
            });
        }
        EntryState::Present { kind, source } => (*kind, source),
    };
    let (loaded, origins) = load_source(entry, kind, source, env, runner, problems)?;
    let checked = loaded.and_then(|data| {
        konduktor::validate_size(&entry.name, &data)
            .map(|()| data)
            .map_err(|e| (e.into(), entry.place))
    });
    match checked {
        Ok(data) => Some(Desired::Present(DesiredSecret {
            origins,
            basename: entry.name.clone(),
            kind,
            data,
        })),
        Err((e, at)) => {
            report_source_error(&entry.name, e, at, problems);
            None
        }
    }
}

type Loaded = Result<BTreeMap<String, SecretBytes>, (sources::SourceError, Place)>;

/// Runs the `fromCommand` programs of a load, one at a time; after one
/// fails, no other runs.
struct CommandRunner<'a> {
    commands: Commands<'a>,
    dir: &'a Path,
    failed: bool,
}

impl CommandRunner<'_> {
    /// The outputs by key, or `None` once a failure is reported.
    fn run_all(
        &mut self,
        secret: &str,
        kind: SecretKind,
        specs: &[CommandSpec],
        problems: &mut Problems<'_>,
    ) -> Option<Vec<(String, SecretBytes)>> {
        let Commands::Run(run) = &self.commands else {
            return None;
        };
        if self.failed {
            return None;
        }
        let mut out = Vec::new();
        for spec in specs {
            crate::log::log(1, || {
                format!(
                    "running `{}` for secret `{secret}`, key `{}`",
                    spec.display(),
                    spec.key
                )
            });
            let checked = run(spec, self.dir).and_then(|value| match kind {
                SecretKind::Env => konduktor::validate_env_value(&spec.key, value.expose())
                    .map(|()| value)
                    .map_err(|rule| command::CommandError::Refused(rule.to_string(), rule.help())),
                _ => Ok(value),
            });
            match checked {
                Ok(value) => out.push((spec.key.clone(), value)),
                Err(e) => {
                    problems.add(
                        Some(spec.place),
                        format!(
                            "secret `{secret}`: the command for key `{}` (`{}`) {}: {e}",
                            spec.key,
                            spec.display(),
                            match e {
                                command::CommandError::Refused(..) =>
                                    "printed a value that cannot be used",
                                _ => "failed",
                            }
                        ),
                        e.help(),
                    );
                    self.failed = true;
                    return None;
                }
            }
        }
        Some(out)
    }
}

/// One entry's data (and where a key's value came from, when a plan should
/// say so), or the source error and where to show it; `None` when its
/// problems (unset variables, failed commands) are reported already.
fn load_source(
    entry: &Entry,
    kind: SecretKind,
    source: &EntrySource,
    env: &dyn Fn(&str) -> Option<OsString>,
    runner: &mut CommandRunner<'_>,
    problems: &mut Problems<'_>,
) -> Option<(Loaded, BTreeMap<String, String>)> {
    let mut origins = BTreeMap::new();
    let loaded = match source {
        EntrySource::Files(files) => sources::collect(
            kind,
            &Source::Files(files.iter().map(|(p, _)| p.clone()).collect()),
        )
        .map_err(|e| {
            // Point at the file the error names, else at the first.
            let at = files
                .iter()
                .find(|(p, _)| e.to_string().contains(&crate::escape::path(p)))
                .or(files.first())
                .map_or(entry.place, |(_, at)| *at);
            (e, at)
        }),
        EntrySource::Directory(dir, at) => {
            sources::collect(kind, &Source::Directory(dir.clone())).map_err(|e| (e, *at))
        }
        EntrySource::Pairs {
            inline,
            from_env,
            from_env_file,
            from_command,
        } => {
            if kind == SecretKind::Env {
                inline_env_values_are_text(&entry.name, inline, problems)?;
            }
            let mut pairs: Vec<(String, SecretBytes)> = inline
                .iter()
                .map(|(k, v, _)| (k.clone(), v.clone()))
                .collect();
            pairs.extend(env_values(from_env, env, problems)?);
            if let Some((path, at)) = from_env_file {
                pairs.extend(env_file_values(&entry.name, kind, path, *at, problems)?);
            }
            if !from_command.is_empty() {
                pairs.extend(runner.run_all(&entry.name, kind, from_command, problems)?);
                for c in from_command {
                    origins.insert(c.key.clone(), format!("command `{}`", c.display()));
                }
            }
            let at = inline
                .first()
                .map(|(_, _, at)| *at)
                .or(from_env.first().map(|(_, at)| *at))
                .or(from_env_file.as_ref().map(|(_, at)| *at))
                .or(from_command.first().map(|c| c.place))
                .unwrap_or(entry.place);
            let source = if inline.is_empty() && from_env.is_empty() && from_env_file.is_none() {
                Source::Commands(pairs)
            } else {
                Source::Inline(pairs)
            };
            sources::collect(kind, &source).map_err(|e| (e, at))
        }
    };
    Some((loaded, origins))
}

/// An env secret's `inline` values hold no NUL (YAML can write one as
/// `"\0"`): `None` once each that does is reported at its key.
fn inline_env_values_are_text(
    secret: &str,
    inline: &[(String, SecretBytes, Place)],
    problems: &mut Problems<'_>,
) -> Option<()> {
    let mut ok = true;
    for (key, value, at) in inline {
        if let Err(rule) = konduktor::validate_env_value(key, value.expose()) {
            problems.add(Some(*at), format!("secret `{secret}`: {rule}"), rule.help());
            ok = false;
        }
    }
    ok.then_some(())
}

/// The values of `fromEnv` names, or `None` once every unset or non-UTF-8
/// one is reported.
fn env_values(
    names: &[(String, Place)],
    env: &dyn Fn(&str) -> Option<OsString>,
    problems: &mut Problems<'_>,
) -> Option<Vec<(String, SecretBytes)>> {
    let mut out = Vec::new();
    let mut bad = false;
    for (name, at) in names {
        match env(name).map(OsString::into_string) {
            Some(Ok(value)) => out.push((name.clone(), SecretBytes::new(value.into_bytes()))),
            Some(Err(_)) => {
                problems.add(
                    Some(*at),
                    format!("the environment variable `{name}` is set, but its value is not UTF-8 text"),
                    "a Secret value from `fromEnv` must be text; put binary data in a file and use `fromFile`",
                );
                bad = true;
            }
            None => {
                problems.add(
                    Some(*at),
                    format!("the environment variable `{name}` is not set"),
                    format!("export {name} before running, or remove it from `fromEnv`"),
                );
                bad = true;
            }
        }
    }
    (!bad).then_some(out)
}

/// The pairs of a `fromEnvFile` file (read bounded, as every file), or
/// `None` once the problem is reported at the field, with the line of the
/// env file it is on (never a value).
fn env_file_values(
    secret: &str,
    kind: SecretKind,
    path: &Path,
    at: Place,
    problems: &mut Problems<'_>,
) -> Option<Vec<(String, SecretBytes)>> {
    let bytes = match crate::input::file::read_regular(path, crate::input::file::MAX_ENV_FILE_BYTES)
    {
        Ok(bytes) => bytes,
        Err(e) => {
            let help = if e.is_not_found() {
                "paths are relative to the manifest's folder; `~` is your home".to_string()
            } else {
                e.help()
            };
            problems.add(Some(at), format!("secret `{secret}`: {e}"), help);
            return None;
        }
    };
    match crate::secrets::env_file::parse(&bytes, kind) {
        Ok(pairs) => Some(pairs),
        Err(e) => {
            problems.add(
                Some(at),
                format!(
                    "secret `{secret}`: the env file `{}`, {e}",
                    crate::escape::path(path)
                ),
                e.help,
            );
            None
        }
    }
}

fn report_source_error(
    secret: &str,
    e: sources::SourceError,
    at: Place,
    problems: &mut Problems<'_>,
) {
    let help = match &e {
        sources::SourceError::Io { .. } => {
            "paths are relative to the manifest's folder; `~` is your home".into()
        }
        e => e.help(),
    };
    let message = match e {
        // Names the secret itself.
        e @ sources::SourceError::TooLarge { .. } => e.named(secret).to_string(),
        e => format!("secret `{secret}`: {e}"),
    };
    problems.add(Some(at), message, help);
}

#[cfg(test)]
mod tests;
