use std::path::PathBuf;

use super::*;
use crate::konduktor::SecretKind;
use crate::konduktor::digest_key::test_key;
use crate::secrets::manifest::Desired;
use crate::secrets::plan::plan;
use crate::secrets::plan::tests::{ME, live, want};

const CANARY: &str = "canary-3f9a1c";
const SALT: [u8; SALT_BYTES] = [7; SALT_BYTES];

fn key() -> DigestKey {
    test_key(9)
}

fn target() -> Target {
    Target {
        server: "https://k8s.example:6443".into(),
        namespace: "team".into(),
        owner: ME.into(),
    }
}

fn path() -> PathBuf {
    PathBuf::from("plan.json")
}

/// A create, a merge, an unchanged secret and a deletion.
fn desired(hf: &str) -> Vec<Desired> {
    vec![
        want("new", SecretKind::Env, &[("A", "1")]),
        want("hf", SecretKind::Env, &[("TOKEN", hf), ("MODE", "on")]),
        want("same", SecretKind::Env, &[("K", "v")]),
        Desired::Absent {
            basename: "old".into(),
        },
    ]
}

fn cluster() -> Vec<crate::konduktor::LiveSecret> {
    vec![
        live("hf", ME, "env", &[("TOKEN", "before"), ("MODE", "on")]),
        live("same", ME, "env", &[("K", "v")]),
        live("old", ME, "env", &[("X", "x")]),
    ]
}

fn saved() -> SavedPlan {
    SavedPlan::new(
        &plan(&desired(CANARY), &cluster(), ME, false),
        &target(),
        Path::new("secrets.yaml"),
        &key(),
        &SALT,
    )
}

#[test]
fn a_saved_plan_names_where_it_applies_and_what_it_saw_never_a_value() {
    let s = saved();
    let json = serde_json::to_string_pretty(&s).unwrap_or_else(|e| panic!("{e}"));
    assert!(!json.contains(CANARY), "{json}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["formatVersion"], 2);
    assert_eq!(v["keyId"], key().id());
    assert_eq!(v["server"], "https://k8s.example:6443");
    assert_eq!(v["namespace"], "team");
    assert_eq!(v["owner"], ME);
    assert_eq!(v["manifest"], "secrets.yaml");
    assert_eq!(v["salt"], "07".repeat(SALT_BYTES));
    let hf = &v["secrets"][1];
    assert_eq!(hf["name"], "hf");
    assert_eq!(hf["secretName"], format!("hf-{ME}"));
    assert_eq!(hf["action"], "merge");
    assert_eq!(hf["uid"], "uid-hf");
    assert_eq!(hf["resourceVersion"], "7");
    assert_eq!(hf["keys"][1]["key"], "TOKEN");
    assert_eq!(
        hf["keys"][1]["digest"],
        digest(
            &key(),
            &SALT,
            &format!("hf-{ME}"),
            "TOKEN",
            CANARY.as_bytes()
        )
    );
    assert_eq!(v["secrets"][0]["action"], "create");
    assert!(v["secrets"][0].get("resourceVersion").is_none());
    assert_eq!(v["secrets"][3]["action"], "delete");
    assert_eq!(v["secrets"][3]["reason"], "absent");
    // The deletion's keys are named, with no digest (nothing is written).
    assert_eq!(v["secrets"][3]["keys"][0]["key"], "X");
    assert!(v["secrets"][3]["keys"][0].get("digest").is_none());
    // It reads back as written.
    let back: SavedPlan = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, s);
}

#[test]
fn digests_are_keyed_salted_and_bound_to_their_key() {
    let k = key();
    let d = |salt: &[u8], name: &str| digest(&k, salt, "s-x", name, b"same value");
    assert_ne!(d(&[1; 32], "A"), d(&[2; 32], "A"));
    assert_ne!(d(&[1; 32], "A"), d(&[1; 32], "B"));
    assert_ne!(
        d(&[1; 32], "A"),
        digest(&test_key(1), &[1; 32], "s-x", "A", b"same value")
    );
    // Length-prefixed: moving a byte from the name to the key is another digest.
    assert_ne!(
        digest(&k, &[1; 32], "ab", "c", b"v"),
        digest(&k, &[1; 32], "a", "bc", b"v")
    );
    let one = d(&[1; 32], "A");
    assert!(one.starts_with("hmac-sha256:") && one.len() == 76, "{one}");
}

