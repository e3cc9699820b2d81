//! The corners of live objects (issue 14, points 1, 4 and 5): a Secret a
//! finalizer holds is Terminating, not deleted; one object gets one action;
//! only Opaque Secrets are ours. The finalizers are the test server's (it
//! models them as the recorded kube-apiserver does), so these run on it
//! alone.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::support::{ApiServer, OWNER, TestEnv};

const HEAD: &str = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n";
const HOLD: &str = "example.com/hold";

fn manifest(env: &TestEnv, body: &str) -> PathBuf {
    env.file("secrets.yaml", format!("{HEAD}{body}"))
}

fn object(name: &str) -> String {
    format!("{name}-{OWNER}")
}

/// The requests with this method since the last clear.
fn sent(server: &ApiServer, method: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.method == method)
        .count()
}

/// `name` made by us, holding a canary, with a finalizer on it.
fn held(env: &TestEnv, server: &ApiServer, name: &str) -> String {
    let v = env.canary(name);
    env.run(&[
        "secret",
        "create",
        "--kind",
        "env",
        "--inline",
        &format!("K={v}"),
        name,
    ])
    .success();
    server.add_finalizer(&env.namespace, &object(name), HOLD);
    v
}

/// Is the object there and being deleted?
fn terminating(env: &TestEnv, name: &str) -> bool {
    env.secret(&object(name))
        .is_some_and(|s| s["metadata"]["deletionTimestamp"].is_string())
}

/// A Secret of `secret_type` carrying our labels, as another tool might
/// leave one (e.g. a certificate controller copying labels).
fn seed_foreign_type(env: &TestEnv, name: &str, secret_type: &str, data: Value) {
    env.seed(json!({
        "apiVersion": "v1", "kind": "Secret", "type": secret_type,
        "metadata": {"name": object(name), "labels": {
            "parent": "konduktor", "trainy.ai/secret-owner": OWNER,
            "trainy.ai/secret-basename": name, "trainy.ai/secret-kind": "default"}},
        "data": data,
    }));
}

fn b64(text: &str) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, text)
}

// Point 1: a secret held by a finalizer is not "deleted".

#[test]
fn secret_delete_waits_until_the_finalizer_is_removed() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    held(&env, server, "held");
    // The controller finishes while the command waits: after two looks.
    server.remove_finalizers_after_gets(&env.namespace, &object("held"), 2);
    server.clear_requests();
    env.run(&["secret", "delete", "held"])
        .success()
        .stdout_has(&format!("secret \"held\" deleted ({})", object("held")));
    assert!(env.secret(&object("held")).is_none());
    assert_eq!(sent(server, "DELETE"), 1, "deleted once, then waited");
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
            object("stuck")
        ));
    assert_eq!(
        sent(server, "DELETE"),
        0,
        "a Terminating secret is not deleted again"
    );
    // Once the finalizer goes, a delete finds it gone.
    server.remove_finalizers(&env.namespace, &object("stuck"));
    assert!(env.secret(&object("stuck")).is_none());
}

#[test]
fn list_diff_apply_and_create_see_a_terminating_secret_and_never_write_it() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let old = held(&env, server, "going");
    server.delete_secret_elsewhere(&env.namespace, &object("going"));
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
    let file = manifest(
        &env,
        &format!("  - name: going\n    kind: env\n    inline: {{K: {new}}}\n"),
    );
    let path = file.to_string_lossy().to_string();
    env.run(&["diff", "-f", &path])
        .failure()
        .stdout_has("is being deleted")
        .stdout_has(&format!("deletion pending on {HOLD}"));
    server.clear_requests();
    env.run(&["apply", "-f", &path, "--yes"])
        .failure()
        .stdout_has("is being deleted")
        .stderr_has("apply refused");
    env.run(&[
        "secret",
        "create",
        "--kind",
        "env",
        "--inline",
        &format!("K={new}"),
        "going",
    ])
    .failure()
    .stderr_has("is being deleted")
    .stderr_has(&format!("deletion pending on {HOLD}"));
    assert_eq!(sent(server, "PATCH"), 0, "never merged into");
    assert_eq!(env.data(&object("going")).get("K"), Some(&old.into_bytes()));
}

