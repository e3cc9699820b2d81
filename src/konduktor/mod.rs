//! What Konduktor means by a user's secret (docs/konduktor-compat.md §1-2):
//! the object layout and its rules ([`layout`]), the owner hash
//! ([`identity`]), and the type that holds secret bytes ([`secret_value`]).

pub mod candidates;
pub mod config;
pub mod digest_key;
pub mod identity;
mod layout;
pub mod secret_value;

pub use layout::*;