/// The plan file of a secret holding a 6-digit PIN, as whoever finds the
/// file (a CI artifact, a PR attachment) has it.
fn plan_of_a_pin(pin: &str) -> String {
    let d = vec![want("bank", SecretKind::Env, &[("PIN", pin)])];
    let s = SavedPlan::new(
        &plan(&d, &[], ME, false),
        &target(),
        Path::new("secrets.yaml"),
        &key(),
        &new_salt().unwrap_or_else(|e| panic!("{e}")),
    );
    serde_json::to_string_pretty(&s).unwrap_or_else(|e| panic!("{e}"))
}

/// Every 6-digit PIN, tried against the digest in a plan file with all
/// the file holds (salt, names), as format 1 made digests (salted
/// SHA-256): the PINs that match.
fn brute_force_pins(file: &str) -> Vec<String> {
    use sha2::{Digest, Sha256};
    let v: serde_json::Value = serde_json::from_str(file).unwrap_or_else(|e| panic!("{e}"));
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let salt = unhex(&text(&v["salt"])).unwrap_or_default();
    let secret = &v["secrets"][0];
    let (object, name) = (text(&secret["secretName"]), text(&secret["keys"][0]["key"]));
    let wanted = text(&secret["keys"][0]["digest"]);
    let wanted_hex = wanted.rsplit(':').next().unwrap_or_default().to_string();
    let mut prefix = Sha256::new();
    prefix.update(&salt);
    for part in [object.as_bytes(), name.as_bytes()] {
        prefix.update(u64::try_from(part.len()).unwrap_or_default().to_be_bytes());
        prefix.update(part);
    }
    let wanted = unhex(&wanted_hex).unwrap_or_default();
    (0..1_000_000u32)
        .filter(|n| {
            let mut h = prefix.clone();
            h.update(pin_digits(*n));
            h.finalize().as_slice() == wanted.as_slice()
        })
        .map(|n| format!("{n:06}"))
        .collect()
}

/// `n` as 6 ASCII digits, without allocating (a million of them).
fn pin_digits(n: u32) -> [u8; 6] {
    let mut digits = [b'0'; 6];
    let mut rest = n;
    for d in digits.iter_mut().rev() {
        *d = b'0' + u8::try_from(rest % 10).unwrap_or_default();
        rest /= 10;
    }
    digits
}

#[test]
fn a_plan_of_a_six_digit_pin_does_not_give_it_away() {
    let pin = "493817";
    let file = plan_of_a_pin(pin);
    assert!(!file.contains(pin), "{file}");
    // The attack: on format 1 (its digest is the salted SHA-256 the
    // attacker recomputes) it finds the PIN; on this format nothing.
    let mut v: serde_json::Value = serde_json::from_str(&file).unwrap_or_else(|e| panic!("{e}"));
    let salt = unhex(v["salt"].as_str().unwrap_or_default()).unwrap_or_default();
    let format_1 = {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(&salt);
        for part in [format!("bank-{ME}"), "PIN".to_string()] {
            h.update(u64::try_from(part.len()).unwrap_or_default().to_be_bytes());
            h.update(part.as_bytes());
        }
        h.update(pin.as_bytes());
        format!(
            "sha256:{}",
            crate::konduktor::digest_key::hex(&h.finalize())
        )
    };
    v["secrets"][0]["keys"][0]["digest"] = serde_json::Value::String(format_1);
    assert_eq!(
        brute_force_pins(&v.to_string()),
        [pin],
        "the attack works on format 1"
    );
    assert_eq!(brute_force_pins(&file), Vec::<String>::new());
    // Nor could any other way: the key is not in the file.
    assert!(!file.contains(&"09".repeat(32)), "{file}");
}

#[test]
fn the_same_sources_and_cluster_match() {
    let fresh = plan(&desired(CANARY), &cluster(), ME, false);
    assert_eq!(saved().compare(&fresh, &key()), []);
    assert!(
        saved()
            .verify(&fresh, &target(), Some(&key()), &path())
            .is_ok()
    );
}

#[test]
fn a_changed_value_moved_the_sources() {
    let fresh = plan(&desired("another"), &cluster(), ME, false);
    let moved = saved().compare(&fresh, &key());
    assert_eq!(
        moved,
        [Moved {
            name: "hf".into(),
            side: Side::Sources,
            detail: "the value of TOKEN changed".into()
        }]
    );
    let e = saved()
        .verify(&fresh, &target(), Some(&key()), &path())
        .err()
        .unwrap_or_else(|| panic!("a moved plan verified"));
    assert_eq!(e.kind, ErrorKind::Refused);
    assert!(e.message().contains("\"hf\" changed in the sources"), "{e}");
    assert!(e.message().contains("nothing was changed"), "{e}");
    assert!(!e.message().contains(CANARY));
}

