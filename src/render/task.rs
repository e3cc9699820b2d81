//! A Konduktor task file (`task.yaml`): the fields `render-job` reads, with
//! every problem located as the manifest's are.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::input::located::{Fields, Place, Reader, Text, key_is_showable, quote};
use crate::input::yaml::{Content, Node};
use crate::konduktor::is_label_value;

const TASK_FIELDS: &[&str] = &["name", "num_nodes", "resources", "envs", "setup", "run"];
const RESOURCE_FIELDS: &[&str] = &["image_id", "cpus", "memory", "accelerators"];

/// Job counts (`completions`, `parallelism`) are int32 in the Job API.
pub const MAX_NUM_NODES: u32 = i32::MAX as u32;
/// GPUs per node, and CPU cores: far beyond any machine, within a quantity.
pub const MAX_COUNT: f64 = 1_000_000.0;
/// Memory in GiB: 1 PiB.
pub const MAX_MEMORY_GIB: f64 = 1_048_576.0;

/// `H100:1` -> type `H100`, count 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accelerators {
    pub kind: String,
    pub count: u32,
}

#[derive(Clone, PartialEq)]
pub struct Task {
    pub path: PathBuf,
    pub name: String,
    pub num_nodes: u32,
    pub image: String,
    /// CPU cores, as a Kubernetes quantity (`4`, `0.5`): required, as
    /// Konduktor's launcher requires it.
    pub cpus: String,
    /// Memory, as a Kubernetes quantity (`16Gi`): required, as Konduktor's
    /// launcher requires it.
    pub memory: String,
    pub accelerators: Option<Accelerators>,
    /// In file order.
    pub envs: Vec<(String, String)>,
    pub setup: Option<String>,
    pub run: Option<String>,
}

