//! Every way a request can fail, read and classed: the server's refusals
//! ([`refusal`], [`FailureClass`]), credential plugins named but never
//! echoed, and the values a write sent, to scrub from what the server says
//! back ([`Sent`]). `translate.rs` words a failure for the cluster it
//! happened on; `text.rs` makes kube's and the server's texts fit to show.

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};

use super::kubeconfig::UserRef;
use super::text::{bounded, error_chain};
use crate::error::{Error, ErrorKind};

/// What the error of an answer over its cap says (pages too).
pub(crate) const OVER_CAP: &str = "more than this tool reads";

/// An answer this tool stopped reading: over one of its caps, or a page
/// of more items than asked for. Such an answer would come as large again,
/// so it is not asked for anew. It travels through kube's errors as a
/// typed value, told apart by its type, never by its words.
#[derive(Debug)]
pub(crate) enum OverCap {
    /// One object or review over its byte cap.
    Answer(String),
    /// A LIST page over its byte cap.
    Page(String),
    /// A LIST page of more items than asked for.
    TooMany(String),
}

impl std::fmt::Display for OverCap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OverCap::Answer(text) | OverCap::Page(text) | OverCap::TooMany(text) => {
                f.write_str(text)
            }
        }
    }
}

impl std::error::Error for OverCap {}

impl OverCap {
    /// As kube's error, for the paths that return one.
    pub(crate) fn into_kube(self) -> kube::Error {
        kube::Error::Service(Box::new(self))
    }

    /// The cap `e` carries, if it is one.
    pub(crate) fn of(e: &kube::Error) -> Option<&OverCap> {
        match e {
            kube::Error::Service(inner) => inner.downcast_ref::<OverCap>(),
            _ => None,
        }
    }
}

/// A credential failure, for a person: which plugin or setting, what went
/// wrong, what to try. Never the plugin's output, its captured stderr, or
/// kube's debug dump of them (`Output { status: ..., stdout: [...] }`),
/// nor the plugin's command line as kube prints it (with its environment).
/// The user's token cannot go into an HTTP header.
pub(super) fn unusable_token(context: &str, user: &UserRef) -> Error {
    let from = match &user.exec_command {
        Some(cmd) => format!("the credential plugin `{cmd}`"),
        None => "the kubeconfig".to_string(),
    };
    Error::new(
        ErrorKind::Unauthorized,
        format!(
            "the token of user `{}` (context `{context}`) from {from} holds a line break or a control character (not shown), so it cannot be sent",
            user.name
        ),
    )
    .with_help("a token is one line of printable text; run the plugin by hand, or check the kubeconfig's user entry")
}

