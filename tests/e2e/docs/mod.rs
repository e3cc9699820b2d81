//! The README and docs/*.md, held to what they show: every `kubectl
//! konduktor` command in them is run here, as written, through bash (so
//! `VAR=value`, quotes and `$(...)` work as in a user's shell), against the
//! test API server with the files it names set up; where a document shows
//! output, the lines it shows are checked against what the command printed.
//! Every relative link points at a file, and a heading, that exist.
//!
//! A document's commands are read in order ([`shown_commands`]): lines of
//! `sh` blocks that run the plugin, `$ ` lines of `text` blocks (with the
//! output shown under them), and inline spans that start with `kubectl
//! konduktor `. Each document's test walks them with a [`DocScript`], which
//! fails on a command the test does not name and on one the document no
//! longer shows, so a command added to a document needs a test.
//!
//! The documents' tests (one file each here; the README's in
//! tests/e2e/readme.rs) need what only the in-process server can do (a
//! second cluster, an object changed behind the tool's back, a JobSet CRD)
//! and return early on a real cluster; the README's runs there too.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod identity;
mod manifest;
mod render_job;

use crate::support::cli::TestCommand;
use crate::support::{ApiServer, Run, TestEnv, kubeconfig};

/// The documents whose commands these tests run; a document that shows a
/// command and is not here fails `every_document_with_commands_has_a_test`.
const SCRIPTED: &[&str] = &[
    "README.md",
    "docs/manifest.md",
    "docs/render-job.md",
    "docs/identity.md",
    "docs/konduktor-compat.md",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn read(doc: &str) -> String {
    std::fs::read_to_string(root().join(doc)).unwrap_or_else(|e| panic!("{doc}: {e}"))
}

/// README.md and every `.md` under docs/, sorted.
pub fn documents() -> Vec<String> {
    let mut docs: Vec<String> = std::fs::read_dir(root().join("docs"))
        .unwrap_or_else(|e| panic!("docs/: {e}"))
        .map(|e| e.unwrap_or_else(|e| panic!("{e}")).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    docs.sort();
    docs.insert(0, "README.md".to_string());
    docs
}

// ------------------------------------------------------------ reading

/// One command a document shows.
#[derive(Debug, Clone)]
pub struct Shown {
    pub doc: String,
    /// 1-based.
    pub line: usize,
    /// As written, without a prompt or a trailing comment.
    pub command: String,
    /// The lines a `text` block shows under it (`...` stands for lines left out).
    pub output: Vec<String>,
}

impl Shown {
    fn at(&self) -> String {
        format!("{}:{}: {}", self.doc, self.line, self.command)
    }
}

/// Whether `text` runs the plugin: `kubectl konduktor ...`, the binary by
/// name, or `cargo run -- ...`.
fn runs_the_plugin(text: &str) -> bool {
    ["kubectl konduktor ", "kubectl-konduktor ", "cargo run -- "]
        .iter()
        .any(|p| text.contains(p))
}

/// `text` without a shell comment (` # ...`, or a whole `#` line).
fn without_comment(text: &str) -> &str {
    let text = text.trim();
    if text.starts_with('#') {
        return "";
    }
    text.split(" # ").next().unwrap_or_default().trim_end()
}

/// The commands `doc` shows, in order.
pub fn shown_commands(doc: &str) -> Vec<Shown> {
    parse_commands(doc, &read(doc))
}

/// The commands `text` (the document `doc`) shows, in order.
fn parse_commands(doc: &str, text: &str) -> Vec<Shown> {
    let mut shown: Vec<Shown> = Vec::new();
    // The fence's language while inside one.
    let mut fence: Option<String> = None;
    // An inline code span being read: its first line and text so far.
    let mut span: Option<(usize, String)> = None;
    // Whether this `text` block has shown a `$ ` line yet.
    let mut prompted = false;
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        if let Some(lang) = line.trim_start().strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => Some(lang.trim().to_string()),
            };
            span = None;
            prompted = false;
            continue;
        }
        match fence.as_deref() {
            Some("sh" | "bash" | "shell" | "") => {
                let command = without_comment(line);
                if runs_the_plugin(command) {
                    shown.push(Shown {
                        doc: doc.to_string(),
                        line: number,
                        command: command.to_string(),
                        output: Vec::new(),
                    });
                }
            }
            Some("text") => match line.strip_prefix("$ ") {
                Some(command) => {
                    shown.push(Shown {
                        doc: doc.to_string(),
                        line: number,
                        command: without_comment(command).to_string(),
                        output: Vec::new(),
                    });
                    prompted = true;
                }
                // What the last `$ ` line of this block printed.
                None if prompted => {
                    if let Some(last) = shown.last_mut() {
                        last.output.push(line.trim_end().to_string());
                    }
                }
                None => {}
            },
            Some(_) => {}
            None => {
                if line.trim().is_empty() {
                    span = None;
                    continue;
                }
                // Spans may run over a line break, never over a blank line.
                for (j, piece) in line.split('`').enumerate() {
                    if j > 0 {
                        span = match span.take() {
                            Some((start, text)) => {
                                if text.starts_with("kubectl konduktor ")
                                    || text.starts_with("kubectl-konduktor ")
                                {
                                    shown.push(Shown {
                                        doc: doc.to_string(),
                                        line: start,
                                        command: text,
                                        output: Vec::new(),
                                    });
                                }
                                None
                            }
                            None => Some((number, String::new())),
                        };
                    }
                    if let Some((_, text)) = span.as_mut() {
                        text.push_str(piece);
                    }
                }
                if let Some((_, text)) = span.as_mut() {
                    text.push(' ');
                }
            }
        }
    }
    shown
}

