//! Saved plans (docs/manifest.md, "Saved plans"): what `diff --out` writes and
//! `apply --plan` carries out. A saved plan names where it applies (server,
//! namespace, owner), and per secret the action, the live object it saw
//! (UID, resourceVersion) and a digest of each desired value, never a value.
//! `apply --plan` plans again and goes on only if the fresh plan is the
//! saved one: same digests (the sources did not move), same objects at the
//! same resourceVersions (the cluster did not move).
//!
//! Digests are HMAC-SHA256 under the digest key
//! ([`crate::konduktor::digest_key`]), which is not in the plan, over a
//! per-plan random salt, the object and key names (each length-prefixed)
//! and the value bytes: whoever holds the plan but not the key cannot test
//! a guess of a value, however short (docs/security.md); the same
//! value in two plans, or under two keys, digests differently. The plan
//! names its key by id, so `apply --plan` with another key is refused as
//! such, not as a change.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::escape;
use crate::konduktor::digest_key::{DigestKey, ENV_DIGEST_KEY, RELATIVE_PATH, hex, unhex};
use crate::secrets::plan::{Action, Change, DeleteReason, Plan, SecretPlan, Step};

/// The format this version writes and the only one it reads. Format 1
/// (unkeyed SHA-256 digests) is refused: its digests confirm guesses.
pub const FORMAT_VERSION: u32 = 2;
/// What keys the digests apart from every other use of the digest key.
const DIGEST_DOMAIN: &str = "kubectl-konduktor saved plan v2";
/// A saved plan is read up to this many bytes (a plan of 10,000 secrets
/// with a few keys each is a few MiB).
pub const MAX_PLAN_BYTES: u64 = 32 * 1024 * 1024;
/// The random salt, in bytes.
pub const SALT_BYTES: usize = 32;

/// Where a plan applies: a plan for another is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub server: String,
    pub namespace: String,
    pub owner: String,
}

