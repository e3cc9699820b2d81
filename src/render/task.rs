//! A Konduktor task file (`task.yaml`): every field of Konduktor's task
//! schema (docs/konduktor-compat.md §7), read as `konduktor launch` reads
//! it, each problem located as the manifest's are. What Konduktor refuses
//! is refused; what its schema allows but its launcher fails on is refused
//! with the reason; nothing a task holds as a value (env values, scripts,
//! label values) is shown.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::input::located::{Fields, Place, Reader, Text, key_is_showable, quote};
use crate::input::yaml::{Content, Node};
use crate::input::yaml11::{self, Resolved};
use crate::kube_names::{is_label_value, qualified_name_problem};

/// Fields Konduktor reads, and those its schema allows but its launcher
/// fails on or needs a bucket for ([`REFUSED_FIELDS`]).
const TASK_FIELDS: &[&str] = &[
    "name",
    "num_nodes",
    "resources",
    "envs",
    "file_mounts",
    "serving",
    "setup",
    "run",
    "workdir",
    "event_callback",
    "inputs",
    "outputs",
    "service",
    "experimental",
];
const RESOURCE_FIELDS: &[&str] = &[
    "image_id",
    "cpus",
    "memory",
    "accelerators",
    "labels",
    "job_config",
    "disk_size",
    "any_of",
    "ordered",
    "_cluster_config_overrides",
];
const JOB_CONFIG_FIELDS: &[&str] = &["completions", "max_restarts"];
const SERVING_FIELDS: &[&str] = &["min_replicas", "max_replicas", "ports", "probe"];
/// In Konduktor's schema, but its launcher stops on them (an assertion or
/// an exception): refused with that reason.
const CRASHING_FIELDS: &[&str] = &[
    "event_callback",
    "inputs",
    "outputs",
    "service",
    "experimental",
    "any_of",
    "ordered",
    "_cluster_config_overrides",
];

/// Job counts (`completions`, `parallelism`) are int32 in the Job API.
pub const MAX_NUM_NODES: u32 = i32::MAX as u32;
/// GPUs per node, and CPU cores: far beyond any machine, within a quantity.
pub const MAX_COUNT: f64 = 1_000_000.0;
/// Memory in GiB: 1 PiB.
pub const MAX_MEMORY_GIB: u64 = 1_048_576;
/// The run id Konduktor appends to the name (`<name>-<4 chars>`).
pub const RUN_ID_LEN: usize = 4;
/// Konduktor's default serving port.
pub const DEFAULT_PORT: u16 = 8000;
/// A run that makes a vLLM OpenAI server (Konduktor's test for one).
pub const VLLM_MARKER: &str = "vllm.entrypoints.openai.api_server";

/// The accelerators Konduktor knows (`utils/accelerator_registry.py`);
/// anything else it refuses. AMD ones are scheduled as `amd.com/gpu`.
pub const NVIDIA_ACCELERATORS: &[&str] = &[
    "A100",
    "A100-80GB",
    "B200",
    "B300",
    "GB200",
    "GB300",
    "H100",
    "H100-MEGA-80GB",
    "H200",
    "L40S",
    "T4",
    "L40",
    "RTX-PRO-6000",
];
pub const AMD_ACCELERATORS: &[&str] = &["MI300X", "MI355X"];

/// `H100:1` -> type `H100`, count 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accelerators {
    pub kind: String,
    pub count: u32,
}

impl Accelerators {
    /// The device plugin resource the GPUs are asked for as.
    pub fn resource_key(&self) -> &'static str {
        if AMD_ACCELERATORS.contains(&self.kind.as_str()) {
            "amd.com/gpu"
        } else {
            "nvidia.com/gpu"
        }
    }
}

/// A cloud bucket `file_mounts` entry: Konduktor mounts the store's
/// credentials and copies `source` to `destination` before the task runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMount {
    pub destination: String,
    pub source: String,
    pub store: Store,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Store {
    S3,
    Gcs,
}

impl Store {
    /// The URL scheme, which names its volume (`s3-secret`).
    pub fn scheme(self) -> &'static str {
        match self {
            Store::S3 => "s3",
            Store::Gcs => "gs",
        }
    }

    /// Konduktor's credentials secret for this store, per
    /// `<login>-<hostname hash>` (`konduktor check s3|gs` writes it).
    pub fn secret_name(self, user_id: &str) -> String {
        match self {
            Store::S3 => format!("awscredentials-{user_id}"),
            Store::Gcs => format!("gcpcredentials-{user_id}"),
        }
    }
}

/// `serving:` as Konduktor completes it (`serving.py`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serving {
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub port: u16,
    pub probe: Option<String>,
}

/// `resources:`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resources {
    pub image: String,
    /// CPU cores, as a Kubernetes quantity (`4`, `0.5`).
    pub cpus: String,
    /// Whole GiB (Konduktor's launcher fails on a fraction).
    pub memory_gib: u64,
    pub accelerators: Option<Accelerators>,
    pub labels: BTreeMap<String, String>,
    pub completions: Option<u32>,
    pub max_restarts: Option<u32>,
}

#[derive(Clone, PartialEq)]
pub struct Task {
    pub path: PathBuf,
    pub name: String,
    pub num_nodes: u32,
    pub resources: Resources,
    /// In file order, `--env` values replacing in place or appended.
    pub envs: Vec<(String, String)>,
    pub file_mounts: Vec<FileMount>,
    pub serving: Option<Serving>,
    pub setup: Option<String>,
    pub run: String,
    /// Fields read that change nothing in the objects, said at `-v`.
    pub notes: Vec<String>,
}

