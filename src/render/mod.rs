//! `render-job`'s core: a Konduktor task file ([`task`]) and what
//! `konduktor launch` submits for it: the JobSet ([`jobset`]) or a plain
//! Job ([`job`]), or for a serving task what `konduktor serve launch`
//! submits ([`serving`]), around one pod ([`pod`]) with the caller's secrets
//! injected ([`inject`]). The caller's secrets come from a manifest
//! ([`secrets_from_manifest`], no request) or from the cluster
//! ([`secrets_from_cluster`], one LIST). `--env-file` is read by [`dotenv`].

pub mod dotenv;
pub mod inject;
pub mod job;
pub mod jobset;
mod options;
pub mod pod;
pub mod serving;
pub mod task;

use std::collections::BTreeSet;
use std::path::Path;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::PodSpec;
use serde::Serialize;

use crate::cluster::Cluster;
use crate::error::Error;
use crate::konduktor::identity::Owner;
use crate::render::inject::{Gathered, InjectedSecret};
use crate::render::task::Task;
use crate::secrets::manifest::{self, Desired};

pub use options::{LaunchConfig, RenderOptions};

/// The secrets a manifest declares present, as they would be injected for
/// `owner`. Reads the files it names once the manifest's `owner:`, if any,
/// is `owner` ([`manifest::Manifest::check_owner`]); sends nothing.
pub fn secrets_from_manifest(
    path: &Path,
    owner: &Owner,
    allow_commands: bool,
) -> Result<Gathered, Error> {
    let manifest = manifest::read(path)?;
    manifest.check_owner(owner)?;
    let secrets = manifest::load_here(&manifest, allow_commands)?
        .into_iter()
        .filter_map(|d| match d {
            Desired::Present(s) => Some(InjectedSecret::from_desired(s, &owner.hash)),
            Desired::Absent { .. } => None,
        })
        .collect();
    Ok(Gathered {
        secrets,
        warnings: Vec::new(),
    })
}

/// The secrets of `owner_hash` on the cluster, as Konduktor injects them,
/// and the names of all of them (Konduktor's storage credentials among
/// them, which its launcher requires for bucket `file_mounts`).
pub async fn secrets_from_cluster(
    cluster: &Cluster,
    owner_hash: &str,
) -> Result<(Gathered, BTreeSet<String>), Error> {
    // Checked, not trusted to the server's selecting: only the caller's
    // secrets are injected.
    let live: Vec<_> = cluster
        .list_secrets(Some(&Cluster::owner_selector(owner_hash)))
        .await?
        .into_iter()
        .filter(|s| s.is_owned_by(owner_hash))
        .collect();
    let names = live
        .iter()
        .filter(|s| s.terminating.is_none())
        .map(|s| s.name.clone())
        .collect();
    Ok((inject::gather_live(live), names))
}

/// The shape of what is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    /// What `konduktor launch` submits.
    #[default]
    JobSet,
    /// A plain Indexed Job.
    Job,
}

/// One object printed.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Workload {
    JobSet(Box<jobset::JobSet>),
    Job(Box<Job>),
    /// A `v1` `List` of what `konduktor serve launch` submits, in its order.
    List(Box<serde_json::Value>),
}

#[derive(Debug, Clone)]
pub struct Rendered {
    pub workload: Workload,
    pub pod_spec: PodSpec,
    pub warnings: Vec<String>,
}

impl Workload {
    /// Each object, as the API server takes it.
    pub fn items(&self) -> Vec<serde_json::Value> {
        match self {
            Workload::List(list) => list["items"].as_array().cloned().unwrap_or_default(),
            other => serde_json::to_value(other).into_iter().collect(),
        }
    }
}

/// What `konduktor launch` submits for `task`, with `secrets` injected as
/// its launcher injects them, in `shape`.
///
/// # Errors
///
/// A node count the Job API cannot hold; a task that uses default secrets
/// when there are none; a serving task asked for as a Job.
pub fn render(
    task: &Task,
    secrets: &[InjectedSecret],
    opts: &RenderOptions,
    shape: Shape,
    serving_opts: &serving::ServingOptions,
) -> Result<Rendered, Error> {
    if let Some(serving) = &task.serving {
        return render_serving(task, serving, secrets, opts, shape, serving_opts);
    }
    let nodes = inject::node_count(task)?;
    let pod = pod::pod_template(task, secrets, opts)?;
    let pod_spec = pod.template.spec.clone().unwrap_or_default();
    let workload = match shape {
        Shape::JobSet => Workload::JobSet(Box::new(jobset::jobset(
            task,
            &pod.name,
            nodes,
            pod.template,
            opts,
        ))),
        Shape::Job => Workload::Job(Box::new(job::job(task, &pod.name, nodes, pod.template))),
    };
    Ok(Rendered {
        workload,
        pod_spec,
        warnings: pod.warnings,
    })
}

/// What `konduktor serve launch` submits: the vLLM server's `run` gets the
/// flags Konduktor adds before the pod is built, as Konduktor does.
fn render_serving(
    task: &Task,
    serving: &task::Serving,
    secrets: &[InjectedSecret],
    opts: &RenderOptions,
    shape: Shape,
    serving_opts: &serving::ServingOptions,
) -> Result<Rendered, Error> {
    if shape != Shape::JobSet {
        return Err(Error::usage(
            "--workload job: the task has `serving`, which `konduktor serve launch` runs as a Deployment",
        )
        .with_help("leave out --workload for the Deployment and Service, or remove `serving` for a Job"));
    }
    let name = task::workload_name(&task.name, &opts.run_id);
    let mut task = task.clone();
    if task.is_vllm() {
        task.run = serving::vllm_run(&task.run, &name, serving.port);
    }
    let pod = pod::pod_template(&task, secrets, opts)?;
    let items = serving::objects(&task, serving, &pod.name, pod.template, opts, serving_opts)?;
    let pod_spec = items
        .first()
        .and_then(|d| d.pointer("/spec/template/spec"))
        .cloned()
        .and_then(|s| serde_json::from_value(s).ok())
        .unwrap_or_default();
    Ok(Rendered {
        workload: Workload::List(Box::new(serde_json::json!({
            "apiVersion": "v1",
            "kind": "List",
            "items": items,
        }))),
        pod_spec,
        warnings: pod.warnings,
    })
}