#[test]
fn an_unchanged_secret_that_moved_counts_too() {
    let mut d = desired(CANARY);
    d[2] = want("same", SecretKind::Env, &[("K", "w")]);
    let moved = saved().compare(&plan(&d, &cluster(), ME, false), &key());
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!(
        (moved[0].name.as_str(), moved[0].side),
        ("same", Side::Sources)
    );
}

#[test]
fn a_new_resource_version_moved_the_cluster() {
    let mut live = cluster();
    live[2].resource_version = Some("8".into());
    let moved = saved().compare(&plan(&desired(CANARY), &live, ME, false), &key());
    assert_eq!(
        moved,
        [Moved {
            name: "old".into(),
            side: Side::Cluster,
            detail: format!("old-{ME} resourceVersion 7 -> 8"),
        }]
    );
}

#[test]
fn objects_appearing_or_vanishing_moved_the_cluster() {
    let mut live = cluster();
    live.retain(|l| l.name != format!("old-{ME}"));
    live.push(crate::secrets::plan::tests::live(
        "new",
        ME,
        "env",
        &[("A", "1")],
    ));
    let moved = saved().compare(&plan(&desired(CANARY), &live, ME, false), &key());
    let sides: Vec<(&str, Side, &str)> = moved
        .iter()
        .map(|m| (m.name.as_str(), m.side, m.detail.as_str()))
        .collect();
    let appeared = format!("new-{ME} appeared");
    let vanished = format!("old-{ME} vanished");
    assert_eq!(
        sides,
        [
            ("new", Side::Cluster, appeared.as_str()),
            ("old", Side::Cluster, vanished.as_str()),
        ]
    );
}

#[test]
fn both_sides_moving_says_both() {
    let mut live = cluster();
    live[0].resource_version = Some("9".into());
    let moved = saved().compare(&plan(&desired("another"), &live, ME, false), &key());
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!(moved[0].side, Side::Both);
}

#[test]
fn an_entry_added_to_or_dropped_from_the_manifest_moved_the_sources() {
    let mut d = desired(CANARY);
    d.remove(0);
    d.push(want("extra", SecretKind::Env, &[("E", "1")]));
    let moved = saved().compare(&plan(&d, &cluster(), ME, false), &key());
    let sides: Vec<(&str, Side)> = moved.iter().map(|m| (m.name.as_str(), m.side)).collect();
    assert_eq!(sides, [("extra", Side::Sources), ("new", Side::Sources)]);
}

#[test]
fn a_plan_for_another_server_namespace_or_owner_is_refused() {
    let s = saved();
    for (what, t) in [
        (
            "server",
            Target {
                server: "https://other:6443".into(),
                ..target()
            },
        ),
        (
            "namespace",
            Target {
                namespace: "prod".into(),
                ..target()
            },
        ),
        (
            "owner",
            Target {
                owner: "8417fdac".into(),
                ..target()
            },
        ),
    ] {
        let e = s
            .check_target(&t, &path())
            .err()
            .unwrap_or_else(|| panic!("{what} not refused"));
        assert_eq!(e.kind, ErrorKind::Refused);
        assert!(e.message().contains(&format!("a plan for {what}")), "{e}");
    }
}

#[test]
fn a_plan_is_checked_only_with_its_own_key() {
    let s = saved();
    let fresh = plan(&desired(CANARY), &cluster(), ME, false);
    assert!(s.check_key(Some(&key()), &path()).is_ok());
    for (other, why) in [
        (
            Some(test_key(1)),
            format!("is another one, {}", test_key(1).id()),
        ),
        (None, "this machine has no digest key".to_string()),
    ] {
        for e in [
            s.check_key(other.as_ref(), &path()).err(),
            s.verify(&fresh, &target(), other.as_ref(), &path()).err(),
        ] {
            let e = e.unwrap_or_else(|| panic!("{why}: not refused"));
            assert_eq!(e.kind, ErrorKind::Refused);
            let text = format!("{} {}", e.message(), e.hint().unwrap_or_default());
            assert!(
                text.contains(&format!("digest key {}", key().id())),
                "{text}"
            );
            assert!(text.contains(&why), "{text}");
            assert!(
                text.contains("cannot be checked; nothing was changed"),
                "{text}"
            );
            assert!(text.contains("KONDUKTOR_DIGEST_KEY"), "{text}");
        }
    }
}

#[test]
fn prune_comes_from_the_plan() {
    let s = saved();
    assert_eq!(s.prune_for(false, &path()).ok(), Some(false));
    assert!(s.prune_for(true, &path()).is_err());
}

fn read_text(text: &str) -> Result<SavedPlan> {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("plan.json");
    std::fs::write(&file, text).unwrap_or_else(|e| panic!("{e}"));
    SavedPlan::read(&file)
}

