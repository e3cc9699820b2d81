//! Kubeconfig loading as kubectl does it: `--kubeconfig`, else the files of
//! `KUBECONFIG` merged, else `~/.kube/config`; each file read bounded and
//! regular, its errors located but never quoted (a kubeconfig holds
//! tokens), and the files it names read by us, bounded, before kube sees
//! them.

use std::path::{Path, PathBuf};

use kube::config::Kubeconfig;
use secrecy::ExposeSecret;

use super::exec_plugin;
use super::incluster;
use super::proxy;
use super::text::{base64, error_chain, is_header_value};
use crate::error::{Error, ErrorKind, Result};
use crate::input::file as input_file;

/// Where the kubeconfig came from, for messages: its files, or the pod's
/// service account when there is none.
#[derive(Debug, Clone)]
pub(super) enum KubeconfigFiles {
    Files(Vec<PathBuf>),
    InCluster,
}

impl KubeconfigFiles {
    pub(super) fn describe(&self) -> String {
        match self {
            KubeconfigFiles::Files(files) => files
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(", "),
            KubeconfigFiles::InCluster => format!(
                "made from the pod's service account (`{}`)",
                super::incluster::SERVICE_ACCOUNT_DIR
            ),
        }
    }
}

/// The kubeconfig user of the context, as messages name it.
#[derive(Debug, Clone, Default)]
pub(super) struct UserRef {
    pub(super) name: String,
    /// The `exec` plugin's command, as the kubeconfig gives it.
    pub(super) exec_command: Option<String>,
    /// The credentials the user has that were not sent because the server
    /// is plain http (`a token`, `an exec plugin`...): see
    /// [`withhold_credentials_over_http`].
    pub(super) withheld: Option<String>,
}

const KUBECONFIG_HELP: &str = "check the file with `kubectl config view`, or point --kubeconfig / KUBECONFIG at a working one";

pub(super) fn kubeconfig_error(files: &KubeconfigFiles, e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Kubeconfig,
        format!(
            "cannot use the kubeconfig {}: {}",
            files.describe(),
            super::text::without_url_secrets(&e.to_string())
        ),
    )
    .with_help(KUBECONFIG_HELP)
}

/// One kubeconfig file, read as a regular file of at most
/// [`MAX_KUBECONFIG_BYTES`] (a FIFO or `/dev/zero` is refused, not read),
/// parsed, and its relative file references resolved against its folder as
/// kubectl does. Errors name the file and the place, never its content.
fn read_kubeconfig(path: &Path) -> Result<Kubeconfig> {
    let shown = crate::escape::path(path);
    let bytes = match input_file::read_regular(path, input_file::MAX_KUBECONFIG_BYTES) {
        Ok(bytes) => bytes,
        Err(e) if e.is_not_found() => {
            return Err(Error::new(
                ErrorKind::Kubeconfig,
                format!("the kubeconfig `{shown}` does not exist"),
            )
            .with_help("pass an existing file with --kubeconfig or KUBECONFIG"));
        }
        Err(e) => {
            return Err(Error::new(
                ErrorKind::Kubeconfig,
                format!("cannot use the kubeconfig: {e}"),
            )
            .with_help(e.help()));
        }
    };
    let text = kubeconfig_text(bytes).map_err(|why| {
        Error::new(
            ErrorKind::Kubeconfig,
            format!("the kubeconfig `{shown}` {why}"),
        )
        .with_help(KUBECONFIG_HELP)
    })?;
    let mut config = parse_kubeconfig(&text).map_err(|why| {
        Error::new(
            ErrorKind::Kubeconfig,
            format!("the kubeconfig `{shown}` {why}"),
        )
        .with_help("fix the file at that place (`kubectl config view` shows it with secrets hidden), or point --kubeconfig / KUBECONFIG at a working one")
    })?;
    if let Some(dir) = path.parent() {
        resolve_relative_paths(&mut config, dir);
    }
    Ok(config)
}

