use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use super::*;
use crate::secrets::manifest::{self, EntrySource, EntryState};
use crate::test_rng::Rng;

const ME: &str = "abba3a3e";
const OTHER: &str = "8417fdac";
const CANARY: &str = "canary-export-unit-5f3e9a";

fn live_bytes(name: &str, owner: &str, kind: &str, data: &[(&str, &[u8])]) -> LiveSecret {
    let mut labels = konduktor::labels(name, SecretKind::Default, owner);
    labels.insert(konduktor::LABEL_KIND.to_string(), kind.to_string());
    LiveSecret {
        name: format!("{name}-{owner}"),
        uid: Some(format!("uid-{name}")),
        resource_version: Some("7".into()),
        created: None,
        labels,
        annotations: BTreeMap::new(),
        data: data
            .iter()
            .map(|(k, v)| (k.to_string(), SecretBytes::new(v.to_vec())))
            .collect(),
        ..LiveSecret::default()
    }
}

fn live(name: &str, kind: &str, data: &[(&str, &str)]) -> LiveSecret {
    let data: Vec<(&str, &[u8])> = data.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
    live_bytes(name, ME, kind, &data)
}

/// The pairs `fromEnvFile` reads from an env file export wrote.
fn read_back(file: &SecretBytes) -> Vec<(String, Vec<u8>)> {
    env_file::parse(file.expose(), SecretKind::Env)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|(k, v)| (k, v.expose().to_vec()))
        .collect()
}

// ------------------------------------------------------------ env files

#[test]
fn env_file_holds_key_value_lines_that_read_back_exactly() {
    let pairs = vec![
        (
            "A".to_string(),
            SecretBytes::new(b"it's \"q\" $HOME `x`\n\n= #".to_vec()),
        ),
        ("B".to_string(), SecretBytes::new(Vec::new())),
        (
            "C".to_string(),
            SecretBytes::new("é ☃ \u{202e}\\".as_bytes().to_vec()),
        ),
    ];
    let file = env_file("hf", &pairs).unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(file.expose()).into_owned();
    assert!(text.starts_with("# "), "{text}");
    assert!(text.contains("not a shell script"), "{text}");
    assert!(!text.contains("export "), "{text}");
    let want: Vec<(String, Vec<u8>)> = pairs
        .iter()
        .map(|(k, v)| (k.clone(), v.expose().to_vec()))
        .collect();
    assert_eq!(read_back(&file), want);
}

#[test]
fn a_value_env_cannot_carry_is_refused_without_showing_it() {
    let nul = [(
        "TOKEN".to_string(),
        SecretBytes::new(format!("{CANARY}\0x").into_bytes()),
    )];
    let reason = env_file("hf", &nul).err().unwrap_or_default();
    assert!(reason.contains("NUL"), "{reason}");
    assert!(!reason.contains(CANARY), "{reason}");
    let mut bad = CANARY.as_bytes().to_vec();
    bad.push(0xff);
    let binary = [("TOKEN".to_string(), SecretBytes::new(bad))];
    let reason = env_file("hf", &binary).err().unwrap_or_default();
    assert!(reason.contains("not UTF-8"), "{reason}");
    assert!(!reason.contains(CANARY), "{reason}");
}

// ------------------------------------------------------------ YAML quoting

