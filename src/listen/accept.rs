//! The one accept loop of the three HTTP services: it serves an axum `Router` over plain TCP
//! or TLS, each connection in its own task, with
//!
//! - a header read timeout (hyper's `header_read_timeout`, which `axum::serve` does not
//!   expose): a client that does not finish its headers in time is disconnected (issue 10),
//!   and the same bound on the TLS handshake, which comes before any header;
//! - the client's address as `axum::extract::ConnectInfo<SocketAddr>` in every request's
//!   extensions, for per-client limits;
//! - a graceful stop on cancel: no new connections, requests in progress finish, for at most
//!   [`DRAIN`].

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::Tls;

/// How long shutdown waits for open connections to finish their requests.
const DRAIN: Duration = Duration::from_secs(10);

/// The header read timeout of `serve` and the metrics listener: hyper's own default. The
/// ingest API sets its own (`[ingest] header_read_timeout_ms`).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `router` on `listener`, over TLS when `tls` is given, until `cancel`; then lets
/// requests in progress finish for at most [`DRAIN`]. `header_read_timeout` bounds both the
/// TLS handshake and each request's headers.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    tls: Option<Tls>,
    header_read_timeout: Duration,
    cancel: CancellationToken,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let connections = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: pause rather than spin.
                    tracing::warn!(%error, "Cannot accept a connection.");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let connection = Connection {
            builder: builder.clone(),
            router: router.clone(),
            peer,
            cancel: cancel.clone(),
        };
        // The acceptor is taken now: a reload after this reaches the next connection.
        let acceptor = tls.as_ref().map(Tls::acceptor);
        connections.spawn(async move {
            match acceptor {
                None => connection.serve(stream).await,
                Some(acceptor) => {
                    if let Some(stream) = handshake(
                        acceptor,
                        stream,
                        peer,
                        header_read_timeout,
                        &connection.cancel,
                    )
                    .await
                    {
                        connection.serve(stream).await;
                    }
                }
            }
        });
    }
    connections.close();
    if tokio::time::timeout(DRAIN, connections.wait())
        .await
        .is_err()
    {
        tracing::warn!("Some connections were still open at shutdown.");
    }
}

/// The TLS handshake within `timeout`; `None` (logged at debug: scanners and clients without
/// the CA fail here all day) when it fails, times out or the server stops.
async fn handshake(
    acceptor: tokio_rustls::TlsAcceptor,
    stream: TcpStream,
    peer: SocketAddr,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    let outcome = tokio::select! {
        _ = cancel.cancelled() => return None,
        outcome = tokio::time::timeout(timeout, acceptor.accept(stream)) => outcome,
    };
    match outcome {
        Ok(Ok(stream)) => Some(stream),
        Ok(Err(error)) => {
            tracing::debug!(%peer, %error, "TLS handshake failed.");
            None
        }
        Err(_) => {
            tracing::debug!(%peer, timeout_ms = timeout.as_millis() as u64,
                "TLS handshake not finished in time; closing.");
            None
        }
    }
}

/// What one connection's task needs.
struct Connection {
    builder: http1::Builder,
    router: Router,
    peer: SocketAddr,
    cancel: CancellationToken,
}

impl Connection {
    /// Serves requests on `io` until the client leaves or, after cancel, the request in
    /// progress ends.
    async fn serve<I>(self, io: I)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let Self {
            builder,
            router,
            peer,
            cancel,
        } = self;
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            // A Router is always ready, so `call` needs no `poll_ready` first (as in
            // `axum::serve`).
            tower_service::Service::call(&mut router.clone(), request)
        });
        let connection = builder.serve_connection(TokioIo::new(io), service);
        tokio::pin!(connection);
        let result = tokio::select! {
            result = connection.as_mut() => result,
            _ = cancel.cancelled() => {
                connection.as_mut().graceful_shutdown();
                connection.await
            }
        };
        if let Err(error) = result {
            tracing::debug!(%peer, %error, "Connection ended with an error.");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

    /// Each request carries the address of the connection it came on.
    #[tokio::test]
    async fn each_request_knows_its_clients_address() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route(
            "/who",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        );
        let cancel = CancellationToken::new();
        let server = tokio::spawn(serve(
            listener,
            router,
            None,
            DEFAULT_HEADER_READ_TIMEOUT,
            cancel.clone(),
        ));
        let mut client = TcpStream::connect(addr).await.unwrap();
        let local = client.local_addr().unwrap();
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        client
            .write_all(b"GET /who HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with(&local.to_string()), "{answer} vs {local}");
        cancel.cancel();
        server.await.unwrap();
    }
}