// Env values and scripts may hold tokens: Debug shows their names only.
impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let envs: Vec<&str> = self.envs.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("Task")
            .field("path", &self.path)
            .field("name", &self.name)
            .field("num_nodes", &self.num_nodes)
            .field("image", &self.image)
            .field("cpus", &self.cpus)
            .field("memory", &self.memory)
            .field("accelerators", &self.accelerators)
            .field("env_names", &envs)
            .field("setup", &self.setup.as_ref().map(|_| "<redacted>"))
            .field("run", &self.run.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Read and parse a task file (`-` is standard input), capped at
/// [`crate::input::file::MAX_MANIFEST_BYTES`].
///
/// # Errors
///
/// The file cannot be read, or has problems (every one, located).
pub fn read(path: &Path) -> Result<Task, Error> {
    let text = crate::input::located::read_yaml_file(path, "task")?;
    parse(path, &text)
}

/// `4`, `4.5` or Konduktor's `4+` (at least 4): a number from 0.001 (a
/// quantity's finest step) to `max`.
fn positive_number(text: &str, max: f64) -> Option<f64> {
    let n: f64 = text.trim().trim_end_matches('+').parse().ok()?;
    (n.is_finite() && (0.001..=max).contains(&n)).then_some(n)
}

/// A Kubernetes quantity for a number in range: whole, or to three decimals.
fn quantity(n: f64) -> String {
    let text = format!("{n:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// One field of the task that must be a single value.
fn scalar_field(r: &mut Reader<'_>, node: Option<(&Node, Place)>, field: &str) -> Option<Text> {
    node.and_then(|(n, _)| r.scalar(n, field))
}

/// Parse a task file's `text` (as read from `path`).
///
/// # Errors
///
/// Every problem of the file, located, values masked.
pub fn parse(path: &Path, text: &str) -> Result<Task, Error> {
    let all: Vec<&str> = TASK_FIELDS.iter().chain(RESOURCE_FIELDS).copied().collect();
    let mut r = crate::input::located::read_document(path, text, &all)?;
    let task = read_task(&mut r, path);
    let masked = r.parsed.masked(text);
    r.problems.finish(&masked)?;
    task.ok_or_else(|| Error::input("unreadable task"))
}

fn read_task(r: &mut Reader<'_>, path: &Path) -> Option<Task> {
    let Some(root) = r.parsed.root.clone() else {
        r.add(
            Place::START,
            "the task file is empty",
            "give at least `name:` and `resources: {image_id: ...}`",
        );
        return None;
    };
    let fields = r.fields(&root, "the task", TASK_FIELDS)?;
    let name = read_name(r, &fields);
    let num_nodes = read_num_nodes(r, &fields);
    let resources = read_resources(r, &fields);
    let envs = fields
        .get("envs")
        .map(|(n, _)| read_envs(r, n))
        .unwrap_or_default();
    let setup = read_script(r, &fields, "setup");
    let run = read_script(r, &fields, "run");
    Some(Task {
        path: path.to_path_buf(),
        name,
        num_nodes,
        image: resources.image,
        cpus: resources.cpus,
        memory: resources.memory,
        accelerators: resources.accelerators,
        envs,
        setup,
        run,
    })
}

/// `name`: required, a DNS-1123 label (it names the Job).
fn read_name(r: &mut Reader<'_>, fields: &Fields) -> String {
    match scalar_field(r, fields.get("name"), "name") {
        None if !fields.has("name") => {
            r.add(
                Place::START,
                "the task has no `name`",
                "add `name: my-job` (it names the Job)",
            );
            String::new()
        }
        None => String::new(),
        Some(n) if n.hidden || !crate::konduktor::is_dns1123_label(&n.value) => {
            r.add(
                n.place,
                format!("task name {} cannot name a Job", n.quoted()),
                "use lowercase letters, digits and `-`, at most 63 characters",
            );
            String::new()
        }
        Some(n) => n.value,
    }
}

/// `num_nodes`: 1 when absent, else a whole number from 1 to
/// [`MAX_NUM_NODES`].
fn read_num_nodes(r: &mut Reader<'_>, fields: &Fields) -> u32 {
    let Some(n) = scalar_field(r, fields.get("num_nodes"), "num_nodes") else {
        return 1;
    };
    match n.value.trim().parse::<u32>() {
        Ok(v) if (1..=MAX_NUM_NODES).contains(&v) => v,
        _ => {
            r.add(
                n.place,
                format!(
                    "num_nodes {} is not a whole number from 1 to {MAX_NUM_NODES}",
                    n.quoted()
                ),
                "e.g. `num_nodes: 2`",
            );
            1
        }
    }
}

/// What `resources` gives: the image, CPUs and memory (empty when missing
/// or wrong: the problem is reported) and the optional accelerators.
#[derive(Debug, Default)]
struct Resources {
    image: String,
    cpus: String,
    memory: String,
    accelerators: Option<Accelerators>,
}

/// `resources`: required, with `image_id`, `cpus` and `memory` (Konduktor's
/// launcher stops on a task without either: so does render-job).
fn read_resources(r: &mut Reader<'_>, fields: &Fields) -> Resources {
    let Some((node, at)) = fields.get("resources") else {
        r.add(
            Place::START,
            "the task has no `resources`",
            "add `resources: {image_id: ubuntu:22.04, cpus: 4, memory: 16}` at least",
        );
        return Resources::default();
    };
    let Some(res) = r.fields(node, "`resources`", RESOURCE_FIELDS) else {
        return Resources::default();
    };
    Resources {
        image: read_image(r, &res, at),
        cpus: read_cpus(r, &res, at).unwrap_or_default(),
        memory: read_memory(r, &res, at).unwrap_or_default(),
        accelerators: read_accelerators(r, &res),
    }
}

/// `resources.image_id` (`docker:` prefix dropped), empty if missing or wrong.
fn read_image(r: &mut Reader<'_>, res: &Fields, resources_at: Place) -> String {
    match scalar_field(r, res.get("image_id"), "image_id") {
        Some(i) if is_image_reference(i.value.trim().trim_start_matches("docker:")) => {
            return i.value.trim().trim_start_matches("docker:").to_string();
        }
        Some(i) if !i.value.trim().is_empty() => r.add(
            i.place,
            format!("image_id {} is not an image reference", i.quoted()),
            "name a container image without spaces or control characters, e.g. `ubuntu:22.04`",
        ),
        Some(i) => r.add(
            i.place,
            "`image_id` is empty",
            "name a container image, e.g. `ubuntu:22.04`",
        ),
        None if !res.has("image_id") => r.add(
            resources_at,
            "`resources.image_id` is missing",
            "add `image_id: <image>`",
        ),
        None => {}
    }
    String::new()
}

/// A field of `resources` Konduktor's launcher requires is missing: say
/// so at `resources`.
fn require(r: &mut Reader<'_>, res: &Fields, field: &str, resources_at: Place, example: &str) {
    if !res.has(field) {
        r.add(
            resources_at,
            format!("`resources.{field}` is missing"),
            format!("Konduktor's launcher requires it: add {example} under `resources`"),
        );
    }
}

/// `resources.cpus` as a quantity.
fn read_cpus(r: &mut Reader<'_>, res: &Fields, resources_at: Place) -> Option<String> {
    require(r, res, "cpus", resources_at, "`cpus: 4` (CPU cores)");
    let c = scalar_field(r, res.get("cpus"), "cpus")?;
    let n = positive_number(&c.value, MAX_COUNT);
    if n.is_none() {
        r.add(
            c.place,
            format!(
                "cpus {} is not a number from 0.001 to {MAX_COUNT}",
                c.quoted()
            ),
            "e.g. `cpus: 4` or `cpus: 0.5`",
        );
    }
    n.map(quantity)
}

/// `resources.memory` in GiB, as a quantity (`16Gi`).
fn read_memory(r: &mut Reader<'_>, res: &Fields, resources_at: Place) -> Option<String> {
    require(r, res, "memory", resources_at, "`memory: 16` (GiB)");
    let m = scalar_field(r, res.get("memory"), "memory")?;
    let n = positive_number(&m.value, MAX_MEMORY_GIB);
    if n.is_none() {
        r.add(
            m.place,
            format!(
                "memory {} is not a number of GiB from 0.001 to {MAX_MEMORY_GIB}",
                m.quoted()
            ),
            "e.g. `memory: 16`",
        );
    }
    n.map(|n| format!("{}Gi", quantity(n)))
}

/// `resources.accelerators`: `TYPE:COUNT`.
fn read_accelerators(r: &mut Reader<'_>, res: &Fields) -> Option<Accelerators> {
    let a = scalar_field(r, res.get("accelerators"), "accelerators")?;
    let accelerators = accelerators_of(&a.value);
    if accelerators.is_none() {
        r.add(
            a.place,
            format!("accelerators {} is not TYPE:COUNT", a.quoted()),
            format!("e.g. `accelerators: H100:8` (COUNT from 1 to {MAX_COUNT})"),
        );
    }
    accelerators
}

/// `setup` or `run`: text, or nothing. Scripts often hold tokens: never
/// revealed in a snippet.
fn read_script(r: &mut Reader<'_>, fields: &Fields, field: &str) -> Option<String> {
    let (node, _) = fields.get(field)?;
    match &*node.content {
        Content::Scalar(s) => Some(s.clone()),
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

/// An image reference: printable, no spaces (`registry/name:tag@digest`).
fn is_image_reference(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic())
}

/// `H100:8`, or `H100` for one.
fn accelerators_of(text: &str) -> Option<Accelerators> {
    let (kind, count) = text.split_once(':').unwrap_or((text, "1"));
    let count = count.trim().parse::<u32>().ok()?;
    // The type becomes the value of the `trainy.ai/accelerator` label.
    let kind_ok = !kind.trim().is_empty() && is_label_value(kind.trim());
    let ok = count >= 1 && f64::from(count) <= MAX_COUNT && kind_ok;
    ok.then(|| Accelerators {
        kind: kind.trim().to_string(),
        count,
    })
}

/// `envs:` in file order. Values are never revealed; a name is shown only
/// when it could not be a pasted value.
fn read_envs(r: &mut Reader<'_>, node: &Node) -> Vec<(String, String)> {
    let Content::Map(pairs) = &*node.content else {
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
    let mut out: Vec<(String, String)> = Vec::new();
    let mut seen: std::collections::HashMap<String, Place> = std::collections::HashMap::new();
    for (key, value) in pairs {
        let at = r.place(key);
        let name = key.as_scalar().unwrap_or_default();
        let shown = env_name_shown(r, node, key, value);
        let label = env_label(name, shown);
        let name_ok = check_env_name(r, at, name, shown, &label, value);
        let Some(v) = r.pair_value(at, &label, value, "NAME") else {
            continue;
        };
        if !name_ok {
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
        out.push((name.to_string(), v));
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

#[cfg(test)]
#[path = "task_tests.rs"]
mod tests;