pub(super) fn auth_error(e: &kube::client::AuthError, context: &str, user: &UserRef) -> Error {
    use kube::client::AuthError as A;
    let who = format!("user `{}` of context `{context}`", user.name);
    let plugin = match &user.exec_command {
        Some(cmd) => format!("the credential plugin `{cmd}` of {who}"),
        None => format!("the auth-provider command of {who}"),
    };
    let by_hand = format!(
        "run the plugin by hand, with the command, args and env of the `exec` entry of user `{}` in your kubeconfig, to see its output and messages; then log in again or fix that entry",
        user.name
    );
    let kind = ErrorKind::Unauthorized;
    match e {
        A::AuthExecStart(source) => {
            Error::new(kind, format!("cannot run {plugin}: {source}")).with_help(format!(
                "install the plugin, or fix `command` in the `exec` entry of user `{}` in your kubeconfig",
                user.name
            ))
        }
        A::AuthExecRun { out, .. } => {
            let how = match out.status.code() {
                Some(code) => format!("failed with exit status {code}"),
                None => exit_signal(&out.status)
                    .map_or("was stopped".to_string(), |s| format!("was stopped by signal {s}")),
            };
            Error::new(kind, format!("{plugin} {how}")).with_help(by_hand)
        }
        A::AuthExecParse(_) | A::ExecPluginFailed => Error::new(
            kind,
            format!("the output of {plugin} is not a valid ExecCredential"),
        )
        .with_help(by_hand),
        A::MalformedTokenExpirationDate(_) => Error::new(
            kind,
            format!("{plugin} gave an ExecCredential whose expirationTimestamp is not a valid time"),
        )
        .with_help(by_hand),
        A::AuthExecSerialize(_) | A::AuthExec(_) => {
            Error::new(kind, format!("cannot run {plugin}")).with_help(by_hand)
        }
        A::MissingCommand => Error::new(
            ErrorKind::Kubeconfig,
            format!("the `exec` entry of {who} has no `command`"),
        )
        .with_help("name the credential plugin to run in `command`"),
        A::ExecMissingClusterInfo => Error::new(
            ErrorKind::Kubeconfig,
            format!("the `exec` entry of {who} sets provideClusterInfo, but its cluster has no usable entry"),
        )
        .with_help("fix the cluster of this context in your kubeconfig"),
        A::InvalidBasicAuth(_) => Error::new(
            ErrorKind::Kubeconfig,
            format!("the username or password of {who} cannot be sent in an HTTP header"),
        )
        .with_help("a line break or another control character is not allowed there"),
        A::InvalidBearerToken(_) => Error::new(
            ErrorKind::Kubeconfig,
            format!("the token of {who} cannot be sent in an HTTP header"),
        )
        .with_help("a token may not hold a line break or another control character; check the token (or tokenFile, or the plugin's output)"),
        A::UnrefreshableTokenResponse => Error::new(
            kind,
            format!("{plugin} gave a token that cannot be refreshed"),
        )
        .with_help(by_hand),
        A::ReadTokenFile(source, path) => Error::new(
            ErrorKind::Kubeconfig,
            format!(
                "cannot read the tokenFile `{}` of {who}: {source}",
                crate::escape::path(path)
            ),
        )
        .with_help("check the path and its permissions"),
        A::ParseTokenKey(_) => Error::new(
            kind,
            format!("the output of {plugin} is not the JSON expected"),
        )
        .with_help("run the command of the auth-provider entry by hand to see its output"),
        A::NoValidNativeRootCA(source) => Error::new(
            ErrorKind::Kubeconfig,
            format!("no usable root certificate on this system: {source}"),
        )
        .with_help("give the cluster's certificate-authority in the kubeconfig"),
        A::Oidc(e) => oidc_error(e, &who),
        #[allow(unreachable_patterns)]
        _ => Error::new(kind, format!("cannot get credentials for {who}"))
            .with_help("log in again, or fix the user entry of this context in your kubeconfig"),
    }
}

/// The `oidc` auth-provider's failures: kube checks the id-token's expiry
/// and refreshes it at the issuer. Never the provider's answer (it holds
/// tokens).
fn oidc_error(e: &kube::client::oidc_errors::Error, who: &str) -> Error {
    use kube::client::oidc_errors::{Error as O, RefreshError as R, RefreshInitError as I};
    let provider = format!("the oidc auth-provider of {who}");
    let login = "log in again with your identity provider (for example `kubectl oidc-login`), or switch the user to an exec plugin such as kubelogin";
    let (what, help) = match e {
        O::IdTokenMissing => (format!("{provider} has no id-token"), login.to_string()),
        O::IdToken(_) => (
            format!("the id-token of {provider} is not a JWT whose expiry can be read"),
            login.to_string(),
        ),
        O::RefreshInit(I::MissingField(field)) => (
            format!(
                "the id-token of {provider} has expired, and it cannot be refreshed: the auth-provider has no `{field}`"
            ),
            format!(
                "{login}; to refresh by itself, the auth-provider needs idp-issuer-url, client-id, client-secret and refresh-token"
            ),
        ),
        O::RefreshInit(_) => (
            format!(
                "the id-token of {provider} has expired, and it cannot be refreshed: no root certificate to reach the issuer with"
            ),
            login.to_string(),
        ),
        O::Refresh(r) => {
            let why = match r {
                R::RequestFailed(code) => format!("the issuer answered {code}"),
                R::AuthorizationFailure => {
                    "the issuer refused the client-id, client-secret or refresh-token".to_string()
                }
                R::NoIdTokenReceived => "the issuer sent no id-token".to_string(),
                R::InvalidMetadata(_) | R::InvalidTokenResponse(_) => {
                    "the issuer's answer is not what OIDC specifies".to_string()
                }
                R::InvalidURI(_) => "its idp-issuer-url is not a URL".to_string(),
                other => format!("cannot reach the issuer: {}", error_chain(other)),
            };
            (
                format!("the id-token of {provider} has expired, and refreshing it failed: {why}"),
                login.to_string(),
            )
        }
    };
    Error::new(ErrorKind::Unauthorized, what).with_help(help)
}

