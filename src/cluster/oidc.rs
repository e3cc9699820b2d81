//! The kubeconfig's `oidc` auth-provider, refreshed as client-go's
//! (`plugin/pkg/client/auth/oidc`): an id-token that has expired is
//! renewed at the issuer with the refresh-token, and both new tokens are
//! written back into the kubeconfig file the user entry came from (an
//! issuer that rotates refresh tokens spends the stored one with each
//! refresh: not writing it back would break the user's next login).
//! kube can refresh too, but keeps the new tokens in memory only, and
//! waits on the issuer without a bound.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::AuthInfo;

use crate::error::{Error, ErrorKind, Result};
use crate::input::file as input_file;

/// The most an issuer's answer (discovery or token) may hold.
const MAX_ISSUER_ANSWER: usize = 1024 * 1024;
/// How long to wait for the issuer without a `--request-timeout`.
const ISSUER_TIMEOUT: Duration = Duration::from_secs(30);
/// kube's and client-go's margin: a token this close to expiry is renewed.
const EXPIRY_MARGIN_SECONDS: i64 = 10;

/// The fields of the auth-provider's `config` a refresh needs.
struct Provider {
    issuer: String,
    client_id: String,
    client_secret: Option<String>,
    refresh_token: String,
    root_cert: Option<Vec<Vec<u8>>>,
}

/// For messages: whose tokens these are.
pub(super) struct Owner<'a> {
    pub user: &'a str,
    pub context: &'a str,
    /// The kubeconfig file the user entry came from (none in a pod).
    pub file: Option<&'a Path>,
}

/// If the user's `oidc` id-token has expired and it can be refreshed,
/// refresh it at the issuer, write the new tokens back to the kubeconfig
/// file the entry came from, and put them in `auth_info` (so kube sends
/// the new one). Anything this cannot read (no id-token, no
/// refresh-token) is left to kube, which says what is missing.
pub(super) async fn refresh_if_expired(
    auth_info: &mut AuthInfo,
    owner: &Owner<'_>,
    timeout: Option<Duration>,
) -> Result<()> {
    let Some(provider) = auth_info
        .auth_provider
        .as_mut()
        .filter(|p| p.name == "oidc")
    else {
        return Ok(());
    };
    let config = &provider.config;
    let Some(id_token) = config.get("id-token") else {
        return Ok(());
    };
    if !expired(id_token, jiff::Timestamp::now().as_second()) {
        return Ok(());
    }
    let who = format!("user `{}` of context `{}`", owner.user, owner.context);
    let Some(found) = provider_fields(config, &who)? else {
        return Ok(());
    };
    let issuer = Issuer {
        url: found.issuer.trim_end_matches('/').to_string(),
        root_cert: found.root_cert.clone(),
        timeout: timeout.unwrap_or(ISSUER_TIMEOUT),
        who: who.clone(),
    };
    let tokens = issuer.refresh(&found).await?;
    let refresh_token = tokens.refresh_token.unwrap_or(found.refresh_token);
    if let Some(file) = owner.file {
        write_back(file, owner.user, &tokens.id_token, &refresh_token).map_err(|why| {
            Error::new(
                ErrorKind::Kubeconfig,
                format!(
                    "the id-token of {who} was refreshed, but could not be written back to the kubeconfig `{}`: {why}",
                    crate::escape::path(file)
                ),
            )
            .with_help("check that the file and its folder are writable; until the new tokens are stored, the next login refreshes again")
        })?;
        crate::log::log(1, || {
            format!(
                "refreshed the id-token of {who} and wrote it back to `{}`",
                crate::escape::path(file)
            )
        });
    }
    provider
        .config
        .insert("id-token".to_string(), tokens.id_token);
    provider
        .config
        .insert("refresh-token".to_string(), refresh_token);
    Ok(())
}

/// Has the JWT's `exp` passed (with kube's margin)? One that cannot be read
/// counts as not expired: kube then says it is not a JWT.
fn expired(jwt: &str, now: i64) -> bool {
    use base64::Engine as _;
    let Some(payload) = jwt.split('.').nth(1) else {
        return false;
    };
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let Ok(bytes) = engine.decode(payload) else {
        return false;
    };
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return false;
    };
    let Some(exp) = claims["exp"]
        .as_i64()
        .or_else(|| claims["exp"].as_f64().map(|f| f as i64))
    else {
        return false;
    };
    exp <= now.saturating_add(EXPIRY_MARGIN_SECONDS)
}

