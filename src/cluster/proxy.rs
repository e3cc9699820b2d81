//! Which proxy a connection goes through, decided as kubectl decides it:
//! the cluster's `proxy-url` if the kubeconfig has one, else Go's
//! `http.ProxyFromEnvironment` (golang.org/x/net/http/httpproxy):
//! `HTTPS_PROXY` for an https server, `HTTP_PROXY` for an http one (upper
//! case first, then lower case; the first that is not empty), never for
//! `localhost` or a loopback address, and not for a server `NO_PROXY`
//! matches.
//!
//! kube's own reading of the environment is not used: it takes
//! `HTTPS_PROXY` for every server, matches `NO_PROXY` against the proxy's
//! address rather than the server's, compares ports that Go leaves out,
//! fails on an empty entry (`a,,b`, a trailing comma) and never bypasses
//! loopback.

use std::net::IpAddr;

use crate::error::{Error, ErrorKind, Result};

/// Where the proxy came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ProxySource {
    /// The cluster's `proxy-url` in the kubeconfig.
    Kubeconfig,
    /// The environment variable of that name.
    Env(&'static str),
}

impl ProxySource {
    /// `cluster` names the cluster entry: "cluster `c`" and where it is.
    pub(super) fn describe(&self, cluster: &str) -> String {
        match self {
            ProxySource::Kubeconfig => format!("the proxy-url of {cluster}"),
            ProxySource::Env(var) => format!("{var} in the environment"),
        }
    }
}

/// The proxy to use: its URL as kube takes it (scheme and authority only:
/// a proxy has no use for a path), and where it came from. Its Debug, like
/// [`Proxy::shown`], hides the user and password.
#[derive(Clone)]
pub(super) struct Proxy {
    pub url: http::Uri,
    pub source: ProxySource,
}

impl Proxy {
    /// The URL for messages: `scheme://***@host:port`, built from its
    /// parts, never from the text it was given.
    pub(super) fn shown(&self) -> String {
        let scheme = self.url.scheme_str().unwrap_or_default();
        let secret = self
            .url
            .authority()
            .is_some_and(|a| a.as_str().contains('@'));
        let host = self.url.host().unwrap_or_default();
        let port = self
            .url
            .port_u16()
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        let user = if secret { "***@" } else { "" };
        format!("{scheme}://{user}{host}{port}")
    }
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("url", &self.shown())
            .field("source", &self.source)
            .finish()
    }
}

/// An HTTP `CONNECT` proxy's part in a connection, for what is said when
/// it fails: how messages name it, and what to ask it again to learn the
/// status it refused a tunnel with (kube's connector keeps only 407).
#[derive(Clone)]
pub(super) struct Tunnel {
    /// `the proxy http://***@host:port (HTTPS_PROXY in the environment)`.
    pub named: String,
    /// `host:port` the tunnel is asked to.
    pub target: String,
    /// The proxy's address, `host:port`; never shown with its credentials.
    address: String,
    /// `Proxy-Authorization` as kube sends it, if the URL has credentials.
    authorization: Option<String>,
}

impl Tunnel {
    /// For a proxy spoken to over plain HTTP (an https or socks5 proxy is
    /// not asked again: `None`), tunnelling to `server`.
    pub(super) fn of(proxy: &Proxy, named: String, server: &http::Uri) -> Option<Tunnel> {
        if proxy.url.scheme_str() != Some("http") {
            return None;
        }
        let port = |u: &http::Uri| {
            u.port_u16()
                .or_else(|| default_port(u.scheme_str().unwrap_or_default()))
        };
        let host = |u: &http::Uri| u.host().map(str::to_string);
        let authority = proxy.url.authority()?.as_str();
        let authorization = authority.rsplit_once('@').map(|(userinfo, _)| {
            use base64::Engine as _;
            let decoded = percent_decode(userinfo);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(decoded)
            )
        });
        Some(Tunnel {
            named,
            target: format!("{}:{}", host(server)?, port(server)?),
            address: format!("{}:{}", host(&proxy.url)?, port(&proxy.url)?),
            authorization,
        })
    }

    /// Ask the proxy for the tunnel again, on a connection of our own, and
    /// return the status of its answer: what kube's connector does not
    /// keep. At most `limit` for the connection and for each read; the
    /// answer's first line only (at most 1 KiB).
    pub(super) async fn status(&self, limit: std::time::Duration) -> Option<u16> {
        let (address, target, authorization) = (
            self.address.clone(),
            self.target.clone(),
            self.authorization.clone(),
        );
        let ask = move || -> Option<u16> {
            use std::io::{Read, Write};
            use std::net::ToSocketAddrs;
            let addr = address.to_socket_addrs().ok()?.next()?;
            let mut conn = std::net::TcpStream::connect_timeout(&addr, limit).ok()?;
            conn.set_read_timeout(Some(limit)).ok()?;
            conn.set_write_timeout(Some(limit)).ok()?;
            let auth = authorization
                .map(|a| format!("Proxy-Authorization: {a}\r\n"))
                .unwrap_or_default();
            conn.write_all(
                format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{auth}\r\n").as_bytes(),
            )
            .ok()?;
            let mut head = Vec::new();
            let mut chunk = [0u8; 256];
            while !head.contains(&b'\n') && head.len() < 1024 {
                let n = conn.read(&mut chunk).ok()?;
                if n == 0 {
                    break;
                }
                head.extend_from_slice(chunk.get(..n)?);
            }
            let line = String::from_utf8_lossy(&head);
            let mut words = line.split_whitespace();
            words.next().filter(|w| w.starts_with("HTTP/"))?;
            words
                .next()?
                .parse::<u16>()
                .ok()
                .filter(|c| (100..600).contains(c))
        };
        tokio::task::spawn_blocking(ask).await.ok().flatten()
    }
}