/// A manifest naming `path` through [`yaml_quote`] reads back exactly `path`.
fn reads_back(path: &str) {
    let text = format!(
        "apiVersion: {API_VERSION}\nkind: {KIND}\nsecrets:\n  - name: a\n    fromFile:\n      - {}\n  - name: b\n    fromDirectory: {}\n",
        yaml_quote(path),
        yaml_quote(path)
    );
    assert!(!yaml_quote(path).contains('\n'));
    let m = manifest::parse(Path::new("/m/secrets.yaml"), &text)
        .unwrap_or_else(|e| panic!("{path:?}: {e}\n{text}"));
    let got: Vec<PathBuf> = m
        .entries
        .iter()
        .map(|e| match &e.state {
            EntryState::Present {
                source: EntrySource::Files(f),
                ..
            } => f.first().map(|(p, _)| p.clone()).unwrap_or_default(),
            EntryState::Present {
                source: EntrySource::Directory(p, _),
                ..
            } => p.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        vec![PathBuf::from(path), PathBuf::from(path)],
        "{text}"
    );
}

#[test]
fn quoted_paths_read_back_exactly_whatever_they_hold() {
    for hard in [
        "/tmp/with space/v",
        "/tmp/it's \"quoted\"/v",
        "/tmp/#not a comment/v",
        "/tmp/a: b/- c/v",
        "/tmp/new\nline/v",
        "/tmp/ctl\u{1b}[31m\u{7}\r\t/v",
        "/tmp/\\back\\slash/v",
        "/tmp/bidi\u{202e}\u{2028}\u{85}\u{feff}/v",
        "/tmp/☃/𝄞/\u{fffe}/v",
        "/tmp/&anchor *alias !tag %dir @at `tick` {x} [y] |>/v",
    ] {
        reads_back(hard);
    }
    let alphabet: Vec<char> = "aZ09 '\"\\#:-?,[]{}&*!|>%@`\n\r\t\u{0}\u{1}\u{1b}\u{7f}\u{85}\u{a0}\u{2028}\u{202e}\u{feff}é☃𝄞\u{fffe}/."
        .chars()
        .collect();
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for _ in 0..300 {
        let len = rng.below(24);
        let tail: String = (0..len)
            .map(|_| {
                let i = usize::try_from(rng.below(u64::try_from(alphabet.len()).unwrap_or(1)))
                    .unwrap_or(0);
                alphabet.get(i).copied().unwrap_or('a')
            })
            .collect();
        reads_back(&format!("/v/{tail}x"));
    }
}

// ------------------------------------------------------------ zip

fn zip_of(entries: &[(&str, Option<u32>, &[u8])]) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, mode, bytes) in entries {
        let mut options = SimpleFileOptions::default();
        if let Some(m) = mode {
            options = options.unix_permissions(*m);
        }
        if name.ends_with('/') {
            w.add_directory(*name, options)
                .unwrap_or_else(|e| panic!("{e}"));
        } else {
            w.start_file(*name, options)
                .unwrap_or_else(|e| panic!("{e}"));
            w.write_all(bytes).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    w.finish().unwrap_or_else(|e| panic!("{e}")).into_inner()
}

#[test]
fn a_folder_archive_unpacks_with_its_layout_and_modes() {
    let zip = zip_of(&[
        ("creds/", Some(0o755), b""),
        ("creds/a.txt", Some(0o600), b"aa"),
        ("creds/sub/b.json", Some(0o644), b"{}"),
        ("creds/sub/deeper/run.sh", Some(0o755), CANARY.as_bytes()),
    ]);
    let u = unpack_zip(&zip).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(u.root, "creds");
    let got: Vec<(&str, u32, &[u8])> = u
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.mode, f.bytes.expose()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("a.txt", 0o600, &b"aa"[..]),
            ("sub/b.json", 0o644, &b"{}"[..]),
            ("sub/deeper/run.sh", 0o755, CANARY.as_bytes()),
        ]
    );
    // Debug never shows the bytes.
    assert!(!format!("{u:?}").contains(CANARY));
}

/// `d/x` twice (the writer refuses that: `d/y` renamed in place).
fn duplicated() -> Vec<u8> {
    let mut zip = zip_of(&[("d/x", Some(0o644), b"1"), ("d/y", Some(0o644), b"2")]);
    for i in 0..zip.len().saturating_sub(2) {
        if zip.get(i..i + 3) == Some(&b"d/y"[..]) {
            zip[i + 2] = b'x';
        }
    }
    zip
}

#[test]
fn an_archive_that_cannot_be_unpacked_faithfully_is_refused_with_the_reason() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"not a zip".to_vec(), "not a readable zip"),
        (zip_of(&[("/etc/x", Some(0o644), b"x")]), "absolute path"),
        (
            zip_of(&[("d/../../x", Some(0o644), b"x")]),
            "plain relative",
        ),
        (zip_of(&[("d//x", Some(0o644), b"x")]), "plain relative"),
        (zip_of(&[("d/./x", Some(0o644), b"x")]), "plain relative"),
        (
            zip_of(&[("top.txt", Some(0o644), b"x")]),
            "outside the archive's top folder",
        ),
        (
            zip_of(&[("a/x", Some(0o644), b"x"), ("b/y", Some(0o644), b"y")]),
            "more than one top folder",
        ),
        (duplicated(), "twice"),
        (
            zip_of(&[("d/x", Some(0o644), b"1"), ("d/x/y", Some(0o644), b"2")]),
            "both as a file and as a folder",
        ),
        (zip_of(&[("d/.DS_Store", Some(0o644), b"x")]), "leaves out"),
        (
            zip_of(&[("d/x", Some(0o200), b"x")]),
            "not readable by its owner",
        ),
        (zip_of(&[("d/", Some(0o755), b"")]), "holds no file"),
        (
            zip_of(&[("d/big", Some(0o644), &vec![b'a'; MAX_SECRET_BYTES + 1])]),
            "more than 1 MiB",
        ),
    ];
    for (zip, why) in cases {
        let reason = unpack_zip(&zip).err().unwrap_or_default();
        assert!(reason.contains(why), "wanted {why:?}, got {reason:?}");
    }
    // A symbolic link entry.
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.add_symlink(
        "d/link",
        "/etc/passwd",
        zip::write::SimpleFileOptions::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let zip = w.finish().unwrap_or_else(|e| panic!("{e}")).into_inner();
    let reason = unpack_zip(&zip).err().unwrap_or_default();
    assert!(reason.contains("symbolic link"), "{reason}");
}

