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

/// Source `file` in sh and print each variable NUL-terminated.
fn sourced(file: &Path, names: &[String]) -> Vec<Vec<u8>> {
    let script = format!(
        ". \"$1\"; printf '%s\\0' {}",
        names
            .iter()
            .map(|n| format!("\"${n}\""))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("sh")
        .arg(file)
        .env_clear()
        .output()
        .unwrap_or_else(|e| panic!("sh: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut values: Vec<Vec<u8>> = out.stdout.split(|b| *b == 0).map(<[u8]>::to_vec).collect();
    values.pop();
    values
}

// ------------------------------------------------------------ sh quoting

#[test]
fn sourcing_sh_quoted_values_gives_back_the_exact_bytes() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..20 {
        let mut file = Vec::new();
        let mut names = Vec::new();
        let mut want = Vec::new();
        for i in 0..40 {
            let len = rng.below(if i == 0 { 1 } else { 64 });
            // Any byte but NUL, weighted towards the ones sh cares about.
            let value: Vec<u8> = (0..len)
                .map(|_| match rng.below(4) {
                    0 => {
                        let special = b"'\"\\$`!\n\r\t *?[]{}#;&|<>()~=%";
                        let i = rng.below(u64::try_from(special.len()).unwrap_or(1));
                        special[usize::try_from(i).unwrap_or(0)]
                    }
                    _ => u8::try_from(rng.below(255) + 1).unwrap_or(1),
                })
                .collect();
            let name = format!("K{round}_{i}");
            file.extend_from_slice(format!("export {name}=").as_bytes());
            file.extend_from_slice(&sh_quote(&value));
            file.push(b'\n');
            names.push(name);
            want.push(value);
        }
        let path = dir.path().join(format!("{round}.env"));
        std::fs::write(&path, &file).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sourced(&path, &names), want, "round {round}");
    }
}

#[test]
fn env_file_holds_export_lines_that_source_back() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let pairs = vec![
        (
            "A".to_string(),
            SecretBytes::new(b"it's \"q\" $HOME `x`\n\n".to_vec()),
        ),
        ("B".to_string(), SecretBytes::new(Vec::new())),
        (
            "C".to_string(),
            SecretBytes::new("é ☃ \u{202e}".as_bytes().to_vec()),
        ),
    ];
    let file = env_file("hf", &pairs).unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(file.expose()).into_owned();
    assert!(text.starts_with("# "), "{text}");
    assert!(text.contains("export A='it'\\''s"), "{text}");
    let path = dir.path().join("hf.env");
    std::fs::write(&path, file.expose()).unwrap_or_else(|e| panic!("{e}"));
    let names = vec!["A".to_string(), "B".to_string(), "C".to_string()];
    let got = sourced(&path, &names);
    let want: Vec<Vec<u8>> = pairs.iter().map(|(_, v)| v.expose().to_vec()).collect();
    assert_eq!(got, want);
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
            values_absolute: None,
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
        "  - name: hf\n    kind: env\n    # keys: HF_TOKEN, WANDB\n    fromEnv:\n      - \"HF_TOKEN\"\n      - \"WANDB\"\n",
        "    # keys: a.txt, b.json\n    fromFile:\n      - \"./values/files/a.txt\" # TODO: the value of key a.txt\n",
        "    fromDirectory: \"./values/dir/FOLDER\" # TODO",
        "  - name: ssh\n    kind: git-ssh\n    # keys: gitkey\n    fromFile:\n      - \"./values/ssh/gitkey\" # TODO",
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
        live("path", "env", &[("PATH", CANARY)]),
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
            .find(|l| l.name == n)
            .map(|l| l.reason.clone())
            .unwrap_or_else(|| panic!("{n} not left out: {:?}", p.left_out))
    };
    assert!(reason("weird").contains("Konduktor's own (a secret of kind `kustom`"));
    assert!(reason("badenv").contains("not a valid environment variable name"));
    assert!(reason("badkey").contains("not shown"));
    assert!(reason("empty").contains("no keys"));
    assert!(reason("path").contains("`PATH`"));
    assert!(reason("ssh-extra").contains("one key `gitkey`"));
    assert!(reason(&"x".repeat(49)).contains("48"));
    assert!(reason("plain-abba3a3e").contains("parent"));
    assert!(reason("renamed").contains("not `renamed-abba3a3e`"));
    let text = render(
        &p,
        &RenderContext {
            owner_hash: ME,
            namespace: "ns",
            values: Some("/v"),
            values_absolute: Some("/v"),
        },
    );
    assert!(text.contains("# Left out"), "{text}");
    assert!(
        text.contains("#   weird: it is Konduktor's own (a secret of kind `kustom`"),
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
        .map(|l| (l.name.as_str(), l.reason.as_str()))
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

#[test]
fn several_git_ssh_secrets_and_clashing_variables_are_left_out() {
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
    assert_eq!(names, vec!["env-a", "env-c"]);
    let left: Vec<&str> = p.left_out.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(left, vec!["env-b", "ssh-a", "ssh-b"]);
    assert!(
        p.left_out[0]
            .reason
            .contains("`TOKEN` is in secret `env-a` too")
    );
}

/// The round trip in one process: plan with values, write them, render,
/// parse and load the manifest (the env files sourced by sh), plan against
/// the same live secrets: nothing to change.
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
            values_absolute: Some(&vd.text),
        },
    );
    let m = manifest::parse(&tmp.path().join("secrets.yaml"), &text)
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let names = vec!["HF_TOKEN".to_string(), "EMPTY".to_string()];
    let got = sourced(&vd.path.join("hf.env"), &names);
    let env: BTreeMap<String, Vec<u8>> = names.into_iter().zip(got).collect();
    let lookup = |n: &str| {
        env.get(n)
            .map(|v| std::ffi::OsString::from(String::from_utf8_lossy(v).into_owned()))
    };
    let desired = manifest::load(&m, &lookup).unwrap_or_else(|e| panic!("{e}"));
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