/// The text of a kubeconfig: UTF-8, or UTF-16 with a byte-order mark, as
/// kube and client-go accept.
pub(super) fn kubeconfig_text(bytes: Vec<u8>) -> Result<String, &'static str> {
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        let chunks = rest.chunks_exact(2);
        if !chunks.remainder().is_empty() {
            return Err("is not valid UTF-16 text (an odd number of bytes)");
        }
        let units: Vec<u16> = chunks.map(|c| from([c[0], c[1]])).collect();
        String::from_utf16(&units).map_err(|_| "is not valid UTF-16 text")
    };
    match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        [0xEF, 0xBB, 0xBF, rest @ ..] => {
            String::from_utf8(rest.to_vec()).map_err(|_| "is not valid UTF-8 text")
        }
        _ => String::from_utf8(bytes).map_err(|_| "is not valid UTF-8 text"),
    }
}

/// Parse a kubeconfig (several YAML documents are merged, as kube does).
/// The error is the end of a sentence that starts with the file's name:
/// where and what kind of problem, in our words only. The parser's own
/// message is never used as is: it quotes the file (snippets, scalar
/// values), and a kubeconfig holds tokens and keys.
pub(crate) fn parse_kubeconfig(text: &str) -> Result<Kubeconfig, String> {
    match Kubeconfig::from_yaml(text) {
        Ok(config) => Ok(config),
        Err(kube::config::KubeconfigError::Parse(e)) => Err(describe_yaml_error(text, &e)),
        Err(kube::config::KubeconfigError::KindMismatch) => {
            Err("has YAML documents of different kinds, which cannot be merged".into())
        }
        Err(kube::config::KubeconfigError::ApiVersionMismatch) => {
            Err("has YAML documents of different apiVersions, which cannot be merged".into())
        }
        Err(_) => Err("cannot be read as a kubeconfig".into()),
    }
}

fn at_place(e: &serde_saphyr::Error) -> String {
    e.location()
        .map(|l| format!(" at line {} column {}", l.line(), l.column()))
        .unwrap_or_default()
}

fn describe_yaml_error(text: &str, e: &serde_saphyr::Error) -> String {
    // Syntax first: is it YAML at all? Only then is it the wrong shape.
    if let Err(syntax) = serde_saphyr::from_multiple::<serde::de::IgnoredAny>(text) {
        let what = syntax.without_snippet().to_string();
        let reason = [
            (
                "duplicate mapping key",
                "a key appears twice in one mapping",
            ),
            ("tab", "a tab where YAML allows only spaces"),
            ("unclosed quote", "a quote is not closed"),
            ("quoted scalar", "a quote is not closed"),
            (
                "mapping values are not allowed",
                "a `key: value` where none can be; check the indentation",
            ),
            (
                "did not find expected",
                "a bracket, brace or indentation does not match",
            ),
        ]
        .iter()
        .find(|(needle, _)| what.contains(needle))
        .map_or(String::new(), |(_, reason)| format!(": {reason}"));
        return format!("is not valid YAML{}{reason}", at_place(&syntax));
    }
    // Only phrases of the parser and of kube's types are kept, in our
    // words: serde's "invalid type: <the value>, expected <a type>" quotes
    // the file, so only what follows "expected" is used.
    let what = e.without_snippet().to_string();
    let what = what.split(" at line ").next().unwrap_or_default();
    let expected = |phrase: &str| match phrase {
        "mapping start" => "a mapping of `key: value` lines".to_string(),
        "sequence start" => "a list of `- ` items".to_string(),
        "string scalar" => "a string".to_string(),
        other if other.len() <= 40 && !other.contains(['"', '\'', '`']) => other.to_string(),
        _ => "another kind of value".to_string(),
    };
    let reason = if let Some(phrase) = what.strip_prefix("expected ") {
        format!(": expected {} there", expected(phrase))
    } else if let Some((_, phrase)) = what
        .split_once("invalid type: ")
        .and_then(|(_, rest)| rest.rsplit_once(", expected "))
    {
        format!(": expected {} there", expected(phrase))
    } else if what.starts_with("invalid boolean") {
        ": expected true or false there".to_string()
    } else if let Some(field) = what
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        format!(": the field `{field}` is missing")
    } else {
        String::new()
    };
    format!("is not a valid kubeconfig{}{reason}", at_place(e))
}

