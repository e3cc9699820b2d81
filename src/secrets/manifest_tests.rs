use super::*;

fn ok(text: &str) -> Manifest {
    parse(Path::new("/m/secrets.yaml"), text).unwrap_or_else(|e| panic!("{e:?}"))
}

fn err(text: &str) -> String {
    match parse(Path::new("/m/secrets.yaml"), text) {
        Ok(m) => panic!("accepted: {m:?}"),
        Err(e) => format!("{e} {}", crate::output::diagnostic(&e, false)),
    }
}

const HEAD: &str = "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\n";

#[test]
fn parses_every_source() {
    let m = ok(&format!(
        "{HEAD}secrets:\n  - name: hf\n    kind: env\n    fromEnv: [HF_TOKEN]\n    inline: {{WANDB_MODE: online}}\n  - name: github\n    kind: git-ssh\n    fromFile: ~/.ssh/id\n  - name: creds\n    fromDirectory: ./creds\n  - name: config\n    fromFile: [./a.json, b.txt]\n  - name: old\n    state: absent\n"
    ));
    assert_eq!(m.entries.len(), 5);
    match &m.entries[3].state {
        EntryState::Present {
            source: EntrySource::Files(f),
            ..
        } => {
            assert_eq!(f[0].0, PathBuf::from("/m/./a.json"));
            assert_eq!(f[1].0, PathBuf::from("/m/b.txt"));
            assert_eq!(f[1].1.line, 14);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(m.entries[4].state, EntryState::Absent);
}

#[test]
fn typos_get_a_suggestion() {
    let e = err(&format!("{HEAD}secrets:\n  - name: a\n    fromFil: x\n"));
    assert!(e.contains("did you mean `fromFile`"), "{e}");
    assert!(e.contains("secrets.yaml:5:5"), "{e}");
    let e = err(&format!(
        "{HEAD}secrets:\n  - name: a\n    kind: gitssh\n    fromFile: x\n"
    ));
    assert!(e.contains("did you mean `git-ssh`"), "{e}");
}

#[test]
fn several_problems_are_all_reported() {
    let e = err(&format!(
        "{HEAD}secrets:\n  - name: Bad\n    inline: {{a: b}}\n  - name: x\n"
    ));
    assert!(e.contains("2 problems"), "{e}");
    assert!(e.contains("DNS-1123") && e.contains("no source"), "{e}");
}
