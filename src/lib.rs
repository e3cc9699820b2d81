//! kubectl-konduktor: Konduktor's per-user Secrets, as a kubectl plugin.
//!
//! Layers depend one way, top to bottom (DEVELOPMENT.md, "The layers";
//! `tests/e2e/layers.rs` holds the code to it); the core knows nothing of
//! the command line:
//! - `cli` parses arguments and hands each subcommand to its module in `cmd`;
//! - [`render`]: task files and injection, for `render-job`;
//! - [`secrets`]: the manifest and its sources, the plan and its views,
//!   carrying it out, the imperative commands, export;
//! - [`cluster`]: kubeconfig loading, requests, error translation;
//! - [`process`]: running a program bounded (`fromCommand`, exec plugins);
//! - [`konduktor`]: Konduktor's object layout and rules, the owner hash,
//!   the redacting holder of secret bytes;
//! - [`input`]: bounded reads and located YAML diagnostics;
//! - small shared parts: [`error`], [`snippet`], [`output`], [`escape`],
//!   [`log`], [`kube_names`].

#[doc(hidden)]
pub mod bench;
pub mod cli;
pub(crate) mod cluster;
pub(crate) mod cmd;
pub(crate) mod error;
pub(crate) mod escape;
pub(crate) mod input;
pub(crate) mod konduktor;
pub(crate) mod kube_names;
pub(crate) mod log;
pub(crate) mod output;
pub(crate) mod process;
pub(crate) mod render;
pub(crate) mod secrets;
pub(crate) mod snippet;
#[cfg(test)]
pub(crate) mod test_rng;

// The surface the binary, the tests and the fuzz targets use; nothing else
// is public.
pub use error::Error;
/// The resolved owner, for [`manifest::Manifest::check_owner`] in tests.
pub use konduktor::identity::{HashSource, Owner, hash_seed};
pub use output::{diagnostic, note_closed_stdout};
pub use render::inject::{EXPANDED_MOUNT, GIT_SSH_COMMAND, UNPACK_SCRIPT};
pub use render::task;
pub use secrets::manifest;