/// How kube's `CONNECT` tunnel failed, read from its error's text (its
/// type is hyper-util's, which we do not depend on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TunnelRefusal {
    /// 407: kube's connector names it.
    AuthRequired,
    /// Any other status than 200: kube's connector does not say which.
    Refused,
}

/// The refusal a failed request's error tells of, if any.
pub(super) fn refusal(e: &kube::Error) -> Option<TunnelRefusal> {
    let text = match e {
        kube::Error::HyperError(inner) => super::text::error_chain(inner),
        kube::Error::Service(inner) => super::text::error_chain(inner.as_ref()),
        _ => return None,
    };
    if text.contains("tunnel error: proxy authorization required") {
        Some(TunnelRefusal::AuthRequired)
    } else if text.contains("tunnel error: unsuccessful") {
        Some(TunnelRefusal::Refused)
    } else {
        None
    }
}

/// `%XX` decoded, as kube decodes a proxy URL's user and password before
/// it sends them.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// The proxy for `server`: the kubeconfig's `proxy_url` if not empty, else
/// the environment's (read through `env`), else none.
pub(super) fn choose(
    server: &http::Uri,
    proxy_url: Option<&str>,
    cluster: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Proxy>> {
    if let Some(raw) = proxy_url.filter(|p| !p.is_empty()) {
        return parse(raw, ProxySource::Kubeconfig, cluster).map(Some);
    }
    let first = |names: [&'static str; 2]| {
        names
            .into_iter()
            .find_map(|n| env(n).filter(|v| !v.is_empty()).map(|v| (n, v)))
    };
    let chosen = match server.scheme_str() {
        Some("https") => first(["HTTPS_PROXY", "https_proxy"]),
        Some("http") => first(["HTTP_PROXY", "http_proxy"]),
        _ => None,
    };
    let Some((var, raw)) = chosen else {
        return Ok(None);
    };
    let no_proxy = first(["NO_PROXY", "no_proxy"]).map(|(_, v)| v);
    if !use_proxy(server, no_proxy.as_deref().unwrap_or("")) {
        return Ok(None);
    }
    parse(&raw, ProxySource::Env(var), cluster).map(Some)
}

/// Go's `parseProxy`: a URL, or text without a scheme (no `://`) meaning
/// `http://` + it (`host:port`); then the schemes a proxy can have here
/// (Go's: http, https, socks5, socks5h). A URL that does not parse is not
/// retried as `http://` + it: `http://u:pw@[::1:1` would become a proxy on
/// the host `http` with the password in its path. The text is never shown
/// (it may hold a password), only its scheme when that is not supported;
/// the variable or kubeconfig field is named instead. What kube is given
/// is the scheme and authority alone.
fn parse(raw: &str, source: ProxySource, cluster: &str) -> Result<Proxy> {
    let from = source.describe(cluster);
    let bad = |why: String| {
        Error::new(ErrorKind::Kubeconfig, format!("{from} {why}")).with_help(
            "a proxy is http://HOST:PORT, https://HOST:PORT or socks5://HOST:PORT (user:password@ before HOST if it needs them)",
        )
    };
    let parsed = |text: &str| {
        let url = text.parse::<http::Uri>().ok()?;
        let authority = url.authority()?.as_str();
        let scheme = url.scheme_str()?;
        if url.host().is_none_or(str::is_empty) {
            return None;
        }
        // `host:` with nothing after the colon: Go's `canonicalAddr` takes
        // the scheme's port (http 80, https 443, socks5 1080). Followed by
        // a path, it is how a second scheme (`http://http://u:pw@h:1`)
        // parses: no proxy address, refused.
        let authority = match authority.strip_suffix(':') {
            Some(_) if !matches!(url.path(), "" | "/") || url.query().is_some() => return None,
            Some(host) => format!("{host}:{}", default_port(scheme)?),
            None => authority.to_string(),
        };
        http::Uri::builder()
            .scheme(scheme)
            .authority(authority)
            .path_and_query("/")
            .build()
            .ok()
    };
    let url = if raw.contains("://") {
        parsed(raw)
    } else {
        parsed(&format!("http://{raw}"))
    }
    .ok_or_else(|| bad("is not a URL (not shown: it may hold a password)".to_string()))?;
    let scheme = url.scheme_str().unwrap_or_default().to_ascii_lowercase();
    let url = match scheme.as_str() {
        "http" | "https" | "socks5" => url,
        // socks5h: the proxy resolves the name, which is what kube's
        // SOCKS5 client always asks for.
        "socks5h" => {
            let rest = url
                .authority()
                .map(|a| a.as_str().to_string())
                .unwrap_or_default();
            parsed(&format!("socks5://{rest}"))
                .ok_or_else(|| bad("is not a URL (not shown: it may hold a password)".into()))?
        }
        other => {
            return Err(bad(format!(
                "uses the proxy protocol `{}`, which is not supported (http, https and socks5 are)",
                crate::escape::text(other)
            )));
        }
    };
    Ok(Proxy { url, source })
}

/// The port Go's `canonicalAddr` gives a proxy URL without one.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme.to_ascii_lowercase().as_str() {
        "http" => Some(80),
        "https" => Some(443),
        "socks5" | "socks5h" => Some(1080),
        _ => None,
    }
}

