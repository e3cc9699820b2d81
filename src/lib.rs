//! kubectl-konduktor: Konduktor's per-user Secrets, as a kubectl plugin.
//!
//! Layers depend one way, `cli` → `cmd` → core; the core knows nothing of
//! the command line:
//! - [`konduktor`]: Konduktor's object layout and rules, the owner hash,
//!   the redacting holder of secret bytes;
//! - [`secrets`]: manifest, sources, plan, its view, its execution;
//! - [`render`]: task files and injection, for `render-job`;
//! - [`cluster`]: kubeconfig loading, requests, error translation;
//! - [`input`]: bounded reads and located YAML diagnostics;
//! - small shared parts: [`error`], [`output`], [`escape`], [`log`].
//!
//! `cli` parses arguments and hands each subcommand to its module in `cmd`.

pub mod cli;
pub mod cluster;
pub mod cmd;
pub mod error;
pub mod escape;
pub mod input;
pub mod konduktor;
pub mod log;
pub mod output;
pub mod render;
pub mod secrets;
