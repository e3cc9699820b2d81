//! Showing what an apply did, for people: one line per secret it touched,
//! then whether it completed. Names and messages come from files and the
//! cluster: each is escaped before it is shown.

use crate::escape::text as esc;
use crate::secrets::execute::{Outcome, Status};
use crate::secrets::plan::Action;

/// One line per secret an apply touched (done, failed, or not attempted
/// and why; a failure's help under it, once while it repeats), then
/// whether the apply completed, and whether running it again can help.
pub fn render_outcomes(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    let (mut done, mut failed, mut skipped, mut stuck, mut pending) = (0, 0, 0, 0, 0);
    let mut last_help: Option<&str> = None;
    for o in outcomes {
        let verb = match o.action {
            Action::Create => "created",
            Action::Merge => "merged",
            Action::Delete | Action::Terminating => "deleted",
            _ => "unchanged",
        };
        let (name, object) = (esc(&o.name), esc(&o.secret_name));
        let line = match &o.status {
            Status::Done => {
                done += 1;
                format!("secret \"{name}\" {verb} ({object})\n")
            }
            Status::Failed {
                message,
                class,
                help,
            } => {
                failed += 1;
                if !class.rerun_helps() {
                    stuck += 1;
                }
                let mut line = format!("secret \"{name}\" NOT {verb}: {}\n", esc(message));
                if let Some(help) = help.as_deref().filter(|h| last_help != Some(*h)) {
                    line.push_str(&format!("  help: {}\n", esc(help)));
                    last_help = Some(help);
                }
                line
            }
            Status::Skipped { message } => {
                skipped += 1;
                format!("secret \"{name}\" not {verb}: {}\n", esc(message))
            }
            Status::Pending { message } => {
                pending += 1;
                format!("secret \"{name}\" not yet {verb}: {}\n", esc(message))
            }
        };
        out.push_str(&line);
    }
    if failed + skipped == 0 {
        if pending > 0 {
            out.push_str(&format!(
                "Apply complete: {done} done; {} pending on finalizers, not waited for (--wait=false).\n",
                crate::output::count(pending, "deletion", "deletions")
            ));
        } else {
            out.push_str(&format!("Apply complete: {done} done.\n"));
        }
        return out;
    }
    let advice = if stuck == 0 {
        "Run apply again to converge.".to_string()
    } else if stuck == failed && skipped == 0 {
        "Running apply again will not help until what each failure says is fixed.".to_string()
    } else {
        format!(
            "{stuck} of the failures will not go away by running apply again: fix what each says, then run apply again."
        )
    };
    out.push_str(&format!(
        "Apply incomplete: {done} done, {failed} failed, {skipped} not attempted. {advice}\n"
    ));
    out
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