#[test]
fn a_plan_file_is_read_back_and_checked() {
    let text = serde_json::to_string(&saved()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read_text(&text).ok(), Some(saved()));
    let refused = |text: &str, needle: &str| {
        let e = read_text(text)
            .err()
            .unwrap_or_else(|| panic!("read: {text}"));
        assert!(e.message().contains(needle), "{text}: {e}");
    };
    refused(
        &text.replace("\"formatVersion\":2", "\"formatVersion\":3"),
        "format version 3; this version reads version 2 only",
    );
    // Format 1 (unkeyed digests): refused, saying why.
    refused(
        &text.replace("\"formatVersion\":2", "\"formatVersion\":1"),
        "earlier version (format 1), whose digests are not keyed",
    );
    refused(
        &text.replace("\"formatVersion\":2,", ""),
        "has no formatVersion",
    );
    refused(&text.replace(key().id(), "zz"), "keyId");
    refused(
        &text.replace("\"prune\":false", "\"prune\":false,\"extra\":1"),
        "a field is missing, unknown or of the wrong type",
    );
    refused(&text.replace("\"salt\":\"07", "\"salt\":\"zz"), "salt");
    refused("{not json", "not JSON");
    refused(
        &format!("{{\"formatVersion\":2,\"server\":\"{CANARY}\"}}"),
        "missing",
    );
    let e = read_text(&format!("{{\"formatVersion\":\"{CANARY}\"}}"))
        .err()
        .unwrap_or_else(|| panic!("read"));
    assert!(!e.message().contains(CANARY), "{e}");
}

#[test]
fn a_plan_file_is_never_read_from_a_fifo_or_a_folder() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    assert!(SavedPlan::read(dir.path()).is_err());
    #[cfg(unix)]
    {
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_string_lossy().as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(SavedPlan::read(&fifo).is_err());
    }
}

#[test]
fn out_is_written_0600_and_never_over_a_file_unasked() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("plan.json");
    SavedPlan::check_out(&out, false).unwrap_or_else(|e| panic!("{e}"));
    saved().write(&out, false).unwrap_or_else(|e| panic!("{e}"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_default();
        assert_eq!(mode, 0o600);
    }
    assert!(SavedPlan::check_out(&out, false).is_err());
    assert!(saved().write(&out, false).is_err());
    assert!(SavedPlan::check_out(&out, true).is_ok());
    saved().write(&out, true).unwrap_or_else(|e| panic!("{e}"));
    assert!(SavedPlan::check_out(&dir.path().join("no/such/plan.json"), true).is_err());
    assert_eq!(
        std::fs::read_dir(dir.path())
            .map(Iterator::count)
            .unwrap_or_default(),
        1,
        "no temporary file is left"
    );
}

/// Targets `train` and `infer`: one server each, the same secrets.
fn saved_targets() -> SavedTargets {
    let on = |context: &str, server: &str| SavedTarget {
        context: context.into(),
        plan: SavedPlan::new(
            &plan(&desired(CANARY), &cluster(), ME, false),
            &Target {
                server: server.into(),
                ..target()
            },
            Path::new("secrets.yaml"),
            &key(),
            &SALT,
        ),
    };
    SavedTargets::new(vec![
        on("train", "https://train:6443"),
        on("infer", "https://infer:6443"),
    ])
}

fn contexts(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_string()).collect()
}

fn read_targets_text(text: &str, names: &[&str]) -> Result<SavedTargets> {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("plan.json");
    std::fs::write(&file, text).unwrap_or_else(|e| panic!("{e}"));
    SavedTargets::read(&file, &contexts(names))
}

#[test]
fn a_plan_over_several_targets_is_read_back_for_the_same_set_in_any_order() {
    let text = serde_json::to_string(&saved_targets()).unwrap_or_else(|e| panic!("{e}"));
    assert!(!text.contains(CANARY), "{text}");
    assert_eq!(
        read_targets_text(&text, &["train", "infer"]).ok(),
        Some(saved_targets())
    );
    assert_eq!(
        read_targets_text(&text, &["infer", "train"]).ok(),
        Some(saved_targets())
    );
}

