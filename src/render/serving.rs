//! What `konduktor serve launch` submits for a task with `serving:`
//! (docs/konduktor-compat.md §7.9), in its order: the Deployment running the
//! pod of [`crate::render::pod`], its Service, then the autoscaler Konduktor
//! makes when `min_replicas != max_replicas` (an Aibrix `PodAutoscaler` for
//! a vLLM server, a KEDA `HTTPScaledObject` otherwise) and, for a server
//! that is not vLLM, the Ingress.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodTemplateSpec;
use serde_json::{Map, Value, json};

use crate::error::Error;
use crate::render::RenderOptions;
use crate::render::task::{Serving, Task};

/// Konduktor's Service port for the Aibrix gateway of a vLLM server.
const AIBRIX_HTTP_PORT: u16 = 8080;
/// KEDA's HTTP add-on proxy, which an autoscaled Ingress goes through.
const KEDA_PROXY: &str = "keda-proxy";
const KEDA_PROXY_PORT: u16 = 8080;
const AIBRIX_NAME_LABEL: &str = "model.aibrix.ai/name";
const DEPLOYMENT_NAME_LABEL: &str = "trainy.ai/deployment-name";

/// Where the objects go, and what the cluster decides for them.
#[derive(Debug, Clone, Default)]
pub struct ServingOptions {
    /// The namespace Konduktor writes into each object (the PodAutoscaler's
    /// metrics path names it too); `None` leaves it to `kubectl -n`.
    pub namespace: Option<String>,
    /// The Ingress's public host. Konduktor looks it up on the cluster;
    /// without it the Ingress is left out (the caller says so).
    pub ingress_host: Option<String>,
}

/// Konduktor adds `--served-model-name`, `--host` and `--port` before each
/// `--model` of a vLLM server's `run` (`pod_utils.create_pod_spec`); the
/// task reader refused a `run` that gives `--port`.
pub fn vllm_run(run: &str, name: &str, port: u16) -> String {
    run.replace(
        "--model",
        &format!(
            "--served-model-name {name} \\\n  --host '0.0.0.0' \\\n  --port '{port}' \\\n  --model"
        ),
    )
}

fn text_map<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> Map<String, Value> {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::String(v)))
        .collect()
}

fn metadata(name: &str, opts: &ServingOptions, labels: Map<String, Value>) -> Value {
    let mut meta = json!({"name": name, "labels": labels});
    if let (Some(ns), Some(m)) = (&opts.namespace, meta.as_object_mut()) {
        m.insert("namespace".into(), json!(ns));
    }
    meta
}

/// The objects `konduktor serve launch` submits for `task`, named `name`,
/// running `pod`.
///
/// # Errors
///
/// A pod that cannot be written as JSON; a vLLM autoscaler without a
/// namespace.
pub fn objects(
    task: &Task,
    serving: &Serving,
    name: &str,
    pod: PodTemplateSpec,
    render: &RenderOptions,
    opts: &ServingOptions,
) -> Result<Vec<Value>, Error> {
    let vllm = task.is_vllm();
    let autoscaled = serving.min_replicas != serving.max_replicas;
    let port = serving.port;
    let username = render.username.clone();
    let (kind, count) = task
        .accelerators()
        .map_or(("None".to_string(), 0), |a| (a.kind.clone(), a.count));
    let flag = |on: bool| if on { "true" } else { "false" }.to_string();

    // The selector: the deployment's name, and Aibrix's for a vLLM server.
    let mut selector = Vec::new();
    if vllm {
        selector.push((AIBRIX_NAME_LABEL, name.to_string()));
    }
    selector.push((DEPLOYMENT_NAME_LABEL, name.to_string()));

    let mut deployment_labels = Vec::new();
    if vllm {
        deployment_labels.push((AIBRIX_NAME_LABEL, name.to_string()));
        deployment_labels.push(("model.aibrix.ai/port", port.to_string()));
    }
    deployment_labels.extend([
        (DEPLOYMENT_NAME_LABEL, name.to_string()),
        ("trainy.ai/username", username.clone()),
        ("trainy.ai/accelerator", kind),
        ("trainy.ai/num-accelerators", count.to_string()),
        ("trainy.ai/has-autoscaler", flag(autoscaled)),
        ("trainy.ai/konduktor-managed", "true".to_string()),
    ]);
    if autoscaled {
        deployment_labels.extend([
            (
                "trainy.ai/original-min-replicas",
                serving.min_replicas.to_string(),
            ),
            (
                "trainy.ai/original-max-replicas",
                serving.max_replicas.to_string(),
            ),
        ]);
    }

    let deployment = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(name, opts, text_map(deployment_labels)),
        "spec": {
            "replicas": serving.min_replicas,
            "selector": {"matchLabels": text_map(selector.clone())},
            "template": deployment_pod(task, pod, &selector)?,
        },
    });

    let mut service_labels = Vec::new();
    if vllm {
        service_labels.push((AIBRIX_NAME_LABEL, name.to_string()));
    }
    service_labels.extend([
        ("prometheus-discovery", "true".to_string()),
        (DEPLOYMENT_NAME_LABEL, name.to_string()),
        ("trainy.ai/username", username.clone()),
        ("trainy.ai/has-autoscaler", flag(autoscaled)),
    ]);
    let mut ports = vec![service_port("serve", port)];
    if vllm {
        ports.push(service_port("http", AIBRIX_HTTP_PORT));
    }
    let mut service_meta = metadata(name, opts, text_map(service_labels));
    service_meta["annotations"] = json!({
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "9000",
    });
    let service = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": service_meta,
        "spec": {
            "ports": ports,
            "selector": text_map(selector),
            "type": "ClusterIP",
        },
    });

    let mut out = vec![deployment, service];
    let owned = || {
        text_map([
            (DEPLOYMENT_NAME_LABEL, name.to_string()),
            ("trainy.ai/username", username.clone()),
        ])
    };
    if vllm {
        if autoscaled {
            out.push(pod_autoscaler(name, serving, opts, owned())?);
        }
        return Ok(out);
    }
    if autoscaled {
        out.push(json!({
            "apiVersion": "http.keda.sh/v1alpha1",
            "kind": "HTTPScaledObject",
            "metadata": metadata(&format!("{name}-httpscaledobject"), opts, owned()),
            "spec": {
                "hosts": [name],
                "pathPrefixes": std::iter::once("/").chain(serving.probe.as_deref()).collect::<Vec<_>>(),
                "scaleTargetRef": {
                    "name": name,
                    "kind": "Deployment",
                    "apiVersion": "apps/v1",
                    "service": name,
                    "port": port,
                },
                "replicas": {"min": serving.min_replicas, "max": serving.max_replicas},
                "scaledownPeriod": 1200,
                "scalingMetric": {
                    "requestRate": {"targetValue": 4, "granularity": "1s", "window": "30s"},
                },
            },
        }));
    }
    if let Some(host) = &opts.ingress_host {
        let mut labels = owned();
        labels.insert("trainy.ai/konduktor-managed".into(), json!("true"));
        out.push(ingress(name, host, port, autoscaled, opts, labels));
    }
    Ok(out)
}

