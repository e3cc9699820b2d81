//! A Konduktor task file (`task.yaml`): the fields `render-job` reads, with
//! every problem located as the manifest's are.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::error::Error;
use crate::located::{Place, Problems, mask_values, parse_yaml, place_of};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTask {
    name: Option<Spanned<String>>,
    num_nodes: Option<Spanned<String>>,
    resources: Option<Spanned<RawResources>>,
    envs: Option<Spanned<OrderedMap>>,
    setup: Option<Spanned<String>>,
    run: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResources {
    image_id: Option<Spanned<String>>,
    cpus: Option<Spanned<String>>,
    memory: Option<Spanned<String>>,
    accelerators: Option<Spanned<String>>,
}

/// A mapping kept in file order (task envs are emitted in that order).
#[derive(Debug, Default)]
struct OrderedMap(Vec<(String, Spanned<String>)>);

impl<'de> Deserialize<'de> for OrderedMap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = OrderedMap;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a mapping of names to values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<OrderedMap, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, Spanned<String>>()? {
                    out.push((k, v));
                }
                Ok(OrderedMap(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// `H100:1` -> type `H100`, count 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accelerators {
    pub kind: String,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub path: PathBuf,
    pub name: String,
    pub num_nodes: u32,
    pub image: String,
    /// CPU cores, as a Kubernetes quantity (`4`, `0.5`).
    pub cpus: Option<String>,
    /// Memory, as a Kubernetes quantity (`16Gi`).
    pub memory: Option<String>,
    pub accelerators: Option<Accelerators>,
    /// In file order.
    pub envs: Vec<(String, String)>,
    pub setup: Option<String>,
    pub run: Option<String>,
}

pub fn read(path: &Path) -> Result<Task, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::input(format!("cannot read the task `{}`: {e}", path.display()))
            .with_help("check the path given to -f")
    })?;
    parse(path, &text)
}

/// `4`, `4.5` or Konduktor's `4+` (at least 4): a positive number.
fn positive_number(text: &str) -> Option<f64> {
    let n: f64 = text.trim().trim_end_matches('+').parse().ok()?;
    (n.is_finite() && n > 0.0).then_some(n)
}

fn quantity(n: f64) -> String {
    if n.fract() == 0.0 {
        format!("{}", n as u64)
    } else {
        format!("{n}")
    }
}

fn is_job_name(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty()
        && b.len() <= 63
        && b.first().is_some_and(alnum)
        && b.last().is_some_and(alnum)
        && b.iter().all(|c| alnum(c) || *c == b'-')
}

pub fn parse(path: &Path, text: &str) -> Result<Task, Error> {
    // Task envs may hold tokens: never show their values in a snippet.
    let masked = mask_values(text, &["envs"]);
    let mut p = Problems::new(path, &masked);
    let Some(raw) = parse_yaml::<RawTask>(text, &mut p) else {
        p.finish()?;
        return Err(Error::input("unreadable task"));
    };
    let name = match &raw.name {
        None => {
            p.add(
                Some(Place::START),
                "the task has no `name`",
                "add `name: my-job` (it names the Job)",
            );
            String::new()
        }
        Some(n) if !is_job_name(&n.value) => {
            p.add(
                Some(place_of(n)),
                format!("task name `{}` cannot name a Job", n.value),
                "use lowercase letters, digits and `-`, at most 63 characters",
            );
            String::new()
        }
        Some(n) => n.value.clone(),
    };
    let num_nodes = match &raw.num_nodes {
        None => 1,
        Some(n) => match n.value.trim().parse::<u32>() {
            Ok(v) if v >= 1 => v,
            _ => {
                p.add(
                    Some(place_of(n)),
                    format!(
                        "num_nodes `{}` is not a whole number of at least 1",
                        n.value
                    ),
                    "e.g. `num_nodes: 2`",
                );
                1
            }
        },
    };
    let mut image = String::new();
    let (mut cpus, mut memory, mut accelerators) = (None, None, None);
    match &raw.resources {
        None => p.add(
            Some(Place::START),
            "the task has no `resources`",
            "add `resources: {image_id: ubuntu:22.04}` at least",
        ),
        Some(spanned) => {
            let r = &spanned.value;
            match &r.image_id {
                Some(i) if !i.value.trim().is_empty() => {
                    image = i.value.trim().trim_start_matches("docker:").to_string()
                }
                Some(i) => p.add(
                    Some(place_of(i)),
                    "`image_id` is empty",
                    "name a container image, e.g. `ubuntu:22.04`",
                ),
                None => p.add(
                    Some(place_of(spanned)),
                    "`resources.image_id` is missing",
                    "add `image_id: <image>`",
                ),
            }
            if let Some(c) = &r.cpus {
                match positive_number(&c.value) {
                    Some(n) => cpus = Some(quantity(n)),
                    None => p.add(
                        Some(place_of(c)),
                        format!("cpus `{}` is not a positive number", c.value),
                        "e.g. `cpus: 4` or `cpus: 0.5`",
                    ),
                }
            }
            if let Some(m) = &r.memory {
                match positive_number(&m.value) {
                    Some(n) => memory = Some(format!("{}Gi", quantity(n))),
                    None => p.add(
                        Some(place_of(m)),
                        format!("memory `{}` is not a positive number of GiB", m.value),
                        "e.g. `memory: 16`",
                    ),
                }
            }
            if let Some(a) = &r.accelerators {
                let (kind, count) = a.value.split_once(':').unwrap_or((a.value.as_str(), "1"));
                match count.trim().parse::<u32>() {
                    Ok(n) if n >= 1 && !kind.trim().is_empty() => {
                        accelerators = Some(Accelerators {
                            kind: kind.trim().to_string(),
                            count: n,
                        })
                    }
                    _ => p.add(
                        Some(place_of(a)),
                        format!("accelerators `{}` is not TYPE:COUNT", a.value),
                        "e.g. `accelerators: H100:8`",
                    ),
                }
            }
        }
    }
    let mut envs = Vec::new();
    for (k, v) in raw.envs.iter().flat_map(|m| m.value.0.iter()) {
        if let Err(rule) = crate::konduktor::validate_env_name(k) {
            p.add(Some(place_of(v)), rule.to_string(), rule.help());
        } else {
            envs.push((k.clone(), v.value.clone()));
        }
    }
    p.finish()?;
    Ok(Task {
        path: path.to_path_buf(),
        name,
        num_nodes,
        image,
        cpus,
        memory,
        accelerators,
        envs,
        setup: raw.setup.map(|s| s.value),
        run: raw.run.map(|s| s.value),
    })
}