impl Target {
    /// Where `plan`, made on `cluster`, applies.
    pub fn of(plan: &Plan, cluster: &crate::cluster::Cluster) -> Self {
        Target {
            server: cluster.server.clone(),
            namespace: cluster.namespace.clone(),
            owner: plan.owner.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavedPlan {
    pub format_version: u32,
    pub server: String,
    pub namespace: String,
    pub owner: String,
    /// The manifest as named to `diff -f` (for people: the digests are
    /// what is checked).
    pub manifest: String,
    pub prune: bool,
    /// The id of the digest key the digests are made with (never the key).
    pub key_id: String,
    /// Hex of the random salt the digests are made with.
    pub salt: String,
    pub secrets: Vec<SavedSecret>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavedSecret {
    pub name: String,
    pub secret_name: String,
    pub action: Action,
    /// The kind the manifest wants (or the live label of a deletion).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// For a deletion, why (the manifest's `state: absent`, `--prune`, a
    /// replaced git-ssh secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<DeleteReason>,
    /// The live object the plan saw: none when there was none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    pub keys: Vec<SavedKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavedKey {
    pub key: String,
    pub change: Change,
    /// The keyed digest of the desired value (keys the manifest sets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// Which side moved since the plan was saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Sources,
    Cluster,
    Both,
}

/// A secret whose fresh plan is not the saved one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub name: String,
    pub side: Side,
    pub detail: String,
}

impl Moved {
    fn line(&self) -> String {
        let side = match self.side {
            Side::Sources => "in the sources",
            Side::Cluster => "in the cluster",
            Side::Both => "in the sources and in the cluster",
        };
        format!("\"{}\" changed {side} ({})", self.name, self.detail)
    }
}

/// A fresh random salt (from the system's random source).
///
/// # Errors
///
/// The random source cannot be read.
pub fn new_salt() -> Result<[u8; SALT_BYTES]> {
    crate::konduktor::digest_key::random_bytes().map_err(|e| {
        Error::new(
            ErrorKind::Server,
            format!("cannot read random bytes for the plan's salt: {e}"),
        )
    })
}

/// The keyed digest of one desired value.
pub fn digest(key: &DigestKey, salt: &[u8], secret_name: &str, name: &str, value: &[u8]) -> String {
    let mac = key.mac(
        DIGEST_DOMAIN,
        &[salt, secret_name.as_bytes(), name.as_bytes()],
        value,
    );
    format!("hmac-sha256:{}", hex(&mac))
}

fn saved_secret(s: &SecretPlan, key: &DigestKey, salt: &[u8]) -> SavedSecret {
    let live = match &s.step {
        Step::Merge { live, .. }
        | Step::Unchanged { live }
        | Step::Delete { live, .. }
        | Step::Terminating { live, .. } => Some(live),
        Step::Create { .. } | Step::AlreadyAbsent | Step::Conflict { .. } => None,
    };
    SavedSecret {
        name: s.name.clone(),
        secret_name: s.secret_name.clone(),
        action: s.action(),
        kind: s.kind.as_ref().map(|k| k.as_str().to_string()),
        reason: s.reason(),
        uid: live.and_then(|l| l.uid.clone()),
        resource_version: live.and_then(|l| l.resource_version.clone()),
        keys: s
            .keys
            .iter()
            .map(|k| SavedKey {
                key: k.key.clone(),
                change: k.change,
                digest: k
                    .new
                    .as_ref()
                    .map(|v| digest(key, salt, &s.secret_name, &k.key, v.expose())),
            })
            .collect(),
    }
}

impl SavedPlan {
    /// The plan as `diff --out` saves it, its digests made with `key`.
    pub fn new(
        plan: &Plan,
        target: &Target,
        manifest: &Path,
        key: &DigestKey,
        salt: &[u8],
    ) -> Self {
        SavedPlan {
            format_version: FORMAT_VERSION,
            server: target.server.clone(),
            namespace: target.namespace.clone(),
            owner: target.owner.clone(),
            manifest: manifest.to_string_lossy().into_owned(),
            prune: plan.prune,
            key_id: key.id().to_string(),
            salt: hex(salt),
            secrets: plan
                .secrets
                .iter()
                .map(|s| saved_secret(s, key, salt))
                .collect(),
        }
    }

    /// The `--prune` the plan was made with; `--prune` on a plan made
    /// without it is refused (it would carry out another plan).
    pub fn prune_for(&self, asked: bool, path: &Path) -> Result<bool> {
        if asked && !self.prune {
            return Err(Error::new(
                ErrorKind::Refused,
                format!(
                    "`{}` was made without --prune; nothing was changed",
                    escape::path(path)
                ),
            )
            .with_help(
                "leave --prune out (the plan decides), or review a new plan: diff --prune --out",
            ));
        }
        Ok(self.prune)
    }

    /// Refuse a plan made for another server, namespace or owner.
    pub fn check_target(&self, target: &Target, path: &Path) -> Result<()> {
        let differs = [
            ("server", &self.server, &target.server),
            ("namespace", &self.namespace, &target.namespace),
            ("owner", &self.owner, &target.owner),
        ]
        .into_iter()
        .find(|(_, saved, now)| saved != now);
        match differs {
            None => Ok(()),
            Some((what, saved, now)) => Err(Error::new(
                ErrorKind::Refused,
                format!(
                    "`{}` is a plan for {what} {saved}, and this run is for {what} {now}; nothing was changed",
                    escape::path(path)
                ),
            )
            .with_help("apply it where it was made (--context, -n, your owner hash), or review a new plan with diff --out")),
        }
    }

    /// Refuse to go on without the key the plan was made with: its
    /// digests cannot be checked (checked before anything is read or run).
    pub fn check_key<'k>(&self, key: Option<&'k DigestKey>, path: &Path) -> Result<&'k DigestKey> {
        let shown = escape::path(path);
        let plan_key = escape::text(&self.key_id);
        let why = match key {
            Some(key) if key.id() == self.key_id => return Ok(key),
            Some(key) => format!(
                "this run's digest key (from {}) is another one, {}",
                key.source,
                key.id()
            ),
            None => format!(
                "this machine has no digest key (no {ENV_DIGEST_KEY}, no ~/{RELATIVE_PATH})"
            ),
        };
        Err(Error::new(
            ErrorKind::Refused,
            format!(
                "`{shown}` was saved with digest key {plan_key}, and {why}: its digests cannot be checked; nothing was changed"
            ),
        )
        .with_help(format!(
            "apply it where it was saved, or give that machine's key here: {ENV_DIGEST_KEY}=<the 64 hex digits of its ~/{RELATIVE_PATH}> (a CI secret, say); or review a new plan here with diff --out"
        )))
    }

    /// Every secret whose fresh plan differs from the saved one, and on
    /// which side: the sources (a value, a key, an entry, a kind) or the
    /// cluster (an object changed, appeared or vanished). `key` is the
    /// plan's ([`SavedPlan::check_key`]).
    pub fn compare(&self, fresh: &Plan, key: &DigestKey) -> Vec<Moved> {
        let salt = unhex(&self.salt).unwrap_or_default();
        let saved: BTreeMap<&str, &SavedSecret> = self
            .secrets
            .iter()
            .map(|s| (s.secret_name.as_str(), s))
            .collect();
        let now: Vec<SavedSecret> = fresh
            .secrets
            .iter()
            .map(|s| saved_secret(s, key, &salt))
            .collect();
        let now_by_name: BTreeMap<&str, &SavedSecret> =
            now.iter().map(|s| (s.secret_name.as_str(), s)).collect();
        let mut moved = Vec::new();
        for s in &now {
            match saved.get(s.secret_name.as_str()) {
                Some(old) => moved.extend(compare_one(old, s)),
                None => moved.push(Moved {
                    name: s.name.clone(),
                    side: if unmentioned(s) {
                        Side::Cluster
                    } else {
                        Side::Sources
                    },
                    detail: if unmentioned(s) {
                        format!("{} appeared", s.secret_name)
                    } else {
                        "not in the plan".to_string()
                    },
                }),
            }
        }
        for old in self
            .secrets
            .iter()
            .filter(|s| !now_by_name.contains_key(s.secret_name.as_str()))
        {
            moved.push(Moved {
                name: old.name.clone(),
                side: if unmentioned(old) {
                    Side::Cluster
                } else {
                    Side::Sources
                },
                detail: if unmentioned(old) {
                    format!("{} vanished", old.secret_name)
                } else {
                    "no longer in the manifest".to_string()
                },
            });
        }
        moved
    }

    /// Go on only if `fresh` is this plan, for this target, checked with
    /// the plan's key.
    pub fn verify(
        &self,
        fresh: &Plan,
        target: &Target,
        key: Option<&DigestKey>,
        path: &Path,
    ) -> Result<()> {
        self.check_target(target, path)?;
        let key = self.check_key(key, path)?;
        let moved = self.compare(fresh, key);
        if moved.is_empty() {
            return Ok(());
        }
        let lines: Vec<String> = moved.iter().map(Moved::line).collect();
        Err(Error::new(
            ErrorKind::Refused,
            format!(
                "the plan in `{}` is out of date: {}; nothing was changed",
                escape::path(path),
                lines.join("; ")
            ),
        )
        .with_help("review the changes again: diff --out a new plan, then apply it"))
    }

    /// Read a saved plan for one target: a regular file of at most
    /// [`MAX_PLAN_BYTES`], of [`FORMAT_VERSION`]. A plan over several
    /// targets is refused, naming them.
    pub fn read(path: &Path) -> Result<Self> {
        match read_file(path)? {
            SavedFile::One(plan) => Ok(plan),
            SavedFile::Several(several) => Err(Error::new(
                ErrorKind::Refused,
                format!(
                    "`{}` is a plan for {} ({}), and this run is for one; nothing was changed",
                    escape::path(path),
                    crate::output::count(several.targets.len(), "target", "targets"),
                    several.context_list()
                ),
            )
            .with_help(format!("name the same targets: {}", several.context_hint()))),
        }
    }

    /// What a plan file must hold beyond its fields' types.
    fn check_shape(&self) -> std::result::Result<(), String> {
        if self.format_version != FORMAT_VERSION {
            return Err(format!("its format version is not {FORMAT_VERSION}"));
        }
        if unhex(&self.salt).is_none_or(|s| s.len() != SALT_BYTES) {
            return Err("its salt is not 64 hex digits".to_string());
        }
        if unhex(&self.key_id).is_none_or(|s| s.len() != 4) {
            return Err("its keyId is not 8 hex digits".to_string());
        }
        Ok(())
    }

    /// Check that `out` can be written (before anything is read or asked).
    ///
    /// # Errors
    ///
    /// As [`crate::input::file::check_out_file`].
    pub fn check_out(out: &Path, force: bool) -> Result<()> {
        crate::input::file::check_out_file(out, force, "plan file", "no plan was saved")
    }

    /// Write the plan whole or not at all, mode 0600 (it names the
    /// secrets, keys and objects it acts on): a new file beside `out`, moved into place;
    /// without `force`, never over a file that appeared meanwhile.
    pub fn write(&self, out: &Path, force: bool) -> Result<()> {
        write_plan_file(self, out, force)
    }
}

/// A plan file, whole or not at all, mode 0600 (it names the secrets,
/// keys and objects it acts on).
fn write_plan_file(plan: &impl Serialize, out: &Path, force: bool) -> Result<()> {
    let mut text = serde_json::to_string_pretty(plan)
        .map_err(|e| Error::new(ErrorKind::Server, format!("cannot render the plan: {e}")))?;
    text.push('\n');
    crate::input::file::write_out_file(out, 0o600, text.as_bytes(), force)
}

/// A saved plan over several targets, as `diff --out` saves it when given
/// several contexts: each target's plan as a plan for one target is saved
/// (its own salt, server, namespace), under the context that named it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavedTargets {
    pub format_version: u32,
    pub targets: Vec<SavedTarget>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavedTarget {
    pub context: String,
    pub plan: SavedPlan,
}

impl SavedTargets {
    /// The plans of every target, in the order given.
    pub fn new(targets: Vec<SavedTarget>) -> Self {
        SavedTargets {
            format_version: FORMAT_VERSION,
            targets,
        }
    }