/// The lines of the first ```text block after `marker` in `doc`.
pub fn text_block_after(doc: &str, marker: &str) -> Vec<String> {
    let text = read(doc);
    let after = text
        .split(marker)
        .nth(1)
        .unwrap_or_else(|| panic!("{doc} does not say {marker:?}"));
    after
        .split("```text\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap_or_else(|| panic!("{doc}: no text block after {marker:?}"))
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect()
}

// ------------------------------------------------------------ walking

/// A document's commands, taken one by one as its test runs them.
pub struct DocScript {
    doc: String,
    left: VecDeque<Shown>,
}

impl DocScript {
    pub fn new(doc: &str) -> Self {
        assert!(
            SCRIPTED.contains(&doc),
            "{doc}: add it to SCRIPTED in tests/e2e/docs.rs"
        );
        DocScript {
            doc: doc.to_string(),
            left: shown_commands(doc).into(),
        }
    }

    /// The next command the document shows, which must read `command`.
    pub fn next(&mut self, command: &str) -> Shown {
        let shown = self.left.pop_front().unwrap_or_else(|| {
            panic!(
                "{} shows no more commands; the test expects `{command}`",
                self.doc
            )
        });
        assert_eq!(
            shown.command,
            command,
            "{}: the document shows another command here (update the document's test)",
            shown.at()
        );
        shown
    }

    /// Every command the document shows was run.
    pub fn finish(self) {
        let left: Vec<String> = self.left.iter().map(Shown::at).collect();
        assert!(
            left.is_empty(),
            "commands no test runs (add them to the document's test):\n{}",
            left.join("\n")
        );
    }
}

// ------------------------------------------------------------ running

/// Runs documented command lines as a user's shell would: through bash,
/// with a `kubectl` on PATH that runs the built plugin for `kubectl
/// konduktor` (in the test's namespace) and refuses anything else, and the
/// binary itself as `kubectl-konduktor`.
pub struct Shell<'a> {
    env: &'a TestEnv,
    cwd: PathBuf,
    set: Vec<(String, String)>,
    unset: Vec<String>,
    bin: PathBuf,
}