#[test]
fn render_job_does_not_inject_a_terminating_secret_and_says_why() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    held(&env, server, "leaving");
    let v = env.canary("stays");
    env.run(&[
        "secret",
        "create",
        "--kind",
        "env",
        "--inline",
        &format!("S={v}"),
        "staying",
    ])
    .success();
    server.delete_secret_elsewhere(&env.namespace, &object("leaving"));
    let task = env.file(
        "task.yaml",
        "name: t\nresources: {image_id: ubuntu, cpus: 1, memory: 1}\nrun: echo hi\n",
    );
    let run = env.run(&["render-job", "-f", &task.to_string_lossy(), "-o", "json"]);
    run.success().stderr_has(&format!(
        "secret {} is being deleted (deletion pending on {HOLD}); it is not injected",
        object("leaving")
    ));
    assert!(!run.stdout.contains(&object("leaving")), "{}", run.stdout);
    assert!(run.stdout.contains(&object("staying")), "{}", run.stdout);
}

#[test]
fn apply_waits_on_a_held_deletion_and_a_rerun_does_not_delete_it_again() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    held(&env, server, "old");
    let file = manifest(&env, "  - name: old\n    state: absent\n");
    let path = file.to_string_lossy().to_string();
    // Waited on up to --timeout, then reported: not deleted.
    env.run(&["apply", "-f", &path, "--yes", "--timeout", "1s"])
        .failure()
        .stdout_has(&format!("deletion pending on {HOLD}"))
        .stdout_has("NOT deleted");
    assert!(terminating(&env, "old"));
    // Planned as waiting on deletion, never as a new delete.
    server.clear_requests();
    let diff = env.run(&["diff", "-f", &path]);
    diff.stdout_has("waiting on deletion of")
        .stdout_has("0 to delete");
    let run = env.run(&["apply", "-f", &path, "--yes", "--wait=false"]);
    run.success()
        .stdout_has("not yet deleted")
        .stdout_has(&format!("deletion pending on {HOLD}"));
    assert_eq!(sent(server, "DELETE"), 0);
    // The finalizer goes while apply waits: done, and the secret is gone.
    server.remove_finalizers_after_gets(&env.namespace, &object("old"), 1);
    env.run(&["apply", "-f", &path, "--yes"])
        .success()
        .stdout_has(&format!("secret \"old\" deleted ({})", object("old")))
        .stdout_has("Apply complete");
    assert!(env.secret(&object("old")).is_none());
    assert_eq!(sent(server, "DELETE"), 0);
}

#[test]
fn a_prune_that_a_finalizer_holds_is_pending_not_deleted() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    held(&env, server, "stray");
    let v = env.canary("kept");
    let file = manifest(&env, &format!("  - name: kept\n    inline: {{K: {v}}}\n"));
    let path = file.to_string_lossy().to_string();
    let run = env.run(&[
        "apply",
        "-f",
        &path,
        "--prune",
        "--yes",
        "--wait=false",
        "-o",
        "json",
    ]);
    run.success();
    let result = run.json()["result"].clone();
    let stray = result
        .as_array()
        .into_iter()
        .flatten()
        .find(|o| o["secretName"] == object("stray"))
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
        (
            "wrong",
            json!({"parent": "konduktor", "trainy.ai/secret-owner": OWNER,
                "trainy.ai/secret-basename": "something-else", "trainy.ai/secret-kind": "env"}),
        ),
        // No basename label (with no kind label either it would be
        // Konduktor's own, docs/konduktor-compat.md §1.6: never merged).
        (
            "unlabelled",
            json!({"parent": "konduktor", "trainy.ai/secret-owner": OWNER,
                "trainy.ai/secret-kind": "env"}),
        ),
    ] {
        env.seed(json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": object(name), "labels": labels},
            "data": {"OLD": b64(&a)},
        }));
    }
    let file = manifest(
        &env,
        &format!(
            "  - name: wrong\n    kind: env\n    inline: {{K: {b}}}\n  - name: unlabelled\n    kind: env\n    inline: {{K: {b}}}\n"
        ),
    );
    let path = file.to_string_lossy().to_string();
    let diff = env.run(&["diff", "-f", &path, "--prune", "-o", "json"]);
    let plan = diff.json();
    let mut names: Vec<String> = plan["secrets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["secretName"].as_str().map(str::to_string))
        .collect();
    names.sort();
    assert_eq!(names, [object("unlabelled"), object("wrong")], "{plan}");
    server.clear_requests();
    env.run(&["apply", "-f", &path, "--prune", "--yes"])
        .success();
    assert_eq!(sent(server, "DELETE"), 0, "never deleted as well");
    assert_eq!(sent(server, "PATCH"), 2);
    for name in ["wrong", "unlabelled"] {
        let obj = env
            .secret(&object(name))
            .unwrap_or_else(|| panic!("{name} is gone"));
        assert_eq!(obj["metadata"]["labels"]["trainy.ai/secret-basename"], name);
        assert_eq!(obj["metadata"]["labels"]["trainy.ai/secret-kind"], "env");
    }
    // Converged: a second run changes nothing.
    server.clear_requests();
    env.run(&["apply", "-f", &path, "--prune", "--yes"])
        .success()
        .stdout_has("No changes");
}

