//! The declarative and imperative workflows on a user's secrets, in the
//! order data flows: [`manifest`] (parse, validate, load `secrets.yaml`),
//! [`sources`] (files, folders, inline pairs into data), [`plan`] (a pure
//! function of desired and live state), [`view`] (showing a plan and its
//! outcome), [`execute`] (carrying it out, conditionally); [`create`] is
//! `secret create`'s create-or-merge, [`delete`] `secret delete`'s, [`list`]
//! what `secret list` shows; [`export`] a manifest from live secrets, its
//! env files in the format of [`env_file`] (also `fromEnvFile`);
//! [`store`] the cluster calls they make; [`wait`] waiting for a
//! deletion a finalizer holds.

pub mod command;
pub mod create;
pub mod delete;
pub mod env_file;
pub mod execute;
pub mod export;
pub mod list;
pub mod manifest;
pub mod plan;
pub mod saved_plan;
pub mod sources;
pub mod store;
pub mod view;
pub mod wait;
