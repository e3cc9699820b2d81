//! `secret create`: Konduktor's exact objects, merges, git-ssh replacement,
//! and every input rule refused before any request.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::json;

use crate::support::{
    OTHER_OWNER, OWNER, TestEnv, arg, b64, decode_data, entry, fixture_json, fixtures, mine,
    secret_object,
};

fn zip_entries(bytes: &[u8]) -> Vec<(String, Vec<u8>, Option<u32>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec()))
        .unwrap_or_else(|e| panic!("{e}"));
    (0..archive.len())
        .map(|i| {
            let mut f = archive.by_index(i).unwrap_or_else(|e| panic!("{e}"));
            let mut content = Vec::new();
            f.read_to_end(&mut content)
                .unwrap_or_else(|e| panic!("{e}"));
            (
                f.name().map(|n| n.to_string()).unwrap_or_default(),
                content,
                f.unix_mode(),
            )
        })
        .collect()
}

#[test]
fn file_secret_is_konduktors_object() {
    let env = TestEnv::new();
    let value = env.canary("file");
    env.file("token.txt", &value);
    env.create_file("hf-token", "token.txt")
        .success()
        .stdout_has("secret \"hf-token\" created");
    let obj = env
        .my_secret("hf-token")
        .unwrap_or_else(|| panic!("not created"));
    assert_eq!(obj["type"], "Opaque");
    assert!(obj.get("stringData").is_none());
    let labels = &obj["metadata"]["labels"];
    assert_eq!(labels["parent"], "konduktor");
    assert_eq!(labels["trainy.ai/secret-owner"], OWNER);
    assert_eq!(labels["trainy.ai/secret-basename"], "hf-token");
    assert_eq!(labels["trainy.ai/secret-kind"], "default");
    assert_eq!(
        decode_data(&obj),
        BTreeMap::from([("token.txt".to_string(), value.into_bytes())])
    );
    // Written with our field manager, as the `create-secret` fixture shows.
    if let Some(server) = env.fake() {
        let post = server
            .requests()
            .into_iter()
            .find(|r| r.method == "POST" && r.path.ends_with("/secrets"))
            .unwrap_or_else(|| panic!("no POST"));
        assert!(
            post.query.contains("fieldManager=kubectl-konduktor"),
            "{post:?}"
        );
    }
}

