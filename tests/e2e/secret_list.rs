//! `secret list [-u]`: server-side selection, key names only, never values.

use serde_json::json;

use crate::support::{OTHER_OWNER, OWNER, TestEnv, b64, mine, tls_secret};

/// Two secrets of mine, one of another user's, and one Konduktor did not make.
fn setup(env: &TestEnv) {
    let value = env.canary("mine");
    let theirs = env.canary("theirs");
    env.create_env("hf", &[("TOKEN", &value), ("MODE", "x")])
        .success();
    env.file("cfg.json", &value);
    env.create_file("config", "cfg.json").success();
    env.as_owner(OTHER_OWNER)
        .create_env("hf", &[("TOKEN", &theirs)])
        .success();
    env.seed(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "unrelated"}, "data": {"x": b64(&theirs)}}));
}

#[test]
fn lists_only_my_secrets_with_a_server_side_selector() {
    let env = TestEnv::new();
    setup(&env);
    env.clear_requests();
    let run = env.run(&["secret", "list"]);
    run.success();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stdout);
    assert!(
        lines[0].starts_with("NAME")
            && lines[0].contains("KIND")
            && lines[0].contains("KEYS")
            && lines[0].contains("AGE")
    );
    assert!(!lines[0].contains("OWNER"));
    assert!(
        lines[1].starts_with("config")
            && lines[1].contains("default")
            && lines[1].contains("cfg.json"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("hf") && lines[2].contains("env") && lines[2].contains("MODE,TOKEN"),
        "{}",
        lines[2]
    );
    run.stdout_lacks("unrelated");
    env.assert_only_the_owner_list();
}

#[test]
fn all_users_shows_owners_and_foreign_secrets() {
    let env = TestEnv::new();
    setup(&env);
    let run = env.run(&["secret", "list", "-u"]);
    run.success();
    assert!(
        run.stdout
            .lines()
            .next()
            .unwrap_or_default()
            .contains("OWNER")
    );
    let row = |needle: &str| {
        run.stdout
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(row(OTHER_OWNER).len(), 1, "{}", run.stdout);
    assert_eq!(row(OWNER).len(), 2, "{}", run.stdout);
    let unrelated = row("unrelated");
    assert_eq!(unrelated.len(), 1);
    assert!(unrelated[0].contains("(not konduktor)"), "{}", unrelated[0]);
    let long = env.run(&["secret", "list", "--all-users"]);
    // The same table, but for the AGE column (a second may pass between).
    assert_eq!(without_ages(&long.stdout), without_ages(&run.stdout));
}

/// A table's cells, without its AGE column.
fn without_ages(table: &str) -> Vec<Vec<String>> {
    let header: Vec<&str> = table
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let age = header.iter().position(|h| *h == "AGE");
    table
        .lines()
        .map(|l| {
            l.split_whitespace()
                .enumerate()
                .filter(|(i, _)| Some(*i) != age)
                .map(|(_, c)| c.to_string())
                .collect()
        })
        .collect()
}

#[test]
fn json_and_yaml_carry_key_names_only() {
    let env = TestEnv::new();
    setup(&env);
    let data = env.run(&["secret", "list", "-o", "json"]);
    data.success();
    let v = data.json();
    let items = v["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["name"], "hf");
    assert_eq!(items[1]["secretName"], mine("hf"));
    assert_eq!(items[1]["kind"], "env");
    assert_eq!(items[1]["keys"], json!(["MODE", "TOKEN"]));
    let all = env.run(&["secret", "list", "-u", "-o", "json"]).json();
    let unrelated = all["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|i| i["name"] == "unrelated")
        .cloned()
        .unwrap_or_default();
    assert_eq!(unrelated["konduktor"], false);
    let yaml = env.run(&["secret", "list", "-u", "-o", "yaml"]);
    yaml.success()
        .stdout_has("secretName: hf-")
        .stdout_has("- TOKEN");
}

#[test]
fn empty_list_says_so() {
    let env = TestEnv::new();
    env.run(&["secret", "list"])
        .success()
        .stderr_has("No secrets owned by you");
}

#[test]
fn konduktor_made_secrets_list_like_konduktor_lists_them() {
    let env = TestEnv::new();
    env.seed_konduktor_made();
    let run = env.run(&["secret", "list"]);
    run.success();
    let rows: Vec<(String, String)> = run
        .stdout
        .lines()
        .skip(1)
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols[0].to_string(), cols[1].to_string())
        })
        .collect();
    // Konduktor's `secret list` printed these names and kinds (fixtures README).
    let expected = [
        ("my-default-directory", "default"),
        ("my-default-file", "default"),
        ("my-default-inline", "default"),
        ("my-env", "env"),
        ("my-ssh-2", "git-ssh"),
    ];
    assert_eq!(rows, expected.map(|(a, b)| (a.to_string(), b.to_string())));
}

/// Issue 21 point 7: a Secret of another type (here `kubernetes.io/tls`)
/// that carries our labels is marked, in the table, in a note and in
/// `-o json`: it is never ours to write, and is not shown as an ordinary
/// row of a kind.
#[test]
fn a_secret_of_another_type_with_our_labels_is_marked() {
    let env = TestEnv::new();
    let canary = env.canary("tls");
    env.seed(tls_secret("cert", &canary, &canary));
    env.create("plain", &[("A", "b")]).success();
    let run = env.run(&["secret", "list"]);
    run.success()
        .stderr_has(&format!("`{}` carries your owner label", mine("cert")))
        .stderr_has("kubernetes.io/tls");
    let cert_row = run
        .stdout
        .lines()
        .find(|l| l.starts_with("cert "))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(
        cert_row.contains("(type kubernetes.io/tls: not ours)") && !cert_row.contains("default"),
        "{cert_row}"
    );
    let plain_row = run
        .stdout
        .lines()
        .find(|l| l.starts_with("plain "))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(plain_row.contains("default"), "{plain_row}");
    let data = env.run(&["secret", "list", "-o", "json"]).json();
    let items = data["items"].as_array().cloned().unwrap_or_default();
    let cert = items
        .iter()
        .find(|i| i["name"] == "cert")
        .cloned()
        .unwrap_or_default();
    assert_eq!(cert["notOpaqueType"], "kubernetes.io/tls", "{data:#}");
    let plain = items
        .iter()
        .find(|i| i["name"] == "plain")
        .cloned()
        .unwrap_or_default();
    assert!(plain.get("notOpaqueType").is_none(), "{data:#}");
}