#[cfg(unix)]
fn exit_signal(status: &std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

#[cfg(not(unix))]
fn exit_signal(_: &std::process::ExitStatus) -> Option<i32> {
    None
}

/// One request, named for messages: `list secrets in namespace x`.
#[derive(Debug, Clone)]
pub(super) struct Operation {
    pub verb: &'static str,
    pub resource: &'static str,
    pub name: Option<String>,
    pub namespace: Option<String>,
}

impl Operation {
    pub(super) fn describe(&self) -> String {
        let mut s = format!("{} {}", self.verb, self.resource);
        if let Some(name) = &self.name {
            s.push_str(&format!(" \"{name}\""));
        }
        if let Some(ns) = &self.namespace {
            s.push_str(&format!(" in namespace \"{ns}\""));
        }
        s
    }
}

/// The most bytes of a failure answer's body that are read: the rest is
/// left unread (a `Status` is a few hundred bytes).
pub(super) const MAX_ERROR_BODY_BYTES: usize = 1 << 20;

/// At most `cap` bytes of `body`, and whether there was more (left
/// unread): a failure answer is read no further than that.
pub(super) async fn read_capped_body<B>(body: B, cap: usize) -> Result<(Vec<u8>, bool), B::Error>
where
    B: http_body::Body,
    B::Data: AsRef<[u8]>,
{
    use http_body_util::BodyExt;
    let mut body = std::pin::pin!(body);
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        let data = data.as_ref();
        let room = cap.saturating_sub(out.len());
        if data.len() > room {
            out.extend_from_slice(data.get(..room).unwrap_or_default());
            return Ok((out, true));
        }
        out.extend_from_slice(data);
    }
    Ok((out, false))
}

/// A failure, in the classes advice is given by: who can fix it, and
/// whether running the same command again can help. The command-line
/// layer words the advice; this only says what kind of failure it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureClass {
    /// RBAC said no: a Role is needed.
    Permission,
    /// A ResourceQuota is used up.
    Quota,
    /// Changed (or deleted) by someone else since it was read.
    Conflict,
    /// The server refused the object or request (an immutable Secret included).
    Invalid,
    /// The namespace does not exist or is being deleted.
    Gone,
    /// The server could not be reached.
    Unreachable,
    /// No answer in time.
    Timeout,
    /// The credentials were not accepted.
    Unauthorized,
    /// A fault on the server's side.
    Server,
    /// 413: the object is larger than the server takes in one request;
    /// the same object sent again is refused again.
    #[serde(rename = "too_large")]
    TooLarge,
    /// The name is someone else's secret.
    Foreign,
    /// A finalizer still holds an object being deleted: whatever set it
    /// must finish (or remove it) first.
    Held,
    /// Not a failure of the server (input, configuration, refusal).
    Other,
}

impl FailureClass {
    pub fn of(e: &Error) -> Self {
        match e.kind {
            ErrorKind::Forbidden => FailureClass::Permission,
            ErrorKind::Quota => FailureClass::Quota,
            ErrorKind::Conflict | ErrorKind::NotFound => FailureClass::Conflict,
            ErrorKind::Invalid => FailureClass::Invalid,
            ErrorKind::Gone => FailureClass::Gone,
            ErrorKind::Unreachable => FailureClass::Unreachable,
            ErrorKind::Timeout => FailureClass::Timeout,
            ErrorKind::Unauthorized => FailureClass::Unauthorized,
            ErrorKind::Server => FailureClass::Server,
            ErrorKind::TooLarge => FailureClass::TooLarge,
            ErrorKind::Foreign => FailureClass::Foreign,
            ErrorKind::Input
            | ErrorKind::Usage
            | ErrorKind::Identity
            | ErrorKind::Kubeconfig
            | ErrorKind::Refused
            | ErrorKind::Output => FailureClass::Other,
        }
    }

    /// Can running the same command again, with nothing else changed, help?
    /// Yes for what passes (a conflict, an outage, a slow or failing
    /// server); no for what someone must fix first (a Role, a quota, the
    /// namespace, the object, the credentials).
    pub fn rerun_helps(self) -> bool {
        matches!(
            self,
            FailureClass::Conflict
                | FailureClass::Unreachable
                | FailureClass::Timeout
                | FailureClass::Server
        )
    }
}

/// What a ResourceQuota's refusal says (the message the quota admission
/// plugin writes: `exceeded quota: NAME, requested: R, used: U, limited: L`,
/// each of R, U, L a list `resource=quantity,...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaExceeded {
    pub quota: String,
    pub requested: String,
    pub used: String,
    pub limited: String,
}