/// The refresh fields, `None` where one kube needs is missing (kube then
/// names it); the issuer's CA from `idp-certificate-authority(-data)`, as
/// client-go reads them.
fn provider_fields(
    config: &std::collections::HashMap<String, String>,
    who: &str,
) -> Result<Option<Provider>> {
    let get = |k: &str| config.get(k).filter(|v| !v.is_empty()).cloned();
    let (Some(issuer), Some(client_id), Some(refresh_token)) = (
        get("idp-issuer-url"),
        get("client-id"),
        get("refresh-token"),
    ) else {
        return Ok(None);
    };
    if get("client-secret").is_none() {
        // kube refuses without one: leave it to say so.
        return Ok(None);
    }
    let pem = if let Some(data) = get("idp-certificate-authority-data") {
        use base64::Engine as _;
        Some(
            base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|_| {
                    Error::new(
                        ErrorKind::Kubeconfig,
                        format!("the idp-certificate-authority-data of the oidc auth-provider of {who} is not valid base64"),
                    )
                    .with_help("give the issuer's CA certificate as base64 of its PEM")
                })?,
        )
    } else if let Some(path) = get("idp-certificate-authority") {
        Some(
            input_file::read_regular(Path::new(&path), input_file::MAX_CREDENTIAL_FILE_BYTES)
                .map_err(|e| {
                    Error::new(
                        ErrorKind::Kubeconfig,
                        format!("cannot use the idp-certificate-authority of the oidc auth-provider of {who}: {e}"),
                    )
                    .with_help(e.help())
                })?,
        )
    } else {
        None
    };
    let root_cert = match pem {
        Some(pem) => Some(
            pem::parse_many(&pem)
                .ok()
                .map(|blocks| {
                    blocks
                        .into_iter()
                        .filter(|b| b.tag() == "CERTIFICATE")
                        .map(pem::Pem::into_contents)
                        .collect::<Vec<_>>()
                })
                .filter(|certs| !certs.is_empty())
                .ok_or_else(|| {
                    Error::new(
                        ErrorKind::Kubeconfig,
                        format!("the issuer's CA of the oidc auth-provider of {who} holds no valid PEM certificate"),
                    )
                    .with_help("give the issuer's CA certificate in PEM")
                })?,
        ),
        None => None,
    };
    Ok(Some(Provider {
        issuer,
        client_id,
        client_secret: get("client-secret"),
        refresh_token,
        root_cert,
    }))
}

