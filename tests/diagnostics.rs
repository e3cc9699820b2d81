//! No value in any diagnostic, no crash, no hang, bounded memory (issue 8,
//! points 1 and 9), through the library API: `manifest::parse`,
//! `manifest::load`, `task::parse`, `output::diagnostic`.
//!
//! - A mutation test: generated manifests and task files with a canary in
//!   every value position, mutated at random, parsed, and every text shown
//!   for them searched for a canary (raw, base64 at each alignment, or a
//!   10-character piece). A canary may only show where the mutated document
//!   itself makes it a known structural field (and never if it came through
//!   an alias). Fixed seed by default; `KONDUKTOR_MUTATION_CASES=N` and
//!   `KONDUKTOR_MUTATION_SEED=random|<n>` run longer, and
//!   `KONDUKTOR_MUTATION_CASE=<k>` replays one case of a seed.
//! - The examples the issue lists, one by one.
//! - Arbitrary and hostile input (random bytes, token soup, deep nesting,
//!   alias bombs, long lines, many documents, many problems): no panic, no
//!   hang (a watchdog that only catches a hang), peak memory linear in the
//!   input size (a counting allocator).

#[path = "diagnostics/bounds.rs"]
mod bounds;
#[path = "diagnostics/check.rs"]
mod check;
#[path = "diagnostics/generate.rs"]
mod generate;
#[path = "diagnostics/mutate.rs"]
mod mutate;
#[path = "diagnostics/rng.rs"]
mod rng;
#[path = "diagnostics/yaml.rs"]
mod yaml;

use std::fmt::Write as _;
use std::path::Path;

use check::Failure;
use generate::{Canary, Case, Kind};
use rng::Rng;

#[global_allocator]
static ALLOCATOR: bounds::Counting = bounds::Counting;

const DEFAULT_SEED: u64 = 0x6b6f_6e64_756b_746f;

struct Config {
    seed: u64,
    cases: u64,
    only: Option<u64>,
}

fn config(default_cases: u64) -> Config {
    let seed = match std::env::var("KONDUKTOR_MUTATION_SEED").ok().as_deref() {
        None | Some("") => DEFAULT_SEED,
        Some("random") => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            Rng::new(
                u64::try_from(nanos % u128::from(u64::MAX)).unwrap_or(0)
                    ^ u64::from(std::process::id()),
            )
            .next_u64()
        }
        Some(n) => n
            .parse()
            .unwrap_or_else(|e| panic!("KONDUKTOR_MUTATION_SEED={n}: {e} (a number or `random`)")),
    };
    let number = |var: &str| {
        std::env::var(var).ok().filter(|v| !v.is_empty()).map(|v| {
            v.parse::<u64>()
                .unwrap_or_else(|e| panic!("{var}={v}: {e}"))
        })
    };
    let cases = number("KONDUKTOR_MUTATION_CASES").unwrap_or(default_cases);
    Config {
        seed,
        cases,
        only: number("KONDUKTOR_MUTATION_CASE"),
    }
}

struct Found {
    case: u64,
    generated: Case,
    mutated: String,
    edits: Vec<&'static str>,
    failure: Failure,
}

/// The generated input for case `case`, and the mutated one.
fn make_case(kind: Kind, seed: u64, case: u64) -> (Case, String, Vec<&'static str>) {
    let mut rng = Rng::for_case(seed, case);
    let generated = match kind {
        Kind::Manifest => generate::manifest(&mut rng),
        Kind::Task => generate::task(&mut rng),
    };
    let mut text = generated.text.clone();
    let n = if rng.percent(15) { 0 } else { rng.range(1, 3) };
    let edits = (0..n)
        .map(|_| mutate::mutate_once(&mut rng, &mut text))
        .collect();
    (generated, text, edits)
}

fn excerpt(text: &str, max_lines: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= max_lines {
        text.to_string()
    } else {
        format!(
            "{}\n[... {} more lines]",
            lines[..max_lines].join("\n"),
            lines.len() - max_lines
        )
    }
}

fn describe(failure: &Failure) -> String {
    match failure {
        Failure::Panic(msg) => format!("panicked: {msg}"),
        Failure::Leak {
            channel,
            canary,
            how,
            output,
        } => format!(
            "canary {canary} shown ({how}) in the {channel}:\n{}",
            excerpt(output, 40)
        ),
    }
}

