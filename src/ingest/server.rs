//! The HTTP side of `POST /events`, with the bounds on slow clients of issue 10: it reads the
//! body within `body_read_timeout_ms` (else 408) while holding one of
//! `max_concurrent_requests` permits (none free: 503). The accept loop, with the header read
//! timeout (`header_read_timeout_ms`) and TLS, is the one all listeners share
//! ([`crate::listen::serve`]).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::{unavailable, Ingest};

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