    /// Read a saved plan for the targets `contexts` (two or more): one
    /// for one target, or for another set of targets, is refused.
    pub fn read(path: &Path, contexts: &[String]) -> Result<Self> {
        let several = match read_file(path)? {
            SavedFile::Several(several) => several,
            SavedFile::One(plan) => {
                return Err(Error::new(
                    ErrorKind::Refused,
                    format!(
                        "`{}` is a plan for one target (namespace {} on {}), and this run is for {}; nothing was changed",
                        escape::path(path),
                        escape::text(&plan.namespace),
                        escape::text(&plan.server),
                        crate::output::count(contexts.len(), "target", "targets"),
                    ),
                )
                .with_help(
                    "apply it with the one --context it was made for, or review a plan for these targets: diff --context a,b --out",
                ));
            }
        };
        several.check_contexts(contexts, path)?;
        Ok(several)
    }

    /// Refuse a plan made for another set of targets (the order does not
    /// matter; a target is named by its context).
    pub fn check_contexts(&self, contexts: &[String], path: &Path) -> Result<()> {
        let mut saved: Vec<&str> = self.targets.iter().map(|t| t.context.as_str()).collect();
        let mut now: Vec<&str> = contexts.iter().map(String::as_str).collect();
        saved.sort_unstable();
        now.sort_unstable();
        now.dedup();
        if saved == now {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Refused,
            format!(
                "`{}` is a plan for the targets {}, and this run is for {}; nothing was changed",
                escape::path(path),
                self.context_list(),
                quoted(contexts.iter().map(String::as_str))
            ),
        )
        .with_help(format!(
            "name the targets it was made for ({}), or review a plan for these: diff --out",
            self.context_hint()
        )))
    }