#[test]
fn an_archive_made_from_a_folder_unpacks_to_one_that_archives_back_the_same() {
    use std::os::unix::fs::PermissionsExt;
    let src = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = src.path().join("mycreds");
    std::fs::create_dir_all(root.join("sub/deeper")).unwrap_or_else(|e| panic!("{e}"));
    for (rel, mode) in [
        (".hidden", 0o644),
        ("a.txt", 0o600),
        ("sub/deeper/c", 0o755),
        ("sub/deeper/d", 0o640),
    ] {
        let p = root.join(rel);
        std::fs::write(&p, rel).unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let zip = sources::zip_directory(&root, MAX_SECRET_BYTES).unwrap_or_else(|e| panic!("{e}"));
    let u = unpack_zip(zip.expose()).unwrap_or_else(|e| panic!("{e}"));
    let values = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = values.path().join("v");
    let vd = ValuesDir::prepare(&out, false).unwrap_or_else(|e| panic!("{e}"));
    let mut p = plan(
        &[live_bytes(
            "dir",
            ME,
            "default",
            &[("payload.zip", zip.expose())],
        )],
        ME,
        true,
    );
    vd.write(&mut p).unwrap_or_else(|e| panic!("{e}"));
    assert!(p.left_out.is_empty(), "{:?}", p.left_out);
    let again = sources::zip_directory(&vd.path.join("dir").join(&u.root), MAX_SECRET_BYTES)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read_zip(again.expose()), read_zip(zip.expose()));
    let mode = |rel: &str| {
        std::fs::metadata(vd.path.join("dir/mycreds").join(rel))
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    };
    assert_eq!(
        (mode("a.txt"), mode(".hidden"), mode("sub/deeper/c")),
        (0o600, 0o644, 0o755)
    );
}

// ------------------------------------------------------------ plan + render

#[test]
fn without_values_the_manifest_lists_keys_and_placeholders_and_says_to_complete_it() {
    let zip = zip_of(&[("d/x", Some(0o644), CANARY.as_bytes())]);
    let secrets = vec![
        live("hf", "env", &[("HF_TOKEN", CANARY), ("WANDB", CANARY)]),
        live("files", "default", &[("a.txt", CANARY), ("b.json", CANARY)]),
        live_bytes("dir", ME, "default", &[("payload.zip", &zip)]),
        live("ssh", "git-ssh", &[("gitkey", CANARY)]),
        live_bytes("theirs", OTHER, "env", &[("THEIRS", CANARY.as_bytes())]),
    ];
    let p = plan(&secrets, ME, false);
    let text = render(
        &p,
        &RenderContext {
            owner_hash: ME,
            namespace: "ns",
            values: None,
        },
    );
    assert!(text.starts_with(INCOMPLETE), "{text}");
    assert!(text.contains("Complete it before use"), "{text}");
    assert!(!text.contains(CANARY), "{text}");
    assert!(
        !text.contains("theirs") && !text.contains("THEIRS"),
        "{text}"
    );
    for want in [
        "owner: abba3a3e",
        "  - name: \"hf\"\n    kind: env\n    # keys: HF_TOKEN, WANDB\n    fromEnvFile: \"./values/hf.env\" # TODO: a KEY=VALUE line for each key\n",
        "    # keys: a.txt, b.json\n    fromFile:\n      - \"./values/files/a.txt\" # TODO: the value of key a.txt\n",
        "    fromDirectory: \"./values/dir/FOLDER\" # TODO",
        "  - name: \"ssh\"\n    kind: git-ssh\n    # keys: gitkey\n    fromFile:\n      - \"./values/ssh/gitkey\" # TODO",
    ] {
        assert!(text.contains(want), "lacks {want:?}:\n{text}");
    }
    // It is a valid manifest once completed.
    manifest::parse(Path::new("secrets.yaml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
}

#[test]
fn secrets_a_manifest_cannot_reproduce_are_left_out_with_the_reason() {
    let mut unlabelled = live("plain", "env", &[("A", "a")]);
    unlabelled.labels.remove(konduktor::LABEL_PARENT);
    let mut renamed = live("renamed", "env", &[("A", "a")]);
    renamed.name = "something-else".into();
    let secrets = vec![
        live("weird", "kustom", &[("A", "a")]),
        live("badenv", "env", &[("not-a-var", "a")]),
        live("badkey", "default", &[("a b", CANARY)]),
        live("empty", "default", &[]),
        live("ssh-extra", "git-ssh", &[("gitkey", "k"), ("other", "o")]),
        live(&"x".repeat(49), "default", &[("a", "a")]),
        unlabelled,
        renamed,
        live("ok", "env", &[("FINE", CANARY)]),
    ];
    let p = plan(&secrets, ME, true);
    let names: Vec<&str> = p.secrets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["ok"]);
    let reason = |n: &str| {
        p.left_out
            .iter()
            .find(|l| l.basename.as_deref().unwrap_or(&l.object) == n)
            .map(|l| l.reason.clone())
            .unwrap_or_else(|| panic!("{n} not left out: {:?}", p.left_out))
    };
    assert!(reason("weird").contains("Konduktor's own (a secret of kind `kustom`"));
    assert!(reason("badenv").contains("not a valid environment variable name"));
    assert!(reason("badkey").contains("not shown"));
    assert!(reason("empty").contains("no keys"));
    assert!(reason("ssh-extra").contains("one key `gitkey`"));
    assert!(reason(&"x".repeat(49)).contains("48"));
    assert!(reason("plain").contains("parent"));
    assert!(reason("renamed").contains("not `renamed-abba3a3e`"));
    let text = render(
        &p,
        &RenderContext {
            owner_hash: ME,
            namespace: "ns",
            values: Some("/v"),
        },
    );
    assert!(text.contains("# Left out"), "{text}");
    assert!(
        text.contains("#   `weird-abba3a3e` (basename `weird`): it is Konduktor's own (a secret of kind `kustom`"),
        "{text}"
    );
    assert!(!text.contains(CANARY), "{text}");
}

#[test]
fn konduktors_own_secrets_are_left_out_saying_konduktor_makes_them() {
    // As recorded (tests/fixtures/konduktor-made/internal-*.json): named by
    // the basename alone; the SSH keys carry no kind label.
    let own = |name: &str, kind: Option<&str>, key: &str| {
        let mut l = live(name, "default", &[(key, CANARY)]);
        l.name = name.to_string();
        l.labels.remove(konduktor::LABEL_KIND);
        if let Some(kind) = kind {
            l.labels
                .insert(konduktor::LABEL_KIND.to_string(), kind.to_string());
        }
        l
    };
    let secrets = vec![
        own("awscredentials-root-1a2b", Some("S3"), "awscredentials"),
        own("gcpcredentials-root-1a2b", Some("GCS"), "gcpcredentials"),
        own("konduktor-ssh-keys-abba3a3e", None, "PRIVKEY"),
        live("ok", "env", &[("FINE", "v")]),
    ];
    let p = plan(&secrets, ME, true);
    let names: Vec<&str> = p.secrets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["ok"]);
    let reasons: Vec<(&str, &str)> = p
        .left_out
        .iter()
        .map(|l| (l.object.as_str(), l.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "awscredentials-root-1a2b",
                "it is Konduktor's own (storage credentials (S3)): Konduktor makes it (`konduktor check s3`), and a manifest does not manage it"
            ),
            (
                "gcpcredentials-root-1a2b",
                "it is Konduktor's own (storage credentials (GCS)): Konduktor makes it (`konduktor check gs`), and a manifest does not manage it"
            ),
            (
                "konduktor-ssh-keys-abba3a3e",
                "it is Konduktor's own (SSH keys): Konduktor makes it (`konduktor launch`), and a manifest does not manage it"
            ),
        ]
    );
}