#[test]
fn a_plan_over_another_set_of_targets_or_one_target_is_refused_either_way() {
    let text = serde_json::to_string(&saved_targets()).unwrap_or_else(|e| panic!("{e}"));
    for names in [
        &["train", "stage"][..],
        &["train", "infer", "stage"],
        &["infer", "infer"],
    ] {
        let e = read_targets_text(&text, names)
            .err()
            .unwrap_or_else(|| panic!("read for {names:?}"));
        assert!(
            e.message()
                .contains("is a plan for the targets `train`, `infer`"),
            "{e}"
        );
        assert!(e.message().contains("nothing was changed"), "{e}");
    }
    // A plan over several targets, with one target named: refused.
    let e = read_text(&text).err().unwrap_or_else(|| panic!("read"));
    assert!(
        e.message()
            .contains("is a plan for 2 targets (`train`, `infer`), and this run is for one"),
        "{e}"
    );
    assert_eq!(
        e.hint(),
        Some("name the same targets: --context train,infer")
    );
    // A plan for one target, with several named: refused.
    let one = serde_json::to_string(&saved()).unwrap_or_else(|e| panic!("{e}"));
    let e = read_targets_text(&one, &["train", "infer"])
        .err()
        .unwrap_or_else(|| panic!("read"));
    assert!(
        e.message()
            .contains("is a plan for one target (namespace team on https://k8s.example:6443), and this run is for 2 targets"),
        "{e}"
    );
}

#[test]
fn a_plan_over_several_targets_is_made_together_or_not_a_plan() {
    let good = saved_targets();
    let not_a_plan = |plans: &SavedTargets, why: &str| {
        let text = serde_json::to_string(plans).unwrap_or_else(|e| panic!("{e}"));
        let e = read_targets_text(&text, &["train", "infer"])
            .err()
            .unwrap_or_else(|| panic!("read: {text}"));
        assert!(e.message().contains("is not a saved plan"), "{e}");
        assert!(e.message().contains(why), "{e}");
    };
    let mut twice = good.clone();
    twice.targets[1].context = "train".into();
    not_a_plan(&twice, "named twice");
    let mut one = good.clone();
    one.targets.truncate(1);
    not_a_plan(&one, "at least two");
    for change in [
        |p: &mut SavedPlan| p.prune = true,
        |p: &mut SavedPlan| p.owner = "someone-else".into(),
        |p: &mut SavedPlan| p.manifest = "other.yaml".into(),
        |p: &mut SavedPlan| p.key_id = "00000000".into(),
    ] {
        let mut apart = good.clone();
        change(&mut apart.targets[1].plan);
        not_a_plan(&apart, "not made together");
    }
    let mut salted = good.clone();
    salted.targets[0].plan.salt = "zz".into();
    not_a_plan(&salted, "salt");
    let mut format = good;
    format.targets[0].plan.format_version = 1;
    not_a_plan(&format, "format version");
}

#[test]
fn each_target_is_checked_against_its_own_plan_and_one_that_moved_stops_all() {
    let saved = saved_targets();
    let fresh_plan = plan(&desired(CANARY), &cluster(), ME, false);
    let on = |server: &str| Target {
        server: server.into(),
        ..target()
    };
    let key = key();
    let same = [
        ("train", &fresh_plan, on("https://train:6443")),
        ("infer", &fresh_plan, on("https://infer:6443")),
    ];
    assert!(saved.verify(&same, Some(&key), &path()).is_ok());
    // Only the targets that were read are checked (--skip-unreachable).
    assert!(saved.verify(&same[..1], Some(&key), &path()).is_ok());
    // A value moved: named on the target where it did, never the value.
    let moved_plan = plan(&desired("another"), &cluster(), ME, false);
    let moved = [
        ("train", &fresh_plan, on("https://train:6443")),
        ("infer", &moved_plan, on("https://infer:6443")),
    ];
    let e = saved
        .verify(&moved, Some(&key), &path())
        .err()
        .unwrap_or_else(|| panic!("verify"));
    assert!(
        e.message().contains("is out of date on one target: on `infer`, \"hf\" changed in the sources (the value of TOKEN changed)"),
        "{e}"
    );
    assert!(
        e.message().contains("nothing was written on any target"),
        "{e}"
    );
    assert!(!e.to_string().contains("another") && !e.to_string().contains(CANARY));
    // A context that now points at another server: refused, naming it.
    let elsewhere = [
        ("train", &fresh_plan, on("https://train:6443")),
        ("infer", &fresh_plan, on("https://train:6443")),
    ];
    let e = saved
        .verify(&elsewhere, Some(&key), &path())
        .err()
        .unwrap_or_else(|| panic!("verify"));
    assert!(e.message().contains("server https://infer:6443"), "{e}");
    assert!(
        e.hint().is_some_and(|h| h.contains("context `infer`")),
        "{e}"
    );
    // Another key: refused before anything is compared.
    assert!(saved.verify(&same, Some(&test_key(3)), &path()).is_err());
    assert!(saved.verify(&same, None, &path()).is_err());
}