impl<'a> Shell<'a> {
    pub fn new(env: &'a TestEnv) -> Self {
        let bin = env.dir.path().join(".doc-bin");
        std::fs::create_dir_all(&bin).unwrap_or_else(|e| panic!("{e}"));
        let plugin = assert_cmd::cargo::cargo_bin!("kubectl-konduktor");
        let kubectl = bin.join("kubectl");
        std::fs::write(
            &kubectl,
            format!(
                "#!/bin/sh\n\
                 if [ \"$1\" = konduktor ]; then shift; exec '{}' -n \"$KONDUKTOR_DOC_NAMESPACE\" \"$@\"; fi\n\
                 echo \"kubectl $*: not run by the docs tests\" >&2\nexit 127\n",
                plugin.display()
            ),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&kubectl, std::fs::Permissions::from_mode(0o755))
                .unwrap_or_else(|e| panic!("{e}"));
            let link = bin.join("kubectl-konduktor");
            if !link.exists() {
                std::os::unix::fs::symlink(plugin, link).unwrap_or_else(|e| panic!("{e}"));
            }
        }
        Shell {
            env,
            cwd: env.dir.path().to_path_buf(),
            set: Vec::new(),
            unset: Vec::new(),
            bin,
        }
    }

    /// Run the commands from `dir` (the test's scratch folder by default).
    pub fn in_dir(mut self, dir: &Path) -> Self {
        self.cwd = dir.to_path_buf();
        self
    }

    pub fn var(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.set.push((
            key.to_string(),
            value.as_ref().to_string_lossy().into_owned(),
        ));
        self
    }

    pub fn without(mut self, key: &str) -> Self {
        self.unset.push(key.to_string());
        self
    }

    /// bash, set up to run `line` (up to a pipe into another program: only
    /// the plugin's part is run).
    fn command(&self, shown: &Shown) -> (Command, String) {
        let line = shown
            .command
            .split(" | ")
            .next()
            .unwrap_or_default()
            .to_string();
        let mut cmd = Command::new("bash");
        for (k, v) in self.env.command().get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.env("PATH", path)
            .env("KONDUKTOR_DOC_NAMESPACE", &self.env.namespace)
            .current_dir(&self.cwd);
        for (k, v) in &self.set {
            cmd.env(k, v);
        }
        for k in &self.unset {
            cmd.env_remove(k);
        }
        (cmd, line)
    }

    /// Run `shown` and check it exits with `code`, without a panic or a leak.
    pub fn run(&self, shown: &Shown, code: i32) -> Run {
        let (mut cmd, line) = self.command(shown);
        cmd.args(["-c", &line]).stdin(Stdio::null());
        let run = self.env.run_command(cmd);
        assert_eq!(
            run.code,
            Some(code),
            "{}\nstdout:\n{}\nstderr:\n{}",
            shown.at(),
            run.stdout,
            run.stderr
        );
        assert!(
            !run.stderr.contains("panicked"),
            "{}: {}",
            shown.at(),
            run.stderr
        );
        run
    }

    /// Run `shown` on a pseudo-terminal (util-linux `script`), typing
    /// `input`; its exit status and everything the terminal showed.
    pub fn on_terminal(&self, shown: &Shown, input: &str, code: i32) -> String {
        use std::io::Write;
        let (bash, line) = self.command(shown);
        let mut cmd = Command::new("script");
        for (k, v) in bash.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let quoted = format!("'{}'", line.replace('\'', "'\\''"));
        cmd.args(["-qec", &format!("bash -c {quoted}"), "/dev/null"])
            .current_dir(&self.cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("script: {e}"));
        if let Some(mut stdin) = child.stdin.take() {
            // Give the question a moment to be asked, then answer it.
            std::thread::sleep(std::time::Duration::from_millis(500));
            let _ = stdin.write_all(input.as_bytes());
        }
        let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        self.env.assert_no_leak(&text);
        assert_eq!(out.status.code(), Some(code), "{}\n{text}", shown.at());
        text
    }
}

/// The lines `expected` appear in `printed`, in that order, each whole,
/// once `substitutions` (printed, as the document writes it) are made; a
/// `...` line stands for lines left out.
pub fn assert_printed(
    what: &str,
    expected: &[String],
    printed: &str,
    substitutions: &[(&str, &str)],
) {
    let expected: Vec<&str> = expected
        .iter()
        .map(|l| l.trim_end())
        .filter(|l| !l.is_empty() && *l != "...")
        .collect();
    assert!(!expected.is_empty(), "{what}: the document shows no output");
    let mut printed = printed.replace('\r', "");
    for (from, to) in substitutions {
        printed = printed.replace(from, to);
    }
    let mut lines = printed.lines().map(str::trim_end);
    for want in &expected {
        assert!(
            lines.any(|l| l == *want),
            "{what}: the document shows\n  {want}\nwhich was not printed (in this order):\n{printed}"
        );
    }
}

/// `shown`'s own output lines appear in what `run` printed.
pub fn assert_shows(shown: &Shown, run: &Run, substitutions: &[(&str, &str)]) {
    assert_printed(
        &shown.at(),
        &shown.output,
        &format!("{}{}", run.stdout, run.stderr),
        substitutions,
    );
}

/// Several clusters: the test's own server as context `train` and a second
/// as `infer`, each holding the test's namespace, in one kubeconfig (as
/// tests/e2e/targets.rs builds them). `None` on a real cluster.
pub struct TwoClusters {
    pub env: TestEnv,
    pub infer: ApiServer,
    pub kubeconfig: PathBuf,
}

impl TwoClusters {
    pub fn new() -> Option<Self> {
        let env = TestEnv::new();
        let train = env.fake()?.url();
        let infer = ApiServer::start();
        infer.create_namespace(&env.namespace);
        let config = kubeconfig().fake("train", &train, &env.namespace).fake(
            "infer",
            &infer.url(),
            &env.namespace,
        );
        let kubeconfig = env.kubeconfig_file("two-clusters.kubeconfig", &config);
        Some(TwoClusters {
            env,
            infer,
            kubeconfig,
        })
    }