/// What kube's `Kubeconfig::read_from` does after parsing: file references
/// relative to the kubeconfig's folder; an exec command only when it has a
/// path separator (a bare name is looked up in PATH), as client-go does.
pub(super) fn resolve_relative_paths(config: &mut Kubeconfig, dir: &Path) {
    let absolute = |p: &mut Option<String>| {
        if let Some(path) = p.as_deref()
            && Path::new(path).is_relative()
            && let Some(joined) = dir.join(path).to_str()
        {
            *p = Some(joined.to_string());
        }
    };
    for named in &mut config.clusters {
        if let Some(cluster) = &mut named.cluster {
            absolute(&mut cluster.certificate_authority);
        }
    }
    for named in &mut config.auth_infos {
        if let Some(user) = &mut named.auth_info {
            absolute(&mut user.client_certificate);
            absolute(&mut user.client_key);
            absolute(&mut user.token_file);
            if let Some(exec) = &mut user.exec
                && exec
                    .command
                    .as_deref()
                    .is_some_and(|c| c.contains(std::path::MAIN_SEPARATOR))
            {
                absolute(&mut exec.command);
            }
        }
    }
}

/// kubectl's rules: `--kubeconfig` alone if given; else every existing file
/// in `KUBECONFIG` (a path list), merged, first wins; else `~/.kube/config`.
/// Where none of these exists, the error says so, unless the pod's service
/// account can stand in (`Ok(None)`), as in client-go.
fn load_kubeconfig(
    explicit: Option<&Path>,
    in_cluster_possible: bool,
) -> Result<Option<(Kubeconfig, KubeconfigFiles)>> {
    if let Some(path) = explicit {
        return Ok(Some((
            read_kubeconfig(path)?,
            KubeconfigFiles::Files(vec![path.to_path_buf()]),
        )));
    }
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let named: Vec<PathBuf> = std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        let existing: Vec<PathBuf> = named.iter().filter(|p| p.exists()).cloned().collect();
        if existing.is_empty() {
            if in_cluster_possible {
                return Ok(None);
            }
            let files = KubeconfigFiles::Files(named);
            return Err(Error::new(
                ErrorKind::Kubeconfig,
                format!(
                    "none of the files in KUBECONFIG exists: {}",
                    files.describe()
                ),
            )
            .with_help("fix KUBECONFIG, or pass --kubeconfig"));
        }
        let mut merged: Option<Kubeconfig> = None;
        for path in &existing {
            let next = read_kubeconfig(path)?;
            merged = Some(match merged {
                None => next,
                Some(acc) => acc.merge(next).map_err(|e| {
                    kubeconfig_error(&KubeconfigFiles::Files(existing.clone()), error_chain(&e))
                })?,
            });
        }
        let merged =
            merged.ok_or_else(|| Error::new(ErrorKind::Kubeconfig, "KUBECONFIG names no file"))?;
        return Ok(Some((merged, KubeconfigFiles::Files(existing))));
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let default = home.join(".kube").join("config");
    if !default.exists() {
        if in_cluster_possible {
            return Ok(None);
        }
        return Err(Error::new(
            ErrorKind::Kubeconfig,
            format!("no kubeconfig: --kubeconfig is not given, KUBECONFIG is not set, and `{}` does not exist", default.display()),
        )
        .with_help("point --kubeconfig or KUBECONFIG at the kubeconfig of your cluster"));
    }
    Ok(Some((
        read_kubeconfig(&default)?,
        KubeconfigFiles::Files(vec![default]),
    )))
}

