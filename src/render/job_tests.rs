use std::path::Path;

use k8s_openapi::api::core::v1::{PodSpec, PodTemplateSpec};

use super::*;

fn task() -> Task {
    crate::render::task::parse(
        Path::new("/t/task.yaml"),
        "name: t\nresources:\n  cpus: 1\n  memory: 1\n  image_id: busybox\nrun: echo\n",
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn pod(restart_policy: Option<&str>) -> PodTemplateSpec {
    PodTemplateSpec {
        spec: Some(PodSpec {
            restart_policy: restart_policy.map(str::to_string),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The API server refuses a Job whose pod failure policy comes with a
/// restart policy other than Never (a config's `pod_config` may set
/// OnFailure): the Job then goes without the policy, and is accepted.
#[test]
fn the_pod_failure_policy_comes_only_with_restart_policy_never() {
    for (restart, has_policy) in [
        (Some("Never"), true),
        (None, true),
        (Some("OnFailure"), false),
        (Some("Always"), false),
    ] {
        let job = job(&task(), "t-0000", 1, pod(restart));
        let policy = job.spec.and_then(|s| s.pod_failure_policy);
        assert_eq!(policy.is_some(), has_policy, "{restart:?}");
    }
}