impl QuotaExceeded {
    fn parse(message: &str) -> Option<Self> {
        let rest = message.split_once("exceeded quota: ")?.1;
        let (quota, rest) = rest.split_once(", requested: ")?;
        let (requested, rest) = rest.split_once(", used: ")?;
        let (used, limited) = rest.split_once(", limited: ")?;
        let part = |p: &str| bounded(p.trim()).into_owned();
        Some(QuotaExceeded {
            quota: part(quota),
            requested: part(requested),
            used: part(used),
            limited: part(limited),
        })
    }

    /// `count/secrets: 9 used of 1 allowed, 1 more requested`, per resource.
    pub fn describe(&self) -> String {
        let pairs = |list: &str| -> Vec<(String, String)> {
            list.split(',')
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect()
        };
        let (used, requested) = (pairs(&self.used), pairs(&self.requested));
        let find = |list: &[(String, String)], key: &str| {
            list.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
        };
        let parts: Vec<String> = pairs(&self.limited)
            .iter()
            .map(|(resource, limit)| {
                let used = find(&used, resource).unwrap_or_else(|| "?".into());
                match find(&requested, resource) {
                    Some(more) => {
                        format!("{resource}: {used} used of {limit} allowed, {more} more requested")
                    }
                    None => format!("{resource}: {used} used of {limit} allowed"),
                }
            })
            .collect();
        if parts.is_empty() {
            format!(
                "used {}, limited {}, requested {}",
                self.used, self.limited, self.requested
            )
        } else {
            parts.join("; ")
        }
    }
}

/// A failure answer from the API server, read for what it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    Unauthorized,
    /// RBAC's 403.
    Permission,
    /// 403 from a ResourceQuota (told from RBAC's by its message).
    Quota(QuotaExceeded),
    /// 404 naming the namespace, not the object (`details.kind: namespaces`).
    NamespaceMissing {
        namespace: Option<String>,
    },
    /// 403 with the cause `NamespaceTerminating`.
    NamespaceTerminating {
        namespace: Option<String>,
    },
    /// 422: an `immutable` Secret's data cannot change.
    Immutable,
    Invalid,
    NotFound,
    AlreadyExists,
    Conflict,
    /// 413 `RequestEntityTooLarge`: the request body is over the server's
    /// limit (3 MiB for kube-apiserver's JSON).
    TooLarge,
    Server,
}

impl Refusal {
    pub fn class(&self) -> FailureClass {
        match self {
            Refusal::Unauthorized => FailureClass::Unauthorized,
            Refusal::Permission => FailureClass::Permission,
            Refusal::Quota(_) => FailureClass::Quota,
            Refusal::NamespaceMissing { .. } | Refusal::NamespaceTerminating { .. } => {
                FailureClass::Gone
            }
            Refusal::Immutable | Refusal::Invalid => FailureClass::Invalid,
            Refusal::NotFound | Refusal::AlreadyExists | Refusal::Conflict => {
                FailureClass::Conflict
            }
            Refusal::TooLarge => FailureClass::TooLarge,
            Refusal::Server => FailureClass::Server,
        }
    }
}

/// Read a failure `Status`: its code, reason, message and details.
pub fn refusal(status: &kube::core::Status) -> Refusal {
    let details = status.details.as_ref();
    let causes = details.map(|d| d.causes.as_slice()).unwrap_or_default();
    match status.code {
        401 => Refusal::Unauthorized,
        403 => {
            if let Some(cause) = causes.iter().find(|c| c.reason == "NamespaceTerminating") {
                let namespace = cause
                    .message
                    .strip_prefix("namespace ")
                    .and_then(|m| m.strip_suffix(" is being terminated"))
                    .map(|n| bounded(n).into_owned());
                return Refusal::NamespaceTerminating { namespace };
            }
            if status.message.contains("because it is being terminated") {
                return Refusal::NamespaceTerminating { namespace: None };
            }
            match QuotaExceeded::parse(&status.message) {
                Some(q) => Refusal::Quota(q),
                None => Refusal::Permission,
            }
        }
        404 if details.is_some_and(|d| d.kind == "namespaces") => Refusal::NamespaceMissing {
            namespace: details
                .map(|d| bounded(&d.name).into_owned())
                .filter(|n| !n.is_empty()),
        },
        404 => Refusal::NotFound,
        409 if status.reason == "AlreadyExists" => Refusal::AlreadyExists,
        409 => Refusal::Conflict,
        422 if status.message.contains("field is immutable")
            || causes
                .iter()
                .any(|c| c.message.contains("field is immutable")) =>
        {
            Refusal::Immutable
        }
        400 | 422 => Refusal::Invalid,
        413 => Refusal::TooLarge,
        _ => Refusal::Server,
    }
}

