//! Rendering a plan for people: one block per secret, one line per key
//! (`+` added, `~` changed, `-` removed, kept), the files of a directory
//! secret that changed, then the summary line. Values appear only with
//! `show_secrets`, as unified diffs of text. Names, keys and archive paths
//! come from files and the cluster: each is escaped before it is shown.

use console::style;

use crate::escape::text as esc;

use crate::konduktor::SecretKind;
use crate::secrets::plan::{
    Action, Change, DeleteReason, KeyChange, KindLabel, Origin, Plan, SecretPlan, Step,
};

#[derive(Debug, Clone, Copy, Default)]
pub struct ViewOptions {
    pub show_secrets: bool,
}

pub fn render(plan: &Plan, opts: ViewOptions) -> String {
    let mut out = String::new();
    for s in &plan.secrets {
        render_secret(&mut out, s, plan, opts);
    }
    if !plan.unmanaged.is_empty() {
        out.push_str(&format!(
            "Not in the manifest, kept (--prune deletes them): {}\n",
            plan.unmanaged
                .iter()
                .map(|n| esc(n))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out.push_str(&kept_own(plan));
    out.push_str(&summary_line(plan));
    out.push('\n');
    let blocking = plan.blocking_conflicts();
    if blocking > 0 {
        out.push_str(&format!("{}\n", style(conflicts_line(blocking)).red()));
    }
    out
}

/// Konduktor's own secrets (docs/konduktor-compat.md §1.6), once each:
/// kept, whatever `--prune` says, with what they are.
fn kept_own(plan: &Plan) -> String {
    if plan.konduktor_own.is_empty() {
        return String::new();
    }
    let mut out = String::from("Konduktor's own, kept (a manifest never manages them):\n");
    for k in &plan.konduktor_own {
        out.push_str(&format!("  {}: {}\n", esc(&k.name), esc(&k.own.describe())));
    }
    out
}

/// What an apply would delete, for the confirmation question.
pub fn deletions(plan: &Plan) -> String {
    let secrets = plan
        .secrets
        .iter()
        .filter(|s| s.action() == Action::Delete)
        .count();
    let keyed = plan
        .secrets
        .iter()
        .filter(|s| s.action() == Action::Merge && s.deletes())
        .count();
    deletions_text(secrets, keyed)
}

/// `n` deletions of whole secrets and of keys of `keyed` secrets, as the
/// confirmation says them: "1 secret", "keys of 2 secrets", "2 secrets and
/// keys of 1 secret".
pub fn deletions_text(secrets: usize, keyed: usize) -> String {
    let whole = crate::output::count(secrets, "secret", "secrets");
    let keys = format!(
        "keys of {}",
        crate::output::count(keyed, "secret", "secrets")
    );
    match (secrets, keyed) {
        (_, 0) => whole,
        (0, _) => keys,
        _ => format!("{whole} and {keys}"),
    }
}

/// The line under a plan with conflicts.
pub fn conflicts_line(n: usize) -> String {
    let they = if n == 1 { "it is" } else { "they are" };
    format!(
        "{}: apply refuses to run until {they} resolved.",
        crate::output::count(n, "conflict", "conflicts")
    )
}

pub fn summary_line(plan: &Plan) -> String {
    let s = plan.summary;
    let waiting = if s.terminating > 0 {
        format!(", {} terminating", s.terminating)
    } else {
        String::new()
    };
    format!(
        "Plan: {} to create, {} to merge, {} to delete, {} unchanged{waiting}.",
        s.create, s.merge, s.delete, s.unchanged
    )
}

fn kind_suffix(s: &SecretPlan) -> String {
    s.kind
        .as_ref()
        .map(|k| format!(" ({})", esc(k.as_str())))
        .unwrap_or_default()
}

fn render_secret(out: &mut String, s: &SecretPlan, plan: &Plan, opts: ViewOptions) {
    out.push_str(&head_line(s, plan));
    out.push('\n');
    if !matches!(s.action(), Action::Create | Action::Merge | Action::Delete) {
        return;
    }
    for k in &s.keys {
        render_key(out, k, opts);
    }
}

/// The secret's own line: its mark, name, kind and what happens to it.
fn head_line(s: &SecretPlan, plan: &Plan) -> String {
    let (name, kind, object) = (esc(&s.name), kind_suffix(s), esc(&s.secret_name));
    match &s.step {
        Step::Create { .. } => style(format!("+ {name}{kind}: create {object}"))
            .green()
            .to_string(),
        Step::Merge { relabel_from, .. } => {
            let relabel = relabel_from
                .as_deref()
                .map(|from| {
                    let to = s.kind.as_ref().map(KindLabel::as_str).unwrap_or_default();
                    format!(", kind {} -> {}", esc(from), esc(to))
                })
                .unwrap_or_default();
            style(format!("~ {name}{kind}: merge into {object}{relabel}"))
                .yellow()
                .to_string()
        }
        Step::Delete { reason, .. } => {
            let why = delete_reason(*reason, plan);
            style(format!("- {name}{kind}: delete {object} ({why})"))
                .red()
                .to_string()
        }
        Step::Conflict { .. } => style(format!(
            "! {name}: conflict: {}",
            esc(&s.conflict_message().unwrap_or_default())
        ))
        .red()
        .bold()
        .to_string(),
        Step::AlreadyAbsent => format!("  {name}: absent (nothing to delete)"),
        Step::Terminating {
            terminating,
            reason: Some(reason),
            ..
        } => style(format!(
            "  {name}{kind}: waiting on deletion of {object} ({}; it was to go: {})",
            esc(&terminating.pending()),
            delete_reason(*reason, plan)
        ))
        .yellow()
        .to_string(),
        Step::Terminating {
            terminating,
            reason: None,
            ..
        } => format!(
            "  {name}{kind}: terminating, {object} ({})",
            esc(&terminating.pending())
        ),
        Step::Unchanged { .. } => format!("  {name}{kind}: unchanged"),
    }
}

fn delete_reason(reason: DeleteReason, plan: &Plan) -> String {
    match reason {
        DeleteReason::Absent => "state: absent".to_string(),
        DeleteReason::ReplacedGitSsh => {
            let new = plan
                .secrets
                .iter()
                .find(|o| {
                    o.known_kind() == Some(SecretKind::GitSsh) && o.action() != Action::Delete
                })
                .map_or("another", |o| o.name.as_str());
            format!("replaced by git-ssh secret \"{}\"", esc(new))
        }
        DeleteReason::Pruned => "not in the manifest, --prune".to_string(),
    }
}

fn render_key(out: &mut String, k: &KeyChange, opts: ViewOptions) {
    let key = esc(&k.key);
    // How it was compared, where the value comes from (a command), and
    // where the change came from.
    let origin = k.origin.map(origin_note).map(str::to_string);
    let note: String = k
        .note
        .iter()
        .chain(k.from.as_ref().map(|f| format!("from {f}")).iter())
        .chain(origin.iter())
        .map(|n| format!(" ({})", esc(n)))
        .collect();
    let line = match k.change {
        Change::Added => style(format!("    + {key}{note}")).green().to_string(),
        Change::Changed => style(format!("    ~ {key}{note}")).yellow().to_string(),
        Change::Removed => style(format!("    - {key}{note}")).red().to_string(),
        Change::Kept => format!("      {key} (kept: not in the manifest)"),
        Change::Unchanged if !note.is_empty() => format!("      {key}: unchanged{note}"),
        Change::Unchanged => return,
    };
    out.push_str(&line);
    out.push('\n');
    for f in &k.files {
        let mark = match f.change {
            Change::Added => style(format!("        + {}", esc(&f.path))).green(),
            Change::Changed => style(format!("        ~ {}", esc(&f.path))).yellow(),
            Change::Removed => style(format!("        - {}", esc(&f.path))).red(),
            Change::Kept | Change::Unchanged => continue,
        };
        out.push_str(&format!("{mark}\n"));
    }
    if opts.show_secrets
        && matches!(k.change, Change::Added | Change::Changed | Change::Removed)
        && k.files.is_empty()
    {
        out.push_str(&value_diff(k));
    }
}

/// Where a key's change came from, for people.
fn origin_note(origin: Origin) -> &'static str {
    match origin {
        Origin::Sources => "changed in the sources since the last apply",
        Origin::Cluster => "changed in the cluster since the last apply",
        Origin::Both => "changed in the sources and in the cluster since the last apply",
        Origin::Unknown => "origin unknown",
    }
}

/// Only with --show-secrets: a unified diff for text, a size note for binary.
fn value_diff(k: &KeyChange) -> String {
    let old = k.old.as_ref().map(|v| v.expose()).unwrap_or_default();
    let new = k.new.as_ref().map(|v| v.expose()).unwrap_or_default();
    let text = |b: &[u8]| {
        std::str::from_utf8(b)
            .ok()
            .filter(|s| !s.contains('\0'))
            .map(str::to_string)
    };
    match (text(old), text(new)) {
        (Some(a), Some(b)) => {
            // Shown on purpose, yet a value may come from the cluster: its
            // control characters (a CR too) are escaped like any outside
            // text before the diff is made, line by line, so it cannot
            // drive the terminal; printable text stays as it is.
            let (a, b) = (escape_lines(&a), escape_lines(&b));
            let diff = similar::TextDiff::from_lines(&a, &b);
            let body = diff
                .unified_diff()
                .context_radius(3)
                .header("cluster", "manifest")
                .to_string();
            let mut out = String::new();
            for line in body.lines() {
                out.push_str("        ");
                out.push_str(line);
                out.push('\n');
            }
            if !body.ends_with('\n') && !body.is_empty() {
                out.push_str("        \\ No newline at end of value\n");
            }
            out
        }
        _ => format!(
            "        (binary value: {} -> {})\n",
            crate::output::count(old.len(), "byte", "bytes"),
            crate::output::count(new.len(), "byte", "bytes")
        ),
    }
}

/// `text` on each line, the line feeds kept.
fn escape_lines(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, line) in value.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&esc(line));
    }
    out
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
