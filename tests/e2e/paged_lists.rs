//! Lists read in pages (`limit`/`continue`, 500 at a time as kubectl's
//! `--chunk-size`), so that memory does not grow with a namespace full of
//! other people's secrets: every secret is listed once across the pages,
//! every page carries the same selector, metadata-only lists stay
//! metadata-only, and no value of anyone's secret is ever printed.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::apiserver::Recorded;
use crate::support::requests::owner_selector;
use crate::support::{
    ApiServer, Fault, FaultRule, OTHER_OWNER, OWNER, TestEnv, entry, secret_object,
};

/// kubectl's `--chunk-size` default, which the binary uses too.
const PAGE: usize = 500;

/// `n` Konduktor secrets of `owner`, named `s0000-<owner>`..., each holding
/// `value` under two keys.
fn seed_many(env: &TestEnv, server: &ApiServer, owner: &str, n: usize, value: &str) {
    for i in 0..n {
        server.put_secret(
            &env.namespace,
            secret_object(&format!("s{i:04}"))
                .owner(owner)
                .value("TOKEN", value)
                .value("OTHER", "x")
                .json(),
        );
    }
}

/// The `limit` of each LIST of secrets the binary sent, in order.
fn limits(server: &ApiServer) -> Vec<Option<String>> {
    lists(server).iter().map(|r| param(r, "limit")).collect()
}

/// The LISTs of secrets the binary sent, in order.
fn lists(server: &ApiServer) -> Vec<Recorded> {
    server
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/secrets"))
        .collect()
}

fn param(r: &Recorded, name: &str) -> Option<String> {
    r.query.split('&').find_map(|kv| {
        kv.split_once('=')
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
}

/// Pages of `PAGE`: the first without a token, each next one with the
/// token the previous page gave.
fn assert_paged(requests: &[Recorded], pages: usize) {
    assert_eq!(requests.len(), pages, "one request per page: {requests:#?}");
    for (i, r) in requests.iter().enumerate() {
        assert_eq!(param(r, "limit"), Some(PAGE.to_string()), "{r:?}");
        assert_eq!(param(r, "continue").is_some(), i > 0, "{r:?}");
    }
}

fn names(items: &Value, field: &str) -> Vec<String> {
    items
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i[field].as_str().map(str::to_string))
        .collect()
}

#[test]
fn all_users_reads_pages_and_lists_each_secret_once() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let theirs = env.canary("theirs");
    seed_many(&env, server, OTHER_OWNER, 1_200, &theirs);
    seed_many(&env, server, OWNER, 3, "mine");
    server.clear_requests();
    let run = env.run(&["secret", "list", "-u", "-o", "json"]);
    run.success();
    // Everyone's as metadata only, 1,200 + 3 + the bystander: three pages
    // of 500; then mine, with their key names, on the owner label: one.
    let (metadata, mine): (Vec<Recorded>, Vec<Recorded>) =
        lists(server).into_iter().partition(|r| {
            r.accept
                .as_deref()
                .is_some_and(|a| a.contains("as=PartialObjectMetadataList"))
        });
    assert_paged(&metadata, 3);
    assert!(
        metadata.iter().all(|r| r.label_selector().is_none()),
        "{metadata:#?}"
    );
    assert_paged(&mine, 1);
    assert_eq!(mine[0].label_selector(), Some(owner_selector(OWNER)));
    let listed = names(&run.json()["items"], "secretName");
    let unique: BTreeSet<&String> = listed.iter().collect();
    assert_eq!(listed.len(), 1_204, "every secret once");
    assert_eq!(unique.len(), 1_204, "no secret twice");
    let stored: BTreeSet<String> = server
        .secrets(&env.namespace)
        .iter()
        .filter_map(|s| s["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    assert_eq!(unique.into_iter().cloned().collect::<BTreeSet<_>>(), stored);

    let table = env.run(&["secret", "list", "-u"]);
    table.success();
    assert_eq!(
        table.stdout.lines().count(),
        1 + 1_204,
        "a header and a row each"
    );
    // Key names of mine only: the others' were never fetched.
    let rows_with_keys: Vec<&str> = table
        .stdout
        .lines()
        .filter(|l| l.contains("OTHER,TOKEN"))
        .collect();
    assert_eq!(rows_with_keys.len(), 3, "{rows_with_keys:#?}");
    assert!(rows_with_keys.iter().all(|l| l.contains(OWNER)));
    let items = run.json()["items"].as_array().cloned().unwrap_or_default();
    let keyless = items.iter().filter(|i| i.get("keys").is_none()).count();
    assert_eq!(keyless, 1_201, "the others' and the bystander's");
}

#[test]
fn my_list_sends_the_owner_selector_on_every_page() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let mine = env.canary("mine");
    seed_many(&env, server, OWNER, 1_001, &mine);
    seed_many(&env, server, OTHER_OWNER, 20, &mine);
    server.clear_requests();
    let run = env.run(&["secret", "list", "-o", "json"]);
    run.success();
    let requests = lists(server);
    assert_paged(&requests, 3);
    for r in &requests {
        assert_eq!(r.label_selector(), Some(owner_selector(OWNER)), "{r:?}");
    }
    let listed = names(&run.json()["items"], "secretName");
    assert_eq!(listed.len(), 1_001);
    assert_eq!(listed.iter().collect::<BTreeSet<_>>().len(), 1_001);
}

#[test]
fn reads_of_my_secrets_for_a_plan_are_paged() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    seed_many(&env, server, OWNER, 700, "mine");
    let manifest = env.manifest(&[entry("s0699")
        .kind("env")
        .inline(&[("TOKEN", "mine"), ("OTHER", "x")])]);
    server.clear_requests();
    env.diff(&manifest).exits(0);
    let requests = lists(server);
    assert_paged(&requests, 2);
    for r in &requests {
        assert_eq!(r.label_selector(), Some(owner_selector(OWNER)), "{r:?}");
    }
}