fn mutation_run(kind: Kind, default_cases: u64) {
    let cfg = config(default_cases);
    let what = match kind {
        Kind::Manifest => "manifests",
        Kind::Task => "task files",
    };
    println!(
        "mutated {what}: seed {} ({} cases); reproduce with KONDUKTOR_MUTATION_SEED={} KONDUKTOR_MUTATION_CASE=<case>",
        cfg.seed, cfg.cases, cfg.seed
    );
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut found: Vec<Found> = Vec::new();
    let mut done = 0u64;
    let mut features_all: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    let cases: Box<dyn Iterator<Item = u64>> = match cfg.only {
        Some(k) => Box::new(std::iter::once(k)),
        None => Box::new(0..cfg.cases),
    };
    for case in cases {
        let (generated, mutated, edits) = make_case(kind, cfg.seed, case);
        let result = check::check(kind, &mutated, &generated.canaries, dir.path());
        for f in &generated.features {
            let e = features_all.entry(f.clone()).or_default();
            e.0 += 1;
            e.1 += u64::from(result.is_err());
        }
        if let Err(failure) = result {
            found.push(Found {
                case,
                generated,
                mutated,
                edits,
                failure,
            });
        }
        done += 1;
    }
    // Every case returned: none hung, none was skipped.
    assert_eq!(done, cfg.only.map_or(cfg.cases, |_| 1));
    if found.is_empty() {
        return;
    }
    let mut report = String::new();
    let _ = writeln!(
        report,
        "{} of {done} mutated {what} show a value or panic (seed {}).",
        found.len(),
        cfg.seed
    );
    let mut by_channel: std::collections::BTreeMap<String, usize> = Default::default();
    for f in &found {
        *by_channel
            .entry(
                f.failure
                    .channel()
                    .replace(|c: char| c.is_ascii_digit(), "N"),
            )
            .or_default() += 1;
    }
    let _ = writeln!(report, "First place shown, by channel:");
    for (channel, n) in &by_channel {
        let _ = writeln!(report, "  {n:6}  {channel}");
    }
    let _ = writeln!(
        report,
        "Failing cases by how the input was built (failing/all):"
    );
    for (feature, (all, failing)) in &features_all {
        let _ = writeln!(report, "  {failing:6}/{all:<6} {feature}");
    }
    // The first failure of each channel, then the next ones, four at most.
    let mut shown: Vec<&Found> = Vec::new();
    for f in &found {
        if !shown
            .iter()
            .any(|s| s.failure.channel() == f.failure.channel())
        {
            shown.push(f);
        }
    }
    for f in &found {
        if shown.len() >= 3 {
            break;
        }
        if !shown.iter().any(|s| s.case == f.case) {
            shown.push(f);
        }
    }
    for f in shown.into_iter().take(4) {
        let small = check::minimize(
            kind,
            &f.mutated,
            &f.generated.canaries,
            dir.path(),
            &f.failure,
        );
        let again = check::check(kind, &small, &f.generated.canaries, dir.path());
        let failure = again.err().unwrap_or_else(|| f.failure.clone());
        let _ = writeln!(
            report,
            "\n--- case {} (KONDUKTOR_MUTATION_SEED={} KONDUKTOR_MUTATION_CASE={}); built with [{}]; edits [{}]",
            f.case,
            cfg.seed,
            f.case,
            f.generated.features.join(", "),
            f.edits.join(", ")
        );
        let _ = writeln!(report, "mutated input:   {:?}", f.mutated);
        let _ = writeln!(report, "minimised input: {small:?}");
        let _ = writeln!(report, "{}", describe(&failure));
    }
    panic!("{report}");
}

#[test]
fn mutated_manifests_never_show_a_value() {
    mutation_run(Kind::Manifest, 2500);
}

#[test]
fn mutated_task_files_never_show_a_value() {
    mutation_run(Kind::Task, 2500);
}

// ------------------------------------------------------------ the checker