    /// Write the plans whole or not at all, mode 0600, as
    /// [`SavedPlan::write`].
    pub fn write(&self, out: &Path, force: bool) -> Result<()> {
        write_plan_file(self, out, force)
    }

    /// The saved plan of the target named `context`.
    pub fn plan_for(&self, context: &str) -> Option<&SavedPlan> {
        self.targets
            .iter()
            .find(|t| t.context == context)
            .map(|t| &t.plan)
    }

    /// The `--prune` every target's plan was made with (they agree: read
    /// checks it), as [`SavedPlan::prune_for`].
    pub fn prune_for(&self, asked: bool, path: &Path) -> Result<bool> {
        match self.targets.first() {
            Some(t) => t.plan.prune_for(asked, path),
            None => Ok(asked),
        }
    }

    /// The key every target's plan was made with (one: read checks it),
    /// as [`SavedPlan::check_key`].
    pub fn check_key<'k>(&self, key: Option<&'k DigestKey>, path: &Path) -> Result<&'k DigestKey> {
        match self.targets.first() {
            Some(t) => t.plan.check_key(key, path),
            None => key.ok_or_else(|| Error::input("the saved plan names no target")),
        }
    }

    /// Go on only if each target's fresh plan is its saved one, for that
    /// target, checked with the plans' key. `fresh` holds the targets that
    /// were read (`--skip-unreachable` leaves the others out). One target
    /// that moved stops every target: nothing is written anywhere, as when
    /// one cannot be read.
    pub fn verify(
        &self,
        fresh: &[(&str, &Plan, Target)],
        key: Option<&DigestKey>,
        path: &Path,
    ) -> Result<()> {
        let key = self.check_key(key, path)?;
        let mut out_of_date = Vec::new();
        for (context, plan, target) in fresh {
            let named = |e: Error| {
                let help = format!(
                    "{} (target: context `{}`)",
                    e.hint().unwrap_or("review a new plan with diff --out"),
                    escape::text(context)
                );
                e.with_help(help)
            };
            let Some(saved) = self.plan_for(context) else {
                // read() checked the set of targets; a caller that did not
                // gets a refusal, not a write.
                return Err(named(Error::new(
                    ErrorKind::Refused,
                    format!(
                        "`{}` holds no plan for this target; nothing was changed",
                        escape::path(path)
                    ),
                )));
            };
            saved.check_target(target, path).map_err(named)?;
            let moved = saved.compare(plan, key);
            if !moved.is_empty() {
                let lines: Vec<String> = moved.iter().map(Moved::line).collect();
                out_of_date.push(format!(
                    "on `{}`, {}",
                    escape::text(context),
                    lines.join("; ")
                ));
            }
        }
        if out_of_date.is_empty() {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Refused,
            format!(
                "the plan in `{}` is out of date {}: {}; nothing was written on any target",
                escape::path(path),
                match out_of_date.len() {
                    1 => "on one target".to_string(),
                    n => format!("on {n} targets"),
                },
                out_of_date.join("; ")
            ),
        )
        .with_help("review the changes again: diff --out a new plan, then apply it"))
    }

    /// The contexts, quoted for a message: `a`, `b`.
    pub fn context_list(&self) -> String {
        quoted(self.targets.iter().map(|t| t.context.as_str()))
    }

    /// The contexts as `--context` takes them: a,b. (A plan read is one
    /// whose targets this run named, so the list is as long as the command
    /// line's.)
    pub fn context_flag(&self) -> String {
        let names: Vec<String> = self
            .targets
            .iter()
            .map(|t| escape::text(&t.context).replace(',', "\\,"))
            .collect();
        let flag = names.join(",");
        // Quoted for a shell where it holds more than a name's usual
        // characters (the `\,` of a comma inside a name, say).
        let plain = flag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._,:@/-".contains(c));
        match plain {
            true => flag,
            false => format!("'{}'", flag.replace('\'', "'\\''")),
        }
    }

    /// How to name this plan's targets, for a hint: the flag, or (past
    /// [`NAMES_SHOWN`]) how many contexts it takes.
    fn context_hint(&self) -> String {
        match self.targets.len() <= NAMES_SHOWN {
            true => format!("--context {}", self.context_flag()),
            false => format!("the plan's {} contexts, with --context", self.targets.len()),
        }
    }

    /// Two or more targets, each named once, each plan well formed and all
    /// made together (one key, one owner, one `--prune`, one manifest).
    fn check_shape(&self) -> std::result::Result<(), String> {
        let (Some(first), true) = (self.targets.first(), self.targets.len() >= 2) else {
            return Err("a plan over several targets names at least two".to_string());
        };
        let first = &first.plan;
        let mut seen = std::collections::BTreeSet::new();
        for t in &self.targets {
            if !seen.insert(t.context.as_str()) {
                return Err(format!(
                    "the target `{}` is named twice",
                    escape::text(&t.context)
                ));
            }
            t.plan.check_shape()?;
        }
        let together = self.targets.iter().all(|t| {
            (
                &t.plan.key_id,
                &t.plan.owner,
                t.plan.prune,
                &t.plan.manifest,
            ) == (&first.key_id, &first.owner, first.prune, &first.manifest)
        });
        if !together {
            return Err(
                "its targets' plans were not made together (key, owner, --prune or manifest differ)"
                    .to_string(),
            );
        }
        Ok(())
    }
}

