//! `secret list [-u]`: the caller's secrets (by owner label, selected by the
//! server), or every Secret in the namespace. Key names only, never values.

use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use crate::cmd::prelude::{self, Context, OutputArg};
use crate::error::Result;
use crate::output::{self, Format};
use crate::secrets::imperative::list::{self, ListedSecret};

pub const EXAMPLES: &str = "Examples:
  # Your secrets in the current namespace
  kubectl konduktor secret list

  # Every Secret in the namespace, with its owner
  kubectl konduktor secret list --all-users -n team-a

  # As data (key names only)
  kubectl konduktor secret list -o json";

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Every Secret in the namespace, with an OWNER column, not only yours
    /// (key names of yours only: the others' are read as metadata)
    #[arg(short = 'u', long = "all-users")]
    pub all_users: bool,
    /// Output format
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputArg::Text)]
    pub output: OutputArg,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ListReport {
    namespace: String,
    owner_hash: String,
    all_users: bool,
    items: Vec<ListedSecret>,
}

pub async fn run(ctx: &Context, args: &ListArgs) -> Result<ExitCode> {
    let owner = crate::cmd::prelude::owner()?;
    let cluster = crate::cmd::prelude::connect(ctx).await?;
    let items = list::list(&cluster, &owner.hash, args.all_users).await?;
    match Format::from(args.output) {
        Format::Text => {
            if items.is_empty() {
                if args.all_users {
                    eprintln!("No secrets found in namespace {}.", cluster.namespace);
                } else {
                    eprintln!(
                        "No secrets owned by you ({}, owner {}) in namespace {}.",
                        owner.username, owner.hash, cluster.namespace
                    );
                    let found = prelude::other_identities(&cluster, &owner.hash, None).await;
                    prelude::hint_other_identities(found.as_ref());
                }
            } else {
                output::print(&table(&items, args.all_users, jiff::Timestamp::now()))?;
                if let Some(note) = shared_names_note(&items) {
                    eprintln!("{note}");
                }
                if let Some(note) = konduktor_own_note(&items) {
                    eprint!("{note}");
                }
                for note in not_opaque_notes(&items) {
                    eprintln!("{note}");
                }
            }
        }
        format => {
            let report = ListReport {
                namespace: cluster.namespace.clone(),
                owner_hash: owner.hash,
                all_users: args.all_users,
                items,
            };
            output::print(&output::to_data(&report, format)?)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The names two or more rows share (a basename on two objects: of two
/// owners, of two kinds, or written by another tool), in order.
fn shared_names(items: &[ListedSecret]) -> Vec<&str> {
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for s in items {
        *seen.entry(s.name.as_str()).or_default() += 1;
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(name, _)| name)
        .collect()
}

/// Why two rows show the same name, when some do.
fn shared_names_note(items: &[ListedSecret]) -> Option<String> {
    let shared = shared_names(items);
    let names: Vec<String> = shared
        .iter()
        .map(|n| format!("`{}`", crate::escape::text(n)))
        .collect();
    let (these, is) = match names.len() {
        0 => return None,
        1 => ("the name", "is"),
        _ => ("the names", "are"),
    };
    Some(format!(
        "note: {these} {} {is} on more than one Secret object (the OBJECT column names each)",
        crate::output::and_list(&names)
    ))
}

/// What the rows marked Konduktor's own are (docs/konduktor-compat.md
/// §1.6), one line each, when there are some.
fn konduktor_own_note(items: &[ListedSecret]) -> Option<String> {
    let lines: String = items
        .iter()
        .filter_map(|s| {
            s.konduktor_own.as_ref().map(|own| {
                format!(
                    "  {}: {}\n",
                    crate::escape::text(&s.name),
                    crate::escape::text(&own.description)
                )
            })
        })
        .collect();
    (!lines.is_empty()).then(|| {
        format!(
            "note: rows marked (Konduktor's own) are secrets Konduktor keeps for itself; diff, apply and export leave them alone:\n{lines}"
        )
    })
}

/// The KIND cell: the label (`-` for none), marked when the secret is
/// Konduktor's own.
fn kind_cell(s: &ListedSecret) -> String {
    let kind = s.kind.clone().unwrap_or_else(|| "-".into());
    if s.konduktor_own.is_some() {
        format!("{kind} (Konduktor's own)")
    } else {
        kind
    }
}

/// One note per secret of the caller's that is not Opaque: it carries
/// our labels but is never ours to write.
fn not_opaque_notes(items: &[ListedSecret]) -> Vec<String> {
    items
        .iter()
        .filter_map(|s| {
            let t = s.not_opaque_type.as_deref()?;
            Some(format!(
                "note: `{}` carries your owner label but is of type `{}`, not Opaque: Konduktor never made it, and it is never written or deleted here",
                crate::escape::text(&s.secret_name),
                crate::escape::text(t)
            ))
        })
        .collect()
}

fn table(items: &[ListedSecret], all_users: bool, now: jiff::Timestamp) -> String {
    // Two rows of one name: say which object each is.
    let objects = !shared_names(items).is_empty();
    let mut headers = vec!["NAME"];
    if objects {
        headers.push("OBJECT");
    }
    headers.extend(["KIND", "KEYS", "AGE"]);
    if all_users {
        headers.push("OWNER");
    }
    // Shown only when a secret is being deleted (a finalizer holds it).
    let any_terminating = items.iter().any(|s| s.terminating.is_some());
    if any_terminating {
        headers.push("STATUS");
    }
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|s| {
            let age = s
                .created
                .as_deref()
                .and_then(|c| c.parse::<jiff::Timestamp>().ok())
                .map_or("<unknown>".to_string(), |t| {
                    output::age(now.as_second() - t.as_second())
                });
            let keys = match &s.keys {
                Some(keys) if keys.is_empty() => "<none>".to_string(),
                Some(keys) => keys.join(","),
                // Someone else's: read as metadata only.
                None => "-".to_string(),
            };
            let mut row = vec![s.name.clone()];
            if objects {
                row.push(s.secret_name.clone());
            }
            // Not Opaque: never ours, whatever its kind label says.
            let kind = match &s.not_opaque_type {
                Some(t) => format!("(type {t}: not ours)"),
                None => kind_cell(s),
            };
            row.extend([kind, keys, age]);
            if all_users {
                row.push(s.owner.clone().unwrap_or_else(|| "(not konduktor)".into()));
            }
            if any_terminating {
                row.push(match &s.terminating {
                    Some(t) if t.finalizers.is_empty() => "Terminating".to_string(),
                    Some(t) => format!("Terminating (finalizers: {})", t.finalizers.join(",")),
                    None => "Active".to_string(),
                });
            }
            row
        })
        .collect();
    output::table(&headers, &rows)
}
