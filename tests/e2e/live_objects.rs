//! The corners of live objects (issue 14, points 1, 4 and 5): a Secret a
//! finalizer holds is Terminating, not deleted; one object gets one action;
//! only Opaque Secrets are ours. The finalizers are the test server's (it
//! models them as the recorded kube-apiserver does), so these run on it
//! alone.

use serde_json::json;

use crate::support::{ApiServer, OWNER, TestEnv, entry, labels, mine, secret_object, tls_secret};

const HOLD: &str = "example.com/hold";

/// `name` made by us, holding a canary, with a finalizer on it.
fn held(env: &TestEnv, server: &ApiServer, name: &str) -> String {
    let v = env.canary(name);
    env.create_env(name, &[("K", &v)]).success();
    server.add_finalizer(&env.namespace, &mine(name), HOLD);
    v
}

/// Is the object there and being deleted?
fn terminating(env: &TestEnv, name: &str) -> bool {
    env.my_secret(name)
        .is_some_and(|s| s["metadata"]["deletionTimestamp"].is_string())
}

// Point 1: a secret held by a finalizer is not "deleted".

#[test]
fn secret_delete_waits_until_the_finalizer_is_removed() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    held(&env, server, "held");
    // The controller finishes while the command waits: after two looks.
    server.remove_finalizers_after_gets(&env.namespace, &mine("held"), 2);
    server.clear_requests();
    env.run(&["secret", "delete", "held"])
        .success()
        .stdout_has(&format!("secret \"held\" deleted ({})", mine("held")));
    assert!(env.my_secret("held").is_none());
    assert_eq!(server.sent("DELETE"), 1, "deleted once, then waited");
}

#[test]
fn secret_delete_of_a_held_secret_times_out_and_says_what_holds_it() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    held(&env, server, "stuck");
    env.run(&["secret", "delete", "stuck", "--timeout", "1s"])
        .failure()
        .stdout_has("not yet deleted")
        .stderr_has(&format!("deletion pending on {HOLD}"))
        .stderr_has("was not deleted");
    assert!(terminating(&env, "stuck"), "still there, Terminating");
    // Asked not to wait: reported pending, exit 0, and not deleted again.
    server.clear_requests();
    env.run(&["secret", "delete", "stuck", "--wait=false"])
        .success()
        .stdout_has(&format!(
            "secret \"stuck\" not yet deleted ({}): deletion pending on {HOLD}",
            mine("stuck")
        ));
    assert_eq!(
        server.sent("DELETE"),
        0,
        "a Terminating secret is not deleted again"
    );
    // Once the finalizer goes, a delete finds it gone.
    server.remove_finalizers(&env.namespace, &mine("stuck"));
    assert!(env.my_secret("stuck").is_none());
}

#[test]
fn list_diff_apply_and_create_see_a_terminating_secret_and_never_write_it() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let old = held(&env, server, "going");
    server.delete_secret_elsewhere(&env.namespace, &mine("going"));
    env.run(&["secret", "list"])
        .success()
        .stdout_has("STATUS")
        .stdout_has(&format!("Terminating (finalizers: {HOLD})"));
    let listed = env.run(&["secret", "list", "-o", "json"]);
    listed.success();
    assert_eq!(
        listed.json()["items"][0]["terminating"]["finalizers"],
        json!([HOLD])
    );
    let new = env.canary("new");
    let file = env.manifest(&[entry("going").kind("env").inline(&[("K", &new)])]);
    env.diff(&file)
        .failure()
        .stdout_has("is being deleted")
        .stdout_has(&format!("deletion pending on {HOLD}"));
    server.clear_requests();
    env.apply_with(&file, &["--yes"])
        .failure()
        .stdout_has("is being deleted")
        .stderr_has("apply refused");
    env.create_env("going", &[("K", &new)])
        .failure()
        .stderr_has("is being deleted")
        .stderr_has(&format!("deletion pending on {HOLD}"));
    assert_eq!(server.sent("PATCH"), 0, "never merged into");
    assert_eq!(env.my_data("going").get("K"), Some(&old.into_bytes()));
}

#[test]
fn render_job_does_not_inject_a_terminating_secret_and_says_why() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    held(&env, server, "leaving");
    let v = env.canary("stays");
    env.create_env("staying", &[("S", &v)]).success();
    server.delete_secret_elsewhere(&env.namespace, &mine("leaving"));
    let task =
        env.task("name: t\nresources: {image_id: ubuntu, cpus: 1, memory: 1}\nrun: echo hi\n");
    env.run(&["render-job", "-f", &task, "-o", "json"])
        .success()
        .stderr_has(&format!(
            "secret {} is being deleted (deletion pending on {HOLD}); it is not injected",
            mine("leaving")
        ))
        .stdout_lacks(&mine("leaving"))
        .stdout_has(&mine("staying"));
}

#[test]
fn apply_waits_on_a_held_deletion_and_a_rerun_does_not_delete_it_again() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    held(&env, server, "old");
    let file = env.manifest(&[entry("old").absent()]);
    // Waited on up to --timeout, then reported: not deleted.
    env.apply_with(&file, &["--yes", "--timeout", "1s"])
        .failure()
        .stdout_has(&format!("deletion pending on {HOLD}"))
        .stdout_has("NOT deleted");
    assert!(terminating(&env, "old"));
    // Planned as waiting on deletion, never as a new delete.
    server.clear_requests();
    env.diff(&file)
        .stdout_has("waiting on deletion of")
        .stdout_has("0 to delete");
    env.apply_with(&file, &["--yes", "--wait=false"])
        .success()
        .stdout_has("not yet deleted")
        .stdout_has(&format!("deletion pending on {HOLD}"));
    assert_eq!(server.sent("DELETE"), 0);
    // The finalizer goes while apply waits: done, and the secret is gone.
    server.remove_finalizers_after_gets(&env.namespace, &mine("old"), 1);
    env.apply_with(&file, &["--yes"])
        .success()
        .stdout_has(&format!("secret \"old\" deleted ({})", mine("old")))
        .stdout_has("Apply complete");
    assert!(env.my_secret("old").is_none());
    assert_eq!(server.sent("DELETE"), 0);
}