/// Names quoted for a message: `a`, `b`; past [`NAMES_SHOWN`], how many
/// more (a hostile plan may name a hundred thousand).
fn quoted<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut shown: Vec<String> = Vec::new();
    let mut more = 0usize;
    for n in names {
        match shown.len() < NAMES_SHOWN {
            true => shown.push(format!("`{}`", escape::text(n))),
            false => more += 1,
        }
    }
    if more > 0 {
        shown.push(format!("and {more} more"));
    }
    shown.join(", ")
}

/// How many targets a message names before it counts the rest.
const NAMES_SHOWN: usize = 10;

/// What a saved plan file holds.
enum SavedFile {
    One(SavedPlan),
    Several(SavedTargets),
}

/// Read a saved plan file: a regular file of at most [`MAX_PLAN_BYTES`],
/// of [`FORMAT_VERSION`], for one target or several.
fn read_file(path: &Path) -> Result<SavedFile> {
    let shown = escape::path(path);
    let bytes = crate::input::file::read_regular(path, MAX_PLAN_BYTES).map_err(|e| {
        Error::input(format!("cannot read the saved plan: {e}")).with_help(e.help())
    })?;
    let not_a_plan = |why: String| {
        Error::input(format!("`{shown}` is not a saved plan: {why}"))
            .with_help("save one with: kubectl konduktor diff -f secrets.yaml --out plan.json")
    };
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        format_version: Option<serde_json::Value>,
        targets: Option<serde::de::IgnoredAny>,
    }
    let probe: Probe = serde_json::from_slice(&bytes).map_err(|e| not_a_plan(json_problem(&e)))?;
    match probe.format_version {
        Some(v) if v == serde_json::json!(FORMAT_VERSION) => {}
        Some(v) if v == serde_json::json!(1) => {
            return Err(Error::new(
                ErrorKind::Refused,
                format!(
                    "`{shown}` was saved by an earlier version (format 1), whose digests are not keyed: they cannot be checked as this version checks plans (format {FORMAT_VERSION}); nothing was changed"
                ),
            )
            .with_help("review a new plan: diff --out; and delete the old file where it was shared (anyone holding it can test guesses of your values against it)"));
        }
        Some(v) => {
            let v = match v {
                serde_json::Value::Number(n) => n.to_string(),
                _ => "not a number".to_string(),
            };
            return Err(Error::new(
                ErrorKind::Refused,
                format!(
                    "`{shown}` is a saved plan of format version {v}; this version reads version {FORMAT_VERSION} only; nothing was changed"
                ),
            )
            .with_help("review a new plan with this version: diff --out"));
        }
        None => return Err(not_a_plan("it has no formatVersion".to_string())),
    }
    if probe.targets.is_none() {
        let plan: SavedPlan =
            serde_json::from_slice(&bytes).map_err(|e| not_a_plan(json_problem(&e)))?;
        plan.check_shape().map_err(not_a_plan)?;
        return Ok(SavedFile::One(plan));
    }
    let several: SavedTargets =
        serde_json::from_slice(&bytes).map_err(|e| not_a_plan(json_problem(&e)))?;
    several.check_shape().map_err(not_a_plan)?;
    Ok(SavedFile::Several(several))
}