#[test]
fn same_object_as_konduktor_for_every_source() {
    // Konduktor's own CLI made these (fixtures/konduktor-made) from source/.
    let env = TestEnv::new();
    let src = fixtures().join("konduktor-made/source");
    let file = src.join("secret-file.txt");
    let id = src.join("id_test");
    env.create_file("my-default-file", arg(&file)).success();
    env.create("my-default-inline", &[("FOO", "bar")]).success();
    env.create_env("my-env", &[("FOO", "bar")]).success();
    env.create_env("my-env", &[("BAZ", "qux")])
        .success()
        .stdout_has("merged");
    env.create_git_ssh("my-ssh", arg(&id)).success();
    env.create_git_ssh("my-ssh-2", arg(&id))
        .success()
        .stdout_has("removed the previous git-ssh secret \"my-ssh\"");
    for name in ["my-default-file", "my-default-inline", "my-env", "my-ssh-2"] {
        let theirs = fixture_json(&format!("konduktor-made/{}.json", mine(name)));
        let ours = env
            .my_secret(name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(
            ours["metadata"]["labels"], theirs["metadata"]["labels"],
            "{name}"
        );
        assert_eq!(ours["type"], theirs["type"], "{name}");
        assert_eq!(ours["data"], theirs["data"], "{name}");
    }
    assert!(
        env.my_secret("my-ssh").is_none(),
        "one git-ssh secret per owner"
    );
}

#[test]
fn directory_secret_has_konduktors_entry_layout_and_is_deterministic() {
    let env = TestEnv::new();
    let root = env.path("mycreds");
    let canary = env.canary("dir");
    env.file("mycreds/a.txt", &canary);
    env.file("mycreds/.hidden", "hidden");
    env.file("mycreds/.DS_Store", "junk");
    env.file("mycreds/sub/b.json", "{\"b\": 1}\n");
    env.file("mycreds/sub/deeper/c", "c");
    std::fs::create_dir_all(root.join("emptydir")).unwrap_or_else(|e| panic!("{e}"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(root.join("a.txt"), std::fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    env.run(&["secret", "create", "--from-directory", "mycreds", "creds"])
        .success();
    env.run(&[
        "secret",
        "create",
        "--from-directory",
        "mycreds",
        "creds-again",
    ])
    .success();
    let first = env.my_data("creds");
    let second = env.my_data("creds-again");
    assert_eq!(first.keys().collect::<Vec<_>>(), ["payload.zip"]);
    assert_eq!(
        first, second,
        "the same folder must give the same zip bytes"
    );

    let ours = zip_entries(&first["payload.zip"]);
    let theirs = zip_entries(
        &decode_data(&fixture_json(&format!(
            "konduktor-made/{}.json",
            mine("my-default-directory")
        )))["payload.zip"],
    );
    let names =
        |v: &[(String, Vec<u8>, Option<u32>)]| v.iter().map(|e| e.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&ours),
        names(&theirs),
        "entry layout must match Konduktor's"
    );
    let a = ours
        .iter()
        .find(|e| e.0 == "mycreds/a.txt")
        .unwrap_or_else(|| panic!("a.txt"));
    assert_eq!(a.1, canary.as_bytes());
    #[cfg(unix)]
    assert_eq!(a.2.map(|m| m & 0o777), Some(0o600), "mode bits are kept");
}

#[test]
fn merge_keeps_keys_konduktor_wrote_and_relabels_kind() {
    let env = TestEnv::new();
    env.seed_fixture(&mine("my-env"));
    let value = env.canary("new");
    env.create_env("my-env", &[("NEW", &value)])
        .success()
        .stdout_has("added: NEW")
        .stdout_has("kept: BAZ, FOO");
    let data = env.my_data("my-env");
    assert_eq!(data.keys().collect::<Vec<_>>(), ["BAZ", "FOO", "NEW"]);
    assert_eq!(data["FOO"], b"bar");
    // Same name with another kind: data merged, kind label follows the last write.
    env.create("my-env", &[("FOO", "changed")])
        .success()
        .stdout_has("kind now default");
    let obj = env.my_secret("my-env").unwrap_or_default();
    assert_eq!(
        obj["metadata"]["labels"]["trainy.ai/secret-kind"],
        "default"
    );
    assert_eq!(decode_data(&obj)["FOO"], b"changed");
    assert_eq!(decode_data(&obj).len(), 3);
}

#[test]
fn merge_is_conditional_on_the_resource_version_it_read() {
    let env = TestEnv::new();
    let Some(server) = env.fake() else { return };
    env.seed_fixture(&mine("my-env"));
    env.create_env("my-env", &[("X", "1")]).success();
    let patch = server
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .unwrap_or_else(|| panic!("no PATCH"));
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/merge-patch+json")
    );
    let body: serde_json::Value = serde_json::from_str(&patch.body).unwrap_or_default();
    assert!(
        body["metadata"]["resourceVersion"].is_string(),
        "merge must carry the resourceVersion: {body}"
    );
}

#[test]
fn a_foreign_secret_with_our_name_is_never_touched() {
    let env = TestEnv::new();
    let theirs = env.canary("theirs");
    // Named like ours, but labelled for another owner.
    env.seed(
        secret_object("creds")
            .owner(OTHER_OWNER)
            .named(&mine("creds"))
            .value("A", &theirs),
    );
    let before = env.my_secret("creds");
    let value = env.canary("mine");
    env.create_env("creds", &[("B", &value)])
        .failure()
        .stderr_has("left untouched")
        .stderr_has(OTHER_OWNER);
    assert_eq!(env.my_secret("creds"), before);
    // A Secret without any Konduktor label is just as foreign.
    env.seed(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": mine("plain")}, "data": {"A": b64(&theirs)}}));
    env.create("plain", &[("B", &value)])
        .failure()
        .stderr_has("not made by Konduktor");
    assert_eq!(
        decode_data(&env.my_secret("plain").unwrap_or_default()).len(),
        1
    );
}

#[test]
fn git_ssh_replacement_never_deletes_another_users_key() {
    let env = TestEnv::new();
    let key = env.file_arg("id", "KEY");
    env.as_owner(OTHER_OWNER)
        .create_git_ssh("theirs", &key)
        .success();
    env.create_git_ssh("mine", "id").success();
    let names: Vec<String> = env
        .secret_names()
        .into_iter()
        .filter(|n| !n.starts_with("bystander-"))
        .collect();
    assert_eq!(names, [mine("mine"), format!("theirs-{OTHER_OWNER}")]);
}

#[test]
fn bad_input_is_refused_before_any_request() {
    let env = TestEnv::new();
    let value = env.canary("bad");
    env.file("ok.txt", "fine");
    env.file("bad name.txt", "x");
    env.file("big.bin", vec![0u8; 1_048_577]);
    let empty = env.path("emptydir");
    std::fs::create_dir_all(empty.join("nested")).unwrap_or_else(|e| panic!("{e}"));
    let long48 = "a".repeat(48);
    let long49 = "a".repeat(49);
    let long64 = "a".repeat(64);
    let inline = format!("K={value}");
    let not_env = format!("NOT-ENV={value}");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--from-file", "ok.txt", "Bad_Name"],
            "not a valid DNS-1123 label",
        ),
        (vec!["--from-file", "ok.txt", &long49], "at most 48"),
        (
            vec!["--kind", "env", "--inline", "A=b", &long64],
            "at most 63",
        ),
        (vec!["creds"], "no source given"),
        (
            vec!["--from-file", "ok.txt", "--inline", &inline, "creds"],
            "several sources given",
        ),
        (vec!["--from-file", "missing.txt", "creds"], "missing.txt"),
        (
            vec!["--from-directory", "missing-dir", "creds"],
            "missing-dir",
        ),
        (
            vec!["--from-directory", "ok.txt", "creds"],
            "not a directory",
        ),
        (
            vec!["--from-directory", "emptydir", "creds"],
            "holds no file",
        ),
        (
            vec!["--kind", "env", "--from-file", "ok.txt", "creds"],
            "env secrets take inline KEY=VALUE pairs only",
        ),
        (
            vec!["--kind", "git-ssh", "--inline", &inline, "creds"],
            "git-ssh secrets take exactly one file",
        ),
        (
            vec![
                "--kind",
                "git-ssh",
                "--from-file",
                "ok.txt",
                "--from-file",
                "ok.txt",
                "creds",
            ],
            "exactly one file",
        ),
        (
            vec!["--kind", "env", "--inline", &not_env, "creds"],
            "not a valid environment variable name",
        ),
        (
            vec!["--from-file", "bad name.txt", "creds"],
            "not a valid Secret key",
        ),
        (
            vec!["--from-file", "big.bin", "creds"],
            "the secret `creds` would hold more than 1 MiB",
        ),
        (vec!["--inline", &value, "creds"], "is not a KEY=VALUE pair"),
        // However short, none of it is shown (it may be a value).
        (
            vec!["--inline", "a1b", "creds"],
            "of 3 characters is not a KEY=VALUE pair (not shown",
        ),
        (
            vec!["--kind", "ssh", "--from-file", "ok.txt", "creds"],
            "invalid value 'ssh'",
        ),
    ];
    for (args, expected) in cases {
        env.cmd(&["secret", "create"])
            .args(&args)
            .run()
            .failure()
            .stderr_has(expected);
    }
    // 48 characters is still fine for a default secret.
    env.assert_no_requests();
    env.create_file(&long48, "ok.txt").success();
}

#[cfg(unix)]
#[test]
fn symlink_loop_is_an_error_not_a_hang() {
    let env = TestEnv::new();
    env.file("loopy/a.txt", "a");
    std::os::unix::fs::symlink(env.path("loopy"), env.path("loopy/back"))
        .unwrap_or_else(|e| panic!("{e}"));
    env.run(&["secret", "create", "--from-directory", "loopy", "loopy"])
        .failure()
        .stderr_has("symlink loop");
    env.assert_no_requests();
}

#[test]
fn merged_size_over_one_mebibyte_is_refused_before_the_patch() {
    let env = TestEnv::new();
    env.file("half1.bin", vec![1u8; 600_000]);
    env.file("half2.bin", vec![2u8; 600_000]);
    env.create_file("big", "half1.bin").success();
    env.create_file("big", "half2.bin")
        .failure()
        .stderr_has("at most 1048576");
    assert_eq!(env.my_data("big").len(), 1);
    if let Some(server) = env.fake() {
        assert_eq!(server.sent("PATCH"), 0);
    }
}

#[test]
fn dry_run_prints_the_object_without_values_or_any_request() {
    let env = TestEnv::new();
    let value = env.canary("dry");
    env.file("creds/key.txt", &value);
    // Even a kubeconfig pointing nowhere is fine: nothing is sent.
    let kc = env.file(
        "nowhere",
        crate::support::fake_kubeconfig("http://127.0.0.1:9", "x", "t"),
    );
    env.cmd(&[
        "secret",
        "create",
        "--dry-run",
        "--from-directory",
        "creds",
        "creds",
    ])
    .no_namespace()
    .kubeconfig(&kc)
    .run()
    .success()
    .stdout_has(&format!("name: {}", mine("creds")))
    .stdout_has("trainy.ai/secret-kind: default")
    .stdout_has("payload.zip: <redacted,")
    .stdout_has("the cluster was not contacted");
    env.assert_no_requests();
}

#[test]
fn a_pair_without_inline_is_not_echoed_as_a_name() {
    let env = TestEnv::new();
    let value = env.canary("misplaced");
    env.run(&["secret", "create", &format!("TOKEN={value}")])
        .failure()
        .stderr_has("looks like a KEY=VALUE pair")
        .stderr_has("--inline");
    env.assert_no_requests();
}

#[cfg(unix)]
#[test]
fn a_fifo_or_device_as_a_file_source_is_refused_without_hanging() {
    let env = TestEnv::new();
    let fifo = env.path("pipe");
    crate::support::mkfifo(&fifo);
    // Nobody ever writes to the FIFO: reading it would block forever.
    for (source, kind) in [("pipe", "FIFO"), ("/dev/zero", "character device")] {
        env.create_file("creds", source)
            .failure()
            .stderr_has(source)
            .stderr_has(kind);
    }
    let manifest = env.manifest(&[entry("zero").file("/dev/zero")]);
    env.diff(&manifest).failure().stderr_has("/dev/zero");
    env.assert_no_requests();
}

#[test]
fn a_size_error_names_the_secret_total_and_no_zip_internals() {
    let env = TestEnv::new();
    env.file("one.bin", vec![1u8; 600_000]);
    env.file("two.bin", vec![2u8; 600_000]);
    let run = env.run(&[
        "secret",
        "create",
        "--from-file",
        "one.bin",
        "--from-file",
        "two.bin",
        "big",
    ]);
    run.failure()
        .stderr_has("the secret `big` would hold more than 1 MiB")
        .stderr_has("its files total at least 1200000 bytes")
        .stderr_lacks("two.bin");
    // Incompressible bytes just under the raw limit: the archive is over it.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let noise: Vec<u8> = (0..1_048_560)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[3]
        })
        .collect();
    env.file("noisy/n.bin", noise);
    let run = env.run(&["secret", "create", "--from-directory", "noisy", "noisy"]);
    run.failure()
        .stderr_has("the secret `noisy` would hold more than 1 MiB")
        .stderr_has("the archive of");
    for internal in ["ZipWriter", "ZipError", "Custom {", "kind:"] {
        run.stderr_lacks(internal);
    }
    // Many files of zeros: only counting raw bytes stops them.
    for i in 0..3 {
        env.file(&format!("zeros/{i}.bin"), vec![0u8; 700_000]);
    }
    env.run(&["secret", "create", "--from-directory", "zeros", "zeros"])
        .failure()
        .stderr_has("the secret `zeros` would hold more than 1 MiB")
        .stderr_has("its files total at least 1400000 bytes");
    env.assert_no_requests();
}

#[cfg(unix)]
#[test]
fn a_directory_with_a_special_file_or_a_folder_reached_twice_is_refused() {
    let env = TestEnv::new();
    env.file("withdev/ok.txt", "ok");
    std::os::unix::fs::symlink("/dev/zero", env.path("withdev/zero"))
        .unwrap_or_else(|e| panic!("{e}"));
    env.run(&["secret", "create", "--from-directory", "withdev", "dev"])
        .failure()
        .stderr_has("withdev/zero` is a character device");
    env.file("twice/real/f.txt", "f");
    std::os::unix::fs::symlink(env.path("twice/real"), env.path("twice/zlink"))
        .unwrap_or_else(|e| panic!("{e}"));
    env.run(&["secret", "create", "--from-directory", "twice", "twice"])
        .failure()
        .stderr_has("twice/real` is reached twice")
        .stderr_has("twice/zlink` is the same folder");
    env.assert_no_requests();
}