// Env values and scripts may hold tokens: Debug shows their names only.
impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let envs: Vec<&str> = self.envs.iter().map(|(k, _)| k.as_str()).collect();
        let labels: Vec<&String> = self.resources.labels.keys().collect();
        f.debug_struct("Task")
            .field("path", &self.path)
            .field("name", &self.name)
            .field("num_nodes", &self.num_nodes)
            .field("image", &self.resources.image)
            .field("cpus", &self.resources.cpus)
            .field("memory_gib", &self.resources.memory_gib)
            .field("accelerators", &self.resources.accelerators)
            .field("label_keys", &labels)
            .field("env_names", &envs)
            .field("file_mounts", &self.file_mounts)
            .field("serving", &self.serving)
            .field("setup", &self.setup.as_ref().map(|_| "<redacted>"))
            .field("run", &"<redacted>")
            .finish()
    }
}

impl Task {
    /// `--gpus`-style `TYPE:COUNT`, if any.
    pub fn accelerators(&self) -> Option<&Accelerators> {
        self.resources.accelerators.as_ref()
    }

    /// A vLLM OpenAI server (Konduktor's Aibrix shape when serving).
    pub fn is_vllm(&self) -> bool {
        self.run.contains(VLLM_MARKER)
    }
}

/// `konduktor launch`'s flags, checked: each replaces the task's field
/// (`--env` adds to or replaces one variable).
#[derive(Clone, Default)]
pub struct Overrides {
    pub name: Option<String>,
    pub num_nodes: Option<u32>,
    pub cpus: Option<String>,
    pub memory_gib: Option<u64>,
    /// `Some(None)`: `--gpus none`, no accelerators.
    pub gpus: Option<Option<Accelerators>>,
    pub image_id: Option<String>,
    pub envs: Vec<(String, String)>,
    pub max_restarts: Option<u32>,
    pub completions: Option<u32>,
    pub serving: ServingOverrides,
}

/// `konduktor serve launch`'s flags: each replaces one field of the task's
/// `serving` as Konduktor completed it (`Task.set_serving_override`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServingOverrides {
    pub min_replicas: Option<u32>,
    pub max_replicas: Option<u32>,
    pub port: Option<u16>,
    pub probe: Option<String>,
}

impl std::fmt::Debug for Overrides {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let envs: Vec<&str> = self.envs.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Overrides")
            .field("name", &self.name)
            .field("num_nodes", &self.num_nodes)
            .field("cpus", &self.cpus)
            .field("memory_gib", &self.memory_gib)
            .field("gpus", &self.gpus)
            .field("image_id", &self.image_id)
            .field("env_names", &envs)
            .field("max_restarts", &self.max_restarts)
            .field("completions", &self.completions)
            .field("serving", &self.serving)
            .finish()
    }
}

/// Read and parse a task file (`-` is standard input), capped at
/// [`crate::input::file::MAX_MANIFEST_BYTES`].
///
/// # Errors
///
/// The file cannot be read, or has problems (every one, located).
pub fn read(path: &Path, overrides: &Overrides) -> Result<Task, Error> {
    let text = crate::input::located::read_yaml_file(path, "task")?;
    parse_with(path, &text, overrides)
}

/// Parse a task file's `text` (as read from `path`), without flags.
///
/// # Errors
///
/// Every problem of the file, located, values masked.
pub fn parse(path: &Path, text: &str) -> Result<Task, Error> {
    parse_with(path, text, &Overrides::default())
}

/// Parse a task file's `text` with `konduktor launch`'s flags applied.
///
/// # Errors
///
/// Every problem of the file, located, values masked.
pub fn parse_with(path: &Path, text: &str, overrides: &Overrides) -> Result<Task, Error> {
    let all: Vec<&str> = TASK_FIELDS
        .iter()
        .chain(RESOURCE_FIELDS)
        .chain(JOB_CONFIG_FIELDS)
        .chain(SERVING_FIELDS)
        .copied()
        .collect();
    let mut r = crate::input::located::read_document(path, text, &all)?;
    let task = read_task(&mut r, path, overrides);
    let masked = r.parsed.masked(text);
    r.problems.finish(&masked)?;
    task.ok_or_else(|| Error::input("unreadable task"))
}

// ---------------------------------------------------------------- values

/// `4`, `4.5`, `"0.5"`: CPU cores from 0.001 (a quantity's finest step) to
/// [`MAX_COUNT`], as a quantity. Konduktor's launcher fails on `4+` and
/// `500m`: so does this, saying why.
///
/// # Errors
///
/// Why the text is no CPU count, for a message.
pub fn cpus_of(text: &str) -> Result<String, String> {
    let t = text.trim();
    if t.ends_with('+') {
        return Err("Konduktor's launcher fails on `N+` (it needs a plain number)".into());
    }
    if t.ends_with('m') {
        return Err("Konduktor reads cores as a plain number, not a Kubernetes quantity like `500m` (write `0.5`)".into());
    }
    let n: f64 = t
        .replace('_', "")
        .parse()
        .map_err(|_| "not a number".to_string())?;
    if !(n.is_finite() && (0.001..=MAX_COUNT).contains(&n)) {
        return Err(format!("not from 0.001 to {MAX_COUNT}"));
    }
    Ok(quantity(n))
}

/// `16`, `"16"`: whole GiB from 1 to [`MAX_MEMORY_GIB`]. Konduktor's
/// launcher fails on fractions and `16+`, and reads `16Gi` as no number.
///
/// # Errors
///
/// Why the text is no memory size, for a message.
pub fn memory_of(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if t.ends_with("Gi") || t.ends_with('G') || t.ends_with("Mi") || t.ends_with('M') {
        return Err(
            "Konduktor reads memory as a plain number of GiB, not a Kubernetes quantity (write `16` for 16Gi)"
                .into(),
        );
    }
    if t.ends_with('+') || t.ends_with('x') {
        return Err("Konduktor's launcher fails on `N+` (it needs a plain number)".into());
    }
    if t.contains('.') && t.parse::<f64>().is_ok() {
        return Err("Konduktor's launcher fails on a fraction of a GiB: give whole GiB".into());
    }
    let n: u64 = t
        .strip_prefix('+')
        .unwrap_or(t)
        .parse()
        .map_err(|_| "not a whole number of GiB".to_string())?;
    if !(1..=MAX_MEMORY_GIB).contains(&n) {
        return Err(format!("not from 1 to {MAX_MEMORY_GIB} GiB"));
    }
    Ok(n)
}