/// Where a JSON document broke, without quoting it.
fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io | Category::Eof => "it ends too early",
        Category::Syntax => "it is not JSON",
        Category::Data => "a field is missing, unknown or of the wrong type",
    };
    format!("{what} (line {}, column {})", e.line(), e.column())
}

/// A deletion of a secret the manifest does not name: the object alone
/// put it in the plan.
fn unmentioned(s: &SavedSecret) -> bool {
    matches!(
        s.reason,
        Some(DeleteReason::Pruned | DeleteReason::ReplacedGitSsh)
    ) && s.action == Action::Delete
}

/// What the manifest says of a secret: absent or left out (and why), its
/// kind, and each key it sets with its value's digest.
type Stance<'a> = (
    Option<DeleteReason>,
    Option<&'a str>,
    Vec<(&'a str, Option<&'a str>)>,
);

/// Which of the manifest's keys moved, for people (key names, never values).
fn sources_detail(old: &Stance<'_>, now: &Stance<'_>) -> String {
    if (old.0, old.1) != (now.0, now.1) {
        return "its entry in the manifest changed".to_string();
    }
    let before: BTreeMap<&str, Option<&str>> = old.2.iter().copied().collect();
    let after: BTreeMap<&str, Option<&str>> = now.2.iter().copied().collect();
    let mut keys: Vec<&str> = before
        .iter()
        .filter(|(k, d)| after.get(*k) != Some(*d))
        .map(|(k, _)| *k)
        .chain(after.keys().filter(|k| !before.contains_key(*k)).copied())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let keys: Vec<String> = keys.iter().map(|k| escape::text(k).into_owned()).collect();
    format!("the value of {} changed", keys.join(", "))
}