/// `application/x-www-form-urlencoded`, as Go's `url.Values.Encode`.
fn form_encoded(pairs: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(b).to_string()
                }
                b' ' => "+".to_string(),
                other => format!("%{other:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

struct Tokens {
    id_token: String,
    refresh_token: Option<String>,
}

/// The issuer, reached directly (as kube and client-go's oidc do), each
/// exchange bounded in time and size.
struct Issuer {
    url: String,
    root_cert: Option<Vec<Vec<u8>>>,
    timeout: Duration,
    who: String,
}

impl Issuer {
    fn failure(&self, what: String) -> Error {
        Error::new(
            ErrorKind::Unauthorized,
            format!(
                "the id-token of the oidc auth-provider of {} has expired, and refreshing it failed: {what}",
                self.who
            ),
        )
        .with_help("log in again with your identity provider (for example `kubectl oidc-login`), or switch the user to an exec plugin such as kubelogin")
    }

    async fn refresh(&self, provider: &Provider) -> Result<Tokens> {
        let discovery = format!("{}/.well-known/openid-configuration", self.url);
        let (status, body) = self
            .exchange(&discovery, http::Request::get(&discovery), None)
            .await?;
        if !status.is_success() {
            return Err(self.failure(format!(
                "the issuer {} answered {status} to its discovery request",
                self.shown()
            )));
        }
        let endpoint = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["token_endpoint"].as_str().map(str::to_string))
            .ok_or_else(|| {
                self.failure(format!(
                    "the issuer {}'s discovery document names no token_endpoint",
                    self.shown()
                ))
            })?;
        // As golang.org/x/oauth2 (client-go) does: the client's id and
        // secret in a Basic header first, in the form if that is refused.
        let mut last = None;
        for in_header in [true, false] {
            let mut form = vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", provider.refresh_token.as_str()),
            ];
            let mut request = http::Request::post(&endpoint).header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            );
            let secret = provider.client_secret.as_deref().unwrap_or_default();
            if in_header {
                use base64::Engine as _;
                let basic = base64::engine::general_purpose::STANDARD
                    .encode(format!("{}:{secret}", provider.client_id));
                request = request.header(http::header::AUTHORIZATION, format!("Basic {basic}"));
            } else {
                form.push(("client_id", provider.client_id.as_str()));
                form.push(("client_secret", secret));
            }
            let (status, body) = self
                .exchange(&endpoint, request, Some(form_encoded(&form)))
                .await?;
            if status.is_success() {
                let answer: serde_json::Value = serde_json::from_slice(&body).map_err(|_| {
                    self.failure("the issuer's token answer is not JSON".to_string())
                })?;
                let id_token = answer["id_token"]
                    .as_str()
                    .filter(|t| super::text::is_header_value(t) && !t.is_empty())
                    .ok_or_else(|| {
                        self.failure("the issuer sent no usable id-token".to_string())
                    })?;
                let refresh_token = answer["refresh_token"]
                    .as_str()
                    .filter(|t| !t.is_empty())
                    .map(str::to_string);
                return Ok(Tokens {
                    id_token: id_token.to_string(),
                    refresh_token,
                });
            }
            if !matches!(status.as_u16(), 400 | 401) {
                return Err(self.failure(format!(
                    "the issuer {} answered {status} to the refresh",
                    self.shown()
                )));
            }
            last = Some(status);
        }
        Err(self.failure(format!(
            "the issuer {} refused the client-id, client-secret or refresh-token ({})",
            self.shown(),
            last.map(|s| s.to_string()).unwrap_or_default()
        )))
    }

    fn shown(&self) -> String {
        format!("`{}`", super::text::without_url_secrets(&self.url))
    }

    /// One request to `url`, its answer read up to [`MAX_ISSUER_ANSWER`],
    /// all of it within the timeout.
    async fn exchange(
        &self,
        url: &str,
        request: http::request::Builder,
        body: Option<String>,
    ) -> Result<(http::StatusCode, Vec<u8>)> {
        let not_a_url = || {
            self.failure(format!(
                "`{}` is not an https URL",
                super::text::without_url_secrets(url)
            ))
        };
        let uri: http::Uri = url.parse().map_err(|_| not_a_url())?;
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            return Err(not_a_url());
        };
        let base: http::Uri = format!("{scheme}://{authority}")
            .parse()
            .map_err(|_| not_a_url())?;
        let mut config = kube::Config::new(base);
        config.root_cert = self.root_cert.clone();
        // The whole exchange is bounded below, by one timeout that names
        // the issuer; kube's own are set past it, so they never fire first.
        let past = Some(self.timeout.saturating_add(Duration::from_secs(5)));
        config.connect_timeout = past;
        config.read_timeout = past;
        config.write_timeout = past;
        config.default_retry = false;
        let client = kube::Client::try_from(config).map_err(|e| {
            self.failure(format!(
                "cannot reach the issuer: {}",
                super::text::kube_error_text(&e)
            ))
        })?;
        let path = uri
            .path_and_query()
            .map_or("/".to_string(), |p| p.as_str().to_string());
        let request = request
            .uri(path)
            .body(kube::client::Body::from(
                body.unwrap_or_default().into_bytes(),
            ))
            .map_err(|_| not_a_url())?;
        let exchange = async {
            let response = client.send(request).await?;
            let status = response.status();
            let (body, cut) =
                super::errors::read_capped_body(response.into_body(), MAX_ISSUER_ANSWER).await?;
            Ok::<_, kube::Error>((status, body, cut))
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Err(_) => Err(self.failure(format!(
                "the issuer {} did not answer within {}",
                self.shown(),
                super::humanize(self.timeout)
            ))),
            Ok(Err(e)) => Err(self.failure(format!(
                "cannot reach the issuer {}: {}",
                self.shown(),
                super::text::kube_error_text(&e)
            ))),
            Ok(Ok((_, _, true))) => Err(self.failure(format!(
                "the issuer {} answered with more than {MAX_ISSUER_ANSWER} bytes",
                self.shown()
            ))),
            Ok(Ok((status, body, false))) => Ok((status, body)),
        }
    }
}