#[test]
fn a_prune_that_a_finalizer_holds_is_pending_not_deleted() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    held(&env, server, "stray");
    let v = env.canary("kept");
    let file = env.manifest(&[entry("kept").inline(&[("K", &v)])]);
    let run = env.apply_with(&file, &["--prune", "--yes", "--wait=false", "-o", "json"]);
    run.success();
    let result = run.json()["result"].clone();
    let stray = result
        .as_array()
        .into_iter()
        .flatten()
        .find(|o| o["secretName"] == mine("stray"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(stray["status"], "pending", "{result}");
    assert_eq!(
        stray["message"],
        format!("deletion pending on {HOLD}"),
        "{result}"
    );
    assert!(terminating(&env, "stray"));
}

// Point 4: one object, one action.

#[test]
fn our_object_with_a_wrong_or_missing_basename_label_is_merged_and_repaired_never_also_deleted() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let (a, b) = (env.canary("a"), env.canary("b"));
    for (name, labels) in [
        ("wrong", labels(OWNER, "something-else", "env")),
        // No basename label (with no kind label either it would be
        // Konduktor's own, docs/konduktor-compat.md §1.6: never merged).
        (
            "unlabelled",
            json!({"parent": "konduktor", "trainy.ai/secret-owner": OWNER,
                "trainy.ai/secret-kind": "env"}),
        ),
    ] {
        env.seed(secret_object(name).labels(labels).value("OLD", &a));
    }
    let file = env.manifest(&[
        entry("wrong").kind("env").inline(&[("K", &b)]),
        entry("unlabelled").kind("env").inline(&[("K", &b)]),
    ]);
    let plan = env.diff_with(&file, &["--prune", "-o", "json"]).json();
    let mut names: Vec<String> = plan["secrets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["secretName"].as_str().map(str::to_string))
        .collect();
    names.sort();
    assert_eq!(names, [mine("unlabelled"), mine("wrong")], "{plan}");
    server.clear_requests();
    env.apply_with(&file, &["--prune", "--yes"]).success();
    assert_eq!(server.sent("DELETE"), 0, "never deleted as well");
    assert_eq!(server.sent("PATCH"), 2);
    for name in ["wrong", "unlabelled"] {
        let obj = env
            .my_secret(name)
            .unwrap_or_else(|| panic!("{name} is gone"));
        assert_eq!(obj["metadata"]["labels"]["trainy.ai/secret-basename"], name);
        assert_eq!(obj["metadata"]["labels"]["trainy.ai/secret-kind"], "env");
    }
    // Converged: a second run changes nothing.
    server.clear_requests();
    env.apply_with(&file, &["--prune", "--yes"])
        .success()
        .stdout_has("No changes");
}

// Point 5: only Opaque secrets are ours.

#[test]
fn a_tls_secret_with_our_labels_is_a_conflict_never_written_or_deleted() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let (crt, key) = (env.canary("crt"), env.canary("key"));
    env.seed(tls_secret("cert", &crt, &key));
    let before = env.my_secret("cert");
    let v = env.canary("mine");
    // Named in the manifest: a conflict, apply refused.
    let named = env.manifest(&[entry("cert").inline(&[("K", &v)])]);
    env.diff(&named)
        .failure()
        .stdout_has("is of type kubernetes.io/tls, not Opaque");
    env.apply_with(&named, &["--yes"])
        .failure()
        .stderr_has("apply refused");
    // Not named, with --prune: reported, never deleted; the rest applies.
    let other = env.manifest(&[entry("other").inline(&[("K", &v)])]);
    env.apply_with(&other, &["--prune", "--yes"])
        .success()
        .stdout_has("kubernetes.io/tls");
    // secret create and secret delete refuse it too.
    env.create("cert", &[("K", &v)])
        .failure()
        .stderr_has("type kubernetes.io/tls, not Opaque");
    env.run(&["secret", "delete", "cert"])
        .failure()
        .stderr_has("type kubernetes.io/tls");
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.path.ends_with(&mine("cert")) && r.method != "GET")
            .count(),
        0,
        "never written or deleted"
    );
    assert_eq!(env.my_secret("cert"), before);
    assert!(env.my_secret("other").is_some());
}

/// Issue 21 point 7: `secret create --kind git-ssh` replaces the previous
/// git-ssh secret; one a finalizer holds is deleted but stays, and is not
/// reported as removed.
#[test]
fn a_replaced_git_ssh_secret_a_finalizer_holds_is_not_said_removed() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let key = env.file_arg("id_old", env.canary("old-key"));
    env.create_git_ssh("old-ssh", &key).success();
    server.add_finalizer(&env.namespace, &mine("old-ssh"), HOLD);
    let new_key = env.file_arg("id_new", env.canary("new-key"));
    env.create_git_ssh("new-ssh", &new_key)
        .success()
        .stdout_has("deleting the previous git-ssh secret \"old-ssh\"")
        .stdout_has(&format!(
            "it stays until its finalizers are removed ({HOLD})"
        ))
        .stdout_lacks("removed the previous");
    assert!(terminating(&env, "old-ssh"));
}