/// A Kubernetes quantity for a number in range: whole, or to three decimals.
fn quantity(n: f64) -> String {
    let text = format!("{n:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// An accelerator type Konduktor knows, in its canonical case.
fn canonical_accelerator(kind: &str) -> Option<&'static str> {
    NVIDIA_ACCELERATORS
        .iter()
        .chain(AMD_ACCELERATORS)
        .find(|k| k.eq_ignore_ascii_case(kind.trim()))
        .copied()
}

fn known_accelerators() -> String {
    NVIDIA_ACCELERATORS
        .iter()
        .chain(AMD_ACCELERATORS)
        .copied()
        .collect::<Vec<_>>()
        .join(", ")
}

/// A GPU count: whole, from 0 (Konduktor takes it: the type's labels,
/// no GPU requested) to [`MAX_COUNT`].
fn gpu_count(n: f64) -> Result<u32, String> {
    if n.fract() != 0.0 || !(0.0..=MAX_COUNT).contains(&n) {
        return Err(format!(
            "the count should be a whole number from 0 to {MAX_COUNT}"
        ));
    }
    // In range: exact.
    u32::try_from(n as u64).map_err(|_| "the count is too large".to_string())
}

/// The canonical type, or why not. The message never repeats `kind`: it
/// may be a pasted value (the caller quotes it when it may be shown).
fn accelerator_kind(kind: &str) -> Result<String, String> {
    canonical_accelerator(kind)
        .map(str::to_string)
        .ok_or_else(|| {
            format!(
                "Konduktor does not know this accelerator type; it knows {}",
                known_accelerators()
            )
        })
}

/// `H100:8`, or `H100` for one (`--gpus`, or `accelerators` as text).
///
/// # Errors
///
/// Why the text names no accelerators Konduktor takes.
pub fn accelerators_of(text: &str) -> Result<Accelerators, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let (kind, count) = match parts.as_slice() {
        [kind] => (*kind, 1),
        [kind, count] => {
            let n: f64 = count
                .trim()
                .parse()
                .map_err(|_| "should be TYPE or TYPE:COUNT".to_string())?;
            (*kind, gpu_count(n)?)
        }
        _ => return Err("should be TYPE or TYPE:COUNT".into()),
    };
    Ok(Accelerators {
        kind: accelerator_kind(kind)?,
        count,
    })
}

/// A run id: the 4 characters Konduktor appends to the name (it takes them
/// from a random UUID: lowercase hex).
///
/// # Errors
///
/// Why the text is no run id.
pub fn run_id_of(text: &str) -> Result<String, String> {
    if text.len() == RUN_ID_LEN
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
    {
        Ok(text.to_string())
    } else {
        Err(format!(
            "a run id is {RUN_ID_LEN} lowercase letters or digits (Konduktor uses hex, e.g. 3f9a)"
        ))
    }
}

/// The whole name a workload gets: `<name>-<run id>`, Konduktor's form.
pub fn workload_name(name: &str, run_id: &str) -> String {
    format!("{name}-{run_id}")
}

/// The longest name a task may have for `nodes` nodes: the workers' pod
/// hostnames `<name>-<run id>-workers-0-<index>` must be DNS labels.
pub fn max_name_len(nodes: u32) -> usize {
    let index_digits = nodes.saturating_sub(1).to_string().len();
    63usize.saturating_sub(1 + RUN_ID_LEN + "-workers-0-".len() + index_digits)
}

// ---------------------------------------------------------------- reading

/// A scalar node's value and what PyYAML makes of it (quoted: text).
fn typed(node: &Node) -> Option<(&str, Resolved)> {
    let text = node.as_scalar()?;
    let resolved = if node.quoted {
        Resolved::Str
    } else {
        yaml11::resolve(text)
    };
    Some((text, resolved))
}

/// A field that must hold text (Konduktor's schema: `type: string`).
fn text_field(r: &mut Reader<'_>, node: &Node, field: &str, reveal: bool) -> Option<Text> {
    let at = r.place(node);
    match typed(node) {
        Some((_, Resolved::Str)) => {
            if reveal {
                r.scalar(node, field)
            } else {
                node.as_scalar().map(|s| Text {
                    value: s.to_string(),
                    place: at,
                    hidden: true,
                })
            }
        }
        Some((_, other)) => {
            r.add(
                at,
                format!(
                    "`{field}` should be text, not {} (Konduktor's schema refuses it)",
                    other.type_name()
                ),
                format!("write it in quotes: `{field}: \"...\"`"),
            );
            None
        }
        None if node.is_null() => {
            r.add(
                at,
                format!("`{field}` has no value"),
                format!("write a value after `{field}:`"),
            );
            None
        }
        None => {
            r.add(
                at,
                format!("`{field}` should be text, not {}", node.shape()),
                format!("write `{field}: <text>`"),
            );
            None
        }
    }
}

/// A field that must be a whole number (`type: integer`), within `range`.
fn integer_field(
    r: &mut Reader<'_>,
    node: &Node,
    field: &str,
    range: std::ops::RangeInclusive<i128>,
    example: &str,
) -> Option<i128> {
    let at = r.place(node);
    let shown = r.scalar(node, field)?;
    let value = match typed(node) {
        Some((_, Resolved::Int(Some(v)))) if range.contains(&v) => return Some(v),
        Some((_, Resolved::Int(_))) => format!(
            "{field} {} is not from {} to {}",
            shown.quoted(),
            range.start(),
            range.end()
        ),
        Some((_, other)) => format!(
            "{field} {} should be a whole number, not {} (Konduktor's schema refuses it)",
            shown.quoted(),
            other.type_name()
        ),
        None => return None,
    };
    r.add(at, value, format!("e.g. `{example}`"));
    None
}