/// The files the selected context's cluster and user name
/// (`certificate-authority`, `client-certificate`, `client-key`,
/// `tokenFile`), read by us as regular files of at most
/// [`input_file::MAX_CREDENTIAL_FILE_BYTES`] and put inline, so kube never
/// reads a path itself (it would block on a FIFO, or read `/dev/zero`
/// forever). An inline value, where kube would prefer it, leaves the file
/// unread, as kube does.
fn inline_credential_files(
    mut config: Kubeconfig,
    context: &str,
    files: &KubeconfigFiles,
) -> Result<(Kubeconfig, UserRef)> {
    let Some(ctx) = config
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.clone())
    else {
        return Ok((config, UserRef::default()));
    };
    let reader = CredentialFiles { files };
    if let Some(cluster) = config
        .clusters
        .iter_mut()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.cluster.as_mut())
        && let Some(path) = cluster.certificate_authority.take()
        && cluster.certificate_authority_data.is_none()
    {
        let owner = format!("cluster `{}`", ctx.cluster);
        cluster.certificate_authority_data = Some(base64(reader.read(
            &path,
            "certificate-authority",
            &owner,
        )?));
    }
    let mut user = UserRef {
        name: ctx.user.clone().unwrap_or_default(),
        ..UserRef::default()
    };
    if let Some(name) = &ctx.user
        && let Some(info) = config
            .auth_infos
            .iter_mut()
            .find(|u| &u.name == name)
            .and_then(|u| u.auth_info.as_mut())
    {
        reader.inline_user_files(info, name)?;
        user.exec_command = info.exec.as_ref().and_then(|e| e.command.clone());
    }
    Ok((config, user))
}

/// Reads the files a kubeconfig names, bounded, with messages that name
/// the field, its owner and the kubeconfig.
struct CredentialFiles<'a> {
    files: &'a KubeconfigFiles,
}

impl CredentialFiles<'_> {
    fn read(&self, path: &str, field: &str, owner: &str) -> Result<Vec<u8>> {
        input_file::read_regular(Path::new(path), input_file::MAX_CREDENTIAL_FILE_BYTES).map_err(
            |e| {
                Error::new(
                    ErrorKind::Kubeconfig,
                    format!(
                        "cannot use the {field} of {owner} in the kubeconfig {}: {e}",
                        self.files.describe()
                    ),
                )
                .with_help(e.help())
            },
        )
    }

    /// The user's certificate, key and token files, inlined; the token
    /// checked to be one line of printable text.
    fn inline_user_files(&self, info: &mut kube::config::AuthInfo, name: &str) -> Result<()> {
        let owner = format!("user `{name}`");
        if let Some(path) = info.client_certificate.take()
            && info.client_certificate_data.is_none()
        {
            info.client_certificate_data =
                Some(base64(self.read(&path, "client-certificate", &owner)?));
        }
        if let Some(path) = info.client_key.take()
            && info.client_key_data.is_none()
        {
            info.client_key_data = Some(base64(self.read(&path, "client-key", &owner)?).into());
        }
        if let Some(path) = info.token_file.take()
            && info.token.is_none()
        {
            let bytes = self.read(&path, "tokenFile", &owner)?;
            // client-go trims the file's whitespace (a final newline).
            let token = String::from_utf8(bytes).map_err(|_| {
                Error::new(
                    ErrorKind::Kubeconfig,
                    format!(
                        "the tokenFile of user `{name}` in the kubeconfig {} is not text",
                        self.files.describe()
                    ),
                )
                .with_help("a token file holds one token as text")
            })?;
            info.token = Some(token.trim().to_string().into());
        }
        // A token goes into an HTTP header: one with a line break or a
        // control character is refused here, where it can be named (the
        // HTTP layer would stop on it).
        if let Some(token) = &info.token
            && !is_header_value(token.expose_secret())
        {
            return Err(Error::new(
                ErrorKind::Kubeconfig,
                format!(
                    "the token of user `{name}` in the kubeconfig {} holds a line break or a control character (not shown)",
                    self.files.describe()
                ),
            )
            .with_help("a token is one line of printable text; check `token:` or the tokenFile (one token, no PEM block)"));
        }
        Ok(())
    }
}

