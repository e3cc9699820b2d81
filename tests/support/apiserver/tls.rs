//! HTTPS in front of the (plain HTTP) test API server, with the test
//! certificate in `tests/support/tls/` (made out to 127.0.0.1, `localhost`,
//! `kubernetes.default.svc` and `apiserver.konduktor.test`). Every
//! [`super::ApiServer`] stands behind one: the binary, like kubectl, sends
//! credentials only over TLS (docs/reaching-clusters.md).

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// `tests/support/tls/<name>`.
pub fn tls_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support/tls")
        .join(name)
}

/// The test CA, base64 as a kubeconfig's `certificate-authority-data`.
pub fn ca_data() -> String {
    use base64::Engine;
    let pem = std::fs::read(tls_file("ca.crt")).unwrap_or_else(|e| panic!("ca.crt: {e}"));
    base64::engine::general_purpose::STANDARD.encode(pem)
}

/// HTTPS on 127.0.0.1 in front of a plain-HTTP backend (the fake API
/// server), with the test certificate.
pub struct TlsFront {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TlsFront {
    pub fn start(backend: SocketAddr) -> Self {
        use tokio_rustls::rustls;
        use tokio_rustls::rustls::pki_types::pem::PemObject;
        use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(tls_file("server.crt"))
                .unwrap_or_else(|e| panic!("server.crt: {e}"))
                .map(|c| c.unwrap_or_else(|e| panic!("server.crt: {e}")))
                .collect();
        let key = PrivateKeyDer::from_pem_file(tls_file("server.key"))
            .unwrap_or_else(|e| panic!("server.key: {e}"));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|e| panic!("tls: {e}"))
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap_or_else(|e| panic!("tls: {e}"));
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("nonblocking: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("addr: {e}"));
        let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| panic!("runtime: {e}"));
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener)
                    .unwrap_or_else(|e| panic!("listener: {e}"));
                loop {
                    tokio::select! {
                        _ = &mut rx => break,
                        accepted = listener.accept() => {
                            let Ok((tcp, _)) = accepted else { continue };
                            let acceptor = acceptor.clone();
                            tokio::spawn(async move {
                                let Ok(tls) = acceptor.accept(tcp).await else { return };
                                let Ok(back) = tokio::net::TcpStream::connect(backend).await else {
                                    return;
                                };
                                pump(tls, back).await;
                            });
                        }
                    }
                }
            });
        });
        TlsFront {
            addr,
            shutdown: Some(tx),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Copy both ways between two async streams until both are done (tokio's
/// `copy_bidirectional` needs its `io-util` feature, which nothing else
/// here turns on).
async fn pump<A, B>(mut a: A, mut b: B)
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let (mut ab, mut ba) = (Half::default(), Half::default());
    std::future::poll_fn(|cx| {
        let there = ab.poll(cx, &mut a, &mut b);
        let back = ba.poll(cx, &mut b, &mut a);
        if there.is_ready() && back.is_ready() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
}

struct Half {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    done: bool,
}

impl Default for Half {
    fn default() -> Self {
        Half {
            buf: vec![0; 16 * 1024],
            start: 0,
            end: 0,
            done: false,
        }
    }
}

impl Half {
    fn poll<R, W>(&mut self, cx: &mut Context<'_>, from: &mut R, to: &mut W) -> Poll<()>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        loop {
            if self.done {
                let _ = Pin::new(&mut *to).poll_shutdown(cx);
                return Poll::Ready(());
            }
            if self.start == self.end {
                let mut read = ReadBuf::new(&mut self.buf);
                match Pin::new(&mut *from).poll_read(cx, &mut read) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(())) if !read.filled().is_empty() => {
                        self.end = read.filled().len();
                        self.start = 0;
                    }
                    Poll::Ready(_) => {
                        self.done = true;
                        continue;
                    }
                }
            }
            match Pin::new(&mut *to).poll_write(cx, &self.buf[self.start..self.end]) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(n)) if n > 0 => self.start += n,
                Poll::Ready(_) => self.done = true,
            }
            if self.start == self.end && Pin::new(&mut *to).poll_flush(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }
}