// Point 5: only Opaque secrets are ours.

#[test]
fn a_tls_secret_with_our_labels_is_a_conflict_never_written_or_deleted() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let (crt, key) = (env.canary("crt"), env.canary("key"));
    seed_foreign_type(
        &env,
        "cert",
        "kubernetes.io/tls",
        json!({"tls.crt": b64(&crt), "tls.key": b64(&key)}),
    );
    let before = env.secret(&object("cert"));
    let v = env.canary("mine");
    // Named in the manifest: a conflict, apply refused.
    let named = manifest(&env, &format!("  - name: cert\n    inline: {{K: {v}}}\n"));
    let named = named.to_string_lossy().to_string();
    env.run(&["diff", "-f", &named])
        .failure()
        .stdout_has("is of type kubernetes.io/tls, not Opaque");
    env.run(&["apply", "-f", &named, "--yes"])
        .failure()
        .stderr_has("apply refused");
    // Not named, with --prune: reported, never deleted; the rest applies.
    let other = manifest(&env, &format!("  - name: other\n    inline: {{K: {v}}}\n"));
    let other = other.to_string_lossy().to_string();
    env.run(&["apply", "-f", &other, "--prune", "--yes"])
        .success()
        .stdout_has("kubernetes.io/tls");
    // secret create and secret delete refuse it too.
    env.run(&["secret", "create", "--inline", &format!("K={v}"), "cert"])
        .failure()
        .stderr_has("type kubernetes.io/tls, not Opaque");
    env.run(&["secret", "delete", "cert"])
        .failure()
        .stderr_has("type kubernetes.io/tls");
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| r.path.ends_with(&object("cert")) && r.method != "GET")
            .count(),
        0,
        "never written or deleted"
    );
    assert_eq!(env.secret(&object("cert")), before);
    assert!(env.secret(&object("other")).is_some());
}

/// Issue 21 point 7: `secret create --kind git-ssh` replaces the previous
/// git-ssh secret; one a finalizer holds is deleted but stays, and is not
/// reported as removed.
#[test]
fn a_replaced_git_ssh_secret_a_finalizer_holds_is_not_said_removed() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let key = env.file("id_old", env.canary("old-key"));
    env.run(&[
        "secret",
        "create",
        "--kind",
        "git-ssh",
        "--from-file",
        key.to_str().unwrap_or_default(),
        "old-ssh",
    ])
    .success();
    server.add_finalizer(&env.namespace, &object("old-ssh"), HOLD);
    let new_key = env.file("id_new", env.canary("new-key"));
    let run = env.run(&[
        "secret",
        "create",
        "--kind",
        "git-ssh",
        "--from-file",
        new_key.to_str().unwrap_or_default(),
        "new-ssh",
    ]);
    run.success()
        .stdout_has("deleting the previous git-ssh secret \"old-ssh\"")
        .stdout_has(&format!(
            "it stays until its finalizers are removed ({HOLD})"
        ));
    assert!(
        !run.stdout.contains("removed the previous"),
        "{}",
        run.stdout
    );
    assert!(terminating(&env, "old-ssh"));
}