#[test]
fn the_checker_finds_a_canary_in_every_form() {
    use base64::Engine;
    let canary = Canary {
        text: "cnryAbCdEfGhIjKlMnOp".to_string(),
        aliased: false,
    };
    let shown = |text: String| vec![("test".to_string(), text)];
    let leaks = |out: &check::Outputs, allowed: &[String]| {
        check::find_leak(out, std::slice::from_ref(&canary), allowed, "").is_some()
    };
    assert!(leaks(&shown(format!("x {} y", canary.text)), &[]));
    assert!(leaks(&shown("…GhIjKlMnOp…".to_string()), &[]));
    assert!(leaks(&shown("cnryAbCdEf\n│ GhIjKlMnOp".to_string()), &[]));
    for prefix in ["", "a", "ab"] {
        let b64 =
            base64::engine::general_purpose::STANDARD.encode(format!("{prefix}{}", canary.text));
        assert!(leaks(&shown(format!("data: {b64}")), &[]), "{prefix:?}");
    }
    assert!(!leaks(&shown("nothing here *****".to_string()), &[]));
    // Shown as a structural field the document really has: fine, unless it
    // got there through an alias.
    let out = shown(format!("unknown kind `{}`", canary.text));
    assert!(!leaks(&out, std::slice::from_ref(&canary.text)));
    let aliased = Canary {
        aliased: true,
        ..canary.clone()
    };
    assert!(check::find_leak(&out, &[aliased], std::slice::from_ref(&canary.text), "").is_some());
    // Written as a key (a mutation can make it one), it is a name.
    let out = shown(format!("unknown field `{}`", canary.text));
    let as_key = format!("a: [\n{}: x", canary.text);
    assert!(check::find_leak(&out, std::slice::from_ref(&canary), &[], &as_key).is_none());
    let as_value = format!("a: {}\n", canary.text);
    assert!(check::find_leak(&out, std::slice::from_ref(&canary), &[], &as_value).is_some());
    // `owner:` holds a hash, shown by design; an `owner` key under
    // `inline:` holds a value, whatever shape the file takes.
    let out = shown(format!("`owner` is `{}`", canary.text));
    let leaks_in = |text: &str| {
        let allowed = check::allowed(Kind::Manifest, text);
        check::find_leak(&out, std::slice::from_ref(&canary), &allowed, text).is_some()
    };
    let c = &canary.text;
    assert!(!leaks_in(&format!("owner: {c}\nsecrets: []\n")));
    assert!(!leaks_in(&format!("{{owner: {c}, secrets: []}}\n")));
    assert!(!leaks_in(&format!(
        "{{\"owner\": \"{c}\", \"secrets\": []}}\n"
    )));
    for nested in [
        format!("secrets:\n  - name: a\n    inline:\n      owner: {c}\n"),
        format!("secrets:\n  - name: a\n    inline: {{owner: {c}}}\n"),
        format!("secrets:\n  - {{name: a, inline: {{\n    owner: {c}}}}}\n"),
        format!("secrets:\n  - name: a\n    inline:\n      owner: {c}\n  bad: [\n"),
    ] {
        assert!(leaks_in(&nested), "{nested}");
    }
    // `fromCommand`: a command argument, `key`, `timeout` and `trim`
    // written out are shown by design (in errors, in the refusal that lists
    // every command); a value reached through an alias never is, and a field
    // of that name holding a value (under `inline:`) is a value.
    let out = shown(format!(
        "secret `a` would run `op read {c}` for its key `{c}` (timeout {c}, trim {c})"
    ));
    let shows = |canary: &Canary, text: &str| {
        let allowed = check::allowed(Kind::Manifest, text);
        check::find_leak(&out, std::slice::from_ref(canary), &allowed, text).is_some()
    };
    let entry = |body: &str| format!("secrets:\n  - name: a\n{body}");
    let by_design = [
        entry(&format!(
            "    fromCommand:\n      - key: B\n        command: [op, read, {c}]\n"
        )),
        entry(&format!(
            "    fromCommand:\n      - key: B\n        command:\n          - op\n          - {c}\n"
        )),
        entry(&format!(
            "    fromCommand:\n      - {{key: B, command: [op, \"{c}\"], timeout: 3s}}\n"
        )),
        format!("secrets:\n  - {{name: a, fromCommand: [{{key: B, command: [op, {c}]}}]}}\n"),
        entry(&format!(
            "    fromCommand:\n      - key: {c}\n        command: [op]\n"
        )),
        entry(&format!(
            "    fromCommand:\n      - command: [op]\n        timeout: {c}\n        trim: x\n"
        )),
        entry(&format!(
            "    fromCommand:\n      - command: [op]\n        trim: {c}\n"
        )),
        format!(
            "{{\"secrets\": [{{\"name\": \"a\", \"fromCommand\": [{{\"key\": \"B\", \"command\": [\"op\", \"{c}\"]}}]}}]}}\n"
        ),
        // Not YAML as a whole (a bad `!!binary` elsewhere), read line by line.
        entry(&format!(
            "    inline: {{A: !!binary '%%'}}\n  - name: b\n    fromCommand:\n      - key: B\n        command: [op, read, {c}]\n"
        )),
    ];
    // Found by random runs: a piece pasted into a structural field of a
    // one-line flow document that is not YAML as a whole (the line starts
    // with another field); an anchored value's text pasted into a quoted
    // command argument or a `fromEnv` name, written out there.
    let not_yaml = "inline: {A: !!binary '%%'}";
    let by_design = [
        by_design.to_vec(),
        vec![
            format!(
                "{{apiVersion: v1, kind: \"Secre {c}\", secrets: [{{name: s0, {not_yaml}}}]}}\n"
            ),
            format!("{{apiVersion: v1, secrets: [{{{not_yaml}}}, {{name: x{c}, fromFile: x}}]}}\n"),
            format!("{{apiVersion: v1, owner: x{c}, secrets: [{{name: s0, {not_yaml}}}]}}\n"),
            // A quoted value holding `: `; a character a mutation put
            // inside the canary (outputs are searched without it).
            entry(&format!("    fromFile: \"x': {c}\"\n    {not_yaml}\n")),
            entry(&format!(
                "    fromFile: {}é{}\n    {not_yaml}\n",
                &c[..8],
                &c[8..]
            )),
        ],
    ]
    .concat();
    for text in &by_design {
        assert!(!shows(&canary, text), "{text}");
    }
    let aliased = Canary {
        aliased: true,
        ..canary.clone()
    };
    let inline = format!("    inline: {{A: &t {c}}}\n");
    let through_alias = [
        entry(&format!(
            "{inline}    fromCommand:\n      - key: B\n        command: [op, read, *t]\n"
        )),
        entry(&format!(
            "{inline}    fromCommand:\n      - key: B\n        command:\n          - op\n          - *t\n"
        )),
        format!(
            "secrets:\n  - {{name: a, inline: {{A: &t {c}}}, fromCommand: [{{key: B, command: [op, *t]}}]}}\n"
        ),
        entry(&format!(
            "{inline}    fromCommand:\n      - key: *t\n        command: [op]\n"
        )),
        entry(&format!(
            "{inline}    fromCommand:\n      - key: B\n        command: [op]\n        timeout: *t\n        trim: *t\n"
        )),
        // Anchored under a field of the same name, still a value.
        entry(&format!(
            "    inline:\n      command: &t {c}\n    fromCommand:\n      - key: B\n        command: [op, *t]\n"
        )),
    ];
    for text in &through_alias {
        assert!(shows(&aliased, text), "{text}");
    }
    for text in [
        entry(&format!(
            "{inline}    fromCommand:\n      - key: B\n        command: [op, \"x: &t {c},y\"]\n"
        )),
        entry(&format!(
            "{inline}    fromCommand:\n      - key: B\n        command:\n          - op\n          - {c}\n"
        )),
        entry(&format!("{inline}    fromEnv: [HOME, \"TOKEN_{c}\"]\n")),
    ] {
        assert!(!shows(&aliased, &text), "{text}");
    }
    let values = [
        entry(&format!("    inline:\n      key: {c}\n")),
        entry(&format!(
            "    inline:\n      timeout: {c}\n      trim: {c}\n"
        )),
        entry(&format!("    inline: {{command: {c}}}\n")),
        format!("secrets:\n  - {{name: a, inline: {{TOKEN: {c}}}}}\n"),
        format!(
            "secrets:\n  - {{name: a, fromCommand: [{{key: B, command: [op]}}], inline: {{TOKEN: {c}}}}}\n"
        ),
        format!("secrets:\n  - {{name: a, fromFile: [x, y], inline: {{TOKEN: {c}}}}}\n"),
    ];
    let values = [
        values.to_vec(),
        vec![
            format!("{{apiVersion: v1, secrets: [{{name: s0, inline: {{A: !!binary '%%', B: {c}}}}}]}}\n"),
            format!("{{secrets: [{{name: s0, inline: {{owner: {c}}}, {not_yaml}}}]}}\n"),
            format!("{{apiVersion: v1, secrets: [{{name: s0, inline: {{A: \"name: {c}\"}}, {not_yaml}}}]}}\n"),
            format!("{{apiVersion: v1, secrets: [{{name: \"s0\", inline: {{A: {c}}}, {not_yaml}}}]}}\n"),
        ],
    ]
    .concat();
    for text in &values {
        assert!(shows(&canary, text), "{text}");
    }
}