#[test]
fn identity_lookups_page_metadata_only_lists() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let theirs = env.canary("theirs");
    seed_many(&env, server, OTHER_OWNER, 1_100, &theirs);
    server.clear_requests();
    // No key name in a metadata-only answer.
    env.run(&["identity", "candidates", "-o", "json"])
        .success()
        .stdout_lacks("TOKEN");
    let requests = lists(server);
    assert_paged(&requests, 3);
    for r in &requests {
        let accept = r.accept.clone().unwrap_or_default();
        assert!(accept.contains("as=PartialObjectMetadataList"), "{r:?}");
        assert_eq!(r.label_selector().as_deref(), Some("parent=konduktor"));
    }

    // The hint `secret list` gives when none are mine uses the same list.
    server.clear_requests();
    env.run(&["secret", "list"]).success();
    let metadata: Vec<Recorded> = lists(server)
        .into_iter()
        .filter(|r| {
            r.accept
                .as_deref()
                .is_some_and(|a| a.contains("PartialObjectMetadataList"))
        })
        .collect();
    assert_paged(&metadata, 3);
}

#[test]
fn a_canary_in_other_users_values_is_never_printed() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let theirs = env.canary("theirs");
    seed_many(&env, server, OTHER_OWNER, 600, &theirs);
    // `run` fails the test if the canary (or its base64) appears anywhere.
    for args in [
        &["secret", "list", "-u"][..],
        &["secret", "list", "-u", "-o", "json"],
        &["secret", "list", "-u", "-o", "yaml"],
        &["-vv", "secret", "list", "-u"],
    ] {
        env.run(args).success();
    }
}

/// A page as large as a hostile server makes it (80 MiB of values): read
/// to 64 MiB and no further, asked for once more in a page of 32 (large
/// secrets could have made it so), then an error that names the server:
/// this one sends its 80 items again, more than the 32 asked for. The
/// metadata-only list of `identity candidates` is capped alike.
#[test]
fn a_list_page_over_the_cap_is_an_error_naming_the_server() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let manifest = env.manifest(&[entry("one").kind("env").inline(&[("TOKEN", "mine")])]);
    server.inject(
        FaultRule::new(Fault::HugePage(80 << 20))
            .on("GET")
            .path("/secrets"),
    );
    server.clear_requests();
    // 2 x 64 MiB through TLS in a debug build on a loaded machine can pass
    // the default 30 s: the timeout is not what this test is about.
    env.run(&["diff", "--request-timeout", "10m", "-f", &manifest])
        .failure()
        .stderr_has(&server.url())
        .stderr_has("more than 32 items, when this tool asked for 32")
        .stderr_has("help:");
    assert_eq!(
        limits(server),
        [Some(PAGE.to_string()), Some("32".to_string())],
        "one page, asked again smaller, never retried past that"
    );
    server.clear_requests();
    let run = env.run(&[
        "identity",
        "candidates",
        "--request-timeout",
        "10m",
        "-o",
        "json",
    ]);
    run.failure()
        .stderr_has(&server.url())
        .stderr_has("over 64 MiB");
    assert_eq!(lists(server).len(), 1, "{:?}", lists(server));
}

/// A page of a million empty items (`{}`: 3 MB, far under the byte cap, far
/// more held than sent) is refused as it is read, on every path that lists
/// secrets: past the 500 asked for, an error that names the server and
/// says the page held more than was asked for (not that the list did not
/// end: it did). Never asked for again: it would be as long again.
#[test]
fn a_page_of_more_items_than_asked_for_is_refused_on_every_list_path() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let mine = env.canary("mine");
    let manifest = env.manifest(&[entry("one").kind("env").inline(&[("TOKEN", &mine)])]);
    let values = env.path("values");
    server.inject(
        FaultRule::new(Fault::TinyItems(1_000_000))
            .on("GET")
            .path("/secrets"),
    );
    let commands: [&[&str]; 5] = [
        &["diff", "-f", &manifest],
        &["export", "--values-dir", crate::support::arg(&values)],
        &["secret", "list"],
        &["secret", "list", "-u"],
        &["identity", "candidates", "-o", "json"],
    ];
    for args in commands {
        server.clear_requests();
        // No timing in this test: load must not make it a timeout.
        let mut with_timeout = vec!["--request-timeout", "10m"];
        with_timeout.extend_from_slice(args);
        env.run(&with_timeout)
            .failure()
            .stderr_has(&server.url())
            .stderr_has(
                "a page of the list with more than 500 items, when this tool asked for 500",
            );
        assert_eq!(
            limits(server),
            [Some(PAGE.to_string())],
            "{args:?}: asked once"
        );
    }
}

/// A page whose body never ends is read to 64 MiB and no further on every
/// list path, `secret list` (whose values are skipped, not held) as well:
/// asked once more in a page of 32, as a page of large secrets would be,
/// then an error naming the server. `--request-timeout 10m`: the cap ends
/// it, not the clock.
#[test]
fn an_endless_page_is_read_to_the_cap_and_no_further() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    server.inject(
        FaultRule::new(Fault::EndlessPage)
            .on("GET")
            .path("/secrets"),
    );
    server.clear_requests();
    env.run(&["--request-timeout", "10m", "secret", "list"])
        .failure()
        .stderr_has(&server.url())
        .stderr_has("over 64 MiB")
        .stderr_has("help:");
    assert_eq!(
        limits(server),
        [Some(PAGE.to_string()), Some("32".to_string())],
        "one page, asked again smaller, never retried past that"
    );
}
