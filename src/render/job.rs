//! `--workload job`: a plain Indexed `batch/v1` Job for clusters without
//! JobSet (docs/konduktor-compat.md §7.6), the same pod as the JobSet's,
//! the task's labels on the Job.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::render::jobset::{TTL_SECONDS, pod_failure_policy};
use crate::render::task::Task;

/// An Indexed Job of `nodes` pods that run once (its completion index is
/// what `RANK` reads), named `name`.
pub fn job(task: &Task, name: &str, nodes: i32, pod: PodTemplateSpec) -> Job {
    let mut labels = BTreeMap::from([
        ("parent".to_string(), "trainy".to_string()),
        ("trainy.ai/job-name".to_string(), name.to_string()),
    ]);
    labels.extend(task.resources.labels.clone());
    let completions = task
        .resources
        .completions
        .and_then(|c| i32::try_from(c).ok())
        .unwrap_or(nodes);
    // The API server takes a podFailurePolicy only with restartPolicy
    // Never; a config's `pod_config` may set another (docs/konduktor-compat.md
    // §7.6), and then the Job goes without the policy rather than be refused.
    let restarts_never = pod
        .spec
        .as_ref()
        .and_then(|s| s.restart_policy.as_deref())
        .is_none_or(|p| p == "Never");
    Job {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            labels: Some(labels),
            ..Default::default()
        },
        spec: Some(JobSpec {
            completions: Some(completions),
            parallelism: Some(nodes),
            completion_mode: Some("Indexed".into()),
            backoff_limit: Some(0),
            ttl_seconds_after_finished: Some(TTL_SECONDS),
            pod_failure_policy: restarts_never.then(pod_failure_policy),
            template: pod,
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
#[path = "job_tests.rs"]
mod tests;
