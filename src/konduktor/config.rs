//! Konduktor's own configuration file (docs/konduktor-compat.md §6):
//! `KONDUKTOR_CONFIG`, else `~/.konduktor/config.yaml`. Only the keys that
//! decide where secrets go and what they carry are read.

use std::collections::BTreeMap;

/// `kubernetes.custom_metadata`: merged into every secret written (our own
/// labels win).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomMetadata {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}
