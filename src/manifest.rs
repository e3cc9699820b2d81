//! `secrets.yaml` (SPEC 2.1): parsing, validation and loading.
//!
//! Three steps, each reporting every problem it finds with the line and
//! column in the manifest:
//! 1. [`parse`]: YAML into the raw model (unknown fields are errors, with a
//!    "did you mean" when a known field is close);
//! 2. [`validate`]: the per-entry rules of SPEC 1.1 and the file-level ones,
//!    with no I/O;
//! 3. [`load`]: read files, directories and environment variables into data.
//!
//! Nothing here talks to a cluster. Inline values are masked in every snippet
//! shown to the user.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::{Location, Spanned};

use crate::error::Error;
use crate::konduktor::{self, DesiredSecret, SecretKind};
use crate::located::{Place, Problems, mask_values, parse_yaml, place_of, suggestion};
use crate::secret_value::SecretBytes;
use crate::sources::{self, Source};

pub const API_VERSION: &str = "konduktor.trainy.ai/v1alpha1";
pub const KIND: &str = "SecretSet";

// ---------------------------------------------------------------- raw model

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawManifest {
    api_version: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    secrets: Option<Spanned<Vec<Spanned<RawEntry>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawEntry {
    name: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    state: Option<Spanned<String>>,
    from_file: Option<Spanned<PathList>>,
    from_directory: Option<Spanned<String>>,
    inline: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    from_env: Option<Spanned<PathList>>,
}

/// One string or a list of strings, each with its place in the file.
#[derive(Debug)]
struct PathList(Vec<(String, Option<Location>)>);

impl<'de> Deserialize<'de> for PathList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = PathList;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<PathList, E> {
                Ok(PathList(vec![(v.to_string(), None)]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<PathList, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<Spanned<String>>()? {
                    out.push((item.value, Some(item.referenced)));
                }
                Ok(PathList(out))
            }
        }
        d.deserialize_any(V)
    }
}

// ------------------------------------------------------------ valid model

/// Where a secret's data comes from, as the manifest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntrySource {
    Files(Vec<(PathBuf, Place)>),
    Directory(PathBuf, Place),
    /// Inline pairs and `fromEnv` names, merged into one map of keys.
    Pairs {
        inline: Vec<(String, SecretBytes, Place)>,
        from_env: Vec<(String, Place)>,
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

/// A manifest that passed every rule that needs no I/O.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub path: PathBuf,
    /// The text with inline values masked, for snippets.
    pub masked: String,
    pub entries: Vec<Entry>,
}

/// A secret the manifest wants, with its data read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Desired {
    Present(DesiredSecret),
    Absent { basename: String },
}

impl Desired {
    pub fn basename(&self) -> &str {
        match self {
            Desired::Present(d) => &d.basename,
            Desired::Absent { basename } => basename,
        }
    }
}

// ------------------------------------------------------------ parse + validate

/// Read, parse and validate a manifest file. No secret is read yet.
pub fn read(path: &Path) -> Result<Manifest, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::input(format!(
            "cannot read the manifest `{}`: {e}",
            path.display()
        ))
        .with_help("check the path given to -f")
    })?;
    parse(path, &text)
}

/// Parse and validate manifest `text` (as read from `path`).
pub fn parse(path: &Path, text: &str) -> Result<Manifest, Error> {
    let masked = mask_values(text, &["inline"]);
    let mut problems = Problems::new(path, &masked);
    let Some(raw) = parse_yaml::<RawManifest>(text, &mut problems) else {
        problems.finish()?;
        return Err(Error::input("unreadable manifest"));
    };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let entries = validate(&raw, &base, &mut problems);
    problems.finish()?;
    Ok(Manifest {
        path: path.to_path_buf(),
        masked,
        entries,
    })
}