/// client-go reads a user's credentials only for a server it reaches over
/// TLS (`clientcmd.DirectClientConfig.ClientConfig`: "only try to read the
/// auth information if we are secure", `rest.IsConfigTransportTLS`): over
/// plain `http://` kubectl sends no token, no basic auth, no client
/// certificate, runs no credential plugin and reads none of their files,
/// and the request goes out as anonymous. So do we: the context's user
/// entry is emptied here, before any of its files is read, and what it
/// held is returned (`a token, an exec plugin`) for the `-v` log and for
/// the help of a refusal (docs/reaching-clusters.md).
pub(super) fn withhold_credentials_over_http(
    kubeconfig: &mut Kubeconfig,
    context: &str,
) -> Option<String> {
    let ctx = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.clone())?;
    let server = kubeconfig
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.server.as_deref())?;
    let https = server
        .parse::<http::Uri>()
        .ok()
        .is_some_and(|u| u.scheme() == Some(&http::uri::Scheme::HTTPS));
    if https {
        return None;
    }
    let name = ctx.user.as_deref()?;
    let info = kubeconfig
        .auth_infos
        .iter_mut()
        .find(|u| u.name == name)
        .and_then(|u| u.auth_info.as_mut())?;
    let held = credential_kinds(info);
    *info = kube::config::AuthInfo::default();
    (!held.is_empty()).then(|| held.join(", "))
}

/// What kinds of credentials a user entry holds, in words.
fn credential_kinds(info: &kube::config::AuthInfo) -> Vec<&'static str> {
    [
        (info.token.is_some() || info.token_file.is_some(), "a token"),
        (
            info.username.is_some() || info.password.is_some(),
            "basic auth",
        ),
        (
            info.client_certificate.is_some()
                || info.client_certificate_data.is_some()
                || info.client_key.is_some()
                || info.client_key_data.is_some(),
            "a client certificate",
        ),
        (info.exec.is_some(), "an exec credential plugin"),
        (info.auth_provider.is_some(), "an auth-provider"),
        (
            info.impersonate.is_some() || info.impersonate_groups.is_some(),
            "impersonation",
        ),
    ]
    .into_iter()
    .filter_map(|(held, what)| held.then_some(what))
    .collect()
}

/// A kubeconfig ready for kube: the context picked, its files read and
/// inlined, the proxy chosen, and what messages need to name.
pub(super) struct Prepared {
    pub config: kube::Config,
    pub context: String,
    pub user: UserRef,
    pub files: KubeconfigFiles,
    /// `through the proxy URL (from where)`, its password hidden, when the
    /// connection goes through one.
    pub via: Option<String>,
    /// The `CONNECT` proxy, when the connection goes through one.
    pub tunnel: Option<proxy::Tunnel>,
}

/// Load the kubeconfig (or, where there is none, make one from the pod's
/// service account), pick the context, inline the files it names, and turn
/// it into kube's configuration.
pub(super) fn prepare(explicit: Option<&Path>, context: Option<&str>) -> Result<Prepared> {
    let env = |name: &str| std::env::var(name).ok();
    let service_account = Path::new(incluster::SERVICE_ACCOUNT_DIR);
    // client-go uses the service account only when no kubeconfig is found
    // and nothing names one (a --context needs a kubeconfig to be in).
    let in_cluster =
        explicit.is_none() && context.is_none() && incluster::possible(service_account, &env);
    let (kubeconfig, files, context, user) = match load_kubeconfig(explicit, in_cluster)? {
        Some((mut kubeconfig, files)) => {
            let context = select_context(&kubeconfig, context, &files)?;
            let withheld = withhold_credentials_over_http(&mut kubeconfig, &context);
            let (kubeconfig, mut user) = inline_credential_files(kubeconfig, &context, &files)?;
            user.withheld = withheld;
            (kubeconfig, files, context, user)
        }
        None => {
            let kubeconfig = incluster::kubeconfig(service_account, &env)?;
            let user = UserRef {
                name: incluster::USER.to_string(),
                ..UserRef::default()
            };
            let context = incluster::CONTEXT.to_string();
            (kubeconfig, KubeconfigFiles::InCluster, context, user)
        }
    };
    let (config, via, tunnel) = kube_config(&kubeconfig, &context, &files, &env)?;
    Ok(Prepared {
        config,
        context,
        user,
        files,
        via,
        tunnel,
    })
}

