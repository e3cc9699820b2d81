//! `secret delete`: only the caller's, with preconditions.

use crate::support::{Fault, FaultRule, OTHER_OWNER, OWNER, TestEnv};

#[test]
fn deletes_my_secret_with_uid_and_resource_version_preconditions() {
    let env = TestEnv::new();
    let v = env.canary("del");
    env.run(&["secret", "create", "--inline", &format!("K={v}"), "gone"])
        .success();
    let obj = env.secret(&format!("gone-{OWNER}")).unwrap_or_default();
    env.run(&["secret", "delete", "gone"])
        .success()
        .stdout_has("secret \"gone\" deleted");
    assert!(env.secret(&format!("gone-{OWNER}")).is_none());
    if let Some(server) = env.fake() {
        let body = server.first_body("DELETE");
        assert_eq!(body["preconditions"]["uid"], obj["metadata"]["uid"]);
        assert_eq!(
            body["preconditions"]["resourceVersion"],
            obj["metadata"]["resourceVersion"]
        );
    }
}

#[test]
fn another_users_secret_of_that_name_is_not_mine_to_delete() {
    let env = TestEnv::new();
    let v = env.canary("theirs");
    env.run_as(
        OTHER_OWNER,
        &[
            "secret",
            "create",
            "--inline",
            &format!("K={v}"),
            "shared-name",
        ],
    )
    .success();
    env.run(&["secret", "delete", "shared-name"])
        .failure()
        .stderr_has("you own no secret named \"shared-name\"")
        .stderr_has("other user");
    assert!(env.secret(&format!("shared-name-{OTHER_OWNER}")).is_some());
    env.run(&["secret", "delete", "never-existed"])
        .failure()
        .stderr_has("you own no secret named \"never-existed\"");
    env.run(&["secret", "delete", "Not_Valid"])
        .failure()
        .stderr_has("DNS-1123");
}

#[test]
fn a_secret_changed_after_it_was_read_is_not_deleted() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let v = env.canary("race");
    env.run(&["secret", "create", "--inline", &format!("K={v}"), "racy"])
        .success();
    // Hold the DELETE at the server while someone else changes the secret.
    server.inject(
        FaultRule::new(Fault::Delay(std::time::Duration::from_millis(800)))
            .on("DELETE")
            .times(1),
    );
    let mut cmd = env.command();
    cmd.args(["-n", &env.namespace, "secret", "delete", "racy"]);
    let handle = std::thread::spawn(move || cmd.output());
    std::thread::sleep(std::time::Duration::from_millis(400));
    server.touch_secret(&env.namespace, &format!("racy-{OWNER}"));
    let out = handle
        .join()
        .unwrap_or_else(|_| panic!("thread"))
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    env.assert_no_leak(&stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("does not match the ResourceVersion"),
        "{stderr}"
    );
    assert!(stderr.contains("run the command again"), "{stderr}");
    assert!(env.secret(&format!("racy-{OWNER}")).is_some());
}

/// A server (or proxy) that ignores label selectors answers every LIST
/// with every secret: what is deleted or written is checked against our
/// owner label, never trusted to the selector (issue 14, hardening).
#[test]
fn a_server_that_ignores_selectors_never_gets_a_write_to_another_owners_secret() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let v = env.canary("ignored-selector");
    let key = env.file(
        "id_ed25519",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    );
    let key = key.to_str().unwrap_or_default();
    for name in ["held", "hf-token"] {
        env.run(&["secret", "create", "--inline", &format!("K={v}"), name])
            .success();
    }
    for owner in [OTHER_OWNER, "deadbeef"] {
        env.run_as(
            owner,
            &["secret", "create", "--inline", &format!("K={v}"), "held"],
        )
        .success();
        env.run_as(
            owner,
            &[
                "secret",
                "create",
                "--kind",
                "git-ssh",
                "--from-file",
                key,
                "their-ssh",
            ],
        )
        .success();
    }
    server.ignore_selectors();
    server.clear_requests();
    let listed = env.run(&["secret", "list"]);
    listed.success();
    assert!(!listed.stdout.contains("their-ssh"), "{}", listed.stdout);
    env.run(&[
        "secret",
        "create",
        "--kind",
        "git-ssh",
        "--from-file",
        key,
        "my-ssh",
    ])
    .success();
    env.run(&["secret", "delete", "held"])
        .success()
        .stdout_has(&format!("secret \"held\" deleted (held-{OWNER})"));
    env.run(&["secret", "delete", "held"])
        .failure()
        .stderr_has("you own no secret named \"held\"");
    let writes: Vec<String> = server
        .requests()
        .into_iter()
        .filter(|r| matches!(r.method.as_str(), "DELETE" | "PATCH" | "PUT"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        writes,
        vec![format!(
            "DELETE /api/v1/namespaces/{}/secrets/held-{OWNER}",
            env.namespace
        )],
    );
    for owner in [OTHER_OWNER, "deadbeef"] {
        for name in ["held", "their-ssh"] {
            assert!(
                env.secret(&format!("{name}-{owner}")).is_some(),
                "{name}-{owner}"
            );
        }
    }
    assert!(env.secret(&format!("hf-token-{OWNER}")).is_some());
}

/// One `secret delete NAME` deletes one object: with your `foo-<hash>` and
/// Konduktor's own `foo` (both basename foo), the object named `foo` goes
/// and the other is said to stay; Konduktor's own goes by its whole name
/// even without a basename label, as `secret list` says.
#[test]
fn one_name_deletes_one_object_and_konduktors_own_goes_by_its_whole_name() {
    let env = TestEnv::new();
    let v = env.canary("foo-default");
    env.run(&["secret", "create", "--inline", &format!("K={v}"), "foo"])
        .success();
    let labels = |basename: Option<&str>, kind: Option<&str>| {
        let mut l = serde_json::json!({"parent": "konduktor", "trainy.ai/secret-owner": OWNER});
        if let Some(b) = basename {
            l["trainy.ai/secret-basename"] = serde_json::json!(b);
        }
        if let Some(k) = kind {
            l["trainy.ai/secret-kind"] = serde_json::json!(k);
        }
        l
    };
    let canary = |name: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(env.canary(name))
    };
    env.seed(
        serde_json::json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "foo", "labels": labels(Some("foo"), Some("S3"))},
        "data": {"awscredentials": canary("foo-s3")}}),
    );
    let keys = format!("konduktor-ssh-keys-{OWNER}");
    env.seed(
        serde_json::json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": keys, "labels": labels(None, None)},
        "data": {"PRIVKEY": canary("ssh-keys")}}),
    );
    env.run(&["secret", "delete", "foo"])
        .success()
        .stdout_has("secret \"foo\" deleted (foo)\n")
        .stderr_has(&format!(
            "your secret \"foo\" (foo-{OWNER}) also answers to \"foo\" and is kept"
        ));
    assert!(env.secret("foo").is_none());
    assert!(env.secret(&format!("foo-{OWNER}")).is_some(), "both went");
    env.run(&["secret", "delete", "foo"])
        .success()
        .stdout_has(&format!("secret \"foo\" deleted (foo-{OWNER})"));
    env.run(&["secret", "delete", &keys])
        .success()
        .stderr_has("SSH keys");
    assert!(env.secret(&keys).is_none());
}