fn read_task(r: &mut Reader<'_>, path: &Path, overrides: &Overrides) -> Option<Task> {
    let Some(root) = r.parsed.root.clone() else {
        r.add(
            Place::START,
            "the task file is empty",
            "give at least `name:`, `resources: {image_id: ..., cpus: ..., memory: ...}` and `run:`",
        );
        return None;
    };
    let fields = r.fields(&root, "the task", TASK_FIELDS)?;
    refuse_fields(r, &fields, TASK_FIELDS);
    let name = read_name(r, &fields, overrides);
    let num_nodes = overrides
        .num_nodes
        .unwrap_or_else(|| read_num_nodes(r, &fields));
    check_name_length(r, &fields, &name, num_nodes);
    let mut notes = Vec::new();
    let resources = read_resources(r, &fields, overrides, &mut notes);
    let envs = read_all_envs(r, &fields, overrides);
    let file_mounts = fields
        .get("file_mounts")
        .map(|(n, _)| read_file_mounts(r, n))
        .unwrap_or_default();
    let setup = read_script(r, &fields, "setup");
    let run = read_run(r, &fields);
    let serving = fields
        .get("serving")
        .and_then(|(n, at)| read_serving(r, n, at, num_nodes, &run, &overrides.serving));
    Some(Task {
        path: path.to_path_buf(),
        name,
        num_nodes,
        resources,
        envs,
        file_mounts,
        serving,
        setup,
        run: run.map(|(s, _)| s).unwrap_or_default(),
        notes,
    })
}

/// Fields of Konduktor's schema that `render-job` cannot render, each with
/// the reason (docs/konduktor-compat.md §7.2).
fn refuse_fields(r: &mut Reader<'_>, fields: &Fields, known: &[&str]) {
    for field in known {
        let Some((_, at)) = fields.get(field) else {
            continue;
        };
        if *field == "workdir" {
            r.add(
                at,
                "`workdir` is uploaded by `konduktor launch` to a bucket (`jobs.bucket`) before the job starts; render-job uploads nothing",
                "build the files into the image, or upload them yourself and name the bucket under `file_mounts` (`/dst: s3://bucket/path`)",
            );
        } else if CRASHING_FIELDS.contains(field) {
            r.add(
                at,
                format!("`{field}` is in Konduktor's task schema, but its launcher fails on it"),
                format!("remove `{field}`: `konduktor launch` cannot launch a task that has it"),
            );
        }
    }
}

/// `name`: required, a DNS-1123 label (it names the workload), unless
/// `--name` gives one.
fn read_name(r: &mut Reader<'_>, fields: &Fields, overrides: &Overrides) -> String {
    let from_file = fields
        .get("name")
        .and_then(|(n, _)| text_field(r, n, "name", true));
    if let Some(name) = &overrides.name {
        return name.clone();
    }
    match from_file {
        None if !fields.has("name") => {
            r.add(
                Place::START,
                "the task has no `name` (Konduktor requires one)",
                "add `name: my-job` (it names the JobSet), or give `--name`",
            );
            String::new()
        }
        None => String::new(),
        Some(n) if n.hidden || !crate::kube_names::is_dns1123_label(&n.value) => {
            r.add(
                n.place,
                format!("task name {} cannot name a Kubernetes object", n.quoted()),
                "use lowercase letters, digits and `-`, starting and ending with a letter or digit",
            );
            String::new()
        }
        Some(n) => n.value,
    }
}

/// The name and run id make the pods' hostnames: they must stay DNS labels.
fn check_name_length(r: &mut Reader<'_>, fields: &Fields, name: &str, nodes: u32) {
    let max = max_name_len(nodes);
    if name.len() <= max {
        return;
    }
    let at = fields.get("name").map_or(Place::START, |(_, at)| at);
    r.add(
        at,
        format!(
            "task name {} is {} characters; with {nodes} node(s) it may have at most {max}",
            quote(name),
            name.len()
        ),
        "the pods are named `<name>-<run id>-workers-0-<index>`, which must fit in 63 characters: shorten the name",
    );
}

/// `num_nodes`: 1 when absent, else a whole number from 1 to
/// [`MAX_NUM_NODES`].
fn read_num_nodes(r: &mut Reader<'_>, fields: &Fields) -> u32 {
    let Some((node, _)) = fields.get("num_nodes") else {
        return 1;
    };
    integer_field(
        r,
        node,
        "num_nodes",
        1..=i128::from(MAX_NUM_NODES),
        "num_nodes: 2",
    )
    .and_then(|v| u32::try_from(v).ok())
    .unwrap_or(1)
}

/// `resources`: required, with `image_id`, `cpus` and `memory` (Konduktor's
/// launcher stops on a task without either: so does render-job), unless a
/// flag gives them.
fn read_resources(
    r: &mut Reader<'_>,
    fields: &Fields,
    overrides: &Overrides,
    notes: &mut Vec<String>,
) -> Resources {
    let res = match fields.get("resources") {
        Some((node, at)) => r
            .fields(node, "`resources`", RESOURCE_FIELDS)
            .map(|f| (f, at)),
        None => None,
    };
    let (res, at) = match res {
        Some((f, at)) => {
            refuse_fields(r, &f, RESOURCE_FIELDS);
            (Some(f), at)
        }
        None => (None, Place::START),
    };
    let get = |field: &str| res.as_ref().and_then(|f| f.get(field));
    let image = read_image(r, get("image_id"));
    let cpus = read_cpus(r, get("cpus"));
    let memory_gib = read_memory(r, get("memory"));
    let accelerators = get("accelerators").and_then(|(n, _)| read_accelerators(r, n));
    if let Some((n, _)) = get("accelerators")
        && let Content::Map(pairs) = &*n.content
        && pairs.len() > 1
    {
        notes.push(format!(
            "resources.accelerators names {} types: Konduktor uses the first only",
            pairs.len()
        ));
    }
    let labels = get("labels")
        .map(|(n, _)| read_labels(r, n))
        .unwrap_or_default();
    let (completions, max_restarts) = get("job_config")
        .map(|(n, _)| read_job_config(r, n))
        .unwrap_or_default();
    if let Some((n, _)) = get("disk_size")
        && let Some(size) = integer_field(
            r,
            n,
            "disk_size",
            0..=i128::from(u32::MAX),
            "disk_size: 256",
        )
    {
        notes.push(format!(
            "resources.disk_size {size} changes nothing: Konduktor ignores it (the node's disk is what the pod gets)"
        ));
    }
    let resources = Resources {
        image: overrides.image_id.clone().or(image).unwrap_or_default(),
        cpus: overrides.cpus.clone().or(cpus).unwrap_or_default(),
        memory_gib: overrides.memory_gib.or(memory_gib).unwrap_or_default(),
        accelerators: overrides.gpus.clone().unwrap_or(accelerators),
        labels,
        completions: overrides.completions.or(completions),
        max_restarts: overrides.max_restarts.or(max_restarts),
    };
    require(r, fields, &res, at, &resources);
    resources
}

