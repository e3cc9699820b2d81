//! The one type that holds secret bytes.
//!
//! Every value read from a file, a directory, an inline pair or the cluster
//! lives in a [`SecretBytes`]. Its `Debug` and `Display` never show the bytes,
//! so a stray `{:?}` in a log line or an error cannot leak a value.

use std::fmt;

/// Secret bytes whose `Debug` and `Display` redact the content.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes themselves. Call only where the value must go on the wire
    /// or into an archive, or when the user asked for `--show-secrets`.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn into_exposed(self) -> Vec<u8> {
        self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Vec<u8>> for SecretBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not even the length: it narrows what a value can be.
        f.write_str("SecretBytes(<redacted>)")
    }
}

impl fmt::Display for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
#[path = "secret_value_tests.rs"]
mod tests;