#[test]
fn the_generator_writes_yaml_with_every_canary_in_it() {
    let mut parsed = 0;
    let mut with_canaries = 0;
    let mut features = std::collections::BTreeSet::new();
    let total = 400;
    for case in 0..total {
        let mut rng = Rng::for_case(DEFAULT_SEED, case);
        let kind = if case % 2 == 0 {
            Kind::Manifest
        } else {
            Kind::Task
        };
        let generated = match kind {
            Kind::Manifest => generate::manifest(&mut rng),
            Kind::Task => generate::task(&mut rng),
        };
        with_canaries += usize::from(!generated.canaries.is_empty());
        parsed += usize::from(
            serde_saphyr::from_str::<serde_json::Value>(&generated.text).is_ok()
                || generated
                    .features
                    .iter()
                    .any(|f| f == "tag" || f == "second-document"),
        );
        features.extend(generated.features);
    }
    let total = total as usize;
    assert!(
        parsed * 10 >= total * 9,
        "only {parsed} of {total} generated inputs are YAML"
    );
    assert!(
        with_canaries * 10 >= total * 9,
        "only {with_canaries} of {total} generated inputs hold a value"
    );
    for f in [
        "inline",
        "misspelled-inline",
        "inline-scalar",
        "inline-list",
        "fromEnv-K=V",
        "fromEnv-map",
        "alias-in-structural-field",
        "merge-key",
        "tag",
        "comment",
        "multi-line-flow",
        "json-one-line",
        "json-pretty",
        "flow-entry",
        "cr-only",
        "crlf",
        "misspelled-envs",
        "envs-list",
        "envs-scalar",
        "owner",
        "owner-key-in-inline",
        "fromCommand",
        "fromCommand-and-inline",
        "fromCommand-and-fromEnv",
        "alias-in-command",
        "command-value-tag",
        "command-value-anchor",
        "command-value-multi-line",
        "command-field-key-in-inline",
    ] {
        assert!(features.contains(f), "no generated input has {f}");
    }
}

/// The suite parses and loads manifests with `fromCommand` entries: loading
/// refuses them (as the CLI does without `--allow-commands`), so no program
/// a generated or mutated file names is ever run.
#[test]
fn the_checker_runs_no_command() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let marker = dir.path().join("ran");
    let text = format!(
        "{HEAD}  - name: a\n    fromCommand:\n      - key: B\n        command: [touch, {}]\n",
        marker.display()
    );
    let outputs = check::outputs(Kind::Manifest, &text, dir.path())
        .unwrap_or_else(|f| panic!("{}", describe(&f)));
    let refused = outputs
        .iter()
        .find(|(c, _)| c == "load: rendered diagnostic")
        .map(|(_, t)| t.clone())
        .unwrap_or_else(|| panic!("not refused: {outputs:?}"));
    assert!(
        refused.contains("running programs was not allowed"),
        "{refused}"
    );
    let rendered = check::parse_and_render(Kind::Manifest, &text, dir.path())
        .unwrap_or_else(|f| panic!("{}", describe(&f)));
    assert!(rendered.is_some_and(|r| r.contains("nothing was run")));
    assert!(!marker.exists(), "a command ran");
}

#[test]
fn the_mutator_misspells_the_fields_of_a_command() {
    let text = "secrets:\n  - name: a\n    fromCommand:\n      - key: A\n        command: [op]\n        timeout: 5s\n        trim: true\n";
    let mut misspelled = std::collections::BTreeSet::new();
    for case in 0..2000 {
        let mut rng = Rng::for_case(DEFAULT_SEED, case);
        let mut mutated = text.to_string();
        if mutate::mutate_once(&mut rng, &mut mutated) == "misspell a field" {
            for field in ["fromCommand", "key", "command", "timeout", "trim"] {
                if !mutated.contains(&format!("{field}:")) {
                    misspelled.insert(field);
                }
            }
        }
    }
    assert_eq!(misspelled.len(), 5, "misspelled only {misspelled:?}");
}

