use super::*;

const PATH: &str = "/t/task.yaml";
const BASE: &str = "name: t\nresources: {image_id: ubuntu, cpus: 1, memory: 2}\n";

fn ok(text: &str) -> Task {
    parse(Path::new(PATH), text)
        .unwrap_or_else(|e| panic!("{}", crate::output::diagnostic(&e, false)))
}

/// The whole rendered diagnostic, as a user sees it.
fn err(text: &str) -> String {
    match parse(Path::new(PATH), text) {
        Ok(t) => panic!("accepted: {t:?}"),
        Err(e) => crate::output::diagnostic(&e, false),
    }
}

#[test]
fn every_field_is_read() {
    let t = ok(
        "name: train-1\nnum_nodes: 3\nresources:\n  image_id: docker:nvcr.io/nvidia/pytorch:24.01\n  cpus: 4+\n  memory: 0.5\n  accelerators: H100:8\nenvs:\n  B_VAR: two\n  A_VAR: one\nsetup: pip install x\nrun: |\n  python train.py\n",
    );
    assert_eq!(t.path, Path::new(PATH));
    assert_eq!(t.name, "train-1");
    assert_eq!(t.num_nodes, 3);
    assert_eq!(t.image, "nvcr.io/nvidia/pytorch:24.01");
    assert_eq!(t.cpus, "4");
    assert_eq!(t.memory, "0.5Gi");
    assert_eq!(
        t.accelerators,
        Some(Accelerators {
            kind: "H100".into(),
            count: 8
        })
    );
    // In file order, not sorted.
    assert_eq!(
        t.envs,
        [
            ("B_VAR".to_string(), "two".to_string()),
            ("A_VAR".to_string(), "one".to_string())
        ]
    );
    assert_eq!(t.setup.as_deref(), Some("pip install x"));
    assert_eq!(t.run.as_deref(), Some("python train.py\n"));
}

#[test]
fn optional_fields_have_defaults() {
    let t = ok(BASE);
    assert_eq!(t.num_nodes, 1);
    assert_eq!(t.image, "ubuntu");
    assert_eq!((t.cpus.as_str(), t.memory.as_str()), ("1", "2Gi"));
    assert_eq!(t.accelerators, None);
    assert!(t.envs.is_empty());
    assert_eq!((t.setup, t.run), (None, None));
    let t = ok(
        "name: t\nresources: {image_id: u, accelerators: A100, cpus: 0.25, memory: 1}\nrun:\nsetup: ~\nenvs:\n  E: ''\n",
    );
    assert_eq!(
        t.accelerators.map(|a| (a.kind, a.count)),
        Some(("A100".into(), 1))
    );
    assert_eq!(t.cpus, "0.25");
    assert_eq!((t.setup, t.run), (None, None));
    assert_eq!(t.envs, [("E".to_string(), String::new())]);
}

#[test]
fn numbers_out_of_range_are_errors_at_their_place() {
    for (line, message) in [
        (
            "num_nodes: 0",
            "4:12: num_nodes `0` is not a whole number from 1 to 2147483647",
        ),
        (
            "num_nodes: 3000000000",
            "4:12: num_nodes `3000000000` is not a whole number",
        ),
        (
            "num_nodes: two",
            "4:12: num_nodes `two` is not a whole number",
        ),
        ("num_nodes: -1", "4:12: num_nodes `-1`"),
    ] {
        let e = err(&format!(
            "name: t\nresources: {{image_id: u, cpus: 1, memory: 1}}\n# c\n{line}\n"
        ));
        assert!(e.contains(&format!("{PATH}:{message}")), "{line}: {e}");
        assert!(e.contains("help: e.g. `num_nodes: 2`"), "{e}");
    }
    for (res, message) in [
        (
            "cpus: 0",
            "3:9: cpus `0` is not a number from 0.001 to 1000000",
        ),
        ("cpus: 1000001", "3:9: cpus `1000001`"),
        ("cpus: 0.0001", "3:9: cpus `0.0001`"),
        ("cpus: lots", "3:9: cpus `lots`"),
        ("cpus: .nan", "3:9: cpus `.nan`"),
        (
            "memory: 0",
            "3:11: memory `0` is not a number of GiB from 0.001 to 1048576",
        ),
        ("memory: 2000000", "3:11: memory `2000000`"),
        ("memory: 16Gi", "3:11: memory `16Gi`"),
        (
            "accelerators: H100:0",
            "3:17: accelerators `H100:0` is not TYPE:COUNT",
        ),
        (
            "accelerators: H100:1000001",
            "3:17: accelerators `H100:1000001`",
        ),
        ("accelerators: 'H100:x'", "3:17: accelerators `H100:x`"),
        (
            "accelerators: 'bad type:1'",
            "3:17: accelerators `bad type:1`",
        ),
        ("accelerators: ':2'", "3:17: accelerators `:2`"),
        ("accelerators: '-H100:2'", "3:17: accelerators `-H100:2`"),
    ] {
        let e = err(&format!("name: t\nresources:\n  {res}\n  image_id: u\n"));
        assert!(e.contains(&format!("{PATH}:{message}")), "{res}: {e}");
    }
}

