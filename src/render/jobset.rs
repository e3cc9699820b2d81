//! The JobSet `konduktor launch` submits for a training task
//! (docs/konduktor-compat.md §7.1): Konduktor's labels and annotations,
//! one `workers` replicated job of `num_nodes` pods, the pod from
//! [`crate::render::pod`].

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{
    JobSpec, JobTemplateSpec, PodFailurePolicy, PodFailurePolicyOnPodConditionsPattern,
    PodFailurePolicyRule,
};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;

use crate::render::RenderOptions;
use crate::render::task::Task;

pub const API_VERSION: &str = "jobset.x-k8s.io/v1alpha2";
/// Kept a week after it finishes, the JobSet and its Job alike.
pub const TTL_SECONDS: i32 = 604_800;
/// The run-time cap Kueue reads when the task sets none.
pub const DEFAULT_MAX_RUN_SECONDS: &str = "604800";
pub const RUN_DURATION_LABEL: &str = "maxRunDurationSeconds";
pub const RUN_DURATION_ANNOTATION: &str = "kueue.x-k8s.io/maxRunDurationSeconds";
pub const MAX_EXEC_TIME_LABEL: &str = "kueue.x-k8s.io/max-exec-time-seconds";

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JobSet {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: ObjectMeta,
    pub spec: JobSetSpec,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JobSetSpec {
    pub ttl_seconds_after_finished: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_policy: Option<FailurePolicy>,
    pub replicated_jobs: Vec<ReplicatedJob>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FailurePolicy {
    pub max_restarts: i32,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReplicatedJob {
    pub name: String,
    pub template: JobTemplateSpec,
}

/// The run-time cap: the task's `maxRunDurationSeconds` label, else the
/// config's `jobset_config` annotation (`pod_utils.get_max_run_duration`).
fn max_run_duration(task: &Task, opts: &RenderOptions) -> Option<String> {
    task.resources
        .labels
        .get(RUN_DURATION_LABEL)
        .or_else(|| opts.launch.jobset_annotations.get(RUN_DURATION_ANNOTATION))
        .cloned()
}

/// The JobSet's labels and annotations, merged in Konduktor's order: its
/// own, then the config's `jobset_config.metadata`, then the run-time
/// annotation, then the task's `resources.labels`.
fn metadata(task: &Task, name: &str, opts: &RenderOptions) -> ObjectMeta {
    let max_run = max_run_duration(task, opts);
    let (kind, count) = task
        .accelerators()
        .map_or(("None".to_string(), 0), |a| (a.kind.clone(), a.count));
    let mut labels = BTreeMap::from([
        ("trainy.ai/job-name".to_string(), name.to_string()),
        ("trainy.ai/user-id".to_string(), opts.user_id.clone()),
        ("trainy.ai/username".to_string(), opts.username.clone()),
        // Konduktor writes `None` and `0` for a task without GPUs.
        ("trainy.ai/accelerator".to_string(), kind),
        ("trainy.ai/num-accelerators".to_string(), count.to_string()),
        (
            "trainy.ai/konduktor-managed".to_string(),
            "true".to_string(),
        ),
        ("parent".to_string(), "trainy".to_string()),
    ]);
    if let Some(m) = &max_run {
        labels.insert(MAX_EXEC_TIME_LABEL.to_string(), m.clone());
    }
    let mut annotations = opts.launch.jobset_annotations.clone();
    labels.extend(opts.launch.jobset_labels.clone());
    annotations.insert(
        RUN_DURATION_ANNOTATION.to_string(),
        max_run.unwrap_or_else(|| DEFAULT_MAX_RUN_SECONDS.to_string()),
    );
    labels.extend(task.resources.labels.clone());
    ObjectMeta {
        name: Some(name.to_string()),
        labels: Some(labels),
        annotations: Some(annotations),
        ..Default::default()
    }
}

/// Fail the Job at once on a pod that cannot start (a bad image or
/// secret). `status` is required by the JobSet v0.9.1 CRD, which refuses
/// Konduktor's rule without it (docs/konduktor-compat.md §7.5).
pub fn pod_failure_policy() -> PodFailurePolicy {
    PodFailurePolicy {
        rules: vec![PodFailurePolicyRule {
            action: "FailJob".into(),
            on_pod_conditions: Some(vec![PodFailurePolicyOnPodConditionsPattern {
                type_: "ConfigIssue".into(),
                status: "True".into(),
            }]),
            on_exit_codes: None,
        }],
    }
}

/// The JobSet `konduktor launch` submits for `task`, named `name`, its
/// workers running `pod`.
pub fn jobset(
    task: &Task,
    name: &str,
    nodes: i32,
    pod: PodTemplateSpec,
    opts: &RenderOptions,
) -> JobSet {
    let completions = task
        .resources
        .completions
        .and_then(|c| i32::try_from(c).ok())
        .unwrap_or(nodes);
    let workers = JobSpec {
        ttl_seconds_after_finished: Some(TTL_SECONDS),
        parallelism: Some(nodes),
        completions: Some(completions),
        backoff_limit: Some(0),
        template: pod,
        pod_failure_policy: Some(pod_failure_policy()),
        ..Default::default()
    };
    JobSet {
        api_version: API_VERSION,
        kind: "JobSet",
        metadata: metadata(task, name, opts),
        spec: JobSetSpec {
            ttl_seconds_after_finished: TTL_SECONDS,
            failure_policy: task
                .resources
                .max_restarts
                .and_then(|m| i32::try_from(m).ok())
                .map(|max_restarts| FailurePolicy { max_restarts }),
            replicated_jobs: vec![ReplicatedJob {
                name: "workers".into(),
                template: JobTemplateSpec {
                    metadata: None,
                    spec: Some(workers),
                },
            }],
        },
    }
}