// ------------------------------------------------------------ the issue's list

const V: &str = "cnry7Hq2Lx9Vb4Tz1KpW";
const W: &str = "cnryQ3mN8rT5yU2wE6aZ";

/// (what, kind, text): each of issue 8's examples, with a problem next to
/// the value so that a snippet is shown.
fn issue_examples() -> Vec<(&'static str, Kind, String)> {
    let head = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n";
    let m = |body: &str| format!("{head}{body}");
    vec![
        (
            "keys at the wrong indent under inline:",
            Kind::Manifest,
            m(&format!("  - name: a\n    inline:\n    TOKEN: {V}\n")),
        ),
        (
            "a key indented deeper than its sibling under inline:",
            Kind::Manifest,
            m(&format!(
                "  - name: a\n    inline:\n      A: {V}\n        B: {W}\n"
            )),
        ),
        (
            "a misspelled inline (inlien:) holding values",
            Kind::Manifest,
            m(&format!("  - name: a\n    inlien:\n      TOKEN: {V}\n")),
        ),
        (
            "a flow map over several lines",
            Kind::Manifest,
            m(&format!(
                "  - name: a\n    inline: {{A: {V},\n      B: {W}}}\n    kind: nope\n"
            )),
        ),
        (
            "a flow-style entry",
            Kind::Manifest,
            m(&format!("  - {{name: Bad_Name, inline: {{TOKEN: {V}}}}}\n")),
        ),
        (
            "a one-line JSON manifest",
            Kind::Manifest,
            format!(
                "{{\"apiVersion\": \"v1\", \"kind\": \"SecretSet\", \"secrets\": [{{\"name\": \"a\", \"inline\": {{\"TOKEN\": \"{V}\"}}}}]}}\n"
            ),
        ),
        (
            "an anchored value used as a name through an alias",
            Kind::Manifest,
            m(&format!(
                "  - name: a\n    inline: {{A: &t {V}}}\n  - name: *t\n    fromFile: x\n"
            )),
        ),
        (
            "an anchored value used as a kind through an alias",
            Kind::Manifest,
            m(&format!(
                "  - name: a\n    inline: {{A: &t {V}}}\n  - name: b\n    kind: *t\n    fromFile: x\n"
            )),
        ),
        (
            "an anchored value used as a command argument through an alias",
            Kind::Manifest,
            m(&format!(
                "  - name: a\n    inline: {{A: &t {V}}}\n    fromCommand:\n      - key: B\n        command: [op, read, *t]\n"
            )),
        ),
        (
            "an anchored value used as a command argument through an alias, in a block list",
            Kind::Manifest,
            m(&format!(
                "  - name: a\n    inline:\n      A: &t {V}\n  - name: b\n    fromCommand:\n      - key: B\n        command:\n          - op\n          - *t\n"
            )),
        ),
        (
            "anchored values used as a command's key, timeout and trim through aliases",
            Kind::Manifest,
            m(&format!(
                "  - name: a\n    inline: {{A: &t {V}, B: &u {W}}}\n    fromCommand:\n      - {{key: *t, command: [op], timeout: *u, trim: *t}}\n"
            )),
        ),
        (
            "commands listed in the refusal to run them, next to values",
            Kind::Manifest,
            m(&format!(
                "  - name: a\n    inline:\n      A: {V}\n    fromCommand:\n      - key: B\n        command: [op, read, \"op://vault/item/field\"]\n      - key: C\n        command: [pass, show, x]\n        timeout: 5s\n        trim: false\n    fromEnv: [HOME]\n  - name: b\n    inline: {{command: {W}}}\n"
            )),
        ),
        (
            "an inline key named as a command field, next to a problem",
            Kind::Manifest,
            m(&format!(
                "  - name: a\n    inline:\n      key: {V}\n      timeout: {W}\n    fromCommand:\n      - key: B\n        command: [op]\n        timeout: soon\n"
            )),
        ),
        (
            "an anchored value used as the owner through an alias",
            Kind::Manifest,
            m(&format!(
                "  - name: a\n    inline: {{A: &t {V}}}\nowner: *t\n"
            )),
        ),
        (
            "a value under an `owner` key in inline:, next to a problem",
            Kind::Manifest,
            m(&format!(
                "  - name: a\n    inline:\n      owner: {V}\n      B: {W}\n    kind: nope\n"
            )),
        ),
        (
            "the owner of someone else, a value on the next line",
            Kind::Manifest,
            format!(
                "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets: [{{name: a, inline: {{A: {V}}}}}]\nowner: abba3a3e\n# old token: {W}\n"
            ),
        ),
        (
            "fromEnv: [K=V]",
            Kind::Manifest,
            m(&format!(
                "  - name: a\n    kind: env\n    fromEnv: [TOKEN={V}]\n"
            )),
        ),
        (
            "fromEnv: {K: V}",
            Kind::Manifest,
            m(&format!(
                "  - name: a\n    kind: env\n    fromEnv: {{TOKEN: {V}}}\n"
            )),
        ),
        (
            "inline: given a scalar",
            Kind::Manifest,
            m(&format!("  - name: a\n    inline: {V}\n")),
        ),
        (
            "inline: given a list",
            Kind::Manifest,
            m(&format!("  - name: a\n    inline: [{V}, {W}]\n")),
        ),
        (
            "CR-only line endings",
            Kind::Manifest,
            m(&format!(
                "  - name: a\n    inline:\n      TOKEN: {V}\n    kind: nope\n"
            ))
            .replace('\n', "\r"),
        ),
        (
            "a YAML syntax error next to a value (tab indentation)",
            Kind::Manifest,
            m(&format!("  - name: a\n    inline:\n\tTOKEN: {V}\n")),
        ),
        (
            "a YAML syntax error next to a value (unclosed quote)",
            Kind::Manifest,
            m(&format!(
                "  - name: a\n    inline:\n      A: \"{V}\n      B: x\n"
            )),
        ),
        (
            "a quoted \"inline\" key",
            Kind::Manifest,
            m(&format!(
                "  - name: Bad_Name\n    \"inline\": {{TOKEN: {V}}}\n"
            )),
        ),
        (
            "a tag on the inline map",
            Kind::Manifest,
            m(&format!(
                "  - name: a\n    inline: !!map\n      TOKEN: {V}\n    kind: nope\n"
            )),
        ),
        (
            "a comment after an inline flow map",
            Kind::Manifest,
            m(&format!(
                "  - name: Bad_Name\n    inline: {{TOKEN: x}} # was {W}\n"
            )),
        ),
        (
            "an unknown top-level field holding values",
            Kind::Manifest,
            m(&format!(
                "  - name: a\n    fromFile: x\nmetadata:\n  TOKEN: {V}\n"
            )),
        ),
        (
            "a task with env: for envs:",
            Kind::Task,
            format!(
                "name: t\nresources: {{image_id: ubuntu, cpus: 1, memory: 1}}\nenv:\n  TOKEN: {V}\n"
            ),
        ),
        (
            "a task with envs given a list",
            Kind::Task,
            format!(
                "name: t\nresources: {{image_id: ubuntu, cpus: 1, memory: 1}}\nenvs: [TOKEN={V}]\n"
            ),
        ),
        (
            "a task with envs in a flow map over several lines",
            Kind::Task,
            format!(
                "name: t\nresources: {{image_id: ubuntu, cpus: 1, memory: 1}}\nenvs: {{A: {V},\n  BAD-NAME: {W}}}\n"
            ),
        ),
        (
            "a task with an anchored env value used as its name",
            Kind::Task,
            format!(
                "envs:\n  A: &t {V}\nname: *t\nresources: {{image_id: ubuntu, cpus: 1, memory: 1}}\n"
            ),
        ),
        (
            "a task with an anchored env value used as num_nodes",
            Kind::Task,
            format!(
                "envs:\n  A: &t {V}\nname: t\nnum_nodes: *t\nresources: {{image_id: ubuntu, cpus: 1, memory: 1}}\n"
            ),
        ),
        (
            "a one-line JSON task",
            Kind::Task,
            format!(
                "{{\"name\": \"My_Job\", \"resources\": {{\"image_id\": \"u\", \"cpus\": 1, \"memory\": 1}}, \"envs\": {{\"A\": \"{V}\"}}}}\n"
            ),
        ),
    ]
}

