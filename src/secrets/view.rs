//! Rendering a plan for people: one block per secret, one line per key
//! (`+` added, `~` changed, `-` removed, kept), the files of a directory
//! secret that changed, then the summary line. Values appear only with
//! `show_secrets`, as unified diffs of text. Names, keys and archive paths
//! come from files and the cluster: each is escaped before it is shown.

use console::style;

use crate::escape::text as esc;

use crate::secrets::plan::{Action, Change, DeleteReason, KeyChange, Plan, SecretPlan};

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
    out.push_str(&summary_line(plan));
    out.push('\n');
    if plan.summary.conflict > 0 {
        out.push_str(&format!(
            "{}\n",
            style(format!(
                "{} conflict(s): apply refuses to run until they are resolved.",
                plan.summary.conflict
            ))
            .red()
        ));
    }
    out
}

pub fn summary_line(plan: &Plan) -> String {
    let s = plan.summary;
    format!(
        "Plan: {} to create, {} to merge, {} to delete, {} unchanged.",
        s.create, s.merge, s.delete, s.unchanged
    )
}

fn kind_suffix(s: &SecretPlan) -> String {
    s.kind
        .as_deref()
        .map(|k| format!(" ({})", esc(k)))
        .unwrap_or_default()
}

fn render_secret(out: &mut String, s: &SecretPlan, plan: &Plan, opts: ViewOptions) {
    let head = match s.action {
        Action::Create => style(format!(
            "+ {}{}: create {}",
            esc(&s.name),
            kind_suffix(s),
            esc(&s.secret_name)
        ))
        .green()
        .to_string(),
        Action::Merge => {
            let relabel = s
                .relabel_from
                .as_deref()
                .map(|from| {
                    format!(
                        ", kind {} -> {}",
                        esc(from),
                        esc(s.kind.as_deref().unwrap_or_default())
                    )
                })
                .unwrap_or_default();
            style(format!(
                "~ {}{}: merge into {}{relabel}",
                esc(&s.name),
                kind_suffix(s),
                esc(&s.secret_name)
            ))
            .yellow()
            .to_string()
        }
        Action::Delete => {
            let why = match s.reason {
                Some(DeleteReason::Absent) => "state: absent".to_string(),
                Some(DeleteReason::ReplacedGitSsh) => {
                    let new = plan
                        .secrets
                        .iter()
                        .find(|o| {
                            o.kind.as_deref() == Some("git-ssh") && o.action != Action::Delete
                        })
                        .map_or("another", |o| o.name.as_str());
                    format!("replaced by git-ssh secret \"{}\"", esc(new))
                }
                Some(DeleteReason::Pruned) => "not in the manifest, --prune".to_string(),
                None => String::new(),
            };
            style(format!(
                "- {}{}: delete {} ({why})",
                esc(&s.name),
                kind_suffix(s),
                esc(&s.secret_name)
            ))
            .red()
            .to_string()
        }
        Action::Conflict => style(format!(
            "! {}: conflict: {}",
            esc(&s.name),
            esc(s.conflict.as_deref().unwrap_or_default())
        ))
        .red()
        .bold()
        .to_string(),
        Action::Unchanged if s.reason == Some(DeleteReason::Absent) => {
            format!("  {}: absent (nothing to delete)", esc(&s.name))
        }
        Action::Unchanged => format!("  {}{}: unchanged", esc(&s.name), kind_suffix(s)),
    };
    out.push_str(&head);
    out.push('\n');
    if !matches!(s.action, Action::Create | Action::Merge | Action::Delete) {
        return;
    }
    for k in &s.keys {
        render_key(out, k, opts);
    }
}

fn render_key(out: &mut String, k: &KeyChange, opts: ViewOptions) {
    let key = esc(&k.key);
    let note = k
        .note
        .as_deref()
        .map(|n| format!(" ({})", esc(n)))
        .unwrap_or_default();
    let line = match k.change {
        Change::Added => style(format!("    + {key}{note}")).green().to_string(),
        Change::Changed => style(format!("    ~ {key}{note}")).yellow().to_string(),
        Change::Removed => style(format!("    - {key}")).red().to_string(),
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
            "        (binary value: {} -> {} bytes)\n",
            old.len(),
            new.len()
        ),
    }
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