/// Konduktor's launcher asserts `image_id`, `cpus` and `memory`: say
/// which is missing (from the file and the flags), at `resources`.
fn require(r: &mut Reader<'_>, fields: &Fields, res: &Option<Fields>, at: Place, got: &Resources) {
    let has = |field: &str| res.as_ref().is_some_and(|f| f.has(field));
    if !fields.has("resources") && !fields.misspelled("resources") {
        r.add(
            Place::START,
            "the task has no `resources`",
            "add `resources: {image_id: ubuntu:22.04, cpus: 4, memory: 16}` at least",
        );
        return;
    }
    for (field, missing, example) in [
        (
            "image_id",
            got.image.is_empty(),
            "`image_id: <image>` (or give `--image-id`)",
        ),
        (
            "cpus",
            got.cpus.is_empty(),
            "`cpus: 4` (CPU cores; or give `--cpus`)",
        ),
        (
            "memory",
            got.memory_gib == 0,
            "`memory: 16` (GiB; or give `--memory`)",
        ),
    ] {
        if missing && !has(field) && !res.as_ref().is_some_and(|f| f.misspelled(field)) {
            r.add(
                at,
                format!("`resources.{field}` is missing"),
                format!("Konduktor's launcher requires it: add {example} under `resources`"),
            );
        }
    }
}

/// `resources.image_id` (`docker:` prefix dropped).
fn read_image(r: &mut Reader<'_>, node: Option<(&Node, Place)>) -> Option<String> {
    let (node, _) = node?;
    if let Content::Map(_) = &*node.content {
        let at = r.place(node);
        r.add(
            at,
            "`image_id` as a mapping is in Konduktor's schema, but its launcher cannot use it",
            "name one container image: `image_id: nvcr.io/nvidia/pytorch:24.05-py3`",
        );
        return None;
    }
    if node.is_null() {
        let at = r.place(node);
        r.add(
            at,
            "`image_id` is empty: Konduktor requires an image",
            "name a container image, e.g. `image_id: ubuntu:22.04`",
        );
        return None;
    }
    let i = text_field(r, node, "image_id", true)?;
    let image = i.value.trim().trim_start_matches("docker:").to_string();
    if is_image_reference(&image) {
        return Some(image);
    }
    if i.value.trim().is_empty() {
        r.add(
            i.place,
            "`image_id` is empty",
            "name a container image, e.g. `ubuntu:22.04`",
        );
    } else {
        r.add(
            i.place,
            format!("image_id {} is not an image reference", i.quoted()),
            "name a container image without spaces or control characters, e.g. `ubuntu:22.04`",
        );
    }
    None
}

/// A number field (`cpus`, `memory`): Konduktor's schema takes a number or
/// text, and makes text of it. `None` for a boolean, date or collection.
fn number_text(r: &mut Reader<'_>, node: &Node, field: &str) -> Option<Text> {
    let shown = r.scalar(node, field)?;
    match typed(node) {
        Some((_, Resolved::Int(Some(v)))) => Some(Text {
            value: v.to_string(),
            ..shown
        }),
        Some((_, Resolved::Float(f))) => Some(Text {
            value: yaml11::python_float(f),
            ..shown
        }),
        Some((_, Resolved::Str)) => Some(shown),
        Some((_, other)) => {
            r.add(
                shown.place,
                format!(
                    "{field} {} should be a number, not {} (Konduktor's schema refuses it)",
                    shown.quoted(),
                    other.type_name()
                ),
                format!("e.g. `{field}: 4`"),
            );
            None
        }
        None => None,
    }
}

/// `resources.cpus` as a quantity.
fn read_cpus(r: &mut Reader<'_>, node: Option<(&Node, Place)>) -> Option<String> {
    let (node, _) = node?;
    let c = number_text(r, node, "cpus")?;
    match cpus_of(&c.value) {
        Ok(q) => Some(q),
        Err(why) => {
            r.add(
                c.place,
                format!("cpus {}: {why}", c.quoted()),
                "e.g. `cpus: 4` or `cpus: 0.5`",
            );
            None
        }
    }
}

/// `resources.memory` in whole GiB.
fn read_memory(r: &mut Reader<'_>, node: Option<(&Node, Place)>) -> Option<u64> {
    let (node, _) = node?;
    let m = number_text(r, node, "memory")?;
    match memory_of(&m.value) {
        Ok(n) => Some(n),
        Err(why) => {
            r.add(
                m.place,
                format!("memory {}: {why}", m.quoted()),
                "e.g. `memory: 16` (GiB)",
            );
            None
        }
    }
}

