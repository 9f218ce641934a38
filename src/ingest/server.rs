//! The HTTP side, with the bounds on slow clients of issue 10: the accept loop, where a client
//! that does not finish its headers within `header_read_timeout_ms` is disconnected (hyper's
//! `header_read_timeout`, which axum's `serve` does not expose), and `POST /events`, which
//! reads the body within `body_read_timeout_ms` (else 408) while holding one of
//! `max_concurrent_requests` permits (none free: 503). Every connection stops gracefully on
//! cancel.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::{unavailable, Ingest};

/// How long shutdown waits for open connections to finish their requests.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `cancel`, then lets requests in progress finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
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
        // The client's address, where the guard looks for it (as axum's own accept loop puts it).
        let service = router
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let service = TowerToHyperService::new(service);
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let cancel = cancel.clone();
        connections.spawn(async move {
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = cancel.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                tracing::debug!(%error, "Connection ended with an error.");
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

/// Reads the body within `body_timeout` and `max_body_bytes`, holding one of the
/// `max_concurrent_requests` permits from before the body is read until the answer: at most
/// that many bodies are in memory at once.
pub(crate) async fn post_events(
    State(app): State<Arc<Ingest>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = std::time::Instant::now();
    let response = match app.requests.clone().try_acquire_owned() {
        Err(_) => unavailable(format!(
            "{} requests are already in progress (ingest.max_concurrent_requests); retry later",
            app.max_requests
        )),
        Ok(_permit) => {
            let read = axum::body::to_bytes(body, app.max_body_bytes);
            match tokio::time::timeout(app.body_timeout, read).await {
                Err(_) => (
                    StatusCode::REQUEST_TIMEOUT,
                    Json(json!({ "error": format!("the body was not sent within {} ms", app.body_timeout.as_millis()) })),
                )
                    .into_response(),
                Ok(Err(error)) => body_error(&error, app.max_body_bytes),
                Ok(Ok(bytes)) => app.handle(&headers, &bytes).await,
            }
        }
    };
    metrics::histogram!("kafka_gen_ingest_request_duration_seconds")
        .record(started.elapsed().as_secs_f64());
    metrics::counter!("kafka_gen_ingest_requests_total", "status" => response.status().as_u16().to_string())
        .increment(1);
    response
}

/// 413 for a body over the limit, 400 for one that could not be read.
fn body_error(error: &axum::Error, max: usize) -> Response {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            let error = format!("the body is larger than ingest.max_body_bytes ({max} bytes)");
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                Json(json!({ "error": error })),
            )
                .into_response();
        }
        source = e.source();
    }
    let error = format!("cannot read the body: {error}");
    (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response()
}