fn service_port(name: &str, port: u16) -> Value {
    json!({"name": name, "port": port, "protocol": "TCP", "targetPort": port})
}

/// The shared pod as a Deployment runs it: labelled with the selector's
/// labels and the task's `resources.labels`, restarted always.
fn deployment_pod(
    task: &Task,
    mut pod: PodTemplateSpec,
    selector: &[(&str, String)],
) -> Result<Value, Error> {
    let meta = pod.metadata.get_or_insert_with(Default::default);
    let labels = meta.labels.get_or_insert_with(BTreeMap::new);
    for (k, v) in selector {
        labels.insert((*k).to_string(), v.clone());
    }
    labels.extend(task.resources.labels.clone());
    if let Some(spec) = pod.spec.as_mut() {
        spec.restart_policy = Some("Always".into());
    }
    serde_json::to_value(&pod).map_err(|_| Error::input("the pod cannot be written as JSON"))
}

/// Aibrix's autoscaler of a vLLM server, reading the activator's metric.
fn pod_autoscaler(
    name: &str,
    serving: &Serving,
    opts: &ServingOptions,
    owned: Map<String, Value>,
) -> Result<Value, Error> {
    let mut labels = text_map([
        (AIBRIX_NAME_LABEL, name.to_string()),
        ("app.kubernetes.io/name", "aibrix".to_string()),
        ("app.kubernetes.io/managed-by", "kustomize".to_string()),
    ]);
    labels.extend(owned);
    let ns = opts.namespace.as_deref().ok_or_else(|| {
        Error::usage(
            "a vLLM server's PodAutoscaler reads metrics by namespace, and none is known offline",
        )
        .with_help("give the namespace it will run in: -n NAMESPACE")
    })?;
    Ok(json!({
        "apiVersion": "autoscaling.aibrix.ai/v1alpha1",
        "kind": "PodAutoscaler",
        "metadata": metadata(&format!("{name}-pa"), opts, labels),
        "spec": {
            "scalingStrategy": "KPA",
            "minReplicas": serving.min_replicas,
            "maxReplicas": serving.max_replicas,
            "metricsSources": [{
                "metricSourceType": "domain",
                "protocolType": "http",
                "endpoint": "aibrix-activator.aibrix-activator.svc.cluster.local:8080",
                "path": format!("/metrics/{ns}/{name}"),
                "targetMetric": "vllm:deployment_replicas",
                "targetValue": "1",
            }],
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
        },
    }))
}

/// nginx routes `<host>/<name>...` and the host `<name>` to the Service, or
/// through KEDA's proxy when autoscaled (which needs the upstream host).
fn ingress(
    name: &str,
    host: &str,
    port: u16,
    autoscaled: bool,
    opts: &ServingOptions,
    labels: Map<String, Value>,
) -> Value {
    let backend = if autoscaled {
        json!({"service": {"name": KEDA_PROXY, "port": {"number": KEDA_PROXY_PORT}}})
    } else {
        json!({"service": {"name": name, "port": {"number": port}}})
    };
    let rule = |host: &str, path: String| {
        json!({"host": host, "http": {"paths": [{
            "path": path,
            "pathType": "ImplementationSpecific",
            "backend": backend.clone(),
        }]}})
    };
    let mut annotations = text_map([
        ("nginx.ingress.kubernetes.io/use-regex", "true".to_string()),
        (
            "nginx.ingress.kubernetes.io/rewrite-target",
            "/$1".to_string(),
        ),
    ]);
    if autoscaled {
        annotations.insert(
            "nginx.ingress.kubernetes.io/upstream-vhost".into(),
            json!(name),
        );
    }
    let mut meta = metadata(&format!("{name}-ingress"), opts, labels);
    meta["annotations"] = Value::Object(annotations);
    json!({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": meta,
        "spec": {
            "ingressClassName": "nginx",
            "rules": [rule(host, format!("/{name}(.*)")), rule(name, "/(.*)".to_string())],
        },
    })
}

#[cfg(test)]
#[path = "serving_tests.rs"]
mod tests;