/// Each env secret has its own file, read by `fromEnvFile`: the same
/// variable in two secrets is no clash (nothing is sourced into one shell).
#[test]
fn several_git_ssh_secrets_are_left_out_and_shared_variables_are_not() {
    let p = plan(
        &[
            live("ssh-a", "git-ssh", &[("gitkey", "a")]),
            live("ssh-b", "git-ssh", &[("gitkey", "b")]),
            live("env-a", "env", &[("TOKEN", "one"), ("SAME", "s")]),
            live("env-b", "env", &[("TOKEN", "two")]),
            live("env-c", "env", &[("SAME", "s")]),
        ],
        ME,
        true,
    );
    let names: Vec<&str> = p.secrets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["env-a", "env-b", "env-c"]);
    let left: Vec<String> = p.left_out.iter().map(LeftOut::named).collect();
    assert_eq!(
        left,
        vec![
            "`ssh-a-abba3a3e` (basename `ssh-a`)",
            "`ssh-b-abba3a3e` (basename `ssh-b`)"
        ]
    );
}

/// The round trip in one process: plan with values, write them, render,
/// parse and load the manifest (no variable set: env files are read by
/// `fromEnvFile`), plan against the same live secrets: nothing to change.
#[test]
fn an_exported_manifest_loads_back_to_no_changes() {
    let zip = zip_of(&[
        ("creds/a", Some(0o600), b"a"),
        ("creds/s/b", Some(0o755), b"b"),
    ]);
    let live_secrets = vec![
        live("hf", "env", &[("HF_TOKEN", "it's\n$x"), ("EMPTY", "")]),
        live_bytes(
            "bin",
            ME,
            "default",
            &[("k.bin", &[0, 255, 1, b'\n']), ("payload.zip", b"x")],
        ),
        live_bytes("dir", ME, "default", &[("payload.zip", &zip)]),
        live("ssh", "git-ssh", &[("gitkey", "-----BEGIN KEY-----\n")]),
    ];
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let values_path = tmp.path().join("it's a \"dir\" #: x\ny");
    let vd = ValuesDir::prepare(&values_path, false).unwrap_or_else(|e| panic!("{e}"));
    let mut p = plan(&live_secrets, ME, true);
    vd.write(&mut p).unwrap_or_else(|e| panic!("{e}"));
    assert!(p.left_out.is_empty(), "{:?}", p.left_out);
    let text = render(
        &p,
        &RenderContext {
            owner_hash: ME,
            namespace: "ns",
            values: Some(&vd.text),
        },
    );
    let m = manifest::parse(&tmp.path().join("secrets.yaml"), &text)
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let desired = manifest::load(&m, &|_| None).unwrap_or_else(|e| panic!("{e}"));
    let planned = crate::secrets::plan::plan(&desired, &live_secrets, ME, false);
    assert!(!planned.has_changes(), "{planned:#?}");
    assert_eq!(m.owner.map(|o| o.hash).as_deref(), Some(ME));
}

// ------------------------------------------------------------ writing

