//! Text that crosses the wire, made fit to show or to send: kube's errors
//! in our words (their whole `source()` chain, never a debug dump), URLs
//! without the secrets they may carry, server texts cut to size, and what
//! an HTTP header or a kubeconfig's `*-data` field may hold. No request and
//! no type of this layer: everything else in it words its failures with these.

/// A kube configuration error in our words: kube's own text for file
/// errors shows paths as Rust debug strings, and a base64 error quotes a
/// byte of the value.
pub(super) fn config_error_text(e: &kube::config::KubeconfigError) -> String {
    use kube::config::{KubeconfigError as K, LoadDataError as L};
    let data = |what: &str, e: &L| match e {
        L::DecodeBase64(_) => format!("the {what} data is not valid base64"),
        L::ReadFile(source, path) => format!(
            "cannot read the {what} file `{}`: {source}",
            crate::escape::path(path)
        ),
        L::NoBase64DataOrFile => format!("the {what} is missing"),
    };
    match e {
        K::LoadCertificateAuthority(e) => data("certificate-authority", e),
        K::LoadClientCertificate(e) => data("client-certificate", e),
        K::LoadClientKey(e) => data("client-key", e),
        K::ParseCertificates(_) => "its certificates are not valid PEM".to_string(),
        K::ParseClusterUrl(_) => "the server URL of its cluster is not a valid URL".to_string(),
        K::ParseProxyUrl(_) => "the proxy-url of its cluster is not a valid URL".to_string(),
        K::ReadConfig(source, path) => {
            format!("cannot read `{}`: {source}", crate::escape::path(path))
        }
        K::Parse(_) => "it is not valid YAML".to_string(),
        other => other.to_string(),
    }
}

/// The text of a kube error without kube's variant prefixes
/// (`HyperError: `, `ServiceError: `).
pub(super) fn kube_error_text(e: &kube::Error) -> String {
    without_url_secrets(&kube_error_text_raw(e))
}

fn kube_error_text_raw(e: &kube::Error) -> String {
    match e {
        kube::Error::HyperError(inner) => error_chain(inner),
        kube::Error::Service(inner) => error_chain(inner.as_ref()),
        // Ours, made after parsing (see cluster::pages): no place, no value.
        kube::Error::SerdeError(inner) if inner.line() == 0 => inner.to_string(),
        // serde's messages quote the value they choke on: the place is enough.
        kube::Error::SerdeError(inner) => format!(
            "its answer is not the JSON expected (line {} column {})",
            inner.line(),
            inner.column()
        ),
        kube::Error::Auth(_) => "cannot get credentials".to_string(),
        other => error_chain(other),
    }
}

/// The full `source()` chain of an error, joined: "connection refused" sits
/// several levels down in hyper's errors.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(inner) = cur {
        let text = inner.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = inner.source();
    }
    parts.join(": ")
}

/// The most characters of any one text from the server (a message, a
/// cause, a name it echoes) that goes into a message, help or log.
pub(super) const MAX_SERVER_TEXT_CHARS: usize = 1_000;

/// `text` cut to [`MAX_SERVER_TEXT_CHARS`] characters (never inside one),
/// saying how much was left out: `… (N more bytes)`.
pub(super) fn bounded(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(MAX_SERVER_TEXT_CHARS) {
        None => std::borrow::Cow::Borrowed(text),
        Some((at, _)) => {
            let (kept, rest) = text.split_at(at);
            std::borrow::Cow::Owned(format!("{kept}… ({} more bytes)", rest.len()))
        }
    }
}

/// `text` with what URLs in it may carry as secrets hidden: the user and
/// password before `@`, and the query (`https://u:p@host/?token=x` becomes
/// `https://***@host/?***`). A server or proxy URL is shown in messages.
pub(crate) fn without_url_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '`' | '"' | '\'' | ')' | ','))
            .unwrap_or(tail.len());
        let (url, after) = tail.split_at(end);
        let authority_end = url.find(['/', '?', '#']).unwrap_or(url.len());
        let (authority, path) = url.split_at(authority_end);
        match authority.rfind('@') {
            Some(i) => {
                out.push_str("***");
                out.push_str(&authority[i..]);
            }
            None => out.push_str(authority),
        }
        match path.find('?') {
            Some(q) => {
                out.push_str(&path[..q]);
                out.push_str("?***");
            }
            None => out.push_str(path),
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Can `text` be an HTTP header value (visible ASCII, spaces and tabs)?
pub(super) fn is_header_value(text: &str) -> bool {
    text.bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// Standard base64, as Kubernetes writes `*-data` fields.
pub(super) fn base64(bytes: Vec<u8>) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