#[test]
fn missing_and_malformed_fields_are_named() {
    let e = err("");
    assert!(e.contains("the task file is empty"), "{e}");
    let e = err("num_nodes: 1\nresources: {image_id: u, cpus: 1, memory: 1}\n");
    assert!(e.contains("the task has no `name`"), "{e}");
    assert!(e.contains("add `name: my-job`"), "{e}");
    let e = err("name: t\n");
    assert!(e.contains("the task has no `resources`"), "{e}");
    // Konduktor's launcher stops on a task without CPUs or memory: so do we.
    for (res, missing) in [
        ("{image_id: u, memory: 1}", "cpus"),
        ("{image_id: u, cpus: 1}", "memory"),
    ] {
        let e = err(&format!("name: t\nresources: {res}\n"));
        assert!(
            e.contains(&format!("{PATH}:2:1: `resources.{missing}` is missing")),
            "{e}"
        );
        assert!(e.contains("Konduktor's launcher requires it"), "{e}");
    }
    let e = err("name: t\nresources: {cpus: 1, memory: 1}\n");
    assert!(
        e.contains(&format!("{PATH}:2:1: `resources.image_id` is missing")),
        "{e}"
    );
    let e = err("name: t\nresources: {image_id: '', cpus: 1, memory: 1}\n");
    assert!(e.contains("`image_id` is empty"), "{e}");
    let e = err("name: t\nresources: {image_id: 'a b', cpus: 1, memory: 1}\n");
    assert!(
        e.contains("image_id `a b` is not an image reference"),
        "{e}"
    );
    let e = err("name: My_Job\nresources: {image_id: u, cpus: 1, memory: 1}\n");
    assert!(
        e.contains(&format!("{PATH}:1:7: task name `My_Job` cannot name a Job")),
        "{e}"
    );
    let e = err(&format!(
        "name: {}\nresources: {{image_id: u, cpus: 1, memory: 1}}\n",
        "a".repeat(64)
    ));
    assert!(e.contains("cannot name a Job"), "{e}");
    let e = err("name: t\nresources: {image_id: u, cpus: 1, memory: 1, gpus: 1}\n");
    assert!(e.contains("gpus"), "{e}");
    let e = err("name: t\nresources: {image_id: u, cpus: 1, memory: 1}\nenvs: [A, B]\n");
    assert!(
        e.contains("`envs` should be a mapping of NAME: value, not"),
        "{e}"
    );
}

#[test]
fn scripts_are_never_revealed_in_a_snippet() {
    // A problem next to a script: the snippet shows the script masked.
    let e = err(
        "name: t\nresources: {image_id: u, cpus: 1, memory: 1}\nrun: echo TOKEN-abc123\nnum_nodes: 0\n",
    );
    assert!(e.contains("num_nodes `0`"), "{e}");
    assert!(e.contains("run: ***"), "{e}");
    assert!(!e.contains("TOKEN-abc123"), "{e}");
    // A script of the wrong shape is named by its field, its content hidden.
    let e = err(
        "name: t\nresources: {image_id: u, cpus: 1, memory: 1}\nsetup:\n  token: TOKEN-abc123\n",
    );
    assert!(
        e.contains(&format!(
            "{PATH}:4:3: `setup` should be a script (text), not"
        )),
        "{e}"
    );
    assert!(e.contains("write `setup: |`"), "{e}");
    assert!(!e.contains("TOKEN-abc123"), "{e}");
}

