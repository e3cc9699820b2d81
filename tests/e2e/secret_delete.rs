//! `secret delete`: only the caller's, with preconditions.

use crate::support::{Fault, FaultRule, OTHER_OWNER, OWNER, TestEnv, mine, secret_object};

#[test]
fn deletes_my_secret_with_uid_and_resource_version_preconditions() {
    let env = TestEnv::new();
    let v = env.canary("del");
    env.create("gone", &[("K", &v)]).success();
    let obj = env.my_secret("gone").unwrap_or_default();
    env.run(&["secret", "delete", "gone"])
        .success()
        .stdout_has("secret \"gone\" deleted");
    assert!(env.my_secret("gone").is_none());
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
    env.as_owner(OTHER_OWNER)
        .create("shared-name", &[("K", &v)])
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
    env.create("racy", &[("K", &v)]).success();
    // Hold the DELETE at the server while someone else changes the secret.
    server.inject(
        FaultRule::new(Fault::Delay(std::time::Duration::from_millis(800)))
            .on("DELETE")
            .times(1),
    );
    let delete = env.cmd(&["secret", "delete", "racy"]).start();
    std::thread::sleep(std::time::Duration::from_millis(400));
    server.touch_secret(&env.namespace, &mine("racy"));
    delete
        .finish()
        .failure()
        .stderr_has("does not match the ResourceVersion")
        .stderr_has("run the command again");
    assert!(env.my_secret("racy").is_some());
}

/// A server (or proxy) that ignores label selectors answers every LIST
/// with every secret: what is deleted or written is checked against our
/// owner label, never trusted to the selector (issue 14, hardening).
#[test]
fn a_server_that_ignores_selectors_never_gets_a_write_to_another_owners_secret() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    let v = env.canary("ignored-selector");
    let key = env.file_arg(
        "id_ed25519",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    );
    for name in ["held", "hf-token"] {
        env.create(name, &[("K", &v)]).success();
    }
    for owner in [OTHER_OWNER, "deadbeef"] {
        let them = env.as_owner(owner);
        them.create("held", &[("K", &v)]).success();
        them.create_git_ssh("their-ssh", &key).success();
    }
    server.ignore_selectors();
    server.clear_requests();
    env.run(&["secret", "list"])
        .success()
        .stdout_lacks("their-ssh");
    env.create_git_ssh("my-ssh", &key).success();
    env.run(&["secret", "delete", "held"])
        .success()
        .stdout_has(&format!("secret \"held\" deleted ({})", mine("held")));
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
            "DELETE /api/v1/namespaces/{}/secrets/{}",
            env.namespace,
            mine("held")
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
    assert!(env.my_secret("hf-token").is_some());
}

/// One `secret delete NAME` deletes one object: with your `foo-<hash>` and
/// Konduktor's own `foo` (both basename foo), the object named `foo` goes
/// and the other is said to stay; Konduktor's own goes by its whole name
/// even without a basename label, as `secret list` says.
#[test]
fn one_name_deletes_one_object_and_konduktors_own_goes_by_its_whole_name() {
    let env = TestEnv::new();
    let v = env.canary("foo-default");
    env.create("foo", &[("K", &v)]).success();
    env.seed(
        secret_object("foo")
            .named("foo")
            .kind("S3")
            .value("awscredentials", env.canary("foo-s3")),
    );
    let keys = mine("konduktor-ssh-keys");
    env.seed(
        secret_object("konduktor-ssh-keys")
            .labels(serde_json::json!({"parent": "konduktor", "trainy.ai/secret-owner": OWNER}))
            .value("PRIVKEY", env.canary("ssh-keys")),
    );
    env.run(&["secret", "delete", "foo"])
        .success()
        .stdout_has("secret \"foo\" deleted (foo)\n")
        .stderr_has(&format!(
            "your secret \"foo\" ({}) also answers to \"foo\" and is kept",
            mine("foo")
        ));
    assert!(env.secret("foo").is_none());
    assert!(env.my_secret("foo").is_some(), "both went");
    env.run(&["secret", "delete", "foo"])
        .success()
        .stdout_has(&format!("secret \"foo\" deleted ({})", mine("foo")));
    env.run(&["secret", "delete", &keys])
        .success()
        .stderr_has("SSH keys");
    assert!(env.secret(&keys).is_none());
}