/// The kubeconfig file whose `users` holds `user`: with several files in
/// KUBECONFIG the first that has it, as the merge takes it.
pub(super) fn file_of_user(files: &[PathBuf], user: &str) -> Option<PathBuf> {
    files.iter().find_map(|file| {
        let text = input_file::read_regular(file, input_file::MAX_KUBECONFIG_BYTES)
            .ok()
            .and_then(|b| super::kubeconfig::kubeconfig_text(b).ok())?;
        let config = super::kubeconfig::parse_kubeconfig(&text).ok()?;
        config
            .auth_infos
            .iter()
            .any(|u| u.name == user)
            .then(|| file.clone())
    })
}

/// Replace the `id-token` and `refresh-token` values of `user`'s
/// auth-provider config in `file`, every other byte kept, and put the file
/// back whole (a new file renamed over it) with its mode.
fn write_back(file: &Path, user: &str, id_token: &str, refresh_token: &str) -> Result<(), String> {
    let bytes = input_file::read_regular(file, input_file::MAX_KUBECONFIG_BYTES)
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8(bytes)
        .map_err(|_| "it is not UTF-8 text (written by another tool?)".to_string())?;
    let replaced = with_tokens(&text, user, id_token, refresh_token)?;
    #[cfg(unix)]
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(file)
            .map_err(|e| e.kind().to_string())?
            .permissions()
            .mode()
            & 0o7777
    };
    #[cfg(not(unix))]
    let mode = 0o600;
    // A link is followed: the file it points at is the one replaced.
    let target = std::fs::canonicalize(file).map_err(|e| e.kind().to_string())?;
    input_file::write_whole(&target, mode, replaced.as_bytes(), true)
        .map_err(|e| e.kind().to_string())
}

/// `text` with the two tokens of `user`'s oidc config replaced, as JSON
/// strings (valid YAML), nothing else changed.
pub(super) fn with_tokens(
    text: &str,
    user: &str,
    id_token: &str,
    refresh_token: &str,
) -> Result<String, String> {
    use crate::input::yaml::{Content, Node};
    let parsed = crate::input::yaml::parse(text);
    if parsed.error.is_some() {
        return Err("it is not one YAML document".to_string());
    }
    let field = |node: &Node, key: &str| -> Option<Node> {
        match &*node.content {
            Content::Map(pairs) => pairs
                .iter()
                .find(|(k, _)| k.as_scalar() == Some(key))
                .map(|(_, v)| v.clone()),
            _ => None,
        }
    };
    let root = parsed.root.as_ref().ok_or("it is empty")?;
    let users = field(root, "users").ok_or("it has no users")?;
    let Content::Seq(entries) = &*users.content else {
        return Err("its users are not a list".to_string());
    };
    let config = entries
        .iter()
        .find(|e| field(e, "name").as_ref().and_then(Node::as_scalar) == Some(user))
        .and_then(|e| field(e, "user"))
        .and_then(|u| field(&u, "auth-provider"))
        .and_then(|p| field(&p, "config"))
        .ok_or("its user entry has no auth-provider config")?;
    let mut spans = Vec::new();
    for (key, value) in [("id-token", id_token), ("refresh-token", refresh_token)] {
        let node = field(&config, key).ok_or(format!("its auth-provider config has no `{key}`"))?;
        if !node.is_plain() || node.as_scalar().is_none() {
            return Err(format!(
                "its `{key}` is not written as a plain value (an alias or a tag)"
            ));
        }
        let quoted = serde_json::to_string(value).map_err(|e| e.to_string())?;
        spans.push((node.span.clone(), quoted));
    }
    spans.sort_by_key(|(span, _)| std::cmp::Reverse(span.start));
    let mut out = text.to_string();
    for (span, quoted) in spans {
        if out.get(span.clone()).is_none() {
            return Err("its tokens could not be located".to_string());
        }
        out.replace_range(span, &quoted);
    }
    Ok(out)
}

#[cfg(test)]
#[path = "oidc_tests.rs"]
mod tests;