#[test]
fn the_issue_examples_never_show_a_value() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let canaries: Vec<Canary> = [V, W]
        .iter()
        .map(|c| Canary {
            text: c.to_string(),
            aliased: true,
        })
        .collect();
    let mut report = String::new();
    let mut failing = 0;
    let examples = issue_examples();
    for (what, kind, text) in &examples {
        let outputs = check::outputs(*kind, text, dir.path());
        // Each example has a problem: it must be reported.
        match &outputs {
            Ok(o) if o.iter().any(|(c, _)| c.contains("rendered diagnostic")) => {}
            Ok(_) => {
                let _ = writeln!(report, "\n--- {what}: no diagnostic at all for {text:?}");
                failing += 1;
                continue;
            }
            Err(_) => {}
        }
        if let Err(failure) = check::check(*kind, text, &canaries, dir.path()) {
            failing += 1;
            let _ = writeln!(
                report,
                "\n--- {what}: input {text:?}\n{}",
                describe(&failure)
            );
        }
    }
    assert!(
        failing == 0,
        "{failing} of {} examples fail:{report}",
        examples.len()
    );
}

// ------------------------------------------------------------ arbitrary input

/// Tokens a YAML file is made of, and the fields both parsers know.
const SOUP: &[&str] = &[
    "\n",
    "\n",
    "\n",
    " ",
    " ",
    "  ",
    "    ",
    "\t",
    "\r",
    "\r\n",
    "-",
    "- ",
    ":",
    ": ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "?",
    "? ",
    "#",
    " # c",
    "&a",
    "&a ",
    "*a",
    "*a ",
    "!",
    "!!str ",
    "!!map ",
    "!!binary ",
    "!t ",
    "|",
    "|-",
    ">",
    ">+2",
    "\"",
    "'",
    "\\",
    "\\u00e9",
    "\\x",
    "%YAML 1.2",
    "%TAG ! tag:x,2000:",
    "---",
    "...",
    "<<",
    "<<: *a",
    "@",
    "`",
    "~",
    "null",
    "true",
    "0x1F",
    "1e9999",
    ".nan",
    "-.inf",
    "\u{feff}",
    "\u{0}",
    "\u{85}",
    "\u{2028}",
    "\u{202e}",
    "é",
    "x",
    "value",
    "apiVersion",
    "kind",
    "owner",
    "abba3a3e",
    "secrets",
    "name",
    "inline",
    "fromFile",
    "fromEnv",
    "fromDirectory",
    "fromCommand",
    "command",
    "key",
    "timeout",
    "trim",
    "30s",
    "state",
    "konduktor.trainy.ai/v1alpha1",
    "SecretSet",
    "envs",
    "resources",
    "image_id",
    "num_nodes",
    "cpus",
    "memory",
    "accelerators",
    "run",
    "setup",
    "H100:1",
];