/// Go's `useProxy`: false for `localhost`, a loopback address, and a
/// server `no_proxy` matches.
pub(super) fn use_proxy(server: &http::Uri, no_proxy: &str) -> bool {
    let Some(host) = server.host() else {
        return true;
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim()
        .to_ascii_lowercase();
    let port = server
        .port_u16()
        .or(match server.scheme_str() {
            Some("https") => Some(443),
            Some("http") => Some(80),
            _ => None,
        })
        .map(|p| p.to_string())
        .unwrap_or_default();
    if host == "localhost" {
        return false;
    }
    let ip = host.parse::<IpAddr>().ok();
    if ip.is_some_and(|ip| ip.is_loopback()) {
        return false;
    }
    !no_proxy
        .split(',')
        .map(|entry| entry.trim().to_ascii_lowercase())
        .filter(|entry| !entry.is_empty())
        .any(|entry| matches(&entry, &host, &port, ip))
}

/// One `NO_PROXY` entry against the server, as Go's matchers: `*`; an
/// address range; an address, with or without a port; a domain, which
/// also matches its subdomains (`.domain` and `*.domain` only those), with
/// or without a port.
fn matches(entry: &str, host: &str, port: &str, ip: Option<IpAddr>) -> bool {
    if entry == "*" {
        return true;
    }
    if let Some((net, bits)) = entry.split_once('/') {
        return match (net.parse::<IpAddr>(), bits.parse::<u8>(), ip) {
            (Ok(net), Ok(bits), Some(ip)) => in_range(ip, net, bits),
            _ => false,
        };
    }
    let (entry_host, entry_port) = split_host_port(entry);
    if entry_host.is_empty() {
        return false;
    }
    let port_ok = entry_port.is_none_or(|p| p == port);
    if let Ok(entry_ip) = entry_host.parse::<IpAddr>() {
        return ip == Some(entry_ip) && port_ok;
    }
    let entry_host = entry_host.strip_prefix('*').unwrap_or(entry_host);
    let (domain, match_host) = match entry_host.strip_prefix('.') {
        Some(_) => (entry_host.to_string(), false),
        None => (format!(".{entry_host}"), true),
    };
    (host.ends_with(&domain) || (match_host && host == &domain[1..])) && port_ok
}

/// Go's `net.SplitHostPort` where it succeeds, else the entry as a host:
/// `host:port`, `[v6]:port`, or no port.
fn split_host_port(entry: &str) -> (&str, Option<&str>) {
    if let Some(rest) = entry.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, after)) => (host, after.strip_prefix(':').filter(|p| !p.is_empty())),
            None => (entry, None),
        };
    }
    match entry.split_once(':') {
        // One colon: host and port; more: an IPv6 address without a port.
        Some((host, port)) if !port.contains(':') => (host, Some(port)),
        _ => (entry, None),
    }
}

fn in_range(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
#[path = "proxy_tests.rs"]
mod tests;
