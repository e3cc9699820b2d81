//! The declarative and imperative workflows on a user's secrets, one room
//! each, in the order data flows:
//! - [`manifest`]: parse, validate and load `secrets.yaml`, and its sources
//!   (files, folders, inline pairs, env files, commands);
//! - [`plan`]: a pure function of desired and live state, and its views
//!   (shown to people, saved for `apply --plan`);
//! - [`execute`]: carrying a plan out, conditionally, waiting for
//!   deletions a finalizer holds, and what was done;
//! - [`imperative`]: `secret create`, `secret delete`, `secret list`;
//! - [`export`]: a manifest and its env files from live secrets;
//! - [`env_file`]: the `KEY=VALUE` format the manifest's `fromEnvFile`
//!   reads and export writes (shared by both rooms);
//! - [`store`]: the cluster calls they all make, as a trait.

pub mod env_file;
pub mod execute;
pub mod export;
pub mod imperative;
pub mod manifest;
pub mod plan;
pub mod store;
