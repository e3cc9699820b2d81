use super::*;

#[test]
fn vllm_flags_go_before_each_model_flag_as_konduktor_puts_them() {
    assert_eq!(
        vllm_run(
            "python3 -m vllm.entrypoints.openai.api_server --model m",
            "s-0000",
            9000
        ),
        "python3 -m vllm.entrypoints.openai.api_server --served-model-name s-0000 \\\n  --host '0.0.0.0' \\\n  --port '9000' \\\n  --model m"
    );
    // Without `--model`, Konduktor adds nothing.
    assert_eq!(vllm_run("vllm serve", "s-0000", 9000), "vllm serve");
}

fn opts() -> RenderOptions {
    RenderOptions {
        unpack_image: "busybox:1.36".into(),
        owner_hash: "0123abcd".into(),
        username: "alice".into(),
        user_id: "alice-7994".into(),
        run_id: "0000".into(),
        debug: false,
        launch: crate::render::LaunchConfig::default(),
        present_secrets: None,
    }
}

fn kinds(yaml: &str, serving: &ServingOptions) -> Result<Vec<String>, Error> {
    let task = crate::render::task::parse(std::path::Path::new("/t/task.yaml"), yaml)
        .unwrap_or_else(|e| panic!("{e}"));
    let Some(s) = task.serving.clone() else {
        panic!("no serving")
    };
    let pod = crate::render::pod::pod_template(&task, &[], &opts())?;
    Ok(
        objects(&task, &s, &pod.name, pod.template, &opts(), serving)?
            .iter()
            .map(|o| {
                format!(
                    "{}/{}",
                    o["kind"].as_str().unwrap_or("?"),
                    o["metadata"]["namespace"].as_str().unwrap_or("-")
                )
            })
            .collect(),
    )
}

/// Konduktor's order and choice of objects; the namespace where known; a
/// vLLM autoscaler, whose metrics path names the namespace, needs one.
#[test]
fn objects_follow_konduktors_order_and_choice() {
    let base = "name: t\nresources: {image_id: u, cpus: 1, memory: 1}\n";
    let general = format!("{base}run: serve\nserving: {{min_replicas: 1, max_replicas: 3}}\n");
    let vllm = format!(
        "{base}run: python -m vllm.entrypoints.openai.api_server --model m\nserving: {{min_replicas: 1, max_replicas: 3}}\n"
    );
    let ns = ServingOptions {
        namespace: Some("team".into()),
        ingress_host: Some("h.example".into()),
    };
    assert_eq!(
        kinds(&general, &ns).ok(),
        Some(
            [
                "Deployment/team",
                "Service/team",
                "HTTPScaledObject/team",
                "Ingress/team"
            ]
            .map(String::from)
            .to_vec()
        )
    );
    assert_eq!(
        kinds(&vllm, &ns).ok(),
        Some(
            ["Deployment/team", "Service/team", "PodAutoscaler/team"]
                .map(String::from)
                .to_vec()
        )
    );
    let offline = ServingOptions::default();
    assert_eq!(
        kinds(&general, &offline).ok(),
        Some(
            ["Deployment/-", "Service/-", "HTTPScaledObject/-"]
                .map(String::from)
                .to_vec()
        )
    );
    let refused = kinds(&vllm, &offline).err().map(|e| e.to_string());
    assert!(
        refused
            .as_deref()
            .is_some_and(|e| e.contains("PodAutoscaler")),
        "{refused:?}"
    );
}
