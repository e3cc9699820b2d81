//! The imperative commands on one secret at a time, by name: [`create`]
//! (`secret create`'s create-or-merge), [`delete`] (`secret delete`) and
//! [`list`] (what `secret list` shows).

pub mod create;
pub mod delete;
pub mod list;