#[test]
fn values_are_written_new_and_private() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path().join("values");
    let vd = ValuesDir::prepare(&dir, false).unwrap_or_else(|e| panic!("{e}"));
    let mut p = plan(
        &[
            live("hf", "env", &[("TOKEN", CANARY)]),
            live("files", "default", &[("a.txt", CANARY)]),
        ],
        ME,
        true,
    );
    vd.write(&mut p).unwrap_or_else(|e| panic!("{e}"));
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    };
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("files")), 0o700);
    assert_eq!(mode(&dir.join("hf.env")), 0o600);
    assert_eq!(mode(&dir.join("files/a.txt")), 0o600);
    assert_eq!(
        std::fs::read(dir.join("files/a.txt")).unwrap_or_default(),
        CANARY.as_bytes()
    );
}

/// Links planted where export writes are in its way, `--force` or not:
/// refused, named, nothing written and nothing followed.
#[test]
fn a_non_empty_folder_is_refused_and_force_never_replaces_a_planted_link() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path().join("values");
    std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let target = tmp.path().join("target.txt");
    std::fs::write(&target, b"keep").unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink(&target, dir.join("hf.env")).unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink(tmp.path(), dir.join("files")).unwrap_or_else(|e| panic!("{e}"));
    let e = ValuesDir::prepare(&dir, false).err().map(|e| e.to_string());
    assert!(
        e.as_deref().is_some_and(|e| e.contains("is not empty")),
        "{e:?}"
    );
    let vd = ValuesDir::prepare(&dir, true).unwrap_or_else(|e| panic!("{e}"));
    let mut p = plan(
        &[
            live("hf", "env", &[("TOKEN", CANARY)]),
            live("files", "default", &[("target.txt", CANARY)]),
        ],
        ME,
        true,
    );
    let e = vd
        .write(&mut p)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("would replace what it did not write"), "{e}");
    assert!(e.contains("`files`") && e.contains("`hf.env`"), "{e}");
    assert!(!e.contains(CANARY), "{e}");
    assert_eq!(std::fs::read(&target).unwrap_or_default(), b"keep");
    assert!(
        std::fs::symlink_metadata(dir.join("hf.env")).is_ok_and(|m| m.file_type().is_symlink())
    );
    assert!(std::fs::symlink_metadata(dir.join("files")).is_ok_and(|m| m.file_type().is_symlink()));
    assert!(!dir.join(RECORD_FILE).exists());
}

/// Files in the folder, named by the plan, as they are.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    look_around(dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter(|(_, f)| *f == Found::File)
        .map(|(p, _)| {
            let bytes = std::fs::read(dir.join(&p)).unwrap_or_default();
            (p, bytes)
        })
        .collect()
}

/// `--force` over its own earlier output: it recognises what it wrote
/// (the record), replaces it, removes what is stale (a secret since
/// deleted), and leaves the user's files alone; a file of the user's
/// where it would write, or inside a folder it unpacks (which would be
/// archived with it), is in its way.
#[test]
fn force_replaces_only_what_an_earlier_export_wrote() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path().join("values");
    let zip = zip_of(&[
        ("creds/a", Some(0o600), b"a"),
        ("creds/s/b", Some(0o644), b"b"),
    ]);
    let first = vec![
        live("hf", "env", &[("TOKEN", "one")]),
        live("gone", "default", &[("k", "old")]),
        live_bytes("dir", ME, "default", &[("payload.zip", &zip)]),
    ];
    let vd = ValuesDir::prepare(&dir, false).unwrap_or_else(|e| panic!("{e}"));
    vd.write(&mut plan(&first, ME, true))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(dir.join("gone/k").exists() && dir.join(RECORD_FILE).exists());
    std::fs::write(dir.join("notes.txt"), b"mine").unwrap_or_else(|e| panic!("{e}"));

    // Again, `gone` deleted since and `hf` changed.
    let second = vec![
        live("hf", "env", &[("TOKEN", "two")]),
        live_bytes("dir", ME, "default", &[("payload.zip", &zip)]),
    ];
    let vd = ValuesDir::prepare(&dir, true).unwrap_or_else(|e| panic!("{e}"));
    let mut p = plan(&second, ME, true);
    vd.write(&mut p).unwrap_or_else(|e| panic!("{e}"));
    assert!(p.left_out.is_empty(), "{:?}", p.left_out);
    let files: Vec<String> = tree(&dir).into_keys().collect();
    assert_eq!(
        files,
        vec![
            RECORD_FILE.to_string(),
            "dir/creds/a".into(),
            "dir/creds/s/b".into(),
            "hf.env".into(),
            "notes.txt".into(),
        ]
    );
    assert!(!dir.join("gone").exists());
    let env = read_back(&SecretBytes::new(
        std::fs::read(dir.join("hf.env")).unwrap_or_default(),
    ));
    assert_eq!(env, vec![("TOKEN".to_string(), b"two".to_vec())]);

    // A file of the user's inside the unpacked folder, and one where the
    // env file goes (the record no longer lists `hf.env`).
    std::fs::write(dir.join("dir/creds/s/mine"), b"mine").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        dir.join(RECORD_FILE),
        std::fs::read_to_string(dir.join(RECORD_FILE))
            .unwrap_or_default()
            .replace("\"hf.env\"", "\"other.env\""),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let before = tree(&dir);
    let vd = ValuesDir::prepare(&dir, true).unwrap_or_else(|e| panic!("{e}"));
    let e = vd
        .write(&mut plan(&second, ME, true))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.contains("`dir/creds/s/mine`") && e.contains("`hf.env`"),
        "{e}"
    );
    assert_eq!(tree(&dir), before, "nothing changed");

    // A record that names a path outside the folder is not export's.
    std::fs::write(
        dir.join(RECORD_FILE),
        r#"{"writtenBy":"kubectl konduktor export","files":{"../x":{"sha256":"00","size":1,"mode":384}},"folders":[]}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let e = ValuesDir::prepare(&dir, true)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("is not a record export wrote"), "{e}");
}