fn arbitrary_input(rng: &mut Rng, corpus: &[String]) -> String {
    match rng.below(5) {
        0 => {
            let bytes: Vec<u8> = (0..rng.below(400))
                .map(|_| u8::try_from(rng.below(256)).unwrap_or(0))
                .collect();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        1 => (0..rng.below(200))
            .filter_map(|_| {
                let max = if rng.percent(80) { 0x80 } else { 0x11_0000 };
                char::from_u32(u32::try_from(rng.below(max)).unwrap_or(0))
            })
            .collect(),
        2 | 3 => (0..rng.below(120)).map(|_| *rng.pick(SOUP)).collect(),
        _ => {
            let mut text = rng.pick(corpus).clone();
            for _ in 0..rng.range(1, 12) {
                mutate::mutate_once(rng, &mut text);
            }
            text
        }
    }
}

fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["tests/manifests/bad", "tests/tasks/bad"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|e| panic!("{dir}: {e}"))
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        files.sort();
        for f in files {
            out.push(
                std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display())),
            );
        }
    }
    out
}

/// Parse `text` as both a manifest and a task file and render every error;
/// returns the peak memory used.
fn parse_both(text: &str, dir: &Path) -> Result<usize, Failure> {
    let mut peak = 0;
    for kind in [Kind::Manifest, Kind::Task] {
        let (outputs, used) = bounds::peak_memory(|| check::outputs(kind, text, dir));
        outputs?;
        peak = peak.max(used);
    }
    Ok(peak)
}

#[test]
fn arbitrary_input_never_panics() {
    let cfg = config(3000);
    println!("arbitrary input: seed {} ({} cases)", cfg.seed, cfg.cases);
    let corpus = corpus();
    assert!(
        corpus.len() > 30,
        "the seed corpus has {} files",
        corpus.len()
    );
    let seed = cfg.seed;
    let cases = cfg.cases;
    let done = bounds::watchdog("arbitrary input", move || {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut done = 0u64;
        for case in 0..cases {
            let mut rng = Rng::for_case(seed ^ 0xA5A5, case);
            let text = arbitrary_input(&mut rng, &corpus);
            if let Err(f) = parse_both(&text, dir.path()) {
                panic!(
                    "case {case} (seed {seed}): {}\ninput: {text:?}",
                    describe(&f)
                );
            }
            done += 1;
        }
        done
    });
    assert_eq!(done, cases);
}

/// How big the long inputs are: the full 4 MiB the CLI accepts
/// (`MAX_MANIFEST_BYTES`), in every build, so the bound is checked where
/// it matters (issue 21, point 8).
fn long_input() -> usize {
    4 << 20
}

const HEAD: &str = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n";

/// Inputs built to exhaust a parser: (what, text, must it be refused).
fn hostile_inputs() -> Vec<(&'static str, String, bool)> {
    let big = long_input();
    let mut out = Vec::new();
    out.push(("100,000 open brackets", "[".repeat(100_000), true));
    out.push(("100,000 open braces", "{".repeat(100_000), true));
    out.push((
        "secrets nested 300 lists deep",
        format!("{HEAD}  - {}{}\n", "[".repeat(300), "]".repeat(300)),
        true,
    ));
    out.push((
        "inline nested 300 maps deep",
        format!(
            "{HEAD}  - name: a\n    inline: {}x{}\n",
            "{a: ".repeat(300),
            "}".repeat(300)
        ),
        true,
    ));
    out.push((
        "10,000 nested block lists",
        "- ".repeat(10_000) + "x\n",
        true,
    ));
    let mut deep = String::new();
    for i in 0..1000 {
        deep.push_str(&" ".repeat(i));
        deep.push_str("a:\n");
    }
    out.push(("1,000 nested block maps", deep, true));
    // Billion laughs, at the top and where a parser reads lists.
    let laughs = |first: &str, at: &dyn Fn(usize, &str) -> String| {
        let mut text = at(0, &format!("&l0 [{}]", [first; 10].join(", ")));
        for i in 1..10 {
            let refs = vec![format!("*l{}", i - 1); 10].join(", ");
            text.push_str(&at(i, &format!("&l{i} [{refs}]")));
        }
        text
    };
    out.push((
        "billion laughs at the top",
        laughs("lol", &|i, v| format!("lol{i}: {v}\n")),
        true,
    ));
    out.push((
        "billion laughs in fromFile",
        format!(
            "{HEAD}{}",
            laughs("a", &|i, v| format!("  - name: b{i}\n    fromFile: {v}\n"))
        ),
        true,
    ));
    out.push((
        "billion laughs in envs",
        format!(
            "name: t\nresources: {{image_id: u, cpus: 1, memory: 1}}\n{}",
            laughs("a", &|i, v| format!("e{i}: {v}\n"))
        ),
        true,
    ));
    // One big value, repeated through aliases: memory must not multiply.
    let mut repeated = format!(
        "{HEAD}  - name: a\n    inline: {{A: &s \"{}\"}}\n",
        "x".repeat(1 << 20)
    );
    for i in 0..60 {
        repeated.push_str(&format!("  - name: b{i}\n    inline: {{A: *s}}\n"));
    }
    out.push((
        "one 1 MiB value repeated 60 times by alias",
        repeated,
        false,
    ));
    out.push((
        "a long line",
        format!("apiVersion: {}\n", "x".repeat(big)),
        true,
    ));
    out.push((
        "a long inline value next to a problem",
        format!(
            "{HEAD}  - name: Bad_Name\n    inline: {{A: {}}}\n",
            "v".repeat(big)
        ),
        true,
    ));
    out.push((
        "a 100,000-character key",
        format!("{}: x\n", "k".repeat(100_000)),
        true,
    ));
    out.push(("many documents", "---\na: b\n".repeat(big / 9), true));
    out.push(("only line breaks", "\n".repeat(big), true));
    out.push(("only CRs", "\r".repeat(big), true));
    out.push(("a long comment", format!("# {}\n", "c".repeat(big)), true));
    out.push((
        "50,000 anchors",
        (0..50_000).map(|i| format!("k{i}: &a{i} v\n")).collect(),
        true,
    ));
    out
}