/// `resources.accelerators`: `H100:8`, `H100`, or `{H100: 8}`.
fn read_accelerators(r: &mut Reader<'_>, node: &Node) -> Option<Accelerators> {
    let at = r.place(node);
    let help = "e.g. `accelerators: H100:8` or `accelerators: {H100: 8}`";
    match &*node.content {
        Content::Scalar(_) => {
            let a = text_field(r, node, "accelerators", true)?;
            accelerators_of(&a.value)
                .map_err(|why| r.add(a.place, format!("accelerators {}: {why}", a.quoted()), help))
                .ok()
        }
        Content::Map(pairs) => {
            // Konduktor takes the first type of several, and ignores the rest.
            let Some((key, value)) = pairs.first() else {
                r.add(
                    at,
                    "`accelerators` names no accelerator type",
                    "write `accelerators: {H100: 8}`",
                );
                return None;
            };
            let key_at = r.place(key);
            let kind = key.as_scalar().unwrap_or_default();
            let shown = key.is_plain() && key_is_showable(kind, value) && kind.len() <= 64;
            if shown {
                r.parsed.reveal(key);
            }
            let label = if shown {
                quote(kind)
            } else {
                "(not shown)".to_string()
            };
            let kind = accelerator_kind(kind)
                .map_err(|why| r.add(key_at, format!("accelerator type {label}: {why}"), help))
                .ok()?;
            let count = match typed(value) {
                Some((_, Resolved::Int(Some(v)))) => gpu_count(v as f64),
                Some((_, Resolved::Float(f))) => gpu_count(f),
                _ => Err(format!(
                    "the count of {kind} should be a number (Konduktor's launcher needs one)"
                )),
            };
            let value_at = r.place(value);
            r.parsed.reveal(value);
            count
                .map(|count| Accelerators { kind, count })
                .map_err(|why| r.add(value_at, why, help))
                .ok()
        }
        Content::Seq(_) => {
            r.add(
                at,
                "`accelerators` as a list is in Konduktor's schema, but its launcher fails on it",
                "name one accelerator type: `accelerators: H100:8`",
            );
            None
        }
        Content::Null => None,
    }
}

/// `resources.labels`: label keys and text values (Konduktor's schema
/// refuses `43200` unquoted: a number). They go on the JobSet.
fn read_labels(r: &mut Reader<'_>, node: &Node) -> BTreeMap<String, String> {
    let at = r.place(node);
    let Content::Map(pairs) = &*node.content else {
        r.add(
            at,
            format!(
                "`labels` should be a mapping of key: value, not {}",
                node.shape()
            ),
            "e.g. `labels: {kueue.x-k8s.io/queue-name: user-queue}`",
        );
        return BTreeMap::new();
    };
    let mut out = BTreeMap::new();
    for (key, value) in pairs {
        let key_at = r.place(key);
        let Some(k) = key.as_scalar() else {
            r.add(
                key_at,
                "a label key should be text",
                "write `key: \"value\"`",
            );
            continue;
        };
        let shown = key.is_plain() && key_is_showable(k, value);
        if shown {
            r.parsed.reveal(key);
        }
        let label = if shown {
            format!("label {}", quote(k))
        } else {
            "a label (key not shown)".to_string()
        };
        if let Some(why) = qualified_name_problem(k) {
            r.add(
                key_at,
                format!("{label} is not a Kubernetes label key: {why}"),
                "use `prefix/name` or `name` with letters, digits, `-`, `_` and `.`",
            );
            continue;
        }
        let v = match typed(value) {
            Some((v, Resolved::Str)) => v.to_string(),
            Some((_, other)) => {
                let value_at = r.place(value);
                r.add(
                    value_at,
                    format!(
                        "the value of {label} should be text, not {} (Konduktor's schema refuses it)",
                        other.type_name()
                    ),
                    "write it in quotes, e.g. `maxRunDurationSeconds: \"43200\"`",
                );
                continue;
            }
            None => {
                let value_at = r.place(value);
                r.add(
                    value_at,
                    format!("the value of {label} should be text, not {}", value.shape()),
                    "write `key: \"value\"`",
                );
                continue;
            }
        };
        if !is_label_value(&v) {
            let value_at = r.place(value);
            r.add(
                value_at,
                format!("the value of {label} is not a Kubernetes label value"),
                "at most 63 letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit",
            );
            continue;
        }
        out.insert(k.to_string(), v);
    }
    out
}

/// `resources.job_config`: `completions` (from 1) and `max_restarts`
/// (from 0), as Konduktor checks them.
fn read_job_config(r: &mut Reader<'_>, node: &Node) -> (Option<u32>, Option<u32>) {
    let Some(f) = r.fields(node, "`job_config`", JOB_CONFIG_FIELDS) else {
        return (None, None);
    };
    let max = i128::from(MAX_NUM_NODES);
    let completions = f
        .get("completions")
        .and_then(|(n, _)| integer_field(r, n, "completions", 1..=max, "completions: 4"))
        .and_then(|v| u32::try_from(v).ok());
    let restarts = f
        .get("max_restarts")
        .and_then(|(n, _)| integer_field(r, n, "max_restarts", 0..=max, "max_restarts: 3"))
        .and_then(|v| u32::try_from(v).ok());
    (completions, restarts)
}

/// `setup`: text, or nothing. Scripts often hold tokens: never revealed.
fn read_script(r: &mut Reader<'_>, fields: &Fields, field: &str) -> Option<String> {
    let (node, _) = fields.get(field)?;
    match &*node.content {
        Content::Scalar(_) => text_field(r, node, field, false).map(|t| t.value),
        Content::Null => None,
        _ => {
            let at = r.place(node);
            r.add(
                at,
                format!("`{field}` should be a script (text), not {}", node.shape()),
                format!("write `{field}: |` and the commands on the lines below"),
            );
            None
        }
    }
}

/// `run`: required (Konduktor: "run commands are empty").
fn read_run(r: &mut Reader<'_>, fields: &Fields) -> Option<(String, Place)> {
    let at = fields.get("run").map(|(_, at)| at);
    match (read_script(r, fields, "run"), at) {
        (Some(run), Some(at)) => Some((run, at)),
        (None, Some(at)) if fields.get("run").is_some_and(|(n, _)| n.is_null()) => {
            r.add(
                at,
                "`run` is empty: Konduktor refuses a task without commands",
                "write `run: |` and the commands on the lines below",
            );
            None
        }
        (_, Some(_)) => None,
        (_, None) => {
            if !fields.misspelled("run") {
                r.add(
                    Place::START,
                    "the task has no `run` (Konduktor refuses a task without commands)",
                    "add `run: |` and the commands on the lines below",
                );
            }
            None
        }
    }
}