/// A name the file system refuses (an archive entry over 255 bytes) leaves
/// that one secret out, with the reason and nothing of it on disk; the
/// others are written.
#[test]
fn a_name_the_file_system_refuses_leaves_only_that_secret_out() {
    let long = format!("creds/{}", "n".repeat(300));
    let zip = zip_of(&[(long.as_str(), Some(0o600), CANARY.as_bytes())]);
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path().join("values");
    let vd = ValuesDir::prepare(&dir, false).unwrap_or_else(|e| panic!("{e}"));
    let mut p = plan(
        &[
            live_bytes("a-long", ME, "default", &[("payload.zip", &zip)]),
            live("b-fine", "env", &[("TOKEN", CANARY)]),
            live("c-fine", "default", &[("k", CANARY)]),
        ],
        ME,
        true,
    );
    vd.write(&mut p).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = p.secrets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["b-fine", "c-fine"]);
    let reason = p
        .left_out
        .first()
        .map(|l| l.reason.clone())
        .unwrap_or_default();
    assert!(reason.contains("refuses the name"), "{reason}");
    assert!(!reason.contains(CANARY), "{reason}");
    let files: Vec<String> = tree(&dir).into_keys().collect();
    assert_eq!(
        files,
        vec![
            RECORD_FILE.to_string(),
            "b-fine.env".into(),
            "c-fine/k".into()
        ]
    );
    assert!(!dir.join("a-long").exists());
}

#[test]
fn a_folder_others_may_write_to_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path().join("shared");
    std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777))
        .unwrap_or_else(|e| panic!("{e}"));
    let e = check_values_dir(&dir, true).err().map(|e| e.to_string());
    assert!(
        e.as_deref().is_some_and(|e| e.contains("may write to it")),
        "{e:?}"
    );
}

/// Nothing is sourced, so no key is dangerous to export: a planted
/// `HTTPS_PROXY` or `SSL_CERT_FILE` goes into the secret's own file, which
/// only `fromEnvFile` reads, and no line of the manifest asks anyone to
/// source a file. (Before, such keys were either left out by a list that
/// missed these two, or exported for a shell to source.)
#[test]
fn variables_a_shell_acts_on_go_into_a_file_no_shell_reads() {
    let keys = [
        "HTTPS_PROXY",
        "SSL_CERT_FILE",
        "PROMPT_COMMAND",
        "LD_PRELOAD",
        "PATH",
        "KUBECONFIG",
    ];
    let data: Vec<(&str, &str)> = keys.iter().map(|k| (*k, CANARY)).collect();
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let vd = ValuesDir::prepare(&tmp.path().join("v"), false).unwrap_or_else(|e| panic!("{e}"));
    let live_secrets = vec![live("planted", "env", &data)];
    let mut p = plan(&live_secrets, ME, true);
    vd.write(&mut p).unwrap_or_else(|e| panic!("{e}"));
    assert!(p.left_out.is_empty(), "{:?}", p.left_out);
    let text = render(
        &p,
        &RenderContext {
            owner_hash: ME,
            namespace: "ns",
            values: Some(&vd.text),
        },
    );
    assert!(text.contains("fromEnvFile:"), "{text}");
    for line in text.lines() {
        assert!(
            !line.contains(" . ") && !line.contains("source") && !line.contains("subshell"),
            "{line}"
        );
    }
    let file = std::fs::read(vd.path.join("planted.env")).unwrap_or_default();
    let got = read_back(&SecretBytes::new(file));
    let mut want: Vec<(String, Vec<u8>)> = keys
        .iter()
        .map(|k| (k.to_string(), CANARY.as_bytes().to_vec()))
        .collect();
    want.sort();
    assert_eq!(got, want);
    let m = manifest::parse(&tmp.path().join("secrets.yaml"), &text)
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let desired = manifest::load(&m, &|_| None).unwrap_or_else(|e| panic!("{e}"));
    let planned = crate::secrets::plan::plan(&desired, &live_secrets, ME, false);
    assert!(!planned.has_changes(), "{planned:#?}");
}

/// A secret a finalizer holds is on its way out: a manifest would bring it
/// back.
#[test]
fn a_secret_being_deleted_is_left_out() {
    let mut going = live("going", "env", &[("A", CANARY)]);
    going.terminating = Some(konduktor::Terminating {
        since: None,
        finalizers: vec!["example.com/hold".into()],
    });
    let p = plan(&[going, live("staying", "env", &[("A", CANARY)])], ME, true);
    let names: Vec<&str> = p.secrets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["staying"]);
    let reason = p
        .left_out
        .first()
        .map(|l| l.reason.clone())
        .unwrap_or_default();
    assert!(reason.contains("being deleted"), "{reason}");
    assert!(reason.contains("example.com/hold"), "{reason}");
}

