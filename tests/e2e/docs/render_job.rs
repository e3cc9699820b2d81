//! docs/render-job.md, run as written: its task becomes the JobSet it
//! shows (each field the abridged object names, with that value), and the
//! other shapes it lists render.

use serde_json::Value;

use super::{DocScript, Shell, read};
use crate::support::TestEnv;

const DOC: &str = "docs/render-job.md";

/// The document's yaml blocks: the task, then the object it becomes.
fn yaml_blocks() -> Vec<String> {
    read(DOC)
        .split("```yaml\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .map(str::to_string)
        .collect()
}

/// Whether `shown` (abridged) is part of `actual`: each key of a map with
/// a value part of `actual`'s, each item of a list part of one of
/// `actual`'s items, in order; anything else equal.
fn part_of(shown: &Value, actual: &Value) -> bool {
    match (shown, actual) {
        (Value::Object(s), Value::Object(a)) => s
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| part_of(v, av))),
        (Value::Array(s), Value::Array(a)) => {
            let mut rest = a.iter();
            s.iter().all(|v| rest.any(|av| part_of(v, av)))
        }
        _ => shown == actual,
    }
}

#[test]
fn the_render_job_doc_runs_as_written() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else {
        return;
    };
    let mut doc = DocScript::new(DOC);
    let blocks = yaml_blocks();
    assert!(blocks.len() >= 2, "{DOC}: a task and the object it becomes");
    env.file("task.yaml", &blocks[0]);
    env.file("ddp.yaml", &blocks[0]);
    // Secrets to inject: an env secret of yours.
    env.create_env("hf", &[("HF_TOKEN", &env.canary("hf"))])
        .success();
    let shell = Shell::new(&env);

    shell
        .run(&doc.next("kubectl konduktor render-job -f task.yaml"), 0)
        .stdout_has("kind: JobSet")
        .stdout_has("secretKeyRef");

    // The abridged object, its `...` left out, is part of what is printed.
    let run = shell.run(
        &doc.next("kubectl konduktor render-job -f ddp.yaml --run-id 3f9a"),
        0,
    );
    let abridged: String = blocks[1]
        .lines()
        .filter(|l| l.trim() != "...")
        .map(|l| l.replace(", ...}", "}") + "\n")
        .collect();
    let shown: Value =
        serde_saphyr::from_str(&abridged).unwrap_or_else(|e| panic!("{DOC}: {e}\n{abridged}"));
    let printed: Value =
        serde_saphyr::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.stdout));
    assert!(
        part_of(&shown, &printed),
        "{DOC} shows\n{abridged}\nwhich is not part of what render-job printed:\n{}",
        run.stdout
    );

    shell
        .run(
            &doc.next("kubectl konduktor render-job -f task.yaml | kubectl create -f -"),
            0,
        )
        .stdout_has("kind: JobSet");
    shell
        .run(
            &doc.next("kubectl konduktor render-job -f task.yaml --workload job"),
            0,
        )
        .stdout_has("kind: Job\n")
        .stdout_has("completionMode: Indexed");
    let pod = shell
        .run(
            &doc.next("kubectl konduktor render-job -f task.yaml --pod-spec -o json"),
            0,
        )
        .json();
    assert_eq!(pod["containers"][0]["name"], "konduktor-container", "{pod}");
    // A cluster with JobSet installed accepts it in a dry run.
    server.install_jobset_crd();
    shell
        .run(
            &doc.next("kubectl konduktor render-job -f task.yaml --validate"),
            0,
        )
        .stderr_has("validated: the cluster accepts JobSet");
    doc.finish();
}

#[test]
fn an_abridged_object_is_part_of_the_whole_only_where_it_agrees() {
    let whole: Value =
        serde_json::json!({"a": {"b": 1, "c": [{"n": "x", "v": 1}, {"n": "y"}]}, "d": 2});
    let part = |s: &str| serde_json::from_str::<Value>(s).unwrap_or_else(|e| panic!("{e}"));
    assert!(part_of(&part(r#"{"a": {"c": [{"n": "y"}]}}"#), &whole));
    assert!(part_of(
        &part(r#"{"a": {"c": [{"n": "x"}, {"n": "y"}]}, "d": 2}"#),
        &whole
    ));
    assert!(!part_of(
        &part(r#"{"a": {"c": [{"n": "y"}, {"n": "x"}]}}"#),
        &whole
    ));
    assert!(!part_of(&part(r#"{"d": 3}"#), &whole));
    assert!(!part_of(&part(r#"{"e": 1}"#), &whole));
}