/// kube's configuration for the context, made as kube's
/// `Config::from_custom_kubeconfig` makes it (the context's cluster and
/// user, the CA, `insecure-skip-tls-verify`, `tls-server-name`, an exec
/// plugin's cluster information), except for the proxy, which is chosen as
/// kubectl chooses it ([`proxy::choose`]): kube's own choice reads
/// `HTTPS_PROXY` and `NO_PROXY` its own way, and fails on `NO_PROXY`
/// values Go takes (an empty entry, a trailing comma).
fn kube_config(
    kubeconfig: &Kubeconfig,
    context: &str,
    files: &KubeconfigFiles,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(kube::Config, Option<String>, Option<proxy::Tunnel>)> {
    use kube::config::ExecAuthCluster;
    let ctx = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.clone())
        .ok_or_else(|| {
            kubeconfig_error(
                files,
                format!("the context `{context}` has no `context:` entry"),
            )
        })?;
    let cluster = kubeconfig
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.cluster.clone())
        .ok_or_else(|| {
            kubeconfig_error(
                files,
                format!(
                    "the cluster `{}` of context `{context}` is not in it",
                    ctx.cluster
                ),
            )
        })?;
    let url = cluster
        .server
        .as_deref()
        .and_then(|s| s.parse::<http::Uri>().ok());
    check_server_url(
        url.as_ref().and_then(http::Uri::scheme_str),
        url.as_ref().and_then(http::Uri::host),
        context,
        files,
    )?;
    let Some(url) = url else {
        return Err(kubeconfig_error(files, "its server is not a URL"));
    };
    let mut config = kube::Config::new(url);
    config.default_namespace = ctx.namespace.clone().unwrap_or_else(|| "default".into());
    config.accept_invalid_certs = cluster.insecure_skip_tls_verify.unwrap_or(false);
    config.disable_compression = cluster.disable_compression.unwrap_or(false);
    config.tls_server_name = cluster.tls_server_name.clone();
    // kube's reading of the cluster's CA (base64, or the file it names).
    let for_exec = ExecAuthCluster::try_from(&cluster)
        .map_err(|e| kubeconfig_error(files, super::text::config_error_text(&e)))?;
    if let Some(pem) = &for_exec.certificate_authority_data {
        config.root_cert = Some(
            certificates(pem)
                .ok_or_else(|| kubeconfig_error(files, "its certificates are not valid PEM"))?,
        );
    }
    let mut auth_info = ctx
        .user
        .as_ref()
        .and_then(|name| kubeconfig.auth_infos.iter().find(|u| &u.name == name))
        .and_then(|u| u.auth_info.clone())
        .unwrap_or_default();
    if let Some(provider) = &auth_info.auth_provider {
        check_auth_provider(
            &provider.name,
            ctx.user.as_deref().unwrap_or_default(),
            files,
        )?;
    }
    if let Some(exec) = &mut auth_info.exec
        && exec.provide_cluster_info
    {
        exec.cluster = Some(for_exec);
    }
    run_exec_plugin(
        &mut auth_info,
        ctx.user.as_deref().unwrap_or_default(),
        context,
    )?;
    config.auth_info = auth_info;
    let proxy = proxy::choose(
        &config.cluster_url,
        cluster.proxy_url.as_deref(),
        &format!(
            "cluster `{}` in the kubeconfig {}",
            ctx.cluster,
            files.describe()
        ),
        env,
    )?;
    config.proxy_url = proxy.as_ref().map(|p| p.url.clone());
    let named = proxy.as_ref().map(|p| {
        format!(
            "the proxy {} ({})",
            p.shown(),
            p.source.describe(&format!("cluster `{}`", ctx.cluster))
        )
    });
    let tunnel = proxy
        .zip(named.clone())
        .and_then(|(p, named)| proxy::Tunnel::of(&p, named, &config.cluster_url));
    Ok((config, named.map(|n| format!("through {n}")), tunnel))
}