#[test]
fn env_values_are_never_shown_and_names_only_when_safe() {
    let e = err(
        "name: t\nresources: {image_id: u, cpus: 1, memory: 1}\nenvs:\n  GOOD: secret-ish-value\n  BAD-NAME: secret-ish-value\n",
    );
    assert!(
        e.contains(&format!(
            "{PATH}:5:3: the key `BAD-NAME` is not a valid environment variable name"
        )),
        "{e}"
    );
    assert!(e.contains("GOOD: ***"), "{e}");
    assert!(!e.contains("secret-ish-value"), "{e}");
    // A name that could be a pasted value is not quoted.
    let e = err(
        "name: t\nresources: {image_id: u, cpus: 1, memory: 1}\nenvs:\n  HF_TOKEN=hf_abc def: x\n",
    );
    assert!(
        e.contains(
            "a name in `envs` (not shown: it may hold a value) is not an environment variable name"
        ),
        "{e}"
    );
    assert!(!e.contains("hf_abc"), "{e}");
    // Without a value: the missing value is the problem.
    let e = err("name: t\nresources: {image_id: u, cpus: 1, memory: 1}\nenvs:\n  hf_abc def:\n");
    assert!(
        e.contains("a name in `envs` (not shown: it may hold a value) has no value"),
        "{e}"
    );
    assert!(!e.contains("is not an environment variable name"), "{e}");
    assert!(!e.contains("hf_abc"), "{e}");
    let e = err(
        "name: t\nresources: {image_id: u, cpus: 1, memory: 1}\nenvs:\n  A: [secret-ish-value]\n",
    );
    assert!(
        e.contains(&format!(
            "{PATH}:4:6: the value of task env `A` should be a single value"
        )),
        "{e}"
    );
    assert!(!e.contains("secret-ish-value"), "{e}");
}

#[test]
fn a_duplicate_env_names_its_first_line() {
    let e = err(
        "name: t\nresources: {image_id: u, cpus: 1, memory: 1}\nenvs:\n  A: x\n  B: y\n  A: z\n",
    );
    assert!(
        e.contains(&format!(
            "{PATH}:6:3: task env `A` is given twice (first at line 4)"
        )),
        "{e}"
    );
    assert!(e.contains("help: keep one of them"), "{e}");
}

#[test]
fn aliases_and_multi_line_values_are_not_quoted() {
    let e = err(
        "name: t\nresources: {image_id: u, cpus: 1, memory: 1}\nenvs:\n  A: &n Not_A_Name\nnum_nodes: *n\n",
    );
    assert!(
        e.contains("num_nodes (not shown) is not a whole number"),
        "{e}"
    );
    assert!(!e.contains("Not_A_Name"), "{e}");
    let e = err("name: My\n  Secret_Job\nresources: {image_id: u, cpus: 1, memory: 1}\n");
    assert!(e.contains("task name (not shown) cannot name a Job"), "{e}");
    assert!(!e.contains("Secret_Job"), "{e}");
}

#[test]
fn problems_are_capped() {
    let envs: String = (0..60).map(|i| format!("  BAD-{i}: v\n")).collect();
    let e = err(&format!(
        "name: t\nresources: {{image_id: u, cpus: 1, memory: 1}}\nenvs:\n{envs}"
    ));
    assert!(
        e.contains(&format!("{PATH} has 60 problems (the first 50 are shown)")),
        "{e}"
    );
    // The summary and the first 50, each with its own mark.
    assert_eq!(e.matches("× ").count(), 51, "{e}");
    assert!(e.contains(&format!("{PATH}:53:3: the key `BAD-49`")), "{e}");
    assert!(!e.contains(&format!("{PATH}:54:3")), "{e}");
}

#[test]
fn debug_shows_env_names_only_and_no_script() {
    let t = ok(
        "name: t\nresources: {image_id: u, cpus: 1, memory: 1}\nenvs: {TOKEN: secret-ish-value}\nrun: echo run-secret\nsetup: echo setup-secret\n",
    );
    let d = format!("{t:?}");
    assert!(d.contains("TOKEN") && d.contains("<redacted>"), "{d}");
    for hidden in ["secret-ish-value", "run-secret", "setup-secret"] {
        assert!(!d.contains(hidden), "{d}");
    }
}

#[test]
fn quantities_are_whole_or_to_three_decimals() {
    assert_eq!(quantity(4.0), "4");
    assert_eq!(quantity(0.5), "0.5");
    assert_eq!(quantity(0.0015), "0.002");
    assert_eq!(positive_number(" 8+ ", MAX_COUNT), Some(8.0));
    assert_eq!(positive_number("inf", MAX_COUNT), None);
    // The accelerator type is a label value, not empty.
    assert_eq!(
        accelerators_of("A100-80GB_x.y:2").map(|a| (a.kind, a.count)),
        Some(("A100-80GB_x.y".to_string(), 2))
    );
    for bad in [
        "",
        ":1",
        "-a:1",
        "a-:1",
        "a b:1",
        "é:1",
        &format!("{}:1", "a".repeat(64)),
    ] {
        assert_eq!(accelerators_of(bad), None, "{bad}");
    }
    assert!(accelerators_of(&format!("{}:1", "a".repeat(63))).is_some());
}