#[test]
fn a_non_empty_folder_is_refused_and_force_never_follows_a_planted_link() {
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
    vd.write(&mut p).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(std::fs::read(&target).unwrap_or_default(), b"keep");
    assert!(
        !std::fs::symlink_metadata(dir.join("hf.env")).is_ok_and(|m| m.file_type().is_symlink())
    );
    assert!(std::fs::symlink_metadata(dir.join("files")).is_ok_and(|m| m.is_dir()));
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

/// Sourcing an env file into a shell must not run code (a prompt hook), set
/// what later programs run, or set the shell's own variables (read-only,
/// or never read back as written, so `diff` would not come out clean).
#[test]
fn variables_a_shell_acts_on_are_never_exported() {
    let keys = [
        "PROMPT_COMMAND",
        "PS0",
        "PS3",
        "TMOUT",
        "GIT_SSH_COMMAND",
        "BASH_ENV",
        "HISTFILE",
        "LD_PRELOAD",
        "RANDOM",
        "SECONDS",
        "UID",
        "PPID",
        "LINENO",
        "SHLVL",
        "_",
        "PYTHONSTARTUP",
        "NODE_OPTIONS",
    ];
    let secrets: Vec<_> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| live(&format!("s{i}"), "env", &[(k, CANARY)]))
        .collect();
    let p = plan(&secrets, ME, true);
    assert!(p.secrets.is_empty(), "exported: {:?}", p.secrets);
    assert_eq!(p.left_out.len(), keys.len());
    // Ordinary names go through.
    let ok = plan(
        &[live(
            "ok",
            "env",
            &[("PSQL_PASSWORD", "x"), ("GITHUB_TOKEN", "y")],
        )],
        ME,
        true,
    );
    assert_eq!(ok.secrets.len(), 1, "{:?}", ok.left_out);
}
