//! `identity show|candidates|adopt|export`: one owner hash on every
//! workstation (docs/konduktor-compat.md §2).

pub mod adopt;
pub mod candidates;
pub mod export;
