//! Kubernetes' syntax for what it names: DNS-1123 labels and subdomains,
//! label values, qualified label and annotation keys, and the characters
//! of a Secret data key (docs/konduktor-compat.md §1.3). Pure checks, below
//! everything that reads or builds names, each rule written once.

/// Lowercase letters, digits and `-`, starting and ending with a letter or
/// digit: the shape of a DNS-1123 label, whatever its length.
pub fn has_label_shape(s: &str) -> bool {
    let bytes = s.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            alnum(first) && alnum(last) && bytes.iter().all(|b| alnum(b) || *b == b'-')
        }
        _ => false,
    }
}

/// A DNS-1123 label (RFC 1123, as Kubernetes checks names of namespaces,
/// Jobs, volumes): the shape above, at most 63 characters. The one place
/// this rule is written.
pub fn is_dns1123_label(s: &str) -> bool {
    s.len() <= 63 && has_label_shape(s)
}

/// A Kubernetes label value: empty, or at most 63 letters, digits, `-`, `_`
/// and `.`, starting and ending with a letter or digit. The one place this
/// rule is written (owner hashes, accelerator types).
pub fn is_label_value(s: &str) -> bool {
    let alnum = |c: &char| c.is_ascii_alphanumeric();
    s.len() <= 63
        && (s.is_empty()
            || (s.chars().next().is_some_and(|c| alnum(&c))
                && s.chars().last().is_some_and(|c| alnum(&c))
                && s.chars().all(|c| alnum(&c) || matches!(c, '-' | '_' | '.'))))
}

/// A DNS-1123 subdomain (apimachinery `IsDNS1123Subdomain`): at most 253
/// characters, dot-separated DNS-1123 label shapes. The prefix of a label
/// or annotation key.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(has_label_shape)
}

/// Why a label or annotation key is not a qualified name; `None` if it is.
/// apimachinery `IsQualifiedName`: an optional DNS-1123 subdomain prefix and
/// `/`, then a name of at most 63 letters, digits, `-`, `_` and `.`,
/// starting and ending with a letter or digit. The one place this rule is
/// written.
pub fn qualified_name_problem(key: &str) -> Option<&'static str> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if name.contains('/') {
        return Some("it holds more than one `/`");
    }
    match prefix {
        Some("") => return Some("the prefix before `/` is empty"),
        Some(p) if p.len() > 253 => {
            return Some("the prefix before `/` is longer than 253 characters");
        }
        Some(p) if !is_dns1123_subdomain(p) => {
            return Some(
                "the prefix before `/` is not a DNS subdomain (lowercase letters, digits, `-` and `.`)",
            );
        }
        _ => {}
    }
    if name.is_empty() {
        return Some("the name is empty");
    }
    if name.len() > 63 {
        return Some("the name is longer than 63 characters");
    }
    // The label-value shape, non-empty: the same characters and ends.
    if !is_label_value(name) {
        return Some(
            "the name may hold only letters, digits, `-`, `_` and `.`, and must start and end with a letter or digit",
        );
    }
    None
}

/// Why an annotation key is refused; `None` if the API server accepts it.
/// apimachinery `ValidateAnnotations` checks the lowercased key, so upper
/// case is allowed in the prefix.
pub fn annotation_key_problem(key: &str) -> Option<&'static str> {
    qualified_name_problem(&key.to_ascii_lowercase())
}

/// The characters of a Secret data key: at most 253 of letters, digits,
/// `-`, `_` and `.` (which `=`, spaces and `/` of a pasted `KEY=value` or
/// token are not). The one place this rule is written.
pub fn has_key_chars(s: &str) -> bool {
    (1..=253).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
#[path = "kube_names_tests.rs"]
mod tests;