fn validate(raw: &RawManifest, base: &Path, p: &mut Problems<'_>) -> Vec<Entry> {
    match &raw.api_version {
        None => p.add(
            Some(Place::START),
            "`apiVersion` is missing",
            format!("start the file with `apiVersion: {API_VERSION}`"),
        ),
        Some(v) if v.value != API_VERSION => p.add(
            Some(place_of(v)),
            format!("unsupported apiVersion `{}`", v.value),
            format!("use `apiVersion: {API_VERSION}`"),
        ),
        _ => {}
    }
    match &raw.kind {
        None => p.add(
            Some(Place::START),
            "`kind` is missing",
            format!("add `kind: {KIND}`"),
        ),
        Some(k) if k.value != KIND => p.add(
            Some(place_of(k)),
            format!("unsupported kind `{}`", k.value),
            format!("use `kind: {KIND}`"),
        ),
        _ => {}
    }
    let Some(secrets) = &raw.secrets else {
        p.add(
            Some(Place::START),
            "`secrets` is missing",
            "list your secrets under `secrets:` (an empty list `secrets: []` is allowed)",
        );
        return Vec::new();
    };
    let mut entries = Vec::new();
    let mut seen: BTreeMap<String, Place> = BTreeMap::new();
    let mut git_ssh: Option<(String, Place)> = None;
    for raw_entry in &secrets.value {
        let Some(entry) = validate_entry(&raw_entry.value, place_of(raw_entry), base, p) else {
            continue;
        };
        if let Some(first) = seen.get(&entry.name) {
            p.add(
                Some(entry.place),
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
                p.add(
                    Some(entry.place),
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

fn validate_entry(
    raw: &RawEntry,
    place: Place,
    base: &Path,
    p: &mut Problems<'_>,
) -> Option<Entry> {
    let Some(name) = &raw.name else {
        p.add(
            Some(place),
            "this secret has no `name`",
            "add `name: <lowercase-name>`",
        );
        return None;
    };
    let name_place = place_of(name);
    let absent = match &raw.state {
        None => false,
        Some(s) if s.value == "present" => false,
        Some(s) if s.value == "absent" => true,
        Some(s) => {
            p.add(
                Some(place_of(s)),
                format!("unknown state `{}`", s.value),
                suggestion(&s.value, &["present", "absent"]),
            );
            return None;
        }
    };
    let kind = match &raw.kind {
        None => SecretKind::Default,
        Some(k) => match k.value.parse::<SecretKind>() {
            Ok(kind) => kind,
            Err(_) => {
                p.add(
                    Some(place_of(k)),
                    format!("unknown kind `{}`", k.value),
                    suggestion(&k.value, &["default", "env", "git-ssh"]),
                );
                return None;
            }
        },
    };
    if let Err(rule) =
        konduktor::validate_name(&name.value, if absent { SecretKind::Env } else { kind })
    {
        p.add(Some(name_place), rule.to_string(), rule.help());
        return None;
    }
    let mut given: Vec<(&str, Place)> = Vec::new();
    if let Some(f) = &raw.from_file {
        given.push(("fromFile", place_of(f)));
    }
    if let Some(d) = &raw.from_directory {
        given.push(("fromDirectory", place_of(d)));
    }
    if let Some(i) = &raw.inline {
        given.push(("inline", place_of(i)));
    }
    if let Some(e) = &raw.from_env {
        given.push(("fromEnv", place_of(e)));
    }
    if absent {
        if let Some((field, at)) = given.first() {
            p.add(
                Some(*at),
                format!(
                    "secret `{}` has `state: absent` and a source (`{field}`)",
                    name.value
                ),
                "an absent secret is deleted; remove its sources",
            );
            return None;
        }
        return Some(Entry {
            name: name.value.clone(),
            state: EntryState::Absent,
            place: name_place,
        });
    }
    let pairs = raw.inline.is_some() || raw.from_env.is_some();
    let kinds_given = usize::from(raw.from_file.is_some())
        + usize::from(raw.from_directory.is_some())
        + usize::from(pairs);
    if kinds_given == 0 {
        p.add(
            Some(name_place),
            format!("secret `{}` has no source", name.value),
            "give one of fromFile, fromDirectory, inline/fromEnv, or `state: absent`",
        );
        return None;
    }
    if kinds_given > 1 {
        let fields: Vec<&str> = given.iter().map(|(f, _)| *f).collect();
        p.add(
            Some(given[1].1),
            format!(
                "secret `{}` has several sources: {}",
                name.value,
                fields.join(", ")
            ),
            "give exactly one kind of source (inline and fromEnv together count as one)",
        );
        return None;
    }
    let source = if let Some(files) = &raw.from_file {
        let list: Vec<(PathBuf, Place)> = files
            .value
            .0
            .iter()
            .map(|(path, loc)| {
                (
                    expand_path(path, base),
                    loc.as_ref().map_or(place_of(files), Place::of),
                )
            })
            .collect();
        if list.is_empty() {
            p.add(
                Some(place_of(files)),
                "`fromFile` is an empty list",
                "name at least one file",
            );
            return None;
        }
        EntrySource::Files(list)
    } else if let Some(dir) = &raw.from_directory {
        EntrySource::Directory(expand_path(&dir.value, base), place_of(dir))
    } else {
        let inline = raw
            .inline
            .iter()
            .flat_map(|m| m.value.iter())
            .map(|(k, v)| {
                (
                    k.clone(),
                    SecretBytes::new(v.value.clone().into_bytes()),
                    place_of(v),
                )
            })
            .collect();
        let from_env = raw
            .from_env
            .iter()
            .flat_map(|list| {
                list.value
                    .0
                    .iter()
                    .map(|(n, loc)| (n.clone(), loc.as_ref().map_or(place_of(list), Place::of)))
            })
            .collect();
        EntrySource::Pairs { inline, from_env }
    };
    // Kind and source must fit (SPEC 1.1).
    let at = given[0].1;
    let ok = match (&kind, &source) {
        (SecretKind::Default, _) => true,
        (SecretKind::Env, EntrySource::Pairs { .. }) => true,
        (SecretKind::GitSsh, EntrySource::Files(f)) => f.len() == 1,
        _ => false,
    };
    if !ok {
        let accepts = match kind {
            SecretKind::Env => "`inline` and `fromEnv` only",
            _ => "exactly one file (`fromFile: PATH`)",
        };
        p.add(
            Some(at),
            format!(
                "{kind} secret `{}` cannot take `{}` here",
                name.value, given[0].0
            ),
            format!("{kind} secrets take {accepts}"),
        );
        return None;
    }
    // Key rules that need no I/O.
    let mut keys_ok = true;
    if let EntrySource::Pairs { inline, from_env } = &source {
        let mut keys = BTreeSet::new();
        let all = inline
            .iter()
            .map(|(k, _, at)| (k, *at))
            .chain(from_env.iter().map(|(k, at)| (k, *at)));
        for (key, at) in all {
            let rule = konduktor::validate_data_key(key).and_then(|()| {
                if kind == SecretKind::Env || from_env.iter().any(|(n, _)| n == key) {
                    konduktor::validate_env_name(key)
                } else {
                    Ok(())
                }
            });
            if let Err(rule) = rule {
                p.add(Some(at), rule.to_string(), rule.help());
                keys_ok = false;
            } else if !keys.insert(key.clone()) {
                p.add(
                    Some(at),
                    format!("the key `{key}` is given twice in secret `{}`", name.value),
                    "give each key once",
                );
                keys_ok = false;
            }
        }
    }
    keys_ok.then(|| Entry {
        name: name.value.clone(),
        state: EntryState::Present { kind, source },
        place: name_place,
    })
}

// ------------------------------------------------------------ load

/// Read every source. `env` looks up `fromEnv` names (the process
/// environment in the CLI). Every unreadable path or unset variable is
/// reported at its line.
pub fn load(
    manifest: &Manifest,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Desired>, Error> {
    let mut problems = Problems::new(&manifest.path, &manifest.masked);
    let mut out = Vec::new();
    for entry in &manifest.entries {
        let (kind, source) = match &entry.state {
            EntryState::Absent => {
                out.push(Desired::Absent {
                    basename: entry.name.clone(),
                });
                continue;
            }
            EntryState::Present { kind, source } => (*kind, source),
        };
        let loaded = match source {
            EntrySource::Files(files) => {
                let mut bad = false;
                for (path, at) in files {
                    if let Err(e) = std::fs::metadata(path)
                        .map_err(|e| sources::SourceError::Io {
                            path: path.clone(),
                            source: e,
                        })
                        .and_then(|m| {
                            if m.is_file() {
                                Ok(())
                            } else {
                                Err(sources::SourceError::NotAFile { path: path.clone() })
                            }
                        })
                    {
                        problems.add(
                            Some(*at),
                            e.to_string(),
                            "paths are relative to the manifest's folder; `~` is your home",
                        );
                        bad = true;
                    }
                }
                if bad {
                    continue;
                }
                sources::collect(
                    kind,
                    &Source::Files(files.iter().map(|(p, _)| p.clone()).collect()),
                )
                .map_err(|e| (e, files[0].1))
            }
            EntrySource::Directory(dir, at) => {
                sources::collect(kind, &Source::Directory(dir.clone())).map_err(|e| (e, *at))
            }
            EntrySource::Pairs { inline, from_env } => {
                let mut pairs: Vec<(String, SecretBytes)> = inline
                    .iter()
                    .map(|(k, v, _)| (k.clone(), v.clone()))
                    .collect();
                let mut bad = false;
                for (name, at) in from_env {
                    match env(name) {
                        Some(value) => {
                            pairs.push((name.clone(), SecretBytes::new(value.into_bytes())))
                        }
                        None => {
                            problems.add(
                                Some(*at),
                                format!("the environment variable `{name}` is not set"),
                                format!(
                                    "export {name} before running, or remove it from `fromEnv`"
                                ),
                            );
                            bad = true;
                        }
                    }
                }
                if bad {
                    continue;
                }
                let at = inline
                    .first()
                    .map(|(_, _, at)| *at)
                    .or(from_env.first().map(|(_, at)| *at))
                    .unwrap_or(entry.place);
                sources::collect(kind, &Source::Inline(pairs)).map_err(|e| (e, at))
            }
        };
        match loaded.and_then(|data| {
            konduktor::validate_size(&entry.name, &data)
                .map(|()| data)
                .map_err(|e| (e.into(), entry.place))
        }) {
            Ok(data) => out.push(Desired::Present(DesiredSecret {
                basename: entry.name.clone(),
                kind,
                data,
            })),
            Err((e, at)) => {
                let help = e.help();
                problems.add(Some(at), format!("secret `{}`: {e}", entry.name), help);
            }
        }
    }
    problems.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests;