/// The values a write carries, to blank out of what the server says back:
/// a validating webhook's 422 may quote the object it refused, data and
/// all, in whatever form its language writes. Each value is looked for in
/// every form a server could plausibly echo ([`echoed_forms`]).
#[derive(Default)]
pub(super) struct Sent {
    /// Longest first, so a value inside another is not left half-blanked.
    needles: Vec<String>,
}

/// Values shorter than this are not looked for as text (raw, escaped,
/// hex, or base64 at a shifted alignment): they would blank out ordinary
/// words of the message and say little about the value. The base64 of the
/// whole value, as we sent it, is always looked for.
const MIN_SCRUBBED_CHARS: usize = 4;

pub(super) const REDACTED: &str = "<redacted>";

impl std::fmt::Debug for Sent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sent({} needles)", self.needles.len())
    }
}

/// How a JSON encoder writes a string: which characters it escapes and how.
#[derive(Clone, Copy)]
struct JsonStyle {
    /// `<`, `>`, `&`, U+2028 and U+2029 as `\u003c`... (Go's json.Marshal).
    html: bool,
    /// `\b` and `\f` as short escapes (serde, Go since 1.22) or as `\u0008`.
    short_bf: bool,
    /// Every non-ASCII character as `\uXXXX` (Python's json.dumps).
    ascii_only: bool,
    /// `\u001B` rather than `\u001b`.
    upper: bool,
}

/// `text` as the inside of a JSON string written in `style`.
fn json_escaped(text: &str, style: JsonStyle) -> String {
    let mut out = String::with_capacity(text.len());
    let unit = |out: &mut String, u: u16| {
        let hex = if style.upper {
            format!("\\u{u:04X}")
        } else {
            format!("\\u{u:04x}")
        };
        out.push_str(&hex);
    };
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' if style.short_bf => out.push_str("\\b"),
            '\u{c}' if style.short_bf => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if style.html => {
                unit(&mut out, u16::try_from(u32::from(c)).unwrap_or(0));
            }
            c if u32::from(c) < 0x20 || (style.ascii_only && !c.is_ascii()) => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    unit(&mut out, *u);
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Every form in which a server could plausibly echo `bytes` back: the
/// base64 we sent (standard and url-safe, with and without padding), and,
/// for a value of [`MIN_SCRUBBED_CHARS`] or more, the base64 of the value
/// inside a longer text (at each of the 3 alignments, without the quads
/// its neighbours share), its hex in either case, and, for text, itself and
/// JSON-escaped as serde, Go (`<>&`, U+2028/9), Python (ASCII only) or
/// another encoder would write it (control characters in either hex case),
/// once or twice (the request body quoted as a string).
fn echoed_forms(bytes: &[u8]) -> Vec<String> {
    let mut forms = Vec::new();
    if bytes.is_empty() {
        return forms;
    }
    let sent = [STANDARD.encode(bytes), URL_SAFE.encode(bytes)];
    for encoded in &sent {
        forms.push(encoded.trim_end_matches('=').to_string());
        forms.push(encoded.clone());
    }
    let long_enough = match std::str::from_utf8(bytes) {
        Ok(text) => text.chars().count() >= MIN_SCRUBBED_CHARS,
        Err(_) => bytes.len() >= MIN_SCRUBBED_CHARS,
    };
    if !long_enough {
        return forms;
    }
    // The base64 we sent, cut at one end (`base64[1:]`): all but the quad
    // the cut went through.
    for encoded in &sent {
        if encoded.len() >= 12 {
            forms.extend(encoded.get(4..).map(str::to_string));
            forms.extend(encoded.get(..encoded.len() - 4).map(str::to_string));
        }
    }
    for shift in 0..3usize {
        let mut shifted = vec![0u8; shift];
        shifted.extend_from_slice(bytes);
        let quads = shifted.len() / 3;
        let first = usize::from(shift > 0);
        for engine in [&STANDARD, &URL_SAFE] {
            let encoded = engine.encode(&shifted);
            if let Some(middle) = encoded.get(first * 4..quads * 4)
                && !middle.is_empty()
            {
                forms.push(middle.to_string());
            }
            // Its core, one quad less each side, found in any cut of that
            // text (`base64[1:]`); only long enough to mean the value.
            if let Some(core) = encoded.get((first + 1) * 4..quads.saturating_sub(1) * 4)
                && core.len() >= 8
            {
                forms.push(core.to_string());
            }
        }
    }
    let hex = crate::konduktor::digest_key::hex(bytes);
    forms.push(hex.to_uppercase());
    forms.push(hex);
    if let Ok(text) = std::str::from_utf8(bytes) {
        forms.push(text.to_string());
        for html in [false, true] {
            for short_bf in [false, true] {
                for ascii_only in [false, true] {
                    for upper in [false, true] {
                        let style = JsonStyle {
                            html,
                            short_bf,
                            ascii_only,
                            upper,
                        };
                        let once = json_escaped(text, style);
                        forms.push(json_escaped(&once, style));
                        forms.push(once);
                    }
                }
            }
        }
    }
    forms
}

impl Sent {
    pub(super) fn of_values<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut needles: Vec<String> = values.into_iter().flat_map(echoed_forms).collect();
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        needles.dedup();
        needles.retain(|n| !n.is_empty());
        Sent { needles }
    }

    pub(super) fn of_secret(secret: &Secret) -> Self {
        let data = secret.data.iter().flatten().map(|(_, v)| v.0.as_slice());
        let string_data = secret
            .string_data
            .iter()
            .flatten()
            .map(|(_, v)| v.as_bytes());
        Self::of_values(data.chain(string_data))
    }

    /// `text` with every value replaced by `<redacted>`. A value escaped
    /// some other way JSON allows (any character as `\uXXXX`) is still
    /// found: when the text with its JSON escapes read (once or twice)
    /// holds a value, that reading is what is scrubbed and returned.
    pub(super) fn scrub<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        let out = self.replace_needles(text);
        let mut view = out.to_string();
        for _ in 0..2 {
            let Some(read) = json_unescaped(&view) else {
                break;
            };
            if self.needles.iter().any(|n| read.contains(n.as_str())) {
                return std::borrow::Cow::Owned(self.replace_needles(&read).into_owned());
            }
            view = read;
        }
        out
    }

    fn replace_needles<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        let mut out = std::borrow::Cow::Borrowed(text);
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = std::borrow::Cow::Owned(out.replace(needle.as_str(), REDACTED));
            }
        }
        out
    }
}

