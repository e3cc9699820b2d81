//! Input files as a test writes them: a `secrets.yaml` from entries
//! (docs/konduktor-compat.md §5.2), a task file, and files in the test's
//! HOME. Each returns the path as the argument a command takes.

use std::path::PathBuf;

use super::TestEnv;

/// The first lines of every manifest, up to its list of secrets.
pub const SECRET_SET: &str =
    "apiVersion: konduktor.trainy.ai/v1alpha1\nkind: SecretSet\nsecrets:\n";

/// The smallest task `render-job` takes.
pub const SMALL_TASK: &str =
    "name: t\nresources:\n  image_id: ubuntu:22.04\n  cpus: 1\n  memory: 1\nrun: echo hi\n";

/// One entry of a manifest's `secrets:`, written in the order its parts
/// are given, one field a line, as a person would write it.
pub fn entry(name: &str) -> Entry {
    Entry {
        lines: vec![format!("  - name: {name}\n")],
    }
}

pub struct Entry {
    lines: Vec<String>,
}

impl Entry {
    fn field(mut self, line: String) -> Self {
        self.lines.push(format!("    {line}\n"));
        self
    }

    pub fn kind(self, kind: &str) -> Self {
        self.field(format!("kind: {kind}"))
    }

    /// `inline: {KEY: "value", ...}`; values are quoted, so `"1"` stays text.
    pub fn inline(self, pairs: &[(&str, &str)]) -> Self {
        let pairs: Vec<String> = pairs
            .iter()
            .map(|(key, value)| format!("{}: {}", quoted(key), quoted(value)))
            .collect();
        self.field(format!("inline: {{{}}}", pairs.join(", ")))
    }

    /// `fromFile: PATH`
    pub fn file(self, path: &str) -> Self {
        self.field(format!("fromFile: {}", quoted(path)))
    }

    /// `fromDirectory: PATH`
    pub fn directory(self, path: &str) -> Self {
        self.field(format!("fromDirectory: {}", quoted(path)))
    }

    /// `fromEnv: [NAME, ...]`
    pub fn variables(self, names: &[&str]) -> Self {
        self.field(format!("fromEnv: [{}]", names.join(", ")))
    }

    /// `state: absent`
    pub fn absent(self) -> Self {
        self.field("state: absent".to_string())
    }

    fn yaml(&self) -> String {
        self.lines.concat()
    }
}

/// A YAML double-quoted scalar (a JSON string is one).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|e| panic!("{e}"))
}

/// How many times the [`TestEnv::counting_script`] at `path` has run.
pub fn runs(path: &std::path::Path) -> usize {
    std::fs::read_to_string(format!("{}.runs", path.display()))
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

impl TestEnv {
    /// `secrets.yaml` holding `entries` (none: `secrets: []`).
    pub fn manifest(&self, entries: &[Entry]) -> String {
        if entries.is_empty() {
            return self.manifest_yaml("  []\n");
        }
        self.manifest_yaml(&entries.iter().map(Entry::yaml).collect::<String>())
    }

    /// `secrets.yaml` with `entries` (YAML list items) under `secrets:`.
    pub fn manifest_yaml(&self, entries: &str) -> String {
        self.manifest_file("secrets.yaml", entries)
    }

    /// A manifest named `rel`, with `entries` under `secrets:`.
    pub fn manifest_file(&self, rel: &str, entries: &str) -> String {
        self.file_arg(rel, format!("{SECRET_SET}{entries}"))
    }

    /// `task.yaml` holding `task`.
    pub fn task(&self, task: &str) -> String {
        self.file_arg("task.yaml", task)
    }

    /// A scratch file, its path as a command-line argument.
    pub fn file_arg(&self, rel: &str, content: impl AsRef<[u8]>) -> String {
        super::cli::arg(&self.file(rel, content)).to_string()
    }

    /// An executable shell script `rel` in the scratch folder, standing in
    /// for a program (a password manager, a plugin), that counts its runs
    /// (see [`runs`]). Written by another process: a file this threaded test
    /// process held open for writing could be "busy" when the binary runs it.
    pub fn counting_script(&self, rel: &str, body: &str) -> PathBuf {
        let path = self.path(rel);
        let text = format!("#!/bin/sh\necho run >> '{}.runs'\n{body}\n", path.display());
        let made = std::process::Command::new("sh")
            .args(["-c", "cat > \"$1\" && chmod 700 \"$1\"", "sh"])
            .arg(&path)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                if let Some(mut stdin) = child.stdin.take() {
                    stdin.write_all(text.as_bytes())?;
                }
                child.wait()
            })
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(made.success());
        path
    }

    /// A path in the scratch folder, not written: where a command writes.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `rel` under the test's HOME (`.konduktor/user_hash`, ...), not written.
    pub fn home_path(&self, rel: &str) -> PathBuf {
        self.home.path().join(rel)
    }

    /// Write `rel` under the test's HOME, its folders made.
    pub fn home_file(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.home_path(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(&path, content).unwrap_or_else(|e| panic!("{e}"));
        path
    }
}