    /// A shell whose kubeconfig names both clusters.
    pub fn shell(&self) -> Shell<'_> {
        Shell::new(&self.env).var("KUBECONFIG", &self.kubeconfig)
    }

    /// `args` (in the test's namespace) with the kubeconfig naming both
    /// clusters: a step the document does not show.
    pub fn cmd(&self, args: &[&str]) -> TestCommand<'_> {
        self.env.cmd(args).kubeconfig(&self.kubeconfig)
    }
}

// ------------------------------------------------------------ links

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces
/// as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of `text`'s headings (a repeated one gets `-1`, `-2`, ...).
fn anchors(text: &str) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut bases: Vec<String> = Vec::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let hashes = line.chars().take_while(|c| *c == '#').count();
        let Some(heading) = line.get(hashes..).and_then(|r| r.strip_prefix(' ')) else {
            continue;
        };
        if hashes == 0 {
            continue;
        }
        let base = anchor(heading);
        let n = bases.iter().filter(|b| **b == base).count();
        bases.push(base.clone());
        seen.push(if n == 0 { base } else { format!("{base}-{n}") });
    }
    seen
}

/// The targets of `text`'s links outside code blocks, with their line.
fn links(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut in_fence = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        for (at, _) in line.match_indices("](") {
            let rest = &line[at + 2..];
            let target = rest.split(')').next().unwrap_or_default();
            found.push((i + 1, target.to_string()));
        }
    }
    found
}

#[test]
fn every_relative_link_points_at_a_file_and_heading_that_exist() {
    let mut docs = documents();
    docs.push("DEVELOPMENT.md".to_string());
    let mut checked = 0;
    for doc in &docs {
        let text = read(doc);
        let dir = Path::new(doc).parent().unwrap_or(Path::new(""));
        for (line, target) in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, fragment) = match target.split_once('#') {
                Some((p, f)) => (p, Some(f)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() {
                doc.to_string()
            } else {
                let joined = dir.join(path);
                let file = root().join(&joined);
                assert!(
                    file.exists(),
                    "{doc}:{line}: `{target}`: there is no {}",
                    joined.display()
                );
                joined.to_string_lossy().into_owned()
            };
            if let Some(fragment) = fragment {
                let headings = anchors(&read(&file));
                assert!(
                    headings.iter().any(|h| h == fragment),
                    "{doc}:{line}: `{target}`: {file} has no heading #{fragment}; it has:\n{}",
                    headings.join("\n")
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} links found");
}

#[test]
fn headings_get_githubs_anchors() {
    assert_eq!(
        anchors(
            "# A\n## `export`: start it\n```sh\n# not a heading\n```\n### 7.5 Differences by design\n## A\n#nope\n"
        ),
        ["a", "export-start-it", "75-differences-by-design", "a-1"]
    );
}

#[test]
fn every_document_with_commands_has_a_test() {
    let docs = documents();
    for doc in &docs {
        let shown = shown_commands(doc);
        assert!(
            shown.is_empty() || SCRIPTED.contains(&doc.as_str()),
            "{doc} shows {} commands and no test runs them: add it to SCRIPTED and give it a test",
            shown.len()
        );
    }
    for doc in SCRIPTED {
        assert!(docs.iter().any(|d| d == doc), "{doc} is gone");
        assert!(!shown_commands(doc).is_empty(), "{doc} shows no command");
    }
}

#[test]
fn commands_are_read_from_blocks_prompts_and_spans() {
    let text = "Run `kubectl konduktor whoami\n-o json` first; `kubectl konduktor`\nalone is not one.\n\n```sh\nkubectl konduktor diff -f a.yaml   # plan\n# kubectl konduktor apply\ncargo build\n```\n\n```text\n$ kubectl konduktor apply -f a.yaml\nPlan: 1\n...\n```\n\n```yaml\nrun: kubectl konduktor apply\n```\n";
    let shown = parse_commands("x.md", text);
    let commands: Vec<(usize, &str)> = shown.iter().map(|s| (s.line, s.command.as_str())).collect();
    assert_eq!(
        commands,
        [
            (1, "kubectl konduktor whoami -o json"),
            (6, "kubectl konduktor diff -f a.yaml"),
            (12, "kubectl konduktor apply -f a.yaml"),
        ]
    );
    assert_eq!(shown[2].output, ["Plan: 1", "..."]);
}