/// Where kube would use the user's `exec` plugin (no auth-provider, no
/// username and password, no token: kube's order), run it ourselves,
/// bounded ([`exec_plugin`]), and hand kube what it gave instead.
fn run_exec_plugin(
    auth_info: &mut kube::config::AuthInfo,
    user: &str,
    context: &str,
) -> Result<()> {
    let used = auth_info.auth_provider.is_none()
        && !(auth_info.username.is_some() && auth_info.password.is_some())
        && auth_info.token.is_none()
        && auth_info.token_file.is_none();
    let Some(exec) = auth_info.exec.take() else {
        return Ok(());
    };
    if !used {
        return Ok(());
    }
    let owner = exec_plugin::PluginOwner { user, context };
    match exec_plugin::run(&exec, &owner)? {
        exec_plugin::Credential::Token(token) => auth_info.token = Some(token.into()),
        exec_plugin::Credential::Certificate { certificate, key } => {
            auth_info.client_certificate = None;
            auth_info.client_key = None;
            auth_info.client_certificate_data = Some(base64(certificate.into_bytes()));
            auth_info.client_key_data = Some(base64(key.into_bytes()).into());
        }
        exec_plugin::Credential::Nothing => {}
    }
    Ok(())
}

/// The auth-providers kube can use: `oidc` (the id-token, checked for
/// expiry and refreshed at the issuer) and `gcp` (its cached token or its
/// `cmd-path`). client-go dropped the others (`azure`, and `gcp` itself)
/// for exec plugins; one of them is named, with where to go instead.
fn check_auth_provider(name: &str, user: &str, files: &KubeconfigFiles) -> Result<()> {
    if matches!(name, "oidc" | "gcp") {
        return Ok(());
    }
    let instead = match name {
        "azure" => "kubelogin (https://github.com/Azure/kubelogin: `kubelogin convert-kubeconfig`)",
        _ => "the credential plugin of your provider",
    };
    Err(Error::new(
        ErrorKind::Kubeconfig,
        format!(
            "the auth-provider `{name}` of user `{user}` in the kubeconfig {} is not supported (only oidc and gcp are; client-go and kubectl dropped the others)",
            files.describe()
        ),
    )
    .with_help(format!(
        "switch the user to an `exec` credential plugin: {instead}"
    )))
}

/// The DER of each certificate in a PEM bundle, as kube reads a CA.
fn certificates(pem: &[u8]) -> Option<Vec<Vec<u8>>> {
    let blocks = pem::parse_many(pem).ok()?;
    Some(
        blocks
            .into_iter()
            .filter(|b| b.tag() == "CERTIFICATE")
            .map(pem::Pem::into_contents)
            .collect(),
    )
}

/// `--context`, else the kubeconfig's current context; it must exist.
fn select_context(
    kubeconfig: &Kubeconfig,
    explicit: Option<&str>,
    files: &KubeconfigFiles,
) -> Result<String> {
    let Some(context) = explicit
        .map(str::to_string)
        .or_else(|| kubeconfig.current_context.clone())
    else {
        return Err(Error::new(
            ErrorKind::Kubeconfig,
            format!("the kubeconfig {} has no current context", files.describe()),
        )
        .with_help("pick one with --context, or set it with `kubectl config use-context NAME`"));
    };
    if kubeconfig.contexts.iter().any(|c| c.name == context) {
        return Ok(context);
    }
    let known: Vec<&str> = kubeconfig
        .contexts
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    Err(Error::new(
        ErrorKind::Kubeconfig,
        format!(
            "context `{context}` is not in the kubeconfig {}",
            files.describe()
        ),
    )
    .with_help(format!(
        "known contexts: {}",
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    )))
}

/// The server must be an `http(s)://host...` URL: kube stops on one without
/// a scheme, and a URL we cannot take apart could not have its credentials
/// hidden in messages, so it is refused without being shown.
fn check_server_url(
    scheme: Option<&str>,
    host: Option<&str>,
    context: &str,
    files: &KubeconfigFiles,
) -> Result<()> {
    let http = matches!(scheme, Some("http" | "https"));
    if http && host.is_some_and(|h| !h.is_empty()) {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Kubeconfig,
        format!(
            "the server of context `{context}` in the kubeconfig {} is not an http(s) URL (not shown: it may hold credentials)",
            files.describe()
        ),
    )
    .with_help("write the cluster's `server:` as https://HOST[:PORT], as `kubectl config view` shows it"))
}