/// `envs` from the file, then `--env` (which replaces a variable in place,
/// or adds it): every variable needs a value by then.
fn read_all_envs(
    r: &mut Reader<'_>,
    fields: &Fields,
    overrides: &Overrides,
) -> Vec<(String, String)> {
    let from_file = fields
        .get("envs")
        .map(|(n, _)| read_envs(r, n))
        .unwrap_or_default();
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, value, at, label) in from_file {
        let given = overrides.envs.iter().rev().find(|(k, _)| *k == name);
        match (given, value) {
            (Some((_, v)), _) => out.push((name, v.clone())),
            (None, Some(v)) => out.push((name, v)),
            (None, None) => r.add(
                at,
                format!("{label} has no value (Konduktor needs one)"),
                "give it with `--env NAME=...` (or `--env NAME` for the local value), or write `NAME: \"\"` for an empty value",
            ),
        }
    }
    for (name, value) in &overrides.envs {
        if let Some(slot) = out.iter_mut().find(|(k, _)| k == name) {
            slot.1 = value.clone();
        } else {
            out.push((name.clone(), value.clone()));
        }
    }
    out
}

/// `envs:` in file order, each value as Python's `str()` makes it (`yes`
/// becomes `True`), `None` for a null. Values are never revealed; a name
/// is shown only when it could not be a pasted value.
fn read_envs(r: &mut Reader<'_>, node: &Node) -> Vec<(String, Option<String>, Place, String)> {
    let Content::Map(pairs) = &*node.content else {
        if node.is_null() {
            return Vec::new();
        }
        let at = r.place(node);
        r.add(
            at,
            format!(
                "`envs` should be a mapping of NAME: value, not {}",
                node.shape()
            ),
            "write each variable on its own line under `envs:`, as `NAME: value`",
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut seen: std::collections::HashMap<String, Place> = std::collections::HashMap::new();
    for (key, value) in pairs {
        let at = r.place(key);
        let name = key.as_scalar().unwrap_or_default();
        let shown = env_name_shown(r, node, key, value);
        let label = env_label(name, shown);
        let name_ok = check_env_name(r, at, name, shown, &label, value);
        let v = match &*value.content {
            Content::Null => None,
            Content::Scalar(s) if value.quoted => Some(s.clone()),
            Content::Scalar(s) => Some(yaml11::python_str(s).unwrap_or_default()),
            _ => {
                // Reported as the manifest's pair values are.
                r.pair_value(at, &label, value, "NAME");
                continue;
            }
        };
        if !name_ok {
            if v.is_none() && !shown {
                r.add(
                    at,
                    format!("{label} has no value"),
                    "write each variable as `NAME: value`; names use letters, digits and `_`",
                );
            }
            continue;
        }
        if let Some(first) = seen.get(name) {
            r.add(
                at,
                format!("{label} is given twice (first at line {})", first.line),
                "keep one of them",
            );
            continue;
        }
        seen.insert(name.to_string(), at);
        out.push((name.to_string(), v, at, label));
    }
    out
}

/// Can this env's name be shown (and revealed in snippets)? Only when it
/// could not be a pasted value and is no alias.
fn env_name_shown(r: &mut Reader<'_>, envs: &Node, key: &Node, value: &Node) -> bool {
    let name = key.as_scalar().unwrap_or_default();
    let shown = key.is_plain() && !envs.alias && key_is_showable(name, value);
    if shown {
        r.parsed.reveal(key);
    }
    shown
}

/// How a problem names an env.
fn env_label(name: &str, shown: bool) -> String {
    if shown {
        format!("task env {}", quote(name))
    } else {
        "a name in `envs` (not shown: it may hold a value)".to_string()
    }
}

/// Is `name` an environment variable name? A name not shown is reported
/// only when it has a value (else the missing value is the problem).
fn check_env_name(
    r: &mut Reader<'_>,
    at: Place,
    name: &str,
    shown: bool,
    label: &str,
    value: &Node,
) -> bool {
    let Err(rule) = crate::konduktor::validate_env_name(name) else {
        return true;
    };
    if shown {
        r.add(at, rule.to_string(), rule.help());
    } else if !value.is_null() {
        r.add(
            at,
            format!("{label} is not an environment variable name"),
            "write each variable as `NAME: value`; names use letters, digits and `_`",
        );
    }
    false
}

/// `file_mounts`: bucket URLs only. Local paths Konduktor uploads to a
/// bucket first, and a storage object crashes its launcher: refused.
fn read_file_mounts(r: &mut Reader<'_>, node: &Node) -> Vec<FileMount> {
    let at = r.place(node);
    let Content::Map(pairs) = &*node.content else {
        if !node.is_null() {
            r.add(
                at,
                format!(
                    "`file_mounts` should be a mapping of /destination: source, not {}",
                    node.shape()
                ),
                "e.g. `file_mounts: {/data: s3://my-bucket/data}`",
            );
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, value) in pairs {
        let key_at = r.place(key);
        let Some(dst) = key.as_scalar() else {
            r.add(
                key_at,
                "a `file_mounts` destination should be a path",
                "e.g. `/data: s3://bucket/data`",
            );
            continue;
        };
        // A path, shown when it could not be a pasted value.
        let dst_shown = key.is_plain() && is_showable_path(dst);
        if dst_shown {
            r.parsed.reveal(key);
        }
        let dst_label = if dst_shown {
            quote(dst)
        } else {
            "(not shown)".to_string()
        };
        let value_at = r.place(value);
        let Some(src) = value.as_scalar() else {
            if let Content::Map(_) = &*value.content {
                r.add(
                    value_at,
                    "a storage object in `file_mounts` is in Konduktor's schema, but its launcher fails on it",
                    "name the bucket's URL instead: `/dst: s3://bucket/path`",
                );
            } else {
                r.add(
                    value_at,
                    "a `file_mounts` source should be a bucket URL",
                    "e.g. `s3://bucket/path`",
                );
            }
            continue;
        };
        // Only a bucket URL is shown: anything else may be a pasted value.
        let is_url = src.starts_with("s3://") || src.starts_with("gs://");
        if value.is_plain() && is_url && !src.chars().any(char::is_whitespace) {
            r.parsed.reveal(value);
        }
        if dst.ends_with('/') || src.ends_with('/') {
            r.add(
                key_at,
                "file mount paths cannot end with a slash (Konduktor refuses them)",
                "write `/mydir: s3://bucket/mydir`",
            );
            continue;
        }
        if dst.starts_with("s3://") || dst.starts_with("gs://") {
            r.add(
                key_at,
                "a file mount destination cannot be a bucket (Konduktor refuses it)",
                "the key is the path in the container",
            );
            continue;
        }
        let store = if src.starts_with("s3://") {
            Store::S3
        } else if src.starts_with("gs://") {
            Store::Gcs
        } else {
            r.add(
                value_at,
                format!(
                    "file mount {dst_label} is local: `konduktor launch` uploads it to a bucket (`jobs.bucket`) first; render-job uploads nothing"
                ),
                "upload it yourself (`aws s3 cp`, `gsutil cp`) and name its `s3://` or `gs://` URL here, or build it into the image",
            );
            continue;
        };
        if src
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\'')
            || dst.chars().any(|c| c.is_control() || c == '\'')
        {
            r.add(
                value_at,
                "a file mount path holds a blank, quote or control character",
                "use paths and URLs without them",
            );
            continue;
        }
        out.push(FileMount {
            destination: dst.to_string(),
            source: src.to_string(),
            store,
        });
    }
    out
}

/// `serving:`, completed as Konduktor completes it.
fn read_serving(
    r: &mut Reader<'_>,
    node: &Node,
    at: Place,
    num_nodes: u32,
    run: &Option<(String, Place)>,
    overrides: &ServingOverrides,
) -> Option<Serving> {
    let f = r.fields(node, "`serving`", SERVING_FIELDS)?;
    let max = i128::from(MAX_NUM_NODES);
    let min = f
        .get("min_replicas")
        .map(|(n, _)| integer_field(r, n, "min_replicas", 0..=max, "min_replicas: 1"));
    let max_r = f
        .get("max_replicas")
        .map(|(n, _)| integer_field(r, n, "max_replicas", 1..=max, "max_replicas: 2"));
    let port = match f.get("ports") {
        Some((n, _)) => match typed(n) {
            Some((_, Resolved::Int(Some(v)))) if (1..=65535).contains(&v) => u16::try_from(v).ok(),
            _ => {
                let p = r.place(n);
                r.scalar(n, "ports");
                r.add(
                    p,
                    "`ports` should be a port number from 1 to 65535",
                    "e.g. `ports: 8000`",
                );
                None
            }
        },
        None => Some(DEFAULT_PORT),
    };
    let probe = match f.get("probe") {
        Some((n, _)) => text_field(r, n, "probe", true).map(|t| Some(t.value)),
        None => Some(
            run.as_ref()
                .filter(|(run, _)| run.contains(VLLM_MARKER))
                .map(|_| "/health".to_string()),
        ),
    };
    if min.is_none() && max_r.is_none() {
        r.add(
            at,
            "`serving` needs `min_replicas` or `max_replicas` (Konduktor requires one)",
            "e.g. `serving: {min_replicas: 1, max_replicas: 2}`",
        );
        return None;
    }
    if num_nodes != 1 {
        r.add(
            at,
            format!("a serving task runs on one node (Konduktor refuses num_nodes {num_nodes} with `serving`)"),
            "remove `num_nodes`, or `serving` for a training job",
        );
    }
    check_vllm_flags(r, run);
    let (min, max_r) = (min.flatten(), max_r.flatten());
    let (min, max_r) = match (min, max_r) {
        (Some(a), Some(b)) => (a, b),
        (Some(a), None) => (a, if a == 0 { 1 } else { a }),
        (None, Some(b)) => (b, b),
        (None, None) => return None,
    };
    // The flags replace the completed values, and are checked with them.
    let min = overrides.min_replicas.map_or(min, i128::from);
    let max_r = overrides.max_replicas.map_or(max_r, i128::from);
    let port = overrides.port.or(port);
    let probe = match &overrides.probe {
        Some(p) => Some(Some(p.clone())),
        None => probe,
    };
    if max_r < min {
        r.add(
            at,
            format!("max_replicas ({max_r}) is less than min_replicas ({min})"),
            "raise `max_replicas` or lower `min_replicas` (in the task, or --max-replicas / --min-replicas)",
        );
        return None;
    }
    Some(Serving {
        min_replicas: u32::try_from(min).ok()?,
        max_replicas: u32::try_from(max_r).ok()?,
        port: port?,
        probe: probe?,
    })
}

/// Konduktor adds `--served-model-name`, `--host` and `--port` to a vLLM
/// server's command, and refuses a `run` that gives them.
fn check_vllm_flags(r: &mut Reader<'_>, run: &Option<(String, Place)>) {
    let Some((run, at)) = run else { return };
    if !run.contains(VLLM_MARKER) || !run.contains("--port") {
        return;
    }
    let flag = ["--served-model-name", "--host"]
        .into_iter()
        .find(|f| run.contains(f))
        .unwrap_or("--port");
    r.add(
        *at,
        format!("a vLLM server's `run` must not give {flag}: Konduktor sets --served-model-name, --host and --port itself"),
        format!("remove {flag} from `run`; the port is `serving.ports`"),
    );
}

/// A container path that could not be a pasted value: absolute (or under
/// `~/`), printable, no blanks, of a path's length.
fn is_showable_path(path: &str) -> bool {
    (path.starts_with('/') || path.starts_with("~/"))
        && path.len() <= 256
        && path.chars().all(|c| c.is_ascii_graphic())
}

/// An image reference: printable, no spaces (`registry/name:tag@digest`).
fn is_image_reference(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic())
}

#[cfg(test)]
#[path = "task_tests.rs"]
mod tests;