/// What a parse may use: a fixed allowance plus a constant factor of the
/// input.
fn memory_bound(input: usize) -> usize {
    64 * (1 << 20) + 16 * input
}

/// Run `text` through both parsers as the CLI does, under the watchdog:
/// per parser, the rendered diagnostic (or the failure) and the peak memory
/// used to parse and render.
fn run_hostile(
    what: &'static str,
    text: String,
) -> Vec<(Kind, Result<Option<String>, Failure>, usize)> {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().to_path_buf();
    bounds::watchdog(what, move || {
        [Kind::Manifest, Kind::Task]
            .into_iter()
            .map(|kind| {
                let (rendered, peak) =
                    bounds::peak_memory(|| check::parse_and_render(kind, &text, &path));
                (kind, rendered, peak)
            })
            .collect()
    })
}

#[test]
fn hostile_input_is_refused_with_bounded_work() {
    let mut report = String::new();
    for (what, text, refused) in hostile_inputs() {
        let len = text.len();
        for (kind, outputs, peak) in run_hostile(what, text) {
            println!(
                "{what} ({kind:?}): {} KiB at peak for {} KiB",
                peak >> 10,
                len >> 10
            );
            let rendered = match outputs {
                Ok(r) => r.is_some_and(|d| !d.is_empty()),
                Err(f) => {
                    let _ = writeln!(report, "{what} ({kind:?}): {}", describe(&f));
                    continue;
                }
            };
            if refused && !rendered {
                let _ = writeln!(
                    report,
                    "{what} ({kind:?}): accepted, not refused with a diagnostic"
                );
            }
            if peak > memory_bound(len) {
                let _ = writeln!(
                    report,
                    "{what} ({kind:?}): used {} MiB at peak for a {} KiB input (bound {} MiB)",
                    peak >> 20,
                    len >> 10,
                    memory_bound(len) >> 20
                );
            }
        }
    }
    assert!(report.is_empty(), "hostile input not handled:\n{report}");
}

/// A file with `n` problems, each shown with a snippet.
fn many_problems(kind: Kind, n: usize) -> String {
    match kind {
        Kind::Manifest => {
            let mut text = HEAD.to_string();
            for i in 0..n {
                text.push_str(&format!("  - name: Bad_{i}\n    inline: {{A: b}}\n"));
            }
            text
        }
        Kind::Task => {
            let mut text =
                "name: t\nresources: {image_id: u, cpus: 1, memory: 1}\nenvs:\n".to_string();
            for i in 0..n {
                text.push_str(&format!("  BAD-{i}: v\n"));
            }
            text
        }
    }
}

/// Four times the problems may take about four times the memory, not
/// sixteen: no problem may carry its own copy of the whole file.
#[test]
fn memory_grows_linearly_with_the_number_of_problems() {
    let mut report = String::new();
    for kind in [Kind::Manifest, Kind::Task] {
        let mut peaks = Vec::new();
        for n in [150, 600] {
            let text = many_problems(kind, n);
            let run = run_hostile("many problems", text);
            let Some((_, outputs, peak)) = run.into_iter().find(|(k, _, _)| *k == kind) else {
                panic!("no run for {kind:?}");
            };
            match outputs {
                Ok(Some(d)) => {
                    // At most the first 50 are shown; the header counts all.
                    let shown = d.matches("not a valid").count();
                    assert!(
                        shown >= n.min(50),
                        "{kind:?}: {shown} problems shown of {n}"
                    );
                    assert!(d.contains("problems"), "{kind:?}: {d}");
                }
                Ok(None) => panic!("{kind:?}, {n} problems: accepted"),
                Err(f) => panic!("{kind:?}, {n} problems: {}", describe(&f)),
            }
            peaks.push(peak);
        }
        println!(
            "{kind:?}: {} KiB for 150 problems, {} KiB for 600",
            peaks[0] >> 10,
            peaks[1] >> 10
        );
        if peaks[1] > 6 * peaks[0] + (1 << 20) {
            let _ = writeln!(
                report,
                "{kind:?}: {} KiB at peak for 150 problems, {} KiB for 600 ({}x for 4x the input)",
                peaks[0] >> 10,
                peaks[1] >> 10,
                peaks[1] / peaks[0].max(1)
            );
        }
    }
    assert!(
        report.is_empty(),
        "memory grows faster than the input:\n{report}"
    );
}
