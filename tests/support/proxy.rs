//! What stands between the binary and the API server in the reach tests
//! (tests/e2e/proxies.rs): a forward proxy on loopback that records every
//! tunnel it was asked for, speaking HTTP `CONNECT` or SOCKS5; and the TLS
//! front every fake API server stands behind (`apiserver::tls`), re-exported
//! for these tests.
//!
//! The proxy resolves names itself from a fixed table (a name that is not
//! in it is refused, never looked up), so a test can give the server a name
//! that resolves nowhere but through the proxy, as a cluster behind a
//! company proxy is. It never connects anywhere but to the table's
//! addresses.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// The name the test certificate is made out to (besides `localhost`,
/// `kubernetes.default.svc` and 127.0.0.1). It resolves nowhere: only the
/// proxy knows it.
pub const SERVER_NAME: &str = "apiserver.konduktor.test";

/// How the proxy is spoken to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP `CONNECT host:port` (what `HTTPS_PROXY=http://...` means).
    Connect,
    /// SOCKS5, no authentication, `CONNECT` command.
    Socks5,
}

/// What a `CONNECT` proxy answers a tunnel request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Opens the tunnel to the route's address (502 without one).
    Tunnel,
    /// Reads the request and never answers (until the client hangs up).
    Stall,
    /// Refuses with this status (407: credentials wanted; 403: not this host).
    Status(u16),
}

/// A forward proxy on 127.0.0.1 that records the `host:port` of every
/// tunnel asked for (and whether `Proxy-Authorization` came with it).
pub struct Proxy {
    addr: SocketAddr,
    protocol: Protocol,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    /// Start a proxy that knows `routes` (`host:port` asked -> address
    /// connected to).
    pub fn start(protocol: Protocol, routes: &[(String, SocketAddr)]) -> Self {
        Self::start_answering(protocol, routes, Answer::Tunnel)
    }

    /// A `CONNECT` proxy that answers every tunnel request with `answer`.
    pub fn answering(answer: Answer) -> Self {
        Self::start_answering(Protocol::Connect, &[], answer)
    }

    fn start_answering(
        protocol: Protocol,
        routes: &[(String, SocketAddr)],
        answer: Answer,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("addr: {e}"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let routes: Arc<HashMap<String, SocketAddr>> = Arc::new(routes.iter().cloned().collect());
        let (seen2, stop2) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (seen, routes) = (seen2.clone(), routes.clone());
                std::thread::spawn(move || {
                    let _ = match protocol {
                        Protocol::Connect => serve_connect(conn, &routes, &seen, answer),
                        Protocol::Socks5 => serve_socks5(conn, &routes, &seen),
                    };
                });
            }
        });
        Proxy {
            addr,
            protocol,
            seen,
            stop,
        }
    }

    /// The proxy's URL, as `HTTPS_PROXY` or `proxy-url` would give it.
    pub fn url(&self) -> String {
        match self.protocol {
            Protocol::Connect => format!("http://{}", self.addr),
            Protocol::Socks5 => format!("socks5://{}", self.addr),
        }
    }

    /// `host:port` of every tunnel asked for, in order (`+auth` appended
    /// when a `Proxy-Authorization` header came with it).
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn record(seen: &Mutex<Vec<String>>, what: String) {
    if let Ok(mut seen) = seen.lock() {
        seen.push(what);
    }
}

/// `CONNECT host:port HTTP/1.1`, headers, blank line; then a tunnel.
fn serve_connect(
    mut conn: TcpStream,
    routes: &HashMap<String, SocketAddr>,
    seen: &Mutex<Vec<String>>,
    answer: Answer,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 || conn.read(&mut byte)? == 0 {
            return Ok(());
        }
        head.extend_from_slice(&byte);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut words = head.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let auth = head
        .lines()
        .any(|l| l.to_ascii_lowercase().starts_with("proxy-authorization:"));
    if method != "CONNECT" {
        record(seen, format!("{method} {target}"));
        conn.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    }
    record(
        seen,
        if auth {
            format!("{target}+auth")
        } else {
            target.to_string()
        },
    );
    match answer {
        Answer::Tunnel => {}
        Answer::Stall => {
            // Hold the connection, unanswered, until the client gives up.
            let mut sink = [0u8; 256];
            while conn.read(&mut sink)? > 0 {}
            return Ok(());
        }
        Answer::Status(code) => {
            conn.write_all(
                format!("HTTP/1.1 {code} Refused\r\nContent-Length: 0\r\n\r\n").as_bytes(),
            )?;
            return Ok(());
        }
    }
    let Some(upstream) = routes.get(target).and_then(|a| TcpStream::connect(a).ok()) else {
        conn.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")?;
        return Ok(());
    };
    conn.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    tunnel(conn, upstream)
}

/// RFC 1928, the subset a client without credentials uses.
fn serve_socks5(
    mut conn: TcpStream,
    routes: &HashMap<String, SocketAddr>,
    seen: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut greeting = [0u8; 2];
    conn.read_exact(&mut greeting)?;
    let mut methods = vec![0u8; usize::from(greeting[1])];
    conn.read_exact(&mut methods)?;
    if greeting[0] != 5 || !methods.contains(&0) {
        conn.write_all(&[5, 0xFF])?;
        return Ok(());
    }
    conn.write_all(&[5, 0])?;
    let mut request = [0u8; 4];
    conn.read_exact(&mut request)?;
    let host = match request[3] {
        1 => {
            let mut ip = [0u8; 4];
            conn.read_exact(&mut ip)?;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            conn.read_exact(&mut len)?;
            let mut name = vec![0u8; usize::from(len[0])];
            conn.read_exact(&mut name)?;
            String::from_utf8_lossy(&name).into_owned()
        }
        4 => {
            let mut ip = [0u8; 16];
            conn.read_exact(&mut ip)?;
            format!("[{}]", std::net::Ipv6Addr::from(ip))
        }
        _ => return Ok(()),
    };
    let mut port = [0u8; 2];
    conn.read_exact(&mut port)?;
    let target = format!("{host}:{}", u16::from_be_bytes(port));
    record(seen, target.clone());
    let Some(upstream) = routes.get(&target).and_then(|a| TcpStream::connect(a).ok()) else {
        // 4: host unreachable.
        conn.write_all(&[5, 4, 0, 1, 0, 0, 0, 0, 0, 0])?;
        return Ok(());
    };
    conn.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])?;
    tunnel(conn, upstream)
}

/// Bytes both ways until either side is done.
fn tunnel(client: TcpStream, upstream: TcpStream) -> std::io::Result<()> {
    let (mut c_read, mut u_write) = (client.try_clone()?, upstream.try_clone()?);
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c_read, &mut u_write);
        let _ = u_write.shutdown(Shutdown::Write);
    });
    let (mut u_read, mut c_write) = (upstream, client);
    let _ = std::io::copy(&mut u_read, &mut c_write);
    let _ = c_write.shutdown(Shutdown::Write);
    let _ = up.join();
    Ok(())
}

pub use super::apiserver::tls::{TlsFront, ca_data, tls_file};
