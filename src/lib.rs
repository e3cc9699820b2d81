//! kubectl-konduktor: Konduktor's per-user Secrets, as a kubectl plugin.
//!
//! The core knows nothing of the command line:
//! - [`secret_value`]: the redacting holder of secret bytes;
//! - [`konduktor`]: Konduktor's object layout and validation rules;
//! - [`identity`]: the owner hash;
//! - [`sources`]: files, directories and inline pairs turned into data;
//! - [`cluster`]: kubeconfig loading and the Secret requests;
//! - [`output`]: tables, ages, JSON and YAML;
//! - [`error`]: the diagnostics users see.
//!
//! [`cli`] parses arguments and hands each subcommand to its module in [`cmd`].

pub mod cli;
pub mod cluster;
pub mod cmd;
pub mod error;
pub mod escape;
pub mod execute;
pub mod identity;
pub mod inject;
pub mod input_file;
pub mod konduktor;
pub mod located;
pub mod log;
pub mod manifest;
pub mod output;
pub mod plan;
pub mod plan_view;
pub mod secret_value;
pub mod sources;
pub mod task;
pub mod yaml;