/// Names YAML would read as something else (`null`, `true`, a number)
/// come back as the same text.
#[test]
fn names_yaml_would_misread_are_written_to_read_back_as_text() {
    let names = ["null", "true", "no", "123", "1e3", "0x1f", "0o17", "y"];
    let secrets: Vec<LiveSecret> = names
        .iter()
        .map(|n| live(n, "default", &[("a", CANARY)]))
        .collect();
    let p = plan(&secrets, ME, false);
    assert!(p.left_out.is_empty(), "{:?}", p.left_out);
    let text = render(
        &p,
        &RenderContext {
            owner_hash: ME,
            namespace: "ns",
            values: None,
        },
    );
    let m =
        manifest::parse(Path::new("secrets.yaml"), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut got: Vec<&str> = m.entries.iter().map(|e| e.name.as_str()).collect();
    got.sort_unstable();
    let mut want = names.to_vec();
    want.sort_unstable();
    assert_eq!(got, want, "{text}");
}

/// Export -> `fromEnvFile` -> plan, over generated values: every value an
/// env secret can hold (UTF-8 text without NUL: line breaks, `=`, `#`,
/// quotes, backslashes, controls, bidi characters, leading and trailing
/// spaces) comes back byte for byte, so the plan is empty.
#[test]
fn generated_env_values_round_trip_through_export_and_from_env_file() {
    let alphabet: Vec<char> =
        "aZ09 =#'\"\\$`\n\r\t\u{1}\u{1b}\u{7f}\u{85}\u{a0}\u{2028}\u{202e}\u{feff}é☃𝄞\u{fffd}x"
            .chars()
            .collect();
    let mut rng = Rng(0x94D0_49BB_1331_11EB);
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for round in 0..40 {
        let secrets: Vec<LiveSecret> = (0..1 + rng.below(3))
            .map(|s| {
                let data: Vec<(String, Vec<u8>)> = (0..1 + rng.below(4))
                    .map(|k| {
                        let len = rng.below(40);
                        let value: String = (0..len)
                            .map(|_| {
                                alphabet
                                    .get(rng.index(alphabet.len()))
                                    .copied()
                                    .unwrap_or('a')
                            })
                            .collect();
                        (format!("K{k}"), value.into_bytes())
                    })
                    .collect();
                let data: Vec<(&str, &[u8])> = data
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_slice()))
                    .collect();
                live_bytes(&format!("e{s}"), ME, "env", &data)
            })
            .collect();
        let vd = ValuesDir::prepare(&tmp.path().join(format!("v{round}")), false)
            .unwrap_or_else(|e| panic!("{e}"));
        let mut p = plan(&secrets, ME, true);
        vd.write(&mut p).unwrap_or_else(|e| panic!("{e}"));
        assert!(p.left_out.is_empty(), "round {round}: {:?}", p.left_out);
        let text = render(
            &p,
            &RenderContext {
                owner_hash: ME,
                namespace: "ns",
                values: Some(&vd.text),
            },
        );
        let m = manifest::parse(&tmp.path().join("secrets.yaml"), &text)
            .unwrap_or_else(|e| panic!("round {round}: {e}\n{text}"));
        let desired = manifest::load(&m, &|_| None).unwrap_or_else(|e| panic!("{e}"));
        let planned = crate::secrets::plan::plan(&desired, &secrets, ME, false);
        assert!(!planned.has_changes(), "round {round}: {planned:#?}");
    }
}

/// Only Opaque Secrets are Konduktor's: another type carrying our labels
/// is left out (never written as a default secret), and neither it nor a
/// git-ssh secret being deleted hides the user's one real git-ssh secret.
/// A left-out line names the object, so a planted basename misleads no one.
#[test]
fn only_live_opaque_secrets_are_exported_or_counted() {
    let mut tls = live("tls", "default", &[("tls.key", CANARY), ("tls.crt", "c")]);
    tls.secret_type = Some("kubernetes.io/tls".into());
    let mut planted_ssh = live("planted", "git-ssh", &[("gitkey", CANARY)]);
    planted_ssh.secret_type = Some("kubernetes.io/ssh-auth".into());
    let mut going_ssh = live("going", "git-ssh", &[("gitkey", CANARY)]);
    going_ssh.terminating = Some(konduktor::Terminating {
        since: None,
        finalizers: vec!["example.com/hold".into()],
    });
    let mut plant = live("mine", "weird", &[("A", "a")]);
    plant.name = "plantbase-aaaa1111".into();
    let secrets = vec![
        tls,
        planted_ssh,
        going_ssh,
        plant,
        live("mine", "env", &[("A", "a")]),
        live("ssh", "git-ssh", &[("gitkey", "k")]),
    ];
    let p = plan(&secrets, ME, true);
    let names: Vec<&str> = p.secrets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["mine", "ssh"]);
    let left: Vec<(String, &str)> = p
        .left_out
        .iter()
        .map(|l| (l.named(), l.reason.as_str()))
        .collect();
    let reason = |named: &str| {
        left.iter()
            .find(|(n, _)| n == named)
            .map(|(_, r)| *r)
            .unwrap_or_else(|| panic!("{named} not left out: {left:?}"))
    };
    assert!(
        reason("`tls-abba3a3e` (basename `tls`)").contains("type `kubernetes.io/tls`, not Opaque"),
        "{left:?}"
    );
    assert!(reason("`planted-abba3a3e` (basename `planted`)").contains("not Opaque"));
    assert!(reason("`going-abba3a3e` (basename `going`)").contains("being deleted"));
    assert!(reason("`plantbase-aaaa1111` (basename `mine`)").contains("Konduktor's own"));
    assert_eq!(left.len(), 4, "{left:?}");
}