/// What the manifest says of a secret.
fn stance(s: &SavedSecret) -> Stance<'_> {
    let wanted: Vec<(&str, Option<&str>)> = s
        .keys
        .iter()
        .filter(|k| k.digest.is_some())
        .map(|k| (k.key.as_str(), k.digest.as_deref()))
        .collect();
    // Absent or left out (and why), else its kind.
    let reason = match s.action {
        Action::Delete | Action::Unchanged => s.reason,
        _ => None,
    };
    let kind = if reason.is_some() {
        None
    } else {
        s.kind.as_deref()
    };
    (reason, kind, wanted)
}

/// How one secret moved, if it did.
fn compare_one(old: &SavedSecret, now: &SavedSecret) -> Option<Moved> {
    let (old_desired, now_desired) = (stance(old), stance(now));
    let sources = old_desired != now_desired;
    let cluster = (&old.uid, &old.resource_version) != (&now.uid, &now.resource_version);
    let mut details = Vec::new();
    if sources {
        details.push(sources_detail(&old_desired, &now_desired));
    }
    if cluster {
        details.push(match (&old.resource_version, &now.resource_version) {
            (None, Some(_)) => format!("{} appeared", now.secret_name),
            (Some(_), None) => format!("{} vanished", now.secret_name),
            (Some(a), Some(b)) if old.uid != now.uid => {
                format!(
                    "{} was replaced (resourceVersion {a} -> {b})",
                    now.secret_name
                )
            }
            (Some(a), Some(b)) => format!("{} resourceVersion {a} -> {b}", now.secret_name),
            (None, None) => format!("{} changed", now.secret_name),
        });
    }
    let side = match (sources, cluster) {
        (false, false) if old.action != now.action => Side::Both,
        (false, false) => return None,
        (true, false) => Side::Sources,
        (false, true) => Side::Cluster,
        (true, true) => Side::Both,
    };
    if details.is_empty() {
        details.push("what the plan does with it changed".to_string());
    }
    Some(Moved {
        name: old.name.clone(),
        side,
        detail: details.join(", "),
    })
}

#[cfg(test)]
#[path = "saved_tests.rs"]
mod tests;
