//! Reading what users write: files read bounded and regular ([`file`]),
//! YAML as a spanned tree with its masked text ([`yaml`]), and located
//! diagnostics over it ([`located`]).

pub mod file;
pub mod located;
pub mod yaml;
pub mod yaml11;