/// The record proves what export wrote: a path of a shape export never
/// writes, a record of the earlier format (paths alone), or a recorded file
/// the user has edited since is refused, named, before anything is
/// written; only files still byte for byte as written are replaced or
/// removed.
#[test]
fn force_touches_only_files_still_as_export_wrote_them() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path().join("values");
    let first = vec![
        live("hf", "env", &[("TOKEN", CANARY)]),
        live("gone", "default", &[("k", "kept-value-3d1")]),
    ];
    let vd = ValuesDir::prepare(&dir, false).unwrap_or_else(|e| panic!("{e}"));
    vd.write(&mut plan(&first, ME, true))
        .unwrap_or_else(|e| panic!("{e}"));
    let record = std::fs::read_to_string(dir.join(RECORD_FILE)).unwrap_or_default();
    assert!(record.contains("\"sha256\""), "{record}");
    assert!(
        !record.contains(CANARY) && !record.contains("kept-value-3d1"),
        "{record}"
    );
    let refused = |dir: &Path| {
        let before = tree(dir);
        let e = match ValuesDir::prepare(dir, true) {
            Err(e) => e,
            Ok(vd) => match vd.write(&mut plan(
                &[live("hf", "env", &[("TOKEN", "two")])],
                ME,
                true,
            )) {
                Err(e) => e,
                Ok(()) => panic!("written"),
            },
        };
        assert_eq!(tree(dir), before, "nothing changed");
        format!("{e:?}")
    };

    // The user edits a recorded file (stale: `gone` is deleted since), or
    // one export would replace: each is theirs now, named, refused.
    let gone = dir.join("gone/k");
    std::fs::write(&gone, b"edited").unwrap_or_else(|e| panic!("{e}"));
    let e = refused(&dir);
    assert!(e.contains("`gone/k`") && e.contains("did not write"), "{e}");
    std::fs::remove_file(&gone).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&gone, b"kept-value-3d1").unwrap_or_else(|e| panic!("{e}"));
    // Same bytes, another mode: not what was written either.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&gone, std::fs::Permissions::from_mode(0o644))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(refused(&dir).contains("`gone/k`"));
        std::fs::set_permissions(&gone, std::fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let hf = dir.join("hf.env");
    let was = std::fs::read(&hf).unwrap_or_default();
    std::fs::write(&hf, b"TOKEN=mine\n").unwrap_or_else(|e| panic!("{e}"));
    assert!(refused(&dir).contains("`hf.env`"));
    std::fs::write(&hf, &was).unwrap_or_else(|e| panic!("{e}"));

    // A record naming paths export never writes: not export's record.
    let good = std::fs::read_to_string(dir.join(RECORD_FILE)).unwrap_or_default();
    std::fs::write(dir.join("notes.txt"), b"mine").unwrap_or_else(|e| panic!("{e}"));
    for bad in [
        "notes.txt",
        "Not_A_Name/k",
        ".konduktor-export.json",
        "x.env/y/../z",
    ] {
        let forged = good.replace("\"hf.env\"", &format!("{bad:?}"));
        std::fs::write(dir.join(RECORD_FILE), forged).unwrap_or_else(|e| panic!("{e}"));
        let e = refused(&dir);
        assert!(
            e.contains("a path in it is not one export writes"),
            "{bad}: {e}"
        );
    }
    // The earlier format (paths alone) proves nothing.
    std::fs::write(
        dir.join(RECORD_FILE),
        r#"{"writtenBy":"kubectl konduktor export","files":["hf.env","gone/k"],"folders":["gone"]}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let e = refused(&dir);
    assert!(
        e.contains("kept no digests") && e.contains("move the files it lists"),
        "{e}"
    );

    // Back to export's own record: replaced and removed, the user's kept.
    std::fs::write(dir.join(RECORD_FILE), &good).unwrap_or_else(|e| panic!("{e}"));
    let vd = ValuesDir::prepare(&dir, true).unwrap_or_else(|e| panic!("{e}"));
    vd.write(&mut plan(
        &[live("hf", "env", &[("TOKEN", "two")])],
        ME,
        true,
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    let files: Vec<String> = tree(&dir).into_keys().collect();
    assert_eq!(
        files,
        vec![RECORD_FILE.to_string(), "hf.env".into(), "notes.txt".into()]
    );
}
