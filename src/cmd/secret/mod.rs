//! `secret create|list|delete`: Konduktor's imperative commands.

pub mod create;
pub mod delete;
pub mod list;