/// `text` with its JSON escapes (`\"`, `\\`, `\/`, `\n`... and `\uXXXX`,
/// surrogate pairs included) read; `None` when it has none. A `\` that
/// starts no valid escape is kept as it is.
fn json_unescaped(text: &str) -> Option<String> {
    if !text.contains('\\') {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        let (head, tail) = rest.split_at(at);
        out.push_str(head);
        let mut chars = tail.chars();
        chars.next();
        let simple = match chars.next() {
            Some('"') => Some('"'),
            Some('\\') => Some('\\'),
            Some('/') => Some('/'),
            Some('n') => Some('\n'),
            Some('r') => Some('\r'),
            Some('t') => Some('\t'),
            Some('b') => Some('\u{8}'),
            Some('f') => Some('\u{c}'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            rest = tail.get(2..).unwrap_or_default();
            continue;
        }
        let unit = |s: &str| {
            s.strip_prefix("\\u")
                .and_then(|h| h.get(..4))
                .filter(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
                .and_then(|h| u16::from_str_radix(h, 16).ok())
        };
        match unit(tail) {
            Some(high @ 0xD800..=0xDBFF) => {
                let low = tail
                    .get(6..)
                    .and_then(unit)
                    .filter(|l| (0xDC00..=0xDFFF).contains(l));
                match low.and_then(|low| char::decode_utf16([high, low]).next()?.ok()) {
                    Some(c) => {
                        out.push(c);
                        rest = tail.get(12..).unwrap_or_default();
                    }
                    None => {
                        out.push('\u{fffd}');
                        rest = tail.get(6..).unwrap_or_default();
                    }
                }
            }
            Some(u) => {
                out.push(char::from_u32(u32::from(u)).unwrap_or('\u{fffd}'));
                rest = tail.get(6..).unwrap_or_default();
            }
            None => {
                out.push('\\');
                rest = tail.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    Some(out)
}

/// How long a 429 or 503 asks us to wait: its `Retry-After` in seconds
/// (the form the API server writes), if any.
pub(super) fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
#[path = "errors_tests.rs"]
mod tests;
